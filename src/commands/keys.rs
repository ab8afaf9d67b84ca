//! Keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, MOVE, COPY, the EXPIRE family, OBJECT...

use bytes::Bytes;

use super::{errors, int_arg, notify, Ctx};
use crate::keyspace::{access, Entry, Ttl};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::propagation::argv;
use crate::util::glob::string_match;
use crate::{cmd, container, subcmd};

pub static TABLE: &[CommandSpec] = &[
    cmd!("del", -2, WRITE, (1, -1, 1), "generic", "1.0.0", "Delete a key", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", del),
    cmd!("unlink", -2, WRITE | FAST, (1, -1, 1), "generic", "4.0.0", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", del),
    cmd!("exists", -2, READONLY | FAST, (1, -1, 1), "generic", "1.0.0", "Determine if a key exists", "O(N) where N is the number of keys to check.", exists),
    cmd!("type", 2, READONLY | FAST, (1, 1, 1), "generic", "1.0.0", "Determine the type stored at key", "O(1)", type_cmd),
    // KEYS is @dangerous besides what its flags imply.
    CommandSpec { acl: &["dangerous"], ..cmd!("keys", 2, READONLY, (0, 0, 0), "generic", "1.0.0", "Find all keys matching the given pattern", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", keys) },
    cmd!("scan", -2, READONLY | TOUCHES_ARBITRARY_KEYS, (0, 0, 0), "generic", "2.8.0", "Incrementally iterate the keys space", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", scan),
    cmd!("randomkey", 1, READONLY | TOUCHES_ARBITRARY_KEYS, (0, 0, 0), "generic", "1.0.0", "Return a random key from the keyspace", "O(1)", randomkey),
    cmd!("rename", 3, WRITE, (1, 2, 1), "generic", "1.0.0", "Rename a key", "O(1)", rename),
    cmd!("renamenx", 3, WRITE | FAST, (1, 2, 1), "generic", "1.0.0", "Rename a key, only if the new key does not exist", "O(1)", renamenx),
    cmd!("touch", -2, READONLY | FAST, (1, -1, 1), "generic", "3.2.1", "Alters the last access time of a key(s). Returns the number of existing keys specified.", "O(N) where N is the number of keys that will be touched.", touch),
    cmd!("move", 3, WRITE | FAST, (1, 1, 1), "generic", "1.0.0", "Move a key to another database", "O(1)", move_cmd),
    cmd!("copy", -3, WRITE | DENYOOM, (1, 2, 1), "generic", "6.2.0", "Copy a key", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", copy),
    cmd!("expire", -3, WRITE | FAST, (1, 1, 1), "generic", "1.0.0", "Set a key's time to live in seconds", "O(1)", expire),
    cmd!("pexpire", -3, WRITE | FAST, (1, 1, 1), "generic", "2.6.0", "Set a key's time to live in milliseconds", "O(1)", pexpire),
    cmd!("expireat", -3, WRITE | FAST, (1, 1, 1), "generic", "1.2.0", "Set the expiration for a key as a UNIX timestamp", "O(1)", expireat),
    cmd!("pexpireat", -3, WRITE | FAST, (1, 1, 1), "generic", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "O(1)", pexpireat),
    cmd!("expiretime", 2, READONLY | FAST, (1, 1, 1), "generic", "7.0.0", "Get the expiration Unix timestamp for a key", "O(1)", expiretime),
    cmd!("pexpiretime", 2, READONLY | FAST, (1, 1, 1), "generic", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "O(1)", pexpiretime),
    cmd!("ttl", 2, READONLY | FAST, (1, 1, 1), "generic", "1.0.0", "Get the time to live for a key in seconds", "O(1)", ttl),
    cmd!("pttl", 2, READONLY | FAST, (1, 1, 1), "generic", "2.6.0", "Get the time to live for a key in milliseconds", "O(1)", pttl),
    cmd!("persist", 2, WRITE | FAST, (1, 1, 1), "generic", "2.2.0", "Remove the expiration from a key", "O(1)", persist),
    container!("object", "generic", "2.2.3", "A container for object introspection commands", OBJECT_SUBS),
];

static OBJECT_SUBS: &[CommandSpec] = &[
    subcmd!(
        "encoding",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Inspect the internal encoding of a Redis object",
        "O(1)",
        object_encoding
    ),
    subcmd!(
        "freq",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "4.0.0",
        "Get the logarithmic access frequency counter of a Redis object",
        "O(1)",
        object_freq
    ),
    subcmd!(
        "idletime",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Get the time since a Redis object was last accessed",
        "O(1)",
        object_idletime
    ),
    subcmd!(
        "refcount",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Get the number of references to the value of the key",
        "O(1)",
        object_refcount
    ),
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "generic",
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        object_help
    ),
];

/// lookupKey's flags: what a lookup does besides finding the key and expiring it lazily.
pub(crate) mod lookup {
    pub const NONE: u8 = 0;
    /// Leaves the key's access time (LRU clock or LFU counter) as it is.
    pub const NOTOUCH: u8 = 1;
    /// No `keymiss` event on a miss.
    pub const NONOTIFY: u8 = 2;
    /// Not counted in keyspace_hits / keyspace_misses.
    pub const NOSTATS: u8 = 4;
    /// A lookup before writing: neither counted nor announced on a miss.
    pub const WRITE: u8 = 8;
}

impl Ctx<'_> {
    /// Redis's lookupKey in the client's database: expires the key if due, then updates its access
    /// time, the hit/miss stats and publishes `keymiss`, as `flags` allow.
    pub(crate) fn lookup_key(&mut self, key: &[u8], flags: u8) -> Option<&mut Entry> {
        let db = self.session.db;
        // On a replica an expired key stays in place but is missing (see expire_if_needed).
        let expired_in_place =
            self.expire_if_needed(db, key) && (self.state.repl.is_replica() || self.state.pause.is_some());
        let counted = flags & (lookup::NOSTATS | lookup::WRITE) == 0;
        let announced = flags & (lookup::NONOTIFY | lookup::WRITE) == 0;
        if expired_in_place {
            if counted {
                self.state.stats.keyspace_misses += 1;
            }
            if announced {
                self.notify(notify::KEY_MISS, "keymiss", key);
            }
            return None;
        }
        // A second lookup only when a miss would be published: the event needs all of the state.
        if announced && self.state.hot.notify_flags & notify::KEY_MISS != 0 && self.state.dbs[db].get_raw(key).is_none()
        {
            if counted {
                self.state.stats.keyspace_misses += 1;
            }
            self.notify(notify::KEY_MISS, "keymiss", key);
            return None;
        }
        let touch = flags & lookup::NOTOUCH == 0 && !self.session.no_touch;
        match self.state.dbs[db].get_mut(key) {
            Some(e) => {
                if touch {
                    e.set_access(access::touched(e.access()));
                }
                if counted {
                    self.state.stats.keyspace_hits += 1;
                }
                Some(e)
            }
            None => {
                if counted {
                    self.state.stats.keyspace_misses += 1;
                }
                None
            }
        }
    }

    /// lookupKeyWrite in another database (MOVE, COPY's destination): lazy expiry and access time.
    fn lookup_write_in(&mut self, db: usize, key: &[u8]) -> bool {
        self.expire_if_needed(db, key);
        match self.state.dbs[db].get_mut(key) {
            Some(e) => {
                e.set_access(access::touched(e.access()));
                true
            }
            None => false,
        }
    }
}

/// DEL and UNLINK (delGenericCommand): UNLINK, and DEL under lazyfree-lazy-user-del, free big
/// values in the background.
fn del(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let db = ctx.session.db;
    let lazy = args[0].eq_ignore_ascii_case(b"unlink") || ctx.state.config.bool(crate::ckey!("lazyfree-lazy-user-del"));
    let mut n = 0;
    for k in &args[1..] {
        ctx.expire_if_needed(db, k);
        if let Some(entry) = ctx.state.dbs[db].remove(k) {
            if lazy {
                crate::server::lazyfree::free_entry(entry);
            }
            ctx.notify(notify::GENERIC, "del", k);
            ctx.dirty(1);
            n += 1;
        }
    }
    Reply::Int(n)
}

fn exists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &args[1..] {
        if ctx.lookup_key(k, lookup::NOTOUCH).is_some() {
            n += 1;
        }
    }
    Reply::Int(n)
}

fn type_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match ctx.lookup_key(&args[1], lookup::NOTOUCH) {
        Some(e) => Reply::status(e.value().type_name()),
        None => Reply::status("none"),
    }
}

fn keys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let pat = &args[1];
    let now = ctx.now_ms;
    let db = &ctx.state.dbs[ctx.session.db];
    let all = pat.as_ref() == b"*";
    let out: Vec<Reply> = db
        .iter()
        .filter(|e| e.expire_at().is_none_or(|at| at >= now))
        .filter(|e| all || string_match(pat, e.key(), false))
        .map(|e| Reply::bulk(e.key()))
        .collect();
    Reply::Array(out)
}

fn scan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse_cursor(&args[1]) else {
        return Reply::error("ERR invalid cursor");
    };
    let opts = tri!(ScanOptions::parse(&args[2..], true));
    let db = ctx.session.db;
    let (found, next) = ctx.state.dbs[db].scan(cursor, opts.count);
    let mut out = Vec::new();
    for k in found {
        if ctx.expire_if_needed(db, &k) {
            continue;
        }
        if !opts.matches(&k) {
            continue;
        }
        if let Some(t) = &opts.type_filter {
            match ctx.state.dbs[db].get_raw(&k) {
                Some(e) if e.value().type_name() == t => {}
                _ => continue,
            }
        }
        out.push(Reply::Bulk(k.into_vec()));
    }
    Reply::Array(vec![Reply::bulk(next.to_string()), Reply::Array(out)])
}

