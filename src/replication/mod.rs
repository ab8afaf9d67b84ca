//! Replication, Redis's PSYNC2 protocol: this server as a master (`master`: its replicas, the
//! full-sync RDB in `sync`) and as a replica (`replica`: its link to its master). Both sides
//! share the replication history kept here: the replication ID, the offset, the previous ID a
//! promoted replica still accepts (replid2), and the stream buffer (`backlog`).

pub mod acks;
pub mod backlog;
pub mod diskless_load;
pub mod failover;
pub mod info;
pub mod link;
pub mod master;
pub mod replica;
pub mod state;
pub mod stream;
pub mod sync;

use crate::server::state::State;

pub use state::{new_replid, Replication, NULL_REPLID};

/// Whether the write stream must be recorded: for the AOF, or for a backlog this server feeds as
/// a master (a replica's sub-replicas get its master's stream as it arrives).
pub fn stream_needed(st: &State) -> bool {
    st.aof.is_some() || (st.repl.backlog.is_some() && !st.repl.is_replica())
}

/// Sets whether writes are recorded, after the AOF or the backlog came or went.
pub fn refresh_propagation(st: &mut State) {
    st.propagation.enabled = stream_needed(st);
    if !st.propagation.enabled {
        st.propagation.ops.clear();
    }
}

/// The replication history an RDB file recorded, found at start-up (loadDataFromDisk). A server
/// that is to be a replica continues it with its master; a master keeps it as the secondary
/// history, so replicas that followed it before the restart continue partially.
pub fn restore_history(st: &mut State, id: String, offset: u64) {
    let size = st.config.int(crate::ckey!("repl-backlog-size")).max(1) as u64;
    let to_be_replica = matches!(st.config.val(crate::ckey!("replicaof")), crate::config::Val::Replicaof(Some(_)));
    if to_be_replica {
        st.repl.replid = id;
        st.repl.master_repl_offset = offset;
        st.repl.history_restored = true;
    } else {
        st.repl.replid2 = id;
        st.repl.second_repl_offset = offset as i64 + 1;
        st.repl.master_repl_offset = offset;
        st.repl.create_backlog(size);
        refresh_propagation(st);
    }
}

/// What an RDB file records of the replication history, when there is one to continue
/// (rdbPopulateSaveInfo): (stream db, id, offset).
pub fn save_info(st: &State) -> Option<(usize, String, u64)> {
    let repl = &st.repl;
    match &repl.master {
        None if repl.backlog.is_some() => {
            Some((repl.selected_db.unwrap_or(0), repl.replid.clone(), repl.master_repl_offset))
        }
        None => None,
        Some(m) if m.client.is_some() || m.can_continue => {
            Some((m.stream_db, repl.replid.clone(), repl.master_repl_offset))
        }
        Some(_) => None,
    }
}
