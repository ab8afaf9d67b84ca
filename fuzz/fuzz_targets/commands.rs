//! Command execution: a bounded sequence of commands from the real command table, decoded from
//! the input, run through `commands::process` against a server built in-process (no sockets, no
//! cron, no disk), with each reply encoded as the connection would write it.
//!
//! Properties: no panic, no hang, no allocation beyond what the commands ask for (the server's
//! proto-max-bulk-len bounds what one string may grow to).
//!
//! Left out, because the fuzzer runs them in-process where they would do real harm or wait
//! forever: forks and files (SAVE, BGSAVE, BGREWRITEAOF, DEBUG, CONFIG SET/REWRITE, ACL
//! SAVE/LOAD, SHUTDOWN), the network (MIGRATE, REPLICAOF, SYNC, FAILOVER), Lua (a script may
//! loop forever, as in Redis), and CLIENT PAUSE (a paused client's command is held back by its
//! connection, which is not here). PFSELFTEST too: it runs a fixed self-test of millions of
//! register operations on no input at all, and took 88% of the target's time (a unit test and
//! Redis's own test suite cover it).
#![no_main]

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use redis_rs::commands::{all_commands, process, Ctx, Session};
use redis_rs::server::command::CommandSpec;
use redis_rs::server::state::{ClientInfo, ClientKind, Peer};
use redis_rs::server::Server;

include!("common_server.rs");

include!("common_alloc.rs");

const MAX_COMMANDS: usize = 48;
const MAX_ARGS: usize = 12;

const DENIED: &[&str] = &[
    "shutdown",
    "debug",
    "save",
    "bgsave",
    "bgrewriteaof",
    "migrate",
    "replicaof",
    "slaveof",
    "sync",
    "psync",
    "failover",
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "function",
    "script",
    "module",
    "monitor",
    "sentinel",
    "pfselftest",
];
const DENIED_SUB: &[(&str, &str)] =
    &[("config", "set"), ("config", "rewrite"), ("acl", "save"), ("acl", "load"), ("client", "pause")];

/// Arguments commands often take, so that the fuzzer reaches past their syntax checks.
const WORDS: &[&str] = &[
    "k",
    "k2",
    "{k}3",
    "f",
    "v",
    "0",
    "1",
    "2",
    "-1",
    "3",
    "10",
    "100",
    "-100",
    "1.5",
    "+inf",
    "-inf",
    "nan",
    "*",
    "$",
    ">",
    "-",
    "+",
    "(1",
    "[a",
    "0-0",
    "1-1",
    "~",
    "WITHSCORES",
    "LIMIT",
    "COUNT",
    "MATCH",
    "TYPE",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "EXAT",
    "KEEPTTL",
    "GET",
    "BYSCORE",
    "BYLEX",
    "REV",
    "STREAMS",
    "BLOCK",
    "GROUP",
    "MKSTREAM",
    "ID",
    "MAXLEN",
    "MINID",
    "STORE",
    "BY",
    "ASC",
    "DESC",
    "ALPHA",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "IDLE",
    "RETRYCOUNT",
    "JUSTID",
    "FORCE",
    "AGGREGATE",
    "WEIGHTS",
    "SUM",
    "MIN",
    "MAX",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "u8",
    "i16",
    "u63",
    "#1",
    "RANK",
    "MAXLEN",
    "WITHVALUES",
    "WITHMATCHLEN",
    "MINMATCHLEN",
    "IDX",
    "LEN",
    "FROMMEMBER",
    "FROMLONLAT",
    "BYRADIUS",
    "BYBOX",
    "km",
    "m",
    "WITHCOORD",
    "WITHDIST",
    "WITHHASH",
    "ANY",
    "STOREDIST",
    "ON",
    "OFF",
    "YES",
    "NO",
    "SKIPME",
    "NOLOOP",
    "BCAST",
    "PREFIX",
    "OPTIN",
    "OPTOUT",
    "RESET",
    "FLUSH",
    "ASYNC",
    "SYNC",
    "REPLACE",
    "ABSTTL",
    "FREQ",
    "DB",
    "COPY",
    "KEYS",
    "AUTH",
    "AUTH2",
    "2",
    "3",
    "SETNAME",
    "default",
    "on",
    "off",
    ">pw",
    "+@all",
    "~*",
    "&*",
    "allkeys",
    "resetchannels",
    "nopass",
    "\u{0}",
    "",
];

