//! A client's command-time view: its connection-private state (`Session`) and what a command
//! runs with (`Ctx`). Commands add their own methods to `Ctx` in their families.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::state::{ClientId, State};
use super::Server;
use crate::protocol::Reply;

/// The id of a script's own client (Redis's Lua client): never a connection's.
pub const SCRIPT_CLIENT_ID: ClientId = u64::MAX;

/// The connection-private side of a client.
pub struct Session {
    pub id: ClientId,
    pub db: usize,
    pub resp: u8,
    pub authenticated: bool,
    pub user: String,
    pub multi: Option<Vec<Vec<Bytes>>>,
    /// A command failed to queue: EXEC answers EXECABORT.
    pub multi_error: bool,
    /// The flags of the queued commands, which EXEC is checked by as Redis does.
    pub multi_flags: QueuedFlags,
    /// Each WATCH: database, key, and whether the key was expired when watched (shared with
    /// the database's `Watcher`).
    pub watched: Vec<(usize, Bytes, Arc<AtomicBool>)>,
    pub watch_dirty: Arc<AtomicBool>,
    pub reply_mode: ReplyMode,
    /// Set by QUIT, by protocol errors and by CLIENT KILL of self: close after writing replies.
    pub close_after_reply: bool,
    pub subs: usize,
    pub psubs: usize,
    /// Shard channels (SSUBSCRIBE).
    pub ssubs: usize,
    pub monitor: bool,
    /// CLIENT TRACKING is on: invalidations queued for it are written before its next reply.
    pub tracking: bool,
    pub addr: String,
    pub in_exec: bool,
    /// CLIENT NO-TOUCH: reads do not update keys' access time.
    pub no_touch: bool,
    /// Written after the current command's reply (a monitor's view of its own commands).
    pub after_reply: Vec<Arc<Reply>>,
    /// Set by a blocking command that found no data: the connection parks the client.
    pub block: Option<super::blocking::BlockRequest>,
    /// While a parked command runs again: the deadline it first blocked with.
    pub rerun_deadline: Option<u64>,
    /// While a parked stream read runs again: what woke it.
    pub woken_by: Option<WokenBy>,
    /// What the current command is replayed as, when not as itself (see server::propagation).
    pub propagate_as: Option<Vec<Vec<Bytes>>>,
    /// The client as replication sees it: its REPLCONF, a handover to a replica's task, whether
    /// it is this server's master link, its write offset for WAIT.
    pub repl: super::handover::ClientRepl,
    /// The current command is replayed even if it changed nothing (forceCommandPropagation).
    pub force_propagation: bool,
    /// The current write is replicated without telling WATCH or blocked clients about its keys:
    /// Redis's commands that change a value without signalModifiedKey (PFDEBUG's conversions).
    pub keys_not_signalled: bool,
    /// Replies to earlier commands wait to be written (SCRIPT DEBUG refuses to start then).
    pub replies_pending: bool,
    /// SCRIPT DEBUG YES or SYNC: the next EVAL runs in a debugging session.
    pub script_debug: Option<ScriptDebug>,
    /// The connection went to a forked debugging session (SCRIPT DEBUG YES): this process only
    /// closes its copy, without shutting the connection down under the child.
    pub handed_to_child: bool,
    /// The query buffer while this read's commands run (length, room, block size): CLIENT LIST
    /// and CLIENT INFO of the client itself show them, as the bytes are not trimmed until the
    /// read is done.
    pub query_buffer: (usize, usize, usize),
    /// EXEC's own argument bytes while its queued commands run: Redis swaps in their argv but
    /// keeps EXEC's argv_len_sum, which CLIENT LIST's argv-mem shows.
    pub exec_argv_len: usize,
    /// The ACL generation and user for which this session's user was found to may run anything:
    /// until either changes, a command needs no ACL check.
    pub acl_unrestricted: Option<(u64, String)>,
    /// The current command's error reply was counted in the error statistics already (a
    /// script's error that came from one of its commands: Redis's ignore_error_stats_update).
    pub error_counted: bool,
    /// Set when a pause holds the command back: it is to run again at this time (unix ms).
    pub postponed: Option<u64>,
}

