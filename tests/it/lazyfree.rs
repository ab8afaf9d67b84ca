//! Lazy freeing beyond UNLINK and FLUSH ASYNC (those are in edges_b), side by side with Debian's
//! real Redis 7.0: what lazyfree-lazy-server-del, lazyfree-lazy-eviction, lazyfree-lazy-expire,
//! lazyfree-lazy-user-flush and replica-lazy-flush hand to the lazy free thread, as
//! lazyfreed_objects counts it (one per value of more than 64 allocations, one per key of a
//! flushed database), and nothing while they are off.

use std::time::Duration;

use crate::common::{wait_for, Client, Server};
use crate::differential_support::*;

/// A set of `n` members in a hash table (members that are not integers): 1 + n allocations.
const FILL: &str = "for i=1,tonumber(ARGV[1]) do redis.call('sadd', KEYS[1], i .. 'x') end return 1";
const ZFILL: &str = "for i=1,tonumber(ARGV[1]) do redis.call('zadd', KEYS[1], i, i .. 'x') end return 1";
const LFILL: &str = "for i=1,tonumber(ARGV[1]) do redis.call('rpush', KEYS[1], i .. string.rep('x', 40)) end return 1";

fn lazyfreed(c: &mut Client) -> String {
    wait_for("the lazy free thread to finish", Duration::from_secs(20), || {
        c.info_field("memory", "lazyfree_pending_objects") == "0"
    });
    c.info_field("memory", "lazyfreed_objects")
}

/// Once nothing is pending on either server, both have freed as many objects in the background,
/// and that many: `expected` pins the count, so that the comparison cannot pass with nothing
/// happening on both sides.
fn check_lazyfreed(p: &mut Pair, after: &str, expected: &str) {
    let (o, r) = (lazyfreed(&mut p.ours), lazyfreed(&mut p.real));
    p.compare(&format!("lazyfreed_objects after {after}"), o.as_bytes(), r.as_bytes());
    assert_eq!(r, expected, "real Redis's lazyfreed_objects after {after}");
}

/// Deletions and overwrites a command makes on its own (dbDelete, dbOverwrite): with
/// lazyfree-lazy-server-del, each big value they remove is freed in the background.
#[test]
fn server_side_deletes_free_in_the_background_under_lazyfree_lazy_server_del() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for (lazy, per_step) in [("no", 0), ("yes", 1)] {
        check_all(&mut p, &[&["CONFIG", "RESETSTAT"], &["CONFIG", "SET", "lazyfree-lazy-server-del", lazy]]);
        // Each step on keys of its own, so that no step finds another's value in the way.
        let steps: &[(&str, &[&[&str]])] = &[
            ("SET over a big set", &[&["EVAL", FILL, "1", "s1", "100"], &["SET", "s1", "x"]]),
            ("MSET over a big set", &[&["EVAL", FILL, "1", "s2", "100"], &["MSET", "s2", "x", "t2", "y"]]),
            ("SETEX over a big set", &[&["EVAL", FILL, "1", "s3", "100"], &["SETEX", "s3", "100", "x"]]),
            (
                "RENAME over a big target",
                &[&["EVAL", FILL, "1", "t4", "100"], &["SET", "s4", "1"], &["RENAME", "s4", "t4"]],
            ),
            (
                "COPY REPLACE over a big target",
                &[&["EVAL", FILL, "1", "t5", "100"], &["SET", "s5", "1"], &["COPY", "s5", "t5", "REPLACE"]],
            ),
            (
                "SUNIONSTORE over a big destination",
                &[&["EVAL", FILL, "1", "d6", "100"], &["SADD", "s6", "a"], &["SUNIONSTORE", "d6", "s6"]],
            ),
            (
                "ZUNIONSTORE of nothing deletes a big destination",
                &[&["EVAL", ZFILL, "1", "z7", "200"], &["ZUNIONSTORE", "z7", "1", "nokey"]],
            ),
            (
                "SORT STORE over a big list",
                &[&["EVAL", LFILL, "1", "l8", "30000"], &["RPUSH", "n8", "3", "1"], &["SORT", "n8", "STORE", "l8"]],
            ),
        ];
        let mut expected = 0;
        for (what, cmds) in steps {
            check_all(&mut p, cmds);
            expected += per_step;
            check_lazyfreed(&mut p, &format!("{what} (lazyfree-lazy-server-del {lazy})"), &expected.to_string());
        }
        // The set SUNION computes is freed like a deleted value (SINTER's is not). Their replies
        // come in each server's hash order: the counts say what happened.
        check_all(&mut p, &[&["EVAL", FILL, "1", "u9", "100"]]);
        p.both(&["SUNION", "u9"]);
        p.both(&["SINTER", "u9"]);
        expected += per_step;
        check_lazyfreed(&mut p, &format!("SUNION and SINTER (lazyfree-lazy-server-del {lazy})"), &expected.to_string());
        p.both(&["FLUSHALL", "SYNC"]);
    }
    p.assert_clean();
}

