//! Differential tests against Debian's real Redis 7.0: the list commands, in RESP2 and RESP3.
//! Replies are compared byte for byte, and so are the keyspace notifications a subscriber
//! receives and the dirty counter (INFO's rdb_changes_since_last_save). A seeded random sequence
//! mixes every non-blocking list command over a few keys.

use crate::common::Client;
use crate::differential_support::*;

/// INFO's keyspace_hits and keyspace_misses.
fn hits_misses(c: &mut Client) -> (i64, i64) {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "stats"])).into_owned();
    let field = |name: &str| -> i64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in INFO"))
    };
    (field("keyspace_hits:"), field("keyspace_misses:"))
}

/// Runs each command on both servers and compares the reply and how much it changed the dirty
/// counter and the keyspace hit/miss statistics.
fn check_counted(p: &mut Pair, cases: &[&[&str]]) {
    for c in cases {
        let before = (dirty(&mut p.ours), dirty(&mut p.real), hits_misses(&mut p.ours), hits_misses(&mut p.real));
        p.check(c);
        let after = (dirty(&mut p.ours), dirty(&mut p.real), hits_misses(&mut p.ours), hits_misses(&mut p.real));
        let ours = format!(
            "dirty +{} hits/misses {:?}",
            after.0 - before.0,
            (after.2 .0 - before.2 .0, after.2 .1 - before.2 .1)
        );
        let real = format!(
            "dirty +{} hits/misses {:?}",
            after.1 - before.1,
            (after.3 .0 - before.3 .0, after.3 .1 - before.3 .1)
        );
        p.compare(&format!("{c:?} counters"), ours.as_bytes(), real.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// Deterministic edge cases
// ---------------------------------------------------------------------------

fn pushes(p: &mut Pair) {
    check_all(
        p,
        &[
            &["LPUSH", "l", "a"],
            &["LPUSH", "l", "b", "c", "d"],
            &["RPUSH", "l", "e", "f"],
            &["LRANGE", "l", "0", "-1"],
            &["LPUSHX", "l", "x", "y"],
            &["RPUSHX", "l", "z"],
            &["LPUSHX", "missing", "x"],
            &["RPUSHX", "missing", "x", "y"],
            &["EXISTS", "missing"],
            &["LRANGE", "l", "0", "-1"],
            &[
                "RPUSH",
                "n",
                "1",
                "-1",
                "0",
                "007",
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
            ],
            &["RPUSH", "n", "", "1.5", "  3", "+4", "-0", "0x10"],
            &["LRANGE", "n", "0", "-1"],
            &["LPUSH"],
            &["LPUSH", "l"],
            &["RPUSHX", "l"],
            &["SET", "s", "v"],
            &["LPUSH", "s", "a"],
            &["RPUSH", "s", "a"],
            &["LPUSHX", "s", "a"],
            &["RPUSHX", "s", "a"],
            &["TYPE", "l"],
            &["OBJECT", "ENCODING", "l"],
            &["OBJECT", "ENCODING", "n"],
        ],
    );
    let long = "x".repeat(100);
    let longer = "y".repeat(10_000);
    p.check(&["RPUSH", "big", &long, &longer, "short"]);
    p.check(&["LRANGE", "big", "0", "-1"]);
    p.check(&["LINDEX", "big", "1"]);
    p.check(&["OBJECT", "ENCODING", "big"]);
}

fn pops(p: &mut Pair) {
    check_all(
        p,
        &[
            &["RPUSH", "l", "a", "b", "c", "d", "e", "f", "g"],
            &["LPOP", "l"],
            &["RPOP", "l"],
            &["LPOP", "l", "2"],
            &["RPOP", "l", "2"],
            &["LPOP", "l", "0"],
            &["RPOP", "l", "0"],
            &["LPOP", "l", "-1"],
            &["RPOP", "l", "abc"],
            &["LPOP", "l", "1.5"],
            &["LPOP", "l", "9223372036854775808"],
            &["LPOP", "l", "1", "2"],
            &["RPOP", "l", "1", "2", "3"],
            &["LRANGE", "l", "0", "-1"],
            &["RPOP", "l", "9223372036854775807"],
            &["EXISTS", "l"],
            &["LPOP", "l"],
            &["RPOP", "l"],
            &["LPOP", "l", "0"],
            &["LPOP", "l", "5"],
            &["RPOP", "l", "5"],
            &["LPOP", "l", "-1"],
            &["LPOP", "l", "x"],
            &["RPUSH", "m", "1", "2", "3"],
            &["LPOP", "m", "9223372036854775807"],
            &["EXISTS", "m"],
            &["RPUSH", "m", "only"],
            &["RPOP", "m"],
            &["EXISTS", "m"],
            &["SET", "s", "v"],
            &["LPOP", "s"],
            &["RPOP", "s", "1"],
            &["LPOP", "s", "0"],
            &["LPOP", "s", "-1"],
            &["LPOP"],
        ],
    );
}

fn reads(p: &mut Pair) {
    p.check(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    for i in ["0", "1", "4", "5", "-1", "-5", "-6", "100", "-100", "9223372036854775807", "-9223372036854775808"] {
        p.check(&["LINDEX", "l", i]);
    }
    check_all(
        p,
        &[
            &["LINDEX", "l", "abc"],
            &["LINDEX", "l", "1.0"],
            &["LINDEX", "l", "9223372036854775808"],
            &["LINDEX", "missing", "abc"],
            &["LINDEX", "missing", "0"],
            &["LLEN", "l"],
            &["LLEN", "missing"],
            &["SET", "s", "v"],
            &["LLEN", "s"],
            &["LINDEX", "s", "0"],
            &["LINDEX", "s", "abc"],
            &["LRANGE", "s", "0", "-1"],
            &["LRANGE", "s", "x", "-1"],
            &["LRANGE", "missing", "0", "-1"],
            &["LRANGE", "missing", "x", "-1"],
            &["LRANGE", "l", "0", "x"],
            &["LRANGE", "l", "", "1"],
        ],
    );
    let bounds = [
        "0",
        "1",
        "2",
        "4",
        "5",
        "6",
        "-1",
        "-2",
        "-5",
        "-6",
        "-100",
        "100",
        "9223372036854775807",
        "-9223372036854775808",
    ];
    for a in bounds {
        for b in bounds {
            p.check(&["LRANGE", "l", a, b]);
        }
    }
}

fn lset_linsert(p: &mut Pair) {
    check_all(
        p,
        &[
            &["RPUSH", "l", "a", "b", "c", "b"],
            &["LSET", "l", "0", "A"],
            &["LSET", "l", "-1", "B"],
            &["LSET", "l", "-4", "first"],
            &["LSET", "l", "4", "x"],
            &["LSET", "l", "-5", "x"],
            &["LSET", "l", "9223372036854775807", "x"],
            &["LSET", "l", "-9223372036854775808", "x"],
            &["LSET", "l", "abc", "x"],
            &["LSET", "missing", "0", "x"],
            &["LSET", "missing", "abc", "x"],
            &["LRANGE", "l", "0", "-1"],
            &["LSET", "l", "1", "a-much-longer-element-than-twenty-two-bytes"],
            &["LSET", "l", "1", "12345"],
            &["LRANGE", "l", "0", "-1"],
            &["LINSERT", "l", "BEFORE", "c", "before-c"],
            &["LINSERT", "l", "after", "c", "after-c"],
            &["LINSERT", "l", "AfTeR", "B", "tail"],
            &["LINSERT", "l", "before", "first", "head"],
            &["LINSERT", "l", "before", "nope", "x"],
            &["LINSERT", "l", "middle", "c", "x"],
            &["LINSERT", "missing", "before", "c", "x"],
            &["LINSERT", "missing", "middle", "c", "x"],
            &["EXISTS", "missing"],
            &["LRANGE", "l", "0", "-1"],
            &["RPUSH", "d", "x", "x", "x"],
            &["LINSERT", "d", "after", "x", "y"],
            &["LRANGE", "d", "0", "-1"],
            &["SET", "s", "v"],
            &["LSET", "s", "0", "x"],
            &["LSET", "s", "abc", "x"],
            &["LINSERT", "s", "before", "v", "x"],
            &["LINSERT", "s", "middle", "v", "x"],
        ],
    );
}

fn lrem_ltrim(p: &mut Pair) {
    let fill: &[&str] = &["RPUSH", "l", "x", "a", "x", "b", "x", "c", "x"];
    for count in ["0", "1", "2", "-1", "-2", "4", "-4", "100", "9223372036854775807", "-9223372036854775808"] {
        p.check(&["DEL", "l"]);
        p.check(fill);
        p.check(&["LREM", "l", count, "x"]);
        p.check(&["LRANGE", "l", "0", "-1"]);
    }
    check_all(
        p,
        &[
            &["LREM", "l", "0", "nothing"],
            &["LREM", "l", "abc", "x"],
            &["LREM", "missing", "0", "x"],
            &["LREM", "missing", "abc", "x"],
            &["DEL", "l"],
            &["RPUSH", "l", "x", "x"],
            &["LREM", "l", "0", "x"],
            &["EXISTS", "l"],
            &["SET", "s", "v"],
            &["LREM", "s", "0", "v"],
            &["LREM", "s", "abc", "v"],
        ],
    );
    let bounds = ["0", "1", "3", "6", "-1", "-3", "-7", "-100", "100", "9223372036854775807", "-9223372036854775808"];
    for a in bounds {
        for b in bounds {
            p.check(&["DEL", "t"]);
            p.check(&["RPUSH", "t", "a", "b", "c", "d", "e", "f"]);
            p.check(&["LTRIM", "t", a, b]);
            p.check(&["LRANGE", "t", "0", "-1"]);
            p.check(&["EXISTS", "t"]);
        }
    }
    check_all(
        p,
        &[
            &["LTRIM", "t", "abc", "0"],
            &["LTRIM", "t", "0", "abc"],
            &["LTRIM", "missing", "0", "1"],
            &["LTRIM", "missing", "x", "1"],
            &["LTRIM", "s", "0", "1"],
            &["LTRIM", "s", "x", "1"],
        ],
    );
}

fn lpos(p: &mut Pair) {
    p.check(&["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a", "1", "1"]);
    let opts: &[&[&str]] = &[
        &[],
        &["RANK", "1"],
        &["RANK", "2"],
        &["RANK", "3"],
        &["RANK", "4"],
        &["RANK", "-1"],
        &["RANK", "-3"],
        &["RANK", "-4"],
        &["RANK", "0"],
        &["RANK", "9223372036854775807"],
        &["RANK", "-9223372036854775808"],
        &["RANK", "-9223372036854775808", "COUNT", "2"],
        &["RANK", "-9223372036854775808", "COUNT", "0"],
        &["RANK", "-9223372036854775808", "COUNT", "1", "MAXLEN", "5"],
        &["RANK", "9223372036854775808"],
        &["RANK", "abc"],
        &["RANK"],
        &["COUNT", "0"],
        &["COUNT", "1"],
        &["COUNT", "2"],
        &["COUNT", "100"],
        &["COUNT", "-1"],
        &["COUNT", "abc"],
        &["COUNT", "9223372036854775807"],
        &["COUNT", "2", "RANK", "2"],
        &["COUNT", "0", "RANK", "-2"],
        &["COUNT", "0", "RANK", "0"],
        &["RANK", "0", "COUNT", "-1"],
        &["COUNT", "-1", "RANK", "0"],
        &["MAXLEN", "0"],
        &["MAXLEN", "1"],
        &["MAXLEN", "3"],
        &["MAXLEN", "4"],
        &["MAXLEN", "-1"],
        &["MAXLEN", "x"],
        &["MAXLEN", "3", "RANK", "-1"],
        &["MAXLEN", "4", "COUNT", "0"],
        &["MAXLEN", "4", "COUNT", "0", "RANK", "-1"],
        &["RANK", "1", "RANK", "2"],
        &["count", "1", "rank", "1", "maxlen", "100"],
        &["FOO", "1"],
        &["COUNT"],
        &["COUNT", "1", "MAXLEN"],
    ];
    for elem in ["a", "c", "1", "zz"] {
        for o in opts {
            let mut args = vec!["LPOS", "l", elem];
            args.extend_from_slice(o);
            p.check(&args);
        }
    }
    for o in opts {
        let mut args = vec!["LPOS", "missing", "a"];
        args.extend_from_slice(o);
        p.check(&args);
    }
    p.check(&["SET", "s", "v"]);
    p.check(&["LPOS", "s", "v"]);
    p.check(&["LPOS", "s", "v", "COUNT", "0"]);
    p.check(&["LPOS", "s", "v", "RANK", "0"]);
    p.check(&["LPOS", "l"]);
}

fn moves(p: &mut Pair) {
    for (from, to) in [("LEFT", "LEFT"), ("LEFT", "RIGHT"), ("RIGHT", "LEFT"), ("right", "right")] {
        p.check(&["DEL", "src", "dst"]);
        p.check(&["RPUSH", "src", "1", "2", "3"]);
        p.check(&["LMOVE", "src", "dst", from, to]);
        p.check(&["LMOVE", "src", "dst", from, to]);
        p.check(&["LRANGE", "src", "0", "-1"]);
        p.check(&["LRANGE", "dst", "0", "-1"]);
        p.check(&["LMOVE", "src", "src", from, to]);
        p.check(&["LRANGE", "src", "0", "-1"]);
        p.check(&["LMOVE", "src", "dst", from, to]);
        p.check(&["EXISTS", "src"]);
        p.check(&["LMOVE", "src", "dst", from, to]);
        p.check(&["LRANGE", "dst", "0", "-1"]);
    }
    check_all(
        p,
        &[
            &["RPUSH", "one", "x"],
            &["LMOVE", "one", "one", "LEFT", "RIGHT"],
            &["LRANGE", "one", "0", "-1"],
            &["RPOPLPUSH", "one", "one"],
            &["LRANGE", "one", "0", "-1"],
            &["RPOPLPUSH", "one", "other"],
            &["EXISTS", "one"],
            &["LRANGE", "other", "0", "-1"],
            &["RPOPLPUSH", "missing", "other"],
            &["LMOVE", "missing", "other", "LEFT", "LEFT"],
            &["LMOVE", "other", "x", "UP", "LEFT"],
            &["LMOVE", "other", "x", "LEFT", "DOWN"],
            &["LMOVE", "missing", "x", "UP", "LEFT"],
            &["SET", "s", "v"],
            &["LMOVE", "other", "s", "LEFT", "LEFT"],
            &["RPOPLPUSH", "other", "s"],
            &["LRANGE", "other", "0", "-1"],
            &["LMOVE", "s", "other", "LEFT", "LEFT"],
            &["RPOPLPUSH", "s", "other"],
            &["LMOVE", "s", "missing", "LEFT", "LEFT"],
            &["RPOPLPUSH", "missing", "s"],
            &["LMOVE", "missing", "s", "LEFT", "LEFT"],
            &["RPOPLPUSH", "other"],
            &["LMOVE", "other", "x", "LEFT"],
        ],
    );
}

fn lmpop(p: &mut Pair) {
    check_all(
        p,
        &[
            &["RPUSH", "a", "1", "2", "3", "4", "5"],
            &["RPUSH", "b", "x", "y"],
            &["LMPOP", "1", "a", "LEFT"],
            &["LMPOP", "1", "a", "RIGHT"],
            &["LMPOP", "2", "missing", "a", "LEFT", "COUNT", "2"],
            &["LMPOP", "2", "missing", "b", "right", "count", "10"],
            &["EXISTS", "b"],
            &["LMPOP", "2", "missing", "b", "LEFT"],
            &["LMPOP", "3", "missing", "b", "a", "RIGHT", "COUNT", "9223372036854775807"],
            &["EXISTS", "a"],
            &["LMPOP", "1", "a", "LEFT"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "1"],
            &["LMPOP", "0", "a", "LEFT"],
            &["LMPOP", "-1", "a", "LEFT"],
            &["LMPOP", "abc", "a", "LEFT"],
            &["LMPOP", "9223372036854775807", "a", "LEFT"],
            &["LMPOP", "9223372036854775808", "a", "LEFT"],
            &["LMPOP", "2", "a", "LEFT"],
            &["LMPOP", "3", "a", "LEFT"],
            &["LMPOP", "1", "a", "MIDDLE"],
            &["LMPOP", "1", "a", "LEFT", "COUNT"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "0"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "-1"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "abc"],
            &["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"],
            &["LMPOP", "1", "a", "LEFT", "FOO"],
            &["LMPOP", "1", "a"],
            &["LMPOP", "1"],
            &["RPUSH", "c", "1"],
            &["SET", "s", "v"],
            &["LMPOP", "2", "s", "c", "LEFT"],
            &["LMPOP", "2", "c", "s", "LEFT"],
            &["LMPOP", "2", "missing", "s", "LEFT"],
            &["LMPOP", "1", "missing", "LEFT"],
        ],
    );
}

/// The blocking commands when they need not wait: data is present, or they run inside MULTI
/// (where they cannot block and time out at once), and their argument errors.
fn blocking_without_waiting(p: &mut Pair) {
    check_all(
        p,
        &[
            &["RPUSH", "a", "1", "2", "3"],
            &["RPUSH", "b", "x"],
            &["BLPOP", "missing", "a", "0"],
            &["BRPOP", "missing", "a", "0"],
            &["BLPOP", "b", "a", "1.5"],
            &["EXISTS", "b"],
            &["BRPOPLPUSH", "a", "b", "0"],
            &["BLMOVE", "b", "a", "LEFT", "RIGHT", "0"],
            &["BLMOVE", "a", "a", "RIGHT", "LEFT", "0.001"],
            &["LRANGE", "a", "0", "-1"],
            &["RPUSH", "a", "4", "5", "6"],
            &["BLMPOP", "0", "2", "missing", "a", "LEFT", "COUNT", "2"],
            &["BLMPOP", "0", "1", "a", "RIGHT"],
            &["BLMPOP", "0", "1", "a", "RIGHT", "COUNT", "100"],
            &["EXISTS", "a"],
            // Argument errors come first, in Redis's order.
            &["BLPOP", "a", "-1"],
            &["BLPOP", "a", "abc"],
            &["BLPOP", "a", "nan"],
            &["BLPOP", "a", "inf"],
            &["BLPOP", "a", "1e30"],
            &["BLPOP", "a", ""],
            &["BRPOP", "a", "-0.5"],
            &["BLPOP", "a"],
            &["BLMOVE", "a", "b", "UP", "LEFT", "abc"],
            &["BLMOVE", "a", "b", "LEFT", "DOWN", "abc"],
            &["BLMOVE", "a", "b", "LEFT", "LEFT", "abc"],
            &["BLMOVE", "a", "b", "LEFT", "LEFT", "-1"],
            &["BRPOPLPUSH", "a", "b", "abc"],
            &["BRPOPLPUSH", "a", "b", "-1"],
            &["BLMPOP", "abc", "0", "a", "LEFT"],
            &["BLMPOP", "abc", "1", "a", "MIDDLE"],
            &["BLMPOP", "abc", "1", "a", "LEFT", "COUNT", "0"],
            &["BLMPOP", "abc", "1", "a", "LEFT"],
            &["BLMPOP", "-1", "1", "a", "LEFT"],
            &["BLMPOP", "0", "2", "a", "LEFT"],
            &["BLMPOP", "0", "1", "a"],
            &["SET", "s", "v"],
            &["BLPOP", "missing", "s", "0"],
            &["BLPOP", "s", "abc"],
            &["BLMOVE", "s", "a", "LEFT", "LEFT", "0"],
            &["BRPOPLPUSH", "s", "a", "0"],
            &["BLMPOP", "0", "2", "missing", "s", "LEFT"],
            &["RPUSH", "c", "1"],
            &["BLMOVE", "c", "s", "LEFT", "LEFT", "0"],
            &["BRPOPLPUSH", "c", "s", "0"],
            &["LRANGE", "c", "0", "-1"],
        ],
    );
    // Inside MULTI a blocking command never waits: with no data it answers its timeout reply.
    p.check(&["MULTI"]);
    for c in [
        &["BLPOP", "e1", "e2", "0"][..],
        &["BRPOP", "e1", "0"],
        &["BLMOVE", "e1", "e2", "LEFT", "RIGHT", "0"],
        &["BRPOPLPUSH", "e1", "e2", "0"],
        &["BLMPOP", "0", "2", "e1", "e2", "LEFT"],
        &["BLMPOP", "0", "1", "e1", "RIGHT", "COUNT", "3"],
        &["RPUSH", "e2", "v1", "v2"],
        &["BLPOP", "e1", "e2", "0"],
        &["BLMOVE", "e2", "e1", "LEFT", "RIGHT", "0"],
        &["BLMPOP", "0", "2", "e2", "e1", "LEFT", "COUNT", "5"],
        &["BLPOP", "e1", "abc"],
        &["BLPOP", "s", "0"],
    ] {
        p.check(c);
    }
    p.check(&["EXEC"]);
    p.check(&["EXISTS", "e1", "e2"]);
}

#[test]
fn pushes_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(pushes);
}

#[test]
fn pops_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(pops);
}

#[test]
fn index_and_range_reads_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(reads);
}

#[test]
fn lset_and_linsert_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(lset_linsert);
}

