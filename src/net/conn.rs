//! One task per connection: read, parse, execute a batch under one lock, write.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

use crate::commands::{self, Ctx, ReplyMode, Session};
use crate::protocol::parser::{Limits, Parser};
use crate::protocol::Reply;
use crate::server::blocking::Parked;
use crate::server::busy::BusyJob;
use crate::server::client_eviction as eviction;
use crate::server::signals::{ClientSignals, Signal};
use crate::server::state::{ClientInfo, ClientKind, Push, State};
use crate::server::Server;

use super::client_buffers::{QueryBuf, ReplyBuf, Resized};
use super::client_memory as memory;
use super::halves::{ForgetWrite, IntoHalves, WriteNow};

/// A batch stops once this much output is pending, so replies are written before more commands run
/// and a client that pipelines many large reads cannot make the server buffer them all.
const OUT_CHUNK: usize = 1024 * 1024;

/// At most this many commands run per hold of the keyspace lock, so a deep pipeline from one client
/// cannot keep the others waiting for long.
const BATCH_MAX: usize = 128;

const DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

pub async fn serve<S>(
    server: Arc<Server>,
    stream: S,
    addr: String,
    laddr: String,
    fd: i32,
    is_local: bool,
    is_unix: bool,
) where
    S: IntoHalves,
{
    let (mut rd, mut wr) = stream.into_halves();
    let (tx, mut rx) = mpsc::unbounded_channel::<Push>();
    let kill = Arc::new(ClientSignals::default());
    let pending = Arc::new(AtomicUsize::new(0));
    // Registered even while a script is busy (by the script's hook), as Redis accepts then.
    let (peer_addr, pending_c, kill_c) = (addr.clone(), pending.clone(), kill.clone());
    type Admitted = (u64, bool, i64, usize, Arc<AtomicUsize>);
    let admit = move |st: &mut State| -> Result<Admitted, &'static [u8]> {
        st.stats.total_connections += 1;
        if st.clients.len() >= st.hot.maxclients {
            st.stats.rejected_connections += 1;
            Err(b"-ERR max number of clients reached\r\n")
        } else if st.hot.protected_mode && st.acl.default_nopass() && !is_local {
            Err(DENIED)
        } else {
            let id = st.next_client_id;
            st.next_client_id += 1;
            let peer = crate::server::state::Peer { addr: peer_addr, laddr, fd, is_unix };
            let client = ClientInfo::new(id, peer, ClientKind::Normal, tx, pending_c, kill_c);
            let unwritten = client.unwritten.clone();
            st.clients.insert(id, client);
            Ok((id, !st.acl.auth_required(), st.hot.proto_max_bulk_len, st.hot.query_buffer_limit, unwritten))
        }
    };
    let admitted = crate::server::busy::with_state(&server.state, &server.busy, admit).await;
    let (id, authenticated, proto_max_bulk_len, query_buffer_limit, unwritten) = match admitted {
        Ok(v) => v,
        Err(msg) => {
            let _ = wr.write_all(msg).await;
            return;
        }
    };
    tracing::debug!("Accepted {addr}");
    let mut session = Session::new(id, addr);
    session.authenticated = authenticated;
    let mut conn = Conn {
        parser: Parser::default(),
        query: QueryBuf::default(),
        out: Vec::with_capacity(super::client_buffers::REPLY_CHUNK),
        reply: ReplyBuf::default(),
        last_active_secs: crate::util::time::cached_unix_secs(),
        queue: VecDeque::new(),
        unwritten_commands: 0,
        alone: false,
        unaccounted_input: 0,
        proto_max_bulk_len,
        query_buffer_limit,
        output_limited: false,
        parked: None,
        pushes: false,
    };
    loop {
        if kill.is_killed() {
            break;
        }
        if let Some((wake, deadline_ms, resp)) = conn.parked.take() {
            let waited = Parking { server: &server, wake, deadline_ms, resp, kill: &kill, pending: &pending };
            if !waited.wait(&mut session, &mut conn, &mut rd, &mut wr, &mut rx).await {
                break;
            }
            // Input that came while it waited runs now, not when more input comes.
            if !run_input(&server, &mut session, &mut conn, 0, &mut rx, &pending).await {
                aof_before_replies(&server).await;
                let _ = wr.write_all(&conn.out).await;
                break;
            }
        } else if !conn.queue.is_empty() {
            // Commands left over from a batch cut short so its replies could be written first.
            if !run_input(&server, &mut session, &mut conn, 0, &mut rx, &pending).await {
                aof_before_replies(&server).await;
                let _ = wr.write_all(&conn.out).await;
                break;
            }
        } else {
            match next_event(&kill, &mut rx, conn.pushes, &mut rd, &mut conn.query).await {
                Event::Killed | Event::Read(Ok(0) | Err(_)) => break,
                Event::Tend => tend_buffers(&server, &session, &mut conn),
                Event::Read(Ok(n)) => {
                    conn.last_active_secs = crate::util::time::cached_unix_secs();
                    if !run_input(&server, &mut session, &mut conn, n, &mut rx, &pending).await {
                        aof_before_replies(&server).await;
                        let _ = wr.write_all(&conn.out).await;
                        break;
                    }
                }
                Event::Push(p) => {
                    encode_push(&p, session.resp, &mut conn.out, &pending);
                    while let Ok(p) = rx.try_recv() {
                        encode_push(&p, session.resp, &mut conn.out, &pending);
                    }
                }
            }
        }
        if !conn.out.is_empty() {
            // After a pipeline, the connections that are ready run their commands first and the
            // replies go out after, together, as Redis writes its replies before it sleeps: a
            // client that reads many connections (a pipelining benchmark, a pool) is woken once
            // for them all, not once per reply while it is about to sleep. tokio runs a yielded
            // task after the other ready ones and a poll of the sockets; that poll is a syscall
            // more, which a single command's reply, or a client alone (a bulk load), does not pay.
            if std::mem::take(&mut conn.unwritten_commands) > 1 && !conn.alone {
                tokio::task::yield_now().await;
            }
            aof_before_replies(&server).await;
            conn.reply.note(conn.out.len());
            // Usually the socket takes it all at once: one write, without the machinery of waiting.
            let (mut gone, mut close) = (false, false);
            match wr.write_now(&conn.out) {
                Some(Ok(n)) if n > 0 => {
                    conn.out.drain(..n);
                }
                Some(_) => gone = true,
                None => {}
            }
            // What the socket did not take counts towards maxmemory-clients (Redis measures a
            // client after each write, and evicts before it sleeps).
            if !gone && eviction::enabled() && !report_usage(&server, session.id, &conn) {
                gone = true;
            }
            if !gone && !conn.out.is_empty() {
                // A client that stops reading blocks this write; CLIENT KILL and the output buffer
                // limits must still be able to drop it. With an output limit, commands go on running meanwhile (what is queued, then what
                // arrives), so that the limit can be reached as in Redis.
                unwritten.store(conn.out.len(), Ordering::Relaxed);
                // With maxmemory-clients set, client eviction bounds what it may hold.
                let mut reading = conn.output_limited || eviction::enabled();
                while !conn.out.is_empty() {
                    // Not once the connection is handed over (SYNC) or closing after a reply.
                    let handed = session.repl.handover.is_some() || session.close_after_reply;
                    let running = reading && !close && !handed && conn.parked.is_none();
                    let queued = running && !conn.queue.is_empty();
                    tokio::select! {
                        r = wr.write(&conn.out) => match r {
                            Ok(n) if n > 0 => {
                                conn.out.drain(..n);
                                unwritten.store(conn.out.len(), Ordering::Relaxed);
                                if eviction::enabled() && !report_usage(&server, session.id, &conn) {
                                    gone = true;
                                    break;
                                }
                            }
                            _ => {
                                gone = true;
                                break;
                            }
                        },
                        _ = std::future::ready(()), if queued => {
                            close = !run_input(&server, &mut session, &mut conn, 0, &mut rx, &pending).await;
                            unwritten.store(conn.out.len(), Ordering::Relaxed);
                            aof_before_replies(&server).await;
                        },
                        r = conn.query.read(&mut rd), if running && !queued => match r {
                            Ok(0) | Err(_) => reading = false,
                            Ok(n) => {
                                close = !run_input(&server, &mut session, &mut conn, n, &mut rx, &pending).await;
                                unwritten.store(conn.out.len(), Ordering::Relaxed);
                                aof_before_replies(&server).await;
                            }
                        },
                        _ = kill.killed() => {
                            gone = true;
                            break;
                        }
                    }
                }
                unwritten.store(0, Ordering::Relaxed);
            }
            if gone || close {
                break;
            }
            conn.last_active_secs = crate::util::time::cached_unix_secs();
            // A reply bigger than the buffer went out as Redis's reply list does, in blocks it
            // frees once written: the room it took is given back now, not at the next cron, or
            // used_memory (and so maxmemory's eviction) would count it for up to a cron period.
            if conn.out.capacity() > conn.reply.size {
                conn.out = Vec::with_capacity(conn.reply.size);
            } else {
                conn.out.clear();
            }
        }
        if session.close_after_reply {
            break;
        }
        if let Some(handover) = session.repl.handover.take() {
            // SYNC/PSYNC: from now on this connection carries the replication stream.
            if server.lock().config.bool(crate::ckey!("repl-disable-tcp-nodelay")) {
                disable_nodelay(fd);
            }
            let input = std::mem::take(&mut conn.query.buf);
            crate::replication::stream::serve_replica(server.clone(), session.id, rd, wr, input, handover, kill).await;
            unregister(&mut server.lock(), &mut session);
            return;
        }
    }
    tracing::debug!("Client closed connection id={} addr={}", session.id, session.addr);
    if session.handed_to_child {
        wr.forget();
    } else {
        let _ = wr.shutdown().await;
    }
    unregister(&mut server.lock(), &mut session);
}

