//! Differential tests against Debian's real Redis 7.0: the set commands (SADD, SREM, SISMEMBER,
//! SMISMEMBER, SMEMBERS, SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER/SUNION/SDIFF and their STORE forms,
//! SINTERCARD, SSCAN) in RESP2 and RESP3, with encodings (OBJECT ENCODING), dirty counts (INFO's
//! rdb_changes_since_last_save) and keyspace notifications. Replies are compared byte for byte;
//! where Redis's order is its hash table's, as sets; random replies by shape and membership.

use crate::common::Client;
use crate::common::{show_bytes, Reply};
use crate::differential_support::*;

/// A scenario runs once per protocol on a fresh database of one pair of servers.
fn in_both_protocols(scenario: fn(&mut Pair)) {
    let duo = Duo::start(&[]);
    for resp3 in [false, true] {
        let mut p = duo.pair_named(if resp3 { "RESP3" } else { "RESP2" });
        p.check(&["FLUSHALL"]);
        p.check(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
        if resp3 {
            p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
        }
        scenario(&mut p);
    }
}

/// The counters a command moves: dirty (INFO's rdb_changes_since_last_save), keyspace hits and
/// misses.
fn counters(c: &mut Client) -> [i64; 3] {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "all"])).into_owned();
    let field = |name: &str| -> i64 {
        let line = info.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')));
        line.unwrap_or_else(|| panic!("{name} in INFO")).trim().parse().expect("a number")
    };
    [field("rdb_changes_since_last_save"), field("keyspace_hits"), field("keyspace_misses")]
}

/// Runs `args` through `check` and requires the same changes of the dirty counter on both, and of
/// the hit and miss counters for the set commands (other families are tested elsewhere).
fn check_dirty(p: &mut Pair, args: &[&str], check: fn(&mut Pair, &[&str]) -> Vec<u8>) -> Vec<u8> {
    let before = (counters(&mut p.ours), counters(&mut p.real));
    let r = check(p, args);
    let after = (counters(&mut p.ours), counters(&mut p.real));
    let set_command = args[0].starts_with('S') && args[0] != "SET";
    let delta = |a: [i64; 3], b: [i64; 3]| match set_command {
        true => format!("dirty +{} hits +{} misses +{}", a[0] - b[0], a[1] - b[1], a[2] - b[2]),
        false => format!("dirty +{}", a[0] - b[0]),
    };
    let (o, real) = (delta(after.0, before.0), delta(after.1, before.1));
    p.compare(&format!("counters after {args:?}"), o.as_bytes(), real.as_bytes());
    r
}

/// `check` with the counters compared too.
fn c(p: &mut Pair, args: &[&str]) -> Vec<u8> {
    check_dirty(p, args, |p, a| p.check(a))
}

/// `check_sorted` (hash-table order) with the counters compared too.
fn cs(p: &mut Pair, args: &[&str]) -> Vec<u8> {
    check_dirty(p, args, |p, a| p.check_sorted(a))
}

/// The members of an aggregate reply (or the single bulk of a bulk reply).
fn elements(reply: &[u8]) -> Vec<Vec<u8>> {
    match Reply::parse(reply) {
        r if r.is_aggregate() => r
            .items()
            .into_iter()
            .map(|v| match v {
                Reply::Bulk(b) => b,
                other => panic!("not a bulk element: {other:?} in {}", show_bytes(reply, usize::MAX)),
            })
            .collect(),
        Reply::Bulk(b) => vec![b],
        _ => Vec::new(),
    }
}

/// For replies in hash order unless Redis iterated an intset: the members as a set, and whether
/// they came in ascending numeric order (meaningful with enough members).
fn sorted_with_order_flag(b: &[u8]) -> Vec<u8> {
    let els = elements(b);
    let nums: Option<Vec<i64>> = els.iter().map(|e| std::str::from_utf8(e).ok()?.parse().ok()).collect();
    let ascending = nums.is_some_and(|n| n.windows(2).all(|w| w[0] < w[1]));
    let mut out = sort_all(b);
    out.extend_from_slice(if ascending { b" (ascending)" } else { b" (unordered)" });
    out
}

/// The real server's members of `key`, sorted.
fn real_members(p: &mut Pair, key: &str) -> Vec<Vec<u8>> {
    let mut m = elements(&p.real.cmd(&["SMEMBERS", key]));
    m.sort();
    m
}

/// The reply's type byte and length (aggregates) or type byte (others).
fn shape(reply: &[u8]) -> String {
    let r = Reply::parse(reply);
    let t = r.encode()[0] as char;
    match &r {
        r if r.is_aggregate() => format!("{t}{}", r.items().len()),
        Reply::Bulk(_) => format!("{t}<member>"),
        other => format!("{other:?}"),
    }
}

/// Runs a command whose reply is random on both: same shape, every element drawn from `universe`,
/// and distinct when `distinct`. Returns (ours, real) elements.
fn check_random(p: &mut Pair, args: &[&str], universe: &[Vec<u8>], distinct: bool) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (o, r) = p.both(args);
    p.compare(&format!("shape of {args:?}"), shape(&o).as_bytes(), shape(&r).as_bytes());
    let mut out = Vec::new();
    for (who, reply) in [("ours", &o), ("real", &r)] {
        let els = elements(reply);
        for e in &els {
            assert!(universe.contains(e), "{who}: {args:?} returned {:?}, not a member", String::from_utf8_lossy(e));
        }
        if distinct {
            let mut d = els.clone();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), els.len(), "{who}: {args:?} repeated a member: {}", show_bytes(reply, usize::MAX));
        }
        out.push(els);
    }
    let real = out.pop().unwrap_or_default();
    (out.pop().unwrap_or_default(), real)
}

fn strs(v: &[Vec<u8>]) -> Vec<String> {
    v.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
}

