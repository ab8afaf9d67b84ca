//! Hash behaviour that a reply-by-reply comparison with real Redis cannot express: complete HSCAN
//! iterations of large hashes (also while the hash changes), keyspace notifications seen by a
//! subscriber, random picks covering every field, and the memory a hash reports.

use std::collections::{HashMap, HashSet};

use crate::common::{show_bytes, Reply};
use crate::common::{Client, Server};

fn bulk(v: &Reply) -> Vec<u8> {
    match v {
        Reply::Bulk(s) => s.clone(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

/// Fills `key` with `n` fields `field:<i>` → `value:<i>`, 1000 per HSET.
fn fill(c: &mut Client, key: &str, n: usize) {
    for start in (0..n).step_by(1000) {
        let mut args = vec!["HSET".to_string(), key.to_string()];
        for i in start..n.min(start + 1000) {
            args.push(format!("field:{i}"));
            args.push(format!("value:{i}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply = c.cmd(&args);
        assert!(reply.starts_with(b":"), "HSET: {}", show_bytes(&reply, usize::MAX));
    }
}

/// Field/value pairs as a reply lists them.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// One HSCAN call: the next cursor and the pairs returned.
fn hscan(c: &mut Client, key: &str, cursor: &str, opts: &[&str]) -> (String, Pairs) {
    let mut args = vec!["HSCAN", key, cursor];
    args.extend_from_slice(opts);
    let reply = c.cmd(&args);
    let Reply::Array(items) = Reply::parse(&reply) else { panic!("HSCAN: {}", show_bytes(&reply, usize::MAX)) };
    let next = String::from_utf8(bulk(&items[0])).expect("cursor text");
    let Reply::Array(found) = &items[1] else { panic!("HSCAN items: {}", show_bytes(&reply, usize::MAX)) };
    assert_eq!(found.len() % 2, 0, "HSCAN returns field/value pairs");
    (next, found.chunks(2).map(|p| (bulk(&p[0]), bulk(&p[1]))).collect())
}

/// A whole HSCAN iteration: every pair returned (with repeats) and the number of calls.
fn hscan_iteration(c: &mut Client, key: &str, opts: &[&str]) -> (Pairs, usize) {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    for calls in 1..1_000_000 {
        let (next, pairs) = hscan(c, key, &cursor, opts);
        all.extend(pairs);
        if next == "0" {
            return (all, calls);
        }
        cursor = next;
    }
    panic!("HSCAN of {key} never returned cursor 0");
}

fn expected_pairs(n: usize) -> HashMap<Vec<u8>, Vec<u8>> {
    (0..n).map(|i| (format!("field:{i}").into_bytes(), format!("value:{i}").into_bytes())).collect()
}

#[test]
fn hscan_of_a_big_hash_returns_every_field_with_its_value() {
    let server = Server::start(&[]);
    let mut c = server.client();
    fill(&mut c, "big", 20_000);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "big"]), "$9\r\nhashtable\r\n");
    let expected = expected_pairs(20_000);
    for count in ["10", "100", "1000", "50000"] {
        let (pairs, calls) = hscan_iteration(&mut c, "big", &["COUNT", count]);
        let seen: HashMap<Vec<u8>, Vec<u8>> = pairs.iter().cloned().collect();
        assert_eq!(seen, expected, "COUNT {count}");
        // Without changes to the hash nothing comes twice, and COUNT is honoured roughly.
        assert_eq!(pairs.len(), 20_000, "COUNT {count}");
        let count: usize = count.parse().unwrap();
        assert!(calls >= 20_000 / count.max(1), "COUNT {count}: {calls} calls");
    }
    // MATCH filters on the field and keeps its value.
    let (pairs, _) = hscan_iteration(&mut c, "big", &["MATCH", "field:1?", "COUNT", "500"]);
    let got: HashSet<Vec<u8>> = pairs.iter().map(|(f, _)| f.clone()).collect();
    let want: HashSet<Vec<u8>> = (10..20).map(|i| format!("field:{i}").into_bytes()).collect();
    assert_eq!(got, want);
    assert!(pairs.iter().all(|(f, v)| expected[f] == *v));
}

#[test]
fn hscan_returns_every_field_present_throughout_while_the_hash_changes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut w = server.client();
    fill(&mut c, "h", 5_000);
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut removed = HashSet::new();
    for round in 0.. {
        let (next, pairs) = hscan(&mut c, "h", &cursor, &["COUNT", "50"]);
        seen.extend(pairs.into_iter().map(|(f, _)| f));
        // Between calls: delete a few fields (never to be required) and add new ones.
        for i in 0..3 {
            let victim = format!("field:{}", (round * 37 + i * 1013) % 5_000);
            assert_eq!(w.cmd(&["HDEL", "h", &victim]).len(), 4);
            removed.insert(victim.into_bytes());
            w.cmd(&["HSET", "h", &format!("new:{round}:{i}"), "x"]);
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    for i in 0..5_000 {
        let f = format!("field:{i}").into_bytes();
        assert!(removed.contains(&f) || seen.contains(&f), "field:{i} was present throughout but not returned");
    }
}

#[test]
fn hscan_of_a_listpack_hash_returns_everything_at_once() {
    let server = Server::start(&[]);
    let mut c = server.client();
    fill(&mut c, "small", 300);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "small"]), "$8\r\nlistpack\r\n");
    // Any cursor, any COUNT: one reply with cursor 0, in insertion order.
    for cursor in ["0", "123", "18446744073709551615"] {
        let (next, pairs) = hscan(&mut c, "small", cursor, &["COUNT", "1"]);
        assert_eq!(next, "0");
        let fields: Vec<Vec<u8>> = pairs.into_iter().map(|(f, _)| f).collect();
        let want: Vec<Vec<u8>> = (0..300).map(|i| format!("field:{i}").into_bytes()).collect();
        assert_eq!(fields, want);
    }
}

/// A subscriber to every keyspace and keyevent channel of db 0 and the (channel, message) pairs it
/// receives until the `end` marker published by the test.
struct Subscriber(Client);

impl Subscriber {
    fn new(server: &Server) -> Subscriber {
        let mut c = server.client();
        let reply = c.cmd(&["PSUBSCRIBE", "__key*@0__:*"]);
        assert!(reply.starts_with(b"*3\r\n$10\r\npsubscribe"), "{}", show_bytes(&reply, usize::MAX));
        Subscriber(c)
    }

    fn events_until_end(&mut self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        loop {
            let reply = self.0.read_reply();
            let (Reply::Array(items) | Reply::Push(items)) = Reply::parse(&reply) else {
                panic!("message: {}", show_bytes(&reply, usize::MAX))
            };
            let text = |v: &Reply| String::from_utf8(bulk(v)).expect("utf-8");
            let (channel, message) = (text(&items[2]), text(&items[3]));
            if channel == "__keyevent@0__:end" {
                return out;
            }
            out.push((channel, message));
        }
    }
}

fn event(kind: &str, key: &str) -> [(String, String); 2] {
    [(format!("__keyspace@0__:{key}"), kind.to_string()), (format!("__keyevent@0__:{kind}"), key.to_string())]
}

#[test]
fn keyspace_notifications_of_every_write() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), b"+OK\r\n");
    let mut sub = Subscriber::new(&server);
    let script: &[&[&str]] = &[
        &["HSET", "h", "a", "1", "b", "2"],
        &["HSET", "h", "a", "1"],
        &["HMSET", "h", "c", "3"],
        &["HSETNX", "h", "a", "x"],
        &["HSETNX", "h", "d", "4"],
        &["HGET", "h", "a"],
        &["HGETALL", "h"],
        &["HINCRBY", "h", "n", "5"],
        &["HINCRBY", "h", "n", "x"],
        &["HINCRBY", "h", "b", "9223372036854775807"],
        &["HSET", "h", "s", "str"],
        &["HINCRBY", "h", "s", "1"],
        &["HINCRBYFLOAT", "h", "f", "1.5"],
        &["HINCRBYFLOAT", "h", "s", "1.5"],
        &["HINCRBYFLOAT", "h", "f", "inf"],
        &["HDEL", "h", "zz"],
        &["HDEL", "h", "a", "b"],
        &["HDEL", "nokey", "a"],
        &["HDEL", "h", "c", "d", "n", "s", "f", "a"],
        &["HSETNX", "h2", "a", "1"],
        &["HINCRBYFLOAT", "h3", "x", "2"],
    ];
    for args in script {
        c.cmd(args);
    }
    c.cmd(&["PUBLISH", "__keyevent@0__:end", "x"]);
    let mut expected = Vec::new();
    for (kind, key) in [
        ("hset", "h"),
        ("hset", "h"),
        ("hset", "h"),
        ("hset", "h"),
        ("hincrby", "h"),
        ("hset", "h"),
        ("hincrbyfloat", "h"),
        ("hdel", "h"),
        ("hdel", "h"),
        ("del", "h"),
        ("hset", "h2"),
        ("hincrbyfloat", "h3"),
    ] {
        expected.extend(event(kind, key));
    }
    assert_eq!(sub.events_until_end(), expected);
}

