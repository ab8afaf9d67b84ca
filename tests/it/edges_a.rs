//! Edges of Redis 7.0 compared with Debian's real redis-server, byte for byte: what EXEC checks
//! again when it runs, how TTLs are propagated, lazy expiry under SCAN/RANDOMKEY/KEYS and WATCH,
//! RESET, MOVE, CLIENT PAUSE.

use crate::common::free_port;
use crate::differential_support::*;

/// The EXECABORT reply for a transaction refused, at EXEC, with `reason`.
fn execabort(reason: &str) -> String {
    format!("-EXECABORT Transaction discarded because of: {reason}\r\n")
}

/// Runs a transaction on both, with `between` run by another client after the commands were
/// queued, and compares every reply; returns the real EXEC's reply.
fn transaction(p: &mut Pair, admin: &mut Pair, queued: &[&[&str]], between: &[&[&str]]) -> Vec<u8> {
    p.check(&["MULTI"]);
    for c in queued {
        p.check(c);
    }
    for c in between {
        admin.check(c);
    }
    p.check(&["EXEC"])
}

/// min-replicas-to-write raised after the writes were queued: EXEC is refused as the writes
/// would have been; a transaction of reads still runs. Commands not queued after an error do not
/// count (EXEC then fails for that error).
#[test]
fn exec_rechecks_min_replicas_to_write() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let mut admin = duo.pair_named("admin");
        let on = ["CONFIG", "SET", "min-replicas-to-write", "1"];
        let off = ["CONFIG", "SET", "min-replicas-to-write", "0"];
        let r = transaction(p, &mut admin, &[&["SET", "k", "v"], &["GET", "k"]], &[&on]);
        assert_eq!(String::from_utf8_lossy(&r), execabort("NOREPLICAS Not enough good replicas to write."));
        p.check(&["GET", "k"]);
        let r = transaction(p, &mut admin, &[&["GET", "k"], &["EXISTS", "k"]], &[]);
        assert!(r.starts_with(b"*2"), "{}", String::from_utf8_lossy(&r));
        // Scripts count as what they declare: a shebang without flags writes; no shebang, or
        // no-writes, does not.
        admin.check(&off);
        let r = transaction(p, &mut admin, &[&["EVAL", "#!lua\nreturn 1", "0"]], &[&on]);
        assert_eq!(String::from_utf8_lossy(&r), execabort("NOREPLICAS Not enough good replicas to write."));
        admin.check(&off);
        let r = transaction(
            p,
            &mut admin,
            &[&["EVAL", "return 1", "0"], &["EVAL", "#!lua flags=no-writes\nreturn 2", "0"]],
            &[&on],
        );
        assert!(r.starts_with(b"*2"), "{}", String::from_utf8_lossy(&r));
        // Refused when queued: EXEC then fails for that.
        transaction(p, &mut admin, &[&["SET", "k", "v"]], &[]);
        admin.check(&off);
        let r = transaction(p, &mut admin, &[&["NOSUCHCOMMAND"], &["SET", "k", "v"]], &[&on]);
        assert_eq!(r, b"-EXECABORT Transaction discarded because of previous errors.\r\n");
        admin.check(&off);
        // The WATCHes go with the refused transaction.
        p.check(&["WATCH", "k"]);
        transaction(p, &mut admin, &[&["SET", "k", "v"]], &[&on]);
        admin.check(&off);
        admin.check(&["SET", "k", "other"]);
        transaction(p, &mut admin, &[&["GET", "k"]], &[]);
    });
}

/// Out of memory after the transaction was queued: EXEC is refused if a queued command is
/// DENYOOM, runs if none is; queueing itself is refused while out of memory.
#[test]
fn exec_rechecks_maxmemory() {
    let duo = Duo::start(&["--maxmemory-policy", "noeviction"]);
    duo.in_both_protocols(|p| {
        let mut admin = duo.pair_named("admin");
        let oom = ["CONFIG", "SET", "maxmemory", "1"];
        let ok = ["CONFIG", "SET", "maxmemory", "0"];
        p.check(&["SET", "k", "v"]);
        let r = transaction(p, &mut admin, &[&["GET", "k"], &["APPEND", "k", "w"]], &[&oom]);
        assert_eq!(String::from_utf8_lossy(&r), execabort("OOM command not allowed when used memory > 'maxmemory'."));
        admin.check(&ok);
        // DEL is a write that frees memory: not DENYOOM.
        transaction(p, &mut admin, &[&["GET", "k"], &["STRLEN", "k"]], &[&oom]);
        transaction(p, &mut admin, &[&["DEL", "k"]], &[]);
        transaction(p, &mut admin, &[&["GET", "k"]], &[]);
        admin.check(&ok);
    });
}