#[test]
fn add_remove_membership_and_cardinality() {
    in_both_protocols(|p| {
        c(p, &["SADD", "s", "a", "b", "c", "a"]);
        c(p, &["SADD", "s", "a"]);
        c(p, &["SCARD", "s"]);
        c(p, &["SCARD", "nokey"]);
        c(p, &["SISMEMBER", "s", "a"]);
        c(p, &["SISMEMBER", "s", "z"]);
        c(p, &["SISMEMBER", "nokey", "a"]);
        c(p, &["SMISMEMBER", "s", "a", "z", "b", "a"]);
        c(p, &["SMISMEMBER", "nokey", "a", "b"]);
        cs(p, &["SMEMBERS", "s"]);
        c(p, &["SMEMBERS", "nokey"]);
        c(p, &["TYPE", "s"]);
        c(p, &["OBJECT", "ENCODING", "s"]);
        c(p, &["SREM", "s", "z"]);
        c(p, &["SREM", "s", "a", "z", "b", "b"]);
        c(p, &["SREM", "nokey", "a"]);
        // The member that empties the set deletes the key; later arguments are not looked at.
        c(p, &["SREM", "s", "c", "c"]);
        c(p, &["EXISTS", "s"]);
        // Binary-safe members, the empty string included.
        c(p, &["SADD", "bin", "a\0b", "", "\r\n"]);
        c(p, &["SISMEMBER", "bin", ""]);
        c(p, &["SISMEMBER", "bin", "a\0b"]);
        cs(p, &["SMEMBERS", "bin"]);
        c(p, &["SREM", "bin", ""]);
        c(p, &["SCARD", "bin"]);
        // Integers: an intset, iterated in ascending order.
        c(p, &["SADD", "i", "5", "3", "-1", "100", "0", "9223372036854775807", "-9223372036854775808", "3"]);
        c(p, &["OBJECT", "ENCODING", "i"]);
        c(p, &["SMEMBERS", "i"]);
        c(p, &["SISMEMBER", "i", "100"]);
        c(p, &["SISMEMBER", "i", "0100"]);
        c(p, &["SISMEMBER", "i", "x"]);
        c(p, &["SMISMEMBER", "i", "-1", "+5", "5 ", "9223372036854775808"]);
        c(p, &["SREM", "i", "05", "x", "-1", "9223372036854775807"]);
        c(p, &["SMEMBERS", "i"]);
        c(p, &["SINTER", "i"]);
    });
}

#[test]
fn wrong_types_and_arity() {
    in_both_protocols(|p| {
        c(p, &["SET", "str", "x"]);
        c(p, &["SADD", "set", "a", "1"]);
        for args in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a", "b"],
            &["SMEMBERS", "str"],
            &["SCARD", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "0"],
            &["SPOP", "str", "2"],
            &["SPOP", "str", "-1"],
            &["SPOP", "str", "x"],
            &["SRANDMEMBER", "str"],
            &["SRANDMEMBER", "str", "0"],
            &["SRANDMEMBER", "str", "-3"],
            &["SRANDMEMBER", "str", "x"],
            &["SSCAN", "str", "0"],
            &["SSCAN", "str", "x"],
            &["SSCAN", "str", "0", "COUNT", "0"],
            &["SINTER", "set", "str"],
            &["SINTER", "str", "nokey"],
            &["SINTER", "nokey", "str"],
            &["SUNION", "set", "nokey", "str"],
            &["SDIFF", "nokey", "str"],
            &["SDIFF", "set", "str"],
            &["SINTERSTORE", "dst", "set", "str"],
            &["SUNIONSTORE", "dst", "str"],
            &["SDIFFSTORE", "dst", "nokey", "str"],
            &["SINTERCARD", "2", "set", "str"],
            &["SINTERCARD", "2", "nokey", "str"],
            &["SMOVE", "str", "set", "a"],
            &["SMOVE", "set", "str", "a"],
            &["SMOVE", "set", "str", "zz"],
            &["SMOVE", "nokey", "str", "a"],
        ] {
            c(p, args);
        }
        c(p, &["EXISTS", "dst"]);
        c(p, &["GET", "str"]);
        for args in [
            &["SADD", "s"][..],
            &["SREM", "s"],
            &["SISMEMBER", "s"],
            &["SISMEMBER", "s", "a", "b"],
            &["SMISMEMBER", "s"],
            &["SCARD"],
            &["SCARD", "a", "b"],
            &["SMEMBERS"],
            &["SMEMBERS", "a", "b"],
            &["SPOP"],
            &["SPOP", "set", "1", "2"],
            &["SRANDMEMBER"],
            &["SRANDMEMBER", "set", "1", "2"],
            &["SMOVE", "a", "b"],
            &["SMOVE", "a", "b", "c", "d"],
            &["SINTER"],
            &["SUNION"],
            &["SDIFF"],
            &["SINTERSTORE", "d"],
            &["SUNIONSTORE", "d"],
            &["SDIFFSTORE", "d"],
            &["SINTERCARD", "1"],
            &["SSCAN", "s"],
        ] {
            c(p, args);
        }
    });
}

#[test]
fn encodings_and_their_thresholds() {
    in_both_protocols(|p| {
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "4"]);
        c(p, &["SADD", "e", "4", "2", "3", "1"]);
        c(p, &["OBJECT", "ENCODING", "e"]);
        c(p, &["SMEMBERS", "e"]);
        c(p, &["SADD", "e", "3"]);
        c(p, &["OBJECT", "ENCODING", "e"]);
        c(p, &["SADD", "e", "5"]);
        c(p, &["OBJECT", "ENCODING", "e"]);
        // Back under the limit: a hashtable stays a hashtable.
        c(p, &["SREM", "e", "1", "2", "3"]);
        c(p, &["OBJECT", "ENCODING", "e"]);
        cs(p, &["SMEMBERS", "e"]);
        // Five members in one SADD.
        c(p, &["SADD", "five", "1", "2", "3", "4", "5"]);
        c(p, &["OBJECT", "ENCODING", "five"]);
        // A lower limit applies on the next successful add only.
        c(p, &["SADD", "f", "1", "2", "3", "4"]);
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "2"]);
        c(p, &["OBJECT", "ENCODING", "f"]);
        c(p, &["SADD", "f", "3"]);
        c(p, &["SREM", "f", "4"]);
        c(p, &["OBJECT", "ENCODING", "f"]);
        c(p, &["SMEMBERS", "f"]);
        c(p, &["SADD", "f", "9"]);
        c(p, &["OBJECT", "ENCODING", "f"]);
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "0"]);
        c(p, &["SADD", "z", "1"]);
        c(p, &["OBJECT", "ENCODING", "z"]);
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
        // Anything but a canonical 64-bit integer makes a hashtable.
        for (i, m) in
            ["01", "+1", " 1", "1 ", "-0", "1.5", "1e3", "0x1", "9223372036854775808", "-9223372036854775809", ""]
                .iter()
                .enumerate()
        {
            let key = format!("nc{i}");
            c(p, &["SADD", &key, "1", m]);
            c(p, &["OBJECT", "ENCODING", &key]);
            c(p, &["SISMEMBER", &key, m]);
            c(p, &["SCARD", &key]);
        }
        c(p, &["SADD", "big", "-9223372036854775808", "9223372036854775807", "0", "-1"]);
        c(p, &["OBJECT", "ENCODING", "big"]);
        c(p, &["SMEMBERS", "big"]);
        // A string first: a hashtable from the start.
        c(p, &["SADD", "sfirst", "x", "1", "2"]);
        c(p, &["OBJECT", "ENCODING", "sfirst"]);
        // Conversion keeps every member.
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "10"]);
        let ints: Vec<String> = (0..10).map(|i| (i * 7 - 20).to_string()).collect();
        let mut args = vec!["SADD", "conv"];
        args.extend(ints.iter().map(String::as_str));
        c(p, &args);
        c(p, &["OBJECT", "ENCODING", "conv"]);
        c(p, &["SMEMBERS", "conv"]);
        c(p, &["SADD", "conv", "hello"]);
        c(p, &["OBJECT", "ENCODING", "conv"]);
        cs(p, &["SMEMBERS", "conv"]);
        c(p, &["SISMEMBER", "conv", "-20"]);
        c(p, &["SCARD", "conv"]);
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
    });
}

