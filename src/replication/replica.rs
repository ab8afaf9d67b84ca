//! This server as a replica: the link to its master. Connect, handshake (PING, AUTH, REPLCONF),
//! PSYNC; after +FULLRESYNC receive the RDB to a file and load it, after +CONTINUE go on from
//! the offset already applied; then apply the master's stream as the master client, pass it on
//! verbatim to this server's own replicas, and acknowledge the offset every second. A lost link
//! is retried every second, forever, continuing partially when the master still can.

use std::io::Write;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::replica_output::{close_replicas_over_limits, FoundBy};
use crate::server::signals::ClientSignals;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::link::Link;

pub use super::state::{LinkState, MasterLink};
use crate::protocol::parser::{Limits, Parser};
use crate::server::session::{Ctx, Session};
use crate::server::state::{ClientId, ClientKind, State};
use crate::server::Server;

/// REPLICAOF host port (and `replicaof` at start-up): follow that master from now on.
pub fn set_master(server: &Server, st: &mut State, host: String, port: u16, from_config: bool) {
    let was_master = !st.repl.is_replica();
    // A replica re-pointed keeps what it had from its old master (Redis caches that master).
    let had_history = st.repl.master.as_ref().is_some_and(|m| m.can_continue || m.client.is_some());
    let generation = st.repl.master.as_ref().map_or(0, |m| m.generation) + 1;
    drop_master_client(st);
    crate::server::blocking::disconnect_all_blocked(server, st);
    st.repl.master = Some(MasterLink {
        host: host.clone(),
        port,
        state: LinkState::Connect,
        generation,
        last_io_ms: 0,
        down_since: 0,
        read_offset: st.repl.master_repl_offset,
        transfer: None,
        // A master keeps its history to continue from: it may be a replica that was promoted
        // and is now re-pointed. At start-up there is no history yet.
        can_continue: (was_master && !from_config) || had_history || st.repl.history_restored,
        client: None,
        stream_db: 0,
    });
    st.repl.selected_db = None;
    super::refresh_propagation(st);
    crate::logging::set_role(b'S');
    if let Some(me) = server.me() {
        tokio::spawn(run(me, generation));
    }
}

/// REPLICAOF NO ONE: keep the data, start a new history that still accepts the old one's
/// replicas (replid2), and make them reconnect to learn the new ID.
pub fn unset_master(st: &mut State) {
    if st.repl.master.take().is_none() {
        return;
    }
    drop_master_client(st);
    st.repl.shift_history();
    disconnect_replicas(st);
    st.repl.selected_db = None;
    st.repl.no_replicas_since = crate::util::time::unix_secs();
    super::refresh_propagation(st);
    crate::logging::set_role(b'M');
    crate::systemd::status("Ready to accept connections");
}

fn drop_master_client(st: &mut State) {
    let Some(id) = st.repl.master.as_mut().and_then(|m| m.client.take()) else { return };
    if let Some(c) = st.clients.remove(&id) {
        c.signals.kill();
    }
}

/// Drops every replica of this server (they reconnect and PSYNC again).
pub fn disconnect_replicas(st: &mut State) {
    let ids: Vec<ClientId> = st.repl.replicas.keys().copied().collect();
    for id in ids {
        if let Some(c) = st.clients.remove(&id) {
            c.signals.kill();
        }
    }
}

fn current(server: &Server, generation: u64) -> bool {
    server.lock().repl.master.as_ref().is_some_and(|m| m.generation == generation)
}

/// `systemctl status` shows where the link stands.
fn announce(host: &str, port: u16, state: LinkState) {
    let text = match state {
        LinkState::Connect => format!("Ready to accept connections; master {host}:{port} is unreachable, retrying"),
        LinkState::Connecting | LinkState::Handshake => {
            format!("Ready to accept connections; connecting to master {host}:{port}")
        }
        LinkState::Transfer => format!("Syncing with master {host}:{port}"),
        LinkState::Connected => format!("Ready to accept connections; replica of {host}:{port}, link up"),
    };
    crate::systemd::status(&text);
}

fn with_link(server: &Server, generation: u64, f: impl FnOnce(&mut MasterLink)) {
    let mut st = server.lock();
    if let Some(m) = st.repl.master.as_mut().filter(|m| m.generation == generation) {
        f(m);
    }
}