#[test]
fn notification_classes_are_respected() {
    let server = Server::start(&[]);
    let mut c = server.client();
    // Hash events only, keyspace channel only: no `del` (a generic event) when HDEL empties a key.
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Kh"]), b"+OK\r\n");
    let mut sub = Subscriber::new(&server);
    c.cmd(&["HSET", "h", "a", "1"]);
    c.cmd(&["HDEL", "h", "a"]);
    c.cmd(&["SET", "s", "1"]);
    c.cmd(&["PUBLISH", "__keyevent@0__:end", "x"]);
    let space = |kind: &str| ("__keyspace@0__:h".to_string(), kind.to_string());
    assert_eq!(sub.events_until_end(), vec![space("hset"), space("hdel")]);
    // Generic and keyevent only: the `del`, nothing of the hash class.
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Eg"]), b"+OK\r\n");
    c.cmd(&["HSET", "h", "a", "1"]);
    c.cmd(&["HDEL", "h", "a"]);
    c.cmd(&["PUBLISH", "__keyevent@0__:end", "x"]);
    assert_eq!(sub.events_until_end(), vec![("__keyevent@0__:del".to_string(), "h".to_string())]);
}

/// The fields in an HRANDFIELD reply without values.
fn random_fields(c: &mut Client, args: &[&str]) -> Vec<Vec<u8>> {
    let reply = c.cmd(args);
    let Reply::Array(items) = Reply::parse(&reply) else { panic!("HRANDFIELD: {}", show_bytes(&reply, usize::MAX)) };
    items.iter().map(bulk).collect()
}

