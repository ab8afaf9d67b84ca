//! Blocked stream readers woken by what the other scenarios (streams_diff_blocking) leave out,
//! compared with Debian's real Redis 7.0 (issue 18): their key expiring (the active expiry, with
//! no command to follow it, and the lazy one), several keys written in one transaction (a woken
//! XREAD answers from one key), a woken NOACK read with COUNT 0, and the command statistics the
//! wake-ups leave (calls and failed calls of XREAD/XREADGROUP, the error counters).

use std::time::{Duration, Instant};

use crate::common::Client;
use crate::differential_support::*;

fn blocked_clients(c: &mut Client) -> usize {
    let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).into_owned();
    list.lines().filter(|l| l.contains(" flags=b ")).count()
}

/// Waits until `n` clients are blocked on each server (real Redis first: if it never gets there
/// the scenario is wrong).
fn await_blocked(admin: &mut Pair, n: usize) {
    for (c, who) in [(&mut admin.real, "real Redis"), (&mut admin.ours, "ours")] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while blocked_clients(c) != n {
            assert!(Instant::now() < deadline, "{who} never had {n} blocked clients");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The command lines of the slow log's entries, newest first.
fn slowlog_lines(c: &mut Client) -> String {
    let reply = crate::common::Reply::parse(&c.cmd(&["SLOWLOG", "GET", "100"]));
    let mut out = Vec::new();
    for entry in reply.array() {
        let args: Vec<String> = entry.array()[3]
            .array()
            .iter()
            .map(|a| String::from_utf8_lossy(a.bulk().unwrap_or(b"?")).into_owned())
            .collect();
        out.push(args.join(" "));
    }
    out.join("\n")
}

/// The calls and failed calls of the stream read commands, and the error counters (times and
/// microseconds left out: they differ by nature).
fn read_stats(c: &mut Client) -> String {
    let mut out = Vec::new();
    for section in ["commandstats", "errorstats", "stats"] {
        let info = String::from_utf8_lossy(&c.cmd(&["INFO", section])).into_owned();
        for line in info.lines() {
            if line.starts_with("cmdstat_xread") {
                let kept: Vec<&str> =
                    line.split([':', ',']).filter(|f| f.starts_with("calls=") || f.contains("failed_calls=")).collect();
                out.push(format!("{} {}", line.split(':').next().unwrap_or(""), kept.join(",")));
            } else if line.starts_with("errorstat_") || line.starts_with("total_error_replies") {
                out.push(line.to_string());
            }
        }
    }
    out.sort();
    out.join("\n")
}

fn wakeups(duo: &Duo, resp: &str) {
    let mut admin = duo.pair_named(&format!("RESP{resp} admin"));
    admin.both(&["HELLO", resp]);
    admin.both(&["FLUSHALL"]);
    admin.both(&["CONFIG", "RESETSTAT"]);
    let mut group = duo.pair_named(&format!("RESP{resp} xreadgroup"));
    group.both(&["HELLO", resp]);
    let mut plain = duo.pair_named(&format!("RESP{resp} xread"));
    plain.both(&["HELLO", resp]);

    // The active expiry deletes the key with no command after it: the group reader is answered.
    admin.check(&["XADD", "s", "1-1", "f", "v"]);
    admin.check(&["XGROUP", "CREATE", "s", "g", "$"]);
    group.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]]);
    await_blocked(&mut admin, 1);
    plain.send_cmds(&[&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]]);
    await_blocked(&mut admin, 2);
    admin.check(&["PEXPIRE", "s", "20"]);
    group.check_read("XREADGROUP blocked on a key the active expiry deleted");
    await_blocked(&mut admin, 1);

    // The lazy expiry too (a read finding the key expired).
    admin.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    admin.check(&["XADD", "s", "1-1", "f", "v"]);
    admin.check(&["XGROUP", "CREATE", "s", "g", "$"]);
    group.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]]);
    await_blocked(&mut admin, 2);
    admin.check(&["PEXPIRE", "s", "1"]);
    std::thread::sleep(Duration::from_millis(20));
    admin.check(&["EXISTS", "s"]);
    group.check_read("XREADGROUP blocked on a key a read found expired");
    admin.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);

    // Several keys written in one transaction: the XREAD (still waiting on s since the first part,
    // for what follows 1-1) answers with s alone; a NOACK read with COUNT 0 takes every new entry
    // of t, pending nothing.
    admin.check(&["XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"]);
    group.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "NOACK", "COUNT", "0", "BLOCK", "0", "STREAMS", "t", ">"]]);
    await_blocked(&mut admin, 2);
    admin.both(&["MULTI"]);
    for args in [["XADD", "t", "5-0", "a", "1"], ["XADD", "s", "6-0", "b", "2"], ["XADD", "t", "7-0", "c", "3"]] {
        admin.both(&args);
    }
    admin.both(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    admin.both(&["SLOWLOG", "RESET"]);
    admin.check(&["EXEC"]);
    plain.check_read("XREAD on s (from the first part) served by MULTI XADD t, s, t EXEC");
    group.check_read("XREADGROUP NOACK COUNT 0 served by MULTI XADD t, s, t EXEC");
    admin.both(&["CONFIG", "SET", "slowlog-log-slower-than", "10000"]);
    // The woken reads are logged as the clients sent them (`$` and all).
    let (o, r) = (slowlog_lines(&mut admin.ours), slowlog_lines(&mut admin.real));
    admin.compare("the slow log of the transaction and the reads it served", o.as_bytes(), r.as_bytes());
    admin.check(&["XPENDING", "t", "g"]);

    // Timeouts, a destroyed group, then the statistics all of it left.
    plain.check(&["XREAD", "BLOCK", "20", "STREAMS", "s", "$"]);
    group.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "t", ">"]]);
    await_blocked(&mut admin, 1);
    admin.check(&["XGROUP", "DESTROY", "t", "g"]);
    group.check_read("XREADGROUP blocked on a group XGROUP DESTROY removed");
    let (o, r) = (read_stats(&mut admin.ours), read_stats(&mut admin.real));
    admin.compare("calls, failed calls and errors of the stream reads", o.as_bytes(), r.as_bytes());
    for p in [&mut admin, &mut group, &mut plain] {
        p.assert_clean();
    }
}