/// The link task of one REPLICAOF: reconnects every second until REPLICAOF changes.
async fn run(server: Arc<Server>, generation: u64) {
    while current(&server, generation) {
        if let Err(e) = connect_and_follow(&server, generation).await {
            if !e.is_empty() {
                tracing::warn!(redis_event = "master-link-down", "{e}");
            }
        }
        link_lost(&server, generation);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn link_lost(server: &Server, generation: u64) {
    let mut st = server.lock();
    if let Some(id) = st.repl.master.as_mut().filter(|m| m.generation == generation).and_then(|m| m.client.take()) {
        st.clients.remove(&id);
    }
    if let Some(m) = st.repl.master.as_mut().filter(|m| m.generation == generation) {
        if m.state == LinkState::Connected {
            m.down_since = crate::util::time::unix_secs();
            m.can_continue = true;
        }
        m.state = LinkState::Connect;
        m.transfer = None;
        announce(&m.host, m.port, LinkState::Connect);
    }
}

/// The master's connection, with a read buffer and the timeout for each exchange.
struct MasterConn {
    stream: Link,
    buf: BytesMut,
    timeout: Duration,
}

impl MasterConn {
    async fn send(&mut self, args: &[&[u8]]) -> Result<(), String> {
        let mut out = Vec::new();
        crate::persistence::aof::encode_command(&mut out, args);
        tokio::time::timeout(self.timeout, self.stream.write_all(&out))
            .await
            .map_err(|_| "Timeout writing to MASTER".to_string())?
            .map_err(|e| format!("Error writing to MASTER: {e}", e = crate::util::sys::error_text(&e)))
    }

    async fn fill(&mut self) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.buf)).await {
            Err(_) => Err("Timeout connecting to the MASTER...".into()),
            Ok(Ok(0)) => Err("Master closed the connection".into()),
            Ok(Err(e)) => Err(format!("Error reading from MASTER: {e}", e = crate::util::sys::error_text(&e))),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// One reply line, without CRLF.
    async fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.split_to(i + 2);
                return Ok(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            if self.buf.len() > 64 * 1024 {
                return Err("Protocol error: reply line too long from MASTER".into());
            }
            self.fill().await?;
        }
    }

    async fn command(&mut self, args: &[&[u8]]) -> Result<String, String> {
        self.send(args).await?;
        self.line().await
    }
}

