//! DEBUG's crash and restart subcommands, run on our server and on Debian's real Redis 7.0 with
//! the same expectations: SEGFAULT, PANIC, ASSERT and OOM end the process by the same signal
//! with the same key lines of Redis's bug report in the log; a fatal signal sent from outside
//! names its sender; RESTART keeps the data and the pid with a new run_id; CRASH-AND-RECOVER
//! loses what was not saved. Also MALLCTL, MALLCTL-STR, LEAK and SDSLEN against the real one.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{die_with_parent, free_port, wait_for, Client, Reply, OURS, REAL_REDIS};
use crate::differential_support::*;

/// A server whose exit status (the signal that ended it) the test reads, with a config file.
struct Proc {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl Proc {
    /// `bin` with a config file holding `config` plus the port, dir and log lines.
    fn start(bin: &str, config: &str) -> Proc {
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let log = dir.path().join("server.log");
            let conf = dir.path().join("redis.conf");
            let text = format!(
                // Redis's memory test after a crash is slow, and can itself fault while other
                // tests load the machine: off (ours has none).
                "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\nenable-debug-command yes\ndaemonize no\ncrash-memcheck-enabled no\n{config}",
                dir.path().display(),
                log.display()
            );
            std::fs::write(&conf, text).expect("write config");
            let mut cmd = Command::new(bin);
            cmd.arg(&conf).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            let child = die_with_parent(&mut cmd).spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
            let mut p = Proc { child, port, dir, log };
            if p.wait_ready() {
                return p;
            }
        }
        panic!("{bin} did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.pong() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn pong(&self) -> bool {
        let Ok(mut c) = Client::try_connect(self.port) else { return false };
        c.send_raw(b"*1\r\n$4\r\nPING\r\n");
        matches!(c.try_read_reply(), Ok(r) if r.starts_with(b"+PONG"))
    }

    fn client(&self) -> Client {
        Client::connect(self.port)
    }

    /// The signal that ended the process, waiting for it.
    fn exit_signal(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.signal();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server did not exit");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn info_field(&self, name: &str) -> String {
        self.try_info_field(name).unwrap_or_else(|| panic!("INFO {name} from the server"))
    }

