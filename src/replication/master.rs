//! This server as a master: SYNC/PSYNC turn a client connection into a replica, which gets either
//! the stream from where it left off (+CONTINUE) or a full resync (+FULLRESYNC, the RDB, then the
//! stream from the RDB's offset), and acknowledges what it applied with REPLCONF ACK.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

use super::state::display_name;
pub use super::state::{Replica, ReplicaState, Wait};
use crate::protocol::parser::{Limits, Parser};
use crate::protocol::Reply;
use crate::server::handover::RdbPiece;
use crate::server::handover::{Handover, ReplConf};
use crate::server::session::Ctx;
use crate::server::state::{ClientId, ClientKind, State};
use crate::server::Server;

/// REPLCONF <option> <value> ...
pub fn replconf(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() % 2 == 0 {
        return Reply::error(crate::protocol::errors::SYNTAX);
    }
    for pair in args[1..].chunks(2) {
        let (opt, val) = (pair[0].to_ascii_lowercase(), &pair[1]);
        match opt.as_slice() {
            b"listening-port" => match crate::util::numbers::parse_i64(val) {
                Some(p) if (0..=65535).contains(&p) => ctx.session.replconf.listening_port = p as u16,
                _ => return Reply::error(crate::protocol::errors::NOT_INTEGER),
            },
            b"ip-address" => {
                // NET_HOST_STR_LEN: since 7.0 a replica may announce a hostname.
                if val.len() >= 256 {
                    return Reply::error(format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        val.len()
                    ));
                }
                ctx.session.replconf.ip_address = Some(String::from_utf8_lossy(val).into_owned());
            }
            b"capa" => {
                if val.eq_ignore_ascii_case(b"eof") {
                    ctx.session.replconf.capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    ctx.session.replconf.capa_psync2 = true;
                }
            }
            b"ack" => {
                // Only replicas acknowledge, and an ACK is never answered.
                if let Some(off) = crate::util::numbers::parse_i64(val) {
                    ack(ctx.state, ctx.session.id, off.max(0) as u64);
                }
                return Reply::NoReply;
            }
            b"getack" => {
                // Answered by the replica link, which reads its master's stream itself.
                return Reply::NoReply;
            }
            b"rdb-only" => match crate::util::numbers::parse_i64(val) {
                Some(0 | 1) => {}
                Some(_) => return Reply::error("ERR value is out of range, value must between 0 and 1"),
                None => return Reply::error(crate::protocol::errors::NOT_INTEGER),
            },
            b"rdb-filter-only" => {
                // Like Redis, the filter is on (everything filtered out) before its values are
                // checked: a bad value still leaves the request filtered.
                ctx.session.replconf.rdb_filtered = true;
                let Some(filters) = crate::util::splitargs::split_args(val) else {
                    return Reply::error("ERR Missing rdb-filter-only values");
                };
                if let Some(bad) = filters.iter().find(|f| !f.eq_ignore_ascii_case(b"functions")) {
                    return Reply::error(format!(
                        "ERR Unsupported rdb-filter-only option: {}",
                        String::from_utf8_lossy(bad)
                    ));
                }
            }
            _ => {
                return Reply::error(format!("ERR Unrecognized REPLCONF option: {}", String::from_utf8_lossy(&pair[0])))
            }
        }
    }
    Reply::OK
}

/// Records a replica's REPLCONF ACK.
pub fn ack(st: &mut State, id: ClientId, offset: u64) {
    if let Some(r) = st.repl.replicas.get_mut(&id) {
        r.ack_offset = r.ack_offset.max(offset);
        r.ack_time_ms = crate::util::time::unix_ms();
        r.acked = true;
    }
}