/// A replica whose link went down while the transaction was queued, with
/// replica-serve-stale-data turned off: EXEC is refused unless every queued command may run on a
/// stale replica. A read-only replica refuses EXEC of writes, not of reads.
#[test]
fn exec_rechecks_stale_and_read_only_replica() {
    let duo = Duo::start(&[]);
    let dead = free_port().to_string();
    duo.in_both_protocols(|p| {
        let mut admin = duo.pair_named("admin");
        admin.check(&["SET", "k", "v"]);
        admin.check(&["REPLICAOF", "127.0.0.1", &dead]);
        let stale_no = ["CONFIG", "SET", "replica-serve-stale-data", "no"];
        let stale_yes = ["CONFIG", "SET", "replica-serve-stale-data", "yes"];
        let r = transaction(p, &mut admin, &[&["GET", "k"], &["ECHO", "e"]], &[&stale_no]);
        assert_eq!(
            String::from_utf8_lossy(&r),
            execabort("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
        );
        transaction(p, &mut admin, &[&["ECHO", "e"], &["SELECT", "0"]], &[]);
        admin.check(&stale_yes);
        transaction(p, &mut admin, &[&["ECHO", "e"]], &[&stale_no]);
        admin.check(&stale_yes);

        admin.check(&["CONFIG", "SET", "replica-read-only", "no"]);
        let ro = ["CONFIG", "SET", "replica-read-only", "yes"];
        let r = transaction(p, &mut admin, &[&["SET", "k", "w"], &["GET", "k"]], &[&ro]);
        assert_eq!(String::from_utf8_lossy(&r), execabort("READONLY You can't write against a read only replica."));
        let r = transaction(p, &mut admin, &[&["GET", "k"]], &[]);
        assert_eq!(r, b"*1\r\n$1\r\nv\r\n");
        transaction(p, &mut admin, &[&["SET", "k", "w"]], &[]);
        admin.check(&["REPLICAOF", "NO", "ONE"]);
    });
}

/// The EXEC of a transaction with one PING: run, or aborted by a touched WATCH (nil).
fn exec_ping(p: &mut Pair) -> Vec<u8> {
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"])
}

/// WATCH of a key already expired (Redis 7.0's watchedKey.expired): the key is not deleted by
/// WATCH, its later deletion changes nothing logically, and SWAPDB decides by what each database
/// holds, expired keys included (touchAllWatchedKeysInDb).
#[test]
fn watch_of_expired_keys_and_swapdb() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut admin = duo.pair_named("admin");
    admin.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    duo.in_both_protocols(|p| {
        let mut admin = duo.pair_named("admin");
        let mut db1 = duo.pair_named("db1");
        db1.check(&["SELECT", "1"]);
        let expired = |c: &mut Pair, key: &str| {
            c.check(&["SET", key, "v", "PXAT", "1"]);
        };
        // WATCH leaves the expired key in place; its lazy deletion does not abort EXEC.
        expired(&mut admin, "a");
        p.check(&["WATCH", "a"]);
        admin.check(&["DBSIZE"]);
        admin.check(&["GET", "a"]);
        admin.check(&["DBSIZE"]);
        assert_eq!(exec_ping(p), b"*1\r\n+PONG\r\n");
        // Written after its deletion: aborted.
        expired(&mut admin, "b");
        p.check(&["WATCH", "b"]);
        admin.check(&["SET", "b", "new"]);
        exec_ping(p);
        // FLUSHALL deleting only an expired watched key: no change.
        expired(&mut admin, "c");
        p.check(&["WATCH", "c"]);
        admin.check(&["FLUSHALL"]);
        exec_ping(p);
        // SWAPDB: a missing key replaced by an expired one is no change...
        expired(&mut db1, "d");
        p.check(&["WATCH", "d"]);
        admin.check(&["SWAPDB", "0", "1"]);
        assert_eq!(exec_ping(p), b"*1\r\n+PONG\r\n");
        admin.check(&["FLUSHALL"]);
        // ...nor an expired one replaced by an expired one, or by nothing...
        expired(&mut admin, "e");
        expired(&mut db1, "e");
        p.check(&["WATCH", "e"]);
        admin.check(&["SWAPDB", "0", "1"]);
        exec_ping(p);
        admin.check(&["FLUSHALL"]);
        expired(&mut admin, "f");
        p.check(&["WATCH", "f"]);
        admin.check(&["SWAPDB", "0", "1"]);
        exec_ping(p);
        admin.check(&["FLUSHALL"]);
        // ...but an expired one replaced by a live one is, as a live one replaced by anything.
        expired(&mut admin, "g");
        db1.check(&["SET", "g", "live"]);
        p.check(&["WATCH", "g"]);
        admin.check(&["SWAPDB", "0", "1"]);
        exec_ping(p);
        admin.check(&["FLUSHALL"]);
        admin.check(&["SET", "h", "live"]);
        expired(&mut db1, "h");
        p.check(&["WATCH", "h"]);
        admin.check(&["SWAPDB", "0", "1"]);
        exec_ping(p);
        admin.check(&["FLUSHALL"]);
        // A key watched while missing, swapped in expired, then swapped back out.
        expired(&mut db1, "i");
        p.check(&["WATCH", "i"]);
        admin.check(&["SWAPDB", "0", "1"]);
        admin.check(&["SWAPDB", "0", "1"]);
        exec_ping(p);
        admin.check(&["FLUSHALL"]);
        // Every difference reported at once, by the scenario's pair.
        p.mismatches.append(&mut admin.mismatches);
        p.mismatches.append(&mut db1.mismatches);
    });
}

