//! RDB snapshots of the running server: SAVE (in place, under the keyspace lock), BGSAVE (a forked
//! child writes the copy-on-write image while the parent keeps serving), the `save` points, and
//! the bookkeeping INFO and MISCONF report.
//!
//! Why fork: the child gets a point-in-time copy of the whole keyspace for the cost of copying
//! page tables (a few milliseconds per million keys), and only pages the parent writes to while
//! the child runs are duplicated. The fork happens while the forking thread holds the keyspace
//! lock, so the image is between two commands; the child touches nothing but that image, the C
//! allocator (which jemalloc keeps usable after fork, through its atfork handlers) and its own file, and leaves with _exit.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::rdb::{WriteOptions, Writer};
pub use super::state::{Child, Snapshots};
use crate::server::state::State;
use crate::util::sys::{self, Pid, Signal, WaitStatus};

/// CONFIG_BGSAVE_RETRY_DELAY: after a failed save, save points wait this long before trying again.
const RETRY_DELAY_SECS: i64 = 5;

/// The configured RDB file (dir is the working directory, as Redis chdirs into it).
pub fn rdb_path(st: &State) -> PathBuf {
    PathBuf::from(st.config.str(crate::ckey!("dbfilename")))
}

fn write_options(st: &State) -> WriteOptions {
    WriteOptions {
        compression: st.config.bool(crate::ckey!("rdbcompression")),
        checksum: st.config.bool(crate::ckey!("rdbchecksum")),
    }
}

/// Writes every database to `out` in RDB format (rdbSaveRio): the aux fields, then each non-empty
/// database with its sizes, then every key with its expiry.
pub fn write_dataset<W: Write>(st: &State, out: W) -> std::io::Result<W> {
    write_dataset_counting(st, out, &AtomicU64::new(0))
}

/// `write_dataset`, counting the keys written into `written` (for progress reports).
fn write_dataset_counting<W: Write>(st: &State, out: W, written: &AtomicU64) -> std::io::Result<W> {
    // rdb-key-save-delay: a pause per key, so tests can watch a save in progress.
    let delay = u64::try_from(st.config.int(crate::ckey!("rdb-key-save-delay"))).unwrap_or(0);
    let mut w = Writer::new(out, write_options(st))?.with_list_fill(st.hot.encoding.list_max_listpack_size);
    w.aux("redis-ver", crate::REDIS_VERSION.as_bytes())?;
    w.aux("redis-bits", b"64")?;
    w.aux("ctime", crate::util::time::unix_secs().to_string().as_bytes())?;
    w.aux("used-mem", crate::alloc::allocated().to_string().as_bytes())?;
    if let Some((db, id, offset)) = crate::replication::save_info(st) {
        w.aux("repl-stream-db", db.to_string().as_bytes())?;
        w.aux("repl-id", id.as_bytes())?;
        w.aux("repl-offset", offset.to_string().as_bytes())?;
    }
    w.aux("aof-base", b"0")?;
    // rdbSaveFunctions: the libraries come after the aux fields, before the databases.
    for lib in st.scripts.libraries.libraries.values() {
        w.function(&lib.code)?;
    }
    for (i, db) in st.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.select_db(i, db.len() as u64, db.volatile_len() as u64)?;
        for e in db.iter() {
            w.key(e.key(), e.value(), e.expire_at())?;
            written.fetch_add(1, Ordering::Relaxed);
            if delay > 0 {
                std::thread::sleep(std::time::Duration::from_micros(delay));
            }
        }
    }
    w.finish()
}

/// Saves the dataset to `path` atomically: a temp file in the same directory, fsync, rename over
/// the old file, fsync of the directory. On any error the old file is untouched and the temp file
/// removed.
pub fn save_to(st: &State, path: &Path) -> std::io::Result<()> {
    write_atomically(path, |out| write_dataset(st, out))
}

