//! Blocking commands with several clients: who is served, in what order, with what; timeouts,
//! MULTI, CLIENT UNBLOCK, disconnects. Each scenario runs against our server and Debian's real
//! Redis 7.0 and the transcripts (every reply every client got, in order) must be identical.

use std::time::Duration;

use crate::common::{wait_for, Client, Reply, Server};

/// The transcript of a scenario: labelled replies, compared between the two servers.
struct Transcript {
    port: u16,
    lines: Vec<String>,
}

impl Transcript {
    fn client(&self) -> Client {
        Client::connect(self.port)
    }

    fn record(&mut self, label: &str, reply: Vec<u8>) {
        self.lines.push(format!("{label}: {}", String::from_utf8_lossy(&reply).escape_debug()));
    }

    /// Sends a command without waiting for its reply (it blocks).
    fn send(&self, c: &mut Client, args: &[&str]) {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        c.send_raw(&crate::common::encode(&a));
    }

    fn cmd(&mut self, label: &str, c: &mut Client, args: &[&str]) {
        let r = c.cmd(args);
        self.record(label, r);
    }

    fn read(&mut self, label: &str, c: &mut Client) {
        let r = c.read_reply();
        self.record(label, r);
    }

    /// Waits until `n` clients are blocked (INFO clients), so the order of arrival is known.
    fn await_blocked(&self, n: usize) {
        let mut admin = self.client();
        let want = format!("blocked_clients:{n}\r\n");
        wait_for(&format!("{n} blocked clients"), Duration::from_secs(10), || {
            String::from_utf8_lossy(&admin.cmd(&["INFO", "clients"])).contains(&want)
        });
    }
}

/// Runs the scenario on both servers and compares what the clients saw.
fn differential(scenario: fn(&mut Transcript)) {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let mut a = Transcript { port: ours.port, lines: Vec::new() };
    let mut b = Transcript { port: real.port, lines: Vec::new() };
    scenario(&mut a);
    scenario(&mut b);
    assert_eq!(a.lines, b.lines, "ours (left) and Redis 7.0 (right) differ");
    assert!(!a.lines.is_empty());
}

#[test]
fn a_push_serves_a_waiting_client_and_the_pusher_sees_the_length_before() {
    differential(|t| {
        let mut waiter = t.client();
        let mut pusher = t.client();
        t.send(&mut waiter, &["BLPOP", "list", "0"]);
        t.await_blocked(1);
        t.cmd("push", &mut pusher, &["RPUSH", "list", "a", "b"]);
        t.read("waiter", &mut waiter);
        t.cmd("left", &mut pusher, &["LRANGE", "list", "0", "-1"]);
        t.cmd("stats", &mut pusher, &["INFO", "clients"]);
        let stats = t.lines.pop().unwrap_or_default();
        t.lines.push(stats.split("\\r\\n").filter(|l| l.starts_with("blocked_clients")).collect());
    });
}

#[test]
fn waiters_are_served_first_come_first_served_and_only_as_many_as_there_are_elements() {
    differential(|t| {
        let mut waiters: Vec<Client> = (0..3).map(|_| t.client()).collect();
        for (i, w) in waiters.iter_mut().enumerate() {
            t.send(w, &["BRPOP", "q", "0"]);
            t.await_blocked(i + 1);
        }
        let mut pusher = t.client();
        t.cmd("push", &mut pusher, &["LPUSH", "q", "x", "y"]);
        t.read("first", &mut waiters[0]);
        t.read("second", &mut waiters[1]);
        t.await_blocked(1);
        t.cmd("push2", &mut pusher, &["LPUSH", "q", "z"]);
        t.read("third", &mut waiters[2]);
        t.cmd("empty", &mut pusher, &["EXISTS", "q"]);
    });
}

#[test]
fn the_first_ready_key_among_several_serves() {
    differential(|t| {
        let mut w = t.client();
        let mut p = t.client();
        t.send(&mut w, &["BLPOP", "k1", "k2", "k3", "0"]);
        t.await_blocked(1);
        t.cmd("push", &mut p, &["RPUSH", "k2", "v"]);
        t.read("waiter", &mut w);
        t.send(&mut w, &["BLMPOP", "0", "2", "m1", "m2", "RIGHT", "COUNT", "2"]);
        t.await_blocked(1);
        t.cmd("push", &mut p, &["RPUSH", "m2", "a", "b", "c"]);
        t.read("blmpop", &mut w);
        t.cmd("rest", &mut p, &["LRANGE", "m2", "0", "-1"]);
    });
}

