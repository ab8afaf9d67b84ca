//! Clients that misbehave or must be removed: CLIENT KILL by every filter, a replica and a
//! subscriber that never read, each compared with Debian's redis-server 7.0.15.

use std::time::Duration;

use crate::common::*;

fn field(line: &str, name: &str) -> String {
    line.split_whitespace().find_map(|f| f.strip_prefix(&format!("{name}="))).unwrap_or_default().to_string()
}

fn info(c: &mut Client) -> String {
    c.cmd_str(&["CLIENT", "INFO"])
}

fn connected(port: u16) -> Client {
    let mut c = Client::connect(port);
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    c
}

/// Whether the server has ended the connection (EOF or reset), as opposed to a read timeout.
fn ended(c: &mut Client) -> bool {
    use std::io::ErrorKind::{ConnectionReset, UnexpectedEof};
    matches!(c.try_read_reply(), Err(e) if matches!(e.kind(), UnexpectedEof | ConnectionReset))
}

/// One run of every CLIENT KILL form against `port`: (what, reply, whether the victim was closed).
fn kill_script(port: u16) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut me = connected(port);
    let mut record = |me: &mut Client, args: &[&str], victim: Option<&mut Client>| {
        let reply = me.cmd_str(args);
        let gone = victim.map(ended).unwrap_or(false);
        // Addresses and ids differ between the two servers: the label keeps the filter names.
        let label: Vec<&str> = args
            .iter()
            .map(|a| if a.contains(':') || a.parse::<u64>().is_ok_and(|n| n > 1) { "<v>" } else { a })
            .collect();
        out.push((label.join(" "), reply, gone));
    };
    for args in [
        &["CLIENT", "KILL"][..],
        &["CLIENT", "KILL", "1.2.3.4:5"],
        &["CLIENT", "KILL", "nonsense"],
        &["CLIENT", "KILL", "ID"],
        &["CLIENT", "KILL", "ID", "abc"],
        &["CLIENT", "KILL", "ID", "-1"],
        &["CLIENT", "KILL", "ID", "0"],
        &["CLIENT", "KILL", "ID", "999999"],
        &["CLIENT", "KILL", "TYPE", "bogus"],
        &["CLIENT", "KILL", "TYPE", "master"],
        &["CLIENT", "KILL", "TYPE", "replica"],
        &["CLIENT", "KILL", "TYPE", "slave"],
        &["CLIENT", "KILL", "TYPE", "pubsub"],
        &["CLIENT", "KILL", "USER", "nouser"],
        &["CLIENT", "KILL", "ADDR", "1.1.1.1:1"],
        &["CLIENT", "KILL", "LADDR", "1.1.1.1:1"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "SKIPME", "no", "ID"],
        // MAXAGE came with Redis 7.4: 7.0 calls it a syntax error.
        &["CLIENT", "KILL", "MAXAGE", "1"],
        &["CLIENT", "KILL", "FOO", "bar"],
        &["CLIENT", "KILL", "ID", "1", "ID"],
    ] {
        record(&mut me, args, None);
    }
    // Each filter with a victim that matches it.
    let mut v = connected(port);
    let id = field(&info(&mut v), "id");
    assert!(!id.is_empty());
    record(&mut me, &["CLIENT", "KILL", "ID", &id], Some(&mut v));
    let mut v = connected(port);
    let addr = field(&info(&mut v), "addr");
    record(&mut me, &["CLIENT", "KILL", "ADDR", &addr], Some(&mut v));
    let mut v = connected(port);
    let addr = field(&info(&mut v), "addr");
    record(&mut me, &["CLIENT", "KILL", &addr], Some(&mut v));
    record(&mut me, &["CLIENT", "KILL", &addr], None);
    let mut v = connected(port);
    assert!(v.cmd_str(&["SUBSCRIBE", "ch"]).starts_with("*3\r\n"));
    record(&mut me, &["CLIENT", "KILL", "TYPE", "pubsub"], Some(&mut v));
    let mut v = connected(port);
    record(&mut me, &["CLIENT", "KILL", "TYPE", "normal"], Some(&mut v));
    let mut v = connected(port);
    record(&mut me, &["CLIENT", "KILL", "USER", "default"], Some(&mut v));
    // Two clients on the same local address; SKIPME yes (the default) spares the caller.
    let (mut v, mut w) = (connected(port), connected(port));
    let laddr = field(&info(&mut me), "laddr");
    record(&mut me, &["CLIENT", "KILL", "LADDR", &laddr], Some(&mut v));
    assert!(ended(&mut w));
    let mut v = connected(port);
    let id = field(&info(&mut v), "id");
    record(&mut me, &["CLIENT", "KILL", "ID", &id, "TYPE", "pubsub"], None);
    record(&mut me, &["CLIENT", "KILL", "id", &id, "type", "normal", "user", "default"], Some(&mut v));
    // The caller itself: SKIPME no, and the old form (which replies before closing).
    let my_addr = field(&info(&mut me), "addr");
    record(&mut me, &["CLIENT", "KILL", "ADDR", &my_addr], None);
    let reply = me.cmd_str(&["CLIENT", "KILL", "ADDR", &my_addr, "SKIPME", "no"]);
    out.push(("kill self with SKIPME no".into(), reply, ended(&mut me)));
    let mut me = connected(port);
    let my_addr = field(&info(&mut me), "addr");
    let reply = me.cmd_str(&["CLIENT", "KILL", &my_addr]);
    out.push(("kill self, old form".into(), reply, ended(&mut me)));
    out
}