/// SYNC and PSYNC <replid> <offset> (syncCommand).
pub fn sync(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let id = ctx.session.id;
    if ctx.state.repl.replicas.contains_key(&id) || ctx.session.handover.is_some() {
        return Reply::NoReply;
    }
    // PSYNC ... FAILOVER: our master hands over to us (its FAILOVER command).
    if args.len() > 3 && args[0].eq_ignore_ascii_case(b"psync") && args[3].eq_ignore_ascii_case(b"failover") {
        if !args[1].eq_ignore_ascii_case(ctx.state.repl.replid.as_bytes()) {
            return Reply::error("ERR PSYNC FAILOVER replid must match my replid.");
        }
        super::replica::unset_master(ctx.state);
        ctx.state.config.set_val(crate::ckey!("replicaof").0, crate::config::Val::Replicaof(None));
        tracing::info!("MASTER MODE enabled (failover request from 'id={id} addr={}')", ctx.session.addr);
    }
    // No new replica while this master hands over to one.
    if ctx.state.repl.failover.state != super::failover::FailoverState::None {
        return Reply::error("NOMASTERLINK Can't SYNC while failing over");
    }
    if let Some(link) = &ctx.state.repl.master {
        if !link.is_connected() {
            return Reply::error("NOMASTERLINK Can't SYNC while not connected with my master");
        }
    }
    if ctx.session.replconf.rdb_filtered && !ctx.session.replconf.capa_eof {
        return Reply::error("ERR Filtered replica requires EOF capability");
    }
    let psync = args[0].eq_ignore_ascii_case(b"psync");
    let requested_offset = if psync {
        match crate::util::numbers::parse_i64(&args[2]) {
            Some(o) => Some(o),
            None => return Reply::error(crate::protocol::errors::NOT_INTEGER),
        }
    } else {
        None
    };
    let conf = ctx.session.replconf.clone();
    let ip = conf.ip_address.clone().unwrap_or_else(|| peer_ip(&ctx.session.addr));
    let name = display_name(&ip, conf.listening_port);
    tracing::info!("Replica {name} asks for synchronization");
    let st = &mut *ctx.state;
    if let Some(offset) = requested_offset {
        let replid = String::from_utf8_lossy(&args[1]).into_owned();
        match try_partial(st, &replid, offset, &name) {
            Ok(from) => {
                st.repl.stats.sync_partial_ok += 1;
                attach(st, id, ip, &conf, ReplicaState::Online, from, None);
                ctx.session.handover = Some(Handover::Partial { from });
                let reply = if conf.capa_psync2 { format!("CONTINUE {}", st.repl.replid) } else { "CONTINUE".into() };
                return Reply::Status(reply.into());
            }
            Err(()) => {
                if !replid.starts_with('?') {
                    st.repl.stats.sync_partial_err += 1;
                }
            }
        }
    }
    st.repl.stats.sync_full += 1;
    if st.repl.backlog.is_none() {
        // A new backlog starts a new history: offsets of an old one must not be continued.
        if !st.repl.is_replica() {
            st.repl.new_history();
        }
        let size = st.config.int(crate::ckey!("repl-backlog-size")).max(1) as u64;
        st.repl.create_backlog(size);
        super::refresh_propagation(st);
        tracing::info!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            st.repl.replid,
            st.repl.replid2
        );
    }
    let (tx, rx) = mpsc::channel(16);
    let next = st.repl.master_repl_offset + 1;
    attach(st, id, ip, &conf, ReplicaState::WaitBgsave, next, Some(tx));
    ctx.session.handover = Some(Handover::Full { psync, rdb: rx });
    super::sync::replica_waiting(st);
    Reply::NoReply
}

/// The address part of "ip:port" (or "[v6]:port").
fn peer_ip(addr: &str) -> String {
    match addr.rfind(':') {
        Some(i) => addr[..i].trim_start_matches('[').trim_end_matches(']').to_string(),
        None => addr.to_string(),
    }
}