struct Conn {
    parser: Parser,
    query: QueryBuf,
    out: Vec<u8>,
    /// The size `out` rests at between writes, and its peak use, as Redis's reply buffer.
    reply: ReplyBuf,
    /// When the client last sent or was sent something (Redis's lastinteraction, in its seconds).
    last_active_secs: i64,
    /// Commands run since replies were last written.
    unwritten_commands: usize,
    /// No other client was connected at the end of the last batch.
    alone: bool,
    /// Parsed commands not yet executed (a pause stopped the batch).
    queue: VecDeque<Vec<Bytes>>,
    /// Input bytes not yet added to the stats (added under the next batch's lock).
    unaccounted_input: usize,
    proto_max_bulk_len: i64,
    query_buffer_limit: usize,
    /// Whether the client's output buffer limit is set, so that its input must go on being read
    /// while its output waits for the socket: Redis reads and runs a client's commands whatever
    /// it has not written yet, and closes it when the limit is reached. Without a limit, waiting
    /// for the socket bounds the memory instead.
    output_limited: bool,
    /// Set when a blocking command parked the client: its wake-up, deadline (unix ms, 0 never) and
    /// protocol (for pushes that arrive meanwhile).
    parked: Option<(Arc<Notify>, u64, u8)>,
    /// Whether pushes (pub/sub messages, MONITOR lines, invalidations) can come for this client:
    /// once it has subscribed, monitored, tracked or switched to RESP3, for the rest of its life
    /// (a message published before an UNSUBSCRIBE still arrives after it). Until then, waiting for
    /// input does not also poll the push queue, which nobody sends to.
    pushes: bool,
}