async fn connect_and_follow(server: &Arc<Server>, generation: u64) -> Result<(), String> {
    let (host, port, timeout) = {
        let st = server.lock();
        let Some(m) = st.repl.master.as_ref() else { return Ok(()) };
        (m.host.clone(), m.port, Duration::from_secs(st.config.int(crate::ckey!("repl-timeout")).max(1) as u64))
    };
    with_link(server, generation, |m| m.state = LinkState::Connecting);
    announce(&host, port, LinkState::Connecting);
    tracing::info!("Connecting to MASTER {host}:{port}");
    let stream = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| format!("Timeout connecting to the MASTER {host}:{port}"))?
        .map_err(|e| format!("Error condition on socket for SYNC: {e}", e = crate::util::sys::error_text(&e)))?;
    let _ = stream.set_nodelay(true);
    let tls = server.lock().config.bool(crate::ckey!("tls-replication"));
    let stream = if tls {
        // tls-replication: the link is TLS, with the client certificate and the CA check.
        let contexts = server.tls.get().ok_or("Error condition on socket for SYNC: TLS is not configured")?;
        let s = tokio::time::timeout(timeout, crate::tls::connect(&contexts, stream))
            .await
            .map_err(|_| format!("Timeout connecting to the MASTER {host}:{port}"))?
            .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
        Link::Tls(Box::new(s))
    } else {
        Link::Plain(stream)
    };
    tracing::info!("MASTER <-> REPLICA sync started");
    with_link(server, generation, |m| m.state = LinkState::Handshake);
    let mut conn = MasterConn { stream, buf: BytesMut::with_capacity(64 * 1024), timeout };
    handshake(server, &mut conn).await?;
    let (replid, offset) = {
        let st = server.lock();
        match st.repl.master.as_ref() {
            Some(m) if m.can_continue => (st.repl.replid.clone(), (st.repl.master_repl_offset + 1).to_string()),
            _ => ("?".to_string(), "-1".to_string()),
        }
    };
    if replid == "?" {
        tracing::info!("Partial resynchronization not possible (no cached master)");
    } else {
        tracing::info!("Trying a partial resynchronization (request {replid}:{offset}).");
    }
    // A coordinated failover: this PSYNC tells the target to promote itself first.
    let failing_over = server.lock().repl.failover.state == super::failover::FailoverState::InProgress;
    let reply = if failing_over {
        conn.command(&[b"PSYNC", replid.as_bytes(), offset.as_bytes(), b"FAILOVER"]).await?
    } else {
        conn.command(&[b"PSYNC", replid.as_bytes(), offset.as_bytes()]).await?
    };
    // A master waiting to start the RDB sends newlines to keep the link alive, even before its
    // reply to PSYNC.
    let mut reply = reply.trim_start_matches('\n').to_string();
    while reply.is_empty() {
        reply = conn.line().await?.trim_start_matches('\n').to_string();
    }
    if failing_over {
        let mut st = server.lock();
        if reply.starts_with("+FULLRESYNC") || reply.starts_with("+CONTINUE") {
            tracing::info!("Failover target accepted the PSYNC, failover complete.");
            super::failover::clear(&mut st);
        } else {
            super::failover::abort(server, &mut st, "Failover target rejected psync request");
            return Ok(());
        }
    }
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split(' ');
        let (Some(id), Some(off)) = (parts.next(), parts.next().and_then(|o| o.parse::<u64>().ok())) else {
            return Err(format!("Master replied with wrong +FULLRESYNC syntax: {reply}"));
        };
        tracing::info!(redis_event = "full-resync", "Full resync from master: {id}:{off}");
        conn = full_sync(server, generation, conn, id.to_string(), off).await?;
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        tracing::info!(redis_event = "partial-resync", "Successful partial resynchronization with master.");
        continue_history(server, rest.trim());
        tracing::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        return Err(format!("Master is currently unable to PSYNC but should be in the future: {reply}"));
    } else {
        return Err(psync_refused(&mut conn, &reply).await);
    }
    follow(server, generation, conn).await
}

/// A PSYNC refused with an error (a master's ACL user without +psync, say): Redis logs it, retries
/// with SYNC, and reports the error SYNC gets in turn, which is what an operator needs to see to
/// fix the user's permissions. Returns the error that ends this attempt. A master that would
/// take SYNC but not PSYNC (older than 2.8, or a user given +sync only) is not followed.
async fn psync_refused(conn: &mut MasterConn, reply: &str) -> String {
    if reply.starts_with("-ERR") {
        tracing::info!("Master does not support PSYNC or is in error state (reply: {reply})");
    } else {
        tracing::warn!("Unexpected reply to PSYNC from master: {reply}");
    }
    tracing::info!("Retrying with SYNC...");
    if let Err(e) = conn.send(&[b"SYNC"]).await {
        return format!("I/O error writing to MASTER: {e}");
    }
    let mut line = String::new();
    while line.is_empty() {
        line = match conn.line().await {
            Ok(l) => l.trim_start_matches('\n').to_string(),
            Err(e) => return format!("I/O error reading bulk count from MASTER: {e}"),
        };
    }
    match line.strip_prefix('-') {
        Some(error) => format!("MASTER aborted replication with an error: {error}"),
        None => "Master offers SYNC without PSYNC, which this server does not follow".to_string(),
    }
}

