//! DUMP, RESTORE and RESTORE-ASKING against Debian's real Redis 7.0: payloads of every type and
//! encoding compared byte for byte where the two servers hold the value in the same order,
//! payloads of each server restored into the other (and read back the same), RDB 9 payloads of
//! Redis 6.2, every error, TTLs, IDLETIME and FREQ under each maxmemory-policy, the keyspace
//! events and the dirty counter.

use crate::common::{Client, Reply};
use crate::differential_support::*;

/// Builds one key of each type and encoding (the key's name says which), on both servers.
fn dataset() -> Vec<Vec<String>> {
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let mut add = |words: &[&str]| cmds.push(words.iter().map(|s| s.to_string()).collect());
    add(&["SET", "str:int", "12345"]);
    add(&["SET", "str:int64", "-1234567890123"]);
    add(&["SET", "str:embstr", "hello"]);
    add(&["SET", "str:raw-lzf", &"abcabcabc".repeat(20)]);
    add(&["SET", "str:raw", "the quick brown fox jumps over the lazy dog 0123456789"]);
    add(&["SET", "str:numeric-text", "007"]);
    add(&["RPUSH", "list:one-node", "a", "b", "1", "-2", "300000", "70000000000", "3.5"]);
    add(&["RPUSH", "list:huge-element", &"x".repeat(10000), "y"]);
    add(&["SADD", "set:intset", "1", "2", "-5", "100000", "70000000000"]);
    add(&["SADD", "set:hashtable", "a", "b", "c", "1"]);
    add(&["HSET", "hash:listpack", "f1", "v1", "f2", "2", "f3", "-300000"]);
    add(&["HSET", "hash:hashtable", "f1", &"v".repeat(100), "f2", "x"]);
    add(&["ZADD", "zset:listpack", "1", "a", "2.5", "b", "-3", "c", "1e300", "d", "inf", "e", "-0.1", "f"]);
    add(&["XADD", "stream:plain", "1-1", "a", "1", "b", "2"]);
    add(&["XADD", "stream:plain", "2-1", "a", "3", "b", "4"]);
    add(&["XADD", "stream:plain", "3-0", "other", "fields", "here", "x"]);
    add(&["XDEL", "stream:plain", "2-1"]);
    add(&["XADD", "stream:groups", "5-1", "f", "v"]);
    add(&["XADD", "stream:groups", "6-1", "f", "w"]);
    add(&["XGROUP", "CREATE", "stream:groups", "g1", "0"]);
    add(&["XGROUP", "CREATE", "stream:groups", "g2", "$", "ENTRIESREAD", "2"]);
    add(&["XADD", "stream:pel", "1-1", "f", "v"]);
    add(&["XADD", "stream:pel", "1-2", "f", "w"]);
    add(&["XGROUP", "CREATE", "stream:pel", "g", "0"]);
    add(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "stream:pel", ">"]);
    add(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "stream:pel", ">"]);
    add(&["XGROUP", "CREATECONSUMER", "stream:pel", "g", "carol"]);
    // Larger values: many quicklist nodes, a skiplist, a set converted from an intset, a
    // stream of several nodes.
    let many: Vec<String> = (0..3000).map(|i| format!("element-{i}")).collect();
    let mut words = vec!["RPUSH".to_string(), "list:many-nodes".to_string()];
    words.extend(many.iter().cloned());
    cmds.push(words);
    let mut words = vec!["ZADD".to_string(), "zset:skiplist".to_string()];
    for i in 0..300 {
        words.push(format!("{}", (i * 7919) % 1000) + ".25");
        words.push(format!("member-{i}"));
    }
    cmds.push(words);
    let mut words = vec!["SADD".to_string(), "set:intset-converted".to_string()];
    words.extend((0..600).map(|i| (i * 3).to_string()));
    cmds.push(words);
    for i in 0..250 {
        cmds.push(
            ["XADD", "stream:many-nodes", &format!("{}-0", i + 1), "field", &i.to_string()]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
    }
    cmds
}