#[test]
fn blocked_stream_readers_woken_by_expiry_and_transactions_as_real_redis() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    wakeups(&duo, "2");
    wakeups(&duo, "3");
}

/// What the AOF (and so the replicas) receives for group reads the propagation scenarios leave
/// out: from a script (with and without NOACK), a blocked NOACK read served (its consumer created
/// explicitly, the group's last ID set), blocked reads served by a transaction and by a script,
/// and wake-ups that deliver nothing (an XREAD, a destroyed group).
#[test]
fn woken_and_scripted_group_reads_propagate_as_real_redis() {
    let mut d = crate::differential_propagation::Differ::start(&[]);
    d.script(&[
        "xadd s 1-1 f v1",
        "xadd s 2-1 f v2",
        "xgroup create s g 0",
        "eval return(redis.call('xreadgroup','group','g','alice','count','1','streams','s','>')) 0",
        "eval return(redis.call('xreadgroup','group','g','bob','noack','streams','s','>')) 0",
        "eval return(redis.call('xreadgroup','group','g','alice','streams','s','0')) 0",
    ]);
    d.served(&["xreadgroup group g carol noack block 0 streams s >"], "xadd s 3-1 f v3");
    d.served(
        &["xreadgroup group g dave count 1 block 0 streams s >", "xreadgroup group g erin block 0 streams s >"],
        "eval redis.call('xadd','s','4-1','f','v4');return(redis.call('xadd','s','5-1','f','v5')) 0",
    );
    d.served(&["xread block 0 streams s $", "xreadgroup group g frank block 0 streams s >"], "xadd s 6-1 f v6");
    d.served(&["xreadgroup group g gina block 0 streams s >"], "xgroup destroy s g");
    d.finish();
}

/// Replacing the whole dataset (DEBUG RELOAD, a replica's full sync) as real Redis tells the
/// clients registered on its keys (emptyData): a WATCH of a key that existed is broken, a group
/// reader whose stream comes back from the file waits on, one whose stream does not gets its error.
#[test]
fn dataset_replacements_wake_readers_and_break_watches_as_real_redis() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut admin = duo.pair_named("admin");
    let mut group = duo.pair_named("xreadgroup");
    let mut watcher = duo.pair_named("watcher");
    admin.both(&["FLUSHALL"]);

    admin.check(&["XADD", "s", "1-1", "f", "v"]);
    admin.check(&["XGROUP", "CREATE", "s", "g", "$"]);
    group.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]]);
    await_blocked(&mut admin, 1);
    watcher.check(&["WATCH", "s", "nothing-here"]);
    admin.check(&["DEBUG", "RELOAD"]);
    await_blocked(&mut admin, 1);
    watcher.check(&["MULTI"]);
    watcher.check(&["PING"]);
    watcher.check(&["EXEC"]);
    admin.check(&["XADD", "s", "2-1", "f", "v"]);
    group.check_read("XREADGROUP waiting across DEBUG RELOAD, served by XADD");

    // The file no longer has the stream: the reader learns it is gone.
    admin.check(&["DEL", "s"]);
    admin.check(&["SAVE"]);
    admin.check(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    group.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]]);
    await_blocked(&mut admin, 1);
    watcher.check(&["WATCH", "nothing-here"]);
    admin.check(&["DEBUG", "RELOAD", "NOSAVE"]);
    group.check_read("XREADGROUP on a stream DEBUG RELOAD NOSAVE did not find in the file");
    await_blocked(&mut admin, 0);
    watcher.check(&["MULTI"]);
    watcher.check(&["PING"]);
    watcher.check(&["EXEC"]);

    // A full sync from a master: the old data goes as FLUSHALL's would.
    let master = crate::common::Server::start_real(&["--repl-diskless-sync-delay", "0"]);
    master.client().cmd(&["SET", "from-master", "1"]);
    admin.check(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    admin.check(&["SET", "w", "1"]);
    group.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]]);
    await_blocked(&mut admin, 1);
    watcher.check(&["WATCH", "w"]);
    let port = master.port.to_string();
    admin.check(&["REPLICAOF", "127.0.0.1", &port]);
    for c in [&mut admin.real, &mut admin.ours] {
        crate::common::wait_for("the full sync from the master", Duration::from_secs(30), || {
            c.cmd(&["EXISTS", "from-master"]) == b":1\r\n"
        });
    }
    group.check_read("XREADGROUP on a stream a full sync removed");
    watcher.check(&["MULTI"]);
    watcher.check(&["PING"]);
    watcher.check(&["EXEC"]);
    admin.check(&["REPLICAOF", "NO", "ONE"]);
    for p in [&mut admin, &mut group, &mut watcher] {
        p.assert_clean();
    }
}