/// CLIENT INFO's fields that RESET may change, for comparing two servers.
fn connection_state(b: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(b);
    let kept = ["name", "flags", "db", "sub", "psub", "ssub", "multi", "user", "resp", "cmd"];
    let fields: Vec<&str> =
        text.split_whitespace().filter(|f| f.split_once('=').is_some_and(|(k, _)| kept.contains(&k))).collect();
    fields.join(" ").into_bytes()
}

/// RESET clears what Redis's clearClientConnectionState clears (database, RESP version, name,
/// transaction and WATCHes, subscriptions, MONITOR, CLIENT REPLY, authentication) and keeps the
/// rest (CLIENT NO-EVICT).
#[test]
fn reset_clears_the_connection_state() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut other = duo.pair_named("other");
    let info = |p: &mut Pair| {
        p.check_with(&["CLIENT", "INFO"], connection_state);
    };
    p.check(&["SELECT", "5"]);
    p.check(&["CLIENT", "SETNAME", "conn"]);
    p.check(&["CLIENT", "NO-EVICT", "on"]);
    p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
    p.check(&["WATCH", "w"]);
    p.check(&["MULTI"]);
    p.check(&["SET", "k", "v"]);
    info(&mut p);
    p.check(&["RESET"]);
    info(&mut p);
    p.check(&["EXEC"]);
    p.check(&["GET", "k"]);
    // The WATCH went too.
    other.check(&["SET", "w", "x"]);
    p.check(&["MULTI"]);
    p.check(&["GET", "w"]);
    p.check(&["EXEC"]);
    p.check(&["CLIENT", "NO-EVICT", "off"]);

    // Subscriptions go, without unsubscribe messages.
    p.check(&["SUBSCRIBE", "c"]);
    p.check(&["PSUBSCRIBE", "p*"]);
    info(&mut p);
    p.check(&["RESET"]);
    info(&mut p);
    other.check(&["PUBSUB", "NUMSUB", "c"]);
    other.check(&["PUBSUB", "NUMPAT"]);
    other.check(&["PUBLISH", "c", "m"]);
    p.check(&["PING"]);

    // CLIENT REPLY OFF: RESET answers, and replies are back.
    p.send_cmds(&[&["CLIENT", "REPLY", "OFF"], &["SET", "a", "1"]]);
    p.check(&["RESET"]);
    p.check(&["GET", "a"]);
    // After SKIP the RESET is the command whose reply is skipped.
    p.send_cmds(&[&["CLIENT", "REPLY", "SKIP"], &["RESET"]]);
    p.check(&["PING"]);

    // MONITOR stops.
    p.check(&["MONITOR"]);
    p.check(&["RESET"]);
    other.check(&["SET", "after", "monitor"]);
    p.check(&["PING"]);
    info(&mut p);
    p.assert_clean();
    other.assert_clean();
}