/// What a connection that waits for its client was woken for.
enum Event {
    Killed,
    /// The cron's visit: resize the buffers as clientsCron does.
    Tend,
    Read(std::io::Result<usize>),
    Push(Push),
}

/// Waits for the client's input, its kill switch, or (when it can receive them) a push. Written
/// out rather than with `select!`: this is every request's wait, and it needs no random order, no
/// Notify waiter and no push-queue poll for the clients that get no pushes.
async fn next_event<R: AsyncRead + Unpin>(
    kill: &ClientSignals,
    rx: &mut mpsc::UnboundedReceiver<Push>,
    pushes: bool,
    rd: &mut R,
    query: &mut QueryBuf,
) -> Event {
    poll_fn(|cx| {
        match kill.poll(cx) {
            Poll::Ready(Signal::Killed) => return Poll::Ready(Event::Killed),
            Poll::Ready(Signal::Tend) => return Poll::Ready(Event::Tend),
            Poll::Pending => {}
        }
        if pushes {
            if let Poll::Ready(Some(p)) = rx.poll_recv(cx) {
                return Poll::Ready(Event::Push(p));
            }
        }
        query.poll_read(rd, cx).map(Event::Read)
    })
    .await
}

fn encode_push(p: &Push, resp: u8, out: &mut Vec<u8>, pending: &AtomicUsize) {
    let Push::Reply(r) = p;
    let before = out.len();
    r.encode(resp, out);
    let n = out.len() - before;
    let _ = pending.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(v.saturating_sub(n)));
}