#[test]
fn smove_cases() {
    in_both_protocols(|p| {
        c(p, &["SET", "str", "x"]);
        c(p, &["SMOVE", "nosrc", "dst", "a"]);
        c(p, &["SMOVE", "nosrc", "str", "a"]);
        c(p, &["SADD", "src", "a", "b", "1", "2"]);
        c(p, &["SMOVE", "src", "str", "a"]);
        c(p, &["SMOVE", "str", "src", "a"]);
        // Source and destination the same key: membership only, nothing changes.
        c(p, &["SMOVE", "src", "src", "a"]);
        c(p, &["SMOVE", "src", "src", "zz"]);
        c(p, &["SMOVE", "src", "dst", "zz"]);
        c(p, &["EXISTS", "dst"]);
        c(p, &["SMOVE", "src", "dst", "a"]);
        c(p, &["OBJECT", "ENCODING", "dst"]);
        c(p, &["SMOVE", "src", "dst2", "1"]);
        c(p, &["OBJECT", "ENCODING", "dst2"]);
        c(p, &["SMEMBERS", "dst2"]);
        // Already in the destination: removed from the source only.
        c(p, &["SADD", "dst", "b"]);
        c(p, &["SMOVE", "src", "dst", "b"]);
        c(p, &["SMOVE", "src", "dst2", "2"]);
        c(p, &["EXISTS", "src"]);
        c(p, &["SMEMBERS", "dst2"]);
        cs(p, &["SMEMBERS", "dst"]);
        // An integer moved into an intset keeps it one; a string converts it.
        c(p, &["SADD", "ints", "10", "20"]);
        c(p, &["SMOVE", "dst", "ints", "a"]);
        c(p, &["OBJECT", "ENCODING", "ints"]);
        cs(p, &["SMEMBERS", "ints"]);
        // The destination's TTL stays.
        c(p, &["SADD", "t", "q"]);
        c(p, &["EXPIRE", "t", "1000"]);
        c(p, &["SMOVE", "ints", "t", "10"]);
        c(p, &["TTL", "t"]);
    });
}

#[test]
fn spop_and_srandmember_argument_errors_and_whole_set_answers() {
    in_both_protocols(|p| {
        c(p, &["SPOP", "nokey"]);
        c(p, &["SPOP", "nokey", "1"]);
        c(p, &["SPOP", "nokey", "0"]);
        c(p, &["SPOP", "nokey", "-1"]);
        c(p, &["SPOP", "nokey", "x"]);
        c(p, &["SPOP", "nokey", "9223372036854775808"]);
        c(p, &["SRANDMEMBER", "nokey"]);
        c(p, &["SRANDMEMBER", "nokey", "5"]);
        c(p, &["SRANDMEMBER", "nokey", "-5"]);
        c(p, &["SRANDMEMBER", "nokey", "0"]);
        c(p, &["SRANDMEMBER", "nokey", "-9223372036854775808"]);
        c(p, &["SADD", "i", "30", "10", "20", "-5"]);
        c(p, &["SPOP", "i", "0"]);
        c(p, &["SPOP", "i", "-1"]);
        c(p, &["SPOP", "i", "1.5"]);
        c(p, &["SPOP", "i", "+1"]);
        c(p, &["SRANDMEMBER", "i", "0"]);
        c(p, &["SRANDMEMBER", "i", "x"]);
        c(p, &["SRANDMEMBER", "i", "-9223372036854775808"]);
        // At least the whole set: an intset answers in ascending order.
        c(p, &["SRANDMEMBER", "i", "4"]);
        c(p, &["SRANDMEMBER", "i", "9223372036854775807"]);
        c(p, &["SPOP", "i", "9223372036854775807"]);
        c(p, &["EXISTS", "i"]);
        c(p, &["SADD", "h", "a", "b", "c"]);
        cs(p, &["SRANDMEMBER", "h", "3"]);
        cs(p, &["SPOP", "h", "3"]);
        c(p, &["EXISTS", "h"]);
        // A hashtable of integers popped whole: the answer is built as a new set, an intset.
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "4"]);
        c(p, &["SADD", "hi", "6", "5", "4", "3", "2", "1"]);
        c(p, &["SREM", "hi", "1", "2", "6"]);
        c(p, &["OBJECT", "ENCODING", "hi"]);
        c(p, &["SPOP", "hi", "3"]);
        c(p, &["EXISTS", "hi"]);
        // One member left of a set popped down from ten: the rest is rebuilt, as an intset.
        c(p, &["SADD", "r", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
        c(p, &["OBJECT", "ENCODING", "r"]);
        let universe = real_members(p, "r");
        let (ours, real) = check_random(p, &["SPOP", "r", "9"], &universe, true);
        c(p, &["SCARD", "r"]);
        c(p, &["OBJECT", "ENCODING", "r"]);
        p.compare("SPOP r 9 took 9", ours.len().to_string().as_bytes(), b"9");
        p.compare("SPOP r 9 took 9 (real)", real.len().to_string().as_bytes(), b"9");
        c(p, &["DEL", "r"]);
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
    });
}