/// With requirepass, a client that authenticated is no longer after RESET.
#[test]
fn reset_forgets_authentication() {
    let duo = Duo::start(&["--requirepass", "pw"]);
    let mut p = duo.pair();
    p.check(&["GET", "k"]);
    p.check(&["AUTH", "pw"]);
    p.check(&["SET", "k", "v"]);
    p.check(&["RESET"]);
    p.check(&["GET", "k"]);
    p.check_with(&["CLIENT", "INFO"], connection_state);
    p.check(&["AUTH", "default", "pw"]);
    p.check(&["GET", "k"]);
    p.check_with(&["CLIENT", "INFO"], connection_state);
    p.assert_clean();
}

/// The keyspace notifications a subscriber got since its last look, compared on both.
fn check_events(sub: &mut Pair, what: &str) {
    sub.send_cmds(&[&["PING"]]);
    let (o, r) = (read_until_pong(&mut sub.ours), read_until_pong(&mut sub.real));
    sub.compare(&format!("events of {what}"), &o, &r);
}

/// MOVE of every type, with its TTL, its errors, its keyspace events, and the WATCHes of both
/// databases.
#[test]
fn move_every_type_with_ttl_events_and_watch() {
    let duo = Duo::start(&["--notify-keyspace-events", "KEA"]);
    duo.in_both_protocols(|p| {
        let mut sub = duo.pair_named("events");
        sub.check_n(&["PSUBSCRIBE", "__key*@*__:*"], 1);
        let mut db1 = duo.pair_named("db1");
        db1.check(&["SELECT", "1"]);
        db1.check(&["FLUSHDB"]);
        check_events(&mut sub, "the flushes");
        let at = "99999999999000";
        let make: &[(&str, &[&[&str]])] = &[
            ("str", &[&["SET", "str", "v"]]),
            ("list", &[&["RPUSH", "list", "a", "b"]]),
            ("set", &[&["SADD", "set", "a", "1"]]),
            ("zset", &[&["ZADD", "zset", "1", "a", "2", "b"]]),
            ("hash", &[&["HSET", "hash", "f", "v"]]),
            (
                "stream",
                &[
                    &["XADD", "stream", "1-1", "f", "v"],
                    &["XGROUP", "CREATE", "stream", "g", "0"],
                    &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "stream", ">"],
                ],
            ),
        ];
        for (key, cmds) in make {
            for c in *cmds {
                p.check(c);
            }
            p.check(&["PEXPIREAT", key, at]);
            check_events(&mut sub, &format!("making {key}"));
            p.check(&["MOVE", key, "1"]);
            check_events(&mut sub, &format!("MOVE {key} 1"));
            p.check(&["EXISTS", key]);
            db1.check(&["TYPE", key]);
            db1.check(&["PEXPIRETIME", key]);
            db1.check(&["OBJECT", "ENCODING", key]);
        }
        db1.check(&["XINFO", "GROUPS", "stream"]);
        db1.check(&["XPENDING", "stream", "g"]);
        db1.check(&["LRANGE", "list", "0", "-1"]);
        db1.check(&["ZRANGE", "zset", "0", "-1", "WITHSCORES"]);
        // A key without TTL stays without one.
        p.check(&["SET", "plain", "v"]);
        p.check(&["MOVE", "plain", "1"]);
        db1.check(&["PEXPIRETIME", "plain"]);
        // Nothing moved: missing, already there, same database, bad indexes.
        p.check(&["MOVE", "nokey", "1"]);
        p.check(&["SET", "str", "again"]);
        p.check(&["MOVE", "str", "1"]);
        p.check(&["GET", "str"]);
        db1.check(&["GET", "str"]);
        check_events(&mut sub, "moves that move nothing");
        for db in ["0", "16", "-1", "abc", "2147483648", "1.5", ""] {
            p.check(&["MOVE", "str", db]);
        }
        p.check(&["MOVE", "nokey", "0"]);
        p.check(&["MOVE"]);
        // A key expired in either database: deleted, and it does not block the move.
        p.check(&["SET", "gone", "v", "PXAT", "1"]);
        p.check(&["MOVE", "gone", "1"]);
        p.check(&["SET", "target", "v"]);
        db1.check(&["SET", "target", "old", "PXAT", "1"]);
        p.check(&["MOVE", "target", "1"]);
        db1.check(&["GET", "target"]);
        check_events(&mut sub, "moves with expired keys");

        // WATCHes of the key in both databases are touched.
        let mut w0 = duo.pair_named("watch db0");
        let mut w1 = duo.pair_named("watch db1");
        w1.check(&["SELECT", "1"]);
        p.check(&["SET", "w", "v"]);
        w0.check(&["WATCH", "w"]);
        w1.check(&["WATCH", "w"]);
        p.check(&["MOVE", "w", "1"]);
        for w in [&mut w0, &mut w1] {
            w.check(&["MULTI"]);
            w.check(&["PING"]);
            w.check(&["EXEC"]);
        }
        for other in [&mut db1, &mut w0, &mut w1] {
            p.mismatches.append(&mut other.mismatches);
        }
        p.mismatches.append(&mut sub.mismatches);
    });
}

