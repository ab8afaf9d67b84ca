//! Client eviction (maxmemory-clients) side by side with Debian's real Redis 7.0: who is evicted
//! for a query buffer or an output buffer over the limit, CLIENT NO-EVICT, the percentage of
//! maxmemory, CONFIG SET lowering the limit (biggest clients first, at once), INFO
//! evicted_clients and its reset, the log line, DEBUG CLIENT-EVICTION. Each scenario runs on both
//! servers and what it observed must be the same.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{wait_for, Client, Server};

const OPTIONS: &[&str] = &["--enable-debug-command", "yes"];
const WITHIN: Duration = Duration::from_secs(30);

fn both() -> [(&'static str, Server); 2] {
    [("ours", Server::start(OPTIONS)), ("real", Server::start_real(OPTIONS))]
}

fn text(reply: Vec<u8>) -> String {
    String::from_utf8_lossy(&reply).into_owned()
}

fn ok(c: &mut Client, args: &[&str]) {
    let r = text(c.cmd(args));
    assert_eq!(r, "+OK\r\n", "{args:?}");
}

fn evicted_clients(c: &mut Client) -> String {
    let info = text(c.cmd(&["INFO", "stats"]));
    let v = info.lines().find_map(|l| l.strip_prefix("evicted_clients:"));
    v.unwrap_or_else(|| panic!("no evicted_clients in {info}")).to_string()
}

/// The CLIENT LIST line of the client named `name`, if it is connected.
fn line_of(c: &mut Client, name: &str) -> Option<String> {
    let list = text(c.cmd(&["CLIENT", "LIST"]));
    let tag = format!(" name={name} ");
    list.lines().find(|l| l.contains(&tag)).map(str::to_string)
}

fn field(line: &str, f: &str) -> i64 {
    let tag = format!("{f}=");
    let v = line.split_whitespace().find_map(|kv| kv.strip_prefix(tag.as_str()));
    v.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {f} in {line}"))
}

/// A client named `name` that sends the start of a command whose one argument is `size` bytes,
/// and never its end: the bytes wait in its query buffer.
fn fill_query_buffer(server: &Server, name: &str, size: usize) -> Client {
    let mut c = server.client();
    ok(&mut c, &["CLIENT", "SETNAME", name]);
    let mut w = c.writer_clone();
    let _ = w.set_write_timeout(Some(Duration::from_secs(10)));
    let mut bytes = format!("*2\r\n${size}\r\n").into_bytes();
    bytes.resize(bytes.len() + size, b'v');
    // The server may evict the client before it has read it all: the write then fails.
    let _ = w.write_all(&bytes);
    c
}

fn gone(observer: &mut Client, name: &str) -> bool {
    line_of(observer, name).is_none()
}

/// A query buffer past maxmemory-clients gets its client evicted, with Redis's log line and
/// evicted_clients; a smaller one stays; CONFIG RESETSTAT resets the count.
#[test]
fn a_client_whose_query_buffer_passes_the_limit_is_evicted() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "3000000"]);
        let _small = fill_query_buffer(&server, "small", 100_000);
        wait_for("the small client's buffer to fill", WITHIN, || {
            line_of(&mut control, "small").is_some_and(|l| field(&l, "qbuf") >= 100_000)
        });
        let mut big = fill_query_buffer(&server, "big", 3_000_000);
        wait_for("the big client's eviction", WITHIN, || gone(&mut control, "big"));
        assert!(big.closed(), "{who}: the evicted client's connection is closed");
        let log = server.log_text();
        let logged = log.lines().any(|l| l.contains("* Evicting client: id=") && l.contains(" name=big "));
        let small_stays = line_of(&mut control, "small").is_some();
        let count = evicted_clients(&mut control);
        ok(&mut control, &["CONFIG", "RESETSTAT"]);
        seen.push((who, (logged, small_stays, count, evicted_clients(&mut control))));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!(seen[1].1, (true, true, "1".to_string(), "0".to_string()));
}

