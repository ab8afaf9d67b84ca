//! This server as a master: its replicas. SYNC/PSYNC (commands::replication) turn a client
//! connection into a replica, which gets either the stream from where it left off (+CONTINUE) or
//! a full resync (+FULLRESYNC, the RDB, then the stream from the RDB's offset) from its task
//! (`stream`), and acknowledges what it applied with REPLCONF ACK (`acks`). Here: the partial
//! resync's check, attaching a replica, and the replicas' cron.

use bytes::Bytes;
use tokio::sync::mpsc;

pub use super::state::{Replica, ReplicaState};
use crate::server::handover::{RdbPiece, ReplConf};
use crate::server::replica_output::{close_replicas_over_limits, FoundBy};
use crate::server::state::{ClientId, ClientKind, State};

/// Records a replica's REPLCONF ACK.
pub fn ack(st: &mut State, id: ClientId, offset: u64) {
    if let Some(r) = st.repl.replicas.get_mut(&id) {
        r.ack_offset = r.ack_offset.max(offset);
        r.ack_time_ms = crate::util::time::unix_ms();
        r.acked = true;
    }
}

/// masterTryPartialResynchronization: the first offset to send when the requested history is
/// ours (or our previous one, up to where it ended) and the backlog still holds it.
pub fn try_partial(st: &State, replid: &str, offset: i64, name: &str) -> Option<u64> {
    let repl = &st.repl;
    let ours = replid.eq_ignore_ascii_case(&repl.replid);
    let previous = replid.eq_ignore_ascii_case(&repl.replid2) && offset <= repl.second_repl_offset;
    if !ours && !previous {
        if replid != "?" {
            if !replid.eq_ignore_ascii_case(&repl.replid2) {
                tracing::info!(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')",
                    repl.replid,
                    repl.replid2
                );
            } else {
                tracing::info!(
                    "Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {}",
                    repl.second_repl_offset
                );
            }
        } else {
            tracing::info!("Full resync requested by replica {name}");
        }
        return None;
    }
    let Some(backlog) = &repl.backlog else { return None };
    if offset < 0 || !backlog.covers(offset as u64) {
        tracing::info!(
            "Unable to partial resync with replica {name} for lack of backlog (Replica request was: {offset})."
        );
        return None;
    }
    tracing::info!(
        "Partial resynchronization request from {name} accepted. Sending {} bytes of backlog starting from offset {offset}.",
        backlog.next_offset() - offset as u64
    );
    Some(offset as u64)
}

pub fn attach(
    st: &mut State,
    id: ClientId,
    ip: String,
    conf: &ReplConf,
    state: ReplicaState,
    next_offset: u64,
    rdb_tx: Option<mpsc::Sender<RdbPiece>>,
) {
    if let Some(c) = st.clients.get_mut(&id) {
        c.kind = ClientKind::Replica;
    }
    let now = crate::util::time::unix_ms();
    st.repl.replicas.insert(
        id,
        Replica {
            ip,
            port: conf.listening_port,
            state,
            next_offset,
            ack_offset: 0,
            ack_time_ms: now,
            capa_eof: conf.capa_eof,
            rdb_tx,
            waiting_since: std::time::Instant::now(),
            acked: false,
            sync_started: false,
        },
    );
}

/// From the cron: pings the replicas through the stream every repl-ping-replica-period, drops
/// replicas that stopped acknowledging for repl-timeout or whose unsent stream passed the
/// output buffer limits, and frees the backlog repl-backlog-ttl after the last replica left.
pub fn cron(st: &mut State) {
    let now_ms = crate::util::time::unix_ms();
    let now = (now_ms / 1000) as i64;
    if !st.repl.is_replica() && !st.repl.replicas.is_empty() && st.pause.is_none() {
        let period = st.config.int(crate::ckey!("repl-ping-replica-period")).max(1) as u64;
        if now_ms / 1000 % period == 0 && st.repl.last_ping_secs != now {
            st.repl.last_ping_secs = now;
            // PING goes out in whatever database the stream last selected: no SELECT for it.
            let mut buf = Vec::new();
            crate::persistence::aof::encode_command(&mut buf, &[b"PING".as_slice()]);
            st.repl.feed(Bytes::from(buf));
        }
    }
    let timeout_ms = st.config.int(crate::ckey!("repl-timeout")).max(1) as u64 * 1000;
    let mut timed_out = Vec::new();
    for (id, r) in st.repl.replicas.iter() {
        if r.state == ReplicaState::Online && now_ms.saturating_sub(r.ack_time_ms) > timeout_ms {
            tracing::warn!("Disconnecting timedout replica (streaming sync): {}", r.name());
            timed_out.push(*id);
        }
    }
    for id in timed_out {
        if let Some(c) = st.clients.remove(&id) {
            c.signals.kill();
        }
    }
    close_replicas_over_limits(st, FoundBy::Cron);
    let ttl = st.config.int(crate::ckey!("repl-backlog-ttl"));
    if !st.repl.is_replica()
        && st.repl.replicas.is_empty()
        && st.repl.backlog.is_some()
        && ttl > 0
        && now - st.repl.no_replicas_since > ttl
    {
        st.repl.new_history();
        st.repl.backlog = None;
        super::refresh_propagation(st);
        tracing::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
    }
}
