//! The one command table: name, arity, flags, key positions, ACL categories, docs and handler. It
//! drives dispatch, COMMAND, MULTI queueing, read-only checks and (later) replication.

use bytes::Bytes;

use hashbrown::HashMap;

use super::session::Ctx;
use super::Server;
use crate::protocol::Reply;

pub type Handler = fn(&mut Ctx, &[Bytes]) -> Reply;
/// Runs a resolved command (Redis's call()).
pub type Call = fn(&mut Ctx, &'static CommandSpec, &CmdName, &[Bytes]) -> Reply;
/// The command table: each family's rows.
pub type Table = &'static [&'static [CommandSpec]];
/// Computes a command's key positions from its arguments.
pub type KeysFn = fn(&[Bytes]) -> Vec<usize>;

pub const WRITE: u32 = 1 << 0;
pub const READONLY: u32 = 1 << 1;
pub const DENYOOM: u32 = 1 << 2;
pub const ADMIN: u32 = 1 << 3;
pub const PUBSUB: u32 = 1 << 4;
pub const NOSCRIPT: u32 = 1 << 5;
pub const LOADING: u32 = 1 << 6;
pub const STALE: u32 = 1 << 7;
pub const FAST: u32 = 1 << 8;
pub const NO_AUTH: u32 = 1 << 9;
pub const MAY_REPLICATE: u32 = 1 << 10;
pub const SENTINEL: u32 = 1 << 11;
pub const NO_MULTI: u32 = 1 << 12;
pub const ALLOW_BUSY: u32 = 1 << 13;
pub const SKIP_MONITOR: u32 = 1 << 14;
pub const SKIP_SLOWLOG: u32 = 1 << 15;
pub const NO_MANDATORY_KEYS: u32 = 1 << 16;
pub const BLOCKING: u32 = 1 << 17;
/// Refused unless its enable-*-command directive allows it (DEBUG).
pub const PROTECTED: u32 = 1 << 18;
pub const NO_ASYNC_LOADING: u32 = 1 << 19;
/// Allowed on a cluster slot being imported after ASKING (RESTORE-ASKING); shown only.
pub const ASKING: u32 = 1 << 20;
/// May delete any key it finds expired (SCAN, RANDOMKEY): those DELs are propagated as they are,
/// not wrapped in MULTI/EXEC, as after an active expiry cycle. Hidden from COMMAND, as in Redis.
pub const TOUCHES_ARBITRARY_KEYS: u32 = 1 << 21;

const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (ALLOW_BUSY, "allow_busy"),
];

/// Redis's ACL category table, in its order (ACL CAT lists it; COMMAND INFO sorts by it): the
/// ACL engine's own.
pub const ACL_CATEGORIES: &[&str] = crate::acl::CATEGORIES;

pub struct CommandSpec {
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// first key, last key (negative counts from the end), step; (0, 0, 0) = no keys.
    pub keys: (i32, i32, i32),
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// ACL categories besides the ones implied by flags and group.
    pub acl: &'static [&'static str],
    /// The keys a write modifies, when not all of `keys` (BITOP writes its first key, reads the rest):
    /// WATCH is invalidated for these only.
    pub write_keys: Option<(i32, i32, i32)>,
    /// For commands whose keys depend on their arguments (a numkeys count, SORT's STORE): all key
    /// positions, replacing `keys` (Redis's getkeys_proc).
    pub keys_fn: Option<KeysFn>,
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    /// Which command this is, for the few the dispatcher treats specially.
    pub id: CmdId,
}

/// The commands the dispatcher treats specially (Redis compares their `proc`), identified once,
/// at compile time, from the table's names: dispatch never compares names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdId {
    Exec,
    Discard,
    Multi,
    Watch,
    Quit,
    Reset,
    Ping,
    Subscribe,
    SSubscribe,
    Unsubscribe,
    SUnsubscribe,
    PSubscribe,
    PUnsubscribe,
    /// EVAL and EVAL_RO, EVALSHA and EVALSHA_RO, FCALL and FCALL_RO: their flags come from the
    /// script they run.
    Eval,
    EvalSha,
    Fcall,
    Other,
}

