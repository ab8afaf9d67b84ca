//! Persistence's state, as the core holds it in `State`: the snapshot child and save history,
//! a load in progress, and the open append-only file with its write path (the core's write
//! propagation appends to it before replies go out). Data and the operations on it alone;
//! snapshots, rewrites and loading are in the other files of `persistence`. It sits in the
//! core layer, below the runtimes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::aof::{self, AofFile, IncrFile, Manifest};
use crate::server::propagation::Op;
use crate::server::state::State;
use crate::util::sys::Pid;

/// Where a snapshot stands, for INFO persistence, LASTSAVE and MISCONF.
pub struct Snapshots {
    pub child: Option<Child>,
    /// The last background save failed (rdb_last_bgsave_status:err).
    pub last_bgsave_failed: bool,
    pub last_bgsave_secs: i64,
    /// Successful saves since start-up (rdb_saves).
    pub saves: u64,
    /// When the last attempt started, for the retry delay after a failure (unix secs).
    pub last_attempt: i64,
    /// BGSAVE SCHEDULE asked for one while another was running.
    pub scheduled: bool,
    /// Keys loaded and keys skipped as expired by the last load (rdb_last_load_keys_*).
    pub last_load: (u64, u64),
    /// How long the last fork took (the stall it caused), and how many there were.
    pub latest_fork_usec: u64,
    pub total_forks: u64,
}

pub struct Child {
    pub pid: Pid,
    pub started: Instant,
    /// The changes counted when the child took its image: those are saved once it succeeds.
    pub dirty_at_start: u64,
    /// It writes to replicas (a diskless sync), not to the RDB file.
    pub to_socket: bool,
}

impl Default for Snapshots {
    fn default() -> Snapshots {
        Snapshots {
            child: None,
            last_bgsave_failed: false,
            last_bgsave_secs: -1,
            saves: 0,
            last_attempt: 0,
            scheduled: false,
            last_load: (0, 0),
            latest_fork_usec: 0,
            total_forks: 0,
        }
    }
}

/// A load in progress, for INFO's loading fields and the systemd status line.
pub struct Loading {
    pub started: i64,
    pub total_bytes: u64,
    pub read_bytes: Arc<AtomicU64>,
}

impl Loading {
    /// Before anything is known of the file.
    pub fn starting() -> Loading {
        Loading { started: crate::util::time::unix_secs(), total_bytes: 0, read_bytes: Arc::default() }
    }

