//! Clients parked by blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD, ...): who waits on which key, in
//! arrival order, and which keys were written since they were last looked at (Redis's
//! blocking_keys and ready_keys). The command side (commands::blocking) re-runs a parked command
//! when a key it waits on becomes ready; the connection side (server::conn) sleeps until its
//! client is finished — served, timed out, unblocked — and writes the reply.
//!
//! A parked client's Session lives here while it waits, so the command can run again as that
//! client from any other client's turn.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use hashbrown::HashMap;
use tokio::sync::Notify;

use super::session::Session;
use super::state::{ClientId, State};
use super::Server;
use crate::protocol::Reply;

/// The type a key must hold to serve a waiting client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    List,
    ZSet,
    /// XREAD and XREADGROUP: served by the streams' own rules (commands::streams), not by the
    /// key merely holding data.
    Stream,
    /// WAIT: for replicas' acknowledgements, not for keys.
    Replicas,
    /// SHUTDOWN: for lagging replicas to catch up before the exit.
    Shutdown,
}

/// What a handler asks for when it has to wait.
#[derive(Debug)]
pub struct BlockRequest {
    pub keys: Vec<Bytes>,
    /// Absolute unix ms; 0 waits forever.
    pub deadline_ms: u64,
    pub kind: BlockKind,
    /// What a wait that times out answers, when it is not the command's null (WAIT answers how
    /// many replicas acknowledged by then): computed when it ends, by the command's own family.
    pub timeout_reply: Option<TimeoutReply>,
    /// The command line as resolved when it blocked (XREAD's `$` as the stream's last ID then),
    /// for the command's own use when woken; statistics and the slow log show the client's own.
    pub resolved_args: Option<Vec<Bytes>>,
}

pub type TimeoutReply = fn(&mut State, ClientId) -> Option<Reply>;

pub struct Parked {
    pub session: Session,
    /// The command line, run again when a key is ready.
    pub args: Vec<Bytes>,
    /// See BlockRequest::resolved_args.
    pub resolved_args: Option<Vec<Bytes>>,
    pub db: usize,
    pub keys: Vec<Bytes>,
    /// Absolute unix ms, 0 for never.
    pub deadline_ms: u64,
    pub kind: BlockKind,
    pub timeout_reply: Option<TimeoutReply>,
    /// Wakes the client's connection task when it is finished.
    pub wake: Arc<Notify>,
}

impl Parked {
    pub fn new(session: Session, args: Vec<Bytes>, req: BlockRequest, wake: Arc<Notify>) -> Parked {
        let mut keys = req.keys;
        // A key named twice (BLPOP k k 0) waits once.
        let mut seen = Vec::with_capacity(keys.len());
        keys.retain(|k| {
            let fresh = !seen.contains(k);
            if fresh {
                seen.push(k.clone());
            }
            fresh
        });
        Parked {
            db: session.db,
            session,
            args,
            resolved_args: req.resolved_args,
            keys,
            deadline_ms: req.deadline_ms,
            kind: req.kind,
            timeout_reply: req.timeout_reply,
            wake,
        }
    }
}

/// Looks up a (db, key) slot by borrowed key, so signalling a written key copies nothing. Hashes
/// exactly as the owned (usize, Bytes) does.
#[derive(Hash)]
struct SlotRef<'a>(usize, &'a [u8]);

impl hashbrown::Equivalent<(usize, Bytes)> for SlotRef<'_> {
    fn equivalent(&self, slot: &(usize, Bytes)) -> bool {
        self.0 == slot.0 && self.1 == slot.1.as_ref()
    }
}

#[derive(Default)]
pub struct Blocking {
    parked: HashMap<ClientId, Parked>,
    /// (db, key) → the clients waiting on it, first come first served.
    waiting: HashMap<(usize, Bytes), VecDeque<ClientId>>,
    /// Keys written since their waiters last looked, in the order they became ready.
    ready: VecDeque<(usize, Bytes)>,
    /// Clients whose wait ended, with their session and reply, until their task collects them.
    finished: HashMap<ClientId, (Session, Reply)>,
}

impl Blocking {
    /// How many clients are parked (INFO's blocked_clients).
    pub fn count(&self) -> usize {
        self.parked.len()
    }

    pub fn timeout_reply_of(&self, id: ClientId) -> Option<TimeoutReply> {
        self.parked.get(&id).and_then(|p| p.timeout_reply)
    }

    pub fn parked_ids(&self) -> Vec<ClientId> {
        self.parked.keys().copied().collect()
    }

    pub fn is_parked(&self, id: ClientId) -> bool {
        self.parked.contains_key(&id)
    }

    /// Parked clients with a deadline (INFO's clients_in_timeout_table).
    pub fn count_with_deadline(&self) -> usize {
        self.parked.values().filter(|p| p.deadline_ms != 0).count()
    }

    /// Parks a client; `to_front` keeps its place in line when it is parked again after a
    /// wake-up that could not serve it.
    pub fn park(&mut self, id: ClientId, p: Parked, to_front: bool) {
        for k in &p.keys {
            let q = self.waiting.entry((p.db, k.clone())).or_default();
            if to_front {
                q.push_front(id);
            } else {
                q.push_back(id);
            }
        }
        self.parked.insert(id, p);
    }