fuzz_target!(|data: &[u8]| {
    let server = new_server();
    let table: Vec<&'static CommandSpec> =
        all_commands().filter(|c| !DENIED.contains(&c.name.to_ascii_lowercase().as_str())).collect();
    let mut session = connect(&server);
    let mut input = Input(data);
    let mut out = Vec::new();
    for _ in 0..MAX_COMMANDS {
        let Some(args) = input.command(&table) else { break };
        let mut guard = server.lock();
        let now_ms = redis_rs::util::time::unix_ms();
        let mut ctx = Ctx { server: &server, state: &mut guard, session: &mut session, now_ms, clock: Instant::now() };
        let reply = process(&mut ctx, &args);
        // A command that blocks leaves its wait with the session; the client then goes away as
        // if it had disconnected while blocked (nothing was parked for it).
        session.block = None;
        session.postponed = None;
        out.clear();
        session.encode_reply(&reply, &mut out);
        redis_rs::server::propagation::flush_deferred(&mut guard);
    }
});

fn connect(server: &Arc<Server>) -> Session {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let mut st = server.lock();
    let id = st.next_client_id;
    st.next_client_id += 1;
    let addr = "127.0.0.1:40000".to_string();
    let peer = Peer { addr: addr.clone(), laddr: "127.0.0.1:6379".into(), fd: 7, is_unix: false };
    let info = ClientInfo::new(id, peer, ClientKind::Normal, tx, Arc::new(AtomicUsize::new(0)), Arc::default());
    st.clients.insert(id, info);
    let mut session = Session::new(id, addr);
    session.authenticated = !st.acl.auth_required();
    session
}

/// A command's first byte that says it is written by name (the seeds' captured traffic), not by
/// its index in the table.
const NAMED: u8 = 0xff;

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// Up to 63 literal bytes, after a byte that says how many.
    fn literal(&mut self) -> Option<&'a [u8]> {
        let len = self.byte()?;
        Some(self.take(len))
    }

    /// As many bytes as the low 6 bits of `len` say (fewer at the end of the input).
    fn take(&mut self, len: u8) -> &'a [u8] {
        let (bytes, rest) = self.0.split_at(usize::from(len & 0x3f).min(self.0.len()));
        self.0 = rest;
        bytes
    }

    /// A command: its name (and subcommand), by index in the table or, after NAMED, as literal
    /// bytes; then arguments, each a word from WORDS or up to 63 literal bytes. A name that is
    /// not in the table is sent as it is (the unknown-command reply), unless it was left out
    /// above: then the command is a PING.
    fn command(&mut self, table: &[&'static CommandSpec]) -> Option<Vec<Bytes>> {
        let ping = || vec![Bytes::from_static(b"PING")];
        let hi = self.byte()?;
        let named = hi == NAMED;
        let spec = if named {
            let name = self.literal()?;
            match table.iter().find(|c| c.name.as_bytes().eq_ignore_ascii_case(name)) {
                Some(spec) => *spec,
                None if DENIED.iter().any(|d| d.as_bytes().eq_ignore_ascii_case(name)) => return Some(ping()),
                None => return self.arguments(vec![Bytes::copy_from_slice(name)]),
            }
        } else {
            let lo = self.byte()?;
            table[usize::from(u16::from_le_bytes([lo, hi])) % table.len()]
        };
        let mut args = vec![Bytes::from_static(spec.name.as_bytes())];
        if !spec.subcommands.is_empty() {
            // Subcommand names are "config|get" in the table.
            let short = |sub: &'static CommandSpec| sub.name.rsplit('|').next().unwrap_or(sub.name);
            let name: Bytes = if named {
                let given = self.literal()?;
                match spec.subcommands.iter().find(|s| short(s).as_bytes().eq_ignore_ascii_case(given)) {
                    Some(sub) => Bytes::from_static(short(sub).as_bytes()),
                    None => Bytes::copy_from_slice(given),
                }
            } else {
                Bytes::from_static(
                    short(&spec.subcommands[usize::from(self.byte()?) % spec.subcommands.len()]).as_bytes(),
                )
            };
            if DENIED_SUB
                .iter()
                .any(|(c, s)| spec.name.eq_ignore_ascii_case(c) && name.eq_ignore_ascii_case(s.as_bytes()))
            {
                return Some(ping());
            }
            args.push(name);
        }
        self.arguments(args)
    }

    fn arguments(&mut self, mut args: Vec<Bytes>) -> Option<Vec<Bytes>> {
        let n = usize::from(self.byte()?) % (MAX_ARGS + 1);
        for _ in 0..n {
            let b = self.byte()?;
            if b & 0x80 != 0 {
                args.push(Bytes::from_static(WORDS[usize::from(b & 0x7f) % WORDS.len()].as_bytes()));
            } else {
                args.push(Bytes::copy_from_slice(self.take(b)));
            }
        }
        Some(args)
    }
}
