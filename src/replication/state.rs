//! Replication's own state, as the core holds it in `State::repl`: the history (replication ID,
//! offset, replid2), the stream buffer, this master's replicas, its link to its own master, a
//! full sync in progress, WAITs, FAILOVER. Data and the operations on it alone; the protocol
//! and the tasks are in the other files of `replication`. It sits in the core layer (below the
//! runtimes), so that the core's write propagation can feed the stream.

use bytes::Bytes;
use hashbrown::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use super::backlog::Backlog;
use crate::server::handover::RdbPiece;
use crate::server::state::ClientId;

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
    pub replicas: HashMap<ClientId, Replica>,
    pub failover: Failover,
    /// Clients blocked in WAIT.
    pub waits: Vec<Wait>,
    /// The full-sync RDB being produced, if any.
    pub sync: Option<SyncJob>,
    /// `replicaof`: the master this server follows, None for a master.
    pub master: Option<MasterLink>,
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

    /// Appends the recorded writes to the stream of a master's replicas, with SELECT where the
    /// database changes. Called with the writes the AOF also takes, before replies go out.
    pub fn feed_writes(&mut self, ops: &[crate::server::propagation::Op]) {
        if self.backlog.is_none() || self.is_replica() || ops.is_empty() {
            return;
        }
        // Sized exactly: the backlog keeps the buffer, spare capacity and all, and what a
        // replica has still to be sent counts against its limits at what it really takes.
        let mut len = 0;
        let mut db = self.selected_db;
        for op in ops.iter().filter(|op| op.to_replicas) {
            if db != Some(op.db) {
                len += crate::persistence::aof::encoded_len(&[
                    b"SELECT".as_slice(),
                    itoa::Buffer::new().format(op.db).as_bytes(),
                ]);
                db = Some(op.db);
            }
            len += crate::persistence::aof::encoded_len(&op.argv);
        }
        let mut buf = Vec::with_capacity(len);
        for op in ops.iter().filter(|op| op.to_replicas) {
            if self.selected_db != Some(op.db) {
                crate::persistence::aof::encode_command(
                    &mut buf,
                    &[b"SELECT".as_slice(), itoa::Buffer::new().format(op.db).as_bytes()],
                );
                self.selected_db = Some(op.db);
            }
            crate::persistence::aof::encode_command(&mut buf, &op.argv);
        }
        self.feed(Bytes::from(buf));
    }

    /// Appends bytes of the replication stream and wakes the replicas' tasks.
    pub fn feed(&mut self, data: Bytes) {
        self.master_repl_offset += data.len() as u64;
        let Some(backlog) = self.backlog.as_mut() else { return };
        backlog.append(data);
        self.trim_backlog();
        self.offset_watch.send_replace(self.master_repl_offset);
    }

    /// Drops the backlog's history past repl-backlog-size that no connected replica still has
    /// to send. Called as the stream grows, and, as Redis's freeClient and resize do, when a
    /// replica that held history leaves or the size shrinks: nothing else may be fed for a
    /// long time, and what a dropped replica held must not stay counted in used_memory.
    pub fn trim_backlog(&mut self) {
        let pinned = self.replicas.values().map(|r| r.next_offset).min().unwrap_or(u64::MAX);
        if let Some(backlog) = self.backlog.as_mut() {
            backlog.trim(pinned);
        }
    }
}

/// Where a replica stands, as INFO names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for the RDB to be started or produced (wait_bgsave).
    WaitBgsave,
    /// Receiving the RDB (send_bulk).
    SendBulk,
    /// Receiving the stream (online).
    Online,
}

impl ReplicaState {
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsave => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

pub struct Replica {
    /// The address the replica is reached at (REPLCONF ip-address, else its peer address).
    pub ip: String,
    /// REPLCONF listening-port.
    pub port: u16,
    pub state: ReplicaState,
    /// The first stream byte its task has not taken yet: the stream buffer keeps it.
    pub next_offset: u64,
    pub ack_offset: u64,
    /// When the last REPLCONF ACK arrived (unix ms); lag is measured from it.
    pub ack_time_ms: u64,
    /// It understands a diskless transfer ($EOF:<mark>).
    pub capa_eof: bool,
    /// While it waits for its full resync: where the RDB is to be sent.
    pub rdb_tx: Option<mpsc::Sender<RdbPiece>>,
    /// Since when it waits for a full resync to start (repl-diskless-sync-delay counts from it).
    pub waiting_since: std::time::Instant,
    /// It acknowledged at least once on this connection.
    pub acked: bool,
    /// Its full resync has started (it is not waiting for one any more).
    pub sync_started: bool,
}

impl Replica {
    /// "ip:port", as Redis's logs name a replica.
    pub fn name(&self) -> String {
        display_name(&self.ip, self.port)
    }
}

/// "ip:port", or "ip:<unknown-replica-port>" for one that announced no port (redis-cli --rdb),
/// as replicationGetSlaveName.
pub fn display_name(ip: &str, port: u16) -> String {
    match port {
        0 => format!("{ip}:<unknown-replica-port>"),
        port => format!("{ip}:{port}"),
    }
}

/// A client blocked in WAIT.
pub struct Wait {
    pub client: ClientId,
    /// The stream offset its writes reach.
    pub offset: u64,
    pub replicas: i64,
}

/// The link's state, as ROLE names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    Handshake,
    /// Receiving the RDB of a full resync.
    Transfer,
    Connected,
}

impl LinkState {
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// `replicaof host port` and the state of the link to that master.
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Identifies this REPLICAOF: the link task of an earlier one stops when it changes.
    pub generation: u64,
    /// Last data from the master (unix ms), for master_last_io_seconds_ago.
    pub last_io_ms: u64,
    /// When the link went down (unix secs), 0 if it was never up.
    pub down_since: i64,
    /// The stream read from the master so far (slave_read_repl_offset).
    pub read_offset: u64,
    /// A full resync in progress: (total bytes or -1 when streamed, bytes read, last read ms).
    pub transfer: Option<(i64, u64, u64)>,
    /// The history this server can ask to continue (its own, or its last master's).
    pub can_continue: bool,
    /// The master client, while the link is up.
    pub client: Option<ClientId>,
    /// The database the master's stream last selected (saved in RDB files as repl-stream-db).
    pub stream_db: usize,
}

impl MasterLink {
    pub fn is_connected(&self) -> bool {
        self.state == LinkState::Connected
    }
}

pub struct SyncJob {
    /// The replication offset the RDB's image corresponds to.
    pub offset: u64,
    pub diskless: bool,
    pub replicas: Vec<ClientId>,
    /// Tells the diskless relay whether the child succeeded.
    pub(super) done: Option<oneshot::Sender<bool>>,
    /// Set by the diskless relay when the child's data found no replica left to take it.
    pub(super) abandoned: Arc<AtomicBool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailoverState {
    None,
    WaitForSync,
    InProgress,
}

impl FailoverState {
    pub fn name(&self) -> &'static str {
        match self {
            FailoverState::None => "no-failover",
            FailoverState::WaitForSync => "waiting-for-sync",
            FailoverState::InProgress => "failover-in-progress",
        }
    }
}

pub struct Failover {
    pub state: FailoverState,
    pub target: Option<(String, u16)>,
    /// Unix ms, 0 without TIMEOUT.
    pub end_ms: u64,
    pub force: bool,
}

impl Default for Failover {
    fn default() -> Failover {
        Failover { state: FailoverState::None, target: None, end_ms: 0, force: false }
    }
}
