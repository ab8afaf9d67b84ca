//! A sentinel's network link to one instance (master, replica or peer sentinel): one TCP
//! connection, TLS over it with `tls-replication yes` (as Sentinel negotiates TLS on every link
//! then), driven by a tokio task, pipelining commands and matching their replies in order.
//!
//! A link is either a **cmd** link (commands and their replies) or a **pub/sub** link (SUBSCRIBEd
//! to one channel at connect time; it reports `message` pushes). It connects in the background,
//! sends the handshake Sentinel sends (AUTH if configured, CLIENT SETNAME, and SUBSCRIBE for a
//! pub/sub link) and swallows the handshake's replies, as Sentinel ignores them: a refused AUTH
//! shows up later as `-NOAUTH` replies to the owner's own commands, except on a pub/sub link,
//! which an error in reply to its SUBSCRIBE closes (as hiredis closes Sentinel's). Commands
//! queued before the connection is up go out in the same write as the handshake, so the owner's
//! first PING rides with it as in Sentinel.
//!
//! A link never reconnects: once it reports [`LinkEvent::Closed`] it is dead and the owner makes
//! a new one when it sees fit (Sentinel retries at most once per ping period). Dropping a [`Link`]
//! ends its task and closes the connection without reporting anything; [`Link::close`] closes it
//! and reports `Closed`. Events carry the owner's id for the link; an owner that replaces a link
//! should give the new one a fresh id, since the old one's `Closed` may still be on its way.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::io::{AsyncWriteExt, BufReader, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use super::model::{command_name, CommandRename};
use crate::client::{encode_command, read_value, Value};
use crate::tls::Stream;

/// What a link reports to its owner (the sentinel's event loop), tagged with the owner's id for it.
#[derive(Debug)]
pub enum LinkEvent<T> {
    /// The handshake was sent (AUTH if configured, CLIENT SETNAME <name>, and SUBSCRIBE <channel>
    /// for a pub/sub link); its replies are ignored, as Sentinel does.
    Connected { id: u64 },
    /// The reply to a command sent with `send`/`send_batch`, in order.
    Reply { id: u64, tag: T, value: Value },
    /// A pub/sub `message` (3-element array of bulk strings) received on a pub/sub link.
    Message { id: u64, channel: Vec<u8>, payload: Vec<u8> },
    /// The connection failed or closed; replies still pending are lost. The link is dead; the
    /// owner decides when to make a new one.
    Closed { id: u64, reason: String },
}

/// Where and how a link connects.
#[derive(Clone)]
pub struct LinkConfig {
    /// An IPv4 or IPv6 address (`::1`, no brackets) or a host name.
    pub host: String,
    pub port: u16,
    /// `(user, password)`: `AUTH user password` with a user, `AUTH password` without.
    pub auth: Option<(Option<String>, String)>,
    /// Sent as `CLIENT SETNAME`; an empty name sends nothing.
    pub client_name: String,
    /// `Some(channel)` makes a pub/sub link subscribed to `channel`.
    pub subscribe: Option<String>,
    /// The master's rename table: the handshake's AUTH, CLIENT and SUBSCRIBE go through it.
    pub renames: Vec<CommandRename>,
    /// Connecting and, for TLS, the handshake must finish within this.
    pub connect_timeout: Duration,
    /// `Some`: TLS with these contexts' client side (tls-replication). The peer's certificate is
    /// checked against the CA, with no host name check, as Sentinel's links do.
    pub tls: Option<Arc<crate::tls::Contexts>>,
}

/// One command per element: its arguments and the tag its reply comes back with.
type Batch<T> = Vec<(Vec<Vec<u8>>, T)>;

/// What the owner asked of the task.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Running,
    /// `close()`: close and report `Closed`.
    Closed,
    /// The Link was dropped: close silently.
    Dropped,
}

/// How the task ended: reported as `Closed(reason)`, or silently.
enum End {
    Closed(String),
    Silent,
}

/// State the task updates and the Link's accessors read.
#[derive(Default)]
struct Shared {
    /// Set for good once the link is closing: `send` refuses from then on.
    closed: AtomicBool,
    connected: AtomicBool,
    pending: AtomicUsize,
    connected_at: Mutex<Option<Instant>>,
    local_addr: Mutex<Option<SocketAddr>>,
}

impl Shared {
    fn mark_closed(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.connected.store(false, Ordering::SeqCst);
    }
}