/// SCAN's options, shared by HSCAN, SSCAN and ZSCAN (which have no TYPE).
pub(crate) struct ScanOptions {
    pub count: usize,
    pub pattern: Option<Bytes>,
    pub type_filter: Option<String>,
}

impl ScanOptions {
    /// Parses `[MATCH pattern] [COUNT count] [TYPE type]` with Redis's errors.
    pub fn parse(opts: &[Bytes], allow_type: bool) -> Result<ScanOptions, Reply> {
        let mut o = ScanOptions { count: 10, pattern: None, type_filter: None };
        let mut i = 0;
        while i < opts.len() {
            let opt = opts[i].to_ascii_lowercase();
            let has_arg = i + 1 < opts.len();
            match opt.as_slice() {
                b"count" if has_arg => {
                    let n = int_arg(&opts[i + 1])?;
                    if n < 1 {
                        return Err(Reply::error(errors::SYNTAX));
                    }
                    o.count = n as usize;
                }
                b"match" if has_arg => o.pattern = Some(opts[i + 1].clone()),
                b"type" if has_arg && allow_type => {
                    o.type_filter = Some(String::from_utf8_lossy(&opts[i + 1]).to_ascii_lowercase())
                }
                _ => return Err(Reply::error(errors::SYNTAX)),
            }
            i += 2;
        }
        Ok(o)
    }