/// PING, AUTH, REPLCONF listening-port / ip-address / capa.
async fn handshake(server: &Server, conn: &mut MasterConn) -> Result<(), String> {
    let (user, pass, announce_ip, listening_port) = {
        let st = server.lock();
        let announce_port = st.config.int(crate::ckey!("replica-announce-port"));
        // With tls-replication, replicas of this server reach it on its TLS port (as Redis announces).
        let tls_port = *server.tls_port.lock();
        let port = if announce_port > 0 {
            announce_port as u16
        } else if st.config.bool(crate::ckey!("tls-replication")) && tls_port != 0 {
            tls_port
        } else {
            *server.tcp_port.lock()
        };
        (
            st.config.str(crate::ckey!("masteruser")).to_string(),
            st.config.str(crate::ckey!("masterauth")).to_string(),
            st.config.str(crate::ckey!("replica-announce-ip")).to_string(),
            port,
        )
    };
    let pong = conn.command(&[b"PING"]).await?;
    // An authentication error here is fine: AUTH comes next.
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    tracing::info!("Master replied to PING, replication can continue...");
    if !pass.is_empty() {
        let reply = if user.is_empty() {
            conn.command(&[b"AUTH", pass.as_bytes()]).await?
        } else {
            conn.command(&[b"AUTH", user.as_bytes(), pass.as_bytes()]).await?
        };
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port = listening_port.to_string();
    let reply = conn.command(&[b"REPLCONF", b"listening-port", port.as_bytes()]).await?;
    if reply.starts_with('-') {
        tracing::info!("(Non critical) Master does not understand REPLCONF listening-port: {reply}");
    }
    if !announce_ip.is_empty() {
        let reply = conn.command(&[b"REPLCONF", b"ip-address", announce_ip.as_bytes()]).await?;
        if reply.starts_with('-') {
            tracing::info!("(Non critical) Master does not understand REPLCONF ip-address: {reply}");
        }
    }
    let reply = conn.command(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]).await?;
    if reply.starts_with('-') {
        tracing::info!("(Non critical) Master does not understand REPLCONF capa: {reply}");
    }
    Ok(())
}

/// +CONTINUE [<replid>]: a master with a new ID (a promoted replica) continues our history
/// under its new ID: ours becomes the secondary one, and our own replicas reconnect to learn it.
fn continue_history(server: &Server, new_id: &str) {
    let mut st = server.lock();
    if !new_id.is_empty() && !new_id.eq_ignore_ascii_case(&st.repl.replid) {
        st.repl.replid2 = std::mem::replace(&mut st.repl.replid, new_id.to_string());
        st.repl.second_repl_offset = st.repl.master_repl_offset as i64 + 1;
        tracing::info!("Master replication ID changed to {new_id}");
        disconnect_replicas(&mut st);
    }
    if st.repl.backlog.is_none() {
        let size = st.config.int(crate::ckey!("repl-backlog-size")).max(1) as u64;
        st.repl.create_backlog(size);
    }
}

/// A full resync: the RDB replaces the dataset, then the history is the master's from `offset`.
/// The payload goes to a file and is loaded from it, or, with repl-diskless-load, is loaded
/// straight from the socket.
async fn full_sync(
    server: &Arc<Server>,
    generation: u64,
    mut conn: MasterConn,
    replid: String,
    offset: u64,
) -> Result<MasterConn, String> {
    with_link(server, generation, |m| {
        m.state = LinkState::Transfer;
        m.transfer = Some((-1, 0, crate::util::time::unix_ms()));
        announce(&m.host, m.port, LinkState::Transfer);
    });
    let framing = read_payload_header(&mut conn).await?;
    let keys_before: u64 = server.lock().dbs.iter().map(|db| db.len() as u64).sum();
    let (swap, from_socket) = {
        let st = server.lock();
        let mode = st.config.str(crate::ckey!("repl-diskless-load"));
        let empty = st.dbs.iter().all(|db| db.is_empty());
        (mode == "swapdb", mode == "swapdb" || (mode == "on-empty-db" && empty))
    };
    let info = if from_socket {
        tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        if !swap {
            flush_for_sync(server);
        }
        let MasterConn { stream, buf, timeout } = conn;
        let (stream, buf, info) = super::diskless_load::load(server, stream, buf, framing, swap, timeout)
            .await
            .map_err(|e| format!("Failed trying to load the MASTER synchronization DB from socket: {e}"))?;
        server.lock().loading = None;
        if swap {
            disconnect_replicas(&mut server.lock());
        }
        conn = MasterConn { stream, buf, timeout };
        info
    } else {
        load_through_file(server, generation, &mut conn, framing).await?
    };
    let mut st = server.lock();
    // The stream continues in the database the RDB says (a replica passing its master's stream
    // on inserts no SELECT for a new sub-replica).
    let stream_db = info.stream_db.and_then(|d| usize::try_from(d).ok()).filter(|d| *d < st.dbs.len()).unwrap_or(0);
    st.repl.replid = replid;
    st.repl.replid2 = super::NULL_REPLID.to_string();
    st.repl.second_repl_offset = -1;
    st.repl.master_repl_offset = offset;
    let size = st.config.int(crate::ckey!("repl-backlog-size")).max(1) as u64;
    st.repl.backlog = Some(super::backlog::Backlog::new(size, offset + 1));
    st.repl.selected_db = None;
    if let Some(m) = st.repl.master.as_mut() {
        m.transfer = None;
        m.read_offset = offset;
        m.stream_db = stream_db;
    }
    // The AOF must describe the new dataset: it is rewritten from it (restartAOFAfterSYNC).
    if st.aof.is_some() {
        let _ = crate::persistence::appendonly::start_rewrite(&mut st);
    }
    let keys_after: u64 = st.dbs.iter().map(|db| db.len() as u64).sum();
    if keys_before > 0 && keys_after == 0 {
        // The wipe case: usually a master restarted without its data.
        tracing::warn!(
            redis_event = "dataset-wiped",
            "MASTER <-> REPLICA sync: the master's dataset is empty: the {keys_before} keys this replica held are gone (did the master restart without its data?)"
        );
    }
    tracing::info!("MASTER <-> REPLICA sync: Finished with success");
    drop(st);
    Ok(conn)
}

