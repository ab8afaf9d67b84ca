//! Set behaviour a differential comparison cannot express: complete SSCAN iterations of a big set
//! (also while it changes), the distribution of SPOP and SRANDMEMBER, huge counts, and the exact
//! keyspace events each set command publishes.

use std::collections::HashMap;

use crate::common::{show_bytes, Client, Reply, Server};

/// The bulk strings of a (possibly nested) reply, in order.
fn bulks(reply: &[u8]) -> Vec<String> {
    fn go(r: &Reply, out: &mut Vec<String>) {
        match r {
            Reply::Bulk(b) => out.push(String::from_utf8_lossy(b).into_owned()),
            r if r.is_aggregate() => r.items().iter().for_each(|i| go(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    go(&Reply::parse(reply), &mut out);
    out
}

fn sadd_all(c: &mut Client, key: &str, members: &[String]) {
    for chunk in members.chunks(1000) {
        let mut args = vec!["SADD", key];
        args.extend(chunk.iter().map(String::as_str));
        c.cmd(&args);
    }
}

/// One SSCAN call: the next cursor and the members returned.
fn sscan(c: &mut Client, key: &str, cursor: &str, opts: &[&str]) -> (String, Vec<String>) {
    let mut args = vec!["SSCAN", key, cursor];
    args.extend_from_slice(opts);
    let reply = c.cmd(&args);
    let mut items = bulks(&reply);
    assert!(!items.is_empty(), "SSCAN reply: {}", show_bytes(&reply, 1000));
    let next = items.remove(0);
    (next, items)
}

#[test]
fn sscan_visits_every_member_of_a_big_set() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let members: Vec<String> = (0..50_000).map(|i| format!("member:{i}")).collect();
    sadd_all(&mut c, "big", &members);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "big"]), "$9\r\nhashtable\r\n");
    for opts in [&[][..], &["COUNT", "1000"], &["COUNT", "3"]] {
        let mut seen = std::collections::HashSet::new();
        let (mut cursor, mut calls) = ("0".to_string(), 0);
        loop {
            let (next, found) = sscan(&mut c, "big", &cursor, opts);
            seen.extend(found);
            calls += 1;
            cursor = next;
            if cursor == "0" {
                break;
            }
            assert!(calls < 100_000, "SSCAN {opts:?} does not end");
        }
        assert_eq!(seen.len(), members.len(), "SSCAN {opts:?} missed members");
        // Each call returns a batch, not the whole set.
        assert!(calls > 1, "SSCAN {opts:?} answered in one call");
    }
    // MATCH filters what a full iteration returns.
    let mut matched = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, found) = sscan(&mut c, "big", &cursor, &["MATCH", "member:4999*", "COUNT", "500"]);
        matched.extend(found);
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    matched.sort();
    let want: Vec<String> =
        ["member:4999".to_string()].into_iter().chain((0..10).map(|d| format!("member:4999{d}"))).collect();
    let mut want = want;
    want.sort();
    assert_eq!(matched, want);
}

#[test]
fn sscan_returns_members_present_throughout_while_the_set_changes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let members: Vec<String> = (0..5_000).map(|i| format!("m{i}")).collect();
    sadd_all(&mut c, "s", &members);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let (next, found) = sscan(&mut c, "s", &cursor, &["COUNT", "20"]);
        seen.extend(found);
        // Remove odd members (never checked below) and add new ones between calls.
        c.cmd(&["SREM", "s", &format!("m{}", 2 * round + 1)]);
        c.cmd(&["SADD", "s", &format!("new{round}")]);
        round += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    for i in (0..5_000).step_by(2) {
        assert!(seen.contains(&format!("m{i}")), "m{i} was present throughout but not returned");
    }
}

#[test]
fn sscan_of_an_intset_is_one_ordered_batch() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let ints: Vec<String> = (0..400).rev().map(|i| (i * 3 - 500).to_string()).collect();
    sadd_all(&mut c, "i", &ints);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "i"]), "$6\r\nintset\r\n");
    let (next, found) = sscan(&mut c, "i", "0", &["COUNT", "1"]);
    assert_eq!(next, "0");
    let want: Vec<String> = (0..400).map(|i| (i * 3 - 500).to_string()).collect();
    assert_eq!(found, want);
}

/// Counts how often each member comes out of `draws` calls.
fn tally(c: &mut Client, args: &[&str], draws: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..draws {
        for m in bulks(&c.cmd(args)) {
            *counts.entry(m).or_insert(0) += 1;
        }
    }
    counts
}