/// SPOP and SRANDMEMBER results compared by shape and membership, for every strategy Redis uses.
#[test]
fn random_members_by_shape_and_membership() {
    in_both_protocols(|p| {
        let members: Vec<String> = (0..60).map(|i| format!("m{i}")).collect();
        let ints: Vec<String> = (0..60).map(|i| (i * 3).to_string()).collect();
        for (key, list) in [("h", &members), ("i", &ints)] {
            let mut args = vec!["SADD", key];
            args.extend(list.iter().map(String::as_str));
            c(p, &args);
            let universe = real_members(p, key);
            for count in ["1", "5", "19", "20", "21", "40", "59", "60", "61", "-1", "-5", "-60", "-200"] {
                let distinct = !count.starts_with('-');
                let (o, r) = check_random(p, &["SRANDMEMBER", key, count], &universe, distinct);
                let want = if distinct { count.parse::<usize>().unwrap().min(60) } else { count[1..].parse().unwrap() };
                assert_eq!((o.len(), r.len()), (want, want), "SRANDMEMBER {key} {count}");
            }
            check_random(p, &["SRANDMEMBER", key], &universe, true);
            // A large negative count: many repeats, nothing reserved up front.
            let (o, _) = check_random(p, &["SRANDMEMBER", key, "-100000"], &universe, false);
            assert_eq!(o.len(), 100_000);
        }
        // SPOP: single members, then counts in both of Redis's strategies. After each, the real
        // server's set is made equal to ours again so later steps compare the same data.
        for key in ["h", "i"] {
            for count in [None, Some("1"), Some("3"), Some("10"), None, Some("40")] {
                let before = real_members(p, key);
                let mut args = vec!["SPOP", key];
                args.extend(count);
                let (o, r) = check_random(p, &args, &before, true);
                for (who, popped) in [("ours", &o), ("real", &r)] {
                    let want = count.map_or(1, |n| n.parse::<usize>().unwrap());
                    assert_eq!(popped.len(), want, "{who}: {args:?}");
                }
                resync(p, key, &o, &r);
                c(p, &["SCARD", key]);
                c(p, &["OBJECT", "ENCODING", key]);
            }
            cs(p, &["SMEMBERS", key]);
        }
    });
}

/// After a random pop: the real server gets back what it popped and loses what we popped.
fn resync(p: &mut Pair, key: &str, ours_popped: &[Vec<u8>], real_popped: &[Vec<u8>]) {
    let back: Vec<String> = strs(real_popped);
    let gone: Vec<String> = strs(ours_popped);
    if !back.is_empty() {
        let mut a = vec!["SADD", key];
        a.extend(back.iter().map(String::as_str));
        p.real.cmd(&a);
    }
    if !gone.is_empty() {
        let mut a = vec!["SREM", key];
        a.extend(gone.iter().map(String::as_str));
        p.real.cmd(&a);
    }
}