impl CmdId {
    pub const fn of(name: &str) -> CmdId {
        const NAMED: &[(&str, CmdId)] = &[
            ("exec", CmdId::Exec),
            ("discard", CmdId::Discard),
            ("multi", CmdId::Multi),
            ("watch", CmdId::Watch),
            ("quit", CmdId::Quit),
            ("reset", CmdId::Reset),
            ("ping", CmdId::Ping),
            ("subscribe", CmdId::Subscribe),
            ("ssubscribe", CmdId::SSubscribe),
            ("unsubscribe", CmdId::Unsubscribe),
            ("sunsubscribe", CmdId::SUnsubscribe),
            ("psubscribe", CmdId::PSubscribe),
            ("punsubscribe", CmdId::PUnsubscribe),
            ("eval", CmdId::Eval),
            ("eval_ro", CmdId::Eval),
            ("evalsha", CmdId::EvalSha),
            ("evalsha_ro", CmdId::EvalSha),
            ("fcall", CmdId::Fcall),
            ("fcall_ro", CmdId::Fcall),
        ];
        let mut i = 0;
        while i < NAMED.len() {
            if crate::config::table::same(NAMED[i].0, name) {
                return NAMED[i].1;
            }
            i += 1;
        }
        CmdId::Other
    }

    /// Run at once inside MULTI, not queued.
    pub fn controls_transaction(self) -> bool {
        matches!(self, CmdId::Exec | CmdId::Discard | CmdId::Multi | CmdId::Watch | CmdId::Quit | CmdId::Reset)
    }

    /// Allowed to a RESP2 client with subscriptions.
    pub fn allowed_in_pubsub_context(self) -> bool {
        matches!(
            self,
            CmdId::Subscribe
                | CmdId::SSubscribe
                | CmdId::Unsubscribe
                | CmdId::SUnsubscribe
                | CmdId::PSubscribe
                | CmdId::PUnsubscribe
                | CmdId::Ping
                | CmdId::Quit
                | CmdId::Reset
        )
    }
}

impl CommandSpec {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> =
            FLAG_NAMES.iter().filter(|(f, _)| self.flags & f != 0).map(|(_, n)| *n).collect();
        // Redis derives `movablekeys` from keys found through the arguments; it lists it last but
        // for allow_busy.
        if self.keys_fn.is_some() {
            let at = names.iter().position(|n| *n == "allow_busy").unwrap_or(names.len());
            names.insert(at, "movablekeys");
        }
        names
    }

    /// ACL categories as Redis derives them: from flags and group, plus the explicit ones.
    pub fn acl_categories(&self) -> Vec<String> {
        if self.handler.is_none() {
            // A pure container is only @slow in Redis; its subcommands carry the real categories.
            return vec!["@slow".to_string()];
        }
        let mut cats: Vec<&str> = Vec::new();
        if self.has(WRITE) {
            cats.push("write");
        }
        if self.has(READONLY) && self.group != "scripting" {
            cats.push("read");
        }
        if self.has(ADMIN) {
            cats.push("admin");
            cats.push("dangerous");
        }
        if self.has(PUBSUB) {
            cats.push("pubsub");
        }
        if self.has(FAST) {
            cats.push("fast");
        }
        if self.has(BLOCKING) {
            cats.push("blocking");
        }
        if !self.has(FAST) {
            cats.push("slow");
        }
        match self.group {
            "string" | "bitmap" => cats.push(if self.group == "bitmap" { "bitmap" } else { "string" }),
            // Redis names each command's categories; the group gives the usual one, except for
            // generic commands that name the data types they work on instead (SORT), or the
            // connection (WAIT).
            "generic" if !self.acl.iter().any(|c| matches!(*c, "list" | "set" | "sortedset" | "connection")) => {
                cats.push("keyspace")
            }
            "connection" => cats.push("connection"),
            "hyperloglog" => cats.push("hyperloglog"),
            "transactions" => cats.push("transaction"),
            "scripting" => cats.push("scripting"),
            "list" | "hash" | "set" | "sorted-set" | "stream" | "geo" => cats.push(match self.group {
                "sorted-set" => "sortedset",
                g => g,
            }),
            _ => {}
        }
        cats.extend(self.acl.iter().copied());
        // Redis lists categories in the order of its category table.
        cats.sort_by_key(|c| ACL_CATEGORIES.iter().position(|o| o == c).unwrap_or(usize::MAX));
        cats.dedup();
        cats.into_iter().map(|c| format!("@{c}")).collect()
    }

    /// Key positions of `args` (args[0] is the command name), per (first, last, step).
    pub fn key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        match self.keys_fn {
            Some(f) => f(args),
            None => positions(self.keys, args),
        }
    }

    /// Positions of the keys a write modifies.
    pub fn written_key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        match self.write_keys {
            Some(w) => positions(w, args),
            None => self.key_positions(args),
        }
    }
}

