//! SHUTDOWN and signals: argument errors like Redis 7.0.15, a clean exit with status 0, the
//! connection closed without a reply, "ready to exit" in the log and the pid file removed.

use std::path::Path;
use std::time::Duration;

use crate::common::*;

fn pidfile_args(dir: &tempfile::TempDir) -> (String, Vec<String>) {
    let pidfile = dir.path().join("redis.pid").display().to_string();
    (pidfile.clone(), vec!["--pidfile".to_string(), pidfile])
}

fn start(real: bool, args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if real {
        Server::start_real(&args)
    } else {
        Server::start(&args)
    }
}

fn name(real: bool) -> &'static str {
    if real {
        "real"
    } else {
        "ours"
    }
}

/// The pid file holds the server's pid while it runs and is gone after a clean exit.
fn check_clean_exit(s: &mut Server, pidfile: &str, what: &str) {
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0), "{what}: exit status");
    assert!(!Path::new(pidfile).exists(), "{what}: pid file left behind");
    let log = s.log_text();
    assert!(log.contains("# Redis is now ready to exit, bye bye..."), "{what}: {log}");
}

#[test]
fn shutdown_argument_errors_match_redis() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let (mut o, mut r) = (ours.client(), real.client());
    for args in [
        &["SHUTDOWN", "ABORT"][..],
        &["SHUTDOWN", "abort", "ABORT"],
        &["SHUTDOWN", "ABORT", "NOW"],
        &["SHUTDOWN", "FORCE", "ABORT"],
        &["SHUTDOWN", "NOSAVE", "ABORT"],
        &["SHUTDOWN", "NOSAVE", "SAVE"],
        &["SHUTDOWN", "save", "nosave", "now"],
        &["SHUTDOWN", "FOO"],
        &["SHUTDOWN", "NOSAVE", "FOO"],
        &["MULTI"],
        &["SHUTDOWN", "NOSAVE"],
        &["EXEC"],
        &["PING"],
    ] {
        assert_eq!(o.cmd_str(args), r.cmd_str(args), "{args:?}");
    }
    let mut ours = ours;
    let mut real = real;
    assert!(ours.alive() && real.alive());
}

#[test]
fn shutdown_exits_zero_closes_the_connection_and_removes_the_pidfile() {
    for real in [false, true] {
        for args in [&["SHUTDOWN"][..], &["SHUTDOWN", "NOSAVE"], &["shutdown", "nosave", "now", "force"]] {
            let what = format!("{} {args:?}", name(real));
            let dir = tempfile::tempdir().unwrap();
            let (pidfile, extra) = pidfile_args(&dir);
            let mut s = start(real, &extra);
            wait_for("the pid file", Duration::from_secs(5), || Path::new(&pidfile).exists());
            let pid = std::fs::read_to_string(&pidfile).unwrap();
            assert_eq!(pid.trim(), s.pid().to_string(), "{what}: pid file contents");
            let mut other = s.client();
            let mut c = s.client();
            let a: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            c.send_raw(&encode(&a));
            // No reply: the connection is closed, and so are the others.
            assert!(c.closed(), "{what}: connection closed");
            assert!(other.closed(), "{what}: other connections closed");
            check_clean_exit(&mut s, &pidfile, &what);
            let log = s.log_text();
            assert!(log.contains("# User requested shutdown..."), "{what}: {log}");
            assert!(Client::try_connect(s.port).is_err(), "{what}: still listening");
        }
    }
}

#[test]
fn sigterm_and_sigint_exit_cleanly() {
    for real in [false, true] {
        for (sig, sig_name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
            let what = format!("{} {sig_name}", name(real));
            let dir = tempfile::tempdir().unwrap();
            let (pidfile, extra) = pidfile_args(&dir);
            let mut s = start(real, &extra);
            wait_for("the pid file", Duration::from_secs(5), || Path::new(&pidfile).exists());
            let mut c = s.client();
            s.signal(sig);
            assert!(c.closed(), "{what}: connection closed");
            check_clean_exit(&mut s, &pidfile, &what);
            let log = s.log_text();
            assert!(log.contains(&format!(" Received {sig_name} scheduling shutdown...\n")), "{what}: {log}");
            assert!(log.contains("# User requested shutdown..."), "{what}: {log}");
        }
    }
}

/// Redis logs the signal from its handler, without a date: `pid:signal-handler (secs) message`.
#[test]
fn the_signal_is_logged_in_redis_signal_handler_format() {
    for real in [false, true] {
        let mut s = start(real, &[]);
        s.signal(libc::SIGTERM);
        assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
        let log = s.log_text();
        let line = log
            .lines()
            .find(|l| l.ends_with(" Received SIGTERM scheduling shutdown..."))
            .unwrap_or_else(|| panic!("{}: {log}", name(real)));
        let prefix = format!("{}:signal-handler (", s.pid());
        let secs = line.strip_prefix(&prefix).and_then(|r| r.split_once(") ")).map(|x| x.0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(
            secs.and_then(|x| x.parse::<u64>().ok()).is_some_and(|t| t.abs_diff(now) < 10),
            "{}: {line:?}",
            name(real)
        );
    }
}

/// A save that was asked for and fails (here: the data directory is gone) stops SHUTDOWN SAVE, as a
/// failed save does in Redis; FORCE exits anyway.
#[test]
fn shutdown_save_fails_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (pidfile, mut extra) = pidfile_args(&dir);
    extra.extend(["--enable-protected-configs".to_string(), "yes".to_string()]);
    let mut s = start(false, &extra);
    let mut c = s.client();
    let data_dir = tempfile::tempdir().unwrap();
    let gone = data_dir.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    assert_eq!(c.cmd(&["CONFIG", "SET", "dir", gone.to_str().unwrap()]), b"+OK\r\n");
    std::fs::remove_dir(&gone).unwrap();
    assert_eq!(c.cmd_str(&["SHUTDOWN", "SAVE"]), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    assert!(s.alive());
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    c.send_raw(&encode(&[b"SHUTDOWN", b"SAVE", b"FORCE"]));
    assert!(c.closed());
    check_clean_exit(&mut s, &pidfile, "ours SHUTDOWN SAVE FORCE");
}

/// SHUTDOWN in a MULTI is refused when queued (it is a no-multi command), and the server lives on.
#[test]
fn shutdown_is_not_allowed_in_a_transaction() {
    let mut s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["SHUTDOWN", "NOW"]), "-ERR Command not allowed inside a transaction\r\n");
    assert_eq!(c.cmd_str(&["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert!(s.alive());
}
