//! The RDB of a full resync. Disk-based: a background save writes the RDB file and each replica
//! is sent the file (`$<len>` then the bytes). Diskless (`repl-diskless-sync`): a forked child
//! writes the RDB into a pipe and this process relays it to every replica of the same sync
//! (`$EOF:<mark>`, the bytes, the mark), after `repl-diskless-sync-delay` lets more replicas join.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::server::handover::RdbPiece;
use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot};

pub use super::state::{ReplicaState, SyncJob};
use crate::persistence::snapshot;
use crate::server::state::{ClientId, State};

/// A replica started waiting for a full resync.
pub fn replica_waiting(st: &mut State) {
    maybe_start(st);
}

/// From the cron: stops a diskless transfer nobody takes any more, starts a sync that was
/// delayed, and removes a sync-only RDB file once used.
pub fn cron(st: &mut State) {
    stop_abandoned(st);
    maybe_start(st);
    remove_sync_file(st);
}

/// A diskless transfer whose replicas all went away is stopped when the child's next data comes
/// (as Redis's rdbPipeReadHandler does): the child would otherwise run on for nobody and hold
/// back the next sync. Under the state lock, so the child is still ours to signal.
fn stop_abandoned(st: &mut State) {
    let Some(job) = &st.repl.sync else { return };
    if !job.abandoned.load(Ordering::Relaxed) {
        return;
    }
    tracing::warn!("Diskless rdb transfer, last replica dropped, killing fork child.");
    // Dropping the job drops its `done` sender, which ends the relay.
    st.repl.sync = None;
    snapshot::kill_child(st);
}

fn waiting_replicas(st: &State) -> Vec<ClientId> {
    let mut ids: Vec<ClientId> = st
        .repl
        .replicas
        .iter()
        .filter(|(_, r)| r.state == ReplicaState::WaitBgsave && !r.sync_started)
        .map(|(id, _)| *id)
        .collect();
    ids.sort_unstable();
    ids
}

fn maybe_start(st: &mut State) {
    let waiting = waiting_replicas(st);
    if waiting.is_empty() {
        return;
    }
    if let Some(job) = &st.repl.sync {
        // A disk-based save in progress serves replicas that arrive meanwhile: the stream they
        // need starts at its offset, and the stream buffer still holds it.
        if !job.diskless {
            let offset = job.offset;
            for id in waiting {
                send_start(st, id, offset, None);
                if let Some(job) = st.repl.sync.as_mut() {
                    job.replicas.push(id);
                }
            }
        }
        return;
    }
    let aof_rewriting = st.aof.as_ref().is_some_and(|a| a.rewrite.is_some());
    if st.snapshots.child.is_some() || aof_rewriting {
        return;
    }
    let diskless = st.config.bool(crate::ckey!("repl-diskless-sync"))
        && waiting.iter().all(|id| st.repl.replicas.get(id).is_some_and(|r| r.capa_eof));
    if diskless {
        let delay =
            std::time::Duration::from_secs(st.config.int(crate::ckey!("repl-diskless-sync-delay")).max(0) as u64);
        let max = st.config.int(crate::ckey!("repl-diskless-sync-max-replicas")).max(0) as usize;
        let oldest = waiting.iter().filter_map(|id| st.repl.replicas.get(id)).map(|r| r.waiting_since).min();
        let waited_enough = oldest.is_none_or(|t| t.elapsed() >= delay);
        let enough_replicas = max > 0 && waiting.len() >= max;
        if !(waited_enough || enough_replicas) {
            return;
        }
    }
    start(st, diskless, waiting);
}

fn start(st: &mut State, diskless: bool, ids: Vec<ClientId>) {
    // The offset the replicas continue from is that of the snapshot: writes already done are in
    // the stream before it is read (the fork would hand them on too, but after this).
    crate::server::propagation::flush_completed(st);
    let offset = st.repl.master_repl_offset;
    tracing::info!("Starting BGSAVE for SYNC with target: {}", if diskless { "replicas sockets" } else { "disk" });
    let started = if diskless { start_diskless(st, &ids) } else { start_disk(st) };
    let done = match started {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!("BGSAVE for replication failed: {e}");
            for id in ids {
                send(st, id, RdbPiece::Failed);
            }
            return;
        }
    };
    let (done, abandoned) = done;
    let mark = diskless.then(eof_mark);
    // The stream these replicas get after their RDB must begin with a SELECT.
    st.repl.selected_db = None;
    for id in &ids {
        send_start(st, *id, offset, mark);
    }
    st.repl.sync = Some(SyncJob { offset, diskless, replicas: ids, done, abandoned });
}

fn send_start(st: &mut State, id: ClientId, offset: u64, eof_mark: Option<[u8; 40]>) {
    let replid = st.repl.replid.clone();
    if let Some(r) = st.repl.replicas.get_mut(&id) {
        r.next_offset = offset + 1;
        r.sync_started = true;
    }
    send(st, id, RdbPiece::Start { replid, offset, eof_mark });
}

