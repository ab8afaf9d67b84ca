//! Differential tests against Debian's real Redis 7.0: the hash commands (HSET, HSETNX, HMSET, HGET,
//! HMGET, HGETALL, HKEYS, HVALS, HDEL, HEXISTS, HLEN, HSTRLEN, HINCRBY, HINCRBYFLOAT, HRANDFIELD,
//! HSCAN), their encodings, RESP2 and RESP3, and a long seeded random sequence. Replies are compared
//! byte for byte: listpack hashes have a defined order, hashtable ones are compared as sets of
//! pairs, and random replies by shape and membership.

use std::collections::{HashMap, HashSet};

use crate::common::Client;
use crate::common::{show_bytes, Reply};
use crate::differential_support::*;

fn hello3(p: &mut Pair) {
    p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
}

/// The counters a command may move: the dirty count (rdb_changes_since_last_save) and keyspace
/// hits and misses.
fn counters(c: &mut Client) -> [i64; 3] {
    let info = c.cmd_str(&["INFO", "persistence", "stats"]);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in INFO"))
    };
    [field("rdb_changes_since_last_save"), field("keyspace_hits"), field("keyspace_misses")]
}

const FAMILY: &[&str] = &[
    "hset",
    "hsetnx",
    "hmset",
    "hget",
    "hmget",
    "hgetall",
    "hkeys",
    "hvals",
    "hdel",
    "hexists",
    "hlen",
    "hstrlen",
    "hincrby",
    "hincrbyfloat",
    "hrandfield",
    "hscan",
];

/// Like `check`, and a hash command must move the dirty count and the keyspace hits and misses by
/// the same amounts on both servers (other commands' counters are their own tests' business).
fn check_c(p: &mut Pair, args: &[&str]) -> Vec<u8> {
    if !FAMILY.contains(&args[0].to_ascii_lowercase().as_str()) {
        return p.check(args);
    }
    let before = (counters(&mut p.ours), counters(&mut p.real));
    let r = p.check(args);
    let after = (counters(&mut p.ours), counters(&mut p.real));
    let delta = |a: [i64; 3], b: [i64; 3]| format!("{:?}", [a[0] - b[0], a[1] - b[1], a[2] - b[2]]);
    let (ours, real) = (delta(after.0, before.0), delta(after.1, before.1));
    p.compare(&format!("{args:?} (dirty, hits, misses)"), ours.as_bytes(), real.as_bytes());
    r
}

/// Sorts the field/value pairs of flat arrays (RESP2 HGETALL) and of maps, keeping each pair
/// together: for hashtable-encoded hashes, whose order is unspecified.
fn sort_pairs(b: &[u8]) -> Vec<u8> {
    let mut v = Reply::parse(b);
    match &mut v {
        Reply::Array(items) => {
            let mut pairs: Vec<Vec<Reply>> = items.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort();
            *items = pairs.concat();
        }
        Reply::Map(kv) => kv.sort(),
        _ => {}
    }
    v.encode()
}

/// The encoding of `key` on both servers, which must agree.
fn encoding(p: &mut Pair, key: &str) -> String {
    let r = p.check(&["OBJECT", "ENCODING", key]);
    match Reply::parse(&r) {
        Reply::Bulk(name) => String::from_utf8_lossy(&name).into_owned(),
        _ => String::new(),
    }
}

/// Compares a whole-hash reply (HGETALL, HKEYS, HVALS): exactly for a listpack, whose order is
/// Redis's, as a set otherwise.
fn check_whole(p: &mut Pair, args: &[&str]) {
    let key = args[1];
    let ordered = encoding(p, key) == "listpack";
    match (ordered, args[0].eq_ignore_ascii_case("hgetall")) {
        (true, _) => p.check(args),
        (false, true) => p.check_with(args, sort_pairs),
        (false, false) => p.check_sorted(args),
    };
}

/// Every field/value pair a full HSCAN iteration returns, sorted, deduplicated, as one RESP array.
fn hscan_all(c: &mut Client, key: &str, opts: &[&str]) -> Vec<u8> {
    let mut cursor = "0".to_string();
    let mut pairs: Vec<Vec<Reply>> = Vec::new();
    for _ in 0..100_000 {
        let mut args = vec!["HSCAN", key, cursor.as_str()];
        args.extend_from_slice(opts);
        let reply = c.cmd(&args);
        let Reply::Array(items) = Reply::parse(&reply) else {
            panic!("HSCAN reply {}", show_bytes(&reply, usize::MAX))
        };
        let Reply::Bulk(next) = &items[0] else { panic!("HSCAN cursor {}", show_bytes(&reply, usize::MAX)) };
        let Reply::Array(found) = &items[1] else { panic!("HSCAN items {}", show_bytes(&reply, usize::MAX)) };
        assert_eq!(found.len() % 2, 0, "HSCAN returns pairs: {}", show_bytes(&reply, usize::MAX));
        pairs.extend(found.chunks(2).map(|c| c.to_vec()));
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            pairs.sort();
            pairs.dedup();
            return Reply::Array(pairs.concat()).encode();
        }
    }
    panic!("HSCAN {key} {opts:?} did not terminate");
}

