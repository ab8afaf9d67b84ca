//! Differential tests against Debian's real Redis 7.0: the keyspace commands (DEL, EXISTS, TYPE,
//! KEYS, SCAN, RANDOMKEY, RENAME, MOVE, COPY, SWAPDB, FLUSH*, TOUCH, OBJECT, the EXPIRE family), in
//! RESP2 and RESP3. Replies are compared byte for byte; replies in hash order are sorted first.

use crate::common::Client;
use crate::common::{show_bytes, Reply};
use crate::differential_support::*;

/// Runs a full SCAN iteration with the given options and returns every key seen, sorted, as a RESP
/// array (so both servers' iterations can be compared whatever their cursors).
fn scan_all(c: &mut Client, opts: &[&str]) -> Vec<u8> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    for _ in 0..10_000 {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(opts);
        let reply = c.cmd(&args);
        let Reply::Array(items) = Reply::parse(&reply) else { panic!("SCAN reply {}", show_bytes(&reply, usize::MAX)) };
        let Reply::Bulk(next) = &items[0] else { panic!("SCAN cursor {}", show_bytes(&reply, usize::MAX)) };
        let Reply::Array(found) = &items[1] else { panic!("SCAN keys {}", show_bytes(&reply, usize::MAX)) };
        keys.extend(found.iter().cloned());
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            keys.sort();
            keys.dedup();
            return Reply::Array(keys).encode();
        }
    }
    panic!("SCAN {opts:?} did not terminate");
}

#[test]
fn del_exists_type_touch_randomkey() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["RANDOMKEY"]);
    p.check(&["DEL", "a"]);
    p.check(&["EXISTS", "a"]);
    p.check(&["TYPE", "a"]);
    p.check(&["TOUCH", "a", "b"]);
    p.check(&["SET", "a", "1"]);
    p.check(&["SET", "b", "hello"]);
    let (o, r) = p.both(&["RANDOMKEY"]);
    for b in [o, r] {
        assert!(b == b"$1\r\na\r\n" || b == b"$1\r\nb\r\n", "RANDOMKEY: {}", show_bytes(&b, usize::MAX));
    }
    p.check(&["EXISTS", "a", "a", "b", "c"]);
    p.check(&["TYPE", "a"]);
    p.check(&["type", "b"]);
    p.check(&["TOUCH", "a", "b", "c", "a"]);
    p.check(&["DEL", "a", "b", "c", "a"]);
    p.check(&["EXISTS", "a", "b"]);
    p.check(&["SET", "u1", "x"]);
    p.check(&["SET", "u2", "y"]);
    p.check(&["UNLINK", "u1", "u2", "u3"]);
    p.check(&["UNLINK", "u1"]);
    p.check(&["SET", "only", "x"]);
    p.check(&["RANDOMKEY"]);
    p.check(&["DBSIZE"]);
    // Keys are binary-safe.
    p.check(&["SET", "bin\0key", "v"]);
    p.check(&["EXISTS", "bin\0key"]);
    p.check(&["DEL", "bin\0key", "only"]);
    p.check(&["RANDOMKEY"]);
    p.check(&["DBSIZE"]);
}

#[test]
fn keys_glob_patterns() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["KEYS", "*"]);
    for k in [
        "foo",
        "fob",
        "foo:1",
        "foo:2:bar",
        "f*o",
        "f?o",
        "hello",
        "hallo",
        "hxllo",
        "hllo",
        "heeello",
        "[x]",
        "x",
        "a\\b",
        "ab",
        "a",
        "-",
        "^",
        "]",
        "h[a]llo",
        "HELLO",
        "\u{e9}t\u{e9}",
    ] {
        p.check(&["SET", k, "v"]);
    }
    for pat in [
        "*",
        "f*",
        "f?o",
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[!e]llo",
        "h[a-e]llo",
        "h[e-a]llo",
        "h[a-]llo",
        "h[]llo",
        "h[",
        "[",
        "]",
        "\\",
        "*\\*",
        "f\\*o",
        "f\\?o",
        "\\[x\\]",
        "[[]x[]]",
        "*:*",
        "*:*:*",
        "",
        "??",
        "?",
        "*o*o*",
        "a\\\\b",
        "a\\b",
        "[a-b]",
        "[\\]]",
        "[\\-]",
        "[-]",
        "[^a-z]",
        "*LLO",
        "\u{e9}*",
        "***",
        "*?*?*?*?*",
        "h[a-z",
        "[a",
        "x[",
    ] {
        p.check_sorted(&["KEYS", pat]);
    }
    p.check(&["KEYS"]);
    p.check(&["KEYS", "a", "b"]);
}

