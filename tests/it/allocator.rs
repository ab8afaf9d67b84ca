//! The allocator gives freed memory back to the system: after FLUSHALL of a keyspace of tens of
//! megabytes, the server's RSS falls back near where it started (glibc's malloc never did; the
//! jemalloc background threads purge within seconds). Also for a daemonized server, whose
//! process is a forked child: the threads are started after the fork.

use std::time::Duration;

use crate::common::{encode, wait_for, Client, Server};

const KEYS: usize = 200_000;
const VALUE: [u8; 200] = [b'v'; 200];

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS in kB")
}

/// SETs KEYS keys of 200 bytes, pipelined by the thousand.
fn fill(c: &mut Client) {
    for first in (0..KEYS).step_by(1000) {
        let batch = first..(first + 1000).min(KEYS);
        let mut out = Vec::new();
        for i in batch.clone() {
            out.extend_from_slice(&encode(&[b"SET", format!("key:{i:012}").as_bytes(), &VALUE]));
        }
        c.send_raw(&out);
        for _ in batch {
            assert_eq!(c.read_reply(), b"+OK\r\n");
        }
    }
}

/// Fills, checks the RSS grew by most of the data, flushes, and waits for the RSS to fall back.
fn memory_comes_back(pid: u32, c: &mut Client) {
    let empty = rss_kb(pid);
    fill(c);
    assert_eq!(c.cmd_str(&["DBSIZE"]), format!(":{KEYS}\r\n"));
    let full = rss_kb(pid);
    let data_kb = (KEYS * VALUE.len() / 1024) as u64;
    assert!(full > empty + data_kb, "RSS {empty} kB empty, {full} kB with {data_kb} kB of values");
    assert_eq!(c.cmd_str(&["FLUSHALL"]), "+OK\r\n");
    let target = empty + (full - empty) / 4;
    wait_for(&format!("RSS below {target} kB after FLUSHALL (was {full} kB)"), Duration::from_secs(60), || {
        rss_kb(pid) < target
    });
}

#[test]
fn flushall_gives_memory_back() {
    let s = Server::start(&[]);
    memory_comes_back(s.pid(), &mut s.client());
}

/// Ends the daemon by its pid, even when the test fails.
struct Daemon(u32);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the daemon this test started; no memory is touched.
        unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
    }
}

#[test]
fn a_daemonized_server_gives_memory_back_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pidfile = dir.path().join("redis.pid");
    let port = crate::common::free_port();
    let status = std::process::Command::new(crate::common::OURS)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--daemonize", "yes"])
        .args(["--dir", &dir.path().display().to_string(), "--pidfile", &pidfile.display().to_string()])
        .args(["--logfile", &dir.path().join("server.log").display().to_string()])
        .status()
        .expect("run the server");
    assert!(status.success(), "the daemonizing parent exits 0");
    let mut pid = None;
    wait_for("the pidfile", Duration::from_secs(15), || {
        pid = std::fs::read_to_string(&pidfile).ok().and_then(|t| t.trim().parse::<u32>().ok());
        pid.is_some()
    });
    let daemon = Daemon(pid.expect("a pid"));
    let mut c = None;
    wait_for("the daemon to answer", Duration::from_secs(15), || {
        c = Client::try_connect(port).ok();
        c.is_some()
    });
    memory_comes_back(daemon.0, c.as_mut().expect("a client"));
}