/// Parses and executes what arrived. False: close the connection after writing `out`.
async fn run_input(
    server: &Arc<Server>,
    session: &mut Session,
    conn: &mut Conn,
    nread: usize,
    rx: &mut mpsc::UnboundedReceiver<Push>,
    pending: &AtomicUsize,
) -> bool {
    conn.unaccounted_input += nread;
    loop {
        let limits = Limits { proto_max_bulk_len: conn.proto_max_bulk_len, authenticated: session.authenticated };
        // Unauthenticated clients get tight protocol limits, and an AUTH changes that for the rest
        // of the input, so until then commands are parsed and run one at a time.
        let mut proto_error = None;
        let (unparsed, start) = (conn.query.buf.len(), conn.query.buf.as_ptr() as usize);
        while conn.queue.is_empty() || session.authenticated {
            match conn.parser.next(&mut conn.query.buf, limits) {
                Ok(Some(args)) => conn.queue.push_back(args),
                Ok(None) => break,
                Err(e) => {
                    proto_error = Some(e);
                    break;
                }
            }
        }
        let parsed = unparsed - conn.query.buf.len();
        conn.query.consumed += parsed;
        if conn.query.buf.as_ptr() as usize != start.wrapping_add(parsed) && conn.query.buf.capacity() > 0 {
            // The parser made room for a big argument in a new block (parsing alone only
            // advances the start of the old one).
            conn.query.reallocated();
        }
        conn.query.big_bulk = conn.parser.pending_bulk().filter(|&len| len >= crate::protocol::parser::BIG_ARG);
        if conn.query.buf.len() > conn.query_buffer_limit {
            let mut st = server.lock();
            let info = commands::client_info_string(&st, session.id, crate::util::time::unix_ms()).unwrap_or_default();
            // Redis logs the client and the start of what it sent (sdscatrepr of 64 bytes).
            let head = &conn.query.buf[..conn.query.buf.len().min(64)];
            let head = crate::util::splitargs::repr(head);
            tracing::warn!("Closing client that reached max query buffer length: {info} (qbuf initial bytes: {head})");
            st.stats.client_qbuf_limit_disconnections += 1;
            return false;
        }
        if conn.queue.is_empty() && proto_error.is_none() {
            // Processed: what was parsed leaves the buffer (the cron resizes what remains).
            conn.query.settle();
            // Redis's readQueryFromClient counts every read as interaction and input: a client
            // sending a big command slowly is progressing, not idle, and `timeout` must not close
            // it; INFO's input bytes grow as the command arrives. Only for a read that completed
            // no command (a batch run counts its input), and never waiting for a busy script's
            // lock: the bytes wait for the next count.
            if conn.unaccounted_input > 0 {
                if let Some(mut st) = crate::server::busy::lock_unless_busy(&server.state, &server.busy) {
                    st.stats.net_input_bytes += std::mem::take(&mut conn.unaccounted_input) as u64;
                    if let Some(ci) = st.clients.get_mut(&session.id) {
                        ci.last_interaction_ms = crate::util::time::unix_ms();
                    }
                }
            }
            // A command still arriving holds its bytes in the query buffer, which counts towards
            // maxmemory-clients as soon as it is read.
            return !eviction::enabled() || report_usage(server, session.id, conn);
        }
        match execute_batch(server, session, conn, rx, pending) {
            Batch::Done => {}
            Batch::Paused(wait_ms, epoch) => {
                wait_pause(server, wait_ms, epoch).await;
                if !server.lock().clients.contains_key(&session.id) {
                    // Killed (CLIENT KILL) while held: what it sent is dropped, as Redis frees it.
                    conn.queue.clear();
                    return false;
                }
                continue;
            }
            Batch::ScriptBusy => {
                hand_to_busy_script(server, session, conn).await;
                if session.close_after_reply {
                    return false;
                }
                continue;
            }
        }
        if conn.parked.is_some() {
            return true;
        }
        if let Some(e) = proto_error {
            let text = format!("ERR {}", e.0);
            Reply::error(text.clone()).encode(session.resp, &mut conn.out);
            server.lock().count_error(&text);
            tracing::debug!("Protocol error ({}) from client: addr={}", e.0, session.addr);
            return false;
        }
        if session.close_after_reply {
            return false;
        }
        if conn.out.len() >= OUT_CHUNK {
            return true;
        }
        if !conn.queue.is_empty() {
            // A long pipeline gives other connections a turn between its chunks.
            tokio::task::yield_now().await;
        }
    }
}