/// Keys whose payload both servers write the same: the value is held in the same order.
const SAME_PAYLOAD: &[&str] = &[
    "str:int",
    "str:int64",
    "str:embstr",
    "str:raw-lzf",
    "str:raw",
    "str:numeric-text",
    "list:one-node",
    "list:huge-element",
    "list:many-nodes",
    "set:intset",
    "hash:listpack",
    "zset:listpack",
    "zset:skiplist",
    "stream:plain",
    "stream:groups",
    "stream:many-nodes",
];

/// Keys in hash-table order, or with times (a stream's delivery and seen times): compared by
/// what reading them answers.
const SAME_CONTENT: &[&str] = &["set:hashtable", "hash:hashtable", "set:intset-converted", "stream:pel"];

fn run(c: &mut Client, cmd: &[String]) -> Vec<u8> {
    let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
    c.cmd_bytes(&a)
}

fn dump(c: &mut Client, key: &str) -> Vec<u8> {
    match Reply::parse(&c.cmd(&["DUMP", key])) {
        Reply::Bulk(b) => b,
        other => panic!("DUMP {key}: {other:?}"),
    }
}

/// A payload as Redis seals one: `body`, the RDB version, then the CRC64 of both.
fn sealed(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Compares two payloads; a difference is shown by the lengths and the bytes around the first
/// difference, not whole (they may be large).
fn compare_payloads(p: &mut Pair, what: &str, ours: &[u8], real: &[u8]) {
    if ours == real {
        return;
    }
    let at = ours.iter().zip(real).position(|(a, b)| a != b).unwrap_or(ours.len().min(real.len()));
    let show = |b: &[u8]| {
        let from = at.saturating_sub(16);
        format!("{} bytes, at {at}: {}", b.len(), crate::common::show_bytes(&b[from..b.len().min(at + 48)], 200))
    };
    p.compare(what, show(ours).as_bytes(), show(real).as_bytes());
}

/// Runs a command with binary arguments on both and compares the replies.
fn check_bytes(p: &mut Pair, args: &[&[u8]]) -> Vec<u8> {
    let (o, r) = (p.ours.cmd_bytes(args), p.real.cmd_bytes(args));
    let what: Vec<String> = args.iter().map(|a| crate::common::show_bytes(a, 40)).collect();
    p.compare(&format!("{what:?}"), &o, &r);
    r
}

/// What reading `key` answers, by its type: compared between the servers (sorted where the
/// order is a hash table's).
fn check_content(p: &mut Pair, key: &str) {
    let kind = p.check(&["TYPE", key]);
    p.check(&["OBJECT", "ENCODING", key]);
    match &kind[..] {
        b"+string\r\n" => drop(p.check(&["GET", key])),
        b"+list\r\n" => drop(p.check(&["LRANGE", key, "0", "-1"])),
        b"+set\r\n" => drop(p.check_sorted(&["SMEMBERS", key])),
        b"+hash\r\n" => drop(p.check_sorted(&["HGETALL", key])),
        b"+zset\r\n" => drop(p.check(&["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        b"+stream\r\n" => {
            p.check(&["XRANGE", key, "-", "+"]);
            p.check(&["XINFO", "STREAM", key]);
            let groups = p.check(&["XINFO", "GROUPS", key]);
            for g in Reply::parse(&groups).items() {
                let name = g.pairs().iter().find(|(k, _)| k.text() == "name").map(|(_, v)| v.text());
                p.check(&["XPENDING", key, &name.expect("a group's name")]);
            }
        }
        other => panic!("unexpected type {}", String::from_utf8_lossy(other)),
    }
}

#[test]
fn payloads_equal_reals_and_cross_restore() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    duo.in_both_protocols(|p| {
        for cmd in dataset() {
            let (o, r) = (run(&mut p.ours, &cmd), run(&mut p.real, &cmd));
            p.compare(&format!("setup {:?}", &cmd[..2]), &o, &r);
        }
        for &key in SAME_PAYLOAD.iter().chain(SAME_CONTENT) {
            p.check(&["OBJECT", "ENCODING", key]);
            let (ours, real) = (dump(&mut p.ours, key), dump(&mut p.real, key));
            if SAME_PAYLOAD.contains(&key) {
                compare_payloads(p, &format!("DUMP {key}"), &ours, &real);
            }
            // Each server restores the other's payload; both then hold the original value.
            let copy = format!("{key}:copy");
            let (o, r) = (
                p.ours.cmd_bytes(&[b"RESTORE", copy.as_bytes(), b"0", &real]),
                p.real.cmd_bytes(&[b"RESTORE", copy.as_bytes(), b"0", &ours]),
            );
            p.compare(&format!("RESTORE {copy} (the other's payload)"), &o, &r);
            check_content(p, &copy);
            p.check(&["DEBUG", "DIGEST-VALUE", key, &copy]);
            if SAME_PAYLOAD.contains(&key) {
                let again = dump(&mut p.ours, &copy);
                compare_payloads(p, &format!("DUMP {copy}: real's payload restored and dumped by ours"), &again, &real);
            }
        }
        // rdbcompression no: long strings are written as they are.
        p.check(&["CONFIG", "SET", "rdbcompression", "no"]);
        p.check(&["DUMP", "str:raw-lzf"]);
        let (o, r) = (dump(&mut p.ours, "list:many-nodes"), dump(&mut p.real, "list:many-nodes"));
        compare_payloads(p, "DUMP list:many-nodes (rdbcompression no)", &o, &r);
        p.check(&["CONFIG", "SET", "rdbcompression", "yes"]);
        p.check(&["DUMP", "nosuch"]);
        p.check(&["DEBUG", "DIGEST"]);
    });
}

/// The encoding chosen on RESTORE follows the server's limits, not the payload's.
#[test]
fn restored_encodings_follow_the_limits() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        p.check(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        p.check(&["SADD", "s", "1", "2", "3"]);
        let payloads: Vec<(&str, Vec<u8>)> = ["h", "z", "s"].iter().map(|k| (*k, dump(&mut p.real, k))).collect();
        for (limit, value) in
            [("hash-max-listpack-entries", "2"), ("zset-max-listpack-entries", "2"), ("set-max-intset-entries", "2")]
        {
            p.check(&["CONFIG", "SET", limit, value]);
        }
        for (key, payload) in &payloads {
            let name = format!("{key}:small-limits");
            check_bytes(p, &[b"RESTORE", name.as_bytes(), b"0", payload]);
            check_content(p, &name);
        }
        for (limit, value) in [
            ("hash-max-listpack-entries", "128"),
            ("zset-max-listpack-entries", "128"),
            ("set-max-intset-entries", "512"),
        ] {
            p.check(&["CONFIG", "SET", limit, value]);
        }
    });
}

