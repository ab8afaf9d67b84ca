//! Protocol limits against hostile input: huge counts and lengths, overlong inline requests,
//! unbalanced quotes, NUL bytes and the query buffer limit, each compared with Debian's
//! redis-server 7.0.15 (reply bytes, whether the connection ends, the log line) and refused without
//! the server allocating what the input declares.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::*;

/// Sends `input` on a fresh connection and reads until the server closes it: what it replied.
/// Every input here ends in a refusal, so the close is what ends the read.
fn refusal(port: u16, input: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    // The server may close before it has read everything: a failed write is part of the outcome.
    let _ = s.write_all(input);
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            // A reset (the server closed with unread input) ends the connection as well.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("the server neither refused nor closed ({e}) after {}", show_bytes(input, 80)),
        }
    }
}

/// The process's resident memory, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// Inputs that Redis refuses; where Redis first accepts a header and waits, a follow-up proves
/// the state it is in by the error it provokes.
fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&str, Vec<u8>)> = vec![
        ("multibulk count 2^31", b"*2147483648\r\n".to_vec()),
        ("multibulk count 2^63", b"*9223372036854775808\r\n".to_vec()),
        ("multibulk count INT_MAX, then not a bulk", b"*2147483647\r\n+x\r\n".to_vec()),
        ("multibulk count 1M+1, then not a bulk", b"*1048577\r\n:1\r\n".to_vec()),
        ("bulk length 2^62", b"*1\r\n$4611686018427387904\r\n".to_vec()),
        ("bulk length 2^63", b"*1\r\n$9223372036854775808\r\n".to_vec()),
        ("bulk length over proto-max-bulk-len", b"*1\r\n$536870913\r\n".to_vec()),
        ("negative bulk length", b"*1\r\n$-1\r\n".to_vec()),
        ("bulk length with a sign", b"*1\r\n$+4\r\nPING\r\n".to_vec()),
        ("multibulk count with a space", b"* 1\r\n$4\r\nPING\r\n".to_vec()),
        ("multibulk count with a leading zero", b"*01\r\n$4\r\nPING\r\n".to_vec()),
        ("empty multibulk count", b"*\r\n".to_vec()),
        ("empty bulk length", b"*1\r\n$\r\n".to_vec()),
        ("unbalanced double quote", b"SET \"a\r\n".to_vec()),
        ("unbalanced single quote", b"SET 'a\r\n".to_vec()),
        ("closing quote not followed by a space", b"SET \"a\"b\r\n".to_vec()),
        ("closing single quote not followed by a space", b"SET 'a'b 1\r\n".to_vec()),
        ("a valid command, then unbalanced quotes", b"PING\r\nECHO \"x\r\n".to_vec()),
    ];
    let mut long_inline = b"SET k ".to_vec();
    long_inline.resize(64 * 1024 + 10, b'v');
    v.push(("inline request over 64 KiB without a line end", long_inline));
    let mut long_count = b"*".to_vec();
    long_count.resize(64 * 1024 + 10, b'1');
    v.push(("multibulk count line over 64 KiB", long_count));
    let mut long_len = b"*1\r\n$".to_vec();
    long_len.resize(64 * 1024 + 10, b'1');
    v.push(("bulk length line over 64 KiB", long_len));
    // C's strchr stops at a NUL: Redis never sees this line's end and waits until the buffer
    // passes the inline limit.
    let mut nul = b"EC\0HO hi\r\n".to_vec();
    nul.resize(64 * 1024 + 20, b'a');
    v.push(("a NUL before the line end", nul));
    let mut nul_count = b"*1\0\r\n$4\r\nPING\r\n".to_vec();
    nul_count.resize(64 * 1024 + 20, b'a');
    v.push(("a NUL in the multibulk count", nul_count));
    v
}

