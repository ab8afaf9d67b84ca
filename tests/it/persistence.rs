//! RDB snapshots of the running server: SAVE, BGSAVE, save points, SHUTDOWN and SIGTERM saves,
//! loading at start-up, files exchanged with Debian's real redis-server in both directions, and
//! what happens when saving or loading fails.

use std::process::Command;
use std::time::Duration;

use crate::common::{wait_for, Client, DataDirServer, Reply, Server, SmallDisk, OURS, REAL_REDIS};

/// Every type in its small and large encodings, strings of each kind, TTLs, two databases.
fn fill(c: &mut Client) {
    let big: Vec<String> = (0..600).map(|i| format!("member:{i}")).collect();
    assert_eq!(c.cmd(&["SET", "int", "12345"]), b"+OK\r\n");
    c.cmd(&["SET", "neg", "-9223372036854775808"]);
    c.cmd(&["SET", "raw", &"compressible ".repeat(20)]);
    c.cmd(&["SET", "bin", "a\x00b\r\n\u{7f}"]);
    c.cmd(&["SET", "ttl", "v", "PX", "100000000"]);
    c.cmd(&["RPUSH", "list", "a", "1", "", "long element long element long element"]);
    let mut args = vec!["RPUSH", "biglist"];
    args.extend(big.iter().map(String::as_str));
    c.cmd(&args);
    c.cmd(&["HSET", "hash", "f1", "v1", "f2", "2"]);
    let mut args = vec!["HSET", "bighash"];
    for m in &big {
        args.push(m);
        args.push("x");
    }
    c.cmd(&args);
    c.cmd(&["SADD", "intset", "1", "-5", "300000", "9223372036854775807"]);
    c.cmd(&["SADD", "set", "a", "b", "c"]);
    let mut args = vec!["SADD", "bigset"];
    args.extend(big.iter().map(String::as_str));
    c.cmd(&args);
    c.cmd(&["ZADD", "zset", "1.5", "a", "-inf", "b", "3", "c"]);
    let scores: Vec<String> = (0..600).map(|i| format!("{}.25", i)).collect();
    let mut args = vec!["ZADD", "bigzset"];
    for (s, m) in scores.iter().zip(&big) {
        args.push(s);
        args.push(m);
    }
    c.cmd(&args);
    c.cmd(&["EXPIRE", "bigzset", "100000"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "in-db-3", "yes"]);
    c.cmd(&["SELECT", "0"]);
}

/// What a client sees of every key: type, encoding-independent value, TTL (rounded), per db.
fn snapshot(c: &mut Client) -> Vec<String> {
    let mut out = Vec::new();
    for db in ["0", "3"] {
        c.cmd(&["SELECT", db]);
        let mut names = Reply::parse(&c.cmd(&["KEYS", "*"])).texts();
        names.sort();
        for k in names {
            let ty = c.cmd_str(&["TYPE", &k]);
            let value = match ty.as_str() {
                "+string\r\n" => c.cmd_str(&["GET", &k]),
                "+list\r\n" => c.cmd_str(&["LRANGE", &k, "0", "-1"]),
                "+hash\r\n" => sorted_lines(c.cmd_str(&["HGETALL", &k])),
                "+set\r\n" => sorted_lines(c.cmd_str(&["SMEMBERS", &k])),
                "+zset\r\n" => c.cmd_str(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
                other => panic!("unexpected type {other}"),
            };
            let ttl = Reply::parse(&c.cmd(&["TTL", &k])).int();
            let ttl = if ttl > 0 { "ttl>0".to_string() } else { ttl.to_string() };
            out.push(format!("db{db} {k} {ty} {ttl} {value}"));
        }
    }
    c.cmd(&["SELECT", "0"]);
    out
}

/// A multi-bulk reply as sorted lines (for orders Redis leaves unspecified).
fn sorted_lines(s: String) -> String {
    let mut lines: Vec<&str> = s.split("\r\n").collect();
    lines.sort();
    lines.join("|")
}

#[test]
fn save_and_restart_keep_every_key_value_and_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    fill(&mut c);
    let before = snapshot(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    let info = c.cmd_str(&["INFO", "persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
    assert!(info.contains("rdb_saves:1\r\n"), "{info}");
    s.stop(&["SHUTDOWN", "NOSAVE"]);
    assert!(!dir.path().read_dir().unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with("temp-")));
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    assert_eq!(snapshot(&mut c), before);
    let info = c.cmd_str(&["INFO", "persistence"]);
    assert!(info.contains("rdb_last_load_keys_loaded:15\r\n"), "{info}");
}

#[test]
fn bgsave_writes_a_snapshot_while_serving_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    fill(&mut c);
    let before = snapshot(&mut c);
    let lastsave = c.cmd_str(&["LASTSAVE"]);
    assert_eq!(c.cmd_str(&["BGSAVE"]), "+Background saving started\r\n");
    // Writes after the fork are not in this snapshot and stay counted as unsaved.
    c.cmd(&["SET", "after", "fork"]);
    wait_for("bgsave done", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("rdb_bgsave_in_progress:0\r\n")
    });
    let info = c.cmd_str(&["INFO", "persistence"]);
    assert!(info.contains("rdb_last_bgsave_status:ok\r\n"), "{info}");
    assert!(info.contains("rdb_changes_since_last_save:1\r\n"), "{info}");
    assert!(c.cmd_str(&["LASTSAVE"]) >= lastsave);
    assert_eq!(c.cmd_str(&["BGSAVE", "NOW"]), "-ERR syntax error\r\n");
    s.stop(&["SHUTDOWN", "NOSAVE"]);
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    assert_eq!(snapshot(&mut c), before);
}

