//! Blocking stream reads with several clients (issue 18), compared with Debian's real Redis 7.0:
//! XREAD and XREADGROUP with BLOCK are served in arrival order and only by XADD (not by XDEL,
//! XTRIM or XSETID), `$` is resolved when the client blocks, and a blocked client is woken with
//! Redis's reply when its key is deleted, changes type, is flushed, renamed away or swapped out,
//! when its group is destroyed, on its timeout, by CLIENT UNBLOCK (TIMEOUT and ERROR); inside
//! MULTI nothing blocks. Each client is a `Pair` (one connection to each server), so every reply
//! every client gets is compared byte for byte, in RESP2 and RESP3. A scenario waits for a client
//! to be parked by polling CLIENT LIST (flags=b), never by sleeping.
//!
//! Proved against real Redis on both sides with `REDIS_RS_DIFF_OURS=real` (see differential_support).

use std::time::{Duration, Instant};

use crate::common::Client;
use crate::differential_support::*;

/// How many clients CLIENT LIST shows blocked (flags=b) in a stream read.
fn blocked_readers(c: &mut Client) -> usize {
    let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).into_owned();
    list.lines()
        .filter(|l| l.contains(" flags=b ") && (l.contains(" cmd=xread ") || l.contains(" cmd=xreadgroup ")))
        .count()
}

