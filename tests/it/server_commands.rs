//! Server commands against Debian's real Redis 7.0.15: COMMAND (COUNT, INFO, DOCS, LIST,
//! GETKEYS, HELP), TIME, LASTSAVE, DBSIZE, SWAPDB, FLUSHALL/FLUSHDB, MEMORY, SLOWLOG, LATENCY,
//! DEBUG and MONITOR. Replies are compared byte for byte where they are deterministic, and by
//! shape (parsed) where values legitimately differ.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// Differential helpers
// ---------------------------------------------------------------------------------------------

/// A connection to our server and one to the real Redis; mismatches are collected and reported
/// together by `finish`.
struct Pair {
    ours: Client,
    real: Client,
    mismatches: Vec<String>,
}

impl Pair {
    fn new(ours: &Server, real: &Server) -> Pair {
        Pair { ours: ours.client(), real: real.client(), mismatches: Vec::new() }
    }

    fn both(&mut self, args: &[&str]) -> (Vec<u8>, Vec<u8>) {
        (self.ours.cmd(args), self.real.cmd(args))
    }

    /// Same reply bytes from both servers.
    fn check(&mut self, args: &[&str]) -> Vec<u8> {
        let (o, r) = self.both(args);
        if o != r {
            self.mismatches.push(format!(
                "{args:?}\n      real: {}\n      ours: {}",
                show_bytes(&r, usize::MAX),
                show_bytes(&o, usize::MAX)
            ));
        }
        r
    }

    fn expect(&mut self, what: &str, ours: impl std::fmt::Debug, real: impl std::fmt::Debug) {
        let (o, r) = (format!("{ours:?}"), format!("{real:?}"));
        if o != r {
            self.mismatches.push(format!("{what}\n      real: {r}\n      ours: {o}"));
        }
    }

    fn finish(&mut self) {
        let m = std::mem::take(&mut self.mismatches);
        assert!(m.is_empty(), "{} mismatch(es) with Redis 7.0.15:\n  {}", m.len(), m.join("\n  "));
    }
}

fn duo(args: &[&str]) -> (Server, Server) {
    (Server::start(args), Server::start_real(args))
}

// ---------------------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------------------

#[test]
fn command_count_is_the_number_of_top_level_commands() {
    let (ours, real) = duo(&[]);
    for s in [&ours, &real] {
        let mut c = s.client();
        let count = Reply::parse(&c.cmd(&["COMMAND", "COUNT"])).int();
        let all = Reply::parse(&c.cmd(&["COMMAND"])).items().len() as i64;
        let listed =
            Reply::parse(&c.cmd(&["COMMAND", "LIST"])).texts().iter().filter(|n| !n.contains('|')).count() as i64;
        assert!(count > 10, "{count}");
        assert_eq!(count, all, "COMMAND COUNT vs COMMAND");
        assert_eq!(count, listed, "COMMAND COUNT vs COMMAND LIST");
    }
    let mut p = Pair::new(&ours, &real);
    p.check(&["COMMAND", "COUNT", "x"]);
    p.check(&["COMMAND", "FOO"]);
    p.check(&["COMMAND", "INFO", "nosuch", "config|nosuch", "nosuch|get"]);
    p.check(&["COMMAND", "DOCS", "nosuch"]);
    p.finish();
}

/// CLIENT NO-TOUCH comes from Redis 7.2: the issue asks for it, so ours has it and 7.0.15 does not.
const OUR_EXTENSIONS: &[&str] = &["client|no-touch"];

/// The full names we implement that Redis 7.0.15 has too.
fn implemented(c: &mut Client) -> BTreeSet<String> {
    Reply::parse(&c.cmd(&["COMMAND", "LIST"]))
        .texts()
        .into_iter()
        .filter(|n| !OUR_EXTENSIONS.contains(&n.as_str()))
        .collect()
}

/// A map's pairs and whether it was a RESP3 map (else a RESP2 flat array).
fn map_pairs(v: &Reply) -> (bool, Vec<(Reply, Reply)>) {
    match v {
        Reply::Map(m) => (true, m.clone()),
        Reply::Array(a) => (false, a.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect()),
        other => panic!("not a map: {other:?}"),
    }
}

fn rebuild_map(resp3: bool, pairs: Vec<(Reply, Reply)>) -> Reply {
    if resp3 {
        Reply::Map(pairs)
    } else {
        Reply::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())
    }
}

/// A COMMAND INFO entry with its subcommands narrowed to `keep` and sorted by name (Redis lists
/// them in hash order); every other field as it is.
fn norm_info(v: &Reply, keep: &BTreeSet<String>) -> Reply {
    let Reply::Array(f) = v else { return v.clone() };
    let mut f = f.clone();
    if let Reply::Array(subs) = &f[9] {
        let mut subs: Vec<Reply> =
            subs.iter().filter(|s| keep.contains(&s.items()[0].text())).map(|s| norm_info(s, keep)).collect();
        subs.sort_by_key(|s| s.items()[0].text());
        f[9] = Reply::Array(subs);
    }
    Reply::Array(f)
}