/// masterTryPartialResynchronization: Ok(first offset to send) when the requested history is
/// ours (or our previous one, up to where it ended) and the backlog still holds it.
fn try_partial(st: &State, replid: &str, offset: i64, name: &str) -> Result<u64, ()> {
    let repl = &st.repl;
    let ours = replid.eq_ignore_ascii_case(&repl.replid);
    let previous = replid.eq_ignore_ascii_case(&repl.replid2) && offset <= repl.second_repl_offset;
    if !ours && !previous {
        if replid != "?" {
            if !replid.eq_ignore_ascii_case(&repl.replid2) {
                tracing::info!(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')",
                    repl.replid,
                    repl.replid2
                );
            } else {
                tracing::info!(
                    "Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {}",
                    repl.second_repl_offset
                );
            }
        } else {
            tracing::info!("Full resync requested by replica {name}");
        }
        return Err(());
    }
    let Some(backlog) = &repl.backlog else { return Err(()) };
    if offset < 0 || !backlog.covers(offset as u64) {
        tracing::info!(
            "Unable to partial resync with replica {name} for lack of backlog (Replica request was: {offset})."
        );
        return Err(());
    }
    tracing::info!(
        "Partial resynchronization request from {name} accepted. Sending {} bytes of backlog starting from offset {offset}.",
        backlog.next_offset() - offset as u64
    );
    Ok(offset as u64)
}

fn attach(
    st: &mut State,
    id: ClientId,
    ip: String,
    conf: &ReplConf,
    state: ReplicaState,
    next_offset: u64,
    rdb_tx: Option<mpsc::Sender<RdbPiece>>,
) {
    if let Some(c) = st.clients.get_mut(&id) {
        c.kind = ClientKind::Replica;
    }
    let now = crate::util::time::unix_ms();
    st.repl.replicas.insert(
        id,
        Replica {
            ip,
            port: conf.listening_port,
            state,
            next_offset,
            ack_offset: 0,
            ack_time_ms: now,
            capa_eof: conf.capa_eof,
            rdb_tx,
            waiting_since: std::time::Instant::now(),
            soft_limit_since: None,
            acked: false,
            sync_started: false,
        },
    );
}

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
    kill: Arc<Notify>,
    killed: Arc<AtomicBool>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    let reader = tokio::spawn(read_acks(server.clone(), id, rd, leftover, kill.clone(), killed.clone()));
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
        stream(&server, id, &mut wr, from, &kill, &killed).await
    }
    .await;
    reader.abort();
    let mut st = server.state.lock();
    if let Some(r) = st.repl.replicas.remove(&id) {
        match result {
            Err(reason) if !reason.is_empty() => {
                tracing::warn!(redis_event = "replica-lost", "Connection with replica {} lost: {reason}", r.name())
            }
            _ => tracing::info!(redis_event = "replica-lost", "Connection with replica {} lost.", r.name()),
        }
    }
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
    kill: Arc<Notify>,
    killed: Arc<AtomicBool>,
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
                    let mut st = server.state.lock();
                    if is_ack {
                        if let Some(off) = crate::util::numbers::parse_i64(&args[2]) {
                            ack(&mut st, id, off.max(0) as u64);
                            serve_waits(&server, &mut st);
                        }
                    }
                    if let Some(c) = st.clients.get_mut(&id) {
                        c.last_interaction_ms = crate::util::time::unix_ms();
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    killed.store(true, Ordering::Relaxed);
                    kill.notify_one();
                    return;
                }
            }
        }
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => {
                killed.store(true, Ordering::Relaxed);
                kill.notify_one();
                return;
            }
            Ok(_) => {}
        }
    }
}