/// Writes `path` through `write`: a temp file in the same directory, fsync, rename over the old
/// file, fsync of the directory. On any error the old file is untouched and the temp file removed.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(BufWriter<File>) -> std::io::Result<BufWriter<File>>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut out = write(BufWriter::with_capacity(1 << 16, file))?;
        out.flush()?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// SAVE and SHUTDOWN's save: in place, under the lock. Updates LASTSAVE and the change counter.
pub fn save(st: &mut State) -> Result<(), String> {
    save_counting(st, &AtomicU64::new(0))
}

fn save_counting(st: &mut State, written: &AtomicU64) -> Result<(), String> {
    crate::server::propagation::flush_completed(st);
    let path = rdb_path(st);
    st.snapshots.last_attempt = crate::util::time::unix_secs();
    match save_in_place(st, &path, written) {
        Ok(()) => {
            tracing::info!("DB saved on disk");
            st.dirty = 0;
            st.lastsave = crate::util::time::unix_secs();
            st.snapshots.last_bgsave_failed = false;
            st.snapshots.saves += 1;
            Ok(())
        }
        // Unlike a background save, a failed SAVE does not turn on MISCONF (as in Redis).
        // save_in_place has logged why, in rdbSave's words.
        Err(msg) => Err(msg),
    }
}

/// rdbSave: the dataset to `temp-<pid>.rdb`, flushed, fsynced, renamed over `path`, the directory
/// fsynced; a failure is logged as Redis logs it (naming the step that failed) and leaves the old
/// file as it was and no temp file.
fn save_in_place(st: &State, path: &Path, written: &AtomicU64) -> Result<(), String> {
    let tmp_name = format!("temp-{}.rdb", std::process::id());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(&tmp_name);
    let cwd = || std::env::current_dir().map_or("unknown".to_string(), |d| d.display().to_string());
    let file = File::create(&tmp).map_err(|e| {
        let e = sys::error_text(&e);
        let cwd = cwd();
        let msg = format!("Failed opening the temp RDB file {tmp_name} (in server root dir {cwd}) for saving: {e}");
        tracing::warn!("{msg}");
        msg
    })?;
    let failed = |op: &str, e: std::io::Error| {
        let msg = format!("Write error saving DB on disk({op}): {}", sys::error_text(&e));
        tracing::warn!("{msg}");
        let _ = std::fs::remove_file(&tmp);
        Err(msg)
    };
    let counted = Counting { inner: BufWriter::with_capacity(1 << 16, file), bytes: 0 };
    let mut out = match write_dataset_counting(st, counted, written) {
        Ok(out) => out,
        Err(e) => return failed("rdbSaveRio", e),
    };
    if let Err(e) = out.inner.flush() {
        // Redis writes through stdio's 4 KB buffer: what fails at the end fails in its fflush only
        // when the bytes that did not fit were the last, partial block.
        let on_disk = std::fs::metadata(&tmp).map_or(0, |m| m.len());
        let op = if on_disk / STDIO_BLOCK * STDIO_BLOCK + STDIO_BLOCK >= out.bytes { "fflush" } else { "rdbSaveRio" };
        return failed(op, e);
    }
    let file = match out.inner.into_inner() {
        Ok(f) => f,
        Err(e) => return failed("fflush", e.into_error()),
    };
    if let Err(e) = file.sync_all() {
        return failed("fsync", e);
    }
    drop(file);
    if let Err(e) = std::fs::rename(&tmp, path) {
        let e = sys::error_text(&e);
        let cwd = cwd();
        let msg = format!(
            "Error moving temp DB file {tmp_name} on the final destination {} (in server root dir {cwd}): {e}",
            path.display()
        );
        tracing::warn!("{msg}");
        let _ = std::fs::remove_file(&tmp);
        return Err(msg);
    }
    match File::open(&dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) => failed("fsyncFileDir", e),
    }
}

/// glibc's stdio buffer for a file on a 4 KB-block file system (st_blksize).
const STDIO_BLOCK: u64 = 4096;