#[test]
fn blmove_chains_to_the_next_waiter() {
    differential(|t| {
        let mut mover = t.client();
        let mut popper = t.client();
        let mut pusher = t.client();
        t.send(&mut mover, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]);
        t.await_blocked(1);
        t.send(&mut popper, &["BLPOP", "dst", "0"]);
        t.await_blocked(2);
        t.cmd("push", &mut pusher, &["LPUSH", "src", "x"]);
        t.read("mover", &mut mover);
        t.read("popper", &mut popper);
        t.cmd("src", &mut pusher, &["EXISTS", "src", "dst"]);
        t.send(&mut mover, &["BRPOPLPUSH", "a", "a", "0"]);
        t.await_blocked(1);
        t.cmd("push", &mut pusher, &["RPUSH", "a", "1", "2"]);
        t.read("rotate", &mut mover);
        t.cmd("a", &mut pusher, &["LRANGE", "a", "0", "-1"]);
    });
}

#[test]
fn timeouts_answer_null_in_both_protocols() {
    differential(|t| {
        let mut c = t.client();
        t.cmd("blpop", &mut c, &["BLPOP", "none", "0.05"]);
        t.cmd("blmove", &mut c, &["BLMOVE", "none", "x", "LEFT", "LEFT", "0.01"]);
        t.cmd("bzpopmin", &mut c, &["BZPOPMIN", "none", "0.01"]);
        t.cmd("hello", &mut c, &["HELLO", "3"]);
        let hello = t.lines.pop();
        assert!(hello.is_some());
        t.cmd("blpop3", &mut c, &["BLPOP", "none", "0.01"]);
        t.cmd("blmpop3", &mut c, &["BLMPOP", "0.01", "1", "none", "LEFT"]);
        t.cmd("brpoplpush3", &mut c, &["BRPOPLPUSH", "none", "x", "0.01"]);
        t.cmd("calls", &mut c, &["INFO", "commandstats"]);
        let stats = t.lines.pop().unwrap_or_default();
        let blpop: String = stats.split("\\r\\n").filter(|l| l.starts_with("cmdstat_blpop:")).collect();
        t.lines.push(blpop.split(",usec=").next().unwrap_or_default().to_string());
    });
}

#[test]
fn timeout_arguments_are_checked_before_blocking() {
    differential(|t| {
        let mut c = t.client();
        // Not "0x10": strtold reads it as 16, a real 16-second wait in both servers.
        for timeout in ["-1", "abc", "nan", "1e400", "-inf", ""] {
            t.cmd(timeout, &mut c, &["BLPOP", "k", timeout]);
            t.cmd(timeout, &mut c, &["BZPOPMAX", "k", timeout]);
        }
        t.cmd("numkeys", &mut c, &["BLMPOP", "0", "0", "k", "LEFT"]);
        t.cmd("wrongtype", &mut c, &["SET", "s", "x"]);
        t.cmd("wrongtype", &mut c, &["BLPOP", "s", "0"]);
        t.cmd("wrongtype", &mut c, &["BZPOPMIN", "s", "0"]);
    });
}

#[test]
fn inside_multi_blocking_commands_do_not_wait() {
    differential(|t| {
        let mut c = t.client();
        t.cmd("multi", &mut c, &["MULTI"]);
        t.cmd("q", &mut c, &["BLPOP", "empty", "0"]);
        t.cmd("q", &mut c, &["BLMOVE", "empty", "x", "LEFT", "LEFT", "0"]);
        t.cmd("q", &mut c, &["BZPOPMIN", "empty", "0"]);
        t.cmd("q", &mut c, &["RPUSH", "full", "1"]);
        t.cmd("q", &mut c, &["BLPOP", "full", "0"]);
        t.cmd("exec", &mut c, &["EXEC"]);
    });
}

#[test]
fn waiters_are_served_after_a_transaction_not_during_it() {
    differential(|t| {
        let mut w = t.client();
        let mut p = t.client();
        t.send(&mut w, &["BLPOP", "k", "0"]);
        t.await_blocked(1);
        t.cmd("multi", &mut p, &["MULTI"]);
        t.cmd("q", &mut p, &["RPUSH", "k", "a"]);
        t.cmd("q", &mut p, &["LLEN", "k"]);
        t.cmd("q", &mut p, &["RPUSH", "k", "b"]);
        t.cmd("exec", &mut p, &["EXEC"]);
        t.read("waiter", &mut w);
        t.cmd("left", &mut p, &["LRANGE", "k", "0", "-1"]);
    });
}