fn bulk_text(v: &Reply) -> Vec<u8> {
    match v {
        Reply::Bulk(s) => s.clone(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

/// The hash's content on the real server (both are compared elsewhere).
fn content(c: &mut Client, key: &str) -> HashMap<Vec<u8>, Vec<u8>> {
    let reply = c.cmd(&["HGETALL", key]);
    let items = Reply::parse(&reply).items();
    items.chunks(2).map(|c| (bulk_text(&c[0]), bulk_text(&c[1]))).collect()
}

/// Checks one HRANDFIELD-with-count reply against the hash's content: its length, its shape (flat
/// in RESP2, [field, value] pairs in RESP3 with WITHVALUES), that every field belongs to the hash
/// with its value, and that a positive count gives distinct fields. Returns a description of what
/// is wrong, or None.
fn randfield_problem(
    reply: &[u8],
    hash: &HashMap<Vec<u8>, Vec<u8>>,
    count: i64,
    with_values: bool,
    resp3: bool,
) -> Option<String> {
    let Reply::Array(items) = Reply::parse(reply) else { return Some("not an array".into()) };
    let picks = if count < 0 { count.unsigned_abs() as usize } else { (count as usize).min(hash.len()) };
    let mut pairs: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    if with_values && resp3 {
        for item in &items {
            let Reply::Array(pair) = item else { return Some(format!("not a pair: {item:?}")) };
            if pair.len() != 2 {
                return Some(format!("pair of {}", pair.len()));
            }
            pairs.push((bulk_text(&pair[0]), Some(bulk_text(&pair[1]))));
        }
    } else if with_values {
        pairs.extend(items.chunks(2).map(|c| (bulk_text(&c[0]), Some(bulk_text(&c[1])))));
    } else {
        pairs.extend(items.iter().map(|i| (bulk_text(i), None)));
    }
    if pairs.len() != picks {
        return Some(format!("{} picks, expected {picks}", pairs.len()));
    }
    for (f, v) in &pairs {
        match hash.get(f) {
            None => return Some(format!("{:?} is not a field", String::from_utf8_lossy(f))),
            Some(real) if v.as_ref().is_some_and(|v| v != real) => return Some("wrong value".into()),
            _ => {}
        }
    }
    let distinct: HashSet<&Vec<u8>> = pairs.iter().map(|(f, _)| f).collect();
    if count > 0 && distinct.len() != pairs.len() {
        return Some("repeated field with a positive count".into());
    }
    None
}

/// Sends an HRANDFIELD with a count to both and checks each reply by shape and membership; a
/// reply that is an error (or not random) must be identical.
fn check_randfield(p: &mut Pair, args: &[&str], resp3: bool) {
    let key = args[1];
    let count: i64 = args[2].parse().expect("numeric count");
    let with_values = args.len() == 4;
    let hash = content(&mut p.real, key);
    let (o, r) = p.both(args);
    let deterministic = count == 0 || hash.is_empty() || (count as usize >= hash.len() && count > 0);
    let listpack = encoding(p, key) == "listpack" || hash.is_empty();
    if deterministic && listpack {
        // All fields in listpack order, or an empty reply: byte for byte.
        p.compare(&format!("{args:?}"), &o, &r);
        return;
    }
    for (who, reply) in [("ours", &o), ("real", &r)] {
        if let Some(problem) = randfield_problem(reply, &hash, count, with_values, resp3) {
            p.compare(&format!("{args:?} ({who}): {problem}"), reply, b"a valid HRANDFIELD reply");
        }
    }
}

#[test]
fn hset_hmset_hsetnx() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["HSET", "h"]);
    check_c(&mut p, &["HSET", "h", "a"]);
    check_c(&mut p, &["HSET", "h", "a", "1", "b"]);
    check_c(&mut p, &["HMSET", "h", "a"]);
    check_c(&mut p, &["HMSET", "h", "a", "1", "b"]);
    check_c(&mut p, &["HSETNX", "h", "a"]);
    check_c(&mut p, &["EXISTS", "h"]);
    check_c(&mut p, &["HSET", "h", "a", "1", "b", "2", "a", "3"]);
    check_c(&mut p, &["HGETALL", "h"]);
    check_c(&mut p, &["HSET", "h", "b", "20", "c", "30"]);
    check_c(&mut p, &["HMSET", "h", "d", "4", "a", "1"]);
    check_c(&mut p, &["hmset", "h", "e", ""]);
    check_c(&mut p, &["HGETALL", "h"]);
    check_c(&mut p, &["HSETNX", "h", "a", "x"]);
    check_c(&mut p, &["HSETNX", "h", "f", "6"]);
    check_c(&mut p, &["HSETNX", "new", "f", "6"]);
    check_c(&mut p, &["HGETALL", "h"]);
    check_c(&mut p, &["HGETALL", "new"]);
    // Binary-safe fields and values, empty ones included.
    check_c(&mut p, &["HSET", "bin", "", "", "a\0b", "c\r\nd", "\u{ff}", "x"]);
    check_c(&mut p, &["HGETALL", "bin"]);
    check_c(&mut p, &["HGET", "bin", "a\0b"]);
    check_c(&mut p, &["HGET", "bin", "a"]);
    check_c(&mut p, &["SET", "s", "x"]);
    check_c(&mut p, &["HSET", "s", "a", "1"]);
    check_c(&mut p, &["HSET", "s", "a"]);
    check_c(&mut p, &["HMSET", "s", "a", "1"]);
    check_c(&mut p, &["HSETNX", "s", "a", "1"]);
    check_c(&mut p, &["GET", "s"]);
}

#[test]
fn reads_on_missing_wrong_type_and_present_keys() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["SET", "s", "x"]);
    check_c(&mut p, &["HSET", "h", "a", "1", "b", "hello", "c", ""]);
    for key in ["nokey", "s", "h"] {
        check_c(&mut p, &["HGET", key, "a"]);
        check_c(&mut p, &["HGET", key, "zz"]);
        check_c(&mut p, &["HMGET", key, "a", "zz", "b", "a"]);
        check_c(&mut p, &["HGETALL", key]);
        check_c(&mut p, &["HKEYS", key]);
        check_c(&mut p, &["HVALS", key]);
        check_c(&mut p, &["HLEN", key]);
        check_c(&mut p, &["HSTRLEN", key, "b"]);
        check_c(&mut p, &["HSTRLEN", key, "c"]);
        check_c(&mut p, &["HSTRLEN", key, "zz"]);
        check_c(&mut p, &["HEXISTS", key, "a"]);
        check_c(&mut p, &["HEXISTS", key, "zz"]);
    }
    for args in [
        &["HGET", "h"][..],
        &["HGET", "h", "a", "b"],
        &["HMGET", "h"],
        &["HGETALL"],
        &["HGETALL", "h", "x"],
        &["HKEYS"],
        &["HVALS", "h", "x"],
        &["HLEN"],
        &["HSTRLEN", "h"],
        &["HEXISTS", "h", "a", "b"],
        &["HDEL", "h"],
        &["HINCRBY", "h", "a"],
        &["HINCRBYFLOAT", "h", "a", "1", "2"],
        &["HRANDFIELD"],
        &["HSCAN", "h"],
    ] {
        check_c(&mut p, args);
    }
}