/// The old dataset goes before the new one comes in (its function libraries too, as emptyData
/// does); replicas of this server followed the old one and must sync again.
fn flush_for_sync(server: &Server) {
    tracing::info!("MASTER <-> REPLICA sync: Flushing old data");
    let (old, lazy) = {
        let mut st = server.lock();
        disconnect_replicas(&mut st);
        st.scripts.flush_functions();
        (st.empty_dataset(), st.config.bool(crate::ckey!("replica-lazy-flush")))
    };
    // Freeing a large dataset takes a while: not while holding the keyspace. With
    // replica-lazy-flush, the lazy free thread does it and counts it (emptyDbAsync).
    match lazy {
        true => crate::server::lazyfree::free_databases(old),
        false => drop(old),
    }
}

/// The payload written to a temp file, which then replaces the RDB file and is loaded.
async fn load_through_file(
    server: &Arc<Server>,
    generation: u64,
    conn: &mut MasterConn,
    framing: super::diskless_load::Framing,
) -> Result<crate::persistence::load::ReplInfo, String> {
    let tmp = std::path::PathBuf::from(format!("temp-{}.{}.rdb", crate::util::time::unix_secs(), std::process::id()));
    if let Err(e) = receive_rdb(server, generation, conn, framing, &tmp).await {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let path = crate::persistence::snapshot::rdb_path(&server.lock());
    flush_for_sync(server);
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA synchronization: {e}",
            path.display()
        ));
    }
    tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let loader = server.clone();
    let load_path = path.clone();
    let loaded = tokio::task::spawn_blocking(move || crate::persistence::load::load_from_master(&loader, &load_path))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    let st = &mut server.lock();
    st.loading = None;
    let info = loaded.map_err(|e| format!("Failed trying to load the MASTER synchronization DB from disk: {e}"))?;
    if st.config.bool(crate::ckey!("rdb-del-sync-files"))
        && st.aof.is_none()
        && !crate::persistence::snapshot::save_points_configured(st)
    {
        let _ = std::fs::remove_file(&path);
    }
    Ok(info)
}

/// `$<len>` or `$EOF:<mark>` (newlines before it are the master's keepalives).
async fn read_payload_header(conn: &mut MasterConn) -> Result<super::diskless_load::Framing, String> {
    let header = loop {
        let line = conn.line().await?;
        // A lone "\n" keepalive arrives as part of the next line.
        let line = line.trim_start_matches('\n').to_string();
        if !line.is_empty() {
            break line;
        }
    };
    if header.starts_with('-') {
        return Err(format!("MASTER aborted replication with an error: {header}"));
    }
    let Some(spec) = header.strip_prefix('$') else {
        return Err(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?"));
    };
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark: [u8; 40] = mark.as_bytes().try_into().map_err(|_| format!("Bad EOF mark from MASTER: {header}"))?;
        return Ok(super::diskless_load::Framing::Mark(mark));
    }
    let len = spec.parse().map_err(|_| format!("Bad RDB length from MASTER: {header}"))?;
    Ok(super::diskless_load::Framing::Length(len))
}

