//! The stream of writes, in execution order, for what must see them (the AOF; later replicas):
//! each write command as it is to be replayed, tagged with its database. Commands whose effect
//! depends on when or how they ran are recorded as their deterministic equivalent (EXPIRE as
//! PEXPIREAT, SPOP as SREM, a served BLPOP as LPOP, ...), keys that expire or are evicted as
//! DEL, and a transaction's writes between MULTI and EXEC.

use bytes::Bytes;

#[derive(Default)]
pub struct Propagation {
    /// Whether anything consumes the stream; when nothing does, nothing is recorded.
    pub enabled: bool,
    /// Recorded writes not yet taken by the consumers: (database, command line).
    pub ops: Vec<(usize, Vec<Bytes>)>,
}

impl Propagation {
    pub fn push(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.enabled {
            self.ops.push((db, argv));
        }
    }

    /// A key deleted by expiry or eviction: replayed as DEL.
    pub fn deleted(&mut self, db: usize, key: &[u8]) {
        if self.enabled {
            self.ops.push((db, vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(key)]));
        }
    }

    /// Wraps the writes recorded since `start` in MULTI/EXEC (a transaction replays atomically).
    pub fn wrap_transaction(&mut self, start: usize) {
        if self.ops.len() <= start {
            return;
        }
        let db = self.ops[start].0;
        self.ops.insert(start, (db, vec![Bytes::from_static(b"MULTI")]));
        let last_db = self.ops.last().map_or(db, |o| o.0);
        self.ops.push((last_db, vec![Bytes::from_static(b"EXEC")]));
    }

    pub fn take(&mut self) -> Vec<(usize, Vec<Bytes>)> {
        std::mem::take(&mut self.ops)
    }
}

/// Hands the writes recorded since the last call to their consumers: this server's replicas
/// (as a master) and the AOF. Called after each batch of commands, before its replies are sent.
pub fn flush(st: &mut crate::server::state::State) {
    if st.propagation.ops.is_empty() {
        return;
    }
    let ops = st.propagation.take();
    crate::replication::feed_writes(st, &ops);
    crate::persistence::appendonly::append(st, ops);
}

/// A command line from strings (for the rewritten forms).
pub fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}