/// A COMMAND DOCS reply (name -> entry) narrowed to `keep` and sorted by name, recursively through
/// each entry's `subcommands`; every other field as it is.
fn norm_docs(v: &Reply, keep: &BTreeSet<String>) -> Reply {
    let (resp3, pairs) = map_pairs(v);
    let mut pairs: Vec<(Reply, Reply)> = pairs
        .into_iter()
        .filter(|(k, _)| keep.contains(&k.text()))
        .map(|(k, entry)| {
            let (e3, fields) = map_pairs(&entry);
            let fields = fields
                .into_iter()
                .map(|(f, val)| if f.text() == "subcommands" { (f, norm_docs(&val, keep)) } else { (f, val) })
                .collect();
            (k, rebuild_map(e3, fields))
        })
        .collect();
    pairs.sort_by_key(|(k, _)| k.text());
    rebuild_map(resp3, pairs)
}

#[test]
fn command_info_matches_redis() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    let keep = implemented(&mut p.ours);
    for resp in ["2", "3"] {
        p.both(&["HELLO", resp]);
        let names = [
            "get",
            "SET",
            "config|get",
            "CONFIG|GET",
            "dbsize",
            "flushall",
            "swapdb",
            "lastsave",
            "time",
            "shutdown",
            "monitor",
            "debug",
            "info",
            "command",
            "command|getkeys",
            "slowlog|get",
            "latency|latest",
            "memory|usage",
            "mget",
            "mset",
            "del",
            "ping",
            "auth",
            "publish",
            "client",
            "bitop",
        ];
        for name in names {
            let (o, r) = p.both(&["COMMAND", "INFO", name, "nosuch"]);
            let (o, r) = (Reply::parse(&o).items(), Reply::parse(&r).items());
            p.expect(&format!("RESP{resp} COMMAND INFO {name}"), norm_info(&o[0], &keep), norm_info(&r[0], &keep));
            p.expect(&format!("RESP{resp} unknown command in COMMAND INFO"), &o[1], &r[1]);
        }
        // An unknown name is a null of the protocol's kind: `$-1` in RESP2, `_` in RESP3.
        p.check(&["COMMAND", "INFO", "nosuch"]);
        // Commands without subcommands are byte for byte Redis's.
        p.check(&["COMMAND", "INFO", "get", "set", "memory|usage", "dbsize", "mset", "config|set", "ping"]);
        // COMMAND and COMMAND INFO list every command: Redis's entries, restricted to ours.
        for args in [&["COMMAND"][..], &["COMMAND", "INFO"]] {
            let (o, r) = p.both(args);
            let by_name = |b: &[u8]| {
                Reply::parse(b)
                    .items()
                    .iter()
                    .filter(|e| keep.contains(&e.items()[0].text()))
                    .map(|e| (e.items()[0].text(), norm_info(e, &keep)))
                    .collect::<std::collections::BTreeMap<_, _>>()
            };
            p.expect(&format!("RESP{resp} {args:?}"), by_name(&o), by_name(&r));
        }
    }
    p.finish();
}

/// Every command we implement has Redis 7.0.15's COMMAND INFO (name, arity, flags, key positions,
/// ACL categories, tips, key specs) and COMMAND DOCS (summary, since, group, complexity, doc flags,
/// deprecation, history, arguments), in RESP2 and RESP3.
#[test]
fn command_table_matches_redis_for_every_implemented_command() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    let keep = implemented(&mut p.ours);
    for resp in ["2", "3"] {
        p.both(&["HELLO", resp]);
        for name in &keep {
            let (o, r) = p.both(&["COMMAND", "INFO", name]);
            let r = Reply::parse(&r).items().remove(0);
            if r.is_null() {
                p.mismatches.push(format!("{name}: not a Redis 7.0.15 command"));
                continue;
            }
            let o = Reply::parse(&o).items().remove(0);
            p.expect(&format!("RESP{resp} COMMAND INFO {name}"), norm_info(&o, &keep), norm_info(&r, &keep));
            let (o, r) = p.both(&["COMMAND", "DOCS", name]);
            p.expect(
                &format!("RESP{resp} COMMAND DOCS {name}"),
                norm_docs(&Reply::parse(&o), &keep),
                norm_docs(&Reply::parse(&r), &keep),
            );
        }
    }
    p.finish();
}

#[test]
fn command_docs_match_redis() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    let keep = implemented(&mut p.ours);
    for resp in ["2", "3"] {
        p.both(&["HELLO", resp]);
        // Commands without subcommands are byte for byte Redis's, several at once and unknown ones
        // left out.
        p.check(&["COMMAND", "DOCS", "get", "SET", "dbsize", "command|docs", "memory|usage", "monitor", "nosuch"]);
        p.check(&["COMMAND", "DOCS", "nosuch"]);
        for name in ["slowlog", "client", "config", "command", "object", "pubsub", "latency", "memory"] {
            let (o, r) = p.both(&["COMMAND", "DOCS", name]);
            p.expect(
                &format!("RESP{resp} DOCS {name}"),
                norm_docs(&Reply::parse(&o), &keep),
                norm_docs(&Reply::parse(&r), &keep),
            );
        }
        // COMMAND DOCS without names (what redis-cli asks at start-up): Redis's, restricted to ours.
        let (o, r) = p.both(&["COMMAND", "DOCS"]);
        let (o, r) = (Reply::parse(&o), Reply::parse(&r));
        p.expect(
            &format!("RESP{resp} COMMAND DOCS reply type"),
            std::mem::discriminant(&o),
            std::mem::discriminant(&r),
        );
        let names = |v: &Reply| map_pairs(v).1.iter().map(|(k, _)| k.text()).collect::<BTreeSet<_>>();
        let tops: BTreeSet<String> = keep.iter().filter(|n| !n.contains('|')).cloned().collect();
        p.expect(&format!("RESP{resp} COMMAND DOCS names"), names(&o), &tops);
        p.expect(&format!("RESP{resp} COMMAND DOCS"), norm_docs(&o, &keep), norm_docs(&r, &keep));
    }
    // Our extension has the entry generated from our table.
    let d = Reply::parse(&p.ours.cmd(&["COMMAND", "DOCS", "client|no-touch"]));
    let entry = &d.pairs()[0].1;
    assert_eq!(entry.get("group").map(|g| g.text()).as_deref(), Some("connection"), "{d:?}");
    assert_eq!(entry.get("since").map(|g| g.text()).as_deref(), Some("7.2.0"), "{d:?}");
    let info = Reply::parse(&p.ours.cmd(&["COMMAND", "INFO", "client|no-touch"])).items().remove(0);
    assert_eq!(info.items()[0].text(), "client|no-touch");
    assert!(info.items()[7].items().is_empty(), "no tips: {info:?}");
    p.finish();
}

