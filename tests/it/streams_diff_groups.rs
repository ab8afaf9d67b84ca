//! Differential tests against Debian's real Redis 7.0 for stream consumer groups (issue 18):
//! XGROUP, XREADGROUP, XREAD, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO, with their error paths,
//! in RESP2 and RESP3. (The random workload and replicas are in streams_diff_workload, the AOF
//! and keyspace notifications in streams_diff_propagation.)
//!
//! Replies are compared byte for byte, except the times a stream's groups keep: idle times
//! (XPENDING's extended form, XINFO CONSUMERS' `idle`) and absolute delivery and seen times
//! (XINFO STREAM FULL's `seen-time` and the delivery times of its `pending` lists). Two servers
//! measure those a moment apart, so `Pair::check_timed` masks exactly those fields and requires
//! each within a tolerance of the real one. Every stream ID is explicit: `*` would take each
//! server's clock.
//!
//! Proved against real Redis on both sides with `REDIS_RS_DIFF_OURS=real` (see differential_support).

use crate::common::Reply;
use crate::differential_support::*;

/// Checks a command on both and asserts real Redis answered `expected`: the scenario is in the
/// state it means to test (so a scenario gone wrong on both sides still fails).
fn expect(p: &mut Pair, args: &[&str], expected: &str) {
    let real = p.check(args);
    assert_eq!(String::from_utf8_lossy(&real), expected, "real Redis's answer to {args:?} (the scenario went wrong)");
}

// ---------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------

/// The times in a stream reply, by where Redis puts them: the value after an `idle` or
/// `seen-time` key (XINFO CONSUMERS, XINFO STREAM FULL's consumers), and in a `pending` list of
/// XINFO STREAM FULL the delivery time of each entry (`[id, consumer, time, count]` in a group,
/// `[id, time, count]` in a consumer). Only integers are taken: stream data are bulk strings.
pub(crate) fn stream_times(v: &mut Reply, times: &mut Vec<i64>) {
    match v {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            let mut i = 0;
            while i + 1 < items.len() {
                let (key, rest) = items.split_at_mut(i + 1);
                mark_keyed(&key[i], &mut rest[0], times);
                i += 1;
            }
            items.iter_mut().for_each(|x| stream_times(x, times));
        }
        Reply::Map(kv) => kv.iter_mut().for_each(|(k, val)| {
            mark_keyed(k, val, times);
            stream_times(val, times);
        }),
        _ => {}
    }
}