#[test]
fn lrem_and_ltrim_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(lrem_ltrim);
}

#[test]
fn lpos_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(lpos);
}

#[test]
fn lmove_and_rpoplpush_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(moves);
}

#[test]
fn lmpop_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(lmpop);
}

#[test]
fn blocking_commands_that_need_not_wait_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(blocking_without_waiting);
}

#[test]
fn dirty_counts_and_keyspace_statistics() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_counted(
        &mut p,
        &[
            &["RPUSH", "l", "a", "b", "c", "a", "b", "c"],
            &["LPUSH", "l", "x"],
            &["LPUSHX", "missing", "x", "y"],
            &["RPUSHX", "l", "y", "z"],
            &["LPOP", "l"],
            &["RPOP", "l", "2"],
            &["LPOP", "l", "0"],
            &["LPOP", "missing", "2"],
            &["LLEN", "l"],
            &["LLEN", "missing"],
            &["LINDEX", "l", "0"],
            &["LINDEX", "missing", "0"],
            &["LRANGE", "l", "0", "-1"],
            &["LRANGE", "missing", "0", "-1"],
            &["LPOS", "l", "a"],
            &["LPOS", "missing", "a"],
            &["LSET", "l", "0", "q"],
            &["LINSERT", "l", "before", "q", "p"],
            &["LINSERT", "l", "before", "nope", "p"],
            &["LREM", "l", "0", "a"],
            &["LREM", "l", "0", "nope"],
            &["LTRIM", "l", "0", "-1"],
            &["LTRIM", "l", "1", "-2"],
            &["LMOVE", "l", "m", "LEFT", "RIGHT"],
            &["RPOPLPUSH", "l", "m"],
            &["LMPOP", "2", "missing", "m", "LEFT", "COUNT", "5"],
            &["BLPOP", "l", "0"],
            &["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "3"],
            &["RPUSH", "z", "1", "2", "3"],
            &["LTRIM", "z", "5", "10"],
            &["LLEN", "z"],
        ],
    );
}