/// Replies a client does not read pile up in its output buffer until it is evicted, before its
/// usage reaches the limit by much.
#[test]
fn a_client_that_does_not_read_its_replies_is_evicted() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "3000000"]);
        assert_eq!(text(control.cmd(&["SETRANGE", "k", "200000", "v"])), ":200001\r\n");
        let mut reader = server.client();
        ok(&mut reader, &["CLIENT", "SETNAME", "reader"]);
        let mut w: TcpStream = reader.writer_clone();
        let _ = w.set_write_timeout(Some(Duration::from_secs(5)));
        let deadline = Instant::now() + WITHIN;
        let mut peak = 0;
        while let Some(line) = line_of(&mut control, "reader") {
            peak = peak.max(field(&line, "tot-mem"));
            assert!(Instant::now() < deadline, "{who}: the reader was not evicted ({line})");
            if w.write_all(b"GET k\r\nGET k\r\nGET k\r\nGET k\r\n").is_err() {
                wait_for("the reader's eviction", WITHIN, || gone(&mut control, "reader"));
                break;
            }
        }
        assert!(peak < 3_000_000, "{who}: the reader was seen using {peak} bytes");
        seen.push((who, evicted_clients(&mut control)));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!(seen[1].1, "1");
}

/// CLIENT NO-EVICT ON keeps a client over the limit connected (flag `e`); a client the same size
/// without it is evicted in its place.
///
/// Both clients are named and filled before the limit is set: a client that connects while the
/// others are over the limit may be evicted before its first command runs (Redis's clientsCron
/// can put it in a bucket, and the next evictClients frees it), in either server.
#[test]
fn no_evict_protects_a_client_over_the_limit() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CLIENT", "NO-EVICT", "ON"]);
        let kept = fill_query_buffer_as(&server, "kept", 1_000_001, true);
        let unprotected = fill_query_buffer_as(&server, "unprotected", 1_000_001, false);
        let mut line = String::new();
        for name in ["unprotected", "kept"] {
            wait_for("a client's buffer to fill", WITHIN, || {
                line = line_of(&mut control, name).unwrap_or_default();
                !line.is_empty() && field(&line, "tot-mem") > 1_000_000
            });
        }
        let flags = line.split_whitespace().find_map(|kv| kv.strip_prefix("flags=")).unwrap_or_default().to_string();
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "1000000"]);
        wait_for("the unprotected client's eviction", WITHIN, || gone(&mut control, "unprotected"));
        let log = server.log_text();
        let logged = log.lines().any(|l| l.contains("* Evicting client: id=") && l.contains(" name=unprotected "));
        seen.push((who, (flags, line_of(&mut control, "kept").is_some(), logged, evicted_clients(&mut control))));
        drop((kept, unprotected));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!(seen[1].1, ("e".to_string(), true, true, "1".to_string()));
}

/// `fill_query_buffer`, with CLIENT NO-EVICT set first as asked.
fn fill_query_buffer_as(server: &Server, name: &str, size: usize, no_evict: bool) -> Client {
    if !no_evict {
        return fill_query_buffer(server, name, size);
    }
    let mut c = server.client();
    ok(&mut c, &["CLIENT", "NO-EVICT", "ON"]);
    ok(&mut c, &["CLIENT", "SETNAME", name]);
    let mut bytes = format!("*2\r\n${size}\r\n").into_bytes();
    bytes.resize(bytes.len() + size, b'v');
    c.send_raw(&bytes);
    c
}

/// maxmemory-clients as a percentage of maxmemory: CONFIG GET shows it as set, a client under
/// it stays, one over it is evicted.
#[test]
fn the_limit_can_be_a_percentage_of_maxmemory() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CLIENT", "NO-EVICT", "ON"]);
        ok(&mut control, &["CONFIG", "SET", "maxmemory", "6mb"]);
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "7%"]);
        let shown = text(control.cmd(&["CONFIG", "GET", "maxmemory-clients"]));
        // 7% of 6 MB.
        let limit = 6 * 1024 * 1024 * 7 / 100;
        let _half = fill_query_buffer(&server, "half", limit / 2);
        let mut half_mem = 0;
        wait_for("the half client's buffer to fill", WITHIN, || {
            half_mem = line_of(&mut control, "half").map_or(0, |l| field(&l, "tot-mem"));
            half_mem >= (limit / 2) as i64
        });
        let _full = fill_query_buffer(&server, "full", limit);
        wait_for("the full client's eviction", WITHIN, || gone(&mut control, "full"));
        seen.push((who, (shown, half_mem < limit as i64, line_of(&mut control, "half").is_some())));
        ok(&mut control, &["CONFIG", "SET", "maxmemory", "0"]);
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert!((seen[1].1).1 && (seen[1].1).2, "{seen:?}");
}

