//! Test harness: start our server or Debian's real redis-server on a free loopback port, talk RESP
//! over real sockets, and clean up processes and files.
#![allow(dead_code)]

pub mod fake_server;
pub mod reply;

pub use reply::{show_bytes, Reply};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const OURS: &str = env!("CARGO_BIN_EXE_redis-server-rs");
pub const REAL_REDIS: &str = "/usr/bin/redis-server";

/// Makes a server die with the test that started it, even when the test process aborts (a panic
/// while panicking) or is killed: its servers must never outlive it.
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

/// A free loopback TCP port (the kernel's choice; a race with other processes is retried by start()).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

impl Server {
    /// Starts our server with extra Redis-style options.
    pub fn start(args: &[&str]) -> Server {
        Server::launch(OURS, None, args)
    }

    /// Starts our server with a config file (written into its temp dir) plus options.
    pub fn start_with_config(config: &str, args: &[&str]) -> Server {
        Server::launch(OURS, Some(config), args)
    }

    /// Starts Debian's redis-server 7.0. CI installs it; a missing binary fails the test loudly.
    pub fn start_real(args: &[&str]) -> Server {
        assert!(
            std::path::Path::new(REAL_REDIS).exists(),
            "{REAL_REDIS} is missing: install Debian's redis-server (the README's test command does)"
        );
        Server::launch(REAL_REDIS, None, args)
    }

    /// Starts Debian's redis-server 7.0 with a config file (written into its temp dir) plus options.
    pub fn start_real_with_config(config: &str, args: &[&str]) -> Server {
        assert!(std::path::Path::new(REAL_REDIS).exists(), "{REAL_REDIS} is missing: install Debian's redis-server");
        Server::launch(REAL_REDIS, Some(config), args)
    }

    fn launch(bin: &str, config: Option<&str>, args: &[&str]) -> Server {
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let log = dir.path().join("server.log");
            let mut cmd = Command::new(bin);
            if let Some(text) = config {
                let path = dir.path().join("redis.conf");
                std::fs::write(&path, text).expect("write config");
                cmd.arg(&path);
            }
            let port_s = port.to_string();
            let dir_s = dir.path().display().to_string();
            let log_s = log.display().to_string();
            cmd.args(["--port", &port_s, "--bind", "127.0.0.1", "--save", "", "--dir", &dir_s, "--logfile", &log_s]);
            cmd.args(["--daemonize", "no"]);
            cmd.args(args);
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            let child = die_with_parent(&mut cmd).spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
            let mut s = Server { child, port, dir, log };
            if s.wait_ready() {
                return s;
            }
        }
        panic!("server {bin} did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = Client::try_connect(self.port) {
                // A reset connection (another process briefly on the port) is retried, not fatal.
                c.send_raw(&encode(&[b"PING"]));
                if let Ok(r) = c.try_read_reply() {
                    if r.starts_with(b"+PONG") || r.starts_with(b"-NOAUTH") {
                        return true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to exit (after SHUTDOWN or a signal) and returns its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn signal(&self, sig: i32) {
        send_signal(self.child.id(), sig);
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `sig` to our child `pid`. SIGSTOP returns only once every thread has stopped: kill(2)
/// wakes one thread, which then stops the others, so a multi-threaded server can still run
/// (read its replication stream, acknowledge it) for a while after kill returns on a loaded machine.
pub fn send_signal(pid: u32, sig: i32) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid as i32, sig);
    }
    if sig == libc::SIGSTOP {
        wait_for("every thread of the process to stop", Duration::from_secs(30), || all_threads_stopped(pid));
    }
}

/// Whether every thread of `pid` is in state T (stopped) or t (traced), or the process is gone.
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return true };
    tasks.flatten().all(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The state follows the command name, which is in parentheses and may contain spaces.
        let state = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next());
        matches!(state, None | Some("T") | Some("t") | Some("Z") | Some("X"))
    })
}