/// A subscriber on each server sees the same keyspace notifications, in the same order.
#[test]
fn keyspace_notifications_match() {
    let duo = Duo::start(&["--notify-keyspace-events", "KEA"]);
    let mut p = duo.pair();
    let mut sub = duo.pair_named("subscriber");
    sub.check(&["PSUBSCRIBE", "__key*__:*"]);
    let commands: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c"],
        &["LPUSH", "l", "z"],
        &["LPUSHX", "l", "y"],
        &["RPUSHX", "missing", "y"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["LSET", "l", "0", "w"],
        &["LINSERT", "l", "after", "w", "v"],
        &["LINSERT", "l", "after", "nope", "v"],
        &["LREM", "l", "0", "nope"],
        &["LREM", "l", "1", "v"],
        &["LTRIM", "l", "0", "-1"],
        &["RPUSH", "l", "1", "2"],
        &["LMOVE", "l", "m", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "m", "m"],
        &["LMOVE", "l", "l", "RIGHT", "LEFT"],
        &["RPOPLPUSH", "l", "m"],
        &["LMOVE", "l", "m", "LEFT", "LEFT"],
        &["RPOPLPUSH", "m", "n"],
        &["LMPOP", "2", "missing", "n", "RIGHT", "COUNT", "5"],
        &["BLPOP", "m", "0"],
        &["RPUSH", "q", "1", "2", "3"],
        &["BRPOP", "q", "0"],
        &["BLMOVE", "q", "r", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "q", "r", "0"],
        &["BLMPOP", "0", "1", "r", "LEFT", "COUNT", "10"],
        &["RPUSH", "t", "1", "2"],
        &["LTRIM", "t", "5", "1"],
        &["RPUSH", "t", "x", "x"],
        &["LREM", "t", "0", "x"],
    ];
    for c in commands {
        p.check(c);
        sub.check_published(&format!("notifications of {c:?}"));
    }
}