/// The keys of a command with `numkeys` at `at`, followed by that many keys (ZUNION, LMPOP,
/// SINTERCARD, ...); none if the count is not a usable number, as Redis's `genericGetKeys`, which
/// reads the count with `atoi` (`2x` is 2, `x` is 0).
pub fn numkeys_positions(args: &[Bytes], at: usize) -> Vec<usize> {
    let Some(n) = args.get(at).map(|a| i64::from(c_atoi(a))) else {
        return Vec::new();
    };
    if n <= 0 || (at as i64 + n) >= args.len() as i64 {
        return Vec::new();
    }
    (at + 1..=at + n as usize).collect()
}

/// C's `atoi` as glibc computes it (`(int) strtol(s, NULL, 10)`): leading white space, a sign,
/// then digits up to the first other byte; no digits is 0, an overflow saturates the `long`
/// before the cast to `int` truncates it.
fn c_atoi(s: &[u8]) -> i32 {
    let s = match s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        Some(start) => &s[start..],
        None => return 0,
    };
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        let d = i64::from(c - b'0');
        n = match negative {
            true => n.saturating_mul(10).saturating_sub(d),
            false => n.saturating_mul(10).saturating_add(d),
        };
    }
    n as i32
}

fn positions((first, last, step): (i32, i32, i32), args: &[Bytes]) -> Vec<usize> {
    if first <= 0 || step <= 0 {
        return Vec::new();
    }
    let argc = args.len() as i32;
    let last = if last < 0 { argc + last } else { last };
    let mut out = Vec::new();
    let mut i = first;
    while i <= last && i < argc {
        out.push(i as usize);
        i += step;
    }
    out
}

/// What a Sentinel answers (COMMAND COUNT is 15 in Redis 7.0's sentinel mode).
pub const SENTINEL_COMMANDS: &[&str] = &[
    "acl",
    "auth",
    "client",
    "command",
    "hello",
    "info",
    "ping",
    "psubscribe",
    "publish",
    "punsubscribe",
    "role",
    "sentinel",
    "shutdown",
    "subscribe",
    "unsubscribe",
];

/// Subcommands (container, subcommand) this project carries beyond Redis 7.0 (CLIENT NO-TOUCH,
/// from 7.2): a Sentinel leaves them out, so that its command set (COMMAND LIST/INFO/DOCS, ACL
/// rules, what it answers) equals Debian's redis-sentinel 7.0's.
const NOT_IN_SENTINEL: &[(&str, &str)] = &[("client", "no-touch")];

/// Whether a server in this mode has subcommand `sub` of `container`.
pub fn serves_subcommand(sentinel: bool, container: &CommandSpec, sub: &CommandSpec) -> bool {
    !sentinel || !NOT_IN_SENTINEL.contains(&(container.name, sub.name))
}

