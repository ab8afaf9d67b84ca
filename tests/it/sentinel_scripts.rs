//! The notification script's runs, ours against Debian's redis-sentinel 7.0.15: each scenario
//! runs on both sentinels, and the `-script-error` / `-script-timeout` events they publish and
//! log, and how often they ran the script, must be the same. SENTINEL DEBUG shortens the
//! script-retry-delay and script-max-runtime so the ten runs of a failing script take seconds.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{show_bytes, wait_for, Client, Reply, SentinelProcess, Server, OUR_SENTINEL, REAL_SENTINEL};

/// Where the scripts of a scenario note each run.
const RUNS_FILE: &str = "runs";

/// What one sentinel did with a scenario's script.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// `<channel> <message>` of each -script-error / -script-timeout published, with the
    /// sentinel's dir shown as `<dir>` and a timed-out script's pid as `<pid>`.
    events: Vec<String>,
    /// The same events in the log: `<level mark> <event> <message>`, normalised alike.
    log: Vec<String>,
    /// How many times the script ran.
    runs: usize,
}

/// `bin` monitoring `mm` on `master_port`, with `<dir>/notify.sh` (exit 0 for now) as its
/// notification script.
fn start_sentinel(bin: &str, master_port: u16) -> SentinelProcess {
    SentinelProcess::start(bin, |port, dir| {
        write_script(dir, "exit 0");
        let conf = format!(
            "port {port}\nbind 127.0.0.1\nsentinel monitor mm 127.0.0.1 {master_port} 2\n\
             sentinel notification-script mm {}/notify.sh\n",
            dir.display()
        );
        (conf, ["--daemonize", "no", "--logfile", "sentinel.log"].map(String::from).to_vec())
    })
}

/// Makes `<dir>/notify.sh` a shell script with `body`, noting each run first. It is written
/// aside and renamed into place: a run still going on would make writing the file fail.
fn write_script(dir: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let text = format!("#!/bin/sh\necho run >> {}/{RUNS_FILE}\n{body}\n", dir.display());
    let aside = dir.join("notify.sh.new");
    std::fs::write(&aside, text).expect("write script");
    std::fs::set_permissions(&aside, std::fs::Permissions::from_mode(0o755)).expect("chmod script");
    std::fs::rename(&aside, dir.join("notify.sh")).expect("rename script");
}

/// Runs a scenario on `bin`: once the start-up runs are over, the SENTINEL DEBUG settings
/// `debug` apply and `prepare` changes the script in the sentinel's dir; SENTINEL SET then
/// makes a `+set` event, whose notification-script run is followed until `last` is published.
fn scenario(bin: &str, master_port: u16, debug: &[&str], prepare: &dyn Fn(&Path), last: &str) -> Outcome {
    let sentinel = start_sentinel(bin, master_port);
    let dir = sentinel.dir.path().to_owned();
    let mut admin = sentinel.client(2);
    wait_for("the start-up script runs to end", Duration::from_secs(20), || {
        admin.cmd(&["SENTINEL", "PENDING-SCRIPTS"]) == b"*0\r\n"
    });
    if !debug.is_empty() {
        let args: Vec<&str> = ["SENTINEL", "DEBUG"].iter().chain(debug).copied().collect();
        assert_eq!(admin.cmd_str(&args), "+OK\r\n", "{bin}: SENTINEL DEBUG {debug:?}");
    }
    let mut events = subscribe(&sentinel);
    let _ = std::fs::remove_file(dir.join(RUNS_FILE));
    prepare(&dir);
    assert_eq!(admin.cmd_str(&["SENTINEL", "SET", "mm", "quorum", "1"]), "+OK\r\n");
    let published = read_events_until(&mut events, last, &dir);
    let log = wait_for_log(&sentinel, published.len(), &dir);
    let runs = std::fs::read_to_string(dir.join(RUNS_FILE)).unwrap_or_default().lines().count();
    Outcome { events: published, log, runs }
}

/// A connection subscribed to the script events.
fn subscribe(sentinel: &SentinelProcess) -> Client {
    let mut c = sentinel.client(2);
    c.send_raw(&crate::common::encode(&[b"SUBSCRIBE", b"-script-error", b"-script-timeout"]));
    for _ in 0..2 {
        let reply = c.read_reply();
        assert!(reply.starts_with(b"*3\r\n$9\r\nsubscribe\r\n"), "{}", show_bytes(&reply, 200));
    }
    c
}

/// The published events, read until one on channel `last` (the client's read timeout, 20 s,
/// bounds each wait).
fn read_events_until(c: &mut Client, last: &str, dir: &Path) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let reply = c.try_read_reply().unwrap_or_else(|e| panic!("no {last} ({e}); events so far: {seen:?}"));
        let parsed = Reply::parse(&reply);
        let fields = parsed.texts();
        assert_eq!(fields.first().map(String::as_str), Some("message"), "{}", show_bytes(&reply, 300));
        let (channel, message) = (fields[1].as_str(), &fields[2]);
        seen.push(normalise(&format!("{channel} {message}"), dir));
        if channel == last {
            return seen;
        }
    }
}

/// `<dir>` for the sentinel's dir, `<pid>` for the pid ending a -script-timeout (Redis's
/// format: `-script-timeout <path> <pid>`).
fn normalise(event: &str, dir: &Path) -> String {
    let event = event.replace(&dir.display().to_string(), "<dir>");
    match event.strip_prefix("-script-timeout ").and_then(|rest| rest.rsplit_once(' ')) {
        Some((path, pid)) => {
            assert!(pid.parse::<u32>().is_ok_and(|p| p > 0), "not a pid in {event}");
            format!("-script-timeout {path} <pid>")
        }
        None => event,
    }
}