    /// Whether an element passes MATCH.
    pub fn matches(&self, b: &[u8]) -> bool {
        match &self.pattern {
            None => true,
            Some(p) => p.as_ref() == b"*" || string_match(p, b, false),
        }
    }
}

/// A SCAN cursor as Redis reads it with strtoul(): no leading space, an optional sign (a negative
/// value wraps around), decimal digits, nothing after; the empty string is 0.
pub(crate) fn parse_cursor(b: &[u8]) -> Option<u64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        // strtoul("") consumes nothing and stops at the terminator; a lone sign stops at the sign.
        return (b.is_empty()).then_some(0);
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let db = ctx.session.db;
    let all_volatile = ctx.state.dbs[db].len() == ctx.state.dbs[db].volatile_len();
    let replica = ctx.state.repl.is_replica();
    // Expired keys are deleted as they are drawn, until a live key comes up (Redis's
    // dbRandomKey). Where expired keys stay (a replica, a pause), every key may be expired:
    // after 100 draws of those the last is answered, expired or not, as a Redis replica does.
    let mut tries = 100;
    loop {
        let Some(entry) = ctx.state.dbs[db].random_key() else {
            return Reply::Nil;
        };
        let key = Box::<[u8]>::from(entry.key());
        if entry.expire_at().is_none() {
            return Reply::Bulk(key.into_vec());
        }
        if all_volatile && replica {
            tries -= 1;
            if tries == 0 {
                return Reply::Bulk(key.into_vec());
            }
        }
        if !ctx.expire_if_needed(db, &key) {
            return Reply::Bulk(key.into_vec());
        }
        if all_volatile && !replica && ctx.state.dbs[db].get_raw(&key).is_some() {
            // Expired but kept (writes are paused) with no live key to find: Redis would draw
            // forever.
            tries -= 1;
            if tries == 0 {
                return Reply::Bulk(key.into_vec());
            }
        }
    }
}

