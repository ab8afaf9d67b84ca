//! Keyspace notifications compared with Debian's real Redis 7.0.15: a RESP2 client subscribed to
//! `__key*__:*` on each server, the same commands run on both, and the streams of messages compared
//! byte for byte (which events, in which order, on which channels), for several
//! `notify-keyspace-events` settings.

use std::time::Duration;

use crate::common::Client;
use crate::differential_support::*;

/// A subscriber on each server, and a connection running the commands. After each command a
/// PUBLISH on a `sync` channel (which the subscriber also listens to) marks the end of that
/// command's events, so each command's events are compared on their own.
struct Watched {
    cmd: Pair,
    sub: Pair,
    syncs: usize,
    _duo: Duo,
}

impl Watched {
    fn start(flags: &str) -> Watched {
        let duo = Duo::start(&["--enable-debug-command", "yes"]);
        let mut cmd = duo.pair_named(&format!("notify-keyspace-events {flags}"));
        cmd.check(&["CONFIG", "SET", "notify-keyspace-events", flags]);
        let mut sub = duo.pair_named(&format!("subscriber, {flags}"));
        sub.check_n(&["PSUBSCRIBE", "__key*__:*"], 1);
        sub.check_n(&["SUBSCRIBE", "sync"], 1);
        Watched { cmd, sub, syncs: 0, _duo: duo }
    }

    /// Runs a command on both servers, compares the replies, then the events it published.
    fn run(&mut self, args: &[&str]) {
        self.cmd.check(args);
        self.compare_events(&format!("{args:?}"));
    }

    /// Like `run` for replies in hash order.
    fn run_sorted(&mut self, args: &[&str]) {
        self.cmd.check_sorted(args);
        self.compare_events(&format!("{args:?}"));
    }

    fn compare_events(&mut self, what: &str) {
        self.syncs += 1;
        let token = self.syncs.to_string();
        self.cmd.both(&["PUBLISH", "sync", &token]);
        let o = events_until(&mut self.sub.ours, &token);
        let r = events_until(&mut self.sub.real, &token);
        self.sub.compare(&format!("events of {what}"), &o, &r);
    }
}

/// The messages a subscriber receives up to the `sync` message carrying `token`, concatenated.
fn events_until(c: &mut Client, token: &str) -> Vec<u8> {
    let marker = format!("*3\r\n$7\r\nmessage\r\n$4\r\nsync\r\n${}\r\n{token}\r\n", token.len()).into_bytes();
    let mut out = Vec::new();
    loop {
        let m = c.read_reply();
        if m == marker {
            return out;
        }
        out.extend_from_slice(&m);
    }
}

/// Every command of the string and keyspace families, with hits, misses, creations, overwrites,
/// deletions and TTL changes, in two databases.
fn full_script(w: &mut Watched) {
    w.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    string_commands(w);
    counter_and_range_commands(w);
    bit_commands(w);
    keyspace_commands(w);
    expire_commands(w);
    lazy_expiry(w);
    w.run(&["SWAPDB", "0", "1"]);
    w.run(&["FLUSHDB"]);
    w.run(&["FLUSHALL"]);
}

fn string_commands(w: &mut Watched) {
    w.run(&["GET", "nokey"]);
    w.run(&["SET", "s1", "v"]);
    w.run(&["SET", "s1", "v2"]);
    w.run(&["SET", "s2", "v", "EX", "100"]);
    w.run(&["SET", "s2", "v", "KEEPTTL"]);
    w.run(&["SET", "s3", "v", "PX", "100000", "GET"]);
    w.run(&["SET", "s3", "w", "NX"]);
    w.run(&["SET", "s3", "w", "NX", "GET"]);
    w.run(&["SET", "s4", "w", "XX"]);
    w.run(&["SET", "s4", "w", "XX", "GET"]);
    w.run(&["SET", "s3", "x", "XX", "EXAT", "99999999999"]);
    w.run(&["SET", "s3", "x", "EX", "0"]);
    w.run(&["SET", "s3", "x", "BADOPT"]);
    w.run(&["SETNX", "s5", "x"]);
    w.run(&["SETNX", "s5", "y"]);
    w.run(&["SETEX", "s6", "100", "v"]);
    w.run(&["PSETEX", "s7", "100000", "v"]);
    w.run(&["PSETEX", "s7", "-1", "v"]);
    w.run(&["GETSET", "s1", "new"]);
    w.run(&["GETSET", "s8", "new"]);
    w.run(&["GETDEL", "s8"]);
    w.run(&["GETDEL", "s8"]);
    w.run(&["GETEX", "s1", "EX", "100"]);
    w.run(&["GETEX", "s1", "PERSIST"]);
    w.run(&["GETEX", "s1", "PERSIST"]);
    w.run(&["GETEX", "s1"]);
    w.run(&["GETEX", "s1", "PXAT", "1"]);
    w.run(&["GETEX", "s1", "EX", "5"]);
    w.run(&["MSET", "m1", "a", "m2", "b", "m1", "c"]);
    w.run(&["MSETNX", "m3", "a", "m1", "b"]);
    w.run(&["MSETNX", "m3", "a", "m4", "b"]);
    w.run(&["MGET", "m1", "nokey", "m4", "nokey2"]);
    w.run(&["APPEND", "a1", "x"]);
    w.run(&["APPEND", "a1", "yz"]);
    w.run(&["STRLEN", "a1"]);
    w.run(&["STRLEN", "nokey"]);
    w.run(&["LCS", "a1", "nokey"]);
}