#[test]
fn hdel_removes_in_place_and_deletes_the_emptied_key() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["HDEL", "nokey", "a"]);
    check_c(&mut p, &["SET", "s", "x"]);
    check_c(&mut p, &["HDEL", "s", "a"]);
    check_c(&mut p, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"]);
    check_c(&mut p, &["HDEL", "h", "b", "zz", "b"]);
    check_c(&mut p, &["HGETALL", "h"]);
    // An updated field keeps its place; a re-added one goes last.
    check_c(&mut p, &["HSET", "h", "a", "10", "b", "20"]);
    check_c(&mut p, &["HGETALL", "h"]);
    check_c(&mut p, &["HDEL", "h", "a", "c", "d", "b", "a"]);
    check_c(&mut p, &["EXISTS", "h"]);
    check_c(&mut p, &["HSET", "h", "x", "1"]);
    check_c(&mut p, &["HDEL", "h", "x", "x"]);
    check_c(&mut p, &["TYPE", "h"]);
}

#[test]
fn hincrby_errors_and_overflow() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["SET", "s", "x"]);
    check_c(&mut p, &["HSET", "h", "str", "abc", "sp", " 1", "plus", "+1", "zero", "0", "lead", "01", "empty", ""]);
    for incr in ["1", "-1", "x", "1.5", "", " 1", "9223372036854775808", "-9223372036854775809"] {
        check_c(&mut p, &["HINCRBY", "h", "n", incr]);
    }
    // The increment is checked before the key's type.
    check_c(&mut p, &["HINCRBY", "s", "n", "x"]);
    check_c(&mut p, &["HINCRBY", "s", "n", "1"]);
    for field in ["str", "sp", "plus", "lead", "empty", "zero"] {
        check_c(&mut p, &["HINCRBY", "h", field, "5"]);
    }
    check_c(&mut p, &["HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808"]);
    check_c(&mut p, &["HINCRBY", "h", "max", "1"]);
    check_c(&mut p, &["HINCRBY", "h", "max", "0"]);
    check_c(&mut p, &["HINCRBY", "h", "max", "-9223372036854775808"]);
    check_c(&mut p, &["HINCRBY", "h", "min", "-1"]);
    check_c(&mut p, &["HINCRBY", "h", "min", "9223372036854775807"]);
    check_c(&mut p, &["HINCRBY", "h", "min", "-9223372036854775808"]);
    check_c(&mut p, &["HINCRBY", "new", "f", "-9223372036854775808"]);
    check_c(&mut p, &["HINCRBY", "new", "f", "-1"]);
    check_c(&mut p, &["HGETALL", "h"]);
    check_c(&mut p, &["HGETALL", "new"]);
    check_c(&mut p, &["HINCRBY", "fresh", "f", "x"]);
    check_c(&mut p, &["EXISTS", "fresh"]);
}