/// Moves `entry` (taken out of some database) to `key` in `db`, keeping its TTL and its access
/// time: Redis moves the object itself, with its LRU/LFU field.
fn place_entry(ctx: &mut Ctx, db: usize, key: &[u8], entry: Entry) {
    let ttl = entry.expire_at().map(Ttl::At).unwrap_or(Ttl::Clear);
    let access = entry.access();
    let d = &mut ctx.state.dbs[db];
    d.set(key, entry.into_value(), ttl);
    if let Some(e) = d.get_mut(key) {
        e.set_access(access);
    }
}

fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Reply {
    let db = ctx.session.db;
    let (src, dst) = (&args[1], &args[2]);
    if ctx.lookup_write(src).is_none() {
        return Reply::error(errors::NO_SUCH_KEY);
    }
    if src == dst {
        return if nx { Reply::Int(0) } else { Reply::OK };
    }
    if ctx.lookup_write(dst).is_some() {
        if nx {
            return Reply::Int(0);
        }
        // The old destination goes first, so the renamed key is a new one (the `new` event).
        crate::server::lazyfree::server_delete(ctx.state, db, dst);
    }
    let Some(entry) = ctx.state.dbs[db].remove(src) else {
        return Reply::error(errors::NO_SUCH_KEY);
    };
    place_entry(ctx, db, dst, entry);
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    ctx.dirty(1);
    if nx {
        Reply::Int(1)
    } else {
        Reply::OK
    }
}

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rename_generic(ctx, args, true)
}

fn touch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &args[1..] {
        if ctx.lookup_read(k).is_some() {
            n += 1;
        }
    }
    Reply::Int(n)
}

/// A database index argument, with the error Redis gives for each kind of bad value.
fn db_index(ctx: &Ctx, arg: &[u8]) -> Result<usize, Reply> {
    let n = super::connection::db_number(arg)?;
    if n < 0 || n as usize >= ctx.state.dbs.len() {
        return Err(Reply::error(errors::DB_INDEX));
    }
    Ok(n as usize)
}

fn move_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let src_db = ctx.session.db;
    let dst_db = tri!(db_index(ctx, &args[2]));
    if src_db == dst_db {
        return Reply::error("ERR source and destination objects are the same");
    }
    let key = &args[1];
    if ctx.lookup_write(key).is_none() || ctx.lookup_write_in(dst_db, key) {
        return Reply::Int(0);
    }
    let Some(e) = ctx.state.dbs[src_db].remove(key) else { return Reply::Int(0) };
    place_entry(ctx, dst_db, key, e);
    ctx.key_modified_in(dst_db, key);
    notify::notify(ctx.state, notify::GENERIC, "move_from", key, src_db);
    notify::notify(ctx.state, notify::GENERIC, "move_to", key, dst_db);
    ctx.dirty(1);
    Reply::Int(1)
}