/// Waits for a pause's end (or the client's turn after it), at most `wait_ms`. `epoch` is the
/// wake-ups' count the batch saw: one since then was missed, and nothing is waited for.
async fn wait_pause(server: &Arc<Server>, wait_ms: u64, epoch: u64) {
    let notify = server.lock().pause_notify.clone();
    let notified = notify.notified();
    tokio::pin!(notified);
    // Registered before the check, so that no wake-up falls between the two.
    notified.as_mut().enable();
    if server.lock().postponed.epoch != epoch {
        return;
    }
    tokio::select! {
        _ = notified => {}
        _ = tokio::time::sleep(std::time::Duration::from_millis(wait_ms.max(1))) => {}
    }
}

/// How long a released client waits for its turn before looking again, should a wake-up be lost.
const TURN_WAIT_MS: u64 = 100;

/// No reply may say a write is done before the AOF has it: what waits in the AOF's queue is
/// written first. The connections that are ready run their batches before (one yield), so that
/// one write carries them all.
async fn aof_before_replies(server: &Server) {
    if server.aof_queued.load(Ordering::Relaxed) {
        tokio::task::yield_now().await;
        let mut st = server.lock();
        crate::persistence::appendonly::write_queued(&mut st, &server.aof_queued);
    }
}

/// How a batch ended.
enum Batch {
    Done,
    /// CLIENT PAUSE holds the rest: wait this many ms.
    /// Held by a pause: wait this long at most, from this wake-up epoch.
    Paused(u64, u64),
    /// A script is busy: its hook runs the commands (`hand_to_busy_script`).
    ScriptBusy,
}

/// While a script is busy, the queued commands go one by one to its hook, which answers most
/// of them -BUSY; once it has ended they run as usual again.
async fn hand_to_busy_script(server: &Arc<Server>, session: &mut Session, conn: &mut Conn) {
    while let Some(args) = conn.queue.pop_front() {
        let (done, reply) = tokio::sync::oneshot::channel();
        let placeholder = Session::new(session.id, String::new());
        let job = BusyJob::Command { session: Box::new(std::mem::replace(session, placeholder)), args, done };
        if let Err(BusyJob::Command { session: s, args, .. }) = server.busy.submit(job) {
            *session = *s;
            conn.queue.push_front(args);
            return;
        }
        let Ok(back) = reply.await else {
            // The script's thread dropped the command without an answer: the session went with
            // it, so this connection cannot go on.
            session.close_after_reply = true;
            return;
        };
        *session = *back.session;
        let Some(reply) = back.reply else {
            conn.queue.push_front(back.args);
            return;
        };
        write_reply(session, conn, reply);
        if session.close_after_reply {
            conn.queue.clear();
            return;
        }
    }
}

/// A command's reply into the output, as the client's reply mode says, with what follows it.
fn write_reply(session: &mut Session, conn: &mut Conn, reply: Reply) {
    session.encode_reply(&reply, &mut conn.out);
}