#[test]
fn hincrbyfloat_arithmetic_formatting_and_errors() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["SET", "s", "x"]);
    for incr in
        ["10.5", "5.0e3", "0.1", "0.2", "-0.3", "1e400", "-1e400", "1e-400", "3", ".5", "5.", "0x10", "1E2", "-0"]
    {
        check_c(&mut p, &["HINCRBYFLOAT", "h", "f", incr]);
    }
    for incr in
        ["1e5000", "-1e5000", "inf", "-inf", "+inf", "nan", "NaN", "abc", "", " 1", "1 ", "1e", "--1", "infinity"]
    {
        check_c(&mut p, &["HINCRBYFLOAT", "h", "g", incr]);
    }
    // NaN/Infinity and parse errors come before the key's type; then the stored value is checked.
    check_c(&mut p, &["HINCRBYFLOAT", "s", "f", "inf"]);
    check_c(&mut p, &["HINCRBYFLOAT", "s", "f", "x"]);
    check_c(&mut p, &["HINCRBYFLOAT", "s", "f", "1"]);
    check_c(&mut p, &["HSET", "h", "str", "abc", "int", "42", "sp", "1 ", "big", "1.1e4932"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "str", "1"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "sp", "1"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "int", "0.5"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "big", "1.1e4932"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "big", "-1.1e4932"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "tiny", "1e-20"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "tiny", "-2e-20"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "one", "0.1"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "one", "0.9"]);
    check_c(&mut p, &["HINCRBY", "h", "one", "1"]);
    check_c(&mut p, &["HINCRBYFLOAT", "fresh", "f", "inf"]);
    check_c(&mut p, &["EXISTS", "fresh"]);
    check_whole(&mut p, &["HGETALL", "h"]);
}

#[test]
fn hrandfield_forms_errors_and_shapes() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["SET", "s", "x"]);
    // Count and syntax errors come before the key lookup.
    for key in ["nokey", "s"] {
        check_c(&mut p, &["HRANDFIELD", key]);
        check_c(&mut p, &["HRANDFIELD", key, "0"]);
        check_c(&mut p, &["HRANDFIELD", key, "3"]);
        check_c(&mut p, &["HRANDFIELD", key, "-3", "WITHVALUES"]);
        check_c(&mut p, &["HRANDFIELD", key, "x"]);
        check_c(&mut p, &["HRANDFIELD", key, "1", "x"]);
        check_c(&mut p, &["HRANDFIELD", key, "1", "withvalues", "x"]);
        check_c(&mut p, &["HRANDFIELD", key, "-9223372036854775808"]);
        check_c(&mut p, &["HRANDFIELD", key, "9223372036854775808"]);
        check_c(&mut p, &["HRANDFIELD", key, "4611686018427387904", "WITHVALUES"]);
        check_c(&mut p, &["HRANDFIELD", key, "-4611686018427387904", "WITHVALUES"]);
    }
    check_c(&mut p, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]);
    check_c(&mut p, &["HRANDFIELD", "h", "0"]);
    check_c(&mut p, &["HRANDFIELD", "h", "0", "withvalues"]);
    check_c(&mut p, &["HRANDFIELD", "h", "5"]);
    check_c(&mut p, &["HRANDFIELD", "h", "100", "WITHVALUES"]);
    check_c(&mut p, &["HRANDFIELD", "h", "9223372036854775807"]);
    check_c(&mut p, &["HRANDFIELD", "h", "4611686018427387903", "WithValues"]);
    let (o, r) = p.both(&["HRANDFIELD", "h"]);
    for reply in [o, r] {
        assert!(["a", "b", "c", "d", "e"].iter().any(|f| reply == format!("${}\r\n{f}\r\n", f.len()).as_bytes()));
    }
    for resp3 in [false, true] {
        if resp3 {
            hello3(&mut p);
        }
        for count in ["1", "2", "4", "5", "6", "-1", "-3", "-20"] {
            check_randfield(&mut p, &["HRANDFIELD", "h", count], resp3);
            check_randfield(&mut p, &["HRANDFIELD", "h", count, "WITHVALUES"], resp3);
        }
        check_c(&mut p, &["HRANDFIELD", "nokey"]);
        check_c(&mut p, &["HRANDFIELD", "nokey", "5", "WITHVALUES"]);
        check_c(&mut p, &["HRANDFIELD", "h", "5", "WITHVALUES"]);
    }
}

