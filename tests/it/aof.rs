//! The append-only file of the running server: what is acknowledged survives a SIGKILL with
//! `appendfsync always`, replays reproduce the dataset (expiries, random pops, float increments,
//! served blocking pops, transactions, databases), BGREWRITEAOF and CONFIG SET appendonly, and
//! appendonlydirs exchanged with Debian's real redis-server in both directions.

use std::time::Duration;

use crate::common::{wait_for, Client, DataDirServer, Reply, SmallDisk, OURS, REAL_REDIS};

const AOF_ON: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

/// Every key of databases 0 and 2 with its type, value (sorted where unordered) and whether it has
/// a TTL.
fn dataset(c: &mut Client) -> Vec<String> {
    let mut out = Vec::new();
    for db in ["0", "2"] {
        c.cmd(&["SELECT", db]);
        let mut names = Reply::parse(&c.cmd(&["KEYS", "*"])).texts();
        names.sort();
        for k in &names {
            let ty = c.cmd_str(&["TYPE", k]);
            let mut value = match ty.as_str() {
                "+string\r\n" => c.cmd_str(&["GET", k]),
                "+list\r\n" => c.cmd_str(&["LRANGE", k, "0", "-1"]),
                "+hash\r\n" => c.cmd_str(&["HGETALL", k]),
                "+set\r\n" => c.cmd_str(&["SMEMBERS", k]),
                "+zset\r\n" => c.cmd_str(&["ZRANGE", k, "0", "-1", "WITHSCORES"]),
                t => panic!("type {t}"),
            };
            if matches!(ty.as_str(), "+hash\r\n" | "+set\r\n") {
                let mut lines: Vec<&str> = value.split("\r\n").collect();
                lines.sort();
                value = lines.join("|");
            }
            let pttl = c.cmd_str(&["PTTL", k]);
            out.push(format!("{db} {k} {ty} {value} ttl:{}", if pttl.starts_with(":-") { "no" } else { "yes" }));
        }
    }
    c.cmd(&["SELECT", "0"]);
    out
}

/// Writes whose replay must not depend on when or how they first ran.
fn writes(c: &mut Client, port: u16) {
    c.cmd(&["SET", "plain", "v"]);
    c.cmd(&["SET", "ttl", "v", "EX", "1000"]);
    c.cmd(&["SETEX", "setex", "1000", "v"]);
    c.cmd(&["SET", "gone", "v", "PX", "1"]);
    c.cmd(&["INCRBYFLOAT", "float", "0.1"]);
    c.cmd(&["INCRBYFLOAT", "float", "0.2"]);
    c.cmd(&["HINCRBYFLOAT", "h", "f", "1.1"]);
    c.cmd(&["SADD", "s", "a", "b", "c", "d", "e"]);
    c.cmd(&["SPOP", "s"]);
    c.cmd(&["SPOP", "s", "2"]);
    c.cmd(&["RPUSH", "l", "1", "2", "3"]);
    c.cmd(&["EXPIRE", "l", "1000"]);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "counter"]);
    c.cmd(&["LPUSH", "l", "0"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["SET", "in-db-2", "x"]);
    c.cmd(&["SELECT", "0"]);
    // A blocking pop served by a later push.
    let mut waiter = Client::connect(port);
    waiter.send_raw(&crate::common::encode(&[b"BLPOP", b"q", b"0"]));
    wait_for("blocked", Duration::from_secs(10), || c.cmd_str(&["INFO", "clients"]).contains("blocked_clients:1\r\n"));
    c.cmd(&["RPUSH", "q", "a", "b"]);
    assert_eq!(waiter.read_reply(), b"*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    c.cmd(&["BZPOPMIN", "z", "0"]);
    wait_for("expiry", Duration::from_secs(10), || c.cmd(&["EXISTS", "gone"]) == b":0\r\n");
}

#[test]
fn a_killed_server_replays_every_write_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), AOF_ON);
    let mut c = s.client();
    writes(&mut c, s.port);
    let before = dataset(&mut c);
    s.kill9();
    let s = DataDirServer::start(OURS, dir.path(), AOF_ON);
    assert_eq!(dataset(&mut s.client()), before);
    let info = s.client().cmd_str(&["INFO", "persistence"]);
    assert!(info.contains("aof_enabled:1\r\n"), "{info}");
}

