//! Logically expired keys, compared with Debian's real Redis 7.0: with active expiry off, a key past
//! its TTL stays in memory until something touches it, and every command must treat it as missing
//! (deleting it and counting it in expired_keys) exactly as Redis does.

use crate::common::Client;
use crate::differential_support::*;

/// The `expired_keys:` line of INFO stats.
fn expired_keys(c: &mut Client) -> Vec<u8> {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "stats"])).into_owned();
    info.lines().find(|l| l.starts_with("expired_keys:")).unwrap_or("expired_keys: missing").as_bytes().to_vec()
}

/// Creates `keys` with a 20 ms TTL on both servers and waits until all are logically expired.
fn make_expired(p: &mut Pair, keys: &[&str]) {
    for k in keys {
        p.check(&["SET", k, "v", "PX", "20"]);
    }
    for c in [&mut p.ours, &mut p.real] {
        crate::common::wait_for("keys to expire", std::time::Duration::from_secs(5), || {
            keys.iter().all(|k| c.cmd(&["KEYS", k]) == b"*0\r\n")
        });
    }
}

fn compare_expired_keys(p: &mut Pair, when: &str) {
    let (o, r) = (expired_keys(&mut p.ours), expired_keys(&mut p.real));
    p.compare(&format!("INFO expired_keys {when}"), &o, &r);
}

#[test]
fn expired_keys_are_missing_to_every_command() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    p.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let keys = [
        "e:exists",
        "e:type",
        "e:ttl",
        "e:pttl",
        "e:exptime",
        "e:pexptime",
        "e:obj",
        "e:rename",
        "e:renamenx",
        "e:move",
        "e:copy",
        "e:expire",
        "e:persist",
        "e:touch",
        "e:del",
        "e:unlink",
        "e:get",
        "e:setnx",
    ];
    make_expired(&mut p, &keys);
    // Still in memory: DBSIZE counts them, KEYS hides them without deleting.
    p.check(&["DBSIZE"]);
    p.check(&["KEYS", "e:*"]);
    p.check(&["DBSIZE"]);
    compare_expired_keys(&mut p, "before any access");
    for args in [
        &["EXISTS", "e:exists"][..],
        &["TYPE", "e:type"],
        &["TTL", "e:ttl"],
        &["PTTL", "e:pttl"],
        &["EXPIRETIME", "e:exptime"],
        &["PEXPIRETIME", "e:pexptime"],
        &["OBJECT", "ENCODING", "e:obj"],
        &["RENAME", "e:rename", "x"],
        &["RENAMENX", "e:renamenx", "x"],
        &["MOVE", "e:move", "1"],
        &["COPY", "e:copy", "x"],
        &["EXPIRE", "e:expire", "100"],
        &["PERSIST", "e:persist"],
        &["TOUCH", "e:touch"],
        &["DEL", "e:del"],
        &["UNLINK", "e:unlink"],
        &["GET", "e:get"],
        &["SET", "e:setnx", "new", "NX"],
        &["GET", "e:setnx"],
    ] {
        p.check(args);
    }
    p.check(&["DBSIZE"]);
    compare_expired_keys(&mut p, "after touching each key");
    p.check_sorted(&["KEYS", "*"]);
}

#[test]
fn expired_keys_in_scan_randomkey_and_destinations() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    p.check(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    // SCAN deletes the expired keys it meets.
    make_expired(&mut p, &["s1", "s2", "s3"]);
    p.check(&["SET", "live", "v"]);
    p.check(&["DBSIZE"]);
    p.check_sorted(&["SCAN", "0", "COUNT", "100"]);
    p.check(&["DBSIZE"]);
    compare_expired_keys(&mut p, "after SCAN");
    // RANDOMKEY skips (and deletes) expired keys; with only expired keys it answers nil.
    p.check(&["DEL", "live"]);
    make_expired(&mut p, &["r1"]);
    p.check(&["RANDOMKEY"]);
    p.check(&["DBSIZE"]);
    // Expired destinations do not count as existing.
    p.check(&["SET", "src", "v"]);
    make_expired(&mut p, &["dst1", "dst2"]);
    p.check(&["RENAMENX", "src", "dst1"]);
    p.check(&["COPY", "dst1", "dst2"]);
    p.check(&["GET", "dst2"]);
    p.check(&["SELECT", "1"]);
    make_expired(&mut p, &["dst2"]);
    p.check(&["SELECT", "0"]);
    p.check(&["MOVE", "dst2", "1"]);
    p.check(&["SELECT", "1"]);
    p.check(&["GET", "dst2"]);
    p.check(&["SELECT", "0"]);
    compare_expired_keys(&mut p, "after writes onto expired keys");
    // FLUSHALL counts nothing as expired.
    make_expired(&mut p, &["f1"]);
    p.check(&["FLUSHALL"]);
    compare_expired_keys(&mut p, "after FLUSHALL");
}

#[test]
fn ttl_rounding_and_countdown() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    // TTL rounds to the nearest second (the margins allow for the milliseconds elapsed).
    p.check(&["SET", "k", "v", "PX", "100700"]);
    p.check(&["TTL", "k"]);
    p.check(&["PEXPIRE", "k", "100400"]);
    p.check(&["TTL", "k"]);
    p.check(&["SET", "k", "v", "EX", "1"]);
    p.check(&["TTL", "k"]);
    // A TTL of 600 ms rounds to 1 second, then the key goes away.
    p.check(&["PEXPIRE", "k", "600"]);
    p.check(&["TTL", "k"]);
    for c in [&mut p.ours, &mut p.real] {
        crate::common::wait_for("k to expire", std::time::Duration::from_secs(5), || {
            c.cmd(&["TTL", "k"]) == b":-2\r\n"
        });
    }
    p.check(&["EXISTS", "k"]);
}
