//! A full disk (a small tmpfs, filled) under SAVE, BGSAVE, BGREWRITEAOF, appendfsync always and
//! CONFIG REWRITE, each compared with Debian's redis-server 7.0.15: the same replies, MISCONF as
//! Redis, old files intact, and writes accepted again once space returns. (Sentinel's config save
//! on a full disk is in sentinel.rs.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::*;

/// A server on a data directory (and config file) of the test's choosing, with its log kept
/// off the full disk so that what it logs there can be read.
struct OnDisk {
    child: Child,
    port: u16,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl OnDisk {
    fn start(bin: &str, conf: Option<&Path>, dir: &Path, extra: &[&str]) -> OnDisk {
        let log_dir = tempfile::tempdir().expect("temp dir");
        let log = log_dir.path().join("server.log");
        let port = free_port();
        let mut cmd = Command::new(bin);
        if let Some(conf) = conf {
            cmd.arg(conf);
        }
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--daemonize", "no"])
            .args(["--dir", dir.to_str().expect("utf-8"), "--logfile", log.to_str().expect("utf-8")])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = die_with_parent(&mut cmd).spawn().expect("spawn");
        let mut s = OnDisk { child, port, log, _log_dir: log_dir };
        wait_for("the server to answer", Duration::from_secs(30), || {
            assert!(matches!(s.child.try_wait(), Ok(None)), "exited: {}", s.log_text());
            Client::try_connect(port).is_ok_and(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n")
        });
        s
    }

    fn client(&self) -> Client {
        Client::connect(self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log's lines without their PIDs and timestamps (level mark kept).
    fn log_lines(&self) -> Vec<String> {
        self.log_text().lines().filter_map(|l| l.splitn(6, ' ').nth(5).map(String::from)).collect()
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let mut code = None;
        wait_for("the server to exit", Duration::from_secs(30), || match self.child.try_wait() {
            Ok(Some(status)) => {
                code = status.code();
                true
            }
            _ => false,
        });
        code
    }
}

impl Drop for OnDisk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fills what is left of the disk with a file, removed to give the space back.
fn fill(disk: &Path) -> PathBuf {
    let filler = disk.join("filler");
    let mut file = std::fs::File::create(&filler).expect("filler");
    while std::io::Write::write_all(&mut file, &[0u8; 4096]).is_ok() {}
    filler
}

fn field(c: &mut Client, section: &str, name: &str) -> String {
    let text = c.cmd_str(&["INFO", section]);
    text.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).unwrap_or_default().to_string()
}

/// Every file under `dir` (one level of subdirectories) and its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            for (name, bytes) in files(&path) {
                out.push((format!("{}/{name}", entry.file_name().to_string_lossy()), bytes));
            }
        } else if entry.file_name() != "filler" {
            out.push((entry.file_name().to_string_lossy().into_owned(), std::fs::read(&path).expect("read")));
        }
    }
    out.sort();
    out
}

/// Values that do not compress, so a snapshot of them cannot fit in what is left.
fn fill_dataset(c: &mut Client) {
    let mut rng = fastrand::Rng::with_seed(11);
    for i in 0..48 {
        let value: String = (0..16_384).map(|_| rng.alphanumeric()).collect();
        assert_eq!(c.cmd(&["SET", &format!("big:{i}"), &value]), b"+OK\r\n");
    }
}