/// Waits until `n` stream readers are blocked on each server. Real Redis must get there (or the
/// scenario is wrong); ours not getting there is reported as a mismatch with its CLIENT LIST.
fn await_blocked(admin: &mut Pair, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while blocked_readers(&mut admin.real) != n {
        assert!(Instant::now() < deadline, "real Redis never had {n} blocked stream readers (the scenario is wrong)");
        std::thread::sleep(Duration::from_millis(10));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while blocked_readers(&mut admin.ours) != n {
        if Instant::now() > deadline {
            let list = String::from_utf8_lossy(&admin.ours.cmd(&["CLIENT", "LIST"])).into_owned();
            let ours =
                format!("{} blocked stream readers after 10 s; CLIENT LIST:\n{list}", blocked_readers(&mut admin.ours));
            admin.compare("blocked stream readers", ours.as_bytes(), format!("{n} blocked stream readers").as_bytes());
            admin.assert_clean();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Both servers still have exactly `n` blocked stream readers: a command that must not wake them
/// has not (its effects, serving included, are done before the server answers the next command).
fn still_blocked(admin: &mut Pair, n: usize, after: &str) {
    let (o, r) = (blocked_readers(&mut admin.ours), blocked_readers(&mut admin.real));
    assert_eq!(r, n, "real Redis's blocked readers after {after} (the scenario went wrong)");
    admin.compare(&format!("blocked stream readers after {after}"), o.to_string().as_bytes(), r.to_string().as_bytes());
}

/// A client on each server, in protocol `resp`.
fn client(duo: &Duo, resp: &str, label: &str) -> Pair {
    let mut p = duo.pair_named(&format!("RESP{resp} {label}"));
    p.both(&["HELLO", resp]);
    p
}

/// Runs `scenario(duo, admin, resp)` in RESP2 then RESP3, each from an empty dataset.
fn in_both_protocols(duo: &Duo, scenario: fn(&Duo, &mut Pair, &str)) {
    for resp in ["2", "3"] {
        let mut admin = client(duo, resp, "admin");
        admin.both(&["FLUSHALL"]);
        scenario(duo, &mut admin, resp);
        admin.assert_clean();
    }
}

/// Sends a (blocking) command on a client without reading its reply.
fn park(c: &mut Pair, args: &[&str]) {
    c.send_cmds(&[args]);
}

// ---------------------------------------------------------------------------
// Who is served, in what order, by what
// ---------------------------------------------------------------------------

fn served_in_arrival_order(duo: &Duo, admin: &mut Pair, resp: &str) {
    admin.check(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut readers: Vec<Pair> = (1..=3).map(|i| client(duo, resp, &format!("consumer c{i}"))).collect();
    for (i, r) in readers.iter_mut().enumerate() {
        park(r, &["XREADGROUP", "GROUP", "g", &format!("c{}", i + 1), "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"]);
        await_blocked(admin, i + 1);
    }
    // Each new entry goes to the client that blocked first; the others stay blocked.
    for (i, id) in ["1-1", "2-1", "3-1"].iter().enumerate() {
        admin.check(&["XADD", "s", id, "f", "v"]);
        readers[i].check_read(&format!("XREADGROUP served by XADD {id}"));
        still_blocked(admin, 2 - i, &format!("XADD {id}"));
    }
    admin.check(&["XPENDING", "s", "g"]);
    admin.check(&["XINFO", "GROUPS", "s"]);

    // Plain XREADs are all served by one XADD, each with what it asked for.
    let mut plain: Vec<Pair> = (1..=3).map(|i| client(duo, resp, &format!("xread {i}"))).collect();
    park(&mut plain[0], &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    await_blocked(admin, 1);
    park(&mut plain[1], &["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "other", "s", "$", "$"]);
    await_blocked(admin, 2);
    park(&mut plain[2], &["XREAD", "BLOCK", "0", "STREAMS", "s", "2-1"]);
    // Not blocked: 3-1 is already after 2-1.
    plain[2].check_read("XREAD BLOCK 0 STREAMS s 2-1 (answered at once)");
    still_blocked(admin, 2, "an XREAD that had data");
    // A transaction's entries are all there when the clients are served.
    admin.both(&["MULTI"]);
    admin.both(&["XADD", "s", "4-1", "f", "v"]);
    admin.both(&["XADD", "s", "5-1", "f", "v"]);
    admin.check(&["EXEC"]);
    plain[0].check_read("XREAD $ served by MULTI XADD XADD EXEC");
    plain[1].check_read("XREAD COUNT 1 on two streams served by MULTI XADD XADD EXEC");

    // A blocked XREADGROUP NOACK, served, leaves nothing pending.
    let mut noack = client(duo, resp, "noack");
    park(&mut noack, &["XREADGROUP", "GROUP", "g", "n", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"]);
    noack.check_read("XREADGROUP NOACK with entries waiting (answered at once)");
    park(&mut noack, &["XREADGROUP", "GROUP", "g", "n", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"]);
    await_blocked(admin, 1);
    admin.check(&["XADD", "s", "6-1", "f", "v"]);
    noack.check_read("XREADGROUP NOACK served by XADD");
    admin.check(&["XPENDING", "s", "g"]);
}

fn only_xadd_wakes(duo: &Duo, admin: &mut Pair, resp: &str) {
    admin.check(&["XADD", "s", "1-1", "f", "v"]);
    admin.check(&["XADD", "s", "2-1", "f", "v"]);
    admin.check(&["XGROUP", "CREATE", "s", "g", "$"]);
    let mut xread = client(duo, resp, "xread");
    let mut group = client(duo, resp, "xreadgroup");
    park(&mut xread, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    await_blocked(admin, 1);
    park(&mut group, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    await_blocked(admin, 2);
    for (args, what) in [
        (&["XDEL", "s", "1-1"][..], "XDEL"),
        (&["XTRIM", "s", "MAXLEN", "0"], "XTRIM"),
        (&["XSETID", "s", "9-0"], "XSETID"),
        (&["XGROUP", "SETID", "s", "g", "0"], "XGROUP SETID"),
        (&["XGROUP", "CREATECONSUMER", "s", "g", "other"], "XGROUP CREATECONSUMER"),
    ] {
        admin.check(args);
        still_blocked(admin, 2, what);
    }
    // An XADD wakes them even when its own trimming leaves nothing new to read.
    admin.check(&["XADD", "s", "NOMKSTREAM", "MAXLEN", "0", "9-1", "f", "v"]);
    xread.check_read("XREAD $ woken by XADD MAXLEN 0");
    group.check_read("XREADGROUP > woken by XADD MAXLEN 0");
    park(&mut xread, &["XREAD", "BLOCK", "0", "STREAMS", "s", "s", "s", "$", "$", "$"]);
    await_blocked(admin, 1);
    park(&mut group, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    await_blocked(admin, 2);
    // An entry added and the key deleted in one transaction: nothing to serve.
    admin.both(&["MULTI"]);
    admin.both(&["XADD", "s", "9-5", "f", "v"]);
    admin.both(&["DEL", "s"]);
    admin.both(&["LPUSH", "s", "x"]);
    admin.check(&["EXEC"]);
    admin.check(&["DEL", "s"]);
    still_blocked(admin, 1, "MULTI XADD DEL LPUSH EXEC");
    group.check_read("XREADGROUP > woken by the key's deletion in MULTI XADD DEL LPUSH EXEC");
    admin.check(&["XADD", "s", "10-1", "f", "v"]);
    xread.check_read("XREAD s s s $ $ $ served by XADD 10-1");
    still_blocked(admin, 0, "XADD 10-1");
}

fn dollar_resolved_at_block_time(duo: &Duo, admin: &mut Pair, resp: &str) {
    admin.check(&["XADD", "s", "1-1", "f", "v"]);
    let mut a = client(duo, resp, "a");
    let mut b = client(duo, resp, "b");
    park(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    await_blocked(admin, 1);
    admin.check(&["XADD", "s", "2-1", "f", "v"]);
    // a waits for what comes after 1-1 (its `$`), b for what comes after 2-1.
    a.check_read("XREAD $ (parked at 1-1) served by XADD 2-1");
    park(&mut b, &["XREAD", "BLOCK", "0", "STREAMS", "s", "missing", "$", "$"]);
    await_blocked(admin, 1);
    admin.check(&["XADD", "missing", "5-5", "f", "v"]);
    b.check_read("XREAD $ $ served by XADD to a new key");
    // An XREADGROUP blocked with an ID other than `>` is answered at once from its history.
    admin.check(&["XGROUP", "CREATE", "s", "g", "0"]);
    park(&mut a, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0"]);
    a.check_read("XREADGROUP BLOCK with history ID 0 (empty history, answered at once)");
    still_blocked(admin, 0, "XREADGROUP with a history ID");
}

// ---------------------------------------------------------------------------
// Wake-ups without data
// ---------------------------------------------------------------------------

/// Parks an XREADGROUP (and an XREAD) on `s` with group `g`, runs `wake`, and compares what the
/// clients got: XREADGROUP gets an error; XREAD stays blocked until an entry comes.
fn woken_by(duo: &Duo, admin: &mut Pair, resp: &str, wake: &[&[&str]], what: &str) {
    admin.check(&["DEL", "s"]);
    admin.check(&["XADD", "s", "666-0", "f", "v"]);
    admin.check(&["XGROUP", "CREATE", "s", "g", "$"]);
    let mut group = client(duo, resp, &format!("xreadgroup woken by {what}"));
    let mut plain = client(duo, resp, &format!("xread through {what}"));
    park(&mut group, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    await_blocked(admin, 1);
    park(&mut plain, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    await_blocked(admin, 2);
    for cmd in wake {
        admin.check(cmd);
    }
    group.check_read(&format!("XREADGROUP blocked, then {what}"));
    still_blocked(admin, 1, what);
    admin.check(&["DEL", "s"]);
    admin.check(&["XADD", "s", "667-0", "f", "v"]);
    plain.check_read(&format!("XREAD $ blocked through {what}, then served by XADD"));
}

fn woken_without_data(duo: &Duo, admin: &mut Pair, resp: &str) {
    woken_by(duo, admin, resp, &[&["DEL", "s"]], "DEL");
    woken_by(duo, admin, resp, &[&["UNLINK", "s"]], "UNLINK");
    woken_by(duo, admin, resp, &[&["SET", "s", "v"]], "SET (type changed)");
    woken_by(duo, admin, resp, &[&["MULTI"], &["DEL", "s"], &["SADD", "s", "e"], &["EXEC"]], "MULTI DEL SADD EXEC");
    woken_by(duo, admin, resp, &[&["FLUSHALL"]], "FLUSHALL");
    woken_by(duo, admin, resp, &[&["FLUSHDB"]], "FLUSHDB");
    woken_by(duo, admin, resp, &[&["RENAME", "s", "elsewhere"]], "RENAME away");
    woken_by(duo, admin, resp, &[&["SWAPDB", "0", "5"]], "SWAPDB to an empty database");
    woken_by(
        duo,
        admin,
        resp,
        &[&["SELECT", "5"], &["FLUSHDB"], &["LPUSH", "s", "e"], &["SWAPDB", "5", "0"], &["SELECT", "0"]],
        "SWAPDB (a list)",
    );
    woken_by(duo, admin, resp, &[&["XGROUP", "DESTROY", "s", "g"]], "XGROUP DESTROY");
    admin.check(&["FLUSHALL"]);
}

fn renamed_onto(duo: &Duo, admin: &mut Pair, resp: &str) {
    // A stream renamed onto the key: served if it has the group, -NOGROUP if not.
    admin.check(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut c = client(duo, resp, "xreadgroup");
    park(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    await_blocked(admin, 1);
    admin.check(&["XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"]);
    admin.check(&["XADD", "s2", "100-0", "f1", "v1"]);
    admin.check(&["RENAME", "s2", "s"]);
    c.check_read("XREADGROUP served by RENAME of a stream with the group");
    park(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    await_blocked(admin, 1);
    admin.check(&["XADD", "s3", "200-0", "f1", "v1"]);
    admin.check(&["RENAME", "s3", "s"]);
    c.check_read("XREADGROUP woken by RENAME of a stream without the group");
    // An XREAD on a key a stream with entries is renamed onto.
    park(&mut c, &["XREAD", "BLOCK", "0", "STREAMS", "t", "0"]);
    await_blocked(admin, 1);
    admin.check(&["RENAME", "s", "t"]);
    c.check_read("XREAD served by RENAME onto its key");
}

fn timeouts_and_client_unblock(duo: &Duo, admin: &mut Pair, resp: &str) {
    admin.check(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut c = client(duo, resp, "blocked");
    // A timeout: a null reply. An entry added and deleted while blocked is no data.
    c.check(&["XREAD", "BLOCK", "30", "STREAMS", "s", "$"]);
    c.check(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "30", "STREAMS", "s", ">"]);
    admin.check(&["XADD", "s", "667-0", "f", "v"]);
    admin.check(&["XDEL", "s", "667-0"]);
    c.check(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "30", "STREAMS", "s", ">"]);
    c.check(&["XREAD", "BLOCK", "30", "COUNT", "5", "STREAMS", "s", "t", "$", "$"]);

    // CLIENT UNBLOCK: each server has its own client id.
    let ids: Vec<String> = [&mut c.ours, &mut c.real]
        .into_iter()
        .map(|cl| crate::common::Reply::parse(&cl.cmd(&["CLIENT", "ID"])).int().to_string())
        .collect();
    for (blocker, how) in [
        (&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"][..], "TIMEOUT"),
        (&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], "ERROR"),
        (&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"], "TIMEOUT"),
        (&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"], "ERROR"),
        (&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], "timeout"),
    ] {
        park(&mut c, blocker);
        await_blocked(admin, 1);
        let o = admin.ours.cmd(&["CLIENT", "UNBLOCK", &ids[0], how]);
        let r = admin.real.cmd(&["CLIENT", "UNBLOCK", &ids[1], how]);
        assert_eq!(r, b":1\r\n", "real Redis's CLIENT UNBLOCK {how}");
        admin.compare(&format!("CLIENT UNBLOCK <id> {how} of {blocker:?}"), &o, &r);
        c.check_read(&format!("{blocker:?} after CLIENT UNBLOCK {how}"));
    }
    let o = admin.ours.cmd(&["CLIENT", "UNBLOCK", &ids[0]]);
    let r = admin.real.cmd(&["CLIENT", "UNBLOCK", &ids[1]]);
    admin.compare("CLIENT UNBLOCK of a client not blocked", &o, &r);
    admin.check(&["XINFO", "GROUPS", "s"]);
}

fn no_blocking_in_multi(duo: &Duo, admin: &mut Pair, resp: &str) {
    admin.check(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut c = client(duo, resp, "multi");
    for args in [
        &["MULTI"][..],
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"],
        &["XREAD", "BLOCK", "0", "STREAMS", "missing", "0"],
        &["XADD", "s", "1-1", "f", "v"],
        &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"],
        &["EXEC"],
    ] {
        c.check(args);
    }
    still_blocked(admin, 0, "a transaction's blocking reads");
    // In a script too: XREAD with BLOCK is refused.
    c.check(&["EVAL", "return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', 's', '$')", "0"]);
    c.check(&["EVAL", "return redis.pcall('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '>')", "0"]);
    c.check(&["EVAL", "return redis.call('XREAD', 'STREAMS', 's', '0')", "0"]);
}

#[test]
fn blocked_stream_readers_served_in_arrival_order_as_real_redis() {
    in_both_protocols(&Duo::start(&[]), served_in_arrival_order);
}

#[test]
fn only_xadd_wakes_blocked_stream_readers_as_real_redis() {
    in_both_protocols(&Duo::start(&[]), only_xadd_wakes);
}

#[test]
fn dollar_is_resolved_when_blocking_as_real_redis() {
    in_both_protocols(&Duo::start(&[]), dollar_resolved_at_block_time);
}

#[test]
fn blocked_stream_readers_woken_without_data_as_real_redis() {
    let duo = Duo::start(&[]);
    in_both_protocols(&duo, woken_without_data);
    in_both_protocols(&duo, renamed_onto);
}

#[test]
fn stream_read_timeouts_and_client_unblock_as_real_redis() {
    in_both_protocols(&Duo::start(&[]), timeouts_and_client_unblock);
}

#[test]
fn stream_reads_do_not_block_in_multi_or_scripts_as_real_redis() {
    in_both_protocols(&Duo::start(&[]), no_blocking_in_multi);
}