/// The owner's handle on one connection.
pub struct Link<T> {
    commands: mpsc::UnboundedSender<Batch<T>>,
    stop: watch::Sender<Stop>,
    shared: Arc<Shared>,
}

impl<T: Send + 'static> Link<T> {
    /// Connects in the background (a tokio task, so this must run inside a tokio runtime);
    /// events go to `events`.
    pub fn start(id: u64, cfg: LinkConfig, events: mpsc::UnboundedSender<LinkEvent<T>>) -> Link<T> {
        let (commands, queue) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(Stop::Running);
        let shared = Arc::new(Shared::default());
        let task = LinkTask {
            id,
            cfg,
            events,
            queue,
            stop: stop_rx,
            shared: shared.clone(),
            awaiting: VecDeque::new(),
            handshake_left: 0,
        };
        tokio::spawn(task.run());
        Link { commands, stop, shared }
    }
}

impl<T> Link<T> {
    /// Queues one command; its reply comes back as LinkEvent::Reply with `tag`. Commands sent
    /// before the connection is up are written after the handshake. False if the link is closed.
    pub fn send(&self, args: Vec<Vec<u8>>, tag: T) -> bool {
        self.send_batch(vec![(args, tag)])
    }

    /// Several commands in ONE write (Sentinel's MULTI/SLAVEOF/CONFIG REWRITE/CLIENT KILL/EXEC
    /// transaction), each reply tagged. False if the link is closed.
    pub fn send_batch(&self, commands: Vec<(Vec<Vec<u8>>, T)>) -> bool {
        if self.shared.closed.load(Ordering::SeqCst) {
            return false;
        }
        let count = commands.len();
        // Counted before the task can see them, so their replies never make the count underflow.
        self.shared.pending.fetch_add(count, Ordering::SeqCst);
        if self.commands.send(commands).is_err() {
            self.shared.pending.fetch_sub(count, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// The handshake was sent and the connection is alive.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst) && !self.shared.closed.load(Ordering::SeqCst)
    }

    /// Not closed: connecting or connected. Commands sent now are written once it connects.
    pub fn is_open(&self) -> bool {
        !self.shared.closed.load(Ordering::SeqCst)
    }

    /// Commands sent or queued whose reply has not come (Sentinel caps this at 100). Drops to
    /// zero when the link's task ends (just before `Closed` is reported): those replies never come.
    pub fn pending(&self) -> usize {
        self.shared.pending.load(Ordering::SeqCst)
    }

    /// When the handshake was sent.
    pub fn connected_at(&self) -> Option<Instant> {
        *self.shared.connected_at.lock()
    }

    /// The connection's local address (getsockname), which a cmd link's hello announces.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.shared.local_addr.lock()
    }

    /// Drops the connection now; `Closed` is reported (unless the link had already closed).
    pub fn close(&self) {
        self.shared.mark_closed();
        self.stop.send_if_modified(|s| replace_if_running(s, Stop::Closed));
    }
}

impl<T> Drop for Link<T> {
    /// Ends the task and closes the connection; nothing more is reported after a `close()`'s
    /// `Closed`.
    fn drop(&mut self) {
        self.shared.mark_closed();
        self.stop.send_if_modified(|s| replace_if_running(s, Stop::Dropped));
    }
}

fn replace_if_running(state: &mut Stop, new: Stop) -> bool {
    let running = *state == Stop::Running;
    if running {
        *state = new;
    }
    running
}

/// Resolves when the owner closes or drops the link. Cancel-safe, so it can sit in a select.
async fn stopped(stop: &mut watch::Receiver<Stop>) -> End {
    loop {
        match *stop.borrow_and_update() {
            Stop::Closed => return End::Closed("closed by its owner".to_string()),
            Stop::Dropped => return End::Silent,
            Stop::Running => {}
        }
        if stop.changed().await.is_err() {
            return End::Silent;
        }
    }
}

/// Aborts the reply reader when the link task ends, however it ends, so its half of the socket
/// is dropped with the task's.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a value read on a pub/sub link is.
enum Incoming {
    Message {
        channel: Vec<u8>,
        payload: Vec<u8>,
    },
    /// A (p)(un)subscribe confirmation: ignored.
    Confirmation,
    /// Anything else: the reply to one of the owner's commands.
    Reply(Value),
}

fn classify_push(value: Value) -> Incoming {
    let Value::Array(items) = value else { return Incoming::Reply(value) };
    let kind = match items.first() {
        Some(Value::Bulk(kind)) => kind.to_ascii_lowercase(),
        _ => return Incoming::Reply(Value::Array(items)),
    };
    match (kind.as_slice(), <[Value; 3]>::try_from(items)) {
        (b"message", Ok([_, Value::Bulk(channel), Value::Bulk(payload)])) => Incoming::Message { channel, payload },
        (b"subscribe" | b"unsubscribe" | b"psubscribe" | b"punsubscribe", Ok([_, _, Value::Int(_)])) => {
            Incoming::Confirmation
        }
        (_, Ok(items)) => Incoming::Reply(Value::Array(items.into())),
        (_, Err(items)) => Incoming::Reply(Value::Array(items)),
    }
}

/// Parses replies off the socket and hands them to the link task; stops after the first error.
/// A separate task because parsing a reply is not cancel-safe and the link task must also
/// wait on its command queue.
async fn read_replies(read_half: ReadHalf<Stream>, values: mpsc::Sender<std::io::Result<Value>>) {
    let mut reader = BufReader::new(read_half);
    loop {
        let value = read_value(&mut reader).await;
        let failed = value.is_err();
        if values.send(value).await.is_err() || failed {
            return;
        }
    }
}

async fn connect(cfg: &LinkConfig) -> Result<Stream, String> {
    match tokio::time::timeout(cfg.connect_timeout, connect_now(cfg)).await {
        Err(_) => Err("connect timed out".to_string()),
        Ok(r) => r,
    }
}

async fn connect_now(cfg: &LinkConfig) -> Result<Stream, String> {
    let stream = TcpStream::connect((cfg.host.as_str(), cfg.port)).await.map_err(|e| format!("connect: {e}"))?;
    // Small pipelined commands must not wait for Nagle.
    stream.set_nodelay(true).map_err(|e| format!("connect: {e}"))?;
    match &cfg.tls {
        None => Ok(Stream::Plain(stream)),
        Some(contexts) => match crate::tls::connect(contexts, stream).await {
            Ok(tls) => Ok(Stream::Tls(Box::new(tls))),
            Err(e) => Err(format!("TLS handshake: {e}")),
        },
    }
}

struct LinkTask<T> {
    id: u64,
    cfg: LinkConfig,
    events: mpsc::UnboundedSender<LinkEvent<T>>,
    queue: mpsc::UnboundedReceiver<Batch<T>>,
    stop: watch::Receiver<Stop>,
    shared: Arc<Shared>,
    /// Tags of the commands written whose replies have not come, oldest first.
    awaiting: VecDeque<T>,
    /// Replies still to come for the handshake, which are swallowed.
    handshake_left: usize,
}

impl<T: Send + 'static> LinkTask<T> {
    async fn run(mut self) {
        let end = self.connect_and_serve().await;
        self.shared.mark_closed();
        // Refuse further sends, then forget everything pending: those replies will never come.
        self.queue.close();
        let mut lost = self.awaiting.len();
        while let Ok(batch) = self.queue.try_recv() {
            lost += batch.len();
        }
        self.shared.pending.fetch_sub(lost, Ordering::SeqCst);
        if let End::Closed(reason) = end {
            let _ = self.events.send(LinkEvent::Closed { id: self.id, reason });
        }
    }