fn send(st: &mut State, id: ClientId, piece: RdbPiece) {
    if let Some(tx) = st.repl.replicas.get(&id).and_then(|r| r.rdb_tx.as_ref()) {
        let _ = tx.try_send(piece);
    }
}

/// What a started sync's job keeps of its child: the diskless relay's `done` sender, and the flag
/// the relay sets when no replica is left.
type Started = (Option<oneshot::Sender<bool>>, Arc<AtomicBool>);

fn start_disk(st: &mut State) -> Result<Started, String> {
    snapshot::start_background_save(st)?;
    Ok((None, Arc::new(AtomicBool::new(false))))
}

fn start_diskless(st: &mut State, ids: &[ClientId]) -> Result<Started, String> {
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {}", std::io::Error::from(e)))?;
    snapshot::start_socket_child(st, write_end, read_end.as_raw_fd())?;
    // Non-blocking for the async reader: from_owned_fd sets O_NONBLOCK on the reading end (only;
    // the child writes to a blocking end).
    let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(read_end).map_err(|e| format!("pipe: {e}"))?;
    let senders: Vec<mpsc::Sender<RdbPiece>> =
        ids.iter().filter_map(|id| st.repl.replicas.get(id).and_then(|r| r.rdb_tx.clone())).collect();
    let (done_tx, done_rx) = oneshot::channel();
    let abandoned = Arc::new(AtomicBool::new(false));
    tokio::spawn(relay(pipe, senders, done_rx, abandoned.clone()));
    Ok((Some(done_tx), abandoned))
}

/// Copies the child's RDB from the pipe to every replica of the sync, at the pace of the slowest.
/// Data that no replica takes any more abandons the transfer (the cron stops the child).
async fn relay(
    mut pipe: tokio::net::unix::pipe::Receiver,
    mut senders: Vec<mpsc::Sender<RdbPiece>>,
    done: oneshot::Receiver<bool>,
    abandoned: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = Bytes::copy_from_slice(&buf[..n]);
        let mut alive = Vec::with_capacity(senders.len());
        for tx in senders {
            if tx.send(RdbPiece::Data(chunk.clone())).await.is_ok() {
                alive.push(tx);
            }
        }
        senders = alive;
        if senders.is_empty() {
            abandoned.store(true, Ordering::Relaxed);
            break;
        }
    }
    let ok = done.await.unwrap_or(false);
    for tx in senders {
        let _ = tx.send(if ok { RdbPiece::End } else { RdbPiece::Failed }).await;
    }
}

/// A replica's connection is gone. A disk-based sync that no replica waits for any more is
/// stopped at once, as Redis's freeClient kills its child: it would otherwise run on for nobody
/// and hold back the next sync. Not when `save` points are configured (the file is a snapshot the
/// user wants too). A diskless one is stopped by its relay (see `stop_abandoned`).
pub fn replica_gone(st: &mut State) {
    let Some(job) = &st.repl.sync else { return };
    if job.diskless || snapshot::save_points_configured(st) {
        return;
    }
    if st.repl.replicas.values().any(|r| r.state == ReplicaState::WaitBgsave) {
        return;
    }
    st.repl.sync = None;
    snapshot::kill_child(st);
}

/// A background save (disk or socket) finished: its replicas get their payload.
pub fn child_done(st: &mut State, ok: bool) {
    let Some(mut job) = st.repl.sync.take() else { return };
    if let Some(done) = job.done.take() {
        let _ = done.send(ok);
        return;
    }
    let path = std::env::current_dir().unwrap_or_default().join(snapshot::rdb_path(st));
    for id in job.replicas {
        send(st, id, if ok { RdbPiece::File(path.clone()) } else { RdbPiece::Failed });
    }
    if ok {
        st.repl.sync_file_used = true;
    }
}

/// 40 random hex characters that end a diskless payload.
fn eof_mark() -> [u8; 40] {
    let mut mark = [0u8; 40];
    for b in mark.iter_mut() {
        *b = b"0123456789abcdef"[fastrand::usize(..16)];
    }
    mark
}

/// rdb-del-sync-files: an RDB file written only to sync replicas, on a server that persists
/// nothing, is removed once no replica is receiving it.
fn remove_sync_file(st: &mut State) {
    if !st.repl.sync_file_used || st.repl.sync.is_some() {
        return;
    }
    if st.repl.replicas.values().any(|r| r.state != ReplicaState::Online) {
        return;
    }
    st.repl.sync_file_used = false;
    if st.config.bool(crate::ckey!("rdb-del-sync-files")) && st.aof.is_none() && !snapshot::save_points_configured(st) {
        let path = snapshot::rdb_path(st);
        tracing::info!("Removing the RDB file used to feed replicas in a persistence-less instance");
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(
                "Unable to remove the RDB file used to feed replicas: {e}",
                e = crate::util::sys::error_text(&e)
            );
        }
    }
}