/// A parked stream read run again because one of its keys is ready.
pub struct WokenBy {
    /// The key whose new entries serve it (Redis answers a woken XREAD from that one key).
    pub key: Bytes,
    /// Its command line as resolved when it blocked (XREAD's `$` as the stream's last ID then).
    pub args: Vec<Bytes>,
}

/// How a debugging session runs (SCRIPT DEBUG YES / SYNC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptDebug {
    /// In a forked child, on a copy of the data (YES).
    Forked,
    /// In the server itself, which waits meanwhile (SYNC).
    Sync,
}

/// What the commands queued in a transaction declare (Redis's mstate.cmd_flags and cmd_inv_flags):
/// EXEC is refused, with the reason, where one of them would have been (a write on a read-only
/// replica, a DENYOOM command out of memory, a command not allowed on a stale replica...).
#[derive(Debug, Clone, Copy, Default)]
pub struct QueuedFlags {
    /// Flags some queued command has.
    pub any: u32,
    /// Flags some queued command lacks.
    pub missing: u32,
}

impl QueuedFlags {
    pub fn add(&mut self, flags: u32) {
        self.any |= flags;
        self.missing |= !flags;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    SkipThis,
}

impl Session {
    pub fn new(id: ClientId, addr: String) -> Session {
        Session {
            id,
            db: 0,
            resp: 2,
            authenticated: false,
            user: "default".into(),
            multi: None,
            multi_error: false,
            multi_flags: QueuedFlags::default(),
            watched: Vec::new(),
            watch_dirty: Arc::new(AtomicBool::new(false)),
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            subs: 0,
            psubs: 0,
            ssubs: 0,
            monitor: false,
            tracking: false,
            addr,
            in_exec: false,
            no_touch: false,
            after_reply: Vec::new(),
            block: None,
            rerun_deadline: None,
            woken_by: None,
            propagate_as: None,
            repl: Default::default(),
            force_propagation: false,
            keys_not_signalled: false,
            error_counted: false,
            replies_pending: false,
            script_debug: None,
            handed_to_child: false,
            query_buffer: (0, 0, 0),
            exec_argv_len: 0,
            acl_unrestricted: None,
            postponed: None,
        }
    }

    /// Channels, patterns and shard channels: Redis's CLIENT_PUBSUB while above 0.
    pub fn subscriptions(&self) -> usize {
        self.subs + self.psubs + self.ssubs
    }

    /// Encodes a command's reply as the reply mode says, then what follows it (`after_reply`).
    /// Pushes bypass CLIENT REPLY OFF and SKIP, as Redis's CLIENT_PUSHING does: the (un)subscribe
    /// confirmations and the messages a RESP3 client published to itself go out even when the
    /// rest of the reply (PUBLISH's count, EXEC's array header) is silenced.
    pub fn encode_reply(&mut self, reply: &Reply, out: &mut Vec<u8>) {
        match self.reply_mode {
            ReplyMode::On => reply.encode(self.resp, out),
            mode => {
                encode_pushes(reply, self.resp, out);
                self.reply_mode = match mode {
                    ReplyMode::Skip => ReplyMode::SkipThis,
                    ReplyMode::SkipThis => ReplyMode::On,
                    other => other,
                };
            }
        }
        for r in std::mem::take(&mut self.after_reply) {
            r.encode(self.resp, out);
        }
    }

    /// RESP2 clients with subscriptions may only run the subscribe family.
    pub fn in_pubsub_context(&self) -> bool {
        self.resp < 3 && self.subscriptions() > 0
    }
}

/// The pushes inside a reply: itself, or those among a command's several replies or inside EXEC's
/// array (no other reply holds a push).
fn encode_pushes(reply: &Reply, resp: u8, out: &mut Vec<u8>) {
    match reply {
        Reply::Push(_) => reply.encode(resp, out),
        Reply::Many(items) | Reply::Array(items) => items.iter().for_each(|r| encode_pushes(r, resp, out)),
        _ => {}
    }
}

/// What a command runs with: the server, the locked state, and its own connection.
pub struct Ctx<'a> {
    pub server: &'a Server,
    pub state: &'a mut State,
    pub session: &'a mut Session,
    pub now_ms: u64,
    /// When the previous command of the batch ended (command timing for stats and SLOWLOG).
    pub clock: Instant,
}
