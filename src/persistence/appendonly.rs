//! The append-only file of the running server (Redis 7's multi-part AOF): at start-up the AOF is
//! replayed (it wins over the RDB file), then every write the server executes (the propagation
//! stream) is appended to the current incr file before the replies go out, with `appendfsync`
//! deciding when it reaches the disk: `always` before the replies, `everysec` from the cron, `no`
//! when the kernel likes. BGREWRITEAOF forks a child that writes a new base (an RDB image) while
//! the parent appends to a fresh incr file; the manifest switches to them when the child is done.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::aof::{self, AofFile, FileKind, IncrFile, Manifest};
pub use super::state::{append, queue, Appendonly, Fsync, RewriteChild};
use crate::server::session::{Ctx, Session};
use crate::server::state::State;
use crate::server::Server;
use crate::util::sys::{self, Signal, WaitStatus};

/// The bytes the manifest's base and incr files take on disk.
fn files_size(dir: &Path, manifest: &Manifest) -> u64 {
    manifest
        .base
        .iter()
        .chain(manifest.incrs.iter())
        .filter_map(|f| std::fs::metadata(dir.join(&f.name)).ok())
        .map(|m| m.len())
        .sum()
}

/// Writes the dataset as an AOF base to `path` atomically: an RDB image with
/// `aof-use-rdb-preamble yes`, else the commands that rebuild it.
fn write_base(st: &State, path: &Path, rdb_preamble: bool) -> std::io::Result<()> {
    if rdb_preamble {
        super::snapshot::save_to(st, path)
    } else {
        super::snapshot::write_atomically(path, |mut out| {
            write_commands(st, &mut out)?;
            Ok(out)
        })
    }
}

/// Commands per key at most, for the big collections (AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_COMMAND: usize = 64;

/// The dataset as commands (rewriteAppendOnlyFileRio): first a FUNCTION LOAD per library
/// (rewriteFunctions), then per database a SELECT, per key the command that builds its value in
/// batches, then its expiry as PEXPIREAT.
fn write_commands(st: &State, out: &mut impl Write) -> std::io::Result<()> {
    use crate::keyspace::Value;
    let mut buf = Vec::with_capacity(1 << 16);
    for lib in st.scripts.libraries.libraries.values() {
        aof::encode_command(&mut buf, &[b"FUNCTION".as_slice(), b"LOAD", &lib.code]);
    }
    for (i, db) in st.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        aof::encode_command(&mut buf, &[b"SELECT".as_slice(), i.to_string().as_bytes()]);
        for e in db.iter() {
            let key = e.key();
            let mut batched = |cmd: &[u8], items: &mut dyn Iterator<Item = Vec<Vec<u8>>>| {
                let mut pending: Vec<Vec<u8>> = Vec::new();
                let mut count = 0;
                for item in items {
                    pending.extend(item);
                    count += 1;
                    if count == ITEMS_PER_COMMAND {
                        emit(&mut buf, cmd, key, &pending);
                        pending.clear();
                        count = 0;
                    }
                }
                if count > 0 {
                    emit(&mut buf, cmd, key, &pending);
                }
            };
            match e.value() {
                Value::List(l) => batched(b"RPUSH", &mut l.iter().map(|v| vec![v.to_vec()])),
                Value::Set(s) => batched(b"SADD", &mut s.iter_bytes().map(|m| vec![m.into_owned()])),
                Value::ZSet(z) => batched(
                    b"ZADD",
                    &mut z
                        .iter()
                        .map(|(m, sc)| vec![crate::util::numbers::format_f64_17g(sc).into_bytes(), m.to_vec()]),
                ),
                Value::Hash(h) => batched(b"HMSET", &mut h.iter().map(|(f, v)| vec![f.to_vec(), v.to_vec()])),
                Value::Stream(st) => rewrite_stream(&mut buf, key, st),
                v => {
                    let bytes = v.as_bytes().unwrap_or_default();
                    aof::encode_command(&mut buf, &[b"SET".as_slice(), key, &bytes]);
                }
            }
            if let Some(at) = e.expire_at() {
                aof::encode_command(&mut buf, &[b"PEXPIREAT".as_slice(), key, at.to_string().as_bytes()]);
            }
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)
}