/// Writers on four connections at once (their batches share AOF writes), the server SIGKILLed
/// again and again (200 times, scripts/aof-soak.sh runs more). With `appendfsync always`, after
/// every restart every increment a writer saw acknowledged is there.
#[test]
fn sigkill_cycles_lose_no_acknowledged_write() {
    let cycles = std::env::var("AOF_SOAK_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    sigkill_cycles("always", cycles, Duration::ZERO);
}

/// With `appendfsync everysec` Redis may hold its AOF write back while a background fsync is slow
/// (up to 2 s, then it writes anyway) and still answers: the documented bound of what a crash
/// loses. A SIGKILL loses at most what was acknowledged in the 2 s before it.
#[test]
fn sigkill_cycles_with_everysec_lose_at_most_the_last_two_seconds() {
    sigkill_cycles("everysec", 60, Duration::from_secs(2));
}

/// An acknowledged increment and when its reply arrived.
struct Ack {
    value: u64,
    at: std::time::Instant,
}

fn sigkill_cycles(fsync: &str, cycles: u32, may_lose: Duration) {
    const WRITERS: usize = 4;
    let options = ["--appendonly", "yes", "--appendfsync", fsync];
    let dir = tempfile::tempdir().unwrap();
    // Per writer: the highest value that must be there after a restart.
    let mut must_have = [0u64; WRITERS];
    let counter = |c: &mut Client, w: usize| -> u64 {
        let reply = c.cmd_str(&["GET", &format!("counter:{w}")]);
        reply.lines().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let mut acknowledged = 0u64;
    for cycle in 0..cycles {
        let s = DataDirServer::start(OURS, dir.path(), &options);
        let mut c = s.client();
        for (w, must) in must_have.iter_mut().enumerate() {
            let have = counter(&mut c, w);
            assert!(have >= *must, "{fsync}, cycle {cycle}, writer {w}: {have} < {must} acknowledged");
            *must = have;
        }
        // Writer threads increment until the server dies under them. Connected before the
        // threads start: on a loaded machine the kill below may come first.
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let mut conn = Client::connect(s.port);
                let key = format!("counter:{w}");
                std::thread::spawn(move || {
                    let mut acks = Vec::new();
                    loop {
                        conn.send_raw(&crate::common::encode(&[b"INCR", key.as_bytes()]));
                        match conn.try_read_reply().map(|r| Reply::parse(&r)) {
                            Ok(Reply::Int(n)) => acks.push(Ack { value: n as u64, at: std::time::Instant::now() }),
                            _ => return acks,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + (cycle as u64 * 7) % 40));
        let killed_at = std::time::Instant::now();
        s.kill9();
        for (w, writer) in writers.into_iter().enumerate() {
            let acks = writer.join().unwrap();
            acknowledged += acks.len() as u64;
            // What was acknowledged earlier than the bound before the kill must survive it.
            if let Some(ack) = acks.iter().rev().find(|a| killed_at.saturating_duration_since(a.at) >= may_lose) {
                must_have[w] = must_have[w].max(ack.value);
            }
        }
    }
    let s = DataDirServer::start(OURS, dir.path(), &options);
    let mut c = s.client();
    for (w, must) in must_have.iter().enumerate() {
        let have = counter(&mut c, w);
        assert!(have >= *must, "{fsync}, writer {w}: {have} < {must}");
    }
    assert!(acknowledged > 0, "no write was acknowledged in {cycles} cycles");
}

#[test]
fn bgrewriteaof_compacts_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), AOF_ON);
    let mut c = s.client();
    writes(&mut c, s.port);
    assert_eq!(c.cmd_str(&["BGREWRITEAOF"]), "+Background append only file rewriting started\r\n");
    c.cmd(&["SET", "after", "rewrite"]);
    wait_for("rewrite done", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrite_in_progress:0\r\n")
    });
    assert!(c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrites:1\r\n"));
    c.cmd(&["SET", "later", "too"]);
    let before = dataset(&mut c);
    let manifest = std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert!(manifest.contains("appendonly.aof.2.base.rdb") && !manifest.contains(".1.base"), "{manifest}");
    s.kill9();
    let s = DataDirServer::start(OURS, dir.path(), AOF_ON);
    assert_eq!(dataset(&mut s.client()), before);
}

/// Writes pipelined before BGREWRITEAOF (or BGSAVE) in one batch are in the new base, and only
/// there: after a restart an INCR counts once, as in Redis. They used to reach the new incr
/// file as well, after the fork, and ran twice on load.
#[test]
fn writes_pipelined_before_bgrewriteaof_are_replayed_once() {
    for bin in [REAL_REDIS, OURS] {
        let dir = tempfile::tempdir().unwrap();
        let s = DataDirServer::start(bin, dir.path(), AOF_ON);
        let mut c = s.client();
        // One write: the two commands arrive, and run, in one batch.
        let mut pipeline = crate::common::encode(&[b"INCR", b"counter"]);
        pipeline.extend(crate::common::encode(&[b"BGREWRITEAOF"]));
        c.send_raw(&pipeline);
        assert_eq!(c.read_reply(), b":1\r\n", "{bin}");
        assert_eq!(c.read_reply(), b"+Background append only file rewriting started\r\n", "{bin}");
        wait_for("rewrite done", Duration::from_secs(20), || {
            let info = c.cmd_str(&["INFO", "persistence"]);
            info.contains("aof_rewrite_in_progress:0\r\n") && info.contains("aof_rewrites:1\r\n")
        });
        s.kill9();
        let s = DataDirServer::start(bin, dir.path(), AOF_ON);
        assert_eq!(s.client().cmd_str(&["GET", "counter"]), "$1\r\n1\r\n", "{bin}");
    }
}

#[test]
fn config_set_appendonly_yes_starts_an_aof_of_the_current_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    writes(&mut c, s.port);
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), b"+OK\r\n");
    c.cmd(&["SET", "after", "enabling"]);
    let before = dataset(&mut c);
    s.kill9();
    let s = DataDirServer::start(OURS, dir.path(), AOF_ON);
    assert_eq!(dataset(&mut s.client()), before);
    let mut c = s.client();
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), b"+OK\r\n");
    assert!(c.cmd_str(&["INFO", "persistence"]).contains("aof_enabled:0\r\n"));
}