/// Every one of `n` members was drawn, each within a generous band around the mean (a gross bias
/// such as always favouring one end fails; chance alone practically never does).
fn assert_roughly_uniform(what: &str, counts: &HashMap<String, usize>, n: usize, total: usize) {
    assert_eq!(counts.len(), n, "{what}: members drawn {counts:?}");
    let mean = total as f64 / n as f64;
    for (m, &k) in counts {
        assert!(
            (k as f64) > mean * 0.6 && (k as f64) < mean * 1.4,
            "{what}: {m} drawn {k} times, mean {mean}: {counts:?}"
        );
    }
}

#[test]
fn spop_and_srandmember_draw_uniformly() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let strings: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let ints: Vec<String> = (0..10).map(|i| (i * 1000).to_string()).collect();
    for (key, members) in [("h", &strings), ("i", &ints)] {
        sadd_all(&mut c, key, members);
        // Repeats allowed: one call of 20000 draws.
        let counts = tally(&mut c, &["SRANDMEMBER", key, "-20000"], 1);
        assert_roughly_uniform(&format!("SRANDMEMBER {key} -20000"), &counts, 10, 20_000);
        // One at a time.
        let counts = tally(&mut c, &["SRANDMEMBER", key], 3000);
        assert_roughly_uniform(&format!("SRANDMEMBER {key}"), &counts, 10, 3000);
        // Distinct members: by elimination (count above a third of the set) and by sampling.
        for count in ["7", "2"] {
            let k: usize = count.parse().unwrap_or(0);
            let counts = tally(&mut c, &["SRANDMEMBER", key, count], 2000);
            assert_roughly_uniform(&format!("SRANDMEMBER {key} {count}"), &counts, 10, 2000 * k);
        }
        // SPOP, putting the member back each time.
        let mut counts = HashMap::new();
        for _ in 0..3000 {
            let popped = bulks(&c.cmd(&["SPOP", key]));
            assert_eq!(popped.len(), 1);
            c.cmd(&["SADD", key, &popped[0]]);
            *counts.entry(popped[0].clone()).or_insert(0) += 1;
        }
        assert_roughly_uniform(&format!("SPOP {key}"), &counts, 10, 3000);
        // SPOP with a count, in both of Redis's strategies (few popped, most popped).
        for count in ["2", "9"] {
            let k: usize = count.parse().unwrap_or(0);
            let mut counts = HashMap::new();
            for _ in 0..1500 {
                let popped = bulks(&c.cmd(&["SPOP", key, count]));
                let mut distinct = popped.clone();
                distinct.sort();
                distinct.dedup();
                assert_eq!(distinct.len(), k, "SPOP {key} {count}: {popped:?}");
                sadd_all(&mut c, key, &popped);
                for m in popped {
                    *counts.entry(m).or_insert(0) += 1;
                }
            }
            assert_roughly_uniform(&format!("SPOP {key} {count}"), &counts, 10, 1500 * k);
        }
        assert_eq!(c.cmd_str(&["SCARD", key]), ":10\r\n");
    }
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "i"]), "$6\r\nintset\r\n");
}

#[test]
fn huge_counts_are_clamped_to_the_set() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.cmd(&["SADD", "s", "a", "b", "c"]);
    let r = c.cmd(&["SRANDMEMBER", "s", "9223372036854775807"]);
    let mut got = bulks(&r);
    got.sort();
    assert_eq!(got, ["a", "b", "c"]);
    assert!(r.starts_with(b"*3\r\n"));
    let r = c.cmd(&["SPOP", "s", "9223372036854775807"]);
    assert!(r.starts_with(b"*3\r\n"), "{}", String::from_utf8_lossy(&r));
    assert_eq!(c.cmd_str(&["EXISTS", "s"]), ":0\r\n");
    // A negative count returns exactly that many draws, even from a single member.
    c.cmd(&["SADD", "one", "x"]);
    let r = c.cmd(&["SRANDMEMBER", "one", "-200000"]);
    assert!(r.starts_with(b"*200000\r\n"));
    assert_eq!(bulks(&r).len(), 200_000);
    assert!(bulks(&r).iter().all(|m| m == "x"));
    assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
}

/// Runs `cmd` and returns the keyspace and keyevent messages it published, in order, as
/// `event key` pairs (the keyevent channel names the event, its message the key).
fn events_of(c: &mut Client, sub: &mut Client, cmd: &[&str]) -> Vec<String> {
    c.cmd(cmd);
    c.cmd(&["PUBLISH", "marker", "end"]);
    let mut out = Vec::new();
    loop {
        let m = bulks(&sub.read_reply());
        if m.last().map(String::as_str) == Some("end") {
            return out;
        }
        // pmessage, pattern, channel, payload
        if let [_, _, chan, payload] = &m[..] {
            if let Some(event) = chan.strip_prefix("__keyevent@0__:") {
                out.push(format!("{event} {payload}"));
            }
        }
    }
}