/// Receives the payload into `tmp`, fsynced.
async fn receive_rdb(
    server: &Server,
    generation: u64,
    conn: &mut MasterConn,
    framing: super::diskless_load::Framing,
    tmp: &std::path::Path,
) -> Result<(), String> {
    use super::diskless_load::Framing;
    let mut file = std::fs::File::create(tmp).map_err(|e| {
        format!(
            "Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}",
            e = crate::util::sys::error_text(&e)
        )
    })?;
    let mut written = 0u64;
    let io = |e: std::io::Error| {
        format!(
            "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: {e}"
        )
    };
    match framing {
        Framing::Mark(mark) => {
            tracing::info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
            // The last 40 bytes are held back until more arrive: they may be the mark.
            loop {
                if conn.buf.len() > 40 {
                    let n = conn.buf.len() - 40;
                    let chunk = conn.buf.split_to(n);
                    file.write_all(&chunk).map_err(io)?;
                    written += n as u64;
                    progress(server, generation, written);
                }
                if conn.buf.len() == 40 && conn.buf[..] == mark[..] {
                    conn.buf.clear();
                    break;
                }
                conn.fill().await?;
            }
        }
        Framing::Length(len) => {
            tracing::info!("MASTER <-> REPLICA sync: receiving {len} bytes from master to disk");
            with_link(server, generation, |m| m.transfer = Some((len as i64, 0, crate::util::time::unix_ms())));
            while written < len {
                if conn.buf.is_empty() {
                    conn.fill().await?;
                }
                let n = conn.buf.len().min((len - written) as usize);
                let chunk = conn.buf.split_to(n);
                file.write_all(&chunk).map_err(io)?;
                written += n as u64;
                progress(server, generation, written);
            }
        }
    }
    file.sync_all().map_err(io)?;
    Ok(())
}

fn progress(server: &Server, generation: u64, read: u64) {
    with_link(server, generation, |m| {
        if let Some(t) = m.transfer.as_mut() {
            t.1 = read;
            t.2 = crate::util::time::unix_ms();
        }
        m.last_io_ms = crate::util::time::unix_ms();
    });
}

/// Applies the master's stream until the link breaks: each command runs as the master client,
/// and its bytes go on to this server's own replicas and count in the offset.
async fn follow(server: &Arc<Server>, generation: u64, conn: MasterConn) -> Result<(), String> {
    let MasterConn { stream, buf, timeout } = conn;
    let addr = stream.tcp().peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let laddr = stream.tcp().local_addr().map(|a| a.to_string()).unwrap_or_default();
    match stream {
        Link::Plain(s) => {
            let (rd, wr) = s.into_split();
            follow_halves(server, generation, rd, wr, buf, timeout, addr, laddr).await
        }
        Link::Tls(s) => {
            let (rd, wr) = tokio::io::split(*s);
            follow_halves(server, generation, rd, wr, buf, timeout, addr, laddr).await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn follow_halves<R, W>(
    server: &Arc<Server>,
    generation: u64,
    mut rd: R,
    mut wr: W,
    mut buf: BytesMut,
    timeout: Duration,
    addr: String,
    laddr: String,
) -> Result<(), String>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let kill = Arc::new(ClientSignals::default());
    let (id, stream_db) = {
        let mut st = server.lock();
        let id = st.next_client_id;
        st.next_client_id += 1;
        st.clients.insert(
            id,
            crate::server::state::ClientInfo::internal(id, addr.clone(), laddr, ClientKind::Master, kill.clone()),
        );
        let offset = st.repl.master_repl_offset;
        let Some(m) = st.repl.master.as_mut().filter(|m| m.generation == generation) else {
            st.clients.remove(&id);
            return Ok(());
        };
        m.client = Some(id);
        m.state = LinkState::Connected;
        announce(&m.host, m.port, LinkState::Connected);
        m.last_io_ms = crate::util::time::unix_ms();
        m.read_offset = offset;
        (id, m.stream_db)
    };
    tracing::info!(redis_event = "master-link-up", redis_master = %addr, "MASTER <-> REPLICA sync: Master accepted, link up");
    let mut session = Session::new(id, addr);
    session.authenticated = true;
    session.repl.is_master = true;
    // A continued stream goes on in the database it last selected (a full resync's stream
    // starts with a SELECT).
    session.db = stream_db;
    let mut parser = Parser::default();
    let limits = Limits { proto_max_bulk_len: i64::MAX, authenticated: true };
    let mut ack_timer = tokio::time::interval(Duration::from_secs(1));
    let mut last_data = Instant::now();
    let mut partial = Vec::new();
    // Anything already read after the PSYNC reply is stream.
    let mut nread = buf.len();
    loop {
        if nread > 0 {
            last_data = Instant::now();
            let acks = apply(server, &mut session, &mut parser, &mut buf, limits, &mut partial, nread)?;
            for offset in acks {
                send_ack(&mut wr, offset).await?;
            }
        }
        nread = tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => return Err("Connection with master lost.".into()),
                Err(e) => return Err(format!("Connection with master lost: {e}", e = crate::util::sys::error_text(&e))),
                Ok(n) => n,
            },
            _ = ack_timer.tick() => {
                if last_data.elapsed() > timeout {
                    return Err("MASTER timeout: no data nor PING received...".into());
                }
                let offset = server.lock().repl.master_repl_offset;
                send_ack(&mut wr, offset).await?;
                0
            }
            _ = kill.killed() => return Err("Connection with master lost.".into()),
        };
        if kill.is_killed() || !current(server, generation) {
            return Ok(());
        }
    }
}