/// Payloads Redis 6.2 writes (RDB 9): ziplists for small hashes, zsets and lists' nodes.
#[test]
fn rdb_9_payloads_load() {
    // A ziplist: header (bytes, tail offset, count), entries (previous length, encoding, data),
    // end byte.
    fn ziplist(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = 10;
        for e in entries {
            tail = 10 + body.len();
            let start = body.len();
            body.push(prev as u8);
            match std::str::from_utf8(e).ok().and_then(|s| s.parse::<i64>().ok()).filter(|n| (0..=12).contains(n)) {
                Some(n) => body.push(0xF1 + n as u8),
                None => {
                    body.push(e.len() as u8);
                    body.extend_from_slice(e);
                }
            }
            prev = body.len() - start;
        }
        body.push(0xFF);
        let total = 10 + body.len();
        let mut zl = (total as u32).to_le_bytes().to_vec();
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend(body);
        zl
    }
    fn with_blob(value_type: u8, blob: &[u8], prefix: &[u8]) -> Vec<u8> {
        let mut body = vec![value_type];
        body.extend_from_slice(prefix);
        body.push(blob.len() as u8);
        body.extend_from_slice(blob);
        sealed(&body, 9)
    }
    let hash = with_blob(13, &ziplist(&[b"field", b"7", b"other", b"value"]), &[]);
    let zset = with_blob(12, &ziplist(&[b"a", b"1", b"b", b"2.5"]), &[]);
    // A quicklist (type 14) of one ziplist node.
    let list = with_blob(14, &ziplist(&[b"x", b"3", b"yy"]), &[1]);
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        for (key, payload) in [("hash", &hash), ("zset", &zset), ("list", &list)] {
            check_bytes(p, &[b"RESTORE", key.as_bytes(), b"0", payload]);
            check_content(p, key);
            p.check(&["DUMP", key]);
        }
    });
}