fn counter_and_range_commands(w: &mut Watched) {
    w.run(&["INCR", "n1"]);
    w.run(&["INCR", "n1"]);
    w.run(&["DECR", "n1"]);
    w.run(&["INCRBY", "n1", "5"]);
    w.run(&["DECRBY", "n1", "2"]);
    w.run(&["DECR", "n9"]);
    w.run(&["INCR", "a1"]);
    w.run(&["INCRBYFLOAT", "f1", "1.5"]);
    w.run(&["INCRBYFLOAT", "f1", "2"]);
    w.run(&["INCRBYFLOAT", "a1", "2"]);
    w.run(&["GETRANGE", "a1", "0", "1"]);
    w.run(&["GETRANGE", "nokey", "0", "1"]);
    w.run(&["SETRANGE", "r1", "5", "abc"]);
    w.run(&["SETRANGE", "r1", "0", "x"]);
    w.run(&["SETRANGE", "r1", "0", ""]);
    w.run(&["SETRANGE", "r2", "0", ""]);
    w.run(&["SETRANGE", "r2", "-1", "x"]);
}

fn bit_commands(w: &mut Watched) {
    w.run(&["SETBIT", "b1", "7", "1"]);
    w.run(&["SETBIT", "b1", "7", "1"]);
    w.run(&["SETBIT", "b1", "7", "0"]);
    w.run(&["SETBIT", "b1", "100", "0"]);
    w.run(&["GETBIT", "b1", "7"]);
    w.run(&["GETBIT", "nokey", "1"]);
    w.run(&["BITCOUNT", "nokey"]);
    w.run(&["BITCOUNT", "b1"]);
    w.run(&["BITPOS", "nokey", "1"]);
    w.run(&["BITOP", "OR", "dest", "b1", "nokey"]);
    w.run(&["BITOP", "NOT", "dest", "b1"]);
    w.run(&["BITOP", "AND", "dest", "nokey", "nokey2"]);
    w.run(&["BITOP", "AND", "dest", "nokey"]);
    w.run(&["BITFIELD", "bf", "SET", "u8", "0", "255"]);
    w.run(&["BITFIELD", "bf", "SET", "u8", "0", "255"]);
    w.run(&["BITFIELD", "bf", "GET", "u8", "0"]);
    w.run(&["BITFIELD", "bf", "INCRBY", "u8", "0", "1", "GET", "u4", "0"]);
    w.run(&["BITFIELD", "bf2", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5"]);
    w.run(&["BITFIELD", "nokey", "GET", "u8", "0"]);
    w.run(&["BITFIELD_RO", "nokey", "GET", "u8", "0"]);
}

fn keyspace_commands(w: &mut Watched) {
    w.run(&["DEL", "m1", "m2", "nokey"]);
    w.run(&["UNLINK", "m3", "nokey"]);
    w.run(&["EXISTS", "a1", "nokey"]);
    w.run(&["TYPE", "nokey"]);
    w.run(&["TYPE", "a1"]);
    w.run(&["TTL", "nokey"]);
    w.run(&["PTTL", "a1"]);
    w.run(&["TTL", "s2"]);
    w.run(&["EXPIRETIME", "nokey"]);
    w.run(&["PEXPIRETIME", "a1"]);
    w.run(&["TOUCH", "a1", "nokey"]);
    w.run(&["OBJECT", "ENCODING", "nokey"]);
    w.run(&["OBJECT", "ENCODING", "a1"]);
    w.run(&["DBSIZE"]);
    w.run_sorted(&["KEYS", "*"]);
    w.run(&["RENAME", "a1", "a2"]);
    w.run(&["RENAME", "a2", "n1"]);
    w.run(&["RENAME", "nokey", "x"]);
    w.run(&["RENAMENX", "n1", "f1"]);
    w.run(&["RENAMENX", "n1", "a3"]);
    w.run(&["RENAME", "a3", "a3"]);
    w.run(&["RENAME", "s2", "s2moved"]);
    w.run(&["MOVE", "a3", "1"]);
    w.run(&["MOVE", "nokey", "1"]);
    w.run(&["SELECT", "1"]);
    w.run(&["SET", "f1", "in-db1"]);
    w.run(&["GET", "nokey"]);
    w.run(&["SELECT", "0"]);
    w.run(&["MOVE", "f1", "1"]);
    w.run(&["COPY", "f1", "c1"]);
    w.run(&["COPY", "f1", "c1"]);
    w.run(&["COPY", "f1", "c1", "REPLACE"]);
    w.run(&["COPY", "f1", "c2", "DB", "1"]);
    w.run(&["COPY", "f1", "f1", "DB", "1", "REPLACE"]);
    w.run(&["COPY", "nokey", "c3"]);
}

fn expire_commands(w: &mut Watched) {
    w.run(&["EXPIRE", "f1", "100"]);
    w.run(&["PEXPIRE", "f1", "100000", "XX"]);
    w.run(&["EXPIRE", "f1", "100", "NX"]);
    w.run(&["EXPIRE", "f1", "50", "GT"]);
    w.run(&["EXPIREAT", "f1", "99999999999", "LT"]);
    w.run(&["EXPIRE", "nokey", "10"]);
    w.run(&["EXPIREAT", "c1", "1"]);
    w.run(&["PEXPIREAT", "s5", "1"]);
    w.run(&["EXPIRE", "s6", "-1"]);
    w.run(&["PEXPIRE", "s7", "0"]);
    w.run(&["EXPIRE", "f1", "abc"]);
    w.run(&["PERSIST", "f1"]);
    w.run(&["PERSIST", "f1"]);
    w.run(&["PERSIST", "nokey"]);
}

/// Keys whose TTL passed, found by each kind of access (active expiry is off).
fn lazy_expiry(w: &mut Watched) {
    let accesses: &[&[&str]] = &[
        &["GET", "lz"],
        &["EXISTS", "lz"],
        &["DEL", "lz"],
        &["SET", "lz", "again"],
        &["INCR", "lz"],
        &["APPEND", "lz", "x"],
        &["TTL", "lz"],
        &["TYPE", "lz"],
        &["EXPIRE", "lz", "100"],
        &["RENAME", "lz", "other"],
        &["OBJECT", "ENCODING", "lz"],
        &["SETBIT", "lz", "1", "1"],
        &["MGET", "lz", "lz"],
        &["SCAN", "0", "COUNT", "1000", "MATCH", "lz"],
        &["GETDEL", "lz"],
    ];
    for access in accesses {
        w.run(&["SET", "lz", "v", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        w.run(access);
    }
    // RANDOMKEY deletes the expired keys it draws (database 9 holds only this one).
    w.run(&["SELECT", "9"]);
    w.run(&["SET", "lz", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    w.run(&["RANDOMKEY"]);
    // Into the destination database of MOVE and COPY.
    w.run(&["SELECT", "1"]);
    w.run(&["SET", "lz", "v", "PX", "1"]);
    w.run(&["SELECT", "0"]);
    w.run(&["SET", "lz", "here"]);
    std::thread::sleep(Duration::from_millis(5));
    w.run(&["MOVE", "lz", "1"]);
}

#[test]
fn all_classes_on_both_channels() {
    full_script(&mut Watched::start("KEA"));
}

#[test]
fn every_class_including_new_and_keymiss() {
    full_script(&mut Watched::start("KEAmn"));
}

#[test]
fn keyspace_channel_expired_only() {
    full_script(&mut Watched::start("Kx"));
}

#[test]
fn keyevent_channel_string_commands_only() {
    full_script(&mut Watched::start("E$"));
}

#[test]
fn keyevent_channel_generic_commands_only() {
    full_script(&mut Watched::start("Eg"));
}

#[test]
fn keyspace_channel_key_misses() {
    full_script(&mut Watched::start("Km"));
}

#[test]
fn new_keys_alone() {
    full_script(&mut Watched::start("En"));
}

#[test]
fn classes_without_a_channel_publish_nothing() {
    full_script(&mut Watched::start("An"));
}

#[test]
fn generic_and_expired_on_both_channels() {
    full_script(&mut Watched::start("KEgx"));
}

/// The active expire cycle publishes `expired` for keys nobody touches.
#[test]
fn active_expiry_publishes_expired() {
    let mut w = Watched::start("KEA");
    w.run(&["SET", "soon", "v", "PX", "30"]);
    w.run(&["SELECT", "3"]);
    w.run(&["SET", "soon3", "v", "PX", "30"]);
    w.run(&["SELECT", "0"]);
    // The cycle's own events arrive without any command: two per key (keyspace, keyevent), the key
    // of database 0 first (it expires first, and the cycle visits databases in order).
    let four = |c: &mut Client| (0..4).map(|_| c.read_reply()).collect::<Vec<_>>().concat();
    let (o, r) = (four(&mut w.sub.ours), four(&mut w.sub.real));
    w.sub.compare("events of active expiry", &o, &r);
    w.run(&["DBSIZE"]);
}

/// Events follow the client's database, and a key created in another database (MOVE, COPY ... DB)
/// is announced there.
#[test]
fn new_event_in_the_destination_database() {
    let mut w = Watched::start("KEn");
    w.run(&["SET", "k", "v"]);
    w.run(&["COPY", "k", "k2", "DB", "5"]);
    w.run(&["MOVE", "k", "7"]);
    w.run(&["SELECT", "7"]);
    w.run(&["RENAME", "k", "k3"]);
    w.run(&["SET", "k3", "overwrite"]);
}