#[test]
fn command_list_and_filters() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    let implemented: BTreeSet<String> = Reply::parse(&p.ours.cmd(&["COMMAND", "LIST"]))
        .texts()
        .into_iter()
        .filter(|n| !OUR_EXTENSIONS.contains(&n.as_str()))
        .collect();
    let all_real: BTreeSet<String> = Reply::parse(&p.real.cmd(&["COMMAND", "LIST"])).texts().into_iter().collect();
    let extra: Vec<_> = implemented.difference(&all_real).collect();
    p.expect("commands Redis 7.0.15 does not have", extra, Vec::<String>::new());
    let filters: &[&[&str]] = &[
        &["PATTERN", "slowlog*"],
        &["PATTERN", "*|help"],
        &["PATTERN", "c?n*"],
        &["pattern", "GET"],
        &["ACLCAT", "keyspace"],
        &["ACLCAT", "read"],
        &["ACLCAT", "write"],
        &["aclcat", "DANGEROUS"],
        &["ACLCAT", "connection"],
        &["ACLCAT", "admin"],
        &["ACLCAT", "fast"],
        &["ACLCAT", "slow"],
        &["ACLCAT", "string"],
        &["ACLCAT", "pubsub"],
        &["ACLCAT", "transaction"],
        &["ACLCAT", "nosuchcat"],
        &["MODULE", "x"],
    ];
    for f in filters {
        let args = [&["COMMAND", "LIST", "FILTERBY"][..], f].concat();
        let (o, r) = p.both(&args);
        let o: BTreeSet<String> =
            Reply::parse(&o).texts().into_iter().filter(|n| !OUR_EXTENSIONS.contains(&n.as_str())).collect();
        // Redis's answer restricted to what we implement.
        let r: BTreeSet<String> = Reply::parse(&r).texts().into_iter().filter(|n| implemented.contains(n)).collect();
        p.expect(&format!("{args:?}"), o, r);
    }
    for args in [
        &["COMMAND", "LIST", "FILTERBY"][..],
        &["COMMAND", "LIST", "x"],
        &["COMMAND", "LIST", "FILTERBY", "foo", "x"],
        &["COMMAND", "LIST", "FILTERBY", "pattern"],
        &["COMMAND", "LIST", "FILTERBY", "pattern", "x", "y"],
        &["COMMAND", "LIST", "FOO", "pattern", "x"],
    ] {
        p.check(args);
    }
    p.finish();
}

#[test]
fn command_getkeys_and_its_errors() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    for args in [
        &["COMMAND", "GETKEYS"][..],
        &["COMMAND", "GETKEYS", "get"],
        &["COMMAND", "GETKEYS", "get", "a"],
        &["COMMAND", "GETKEYS", "GET", "a"],
        &["COMMAND", "GETKEYS", "get", "a", "b"],
        &["COMMAND", "GETKEYS", "nosuch", "a"],
        &["COMMAND", "GETKEYS", "ping", "x"],
        &["COMMAND", "GETKEYS", "time", "x"],
        &["COMMAND", "GETKEYS", "dbsize", "x", "y"],
        &["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
        &["COMMAND", "GETKEYS", "mset", "a"],
        &["COMMAND", "GETKEYS", "mset", "a", "1", "b"],
        &["COMMAND", "GETKEYS", "mget", "a", "b", "c"],
        &["COMMAND", "GETKEYS", "del", "a", "b"],
        &["COMMAND", "GETKEYS", "rename", "a", "b"],
        &["COMMAND", "GETKEYS", "set", "k", "v", "EX", "10"],
        &["COMMAND", "GETKEYS", "bitop", "and", "d", "a", "b"],
        &["COMMAND", "GETKEYS", "config", "get", "x"],
        &["COMMAND", "GETKEYS", "config", "nosuch"],
        &["COMMAND", "GETKEYS", "client", "nosuch"],
        &["COMMAND", "GETKEYS", "memory", "usage", "k"],
        &["COMMAND", "GETKEYS", "object", "encoding", "k"],
        &["COMMAND", "GETKEYS", "command", "x"],
        &["COMMAND", "GETKEYSANDFLAGS", "get", "a"],
        &["COMMAND", "GETKEYSANDFLAGS", "get"],
        &["COMMAND", "GETKEYSANDFLAGS", "ping", "x"],
        &["COMMAND", "GETKEYSANDFLAGS", "nosuch", "x"],
    ] {
        p.check(args);
    }
    p.finish();
}