#[test]
fn hrandfield_reaches_every_field_in_both_encodings() {
    let server = Server::start(&[]);
    let mut c = server.client();
    fill(&mut c, "small", 10);
    fill(&mut c, "big", 1_000);
    for (key, n) in [("small", 10), ("big", 1_000)] {
        let all: HashSet<Vec<u8>> = expected_pairs(n).into_keys().collect();
        // Repeats allowed: 20 draws per field leave one out with negligible probability.
        let drawn: HashSet<Vec<u8>> =
            random_fields(&mut c, &["HRANDFIELD", key, &format!("-{}", n * 20)]).into_iter().collect();
        assert_eq!(drawn, all, "{key}: negative count");
        // Distinct picks, many times over.
        let mut union = HashSet::new();
        for _ in 0..100 {
            let picked = random_fields(&mut c, &["HRANDFIELD", key, &(n / 2).to_string()]);
            let distinct: HashSet<Vec<u8>> = picked.iter().cloned().collect();
            assert_eq!(distinct.len(), n / 2, "{key}: positive count repeated a field");
            union.extend(distinct);
        }
        assert_eq!(union, all, "{key}: positive count");
        // A count far beyond the size is served from the hash itself.
        let everything = random_fields(&mut c, &["HRANDFIELD", key, "9223372036854775807"]);
        assert_eq!(everything.into_iter().collect::<HashSet<_>>(), all);
    }
}

#[test]
fn a_big_hash_shrinks_and_disappears_field_by_field() {
    let server = Server::start(&[]);
    let mut c = server.client();
    fill(&mut c, "h", 10_000);
    let usage = |c: &mut Client| -> i64 { Reply::parse(&c.cmd(&["MEMORY", "USAGE", "h"])).int() };
    let full = usage(&mut c);
    // At least the 32-byte slot of each field; no more than Redis's ~70 bytes a field plus slack.
    assert!((10_000 * 32..10_000 * 200).contains(&full), "MEMORY USAGE of 10000 fields: {full}");
    for start in (0..9_990).step_by(1000) {
        let mut args = vec!["HDEL".to_string(), "h".to_string()];
        args.extend((start..(start + 1000).min(9_990)).map(|i| format!("field:{i}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        c.cmd(&args);
    }
    assert_eq!(c.cmd(&["HLEN", "h"]), b":10\r\n");
    let small = usage(&mut c);
    assert!(small < full / 10, "memory is given back: {small} of {full}");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "h"]), b"$9\r\nhashtable\r\n");
    let left: HashSet<Vec<u8>> = random_fields(&mut c, &["HKEYS", "h"]).into_iter().collect();
    let want: HashSet<Vec<u8>> = (9_990..10_000).map(|i| format!("field:{i}").into_bytes()).collect();
    assert_eq!(left, want);
    for i in 9_990..10_000 {
        assert_eq!(c.cmd(&["HGET", "h", &format!("field:{i}")]), format!("$10\r\nvalue:{i}\r\n").as_bytes());
    }
    let mut args = vec!["HDEL".to_string(), "h".to_string()];
    args.extend((9_990..10_000).map(|i| format!("field:{i}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&args), b":10\r\n");
    assert_eq!(c.cmd(&["EXISTS", "h"]), b":0\r\n");
}