#[test]
fn save_and_bgsave_on_a_full_disk_answer_as_redis_and_keep_the_old_dump() {
    let mut seen = Vec::new();
    for bin in [REAL_REDIS, OURS] {
        let disk = SmallDisk::mount("1m");
        let s = OnDisk::start(bin, None, disk.path(), &["--save", "3600 1"]);
        let mut c = s.client();
        let mut replies = Vec::new();
        c.cmd(&["SET", "small", "dataset"]);
        replies.push(c.cmd_str(&["SAVE"]));
        let dump = disk.path().join("dump.rdb");
        let saved = std::fs::read(&dump).expect("dump");
        fill_dataset(&mut c);
        let filler = fill(disk.path());
        replies.push(c.cmd_str(&["SAVE"]));
        replies.push(c.cmd_str(&["BGSAVE"]));
        wait_for("the background save to fail", Duration::from_secs(30), || {
            field(&mut c, "persistence", "rdb_last_bgsave_status") == "err"
        });
        replies.push(c.cmd_str(&["SET", "k", "v"]));
        replies.push(c.cmd_str(&["GET", "small"]));
        assert_eq!(std::fs::read(&dump).expect("dump"), saved, "{bin}: the old dump changed");
        assert_eq!(files(disk.path()).len(), 1, "{bin}: temp files left: {:?}", files(disk.path()));
        // Space again: the next save works and writes are accepted.
        std::fs::remove_file(&filler).expect("remove filler");
        replies.push(c.cmd_str(&["BGSAVE"]));
        wait_for("the background save to succeed", Duration::from_secs(30), || {
            field(&mut c, "persistence", "rdb_bgsave_in_progress") == "0"
                && field(&mut c, "persistence", "rdb_last_bgsave_status") == "ok"
        });
        replies.push(c.cmd_str(&["SET", "k", "v"]));
        // The SAVE's failure, in rdbSave's words (the BGSAVE child's are its own).
        let logged = s.log_lines().into_iter().filter(|l| l.contains("saving DB") || l.contains("temp RDB"));
        replies.extend(logged.take(1));
        seen.push(replies);
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(seen[0][1], "-ERR\r\n");
    assert_eq!(
        seen[0].last().map(String::as_str),
        Some("# Write error saving DB on disk(rdbSaveRio): No space left on device")
    );
    assert!(seen[0][3].starts_with("-MISCONF "), "{}", seen[0][3]);
}

#[test]
fn bgrewriteaof_on_a_full_disk_fails_as_redis_and_keeps_the_aof() {
    let mut seen = Vec::new();
    for bin in [REAL_REDIS, OURS] {
        let disk = SmallDisk::mount("1m");
        let s = OnDisk::start(bin, None, disk.path(), &["--appendonly", "yes", "--save", ""]);
        let mut c = s.client();
        let mut replies = Vec::new();
        c.cmd(&["SET", "before", "full"]);
        let manifest = disk.path().join("appendonlydir/appendonly.aof.manifest");
        let before = std::fs::read(&manifest).expect("manifest");
        let filler = fill(disk.path());
        replies.push(c.cmd_str(&["BGREWRITEAOF"]));
        replies.push(field(&mut c, "persistence", "aof_last_bgrewrite_status"));
        assert_eq!(std::fs::read(&manifest).expect("manifest"), before, "{bin}: the manifest changed");
        let logged = s.log_lines();
        assert!(
            logged.iter().any(|l| l
                == "# Error trying to write the temporary AOF manifest file temp-appendonly.aof.manifest: No space left on device"),
            "{bin}: {logged:?}"
        );
        // Space again: a rewrite works, and a restart finds every write.
        std::fs::remove_file(&filler).expect("remove filler");
        assert_eq!(c.cmd(&["SET", "after", "space"]), b"+OK\r\n");
        replies.push(c.cmd_str(&["BGREWRITEAOF"]));
        wait_for("the rewrite to end", Duration::from_secs(30), || {
            field(&mut c, "persistence", "aof_rewrite_in_progress") == "0"
                && field(&mut c, "persistence", "aof_rewrite_scheduled") == "0"
                && field(&mut c, "persistence", "aof_last_bgrewrite_status") == "ok"
        });
        drop(c);
        drop(s);
        let s = OnDisk::start(bin, None, disk.path(), &["--appendonly", "yes", "--save", ""]);
        let mut c = s.client();
        replies.push(c.cmd_str(&["MGET", "before", "after"]));
        seen.push(replies);
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(
        seen[0][0],
        "-ERR Can't execute an AOF background rewriting. Please check the server logs for more information.\r\n"
    );
}

/// With appendfsync always a write that cannot reach the AOF must not be acknowledged: Redis
/// logs why and exits, and after a restart with space every acknowledged write is there.
#[test]
fn appendfsync_always_on_a_full_disk_exits_as_redis_and_loses_nothing_acknowledged() {
    let mut seen = Vec::new();
    for bin in [REAL_REDIS, OURS] {
        let disk = SmallDisk::mount("1m");
        let mut s = OnDisk::start(bin, None, disk.path(), &["--appendonly", "yes", "--appendfsync", "always"]);
        let mut c = s.client();
        let filler = fill(disk.path());
        let value = "v".repeat(6000);
        let mut acknowledged = Vec::new();
        for i in 0..1000 {
            c.send_raw(&encode(&[b"SET", format!("k{i}").as_bytes(), value.as_bytes()]));
            match c.try_read_reply() {
                Ok(r) if r == b"+OK\r\n" => acknowledged.push(format!("k{i}")),
                Ok(r) => panic!("{bin}: {}", String::from_utf8_lossy(&r)),
                Err(_) => break,
            }
        }
        let code = s.wait_exit();
        let log: Vec<String> = s.log_lines().into_iter().filter(|l| l.contains("AOF")).collect();
        std::fs::remove_file(&filler).expect("remove filler");
        let s = OnDisk::start(bin, None, disk.path(), &["--appendonly", "yes"]);
        let mut c = s.client();
        for key in &acknowledged {
            assert_eq!(c.cmd_str(&["STRLEN", key]), ":6000\r\n", "{bin}: acknowledged {key} lost");
        }
        seen.push((code, log));
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(seen[0].0, Some(1));
    assert_eq!(
        seen[0].1.last().map(String::as_str),
        Some("# Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
    );
}

#[test]
fn config_rewrite_on_a_full_disk_fails_as_redis_and_keeps_the_file() {
    let mut seen = Vec::new();
    for bin in [REAL_REDIS, OURS] {
        let disk = SmallDisk::mount("256k");
        let conf = disk.path().join("redis.conf");
        std::fs::write(&conf, "# the operator's file\nsave \"\"\nmaxmemory 10mb\n").expect("write config");
        let data = tempfile::tempdir().expect("temp dir");
        let s = OnDisk::start(bin, Some(&conf), data.path(), &[]);
        let mut c = s.client();
        let before = std::fs::read(&conf).expect("config");
        let filler = fill(disk.path());
        c.cmd(&["CONFIG", "SET", "maxmemory", "20mb"]);
        let mut replies = vec![c.cmd_str(&["CONFIG", "REWRITE"])];
        let logged = s.log_lines().into_iter().filter(|l| l.contains("config file") || l.contains("CONFIG REWRITE"));
        replies.extend(logged);
        assert_eq!(std::fs::read(&conf).expect("config"), before, "{bin}: the config file changed");
        assert_eq!(files(disk.path()).len(), 1, "{bin}: temp files left");
        std::fs::remove_file(&filler).expect("remove filler");
        replies.push(c.cmd_str(&["CONFIG", "REWRITE"]));
        let text = std::fs::read_to_string(&conf).expect("config");
        assert!(text.starts_with("# the operator's file\n") && text.contains("maxmemory 20mb"), "{bin}: {text}");
        seen.push(replies);
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(seen[0][0], "-ERR Rewriting config file: No space left on device\r\n");
    assert_eq!(seen[0][1], "# Failed after writing (0) bytes to tmp config file (No space left on device)");
}

/// redisctl's edits on a full disk: refused with the reason, both files left byte for byte, no
/// temp file behind; the same edit works once there is space. (Redis has no such tool.)
#[test]
fn redisctl_edits_on_a_full_disk_fail_cleanly_and_work_once_space_returns() {
    const CTL: &str = env!("CARGO_BIN_EXE_redisctl");
    let disk = SmallDisk::mount("256k");
    let conf = disk.path().join("redis.conf");
    let sentinel = disk.path().join("sentinel.conf");
    let stock = std::fs::read_to_string("/etc/redis/redis.conf").expect("Debian's redis.conf");
    std::fs::write(&conf, &stock).expect("write redis.conf");
    std::fs::write(&sentinel, "sentinel monitor mymaster 127.0.0.1 6379 2\n").expect("write sentinel.conf");
    let run = |args: &[&str]| {
        let out = Command::new(CTL)
            .args(["--config", conf.to_str().expect("utf-8"), "--sentinel-config", sentinel.to_str().expect("utf-8")])
            .args(args)
            .output()
            .expect("run redisctl");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // redisctl's lock file (empty, kept between runs) is not an edit.
    let edited = || -> Vec<(String, Vec<u8>)> {
        files(disk.path()).into_iter().filter(|(name, _)| name != ".redisctl.lock").collect()
    };
    let before = edited();
    let filler = fill(disk.path());
    for edit in [&["replicaof", "10.0.0.9", "6380"][..], &["sentinel", "set", "mymaster", "quorum", "1"]] {
        let (code, stderr) = run(edit);
        assert_ne!(code, Some(0), "{edit:?} succeeded on a full disk");
        assert!(stderr.contains("No space left on device"), "{edit:?}: {stderr}");
        let after = edited();
        let names: Vec<&String> = after.iter().map(|(name, _)| name).collect();
        assert!(after == before, "{edit:?}: a file changed or a temp file stayed: {names:?}");
    }
    std::fs::remove_file(&filler).expect("remove filler");
    let (code, stderr) = run(&["replicaof", "10.0.0.9", "6380"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(std::fs::read_to_string(&conf).expect("config").contains("\nreplicaof 10.0.0.9 6380\n"));
}

/// A SAVE of a dataset smaller than stdio's buffer fails in Redis's final fflush: the log line
/// names that step, as Redis's does.
#[test]
fn a_small_save_on_a_full_disk_is_logged_as_redis_logs_it() {
    let mut seen = Vec::new();
    for bin in [REAL_REDIS, OURS] {
        let disk = SmallDisk::mount("256k");
        let s = OnDisk::start(bin, None, disk.path(), &["--save", ""]);
        let mut c = s.client();
        c.cmd(&["SET", "small", "dataset"]);
        let filler = fill(disk.path());
        let reply = c.cmd_str(&["SAVE"]);
        let logged: Vec<String> = s.log_lines().into_iter().filter(|l| l.contains("saving DB")).collect();
        assert!(files(disk.path()).is_empty(), "{bin}: {:?}", files(disk.path()));
        std::fs::remove_file(&filler).expect("remove filler");
        seen.push((reply, logged, c.cmd_str(&["SAVE"])));
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(seen[0].1, ["# Write error saving DB on disk(fflush): No space left on device"]);
    assert_eq!(seen[0].2, "+OK\r\n");
}