#[test]
fn hrandfield_on_a_hashtable() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut args = vec!["HSET".to_string(), "h".to_string()];
    for i in 0..700 {
        args.push(format!("field:{i}"));
        args.push(format!("v{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    p.check(&args);
    assert_eq!(encoding(&mut p, "h"), "hashtable");
    for resp3 in [false, true] {
        if resp3 {
            hello3(&mut p);
        }
        // Distinct picks by sampling (few) and by elimination (most), repeats, all.
        for count in ["1", "10", "300", "699", "700", "1000", "-5", "-2000"] {
            check_randfield(&mut p, &["HRANDFIELD", "h", count], resp3);
            check_randfield(&mut p, &["HRANDFIELD", "h", count, "WITHVALUES"], resp3);
        }
        p.check_sorted(&["HRANDFIELD", "h", "700"]);
    }
}

#[test]
fn hscan_cursor_options_and_errors() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["SET", "s", "x"]);
    check_c(&mut p, &["HSCAN", "nokey", "0"]);
    check_c(&mut p, &["HSCAN", "nokey", "x"]);
    // A missing key answers before the options are parsed.
    check_c(&mut p, &["HSCAN", "nokey", "0", "COUNT", "0"]);
    check_c(&mut p, &["HSCAN", "nokey", "0", "bogus"]);
    check_c(&mut p, &["HSCAN", "s", "0"]);
    check_c(&mut p, &["HSCAN", "s", "x"]);
    check_c(&mut p, &["HSET", "h", "a1", "1", "b1", "2", "a2", "3", "c", "4"]);
    for args in [
        &["HSCAN", "h", "0"][..],
        &["HSCAN", "h", "7"],
        &["HSCAN", "h", "-1"],
        &["HSCAN", "h", "18446744073709551615"],
        &["HSCAN", "h", "18446744073709551616"],
        &["HSCAN", "h", "1x"],
        &["HSCAN", "h", ""],
        &["HSCAN", "h", "0", "MATCH", "a*"],
        &["HSCAN", "h", "0", "match", "*"],
        &["HSCAN", "h", "0", "MATCH", "nothing*"],
        &["HSCAN", "h", "0", "COUNT", "1"],
        &["HSCAN", "h", "0", "COUNT", "1", "MATCH", "?1"],
        &["HSCAN", "h", "0", "COUNT", "0"],
        &["HSCAN", "h", "0", "COUNT", "-1"],
        &["HSCAN", "h", "0", "COUNT", "x"],
        &["HSCAN", "h", "0", "COUNT"],
        &["HSCAN", "h", "0", "MATCH"],
        &["HSCAN", "h", "0", "TYPE", "hash"],
        &["HSCAN", "h", "0", "NOVALUES"],
    ] {
        check_c(&mut p, args);
    }
    // A hashtable: full iterations agree as sets, with and without MATCH.
    for i in 0..600 {
        check_c(&mut p, &["HSET", "big", &format!("f{i}"), &i.to_string()]);
    }
    for opts in [&[][..], &["COUNT", "7"], &["MATCH", "f1*", "COUNT", "50"], &["COUNT", "1000"]] {
        let (o, r) = (hscan_all(&mut p.ours, "big", opts), hscan_all(&mut p.real, "big", opts));
        p.compare(&format!("full HSCAN of big with {opts:?}"), &o, &r);
    }
    check_c(&mut p, &["HSCAN", "big", "0", "COUNT", "x"]);
}