/// Runs queued commands under one lock.
fn execute_batch(
    server: &Arc<Server>,
    session: &mut Session,
    conn: &mut Conn,
    rx: &mut mpsc::UnboundedReceiver<Push>,
    pending: &AtomicUsize,
) -> Batch {
    let Some(mut guard) = crate::server::busy::lock_unless_busy(&server.state, &server.busy) else {
        return Batch::ScriptBusy;
    };
    let st: &mut State = &mut guard;
    st.stats.net_input_bytes += std::mem::take(&mut conn.unaccounted_input) as u64;
    // Limits for parsing the next input come from this batch's view of the config.
    conn.proto_max_bulk_len = st.hot.proto_max_bulk_len;
    conn.query_buffer_limit = st.hot.query_buffer_limit;
    let now_ms = crate::util::time::unix_ms();
    let out_before = conn.out.len();
    // This read's bytes are in the query buffer until the whole read has run (CLIENT LIST of
    // the client itself shows them).
    session.query_buffer = (conn.query.len_with_consumed(), conn.query.free(), conn.query.allocated());
    let mut wait = Batch::Done;
    let mut clock = std::time::Instant::now();
    let mut executed = 0;
    while let Some(args) = conn.queue.pop_front() {
        if st.pause.is_some_and(|p| p.until_ms <= now_ms) {
            crate::server::postpone::end_pause(st);
        }
        if !crate::server::postpone::may_run(st, session.id) {
            // Released by a pause's end behind other clients: they run first.
            conn.queue.push_front(args);
            wait = Batch::Paused(TURN_WAIT_MS, st.postponed.epoch);
            break;
        }
        // processCommand's evictClients, after what the reads and the previous commands added: a
        // client evicted here runs nothing more and is sent nothing more.
        if st.hot.maxmemory_clients != 0 && eviction::evict(st, Some(session.id), now_ms) {
            conn.out.clear();
            conn.queue.clear();
            session.close_after_reply = true;
            break;
        }
        // Earlier replies of the pipeline not written yet (clientHasPendingReplies).
        session.replies_pending = !conn.out.is_empty();
        let mut ctx = Ctx { server, state: st, session, now_ms, clock };
        // A bug in one command must not take the connection, or the server, down with it.
        let reply = commands::guard::process_caught(&mut ctx, &args);
        clock = ctx.clock;
        if let Some(until_ms) = session.postponed.take() {
            // CLIENT PAUSE (or a FAILOVER/SHUTDOWN's pause) holds it: it runs again afterwards.
            conn.queue.push_front(args);
            crate::server::postpone::hold(st, session.id);
            wait = Batch::Paused(until_ms.saturating_sub(now_ms), st.postponed.epoch);
            break;
        }
        if let Some(req) = session.block.take() {
            // The client waits; its session goes with it, so the command can run again as this
            // client when another client writes one of the keys.
            let wake = Arc::new(Notify::new());
            conn.parked = Some((wake.clone(), req.deadline_ms, session.resp));
            let placeholder = Session::new(session.id, String::new());
            let waiting = std::mem::replace(session, placeholder);
            st.blocking.park(waiting.id, Parked::new(waiting, args, req, wake), false);
            break;
        }
        // What was queued for this client before its command ran goes before its reply, as in Redis
        // where a publisher's message or an invalidation is in the output buffer at once. Only
        // these clients receive pushes (a RESP3 one as a tracking redirect target).
        if session.subscriptions() > 0 || session.monitor || session.tracking || session.resp >= 3 {
            while let Ok(p) = rx.try_recv() {
                encode_push(&p, session.resp, &mut conn.out, pending);
            }
        }
        write_reply(session, conn, reply);
        if st.hot.maxmemory_clients != 0 {
            // What the command added to the output (or its MULTI queue, its subscriptions...).
            memory::measure(st, session.id, held(conn));
        }
        if session.close_after_reply {
            conn.queue.clear();
            break;
        }
        if session.repl.handover.is_some() {
            break;
        }
        let over = st.clients.get_mut(&session.id).is_some_and(|c| {
            let used = (c.pending.load(Ordering::Relaxed) + conn.out.len()) as u64;
            c.output_limit_reached(&st.hot.output_limits, used, now_ms)
        });
        if over {
            let info = commands::client_info_string(st, session.id, now_ms).unwrap_or_default();
            tracing::warn!("Client {info} scheduled to be closed ASAP for overcoming of output buffer limits.");
            st.stats.client_outbuf_limit_disconnections += 1;
            // Freed before the next client runs (beforeNextClient): what it held does not get
            // another client evicted meanwhile.
            eviction::forget(st, session.id);
            conn.out.clear();
            conn.queue.clear();
            session.close_after_reply = true;
            break;
        }
        if conn.out.len() >= OUT_CHUNK {
            break;
        }
        executed += 1;
        conn.unwritten_commands += 1;
        if executed >= BATCH_MAX {
            break;
        }
    }
    // BCAST clients learn what the batch changed, this client after its replies (Redis does it
    // before it sleeps, once per pipeline read).
    if st.tracking.clients > 0 {
        let mut mine = Vec::new();
        crate::server::tracking::broadcast(st, Some((session.id, &mut mine)));
        for r in mine {
            r.encode(session.resp, &mut conn.out);
        }
    }
    // The batch's writes reach the AOF (and, with appendfsync always, the disk) before its
    // replies are written: see `aof_before_replies`.
    if crate::server::propagation::flush_deferred(st) {
        server.aof_queued.store(true, Ordering::Relaxed);
    }
    if std::mem::take(&mut session.repl.unflushed_write) {
        session.repl.woff = st.repl.master_repl_offset;
    }
    // Output dropped at the output buffer limit (the buffer cleared) was never sent: not counted.
    st.stats.net_output_bytes += conn.out.len().saturating_sub(out_before) as u64;
    conn.alone = st.clients.len() <= 1;
    conn.pushes |= session.subscriptions() > 0 || session.monitor || session.tracking || session.resp >= 3;
    let class = if session.subs + session.psubs > 0 { 2 } else { 0 };
    conn.output_limited = st.hot.output_limits[class].0 > 0 || st.hot.output_limits[class].1 > 0;
    if let Some(ci) = st.clients.get_mut(&session.id) {
        publish_buffers(ci, conn, true);
    }
    wait
}

