//! Key expiry, next to Debian's real Redis 7.0.15: active expiry deletes keys nobody touches,
//! DEBUG SET-ACTIVE-EXPIRE 0 stops it (expired keys stay counted until accessed), and an access
//! deletes an expired key (lazy expiry). Both counted in INFO stats expired_keys.

use std::time::{Duration, Instant};

use crate::common::*;

fn int(reply: &[u8]) -> i64 {
    Reply::parse(reply).int()
}

fn expired_keys(c: &mut Client) -> u64 {
    c.info_u64("stats", "expired_keys")
}

/// Sets `n` keys with a `px` ms TTL in one pipeline; returns when the replies are read.
fn set_volatile(c: &mut Client, prefix: &str, n: usize, px: u64) {
    let px = px.to_string();
    let mut batch = Vec::new();
    for i in 0..n {
        let key = format!("{prefix}{i}");
        batch.extend(encode(&[b"SET", key.as_bytes(), b"v", b"PX", px.as_bytes()]));
    }
    c.send_raw(&batch);
    for _ in 0..n {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
}

#[test]
fn active_expiry_deletes_keys_nobody_touches() {
    for s in [Server::start(&[]), Server::start_real(&[])] {
        let mut c = s.client();
        c.cmd(&["SET", "persistent", "v"]);
        set_volatile(&mut c, "k", 1000, 50);
        // DBSIZE and INFO do not touch keys: only the server's own cycle can delete them.
        wait_for("active expiry of 1000 keys", Duration::from_secs(10), || int(&c.cmd(&["DBSIZE"])) == 1);
        assert_eq!(expired_keys(&mut c), 1000);
        assert_eq!(c.info_field("keyspace", "db0"), "keys=1,expires=0,avg_ttl=0");
        assert_eq!(c.cmd(&["GET", "persistent"]), b"$1\r\nv\r\n");
        assert!(c.info_field("stats", "expire_cycle_cpu_milliseconds").parse::<u64>().is_ok());
        assert_eq!(c.info_field("stats", "keyspace_misses"), "0");
    }
}

#[test]
fn active_expiry_works_in_every_database() {
    for s in [Server::start(&[]), Server::start_real(&[])] {
        let mut c = s.client();
        for db in ["0", "7", "15"] {
            c.cmd(&["SELECT", db]);
            set_volatile(&mut c, "k", 100, 30);
        }
        wait_for("active expiry in all databases", Duration::from_secs(10), || {
            ["0", "7", "15"].iter().all(|db| {
                c.cmd(&["SELECT", db]);
                int(&c.cmd(&["DBSIZE"])) == 0
            })
        });
        assert_eq!(expired_keys(&mut c), 300);
    }
}

/// With active expiry off, expired keys stay in DBSIZE until an access deletes them.
#[test]
fn debug_set_active_expire_0_leaves_expired_keys_until_accessed() {
    let ours = Server::start(&["--enable-debug-command", "yes"]);
    let real = Server::start_real(&["--enable-debug-command", "yes"]);
    let (mut o, mut r) = (ours.client(), real.client());
    for c in [&mut o, &mut r] {
        assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), b"+OK\r\n");
        set_volatile(c, "k", 100, 20);
        assert_eq!(c.cmd(&["SET", "long", "v", "EX", "1000"]), b"+OK\r\n");
    }
    let set_at = Instant::now();
    // This test measures a TTL: wait until every key is past it, then a few cron periods more
    // (hz 10: 100 ms each) in which an active cycle would have deleted them.
    std::thread::sleep(Duration::from_millis(400).saturating_sub(set_at.elapsed()));
    for c in [&mut o, &mut r] {
        assert_eq!(int(&c.cmd(&["DBSIZE"])), 101, "expired keys still counted");
        assert_eq!(expired_keys(c), 0);
        assert_eq!(c.info_field("keyspace", "db0").split(",avg_ttl").next(), Some("keys=101,expires=101"));
        // Lazy expiry: each access deletes the key it finds expired.
        assert_eq!(c.cmd(&["GET", "k1"]), b"$-1\r\n");
        assert_eq!(c.cmd(&["EXISTS", "k2", "k3"]), b":0\r\n");
        assert_eq!(c.cmd(&["TTL", "k4"]), b":-2\r\n");
        assert_eq!(c.cmd(&["PTTL", "k5"]), b":-2\r\n");
        assert_eq!(c.cmd(&["TYPE", "k6"]), b"+none\r\n");
        assert_eq!(c.cmd(&["SET", "k7", "new"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["TTL", "k7"]), b":-1\r\n");
        assert_eq!(c.cmd(&["GET", "long"]), b"$1\r\nv\r\n");
        assert_eq!(int(&c.cmd(&["DBSIZE"])), 101 - 6);
        assert_eq!(expired_keys(c), 7);
        // DEBUG OBJECT looks in the table directly: an expired key not yet deleted is still there.
        assert!(c.cmd_str(&["DEBUG", "OBJECT", "k8"]).starts_with("+Value at:"));
        assert_eq!(int(&c.cmd(&["DBSIZE"])), 101 - 6);
        // Re-enabled, the cycle deletes the rest.
        assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), b"+OK\r\n");
    }
    for c in [&mut o, &mut r] {
        wait_for("active expiry after re-enabling", Duration::from_secs(10), || int(&c.cmd(&["DBSIZE"])) == 2);
        assert_eq!(expired_keys(c), 100);
        assert_eq!(c.cmd(&["MGET", "k7", "long"]), b"*2\r\n$3\r\nnew\r\n$1\r\nv\r\n");
    }
}

#[test]
fn keys_expire_on_time() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "300"]), b"+OK\r\n");
    let set_at = Instant::now();
    // This test measures a TTL: the key lives until its time, and not after.
    std::thread::sleep(Duration::from_millis(150));
    let pttl = int(&c.cmd(&["PTTL", "k"]));
    if set_at.elapsed() < Duration::from_millis(290) {
        assert_eq!(c.cmd(&["GET", "k"]), b"$1\r\nv\r\n");
        assert!((1..=300 - 140).contains(&pttl), "{pttl}");
    }
    std::thread::sleep(Duration::from_millis(310).saturating_sub(set_at.elapsed()));
    assert_eq!(c.cmd(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(int(&c.cmd(&["DBSIZE"])), 0);
}