    /// An INFO field, None when the server is not answering (it may be restarting).
    fn try_info_field(&self, name: &str) -> Option<String> {
        let mut c = Client::try_connect(self.port).ok()?;
        c.send_raw(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n");
        let info = Reply::parse(&c.try_read_reply().ok()?).text();
        let prefix = format!("{name}:");
        info.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().to_string())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both servers, for a scenario run on each.
fn both() -> [&'static str; 2] {
    [OURS, REAL_REDIS]
}

/// `line` is in the log: a log line at WARNING ("... # line") or a raw line.
fn assert_logged(log: &str, bin: &str, lines: &[&str]) {
    for want in lines {
        let found = log.lines().any(|l| l == *want || l.ends_with(&format!(" # {want}")));
        assert!(found, "{bin}: {want:?} not in the log:\n{log}");
    }
}

/// Lines every bug report has, from START to END.
const REPORT_FRAME: &[&str] = &[
    "=== REDIS BUG REPORT START: Cut & paste starting from here ===",
    "------ STACK TRACE ------",
    "Backtrace:",
    "------ INFO OUTPUT ------",
    "redis_version:7.0.15",
    "------ CLIENT LIST OUTPUT ------",
    "------ MODULES INFO OUTPUT ------",
    "------ CONFIG DEBUG OUTPUT ------",
    "proto-max-bulk-len 512mb",
    "=== REDIS BUG REPORT END. Make sure to include from START to END. ===",
    "       Please report the crash by opening an issue on github:",
    "           http://github.com/redis/redis/issues",
];

/// Sends DEBUG `sub`: the connection closes without a reply, and the process dies.
fn crash_with(p: &mut Proc, sub: &str) -> (Option<i32>, String) {
    let mut c = p.client();
    c.send_raw(&crate::common::encode(&[b"DEBUG", sub.as_bytes()]));
    assert!(c.try_read_reply().is_err(), "DEBUG {sub} answered");
    let sig = p.exit_signal();
    (sig, p.log_text())
}

#[test]
fn segfault_reports_and_dies_by_sigsegv() {
    for bin in both() {
        let mut p = Proc::start(bin, "");
        let (sig, log) = crash_with(&mut p, "SEGFAULT");
        assert_eq!(sig, Some(libc::SIGSEGV), "{bin}");
        assert_logged(&log, bin, REPORT_FRAME);
        // A write to a read-only page: SEGV_ACCERR.
        assert_logged(
            &log,
            bin,
            &[
                "Redis 7.0.15 crashed by signal: 11, si_code: 2",
                "------ CURRENT CLIENT INFO ------",
                "argv[1]: '\"SEGFAULT\"'",
            ],
        );
        for prefix in ["Accessing address: 0x", "Crashed running the instruction at: 0x"] {
            assert!(log.lines().any(|l| l.contains(&format!(" # {prefix}"))), "{bin}: no {prefix:?}:\n{log}");
        }
        assert!(log.lines().any(|l| l.starts_with("id=") && l.contains(" cmd=debug ")), "{bin}: no client line");
    }
}

#[test]
fn panic_assert_and_oom_report_and_abort() {
    for bin in both() {
        let mut p = Proc::start(bin, "");
        let (sig, log) = crash_with(&mut p, "PANIC");
        assert_eq!(sig, Some(libc::SIGABRT), "{bin}");
        assert_logged(&log, bin, REPORT_FRAME);
        assert_logged(
            &log,
            bin,
            &[
                "------------------------------------------------",
                "!!! Software Failure. Press left mouse button to continue",
            ],
        );
        assert!(log.contains(" # Guru Meditation: DEBUG PANIC called at Unix time "), "{bin}:\n{log}");

        let mut p = Proc::start(bin, "");
        let (sig, log) = crash_with(&mut p, "ASSERT");
        assert_eq!(sig, Some(libc::SIGABRT), "{bin}");
        assert_logged(&log, bin, REPORT_FRAME);
        assert_logged(
            &log,
            bin,
            &[
                "=== ASSERTION FAILED CLIENT CONTEXT ===",
                "client->argc = 2",
                "client->argv[0] = \"DEBUG\" (refcount: 1)",
                "client->argv[1] = \"ASSERT\" (refcount: 1)",
                "=== ASSERTION FAILED OBJECT CONTEXT ===",
                "Object type: 0",
                "Object encoding: 8",
                "Object refcount: 1",
                "=== ASSERTION FAILED ===",
            ],
        );
        assert!(log.lines().any(|l| l.contains(" # ==> ") && l.ends_with(" '1 == 2' is not true")), "{bin}:\n{log}");

        let mut p = Proc::start(bin, "");
        let (sig, log) = crash_with(&mut p, "OOM");
        assert_eq!(sig, Some(libc::SIGABRT), "{bin}");
        assert_logged(&log, bin, REPORT_FRAME);
        assert_logged(&log, bin, &["Out Of Memory allocating 9223372036854775807 bytes!"]);
        assert!(
            log.contains(
                " # Guru Meditation: Redis aborting for OUT OF MEMORY. Allocating 9223372036854775807 bytes! #"
            ),
            "{bin}:\n{log}"
        );
    }
}

/// A fatal signal sent by another process is reported with its sender; with crash-log-enabled
/// off there is no report, and the signal still kills.
#[test]
fn a_sent_signal_names_its_sender_unless_crash_log_is_off() {
    for bin in both() {
        let mut p = Proc::start(bin, "");
        crate::common::send_signal(p.child.id(), libc::SIGBUS);
        assert_eq!(p.exit_signal(), Some(libc::SIGBUS), "{bin}");
        let log = p.log_text();
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        assert_logged(
            &log,
            bin,
            &[
                "Redis 7.0.15 crashed by signal: 7, si_code: 0",
                &format!("Killed by PID: {}, UID: {uid}", std::process::id()),
            ],
        );
        assert_logged(&log, bin, REPORT_FRAME);

        let mut p = Proc::start(bin, "crash-log-enabled no\n");
        let (sig, log) = crash_with(&mut p, "SEGFAULT");
        assert_eq!(sig, Some(libc::SIGSEGV), "{bin}");
        assert!(!log.contains("BUG REPORT"), "{bin}: a report with crash-log-enabled no:\n{log}");

        // And back on at run time.
        let mut p = Proc::start(bin, "crash-log-enabled no\n");
        assert_eq!(Reply::parse(&p.client().cmd(&["CONFIG", "SET", "crash-log-enabled", "yes"])).text(), "OK");
        let (sig, log) = crash_with(&mut p, "SEGFAULT");
        assert_eq!(sig, Some(libc::SIGSEGV), "{bin}");
        assert_logged(&log, bin, &["Redis 7.0.15 crashed by signal: 11, si_code: 2"]);
    }
}

/// Waits for the restarted server: answering again on the same port with another run_id.
fn wait_restarted(p: &Proc, old_run_id: &str) {
    wait_for("the restarted server", Duration::from_secs(30), || {
        p.try_info_field("run_id").is_some_and(|id| id != old_run_id)
    });
}

#[test]
fn restart_saves_rewrites_and_comes_back_with_the_data() {
    for bin in both() {
        let mut p = Proc::start(bin, "save 3600 1\n");
        let mut c = p.client();
        assert_eq!(Reply::parse(&c.cmd(&["SET", "a", "1"])).text(), "OK");
        assert_eq!(Reply::parse(&c.cmd(&["CONFIG", "SET", "maxmemory-samples", "7"])).text(), "OK");
        let (pid, run_id) = (p.info_field("process_id"), p.info_field("run_id"));
        c.send_raw(b"*3\r\n$5\r\nDEBUG\r\n$7\r\nRESTART\r\n$2\r\n50\r\n");
        assert!(c.try_read_reply().is_err(), "{bin}: RESTART answered");
        wait_restarted(&p, &run_id);
        assert!(p.child.try_wait().ok().flatten().is_none(), "{bin}: the process ended");
        // The same process (execve), the data saved and loaded, the config rewritten.
        assert_eq!(p.info_field("process_id"), pid, "{bin}");
        assert_eq!(Reply::parse(&p.client().cmd(&["GET", "a"])).text(), "1", "{bin}");
        let conf = std::fs::read_to_string(p.dir.path().join("redis.conf")).unwrap_or_default();
        assert!(conf.lines().any(|l| l == "maxmemory-samples 7"), "{bin}: config not rewritten:\n{conf}");
        assert_logged(&p.log_text(), bin, &["User requested shutdown...", "Redis is now ready to exit, bye bye..."]);
        // Only one listener each time: a restarted server restarts again.
        let run_id = p.info_field("run_id");
        p.client().send_raw(b"*2\r\n$5\r\nDEBUG\r\n$7\r\nRESTART\r\n");
        wait_restarted(&p, &run_id);
        assert_eq!(Reply::parse(&p.client().cmd(&["GET", "a"])).text(), "1", "{bin}");
    }
}

#[test]
fn crash_and_recover_loses_unsaved_writes() {
    for bin in both() {
        let p = Proc::start(bin, "save 3600 1\n");
        let mut c = p.client();
        c.cmd(&["SET", "saved", "1"]);
        assert_eq!(Reply::parse(&c.cmd(&["SAVE"])).text(), "OK");
        c.cmd(&["SET", "unsaved", "1"]);
        let run_id = p.info_field("run_id");
        c.send_raw(b"*2\r\n$5\r\nDEBUG\r\n$17\r\nCRASH-AND-RECOVER\r\n");
        assert!(c.try_read_reply().is_err(), "{bin}: CRASH-AND-RECOVER answered");
        wait_restarted(&p, &run_id);
        let mut c = p.client();
        assert_eq!(Reply::parse(&c.cmd(&["GET", "saved"])).text(), "1", "{bin}");
        assert!(Reply::parse(&c.cmd(&["GET", "unsaved"])).is_null(), "{bin}");
        assert!(!p.log_text().contains("User requested shutdown"), "{bin}: a graceful shutdown");
    }
}

#[test]
fn restart_argument_errors_are_reals() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    p.check(&["DEBUG", "RESTART", "soon"]);
    p.check(&["DEBUG", "CRASH-AND-RECOVER", "1.5"]);
}

#[test]
fn mallctl_leak_and_sdslen_are_reals() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    for args in [
        &["DEBUG", "MALLCTL", "nonexist"][..],
        &["DEBUG", "MALLCTL", "arenas.narenas"],
        &["DEBUG", "MALLCTL", "arenas.page"],
        &["DEBUG", "MALLCTL", "thread.tcache.flush"],
        &["DEBUG", "MALLCTL", "thread.tcache.flush", "1"],
        &["DEBUG", "MALLCTL", "arenas.narenas", "5"],
        &["DEBUG", "MALLCTL", "opt.abort"],
        &["DEBUG", "MALLCTL", "background_thread", "abc"],
        &["DEBUG", "MALLCTL", "x", "y", "z"],
        &["DEBUG", "MALLCTL"],
        &["DEBUG", "MALLCTL-STR", "nonexist"],
        &["DEBUG", "MALLCTL-STR", "arenas.narenas"],
        &["DEBUG", "MALLCTL-STR", "opt.dss"],
        &["DEBUG", "MALLCTL-STR", "opt.dss", "primary"],
        &["DEBUG", "MALLCTL-STR", "thread.tcache.flush", "VOID"],
        &["DEBUG", "LEAK", "some bytes"],
        &["DEBUG", "LEAK"],
        &["DEBUG", "SDSLEN", "nokey"],
        &["DEBUG", "SDSLEN"],
        &["SET", "n", "12"],
        &["DEBUG", "SDSLEN", "n"],
        &["RPUSH", "l", "a"],
        &["DEBUG", "SDSLEN", "l"],
        &["SET", "s", "hello"],
    ] {
        p.check(args);
    }
    // The figures differ (our strings are not sds); the fields and lengths are Redis's.
    for c in [&mut p.ours, &mut p.real] {
        let text = Reply::parse(&c.cmd(&["DEBUG", "SDSLEN", "s"])).text();
        let fields: Vec<&str> = text.split(", ").map(|f| f.split(':').next().unwrap_or_default()).collect();
        assert_eq!(
            fields,
            ["key_sds_len", "key_sds_avail", "key_zmalloc", "val_sds_len", "val_sds_avail", "val_zmalloc"],
            "{text}"
        );
        assert!(text.starts_with("key_sds_len:1, key_sds_avail:0, key_zmalloc: "), "{text}");
        assert!(text.contains(", val_sds_len:5, "), "{text}");
    }
}

/// Under socket activation the restarted program serves the sockets systemd passed, on the same
/// addresses, as systemd would pass them (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES).
#[test]
fn restart_passes_socket_activation_sockets_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("redis.sock");
    let port = free_port();
    let log = dir.path().join("log");
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.args(["-l", &format!("127.0.0.1:{port}"), "-l", &sock.display().to_string(), "--fdname=redis:redis"])
        .arg(OURS)
        .args(["--save", "3600 1", "--dir", &dir.path().display().to_string()])
        .args(["--logfile", &log.display().to_string(), "--enable-debug-command", "yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = die_with_parent(&mut cmd).spawn().expect("systemd-socket-activate (package systemd) is needed");
    let p = Proc { child, port, dir, log };
    wait_for("the activated server", Duration::from_secs(15), || p.pong());
    let mut c = p.client();
    c.cmd(&["SET", "a", "1"]);
    let run_id = p.info_field("run_id");
    c.send_raw(b"*2\r\n$5\r\nDEBUG\r\n$7\r\nRESTART\r\n");
    assert!(c.try_read_reply().is_err(), "RESTART answered");
    wait_restarted(&p, &run_id);
    assert_eq!(Reply::parse(&p.client().cmd(&["GET", "a"])).text(), "1");
    let mut u = std::os::unix::net::UnixStream::connect(&sock).expect("the unix socket is served");
    std::io::Write::write_all(&mut u, b"PING\r\n").expect("write");
    let mut buf = [0u8; 7];
    std::io::Read::read_exact(&mut u, &mut buf).expect("read");
    assert_eq!(&buf, b"+PONG\r\n");
    let text = p.log_text();
    let adopted = text.matches("from systemd socket activation ('redis')").count();
    assert!(adopted >= 4, "both sockets adopted by both programs:\n{text}");
}