/// A client blocked in the destination database on the moved key is served; MOVE replays as
/// itself.
#[test]
fn move_serves_clients_blocked_in_the_destination() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let mut blocked = duo.pair_named("blocked");
        blocked.check(&["SELECT", "1"]);
        blocked.send_cmds(&[&["BLPOP", "l", "0"]]);
        wait_both("BLPOP parked", p, |c| c.cmd_str(&["INFO", "clients"]).contains("blocked_clients:1"));
        p.check(&["RPUSH", "l", "a", "b"]);
        p.check(&["MOVE", "l", "1"]);
        blocked.check_read("the BLPOP served by MOVE");
        blocked.check(&["LRANGE", "l", "0", "-1"]);
        blocked.send_cmds(&[&["BZPOPMIN", "z", "0"]]);
        wait_both("BZPOPMIN parked", p, |c| c.cmd_str(&["INFO", "clients"]).contains("blocked_clients:1"));
        p.check(&["ZADD", "z", "1", "m"]);
        p.check(&["MOVE", "z", "1"]);
        blocked.check_read("the BZPOPMIN served by MOVE");
        // A reader blocked on a stream moved away from its database learns it is gone.
        let mut reader = duo.pair_named("reader");
        p.check(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        reader.send_cmds(&[&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]]);
        wait_both("XREADGROUP parked", p, |c| c.cmd_str(&["INFO", "clients"]).contains("blocked_clients:1"));
        p.check(&["MOVE", "s", "1"]);
        reader.check_read("the XREADGROUP woken by MOVE");
        p.mismatches.append(&mut blocked.mismatches);
        p.mismatches.append(&mut reader.mismatches);
    });
}

/// INFO's blocked_clients (clients held back by a pause count as blocked, as in Redis).
fn blocked_clients(c: &mut crate::common::Client) -> i64 {
    let info = c.cmd_str(&["INFO", "clients"]);
    let field = info.lines().find_map(|l| l.strip_prefix("blocked_clients:"));
    field.and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
}

fn wait_blocked(p: &mut Pair, n: i64, what: &str) {
    wait_both(what, p, |c| blocked_clients(c) == n);
}