/// The commands ACL rules name, from the table as it is before rename-command (Redis's
/// orig_commands): each container followed by its subcommands, keyed by the rows' addresses.
pub fn acl_catalog(table: Table, sentinel: bool) -> crate::acl::Catalog {
    let bits = |spec: &CommandSpec| -> u32 {
        spec.acl_categories()
            .iter()
            .filter_map(|c| crate::acl::category_bit(c.trim_start_matches('@').as_bytes()))
            .fold(0, |a, b| a | b)
    };
    let mut catalog = crate::acl::Catalog::default();
    let rows = table.iter().flat_map(|rows| rows.iter());
    for c in rows.filter(|c| if sentinel { SENTINEL_COMMANDS.contains(&c.name) } else { c.name != "sentinel" }) {
        let id = catalog.add(c as *const CommandSpec as usize, c.name, bits(c), None);
        for sub in c.subcommands.iter().filter(|sub| serves_subcommand(sentinel, c, sub)) {
            let name = format!("{}|{}", c.name, sub.name);
            catalog.add(sub as *const CommandSpec as usize, &name, bits(sub), Some(id));
        }
    }
    catalog
}

/// Maps lower-cased names (after rename-command) to table rows.
pub struct CommandMap {
    /// Names stored in the table itself: a lookup (two per script call) reads no key elsewhere.
    short: HashMap<ShortName, &'static CommandSpec>,
    /// Longer names, which only rename-command can give.
    long: HashMap<Vec<u8>, &'static CommandSpec>,
    /// Sentinel mode: some subcommands are left out (`serves_subcommand`).
    sentinel: bool,
}

const SHORT_NAME_MAX: usize = 31;

/// A lower-cased command name of up to 31 bytes, inline. Hashed and compared by its bytes
/// alone: the padding would be work on every lookup.
#[derive(Clone, Copy)]
struct ShortName {
    len: u8,
    bytes: [u8; SHORT_NAME_MAX],
}

impl PartialEq for ShortName {
    fn eq(&self, other: &ShortName) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ShortName {}

impl std::hash::Hash for ShortName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.as_slice());
    }
}

impl ShortName {
    /// `name` lower-cased, if it is short enough.
    fn lowercase(name: &[u8]) -> Option<ShortName> {
        if name.len() > SHORT_NAME_MAX {
            return None;
        }
        let mut bytes = [0u8; SHORT_NAME_MAX];
        let lower = &mut bytes[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        Some(ShortName { len: name.len() as u8, bytes })
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl CommandMap {
    /// The commands of `table` the server answers; in Sentinel mode only Sentinel's fifteen.
    pub fn new(table: Table, renames: &[(String, String)], sentinel: bool) -> Result<CommandMap, String> {
        let mut map = CommandMap { short: HashMap::new(), long: HashMap::new(), sentinel };
        let rows = table.iter().flat_map(|rows| rows.iter());
        for c in rows.filter(|c| if sentinel { SENTINEL_COMMANDS.contains(&c.name) } else { c.name != "sentinel" }) {
            map.insert(c.name.as_bytes(), c);
        }
        for (old, new) in renames {
            let Some(spec) = map.remove(old.as_bytes()) else {
                return Err(format!("No such command in rename-command: {old}"));
            };
            if !new.is_empty() {
                map.insert(new.as_bytes(), spec);
            }
        }
        Ok(map)
    }

    fn insert(&mut self, name: &[u8], spec: &'static CommandSpec) {
        match ShortName::lowercase(name) {
            Some(short) => self.short.insert(short, spec),
            None => self.long.insert(name.to_ascii_lowercase(), spec),
        };
    }

    fn remove(&mut self, name: &[u8]) -> Option<&'static CommandSpec> {
        match ShortName::lowercase(name) {
            Some(short) => self.short.remove(&short),
            None => self.long.remove(&name.to_ascii_lowercase()),
        }
    }

    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        match ShortName::lowercase(name) {
            Some(short) => self.short.get(&short).copied(),
            None if self.long.is_empty() => None,
            None => self.long.get(&name.to_ascii_lowercase()).copied(),
        }
    }

    /// The subcommands of `container` this server has.
    pub fn subcommands(&self, container: &'static CommandSpec) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        container.subcommands.iter().filter(move |sub| serves_subcommand(self.sentinel, container, sub))
    }

    /// Every (name, row) the server answers to.
    pub fn all(&self) -> impl Iterator<Item = (&[u8], &'static CommandSpec)> {
        let short = self.short.iter().map(|(name, spec)| (name.as_slice(), *spec));
        short.chain(self.long.iter().map(|(name, spec)| (name.as_slice(), *spec)))
    }
}

fn arg_str(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A command's full name (`get`, `config|set`) without allocating.
#[derive(Clone, Copy, Debug)]
pub struct CmdName {
    pub parent: Option<&'static str>,
    pub name: &'static str,
}

impl std::fmt::Display for CmdName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.parent {
            Some(p) => write!(f, "{p}|{}", self.name),
            None => f.write_str(self.name),
        }
    }
}

