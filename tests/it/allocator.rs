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

/// The server's used_memory, from INFO memory.
fn used_memory(c: &mut Client) -> i64 {
    let info = c.cmd_str(&["INFO", "memory"]);
    let line = info.lines().find_map(|l| l.strip_prefix("used_memory:")).expect("a used_memory line");
    line.trim().parse().expect("used_memory is a number")
}

/// What `clients` clients leave allocated when each sends, in one write, an ECHO of `pad` bytes
/// and then `keep(i)`, then a PING in a second write; measured with the clients still connected
/// (or after they left: `closed`).
fn retained_by(s: &Server, clients: usize, pad: usize, keep: impl Fn(usize) -> Vec<Vec<u8>>, closed: bool) -> i64 {
    let mut admin = s.client();
    let before = used_memory(&mut admin);
    let pad = vec![b'p'; pad];
    let mut open = Vec::new();
    for i in 0..clients {
        let mut c = s.client();
        let mut out = encode(&[b"ECHO", &pad]);
        let kept = keep(i);
        let kept: Vec<&[u8]> = kept.iter().map(Vec::as_slice).collect();
        out.extend_from_slice(&encode(&kept));
        c.send_raw(&out);
        c.read_reply();
        c.read_reply();
        c.send_raw(&encode(&[b"PING"]));
        c.read_reply();
        open.push(c);
    }
    // Gone means none of these connections is listed any more (other connections, the caller's
    // or an earlier call's still closing, do not count).
    let addrs: Vec<String> =
        open.iter().map(|c| format!(" addr={} ", c.writer_clone().local_addr().expect("local address"))).collect();
    // As Redis, a connection keeps room for another big argument after one, until the cron
    // trims its query buffer to its recent peak: what is measured is what stays after that.
    wait_for("the query buffers trimmed", Duration::from_secs(30), || {
        let list = admin.cmd_str(&["CLIENT", "LIST"]);
        addrs.iter().all(|a| {
            list.lines().filter(|l| l.contains(a.as_str())).all(|l| {
                l.split_whitespace()
                    .find_map(|kv| kv.strip_prefix("qbuf-free="))
                    .and_then(|v| v.parse::<usize>().ok())
                    .is_some_and(|free| free < 64 << 10)
            })
        })
    });
    let mut retained = used_memory(&mut admin) - before;
    drop(open);
    let last_list = std::cell::RefCell::new(String::new());
    crate::common::wait_for_or(
        "the clients gone",
        Duration::from_secs(30),
        || {
            let list = admin.cmd_str(&["CLIENT", "LIST"]);
            let gone = !addrs.iter().any(|a| list.contains(a.as_str()));
            *last_list.borrow_mut() = list;
            gone
        },
        || last_list.borrow().clone(),
    );
    if closed {
        retained = used_memory(&mut admin) - before;
    }
    retained
}

/// What a command keeps of its arguments (a subscription's channel, a client's name, a slow log
/// entry, a function library's code) is copied out of the read buffer they came in: a kept slice would hold on to the whole
/// buffer, which the connection replaces (a 2 MB one at once, after its big argument; any, when
/// the connection ends).
#[test]
fn kept_arguments_do_not_hold_on_to_read_buffers() {
    let s = Server::start(&[]);
    let echo = |i: usize| vec![b"ECHO".to_vec(), format!("name-{i}").into_bytes()];
    const BIG: usize = 2 << 20;
    let control = retained_by(&s, 8, BIG, echo, false);
    let subscribed =
        retained_by(&s, 8, BIG, |i| vec![b"SUBSCRIBE".to_vec(), format!("channel-{i}").into_bytes()], false);
    let named = retained_by(
        &s,
        8,
        BIG,
        |i| vec![b"CLIENT".to_vec(), b"SETNAME".to_vec(), format!("name-{i}").into_bytes()],
        false,
    );
    let per_client = |n: i64| (n - control) / 8;
    // A subscription or a name costs bytes, not a read buffer.
    assert!(per_client(subscribed) < 4096, "a subscription keeps {} bytes", per_client(subscribed));
    assert!(per_client(named) < 4096, "a client name keeps {} bytes", per_client(named));

    // A function library outlives the client that loaded it.
    let closed_big = retained_by(&s, 8, BIG, echo, true);
    let library = |i: usize| {
        let code = format!("#!lua name=lib{i}\nredis.register_function('f{i}', function() return {i} end)");
        vec![b"FUNCTION".to_vec(), b"LOAD".to_vec(), code.into_bytes()]
    };
    let loaded = retained_by(&s, 8, BIG, library, true);
    let per_library = (loaded - closed_big) / 8;
    assert!(per_library < 64 << 10, "a function library keeps {per_library} bytes");

    let closed_control = retained_by(&s, 64, 64 << 10, echo, true);
    let mut admin = s.client();
    admin.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "1000"]);
    let logged = retained_by(&s, 64, 64 << 10, echo, true);
    // Three entries per client (ECHO of the pad, ECHO of the name, PING).
    let per_entry = (logged - closed_control) / (3 * 64);
    assert!(per_entry < 1024, "a slow log entry keeps {per_entry} bytes");
}