fn copy(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (src, dst) = (&args[1], &args[2]);
    let src_db = ctx.session.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        let opt = args[i].to_ascii_lowercase();
        if opt == b"replace" {
            replace = true;
            i += 1;
        } else if opt == b"db" && i + 1 < args.len() {
            dst_db = tri!(db_index(ctx, &args[i + 1]));
            i += 2;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    if src_db == dst_db && src == dst {
        return Reply::error("ERR source and destination objects are the same");
    }
    let Some(e) = ctx.lookup_read(src) else { return Reply::Int(0) };
    let (value, ttl) = (e.value().clone(), e.expire_at().map(Ttl::At).unwrap_or(Ttl::Clear));
    if ctx.lookup_write_in(dst_db, dst) {
        if !replace {
            return Reply::Int(0);
        }
        crate::server::lazyfree::server_delete(ctx.state, dst_db, dst);
    }
    // A copy is a new object: it starts with a fresh access time.
    ctx.state.dbs[dst_db].set(dst, value, ttl);
    ctx.key_modified_in(dst_db, dst);
    notify::notify(ctx.state, notify::GENERIC, "copy_to", dst, dst_db);
    ctx.dirty(1);
    Reply::Int(1)
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `unit_ms` is 1000 for seconds; `relative` adds now.
fn expire_generic(ctx: &mut Ctx, args: &[Bytes], name: &str, unit_ms: i64, relative: bool) -> Reply {
    // The options are checked before the time, as in Redis.
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &args[3..] {
        match a.to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => return Reply::error(format!("ERR Unsupported option {}", String::from_utf8_lossy(a))),
        }
    }
    if nx && (xx || gt || lt) {
        return Reply::error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return Reply::error("ERR GT and LT options at the same time are not compatible");
    }
    let when = tri!(int_arg(&args[2]));
    let invalid = || Reply::error(format!("ERR invalid expire time in '{name}' command"));
    let Some(mut at) = when.checked_mul(unit_ms) else { return invalid() };
    if relative {
        let Some(v) = at.checked_add(ctx.now_ms as i64) else { return invalid() };
        at = v;
    }
    let key = &args[1];
    let Some(e) = ctx.lookup_write(key) else { return Reply::Int(0) };
    let current = e.expire_at();
    if nx && current.is_some() || xx && current.is_none() {
        return Reply::Int(0);
    }
    if gt && current.is_none_or(|c| at <= c as i64) {
        return Reply::Int(0);
    }
    if lt && current.is_some_and(|c| at >= c as i64) {
        return Reply::Int(0);
    }
    let db = ctx.session.db;
    // A time already past deletes the key (checkAlreadyExpired), replayed as that deletion.
    if ctx.already_expired(at) {
        crate::server::lazyfree::expire_delete(ctx.state, db, key);
        ctx.notify(notify::GENERIC, "del", key);
        let del = expired_deletion(ctx.state);
        ctx.propagate_as(|| argv(&[del, key]));
    } else {
        ctx.state.dbs[db].set_expire(key, at as u64);
        ctx.notify(notify::GENERIC, "expire", key);
        // A relative time or one in seconds is replayed as PEXPIREAT at the absolute ms, so a
        // later replay never moves the expiry; the options stay, as Redis rewrites only the
        // command and the time. PEXPIREAT itself is replayed as sent.
        if relative || unit_ms != 1 {
            ctx.propagate_as(|| {
                let mut line = args.to_vec();
                line[0] = Bytes::from_static(b"PEXPIREAT");
                line[2] = Bytes::from(at.to_string());
                line
            });
        }
    }
    ctx.dirty(1);
    Reply::Int(1)
}

/// What the deletion of a key by its expiry is replayed as: UNLINK with lazyfree-lazy-expire,
/// else DEL (Redis's choice for EXPIRE or GETEX with a time past, lazy and active expiry).
pub(crate) fn expired_deletion(st: &crate::server::state::State) -> &'static [u8] {
    if st.config.bool(crate::ckey!("lazyfree-lazy-expire")) {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

fn expire(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, "expire", 1000, true)
}

fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, "pexpire", 1, true)
}

fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, "expireat", 1000, false)
}

fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, "pexpireat", 1, false)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], ms: bool, absolute: bool) -> Reply {
    let now = ctx.now_ms;
    let Some(e) = ctx.lookup_key(key, lookup::NOTOUCH) else { return Reply::Int(-2) };
    let Some(at) = e.expire_at() else { return Reply::Int(-1) };
    let v = match (absolute, ms) {
        (true, true) => at as i64,
        // Rounded to the nearest second, like TTL (Redis's (ms+500)/1000, without its overflow).
        (true, false) => (at / 1000 + u64::from(at % 1000 >= 500)) as i64,
        (false, true) => at.saturating_sub(now) as i64,
        (false, false) => (at.saturating_sub(now) as i64 + 500) / 1000,
    };
    Reply::Int(v)
}

fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], false, false)
}

fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], true, false)
}

fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], true, true)
}

fn persist(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.lookup_write(&args[1]).is_none() {
        return Reply::Int(0);
    }
    let db = ctx.session.db;
    if ctx.state.dbs[db].persist(&args[1]) {
        ctx.notify(notify::GENERIC, "persist", &args[1]);
        ctx.dirty(1);
        Reply::Int(1)
    } else {
        Reply::Int(0)
    }
}