/// Lowering maxmemory-clients evicts at once, the biggest clients first and only as many as it
/// takes; DEBUG CLIENT-EVICTION shows the buckets, and refuses while the limit is 0.
#[test]
fn lowering_the_limit_evicts_the_biggest_clients_at_once() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        let disabled = text(control.cmd(&["DEBUG", "CLIENT-EVICTION"]));
        ok(&mut control, &["CLIENT", "SETNAME", "control"]);
        ok(&mut control, &["CLIENT", "NO-EVICT", "ON"]);
        ok(&mut control, &["DEBUG", "REPLYBUFFER", "RESIZING", "0"]);
        let sizes = [("small", 128 * 1024), ("medium", 1024 * 1024), ("large", 3 * 1024 * 1024)];
        let mut held = Vec::new();
        let mut mems = Vec::new();
        for (name, size) in sizes {
            held.push(fill_query_buffer(&server, name, size));
            // All of it read (qbuf), then what the client uses with it.
            let mut mem = 0;
            wait_for("a client's buffer to fill", WITHIN, || {
                let line = line_of(&mut control, name).unwrap_or_default();
                mem = if line.is_empty() { 0 } else { field(&line, "tot-mem") };
                !line.is_empty() && field(&line, "qbuf") >= size as i64
            });
            mems.push(mem);
        }
        let control_mem = field(&line_of(&mut control, "control").unwrap_or_default(), "tot-mem");
        let mut steps = Vec::new();
        // Room for all but the largest, then for the small one only.
        for keep in [2, 1] {
            let limit = mems[..keep].iter().sum::<i64>() + control_mem;
            ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", &limit.to_string()]);
            let present: Vec<bool> = sizes.iter().map(|(n, _)| line_of(&mut control, n).is_some()).collect();
            steps.push(present);
        }
        let buckets = text(control.cmd(&["DEBUG", "CLIENT-EVICTION"]));
        // Each bucket's range and client count (the sums depend on each server's structures).
        let bucket_lines: Vec<String> = buckets
            .lines()
            .filter(|l| l.contains("bucket "))
            .map(|l| {
                let range = l.split("tot-mem:").next().unwrap_or_default();
                let count = l.rsplit("clients: ").next().unwrap_or_default();
                format!("{range}{count}")
            })
            .collect();
        let count = evicted_clients(&mut control);
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "0"]);
        seen.push((who, (disabled, steps, bucket_lines, count)));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!((seen[1].1).1, vec![vec![true, true, false], vec![true, false, false]]);
}

/// A client's WATCHed keys and subscriptions count towards its usage as in Redis: one that keeps
/// adding them is evicted once it passes the limit.
#[test]
fn watched_keys_and_subscriptions_count_towards_the_limit() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CLIENT", "NO-EVICT", "ON"]);
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "200000"]);
        let mut outcomes = Vec::new();
        for command in ["WATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"] {
            let mut c = server.client();
            let mut added = 0;
            // 100 at a time, until the connection is closed (no more than the limit allows).
            let evicted = loop {
                let batch: Vec<u8> = (added..added + 100)
                    .flat_map(|i| crate::common::encode(&[command.as_bytes(), format!("k{i}").as_bytes()]))
                    .collect();
                c.send_raw(&batch);
                if (0..100).any(|_| c.try_read_reply().is_err()) {
                    break true;
                }
                added += 100;
                if added > 200_000 {
                    break false;
                }
            };
            outcomes.push((command, evicted));
        }
        seen.push((who, (outcomes, evicted_clients(&mut control))));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!((seen[1].1).1, "4");
}