#[test]
fn errors_are_reals() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(&["SET", "k", "v"]);
        let good = dump(&mut p.real, "k");
        let g = good.as_slice();
        for args in [
            &[&b"RESTORE"[..], b"k", b"0", g][..],
            &[b"RESTORE", b"new", b"-1", g],
            &[b"RESTORE", b"new", b"abc", g],
            &[b"RESTORE", b"k", b"abc", g],
            &[b"RESTORE", b"new", b"0", b"garbage"],
            &[b"RESTORE", b"new", b"0", b""],
            &[b"RESTORE", b"new", b"0", &g[..g.len() - 1]],
            &[b"RESTORE", b"new", b"0", g, b"IDLETIME", b"-1"],
            &[b"RESTORE", b"new", b"0", g, b"IDLETIME", b"x"],
            &[b"RESTORE", b"new", b"0", g, b"IDLETIME"],
            &[b"RESTORE", b"new", b"0", g, b"FREQ", b"256"],
            &[b"RESTORE", b"new", b"0", g, b"FREQ", b"-1"],
            &[b"RESTORE", b"new", b"0", g, b"FREQ", b"1", b"IDLETIME", b"1"],
            &[b"RESTORE", b"new", b"0", g, b"IDLETIME", b"1", b"FREQ", b"1"],
            &[b"RESTORE", b"new", b"0", g, b"NOSUCH"],
            // Options are checked before the key and the TTL.
            &[b"RESTORE", b"k", b"-1", g, b"NOSUCH"],
            &[b"RESTORE", b"new", b"0"],
            &[b"RESTORE-ASKING", b"k", b"0", g],
            &[b"DUMP"],
            &[b"DUMP", b"a", b"b"],
        ] {
            check_bytes(p, args);
        }
        // Checksummed right but not a value Redis reads.
        let bad_bodies: &[&[u8]] = &[
            &[200, 1, b'x'],
            &[7, 1, b'x'],
            &[0, 10, b'x'],
            &[2, 0],
            &[2, 2, 1, b'a', 1, b'a'],
            &[11, 3, 1, 2, 3],
            &[],
        ];
        for body in bad_bodies {
            check_bytes(p, &[b"RESTORE", b"new", b"0", &sealed(body, 10)]);
        }
        // A newer RDB version is refused; an older one is read.
        check_bytes(p, &[b"RESTORE", b"new", b"0", &sealed(&[0, 1, b'x'], 11)]);
        check_bytes(p, &[b"RESTORE", b"old", b"0", &sealed(&[0, 1, b'x'], 6)]);
        p.check(&["GET", "old"]);
        p.check(&["EXISTS", "new"]);
    });
}

#[test]
fn ttl_replace_and_absttl() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(&["SET", "src", "value"]);
        let g = dump(&mut p.real, "src");
        let before = (dirty(&mut p.ours), dirty(&mut p.real));
        check_bytes(p, &[b"RESTORE", b"a", b"100000", &g]);
        p.check_timed(&["PTTL", "a"], take_time);
        check_bytes(p, &[b"RESTORE", b"a", b"0", &g, b"REPLACE"]);
        p.check(&["PTTL", "a"]);
        check_bytes(p, &[b"RESTORE", b"b", b"4102444800000", &g, b"ABSTTL"]);
        p.check(&["PEXPIRETIME", "b"]);
        // A time already past: nothing is created, and REPLACE deletes the old key.
        check_bytes(p, &[b"RESTORE", b"c", b"1000", &g, b"ABSTTL"]);
        p.check(&["EXISTS", "c"]);
        check_bytes(p, &[b"RESTORE", b"b", b"1000", &g, b"ABSTTL", b"REPLACE"]);
        p.check(&["EXISTS", "b"]);
        check_bytes(p, &[b"RESTORE-ASKING", b"d", b"0", &g]);
        p.check(&["GET", "d"]);
        let after = (dirty(&mut p.ours), dirty(&mut p.real));
        p.compare("dirty", (after.0 - before.0).to_string().as_bytes(), (after.1 - before.1).to_string().as_bytes());
    });
}