#[test]
fn intersection_union_difference() {
    in_both_protocols(|p| {
        c(p, &["SADD", "a", "5", "1", "3", "2", "4"]);
        c(p, &["SADD", "b", "7", "6", "5", "4", "3"]);
        c(p, &["SADD", "c", "x", "y", "3", "4"]);
        c(p, &["SADD", "d", "4", "3", "2", "x"]);
        c(p, &["SET", "str", "v"]);
        // Intsets answer in ascending order whichever key comes first.
        c(p, &["SINTER", "a", "b"]);
        c(p, &["SINTER", "b", "a"]);
        c(p, &["SINTER", "a", "a"]);
        c(p, &["SINTER", "a", "b", "a"]);
        // The smallest set is iterated; on equal sizes, the first one given.
        c(p, &["SADD", "e", "4", "3", "2", "1"]);
        c(p, &["SINTER", "e", "d"]);
        cs(p, &["SINTER", "d", "e"]);
        cs(p, &["SINTER", "a", "c"]);
        cs(p, &["SINTER", "c", "a", "b", "e"]);
        c(p, &["SINTER", "a", "b", "e"]);
        c(p, &["SINTER", "a", "nokey"]);
        c(p, &["SINTER", "nokey", "a"]);
        c(p, &["SUNION", "a", "b"]);
        c(p, &["SUNION", "b", "nokey", "a"]);
        cs(p, &["SUNION", "a", "c"]);
        c(p, &["SUNION", "nokey"]);
        c(p, &["SUNION", "nokey", "nokey2"]);
        c(p, &["SDIFF", "a", "b"]);
        c(p, &["SDIFF", "b", "a", "c"]);
        c(p, &["SDIFF", "a", "nokey"]);
        c(p, &["SDIFF", "nokey", "a"]);
        c(p, &["SDIFF", "a", "a"]);
        c(p, &["SDIFF", "a", "b", "a"]);
        cs(p, &["SDIFF", "c", "a"]);
        c(p, &["SDIFF", "c", "c", "a"]);
        // Integers out of hashtables come back as a new intset, in order.
        c(p, &["SADD", "h1", "q", "9", "1", "5"]);
        c(p, &["SADD", "h2", "w", "5", "1", "9", "7"]);
        c(p, &["SUNION", "a", "e"]);
        cs(p, &["SINTER", "h1", "h2"]);
        // A smaller intset is iterated rather than the hashtable given first.
        c(p, &["SADD", "i4", "9", "7", "5", "1"]);
        c(p, &["SINTER", "h2", "i4"]);
        cs(p, &["SINTER", "h2", "h1", "i4"]);
        // Between an intset and a hashtable of the same size, the first given is iterated: with
        // 19 common members a hashtable's order is ascending by chance almost never.
        let ints: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
        let mut args = vec!["SADD", "i20"];
        args.extend(ints.iter().map(String::as_str));
        c(p, &args);
        // Inserted in descending order: our hashtable iterates in insertion order.
        args[1] = "h20";
        args[2] = "x";
        args[3..].reverse();
        c(p, &args);
        c(p, &["SINTER", "i20", "h20"]);
        c(p, &["SINTER", "i20", "h20", "i20"]);
        p.check_with(&["SINTER", "h20", "i20"], sorted_with_order_flag);
        p.check_with(&["SINTER", "h20", "i20", "a"], sorted_with_order_flag);
        cs(p, &["SDIFF", "h1", "c", "d", "nokey", "str2"]);
        c(p, &["SINTERCARD", "1", "a"]);
        c(p, &["SINTERCARD", "2", "a", "b"]);
        c(p, &["SINTERCARD", "2", "a", "b", "LIMIT", "2"]);
        c(p, &["SINTERCARD", "2", "a", "b", "limit", "0"]);
        c(p, &["SINTERCARD", "2", "a", "b", "LIMIT", "100"]);
        c(p, &["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "3"]);
        c(p, &["SINTERCARD", "3", "a", "c", "d"]);
        c(p, &["SINTERCARD", "2", "a", "nokey"]);
        c(p, &["SINTERCARD", "2", "a", "a"]);
        for bad in [
            &["SINTERCARD", "0", "a"][..],
            &["SINTERCARD", "-1", "a"],
            &["SINTERCARD", "x", "a"],
            &["SINTERCARD", "9223372036854775808", "a"],
            &["SINTERCARD", "3", "a", "b"],
            &["SINTERCARD", "2", "a", "b", "LIMIT"],
            &["SINTERCARD", "2", "a", "b", "LIMIT", "-1"],
            &["SINTERCARD", "2", "a", "b", "LIMIT", "x"],
            &["SINTERCARD", "2", "a", "b", "FOO", "1"],
            &["SINTERCARD", "1", "str", "LIMIT", "-1"],
            &["SINTERCARD", "1", "str", "LIMIT", "1"],
        ] {
            c(p, bad);
        }
        p.check(&["COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"]);
    });
}

#[test]
fn store_forms() {
    in_both_protocols(|p| {
        c(p, &["SADD", "a", "5", "1", "3", "2", "4"]);
        c(p, &["SADD", "b", "7", "6", "5", "4", "3"]);
        c(p, &["SADD", "c", "x", "y", "3", "4"]);
        c(p, &["SINTERSTORE", "d", "a", "b"]);
        c(p, &["SMEMBERS", "d"]);
        c(p, &["OBJECT", "ENCODING", "d"]);
        c(p, &["SUNIONSTORE", "d", "a", "b", "nokey"]);
        c(p, &["SMEMBERS", "d"]);
        c(p, &["SDIFFSTORE", "d", "b", "a"]);
        c(p, &["SMEMBERS", "d"]);
        c(p, &["SUNIONSTORE", "d", "a", "c"]);
        c(p, &["OBJECT", "ENCODING", "d"]);
        cs(p, &["SMEMBERS", "d"]);
        // Integers stored out of hashtables make an intset.
        c(p, &["SINTERSTORE", "d", "c", "c"]);
        c(p, &["OBJECT", "ENCODING", "d"]);
        c(p, &["SDIFFSTORE", "d", "c", "a"]);
        c(p, &["OBJECT", "ENCODING", "d"]);
        c(p, &["SADD", "h1", "q", "9", "1", "5"]);
        c(p, &["SADD", "h2", "w", "5", "1", "9", "7"]);
        c(p, &["SINTERSTORE", "d", "h1", "h2"]);
        c(p, &["OBJECT", "ENCODING", "d"]);
        c(p, &["SMEMBERS", "d"]);
        // The destination may be one of the operands.
        c(p, &["SUNIONSTORE", "a", "a", "b"]);
        c(p, &["SMEMBERS", "a"]);
        c(p, &["SINTERSTORE", "a", "a", "h1"]);
        c(p, &["SMEMBERS", "a"]);
        // Empty results delete the destination (a `del` only when it existed).
        c(p, &["SINTERSTORE", "d", "a", "nokey"]);
        c(p, &["EXISTS", "d"]);
        c(p, &["SINTERSTORE", "d", "a", "nokey"]);
        c(p, &["SADD", "d", "z"]);
        c(p, &["SDIFFSTORE", "d", "a", "a"]);
        c(p, &["EXISTS", "d"]);
        c(p, &["SUNIONSTORE", "d", "nokey"]);
        c(p, &["SDIFFSTORE", "d", "nokey", "a"]);
        c(p, &["SET", "d", "x"]);
        c(p, &["SUNIONSTORE", "d", "nokey"]);
        c(p, &["EXISTS", "d"]);
        // Any type of destination is replaced, and its TTL goes.
        c(p, &["SET", "str", "v", "EX", "1000"]);
        c(p, &["SINTERSTORE", "str", "b", "b"]);
        c(p, &["TYPE", "str"]);
        c(p, &["TTL", "str"]);
        c(p, &["SADD", "ttl", "1"]);
        c(p, &["EXPIRE", "ttl", "1000"]);
        c(p, &["SUNIONSTORE", "ttl", "b"]);
        c(p, &["TTL", "ttl"]);
        c(p, &["SINTERCARD", "2", "ttl", "b"]);
        // A wrong type among the operands leaves the destination alone.
        c(p, &["SET", "wrongtype", "v"]);
        c(p, &["SINTERSTORE", "ttl", "b", "wrongtype"]);
        c(p, &["SUNIONSTORE", "ttl", "wrongtype", "b"]);
        c(p, &["SDIFFSTORE", "ttl", "nokey", "wrongtype"]);
        c(p, &["SCARD", "ttl"]);
        // The result's size against the intset limit.
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "6"]);
        c(p, &["SUNIONSTORE", "u", "b", "h1"]);
        c(p, &["OBJECT", "ENCODING", "u"]);
        c(p, &["SINTERSTORE", "u", "b", "b"]);
        c(p, &["OBJECT", "ENCODING", "u"]);
        c(p, &["SMEMBERS", "u"]);
        // SDIFF's second algorithm copies the first set before removing: a copy past the limit is
        // a hashtable even when what remains would fit an intset.
        c(p, &["SADD", "big", "1", "2", "3", "4", "5", "6", "7", "8"]);
        c(p, &["SADD", "s1", "1"]);
        c(p, &["SADD", "s2", "2"]);
        c(p, &["SADD", "s3", "3"]);
        c(p, &["SDIFFSTORE", "r", "big", "s1", "s2", "s3"]);
        c(p, &["OBJECT", "ENCODING", "r"]);
        cs(p, &["SMEMBERS", "r"]);
        c(p, &["SDIFFSTORE", "r", "big", "s1"]);
        c(p, &["OBJECT", "ENCODING", "r"]);
        c(p, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
        c(p, &["SADD", "m", "x", "1", "2", "3", "4", "5"]);
        c(p, &["SADD", "sx", "x"]);
        c(p, &["SDIFFSTORE", "r", "m", "sx", "s1", "s2", "s3"]);
        c(p, &["OBJECT", "ENCODING", "r"]);
        cs(p, &["SMEMBERS", "r"]);
        cs(p, &["SDIFF", "m", "sx", "s1", "s2", "s3"]);
        c(p, &["SDIFFSTORE", "r", "m", "sx"]);
        c(p, &["OBJECT", "ENCODING", "r"]);
        c(p, &["SMEMBERS", "r"]);
    });
}

#[test]
fn sscan_cases() {
    in_both_protocols(|p| {
        c(p, &["SET", "str", "v"]);
        c(p, &["SSCAN", "nokey", "0"]);
        c(p, &["SSCAN", "nokey", "x"]);
        c(p, &["SSCAN", "nokey", "0", "COUNT", "0"]);
        c(p, &["SADD", "i", "15", "-3", "7", "100", "11"]);
        // An intset comes back whole, in order, with cursor 0, whatever cursor or COUNT.
        c(p, &["SSCAN", "i", "0"]);
        c(p, &["SSCAN", "i", "0", "COUNT", "1"]);
        c(p, &["SSCAN", "i", "123"]);
        c(p, &["SSCAN", "i", "-1"]);
        c(p, &["SSCAN", "i", "0", "MATCH", "1*"]);
        c(p, &["SSCAN", "i", "0", "MATCH", "*", "COUNT", "2"]);
        c(p, &["SSCAN", "i", "0", "match", "-*", "count", "100"]);
        for bad in [
            &["SSCAN", "i", "x"][..],
            &["SSCAN", "i", "1.5"],
            &["SSCAN", "i", "0", "COUNT", "0"],
            &["SSCAN", "i", "0", "COUNT", "-1"],
            &["SSCAN", "i", "0", "COUNT", "x"],
            &["SSCAN", "i", "0", "COUNT"],
            &["SSCAN", "i", "0", "MATCH"],
            &["SSCAN", "i", "0", "TYPE", "set"],
            &["SSCAN", "i", "0", "FOO", "bar"],
        ] {
            c(p, bad);
        }
        let members: Vec<String> = (0..300).map(|i| format!("member:{i}")).collect();
        let mut args = vec!["SADD", "h"];
        args.extend(members.iter().map(String::as_str));
        c(p, &args);
        for opts in [&[][..], &["COUNT", "7"], &["MATCH", "member:1*"], &["MATCH", "member:2?", "COUNT", "50"]] {
            let o = sscan_all(&mut p.ours, "h", opts);
            let r = sscan_all(&mut p.real, "h", opts);
            p.compare(&format!("SSCAN h {opts:?} (full iteration, as a set)"), &o, &r);
        }
        // A small hashtable too.
        c(p, &["SADD", "small", "a", "b", "1"]);
        let o = sscan_all(&mut p.ours, "small", &[]);
        let r = sscan_all(&mut p.real, "small", &[]);
        p.compare("SSCAN small (full iteration, as a set)", &o, &r);
    });
}

/// A full SSCAN iteration: every member seen, sorted and deduplicated, as a RESP array.
fn sscan_all(c: &mut Client, key: &str, opts: &[&str]) -> Vec<u8> {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for _ in 0..100_000 {
        let mut args = vec!["SSCAN", key, cursor.as_str()];
        args.extend_from_slice(opts);
        let reply = c.cmd(&args);
        let Reply::Array(items) = Reply::parse(&reply) else {
            panic!("SSCAN reply {}", show_bytes(&reply, usize::MAX))
        };
        let Reply::Bulk(next) = &items[0] else { panic!("SSCAN cursor {}", show_bytes(&reply, usize::MAX)) };
        let Reply::Array(found) = &items[1] else { panic!("SSCAN members {}", show_bytes(&reply, usize::MAX)) };
        seen.extend(found.iter().cloned());
        cursor = String::from_utf8(next.clone()).expect("cursor");
        if cursor == "0" {
            seen.sort();
            seen.dedup();
            return Reply::Array(seen).encode();
        }
    }
    panic!("SSCAN {key} {opts:?} did not terminate");
}

/// Keyspace events of every command, compared in order through a pattern subscriber on each side.
#[test]
fn keyspace_notifications() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut sub = duo.pair_named("subscriber");
    p.check(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    sub.check(&["PSUBSCRIBE", "__key*__:*"]);
    sub.check(&["SUBSCRIBE", "marker"]);
    let script: &[&[&str]] = &[
        &["SADD", "s", "a", "b", "1"],
        &["SADD", "s", "a"],
        &["SREM", "s", "zz"],
        &["SREM", "s", "a"],
        &["SMOVE", "s", "t", "b"],
        &["SMOVE", "s", "t", "zz"],
        &["SMOVE", "s", "s", "1"],
        &["SADD", "t", "1"],
        &["SMOVE", "s", "t", "1"],
        &["SADD", "u", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
        &["SPOP", "u"],
        &["SPOP", "u", "0"],
        &["SPOP", "u", "2"],
        &["SPOP", "u", "6"],
        &["SPOP", "u", "100"],
        &["SPOP", "nokey", "3"],
        &["SADD", "v", "x"],
        &["SPOP", "v"],
        &["SADD", "a", "1", "2", "3"],
        &["SADD", "b", "2", "3", "4"],
        &["SINTERSTORE", "d", "a", "b"],
        &["SUNIONSTORE", "d", "a", "b"],
        &["SDIFFSTORE", "d", "a", "b"],
        &["SDIFFSTORE", "d", "a", "a"],
        &["SDIFFSTORE", "d", "a", "a"],
        &["SINTERSTORE", "d", "a", "nokey"],
        &["SADD", "d", "x"],
        &["SINTERSTORE", "d", "a", "nokey"],
        &["SUNIONSTORE", "d", "nokey"],
        &["SREM", "a", "1", "2", "3", "4"],
        &["SINTER", "b", "b"],
        &["SRANDMEMBER", "b", "2"],
    ];
    for cmd in script {
        p.both(cmd);
    }
    p.both(&["PUBLISH", "marker", "end"]);
    let events = |c: &mut Client| {
        let mut out = Vec::new();
        loop {
            let m = c.read_reply();
            if elements(&m).last().map(Vec::as_slice) == Some(b"end") {
                return out;
            }
            out.push(String::from_utf8_lossy(&m).replace("\r\n", " "));
        }
    };
    let (o, r) = (events(&mut sub.ours), events(&mut sub.real));
    sub.compare("keyspace events", o.join("\n").as_bytes(), r.join("\n").as_bytes());
    assert!(r.len() > 40, "the script produced events: {r:?}");
}

/// WATCH sees exactly the keys Redis signals as modified.
#[test]
fn watch_sees_the_keys_redis_signals() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut other = duo.pair_named("other");
    let cases: &[(&[&str], &str, &[&str])] = &[
        (&["SADD", "s", "a"], "s", &["SADD", "s", "a"]),
        (&["SADD", "s", "a"], "s", &["SADD", "s", "b"]),
        (&["SADD", "s", "a", "b"], "s", &["SREM", "s", "zz"]),
        (&["SADD", "s", "a", "b"], "d", &["SMOVE", "s", "d", "zz"]),
        (&["SADD", "s", "a", "b"], "s", &["SMOVE", "s", "s", "a"]),
        (&["SADD", "s", "a", "b"], "d", &["SMOVE", "s", "d", "a"]),
        (&["SADD", "d", "a"], "d", &["SMOVE", "s", "d", "a"]),
        (&["SADD", "d", "a"], "s", &["SMOVE", "s", "d", "a"]),
        (&["SADD", "s", "a", "b"], "s", &["SPOP", "s", "0"]),
        (&["SADD", "s", "a", "b"], "s", &["SINTERSTORE", "d", "s", "s"]),
        (&["SADD", "s", "a", "b"], "d", &["SINTERSTORE", "d", "s", "s"]),
        (&["SADD", "s", "a", "b"], "d", &["SINTERSTORE", "d", "s", "nokey"]),
        (&["SADD", "d", "a", "b"], "d", &["SINTERSTORE", "d", "s", "nokey"]),
        (&["SADD", "s", "a", "b"], "s", &["SRANDMEMBER", "s", "2"]),
    ];
    for (setup, watched, cmd) in cases {
        p.label = format!("WATCH {watched}, then {cmd:?}");
        p.check(&["FLUSHALL"]);
        p.check(&["SADD", "s", "a", "b"]);
        p.check(setup);
        p.check(&["WATCH", watched]);
        other.check_sorted(cmd);
        p.check(&["MULTI"]);
        p.check(&["PING"]);
        p.check(&["EXEC"]);
    }
}

/// The same commands inside MULTI/EXEC: replies as an array of the replies.
#[test]
fn inside_transactions() {
    in_both_protocols(|p| {
        p.check(&["MULTI"]);
        p.check(&["SADD", "s", "3", "1", "2"]);
        p.check(&["SMEMBERS", "s"]);
        p.check(&["SINTERCARD", "1", "s"]);
        p.check(&["SPOP", "nokey", "2"]);
        p.check(&["SRANDMEMBER", "s", "10"]);
        p.check(&["SET", "str", "x"]);
        p.check(&["SADD", "str", "a"]);
        p.check(&["SINTERSTORE", "d", "s"]);
        p.check(&["EXEC"]);
    });
}

/// One seeded random sequence of thousands of commands over a few keys; replies must be
/// byte-identical, or equal as sets where Redis's order is its hash table's.
#[test]
fn random_sequence() {
    let duo = Duo::start(&[]);
    for (resp3, steps, seed) in [(false, 4000, 7), (true, 2000, 8)] {
        let mut p = duo.pair_named(if resp3 { "random RESP3" } else { "random RESP2" });
        p.check(&["FLUSHALL"]);
        if resp3 {
            p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
        }
        let mut rng = fastrand::Rng::with_seed(seed);
        for step in 0..steps {
            if step % 300 == 0 {
                let limit = ["3", "8", "16", "512"][rng.usize(..4)];
                p.check(&["CONFIG", "SET", "set-max-intset-entries", limit]);
            }
            random_step(&mut p, &mut rng);
        }
        for k in KEYS {
            p.check(&["OBJECT", "ENCODING", k]);
            p.check_sorted(&["SMEMBERS", k]);
        }
        p.assert_clean();
    }
}

const KEYS: [&str; 4] = ["k1", "k2", "k3", "k4"];

fn random_member(rng: &mut fastrand::Rng) -> String {
    match rng.u8(..20) {
        0..=11 => (rng.i64(-4..16)).to_string(),
        12..=15 => ["a", "b", "c", "d", "e"][rng.usize(..5)].to_string(),
        16 => ["01", "-0", "+3", " 4", "1.0"][rng.usize(..5)].to_string(),
        17 => ["9223372036854775807", "-9223372036854775808", "9223372036854775808"][rng.usize(..3)].to_string(),
        _ => (rng.i64(100..140)).to_string(),
    }
}

fn random_key(rng: &mut fastrand::Rng) -> &'static str {
    match rng.u8(..12) {
        0..=9 => KEYS[rng.usize(..KEYS.len())],
        10 => "str",
        _ => "missing",
    }
}