/// maxmemory-clients from the command line (or a config file) applies from the start.
#[test]
fn the_limit_set_at_start_up_applies() {
    let mut seen = Vec::new();
    for (who, server) in [
        ("ours", Server::start(&["--maxmemory-clients", "1mb"])),
        ("real", Server::start_real(&["--maxmemory-clients", "1mb"])),
    ] {
        let mut control = server.client();
        let shown = text(control.cmd(&["CONFIG", "GET", "maxmemory-clients"]));
        let _big = fill_query_buffer(&server, "big", 1024 * 1024 + 1);
        wait_for("the big client's eviction", WITHIN, || gone(&mut control, "big"));
        seen.push((who, (shown, evicted_clients(&mut control))));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!((seen[1].1).1, "1");
}

/// Clients closed for their output buffer limit go before anyone is evicted for what they held:
/// two clients pass their limit together (the server stopped while they send), and the client
/// whose query buffer would be next in line stays.
#[test]
fn clients_over_their_output_limit_are_not_a_reason_to_evict_others() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CLIENT", "NO-EVICT", "ON"]);
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "10mb"]);
        ok(&mut control, &["CONFIG", "SET", "client-output-buffer-limit", "normal 3mb 0 0"]);
        let value_len = 4 * 1024 * 1024;
        let reply = text(control.cmd(&["SETRANGE", "k", &(value_len - 1).to_string(), "v"]));
        assert_eq!(reply, format!(":{value_len}\r\n"));
        let _qbuf = fill_query_buffer(&server, "qbuf", 6 * 1024 * 1024);
        wait_for("the query buffer to fill", WITHIN, || {
            line_of(&mut control, "qbuf").is_some_and(|l| field(&l, "qbuf") >= 6 * 1024 * 1024)
        });
        let mut readers: Vec<Client> = (1..=2).map(|_| server.client()).collect();
        for (i, r) in readers.iter_mut().enumerate() {
            ok(r, &["CLIENT", "SETNAME", &format!("obuf{i}")]);
        }
        crate::common::send_signal(server.pid(), libc::SIGSTOP);
        for r in &mut readers {
            r.send_raw(&crate::common::encode(&[b"GET", b"k"]));
        }
        crate::common::send_signal(server.pid(), libc::SIGCONT);
        wait_for("the readers to be closed", WITHIN, || gone(&mut control, "obuf0") && gone(&mut control, "obuf1"));
        let log = server.log_text();
        let closed = log.lines().filter(|l| l.contains("closed ASAP for overcoming of output buffer limits")).count();
        seen.push((who, (line_of(&mut control, "qbuf").is_some(), evicted_clients(&mut control), closed)));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!(seen[1].1, (true, "0".to_string(), 2));
}

/// A subscriber that does not read the messages published to it is evicted once they pass the
/// limit, though it sends nothing itself: its usage is measured as each message is queued.
#[test]
fn a_subscriber_that_does_not_read_is_evicted() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CLIENT", "NO-EVICT", "ON"]);
        ok(&mut control, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0"]);
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "1mb"]);
        let mut sub = server.client();
        ok(&mut sub, &["CLIENT", "SETNAME", "sub"]);
        assert!(text(sub.cmd(&["SUBSCRIBE", "ch"])).contains("subscribe"));
        let message = "m".repeat(100_000);
        let deadline = Instant::now() + WITHIN;
        while !gone(&mut control, "sub") {
            assert!(Instant::now() < deadline, "{who}: the subscriber was not evicted");
            control.cmd(&["PUBLISH", "ch", &message]);
        }
        let log = server.log_text();
        let logged = log.lines().any(|l| l.contains("* Evicting client: id=") && l.contains(" name=sub "));
        seen.push((who, (logged, evicted_clients(&mut control))));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    assert_eq!(seen[1].1, (true, "1".to_string()));
}

/// Commands queued in MULTI count towards the limit: a transaction that queues less than it
/// allows runs, one that queues more gets its client evicted before EXEC. (Where exactly it is
/// cut depends on how each server sizes the query buffer of a big argument: this one reserves
/// twice a big argument's room when its buffer is already that big, Redis exactly that room.
/// The arguments here are under Redis's big-argument size.)
#[test]
fn a_transaction_queueing_past_the_limit_is_evicted() {
    let mut seen = Vec::new();
    for (who, server) in both() {
        let mut control = server.client();
        ok(&mut control, &["CONFIG", "SET", "maxmemory-clients", "1000000"]);
        let value = "v".repeat(20_000);
        let mut c = server.client();
        let mut outcome = Vec::new();
        for n in [10, 100] {
            outcome.push(text(c.cmd(&["MULTI"])));
            let queued = (0..n).all(|_| c.try_read_reply_after(&["SET", "k", &value]).is_some());
            outcome.push(match queued {
                true => text(c.cmd(&["EXEC"])),
                false => "closed".to_string(),
            });
            if !queued {
                break;
            }
        }
        seen.push((who, (outcome, evicted_clients(&mut control))));
    }
    assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
    let ran = format!("*10\r\n{}", "+OK\r\n".repeat(10));
    assert_eq!((seen[1].1).0, vec!["+OK\r\n".to_string(), ran, "+OK\r\n".to_string(), "closed".to_string()]);
    assert_eq!((seen[1].1).1, "1");
}

trait TryCmd {
    /// The reply to a command, or None once the connection is closed.
    fn try_read_reply_after(&mut self, args: &[&str]) -> Option<Vec<u8>>;
}

impl TryCmd for Client {
    fn try_read_reply_after(&mut self, args: &[&str]) -> Option<Vec<u8>> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send_raw(&crate::common::encode(&a));
        self.try_read_reply().ok()
    }
}