#[test]
fn scan_options_and_errors() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    // Cursor syntax, on an empty database (where any valid cursor ends the iteration).
    for cur in ["0", "", "+0", "-0", "-1", "18446744073709551615", "007"] {
        p.check(&["SCAN", cur]);
    }
    for cur in ["abc", " 0", "0 ", "18446744073709551616", "1.5", "-", "+", "0x1", "-18446744073709551616"] {
        p.check(&["SCAN", cur]);
    }
    for i in 0..60 {
        p.check(&["SET", &format!("key:{i}"), "v"]);
        p.check(&["SET", &format!("other:{i}"), &i.to_string()]);
    }
    p.check(&["SET", "name", "x"]);
    // Whole iterations, compared as sets.
    for opts in [
        &[][..],
        &["COUNT", "1"],
        &["COUNT", "3"],
        &["COUNT", "1000"],
        &["MATCH", "key:*"],
        &["MATCH", "*:1?"],
        &["match", "nomatch*"],
        &["MATCH", "key:1*", "COUNT", "5"],
        &["TYPE", "string"],
        &["TYPE", "STRING"],
        &["TYPE", "list"],
        &["TYPE", "foo"],
        &["TYPE", "string", "MATCH", "other:*"],
        &["MATCH", "a", "MATCH", "key:5*"],
        &["COUNT", "2", "COUNT", "7"],
    ] {
        let (o, r) = (scan_all(&mut p.ours, opts), scan_all(&mut p.real, opts));
        p.compare(&format!("full SCAN iteration with {opts:?}"), &o, &r);
    }
    // A COUNT larger than the database returns everything at once, with cursor 0.
    p.check_sorted(&["SCAN", "0", "COUNT", "10000"]);
    p.check_sorted(&["SCAN", "0", "COUNT", "10000", "MATCH", "key:4*"]);
    // Errors.
    for args in [
        &["SCAN", "0", "COUNT", "0"][..],
        &["SCAN", "0", "COUNT", "-1"],
        &["SCAN", "0", "COUNT", "abc"],
        &["SCAN", "0", "COUNT"],
        &["SCAN", "0", "MATCH"],
        &["SCAN", "0", "TYPE"],
        &["SCAN", "0", "FOO", "bar"],
        &["SCAN", "0", "COUNT", "10", "MATCH"],
        &["SCAN", "abc", "COUNT", "0"],
        &["SCAN", "0", "COUNT", "0", "FOO"],
        &["SCAN", "0", "COUNT", "9223372036854775808"],
        &["SCAN"],
    ] {
        p.check(args);
    }
}

#[test]
fn rename_and_renamenx() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["RENAME", "missing", "x"]);
    p.check(&["RENAMENX", "missing", "x"]);
    p.check(&["RENAME", "missing", "missing"]);
    p.check(&["RENAMENX", "missing", "missing"]);
    p.check(&["SET", "a", "1"]);
    p.check(&["RENAME", "a", "a"]);
    p.check(&["RENAMENX", "a", "a"]);
    p.check(&["GET", "a"]);
    p.check(&["RENAME", "a", "b"]);
    p.check(&["EXISTS", "a", "b"]);
    p.check(&["SET", "c", "3"]);
    p.check(&["RENAMENX", "b", "c"]);
    p.check(&["RENAMENX", "b", "d"]);
    p.check(&["GET", "d"]);
    p.check(&["RENAME", "d", "c"]);
    p.check(&["GET", "c"]);
    // The TTL travels with the value; renaming over a volatile key drops the old TTL.
    p.check(&["SET", "v", "x", "EX", "100"]);
    p.check(&["RENAME", "v", "w"]);
    p.check(&["TTL", "w"]);
    p.check(&["SET", "plain", "y"]);
    p.check(&["RENAME", "plain", "w"]);
    p.check(&["TTL", "w"]);
    p.check(&["SET", "v2", "x", "EX", "100"]);
    p.check(&["RENAMENX", "v2", "fresh"]);
    p.check(&["TTL", "fresh"]);
}