#[test]
fn client_kill_by_every_filter_as_redis() {
    let real = Server::start_real(&[]);
    let ours = Server::start(&[]);
    let (want, got) = (kill_script(real.port), kill_script(ours.port));
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
}

/// The log lines after `marker`, without timestamps and PIDs, and with the fields that differ
/// between any two processes (ports, fd, buffer sizes) left out.
fn log_lines(server: &Server, marker: &str) -> Vec<String> {
    server
        .log_text()
        .lines()
        .filter(|l| l.contains(marker))
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest))
        .map(|l| {
            let level = l.split(' ').nth(4).unwrap_or_default();
            let text = l.splitn(6, ' ').nth(5).unwrap_or_default();
            let kept: Vec<&str> = text
                .split(' ')
                .filter(|f| {
                    !["id=", "addr=", "laddr=", "fd=", "age=", "idle=", "qbuf", "argv-mem=", "rbs=", "rbp="]
                        .iter()
                        .any(|p| f.starts_with(p))
                        && !["obl=", "oll=", "omem=", "tot-mem=", "events="].iter().any(|p| f.starts_with(p))
                })
                .collect();
            format!("{level} {}", kept.join(" "))
        })
        .collect()
}

fn used_memory(c: &mut Client) -> u64 {
    c.info_u64("memory", "used_memory")
}

/// Our server and Redis, each with these options and the RDB of a full resync on disk.
fn both_with(options: &[&str]) -> [(&'static str, Server); 2] {
    let args: Vec<&str> = options.iter().copied().chain(["--repl-diskless-sync", "no"]).collect();
    [("redis", Server::start_real(&args)), ("ours", Server::start(&args))]
}

/// A raw connection that asked for PSYNC, read +FULLRESYNC and nothing after, once the master
/// shows it online; the key `k` holds `value`.
fn deaf_replica(server: &Server, c: &mut Client, value: &[u8]) -> Client {
    assert_eq!(c.cmd_bytes(&[b"SET", b"k", value]), b"+OK\r\n");
    let mut replica = server.client();
    assert_eq!(replica.cmd(&["REPLCONF", "listening-port", "9999"]), b"+OK\r\n");
    replica.send_raw(b"PSYNC ? -1\r\n");
    let full = String::from_utf8_lossy(&replica.read_reply()).into_owned();
    assert!(full.starts_with("+FULLRESYNC "), "{full}");
    wait_for("the replica to be online", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "replication"]).contains(",state=online,")
    });
    replica
}

/// Once the replica is gone: the memory comes back to within 4 MB of `baseline` (the backlog's
/// 1 MB stays; the stream kept only for the replica goes, once its task has ended, which a
/// loaded machine can delay), and the log lines of its end.
fn replica_gone(name: &str, server: &Server, c: &mut Client, baseline: u64) -> Vec<String> {
    wait_for("the replica to be dropped", Duration::from_secs(20), || {
        c.cmd_str(&["INFO", "replication"]).contains("connected_slaves:0\r\n")
    });
    let after = std::cell::Cell::new(0);
    crate::common::wait_for_or(
        "the replica's memory to come back",
        Duration::from_secs(30),
        || {
            after.set(used_memory(c));
            after.get() < baseline + 4 * 1024 * 1024
        },
        || format!("{name}: used_memory {baseline} -> {}", after.get()),
    );
    wait_for("the log lines", Duration::from_secs(10), || server.log_text().contains("Connection with replica"));
    let mut lines = log_lines(server, "output buffer limits");
    lines.extend(log_lines(server, "Connection with replica"));
    lines
}