/// Under CLIENT PAUSE WRITE, what Redis holds back (writes, may-replicate commands such as
/// PUBLISH and PFCOUNT, scripts that may write, EXEC of a transaction with such commands, such a
/// command being queued) waits, what it lets through answers at once, and CLIENT UNPAUSE releases
/// the waiting clients in the order they came.
#[test]
fn client_pause_write_holds_back_what_redis_holds_back() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(&["SET", "foo", "bar"]);
        p.check(&["PFADD", "hll", "a"]);
        p.check(&["FUNCTION", "LOAD", "REPLACE", FUNCTIONS]);
        let mut r = duo.pair_named("reader");
        r.check(&["MULTI"]);
        r.check(&["SET", "foo", "queued before the pause"]);
        p.check(&["CLIENT", "PAUSE", "100000", "WRITE"]);
        // Let through: reads, read-only scripts and functions, transactions of those.
        let passing: &[&[&str]] = &[
            &["GET", "foo"],
            &["PING"],
            &["EXISTS", "foo"],
            &["EVAL", "#!lua flags=no-writes\nreturn 'ro script'", "0"],
            &["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "foo"],
            &["FCALL", "ro", "0"],
            &["FCALL_RO", "ro", "0"],
            &["SET", "foo"],
        ];
        let mut other = duo.pair_named("other");
        for c in passing {
            other.check(c);
        }
        other.check(&["MULTI"]);
        other.check(&["GET", "foo"]);
        other.check(&["EVAL", "#!lua flags=no-writes\nreturn 12", "0"]);
        other.check(&["EXEC"]);
        assert_eq!(blocked_clients(&mut p.real), 0);
        // Held back, each on its own connection, in this order.
        let held: &[&[&str]] = &[
            &["SET", "foo", "1"],
            &["PUBLISH", "ch", "m"],
            &["PFCOUNT", "hll"],
            &["EVAL", "return redis.call('append', 'order', 'e')", "0"],
            &["EVAL", "#!lua\nreturn redis.call('append', 'order', 'f')", "0"],
            &["FCALL", "rw", "0"],
            &["APPEND", "order", "a"],
            &["APPEND", "order", "b"],
        ];
        let mut waiting = Vec::new();
        for (i, c) in held.iter().enumerate() {
            let mut w = duo.pair_named(&format!("held {c:?}"));
            w.send_cmds(&[c]);
            wait_blocked(p, i as i64 + 1, &format!("{c:?} held back"));
            waiting.push(w);
        }
        // EXEC of writes, and a write to be queued, are held back too.
        r.send_cmds(&[&["EXEC"]]);
        wait_blocked(p, held.len() as i64 + 1, "EXEC held back");
        let mut q = duo.pair_named("queueing");
        q.check(&["MULTI"]);
        q.send_cmds(&[&["INCR", "counter"]]);
        wait_blocked(p, held.len() as i64 + 2, "a write being queued held back");
        // Nothing ran meanwhile.
        other.check(&["GET", "foo"]);
        other.check(&["EXISTS", "order", "counter"]);
        p.check(&["CLIENT", "UNPAUSE"]);
        for (w, c) in waiting.iter_mut().zip(held) {
            w.check_read(&format!("{c:?} after UNPAUSE"));
        }
        r.check_read("EXEC after UNPAUSE");
        q.check_read("INCR queued after UNPAUSE");
        q.check(&["EXEC"]);
        other.check(&["GET", "order"]);
        other.check(&["GET", "foo"]);
        for o in waiting.iter_mut().chain([&mut r, &mut q, &mut other]) {
            p.mismatches.append(&mut o.mismatches);
        }
    });
}

const FUNCTIONS: &str = "#!lua name=pauselib
redis.register_function{function_name='ro', callback=function() return 'ro' end, flags={'no-writes'}}
redis.register_function('rw', function() return redis.call('append', 'order', 'r') end)";

/// A pause started inside a transaction holds nothing of it back; keys do not expire (actively or
/// lazily) while writes are paused, and do once unpaused.
#[test]
fn client_pause_write_inside_exec_and_expiry() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    duo.in_both_protocols(|p| {
        p.check(&["MULTI"]);
        p.check(&["SET", "a", "1"]);
        p.check(&["CLIENT", "PAUSE", "100000", "WRITE"]);
        p.check(&["SET", "b", "2"]);
        p.check(&["EXEC"]);
        let mut w = duo.pair_named("writer");
        w.send_cmds(&[&["SET", "c", "3"]]);
        wait_blocked(p, 1, "SET after the transaction held back");
        p.check(&["MGET", "a", "b", "c"]);
        p.check(&["CLIENT", "UNPAUSE"]);
        w.check_read("SET after UNPAUSE");

        let expired = |p: &mut Pair| {
            let field = |c: &mut crate::common::Client| {
                let info = c.cmd_str(&["INFO", "stats"]);
                info.lines().find_map(|l| l.strip_prefix("expired_keys:")).map(|v| v.trim().to_string())
            };
            let (o, r) = (field(&mut p.ours), field(&mut p.real));
            p.compare("expired_keys", o.unwrap_or_default().as_bytes(), r.unwrap_or_default().as_bytes());
        };
        p.check(&["FLUSHALL"]);
        p.both(&["CONFIG", "RESETSTAT"]);
        // In one write, so that the keys cannot expire before the pause however loaded the
        // machine is.
        p.send_cmds(&[
            &["SET", "x", "v", "PX", "200"],
            &["SET", "y", "v", "PX", "200"],
            &["CLIENT", "PAUSE", "100000", "WRITE"],
        ]);
        for what in ["SET x", "SET y", "CLIENT PAUSE"] {
            p.check_read(what);
        }
        wait_both("the keys' TTL passed", p, |c| {
            c.cmd(&["GET", "x"]) == b"$-1\r\n" || c.cmd(&["GET", "x"]) == b"_\r\n"
        });
        p.check(&["GET", "y"]);
        p.check(&["EXISTS", "x", "y"]);
        p.check(&["DBSIZE"]);
        expired(p);
        p.check(&["CLIENT", "UNPAUSE"]);
        p.check(&["GET", "x"]);
        // y goes by the active expiry, which each server runs on its own clock.
        wait_both("the active expiry of y after UNPAUSE", p, |c| c.cmd(&["DBSIZE"]) == b":0\r\n");
        expired(p);
        p.mismatches.append(&mut w.mismatches);
    });
}

