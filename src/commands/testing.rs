//! An in-process harness for the command families' unit tests: a `Server` built from config
//! text, clients that run command lines through `commands::process` the way a connection runs
//! them (blocking, pub/sub pushes and reply modes included), and a clock the test moves.
//!
//! Nothing here opens a socket, starts the cron or touches the disk: the config is parsed without
//! applying `dir` (the process's working directory is shared by the tests running in parallel),
//! so commands that write files (SAVE, BGSAVE, BGREWRITEAOF, CONFIG REWRITE) belong to the
//! process-level tests.
//!
//! ```ignore
//! let mut h = Harness::new();
//! assert_eq!(h.resp(&["SET", "k", "v"]), "+OK\r\n");
//! h.advance(1500);
//! let mut other = h.client();
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::MutexGuard;
use tokio::sync::{mpsc, Notify};

use super::{Ctx, ReplyMode, Session};
use crate::protocol::Reply;
use crate::server::blocking::Parked;
use crate::server::state::{ClientId, ClientInfo, ClientKind, Peer, Push, State};
use crate::server::Server;
use crate::util::time::test_clock;

/// The deadlines (unix ms, 0 for never) of the harness's clients that are parked, so that moving
/// the clock ends their waits as a connection's timer would.
type Deadlines = Rc<RefCell<HashMap<ClientId, u64>>>;

/// A server and its first client; `Deref`s to that client, so `h.run(...)` runs as it.
pub struct Harness {
    server: Arc<Server>,
    deadlines: Deadlines,
    main: Client,
}

impl Harness {
    /// A server with the default config.
    pub fn new() -> Harness {
        Harness::with_config("")
    }

    /// A server configured by `text` (redis.conf syntax). Panics on a config start-up would refuse.
    pub fn with_config(text: &str) -> Harness {
        // The clock stands still unless the test moves it, so TTLs and timeouts are exact.
        test_clock::freeze();
        let config = match crate::config::Config::validate(text) {
            Ok(c) => c,
            Err(e) => panic!("bad harness config: {e}"),
        };
        let server = match Server::new(config, super::DISPATCH) {
            Ok(s) => s,
            Err(e) => panic!("Server::new: {e}"),
        };
        super::refresh_config(&mut server.lock());
        let deadlines = Deadlines::default();
        let main = Client::connect(&server, &deadlines);
        Harness { server, deadlines, main }
    }

    /// Another client of the same server, with its own session.
    pub fn client(&self) -> Client {
        Client::connect(&self.server, &self.deadlines)
    }

    /// The shared state, locked: for checks no command shows.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.server.lock()
    }

    /// Moves this test's clock forward; clients whose blocking wait reaches its deadline time
    /// out, as their connection's timer would make them.
    pub fn advance(&self, ms: u64) {
        test_clock::advance(ms);
        let now = crate::util::time::unix_ms();
        let due: Vec<ClientId> =
            self.deadlines.borrow().iter().filter(|(_, &at)| at != 0 && at <= now).map(|(id, _)| *id).collect();
        let mut st = self.server.lock();
        for id in due {
            self.deadlines.borrow_mut().remove(&id);
            crate::server::blocking::end_wait(&self.server, &mut st, id, None);
        }
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        test_clock::reset();
    }
}

impl std::ops::Deref for Harness {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.main
    }
}

impl std::ops::DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.main
    }
}

/// One client: what a connection task holds (its session, its push channel, its output).
pub struct Client {
    server: Arc<Server>,
    id: ClientId,
    /// None while the client is parked: its session waits in the blocking core.
    session: Option<Session>,
    /// The protocol of a parked client, for its reply.
    parked_resp: u8,
    rx: mpsc::UnboundedReceiver<Push>,
    pending: Arc<AtomicUsize>,
    deadlines: Deadlines,
    /// The bytes the connection would have written for the last command.
    out: Vec<u8>,
}

impl Client {
    fn connect(server: &Arc<Server>, deadlines: &Deadlines) -> Client {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let mut st = server.lock();
        st.stats.total_connections += 1;
        let id = st.next_client_id;
        st.next_client_id += 1;
        let addr = format!("127.0.0.1:{}", 40000 + id);
        let peer = Peer { addr: addr.clone(), laddr: "127.0.0.1:6379".into(), fd: 7 + id as i32, is_unix: false };
        let info = ClientInfo::new(id, peer, ClientKind::Normal, tx, pending.clone(), Arc::default());
        st.clients.insert(id, info);
        let mut session = Session::new(id, addr);
        session.authenticated = !st.acl.auth_required();
        Client {
            server: server.clone(),
            id,
            session: Some(session),
            parked_resp: 2,
            rx,
            pending,
            deadlines: deadlines.clone(),
            out: Vec::new(),
        }
    }

    pub fn id(&self) -> ClientId {
        self.id
    }