fn mark_keyed(key: &Reply, val: &mut Reply, times: &mut Vec<i64>) {
    let Reply::Bulk(key) = key else { return };
    match key.as_slice() {
        b"idle" | b"seen-time" => take_time(val, times),
        b"pending" => {
            if let Reply::Array(entries) = val {
                for e in entries {
                    if let Reply::Array(f) = e {
                        match f.len() {
                            4 => take_time(&mut f[2], times),
                            3 => take_time(&mut f[1], times),
                            _ => {}
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// XPENDING's extended form: `[id, consumer, idle, deliveries]` per entry.
pub(crate) fn xpending_times(v: &mut Reply, times: &mut Vec<i64>) {
    if let Reply::Array(entries) = v {
        for e in entries {
            if let Reply::Array(f) = e {
                if f.len() == 4 {
                    take_time(&mut f[2], times);
                }
            }
        }
    }
}

pub(crate) fn check_xpending(p: &mut Pair, args: &[&str]) -> Vec<u8> {
    p.check_timed(args, xpending_times)
}

pub(crate) fn check_xinfo(p: &mut Pair, args: &[&str]) -> Vec<u8> {
    p.check_timed(args, stream_times)
}

// ---------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------

fn xgroup_create(p: &mut Pair) {
    expect(
        p,
        &["XGROUP", "CREATE", "s", "g", "$"],
        "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n",
    );
    expect(p, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], "+OK\r\n");
    expect(p, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], "-BUSYGROUP Consumer Group name already exists\r\n");
    check_all(
        p,
        &[
            &["TYPE", "s"],
            &["XLEN", "s"],
            &["XINFO", "GROUPS", "s"],
            &["XINFO", "STREAM", "s"],
            &["XADD", "s", "1-1", "f", "v1"],
            &["XADD", "s", "2-1", "f", "v2"],
            &["XADD", "s", "3-1", "f", "v3"],
            &["xgroup", "create", "s", "g2", "0"],
            &["XGROUP", "CREATE", "s", "g3", "$"],
            &["XGROUP", "CREATE", "s", "g4", "2-0"],
            &["XGROUP", "CREATE", "s", "g5", "1-1", "ENTRIESREAD", "1"],
            &["XGROUP", "CREATE", "s", "g6", "0", "entriesread", "-1"],
            &["XGROUP", "CREATE", "s", "g7", "2", "ENTRIESREAD", "10"],
            &["XGROUP", "CREATE", "s", "g8", "0", "MKSTREAM", "ENTRIESREAD", "0"],
            &["XGROUP", "CREATE", "s", "e1", "0", "ENTRIESREAD", "-2"],
            &["XGROUP", "CREATE", "s", "e1", "0", "ENTRIESREAD", "abc"],
            &["XGROUP", "CREATE", "s", "e1", "0", "ENTRIESREAD"],
            &["XGROUP", "CREATE", "s", "e1", "0", "BOGUS"],
            &["XGROUP", "CREATE", "s", "e1", "bad-id"],
            &["XGROUP", "CREATE", "s", "e1", "1-x"],
            &["XGROUP", "CREATE", "s", "e1", ">"],
            &["XGROUP", "CREATE", "s", "e1", "*"],
            &["XGROUP", "CREATE", "s", "e1", "-"],
            &["XGROUP", "CREATE", "s", "e2", "18446744073709551615-18446744073709551615"],
            &["XGROUP", "CREATE", "s", "e3", "18446744073709551616"],
            &["XGROUP", "CREATE", "s"],
            &["XGROUP", "CREATE", "s", "g"],
            &["XGROUP", "CREATE"],
            &["XGROUP"],
            &["XGROUP", "BOGUS"],
            &["XGROUP", "BOGUS", "s", "g"],
            &["SET", "str", "v"],
            &["XGROUP", "CREATE", "str", "g", "$"],
            &["XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"],
            &["XGROUP", "CREATE", "fresh", "g", "0-5", "MKSTREAM"],
            &["XINFO", "STREAM", "fresh"],
            &["XINFO", "GROUPS", "s"],
        ],
    );
}

fn xgroup_consumers_and_destroy(p: &mut Pair) {
    check_all(
        p,
        &[
            &["XADD", "s", "1-1", "f", "v1"],
            &["XADD", "s", "2-1", "f", "v2"],
            &["XGROUP", "CREATE", "s", "g", "0"],
            &["XGROUP", "CREATE", "s", "h", "0"],
        ],
    );
    expect(p, &["XGROUP", "CREATECONSUMER", "s", "g", "alice"], ":1\r\n");
    expect(p, &["XGROUP", "CREATECONSUMER", "s", "g", "alice"], ":0\r\n");
    check_all(
        p,
        &[
            &["xgroup", "createconsumer", "s", "g", "bob"],
            &["XGROUP", "CREATECONSUMER", "s", "nogroup", "alice"],
            &["XGROUP", "CREATECONSUMER", "missing", "g", "alice"],
            &["XGROUP", "CREATECONSUMER", "s", "g"],
            &["XGROUP", "CREATECONSUMER", "s", "g", "a", "b"],
            &["XGROUP", "CREATECONSUMER", "s", "g", ""],
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
            &["XINFO", "GROUPS", "s"],
        ],
    );
    check_xinfo(p, &["XINFO", "CONSUMERS", "s", "g"]);
    // DELCONSUMER answers how many pending entries the consumer had; they leave the group's PEL.
    expect(p, &["XGROUP", "DELCONSUMER", "s", "g", "bob"], ":2\r\n");
    check_all(
        p,
        &[
            &["XGROUP", "DELCONSUMER", "s", "g", "bob"],
            &["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
            &["XGROUP", "DELCONSUMER", "s", "nogroup", "alice"],
            &["XGROUP", "DELCONSUMER", "missing", "g", "alice"],
            &["XGROUP", "DELCONSUMER", "s", "g"],
            &["XPENDING", "s", "g"],
            &["XINFO", "GROUPS", "s"],
        ],
    );
    check_xinfo(p, &["XINFO", "CONSUMERS", "s", "g"]);
    expect(p, &["XGROUP", "DESTROY", "s", "h"], ":1\r\n");
    check_all(
        p,
        &[
            &["XGROUP", "DESTROY", "s", "h"],
            &["XGROUP", "DESTROY", "missing", "h"],
            &["XGROUP", "DESTROY", "s"],
            &["XGROUP", "DESTROY", "s", "h", "x"],
            &["SET", "str", "v"],
            &["XGROUP", "DESTROY", "str", "g"],
            &["XGROUP", "CREATECONSUMER", "str", "g", "c"],
            &["XGROUP", "DELCONSUMER", "str", "g", "c"],
            &["XGROUP", "SETID", "str", "g", "0"],
            &["XINFO", "GROUPS", "s"],
            &["XGROUP", "DESTROY", "s", "g"],
            &["XINFO", "GROUPS", "s"],
            &["EXISTS", "s"],
        ],
    );
}

fn xgroup_setid_and_help(p: &mut Pair) {
    check_all(
        p,
        &[
            &["XADD", "s", "1-1", "f", "v1"],
            &["XADD", "s", "2-1", "f", "v2"],
            &["XADD", "s", "3-1", "f", "v3"],
            &["XGROUP", "CREATE", "s", "g", "0"],
            &["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"],
            &["XGROUP", "SETID", "s", "g", "$"],
            &["XINFO", "GROUPS", "s"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
            &["XGROUP", "SETID", "s", "g", "0"],
            &["XINFO", "GROUPS", "s"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
            &["XGROUP", "SETID", "s", "g", "1-1", "ENTRIESREAD", "1"],
            &["XINFO", "GROUPS", "s"],
            &["XGROUP", "SETID", "s", "g", "1-1", "entriesread", "7"],
            &["XINFO", "GROUPS", "s"],
            &["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "-1"],
            &["XINFO", "GROUPS", "s"],
            &["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "-3"],
            &["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "x"],
            &["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD"],
            &["XGROUP", "SETID", "s", "g", "0", "BOGUS", "1"],
            &["XGROUP", "SETID", "s", "g", "0", "MKSTREAM"],
            &["XGROUP", "SETID", "s", "g", "bad"],
            &["XGROUP", "SETID", "s", "g", ">"],
            &["XGROUP", "SETID", "s", "g", "99-99"],
            &["XGROUP", "SETID", "s", "nogroup", "0"],
            &["XGROUP", "SETID", "missing", "g", "0"],
            &["XGROUP", "SETID", "s", "g"],
            &["XINFO", "GROUPS", "s"],
            &["XGROUP", "HELP"],
            &["xgroup", "help"],
            &["XGROUP", "HELP", "extra"],
            &["XGROUP", "CREATE", "HELP"],
        ],
    );
}

// ---------------------------------------------------------------------------
// XREADGROUP and XREAD
// ---------------------------------------------------------------------------

fn add_entries(p: &mut Pair, key: &str, ids: &[&str]) {
    for (i, id) in ids.iter().enumerate() {
        p.check(&["XADD", key, id, "field", &format!("value{i}"), "n", &i.to_string()]);
    }
}

fn xreadgroup(p: &mut Pair) {
    add_entries(p, "s", &["1-1", "2-1", "3-1", "4-1", "5-1"]);
    p.check(&["XGROUP", "CREATE", "s", "g", "0"]);
    check_all(
        p,
        &[
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
            // Nothing new: a null reply, not an empty one.
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
            // History: the entries this consumer owns, from an ID on.
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "0"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1-1"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1"],
            &["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"],
            // A deleted entry still pending shows in the history as its ID and a null.
            &["XDEL", "s", "2-1"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
            &["XADD", "s", "6-1", "f", "v"],
            &["XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "s", ">"],
            &["XPENDING", "s", "g"],
            &["XADD", "s", "7-1", "f", "v"],
            &["XREADGROUP", "GROUP", "g", "erin", "COUNT", "0", "STREAMS", "s", ">"],
            // Several streams, some with nothing new.
            &["XADD", "t", "1-1", "a", "1"],
            &["XADD", "t", "2-2", "b", "2"],
            &["XGROUP", "CREATE", "t", "g", "0"],
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "10", "STREAMS", "s", "t", ">", ">"],
            &["XADD", "t", "3-3", "c", "3"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "t", ">", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "t", "s", "0", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "s", ">", "0"],
            &["XPENDING", "s", "g"],
            &["XPENDING", "t", "g"],
            &["XINFO", "GROUPS", "s"],
            &["XINFO", "GROUPS", "t"],
        ],
    );
    check_xinfo(p, &["XINFO", "CONSUMERS", "s", "g"]);
    check_xpending(p, &["XPENDING", "s", "g", "-", "+", "100"]);
}

fn xreadgroup_errors(p: &mut Pair) {
    add_entries(p, "s", &["1-1", "2-1"]);
    p.check(&["XGROUP", "CREATE", "s", "g", "0"]);
    p.check(&["SET", "str", "v"]);
    check_all(
        p,
        &[
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "$"],
            &["XREADGROUP", "GROUP", "nogroup", "alice", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "missing", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "missing", ">", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "str", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "t", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS"],
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "-1", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "abc", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g"],
            &["XREADGROUP", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "-1", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "abc", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "bad-id"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1-x"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "-"],
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "+"],
            &["XREADGROUP", "GROUP", "g", "alice", "BOGUS", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "alice", "NOACK", "NOACK", "STREAMS", "s", ">"],
            &["XREAD", "GROUP", "g", "alice", "STREAMS", "s", ">"],
            &["XREAD", "NOACK", "STREAMS", "s", "0"],
            &["XREAD", "STREAMS", "s", ">"],
            &["XREAD", "STREAMS", "str", "0"],
            &["XREAD", "STREAMS", "s", "bad"],
            &["XREAD", "STREAMS", "s"],
            &["XREAD", "COUNT", "x", "STREAMS", "s", "0"],
            &["XREAD", "BLOCK", "-5", "STREAMS", "s", "0"],
            &["XREAD"],
            // Nothing was read by the failed calls.
            &["XPENDING", "s", "g"],
            &["XINFO", "GROUPS", "s"],
        ],
    );
}

fn xread(p: &mut Pair) {
    add_entries(p, "s", &["1-1", "2-1", "3-1"]);
    add_entries(p, "t", &["1-5", "9-9"]);
    check_all(
        p,
        &[
            &["XREAD", "STREAMS", "s", "0"],
            &["XREAD", "COUNT", "2", "STREAMS", "s", "0"],
            &["xread", "count", "1", "streams", "s", "t", "0", "0"],
            &["XREAD", "STREAMS", "s", "t", "3-1", "1-5"],
            &["XREAD", "STREAMS", "s", "t", "3-1", "0"],
            &["XREAD", "STREAMS", "s", "$"],
            &["XREAD", "STREAMS", "s", "2"],
            &["XREAD", "STREAMS", "s", "1-1"],
            &["XREAD", "STREAMS", "s", "18446744073709551615-18446744073709551615"],
            &["XREAD", "STREAMS", "missing", "0"],
            &["XREAD", "STREAMS", "missing", "s", "0", "0"],
            &["XREAD", "STREAMS", "s", "s", "0", "2-1"],
            &["XREAD", "COUNT", "0", "STREAMS", "s", "0"],
            &["XREAD", "BLOCK", "0", "STREAMS", "s", "0"],
            &["XREAD", "COUNT", "1", "COUNT", "2", "STREAMS", "s", "0"],
            &["XADD", "e", "MAXLEN", "0", "1-1", "f", "v"],
            &["XREAD", "STREAMS", "e", "0"],
            &["XREAD", "STREAMS", "e", "$"],
        ],
    );
}

// ---------------------------------------------------------------------------
// XACK and XPENDING
// ---------------------------------------------------------------------------

/// Five entries, a group `g`; alice was delivered 1-1..3-1, bob 4-1 and 5-1.
fn delivered(p: &mut Pair) {
    add_entries(p, "s", &["1-1", "2-1", "3-1", "4-1", "5-1"]);
    p.check(&["XGROUP", "CREATE", "s", "g", "0"]);
    p.check(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"]);
    p.check(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]);
    p.check(&["SET", "str", "v"]);
}

fn xack(p: &mut Pair) {
    delivered(p);
    expect(p, &["XACK", "s", "g", "1-1"], ":1\r\n");
    expect(p, &["XACK", "s", "g", "1-1"], ":0\r\n");
    // One invalid ID: an error, and nothing acknowledged.
    expect(p, &["XACK", "s", "g", "2-1", "bad"], "-ERR Invalid stream ID specified as stream command argument\r\n");
    check_all(
        p,
        &[
            &["XPENDING", "s", "g"],
            &["XACK", "s", "g", "2-1", "4-1", "99-1", "2-1"],
            &["XACK", "s", "g", "3"],
            &["XACK", "s", "nogroup", "3-1"],
            &["XACK", "missing", "g", "3-1"],
            &["XACK", "str", "g", "3-1"],
            &["XACK", "s", "g"],
            &["XACK", "s"],
            &["XPENDING", "s", "g"],
            &["XINFO", "GROUPS", "s"],
        ],
    );
    check_xinfo(p, &["XINFO", "CONSUMERS", "s", "g"]);
}

fn xpending(p: &mut Pair) {
    delivered(p);
    p.check(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]);
    check_all(
        p,
        &[
            &["XPENDING", "s", "g"],
            &["XPENDING", "s", "nogroup"],
            &["XPENDING", "missing", "g"],
            &["XPENDING", "str", "g"],
            &["XPENDING", "s"],
            &["XPENDING", "s", "g", "-"],
            &["XPENDING", "s", "g", "-", "+"],
            &["XPENDING", "s", "g", "-", "+", "abc"],
            &["XPENDING", "s", "g", "bad", "+", "10"],
            &["XPENDING", "s", "g", "-", "bad", "10"],
            &["XPENDING", "s", "g", "IDLE"],
            &["XPENDING", "s", "g", "IDLE", "abc", "-", "+", "10"],
            &["XPENDING", "s", "g", "IDLE", "10", "-", "+"],
            &["XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "10"],
            &["XPENDING", "s", "g", "-", "(0-0", "10"],
            &["XPENDING", "s", "g", "IDLE", "100000000", "-", "+", "10"],
            &["XPENDING", "s", "g", "+", "-", "10"],
            &["XPENDING", "s", "g", "-", "+", "0"],
            &["XPENDING", "s", "g", "-", "+", "-1"],
            &["XPENDING", "s", "g", "-", "+", "10", "nobody"],
            &["XGROUP", "CREATE", "s", "empty", "$"],
            &["XPENDING", "s", "empty"],
            &["XPENDING", "s", "empty", "-", "+", "10"],
        ],
    );
    for args in [
        &["XPENDING", "s", "g", "-", "+", "10"][..],
        &["XPENDING", "s", "g", "-", "+", "2"],
        &["XPENDING", "s", "g", "-", "+", "10", "alice"],
        &["XPENDING", "s", "g", "-", "+", "10", "bob"],
        &["XPENDING", "s", "g", "IDLE", "0", "-", "+", "10"],
        &["XPENDING", "s", "g", "idle", "-1", "-", "+", "10", "alice"],
        &["XPENDING", "s", "g", "(1-1", "+", "10"],
        &["XPENDING", "s", "g", "-", "(3-1", "10"],
        &["XPENDING", "s", "g", "(1-1", "(4-1", "10"],
        &["XPENDING", "s", "g", "2", "4", "10"],
        &["XPENDING", "s", "g", "2-1", "2-1", "10"],
        &["XPENDING", "s", "g", "-", "+", "9223372036854775807"],
        &["XPENDING", "s", "g", "-", "+", "10", "bob", "extra"],
    ] {
        check_xpending(p, args);
    }
    // Entries made idle for a long time by XCLAIM's IDLE are told from the rest by IDLE.
    p.check(&["XCLAIM", "s", "g", "alice", "0", "4-1", "IDLE", "5000000", "JUSTID"]);
    check_xpending(p, &["XPENDING", "s", "g", "IDLE", "1000000", "-", "+", "10"]);
    check_xpending(p, &["XPENDING", "s", "g", "IDLE", "1000000", "-", "+", "10", "bob"]);
}

// ---------------------------------------------------------------------------
// XCLAIM and XAUTOCLAIM
// ---------------------------------------------------------------------------

fn xclaim(p: &mut Pair) {
    delivered(p);
    check_all(
        p,
        &[
            &["XCLAIM", "s", "g", "bob", "0", "1-1"],
            // JUSTID does not count a delivery.
            &["XCLAIM", "s", "g", "bob", "0", "1-1", "JUSTID"],
            &["XCLAIM", "s", "g", "carol", "100000000", "2-1"],
            &["XCLAIM", "s", "g", "carol", "0", "2-1", "IDLE", "5000000"],
            &["XCLAIM", "s", "g", "carol", "0", "3-1", "TIME", "1000", "JUSTID"],
            &["XCLAIM", "s", "g", "carol", "0", "2-1", "RETRYCOUNT", "7", "JUSTID"],
            &["XCLAIM", "s", "g", "carol", "0", "99-1"],
            &["XCLAIM", "s", "g", "carol", "0", "1-1", "2-1", "99-1", "JUSTID"],
        ],
    );
    check_xpending(p, &["XPENDING", "s", "g", "-", "+", "10"]);
    check_all(
        p,
        &[
            // FORCE creates the PEL entry of an entry no one was delivered, if the entry exists.
            &["XADD", "s", "6-1", "f", "v"],
            &["XCLAIM", "s", "g", "dave", "0", "6-1", "FORCE", "JUSTID"],
            &["XCLAIM", "s", "g", "dave", "0", "100-1", "FORCE"],
            &["XCLAIM", "s", "g", "dave", "0", "4-1", "force"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "LASTID", "50-0", "JUSTID"],
            &["XINFO", "GROUPS", "s"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "LASTID", "1-0", "JUSTID"],
            &["XINFO", "GROUPS", "s"],
            // Options past the IDs, each misspelt or out of range.
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "LASTID", "bad"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "LASTID"],
            &["XCLAIM", "s", "g", "dave", "0", "bad"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "bad"],
            &["XCLAIM", "s", "g", "dave", "-1", "1-1", "JUSTID"],
            &["XCLAIM", "s", "g", "dave", "abc", "1-1"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "IDLE", "abc"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "IDLE"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "IDLE", "-5", "JUSTID"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "TIME", "abc"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "TIME", "99999999999999", "JUSTID"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "RETRYCOUNT", "-1"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "RETRYCOUNT", "abc"],
            &["XCLAIM", "s", "g", "dave", "0", "1-1", "BOGUS"],
            &["XCLAIM", "s", "nogroup", "dave", "0", "1-1"],
            &["XCLAIM", "missing", "g", "dave", "0", "1-1"],
            &["XCLAIM", "str", "g", "dave", "0", "1-1"],
            &["XCLAIM", "s", "g", "dave", "0"],
            &["XCLAIM", "s", "g", "dave"],
            // A deleted entry is dropped from the PEL when claimed.
            &["XDEL", "s", "3-1"],
            &["XCLAIM", "s", "g", "dave", "0", "3-1", "2-1"],
            &["XPENDING", "s", "g"],
            // The same consumer claims its own entry.
            &["XCLAIM", "s", "g", "dave", "0", "2-1"],
            &["XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", "0"],
        ],
    );
    check_xpending(p, &["XPENDING", "s", "g", "-", "+", "10"]);
    check_xinfo(p, &["XINFO", "CONSUMERS", "s", "g"]);
    check_xinfo(p, &["XINFO", "STREAM", "s", "FULL"]);
}

fn xautoclaim(p: &mut Pair) {
    delivered(p);
    check_all(
        p,
        &[
            &["XAUTOCLAIM", "s", "g", "carol", "100000000", "0"],
            &["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "2"],
            &["XAUTOCLAIM", "s", "g", "carol", "0", "3-1", "COUNT", "2", "JUSTID"],
            &["XAUTOCLAIM", "s", "g", "carol", "0", "(3-1", "JUSTID"],
            &["XAUTOCLAIM", "s", "g", "carol", "0", "-"],
            &["XAUTOCLAIM", "s", "g", "carol", "0", "0", "justid", "count", "1"],
            // Deleted entries are reported and leave the PEL.
            &["XDEL", "s", "2-1", "4-1"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0"],
            &["XPENDING", "s", "g"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "0"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "-1"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "abc"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "922337203685477580"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "bad"],
            &["XAUTOCLAIM", "s", "g", "dave", "abc", "0"],
            &["XAUTOCLAIM", "s", "g", "dave", "-1", "0", "JUSTID"],
            &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "BOGUS"],
            &["XAUTOCLAIM", "s", "nogroup", "dave", "0", "0"],
            &["XAUTOCLAIM", "missing", "g", "dave", "0", "0"],
            &["XAUTOCLAIM", "str", "g", "dave", "0", "0"],
            &["XAUTOCLAIM", "s", "g", "dave", "0"],
        ],
    );
    // Entries made idle for long, then claimed by idle time only.
    p.check(&["XCLAIM", "s", "g", "erin", "0", "5-1", "IDLE", "5000000", "JUSTID"]);
    check_all(
        p,
        &[
            &["XAUTOCLAIM", "s", "g", "frank", "1000000", "0"],
            &["XAUTOCLAIM", "s", "g", "frank", "1000000", "0"],
            &["XPENDING", "s", "g"],
        ],
    );
    check_xpending(p, &["XPENDING", "s", "g", "-", "+", "10"]);
    check_xinfo(p, &["XINFO", "CONSUMERS", "s", "g"]);
}

// ---------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------

fn xinfo(p: &mut Pair) {
    p.check(&["CONFIG", "SET", "stream-node-max-entries", "4"]);
    let ids: Vec<String> = (1..=11).map(|i| format!("{i}-0")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    add_entries(p, "s", &ids);
    check_all(
        p,
        &[
            &["XDEL", "s", "5-0"],
            &["XGROUP", "CREATE", "s", "g", "0"],
            &["XGROUP", "CREATE", "s", "h", "3-0"],
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"],
            &["XREADGROUP", "GROUP", "h", "alice", "COUNT", "1", "STREAMS", "s", ">"],
            &["XGROUP", "CREATECONSUMER", "s", "g", "idle-one"],
            &["XINFO", "STREAM", "s"],
            &["xinfo", "stream", "s"],
            &["XINFO", "GROUPS", "s"],
            &["OBJECT", "ENCODING", "s"],
            &["XINFO", "STREAM", "missing"],
            &["XINFO", "GROUPS", "missing"],
            &["XINFO", "CONSUMERS", "missing", "g"],
            &["XINFO", "CONSUMERS", "s", "nogroup"],
            &["SET", "str", "v"],
            &["XINFO", "STREAM", "str"],
            &["XINFO", "GROUPS", "str"],
            &["XINFO", "CONSUMERS", "str", "g"],
            &["XINFO", "STREAM", "s", "BOGUS"],
            &["XINFO", "STREAM", "s", "FULL", "BOGUS"],
            &["XINFO", "STREAM", "s", "FULL", "COUNT"],
            &["XINFO", "STREAM", "s", "FULL", "COUNT", "abc"],
            &["XINFO", "STREAM", "s", "FULL", "COUNT", "2", "extra"],
            &["XINFO", "STREAM"],
            &["XINFO", "GROUPS"],
            &["XINFO", "GROUPS", "s", "extra"],
            &["XINFO", "CONSUMERS", "s"],
            &["XINFO"],
            &["XINFO", "BOGUS"],
            &["XINFO", "HELP"],
            &["xinfo", "help"],
            &["XINFO", "HELP", "extra"],
        ],
    );
    for args in [
        &["XINFO", "CONSUMERS", "s", "g"][..],
        &["XINFO", "CONSUMERS", "s", "h"],
        &["XINFO", "STREAM", "s", "FULL"],
        &["XINFO", "STREAM", "s", "full", "count", "1"],
        &["XINFO", "STREAM", "s", "FULL", "COUNT", "0"],
        &["XINFO", "STREAM", "s", "FULL", "COUNT", "-1"],
        &["XINFO", "STREAM", "s", "FULL", "COUNT", "3"],
    ] {
        check_xinfo(p, args);
    }
    // A stream whose entries were all deleted, and an empty one made by MKSTREAM.
    check_all(
        p,
        &[
            &["XADD", "d", "1-1", "f", "v"],
            &["XADD", "d", "2-2", "f", "v"],
            &["XDEL", "d", "1-1", "2-2"],
            &["XINFO", "STREAM", "d"],
            &["XINFO", "STREAM", "d", "FULL"],
            &["XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"],
            &["XINFO", "STREAM", "empty"],
            &["XINFO", "STREAM", "empty", "FULL"],
            &["XINFO", "GROUPS", "empty"],
            &["XINFO", "CONSUMERS", "empty", "g"],
        ],
    );
    p.check(&["CONFIG", "SET", "stream-node-max-entries", "100"]);
}

#[test]
fn xgroup_create_as_real_redis() {
    Duo::start(&[]).in_both_protocols(xgroup_create);
}

#[test]
fn xgroup_consumers_and_destroy_as_real_redis() {
    Duo::start(&[]).in_both_protocols(xgroup_consumers_and_destroy);
}

#[test]
fn xgroup_setid_and_help_as_real_redis() {
    Duo::start(&[]).in_both_protocols(xgroup_setid_and_help);
}

#[test]
fn xreadgroup_as_real_redis() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(xreadgroup);
    duo.in_both_protocols(xreadgroup_errors);
}

#[test]
fn xread_as_real_redis() {
    Duo::start(&[]).in_both_protocols(xread);
}

#[test]
fn xack_and_xpending_as_real_redis() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(xack);
    duo.in_both_protocols(xpending);
}

#[test]
fn xclaim_and_xautoclaim_as_real_redis() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(xclaim);
    duo.in_both_protocols(xautoclaim);
}

#[test]
fn xinfo_as_real_redis() {
    Duo::start(&[]).in_both_protocols(xinfo);
}
