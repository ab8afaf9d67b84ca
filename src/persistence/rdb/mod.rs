//! The RDB file format of Redis 7.0 (dump.rdb, RDB version 10): `load` reads every format Redis
//! 7.0 reads (versions 1 to 10, including the ziplist and zipmap encodings of older files), and
//! `Writer` writes version 10 as Redis 7.0.15 writes our encodings, so that the real server and
//! redis-check-rdb accept our files.

mod dump;
mod intset;
mod read;
mod write;
mod ziplist;
mod zipmap;

pub use dump::{functions_payload, payload_value, seal, value_payload, verify_payload, FunctionRecords};
pub use read::load;
pub use write::{quicklist_shape, serialized_len, set_packed_threshold, WriteOptions, Writer, DEFAULT_LIST_FILL};

/// How many quicklist nodes Redis holds `list` in (what lazy freeing counts as its allocations):
/// the nodes the writer gives it.
pub fn quicklist_node_count(list: &crate::types::List) -> usize {
    write::quicklist_node_count(list, DEFAULT_LIST_FILL)
}

/// The RDB version we write; also the newest we read (Redis 7.0's RDB_VERSION).
pub const RDB_VERSION: u32 = 10;

/// One key read from the file, with what the file says about it.
#[derive(Debug)]
pub struct LoadedKey {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: crate::keyspace::Value,
    /// Absolute Unix time in milliseconds.
    pub expire_at_ms: Option<u64>,
    /// Seconds since last access (written under an LRU maxmemory-policy).
    pub lru_idle_secs: Option<u64>,
    /// The LFU counter (written under an LFU maxmemory-policy).
    pub lfu_freq: Option<u8>,
}

/// An item of the file, in file order.
#[derive(Debug)]
pub enum Event {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    ResizeDb {
        db: usize,
        keys: u64,
        expires: u64,
    },
    Key(LoadedKey),
    /// A function library (RDB_OPCODE_FUNCTION2): its code, `#!lua name=...` line included.
    Function(Vec<u8>),
}

/// The message of a LoadError where the input ended before the file did.
pub const TRUNCATED: &str = "unexpected end of file";

/// Why a file could not be loaded, and the byte offset in the file where that was found.
#[derive(Debug)]
pub struct LoadError {
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for LoadError {}

/// Opcodes and value types of rdb.h.
mod code {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;

    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;

    /// Quicklist node containers (QUICKLIST_NODE_CONTAINER_*).
    pub const CONTAINER_PLAIN: u64 = 1;
    pub const CONTAINER_PACKED: u64 = 2;

    /// Length prefixes: the two top bits of the first byte.
    pub const LEN_6BIT: u8 = 0;
    pub const LEN_14BIT: u8 = 1;
    pub const LEN_ENCVAL: u8 = 3;
    pub const LEN_32BIT: u8 = 0x80;
    pub const LEN_64BIT: u8 = 0x81;
    /// Special string encodings after LEN_ENCVAL.
    pub const ENC_INT8: u8 = 0;
    pub const ENC_INT16: u8 = 1;
    pub const ENC_INT32: u8 = 2;
    pub const ENC_LZF: u8 = 3;
}

pub(crate) use crate::types::listpack::{BlobError, Element};

/// Redis's crc64 (Jones polynomial, reflected), computed over everything before the checksum.
pub(crate) static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);