fn random_keys(rng: &mut fastrand::Rng) -> Vec<&'static str> {
    (0..rng.usize(1..4)).map(|_| random_key(rng)).collect()
}

fn encoding_of(c: &mut Client, key: &str) -> Vec<u8> {
    c.cmd(&["OBJECT", "ENCODING", key])
}

fn random_step(p: &mut Pair, rng: &mut fastrand::Rng) {
    let key = random_key(rng);
    let members: Vec<String> = (0..rng.usize(1..5)).map(|_| random_member(rng)).collect();
    let ms: Vec<&str> = members.iter().map(String::as_str).collect();
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter().chain(tail.iter()).map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |p: &mut Pair, args: Vec<String>, sorted: bool| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        if sorted {
            p.check_sorted(&a);
        } else {
            p.check(&a);
        }
    };
    match rng.u8(..24) {
        0..=4 => run(p, with(&["SADD", key], &ms), false),
        5..=6 => run(p, with(&["SREM", key], &ms), false),
        7 => run(p, with(&["SISMEMBER", key], &ms[..1]), false),
        8 => run(p, with(&["SMISMEMBER", key], &ms), false),
        9 => run(p, vec!["SCARD".into(), key.into()], false),
        10 => {
            // Exact when the real server's set is an intset, else as a set.
            let ordered = encoding_of(&mut p.real, key) == b"$6\r\nintset\r\n";
            run(p, vec!["SMEMBERS".into(), key.into()], !ordered);
        }
        11 => {
            let dst = random_key(rng);
            run(p, with(&["SMOVE", key, dst], &ms[..1]), false);
        }
        12..=13 => {
            let keys = random_keys(rng);
            let op = ["SINTER", "SUNION", "SDIFF"][rng.usize(..3)];
            set_operation(p, op, &keys);
        }
        14..=15 => {
            let dst = random_key(rng);
            let keys = random_keys(rng);
            let op = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][rng.usize(..3)];
            run(p, with(&[op, dst], &keys), false);
            run(p, vec!["OBJECT".into(), "ENCODING".into(), dst.into()], false);
            run(p, vec!["TYPE".into(), dst.into()], false);
        }
        16 => {
            let keys = random_keys(rng);
            let mut args = vec!["SINTERCARD".to_string(), keys.len().to_string()];
            args.extend(keys.iter().map(|k| k.to_string()));
            if rng.bool() {
                args.extend(["LIMIT".to_string(), rng.u8(..4).to_string()]);
            }
            run(p, args, false);
        }
        17 => match (sscan_all_or_error(&mut p.ours, key), sscan_all_or_error(&mut p.real, key)) {
            (Some(o), Some(r)) => p.compare(&format!("SSCAN {key} full iteration"), &o, &r),
            _ => run(p, vec!["SSCAN".into(), key.into(), "0".into()], false),
        },
        18 => run(p, vec!["OBJECT".into(), "ENCODING".into(), key.into()], false),
        19 => {
            let count = [None, Some(0i64), Some(1), Some(2), Some(5), Some(-1), Some(-7), Some(40)][rng.usize(..8)];
            random_read(p, key, count);
        }
        20..=21 => {
            let count = [None, Some(0i64), Some(1), Some(2), Some(3), Some(8), Some(30), Some(-2)][rng.usize(..8)];
            random_pop(p, key, count);
        }
        22 => run(p, vec!["DEL".into(), key.into()], false),
        _ => {
            if key == "str" {
                run(p, vec!["SET".into(), "str".into(), "x".into()], false);
            } else {
                run(p, vec!["EXISTS".into(), key.into()], false);
            }
        }
    }
}