#[test]
fn move_copy_select_swapdb() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["SET", "a", "1"]);
    for args in [
        &["MOVE", "a", "0"][..],
        &["MOVE", "missing", "0"],
        &["MOVE", "a", "16"],
        &["MOVE", "missing", "16"],
        &["MOVE", "a", "-1"],
        &["MOVE", "a", "abc"],
        &["MOVE", "a", "1.0"],
        &["MOVE", "a", "99999999999"],
        &["MOVE", "a", ""],
        &["MOVE", "missing", "1"],
    ] {
        p.check(args);
    }
    p.check(&["SET", "t", "x", "EX", "100"]);
    p.check(&["MOVE", "t", "1"]);
    p.check(&["MOVE", "a", "1"]);
    p.check(&["MOVE", "a", "1"]);
    p.check(&["SET", "a", "again"]);
    p.check(&["MOVE", "a", "1"]);
    p.check(&["SELECT", "1"]);
    p.check(&["GET", "a"]);
    p.check(&["TTL", "t"]);
    p.check(&["SELECT", "0"]);
    // COPY.
    p.check(&["COPY", "missing", "x"]);
    p.check(&["COPY", "a", "a"]);
    p.check(&["COPY", "missing", "missing"]);
    p.check(&["COPY", "a", "b"]);
    p.check(&["GET", "b"]);
    p.check(&["SET", "b", "other"]);
    p.check(&["COPY", "a", "b"]);
    p.check(&["COPY", "a", "b", "REPLACE"]);
    p.check(&["GET", "b"]);
    p.check(&["COPY", "a", "a", "DB", "0"]);
    p.check(&["COPY", "a", "a", "DB", "2"]);
    p.check(&["COPY", "a", "a", "DB", "2"]);
    p.check(&["COPY", "a", "a", "db", "2", "replace"]);
    for args in [
        &["COPY", "a", "b", "DB", "16"][..],
        &["COPY", "a", "b", "DB", "-1"],
        &["COPY", "a", "b", "DB", "abc"],
        &["COPY", "a", "b", "DB", "99999999999"],
        &["COPY", "a", "b", "DB"],
        &["COPY", "a", "b", "FOO"],
        &["COPY", "a", "b", "REPLACE", "FOO"],
        &["COPY", "a", "b", "REPLACE", "REPLACE"],
        &["COPY", "a", "b", "DB", "1", "DB", "0"],
        &["COPY", "missing", "b", "DB", "16"],
        &["COPY", "missing", "missing", "DB", "0", "FOO"],
        &["COPY", "a"],
    ] {
        p.check(args);
    }
    p.check(&["SET", "vol", "x", "EX", "100"]);
    p.check(&["COPY", "vol", "vol2"]);
    p.check(&["TTL", "vol2"]);
    p.check(&["OBJECT", "ENCODING", "vol2"]);
    p.check(&["SET", "n", "12345"]);
    p.check(&["COPY", "n", "n2"]);
    p.check(&["OBJECT", "ENCODING", "n2"]);
    p.check(&["SELECT", "2"]);
    p.check(&["GET", "a"]);
    p.check(&["SELECT", "0"]);
    // SWAPDB.
    for args in [
        &["SWAPDB", "0", "16"][..],
        &["SWAPDB", "16", "0"],
        &["SWAPDB", "-1", "0"],
        &["SWAPDB", "a", "1"],
        &["SWAPDB", "0", "b"],
        &["SWAPDB", "a", "b"],
        &["SWAPDB", "99999999999", "0"],
        &["SWAPDB", "0", "99999999999"],
        &["SWAPDB", "1.5", "0"],
        &["SWAPDB", "0"],
    ] {
        p.check(args);
    }
    p.check(&["DBSIZE"]);
    p.check(&["SWAPDB", "0", "0"]);
    p.check(&["SWAPDB", "0", "2"]);
    p.check(&["DBSIZE"]);
    p.check(&["GET", "a"]);
    p.check(&["SELECT", "2"]);
    p.check(&["DBSIZE"]);
}