/// IDLETIME sets the LRU clock back, FREQ sets the LFU counter; each only under the policy
/// that keeps it.
#[test]
fn idletime_and_freq_follow_the_policy() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(&["SET", "src", "value"]);
        let g = dump(&mut p.real, "src");
        for policy in ["noeviction", "allkeys-lru", "allkeys-lfu", "volatile-lfu"] {
            p.check(&["CONFIG", "SET", "maxmemory-policy", policy]);
            check_bytes(p, &[b"RESTORE", b"idle", b"0", &g, b"IDLETIME", b"1000", b"REPLACE"]);
            check_bytes(p, &[b"RESTORE", b"freq", b"0", &g, b"FREQ", b"100", b"REPLACE"]);
            check_bytes(p, &[b"RESTORE", b"huge", b"0", &g, b"IDLETIME", b"100000000", b"REPLACE"]);
            for key in ["idle", "freq"] {
                p.check_timed(&["OBJECT", "IDLETIME", key], take_time);
                p.check(&["OBJECT", "FREQ", key]);
            }
        }
        p.check(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    });
}

#[test]
fn keyspace_events() {
    let duo = Duo::start(&["--notify-keyspace-events", "KEA"]);
    let mut p = duo.pair();
    let (mut sub_o, mut sub_r) = (duo.ours.client(), duo.real.client());
    for s in [&mut sub_o, &mut sub_r] {
        s.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    }
    p.check(&["SET", "src", "v"]);
    let g = dump(&mut p.real, "src");
    for args in [
        &[&b"RESTORE"[..], b"k", b"0", &g][..],
        &[b"RESTORE", b"k", b"0", &g, b"REPLACE"],
        &[b"RESTORE", b"k", b"1", &g, b"REPLACE", b"ABSTTL"],
        &[b"RESTORE", b"k", b"50000", &g],
    ] {
        check_bytes(&mut p, args);
    }
    for s in [&mut sub_o, &mut sub_r] {
        s.send_raw(&crate::common::encode(&[b"PING"]));
    }
    let (o, r) = (read_until_pong(&mut sub_o), read_until_pong(&mut sub_r));
    p.compare("keyspace events", &o, &r);
}

/// RESTORE with a relative TTL is replayed with the absolute time and ABSTTL; one whose time
/// has passed as the DEL of the key it replaced, or not at all.
#[test]
fn propagation() {
    use crate::differential_propagation::Differ;
    let payload = sealed(&[0, 5, b'h', b'e', b'l', b'l', b'o'], 10);
    let line = |words: &[&str]| -> Vec<Vec<u8>> {
        words.iter().map(|w| if *w == "<payload>" { payload.clone() } else { w.as_bytes().to_vec() }).collect()
    };
    let mut d = Differ::start(&[]);
    for words in [
        &["restore", "a", "0", "<payload>"][..],
        &["restore", "b", "100000", "<payload>"],
        &["restore", "b", "100000", "<payload>", "replace", "idletime", "10"],
        &["restore", "c", "4102444800000", "<payload>", "absttl"],
        &["restore", "a", "1000", "<payload>", "absttl", "replace"],
        &["restore", "never", "1000", "<payload>", "absttl"],
        &["restore", "c", "0", "<payload>"],
        &["restore-asking", "d", "5000", "<payload>"],
    ] {
        d.run_bytes(&line(words));
    }
    d.finish();
}