#[test]
fn help_texts_match_redis() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    for c in ["COMMAND", "SLOWLOG", "LATENCY", "MEMORY", "CONFIG", "CLIENT"] {
        if c == "CLIENT" {
            // Ours also documents NO-TOUCH (see OUR_EXTENSIONS); everything else is identical.
            let (o, r) = p.both(&[c, "HELP"]);
            let o = String::from_utf8_lossy(&o)
                .replace("+NO-TOUCH (ON|OFF)\r\n+    Will not touch LRU/LFU stats when this mode is on.\r\n", "")
                .replace("*50\r\n", "*48\r\n");
            p.expect("CLIENT HELP", o, String::from_utf8_lossy(&r).into_owned());
        } else {
            p.check(&[c, "HELP"]);
        }
        p.check(&[c, "help", "extra"]);
        p.check(&[c, "NOSUCH"]);
    }
    p.finish();
}

// ---------------------------------------------------------------------------------------------
// TIME, LASTSAVE, DBSIZE, SWAPDB, FLUSHALL/FLUSHDB
// ---------------------------------------------------------------------------------------------

#[test]
fn time_and_lastsave() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let t = Reply::parse(&c.cmd(&["TIME"])).texts();
    assert_eq!(t.len(), 2);
    let secs: u64 = t[0].parse().unwrap();
    let usecs: u64 = t[1].parse().unwrap();
    assert!(usecs < 1_000_000, "{usecs}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(secs.abs_diff(now) <= 2, "TIME {secs} vs {now}");
    let lastsave = Reply::parse(&c.cmd(&["LASTSAVE"])).int() as u64;
    assert!(lastsave <= now + 1 && lastsave + 60 > now, "LASTSAVE {lastsave} at {now}");
    let real = Server::start_real(&[]);
    let mut p = Pair::new(&s, &real);
    for args in [&["TIME", "x"][..], &["LASTSAVE", "x"], &["DBSIZE", "x"]] {
        p.check(args);
    }
    // TIME's reply is two bulk strings in both protocols.
    for resp in ["2", "3"] {
        p.both(&["HELLO", resp]);
        let (o, r) = p.both(&["TIME"]);
        let kinds = |v: Reply| v.items().iter().map(|x| format!("{:?}", std::mem::discriminant(x))).collect::<Vec<_>>();
        p.expect("TIME shape", kinds(Reply::parse(&o)), kinds(Reply::parse(&r)));
        let (o, r) = p.both(&["LASTSAVE"]);
        p.expect("LASTSAVE type", &o[..1], &r[..1]);
    }
    p.finish();
}

#[test]
fn dbsize_swapdb_and_flushes_match_redis() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    let seq: &[&[&str]] = &[
        &["DBSIZE"],
        &["MSET", "a", "1", "b", "2", "c", "3"],
        &["DBSIZE"],
        &["SWAPDB", "a", "1"],
        &["SWAPDB", "1", "a"],
        &["SWAPDB", "0", "16"],
        &["SWAPDB", "-1", "0"],
        &["SWAPDB", "99999999999999999999", "1"],
        &["SWAPDB", "99999999999", "0"],
        &["SWAPDB", "0", "99999999999"],
        &["SWAPDB", "2147483647", "0"],
        &["SWAPDB", "0", "-2147483649"],
        &["SWAPDB", "0", "1", "2"],
        &["SWAPDB", "1"],
        &["SWAPDB", "0", "0"],
        &["DBSIZE"],
        &["SWAPDB", "0", "1"],
        &["DBSIZE"],
        &["SELECT", "1"],
        &["DBSIZE"],
        &["MGET", "a", "b", "c"],
        &["SWAPDB", "1", "0"],
        &["DBSIZE"],
        &["SET", "x", "y"],
        &["FLUSHDB", "x"],
        &["FLUSHDB", "SYNC", "x"],
        &["FLUSHDB", "async"],
        &["DBSIZE"],
        &["SELECT", "0"],
        &["DBSIZE"],
        &["FLUSHALL", "FOO"],
        &["FLUSHALL", "SYNC", "ASYNC"],
        &["FLUSHALL", "ASYNC"],
        &["DBSIZE"],
        &["SET", "x", "y"],
        &["FLUSHALL", "sync"],
        &["DBSIZE"],
        &["SET", "x", "y"],
        &["FLUSHDB"],
        &["FLUSHALL"],
        &["DBSIZE"],
    ];
    for args in seq {
        p.check(args);
    }
    p.finish();
}