/// Counts the bytes written through it (the size the file will have).
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    /// Deferred: the writer's own final flush is left to save_in_place, which tells a failure
    /// there (Redis's fflush) from one while writing.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// BGSAVE: forks a child that saves the image it was born with. Returns the child's pid.
pub fn start_background_save(st: &mut State) -> Result<Pid, String> {
    if st.snapshots.child.is_some() {
        return Err("Background save already in progress".into());
    }
    st.snapshots.last_attempt = crate::util::time::unix_secs();
    let path = rdb_path(st);
    fork_child(st, false, |st| save_to(st, &path))
}

/// A diskless sync's child: writes the image into `pipe` (the replicas' relay reads the other end).
pub fn start_socket_child(
    st: &mut State,
    pipe: std::os::fd::OwnedFd,
    read_end: std::os::fd::RawFd,
) -> Result<Pid, String> {
    if st.snapshots.child.is_some() {
        return Err("Background save already in progress".into());
    }
    let mut pipe = Some(pipe);
    fork_child(st, true, |st| {
        // As Redis's child does: without the parent's reading end, a parent that died makes the
        // child's writes fail (EPIPE) instead of blocking forever on a pipe it still reads itself.
        // Only the child's copy closes: the parent keeps its own descriptor.
        let _ = nix::unistd::close(read_end);
        let file = File::from(pipe.take().ok_or_else(|| std::io::Error::other("no pipe"))?);
        write_dataset(st, BufWriter::with_capacity(1 << 16, file))?.flush()
    })
}

fn fork_child(
    st: &mut State,
    to_socket: bool,
    write: impl FnOnce(&State) -> std::io::Result<()>,
) -> Result<Pid, String> {
    crate::server::propagation::flush_completed(st);
    let fork_start = Instant::now();
    // SAFETY: the child writes the image it was born with and ends. `st` is the keyspace under
    // the state lock this thread holds, so no other thread was changing it at the fork; the
    // encoders allocate (jemalloc is fork-safe: its atfork handlers) and write only the child's own file or pipe. Nothing
    // in `write` logs or takes a lock another thread may hold.
    let forked = unsafe { sys::fork_child(|| i32::from(write(st).is_err())) };
    let pid = match forked {
        Ok(pid) => pid,
        Err(errno) => {
            let e = std::io::Error::from(errno);
            st.snapshots.last_bgsave_failed = true;
            tracing::warn!("Can't save in background: fork: {e}");
            return Err(format!("Can't save in background: fork: {e}"));
        }
    };
    st.snapshots.latest_fork_usec = fork_start.elapsed().as_micros() as u64;
    st.snapshots.total_forks += 1;
    tracing::info!("Background {} started by pid {pid}", if to_socket { "RDB transfer" } else { "saving" });
    st.snapshots.child = Some(Child { pid, started: Instant::now(), dirty_at_start: st.dirty, to_socket });
    Ok(pid)
}

/// A background child (a save, or a diskless transfer to replicas) ended: the event the server
/// dispatches to what waited for it (replicas waiting for their full sync).
#[derive(Debug, Clone, Copy)]
pub struct ChildFinished {
    pub ok: bool,
}

/// From the cron, after `reap_child` and its event: starts a save whose `save` point is due or
/// that was scheduled.
pub fn cron(st: &mut State) {
    if st.snapshots.child.is_some() || st.loading.is_some() {
        return;
    }
    let now = crate::util::time::unix_secs();
    if st.snapshots.scheduled {
        st.snapshots.scheduled = false;
        let _ = start_background_save(st);
        return;
    }
    let points = match st.config.val(crate::ckey!("save")) {
        crate::config::Val::Save(p) => p.clone(),
        _ => Vec::new(),
    };
    let retry_ok = !st.snapshots.last_bgsave_failed || now - st.snapshots.last_attempt > RETRY_DELAY_SECS;
    for (secs, changes) in points {
        if st.dirty >= changes as u64 && now - st.lastsave > secs && retry_ok {
            tracing::info!("{changes} changes in {secs} seconds. Saving...");
            let _ = start_background_save(st);
            return;
        }
    }
}