async fn wait_first_ack(server: &Server, id: ClientId, kill: &Notify) -> Result<(), String> {
    tracing::info!(
        "Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming",
        replica_name(server, id)
    );
    loop {
        if server.state.lock().repl.replicas.get(&id).is_none_or(|r| r.acked) {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            _ = kill.notified() => return Err(String::new()),
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
    kill: &Notify,
) -> Result<(u64, bool), String> {
    let mut payload_started = false;
    let mut next_offset = 0;
    let mut mark: Option<[u8; 40]> = None;
    loop {
        let piece = tokio::select! {
            p = rdb.recv() => p,
            _ = kill.notified() => return Err(String::new()),
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
                    // A diskless transfer shows as wait_bgsave until the replica's first ACK.
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
    kill: &Notify,
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

async fn write<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8], kill: &Notify) -> Result<(), String> {
    tokio::select! {
        r = wr.write_all(bytes) => r.map_err(|e| e.to_string()),
        _ = kill.notified() => Err(String::new()),
    }
}

fn set_state(server: &Server, id: ClientId, state: ReplicaState) {
    if let Some(r) = server.state.lock().repl.replicas.get_mut(&id) {
        r.state = state;
    }
}

fn replica_name(server: &Server, id: ClientId) -> String {
    server.state.lock().repl.replicas.get(&id).map(|r| r.name()).unwrap_or_default()
}

fn count_output(server: &Server, n: usize) {
    server.state.lock().repl.stats.net_repl_output_bytes += n as u64;
}

/// Sends the stream from `from` on, as it grows.
async fn stream<W: AsyncWrite + Unpin>(
    server: &Server,
    id: ClientId,
    wr: &mut W,
    from: u64,
    kill: &Notify,
    killed: &AtomicBool,
) -> Result<(), String> {
    let mut next = from;
    let mut out = Vec::new();
    let mut grown = {
        let mut st = server.state.lock();
        if let Some(r) = st.repl.replicas.get_mut(&id) {
            r.state = ReplicaState::Online;
            r.next_offset = next;
            r.ack_time_ms = crate::util::time::unix_ms();
        }
        st.repl.offset_watch.subscribe()
    };
    loop {
        if killed.load(Ordering::Relaxed) {
            return Err(String::new());
        }
        let chunks = {
            let mut st = server.state.lock();
            let chunks = match st.repl.backlog.as_ref().and_then(|b| b.read_from(next, STREAM_CHUNK)) {
                Some(c) => c,
                None => return Err("its position left the replication backlog".into()),
            };
            let n: usize = chunks.iter().map(|c| c.len()).sum();
            if let Some(r) = st.repl.replicas.get_mut(&id) {
                r.next_offset = next + n as u64;
            }
            st.repl.stats.net_repl_output_bytes += n as u64;
            chunks
        };
        if chunks.is_empty() {
            tokio::select! {
                r = grown.changed() => if r.is_err() { return Err(String::new()) },
                _ = kill.notified() => return Err(String::new()),
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
        next += pending.len() as u64;
    }
}

/// From the cron: pings the replicas through the stream every repl-ping-replica-period, drops
/// replicas that stopped acknowledging for repl-timeout or whose unsent stream passed the
/// output buffer limits, and frees the backlog repl-backlog-ttl after the last replica left.
pub fn cron(st: &mut State) {
    let now_ms = crate::util::time::unix_ms();
    let now = (now_ms / 1000) as i64;
    if !st.repl.is_replica() && !st.repl.replicas.is_empty() && st.pause.is_none() {
        let period = st.config.int(crate::ckey!("repl-ping-replica-period")).max(1) as u64;
        if now_ms / 1000 % period == 0 && st.repl.last_ping_secs != now {
            st.repl.last_ping_secs = now;
            // PING goes out in whatever database the stream last selected: no SELECT for it.
            let mut buf = Vec::new();
            crate::persistence::aof::encode_command(&mut buf, &[b"PING".as_slice()]);
            st.repl.feed(Bytes::from(buf));
        }
    }
    let timeout_ms = st.config.int(crate::ckey!("repl-timeout")).max(1) as u64 * 1000;
    let (hard, soft, soft_secs) = st.hot.output_limits[1];
    let end = st.repl.master_repl_offset + 1;
    let mut drop_ids = Vec::new();
    for (id, r) in st.repl.replicas.iter_mut() {
        let unsent = end.saturating_sub(r.next_offset);
        let over_soft = soft > 0 && unsent > soft;
        if !over_soft {
            r.soft_limit_since = None;
        }
        let soft_expired = over_soft && now_ms - *r.soft_limit_since.get_or_insert(now_ms) >= soft_secs * 1000;
        if r.state == ReplicaState::Online && now_ms.saturating_sub(r.ack_time_ms) > timeout_ms {
            tracing::warn!("Disconnecting timedout replica (streaming sync): {}", r.name());
            drop_ids.push((*id, false));
        } else if (hard > 0 && unsent > hard) || soft_expired {
            tracing::warn!("Client id={id} addr={} closed for overcoming of output buffer limits.", r.name());
            drop_ids.push((*id, true));
        }
    }
    for (id, over_limit) in drop_ids {
        if let Some(c) = st.clients.remove(&id) {
            c.killed.store(true, Ordering::Relaxed);
            c.kill.notify_one();
        }
        if over_limit {
            st.stats.client_outbuf_limit_disconnections += 1;
        }
    }
    let ttl = st.config.int(crate::ckey!("repl-backlog-ttl"));
    if !st.repl.is_replica()
        && st.repl.replicas.is_empty()
        && st.repl.backlog.is_some()
        && ttl > 0
        && now - st.repl.no_replicas_since > ttl
    {
        st.repl.new_history();
        st.repl.backlog = None;
        super::refresh_propagation(st);
        tracing::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
    }
}

/// Replicas that acknowledged `offset` (replicationCountAcksByOffset).
pub fn acked_replicas(st: &State, offset: u64) -> usize {
    st.repl.replicas.values().filter(|r| r.state == ReplicaState::Online && r.ack_offset >= offset).count()
}

/// Asks every replica for an acknowledgement now (REPLCONF GETACK * in the stream).
pub fn request_acks(st: &mut State) {
    // Not while writes are paused (FAILOVER, SHUTDOWN): the stream must stop growing so that
    // replicas can catch up with it; they acknowledge every second anyway.
    if st.pause.is_some() {
        return;
    }
    let mut buf = Vec::new();
    crate::persistence::aof::encode_command(&mut buf, &[&b"REPLCONF"[..], b"GETACK", b"*"]);
    st.repl.feed(Bytes::from(buf));
}

/// Answers the WAITs whose replicas have acknowledged enough, or whose client went away.
pub fn serve_waits(server: &Server, st: &mut State) {
    if st.repl.waits.is_empty() {
        return;
    }
    let waits = std::mem::take(&mut st.repl.waits);
    for w in waits {
        if !st.blocking.is_parked(w.client) {
            continue;
        }
        let acked = acked_replicas(st, w.offset);
        if acked as i64 >= w.replicas {
            crate::server::blocking::end_wait(server, st, w.client, Some(Reply::Int(acked as i64)));
        } else {
            st.repl.waits.push(w);
        }
    }
}

/// WAIT's reply when its timeout ends it: how many replicas acknowledged by then.
pub fn wait_timed_out(st: &mut State, client: ClientId) -> Option<Reply> {
    let i = st.repl.waits.iter().position(|w| w.client == client)?;
    let w = st.repl.waits.swap_remove(i);
    Some(Reply::Int(acked_replicas(st, w.offset) as i64))
}

/// min-replicas-to-write / min-replicas-max-lag: whether enough replicas acknowledged recently
/// (checkGoodReplicasStatus).
pub fn enough_good_replicas(st: &State) -> bool {
    let (wanted, max_lag) = (st.hot.min_replicas_to_write, st.hot.min_replicas_max_lag);
    if wanted == 0 || max_lag == 0 {
        return true;
    }
    good_replicas(st, max_lag) as u64 >= wanted
}

/// Online replicas whose last acknowledgement is at most `max_lag` seconds old.
pub fn good_replicas(st: &State, max_lag: u64) -> usize {
    let now = crate::util::time::unix_ms();
    st.repl
        .replicas
        .values()
        .filter(|r| r.state == ReplicaState::Online && now.saturating_sub(r.ack_time_ms) / 1000 <= max_lag)
        .count()
}
