//! A replica's output buffer: the stream it has still to be sent, which the replication backlog
//! keeps for it. client-output-buffer-limit's replica class bounds it. Redis checks it as the
//! stream grows (feedReplicationBuffer, which schedules the close) and in clientsCron (which
//! closes at once): a replica that went over between cron ticks must not keep the stream
//! growing in memory for up to a tick, and one left over a limit that a CONFIG SET lowered, or
//! over its soft limit for long enough, is still caught when nothing more is written.

use super::state::{client_info_line, State};

/// Who found the replica over its limit: the log line says which, as Redis's does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// The stream grew (closeClientOnOutputBufferLimitReached(c, async=1)).
    Feed,
    /// The cron (closeClientOnOutputBufferLimitReached(c, async=0)).
    Cron,
}

/// Disconnects the replicas whose unsent stream passed the replica class's limits.
pub fn close_replicas_over_limits(st: &mut State, found_by: FoundBy) {
    if st.repl.replicas.is_empty() {
        return;
    }
    let limits = st.hot.output_limits;
    if limits[1].0 == 0 && limits[1].1 == 0 {
        return;
    }
    let now_ms = crate::util::time::unix_ms();
    let end = st.repl.master_repl_offset + 1;
    let mut closed = Vec::new();
    for (id, r) in st.repl.replicas.iter() {
        // A replica already closed stays in the map until its task has ended.
        let Some(c) = st.clients.get_mut(id) else { continue };
        let unsent = end.saturating_sub(r.next_offset);
        if !c.output_limit_reached(&limits, unsent, now_ms) {
            continue;
        }
        let info = client_info_line(c, now_ms);
        match found_by {
            FoundBy::Feed => {
                tracing::warn!("Client {info} scheduled to be closed ASAP for overcoming of output buffer limits.")
            }
            FoundBy::Cron => tracing::warn!("Client {info} closed for overcoming of output buffer limits."),
        }
        closed.push(*id);
    }
    for id in closed {
        if let Some(c) = st.clients.remove(&id) {
            c.signals.kill();
        }
        st.stats.client_outbuf_limit_disconnections += 1;
    }
}