/// Collects a finished child (checkChildrenDone), if one has finished.
pub fn reap_child(st: &mut State) -> Option<ChildFinished> {
    let child = st.snapshots.child.as_ref()?;
    let status = sys::try_reap(child.pid)?;
    let child = st.snapshots.child.take()?;
    let ok = matches!(status, Ok(WaitStatus::Exited(_, 0)));
    if child.to_socket {
        // A transfer to replicas is not a save: LASTSAVE and the change count stay.
        if ok {
            tracing::info!("Background RDB transfer terminated with success");
        } else {
            tracing::warn!("Background transfer error");
        }
        return Some(ChildFinished { ok });
    }
    st.snapshots.last_bgsave_secs = child.started.elapsed().as_secs() as i64;
    if ok {
        tracing::info!("Background saving terminated with success");
        st.dirty = st.dirty.saturating_sub(child.dirty_at_start);
        st.lastsave = crate::util::time::unix_secs();
        st.snapshots.last_bgsave_failed = false;
        st.snapshots.saves += 1;
    } else if let Ok(WaitStatus::Signaled(_, signal, _)) = status {
        tracing::warn!("Background saving terminated by signal {}", signal as i32);
        st.snapshots.last_bgsave_failed = true;
    } else {
        tracing::warn!("Background saving error");
        st.snapshots.last_bgsave_failed = true;
    }
    Some(ChildFinished { ok })
}

/// Whether writes are refused because saving failed (stop-writes-on-bgsave-error with save
/// points configured), as Redis's writeCommandsDeniedByDiskError.
pub fn writes_denied(st: &State) -> bool {
    st.snapshots.last_bgsave_failed
        && st.config.bool(crate::ckey!("stop-writes-on-bgsave-error"))
        && matches!(st.config.val(crate::ckey!("save")), crate::config::Val::Save(p) if !p.is_empty())
}

/// Redis's shared.bgsaveerr.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Stops a running child at shutdown (killRDBChild) and removes its temp file.
pub fn kill_child(st: &mut State) {
    if let Some(child) = st.snapshots.child.take() {
        sys::kill_and_reap(child.pid, Signal::SIGUSR1);
        let _ = std::fs::remove_file(format!("temp-{}.rdb", child.pid));
    }
}

/// INFO's rdb_current_bgsave_time_sec.
pub fn current_secs(st: &State) -> i64 {
    st.snapshots.child.as_ref().map_or(-1, |c| c.started.elapsed().as_secs() as i64)
}

/// Saves before exiting when `save` points are configured (prepareForShutdown). Err: the save
/// failed and the server must not exit.
pub fn save_for_shutdown(st: &mut State) -> Result<(), String> {
    kill_child(st);
    if st.loading.is_some() {
        // A half-loaded dataset must never replace the file it is being loaded from.
        tracing::warn!("Not saving: the dataset is still being loaded.");
        return Ok(());
    }
    tracing::info!("Saving the final RDB snapshot before exiting.");
    // Under systemd the save reports its progress and keeps extending the stop timeout while keys
    // are being written: a dataset that takes longer to save than TimeoutStopSec is not killed
    // half-saved (which would lose every write since the last save).
    let total: u64 = st.dbs.iter().map(|d| d.len() as u64).sum();
    let written = Arc::new(AtomicU64::new(0));
    let _report = crate::systemd::report_progress({
        let written = written.clone();
        move || {
            let n = written.load(Ordering::Relaxed);
            (format!("Saving the final RDB snapshot: {n} of {total} keys"), n)
        }
    });
    save_counting(st, &written)
}

/// Whether a shutdown without SAVE/NOSAVE saves: when save points are configured.
pub fn save_points_configured(st: &State) -> bool {
    matches!(st.config.val(crate::ckey!("save")), crate::config::Val::Save(p) if !p.is_empty())
}