/// A replica that stops reading the stream is disconnected once the unsent stream passes the
/// replica class's hard limit, as the stream grows, logged as Redis logs it, and the master's
/// memory comes back.
#[test]
fn a_replica_that_does_not_read_is_dropped_at_its_output_limit() {
    let mut logs = Vec::new();
    for (name, server) in both_with(&["--client-output-buffer-limit", "replica 1mb 0 0"]) {
        let mut c = server.client();
        let value = vec![b'x'; 100_000];
        let _replica = deaf_replica(&server, &mut c, &value);
        let baseline = used_memory(&mut c);
        // Rewrites of one key: the dataset stays the same size while the stream grows.
        for _ in 0..200 {
            assert_eq!(c.cmd_bytes(&[b"SET", b"k", &value]), b"+OK\r\n");
            if c.cmd_str(&["INFO", "replication"]).contains("connected_slaves:0\r\n") {
                break;
            }
        }
        logs.push(replica_gone(name, &server, &mut c, baseline));
    }
    assert_eq!(logs[1], logs[0]);
    assert!(
        logs[0].len() == 2
            && logs[0][0].contains(" flags=S ")
            && logs[0][0].contains(" cmd=psync ")
            && logs[0][0].contains(" scheduled to be closed ASAP "),
        "{:?}",
        logs[0]
    );
}

/// A replica that fell behind under no limit, then over one lowered by CONFIG SET, is closed by
/// the cron with nothing more written (Redis's clientsCron: "closed", not "scheduled"), and the
/// history the backlog kept only for it is freed then, not at the next write.
#[test]
fn a_replica_over_a_lowered_limit_is_closed_by_the_cron_and_its_stream_freed() {
    let mut logs = Vec::new();
    for (name, server) in both_with(&["--client-output-buffer-limit", "replica 0 0 0"]) {
        let mut c = server.client();
        let value = vec![b'x'; 100_000];
        let _replica = deaf_replica(&server, &mut c, &value);
        let baseline = used_memory(&mut c);
        let start = c.info_u64("replication", "master_repl_offset");
        // 20 MB of stream the replica does not read: more than the sockets' buffers take.
        for _ in 0..200 {
            assert_eq!(c.cmd_bytes(&[b"SET", b"k", &value]), b"+OK\r\n");
        }
        let held = used_memory(&mut c);
        let stream = c.info_u64("replication", "master_repl_offset") - start;
        assert!(held > baseline + 8 * 1024 * 1024, "{name}: used_memory {baseline} -> {held}");
        // What is kept for the replica costs about its bytes, as Redis's replication buffer
        // does (less what the sockets took).
        assert!(
            held - baseline < stream / 10 * 11,
            "{name}: used_memory grew by {} for {stream} bytes of stream",
            held - baseline
        );
        assert!(c.cmd_str(&["INFO", "replication"]).contains("connected_slaves:1\r\n"), "{name}");
        assert_eq!(c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "replica 1mb 0 0"]), b"+OK\r\n");
        logs.push(replica_gone(name, &server, &mut c, baseline));
    }
    assert_eq!(logs[1], logs[0]);
    assert!(logs[0].len() == 2 && logs[0][0].contains(" closed for overcoming"), "{:?}", logs[0]);
}

/// A subscriber that never reads, past the pubsub class's soft limit for longer than its
/// seconds, is closed; the publisher carries on and the memory comes back.
#[test]
fn a_subscriber_over_its_soft_limit_is_dropped_after_its_seconds() {
    for server in [
        Server::start_real(&["--client-output-buffer-limit", "pubsub 0 1mb 1"]),
        Server::start(&["--client-output-buffer-limit", "pubsub 0 1mb 1"]),
    ] {
        let mut c = server.client();
        let baseline = used_memory(&mut c);
        let mut sub = server.client();
        assert_eq!(sub.cmd(&["CLIENT", "SETNAME", "deaf"]), b"+OK\r\n");
        assert!(sub.cmd_str(&["SUBSCRIBE", "ch"]).starts_with("*3\r\n"));
        let message = "m".repeat(100_000);
        // More than the kernel's socket buffers can hold, so the server's own buffer passes 1 MB.
        let started = std::time::Instant::now();
        for _ in 0..200 {
            if c.cmd_str(&["PUBLISH", "ch", &message]) == ":0\r\n" {
                break;
            }
        }
        wait_for("the subscriber to be dropped", Duration::from_secs(20), || {
            !c.cmd_str(&["CLIENT", "LIST"]).contains("name=deaf")
        });
        assert!(started.elapsed() >= Duration::from_secs(1), "closed before the soft limit's second");
        assert_eq!(c.cmd(&["PUBLISH", "ch", "x"]), b":0\r\n");
        let after = used_memory(&mut c);
        assert!(after < baseline + 2 * 1024 * 1024, "used_memory {baseline} -> {after}");
        let log = server.log_text();
        assert!(
            log.lines().any(|l| l.contains(" name=deaf ")
                && l.contains(" flags=P ")
                && l.ends_with("for overcoming of output buffer limits.")),
            "{log}"
        );
    }
}