// ---------------------------------------------------------------------------------------------
// MEMORY
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_usage_and_errors() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    p.check(&["SET", "k", "v"]);
    p.check(&["SET", "n", "12345"]);
    for args in [
        &["MEMORY", "USAGE", "nokey"][..],
        &["MEMORY", "USAGE", "k", "SAMPLES"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "x"],
        &["MEMORY", "USAGE", "k", "FOO", "1"],
        &["MEMORY", "USAGE", "nokey", "SAMPLES", "x"],
        &["MEMORY", "USAGE", "nokey", "SAMPLES", "0"],
        &["MEMORY", "USAGE"],
        &["MEMORY"],
        &["MEMORY", "FOO"],
        &["MEMORY", "PURGE"],
        &["MEMORY", "PURGE", "x"],
        &["MEMORY", "STATS", "x"],
        &["MEMORY", "DOCTOR", "x"],
    ] {
        p.check(args);
    }
    for args in [
        &["MEMORY", "USAGE", "k"][..],
        &["MEMORY", "USAGE", "n"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "0"],
        &["MEMORY", "usage", "k", "samples", "5", "SAMPLES", "3"],
    ] {
        let (o, r) = p.both(args);
        let (o, r) = (Reply::parse(&o), Reply::parse(&r));
        p.expect(
            &format!("{args:?} is an integer"),
            matches!(o, Reply::Int(n) if n > 0),
            matches!(r, Reply::Int(n) if n > 0),
        );
    }
    // A bigger value costs more.
    p.both(&["SET", "big", &"x".repeat(10_000)]);
    let small = Reply::parse(&p.ours.cmd(&["MEMORY", "USAGE", "k"])).int();
    let big = Reply::parse(&p.ours.cmd(&["MEMORY", "USAGE", "big"])).int();
    assert!(big > small + 9_000, "{big} vs {small}");
    // MEMORY STATS has Redis's fields in Redis's order; MEMORY DOCTOR is a verbatim string.
    for resp in ["2", "3"] {
        p.both(&["HELLO", resp]);
        let (o, r) = p.both(&["MEMORY", "STATS"]);
        let names = |v: Reply| v.pairs().into_iter().map(|x| x.0.text()).collect::<Vec<_>>();
        p.expect(&format!("RESP{resp} MEMORY STATS fields"), names(Reply::parse(&o)), names(Reply::parse(&r)));
        let (o, r) = p.both(&["MEMORY", "DOCTOR"]);
        p.expect("MEMORY DOCTOR type", &o[..1], &r[..1]);
        let (o, r) = p.both(&["MEMORY", "MALLOC-STATS"]);
        assert!(matches!(Reply::parse(&o), Reply::Bulk(_) | Reply::Verbatim(..)), "{}", show_bytes(&o, usize::MAX));
        // Both are jemalloc's own report.
        let first_line = |b: &[u8]| {
            let text = String::from_utf8_lossy(b).into_owned();
            text.lines().nth(1).unwrap_or("").trim_start_matches("txt:").to_string()
        };
        p.expect("MEMORY MALLOC-STATS first line", first_line(&o), first_line(&r));
    }
    p.finish();
}

// ---------------------------------------------------------------------------------------------
// SLOWLOG
// ---------------------------------------------------------------------------------------------

/// The deterministic part of SLOWLOG GET: id, arguments and client name; checks the rest.
fn slowlog_entries(reply: &[u8], what: &str) -> Vec<String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    Reply::parse(reply)
        .items()
        .iter()
        .map(|e| {
            let f = e.items();
            assert_eq!(f.len(), 6, "{what}: slowlog entry {e:?}");
            let t = f[1].int();
            assert!((now - 5..=now + 1).contains(&t), "{what}: timestamp {t} (now {now})");
            assert!(f[2].int() >= 0, "{what}: duration");
            let addr = f[4].text();
            let (ip, port) = addr.rsplit_once(':').unwrap_or_else(|| panic!("{what}: client address {addr}"));
            assert!(ip == "127.0.0.1" && port.parse::<u16>().is_ok(), "{what}: client address {addr}");
            format!("{} {:?} name={}", f[0].int(), f[3].texts(), f[5].text())
        })
        .collect()
}