/// The commands that rebuild a stream (rewriteStreamObject): an XADD per entry (or, for an
/// empty stream, `XADD key MAXLEN 0 0-1 x y`), XSETID with the counters, then per group XGROUP
/// CREATE with ENTRIESREAD, an XCLAIM ... JUSTID FORCE per pending entry and XGROUP
/// CREATECONSUMER for consumers without any.
fn rewrite_stream(buf: &mut Vec<u8>, key: &[u8], s: &crate::types::stream::Stream) {
    use crate::types::stream::StreamId;
    if s.is_empty() {
        aof::encode_command(buf, &[b"XADD".as_slice(), key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    } else {
        for entry in s.range(StreamId::MIN, StreamId::MAX, false) {
            let id = entry.id.to_bytes();
            let mut argv: Vec<&[u8]> = Vec::with_capacity(3 + entry.fields.len() * 2);
            argv.extend([b"XADD".as_slice(), key, &id]);
            for (f, v) in &entry.fields {
                argv.push(f);
                argv.push(v);
            }
            aof::encode_command(buf, &argv);
        }
    }
    let (last, added, max_deleted) =
        (s.last_id().to_bytes(), s.entries_added().to_string(), s.max_deleted_entry_id().to_bytes());
    aof::encode_command(
        buf,
        &[b"XSETID".as_slice(), key, &last, b"ENTRIESADDED", added.as_bytes(), b"MAXDELETEDID", &max_deleted],
    );
    for (name, g) in s.groups() {
        let read = g.entries_read.map_or(-1, |n| n as i64).to_string();
        let last = g.last_id.to_bytes();
        aof::encode_command(buf, &[b"XGROUP".as_slice(), b"CREATE", key, name, &last, b"ENTRIESREAD", read.as_bytes()]);
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                aof::encode_command(buf, &[b"XGROUP".as_slice(), b"CREATECONSUMER", key, name, cname]);
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                let (id, time, count) =
                    (id.to_bytes(), nack.delivery_time.to_string(), nack.delivery_count.to_string());
                aof::encode_command(
                    buf,
                    &[
                        b"XCLAIM".as_slice(),
                        key,
                        name,
                        cname,
                        b"0",
                        &id,
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        count.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

fn emit(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[Vec<u8>]) {
    let mut argv: Vec<&[u8]> = Vec::with_capacity(items.len() + 2);
    argv.push(cmd);
    argv.push(key);
    argv.extend(items.iter().map(Vec::as_slice));
    aof::encode_command(buf, &argv);
}

/// `appendonly yes` at start-up: replays the AOF if there is one (the RDB file is then not read,
/// as in Redis), or creates one holding the (empty) dataset, then starts appending.
pub fn start(server: &Arc<Server>) -> Result<(), String> {
    let (dir, filename, load_truncated) = {
        let st = server.lock();
        (
            PathBuf::from(st.config.str(crate::ckey!("appenddirname"))),
            st.config.str(crate::ckey!("appendfilename")).to_string(),
            st.config.bool(crate::ckey!("aof-load-truncated")),
        )
    };
    // Logged in full as Redis logs it; the empty message tells the start-up nothing is left to say.
    let mut found = Manifest::load(&dir, &filename).map_err(|e| {
        e.log_fatal();
        String::new()
    })?;
    // An AOF from Redis before 7.0 (one appendonly.aof in the data directory) moves into the
    // directory as its base, as Redis upgrades it.
    if aof::needs_upgrade(Path::new("."), &dir, &filename, found.as_ref()) {
        tracing::info!("Upgrading the append only file {filename} to the multi part format");
        found = Some(aof::upgrade(Path::new("."), &dir, &filename, found).map_err(|e| e.to_string())?);
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!("Can't open the append-only directory {}: {e}", dir.display(), e = crate::util::sys::error_text(&e))
    })?;
    // Whether an incr file is created now (with the base, or for a manifest without one).
    let creating = found.as_ref().is_none_or(|m| m.incrs.is_empty());
    let manifest = match found {
        Some(m) => {
            replay(server, &dir, &m, load_truncated)?;
            m
        }
        None => {
            let st = server.lock();
            let preamble = st.config.bool(crate::ckey!("aof-use-rdb-preamble"));
            tracing::info!("Creating AOF base file {} on server start", aof::base_name(&filename, 1, preamble));
            aof::create(&dir, &filename, preamble, |f| {
                let mut out = BufWriter::new(f);
                if preamble {
                    out = super::snapshot::write_dataset(&st, out)?;
                } else {
                    write_commands(&st, &mut out)?;
                }
                out.flush()
            })
            .map_err(|e| format!("Can't create the append-only file: {e}", e = crate::util::sys::error_text(&e)))?
        }
    };
    let mut st = server.lock();
    let aof = open(&dir, &filename, manifest, Fsync::from_config(&st)).map_err(|e| e.to_string())?;
    // aofOpenIfNeededOnServerStart's last word.
    let incr = aof.manifest.incrs.last().map(|f| f.name.as_str()).unwrap_or_default();
    if creating {
        tracing::info!("Creating AOF incr file {incr} on server start");
    } else {
        tracing::info!("Opening AOF incr file {incr} on server start");
    }
    st.aof = Some(aof);
    crate::replication::refresh_propagation(&mut st);
    Ok(())
}

/// Opens the last incr file for appending (adding one to the manifest if there is none).
fn open(dir: &Path, filename: &str, mut manifest: Manifest, fsync: Fsync) -> std::io::Result<Appendonly> {
    if manifest.incrs.is_empty() {
        let seq = manifest.base.as_ref().map_or(1, |b| b.seq);
        manifest.incrs.push(AofFile { name: aof::incr_name(filename, seq), seq, kind: FileKind::Incr });
        File::create(dir.join(&manifest.incrs[0].name))?;
        manifest.save(dir, filename)?;
    }
    let last = manifest.incrs.last().map(|f| f.name.clone()).unwrap_or_default();
    let incr = IncrFile::open(&dir.join(last))?;
    let size = files_size(dir, &manifest);
    Ok(Appendonly {
        current_size: size,
        base_size: size,
        last_timestamp: 0,
        unwritten: Vec::new(),
        dir: dir.to_path_buf(),
        filename: filename.to_string(),
        manifest,
        incr,
        selected: None,
        fsync,
        last_fsync: Instant::now(),
        rewrite: None,
        rewrite_scheduled: false,
        last_rewrite_failed: false,
        rewrites: 0,
        write_error: None,
    })
}

/// Replays the AOF into the keyspace, as a client that runs every command it finds, while other
/// clients are told -LOADING.
fn replay(server: &Arc<Server>, dir: &Path, manifest: &Manifest, load_truncated: bool) -> Result<(), String> {
    let start = Instant::now();
    let mut session = Session::new(0, "aof".into());
    session.authenticated = true;
    // Commands run in batches, one hold of the keyspace lock each, so clients told -LOADING
    // meanwhile are answered between them.
    let mut batch: Vec<Vec<Bytes>> = Vec::with_capacity(REPLAY_BATCH);
    let mut run_batch = |batch: &mut Vec<Vec<Bytes>>| {
        let mut st = server.lock();
        batch.drain(..).try_for_each(|argv| run_replayed(server, &mut st, &mut session, &argv))
    };
    let on_rdb = |path: &Path| super::load::load_unlocked(server, path);
    let on_command = |argv: Vec<Bytes>| {
        batch.push(argv);
        if batch.len() >= REPLAY_BATCH {
            run_batch(&mut batch)?;
        }
        Ok(())
    };
    let result = aof::replay(dir, manifest, load_truncated, on_rdb, on_command).and_then(|report| {
        run_batch(&mut batch)?;
        Ok(report)
    });
    // Redis logs the replay's own error (its words name the file and the fix), nothing more.
    result?;
    tracing::info!("DB loaded from append only file: {:.3} seconds", start.elapsed().as_secs_f64());
    Ok(())
}

/// DEBUG LOADAOF, with the keyspace lock held: what waits is written to the AOF, the dataset is
/// emptied and the AOF directory replayed again as the manifest on disk describes it. Nothing
/// replayed is propagated, and the changes are not counted (Redis sets dirty to 0). Redis exits
/// when there is no AOF or it cannot be replayed; this refuses an absent AOF before emptying
/// anything, and reports a failed replay.
pub fn reload_locked(server: &Server, st: &mut State) -> Result<(), String> {
    if st.aof.is_some() {
        append(st, Vec::new());
    }
    let dir = PathBuf::from(st.config.str(crate::ckey!("appenddirname")));
    let filename = st.config.str(crate::ckey!("appendfilename")).to_string();
    let load_truncated = st.config.bool(crate::ckey!("aof-load-truncated"));
    let manifest = Manifest::load(&dir, &filename)?
        .filter(|m| m.base.is_some() || !m.incrs.is_empty())
        .ok_or_else(|| format!("The AOF directory {} has no AOF to load", dir.display()))?;
    // emptyData: watchers, stream readers and tracking clients learn of it.
    st.empty_dataset();
    st.scripts.flush_functions();
    st.propagation.enabled = false;
    st.loading = Some(super::state::Loading::starting());
    let mut session = Session::new(0, "aof".into());
    session.authenticated = true;
    let state = std::cell::RefCell::new(&mut *st);
    let on_rdb = |path: &Path| super::load::load_locked(&mut state.borrow_mut(), path, false);
    let on_command = |argv: Vec<Bytes>| run_replayed(server, &mut state.borrow_mut(), &mut session, &argv);
    let result = aof::replay(&dir, &manifest, load_truncated, on_rdb, on_command);
    st.loading = None;
    crate::replication::refresh_propagation(st);
    st.dirty = 0;
    result.map(|_| tracing::warn!("Append Only File loaded by DEBUG LOADAOF"))
}

/// Replayed commands run per hold of the keyspace lock.
const REPLAY_BATCH: usize = 1024;

/// Runs one replayed command. MULTI and EXEC are only markers here: the whole replay is atomic to
/// clients anyway. An unknown command means the file is not ours to replay.
fn run_replayed(server: &Server, st: &mut State, session: &mut Session, argv: &[Bytes]) -> Result<(), String> {
    if argv.is_empty() {
        return Ok(());
    }
    if argv[0].eq_ignore_ascii_case(b"multi") || argv[0].eq_ignore_ascii_case(b"exec") {
        return Ok(());
    }
    let (spec, name) = crate::server::command::resolve(server, argv)
        .map_err(|_| format!("Unknown command '{}' reading the append only file", String::from_utf8_lossy(&argv[0])))?;
    let now_ms = crate::util::time::unix_ms();
    let mut ctx = Ctx { server, state: st, session, now_ms, clock: Instant::now() };
    (server.dispatch.call)(&mut ctx, spec, &name, argv);
    Ok(())
}

/// Whether writes wait in the AOF's queue (or to be written again after a failed write).
pub fn has_queued(st: &State) -> bool {
    st.aof.as_ref().is_some_and(|aof| !aof.unwritten.is_empty())
}

/// Before replies go out: what waits in the AOF's queue is written (and, with `always`, synced).
/// `queued` is the server's hint that there may be some; cleared once there is none, or once a
/// write failed (writes are refused then, and the cron retries; replies need not wait for it).
pub fn write_queued(st: &mut State, queued: &std::sync::atomic::AtomicBool) {
    append(st, Vec::new());
    if !has_queued(st) || write_error(st).is_some() {
        queued.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether writes are refused because the AOF cannot be written (Redis's MISCONF for the AOF).
pub fn write_error(st: &State) -> Option<String> {
    st.aof.as_ref().and_then(|a| a.write_error.clone())
}

/// From the cron: the `everysec` fsync (off the lock, on a blocking thread), retries of a failed
/// write, the rewrite child, and scheduled rewrites.
pub fn cron(st: &mut State) {
    crate::server::propagation::flush(st);
    append(st, Vec::new());
    reap_rewrite(st);
    let Some(aof) = st.aof.as_mut() else { return };
    if aof.fsync == Fsync::Everysec && aof.last_fsync.elapsed().as_millis() >= 1000 {
        aof.last_fsync = Instant::now();
        let file = aof.incr.sync_handle();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn_blocking(move || {
                if let Err(e) = file.sync_data() {
                    tracing::warn!("Error fsyncing the AOF file: {e}", e = crate::util::sys::error_text(&e));
                }
            });
        }
    }
    let idle = aof.rewrite.is_none() && st.snapshots.child.is_none();
    if aof.rewrite_scheduled && idle {
        aof.rewrite_scheduled = false;
        let _ = start_rewrite(st);
        return;
    }
    // auto-aof-rewrite-percentage / -min-size: rewrite once the AOF has grown that much since the
    // last rewrite (or start-up).
    let percentage = st.config.int(crate::ckey!("auto-aof-rewrite-percentage"));
    let min_size = st.config.int(crate::ckey!("auto-aof-rewrite-min-size")).max(0) as u64;
    let Some(aof) = st.aof.as_ref() else { return };
    if idle && percentage > 0 && aof.current_size > min_size {
        let growth = (aof.current_size * 100 / aof.base_size.max(1)) as i64 - 100;
        if growth >= percentage {
            tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            let _ = start_rewrite(st);
        }
    }
}

/// BGREWRITEAOF: appends go to a new incr file from now on; a forked child writes the dataset as
/// the new base. Err: why it cannot start.
pub fn start_rewrite(st: &mut State) -> Result<(), String> {
    if st.aof.as_ref().is_some_and(|a| a.rewrite.is_some()) {
        // Not a failure: one is running (Redis's hasActiveChildProcess).
        return Err("Background append only file rewriting already in progress".into());
    }
    let result = try_start_rewrite(st);
    // rewriteAppendOnlyFileBackground logs why it could not start, and INFO shows the failure.
    if let Err(e) = &result {
        tracing::warn!("{e}");
        if let Some(aof) = st.aof.as_mut() {
            aof.last_rewrite_failed = true;
        }
    }
    result
}

fn try_start_rewrite(st: &mut State) -> Result<(), String> {
    // What the base will hold goes into the incr file it replaces, not the new one.
    crate::server::propagation::flush_completed(st);
    let Some(aof) = st.aof.as_mut() else { return Err("AOF is off".into()) };
    if aof.rewrite.is_some() {
        return Err("Background append only file rewriting already in progress".into());
    }
    // As rewriteAppendOnlyFileBackground, before anything can fail: the next write selects its
    // database again.
    aof.selected = None;
    let next_incr = aof.manifest.incrs.last().map_or(1, |f| f.seq + 1);
    let next_base = aof.manifest.base.as_ref().map_or(1, |b| b.seq + 1);
    let incr = AofFile { name: aof::incr_name(&aof.filename, next_incr), seq: next_incr, kind: FileKind::Incr };
    let new_file = IncrFile::open(&aof.dir.join(&incr.name)).map_err(|e| e.to_string())?;
    // Like openNewIncrAofForAppend, the manifest in memory changes only once the new one is on
    // disk: a manifest that cannot be written (a full disk) leaves the AOF as it was.
    let mut manifest = aof.manifest.clone();
    manifest.incrs.push(incr);
    if let Err(e) = manifest.save(&aof.dir, &aof.filename) {
        let tmp = format!("temp-{}", aof::manifest_name(&aof.filename));
        let e = crate::util::sys::error_text(&e);
        return Err(format!("Error trying to write the temporary AOF manifest file {tmp}: {e}"));
    }
    aof.manifest = manifest;
    aof.incr = new_file;
    aof.selected = None;
    let preamble = st.config.bool(crate::ckey!("aof-use-rdb-preamble"));
    let Some(aof) = st.aof.as_mut() else { return Err("AOF is off".into()) };
    let base =
        AofFile { name: aof::base_name(&aof.filename, next_base, preamble), seq: next_base, kind: FileKind::Base };
    let tmp = aof.dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    // SAFETY: the child writes the image it was born with to its own temp file and ends. `st` is
    // the keyspace under the state lock this thread holds, so no other thread was changing it at
    // the fork; write_base allocates (jemalloc is fork-safe: its atfork handlers), does plain file I/O and does not log.
    let forked = unsafe { sys::fork_child(|| i32::from(write_base(st, &tmp, preamble).is_err())) };
    let pid = forked.map_err(|errno| {
        format!("Can't rewrite append only file in background: fork: {}", std::io::Error::from(errno))
    })?;
    tracing::info!("Background append only file rewriting started by pid {pid}");
    if let Some(aof) = st.aof.as_mut() {
        aof.rewrite = Some(RewriteChild { pid, started: Instant::now(), base, first_incr_seq: next_incr, tmp });
    }
    Ok(())
}

fn reap_rewrite(st: &mut State) {
    let Some(aof) = st.aof.as_mut() else { return };
    let Some(child) = &aof.rewrite else { return };
    let Some(status) = sys::try_reap(child.pid) else { return };
    let Some(child) = aof.rewrite.take() else { return };
    let ok = matches!(status, Ok(WaitStatus::Exited(_, 0)));
    let tmp = child.tmp.clone();
    if ok {
        match finish_rewrite(aof, &tmp, child) {
            Ok(()) => {
                tracing::info!("Background AOF rewrite terminated with success");
                aof.last_rewrite_failed = false;
                aof.rewrites += 1;
            }
            Err(e) => {
                tracing::warn!("Background AOF rewrite failed: {e}");
                aof.last_rewrite_failed = true;
            }
        }
    } else {
        tracing::warn!("Background AOF rewrite terminated with error");
        let _ = std::fs::remove_file(&tmp);
        aof.last_rewrite_failed = true;
    }
}

/// Puts the new base in place and drops what it replaces: the old base and the incr files written
/// before the rewrite started. The manifest switches atomically, so a crash keeps one whole set.
fn finish_rewrite(aof: &mut Appendonly, tmp: &Path, child: RewriteChild) -> std::io::Result<()> {
    std::fs::rename(tmp, aof.dir.join(&child.base.name))?;
    let old_base = aof.manifest.base.replace(child.base);
    let (old, kept): (Vec<AofFile>, Vec<AofFile>) =
        aof.manifest.incrs.drain(..).partition(|f| f.seq < child.first_incr_seq);
    aof.manifest.incrs = kept;
    aof.manifest.save(&aof.dir, &aof.filename)?;
    for f in old.iter().chain(old_base.iter()) {
        let _ = std::fs::remove_file(aof.dir.join(&f.name));
    }
    aof.current_size = files_size(&aof.dir, &aof.manifest);
    aof.base_size = aof.current_size;
    Ok(())
}

/// CONFIG SET appendonly yes: the AOF starts as a synchronous rewrite of the current dataset (new
/// base, new incr, manifest), then every write is appended. No: appending stops.
pub fn set_enabled(st: &mut State, on: bool) -> Result<(), String> {
    if !on {
        if let Some(mut aof) = st.aof.take() {
            flush_and_sync(&mut aof);
            if let Some(child) = aof.rewrite.take() {
                sys::kill_and_reap(child.pid, Signal::SIGUSR1);
            }
        }
        crate::replication::refresh_propagation(st);
        return Ok(());
    }
    if st.aof.is_some() {
        return Ok(());
    }
    let dir = PathBuf::from(st.config.str(crate::ckey!("appenddirname")));
    let filename = st.config.str(crate::ckey!("appendfilename")).to_string();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let old = Manifest::load(&dir, &filename)?;
    let next = old.as_ref().map_or(1, |m| {
        let base = m.base.as_ref().map_or(0, |b| b.seq);
        let incr = m.incrs.last().map_or(0, |f| f.seq);
        base.max(incr) + 1
    });
    let preamble = st.config.bool(crate::ckey!("aof-use-rdb-preamble"));
    let base = AofFile { name: aof::base_name(&filename, next, preamble), seq: next, kind: FileKind::Base };
    write_base(st, &dir.join(&base.name), preamble).map_err(|e| e.to_string())?;
    let incr = AofFile { name: aof::incr_name(&filename, next), seq: next, kind: FileKind::Incr };
    File::create(dir.join(&incr.name)).map_err(|e| e.to_string())?;
    let manifest = Manifest { base: Some(base), incrs: vec![incr], history: Vec::new() };
    manifest.save(&dir, &filename).map_err(|e| e.to_string())?;
    if let Some(old) = old {
        for f in old.base.iter().chain(old.incrs.iter()).chain(old.history.iter()) {
            let _ = std::fs::remove_file(dir.join(&f.name));
        }
    }
    st.aof = Some(open(&dir, &filename, manifest, Fsync::from_config(st)).map_err(|e| e.to_string())?);
    crate::replication::refresh_propagation(st);
    Ok(())
}

fn flush_and_sync(aof: &mut Appendonly) {
    if let Err(e) = aof.incr.sync() {
        tracing::warn!("Error fsyncing the AOF file: {e}", e = crate::util::sys::error_text(&e));
    }
}

/// At shutdown: everything appended reaches the disk.
pub fn shutdown(st: &mut State) {
    crate::server::propagation::flush(st);
    append(st, Vec::new());
    if let Some(aof) = st.aof.as_mut() {
        // An fsync shows no progress to report; what it has to write is bounded by the page
        // cache, so a fixed, generous extension of the stop timeout covers it.
        crate::systemd::progress("Calling fsync() on the AOF file", AOF_FINAL_FSYNC_GRACE);
        flush_and_sync(aof);
    }
}

/// How much longer systemd waits for the AOF's final fsync at shutdown.
const AOF_FINAL_FSYNC_GRACE: std::time::Duration = std::time::Duration::from_secs(300);
