//! systemd integration without a booted systemd: notifications over a NOTIFY_SOCKET the test
//! listens on, and socket activation through systemd-socket-activate (as systemd passes sockets).

use crate::common::*;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the process when the test ends, also when an assertion fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Supervised {
    child: Child,
    port: u16,
    notify: UnixDatagram,
    seen: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Supervised {
    fn start(extra_env: &[(&str, &str)], args: &[&str]) -> Supervised {
        let dir = tempfile::tempdir().unwrap();
        let sock_path = dir.path().join("notify.sock");
        let notify = UnixDatagram::bind(&sock_path).unwrap();
        notify.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let port = free_port();
        let log = dir.path().join("log").display().to_string();
        let mut cmd = Command::new(OURS);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--logfile", &log])
            .args(args)
            .env("NOTIFY_SOCKET", &sock_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        Supervised { child, port, notify, seen: Vec::new(), _dir: dir }
    }

    /// Waits for a notification line (e.g. READY=1), keeping everything received.
    fn wait_for_message(&mut self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.seen.iter().any(|m| m.lines().any(|l| l == line)) {
                return;
            }
            let mut buf = [0u8; 4096];
            if let Ok(n) = self.notify.recv(&mut buf) {
                self.seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        panic!("never got {line:?}; got {:?}", self.seen);
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ready_status_and_stopping_are_sent_to_systemd() {
    let mut s = Supervised::start(&[], &["--supervised", "systemd", "--daemonize", "yes"]);
    s.wait_for_message("READY=1");
    s.wait_for_message("STATUS=Ready to accept connections");
    // Supervision wins over daemonize: the process systemd started is the server.
    assert!(s.child.try_wait().unwrap().is_none(), "the server forked away from systemd");
    let mut c = Client::connect(s.port);
    assert!(c.cmd_str(&["INFO", "server"]).contains("process_supervised:systemd"));
    c.send_raw(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    s.wait_for_message("STOPPING=1");
    let code = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = s.child.try_wait().unwrap() {
                break st.code();
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(code, Some(0));
}

#[test]
fn watchdog_is_pinged_when_the_unit_sets_one() {
    let mut s = Supervised::start(&[("WATCHDOG_USEC", "200000")], &["--supervised", "auto"]);
    s.wait_for_message("READY=1");
    s.wait_for_message("WATCHDOG=1");
}

#[test]
fn unsupervised_servers_say_nothing_to_systemd() {
    let s = Supervised::start(&[], &["--supervised", "no"]);
    wait_for("the server", Duration::from_secs(10), || Client::try_connect(s.port).is_ok());
    assert!(Client::connect(s.port).cmd_str(&["INFO", "server"]).contains("process_supervised:no"));
    let mut buf = [0u8; 256];
    assert!(s.notify.recv(&mut buf).is_err(), "an unsupervised server notified systemd");
}

#[test]
fn socket_activation_serves_the_sockets_systemd_passes() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("redis.sock");
    let port = free_port();
    let log = dir.path().join("log");
    // The config asks for another port: the socket unit's addresses win, and that is logged.
    let mut child = KillOnDrop(
        Command::new("systemd-socket-activate")
            .args(["-l", &format!("127.0.0.1:{port}"), "-l", &sock.display().to_string(), "--fdname=redis:redis"])
            .arg(OURS)
            .args(["--port", &free_port().to_string(), "--save", "", "--logfile", &log.display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("systemd-socket-activate (package systemd) is needed for this test"),
    );
    wait_for("the activated server", Duration::from_secs(15), || {
        Client::try_connect(port).map(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n").unwrap_or(false)
    });
    let mut c = Client::connect(port);
    assert!(c.cmd_str(&["INFO", "server"]).contains(&format!("tcp_port:{port}")));
    let mut u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    std::io::Write::write_all(&mut u, b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    std::io::Read::read_exact(&mut u, &mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    assert!(c.cmd_str(&["CONFIG", "SET", "port", "7777"]).contains("systemd socket activation"));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("from systemd socket activation ('redis')"), "{text}");
    assert!(text.contains("serving the socket unit's address"), "{text}");
    c.send_raw(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The unix socket belongs to the socket unit and is left in place.
    assert!(sock.exists());
}

/// The capability sets of `pid`'s threads that are not empty, as "thread (tid) CapXxx: value".
fn capabilities_held(pid: u32) -> Vec<String> {
    let mut held = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return held };
    for task in tasks.flatten() {
        // A thread that has just exited has no status left: it holds nothing.
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else { continue };
        let name = status.lines().find_map(|l| l.strip_prefix("Name:")).unwrap_or_default().trim().to_string();
        for field in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
            let value = status.lines().find_map(|l| l.strip_prefix(field)).unwrap_or_default().trim();
            if value.chars().any(|c| c != '0') {
                held.push(format!("{name} ({}) {field} {value}", task.file_name().to_string_lossy()));
            }
        }
    }
    held
}

/// Once listening, no thread of the server or of Sentinel holds a capability, even when started
/// as root (as tests are): capabilities are per thread, and the runtime's workers, which run the
/// clients' commands, were started before the drop.
#[test]
fn no_thread_holds_capabilities_after_start_up() {
    assert!(!capabilities_held(std::process::id()).is_empty(), "the tests run as root, with capabilities to drop");
    let server = Server::start(&[]);
    let sentinel = SentinelProcess::start(OUR_SENTINEL, |port, dir| {
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir \"{}\"\nsentinel monitor mymaster 127.0.0.1 {} 1\n",
            dir.display(),
            server.port
        );
        (text, Vec::new())
    });
    for pid in [server.pid(), sentinel.pid()] {
        let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.count()).unwrap_or(0);
        assert!(threads > 1, "{pid} has {threads} threads: the check must see more than the main one");
        let held = std::cell::RefCell::new(Vec::new());
        wait_for_or(
            "every thread to drop its capabilities",
            Duration::from_secs(30),
            || {
                *held.borrow_mut() = capabilities_held(pid);
                held.borrow().is_empty()
            },
            || format!("threads of {pid} still hold capabilities: {:?}", held.borrow()),
        );
    }
    assert_eq!(server.client().cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(sentinel.call(&["PING"]), Some(b"+PONG\r\n".to_vec()));
}

/// Sockets whose FileDescriptorName= is not ours (here a Sentinel's) are not served; with nothing
/// else to serve, the server says so and exits.
#[test]
fn sockets_named_for_something_else_are_not_served() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let mut child = KillOnDrop(
        Command::new("systemd-socket-activate")
            .args(["-l", &format!("127.0.0.1:{port}"), "--fdname=sentinel"])
            .arg(OURS)
            .args(["--save", "", "--logfile", &log.display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("systemd-socket-activate"),
    );
    // Like systemd, systemd-socket-activate starts the service on the first connection.
    wait_for("the socket", Duration::from_secs(10), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the server kept running with a socket that is not its own");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Ignoring the socket named 'sentinel'"), "{text}");
    assert!(text.contains("systemd passed no socket named 'redis'"), "{text}");
}

#[test]
fn loading_reports_progress_and_asks_for_more_time_before_ready() {
    let data = tempfile::tempdir().unwrap();
    let plain = Server::start(&["--dir", data.path().to_str().unwrap()]);
    let mut c = plain.client();
    for i in 0..3_000 {
        c.send_raw(&encode(&[b"SET", format!("key:{i}").as_bytes(), b"v"]));
    }
    for _ in 0..3_000 {
        c.read_reply();
    }
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    drop(plain);
    // key-load-delay (µs per key) makes the load take about three seconds.
    let dir = data.path().to_str().unwrap();
    let mut s = Supervised::start(&[], &["--supervised", "systemd", "--dir", dir, "--key-load-delay", "1000"]);
    s.wait_for_message("STATUS=Loading the dataset: 0%");
    s.wait_for_message("EXTEND_TIMEOUT_USEC=30000000");
    s.wait_for_message("READY=1");
    let loading_at = s.seen.iter().position(|m| m.contains("STATUS=Loading the dataset"));
    let ready_at = s.seen.iter().position(|m| m.contains("READY=1"));
    assert!(loading_at < ready_at, "{:?}", s.seen);
    let progress = s.seen.iter().filter(|m| m.contains("STATUS=Loading the dataset")).count();
    assert!(progress >= 2, "one report a second during a load of seconds: {:?}", s.seen);
    assert_eq!(Client::connect(s.port).cmd(&["DBSIZE"]), b":3000\r\n");
}

/// `systemctl stop` (SIGTERM) of a dataset whose final save takes longer than the stop timeout:
/// STOPPING=1 comes first, then the save's progress with EXTEND_TIMEOUT_USEC while keys are being
/// written, so systemd waits for the save instead of killing it half-written.
#[test]
fn shutdown_says_stopping_first_and_asks_for_more_time_while_the_save_progresses() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    // rdb-key-save-delay (µs per key) makes the final save take about three seconds.
    let args = ["--supervised", "systemd", "--dir", dir, "--save", "3600 1", "--rdb-key-save-delay", "1000"];
    let mut s = Supervised::start(&[], &args);
    s.wait_for_message("READY=1");
    let mut c = Client::connect(s.port);
    for i in 0..3_000 {
        c.send_raw(&encode(&[b"SET", format!("key:{i}").as_bytes(), b"v"]));
    }
    for _ in 0..3_000 {
        c.read_reply();
    }
    assert_eq!(c.cmd(&["SET", "last-before-stop", "yes"]), b"+OK\r\n");
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(s.child.id() as libc::pid_t, libc::SIGTERM) };
    s.wait_for_message("STOPPING=1");
    s.wait_for_message("EXTEND_TIMEOUT_USEC=30000000");
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st.code();
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        let mut buf = [0u8; 4096];
        if let Ok(n) = s.notify.recv(&mut buf) {
            s.seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    };
    assert_eq!(code, Some(0));
    let stopping_at = s.seen.iter().position(|m| m.contains("STOPPING=1")).unwrap();
    let saving: Vec<usize> =
        (0..s.seen.len()).filter(|&i| s.seen[i].contains("STATUS=Saving the final RDB snapshot: ")).collect();
    assert!(saving.len() >= 2, "one report a second during a save of seconds: {:?}", s.seen);
    assert!(stopping_at < saving[0], "STOPPING=1 before the save: {:?}", s.seen);
    assert!(s.seen[saving[0]].contains("of 3001 keys"), "{:?}", s.seen);
    let extended = s.seen.iter().filter(|m| m.contains("EXTEND_TIMEOUT_USEC=")).count();
    assert!(extended >= 2, "more time asked for while the save progresses: {:?}", s.seen);
    let restarted = Server::start(&["--dir", dir]);
    assert_eq!(restarted.client().cmd(&["GET", "last-before-stop"]), b"$3\r\nyes\r\n");
    assert_eq!(restarted.client().cmd(&["DBSIZE"]), b":3001\r\n");
}