#[test]
fn flushdb_flushall() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for args in [
        &["FLUSHDB", "foo"][..],
        &["FLUSHDB", "ASYNC", "SYNC"],
        &["FLUSHDB", "async", "x"],
        &["FLUSHALL", "foo"],
        &["FLUSHALL", "SYNC", "x"],
        &["FLUSHALL", ""],
    ] {
        p.check(args);
    }
    for (i, mode) in ["", "ASYNC", "sync", "async", "SYNC"].iter().enumerate() {
        p.check(&["SET", &format!("k{i}"), "v"]);
        p.check(&["SELECT", "1"]);
        p.check(&["SET", "other", "v"]);
        p.check(&["SELECT", "0"]);
        let mut args = vec!["FLUSHDB"];
        if !mode.is_empty() {
            args.push(mode);
        }
        p.check(&args);
        p.check(&["DBSIZE"]);
        p.check(&["SELECT", "1"]);
        p.check(&["DBSIZE"]);
        args[0] = "FLUSHALL";
        p.check(&args);
        p.check(&["DBSIZE"]);
        p.check(&["SELECT", "0"]);
    }
}

#[test]
fn object_subcommands() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let long = "x".repeat(45);
    let edge = "y".repeat(44);
    for (k, v) in [
        ("int", "123"),
        ("neg", "-5"),
        ("big", "99999"),
        ("maxint", "9223372036854775807"),
        ("overflow", "9223372036854775808"),
        ("zero", "0"),
        ("minus0", "-0"),
        ("padded", " 1"),
        ("plus", "+1"),
        ("lead0", "01"),
        ("emb", "hello"),
        ("edge", edge.as_str()),
        ("raw", long.as_str()),
        ("empty", ""),
        ("float", "1.5"),
    ] {
        p.check(&["SET", k, v]);
        p.check(&["OBJECT", "ENCODING", k]);
        p.check(&["OBJECT", "REFCOUNT", k]);
        // The LRU clock ticks in whole seconds, so a second boundary may pass on one server only.
        p.check_with(&["OBJECT", "IDLETIME", k], |r| if r == b":1\r\n" { b":0\r\n".to_vec() } else { r.to_vec() });
    }
    p.check(&["APPEND", "emb", "!"]);
    p.check(&["OBJECT", "ENCODING", "emb"]);
    p.check(&["INCR", "int"]);
    p.check(&["OBJECT", "ENCODING", "int"]);
    p.check(&["OBJECT", "REFCOUNT", "int"]);
    for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
        p.check(&["OBJECT", sub, "missing"]);
        p.check(&["OBJECT", sub]);
        p.check(&["OBJECT", sub, "a", "b"]);
    }
    p.check(&["OBJECT", "FREQ", "emb"]);
    p.check(&["OBJECT", "HELP"]);
    p.check(&["object", "help"]);
    p.check(&["OBJECT", "HELP", "x"]);
    p.check(&["OBJECT", "nosuch", "emb"]);
    p.check(&["OBJECT"]);
}