/// CLIENT PAUSE ALL holds back every command of every client, CLIENT UNPAUSE included, until
/// it ends.
#[test]
fn client_pause_all_holds_back_everything_until_it_ends() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut other = duo.pair_named("other");
    p.check(&["SET", "k", "v"]);
    let start = std::time::Instant::now();
    p.check(&["CLIENT", "PAUSE", "600", "ALL"]);
    let held: &[&[&str]] = &[&["GET", "k"], &["PING"], &["CLIENT", "UNPAUSE"], &["SET", "k", "after"]];
    other.send_cmds(held);
    for c in held {
        other.check_read(&format!("{c:?} after the pause"));
    }
    let waited = start.elapsed();
    assert!(waited >= std::time::Duration::from_millis(500), "answered after {waited:?}");
    p.check(&["GET", "k"]);
    p.mismatches.append(&mut other.mismatches);
    p.assert_clean();
}

/// RANDOMKEY deletes the expired keys it draws until it draws a live one, however many there are;
/// on a replica, where nothing is deleted, it answers some (expired) key after a while.
#[test]
fn randomkey_draws_until_a_live_key() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    p.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    // Ours used to give up after 100 draws: with 3000 expired keys it nearly always did.
    let fill = "for i = 1, 3000 do redis.call('set', 'expired:' .. i, 'v', 'pxat', 1) end";
    p.check(&["EVAL", fill, "0"]);
    p.check(&["SET", "live", "v"]);
    p.check(&["RANDOMKEY"]);
    p.check(&["FLUSHALL"]);
    for i in 0..10 {
        p.check(&["SET", &format!("expired:{i}"), "v", "PXAT", "1"]);
    }
    let dead = crate::common::free_port().to_string();
    p.check(&["REPLICAOF", "127.0.0.1", &dead]);
    let answer = |b: &[u8]| {
        let expired_key = b.windows(8).any(|w| w == b"expired:");
        if expired_key {
            b"<an expired key>".to_vec()
        } else {
            b.to_vec()
        }
    };
    p.check_with(&["RANDOMKEY"], answer);
    p.check(&["DBSIZE"]);
    p.check(&["REPLICAOF", "NO", "ONE"]);
    p.assert_clean();
}