/// OBJECT subcommands look the key up without touching its access time or publishing a miss,
/// like Redis (hits and misses still count).
fn object_entry<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a Entry> {
    ctx.lookup_key(key, lookup::NOTOUCH | lookup::NONOTIFY).map(|e| &*e)
}

fn object_encoding(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match object_entry(ctx, &args[2]) {
        Some(e) => Reply::bulk(e.value().encoding()),
        None => Reply::Nil,
    }
}

fn object_freq(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(e) = object_entry(ctx, &args[2]) else { return Reply::Nil };
    if !access::lfu_mode() {
        return Reply::error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    Reply::Int(access::lfu_decayed(e.access()) as i64)
}

fn object_idletime(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(e) = object_entry(ctx, &args[2]) else { return Reply::Nil };
    if access::lfu_mode() {
        return Reply::error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    Reply::Int(access::idle_secs(e.access()) as i64)
}

fn object_refcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(e) = object_entry(ctx, &args[2]) else { return Reply::Nil };
    // Redis shares the integers 0..9999 (OBJ_SHARED_INTEGERS) and reports them as immortal.
    match e.value() {
        crate::keyspace::Value::Int(n) if (0..10000).contains(n) => Reply::Int(i32::MAX as i64),
        _ => Reply::Int(1),
    }
}

fn object_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;

    #[test]
    fn generic_key_commands() {
        Harness::new().check(&[
            ("SET a 1", "+OK\r\n"),
            ("SET b 2", "+OK\r\n"),
            ("EXISTS a b a nokey", ":3\r\n"),
            ("DEL a nokey", ":1\r\n"),
            ("TYPE b", "+string\r\n"),
            ("TYPE nokey", "+none\r\n"),
            ("RPUSH l x", ":1\r\n"),
            ("TYPE l", "+list\r\n"),
            ("RENAME nokey x", "-ERR no such key\r\n"),
            ("RENAME b c", "+OK\r\n"),
            ("RENAMENX c l", ":0\r\n"),
            ("RENAMENX c c", ":0\r\n"),
            ("RENAME c c", "+OK\r\n"),
            ("GET c", "$1\r\n2\r\n"),
            ("DBSIZE", ":2\r\n"),
            ("COPY l l2", ":1\r\n"),
            ("COPY l l2", ":0\r\n"),
            ("COPY l l2 REPLACE", ":1\r\n"),
            ("LRANGE l2 0 -1", "*1\r\n$1\r\nx\r\n"),
            ("MOVE l2 1", ":1\r\n"),
            ("MOVE l2 1", ":0\r\n"),
            ("SELECT 1", "+OK\r\n"),
            ("LRANGE l2 0 -1", "*1\r\n$1\r\nx\r\n"),
            ("MOVE l2 1", "-ERR source and destination objects are the same\r\n"),
            ("SELECT 0", "+OK\r\n"),
            ("OBJECT ENCODING l", "$9\r\nquicklist\r\n"),
            ("OBJECT ENCODING nokey", "$-1\r\n"),
            ("SET n 123", "+OK\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            ("OBJECT FREQ n", "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"),
            ("TOUCH n l nokey", ":2\r\n"),
            ("UNLINK n l nokey", ":2\r\n"),
            ("KEYS *", "*1\r\n$1\r\nc\r\n"),
            ("RANDOMKEY", "$1\r\nc\r\n"),
            ("DEL c", ":1\r\n"),
            ("RANDOMKEY", "$-1\r\n"),
        ]);
    }

    #[test]
    fn expire_options_and_errors() {
        Harness::new().check(&[
            ("SET c 2", "+OK\r\n"),
            ("EXPIRE c 100", ":1\r\n"),
            ("EXPIRE c 200 NX", ":0\r\n"),
            ("EXPIRE c 50 GT", ":0\r\n"),
            ("EXPIRE c 300 GT", ":1\r\n"),
            ("TTL c", ":300\r\n"),
            ("EXPIRE c 10 LT", ":1\r\n"),
            ("TTL c", ":10\r\n"),
            ("EXPIRE c 10 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
            ("EXPIRE c 10 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n"),
            ("EXPIRE c abc", "-ERR value is not an integer or out of range\r\n"),
            ("EXPIRE c 10 FOO", "-ERR Unsupported option FOO\r\n"),
            ("PERSIST c", ":1\r\n"),
            ("PERSIST c", ":0\r\n"),
            ("EXPIRE c 10 XX", ":0\r\n"),
            ("TTL c", ":-1\r\n"),
            ("EXPIRE nokey 10", ":0\r\n"),
            ("EXPIRE c 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"),
            ("PEXPIRE c 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"),
            ("EXPIRE c -1", ":1\r\n"),
            ("EXISTS c", ":0\r\n"),
            ("SET d 1", "+OK\r\n"),
            ("PEXPIREAT d 1000", ":1\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("SET e 1", "+OK\r\n"),
            ("EXPIREAT e 99999999999", ":1\r\n"),
            ("EXPIRETIME e", ":99999999999\r\n"),
            ("PEXPIRETIME e", ":99999999999000\r\n"),
            ("TTL nokey", ":-2\r\n"),
            ("RPUSH l x", ":1\r\n"),
            ("EXPIRETIME l", ":-1\r\n"),
        ]);
    }

    #[test]
    fn ttls_count_down_on_the_test_clock() {
        let mut h = Harness::new();
        let now = crate::util::time::unix_ms();
        let at = (now + 2500).to_string();
        assert_eq!(h.resp(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(h.resp(&["PEXPIREAT", "k", &at]), ":1\r\n");
        assert_eq!(h.resp(&["PEXPIRETIME", "k"]), format!(":{at}\r\n"));
        h.check(&[("PTTL k", ":2500\r\n"), ("TTL k", ":3\r\n"), ("EXPIRE k 2 LT", ":1\r\n")]);
        h.advance(1499);
        // TTL rounds to the nearest second, as Redis's (ms+500)/1000.
        h.check(&[("PTTL k", ":501\r\n"), ("TTL k", ":1\r\n")]);
        h.advance(2);
        h.check(&[("PTTL k", ":499\r\n"), ("TTL k", ":0\r\n")]);
        h.advance(500);
        h.check(&[("TTL k", ":-2\r\n"), ("EXPIRETIME k", ":-2\r\n")]);
    }

    /// Without the cron, nothing but an access deletes an expired key: DBSIZE still counts it
    /// (as Redis's does until the key is looked up), the first read deletes it.
    #[test]
    fn lazy_expiry_deletes_on_access_and_counts() {
        let mut h = Harness::new();
        h.check(&[("SET k v PX 10", "+OK\r\n"), ("SET p v", "+OK\r\n"), ("DBSIZE", ":2\r\n")]);
        h.advance(11);
        h.check(&[("DBSIZE", ":2\r\n")]);
        assert_eq!(h.state().stats.expired_keys, 0);
        h.check(&[("GET k", "$-1\r\n"), ("DBSIZE", ":1\r\n")]);
        let st = h.state();
        assert_eq!((st.stats.expired_keys, st.stats.keyspace_misses, st.stats.keyspace_hits), (1, 1, 0));
    }

    /// Keyspace events of the lookups: a miss publishes `keymiss` (class m), a lazily expired
    /// key `expired` (class x) before its miss.
    #[test]
    fn keymiss_and_expired_events_reach_a_subscriber() {
        let mut h = Harness::with_config("notify-keyspace-events Exm\n");
        let mut sub = h.client();
        sub.check(&[("PSUBSCRIBE __keyevent@0__:*", "*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n")]);
        h.check(&[("GET nokey", "$-1\r\n"), ("SET k v PX 5", "+OK\r\n"), ("GET k", "$1\r\nv\r\n")]);
        h.advance(6);
        h.check(&[("GET k", "$-1\r\n")]);
        let event = |name: &str, key: &str| {
            let ch = format!("__keyevent@0__:{name}");
            format!(
                "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n${}\r\n{ch}\r\n${}\r\n{key}\r\n",
                ch.len(),
                key.len()
            )
        };
        let want = [event("keymiss", "nokey"), event("expired", "k"), event("keymiss", "k")].concat();
        assert_eq!(sub.pushed_resp(), want);
        assert_eq!(sub.pushed_resp(), "", "each push is delivered once");
    }
}