#[test]
fn a_save_point_saves_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &["--save", "1 1"]);
    let mut c = s.client();
    c.cmd(&["SET", "k", "v"]);
    wait_for("save point", Duration::from_secs(20), || {
        let info = c.cmd_str(&["INFO", "persistence"]);
        info.contains("rdb_changes_since_last_save:0\r\n") && info.contains("rdb_bgsave_in_progress:0\r\n")
    });
    assert!(dir.path().join("dump.rdb").exists());
}

#[test]
fn shutdown_and_sigterm_save_when_save_points_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &["--save", "3600 1"]);
    s.client().cmd(&["SET", "by", "shutdown"]);
    s.stop(&["SHUTDOWN"]);
    let s = DataDirServer::start(OURS, dir.path(), &["--save", "3600 1"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["GET", "by"]), b"$8\r\nshutdown\r\n");
    c.cmd(&["SET", "by", "sigterm"]);
    s.terminate();
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["GET", "by"]), b"$7\r\nsigterm\r\n");
    c.cmd(&["SET", "by", "nosave"]);
    s.stop(&["SHUTDOWN", "NOSAVE"]);
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    assert_eq!(s.client().cmd(&["GET", "by"]), b"$7\r\nsigterm\r\n");
}

#[test]
fn our_dump_loads_in_redis_and_redis_dump_loads_in_ours() {
    let dir = tempfile::tempdir().unwrap();
    let ours = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = ours.client();
    fill(&mut c);
    let expected = snapshot(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    ours.stop(&["SHUTDOWN", "NOSAVE"]);
    let check = Command::new("redis-check-rdb").arg(dir.path().join("dump.rdb")).output().unwrap();
    assert!(check.status.success(), "redis-check-rdb: {}", String::from_utf8_lossy(&check.stdout));

    let real = DataDirServer::start(REAL_REDIS, dir.path(), &[]);
    let mut r = real.client();
    assert_eq!(snapshot(&mut r), expected, "Redis 7.0 reading our dump");
    for (key, enc) in [("int", "int"), ("list", "quicklist"), ("hash", "listpack"), ("bighash", "hashtable")] {
        assert_eq!(r.cmd_str(&["OBJECT", "ENCODING", key]), format!("${}\r\n{enc}\r\n", enc.len()), "{key}");
    }
    for (key, enc) in [("intset", "intset"), ("bigset", "hashtable"), ("zset", "listpack"), ("bigzset", "skiplist")] {
        assert_eq!(r.cmd_str(&["OBJECT", "ENCODING", key]), format!("${}\r\n{enc}\r\n", enc.len()), "{key}");
    }
    r.cmd(&["SET", "written", "by redis"]);
    assert_eq!(r.cmd(&["SAVE"]), b"+OK\r\n");
    real.stop(&["SHUTDOWN", "NOSAVE"]);

    let ours = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = ours.client();
    let mut with_redis_key = expected.clone();
    with_redis_key.push("db0 written +string\r\n -1 $8\r\nby redis\r\n".to_string());
    with_redis_key.sort_by_key(|l| (l[..3].to_string(), l.split(' ').nth(1).unwrap_or("").to_string()));
    let mut got = snapshot(&mut c);
    got.sort_by_key(|l| (l[..3].to_string(), l.split(' ').nth(1).unwrap_or("").to_string()));
    assert_eq!(got, with_redis_key, "ours reading Redis 7.0's dump");
}

#[test]
fn a_corrupt_dump_stops_start_up_and_stays_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    fill(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    s.stop(&["SHUTDOWN", "NOSAVE"]);
    let path = dir.path().join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, &bytes).unwrap();
    let port = crate::common::free_port().to_string();
    let out = Command::new(OURS)
        .args(["--port", &port, "--dir", dir.path().to_str().unwrap(), "--save", "3600 1", "--daemonize", "no"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // Redis's words for a file cut short (rdbLoadRio's eoferr and rdbReportReadError).
    assert!(log.contains("# Short read or OOM loading DB. Unrecoverable error, aborting now.\n"), "{log}");
    assert!(log.contains("Internal error in RDB reading offset 0, function at rdb.c:3249 -> Unexpected EOF"), "{log}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file that failed to load must stay as it was");
}

#[test]
fn a_failed_background_save_stops_writes_with_misconf_but_not_reads() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    // The log goes outside the directory removed below: a line logged meanwhile would recreate it.
    let log = base.path().join("server.log");
    let log = log.to_str().unwrap();
    let s =
        DataDirServer::start(OURS, &dir, &["--save", "3600 1", "--enable-protected-configs", "yes", "--logfile", log]);
    let mut c = s.client();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    let saved = std::fs::read(dir.join("dump.rdb")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(c.cmd_str(&["BGSAVE"]), "+Background saving started\r\n");
    wait_for("bgsave failed", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("rdb_last_bgsave_status:err\r\n")
    });
    assert!(c.cmd_str(&["SET", "k", "w"]).starts_with("-MISCONF Redis is configured to save RDB snapshots"));
    assert!(c.cmd_str(&["PING"]).starts_with("-MISCONF"));
    assert_eq!(c.cmd(&["GET", "k"]), b"$1\r\nv\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "w"]), b"+OK\r\n");
    // A directory again: the next save works and clears the error.
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("dump.rdb"), &saved).unwrap();
    assert_eq!(c.cmd(&["CONFIG", "SET", "dir", dir.to_str().unwrap()]), b"+OK\r\n");
    assert_eq!(c.cmd(&["BGSAVE"]), b"+Background saving started\r\n");
    wait_for("bgsave done", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("rdb_bgsave_in_progress:0\r\n")
    });
    assert!(c.cmd_str(&["INFO", "persistence"]).contains("rdb_last_bgsave_status:ok\r\n"));
    s.stop(&["SHUTDOWN", "NOSAVE"]);
}