#[test]
fn appendonlydirs_move_between_redis_and_ours() {
    let dir = tempfile::tempdir().unwrap();
    let real = DataDirServer::start(REAL_REDIS, dir.path(), AOF_ON);
    let mut r = real.client();
    writes(&mut r, real.port);
    r.cmd(&["BGREWRITEAOF"]);
    wait_for("rewrite done", Duration::from_secs(20), || {
        r.cmd_str(&["INFO", "persistence"]).contains("aof_rewrite_in_progress:0\r\n")
    });
    r.cmd(&["SET", "after", "rewrite"]);
    let theirs = dataset(&mut r);
    real.shutdown();

    let ours = DataDirServer::start(OURS, dir.path(), AOF_ON);
    let mut c = ours.client();
    assert_eq!(dataset(&mut c), theirs, "ours replaying Redis's appendonlydir");
    c.cmd(&["SET", "written", "by ours"]);
    c.cmd(&["BGREWRITEAOF"]);
    wait_for("rewrite done", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrite_in_progress:0\r\n")
    });
    c.cmd(&["SET", "after", "our rewrite"]);
    let mine = dataset(&mut c);
    ours.shutdown();

    let real = DataDirServer::start(REAL_REDIS, dir.path(), AOF_ON);
    assert_eq!(dataset(&mut real.client()), mine, "Redis replaying our appendonlydir");
}

#[test]
fn an_aof_that_grew_enough_is_rewritten_automatically() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(
        OURS,
        dir.path(),
        &["--appendonly", "yes", "--auto-aof-rewrite-percentage", "100", "--auto-aof-rewrite-min-size", "1"],
    );
    let mut c = s.client();
    // Overwriting one key many times makes the AOF grow far past twice its base.
    for i in 0..200 {
        c.cmd(&["SET", "k", &i.to_string()]);
    }
    wait_for("automatic rewrite", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrites:1\r\n")
    });
    assert_eq!(c.cmd(&["GET", "k"]), b"$3\r\n199\r\n");
}