/// The script events' log lines once there are `count` of them, from the level mark on (Redis's
/// line: `<pid>:X <day> <month> <year> <time> <mark> <event> <message>`).
fn wait_for_log(sentinel: &SentinelProcess, count: usize, dir: &Path) -> Vec<String> {
    let lines = || -> Vec<String> {
        let log = sentinel.file("sentinel.log");
        log.lines()
            .filter_map(|line| line.splitn(6, ' ').nth(5))
            .filter(|rest| rest.contains(" -script-error ") || rest.contains(" -script-timeout "))
            .map(|rest| {
                let (mark, event) = rest.split_once(' ').unwrap_or((rest, ""));
                format!("{mark} {}", normalise(event, dir))
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while lines().len() < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    lines()
}

/// The scenario run on Debian's sentinel and ours at once; both outcomes must be equal.
/// Returns Debian's.
fn compare(debug: &[&str], prepare: &(dyn Fn(&Path) + Sync), last: &str) -> Outcome {
    let master = Server::start_real(&[]);
    let (real, ours) = std::thread::scope(|s| {
        let real = s.spawn(|| scenario(REAL_SENTINEL, master.port, debug, prepare, last));
        let ours = s.spawn(|| scenario(OUR_SENTINEL, master.port, debug, prepare, last));
        (real.join().expect("Debian's sentinel scenario"), ours.join().expect("our sentinel scenario"))
    });
    assert_eq!(ours, real, "ours (left) and Debian's redis-sentinel (right) differ");
    real
}

#[test]
fn a_script_that_is_not_executable_is_a_script_error_with_exit_code_2() {
    let not_executable = |dir: &Path| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("notify.sh");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    };
    let real = compare(&[], &not_executable, "-script-error");
    assert_eq!(real.events, ["-script-error <dir>/notify.sh 0 2"]);
    assert_eq!(real.log, ["# -script-error <dir>/notify.sh 0 2"]);
}

#[test]
fn a_script_that_is_gone_is_a_script_error_with_exit_code_2() {
    let gone = |dir: &Path| std::fs::remove_file(dir.join("notify.sh")).expect("remove script");
    let real = compare(&[], &gone, "-script-error");
    assert_eq!(real.events, ["-script-error <dir>/notify.sh 0 2"]);
    assert_eq!(real.runs, 0);
}

#[test]
fn a_script_killed_by_a_signal_in_each_run_reports_the_signal_after_ten_runs() {
    let killed_by_term = |dir: &Path| write_script(dir, "kill -TERM $$");
    let real = compare(&["script-retry-delay", "1"], &killed_by_term, "-script-error");
    assert_eq!(real.events, ["-script-error <dir>/notify.sh 15 0"]);
    assert_eq!(real.log, ["# -script-error <dir>/notify.sh 15 0"]);
    assert_eq!(real.runs, 10);
}

#[test]
fn a_script_over_script_max_runtime_is_killed_retried_then_reported_with_signal_9() {
    let sleeper = |dir: &Path| write_script(dir, "exec sleep 30");
    let debug = ["script-max-runtime", "100", "script-retry-delay", "1"];
    let real = compare(&debug, &sleeper, "-script-error");
    let mut expected = vec!["-script-timeout <dir>/notify.sh <pid>"; 10];
    expected.push("-script-error <dir>/notify.sh 9 0");
    assert_eq!(real.events, expected);
    assert_eq!(real.log.last().map(String::as_str), Some("# -script-error <dir>/notify.sh 9 0"));
    assert_eq!(real.runs, 10);
}

/// SENTINEL PENDING-SCRIPTS's run-delay for the one job after its first run exited 1.
fn retry_delay_after_exit_1(bin: &str, master_port: u16) -> u64 {
    let sentinel = start_sentinel(bin, master_port);
    let mut admin = sentinel.client(2);
    wait_for("the start-up script runs to end", Duration::from_secs(20), || {
        admin.cmd(&["SENTINEL", "PENDING-SCRIPTS"]) == b"*0\r\n"
    });
    assert_eq!(admin.cmd_str(&["SENTINEL", "DEBUG", "script-retry-delay", "100000"]), "+OK\r\n");
    write_script(sentinel.dir.path(), "exit 1");
    assert_eq!(admin.cmd_str(&["SENTINEL", "SET", "mm", "quorum", "1"]), "+OK\r\n");
    let mut delay = None;
    wait_for("the script scheduled for its retry", Duration::from_secs(20), || {
        let reply = Reply::parse(&admin.cmd(&["SENTINEL", "PENDING-SCRIPTS"]));
        let script = reply.array().first();
        let value = |name: &str| script.and_then(|s| s.get(name)).map(Reply::text);
        if value("flags").as_deref() == Some("scheduled") && value("retry-num").as_deref() == Some("1") {
            delay = value("run-delay").and_then(|v| v.parse().ok());
        }
        delay.is_some()
    });
    delay.expect("run-delay")
}

#[test]
fn script_retry_delay_is_the_wait_before_a_retry() {
    let master = Server::start_real(&[]);
    let (real, ours) = std::thread::scope(|s| {
        let real = s.spawn(|| retry_delay_after_exit_1(REAL_SENTINEL, master.port));
        let ours = s.spawn(|| retry_delay_after_exit_1(OUR_SENTINEL, master.port));
        (real.join().expect("Debian's sentinel"), ours.join().expect("our sentinel"))
    });
    // The delay counts down from 100 s; the generous margin only allows for a slow machine.
    for (who, delay) in [("Debian's", real), ("ours", ours)] {
        assert!(
            (50_000..=100_000).contains(&delay),
            "{who} run-delay {delay} after SENTINEL DEBUG script-retry-delay 100000"
        );
    }
}
