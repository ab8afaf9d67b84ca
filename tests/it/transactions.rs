//! MULTI/EXEC/DISCARD/WATCH/UNWATCH, compared byte for byte with Debian's real Redis 7.0.

use crate::common::Client;
use crate::differential_support::*;

#[test]
fn multi_exec_discard_basics() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["EXEC"]);
    p.check(&["DISCARD"]);
    p.check(&["UNWATCH"]);
    p.check(&["MULTI"]);
    p.check(&["EXEC"]);
    p.check(&["MULTI"]);
    p.check(&["SET", "a", "1"]);
    p.check(&["INCR", "a"]);
    p.check(&["GET", "a"]);
    p.check(&["GET", "missing"]);
    p.check(&["PING"]);
    p.check(&["ECHO", "x"]);
    p.check(&["EXEC"]);
    p.check(&["EXEC"]);
    p.check(&["MULTI"]);
    p.check(&["SET", "a", "discarded"]);
    p.check(&["DISCARD"]);
    p.check(&["GET", "a"]);
    // Nested MULTI and WATCH inside MULTI are errors that do not abort the transaction.
    p.check(&["MULTI"]);
    p.check(&["INCR", "a"]);
    p.check(&["MULTI"]);
    p.check(&["WATCH", "a"]);
    p.check(&["INCR", "a"]);
    p.check(&["EXEC"]);
    // SELECT inside a transaction sticks after EXEC.
    p.check(&["MULTI"]);
    p.check(&["SELECT", "1"]);
    p.check(&["SET", "in1", "v"]);
    p.check(&["EXEC"]);
    p.check(&["GET", "in1"]);
    p.check(&["SELECT", "0"]);
    p.check(&["GET", "in1"]);
    // RESET discards a transaction.
    p.check(&["MULTI"]);
    p.check(&["SET", "r", "1"]);
    p.check(&["RESET"]);
    p.check(&["EXISTS", "r"]);
    p.check(&["EXEC"]);
}

#[test]
fn queue_time_errors_abort_exec() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for bad in [
        &["NOSUCHCOMMAND", "x"][..],
        &["GET"],
        &["SET", "a"],
        &["OBJECT", "ENCODING"],
        &["OBJECT", "nosuch"],
        &["CLIENT"],
        &["CONFIG", "nosuch"],
        &["EXPIRE", "a"],
    ] {
        p.check(&["MULTI"]);
        p.check(&["SET", "a", "1"]);
        p.check(bad);
        p.check(&["SET", "b", "2"]);
        p.check(&["EXEC"]);
        p.check(&["EXEC"]);
        p.check(&["EXISTS", "a", "b"]);
    }
    // A queue-time error, then DISCARD: nothing left over for the next transaction.
    p.check(&["MULTI"]);
    p.check(&["NOSUCH"]);
    p.check(&["DISCARD"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // EXEC with a bad arity inside MULTI aborts the transaction with EXECABORT.
    p.check(&["MULTI"]);
    p.check(&["SET", "c", "3"]);
    p.check(&["EXEC", "extra"]);
    p.check(&["EXEC"]);
    p.check(&["EXISTS", "c"]);
    p.check(&["DISCARD", "extra"]);
    p.check(&["MULTI", "extra"]);
}

#[test]
fn errors_inside_exec_and_resp3() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["MULTI"]);
    p.check(&["SET", "a", "x"]);
    p.check(&["INCR", "a"]);
    p.check(&["EXPIRE", "a", "abc"]);
    p.check(&["EXPIRE", "a", "10", "NX", "XX"]);
    p.check(&["RENAME", "missing", "b"]);
    p.check(&["GET", "a"]);
    p.check(&["SELECT", "99"]);
    p.check(&["EXEC"]);
    p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
    p.check(&["MULTI"]);
    p.check(&["GET", "missing"]);
    p.check(&["RANDOMKEY"]);
    p.check(&["INCR", "a"]);
    p.check(&["TTL", "a"]);
    p.check(&["EXEC"]);
    p.check(&["MULTI"]);
    p.check(&["NOSUCH"]);
    p.check(&["EXEC"]);
    // An aborted WATCH in RESP3 is a null.
    p.check(&["WATCH", "a"]);
    p.check(&["SET", "a", "changed"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
}

#[test]
fn commands_with_special_rules_inside_multi() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    // Redis 7.0 lets a transaction subscribe.
    p.check(&["MULTI"]);
    p.check(&["SUBSCRIBE", "ch"]);
    p.check(&["PSUBSCRIBE", "p*"]);
    p.check(&["EXEC"]);
    p.check(&["PING"]);
    p.check(&["UNSUBSCRIBE"]);
    p.check(&["PUNSUBSCRIBE"]);
    p.check(&["PING"]);
    p.check(&["MULTI"]);
    p.check(&["MONITOR"]);
    p.check(&["EXEC"]);
    p.check(&["MULTI"]);
    p.check(&["CLIENT", "SETNAME", "in-multi"]);
    p.check(&["CLIENT", "GETNAME"]);
    p.check(&["UNWATCH"]);
    p.check(&["DISCARD"]);
    p.check(&["CLIENT", "GETNAME"]);
}