/// An AOF from Redis before 7 (a single appendonly.aof in the data directory) is moved into the
/// directory and replayed.
#[test]
fn a_single_file_aof_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    for (k, v) in [("a", "1"), ("b", "2")] {
        text.extend_from_slice(&crate::common::encode(&[b"SET", k.as_bytes(), v.as_bytes()]));
    }
    std::fs::write(dir.path().join("appendonly.aof"), &text).unwrap();
    let s = DataDirServer::start(OURS, dir.path(), AOF_ON);
    let mut c = s.client();
    assert_eq!(c.cmd(&["MGET", "a", "b"]), b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert!(dir.path().join("appendonlydir/appendonly.aof.manifest").exists());
}

#[test]
fn timestamp_annotations_are_written_and_skipped_on_replay() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &["--appendonly", "yes", "--aof-timestamp-enabled", "yes"]);
    let mut c = s.client();
    c.cmd(&["SET", "a", "1"]);
    let info = c.cmd_str(&["INFO", "persistence"]);
    assert!(info.contains("aof_current_size:") && info.contains("aof_base_size:"), "{info}");
    s.shutdown();
    let incr = std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    assert!(incr.starts_with("#TS:"), "{incr:?}");
    let s = DataDirServer::start(OURS, dir.path(), &["--appendonly", "yes"]);
    assert_eq!(s.client().cmd(&["GET", "a"]), b"$1\r\n1\r\n");
}

/// With aof-use-rdb-preamble no the base holds commands; Redis 7.0 replays such a directory too.
#[test]
fn a_base_of_commands_replays_here_and_in_redis() {
    let dir = tempfile::tempdir().unwrap();
    let no_preamble = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let s = DataDirServer::start(OURS, dir.path(), &no_preamble);
    let mut c = s.client();
    writes(&mut c, s.port);
    let big: Vec<String> = (0..150).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", "bigset"];
    args.extend(big.iter().map(String::as_str));
    c.cmd(&args);
    assert_eq!(c.cmd_str(&["BGREWRITEAOF"]), "+Background append only file rewriting started\r\n");
    wait_for("rewrite done", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrites:1\r\n")
    });
    let before = dataset(&mut c);
    s.shutdown();
    assert!(dir.path().join("appendonlydir/appendonly.aof.2.base.aof").exists());
    let s = DataDirServer::start(OURS, dir.path(), &no_preamble);
    assert_eq!(dataset(&mut s.client()), before);
    s.shutdown();
    let real = DataDirServer::start(REAL_REDIS, dir.path(), &no_preamble);
    assert_eq!(dataset(&mut real.client()), before);
}

#[test]
fn a_full_disk_stops_writes_until_the_aof_can_be_written_again() {
    let disk = SmallDisk::mount("1m");
    let s = DataDirServer::start(OURS, disk.path(), &["--appendonly", "yes", "--appendfsync", "everysec"]);
    let mut c = s.client();
    c.cmd(&["SET", "before", "full"]);
    // Leave almost no room, then write until the AOF cannot take more.
    let filler = disk.path().join("filler");
    let _ = std::fs::write(&filler, vec![b'x'; 1024 * 1024]);
    let value = "v".repeat(8192);
    let mut refused = None;
    for i in 0..1000 {
        let r = c.cmd_str(&["SET", &format!("k{i}"), &value]);
        if r.starts_with("-MISCONF Errors writing to the AOF file") {
            assert_eq!(r, "-MISCONF Errors writing to the AOF file: No space left on device\r\n");
            refused = Some(i);
            break;
        }
    }
    assert!(refused.is_some(), "writes were never refused on a full disk");
    assert!(c.cmd_str(&["INFO", "persistence"]).contains("aof_last_write_status:err\r\n"));
    assert_eq!(c.cmd(&["GET", "before"]), b"$4\r\nfull\r\n");
    std::fs::remove_file(&filler).unwrap();
    wait_for("writes accepted again", Duration::from_secs(20), || c.cmd(&["SET", "after", "space"]) == b"+OK\r\n");
    let before = dataset(&mut c);
    s.kill9();
    let s = DataDirServer::start(OURS, disk.path(), &["--appendonly", "yes"]);
    assert_eq!(dataset(&mut s.client()), before);
}