#[test]
fn save_refuses_while_a_background_save_runs_and_schedule_queues_one() {
    let s = Server::start(&[]);
    let mut c = s.client();
    for i in 0..2_000 {
        c.send_raw(&crate::common::encode(&[b"SET", format!("key:{i}").as_bytes(), b"some value to save"]));
    }
    for _ in 0..2_000 {
        c.read_reply();
    }
    // rdb-key-save-delay (µs per key) keeps the child busy for about a second.
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "500"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(c.cmd_str(&["BGSAVE"]), "-ERR Background save already in progress\r\n");
    assert_eq!(c.cmd_str(&["SAVE"]), "-ERR Background save already in progress\r\n");
    assert!(c.cmd_str(&["INFO", "persistence"]).contains("rdb_bgsave_in_progress:1\r\n"));
    assert_eq!(c.cmd_str(&["BGSAVE", "SCHEDULE"]), "+Background saving scheduled\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]), b"+OK\r\n");
    wait_for("both saves done", Duration::from_secs(30), || {
        let info = c.cmd_str(&["INFO", "persistence"]);
        info.contains("rdb_saves:2\r\n") && info.contains("rdb_bgsave_in_progress:0\r\n")
    });
}

#[test]
fn debug_reload_saves_flushes_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &["--enable-debug-command", "yes"]);
    let mut c = s.client();
    fill(&mut c);
    let before = snapshot(&mut c);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), b"+OK\r\n");
    assert_eq!(snapshot(&mut c), before);
    c.cmd(&["SET", "only-in-memory", "x"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["EXISTS", "only-in-memory"]), b":0\r\n");
    assert_eq!(
        c.cmd_str(&["DEBUG", "RELOAD", "BOGUS"]),
        "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
    );
    s.stop(&["SHUTDOWN", "NOSAVE"]);
}