/// WATCH k, then `break_it` runs on another connection, then MULTI/INCR/EXEC: both servers must give
/// the same reply (nil when the watch was broken).
fn watch_case(duo: &Duo, what: &str, setup: &[&[&str]], watch: &[&str], break_it: &[&[&str]]) {
    let mut p = duo.pair_named(what);
    let mut other = duo.pair_named(&format!("{what} (other client)"));
    p.check(&["FLUSHALL"]);
    for c in setup {
        p.check(c);
    }
    let mut args = vec!["WATCH"];
    args.extend_from_slice(watch);
    p.check(&args);
    for c in break_it {
        other.check(c);
    }
    p.check(&["MULTI"]);
    p.check(&["INCR", "counter"]);
    p.check(&["EXEC"]);
    p.check(&["GET", "counter"]);
}

/// A name, setup commands, the keys to WATCH, and what another client runs in between.
type WatchCase<'a> = (&'a str, &'a [&'a [&'a str]], &'a [&'a str], &'a [&'a [&'a str]]);

#[test]
fn watch_is_broken_by_other_clients_writes() {
    let duo = Duo::start(&[]);
    let set = &["SET", "k", "1"][..];
    let cases: &[WatchCase] = &[
        ("untouched", &[set], &["k"], &[]),
        ("SET by another client", &[set], &["k"], &[&["SET", "k", "2"]]),
        ("SET to the same value", &[set], &["k"], &[&["SET", "k", "1"]]),
        ("read only", &[set], &["k"], &[&["GET", "k"], &["EXISTS", "k"], &["TTL", "k"], &["TYPE", "k"]]),
        ("DEL", &[set], &["k"], &[&["DEL", "k"]]),
        ("DEL of a missing key", &[], &["k"], &[&["DEL", "k"]]),
        ("UNLINK", &[set], &["k"], &[&["UNLINK", "k"]]),
        ("EXPIRE", &[set], &["k"], &[&["EXPIRE", "k", "100"]]),
        ("EXPIRE NX refused", &[set], &["k"], &[&["EXPIRE", "k", "100"], &["EXPIRE", "k", "100", "NX"]]),
        ("PERSIST without TTL", &[set], &["k"], &[&["PERSIST", "k"]]),
        ("INCR", &[set], &["k"], &[&["INCR", "k"]]),
        ("APPEND", &[], &["k"], &[&["APPEND", "k", "x"]]),
        ("RENAME onto it", &[set, &["SET", "src", "s"]], &["k"], &[&["RENAME", "src", "k"]]),
        ("RENAME away", &[set], &["k"], &[&["RENAME", "k", "dst"]]),
        ("RENAMENX refused", &[set, &["SET", "src", "s"]], &["k"], &[&["RENAMENX", "src", "k"]]),
        ("MOVE away", &[set], &["k"], &[&["MOVE", "k", "1"]]),
        ("COPY onto it", &[&["SET", "src", "s"]], &["k"], &[&["COPY", "src", "k"]]),
        ("COPY refused", &[set, &["SET", "src", "s"]], &["k"], &[&["COPY", "src", "k"]]),
        ("write in another db", &[set], &["k"], &[&["SELECT", "1"], &["SET", "k", "x"]]),
        ("FLUSHDB", &[set], &["k"], &[&["FLUSHDB"]]),
        ("FLUSHALL", &[set], &["k"], &[&["FLUSHALL"]]),
        ("FLUSHALL of a missing key", &[], &["k"], &[&["FLUSHALL"]]),
        ("FLUSHDB of another db", &[set], &["k"], &[&["SELECT", "1"], &["FLUSHDB"]]),
        ("SWAPDB", &[set], &["k"], &[&["SWAPDB", "0", "1"]]),
        ("SWAPDB bringing it in", &[&["SELECT", "1"], set, &["SELECT", "0"]], &["k"], &[&["SWAPDB", "0", "1"]]),
        ("SWAPDB of two empty", &[], &["k"], &[&["SWAPDB", "0", "1"]]),
        ("one of several keys", &[set], &["x", "y", "k"], &[&["SET", "y", "1"]]),
        ("the counter itself", &[], &["counter"], &[&["INCR", "counter"]]),
    ];
    for (what, setup, watch, break_it) in cases {
        watch_case(&duo, what, setup, watch, break_it);
    }
}