    async fn connect_and_serve(&mut self) -> End {
        let stream = tokio::select! {
            biased;
            end = stopped(&mut self.stop) => return end,
            connected = connect(&self.cfg) => match connected {
                Ok(stream) => stream,
                Err(reason) => return End::Closed(reason),
            },
        };
        *self.shared.local_addr.lock() = stream.tcp().local_addr().ok();
        // tokio's split (a lock per read or write) serves both kinds: OpenSSL's state is one
        // object for both directions, and a sentinel's traffic is small.
        let (read_half, mut writer) = tokio::io::split(stream);
        let (values_tx, mut values) = mpsc::channel(64);
        let _reader = AbortOnDrop(tokio::spawn(read_replies(read_half, values_tx)));

        let mut out = self.handshake();
        self.take_queued(&mut out);
        if let Some(end) = self.write(&mut writer, &out).await {
            return end;
        }
        *self.shared.connected_at.lock() = Some(Instant::now());
        self.shared.connected.store(true, Ordering::SeqCst);
        if let Err(end) = self.emit(LinkEvent::Connected { id: self.id }) {
            return end;
        }
        self.serve(&mut writer, &mut values).await
    }

    /// Writes the owner's commands and delivers what the server sends, until either side ends.
    async fn serve(
        &mut self,
        writer: &mut WriteHalf<Stream>,
        values: &mut mpsc::Receiver<std::io::Result<Value>>,
    ) -> End {
        loop {
            tokio::select! {
                // First, so that a close() followed by a drop still reports Closed.
                biased;
                end = stopped(&mut self.stop) => return end,
                batch = self.queue.recv() => {
                    let Some(batch) = batch else { return End::Silent };
                    let mut out = Vec::new();
                    self.take(batch, &mut out);
                    self.take_queued(&mut out);
                    if let Some(end) = self.write(writer, &out).await {
                        return end;
                    }
                }
                value = values.recv() => match value {
                    Some(Ok(value)) => {
                        if let Err(end) = self.deliver(value) {
                            return end;
                        }
                    }
                    Some(Err(e)) => return End::Closed(e.to_string()),
                    None => return End::Closed("connection closed".to_string()),
                },
            }
        }
    }

