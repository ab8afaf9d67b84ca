//! A replica's connection task on this master: the full sync's RDB (from the file or relayed from
//! a diskless child), then the stream from its offset, in chunks, while its REPLCONF ACKs are read.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::master::ack;
use super::state::ReplicaState;
use crate::protocol::parser::{Limits, Parser};
use crate::server::handover::{Handover, RdbPiece};
use crate::server::signals::ClientSignals;
use crate::server::state::ClientId;
use crate::server::Server;

/// Most stream bytes a replica's task takes per turn.
const STREAM_CHUNK: usize = 1 << 20;

/// Serves a connection that became a replica, until it goes away or is dropped.
#[allow(clippy::too_many_arguments)]
pub async fn serve_replica<R, W>(
    server: Arc<Server>,
    id: ClientId,
    rd: R,
    mut wr: W,
    leftover: BytesMut,
    handover: Handover,
    kill: Arc<ClientSignals>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    let reader = tokio::spawn(read_acks(server.clone(), id, rd, leftover, kill.clone()));
    let result = async {
        let from = match handover {
            Handover::Partial { from } => from,
            Handover::Full { psync, rdb } => {
                let (from, diskless) = send_full_sync(&server, id, &mut wr, psync, rdb, &kill).await?;
                if diskless {
                    // Like Redis, the stream starts once the replica has loaded the payload and
                    // acknowledged: a diskless payload has no length, so nothing may follow its
                    // end mark until then.
                    wait_first_ack(&server, id, &kill).await?;
                }
                from
            }
        };
        stream(&server, id, &mut wr, from, &kill).await
    }
    .await;
    reader.abort();
    let mut st = server.lock();
    if let Some(r) = st.repl.replicas.remove(&id) {
        match result {
            Err(reason) if !reason.is_empty() => {
                tracing::warn!(redis_event = "replica-lost", "Connection with replica {} lost: {reason}", r.name())
            }
            // freeClient logs a replica's end at WARNING, however it ended.
            _ => tracing::warn!(redis_event = "replica-lost", "Connection with replica {} lost.", r.name()),
        }
    }
    st.repl.trim_backlog();
    if st.repl.replicas.is_empty() {
        st.repl.no_replicas_since = crate::util::time::unix_secs();
    }
    super::sync::replica_gone(&mut st);
    st.clients.remove(&id);
}

/// Reads what the replica sends: REPLCONF ACK (anything else from a replica is ignored).
async fn read_acks<R: AsyncRead + Unpin>(
    server: Arc<Server>,
    id: ClientId,
    mut rd: R,
    mut buf: BytesMut,
    kill: Arc<ClientSignals>,
) {
    let mut parser = Parser::default();
    let limits = Limits { proto_max_bulk_len: 512 * 1024 * 1024, authenticated: true };
    loop {
        loop {
            match parser.next(&mut buf, limits) {
                Ok(Some(args)) => {
                    let is_ack = args.len() >= 3
                        && args[0].eq_ignore_ascii_case(b"replconf")
                        && args[1].eq_ignore_ascii_case(b"ack");
                    let mut st = server.lock();
                    if is_ack {
                        if let Some(off) = crate::util::numbers::parse_i64(&args[2]) {
                            ack(&mut st, id, off.max(0) as u64);
                            super::acks::serve_waits(&server, &mut st);
                        }
                    }
                    if let Some(c) = st.clients.get_mut(&id) {
                        c.last_interaction_ms = crate::util::time::unix_ms();
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    kill.kill();
                    return;
                }
            }
        }
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => {
                kill.kill();
                return;
            }
            Ok(_) => {}
        }
    }
}

async fn wait_first_ack(server: &Server, id: ClientId, kill: &ClientSignals) -> Result<(), String> {
    tracing::info!(
        "Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming",
        replica_name(server, id)
    );
    // Redis puts the replica online now (INFO shows state=online, repl-timeout counts from
    // here), and only holds the stream back until the ACK.
    if let Some(r) = server.lock().repl.replicas.get_mut(&id) {
        r.state = ReplicaState::Online;
        r.ack_time_ms = crate::util::time::unix_ms();
    }
    loop {
        if server.lock().repl.replicas.get(&id).is_none_or(|r| r.acked) {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            _ = kill.killed() => return Err(String::new()),
        }
    }
}