#[test]
fn watch_own_writes_unwatch_and_discard() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut other = duo.pair_named("other");
    // Own writes before MULTI break the watch too.
    p.check(&["WATCH", "k"]);
    p.check(&["SET", "k", "mine"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // EXEC, even when aborted, unwatches everything.
    other.check(&["SET", "k", "again"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // UNWATCH forgets.
    p.check(&["WATCH", "k"]);
    p.check(&["UNWATCH"]);
    other.check(&["SET", "k", "x"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // DISCARD forgets.
    p.check(&["WATCH", "k"]);
    p.check(&["MULTI"]);
    p.check(&["DISCARD"]);
    other.check(&["SET", "k", "y"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // Watching the same key twice, and a write during the queue.
    p.check(&["WATCH", "k", "k"]);
    p.check(&["WATCH", "k"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    other.check(&["DEL", "k"]);
    p.check(&["EXEC"]);
    // WATCH in another db than the write.
    p.check(&["SELECT", "3"]);
    p.check(&["WATCH", "k"]);
    p.check(&["SELECT", "0"]);
    other.check(&["SET", "k", "db0"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    p.check(&["SELECT", "3"]);
    p.check(&["WATCH", "k"]);
    other.check(&["SELECT", "3"]);
    other.check(&["SET", "k", "db3"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
}

/// Waits until `key` is logically expired on the client's server, without touching it: KEYS skips
/// expired keys without deleting them.
fn wait_expired(c: &mut Client, key: &str) {
    crate::common::wait_for(&format!("{key} to expire"), std::time::Duration::from_secs(5), || {
        c.cmd(&["KEYS", key]) == b"*0\r\n"
    });
}

#[test]
fn watch_and_expiry() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    // Active expiry off: the key stays in the keyspace after its TTL, only logically expired.
    p.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    // A watched key that expires before EXEC aborts the transaction.
    p.check(&["SET", "k", "v", "PX", "30"]);
    p.check(&["WATCH", "k"]);
    wait_expired(&mut p.ours, "k");
    wait_expired(&mut p.real, "k");
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // A key already expired when watched does not abort it.
    p.check(&["SET", "k2", "v", "PX", "10"]);
    wait_expired(&mut p.ours, "k2");
    wait_expired(&mut p.real, "k2");
    p.check(&["WATCH", "k2"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // Nor does its lazy deletion by another client.
    p.check(&["SET", "k3", "v", "PX", "10"]);
    wait_expired(&mut p.ours, "k3");
    wait_expired(&mut p.real, "k3");
    p.check(&["WATCH", "k3"]);
    let mut other = duo.pair_named("other");
    other.check(&["GET", "k3"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // But recreating it does.
    p.check(&["SET", "k4", "v", "PX", "10"]);
    wait_expired(&mut p.ours, "k4");
    wait_expired(&mut p.real, "k4");
    p.check(&["WATCH", "k4"]);
    other.check(&["SET", "k4", "new"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    // With active expiry on (the key may be deleted in the background): still aborted.
    p.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    p.check(&["SET", "k5", "v", "PX", "20"]);
    p.check(&["WATCH", "k5"]);
    wait_expired(&mut p.ours, "k5");
    wait_expired(&mut p.real, "k5");
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
}

/// A subcommand named like a transaction-control command is queued like any other: SLOWLOG RESET
/// is not RESET (it ran at once, outside the transaction, when dispatch compared names).
#[test]
fn subcommands_named_reset_are_queued_inside_multi() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["MULTI"]);
    p.check(&["SLOWLOG", "RESET"]);
    p.check(&["LATENCY", "RESET"]);
    p.check(&["EXEC"]);
    p.check(&["MULTI"]);
    p.check(&["SLOWLOG", "RESET"]);
    p.check(&["DISCARD"]);
}
