//! What the server and Sentinel print at start-up and on bad starts, compared with Debian's
//! redis-server/redis-sentinel 7.0.15: the logo (tools read its PID line), the system warnings,
//! an unreadable config file, the usage texts, and a Sentinel's command-line options kept in its
//! file.

use crate::common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The log of a server started with `args` (its own `--logfile`), once it serves, and its PID.
fn startup_log(bin: &str, args: &[&str]) -> (String, u32) {
    let s = if bin == OURS { Server::start(args) } else { Server::start_real(args) };
    wait_for("the Ready line", Duration::from_secs(10), || s.log_text().contains("Ready to accept connections"));
    (s.log_text(), s.pid())
}

/// Lines without their `pid:role date level` header, and PIDs and ports made neutral.
fn messages(log: &str, pid: u32, port: u16) -> Vec<String> {
    log.lines()
        .map(|l| match l.split_once(" # ").or_else(|| l.split_once(" * ")) {
            Some((head, msg)) if head.starts_with(&format!("{pid}:")) => msg.to_string(),
            _ => l.to_string(),
        })
        .map(|l| l.replace(&format!("PID: {pid}"), "PID: <pid>").replace(&format!("Port: {port}"), "Port: <port>"))
        .collect()
}

fn port_of(log: &str) -> u16 {
    log.lines()
        .find_map(|l| l.split("Port: ").nth(1).and_then(|p| p.trim().parse().ok()))
        .or_else(|| {
            log.lines().find_map(|l| l.split("port=").nth(1).and_then(|p| p.trim_end_matches('.').parse().ok()))
        })
        .expect("a port in the start-up lines")
}

/// The logo block: from its first line to the blank line after it.
fn logo(lines: &[String]) -> Vec<String> {
    let start = lines.iter().position(|l| l.ends_with("_._                                                  "));
    let Some(start) = start else { return Vec::new() };
    lines[start..].iter().take_while(|l| !l.is_empty()).cloned().collect()
}

#[test]
fn always_show_logo_prints_redis_logo_with_mode_port_and_pid() {
    let (ours, our_pid) = startup_log(OURS, &["--always-show-logo", "yes"]);
    let (real, real_pid) = startup_log(REAL_REDIS, &["--always-show-logo", "yes"]);
    let ours_lines = messages(&ours, our_pid, port_of(&ours));
    let real_lines = messages(&real, real_pid, port_of(&real));
    let ours_logo = logo(&ours_lines);
    assert_eq!(ours_logo.len(), 17, "{ours}");
    assert_eq!(ours_logo, logo(&real_lines), "the logo differs from Redis's");
    assert!(ours.contains(&format!("|     PID: {our_pid}\n")), "the PID line names the server's PID: {ours}");
}

#[test]
fn without_the_logo_one_line_gives_mode_and_port() {
    let (ours, _) = startup_log(OURS, &[]);
    assert!(!ours.contains("_._"), "no logo unless asked for (stdout is no terminal here): {ours}");
    let port = port_of(&ours);
    assert!(ours.contains(&format!(" * Running mode=standalone, port={port}.\n")), "{ours}");
}

/// The warnings Redis gives about the system are given by ours too, once, in the same words:
/// the TCP backlog above net.core.somaxconn, and memory overcommit when it is not 1 here.
#[test]
fn system_warnings_match_redis() {
    let somaxconn: i64 = std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap().trim().parse().unwrap();
    let backlog = (somaxconn + 1).to_string();
    let (ours, our_pid) = startup_log(OURS, &["--tcp-backlog", &backlog]);
    let (real, real_pid) = startup_log(REAL_REDIS, &["--tcp-backlog", &backlog]);
    let warnings = |log: &str, pid: u32| -> Vec<String> {
        messages(log, pid, 0).into_iter().filter(|l| l.starts_with("WARNING")).collect()
    };
    let (ours_w, real_w) = (warnings(&ours, our_pid), warnings(&real, real_pid));
    let backlog_line = format!("WARNING: The TCP backlog setting of {backlog} cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of {somaxconn}.");
    assert_eq!(ours_w.iter().filter(|l| **l == backlog_line).count(), 1, "{ours}");
    // The rest (overcommit, transparent huge pages) depends on this machine: the same as Redis's.
    assert_eq!(ours_w, real_w, "ours:\n{ours}\nreal:\n{real}");
    let overcommit = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").unwrap();
    if overcommit.trim() != "1" {
        assert!(ours_w.iter().any(|l| l.starts_with("WARNING Memory overcommit must be enabled!")), "{ours}");
    }
    // Warnings are logged at WARNING ('#').
    assert!(ours.lines().any(|l| l.contains(" # WARNING: The TCP backlog")), "{ours}");
}

/// Runs `bin args`, returning (exit code, stdout, stderr).
fn run(bin: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin).args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `pid:C 06 Dec 2026 07:43:36.334 # text` without the pid and the time.
fn without_header(line: &str) -> String {
    let (head, rest) = line.split_once(' ').unwrap_or(("", line));
    let role = head.split(':').nth(1).unwrap_or("");
    let text = rest.split_once(" # ").map_or(rest, |(_, t)| t);
    format!("{role} # {text}")
}