/// SSCAN of a key that may hold the wrong type: None when it does not answer with a cursor.
fn sscan_all_or_error(c: &mut Client, key: &str) -> Option<Vec<u8>> {
    let first = c.cmd(&["SSCAN", key, "0"]);
    if first.starts_with(b"-") {
        return None;
    }
    Some(sscan_all(c, key, &[]))
}

/// SINTER/SUNION/SDIFF: exact when Redis's answer comes out of an intset, else as a set. The
/// STORE form tells the encoding of SUNION's and SDIFF's result; SINTER answers in the order of
/// its smallest operand (the first one given among equals).
fn set_operation(p: &mut Pair, op: &str, keys: &[&str]) {
    let mut args = vec![op];
    args.extend_from_slice(keys);
    let ordered = match op {
        "SINTER" => {
            let mut best: Option<(i64, bool)> = None;
            for k in keys {
                let card = match Reply::parse(&p.real.cmd(&["SCARD", k])) {
                    Reply::Int(n) => n,
                    _ => -1,
                };
                let intset = encoding_of(&mut p.real, k) == b"$6\r\nintset\r\n";
                if best.is_none_or(|(c, _)| card < c) {
                    best = Some((card, intset));
                }
            }
            best.is_some_and(|(_, intset)| intset)
        }
        _ => {
            let mut store = vec![if op == "SUNION" { "SUNIONSTORE" } else { "SDIFFSTORE" }, "tmp"];
            store.extend_from_slice(keys);
            p.check(&store);
            p.check(&["OBJECT", "ENCODING", "tmp"]);
            encoding_of(&mut p.real, "tmp") == b"$6\r\nintset\r\n"
        }
    };
    if ordered {
        p.check(&args);
    } else {
        p.check_sorted(&args);
    }
}