#[test]
fn slowlog_matches_redis() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    p.check(&["CLIENT", "SETNAME", "slowpoke"]);
    p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    p.check(&["SLOWLOG", "RESET"]);
    // The RESET itself was slower than 0 µs.
    p.check(&["SLOWLOG", "LEN"]);
    let long = "x".repeat(130);
    let exactly = "y".repeat(128);
    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut mset = vec!["MSET"];
    mset.extend(many.iter().map(String::as_str));
    p.both(&["SET", "k", &long]);
    p.both(&["SET", "k2", &exactly]);
    p.both(&mset);
    p.both(&mset[..32]);
    p.both(&mset[..33]);
    p.both(&mset[..31]);
    p.both(&["PING"]);
    p.both(&["EXEC"]);
    p.both(&["MULTI"]);
    p.both(&["PING"]);
    p.both(&["EXEC"]);
    p.both(&["AUTH", "secret"]);
    p.both(&["AUTH", "user", "secret"]);
    p.both(&["AUTH", "a", "b", "c"]);
    p.both(&["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "slowpoke"]);
    p.both(&["HELLO", "2", "SETNAME", "slowpoke", "AUTH", "default"]);
    p.both(&["HELLO", "9", "AUTH", "default", "pw"]);
    p.both(&["CONFIG", "SET", "requirepass", "pw", "masterauth", "x"]);
    p.both(&["AUTH", "pw"]);
    p.both(&["CONFIG", "SET", "requirepass", ""]);
    p.both(&["NOSUCHCOMMAND"]);
    p.both(&["GET"]);
    let (o, r) = p.both(&["SLOWLOG", "GET", "-1"]);
    p.expect("SLOWLOG GET -1", slowlog_entries(&o, "ours"), slowlog_entries(&r, "real"));
    let (o, r) = p.both(&["SLOWLOG", "GET"]);
    p.expect("SLOWLOG GET (default 10)", slowlog_entries(&o, "ours"), slowlog_entries(&r, "real"));
    let (o, r) = p.both(&["SLOWLOG", "GET", "2"]);
    p.expect("SLOWLOG GET 2", slowlog_entries(&o, "ours"), slowlog_entries(&r, "real"));
    for args in [
        &["SLOWLOG", "GET", "0"][..],
        &["SLOWLOG", "GET", "-2"],
        &["SLOWLOG", "GET", "x"],
        &["SLOWLOG", "GET", "1", "2"],
        &["SLOWLOG", "get", "1", "2"],
        &["SLOWLOG", "LEN", "x"],
        &["SLOWLOG", "RESET", "x"],
        &["SLOWLOG", "FOO"],
        &["SLOWLOG"],
    ] {
        p.check(args);
    }
    // A threshold above every command's duration: RESET leaves the log empty.
    p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "10000000"]);
    p.check(&["SLOWLOG", "RESET"]);
    p.check(&["SLOWLOG", "LEN"]);
    // The log keeps the newest slowlog-max-len entries.
    p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    p.check(&["CONFIG", "SET", "slowlog-max-len", "3"]);
    for i in 0..5 {
        p.check(&["PING", &i.to_string()]);
    }
    p.check(&["SLOWLOG", "LEN"]);
    let (o, r) = p.both(&["SLOWLOG", "GET"]);
    p.expect("SLOWLOG GET after trimming", slowlog_entries(&o, "ours"), slowlog_entries(&r, "real"));
    // A negative threshold disables the log.
    p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    p.check(&["SLOWLOG", "RESET"]);
    p.check(&["PING"]);
    p.check(&["SLOWLOG", "LEN"]);
    p.finish();
}

