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

/// The log from "Server initialized" to "Ready to accept connections" (or the end), without
/// PIDs, timestamps and the memory warnings: what start-up said about the data files.
/// Files to start on: a path under the data directory, and its bytes.
type Files<'a> = Vec<(&'a str, Vec<u8>)>;
/// Whether the server served, what it logged, and the AOF directory's files afterwards.
type Outcome = (bool, Vec<String>, Vec<(String, Vec<u8>)>);

fn startup_story(log: &str) -> Vec<String> {
    let from = log.find("Server initialized").unwrap_or(0);
    let to = log.find("Ready to accept connections").unwrap_or(log.len());
    log[from..to]
        .lines()
        .skip(1)
        .map(|l| match l.split_once(':') {
            // "PID:M 07 Dec 2026 05:00:08.387 # text": keep the level and the text.
            Some((pid, _)) if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => {
                l.splitn(6, ' ').nth(5).unwrap_or_default().to_string()
            }
            _ => l.to_string(),
        })
        .filter(|l| !l.contains("WARNING Memory overcommit") && !l.contains("monotonic clock"))
        // How long a load took is not a difference.
        .map(|l| match l.rsplit_once(": ") {
            Some((head, secs)) if secs.ends_with(" seconds") && head.contains(" loaded from ") => {
                format!("{head}: N seconds")
            }
            _ => l,
        })
        .collect()
}

/// Starts `bin` on a directory holding `files` (paths relative to it) with `extra` options, and
/// returns whether it came up, what it said, and every file of the directory afterwards.
fn start_on(bin: &str, files: &[(&str, Vec<u8>)], extra: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
    let log = tempfile::tempdir().expect("temp dir");
    let log_path = log.path().join("server.log");
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no"])
        .args(["--dir", dir.path().to_str().expect("utf-8"), "--logfile", log_path.to_str().expect("utf-8")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = die_with_parent(&mut cmd).spawn().expect("spawn");
    let mut served = None;
    wait_for("the server to serve or exit", Duration::from_secs(30), || {
        if let Ok(Some(_)) = child.try_wait() {
            served = Some(false);
        } else if let Ok(mut c) = Client::try_connect(port) {
            c.send_raw(&encode(&[b"PING"]));
            if c.try_read_reply().is_ok_and(|r| r == b"+PONG\r\n") {
                served = Some(true);
            }
        }
        served.is_some()
    });
    let _ = child.kill();
    let _ = child.wait();
    let story = startup_story(&std::fs::read_to_string(&log_path).unwrap_or_default());
    let mut after = Vec::new();
    let aof_dir = dir.path().join("appendonlydir");
    for entry in std::fs::read_dir(&aof_dir).into_iter().flatten().flatten() {
        after.push((entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path()).expect("read")));
    }
    after.sort();
    (served == Some(true), story, after)
}

fn aof_command(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    encode(&args)
}

/// An AOF whose last command is cut, with aof-load-truncated yes (cut off and loaded) and no
/// (refused); damaged manifests (refused, with Redis's banner and line); each as Redis, files
/// left as Redis leaves them.
#[test]
fn a_truncated_aof_and_damaged_manifests_are_handled_as_redis_does() {
    let mut incr = aof_command(&["SET", "a", "1"]);
    let whole = aof_command(&["SET", "b", "22"]);
    incr.extend_from_slice(&whole[..whole.len() - 3]);
    let manifest = b"file appendonly.aof.1.incr.aof seq 1 type i\n".to_vec();
    let with = |manifest: &[u8]| {
        vec![
            ("appendonlydir/appendonly.aof.1.incr.aof", incr.clone()),
            ("appendonlydir/appendonly.aof.manifest", manifest.to_vec()),
        ]
    };
    let mut cases: Vec<(&str, Files, &str)> =
        vec![("cut tail, loaded", with(&manifest), "yes"), ("cut tail, refused", with(&manifest), "no")];
    for bad in [
        &b"file appendonly.aof.1.incr.aof seq 1 type x\n"[..],
        b"file appendonly.aof.1.incr.aof seq 1\n",
        b"garbage\n",
        b"file appendonly.aof.1.incr.aof seq abc type i\n",
        b"file appendonly.aof.1.incr.aof seq 1 type i",
        b"",
        b"file appendonly.aof.9.incr.aof seq 9 type i\n",
        b"file a.rdb seq 1 type b\nfile b.rdb seq 2 type b\n",
        b"file appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
        b"file ../appendonly.aof.1.incr.aof seq 1 type i\n",
    ] {
        cases.push(("damaged manifest", with(bad), "yes"));
    }
    for (what, files, load_truncated) in cases {
        let extra = ["--appendonly", "yes", "--aof-load-truncated", load_truncated];
        let want = start_on(REAL_REDIS, &files, &extra);
        let got = start_on(OURS, &files, &extra);
        let manifest_text = String::from_utf8_lossy(&files[1].1).into_owned();
        assert_eq!(got.0, want.0, "{what} ({manifest_text:?}): served");
        assert_eq!(got.1, want.1, "{what} ({manifest_text:?}): the log");
        assert_eq!(got.2, want.2, "{what} ({manifest_text:?}): the files after");
        assert!(!want.1.is_empty(), "{what}: Redis said nothing");
    }
}