#[test]
fn clients_are_told_loading_until_the_dataset_is_in() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    for i in 0..2_000 {
        c.send_raw(&crate::common::encode(&[b"SET", format!("key:{i}").as_bytes(), b"v"]));
    }
    for _ in 0..2_000 {
        c.read_reply();
    }
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    s.stop(&["SHUTDOWN", "NOSAVE"]);
    // key-load-delay (µs per key) stretches the load to about a second.
    let port = crate::common::free_port();
    let mut child = Command::new(OURS)
        .args([
            "--port",
            &port.to_string(),
            "--dir",
            dir.path().to_str().unwrap(),
            "--save",
            "",
            "--key-load-delay",
            "500",
        ])
        .args(["--logfile", "server.log"])
        .spawn()
        .unwrap();
    wait_for("listening", Duration::from_secs(20), || Client::try_connect(port).is_ok());
    let mut c = Client::connect(port);
    assert_eq!(c.cmd_str(&["PING"]), "-LOADING Redis is loading the dataset in memory\r\n");
    let info = c.cmd_str(&["INFO", "persistence"]);
    assert!(info.contains("loading:1\r\n") && info.contains("loading_loaded_perc:"), "{info}");
    wait_for("loaded", Duration::from_secs(30), || c.cmd(&["PING"]) == b"+PONG\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), b":2000\r\n");
    assert!(c.cmd_str(&["INFO", "persistence"]).contains("loading:0\r\n"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_full_disk_fails_the_save_and_keeps_the_previous_file() {
    let disk = SmallDisk::mount("256k");
    let s = DataDirServer::start(OURS, disk.path(), &["--save", "3600 1"]);
    let mut c = s.client();
    c.cmd(&["SET", "small", "dataset"]);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    let path = disk.path().join("dump.rdb");
    let saved = std::fs::read(&path).unwrap();
    // Random bytes do not compress: about 1 MB of them cannot fit in 256 KB.
    for i in 0..64 {
        let value: String = (0..16_384).map(|_| char::from(b'a' + fastrand_byte(i) % 26)).collect();
        c.cmd(&["SET", &format!("big:{i}"), &value]);
    }
    assert_eq!(c.cmd(&["SAVE"]), b"-ERR\r\n");
    assert_eq!(std::fs::read(&path).unwrap(), saved, "the previous file must stay whole");
    let leftovers: Vec<_> = std::fs::read_dir(disk.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("temp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(c.cmd_str(&["BGSAVE"]), "+Background saving started\r\n");
    wait_for("bgsave failed", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("rdb_last_bgsave_status:err\r\n")
    });
    assert!(c.cmd_str(&["SET", "k", "v"]).starts_with("-MISCONF"));
    assert_eq!(c.cmd(&["GET", "small"]), b"$7\r\ndataset\r\n");
    assert_eq!(std::fs::read(&path).unwrap(), saved);
    s.stop(&["SHUTDOWN", "NOSAVE"]);
}

/// A cheap pseudo-random byte stream (xorshift), so the values do not compress.
fn fastrand_byte(seed: u64) -> u8 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) });
    STATE.with(|s| {
        let mut x = s.get() ^ seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 24) as u8
    })
}

#[test]
fn info_counts_forks() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert!(c.cmd_str(&["INFO", "stats"]).contains("total_forks:0\r\n"));
    assert_eq!(c.cmd_str(&["BGSAVE"]), "+Background saving started\r\n");
    wait_for("bgsave done", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "persistence"]).contains("rdb_bgsave_in_progress:0\r\n")
    });
    let stats = c.cmd_str(&["INFO", "stats"]);
    assert!(stats.contains("total_forks:1\r\n"), "{stats}");
    assert!(!stats.contains("latest_fork_usec:0\r\n"), "{stats}");
}

#[test]
fn flushall_with_save_points_saves_the_empty_dataset_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &["--save", "3600 1"]);
    let mut c = s.client();
    c.cmd(&["SET", "a", "1"]);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    c.cmd(&["SET", "b", "2"]);
    assert_eq!(c.cmd(&["FLUSHALL"]), b"+OK\r\n");
    let info = c.cmd_str(&["INFO", "persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
    s.stop(&["SHUTDOWN", "NOSAVE"]);
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["DBSIZE"]), b":0\r\n");
    // Without save points each removed key is one change, the flush itself none (as 7.0.15).
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2"]);
    c.cmd(&["FLUSHALL"]);
    c.cmd(&["FLUSHALL"]);
    assert!(c.cmd_str(&["INFO", "persistence"]).contains("rdb_changes_since_last_save:4\r\n"));
}

/// A small dataset is in before the first client is answered, as in Redis: a client that was
/// waiting for the server (socket activation, a restart) gets its answer, not -LOADING.
#[test]
fn a_small_dataset_is_loaded_before_the_first_reply() {
    let dir = tempfile::tempdir().unwrap();
    let s = DataDirServer::start(OURS, dir.path(), &[]);
    let mut c = s.client();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    s.stop(&["SHUTDOWN", "NOSAVE"]);
    let port = crate::common::free_port();
    let mut child = Command::new(OURS)
        .args(["--port", &port.to_string(), "--dir", dir.path().to_str().unwrap(), "--save", ""])
        .args(["--logfile", "server.log"])
        .spawn()
        .unwrap();
    let mut first = None;
    wait_for("first reply", Duration::from_secs(20), || {
        first = Client::try_connect(port).ok().map(|mut c| c.cmd_str(&["GET", "k"]));
        first.is_some()
    });
    assert_eq!(first.as_deref(), Some("$1\r\nv\r\n"));
    let _ = child.kill();
    let _ = child.wait();
}