/// The full resync: +FULLRESYNC (PSYNC only), the RDB, and the offset the stream continues from
/// (with whether the payload was diskless).
async fn send_full_sync<W: AsyncWrite + Unpin>(
    server: &Server,
    id: ClientId,
    wr: &mut W,
    psync: bool,
    mut rdb: mpsc::Receiver<RdbPiece>,
    kill: &ClientSignals,
) -> Result<(u64, bool), String> {
    let mut payload_started = false;
    let mut next_offset = 0;
    let mut mark: Option<[u8; 40]> = None;
    loop {
        let piece = tokio::select! {
            p = rdb.recv() => p,
            _ = kill.killed() => return Err(String::new()),
            // Until the payload starts, a newline a second keeps the replica from timing out.
            _ = tokio::time::sleep(Duration::from_secs(1)), if !payload_started => {
                write(wr, b"\n", kill).await?;
                continue;
            }
        };
        let Some(piece) = piece else { return Err("the full resync was abandoned".into()) };
        match piece {
            RdbPiece::Start { replid, offset, eof_mark } => {
                next_offset = offset + 1;
                if psync {
                    write(wr, format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes(), kill).await?;
                }
                if let Some(m) = eof_mark {
                    // A diskless transfer shows as wait_bgsave until its end mark is sent.
                    payload_started = true;
                    let mut head = b"$EOF:".to_vec();
                    head.extend_from_slice(&m);
                    head.extend_from_slice(b"\r\n");
                    write(wr, &head, kill).await?;
                    mark = Some(m);
                }
            }
            RdbPiece::Data(chunk) => {
                write(wr, &chunk, kill).await?;
                count_output(server, chunk.len());
            }
            RdbPiece::End => {
                if let Some(m) = mark {
                    write(wr, &m, kill).await?;
                }
                tracing::info!(
                    redis_event = "replica-synced",
                    "Synchronization with replica {} succeeded",
                    replica_name(server, id)
                );
                return Ok((next_offset, true));
            }
            RdbPiece::File(path) => {
                set_state(server, id, ReplicaState::SendBulk);
                send_file(server, wr, &path, kill).await?;
                tracing::info!(
                    redis_event = "replica-synced",
                    "Synchronization with replica {} succeeded",
                    replica_name(server, id)
                );
                return Ok((next_offset, false));
            }
            RdbPiece::Failed => return Err("the RDB for the full resync could not be produced".into()),
        }
    }
}

async fn send_file<W: AsyncWrite + Unpin>(
    server: &Server,
    wr: &mut W,
    path: &std::path::Path,
    kill: &ClientSignals,
) -> Result<(), String> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
    let len = file.metadata().await.map_err(|e| e.to_string())?.len();
    write(wr, format!("${len}\r\n").as_bytes(), kill).await?;
    let mut buf = vec![0u8; 1 << 16];
    let mut sent = 0u64;
    while sent < len {
        let n = file.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the RDB file ended early".into());
        }
        let n = n.min((len - sent) as usize);
        write(wr, &buf[..n], kill).await?;
        count_output(server, n);
        sent += n as u64;
    }
    Ok(())
}

async fn write<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8], kill: &ClientSignals) -> Result<(), String> {
    tokio::select! {
        r = wr.write_all(bytes) => r.map_err(|e| e.to_string()),
        _ = kill.killed() => Err(String::new()),
    }
}

fn set_state(server: &Server, id: ClientId, state: ReplicaState) {
    if let Some(r) = server.lock().repl.replicas.get_mut(&id) {
        r.state = state;
    }
}

fn replica_name(server: &Server, id: ClientId) -> String {
    server.lock().repl.replicas.get(&id).map(|r| r.name()).unwrap_or_default()
}

fn count_output(server: &Server, n: usize) {
    server.lock().repl.stats.net_repl_output_bytes += n as u64;
}

/// Sends the stream from `from` on, as it grows.
async fn stream<W: AsyncWrite + Unpin>(
    server: &Server,
    id: ClientId,
    wr: &mut W,
    from: u64,
    kill: &ClientSignals,
) -> Result<(), String> {
    let mut next = from;
    let mut written = 0;
    let mut out = Vec::new();
    let mut grown = {
        let mut st = server.lock();
        if let Some(r) = st.repl.replicas.get_mut(&id) {
            r.state = ReplicaState::Online;
            r.next_offset = next;
            r.ack_time_ms = crate::util::time::unix_ms();
        }
        st.repl.offset_watch.subscribe()
    };
    loop {
        if kill.is_killed() {
            return Err(String::new());
        }
        let chunks = {
            let mut st = server.lock();
            // Only once the socket has taken them do the bytes leave this replica's output
            // buffer (what its limits count, what the backlog keeps for it), as they leave
            // Redis's reply list.
            next += written;
            st.repl.stats.net_repl_output_bytes += written;
            if let Some(r) = st.repl.replicas.get_mut(&id) {
                r.next_offset = next;
            }
            // History past the backlog's size that only this replica still held goes now, as
            // Redis's beforeSleep trims it, not at the next write, however far off that is.
            if written > 0 {
                st.repl.trim_backlog();
            }
            written = 0;
            match st.repl.backlog.as_ref().and_then(|b| b.read_from(next, STREAM_CHUNK)) {
                Some(c) => c,
                None => return Err("its position left the replication backlog".into()),
            }
        };
        if chunks.is_empty() {
            tokio::select! {
                r = grown.changed() => if r.is_err() { return Err(String::new()) },
                _ = kill.killed() => return Err(String::new()),
            }
            // Let the connections that are ready run their batches first, so that one write
            // carries them all, as Redis writes to its replicas once per event-loop pass. Waking
            // and writing for each client's batch cost a syscall, a segment and a wake-up of the
            // replica per batch.
            tokio::task::yield_now().await;
            continue;
        }
        // The backlog keeps each batch of writes as its own piece: one write for all of them,
        // not a syscall (and a TCP segment, and a wake-up of the replica) per piece.
        let pending: &[u8] = if let [one] = &chunks[..] {
            one
        } else {
            out.clear();
            chunks.iter().for_each(|c| out.extend_from_slice(c));
            &out
        };
        write(wr, pending, kill).await?;
        written = pending.len() as u64;
    }
}