#[test]
fn a_key_of_another_type_does_not_serve_and_the_client_keeps_waiting() {
    differential(|t| {
        let mut w = t.client();
        let mut p = t.client();
        t.send(&mut w, &["BLPOP", "k", "0"]);
        t.await_blocked(1);
        t.cmd("set", &mut p, &["SET", "k", "string"]);
        t.cmd("del", &mut p, &["DEL", "k"]);
        t.await_blocked(1);
        t.cmd("zadd", &mut p, &["ZADD", "k", "1", "m"]);
        t.await_blocked(1);
        t.cmd("del", &mut p, &["DEL", "k"]);
        t.cmd("push", &mut p, &["RPUSH", "k", "finally"]);
        t.read("waiter", &mut w);
    });
}

#[test]
fn sorted_set_waiters_get_the_lowest_or_highest_member() {
    differential(|t| {
        let mut min = t.client();
        let mut max = t.client();
        let mut mpop = t.client();
        let mut p = t.client();
        t.send(&mut min, &["BZPOPMIN", "z", "0"]);
        t.await_blocked(1);
        t.send(&mut max, &["BZPOPMAX", "z", "0"]);
        t.await_blocked(2);
        t.send(&mut mpop, &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"]);
        t.await_blocked(3);
        t.cmd("zadd", &mut p, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4.5", "d"]);
        t.read("min", &mut min);
        t.read("max", &mut max);
        t.read("mpop", &mut mpop);
        t.cmd("left", &mut p, &["EXISTS", "z"]);
        t.cmd("hello", &mut min, &["HELLO", "3"]);
        t.lines.pop();
        t.send(&mut min, &["BZPOPMIN", "z", "0"]);
        t.await_blocked(1);
        t.cmd("zadd", &mut p, &["ZADD", "z", "7", "seven"]);
        t.read("resp3", &mut min);
    });
}

#[test]
fn client_unblock_ends_the_wait_with_a_timeout_or_an_error() {
    differential(|t| {
        let mut w = t.client();
        let mut admin = t.client();
        let id = Reply::parse(&w.cmd(&["CLIENT", "ID"])).int().to_string();
        t.send(&mut w, &["BLPOP", "k", "0"]);
        t.await_blocked(1);
        t.cmd("bad reason", &mut admin, &["CLIENT", "UNBLOCK", &id, "MAYBE"]);
        t.cmd("unblock", &mut admin, &["CLIENT", "UNBLOCK", &id]);
        t.read("waiter", &mut w);
        t.cmd("again", &mut admin, &["CLIENT", "UNBLOCK", &id]);
        t.send(&mut w, &["BLMOVE", "k", "d", "RIGHT", "LEFT", "0"]);
        t.await_blocked(1);
        t.cmd("unblock error", &mut admin, &["CLIENT", "UNBLOCK", &id, "ERROR"]);
        t.read("waiter", &mut w);
        t.cmd("ping", &mut w, &["PING"]);
    });
}

#[test]
fn commands_pipelined_behind_a_blocked_one_run_after_it() {
    differential(|t| {
        let mut w = t.client();
        let mut p = t.client();
        w.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n");
        t.await_blocked(1);
        t.cmd("push", &mut p, &["RPUSH", "k", "a", "b"]);
        t.read("blpop", &mut w);
        t.read("llen", &mut w);
        t.read("ping", &mut w);
    });
}

/// Commands that arrive while the client waits run once the wait ends: served by a push, or by
/// the timeout (they used to sit in the query buffer until more input came).
#[test]
fn commands_sent_while_blocked_run_after_the_wait() {
    differential(|t| {
        let mut w = t.client();
        let mut p = t.client();
        t.send(&mut w, &["BLPOP", "k", "0"]);
        t.await_blocked(1);
        t.send(&mut w, &["LLEN", "k"]);
        t.send(&mut w, &["PING"]);
        t.cmd("push", &mut p, &["RPUSH", "k", "a", "b"]);
        t.read("blpop", &mut w);
        t.read("llen", &mut w);
        t.read("ping", &mut w);
        t.send(&mut w, &["BLPOP", "nolist", "0.3"]);
        t.await_blocked(1);
        t.send(&mut w, &["PING", "after the timeout"]);
        t.read("blpop timed out", &mut w);
        t.read("ping", &mut w);
    });
}

#[test]
fn a_waiting_client_that_disconnects_is_forgotten() {
    let server = Server::start(&[]);
    let mut admin = Client::connect(server.port);
    {
        let mut w = Client::connect(server.port);
        w.send_raw(&crate::common::encode(&[b"BLPOP", b"k", b"0"]));
        wait_for("client blocked", Duration::from_secs(10), || {
            String::from_utf8_lossy(&admin.cmd(&["INFO", "clients"])).contains("blocked_clients:1\r\n")
        });
        let list = admin.cmd_str(&["CLIENT", "LIST"]);
        assert!(list.lines().any(|l| l.contains("flags=b ") && l.contains("cmd=blpop")), "{list}");
    }
    wait_for("client gone", Duration::from_secs(10), || {
        String::from_utf8_lossy(&admin.cmd(&["INFO", "clients"])).contains("blocked_clients:0\r\n")
    });
    assert_eq!(admin.cmd(&["RPUSH", "k", "kept"]), b":1\r\n");
    assert_eq!(admin.cmd(&["LRANGE", "k", "0", "-1"]), b"*1\r\n$4\r\nkept\r\n");
}

#[test]
fn a_killed_waiting_client_is_closed_and_forgotten() {
    let server = Server::start(&[]);
    let mut admin = Client::connect(server.port);
    let mut w = Client::connect(server.port);
    let id = Reply::parse(&w.cmd(&["CLIENT", "ID"])).int().to_string();
    w.send_raw(&crate::common::encode(&[b"BZPOPMAX", b"z", b"0"]));
    wait_for("client blocked", Duration::from_secs(10), || {
        String::from_utf8_lossy(&admin.cmd(&["INFO", "clients"])).contains("blocked_clients:1\r\n")
    });
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &id]), b":1\r\n");
    assert!(w.closed());
    wait_for("client gone", Duration::from_secs(10), || {
        String::from_utf8_lossy(&admin.cmd(&["INFO", "clients"])).contains("blocked_clients:0\r\n")
    });
    assert_eq!(admin.cmd(&["ZADD", "z", "1", "m"]), b":1\r\n");
    assert_eq!(admin.cmd(&["ZCARD", "z"]), b":1\r\n");
}