    /// The client's session. Panics while it is blocked (the blocking core holds it then).
    pub fn session(&mut self) -> &mut Session {
        match self.session.as_mut() {
            Some(s) => s,
            None => panic!("client {} is blocked: its session is parked", self.id),
        }
    }

    /// Runs one command line as the connection would, and returns its reply. A command that
    /// blocks returns `Reply::NoReply` and leaves the client blocked: see `blocked_reply`.
    pub fn run<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_ref())).collect();
        self.out.clear();
        let Some(mut session) = self.session.take() else {
            panic!("client {} is blocked: it cannot run {:?}", self.id, args);
        };
        let server = self.server.clone();
        let mut guard = server.lock();
        let st: &mut State = &mut guard;
        let now_ms = crate::util::time::unix_ms();
        if st.pause.is_some_and(|p| p.until_ms <= now_ms) {
            crate::server::postpone::end_pause(st);
        }
        let mut ctx =
            Ctx { server: &server, state: st, session: &mut session, now_ms, clock: std::time::Instant::now() };
        let reply = super::process(&mut ctx, &args);
        if session.postponed.is_some() {
            panic!("{:?} was held back by a pause: the harness does not run paused clients", args);
        }
        if let Some(req) = session.block.take() {
            self.deadlines.borrow_mut().insert(self.id, req.deadline_ms);
            self.parked_resp = session.resp;
            // The session goes with the parked command, as a connection's does.
            st.blocking.park(self.id, Parked::new(session, args, req, Arc::new(Notify::new())), false);
            crate::server::propagation::flush_deferred(st);
            return Reply::NoReply;
        }
        if session.subscriptions() > 0 || session.monitor || session.tracking {
            while let Ok(p) = self.rx.try_recv() {
                encode_push(&p, session.resp, &mut self.out, &self.pending);
            }
        }
        session.encode_reply(&reply, &mut self.out);
        let mut mine = Vec::new();
        crate::server::tracking::broadcast(st, Some((self.id, &mut mine)));
        mine.iter().for_each(|r| r.encode(session.resp, &mut self.out));
        crate::server::propagation::flush_deferred(st);
        if std::mem::take(&mut session.repl.unflushed_write) {
            session.repl.woff = st.repl.master_repl_offset;
        }
        self.session = Some(session);
        reply
    }

    /// Runs a command line and returns the bytes the connection writes for it, in the client's
    /// protocol (RESP2 until HELLO 3), reply modes and queued pushes included.
    pub fn resp<A: AsRef<[u8]>>(&mut self, args: &[A]) -> String {
        self.run(args);
        String::from_utf8_lossy(&self.out).into_owned()
    }

    /// Runs each command line (arguments split on single spaces) and asserts the bytes written
    /// for it, naming the line that differs. The expected bytes are Redis 7.0.15's.
    #[track_caller]
    pub fn check(&mut self, script: &[(&str, &str)]) {
        for (line, want) in script {
            let args: Vec<&str> = line.split(' ').collect();
            let got = self.resp(&args);
            assert_eq!(got, *want, "reply to `{line}`");
        }
    }

    /// The bytes written for the last command, as `resp` returns them.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    pub fn is_blocked(&self) -> bool {
        self.session.is_none()
    }

    /// The reply of a blocked client whose wait ended (served, timed out, unblocked), which puts
    /// it back to running commands; None while it still waits.
    pub fn blocked_reply(&mut self) -> Option<Reply> {
        if self.session.is_some() {
            panic!("client {} is not blocked", self.id);
        }
        let (session, reply) = self.server.lock().blocking.take_finished(self.id)?;
        self.deadlines.borrow_mut().remove(&self.id);
        self.session = Some(session);
        Some(reply)
    }

    /// `blocked_reply` as the bytes the connection writes for it, in the client's protocol.
    pub fn blocked_resp(&mut self) -> Option<String> {
        let reply = self.blocked_reply()?;
        let session = self.session();
        let mut out = Vec::new();
        if session.reply_mode != ReplyMode::Off {
            reply.encode(session.resp, &mut out);
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// What other clients queued to this one (pub/sub messages, MONITOR lines), in order.
    pub fn pushes(&mut self) -> Vec<Reply> {
        let resp = self.protocol();
        let mut out = Vec::new();
        while let Ok(p) = self.rx.try_recv() {
            // Taken off the queue as the connection would write it, for the output limits.
            encode_push(&p, resp, &mut Vec::new(), &self.pending);
            let Push::Reply(r) = p;
            out.push((*r).clone());
        }
        out
    }

    /// The client's protocol (2 or 3), parked or not.
    fn protocol(&self) -> u8 {
        self.session.as_ref().map_or(self.parked_resp, |s| s.resp)
    }

    /// The bytes the connection writes for what other clients queued to this one, in the
    /// client's protocol.
    pub fn pushed_resp(&mut self) -> String {
        let resp = self.protocol();
        let mut out = Vec::new();
        while let Ok(p) = self.rx.try_recv() {
            encode_push(&p, resp, &mut out, &self.pending);
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Drop for Client {
    /// The client disconnects: every trace of it leaves the shared state (the connection's
    /// unregister).
    fn drop(&mut self) {
        self.deadlines.borrow_mut().remove(&self.id);
        let mut st = self.server.lock();
        let mut session = match self.session.take() {
            Some(s) => s,
            None => match st.blocking.cancel(self.id) {
                Some(s) => s,
                None => return,
            },
        };
        crate::server::tracking::disable(&mut st, self.id);
        st.clients.remove(&self.id);
        crate::server::pubsub::unsubscribe_all(&mut st, self.id);
        st.monitors.retain(|m| *m != self.id);
        super::unwatch_all(&mut st, &mut session);
    }
}

fn encode_push(p: &Push, resp: u8, out: &mut Vec<u8>, pending: &AtomicUsize) {
    let Push::Reply(r) = p;
    let before = out.len();
    r.encode(resp, out);
    let n = out.len() - before;
    let _ = pending.fetch_update(std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed, |v| {
        Some(v.saturating_sub(n))
    });
}

/// A reply as RESP2 bytes (lossy for binary payloads: compare `encode` for those).
pub fn resp2(r: &Reply) -> String {
    String::from_utf8_lossy(&encode(r, 2)).into_owned()
}

/// A reply as RESP3 bytes.
pub fn resp3(r: &Reply) -> String {
    String::from_utf8_lossy(&encode(r, 3)).into_owned()
}

pub fn encode(r: &Reply, proto: u8) -> Vec<u8> {
    let mut out = Vec::new();
    r.encode(proto, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_registered_and_leave_no_trace() {
        let h = Harness::new();
        let id = {
            let mut c = h.client();
            assert_eq!(c.resp(&["CLIENT", "ID"]), format!(":{}\r\n", c.id()));
            assert_eq!(c.resp(&["SUBSCRIBE", "ch"]), "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
            assert_eq!(h.state().clients.len(), 2);
            c.id()
        };
        let mut st = h.state();
        assert!(!st.clients.contains_key(&id));
        assert_eq!(crate::server::pubsub::publish(&mut st, &Bytes::from("ch"), &Bytes::from("m")), 0);
    }

    #[test]
    fn the_session_protocol_renders_the_bytes() {
        let mut h = Harness::new();
        assert_eq!(h.resp(&["HGETALL", "nokey"]), "*0\r\n");
        h.run(&["HSET", "h", "f", "v"]);
        assert_eq!(h.resp(&["HGETALL", "h"]), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        assert!(!h.run(&["HELLO", "3"]).is_error());
        assert_eq!(h.resp(&["HGETALL", "h"]), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
        assert_eq!(h.resp(&["GET", "nokey"]), "_\r\n");
        assert_eq!(resp2(&Reply::Nil), "$-1\r\n");
        assert_eq!(resp3(&Reply::Double(1.5)), ",1.5\r\n");
    }

    #[test]
    fn client_reply_off_writes_nothing() {
        let mut h = Harness::new();
        assert_eq!(h.resp(&["CLIENT", "REPLY", "OFF"]), "");
        assert_eq!(h.resp(&["SET", "k", "v"]), "");
        assert_eq!(h.resp(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
        assert_eq!(h.resp(&["GET", "k"]), "$1\r\nv\r\n");
    }

    #[test]
    fn config_text_configures_the_server() {
        let mut h = Harness::with_config("requirepass secret\ndatabases 4\n");
        assert_eq!(h.resp(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
        assert_eq!(h.resp(&["AUTH", "secret"]), "+OK\r\n");
        assert_eq!(h.resp(&["SELECT", "4"]), "-ERR DB index is out of range\r\n");
    }

    #[test]
    fn binary_payloads_compare_as_bytes() {
        let mut h = Harness::new();
        h.run(&[&b"SET"[..], b"k", b"\xff\x00"]);
        let reply = h.run(&["GET", "k"]);
        assert_eq!(h.output(), b"$2\r\n\xff\x00\r\n");
        assert_eq!(encode(&reply, 3), b"$2\r\n\xff\x00\r\n");
        h.run(&["SELECT", "3"]);
        assert_eq!(h.session().db, 3);
    }

    /// MONITOR lines are pushes, stamped by the test clock.
    #[test]
    fn monitor_lines_are_pushes_on_the_test_clock() {
        let mut h = Harness::new();
        let mut m = h.client();
        m.check(&[("MONITOR", "+OK\r\n")]);
        h.advance(1234);
        let us = crate::util::time::unix_us();
        h.run(&["SET", "k", "v"]);
        let line =
            format!("{}.{:06} [0 127.0.0.1:{}] \"SET\" \"k\" \"v\"", us / 1_000_000, us % 1_000_000, 40000 + h.id());
        assert_eq!(m.pushes(), vec![Reply::Status(line.into())]);
        assert_eq!(m.pushes(), vec![]);
    }
}
