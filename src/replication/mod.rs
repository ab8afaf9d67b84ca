//! Replication, Redis's PSYNC2 protocol: this server as a master (`master`: its replicas, the
//! full-sync RDB in `sync`) and as a replica (`replica`: its link to its master). Both sides
//! share the replication history kept here: the replication ID, the offset, the previous ID a
//! promoted replica still accepts (replid2), and the stream buffer (`backlog`).

pub mod backlog;
pub mod diskless_load;
pub mod failover;
pub mod info;
pub mod master;
pub mod replica;
pub mod sync;

use bytes::Bytes;
use hashbrown::HashMap;
use tokio::sync::watch;

use crate::server::state::{ClientId, State};
use backlog::Backlog;

pub const NULL_REPLID: &str = "0000000000000000000000000000000000000000";

/// A new random replication ID (40 hex characters).
pub fn new_replid() -> String {
    (0..40).map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0')).collect()
}

pub struct Replication {
    pub replid: String,
    pub replid2: String,
    /// Bytes of replication stream produced (as master) or applied (as replica) in this history.
    pub master_repl_offset: u64,
    /// First offset that is not part of replid2's history, or -1 (second_repl_offset).
    pub second_repl_offset: i64,
    /// Exists once a replica attached (as master) or the link synced (as replica).
    pub backlog: Option<Backlog>,
    /// The database the stream last selected (Redis's slaveseldb).
    pub selected_db: Option<usize>,
    /// Tells replica tasks that the stream grew (its value: master_repl_offset).
    pub offset_watch: watch::Sender<u64>,
    pub replicas: HashMap<ClientId, master::Replica>,
    pub failover: failover::Failover,
    /// Clients blocked in WAIT.
    pub waits: Vec<master::Wait>,
    /// The full-sync RDB being produced, if any.
    pub sync: Option<sync::SyncJob>,
    /// `replicaof`: the master this server follows, None for a master.
    pub master: Option<replica::MasterLink>,
    /// When the last replica went away (repl-backlog-ttl frees the backlog after it), unix secs.
    pub no_replicas_since: i64,
    /// The history came from the RDB file at start-up: a replica may continue it.
    pub history_restored: bool,
    /// A disk-based sync wrote the RDB file (rdb-del-sync-files may remove it once sent).
    pub sync_file_used: bool,
    /// The second the stream was last pinged in (repl-ping-replica-period).
    pub last_ping_secs: i64,
    pub stats: Stats,
}

#[derive(Default)]
pub struct Stats {
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    pub net_repl_input_bytes: u64,
    pub net_repl_output_bytes: u64,
    /// (unix ms, bytes) samples for the instantaneous repl kbps.
    pub in_samples: std::collections::VecDeque<(u64, u64)>,
    pub out_samples: std::collections::VecDeque<(u64, u64)>,
}

impl Default for Replication {
    fn default() -> Replication {
        Replication {
            replid: new_replid(),
            replid2: NULL_REPLID.to_string(),
            master_repl_offset: 0,
            second_repl_offset: -1,
            backlog: None,
            selected_db: None,
            offset_watch: watch::channel(0).0,
            replicas: HashMap::new(),
            waits: Vec::new(),
            failover: Default::default(),
            sync: None,
            master: None,
            no_replicas_since: crate::util::time::unix_secs(),
            last_ping_secs: 0,
            sync_file_used: false,
            history_restored: false,
            stats: Stats::default(),
        }
    }
}

impl Replication {
    pub fn is_replica(&self) -> bool {
        self.master.is_some()
    }

    /// Starts a new history (changeReplicationId + clearReplicationId2).
    pub fn new_history(&mut self) {
        self.replid = new_replid();
        self.replid2 = NULL_REPLID.to_string();
        self.second_repl_offset = -1;
    }

    /// Keeps the current history as the secondary one, so replicas that followed it can continue
    /// partially, and starts a new one (shiftReplicationId, on promotion).
    pub fn shift_history(&mut self) {
        self.replid2 = std::mem::replace(&mut self.replid, new_replid());
        self.second_repl_offset = self.master_repl_offset as i64 + 1;
        tracing::info!(
            "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
            self.replid2,
            self.second_repl_offset,
            self.replid
        );
    }

    pub fn create_backlog(&mut self, size: u64) {
        if self.backlog.is_none() {
            self.backlog = Some(Backlog::new(size, self.master_repl_offset + 1));
        }
    }

    /// Appends bytes of the replication stream and wakes the replicas' tasks.
    pub fn feed(&mut self, data: Bytes) {
        self.master_repl_offset += data.len() as u64;
        let Some(backlog) = self.backlog.as_mut() else { return };
        backlog.append(data);
        let pinned = self.replicas.values().map(|r| r.next_offset).min().unwrap_or(u64::MAX);
        backlog.trim(pinned);
        self.offset_watch.send_replace(self.master_repl_offset);
    }
}

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

/// Appends the recorded writes to the stream of a master's replicas, with SELECT where the
/// database changes. Called with the writes the AOF also takes, before replies go out.
pub fn feed_writes(st: &mut State, ops: &[crate::server::propagation::Op]) {
    if st.repl.backlog.is_none() || st.repl.is_replica() || ops.is_empty() {
        return;
    }
    let mut buf = Vec::with_capacity(64 * ops.len());
    for op in ops {
        if st.repl.selected_db != Some(op.db) {
            crate::persistence::aof::encode_command(&mut buf, &[b"SELECT".as_slice(), op.db.to_string().as_bytes()]);
            st.repl.selected_db = Some(op.db);
        }
        crate::persistence::aof::encode_command(&mut buf, &op.argv);
    }
    st.repl.feed(Bytes::from(buf));
}

/// The replication history an RDB file recorded, found at start-up (loadDataFromDisk). A server
/// that is to be a replica continues it with its master; a master keeps it as the secondary
/// history, so replicas that followed it before the restart continue partially.
pub fn restore_history(st: &mut State, id: String, offset: u64) {
    let size = st.config.int("repl-backlog-size").max(1) as u64;
    let to_be_replica = matches!(st.config.val("replicaof"), crate::config::Val::Replicaof(Some(_)));
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