#[test]
fn object_freq_under_lfu() {
    let duo = Duo::start(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut p = duo.pair();
    p.check(&["SET", "k", "v"]);
    // New keys start at LFU_INIT_VAL (5); the first access increments deterministically.
    p.check(&["OBJECT", "FREQ", "k"]);
    p.check(&["GET", "k"]);
    p.check(&["OBJECT", "FREQ", "k"]);
    p.check(&["OBJECT", "IDLETIME", "k"]);
    p.check(&["OBJECT", "FREQ", "missing"]);
    p.check(&["SET", "n", "7"]);
    // No shared integers once maxmemory-policy is LFU.
    p.check(&["OBJECT", "REFCOUNT", "n"]);
    p.check(&["OBJECT", "ENCODING", "n"]);
}

#[test]
fn expire_family_options_and_errors() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        p.check(&[cmd, "missing", "100"]);
        p.check(&[cmd, "missing", "abc"]);
        p.check(&[cmd, "missing", "100", "NX"]);
        p.check(&[cmd, "missing", "100", "FOO"]);
        p.check(&[cmd, "missing", "abc", "NX", "XX"]);
        p.check(&[cmd, "missing", "abc", "FOO"]);
        p.check(&[cmd, "missing", "9223372036854775807"]);
        p.check(&[cmd, "missing", "-9223372036854775808"]);
        p.check(&[cmd, "missing", "9223372036854775808"]);
        p.check(&[cmd, "missing", "1.5"]);
        p.check(&[cmd, "missing", ""]);
        for opts in [
            &["NX", "XX"][..],
            &["NX", "GT"],
            &["NX", "LT"],
            &["XX", "NX"],
            &["GT", "LT"],
            &["LT", "GT"],
            &["nx", "gt", "lt"],
            &["GT", "LT", "NX"],
            &["XX", "GT", "FOO"],
            &["FOO", "NX", "XX"],
            &["NX", "NX"],
            &["xx", "Gt"],
            &[""],
        ] {
            let mut args = vec![cmd, "k", "100"];
            args.extend_from_slice(opts);
            p.check(&args);
            p.check(&["SET", "k", "v"]);
            p.check(&args);
            p.check(&["DEL", "k"]);
        }
    }
    // Overflow checks happen before the key lookup; the key exists here.
    p.check(&["SET", "k", "v"]);
    p.check(&["EXPIRE", "k", "9223372036854775807"]);
    p.check(&["EXPIRE", "k", "9223372036854775"]);
    p.check(&["EXPIRE", "k", "-9223372036854775808"]);
    p.check(&["PEXPIRE", "k", "9223372036854775807"]);
    p.check(&["EXPIREAT", "k", "9223372036854775807"]);
    p.check(&["EXPIREAT", "k", "9223372036854775"]);
    p.check(&["EXPIRETIME", "k"]);
    p.check(&["PEXPIREAT", "k", "9223372036854775807"]);
    p.check(&["PEXPIRETIME", "k"]);
    p.check(&["EXPIRETIME", "k"]);
    p.check(&["PERSIST", "k"]);
    p.check(&["PERSIST", "k"]);
    p.check(&["PERSIST", "missing"]);
    p.check(&["TTL", "k"]);
    p.check(&["PTTL", "k"]);
    p.check(&["EXPIRETIME", "k"]);
    p.check(&["PEXPIRETIME", "k"]);
    p.check(&["TTL", "missing"]);
    p.check(&["PTTL", "missing"]);
    p.check(&["EXPIRETIME", "missing"]);
    p.check(&["PEXPIRETIME", "missing"]);
}