#[test]
fn command_metadata_is_reals() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        for name in ["dump", "restore", "restore-asking", "migrate"] {
            p.check(&["COMMAND", "INFO", name]);
            p.check(&["COMMAND", "DOCS", name]);
        }
        p.check(&["COMMAND", "GETKEYSANDFLAGS", "RESTORE", "k", "0", "x"]);
        p.check(&["COMMAND", "GETKEYSANDFLAGS", "DUMP", "k"]);
        p.check(&["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5"]);
        p.check(&["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "AUTH", "keys", "KEYS", "a", "b"]);
        p.check(&["COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "", "0", "5", "COPY", "KEYS", "a"]);
    });
}

/// A client blocked on the key is served by the RESTORE that creates it; a WATCH on it fails.
#[test]
fn restore_wakes_blocked_clients_and_touches_watches() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["RPUSH", "src", "a", "b"]);
    let payload = dump(&mut p.real, "src");
    let (mut blocked_o, mut blocked_r) = (duo.ours.client(), duo.real.client());
    for c in [&mut blocked_o, &mut blocked_r] {
        c.send_raw(&crate::common::encode(&[b"BLPOP", b"list", b"0"]));
    }
    wait_both("the BLPOP parked", &mut p, |c| {
        String::from_utf8_lossy(&c.cmd(&["INFO", "clients"])).contains("blocked_clients:1")
    });
    let (mut watcher_o, mut watcher_r) = (duo.ours.client(), duo.real.client());
    for c in [&mut watcher_o, &mut watcher_r] {
        assert_eq!(c.cmd(&["WATCH", "list"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["MULTI"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["PING"]), b"+QUEUED\r\n");
    }
    check_bytes(&mut p, &[b"RESTORE", b"list", b"0", &payload]);
    let (o, r) = (blocked_o.read_reply(), blocked_r.read_reply());
    p.compare("BLPOP served by RESTORE", &o, &r);
    let (o, r) = (watcher_o.cmd(&["EXEC"]), watcher_r.cmd(&["EXEC"]));
    p.compare("EXEC after RESTORE of a watched key", &o, &r);
    p.check(&["LRANGE", "list", "0", "-1"]);
}

/// Seeded random strings, compressible to various degrees: DUMP's LZF output is Redis's byte
/// for byte, as is the choice to compress at all.
#[test]
fn random_strings_compress_as_reals() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut rng = Rng(0x1905);
    for i in 0..300 {
        let len = 15 + rng.below(3000);
        let alphabet = 1 + rng.below(40) as u8;
        let mut value = String::with_capacity(len);
        while value.len() < len {
            let c = (b'a' + (rng.below(alphabet as usize) as u8) % 26) as char;
            let run = 1 + rng.below(12);
            value.extend(std::iter::repeat_n(c, run.min(len - value.len())));
        }
        let key = format!("s{i}");
        p.check(&["SET", &key, &value]);
        let (o, r) = (dump(&mut p.ours, &key), dump(&mut p.real, &key));
        compare_payloads(&mut p, &format!("DUMP of a random string of {len} bytes (alphabet {alphabet})"), &o, &r);
    }
}

/// Seeded random lists pushed at the tail, elements of every size class: the quicklist nodes
/// (where each one ends) and so the payloads are Redis's.
#[test]
fn random_lists_split_into_nodes_as_reals() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut rng = Rng(0x0719);
    // list-max-listpack-size: the default, each size class, counts (a list is filled with the
    // setting it was created under: each list here is created after its setting).
    let fills = ["-2", "-1", "-3", "-5", "5", "128", "1"];
    for i in 0..35 {
        p.check(&["CONFIG", "SET", "list-max-listpack-size", fills[i % fills.len()]]);
        let key = format!("l{i}");
        let count = 1 + rng.below(400);
        let mut cmd = vec!["RPUSH".to_string(), key.clone()];
        for j in 0..count {
            let len = match rng.below(10) {
                0 => rng.below(3000),
                1..=3 => rng.below(300),
                _ => rng.below(40),
            };
            // Numbers too: they are listpack integers.
            cmd.push(if rng.below(5) == 0 { (j as i64 * 7919 - 50_000).to_string() } else { "e".repeat(len) });
        }
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        p.check(&refs);
        let (o, r) = (dump(&mut p.ours, &key), dump(&mut p.real, &key));
        compare_payloads(&mut p, &format!("DUMP of random list {key} ({count} elements)"), &o, &r);
    }
}