/// A parked client's wait: until it is served, times out, is unblocked or goes away.
struct Parking<'a> {
    server: &'a Arc<Server>,
    wake: Arc<Notify>,
    deadline_ms: u64,
    resp: u8,
    kill: &'a ClientSignals,
    pending: &'a AtomicUsize,
}

impl Parking<'_> {
    /// Waits, then puts the session back and queues the reply. False: the connection is to close
    /// (the session is back too, for the clean-up).
    async fn wait<R, W>(
        self,
        session: &mut Session,
        conn: &mut Conn,
        rd: &mut R,
        wr: &mut W,
        rx: &mut mpsc::UnboundedReceiver<Push>,
    ) -> bool
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let id = session.id;
        let deadline_ms = self.deadline_ms;
        let timer = async move {
            if deadline_ms == 0 {
                std::future::pending::<()>().await;
            }
            let ms = deadline_ms.saturating_sub(crate::util::time::unix_ms());
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        };
        tokio::pin!(timer);
        let mut timed_out = false;
        loop {
            let (mut gone, mut read) = (false, false);
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = &mut timer, if !timed_out => {
                    timed_out = true;
                    let mut st = self.server.lock();
                    crate::server::blocking::end_wait(self.server, &mut st, id, None);
                }
                _ = self.kill.killed() => gone = true,
                // Like Redis, input keeps arriving into the query buffer while the client waits;
                // it runs once the wait is over. A closed connection ends the wait.
                r = conn.query.read(rd) => match r {
                    Ok(0) | Err(_) => gone = true,
                    Ok(n) => {
                        conn.unaccounted_input += n;
                        gone = conn.query.buf.len() > conn.query_buffer_limit;
                        read = true;
                    }
                },
                Some(p) = rx.recv() => {
                    let mut out = Vec::new();
                    encode_push(&p, self.resp, &mut out, self.pending);
                    if wr.write_all(&out).await.is_err() {
                        gone = true;
                    }
                }
            }
            let mut st = self.server.lock();
            // What arrives meanwhile counts towards maxmemory-clients, as after any read.
            if read && !gone && eviction::enabled() {
                gone = memory::evicts_itself(&mut st, id, held(conn), crate::util::time::unix_ms());
            }
            if gone {
                if let Some(s) = st.blocking.cancel(id) {
                    *session = s;
                }
                return false;
            }
            if let Some((s, reply)) = st.blocking.take_finished(id) {
                *session = s;
                let before = conn.out.len();
                if session.reply_mode != ReplyMode::Off {
                    reply.encode(session.resp, &mut conn.out);
                }
                st.stats.net_output_bytes += (conn.out.len() - before) as u64;
                return true;
            }
        }
    }
}