/// A write of any kind to a key that was already expired when watched aborts the transaction:
/// each write deletes the expired key first (clearing the watch's expired flag), then changes it.
#[test]
fn writes_to_a_key_watched_expired_abort_exec() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut admin = duo.pair_named("admin");
    admin.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let writes: &[&[&str]] = &[
        &["SET", "w", "v"],
        &["MSET", "w", "v", "x", "y"],
        &["MSETNX", "w", "v"],
        &["SETNX", "w", "v"],
        &["APPEND", "w", "v"],
        &["SETRANGE", "w", "0", "v"],
        &["INCR", "w"],
        &["INCRBYFLOAT", "w", "1.5"],
        &["SETBIT", "w", "1", "1"],
        &["BITOP", "NOT", "w", "src"],
        &["LPUSH", "w", "v"],
        &["RPUSHX", "w", "v"],
        &["SADD", "w", "v"],
        &["ZADD", "w", "1", "v"],
        &["HSET", "w", "f", "v"],
        &["HINCRBY", "w", "f", "1"],
        &["XADD", "w", "1-1", "f", "v"],
        &["GEOADD", "w", "10", "10", "v"],
        &["RENAME", "src", "w"],
        &["COPY", "src", "w"],
        &["COPY", "src", "w", "REPLACE"],
        &["SUNIONSTORE", "w", "set"],
        &["LMOVE", "list", "w", "LEFT", "LEFT"],
        &["SORT", "list", "STORE", "w"],
        &["DEL", "w"],
        &["UNLINK", "w"],
        &["EXPIRE", "w", "100"],
        &["PERSIST", "w"],
        &["GETDEL", "w"],
        &["GET", "w"],
        &["EXISTS", "w"],
    ];
    duo.in_both_protocols(|p| {
        let mut admin = duo.pair_named("admin");
        for write in writes {
            admin.check(&["FLUSHALL"]);
            admin.check(&["SET", "src", "s"]);
            admin.check(&["SADD", "set", "m"]);
            admin.check(&["RPUSH", "list", "3", "1"]);
            admin.check(&["SET", "w", "old", "PXAT", "1"]);
            p.check(&["WATCH", "w"]);
            admin.check(write);
            p.check(&["MULTI"]);
            p.check(&["PING"]);
            p.check(&["EXEC"]);
        }
        p.mismatches.append(&mut admin.mismatches);
    });
}

/// CLIENT LIST's multi= counts the queued commands; none is queued once EXEC is bound to fail
/// (a queueing error, a touched WATCH), as Redis's queueMultiCommand.
#[test]
fn client_list_counts_queued_commands() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut admin = duo.pair_named("admin");
    let id = |c: &mut crate::common::Client| String::from_utf8_lossy(&c.cmd(&["CLIENT", "ID"]))[1..].trim().to_string();
    let (ours_id, real_id) = (id(&mut p.ours), id(&mut p.real));
    let look = |admin: &mut Pair, what: &str| {
        let o = admin.ours.cmd(&["CLIENT", "LIST", "ID", &ours_id]);
        let r = admin.real.cmd(&["CLIENT", "LIST", "ID", &real_id]);
        admin.compare(what, &connection_state(&o), &connection_state(&r));
    };
    p.check(&["WATCH", "k"]);
    p.check(&["MULTI"]);
    look(&mut admin, "after MULTI");
    p.check(&["SET", "a", "1"]);
    p.check(&["GET", "a"]);
    look(&mut admin, "two queued");
    admin.check(&["SET", "k", "touched"]);
    p.check(&["SET", "b", "1"]);
    look(&mut admin, "queued after the WATCH was touched");
    p.check(&["EXEC"]);
    look(&mut admin, "after EXEC");
    p.check(&["MULTI"]);
    p.check(&["SET", "a", "1"]);
    p.check(&["NOSUCHCOMMAND"]);
    p.check(&["SET", "b", "1"]);
    look(&mut admin, "queued after an error");
    p.check(&["EXEC"]);
    p.mismatches.append(&mut admin.mismatches);
    p.assert_clean();
}

/// A client killed while a pause holds it is gone at once: no longer blocked, and its command
/// never runs.
#[test]
fn client_killed_while_held_by_a_pause() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let mut held = duo.pair_named("held");
        let id =
            |c: &mut crate::common::Client| String::from_utf8_lossy(&c.cmd(&["CLIENT", "ID"]))[1..].trim().to_string();
        let (ours_id, real_id) = (id(&mut held.ours), id(&mut held.real));
        p.check(&["CLIENT", "PAUSE", "100000", "WRITE"]);
        held.send_cmds(&[&["SET", "k", "from a killed client"]]);
        wait_blocked(p, 1, "SET held back");
        let (o, r) = (p.ours.cmd(&["CLIENT", "KILL", "ID", &ours_id]), p.real.cmd(&["CLIENT", "KILL", "ID", &real_id]));
        p.compare("CLIENT KILL of the held client", &o, &r);
        wait_blocked(p, 0, "nobody held after the kill");
        p.check(&["CLIENT", "UNPAUSE"]);
        p.check(&["GET", "k"]);
        p.check(&["DBSIZE"]);
    });
}
