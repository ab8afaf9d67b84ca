//! What replicas acknowledged, and what waits for it: WAIT, and min-replicas-to-write's count of
//! good replicas.

use bytes::Bytes;

use super::state::ReplicaState;
pub use super::state::Wait;
use crate::protocol::Reply;
use crate::server::replica_output::{close_replicas_over_limits, FoundBy};
use crate::server::state::{ClientId, State};
use crate::server::Server;

/// Replicas that acknowledged `offset` (replicationCountAcksByOffset).
pub fn acked_replicas(st: &State, offset: u64) -> usize {
    st.repl.replicas.values().filter(|r| r.state == ReplicaState::Online && r.ack_offset >= offset).count()
}

/// Asks every replica for an acknowledgement now (REPLCONF GETACK * in the stream).
pub fn request_acks(st: &mut State) {
    // Not while writes are paused (FAILOVER, SHUTDOWN): the stream must stop growing so that
    // replicas can catch up with it; they acknowledge every second anyway.
    if st.pause.is_some() {
        return;
    }
    let mut buf = Vec::new();
    crate::persistence::aof::encode_command(&mut buf, &[&b"REPLCONF"[..], b"GETACK", b"*"]);
    st.repl.feed(Bytes::from(buf));
    close_replicas_over_limits(st, FoundBy::Feed);
}

/// Answers the WAITs whose replicas have acknowledged enough, or whose client went away.
pub fn serve_waits(server: &Server, st: &mut State) {
    if st.repl.waits.is_empty() {
        return;
    }
    let waits = std::mem::take(&mut st.repl.waits);
    for w in waits {
        if !st.blocking.is_parked(w.client) {
            continue;
        }
        let acked = acked_replicas(st, w.offset);
        if acked as i64 >= w.replicas {
            crate::server::blocking::end_wait(server, st, w.client, Some(Reply::Int(acked as i64)));
        } else {
            st.repl.waits.push(w);
        }
    }
}

/// WAIT's reply when its timeout ends it: how many replicas acknowledged by then.
pub fn wait_timed_out(st: &mut State, client: ClientId) -> Option<Reply> {
    let i = st.repl.waits.iter().position(|w| w.client == client)?;
    let w = st.repl.waits.swap_remove(i);
    Some(Reply::Int(acked_replicas(st, w.offset) as i64))
}

/// min-replicas-to-write / min-replicas-max-lag: whether enough replicas acknowledged recently
/// (checkGoodReplicasStatus).
pub fn enough_good_replicas(st: &State) -> bool {
    let (wanted, max_lag) = (st.hot.min_replicas_to_write, st.hot.min_replicas_max_lag);
    if wanted == 0 || max_lag == 0 {
        return true;
    }
    good_replicas(st, max_lag) as u64 >= wanted
}

/// Online replicas whose last acknowledgement is at most `max_lag` seconds old.
pub fn good_replicas(st: &State, max_lag: u64) -> usize {
    let now = crate::util::time::unix_ms();
    st.repl
        .replicas
        .values()
        .filter(|r| r.state == ReplicaState::Online && now.saturating_sub(r.ack_time_ms) / 1000 <= max_lag)
        .count()
}