// ---------------------------------------------------------------------------
// Seeded random sequences
// ---------------------------------------------------------------------------

/// SplitMix64: a small deterministic generator, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &["k1", "k2", "k3", "k4", "str"];
const INDEXES: &[&str] = &["0", "1", "2", "3", "-1", "-2", "-3", "5", "-7", "20", "-20", "x"];
const COUNTS: &[&str] = &["0", "1", "2", "3", "5", "-1", "-2", "100", "9223372036854775807"];
const ENDS: &[&str] = &["LEFT", "RIGHT", "left", "right"];

fn random_element(rng: &mut Rng, long: &str) -> String {
    match rng.below(10) {
        0..=4 => ["a", "b", "c", "d"][rng.below(4)].to_string(),
        5 | 6 => ["0", "1", "-1", "42", "9223372036854775807", "-9223372036854775808", "007"][rng.below(7)].to_string(),
        7 => String::new(),
        8 => format!("{}{}", &long[..22 + rng.below(3)], rng.below(3)),
        _ => format!("{long}{}", rng.below(2)),
    }
}

fn random_command(rng: &mut Rng, long: &str) -> Vec<String> {
    let key = |rng: &mut Rng| rng.pick(KEYS).to_string();
    let mut c: Vec<String> = Vec::new();
    match rng.below(23) {
        0..=3 => {
            c.push(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"][rng.below(4)].into());
            c.push(key(rng));
            for _ in 0..1 + rng.below(6) {
                c.push(random_element(rng, long));
            }
        }
        4 | 5 => {
            c.push(["LPOP", "RPOP"][rng.below(2)].into());
            c.push(key(rng));
            if rng.below(2) == 0 {
                c.push(rng.pick(COUNTS).into());
            }
        }
        6 => c.extend(["LLEN".into(), key(rng)]),
        7 => c.extend(["LINDEX".into(), key(rng), rng.pick(INDEXES).into()]),
        8 | 9 => c.extend(["LRANGE".into(), key(rng), rng.pick(INDEXES).into(), rng.pick(INDEXES).into()]),
        10 => c.extend(["LSET".into(), key(rng), rng.pick(INDEXES).into(), random_element(rng, long)]),
        11 => c.extend([
            "LINSERT".into(),
            key(rng),
            ["BEFORE", "AFTER", "after"][rng.below(3)].into(),
            random_element(rng, long),
            random_element(rng, long),
        ]),
        12 => c.extend(["LREM".into(), key(rng), rng.pick(COUNTS).into(), random_element(rng, long)]),
        13 => c.extend(["LTRIM".into(), key(rng), rng.pick(INDEXES).into(), rng.pick(INDEXES).into()]),
        14 | 15 => {
            c.extend(["LPOS".into(), key(rng), random_element(rng, long)]);
            for _ in 0..rng.below(3) {
                match rng.below(3) {
                    0 => c.extend(["RANK".into(), ["1", "2", "-1", "-2", "3", "0"][rng.below(6)].into()]),
                    1 => c.extend(["COUNT".into(), ["0", "1", "2", "-1"][rng.below(4)].into()]),
                    _ => c.extend(["MAXLEN".into(), ["0", "1", "3", "10"][rng.below(4)].into()]),
                }
            }
        }
        16 | 17 => c.extend(["LMOVE".into(), key(rng), key(rng), rng.pick(ENDS).into(), rng.pick(ENDS).into()]),
        18 => c.extend(["RPOPLPUSH".into(), key(rng), key(rng)]),
        19 => {
            let n = 1 + rng.below(3);
            c.extend(["LMPOP".into(), n.to_string()]);
            for _ in 0..n {
                c.push(key(rng));
            }
            c.push(rng.pick(ENDS).into());
            if rng.below(2) == 0 {
                c.extend(["COUNT".into(), rng.pick(COUNTS).into()]);
            }
        }
        20 => c.extend(["SET".into(), "str".into(), random_element(rng, long)]),
        21 => c.extend(["DEL".into(), key(rng)]),
        _ => c.extend(["EXISTS".into(), key(rng)]),
    }
    c
}

/// A blocking command that cannot wait (wrapped in MULTI/EXEC by the caller).
fn random_blocking(rng: &mut Rng) -> Vec<String> {
    let key = |rng: &mut Rng| rng.pick(KEYS).to_string();
    match rng.below(4) {
        0 => vec![["BLPOP", "BRPOP"][rng.below(2)].into(), key(rng), key(rng), "0".into()],
        1 => vec!["BLMOVE".into(), key(rng), key(rng), rng.pick(ENDS).into(), rng.pick(ENDS).into(), "0".into()],
        2 => vec!["BRPOPLPUSH".into(), key(rng), key(rng), "0".into()],
        _ => vec![
            "BLMPOP".into(),
            "0".into(),
            "2".into(),
            key(rng),
            key(rng),
            rng.pick(ENDS).into(),
            "COUNT".into(),
            "2".into(),
        ],
    }
}

/// Sends `cmds` to both servers as one pipeline and compares every reply.
fn check_pipeline(p: &mut Pair, cmds: &[Vec<String>]) {
    let refs: Vec<Vec<&str>> = cmds.iter().map(|c| c.iter().map(String::as_str).collect()).collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    p.send_cmds(&slices);
    for c in &refs {
        p.check_read(&format!("{c:?}"));
    }
}

fn random_sequence(p: &mut Pair, seed: u64, ops: usize) {
    let mut rng = Rng(seed);
    let long = "L".repeat(40);
    let mut done = 0;
    while done < ops {
        let mut batch = Vec::new();
        for _ in 0..50 {
            if rng.below(40) == 0 {
                batch.push(vec!["MULTI".to_string()]);
                batch.push(random_blocking(&mut rng));
                batch.push(vec!["EXEC".to_string()]);
            } else {
                batch.push(random_command(&mut rng, &long));
            }
        }
        done += batch.len();
        let before = (dirty(&mut p.ours), dirty(&mut p.real));
        check_pipeline(p, &batch);
        let after = (dirty(&mut p.ours), dirty(&mut p.real));
        let (o, r) = ((after.0 - before.0).to_string(), (after.1 - before.1).to_string());
        p.compare(&format!("dirty changes of the batch ending at op {done} (seed {seed})"), o.as_bytes(), r.as_bytes());
        for k in KEYS {
            p.check(&["TYPE", k]);
            p.check(&["LRANGE", k, "0", "-1"]);
        }
        if !p.mismatches.is_empty() {
            // The first difference is the interesting one; stop before it cascades.
            p.assert_clean();
        }
    }
}

#[test]
fn random_sequence_resp2() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair_named("random RESP2");
    random_sequence(&mut p, 0x5EED_0001, 4000);
}

