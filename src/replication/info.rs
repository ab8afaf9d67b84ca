//! INFO's replication section, with exactly Redis 7.0's fields, in its order, for both roles.

use std::fmt::Write;

use super::state::LinkState;
use super::state::ReplicaState;
use crate::server::state::State;

pub fn section(st: &State, out: &mut String) {
    macro_rules! field {
        ($($arg:tt)*) => {{ let _ = write!(out, $($arg)*); out.push_str("\r\n"); }};
    }
    let repl = &st.repl;
    let now_ms = crate::util::time::unix_ms();
    out.push_str("# Replication\r\n");
    match &repl.master {
        None => field!("role:master"),
        Some(m) => {
            field!("role:slave");
            field!("master_host:{}", m.host);
            field!("master_port:{}", m.port);
            field!("master_link_status:{}", if m.is_connected() { "up" } else { "down" });
            let last_io = if m.client.is_some() { (now_ms.saturating_sub(m.last_io_ms) / 1000) as i64 } else { -1 };
            field!("master_last_io_seconds_ago:{last_io}");
            field!("master_sync_in_progress:{}", u8::from(m.state == LinkState::Transfer));
            // Before any link, Redis reports 1 for both offsets.
            let (read, applied) = if m.client.is_some() || m.can_continue {
                (m.read_offset.max(repl.master_repl_offset), repl.master_repl_offset)
            } else {
                (1, 1)
            };
            field!("slave_read_repl_offset:{read}");
            field!("slave_repl_offset:{applied}");
            if let (LinkState::Transfer, Some((total, done, last))) = (m.state, m.transfer) {
                // Redis divides by any non-zero size, so before the payload's size is known (-1)
                // it prints "-0.00".
                let perc = if total != 0 { done as f64 / total as f64 * 100.0 } else { 0.0 };
                field!("master_sync_total_bytes:{total}");
                field!("master_sync_read_bytes:{done}");
                field!("master_sync_left_bytes:{}", total - done as i64);
                field!("master_sync_perc:{perc:.2}");
                field!("master_sync_last_io_seconds_ago:{}", now_ms.saturating_sub(last) / 1000);
            }
            if !m.is_connected() {
                let since = if m.down_since > 0 { crate::util::time::unix_secs() - m.down_since } else { -1 };
                field!("master_link_down_since_seconds:{since}");
            }
            field!("slave_priority:{}", st.config.int(crate::ckey!("replica-priority")));
            field!("slave_read_only:{}", u8::from(st.config.bool(crate::ckey!("replica-read-only"))));
            field!("replica_announced:{}", u8::from(st.config.bool(crate::ckey!("replica-announced"))));
        }
    }
    field!("connected_slaves:{}", repl.replicas.len());
    let (wanted, max_lag) =
        (st.config.int(crate::ckey!("min-replicas-to-write")), st.config.int(crate::ckey!("min-replicas-max-lag")));
    if wanted > 0 && max_lag > 0 {
        field!("min_slaves_good_slaves:{}", super::acks::good_replicas(st, max_lag as u64));
    }
    let mut ids: Vec<_> = repl.replicas.keys().copied().collect();
    ids.sort_unstable();
    for (i, r) in ids.iter().filter_map(|id| repl.replicas.get(id)).enumerate() {
        let lag = now_ms.saturating_sub(r.ack_time_ms) / 1000;
        let offset = if r.state == ReplicaState::Online { r.ack_offset } else { 0 };
        field!("slave{i}:ip={},port={},state={},offset={offset},lag={lag}", r.ip, r.port, r.state.name());
    }
    field!("master_failover_state:{}", repl.failover.state.name());
    field!("master_replid:{}", repl.replid);
    field!("master_replid2:{}", repl.replid2);
    field!("master_repl_offset:{}", repl.master_repl_offset);
    field!("second_repl_offset:{}", repl.second_repl_offset);
    match &repl.backlog {
        Some(b) => {
            field!("repl_backlog_active:1");
            field!("repl_backlog_size:{}", st.config.int(crate::ckey!("repl-backlog-size")));
            field!("repl_backlog_first_byte_offset:{}", b.first_offset());
            field!("repl_backlog_histlen:{}", b.histlen());
        }
        None => {
            field!("repl_backlog_active:0");
            field!("repl_backlog_size:{}", st.config.int(crate::ckey!("repl-backlog-size")));
            field!("repl_backlog_first_byte_offset:0");
            field!("repl_backlog_histlen:0");
        }
    }
}