impl CmdName {
    /// Overwrites `out` with the name, reusing its allocation.
    pub fn write_to(&self, out: &mut String) {
        out.clear();
        if let Some(p) = self.parent {
            out.push_str(p);
            out.push('|');
        }
        out.push_str(self.name);
    }
}

/// Resolves a command line to its table row (a subcommand for containers), or Redis's error.
pub fn resolve(server: &Server, args: &[Bytes]) -> Result<(&'static CommandSpec, CmdName), Reply> {
    let Some(spec) = server.commands.get(&args[0]) else {
        let mut list = String::new();
        for a in &args[1..] {
            if list.len() >= 128 {
                break;
            }
            let room = 128 - list.len();
            let s = arg_str(a);
            let s: String = s.chars().take(room).collect();
            list.push_str(&format!("'{s}' "));
        }
        let name: String = arg_str(&args[0]).chars().take(128).collect();
        return Err(Reply::error(format!("ERR unknown command '{name}', with args beginning with: {list}")));
    };
    let top = CmdName { parent: None, name: spec.name };
    if spec.subcommands.is_empty() {
        return Ok((spec, top));
    }
    if args.len() < 2 {
        // COMMAND alone is a command of its own; other containers need a subcommand.
        if spec.handler.is_some() {
            return Ok((spec, top));
        }
        return Err(Reply::error(format!("ERR wrong number of arguments for '{}' command", spec.name)));
    }
    let sub = args[1].to_ascii_lowercase();
    match server.commands.subcommands(spec).find(|s| s.name.as_bytes() == sub.as_slice()) {
        Some(s) => Ok((s, CmdName { parent: Some(spec.name), name: s.name })),
        None => {
            let name: String = arg_str(&args[1]).chars().take(128).collect();
            Err(Reply::error(format!("ERR unknown subcommand '{name}'. Try {} HELP.", spec.name.to_ascii_uppercase())))
        }
    }
}

pub fn arity_ok(spec: &CommandSpec, argc: usize) -> bool {
    let a = spec.arity;
    (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
}

/// Builds a table row; the macro keeps rows to one line each.
#[macro_export]
macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, ($f:expr, $l:expr, $s:expr), $group:literal, $since:literal, $summary:literal, $cx:literal, $handler:expr) => {
        $crate::server::command::CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: ($f, $l, $s),
            group: $group,
            since: $since,
            summary: $summary,
            complexity: $cx,
            acl: &[],
            write_keys: None,
            keys_fn: None,
            handler: Some($handler),
            subcommands: &[],
            id: $crate::server::command::CmdId::of($name),
        }
    };
}

/// A subcommand's row: like `cmd!`, but never identified as a top-level command (SLOWLOG RESET
/// is not RESET).
#[macro_export]
macro_rules! subcmd {
    ($($row:tt)*) => {
        $crate::server::command::CommandSpec { id: $crate::server::command::CmdId::Other, ..$crate::cmd!($($row)*) }
    };
}

/// A container command (CONFIG, CLIENT, ...): dispatches on its first argument.
#[macro_export]
macro_rules! container {
    ($name:literal, $group:literal, $since:literal, $summary:literal, $subs:expr) => {
        $crate::server::command::CommandSpec {
            name: $name,
            arity: -2,
            flags: 0,
            keys: (0, 0, 0),
            group: $group,
            since: $since,
            summary: $summary,
            complexity: "Depends on subcommand.",
            acl: &[],
            write_keys: None,
            keys_fn: None,
            handler: None,
            subcommands: $subs,
            id: $crate::server::command::CmdId::Other,
        }
    };
}