/// Keys evicted under maxmemory with lazyfree-lazy-eviction: each big one in the background.
#[test]
fn evicted_keys_free_in_the_background_under_lazyfree_lazy_eviction() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for (lazy, expected) in [("no", "0"), ("yes", "3")] {
        check_all(
            &mut p,
            &[
                &["CONFIG", "RESETSTAT"],
                &["CONFIG", "SET", "lazyfree-lazy-eviction", lazy],
                &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
                &["EVAL", FILL, "1", "e1", "1000"],
                &["EVAL", FILL, "1", "e2", "1000"],
                &["EVAL", FILL, "1", "e3", "1000"],
            ],
        );
        // Far below what either server uses: every key goes.
        p.both(&["CONFIG", "SET", "maxmemory", "1"]);
        wait_both("every key evicted", &mut p, |c| c.cmd(&["DBSIZE"]) == b":0\r\n");
        check_all(&mut p, &[&["CONFIG", "SET", "maxmemory", "0"], &["INFO", "keyspace"]]);
        check_lazyfreed(&mut p, &format!("eviction with lazyfree-lazy-eviction {lazy}"), expected);
    }
    p.assert_clean();
}

/// Keys the active expiry removes, and EXPIRE with a time already past, under
/// lazyfree-lazy-expire.
#[test]
fn expired_keys_free_in_the_background_under_lazyfree_lazy_expire() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for (lazy, per_step) in [("no", 0), ("yes", 1)] {
        check_all(&mut p, &[&["CONFIG", "RESETSTAT"], &["CONFIG", "SET", "lazyfree-lazy-expire", lazy]]);
        check_all(&mut p, &[&["EVAL", FILL, "1", "s", "100"], &["PEXPIRE", "s", "1"]]);
        // DBSIZE counts a key until it is deleted, without touching it: the active expiry did it.
        wait_both("the active expiry", &mut p, |c| c.cmd(&["DBSIZE"]) == b":0\r\n");
        check_lazyfreed(&mut p, &format!("active expiry (lazyfree-lazy-expire {lazy})"), &per_step.to_string());
        check_all(&mut p, &[&["EVAL", FILL, "1", "s", "100"], &["EXPIRE", "s", "-1"], &["EXISTS", "s"]]);
        let both = (2 * per_step).to_string();
        check_lazyfreed(&mut p, &format!("EXPIRE in the past (lazyfree-lazy-expire {lazy})"), &both);
    }
    p.assert_clean();
}

/// FLUSHALL and FLUSHDB without ASYNC or SYNC follow lazyfree-lazy-user-flush: one object per
/// key of the flushed databases.
#[test]
fn flushes_follow_lazyfree_lazy_user_flush() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    check_all(
        &mut p,
        &[
            &["CONFIG", "RESETSTAT"],
            &["SET", "a", "1"],
            &["FLUSHALL"],
            &["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"],
            &["SET", "a", "1"],
            &["SET", "b", "1"],
            &["FLUSHDB"],
            &["SET", "c", "1"],
            &["FLUSHALL"],
        ],
    );
    check_lazyfreed(&mut p, "flushes under lazyfree-lazy-user-flush", "3");
    p.assert_clean();
}

/// A replica's old dataset, flushed for a full sync, goes to the lazy free thread with
/// replica-lazy-flush (one object per key it held), and is freed at once without; loaded with
/// repl-diskless-load swapdb, the old dataset always goes to the thread (discardTempDb).
#[test]
fn a_replica_flushes_its_old_data_in_the_background_under_replica_lazy_flush() {
    let mut seen = Vec::new();
    for real in [false, true] {
        let start = |args: &[&str]| if real { Server::start_real(args) } else { start_ours(args) };
        let master = start(&[]);
        let mut counts = Vec::new();
        for (lazy, load) in [("no", "disabled"), ("yes", "disabled"), ("no", "swapdb")] {
            let replica = start(&[]);
            let mut r = replica.client();
            for cmd in [
                &["CONFIG", "SET", "replica-lazy-flush", lazy][..],
                &["CONFIG", "SET", "repl-diskless-load", load],
                &["SET", "a", "1"],
                &["SET", "b", "1"],
                &["EVAL", FILL, "1", "s", "100"],
                &["SELECT", "2"],
                &["SET", "c", "1"],
            ] {
                assert!(!r.cmd(cmd).starts_with(b"-"), "{cmd:?}");
            }
            r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
            wait_for("the replica to sync", Duration::from_secs(20), || {
                r.cmd_str(&["INFO", "replication"]).contains("master_link_status:up")
            });
            counts.push(lazyfreed(&mut r));
        }
        seen.push(counts);
    }
    assert_eq!(seen[0], seen[1], "ours, then real Redis: lazyfreed_objects after the sync, without and with");
    assert_eq!(seen[1], ["0", "4", "4"]);
}

/// Under lazyfree-lazy-user-del, GETDEL is replayed as UNLINK (as DEL is), to the AOF and the
/// replicas; without it, as DEL.
#[test]
fn getdel_replays_unlink_under_lazyfree_lazy_user_del() {
    for lazy in ["no", "yes"] {
        let mut d = crate::differential_propagation::Differ::start(&["--lazyfree-lazy-user-del", lazy]);
        d.script(&["set g:a v", "getdel g:a", "getdel g:a", "set g:b v", "del g:b"]);
        d.finish();
    }
}
