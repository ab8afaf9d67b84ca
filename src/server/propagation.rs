//! The stream of writes, in execution order, for what must see them (the AOF; later replicas):
//! each write command as it is to be replayed, tagged with its database. Commands whose effect
//! depends on when or how they ran are recorded as their deterministic equivalent (EXPIRE as
//! PEXPIREAT, SPOP as SREM, a served BLPOP as LPOP, ...), keys that expire or are evicted as
//! DEL, and a transaction's writes between MULTI and EXEC.

use bytes::Bytes;

/// One command line of the stream, in the database it applies to.
#[derive(Debug, Clone)]
pub struct Op {
    pub db: usize,
    pub argv: Vec<Bytes>,
    /// False for what only replicas get (PUBLISH, a script's writes after redis.set_repl).
    pub to_aof: bool,
    /// False for what only the AOF gets (a script's writes after redis.set_repl).
    pub to_replicas: bool,
}

impl Op {
    fn new(db: usize, argv: Vec<Bytes>) -> Op {
        Op { db, argv, to_aof: true, to_replicas: true }
    }
}

#[derive(Default)]
pub struct Propagation {
    /// Whether anything consumes the stream; when nothing does, nothing is recorded.
    pub enabled: bool,
    /// Recorded writes not yet taken by the consumers.
    pub ops: Vec<Op>,
    /// Where the current command's writes start in `ops`: what it propagated from there on
    /// replays atomically (see `end_unit`).
    unit_start: usize,
}

impl Propagation {
    pub fn push(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.enabled {
            self.ops.push(Op::new(db, argv));
        }
    }

    /// What replicas get and the AOF does not: PUBLISH, so that subscribers of replicas hear it.
    pub fn push_to_replicas(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.enabled {
            self.ops.push(Op { db, argv, to_aof: false, to_replicas: true });
        }
    }

    /// A key deleted by expiry or eviction: replayed as DEL, or as UNLINK when the matching
    /// lazyfree-lazy-expire / lazyfree-lazy-eviction is on (Redis's propagateDeletion).
    pub fn deleted(&mut self, db: usize, key: &[u8], unlink: bool) {
        if self.enabled {
            let name: &'static [u8] = if unlink { b"UNLINK" } else { b"DEL" };
            self.ops.push(Op::new(db, vec![Bytes::from_static(name), Bytes::copy_from_slice(key)]));
        }
    }

    /// A command (EXEC included, not one run by EXEC) starts: what it propagates from now on
    /// replays atomically.
    pub fn begin_unit(&mut self) {
        self.unit_start = self.ops.len();
    }

    /// A command ends: its writes, lazy-expiry DELs included, are wrapped in MULTI/EXEC when they
    /// are more than one (Redis 7.0's propagatePendingCommands).
    pub fn end_unit(&mut self) {
        self.wrap_transaction(self.unit_start);
        self.unit_start = self.ops.len();
    }

    /// The current command panicked: what its unit recorded is dropped, so that neither the
    /// replicas nor the AOF get half of it.
    pub fn abandon_unit(&mut self) {
        self.ops.truncate(self.unit_start);
    }

    /// What was recorded so far is propagated as is, outside the current command's unit: keys
    /// evicted (even by CONFIG SET inside a command) are never wrapped (performEvictions
    /// propagates with propagate_no_multi).
    pub fn propagated_now(&mut self) {
        self.unit_start = self.ops.len();
    }

    /// Wraps the writes recorded since `start` in MULTI/EXEC when they are more than one, so that
    /// they replay atomically (Redis 7.0's propagatePendingCommands: one command is atomic).
    pub fn wrap_transaction(&mut self, start: usize) {
        if self.ops.len() <= start + 1 {
            return;
        }
        let db = self.ops[start].db;
        self.ops.insert(start, Op::new(db, vec![Bytes::from_static(b"MULTI")]));
        let last_db = self.ops.last().map_or(db, |o| o.db);
        self.ops.push(Op::new(last_db, vec![Bytes::from_static(b"EXEC")]));
    }

    /// The writes recorded since `from` go only where redis.set_repl sends them; those going
    /// nowhere are dropped.
    pub fn restrict_since(&mut self, from: usize, to_aof: bool, to_replicas: bool) {
        if to_aof && to_replicas {
            return;
        }
        let mut i = from;
        while i < self.ops.len() {
            if !to_aof && !to_replicas {
                self.ops.remove(i);
                continue;
            }
            self.ops[i].to_aof &= to_aof;
            self.ops[i].to_replicas &= to_replicas;
            i += 1;
        }
    }

    pub fn take(&mut self) -> Vec<Op> {
        self.unit_start = 0;
        std::mem::take(&mut self.ops)
    }

    /// The writes of the commands already done, leaving the current command's (or the current
    /// transaction's).
    fn take_completed(&mut self) -> Vec<Op> {
        let current = self.ops.split_off(self.unit_start);
        self.unit_start = 0;
        std::mem::replace(&mut self.ops, current)
    }
}

/// Hands the writes recorded since the last call to their consumers: this server's replicas
/// (as a master) and the AOF. Called after each batch of commands, before its replies are sent.
pub fn flush(st: &mut crate::server::state::State) {
    if st.propagation.ops.is_empty() {
        return;
    }
    let ops = st.propagation.take();
    feed_replicas(st, &ops);
    crate::persistence::state::append(st, ops);
}

/// After a client's batch: the writes go to the replicas' stream now, and to the AOF's queue,
/// written by the first connection about to send replies (`appendonly::write_queued`), so that
/// one write(2) carries the batches of all the connections that ran meanwhile, as Redis writes
/// its AOF buffer once per event-loop pass. True if the AOF's queue took writes of this batch.
pub fn flush_deferred(st: &mut crate::server::state::State) -> bool {
    if st.propagation.ops.is_empty() {
        return false;
    }
    let ops = st.propagation.take();
    feed_replicas(st, &ops);
    crate::persistence::state::queue(st, ops)
}

/// Before a snapshot (SAVE, BGSAVE, an AOF rewrite, a replica's sync): the writes of the
/// commands already done in this batch go to their consumers first. The snapshot holds their
/// effects; recorded after it, they would be applied twice (an INCR pipelined before
/// BGREWRITEAOF ran again from the new incr file on load). Redis propagates at the end of each
/// command, so its snapshots never see such writes pending.
pub fn flush_completed(st: &mut crate::server::state::State) {
    let ops = st.propagation.take_completed();
    if !ops.is_empty() {
        feed_replicas(st, &ops);
    }
    // Those queued by other connections' batches too.
    crate::persistence::state::append(st, ops);
}

/// The writes into the replicas' stream, and the replicas that it takes past their output
/// buffer limits closed, as Redis's feedReplicationBuffer closes them.
fn feed_replicas(st: &mut crate::server::state::State, ops: &[Op]) {
    st.repl.feed_writes(ops);
    super::replica_output::close_replicas_over_limits(st, super::replica_output::FoundBy::Feed);
}

/// A command line from strings (for the rewritten forms).
pub fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}