#[test]
fn expire_family_semantics() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["SET", "k", "v"]);
    // Without a TTL: NX sets, XX and GT refuse, LT sets (no TTL counts as infinite).
    p.check(&["EXPIRE", "k", "100", "XX"]);
    p.check(&["EXPIRE", "k", "100", "GT"]);
    p.check(&["TTL", "k"]);
    p.check(&["EXPIRE", "k", "100", "NX"]);
    p.check(&["TTL", "k"]);
    p.check(&["EXPIRE", "k", "200", "NX"]);
    p.check(&["EXPIRE", "k", "200", "XX"]);
    p.check(&["TTL", "k"]);
    p.check(&["EXPIRE", "k", "50", "GT"]);
    p.check(&["EXPIRE", "k", "199", "GT"]);
    p.check(&["EXPIRE", "k", "300", "GT"]);
    p.check(&["TTL", "k"]);
    p.check(&["EXPIRE", "k", "400", "LT"]);
    p.check(&["EXPIRE", "k", "300", "LT"]);
    p.check(&["EXPIRE", "k", "10", "LT"]);
    p.check(&["TTL", "k"]);
    p.check(&["EXPIRE", "k", "20", "XX", "GT"]);
    p.check(&["EXPIRE", "k", "5", "XX", "GT"]);
    p.check(&["TTL", "k"]);
    p.check(&["PERSIST", "k"]);
    p.check(&["EXPIRE", "k", "100", "LT"]);
    p.check(&["TTL", "k"]);
    p.check(&["PERSIST", "k"]);
    // Absolute times.
    p.check(&["EXPIREAT", "k", "4000000000"]);
    p.check(&["EXPIRETIME", "k"]);
    p.check(&["PEXPIRETIME", "k"]);
    p.check(&["PEXPIREAT", "k", "4000000000999"]);
    p.check(&["EXPIRETIME", "k"]);
    p.check(&["PEXPIRETIME", "k"]);
    p.check(&["EXPIREAT", "k", "4000000000", "GT"]);
    p.check(&["EXPIREAT", "k", "4000000001", "GT"]);
    p.check(&["PEXPIREAT", "k", "4000000001000", "LT"]);
    p.check(&["PEXPIRETIME", "k"]);
    // PTTL counts down in milliseconds: compare its shape and range.
    p.check(&["PEXPIRE", "k", "100000"]);
    let (o, r) = p.both(&["PTTL", "k"]);
    for (who, b) in [("ours", &o), ("real", &r)] {
        let n = match Reply::parse(b) {
            Reply::Int(n) => n,
            _ => -100,
        };
        assert!((99_000..=100_000).contains(&n), "PTTL on {who}: {}", show_bytes(b, usize::MAX));
    }
    p.check(&["TTL", "k"]);
    p.check(&["EXPIRE", "k", "100"]);
    p.check(&["TTL", "k"]);
    // A time in the past deletes the key and answers 1; a later EXPIRE finds nothing.
    for (cmd, t) in [("EXPIRE", "0"), ("EXPIRE", "-1"), ("PEXPIRE", "-1000"), ("EXPIREAT", "1"), ("PEXPIREAT", "0")] {
        p.check(&["SET", "gone", "v"]);
        p.check(&[cmd, "gone", t]);
        p.check(&["EXISTS", "gone"]);
        p.check(&[cmd, "gone", t]);
    }
    p.check(&["SET", "gone", "v", "EX", "100"]);
    p.check(&["EXPIRE", "gone", "-1", "LT"]);
    p.check(&["EXISTS", "gone"]);
    p.check(&["SET", "gone", "v", "EX", "100"]);
    p.check(&["EXPIRE", "gone", "-1", "GT"]);
    p.check(&["EXISTS", "gone"]);
    // SET without KEEPTTL clears the TTL; overwriting via other commands keeps it.
    p.check(&["SET", "s", "1", "EX", "100"]);
    p.check(&["INCR", "s"]);
    p.check(&["TTL", "s"]);
    p.check(&["APPEND", "s", "0"]);
    p.check(&["TTL", "s"]);
    p.check(&["SET", "s", "x"]);
    p.check(&["TTL", "s"]);
}

#[test]
fn resp3_replies_of_keyspace_commands() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
    p.check(&["RANDOMKEY"]);
    p.check(&["KEYS", "*"]);
    p.check(&["SCAN", "0"]);
    p.check(&["OBJECT", "ENCODING", "missing"]);
    p.check(&["OBJECT", "REFCOUNT", "missing"]);
    p.check(&["OBJECT", "IDLETIME", "missing"]);
    p.check(&["OBJECT", "FREQ", "missing"]);
    p.check(&["TYPE", "missing"]);
    p.check(&["SET", "k", "v"]);
    p.check(&["SET", "n", "1"]);
    let (o, r) = p.both(&["RANDOMKEY"]);
    for b in [o, r] {
        assert!(b == b"$1\r\nk\r\n" || b == b"$1\r\nn\r\n", "RANDOMKEY: {}", show_bytes(&b, usize::MAX));
    }
    p.check_sorted(&["KEYS", "*"]);
    p.check_sorted(&["SCAN", "0"]);
    p.check_sorted(&["SCAN", "0", "MATCH", "k", "TYPE", "string"]);
    p.check(&["TYPE", "k"]);
    p.check(&["EXISTS", "k", "n"]);
    p.check(&["OBJECT", "ENCODING", "n"]);
    p.check(&["OBJECT", "HELP"]);
    p.check(&["EXPIRE", "k", "100", "NX", "XX"]);
    p.check(&["EXPIREAT", "k", "4000000000"]);
    p.check(&["EXPIRETIME", "k"]);
    p.check(&["TTL", "n"]);
    p.check(&["RENAME", "missing", "x"]);
    p.check(&["RENAMENX", "k", "n"]);
    p.check(&["COPY", "k", "k2"]);
    p.check(&["MOVE", "k2", "1"]);
    p.check(&["SWAPDB", "0", "1"]);
    p.check(&["DBSIZE"]);
    p.check(&["FLUSHALL"]);
    p.check(&["RANDOMKEY"]);
}