/// SRANDMEMBER: shape and membership.
fn random_read(p: &mut Pair, key: &str, count: Option<i64>) {
    let universe = real_members(p, key);
    let mut args = vec!["SRANDMEMBER".to_string(), key.to_string()];
    args.extend(count.map(|n| n.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (o, r) = p.both(&a);
    if r.starts_with(b"-") || o.starts_with(b"-") {
        p.compare(&format!("{a:?}"), &o, &r);
        return;
    }
    check_random(p, &a, &universe, count.is_none_or(|n| n >= 0));
}

/// SPOP: shape and membership, then the real server's set is made equal to ours again (and
/// rebuilt on both when the pops left the encodings apart).
fn random_pop(p: &mut Pair, key: &str, count: Option<i64>) {
    let universe = real_members(p, key);
    let mut args = vec!["SPOP".to_string(), key.to_string()];
    args.extend(count.map(|n| n.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (o, r) = p.both(&a);
    if r.starts_with(b"-") || o.starts_with(b"-") || universe.is_empty() {
        p.compare(&format!("{a:?}"), &o, &r);
        return;
    }
    p.compare(&format!("shape of {a:?}"), shape(&o).as_bytes(), shape(&r).as_bytes());
    let (ours, real) = (elements(&o), elements(&r));
    for e in ours.iter().chain(real.iter()) {
        assert!(universe.contains(e), "{a:?} popped {:?}, not a member", String::from_utf8_lossy(e));
    }
    resync(p, key, &ours, &real);
    if encoding_of(&mut p.ours, key) != encoding_of(&mut p.real, key) {
        // SPOP's rebuild keeps a random subset, whose encoding depends on which members stayed.
        let members = strs(&real_members(p, key));
        let mut sadd = vec!["SADD", key];
        sadd.extend(members.iter().map(String::as_str));
        p.check(&["DEL", key]);
        if !members.is_empty() {
            p.check(&sadd);
        }
    }
    p.check_sorted(&["SMEMBERS", key]);
}

/// COMMAND INFO and COMMAND DOCS of every set command, and the keys COMMAND GETKEYS finds.
#[test]
fn command_metadata() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for name in [
        "sadd",
        "srem",
        "sismember",
        "smismember",
        "smembers",
        "scard",
        "spop",
        "srandmember",
        "smove",
        "sinter",
        "sunion",
        "sdiff",
        "sinterstore",
        "sunionstore",
        "sdiffstore",
        "sintercard",
        "sscan",
    ] {
        p.check(&["COMMAND", "INFO", name]);
        p.check(&["COMMAND", "DOCS", name]);
    }
    for args in [
        &["SMOVE", "a", "b", "m"][..],
        &["SINTERSTORE", "d", "a", "b"],
        &["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
        &["SINTERCARD", "3", "a", "b"],
        &["SINTERCARD", "0", "a"],
        &["SSCAN", "k", "0", "MATCH", "*"],
    ] {
        let mut full = vec!["COMMAND", "GETKEYS"];
        full.extend_from_slice(args);
        p.check(&full);
    }
}

/// Expired keys behave as missing ones: as operands, sources, destinations.
#[test]
fn expired_keys() {
    in_both_protocols(|p| {
        let expire_soon = |p: &mut Pair, key: &str, members: &[&str]| {
            let mut args = vec!["SADD", key];
            args.extend_from_slice(members);
            c(p, &args);
            c(p, &["PEXPIRE", key, "1"]);
        };
        expire_soon(p, "e", &["a", "1"]);
        expire_soon(p, "f", &["1"]);
        expire_soon(p, "g", &["x"]);
        expire_soon(p, "h", &["2", "3"]);
        // Past the expiry time of all four (the wait only has to be long enough, never short).
        std::thread::sleep(std::time::Duration::from_millis(30));
        c(p, &["SCARD", "e"]);
        c(p, &["SISMEMBER", "e", "a"]);
        c(p, &["SADD", "e", "b"]);
        c(p, &["SMEMBERS", "e"]);
        c(p, &["TTL", "e"]);
        c(p, &["SMOVE", "e", "f", "b"]);
        c(p, &["SMEMBERS", "f"]);
        c(p, &["SMOVE", "g", "f", "x"]);
        c(p, &["SINTER", "f", "h"]);
        c(p, &["SUNION", "f", "h"]);
        c(p, &["SUNIONSTORE", "h", "f"]);
        c(p, &["SMEMBERS", "h"]);
        c(p, &["TTL", "h"]);
        c(p, &["SRANDMEMBER", "g"]);
        c(p, &["SPOP", "g", "1"]);
    });
}