#[test]
fn slowlog_keeps_commands_slower_than_the_threshold() {
    let s = Server::start(&["--enable-debug-command", "yes", "--slowlog-log-slower-than", "20000"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["SLOWLOG", "RESET"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.03"]), b"+OK\r\n");
    // Only DEBUG SLEEP is that slow (unless the machine stalls on the others too).
    let entries = Reply::parse(&c.cmd(&["SLOWLOG", "GET"])).items();
    let debug: Vec<Vec<Reply>> = entries
        .iter()
        .map(Reply::items)
        .filter(|e| e[3].texts().first().map(String::as_str) == Some("DEBUG"))
        .collect();
    assert_eq!(debug.len(), 1, "{entries:?}");
    let e = &debug[0];
    assert_eq!(e[3].texts(), ["DEBUG", "SLEEP", "0.03"]);
    assert!(e[2].int() >= 30_000, "duration {}", e[2].int());
}

// ---------------------------------------------------------------------------------------------
// LATENCY
// ---------------------------------------------------------------------------------------------

#[test]
fn latency_monitor_matches_redis() {
    let (ours, real) = duo(&["--enable-debug-command", "yes"]);
    let mut p = Pair::new(&ours, &real);
    p.check(&["LATENCY", "LATEST"]);
    // Monitoring is off: DOCTOR says so, verbatim, and there is nothing to draw.
    p.check(&["LATENCY", "DOCTOR"]);
    p.check(&["LATENCY", "GRAPH", "command"]);
    // A high threshold and a long sleep keep a loaded test machine's incidental slow commands out.
    p.check(&["CONFIG", "SET", "latency-monitor-threshold", "40"]);
    p.check(&["DEBUG", "SLEEP", "0.08"]);
    // Under load any command may take a millisecond and add a sample of its own (to "command", or
    // to "fast-command" in Redis): the "command" event that DEBUG SLEEP made is what is compared.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (o, r) = p.both(&["LATENCY", "LATEST"]);
    let latest = |b: &[u8]| -> Vec<String> {
        Reply::parse(b)
            .items()
            .iter()
            .filter(|e| e.items()[0].text() == "command")
            .map(|e| {
                let f = e.items();
                assert!((now - 5..=now + 1).contains(&f[1].int()), "time {:?}", f[1]);
                let (latest, max) = (f[2].int(), f[3].int());
                assert!((80..2000).contains(&latest) && max >= latest, "{latest} {max}");
                format!("{} fields={}", f[0].text(), f.len())
            })
            .collect()
    };
    p.expect("LATENCY LATEST", latest(&o), latest(&r));
    let (o, r) = p.both(&["LATENCY", "HISTORY", "command"]);
    let history = |b: &[u8]| Reply::parse(b).items().iter().map(|e| e.items().len()).collect::<Vec<_>>();
    let (ho, hr) = (history(&o), history(&r));
    for h in [&ho, &hr] {
        assert!((1..=2).contains(&h.len()) && h.iter().all(|n| *n == 2), "LATENCY HISTORY command: {h:?}");
    }
    // GRAPH: the same drawing apart from the numbers in its title (for the same samples).
    let (o, r) = p.both(&["LATENCY", "GRAPH", "command"]);
    // The sample ages under the drawing ("0s", "1s") depend on when each server took its sample.
    let body = |b: &[u8]| {
        Reply::parse(b)
            .text()
            .split_once('\n')
            .map(|x| x.1.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect::<String>())
    };
    if ho.len() == 1 && hr.len() == 1 {
        p.expect("LATENCY GRAPH command", body(&o), body(&r));
    }
    let (o, r) = p.both(&["LATENCY", "DOCTOR"]);
    p.expect("LATENCY DOCTOR type", &o[..1], &r[..1]);
    for args in [
        &["LATENCY", "HISTORY", "nosuch"][..],
        &["LATENCY", "HISTORY"],
        &["LATENCY", "LATEST", "x"],
        &["LATENCY", "GRAPH", "nosuch"],
        &["LATENCY", "GRAPH"],
        &["LATENCY", "FOO"],
        &["LATENCY", "RESET", "nosuch"],
        &["LATENCY", "RESET", "command", "command"],
        &["DEBUG", "SLEEP", "0.08"],
        &["CONFIG", "SET", "latency-monitor-threshold", "0"],
    ] {
        p.check(args);
    }
    // No new samples from here on: RESET clears every event (at least "command").
    let (o, r) = p.both(&["LATENCY", "RESET"]);
    for x in [o, r] {
        assert!(matches!(Reply::parse(&x), Reply::Int(n) if n >= 1), "{}", show_bytes(&x, usize::MAX));
    }
    for args in [
        &["LATENCY", "RESET"][..],
        &["LATENCY", "LATEST"],
        &["DEBUG", "SLEEP", "0.01"],
        &["LATENCY", "LATEST"],
        &["LATENCY", "HISTORY", "command"],
    ] {
        p.check(args);
    }
    p.finish();
}

#[test]
fn latency_histogram_shape() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    p.check(&["CONFIG", "RESETSTAT"]);
    for _ in 0..5 {
        p.check(&["SET", "a", "1"]);
    }
    p.check(&["GET", "a"]);
    for resp in ["2", "3"] {
        p.both(&["HELLO", resp]);
        for args in [&["LATENCY", "HISTOGRAM", "set", "GET", "nosuch", "set"][..], &["LATENCY", "HISTOGRAM", "nosuch"]]
        {
            let (o, r) = p.both(args);
            let shape = |b: &[u8]| -> Vec<String> {
                let v = Reply::parse(b);
                let kind = format!("{:?}", std::mem::discriminant(&v));
                v.pairs()
                    .into_iter()
                    .map(|(name, h)| {
                        let calls = h.get("calls").map(|c| c.int());
                        let buckets = h.get("histogram_usec").expect("histogram_usec").pairs();
                        let counts: Vec<i64> = buckets.iter().map(|b| b.1.int()).collect();
                        assert!(counts.windows(2).all(|w| w[0] < w[1]), "cumulative counts {counts:?}");
                        assert_eq!(counts.last().copied(), calls, "the last bucket holds every call");
                        format!(
                            "{kind} {} calls={calls:?} keys={:?}",
                            name.text(),
                            h.pairs().iter().map(|x| &x.0).collect::<Vec<_>>()
                        )
                    })
                    .collect()
            };
            p.expect(&format!("RESP{resp} {args:?}"), shape(&o), shape(&r));
        }
    }
    p.finish();
}

// ---------------------------------------------------------------------------------------------
// DEBUG
// ---------------------------------------------------------------------------------------------

#[test]
fn debug_is_refused_unless_enable_debug_command_allows_it() {
    let (ours, real) = duo(&[]);
    let mut p = Pair::new(&ours, &real);
    for args in [
        &["DEBUG", "SLEEP", "0"][..],
        &["DEBUG", "HELP"],
        &["DEBUG", "OBJECT", "k"],
        &["DEBUG", "nosuch"],
        &["DEBUG"],
        &["CONFIG", "GET", "enable-debug-command"],
        &["CONFIG", "SET", "enable-debug-command", "yes"],
    ] {
        p.check(args);
    }
    p.finish();
    drop((ours, real));
    // `local` allows a loopback client.
    let (ours, real) = duo(&["--enable-debug-command", "local"]);
    let mut p = Pair::new(&ours, &real);
    p.check(&["DEBUG", "SLEEP", "0"]);
    p.check(&["CONFIG", "GET", "enable-debug-command"]);
    p.finish();
}

/// DEBUG OBJECT with the pointer and LRU fields masked.
fn debug_object_fields(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b).into_owned();
    text.split(' ')
        .filter(|f| !f.starts_with("at:") && !f.starts_with("lru:") && !f.starts_with("lru_seconds_idle:"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn debug_subcommands_match_redis() {
    let (ours, real) = duo(&["--enable-debug-command", "yes"]);
    let mut p = Pair::new(&ours, &real);
    for args in [
        &["DEBUG", "SLEEP", "0"][..],
        &["DEBUG", "SLEEP", "x"],
        &["DEBUG", "SLEEP", "-1"],
        &["DEBUG", "SLEEP", "0.001"],
        &["DEBUG", "SLEEP"],
        &["DEBUG", "SLEEP", "1", "2"],
        &["DEBUG", "OBJECT", "nokey"],
        &["DEBUG", "OBJECT"],
        &["DEBUG", "OBJECT", "a", "b"],
        &["DEBUG", "nosuch"],
        &["debug", "NoSuch", "x"],
        &["DEBUG", "SET-ACTIVE-EXPIRE"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "x"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        &["DEBUG", "LOG", "hello from the test"],
        &["SET", "s", "v"],
        &["SET", "n", "123"],
        &["SET", "big", "12345678901"],
        &["SET", "neg", "-40000"],
        &["SET", "shared", "9999"],
        &["SET", "l", &"x".repeat(15)],
        &["SET", "e", &"ab".repeat(22)],
        &["SET", "r", &"ab".repeat(40)],
    ] {
        p.check(args);
    }
    for key in ["s", "n", "big", "neg", "shared", "l", "e"] {
        let (o, r) = p.both(&["DEBUG", "OBJECT", key]);
        p.expect(&format!("DEBUG OBJECT {key}"), debug_object_fields(&o), debug_object_fields(&r));
    }
    // An incompressible long string: Redis's LZF does not shrink it, so the lengths agree.
    let random: String = (0..100).map(|i| (b'!' + ((i * 37 + i * i * 11) % 90) as u8) as char).collect();
    p.check(&["SET", "r2", &random]);
    let (o, r) = p.both(&["DEBUG", "OBJECT", "r2"]);
    p.expect("DEBUG OBJECT r2", debug_object_fields(&o), debug_object_fields(&r));
    p.finish();
    wait_for("DEBUG LOG in our log", Duration::from_secs(5), || {
        ours.log_text().lines().any(|l| l.ends_with(" # DEBUG LOG: hello from the test"))
    });
    assert!(real.log_text().lines().any(|l| l.ends_with(" # DEBUG LOG: hello from the test")));
}

// ---------------------------------------------------------------------------------------------
// MONITOR
// ---------------------------------------------------------------------------------------------

/// A MONITOR line with its timestamp and client port masked: `+<ts> [<db> 127.0.0.1:*] args`.
fn monitor_line(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b).into_owned();
    let text = text.strip_prefix('+').unwrap_or_else(|| panic!("a status line: {text:?}")).trim_end();
    let (ts, rest) = text.split_once(' ').expect("a timestamp");
    let (secs, usecs) = ts.split_once('.').unwrap_or_else(|| panic!("<secs>.<usecs>: {ts}"));
    assert!(secs.parse::<u64>().is_ok() && usecs.len() == 6 && usecs.parse::<u32>().is_ok(), "timestamp {ts}");
    let (client, args) = rest.split_once("] ").expect("a client part");
    let (db, addr) = client.trim_start_matches('[').split_once(' ').expect("db and address");
    let ip = addr.rsplit_once(':').map(|x| x.0).unwrap_or(addr);
    format!("[{db} {ip}:*] {args}")
}

#[test]
fn monitor_stream_matches_redis() {
    let (ours, real) = duo(&["--enable-debug-command", "yes"]);
    let mut mo = ours.client();
    let mut mr = real.client();
    assert_eq!(mo.cmd(&["MONITOR"]), b"+OK\r\n");
    assert_eq!(mr.cmd(&["MONITOR"]), b"+OK\r\n");
    let mut p = Pair::new(&ours, &real);
    let seq: &[&[&str]] = &[
        &["SET", "k", "a b\"\n\x01\\"],
        &["SELECT", "2"],
        &["GET", "k"],
        &["SELECT", "0"],
        &["AUTH", "x"],
        &["AUTH", "user", "pass"],
        &["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "n"],
        &["CONFIG", "GET", "port"],
        &["CLIENT", "LIST"],
        &["SLOWLOG", "LEN"],
        &["DEBUG", "SLEEP", "0"],
        &["NOSUCH"],
        &["GET"],
        &["MULTI"],
        &["SET", "a", "1"],
        &["EXEC"],
        &["INFO", "cpu"],
        &["PING"],
    ];
    for args in seq {
        p.both(args);
    }
    p.both(&["ECHO", "end"]);
    let read_until_end = |m: &mut Client| -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let l = monitor_line(&m.read_reply());
            let done = l.ends_with("\"ECHO\" \"end\"");
            lines.push(l);
            if done {
                return lines;
            }
        }
    };
    let (o, r) = (read_until_end(&mut mo), read_until_end(&mut mr));
    p.expect("MONITOR stream", o, r);
    // A second MONITOR has no reply at all, and a monitoring client sees its own commands too.
    // The monitor's own PING must be served before another client's ECHO is sent, or the two
    // connections race and either order is correct.
    let read_until = |m: &mut Client, end: &str| -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let r = m.read_reply();
            let l =
                if r.starts_with(b"+") && r.contains(&b'[') { monitor_line(&r) } else { show_bytes(&r, usize::MAX) };
            let done = l.ends_with(end);
            out.push(l);
            if done {
                return out;
            }
        }
    };
    let mut seen = Vec::new();
    for m in [&mut mo, &mut mr] {
        m.send_raw(&encode(&[b"MONITOR"]));
        m.send_raw(&encode(&[b"PING"]));
        seen.push(read_until(m, "\"PING\""));
    }
    p.both(&["ECHO", "end2"]);
    let mut o = seen.remove(0);
    let mut r = seen.remove(0);
    o.extend(read_until(&mut mo, "\"ECHO\" \"end2\""));
    r.extend(read_until(&mut mr, "\"ECHO\" \"end2\""));
    p.expect("MONITOR; PING from the monitoring client", o, r);
    p.finish();
}