#[test]
fn encoding_conversion_at_the_thresholds() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_c(&mut p, &["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
    check_c(&mut p, &["CONFIG", "SET", "hash-max-listpack-value", "8"]);
    // By count: 4 fields stay listpack, a 5th converts; updates and deletes do not convert back.
    check_c(&mut p, &["HSET", "n", "a", "1", "b", "2", "c", "3", "d", "4"]);
    encoding(&mut p, "n");
    check_c(&mut p, &["HSET", "n", "a", "10"]);
    encoding(&mut p, "n");
    check_c(&mut p, &["HSETNX", "n", "e", "5"]);
    encoding(&mut p, "n");
    check_c(&mut p, &["HDEL", "n", "a", "b", "c", "d"]);
    encoding(&mut p, "n");
    // By length: 8 bytes fit, 9 do not, for fields and values, new or existing.
    for (key, args) in [
        ("v1", &["HSET", "v1", "f", "12345678"][..]),
        ("v2", &["HSET", "v2", "f", "123456789"]),
        ("v3", &["HSET", "v3", "123456789", "v"]),
        ("v4", &["HMSET", "v4", "f", "1", "g", "123456789"]),
        ("v5", &["HSETNX", "v5", "f", "123456789"]),
        ("v6", &["HINCRBY", "v6", "field-long", "1"]),
        ("v7", &["HINCRBYFLOAT", "v7", "f", "1.0625"]),
        ("v8", &["HINCRBYFLOAT", "v8", "f", "1.5"]),
        ("v9", &["HINCRBY", "v9", "f", "123456789"]),
        ("v10", &["HINCRBYFLOAT", "v10", "f", "1.00390625"]),
    ] {
        check_c(&mut p, args);
        check_whole(&mut p, &["HGETALL", key]);
    }
    // An existing field rewritten with a long value converts too; HSETNX that finds the field
    // writes nothing and so converts nothing, however long its value.
    check_c(&mut p, &["HSET", "w", "f", "1", "g", "2"]);
    check_c(&mut p, &["HSET", "w", "f", "123456789"]);
    encoding(&mut p, "w");
    check_c(&mut p, &["HSET", "x", "f", "1"]);
    check_c(&mut p, &["HSETNX", "x", "f", "123456789"]);
    encoding(&mut p, "x");
    // HSET converts on any long argument before writing, even for a field it then overwrites.
    check_c(&mut p, &["HSET", "y", "a", "1", "b", "2"]);
    check_c(&mut p, &["HSET", "y", "a", "123456789", "a", "1"]);
    encoding(&mut p, "y");
    // Zero limits: every hash is a hashtable; zero-length strings still fit a zero value limit.
    check_c(&mut p, &["CONFIG", "SET", "hash-max-listpack-entries", "0"]);
    check_c(&mut p, &["HSET", "z", "a", "1"]);
    encoding(&mut p, "z");
    check_c(&mut p, &["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
    check_c(&mut p, &["CONFIG", "SET", "hash-max-listpack-value", "0"]);
    check_c(&mut p, &["HSET", "e", "", ""]);
    encoding(&mut p, "e");
    check_c(&mut p, &["HSET", "e", "", "x"]);
    encoding(&mut p, "e");
    // Long strings in a listpack (a high value limit): order and in-place updates that grow and
    // shrink a value.
    check_c(&mut p, &["CONFIG", "SET", "hash-max-listpack-value", "1000"]);
    let (long, longer) = ("x".repeat(300), "y".repeat(900));
    check_c(&mut p, &["HSET", "lp", "a", &long, &longer, "2", "c", "3"]);
    check_c(&mut p, &["HSET", "lp", "c", &longer, "a", "1"]);
    check_c(&mut p, &["HDEL", "lp", &longer]);
    check_c(&mut p, &["HSET", "lp", &long, &long]);
    encoding(&mut p, "lp");
    check_c(&mut p, &["HGETALL", "lp"]);
    check_c(&mut p, &["HSCAN", "lp", "0"]);
    // The old ziplist names set the same limits.
    check_c(&mut p, &["CONFIG", "SET", "hash-max-ziplist-entries", "2"]);
    check_c(&mut p, &["CONFIG", "SET", "hash-max-ziplist-value", "64"]);
    check_c(&mut p, &["HSET", "zl", "a", "1", "b", "2"]);
    encoding(&mut p, "zl");
    check_c(&mut p, &["HSET", "zl", "c", "3"]);
    encoding(&mut p, "zl");
}

#[test]
fn resp3_reply_types() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    hello3(&mut p);
    check_c(&mut p, &["SET", "s", "x"]);
    check_c(&mut p, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    for key in ["h", "nokey", "s"] {
        check_c(&mut p, &["HGETALL", key]);
        check_c(&mut p, &["HKEYS", key]);
        check_c(&mut p, &["HVALS", key]);
        check_c(&mut p, &["HGET", key, "a"]);
        check_c(&mut p, &["HGET", key, "zz"]);
        check_c(&mut p, &["HMGET", key, "a", "zz"]);
        check_c(&mut p, &["HEXISTS", key, "a"]);
        check_c(&mut p, &["HLEN", key]);
        check_c(&mut p, &["HSTRLEN", key, "a"]);
        check_c(&mut p, &["HSCAN", key, "0"]);
        check_c(&mut p, &["HRANDFIELD", key, "0"]);
        check_c(&mut p, &["HRANDFIELD", key, "3", "WITHVALUES"]);
        check_c(&mut p, &["HRANDFIELD", key, "10"]);
    }
    check_c(&mut p, &["HINCRBY", "h", "a", "5"]);
    check_c(&mut p, &["HINCRBYFLOAT", "h", "a", "0.5"]);
    check_c(&mut p, &["HSETNX", "h", "a", "x"]);
    check_c(&mut p, &["HMSET", "h", "d", "4"]);
    check_c(&mut p, &["HDEL", "h", "a", "zz"]);
    check_c(&mut p, &["HGETALL", "h"]);
}

#[test]
fn transactions_and_watch() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut other = duo.pair_named("other client");
    p.check(&["HSET", "h", "a", "1"]);
    p.check(&["WATCH", "h"]);
    other.check(&["HSET", "h", "a", "1"]);
    p.check(&["MULTI"]);
    p.check(&["HGET", "h", "a"]);
    p.check(&["EXEC"]);
    p.check(&["WATCH", "h"]);
    // Failed and no-op writes do not touch the key for WATCH.
    other.check(&["HDEL", "h", "zz"]);
    other.check(&["HSETNX", "h", "a", "2"]);
    other.check(&["HINCRBY", "h", "a", "x"]);
    p.check(&["MULTI"]);
    p.check(&["HSET", "h", "b", "2"]);
    p.check(&["HINCRBY", "h", "b", "x"]);
    p.check(&["HINCRBYFLOAT", "h", "b", "1.5"]);
    p.check(&["HGETALL", "h"]);
    p.check(&["EXEC"]);
}

/// A tiny deterministic generator (xorshift64*), so a failing sequence can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn random_field(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => format!("long-field-name-{}", rng.below(4)),
        1 => String::new(),
        _ => format!("f{}", rng.below(24)),
    }
}