/// What CLIENT LIST shows of the connection's buffers. `unsettled`: the bytes this read parsed
/// still count until it is processed, but others see the buffer as it is after (trimmed).
fn publish_buffers(ci: &mut crate::server::state::ClientInfo, conn: &Conn, unsettled: bool) {
    let q = &conn.query;
    ci.qbuf = q.buf.len();
    ci.qbuf_free = if unsettled { q.free() + q.consumed } else { q.free() };
    ci.qbuf_alloc = q.allocated();
    (ci.argv_pending, ci.argv_pending_mem) = pending_argv(conn);
    ci.rbs = conn.reply.size;
    ci.rbp = conn.reply.peak;
}

/// clientsCron's visit of a waiting client: its query and reply buffers resized as Redis resizes
/// them, INFO's counters of reply buffer resizes, CLIENT LIST's figures.
fn tend_buffers(server: &Arc<Server>, session: &Session, conn: &mut Conn) {
    // Never waits for a busy script's lock (every idle client would hold a thread meanwhile):
    // the next visit does it.
    let Some(mut st) = crate::server::busy::lock_unless_busy(&server.state, &server.busy) else { return };
    let idle = crate::util::time::cached_unix_secs().saturating_sub(conn.last_active_secs).max(0) as u64;
    conn.query.tend(idle, conn.parser.pending_bulk());
    let (resizing, reset_ms) = (st.reply_buffer.resizing, st.reply_buffer.peak_reset_ms);
    match conn.reply.tend(crate::util::time::unix_ms(), resizing, reset_ms) {
        Some(Resized::Shrunk) => st.stats.reply_buffer_shrinks += 1,
        Some(Resized::Expanded) => st.stats.reply_buffer_expands += 1,
        None => {}
    }
    // Nothing waits in the output here (the replies were written before this wait).
    if conn.out.is_empty() && conn.out.capacity() != conn.reply.size {
        conn.out = Vec::with_capacity(conn.reply.size);
    }
    if let Some(ci) = st.clients.get_mut(&session.id) {
        publish_buffers(ci, conn, false);
        // clientsCron measures every client, evictable or not.
        let mem = memory::usage(ci, held(conn));
        eviction::measure(&mut st, session.id, mem);
        eviction::evict(&mut st, None, crate::util::time::unix_ms());
    }
}

/// The buffers maxmemory-clients counts, as the connection holds them now.
fn held(conn: &Conn) -> memory::Held {
    memory::Held { query_alloc: conn.query.allocated(), out: conn.out.len(), argv: pending_argv(conn).1 }
}

/// The complete arguments of the command still arriving: their bytes, and the memory they count
/// for (Redis: argv_len_sum plus a pointer per argument; here the handles' own size).
fn pending_argv(conn: &Conn) -> (usize, usize) {
    let (n, bytes) = conn.parser.pending_args();
    (bytes, bytes + n * std::mem::size_of::<bytes::Bytes>())
}

/// `memory::evicts_itself` from outside a batch, with CLIENT LIST's figures of the buffers brought
/// up to date. False: the client was evicted (or is gone), the connection is to close. Never waits
/// for a busy script's lock (every connection reporting would hold a thread meanwhile, SCRIPT
/// KILL's too): the next report, or the cron's visit, does it.
fn report_usage(server: &Server, id: u64, conn: &Conn) -> bool {
    let Some(mut st) = crate::server::busy::lock_unless_busy(&server.state, &server.busy) else { return true };
    let Some(ci) = st.clients.get_mut(&id) else { return false };
    publish_buffers(ci, conn, false);
    !memory::evicts_itself(&mut st, id, held(conn), crate::util::time::unix_ms())
}

/// repl-disable-tcp-nodelay: fewer, larger packets to replicas, at the price of some delay.
fn disable_nodelay(fd: i32) {
    // SAFETY: `fd` is this connection's own socket, open for as long as `serve` runs (it owns the
    // stream), so the borrow cannot outlive it.
    let sock = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    // A failure (a unix socket) leaves the socket as it was.
    let _ = socket2::SockRef::from(&sock).set_nodelay(false);
}

/// Removes every trace of the client from the shared state.
pub fn unregister(st: &mut State, session: &mut Session) {
    let id = session.id;
    crate::server::tracking::disable(st, id);
    st.clients.remove(&id);
    eviction::forget(st, id);
    crate::server::postpone::forget(st, id);
    crate::server::pubsub::unsubscribe_all(st, id);
    st.monitors.retain(|m| *m != id);
    commands::unwatch_all(st, session);
}