#[test]
fn random_sequence_resp3() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair_named("random RESP3");
    p.both(&["HELLO", "3"]);
    random_sequence(&mut p, 0x5EED_0002, 4000);
}

/// Setup commands, the key watched, the command run by another client.
type WatchCase = (&'static [&'static [&'static str]], &'static str, &'static [&'static str]);

/// Which keys a command marks as modified: a client WATCHing `watched` while another runs the
/// command sees its EXEC fail or not, exactly as with real Redis.
#[test]
fn watch_sees_the_keys_redis_marks_modified() {
    let duo = Duo::start(&[]);
    let mut watcher = duo.pair_named("watcher");
    let mut actor = duo.pair_named("actor");
    let cases: &[WatchCase] = &[
        (&[&["RPUSH", "k1", "a"]], "k2", &["LMPOP", "2", "k1", "k2", "LEFT"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LMPOP", "2", "k1", "k2", "LEFT"]),
        (&[&["RPUSH", "k2", "a"]], "k1", &["LMPOP", "2", "k1", "k2", "RIGHT", "COUNT", "3"]),
        (&[&["RPUSH", "k1", "a"]], "k2", &["BLPOP", "k1", "k2", "0"]),
        (&[&["RPUSH", "k1", "a", "b"]], "k2", &["BRPOP", "k1", "k2", "0"]),
        (&[&["RPUSH", "k1", "a", "b"]], "k1", &["BRPOP", "k1", "k2", "0"]),
        (&[&["RPUSH", "k1", "a"]], "k2", &["BLMPOP", "0", "2", "k1", "k2", "LEFT"]),
        (&[&["RPUSH", "k1", "a", "b"]], "k1", &["LTRIM", "k1", "0", "-1"]),
        (&[], "k1", &["LTRIM", "k1", "0", "-1"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LREM", "k1", "0", "zz"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LREM", "k1", "0", "a"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LINSERT", "k1", "before", "zz", "q"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LINSERT", "k1", "before", "a", "q"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LPOP", "k1", "0"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LSET", "k1", "5", "q"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["LSET", "k1", "0", "q"]),
        (&[], "k1", &["LPUSHX", "k1", "q"]),
        (&[&["RPUSH", "k1", "a"]], "k2", &["LMOVE", "k1", "k2", "LEFT", "LEFT"]),
        (&[&["RPUSH", "k1", "a"]], "k1", &["RPOPLPUSH", "k1", "k2"]),
        (&[&["RPUSH", "k1", "a"]], "k2", &["BLMOVE", "k1", "k2", "LEFT", "LEFT", "0"]),
        (&[], "k2", &["RPOPLPUSH", "k1", "k2"]),
    ];
    for (setup, watched, cmd) in cases {
        check_all(&mut actor, setup);
        watcher.check(&["WATCH", watched]);
        actor.check(cmd);
        watcher.check(&["MULTI"]);
        watcher.check(&["PING"]);
        let (o, r) = watcher.both(&["EXEC"]);
        watcher.compare(&format!("EXEC after {cmd:?} with {watched} watched"), &o, &r);
        actor.check(&["FLUSHALL"]);
    }
}

/// COMMAND INFO, COMMAND DOCS and COMMAND GETKEYS describe the list commands as Redis does.
#[test]
fn command_metadata_matches() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for name in [
        "lpush",
        "rpush",
        "lpushx",
        "rpushx",
        "lpop",
        "rpop",
        "llen",
        "lindex",
        "linsert",
        "lrange",
        "lrem",
        "lset",
        "ltrim",
        "lpos",
        "lmove",
        "rpoplpush",
        "lmpop",
        "blpop",
        "brpop",
        "blmove",
        "brpoplpush",
        "blmpop",
    ] {
        p.check(&["COMMAND", "INFO", name]);
        p.check(&["COMMAND", "DOCS", name]);
    }
    check_all(
        &mut p,
        &[
            &["COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"],
            &["COMMAND", "GETKEYS", "BLMPOP", "0", "3", "a", "b", "c", "RIGHT", "COUNT", "2"],
            &["COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"],
            &["COMMAND", "GETKEYS", "LMOVE", "a", "b", "LEFT", "RIGHT"],
            &["COMMAND", "GETKEYS", "BRPOPLPUSH", "a", "b", "0"],
        ],
    );
}

/// Lists under the generic key commands, and binary-safe elements.
fn with_generic_commands(p: &mut Pair) {
    check_all(
        p,
        &[
            &["RPUSH", "l", "a", "b\0c", "\r\n", "1"],
            &["LRANGE", "l", "0", "-1"],
            &["LPOS", "l", "b\0c"],
            &["LINSERT", "l", "AFTER", "\r\n", "after\0"],
            &["LREM", "l", "0", "b\0c"],
            &["LRANGE", "l", "0", "-1"],
            &["COPY", "l", "l2"],
            &["LRANGE", "l2", "0", "-1"],
            &["RENAME", "l", "l3"],
            &["EXPIRE", "l3", "1000"],
            &["LPUSH", "l3", "x"],
            &["TTL", "l3"],
            &["LMOVE", "l3", "l3", "LEFT", "RIGHT"],
            &["TTL", "l3"],
            &["LTRIM", "l3", "1", "0"],
            &["EXISTS", "l3"],
            &["RPUSH", "l3", "fresh"],
            &["TTL", "l3"],
            &["TYPE", "l2"],
            &["OBJECT", "ENCODING", "l2"],
            &["SET", "l2", "now a string"],
            &["LLEN", "l2"],
            &["DEL", "l2", "l3"],
            &["DBSIZE"],
        ],
    );
}

#[test]
fn lists_under_generic_commands_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(with_generic_commands);
}

/// Keywords are compared like C strings (up to a NUL byte), and arity errors.
fn keywords_and_arity(p: &mut Pair) {
    check_all(
        p,
        &[
            &["RPUSH", "l", "a", "b", "a"],
            &["LINSERT", "l", "after\0junk", "a", "x"],
            &["LINSERT", "l", "BEFORE\0", "b", "y"],
            &["LMOVE", "l", "m", "left\0x", "RIGHT\0"],
            &["LPOS", "l", "a", "RANK\0x", "2"],
            &["LPOS", "l", "a", "COUNT\0", "0"],
            &["LMPOP", "1", "l", "LEFT", "COUNT\0", "2"],
            &["LMPOP", "1", "l", "LEFT\0zz"],
            &["LRANGE", "l", "0", "-1"],
            &["LINDEX", "l"],
            &["LINDEX", "l", "0", "1"],
            &["LLEN"],
            &["LLEN", "l", "m"],
            &["LSET", "l", "0"],
            &["LINSERT", "l", "before", "a"],
            &["LREM", "l", "0"],
            &["LTRIM", "l", "0"],
            &["LRANGE", "l", "0"],
            &["LPOS", "l"],
            &["LMOVE", "l", "m", "LEFT"],
            &["RPOPLPUSH", "l"],
            &["RPOPLPUSH", "l", "m", "n"],
            &["BLMOVE", "l", "m", "LEFT", "LEFT"],
            &["BRPOPLPUSH", "l", "m"],
            &["BRPOP", "l"],
            &["BLMPOP", "0", "1", "l"],
            &["LMPOP", "1", "l"],
            &["lpush", "l", "lower"],
            &["LrAnGe", "l", "0", "0"],
        ],
    );
}

#[test]
fn keywords_and_arity_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(keywords_and_arity);
}