#[test]
fn keyspace_events_of_every_command() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut sub = server.client();
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), "+OK\r\n");
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    sub.cmd(&["SUBSCRIBE", "marker"]);
    let mut ev = |cmd: &[&str]| events_of(&mut c, &mut sub, cmd);
    assert_eq!(ev(&["SADD", "s", "a", "b", "1"]), ["sadd s"]);
    assert!(ev(&["SADD", "s", "a"]).is_empty());
    assert!(ev(&["SREM", "s", "zz"]).is_empty());
    assert_eq!(ev(&["SREM", "s", "a"]), ["srem s"]);
    assert_eq!(ev(&["SMOVE", "s", "t", "b"]), ["srem s", "sadd t"]);
    assert!(ev(&["SMOVE", "s", "s", "1"]).is_empty());
    assert!(ev(&["SMOVE", "s", "t", "zz"]).is_empty());
    ev(&["SADD", "t", "1"]);
    assert_eq!(ev(&["SMOVE", "s", "t", "1"]), ["srem s", "del s"]);
    ev(&["SADD", "u", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    assert_eq!(ev(&["SPOP", "u"]), ["spop u"]);
    assert!(ev(&["SPOP", "u", "0"]).is_empty());
    assert!(ev(&["SPOP", "nokey", "3"]).is_empty());
    assert_eq!(ev(&["SPOP", "u", "2"]), ["spop u"]);
    assert_eq!(ev(&["SPOP", "u", "6"]), ["spop u"]);
    assert_eq!(ev(&["SPOP", "u", "5"]), ["spop u", "del u"]);
    ev(&["SADD", "v", "x"]);
    assert_eq!(ev(&["SPOP", "v"]), ["spop v", "del v"]);
    ev(&["SADD", "a", "1", "2", "3"]);
    ev(&["SADD", "b", "2", "3", "4"]);
    assert_eq!(ev(&["SINTERSTORE", "d", "a", "b"]), ["sinterstore d"]);
    assert_eq!(ev(&["SUNIONSTORE", "d", "a", "b"]), ["sunionstore d"]);
    assert_eq!(ev(&["SDIFFSTORE", "d", "a", "b"]), ["sdiffstore d"]);
    assert_eq!(ev(&["SDIFFSTORE", "d", "a", "a"]), ["del d"]);
    assert!(ev(&["SDIFFSTORE", "d", "a", "a"]).is_empty());
    assert!(ev(&["SINTERSTORE", "d", "a", "nokey"]).is_empty());
    assert!(ev(&["SUNIONSTORE", "d", "nokey"]).is_empty());
    ev(&["SADD", "d", "q"]);
    assert_eq!(ev(&["SINTERSTORE", "d", "a", "nokey"]), ["del d"]);
    assert_eq!(ev(&["SREM", "a", "1", "2", "3", "4"]), ["srem a", "del a"]);
    for read in [
        &["SISMEMBER", "b", "2"][..],
        &["SMISMEMBER", "b", "2"],
        &["SMEMBERS", "b"],
        &["SCARD", "b"],
        &["SRANDMEMBER", "b", "-3"],
        &["SINTER", "b", "b"],
        &["SUNION", "b"],
        &["SDIFF", "b"],
        &["SINTERCARD", "1", "b"],
        &["SSCAN", "b", "0"],
    ] {
        assert!(ev(read).is_empty(), "{read:?} published events");
    }
}

#[test]
fn copy_and_memory_usage_of_sets() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.cmd(&["SADD", "i", "3", "1", "2"]);
    c.cmd(&["SADD", "h", "a", "b", &"long-member-".repeat(10)]);
    for key in ["i", "h"] {
        let copy = format!("{key}-copy");
        assert_eq!(c.cmd_str(&["COPY", key, &copy]), ":1\r\n");
        assert_eq!(c.cmd(&["OBJECT", "ENCODING", key]), c.cmd(&["OBJECT", "ENCODING", &copy]));
        let mut a = bulks(&c.cmd(&["SMEMBERS", key]));
        let mut b = bulks(&c.cmd(&["SMEMBERS", &copy]));
        a.sort();
        b.sort();
        assert_eq!(a, b);
        // The copy is independent.
        c.cmd(&["SADD", &copy, "new"]);
        assert_eq!(c.cmd_str(&["SISMEMBER", key, "new"]), ":0\r\n");
    }
    let usage = |c: &mut Client, key: &str| -> i64 {
        match Reply::parse(&c.cmd(&["MEMORY", "USAGE", key])) {
            Reply::Int(n) => n,
            _ => -1,
        }
    };
    let small = usage(&mut c, "h");
    let members: Vec<String> = (0..2000).map(|i| format!("member:{i}")).collect();
    sadd_all(&mut c, "h", &members);
    let big = usage(&mut c, "h");
    assert!(small > 0 && big > small + 2000 * 24, "MEMORY USAGE grew from {small} to {big}");
}