    /// The handshake commands, encoded; counts the replies to swallow.
    fn handshake(&mut self) -> Vec<u8> {
        let mut commands: Vec<Vec<&str>> = Vec::new();
        let name = |command| command_name(&self.cfg.renames, command);
        match &self.cfg.auth {
            Some((Some(user), password)) => commands.push(vec![name("AUTH"), user, password]),
            Some((None, password)) => commands.push(vec![name("AUTH"), password]),
            None => {}
        }
        if !self.cfg.client_name.is_empty() {
            commands.push(vec![name("CLIENT"), "SETNAME", &self.cfg.client_name]);
        }
        if let Some(channel) = &self.cfg.subscribe {
            commands.push(vec![name("SUBSCRIBE"), channel]);
        }
        self.handshake_left = commands.len();
        commands.iter().flat_map(|c| encode_command(c)).collect()
    }

    /// Appends everything already queued, so a burst of sends goes out in one write.
    fn take_queued(&mut self, out: &mut Vec<u8>) {
        while let Ok(batch) = self.queue.try_recv() {
            self.take(batch, out);
        }
    }

    fn take(&mut self, batch: Batch<T>, out: &mut Vec<u8>) {
        for (args, tag) in batch {
            out.extend_from_slice(&encode_command(&args));
            self.awaiting.push_back(tag);
        }
    }

    /// Writes `bytes` unless the owner stops the link first; `Some` when the link must end.
    async fn write(&mut self, writer: &mut WriteHalf<Stream>, bytes: &[u8]) -> Option<End> {
        if bytes.is_empty() {
            return None;
        }
        tokio::select! {
            biased;
            end = stopped(&mut self.stop) => Some(end),
            written = writer.write_all(bytes) => written.err().map(|e| End::Closed(format!("write: {e}"))),
        }
    }

    /// Routes one value from the server: a handshake reply (dropped), a pub/sub push, or the
    /// reply to the oldest command awaiting one.
    fn deliver(&mut self, value: Value) -> Result<(), End> {
        // On a pub/sub link, an error in place of the SUBSCRIBE confirmation (-NOAUTH from a
        // master whose password we lack or got wrong, -NOPERM from a user without the channel)
        // or any error no command waits for ends the link, as hiredis ends it: SUBSCRIBE has
        // no reply callback there, and hiredis closes a connection on an error nobody awaits.
        // The instance then shows `disconnected` until a new link subscribes.
        if self.cfg.subscribe.is_some()
            && (self.handshake_left == 1 || (self.handshake_left == 0 && self.awaiting.is_empty()))
        {
            if let Value::Error(text) = &value {
                return Err(End::Closed(text.clone()));
            }
        }
        if self.handshake_left > 0 {
            self.handshake_left -= 1;
            return Ok(());
        }
        let value = if self.cfg.subscribe.is_some() {
            match classify_push(value) {
                Incoming::Message { channel, payload } => {
                    return self.emit(LinkEvent::Message { id: self.id, channel, payload })
                }
                Incoming::Confirmation => return Ok(()),
                Incoming::Reply(value) => value,
            }
        } else {
            value
        };
        let Some(tag) = self.awaiting.pop_front() else {
            return Err(End::Closed("protocol error: a reply with no command pending".to_string()));
        };
        self.shared.pending.fetch_sub(1, Ordering::SeqCst);
        self.emit(LinkEvent::Reply { id: self.id, tag, value })
    }

    /// Sends an event; an owner that stopped listening ends the link silently.
    fn emit(&self, event: LinkEvent<T>) -> Result<(), End> {
        self.events.send(event).map_err(|_| End::Silent)
    }
}