#[test]
fn hostile_protocol_input_is_refused_as_redis_refuses_it_without_allocating() {
    let real = Server::start_real(&[]);
    let ours = Server::start(&[]);
    let mut watch = ours.client();
    let (mem_before, rss_before) = (watch.info_u64("memory", "used_memory"), rss(ours.pid()));
    for (what, input) in hostile_inputs() {
        let want = refusal(real.port, &input);
        let got = refusal(ours.port, &input);
        assert_eq!(show_bytes(&got, 400), show_bytes(&want, 400), "{what}");
        assert!(!want.is_empty(), "{what}: Redis gave no reply (the case proves nothing)");
    }
    // Nothing that was declared was allocated: memory stays near where it was.
    let (mem_after, rss_after) = (watch.info_u64("memory", "used_memory"), rss(ours.pid()));
    assert!(mem_after < mem_before + 8 * 1024 * 1024, "used_memory {mem_before} -> {mem_after}");
    assert!(rss_after < rss_before + 32 * 1024 * 1024, "RSS {rss_before} -> {rss_after}");
    assert_eq!(watch.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn a_declared_huge_bulk_is_not_allocated_before_its_bytes_arrive() {
    let s = Server::start(&[]);
    let mut watch = s.client();
    let rss_before = rss(s.pid());
    let read_before = watch.info_u64("stats", "total_net_input_bytes");
    // The largest length proto-max-bulk-len allows, but only 1 MB of it sent.
    let mut c = s.client();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n");
    c.send_raw(&vec![b'x'; 1024 * 1024]);
    wait_for("the megabyte to be read", Duration::from_secs(30), || {
        watch.info_u64("stats", "total_net_input_bytes") >= read_before + 1024 * 1024
    });
    let grown = rss(s.pid()).saturating_sub(rss_before);
    assert!(grown < 64 * 1024 * 1024, "RSS grew {grown} bytes for 1 MB sent of a 512 MB argument");
    // Closing the uploader frees what it held, and the server serves on.
    drop(c);
    assert_eq!(watch.cmd(&["EXISTS", "k"]), b":0\r\n");
}

/// What a client that passes `client-query-buffer-limit` gets: no reply, the connection closed,
/// and Redis's log line naming the client and the start of its buffer.
#[test]
fn the_query_buffer_limit_closes_the_client_as_redis_does() {
    let mut lines = Vec::new();
    for server in [
        Server::start_real(&["--client-query-buffer-limit", "1mb"]),
        Server::start(&["--client-query-buffer-limit", "1mb"]),
    ] {
        let mut input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
        for _ in 0..20 {
            input.extend_from_slice(b"\x01ab\"c");
        }
        input.resize(1_600_000, b'x');
        assert_eq!(show_bytes(&refusal(server.port, &input), 400), "", "no reply before the close");
        let mut c = server.client();
        assert_eq!(c.cmd(&["EXISTS", "k"]), b":0\r\n");
        let marker = "Closing client that reached max query buffer length: ";
        wait_for("the log line", Duration::from_secs(10), || server.log_text().contains(marker));
        let log = server.log_text();
        let line = log.lines().find(|l| l.contains(marker)).unwrap_or_default();
        let (_, rest) = line.split_once(marker).unwrap_or_default();
        // The client's fields (id, port, fd, buffer sizes) differ between two processes; the
        // shape and the quoted start of the buffer must not.
        assert!(
            rest.starts_with("id=") && rest.contains(" addr=127.0.0.1:") && rest.contains(" cmd=NULL user=default ")
        );
        lines.push(rest.split_once(" (qbuf initial bytes: ").map(|(_, b)| b.to_string()).unwrap_or_default());
    }
    assert_eq!(lines[0], lines[1]);
    assert!(lines[0].starts_with("\"\\x01ab\\\"c"), "{}", lines[0]);
}

/// Whether the server has ended the connection (EOF or reset), as opposed to a read timeout.
fn ended(c: &mut Client) -> bool {
    use std::io::ErrorKind::{ConnectionReset, UnexpectedEof};
    matches!(c.try_read_reply(), Err(e) if matches!(e.kind(), UnexpectedEof | ConnectionReset))
}

/// A slow sender of a big command progresses and is not idle; an idle client (also one in a
/// MULTI) is closed; blocked, subscribed and MONITOR clients are exempt. Compared with Redis,
/// `timeout 1`.
#[test]
fn timeout_closes_only_idle_clients_as_redis_does() {
    let mut outcomes = Vec::new();
    for server in [Server::start_real(&["--timeout", "1"]), Server::start(&["--timeout", "1"])] {
        let mut idle = server.client();
        let mut blocked = server.client();
        blocked.send_raw(b"BLPOP nokey 0\r\n");
        let mut sub = server.client();
        assert!(sub.cmd_str(&["SUBSCRIBE", "ch"]).starts_with("*3\r\n"));
        let mut psub = server.client();
        assert!(psub.cmd_str(&["PSUBSCRIBE", "ch*"]).starts_with("*3\r\n"));
        let mut mon = server.client();
        assert_eq!(mon.cmd(&["MONITOR"]), b"+OK\r\n");
        let mut multi = server.client();
        assert_eq!(multi.cmd(&["MULTI"]), b"+OK\r\n");
        // The slow sender: one byte of its value every 200 ms, for well over two timeouts. The
        // pace is the behaviour under test, so here a sleep is the point, not a wait.
        let mut slow = server.client();
        slow.send_raw(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$20\r\n");
        for _ in 0..18 {
            slow.send_raw(b"x");
            std::thread::sleep(Duration::from_millis(200));
        }
        slow.send_raw(b"xx\r\n");
        let slow_reply = slow.try_read_reply().map(|r| String::from_utf8_lossy(&r).into_owned()).unwrap_or_default();
        let mut watch = server.client();
        assert_eq!(watch.cmd(&["RPUSH", "nokey", "v"]), b":1\r\n");
        let blocked_reply = String::from_utf8_lossy(&blocked.read_reply()).into_owned();
        assert_eq!(watch.cmd(&["PUBLISH", "ch", "m"]), b":2\r\n");
        let sub_reply = String::from_utf8_lossy(&sub.read_reply()).into_owned();
        let psub_reply = String::from_utf8_lossy(&psub.read_reply()).into_owned();
        // MONITOR saw the RPUSH: it is still connected.
        let mut seen = String::new();
        while !seen.contains("\"RPUSH\"") {
            seen = String::from_utf8_lossy(&mon.read_reply()).into_owned();
        }
        outcomes.push((slow_reply, ended(&mut idle), ended(&mut multi), blocked_reply, sub_reply, psub_reply));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[1].0, "+OK\r\n", "the slow sender was served");
    assert!(outcomes[1].1 && outcomes[1].2, "the idle clients were closed");
}

/// A server of `bin` started with NOFILE limits `soft`/`hard`, as under a unit's LimitNOFILE or a
/// shell's `ulimit -n`; its log is `<dir>/server.log`. Killed with the test.
struct Limited {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Limited {
    fn start(bin: &str, soft: u64, hard: u64) -> Limited {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut cmd = std::process::Command::new(bin);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no"])
            .args(["--dir", dir.path().to_str().expect("utf-8"), "--logfile", "server.log"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let l = libc::rlimit { rlim_cur: soft, rlim_max: hard };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = die_with_parent(&mut cmd).spawn().expect("spawn");
        let mut s = Limited { child, port, dir };
        wait_for("the server to answer", Duration::from_secs(30), || {
            assert!(matches!(s.child.try_wait(), Ok(None)), "exited: {}", s.log());
            Client::try_connect(port).is_ok_and(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n")
        });
        s
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The log's lines about open files and maxclients, without their timestamps and PIDs.
    fn fd_lines(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("open files") || l.contains("maxclients") || l.contains("ulimit"))
            .filter_map(|l| l.split_once("# ").or_else(|| l.split_once("* ")).map(|(_, t)| t.to_string()))
            .collect()
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_open_files_limit_is_raised_or_maxclients_lowered_as_redis_does() {
    for (soft, hard, maxclients) in [(1024, 20_000, "10000"), (1024, 4000, "3968"), (1024, 1024, "992")] {
        let (real, ours) = (Limited::start(REAL_REDIS, soft, hard), Limited::start(OURS, soft, hard));
        assert_eq!(ours.fd_lines(), real.fd_lines(), "ulimit {soft}:{hard}");
        assert!(!real.fd_lines().is_empty());
        for s in [&real, &ours] {
            let got = Client::connect(s.port).cmd_str(&["CONFIG", "GET", "maxclients"]);
            assert_eq!(got, format!("*2\r\n$10\r\nmaxclients\r\n${}\r\n{maxclients}\r\n", maxclients.len()));
        }
    }
}

/// Raises this test process's own NOFILE soft limit to its hard limit, to hold 10,000 sockets.
fn raise_own_nofile() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).expect("setrlimit");
    hard
}

/// Opens connections until `total` clients are connected (the watcher among them).
fn fill_to(port: u16, watch: &mut Client, total: u64) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 1..total {
        held.push(TcpStream::connect(("127.0.0.1", port)).expect("connect"));
    }
    wait_for("every connection to be registered", Duration::from_secs(120), || {
        watch.info_u64("clients", "connected_clients") == total
    });
    held
}

/// 10,000 clients at once under a soft limit of 1024 raised by the server itself: the
/// 10,001st gets Redis's error and a client already connected still gets quick replies.
#[test]
fn ten_thousand_clients_are_served_and_the_next_refused() {
    assert!(raise_own_nofile() >= 10_100, "the test needs a hard NOFILE limit above 10,100");
    let mut refusals = Vec::new();
    for bin in [REAL_REDIS, OURS] {
        let s = Limited::start(bin, 1024, 20_000);
        let mut watch = Client::connect(s.port);
        let held = fill_to(s.port, &mut watch, 10_000);
        let mut extra = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
        extra.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let mut reply = Vec::new();
        let _ = extra.read_to_end(&mut reply);
        refusals.push(reply);
        // Latency for a connected client with 10,000 held: the slowest of 200 PINGs.
        let mut slowest = Duration::ZERO;
        for _ in 0..200 {
            let t = std::time::Instant::now();
            assert_eq!(watch.cmd(&["PING"]), b"+PONG\r\n");
            slowest = slowest.max(t.elapsed());
        }
        assert!(slowest < Duration::from_millis(500), "{bin}: a PING took {slowest:?} with 10,000 clients");
        drop(held);
        wait_for("the clients to go", Duration::from_secs(60), || watch.info_u64("clients", "connected_clients") == 1);
    }
    assert_eq!(refusals[0], b"-ERR max number of clients reached\r\n");
    assert_eq!(refusals[1], refusals[0]);
}

/// CONFIG SET maxclients raises the limit as start-up does, or is refused with the number that
/// fits (updateMaxclients), the old value kept.
#[test]
fn config_set_maxclients_adjusts_the_open_files_limit_as_redis_does() {
    let mut seen = Vec::new();
    for bin in [REAL_REDIS, OURS] {
        let s = Limited::start(bin, 1024, 4000);
        let mut c = Client::connect(s.port);
        let refused = c.cmd_str(&["CONFIG", "SET", "maxclients", "100000"]);
        let kept = c.cmd_str(&["CONFIG", "GET", "maxclients"]);
        let lowered = c.cmd_str(&["CONFIG", "SET", "maxclients", "2000"]);
        seen.push((refused, kept, lowered, c.cmd_str(&["CONFIG", "GET", "maxclients"]), s.fd_lines()));
    }
    assert_eq!(seen[1], seen[0]);
    assert!(seen[0].0.ends_with("try with 3968\r\n"), "{}", seen[0].0);
}
