//! Log output: Redis's line format (`PID:ROLE DD Mon YYYY HH:MM:SS.mmm L message`), loglevel at
//! start-up and at run time (CONFIG SET loglevel), and `logfile ""` logging to stdout.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

/// One parsed log line.
#[derive(Debug)]
struct Line {
    pid: u32,
    role: char,
    level: char,
    message: String,
}

/// Parses `PID:R DD Mon YYYY HH:MM:SS.mmm L message`, checking every part's format.
fn parse_line(l: &str) -> Line {
    let (pid, rest) = l.split_once(':').unwrap_or_else(|| panic!("not a Redis log line: {l:?}"));
    let pid: u32 = pid.parse().unwrap_or_else(|_| panic!("pid in {l:?}"));
    let mut parts = rest.splitn(7, ' ');
    let mut next = || parts.next().unwrap_or_else(|| panic!("not a Redis log line: {l:?}"));
    let role = next();
    let (day, month, year, time, level) = (next(), next(), next(), next(), next());
    let message = next().to_string();
    assert!(matches!(role, "M" | "C" | "S" | "X"), "role in {l:?}");
    assert!(day.len() == 2 && day.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)), "day in {l:?}");
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    assert!(MONTHS.contains(&month), "month in {l:?}");
    assert!(year.len() == 4 && year.parse::<u32>().is_ok(), "year in {l:?}");
    let t: Vec<&str> = time.split([':', '.']).collect();
    assert!(
        t.len() == 4
            && t[..3].iter().all(|x| x.len() == 2 && x.parse::<u32>().is_ok())
            && t[3].len() == 3
            && t[3].parse::<u32>().is_ok(),
        "time in {l:?}"
    );
    assert!(matches!(level, "." | "-" | "*" | "#"), "level in {l:?}");
    Line { pid, role: role.chars().next().unwrap(), level: level.chars().next().unwrap(), message }
}

fn lines(text: &str) -> Vec<Line> {
    text.lines().filter(|l| !l.is_empty()).map(parse_line).collect()
}

/// Waits until the log has a line with `message` and returns it.
fn wait_line(s: &Server, message: &str) -> Line {
    let mut found = None;
    wait_for(&format!("log line {message:?}"), Duration::from_secs(5), || {
        found = lines(&s.log_text()).into_iter().find(|l| l.message == message);
        found.is_some()
    });
    found.unwrap()
}

fn count(s: &Server, message: &str) -> usize {
    lines(&s.log_text()).iter().filter(|l| l.message == message).count()
}

#[test]
fn log_lines_have_redis_format() {
    for s in [Server::start(&[]), Server::start_real(&[])] {
        let ready = wait_line(&s, "Ready to accept connections");
        assert_eq!((ready.pid, ready.role, ready.level), (s.pid(), 'M', '*'), "{ready:?}");
        let starting = wait_line(&s, "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
        assert_eq!((starting.pid, starting.level), (s.pid(), '#'));
        // Every line of the file has the format.
        let all = lines(&s.log_text());
        assert!(all.iter().all(|l| l.pid == s.pid()), "{all:?}");
    }
}

#[test]
fn loglevel_warning_suppresses_notice_lines() {
    for s in [Server::start(&["--loglevel", "warning"]), Server::start_real(&["--loglevel", "warning"])] {
        let mut c = s.client();
        assert_eq!(c.cmd(&["CONFIG", "GET", "loglevel"]), b"*2\r\n$8\r\nloglevel\r\n$7\r\nwarning\r\n");
        // The server answers, so "Ready to accept connections" would have been written by now.
        let all = lines(&s.log_text());
        assert!(!all.is_empty() && all.iter().all(|l| l.level == '#'), "{all:?}");
        assert_eq!(count(&s, "Ready to accept connections"), 0);
    }
}

/// SHUTDOWN logs "Removing the pid file." at notice level: a loglevel raised at run time shows it.
#[test]
fn config_set_loglevel_takes_effect_at_run_time() {
    for real in [false, true] {
        for raise in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let pidfile = dir.path().join("redis.pid").display().to_string();
            let args = ["--loglevel", "warning", "--pidfile", &pidfile];
            let mut s = if real { Server::start_real(&args) } else { Server::start(&args) };
            let what = format!("{} raise={raise}", if real { "real" } else { "ours" });
            let mut c = s.client();
            if raise {
                assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "notice"]), b"+OK\r\n");
            }
            c.send_raw(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
            assert!(c.closed(), "{what}: connection closed");
            assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0), "{what}");
            assert_eq!(count(&s, "Removing the pid file."), usize::from(raise), "{what}: {}", s.log_text());
            let bye = lines(&s.log_text()).into_iter().find(|l| l.message == "Redis is now ready to exit, bye bye...");
            assert_eq!(bye.map(|l| l.level), Some('#'), "{what}");
        }
    }
}

#[test]
fn loglevel_changes_apply_to_later_lines() {
    // CONFIG REWRITE logs "CONFIG REWRITE executed with success." at notice level.
    let s = Server::start_with_config("loglevel warning\n", &["--enable-debug-command", "yes"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["DEBUG", "LOG", "after first rewrite"]), b"+OK\r\n");
    wait_line(&s, "DEBUG LOG: after first rewrite");
    assert_eq!(count(&s, "CONFIG REWRITE executed with success."), 0, "{}", s.log_text());
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "notice"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    let l = wait_line(&s, "CONFIG REWRITE executed with success.");
    assert_eq!((l.level, l.role), ('*', 'M'));
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "warning"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["DEBUG", "LOG", "after third rewrite"]), b"+OK\r\n");
    wait_line(&s, "DEBUG LOG: after third rewrite");
    assert_eq!(count(&s, "CONFIG REWRITE executed with success."), 1, "{}", s.log_text());
    // loglevel's values and logfile's immutability, as Redis has them.
    let real = Server::start_real(&[]);
    let mut r = real.client();
    for args in [
        &["CONFIG", "SET", "loglevel", "nothing"][..],
        &["CONFIG", "SET", "loglevel", "VERBOSE"],
        &["CONFIG", "GET", "loglevel"],
        &["CONFIG", "SET", "loglevel", "debug"],
        &["CONFIG", "SET", "logfile", "x"],
    ] {
        assert_eq!(c.cmd_str(args), r.cmd_str(args), "{args:?}");
    }
}

/// `logfile ""` logs to standard output.
#[test]
fn empty_logfile_logs_to_stdout() {
    for bin in [OURS, REAL_REDIS] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--logfile", ""])
            .args(["--dir", &dir.path().display().to_string(), "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for("the server to answer", Duration::from_secs(10), || {
            Client::try_connect(port).map(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n").unwrap_or(false)
        });
        let mut c = Client::connect(port);
        c.send_raw(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
        assert!(c.closed(), "{bin}: connection closed by SHUTDOWN");
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(0), "{bin}");
        let all = lines(&out);
        let ready = all.iter().find(|l| l.message == "Ready to accept connections").unwrap_or_else(|| panic!("{out}"));
        assert_eq!((ready.pid, ready.level), (child.id(), '*'), "{bin}");
        assert!(all.iter().any(|l| l.message == "Redis is now ready to exit, bye bye..."), "{bin}: {out}");
        assert!(!dir.path().join("x").exists());
    }
}