fn random_value(rng: &mut Rng) -> String {
    match rng.below(9) {
        8 => "z".repeat(rng.below(250) as usize),
        0 => rng.pick(&["", "abc", " 1", "1.5", "-0", "01", "+3"]).to_string(),
        1 => format!("a-rather-long-value-{}", rng.below(100)),
        2 => format!("{}", (rng.next() as i64) >> rng.below(64)),
        3 => format!("{}.{}", rng.below(1000), rng.below(100)),
        _ => format!("{}", rng.below(200) as i64 - 100),
    }
}

/// One random command over a few keys, checked against real Redis.
fn random_step(p: &mut Pair, rng: &mut Rng, resp3: bool) {
    let key = rng.pick(&["h0", "h1", "h2", "h3", "s"]).to_string();
    let mut args: Vec<String> = Vec::new();
    let op = rng.below(100);
    let push = |args: &mut Vec<String>, s: &str| args.push(s.to_string());
    match op {
        0..=24 => {
            push(&mut args, if rng.below(5) == 0 { "HMSET" } else { "HSET" });
            push(&mut args, &key);
            for _ in 0..1 + rng.below(3) {
                args.push(random_field(rng));
                args.push(random_value(rng));
            }
        }
        25..=29 => args.extend(["HSETNX".into(), key.clone(), random_field(rng), random_value(rng)]),
        30..=41 => {
            push(&mut args, "HDEL");
            push(&mut args, &key);
            for _ in 0..1 + rng.below(3) {
                args.push(random_field(rng));
            }
        }
        42..=47 => args.extend(["HGET".into(), key.clone(), random_field(rng)]),
        48..=50 => args.extend(["HMGET".into(), key.clone(), random_field(rng), random_field(rng)]),
        51..=53 => args.extend(["HEXISTS".into(), key.clone(), random_field(rng)]),
        54..=55 => args.extend(["HLEN".into(), key.clone()]),
        56..=57 => args.extend(["HSTRLEN".into(), key.clone(), random_field(rng)]),
        58..=66 => {
            let incr = match rng.below(6) {
                0 => "9223372036854775807".to_string(),
                1 => "-9223372036854775808".to_string(),
                2 => "x".to_string(),
                _ => (rng.below(2000) as i64 - 1000).to_string(),
            };
            args.extend(["HINCRBY".into(), key.clone(), random_field(rng), incr]);
        }
        67..=74 => {
            let incr = match rng.below(6) {
                0 => format!("{}e{}", rng.below(9) + 1, rng.below(30)),
                1 => format!("-{}.{}", rng.below(50), rng.below(1000)),
                2 => rng.pick(&["inf", "1e5000", "x", "0.1", "-0.1", "1e-7"]).to_string(),
                _ => format!("{}.{}", rng.below(100), rng.below(100)),
            };
            args.extend(["HINCRBYFLOAT".into(), key.clone(), random_field(rng), incr]);
        }
        75..=80 => {
            let cmd = rng.pick(&["HGETALL", "HKEYS", "HVALS"]);
            return check_whole(p, &[cmd, &key]);
        }
        81..=83 => {
            let (o, r) = p.both(&["TYPE", &key]);
            p.compare(&format!("TYPE {key}"), &o, &r);
            if r != b"+hash\r\n" {
                check_c(p, &["HSCAN", &key, "0"]);
                return;
            }
            let full = hscan_all(&mut p.real, &key, &[]);
            let ours = hscan_all(&mut p.ours, &key, &[]);
            p.compare(&format!("full HSCAN of {key}"), &ours, &full);
            if encoding(p, &key) == "listpack" {
                p.check(&["HSCAN", &key, "0", "MATCH", "f1*"]);
            }
            return;
        }
        84..=89 => {
            let count = match rng.below(4) {
                0 => "0".to_string(),
                1 => format!("-{}", rng.below(40) + 1),
                _ => (rng.below(40) + 1).to_string(),
            };
            let mut a = vec!["HRANDFIELD", &key, &count];
            if rng.below(2) == 0 {
                a.push("WITHVALUES");
            }
            if p.real.cmd(&["TYPE", &key]) != b"+hash\r\n" {
                p.check(&a);
            } else {
                check_randfield(p, &a, resp3);
            }
            return;
        }
        90..=91 => args.extend(["DEL".into(), key.clone()]),
        92..=94 => args.extend(["OBJECT".into(), "ENCODING".into(), key.clone()]),
        _ => args.extend(["EXISTS".into(), key.clone()]),
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    check_c(p, &args);
}

/// Runs `steps` random commands with the given hash-max-listpack-entries and -value.
fn random_sequence(seed: u64, steps: usize, resp3: bool, (entries, value): (&str, &str)) {
    let duo = Duo::start(&[]);
    let mut p = duo.pair_named(&format!("seed {seed}"));
    if resp3 {
        hello3(&mut p);
    }
    // Limits small enough that both encodings and the conversions are exercised.
    p.check(&["CONFIG", "SET", "hash-max-listpack-entries", entries]);
    p.check(&["CONFIG", "SET", "hash-max-listpack-value", value]);
    p.check(&["SET", "s", "string"]);
    let mut rng = Rng(seed);
    for step in 0..steps {
        random_step(&mut p, &mut rng, resp3);
        if !p.mismatches.is_empty() {
            panic!("diverged at step {step}:\n{}", p.mismatches.join("\n"));
        }
    }
    for key in ["h0", "h1", "h2", "h3"] {
        check_whole(&mut p, &["HGETALL", key]);
    }
}

#[test]
fn random_sequence_resp2_matches_real_redis() {
    random_sequence(0x5eed_0001, 8000, false, ("16", "20"));
}

#[test]
fn random_sequence_resp3_matches_real_redis() {
    random_sequence(0x5eed_0002, 5000, true, ("16", "20"));
}

#[test]
fn random_sequence_with_long_listpack_strings_matches_real_redis() {
    random_sequence(0x5eed_0003, 5000, false, ("64", "200"));
}

#[test]
fn hrandfield_huge_negative_count_stops_at_the_output_limit() {
    let duo = Duo::start(&[]);
    let mut setup = duo.pair_named("setup");
    setup.check(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0"]);
    setup.check(&["HSET", "h", "a", "1", "b", "2"]);
    // Both servers stop drawing once the reply is past the hard limit and drop the client, instead
    // of building a reply of 10^18 picks.
    let mut p = duo.pair_named("greedy client");
    p.send_cmds(&[&["HRANDFIELD", "h", "-1000000000000000000", "WITHVALUES"]]);
    for (who, c) in [("ours", &mut p.ours), ("real", &mut p.real)] {
        assert!(c.try_read_reply().is_err(), "{who} completed a reply of 10^18 picks");
        assert!(c.closed(), "{who} keeps the client");
    }
    setup.check(&["PING"]);
    setup.check(&["HLEN", "h"]);
}