async fn send_ack(wr: &mut (impl tokio::io::AsyncWrite + Unpin), offset: u64) -> Result<(), String> {
    let mut out = Vec::new();
    let offset = offset.to_string();
    crate::persistence::aof::encode_command(&mut out, &[&b"REPLCONF"[..], b"ACK", offset.as_bytes()]);
    wr.write_all(&out).await.map_err(|e| format!("Error writing to MASTER: {e}", e = crate::util::sys::error_text(&e)))
}

/// Runs the complete commands in `buf` under one lock. Returns the offsets to acknowledge at
/// once (REPLCONF GETACK asked for them). `partial` holds the bytes of a command not yet
/// complete: a command's exact bytes go on to sub-replicas and count in the offset.
fn apply(
    server: &Arc<Server>,
    session: &mut Session,
    parser: &mut Parser,
    buf: &mut BytesMut,
    limits: Limits,
    partial: &mut Vec<u8>,
    nread: usize,
) -> Result<Vec<u64>, String> {
    let mut acks = Vec::new();
    let mut guard = server.lock();
    let st: &mut State = &mut guard;
    st.repl.stats.net_repl_input_bytes += nread as u64;
    if let Some(m) = st.repl.master.as_mut() {
        m.last_io_ms = crate::util::time::unix_ms();
        m.read_offset += nread as u64;
    }
    let now_ms = crate::util::time::unix_ms();
    let mut clock = Instant::now();
    let input = Bytes::copy_from_slice(buf);
    let mut pos = 0;
    let mut applied = Vec::new();
    loop {
        let before = buf.len();
        let parsed = parser.next(buf, limits);
        let consumed = before - buf.len();
        partial.extend_from_slice(&input[pos..pos + consumed]);
        pos += consumed;
        let args = match parsed {
            Ok(Some(args)) => args,
            Ok(None) => break,
            Err(e) => return Err(format!("Protocol error from MASTER: {}", e.0)),
        };
        let is_getack =
            args.len() >= 2 && args[0].eq_ignore_ascii_case(b"replconf") && args[1].eq_ignore_ascii_case(b"getack");
        if is_getack {
            // The offset before this command, as Redis reports it.
            acks.push(st.repl.master_repl_offset + applied.len() as u64);
        } else {
            let mut ctx = Ctx { server, state: st, session, now_ms, clock };
            let reply = (server.dispatch.process)(&mut ctx, &args);
            clock = ctx.clock;
            if let crate::protocol::Reply::Error(e) = reply {
                // The master never sees it; the log is the only place a divergence shows.
                tracing::warn!(
                    "== CRITICAL == This replica is sending an error to its master: '{e}' after processing the command '{}'",
                    String::from_utf8_lossy(&args[0])
                );
            }
        }
        applied.append(partial);
    }
    if !applied.is_empty() {
        st.repl.feed(Bytes::from(applied));
        close_replicas_over_limits(st, FoundBy::Feed);
    }
    if let Some(m) = st.repl.master.as_mut() {
        m.stream_db = session.db;
    }
    // What the master's commands changed, to this replica's BCAST tracking clients.
    crate::server::tracking::broadcast(st, None);
    crate::server::propagation::flush(st);
    Ok(acks)
}
