//! What a connection that becomes a replica carries between the replication runtime and the
//! network runtime: what REPLCONF announced, and the handover of the stream (a partial resync)
//! or of the RDB (a full one).

use std::path::PathBuf;

use bytes::Bytes;
use tokio::sync::mpsc;

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