#[test]
fn swapdb_and_move_bring_keys_to_waiting_clients() {
    differential(|t| {
        let mut w = t.client();
        let mut p = t.client();
        t.send(&mut w, &["BLPOP", "k", "0"]);
        t.await_blocked(1);
        t.cmd("select", &mut p, &["SELECT", "1"]);
        t.cmd("push", &mut p, &["RPUSH", "k", "from-db1", "second"]);
        t.cmd("swap", &mut p, &["SWAPDB", "0", "1"]);
        t.read("waiter", &mut w);
        t.send(&mut w, &["BLPOP", "m", "0"]);
        t.await_blocked(1);
        t.cmd("push", &mut p, &["RPUSH", "m", "moved"]);
        t.cmd("move", &mut p, &["MOVE", "m", "0"]);
        t.read("waiter", &mut w);
    });
}

#[test]
fn the_idle_timeout_does_not_close_a_waiting_client() {
    let server = Server::start(&["--timeout", "1"]);
    let mut w = Client::connect(server.port);
    w.send_raw(&crate::common::encode(&[b"BLPOP", b"k", b"0"]));
    let mut admin = Client::connect(server.port);
    wait_for("client blocked", Duration::from_secs(10), || {
        String::from_utf8_lossy(&admin.cmd(&["INFO", "clients"])).contains("blocked_clients:1\r\n")
    });
    // Well past the idle timeout (the cron checks every 100 ms), it still waits; then it is served.
    let until = std::time::Instant::now() + Duration::from_millis(2500);
    while std::time::Instant::now() < until {
        assert!(String::from_utf8_lossy(&admin.cmd(&["INFO", "clients"])).contains("blocked_clients:1\r\n"));
        std::thread::sleep(Duration::from_millis(250));
    }
    let mut pusher = Client::connect(server.port);
    assert_eq!(pusher.cmd(&["RPUSH", "k", "v"]), b":1\r\n");
    assert_eq!(w.read_reply(), b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
}
