//! A client's replication state, and what a connection that becomes a replica carries between
//! the replication runtime and the network runtime: what REPLCONF announced, and the handover of
//! the stream (a partial resync) or of the RDB (a full one).

use std::path::PathBuf;

use bytes::Bytes;
use tokio::sync::mpsc;

/// A client's replication state, kept with its session.
#[derive(Default)]
pub struct ClientRepl {
    /// What REPLCONF announced, for a SYNC/PSYNC that follows.
    pub conf: ReplConf,
    /// Set by SYNC/PSYNC: the connection becomes a replica once the reply is written.
    pub handover: Option<Handover>,
    /// The link to this server's master: its writes are obeyed, never refused.
    pub is_master: bool,
    /// The replication offset this client's last write reached (WAIT waits for it).
    pub woff: u64,
    /// The client wrote in this batch and its writes are not in the stream yet.
    pub unflushed_write: bool,
}

/// What the client announced with REPLCONF before SYNC/PSYNC.
#[derive(Default, Clone, Debug)]
pub struct ReplConf {
    pub listening_port: u16,
    pub ip_address: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// REPLCONF rdb-filter-only was sent: the replica wants a filtered RDB, which only a diskless
    /// transfer can carry.
    pub rdb_filtered: bool,
}

/// How a connection continues once it became a replica.
pub enum Handover {
    /// The stream from this offset (+CONTINUE was the reply).
    Partial { from: u64 },
    /// A full resync: the RDB comes through `rdb`; `psync` says whether +FULLRESYNC is sent.
    Full { psync: bool, rdb: mpsc::Receiver<RdbPiece> },
}

/// What a replica's task is sent of its full resync.
#[derive(Debug)]
pub enum RdbPiece {
    /// The sync started at `offset`; a diskless payload is framed by `eof_mark`.
    Start {
        replid: String,
        offset: u64,
        eof_mark: Option<[u8; 40]>,
    },
    /// Bytes of a diskless payload.
    Data(Bytes),
    /// The end of a diskless payload.
    End,
    /// The disk-based payload, complete.
    File(PathBuf),
    Failed,
}