    /// A key was written: its waiters get a look after the current command (signalKeyAsReady).
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiting.is_empty() {
            return;
        }
        let Some((k, _)) = self.waiting.get_key_value(&SlotRef(db, key)) else {
            return;
        };
        if !self.ready.contains(k) {
            let k = k.clone();
            self.ready.push_back(k);
        }
    }

    /// Every key waited on in `db` (SWAPDB, MOVE into it: keys may have appeared).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<_> = self.waiting.keys().filter(|(d, _)| *d == db).cloned().collect();
        for k in keys {
            if !self.ready.contains(&k) {
                self.ready.push_back(k);
            }
        }
    }

    /// The keys of database `db` that clients wait on.
    pub fn waited_keys(&self, db: usize) -> Vec<Bytes> {
        self.waiting.keys().filter(|(d, _)| *d == db).map(|(_, k)| k.clone()).collect()
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub fn next_ready(&mut self) -> Option<(usize, Bytes)> {
        self.ready.pop_front()
    }

    /// The first client waiting on the key for a list or a sorted set, and which of them. Stream
    /// readers in the line are passed over: they are served by their own rules.
    pub fn first_waiting(&self, db: usize, key: &Bytes) -> Option<(ClientId, BlockKind)> {
        self.waiting.get(&(db, key.clone()))?.iter().find_map(|id| {
            let kind = self.parked.get(id)?.kind;
            (kind != BlockKind::Stream).then_some((*id, kind))
        })
    }

    /// The stream readers waiting on the key, first come first.
    pub fn stream_waiters(&self, db: usize, key: &Bytes) -> Vec<ClientId> {
        let Some(q) = self.waiting.get(&(db, key.clone())) else { return Vec::new() };
        q.iter().copied().filter(|id| self.parked.get(id).is_some_and(|p| p.kind == BlockKind::Stream)).collect()
    }

    /// A parked client's command line (as resolved when it blocked) and database.
    pub fn parked_command(&self, id: ClientId) -> Option<(&[Bytes], usize)> {
        self.parked.get(&id).map(|p| (p.resolved_args.as_deref().unwrap_or(&p.args), p.db))
    }

    /// Takes a client out of every line it waits in.
    pub fn unpark(&mut self, id: ClientId) -> Option<Parked> {
        let p = self.parked.remove(&id)?;
        for k in &p.keys {
            let slot = (p.db, k.clone());
            if let Some(q) = self.waiting.get_mut(&slot) {
                q.retain(|c| *c != id);
                if q.is_empty() {
                    self.waiting.remove(&slot);
                }
            }
        }
        Some(p)
    }

    /// Ends a wait with `reply` and wakes the client's task.
    pub fn finish(&mut self, id: ClientId, p: Parked, reply: Reply) {
        self.finished.insert(id, (p.session, reply));
        p.wake.notify_one();
    }

    /// Ends a wait with the command's timeout reply, or with `error` (CLIENT UNBLOCK ... ERROR).
    /// Returns the finished command line (for its stats), or None if the client was not parked.
    pub fn end_wait(&mut self, id: ClientId, error: Option<Reply>) -> Option<Vec<Bytes>> {
        let mut p = self.unpark(id)?;
        // A wait that ends without data answers a null array whatever the command, even BLMOVE
        // whose immediate null is a bulk (Redis's replyToBlockedClientTimedOut).
        let reply = error.unwrap_or(Reply::NilArray);
        let args = std::mem::take(&mut p.args);
        self.finish(id, p, reply);
        Some(args)
    }

    /// The session and reply of a client whose wait ended.
    pub fn take_finished(&mut self, id: ClientId) -> Option<(Session, Reply)> {
        self.finished.remove(&id)
    }

    /// The client went away while parked or finished: its session, for the last clean-up.
    pub fn cancel(&mut self, id: ClientId) -> Option<Session> {
        if let Some(p) = self.unpark(id) {
            return Some(p.session);
        }
        self.finished.remove(&id).map(|(s, _)| s)
    }
}

/// Ends a client's wait with its timeout reply (its deadline passed, or CLIENT UNBLOCK) or with
/// an error; the command then counts as called, as in Redis. False if it was not waiting.
pub fn end_wait(server: &Server, st: &mut State, id: ClientId, error: Option<Reply>) -> bool {
    let error = match error {
        None => st.blocking.timeout_reply_of(id).and_then(|reply| reply(st, id)),
        e => e,
    };
    let Some(args) = st.blocking.end_wait(id, error) else {
        return false;
    };
    if let Ok((spec, name)) = super::command::resolve(server, &args) {
        st.stats.command(spec, name).calls += 1;
    }
    true
}

/// A master turned replica: what its clients wait for can no longer be written by them
/// (disconnectAllBlockedClients).
pub fn disconnect_all_blocked(server: &Server, st: &mut State) {
    for id in st.blocking.parked_ids() {
        let e = Reply::error(
            "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
        );
        end_wait(server, st, id, Some(e));
    }
}
