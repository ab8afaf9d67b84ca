//! Damaged data files at start-up: an RDB cut at every offset or with bytes flipped is refused
//! (or loaded) exactly as Debian's redis-server 7.0.15 does, with Redis's log lines, and the file
//! that failed to load is left as it was.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// What became of one start-up on a data directory holding `dump.rdb`.
#[derive(Debug, PartialEq, Eq)]
struct Attempt {
    /// The exit code if the process ended on its own; None if it came up and served.
    exit: Option<i32>,
    /// The keys it served, sorted, when it came up.
    keys: Vec<String>,
    /// The log's lines about loading, without timestamps and PIDs.
    log: Vec<String>,
}

/// The log lines that tell what the load did; the rest (banner, warnings) is not about the file.
fn loading_lines(log: &str) -> Vec<String> {
    const ABOUT_LOADING: &[&str] = &[
        "RDB",
        "Short read",
        "Internal error",
        "DB loaded",
        "Fatal error",
        "Bad file format",
        "checksum",
        "Terminating",
    ];
    log.lines()
        .filter_map(|l| l.splitn(7, ' ').nth(6).map(|t| (l.split(' ').nth(5).unwrap_or_default(), t)))
        .filter(|(_, t)| ABOUT_LOADING.iter().any(|w| t.contains(w)))
        .map(|(level, t)| {
            // Seconds that pass between two runs are not a difference.
            let t = match t.strip_prefix("RDB age ") {
                Some(_) => "RDB age N seconds",
                None if t.starts_with("DB loaded from disk: ") => "DB loaded from disk: N seconds",
                None => t,
            };
            format!("{level} {t}")
        })
        .collect()
}

/// Starts `bin` on a fresh directory holding `rdb` as dump.rdb and reports what happened; checks
/// that the file is byte for byte what it was.
fn attempt(bin: &str, rdb: &[u8]) -> Attempt {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dump.rdb");
    std::fs::write(&path, rdb).expect("write dump");
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no"])
        .args(["--dir", dir.path().to_str().expect("utf-8"), "--logfile", "server.log"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = die_with_parent(&mut cmd).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut outcome = None;
    while outcome.is_none() {
        assert!(Instant::now() < deadline, "{bin} neither served nor exited");
        if let Ok(Some(status)) = child.try_wait() {
            outcome = Some(Attempt { exit: Some(status.code().unwrap_or(-1)), keys: Vec::new(), log: Vec::new() });
        } else if let Ok(mut c) = Client::try_connect(port) {
            // Redis listens before it loads: a connection may be reset as a failed load exits.
            c.send_raw(&encode(&[b"PING"]));
            if c.try_read_reply().is_ok_and(|r| r == b"+PONG\r\n") {
                let reply = c.cmd_str(&["KEYS", "*"]);
                let mut keys: Vec<String> =
                    reply.lines().filter(|l| !l.starts_with(['*', '$'])).map(String::from).collect();
                keys.sort();
                c.send_raw(b"SHUTDOWN NOSAVE\r\n");
                let _ = child.wait();
                outcome = Some(Attempt { exit: None, keys, log: Vec::new() });
            }
        } else {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(std::fs::read(&path).expect("dump.rdb is still there"), rdb, "{bin} changed the file it loaded");
    let mut outcome = outcome.expect("an outcome");
    outcome.log = loading_lines(&std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default());
    outcome
}

/// A small dump written by Redis itself: a key of each type, one with a TTL.
fn small_real_dump() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = DataDirServer::start(REAL_REDIS, dir.path(), &[]);
    let mut c = s.client();
    for cmd in [
        &["SET", "s", "v"][..],
        &["SET", "n", "12345"],
        &["SET", "ttl", "v", "PX", "100000000"],
        &["RPUSH", "l", "a", "b", "c"],
        &["HSET", "h", "f", "v"],
        &["SADD", "set", "1", "2", "3"],
        &["ZADD", "z", "1", "m", "2.5", "n"],
    ] {
        c.cmd(cmd);
    }
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    s.shutdown();
    std::fs::read(dir.path().join("dump.rdb")).expect("dump written")
}

#[test]
fn an_rdb_cut_at_every_offset_is_refused_as_redis_refuses_it() {
    let dump = small_real_dump();
    assert!(dump.len() < 400, "a small dump: {} bytes", dump.len());
    for cut in 0..dump.len() {
        let want = attempt(REAL_REDIS, &dump[..cut]);
        let got = attempt(OURS, &dump[..cut]);
        assert_eq!(got, want, "cut at {cut} of {}", dump.len());
        assert_eq!(want.exit, Some(1), "cut at {cut}: Redis refuses it");
    }
    // Whole, it loads in both.
    let (want, got) = (attempt(REAL_REDIS, &dump), attempt(OURS, &dump));
    assert_eq!(got, want);
    assert_eq!(want.keys.len(), 7);
}

#[test]
fn a_bigger_rdb_cut_at_sampled_offsets_is_refused_as_redis_refuses_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = DataDirServer::start(REAL_REDIS, dir.path(), &[]);
    let mut c = s.client();
    // Values that do not compress, so the file passes a megabyte.
    let mut rng = fastrand::Rng::with_seed(3);
    let mut batch = Vec::new();
    for i in 0..15_000 {
        let value: String = (0..80).map(|_| rng.alphanumeric()).collect();
        batch.extend(encode(&[b"SET", format!("key:{i}").as_bytes(), value.as_bytes()]));
    }
    c.send_raw(&batch);
    for _ in 0..15_000 {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
    for i in 0..200 {
        c.cmd(&["RPUSH", "list", &format!("element-{i}")]);
        c.cmd(&["HSET", "hash", &format!("field-{i}"), &"x".repeat(i)]);
    }
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    s.shutdown();
    let dump = std::fs::read(dir.path().join("dump.rdb")).expect("dump written");
    // Under Redis's 2 MB progress step, where its error line says offset 0.
    assert!(dump.len() > 1_000_000 && dump.len() < 2 * 1024 * 1024, "{} bytes", dump.len());
    let mut rng = fastrand::Rng::with_seed(21);
    for _ in 0..12 {
        let cut = rng.usize(..dump.len());
        assert_eq!(attempt(OURS, &dump[..cut]), attempt(REAL_REDIS, &dump[..cut]), "cut at {cut}");
    }
}

/// Bytes flipped here and there (sampled): whether the server starts, and what it serves when it
/// does, are Redis's; the file stays as it was.
#[test]
fn an_rdb_with_flipped_bytes_is_refused_or_loaded_as_redis_does() {
    let dump = small_real_dump();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut refused = 0;
    for at in (0..dump.len()).step_by(5) {
        let mut bad = dump.clone();
        bad[at] ^= rng.u8(1..);
        let want = attempt(REAL_REDIS, &bad);
        let got = attempt(OURS, &bad);
        assert_eq!((got.exit, &got.keys), (want.exit, &want.keys), "byte {at} flipped: {want:?} / {got:?}");
        if want.exit.is_some() {
            refused += 1;
            assert!(!got.log.is_empty(), "byte {at}: refused without a word in the log");
        }
    }
    assert!(refused > 0);
}