#[test]
fn an_unreadable_config_file_is_one_log_line_as_in_redis() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.conf");
    let missing = missing.to_str().unwrap();
    let including = dir.path().join("including.conf");
    std::fs::write(&including, format!("port 0\ninclude {missing}\n")).unwrap();
    let including = including.to_str().unwrap();
    for (ours, real) in [(OURS, REAL_REDIS), (OUR_SENTINEL, REAL_SENTINEL)] {
        for file in [missing, including] {
            let (our_code, our_out, our_err) = run(ours, &[file]);
            let (real_code, real_out, _) = run(real, &[file]);
            assert_eq!(our_code, Some(1));
            assert_eq!(real_code, Some(1));
            assert_eq!(our_out.lines().count(), 1, "{our_out}");
            assert_eq!(without_header(our_out.trim_end()), without_header(real_out.trim_end()), "{ours} {file}");
            assert!(our_err.is_empty(), "{our_err}");
            assert!(!our_out.contains("os error"), "{our_out}");
            assert!(our_out
                .contains(&format!("Fatal error, can't open config file '{missing}': No such file or directory")));
        }
    }
}

#[test]
fn test_memory_and_check_system_say_they_are_not_supported() {
    for flag in ["--test-memory", "--check-system"] {
        let (code, _, err) = run(OURS, &[flag, "1"]);
        assert_eq!(code, Some(1));
        assert_eq!(err, format!("{flag} is not supported by redis-rs.\n"));
        assert!(!err.contains("Bad directive"));
    }
}

#[test]
fn each_program_prints_its_own_usage() {
    let (code, server, _) = run(OURS, &["--help"]);
    assert_eq!(code, Some(0));
    assert!(server.starts_with("Usage: ./redis-server-rs [/path/to/redis.conf] [options] [-]\n"), "{server}");
    assert!(server.contains("./redis-server-rs - (read config from stdin)"), "{server}");
    assert!(server.contains("./redis-server-rs /etc/sentinel.conf --sentinel"), "{server}");
    let (code, sentinel, _) = run(OUR_SENTINEL, &["-h"]);
    assert_eq!(code, Some(0));
    assert!(sentinel.starts_with("Usage: ./redis-sentinel-rs /path/to/sentinel.conf [options]\n"), "{sentinel}");
    assert!(!sentinel.contains("redis.conf"), "{sentinel}");
}

/// A Sentinel started with `--port` writes it into its file, as Redis's does, so that it comes
/// back on the same port after a restart without the option.
#[test]
fn a_sentinels_command_line_options_are_kept_in_its_file() {
    for bin in [OUR_SENTINEL, REAL_SENTINEL] {
        // The port comes from the command line only; the file has none.
        let s = SentinelProcess::start(bin, |port, _| {
            ("sentinel monitor mymaster 127.0.0.1 6999 2\n".to_string(), vec!["--port".into(), port.to_string()])
        });
        let text = s.file("sentinel.conf");
        assert!(text.lines().any(|l| l == format!("port {}", s.port)), "{bin}:\n{text}");
        assert!(text.lines().any(|l| l == "protected-mode no"), "{bin}:\n{text}");
        assert!(text.starts_with("sentinel monitor mymaster 127.0.0.1 6999 2\n"), "{bin}:\n{text}");
    }
}

/// Ends a daemonized server (no longer our child, so nothing else would) when the test ends.
struct Daemon(i32);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill with a pid this test read from the server's own pid file.
        unsafe { libc::kill(self.0, libc::SIGKILL) };
    }
}

#[test]
fn daemonize_detaches_into_its_own_session_with_stdio_on_dev_null() {
    for bin in [OURS, REAL_REDIS] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let pidfile = dir.path().join("server.pid");
        let mut launcher = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--dir", &dir.path().display().to_string(), "--logfile", "server.log"])
            .args(["--daemonize", "yes", "--pidfile", &pidfile.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut launched = None;
        wait_for("the launching process to exit", Duration::from_secs(10), || {
            launched = launcher.try_wait().unwrap();
            launched.is_some()
        });
        assert_eq!(launched.and_then(|s| s.code()), Some(0), "{bin}: the parent exits with 0");
        let mut pid = None;
        wait_for("the pid file", Duration::from_secs(10), || {
            pid = std::fs::read_to_string(&pidfile).ok().and_then(|t| t.trim().parse::<i32>().ok());
            pid.is_some()
        });
        let pid = pid.unwrap();
        let _daemon = Daemon(pid);
        wait_for("the daemon to serve", Duration::from_secs(10), || {
            Client::try_connect(port).map(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n").unwrap_or(false)
        });
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Fields after the command name: state, ppid, pgrp, session.
        let after_name: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
        assert_eq!(after_name[3], pid.to_string(), "{bin}: the daemon leads its own session: {stat}");
        for fd in 0..3 {
            let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
            assert_eq!(target, std::path::Path::new("/dev/null"), "{bin}: fd {fd}");
        }
    }
}