/// Polls `cond` until it holds or the deadline passes.
pub fn wait_for(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// `wait_for`, and on a timeout the failure also shows `context()` (logs, state).
pub fn wait_for_or(what: &str, within: Duration, cond: impl FnMut() -> bool, context: impl FnOnce() -> String) {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wait_for(what, within, cond)));
    if caught.is_err() {
        panic!("timed out waiting for {what}\n{}", context());
    }
}

pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Client {
    pub fn try_connect(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        s.set_nodelay(true)?;
        Ok(Client { reader: BufReader::new(s.try_clone()?), writer: s })
    }

    pub fn try_connect_addr(host: &str, port: u16) -> Client {
        let s = TcpStream::connect((host, port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        Client { reader: BufReader::new(s.try_clone().expect("clone")), writer: s }
    }

    pub fn connect(port: u16) -> Client {
        Client::try_connect(port).expect("connect")
    }

    /// Sends a command and returns its raw reply bytes.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd_bytes(&a)
    }

    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send_raw(&encode(args));
        self.read_reply()
    }

    /// The reply as text, for readable assertions.
    pub fn cmd_str(&mut self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cmd(args)).into_owned()
    }

    /// An INFO field's value; a field missing from the section fails the test.
    pub fn info_field(&mut self, section: &str, name: &str) -> String {
        let text = self.cmd_str(&["INFO", section]);
        let prefix = format!("{name}:");
        let value = text.split("\r\n").find_map(|l| l.strip_prefix(prefix.as_str()).map(str::to_string));
        value.unwrap_or_else(|| panic!("no {name} in INFO {section}: {text}"))
    }

    /// An INFO field as a number; missing or not a number fails the test.
    pub fn info_u64(&mut self, section: &str, name: &str) -> u64 {
        let value = self.info_field(section, name);
        value.parse().unwrap_or_else(|_| panic!("INFO {section} {name}:{value} is not a number"))
    }

    /// A second handle on the socket, for writing from another thread.
    pub fn writer_clone(&self) -> TcpStream {
        self.writer.try_clone().expect("clone socket")
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
    }

    /// Reads one complete RESP2/RESP3 reply and returns its bytes. Panics on EOF.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply().expect("read reply")
    }

    pub fn try_read_reply(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.read_one(&mut out)?;
        Ok(out)
    }

    fn read_one(&mut self, out: &mut Vec<u8>) -> std::io::Result<()> {
        let mut line = Vec::new();
        let n = self.reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        out.extend_from_slice(&line);
        let body = String::from_utf8_lossy(&line[1..]).trim_end().to_string();
        let len: i64 = body.parse().unwrap_or(-1);
        match line[0] {
            b'$' | b'=' | b'!' if len >= 0 => {
                let mut data = vec![0; len as usize + 2];
                self.reader.read_exact(&mut data)?;
                out.extend_from_slice(&data);
            }
            b'*' | b'~' | b'>' if len > 0 => {
                for _ in 0..len {
                    self.read_one(out)?;
                }
            }
            b'%' | b'|' if len > 0 => {
                for _ in 0..2 * len {
                    self.read_one(out)?;
                }
                if line[0] == b'|' {
                    self.read_one(out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// True once the server has closed the connection.
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        self.reader.get_ref().set_read_timeout(Some(Duration::from_secs(5))).ok();
        matches!(self.reader.read(&mut b), Ok(0) | Err(_))
    }
}

/// A server of either kind on a data directory the test owns, so restarts keep its files
/// (dumps, AOF directories). Started without save points; `extra` options come last.
pub struct DataDirServer {
    child: Child,
    pub port: u16,
}

impl DataDirServer {
    /// Starts `bin` on `dir` and waits until it answers PONG (so its dataset is loaded).
    pub fn start(bin: &str, dir: &std::path::Path, extra: &[&str]) -> DataDirServer {
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir", dir.to_str().expect("utf-8 dir")])
            .args(["--daemonize", "no", "--save", "", "--logfile", "server.log"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = die_with_parent(&mut cmd).spawn().expect("start server");
        let mut s = DataDirServer { child, port };
        wait_for("server up and loaded", Duration::from_secs(30), || {
            if let Ok(Some(status)) = s.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                panic!("server exited ({status}): {log}");
            }
            Client::try_connect(port).is_ok_and(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n")
        });
        s
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port)
    }

    /// Sends a SHUTDOWN variant and waits for the process to end.
    pub fn stop(mut self, how: &[&str]) {
        let mut c = self.client();
        c.send_raw(&encode(&how.iter().map(|a| a.as_bytes()).collect::<Vec<_>>()));
        let _ = c.try_read_reply();
        let _ = self.child.wait();
    }

    /// SHUTDOWN NOSAVE.
    pub fn shutdown(self) {
        self.stop(&["SHUTDOWN", "NOSAVE"]);
    }

    /// SIGTERM, then waits for the process to end.
    pub fn terminate(mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }

    /// SIGKILL: a crash.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DataDirServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small tmpfs, unmounted when dropped, to fill a disk. Mounting needs root, as CI has: a test
/// that cannot mount fails rather than skipping.
pub struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    pub fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("temp dir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", dir.path().to_str().expect("utf-8 dir")])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "mounting a tmpfs needs root");
        SmallDisk(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

pub const OUR_SENTINEL: &str = env!("CARGO_BIN_EXE_redis-sentinel-rs");
pub const REAL_SENTINEL: &str = "/usr/bin/redis-sentinel";

/// A sentinel process, Debian's redis-sentinel or our redis-sentinel-rs, on a free loopback port,
/// with its sentinel.conf, log and scripts in a temp dir of its own (also its working directory).
pub struct SentinelProcess {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// `<dir>/sentinel.conf`.
    pub conf: PathBuf,
}

impl SentinelProcess {
    /// Starts `bin` on the sentinel.conf `setup(port, dir)` gives, followed by the command-line
    /// options it gives. Ready once it answers PING (-NOAUTH with a requirepass) and has saved its
    /// ID (Sentinel writes the file before it serves); a port taken by another process before the
    /// bind is retried on another.
    pub fn start(bin: &str, setup: impl Fn(u16, &std::path::Path) -> (String, Vec<String>)) -> SentinelProcess {
        SentinelProcess::start_in(&std::env::temp_dir(), bin, setup)
    }

    /// The same with its dir made in `parent` (a SmallDisk, say).
    pub fn start_in(
        parent: &std::path::Path,
        bin: &str,
        setup: impl Fn(u16, &std::path::Path) -> (String, Vec<String>),
    ) -> SentinelProcess {
        assert!(std::path::Path::new(bin).exists(), "{bin} is missing: install Debian's redis-sentinel");
        for _ in 0..5 {
            let dir = tempfile::tempdir_in(parent).expect("temp dir");
            let port = free_port();
            let conf = dir.path().join("sentinel.conf");
            let (text, args) = setup(port, dir.path());
            std::fs::write(&conf, text).expect("write sentinel.conf");
            let mut cmd = Command::new(bin);
            cmd.arg(&conf).args(args).current_dir(dir.path());
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            let child = die_with_parent(&mut cmd).spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
            let mut s = SentinelProcess { child, port, dir, conf };
            if s.wait_ready() {
                return s;
            }
        }
        panic!("{bin} did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if !self.alive() {
                return false;
            }
            if let Ok(mut c) = Client::try_connect(self.port) {
                c.send_raw(&encode(&[b"PING"]));
                if c.try_read_reply().is_ok_and(|r| r == b"+PONG\r\n" || r.starts_with(b"-NOAUTH")) {
                    return self.file("sentinel.conf").contains("\nsentinel myid ");
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A connection, speaking RESP3 if `resp` is 3.
    pub fn client(&self, resp: u8) -> Client {
        let mut c = Client::connect(self.port);
        if resp == 3 {
            c.cmd(&["HELLO", "3"]);
        }
        c
    }

    /// One command on a fresh connection: its raw reply, or None if the sentinel does not answer.
    pub fn call(&self, args: &[&str]) -> Option<Vec<u8>> {
        let mut c = Client::try_connect(self.port).ok()?;
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        c.send_raw(&encode(&args));
        c.try_read_reply().ok()
    }

    /// A file of its dir ("" if missing).
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The exit status once the process has ended by itself (None: still running at the deadline).
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SentinelProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