    pub fn percent(&self) -> f64 {
        if self.total_bytes == 0 {
            return 0.0;
        }
        self.read_bytes.load(Ordering::Relaxed) as f64 * 100.0 / self.total_bytes as f64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    Always,
    Everysec,
    No,
}

impl Fsync {
    pub fn from_config(st: &State) -> Fsync {
        match st.config.str(crate::ckey!("appendfsync")) {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::Everysec,
        }
    }
}

/// A BGREWRITEAOF child writing the next base.
pub struct RewriteChild {
    pub pid: Pid,
    pub started: Instant,
    /// The base it writes, and the first incr file that follows it.
    pub(super) base: AofFile,
    pub(super) first_incr_seq: u64,
    /// Where the child writes it.
    pub(super) tmp: PathBuf,
}

pub struct Appendonly {
    pub(super) dir: PathBuf,
    pub(super) filename: String,
    pub(super) manifest: Manifest,
    pub(super) incr: IncrFile,
    /// The database the incr file's commands currently apply to (None: the next write selects).
    pub(super) selected: Option<usize>,
    pub fsync: Fsync,
    pub(super) last_fsync: Instant,
    pub rewrite: Option<RewriteChild>,
    pub rewrite_scheduled: bool,
    pub last_rewrite_failed: bool,
    pub rewrites: u64,
    /// Why the last append or fsync failed; writes are refused until one succeeds.
    pub write_error: Option<String>,
    /// The size of all the AOF's files, and what it was after the last rewrite (or at start-up):
    /// auto-aof-rewrite-percentage compares the two.
    pub current_size: u64,
    pub base_size: u64,
    /// The second of the last #TS annotation.
    pub(super) last_timestamp: i64,
    /// Writes a failed append left to write again, before any newer ones.
    pub(super) unwritten: Vec<Op>,
}

/// Appends writes taken from the write stream, selecting databases as needed; with
/// `appendfsync always` they are on disk when this returns. Called before replies are sent.
/// Writes for the AOF that wait to be written with the next `append` (see
/// `propagation::flush_deferred`). False if none is for the AOF (PUBLISH is for replicas only),
/// or there is no AOF.
pub fn queue(st: &mut State, ops: Vec<Op>) -> bool {
    let Some(aof) = st.aof.as_mut() else { return false };
    let any = ops.iter().any(|op| op.to_aof);
    aof.unwritten.extend(ops);
    any
}

pub fn append(st: &mut State, ops: Vec<Op>) {
    let timestamps = st.config.bool(crate::ckey!("aof-timestamp-enabled"));
    let flush_sleep_us = st.aof_flush_sleep_us;
    let Some(aof) = st.aof.as_mut() else { return };
    let ops = if aof.unwritten.is_empty() {
        ops
    } else {
        let mut all = std::mem::take(&mut aof.unwritten);
        all.extend(ops);
        all
    };
    if ops.is_empty() {
        return;
    }
    let mut buf = Vec::with_capacity(64 * ops.len());
    // aof-timestamp-enabled: a #TS annotation whenever the second changes (point-in-time recovery).
    if timestamps {
        let now = crate::util::time::unix_secs();
        if aof.last_timestamp != now {
            buf.extend_from_slice(&aof::timestamp_annotation(now));
            aof.last_timestamp = now;
        }
    }
    for op in ops.iter().filter(|op| op.to_aof) {
        if aof.selected != Some(op.db) {
            aof::encode_command(&mut buf, &[b"SELECT".as_slice(), op.db.to_string().as_bytes()]);
            aof.selected = Some(op.db);
        }
        aof::encode_command(&mut buf, &op.argv);
    }
    // DEBUG AOF-FLUSH-SLEEP: a slow disk, for tests; the server waits as Redis's does.
    if flush_sleep_us > 0 {
        crate::server::busy::blocking(|| std::thread::sleep(std::time::Duration::from_micros(flush_sleep_us)));
    }
    let result = aof.incr.append(&buf).map_err(|e| {
        // flushAppendOnlyFile logs a write error at most once per AOF_WRITE_LOG_ERROR_RATE.
        let now = crate::util::time::unix_secs();
        if now - LAST_WRITE_ERROR_LOG.load(std::sync::atomic::Ordering::Relaxed) > AOF_WRITE_LOG_ERROR_RATE {
            LAST_WRITE_ERROR_LOG.store(now, std::sync::atomic::Ordering::Relaxed);
            if e.written == 0 {
                tracing::warn!("Error writing to the AOF file: {}", crate::util::sys::error_text(&e.error));
            } else {
                tracing::warn!(
                    "Short write while writing to the AOF file: (nwritten={}, expected={})",
                    e.written,
                    buf.len()
                );
            }
        }
        e.error
    });
    if result.is_ok() && aof.fsync == Fsync::Always {
        if let Err(e) = aof.incr.sync() {
            tracing::warn!(
                "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                crate::util::sys::error_text(&e)
            );
            std::process::exit(1);
        }
    }
    match result {
        Ok(()) => {
            aof.current_size += buf.len() as u64;
            if aof.write_error.take().is_some() {
                tracing::warn!("AOF write error looks solved, Redis can write again.");
            }
            if aof.fsync == Fsync::Always {
                aof.last_fsync = Instant::now();
            }
        }
        Err(e) => {
            if aof.fsync == Fsync::Always {
                // The replies of these writes are about to go out: with `always` nothing may be
                // acknowledged that is not on disk, so the server stops, as Redis does.
                tracing::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                std::process::exit(1);
            }
            // The file holds what it held before this write: replay it into the next write.
            aof.selected = None;
            aof.write_error = Some(crate::util::sys::error_text(&e));
            aof.unwritten = ops;
        }
    }
}

/// Redis's AOF_WRITE_LOG_ERROR_RATE: seconds between two log lines about AOF write errors.
const AOF_WRITE_LOG_ERROR_RATE: i64 = 30;
static LAST_WRITE_ERROR_LOG: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
