//! Command dispatch: lookup in the command table, arity, authentication, MULTI queueing, pub/sub
//! context, execution, and the bookkeeping every command shares (stats, slowlog, MONITOR, WATCH).

/// Early return of an error reply from a handler.
#[macro_export]
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

pub(crate) mod acl;
mod all;
mod bitmaps;
pub mod blocking;
mod client;
mod command_cmd;
mod config_cmd;
mod connection;
mod debug;
mod dump_restore;
mod geo;
pub mod guard;
mod hashes;
mod hyperloglog;
mod info;
mod keys;
mod keyspecs;
mod latency;
mod lists;
mod lolwut;
mod memory;
mod metadata;
mod migrate;
mod module_cmd;
pub use crate::server::notify;
mod persist;
pub mod pubsub;
mod replication;
mod scripting;
mod sentinel;
mod server_cmd;
mod sets;
pub mod shutdown;
mod slowlog;
mod sort;
mod streams;
mod strings;
#[cfg(test)]
pub(crate) mod testing;
mod transactions;
mod zsets;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::keyspace::{Db, Entry, Value};
use crate::protocol::Reply;
use crate::server::command::{self as table, CmdId, CommandSpec, ADMIN, NO_AUTH, NO_MULTI, SKIP_MONITOR, WRITE};
use crate::server::state::State;
use crate::server::tracking;

pub use all::iter as all_commands;

/// The command table and the dispatcher, for `Server::new`.
pub const DISPATCH: crate::server::Dispatch = crate::server::Dispatch { table: all::COMMANDS, process, call };
pub use crate::server::pubsub::publish;

impl Ctx<'_> {
    pub fn db(&mut self) -> &mut Db {
        &mut self.state.dbs[self.session.db]
    }

    /// A key read by a read command: lazy expiry, hit/miss stats, access time and the keymiss
    /// event, like lookupKeyRead.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&Entry> {
        self.lookup_key(key, keys::lookup::NONE).map(|e| &*e)
    }

    /// A key about to be written: lazy expiry and access time, then the live entry (lookupKeyWrite).
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup_key(key, keys::lookup::WRITE)
    }

    /// Deletes an expired key, counting it and publishing `expired` (deleteExpiredKeyAndPropagate).
    /// True if it expired.
    pub fn expire_if_needed(&mut self, db: usize, key: &[u8]) -> bool {
        // While loading (an AOF's commands replayed) keys never expire: the replay must rebuild
        // what the commands built when they ran.
        if self.state.loading.is_some() {
            return false;
        }
        // A replica deletes keys only when its master says so: until the master's DEL arrives
        // the key exists for the master's stream and is missing for everyone else. While writes
        // are paused (CLIENT PAUSE, FAILOVER) nothing is deleted either: the stream stays still.
        if self.state.repl.is_replica() || self.state.pause.is_some() {
            if self.session.repl.is_master {
                return false;
            }
            return self.state.dbs[db].get_raw(key).and_then(|e| e.expire_at()).is_some_and(|at| at < self.now_ms);
        }
        let Some(entry) = self.state.dbs[db].take_expired(key, self.now_ms) else {
            return false;
        };
        let unlink = self.state.config.bool(crate::ckey!("lazyfree-lazy-expire"));
        let start = Instant::now();
        match unlink {
            true => crate::server::lazyfree::free_entry(entry),
            false => drop(entry),
        }
        crate::server::eviction::add_latency(self.state, "expire-del", start);
        notify::notify(self.state, notify::EXPIRED, "expired", key, db);
        tracking::invalidate_key(self.state, None, key, true);
        // A stream reader blocked in XREADGROUP learns its key is gone (dbGenericDelete).
        self.state.blocking.signal(db, key);
        self.state.propagation.deleted(db, key, unlink);
        self.state.stats.expired_keys += 1;
        true
    }

    /// A key read as type T: None if missing, WRONGTYPE if it holds another type (lookupKeyRead +
    /// checkType). `get` is one of Value's `as_*` accessors.
    pub fn read_typed<T>(&mut self, key: &[u8], get: fn(&Value) -> Option<&T>) -> Result<Option<&T>, Reply> {
        match self.lookup_read(key) {
            None => Ok(None),
            Some(e) => get(e.value()).map(Some).ok_or_else(|| Reply::error(errors::WRONGTYPE)),
        }
    }

    /// A key about to be written as type T: None if missing, WRONGTYPE if it holds another type.
    pub fn write_typed<T>(
        &mut self,
        key: &[u8],
        get: fn(&mut Value) -> Option<&mut T>,
    ) -> Result<Option<&mut T>, Reply> {
        match self.lookup_write(key) {
            None => Ok(None),
            Some(e) => get(e.value_mut()).map(Some).ok_or_else(|| Reply::error(errors::WRONGTYPE)),
        }
    }

    /// Deletes `key` if its collection became empty (Redis never keeps empty collections), with
    /// the `del` notification. True if it was deleted.
    pub fn delete_if_empty(&mut self, key: &[u8]) -> bool {
        let db = self.session.db;
        let empty = match self.state.dbs[db].get_mut(key).map(|e| e.value()) {
            Some(Value::List(l)) => l.is_empty(),
            Some(Value::Hash(h)) => h.is_empty(),
            Some(Value::Set(s)) => s.is_empty(),
            Some(Value::ZSet(z)) => z.is_empty(),
            _ => false,
        };
        if empty {
            self.state.dbs[db].remove(key);
            self.notify(notify::GENERIC, "del", key);
        }
        empty
    }

    /// A key of database `db` changed outside the command's own key positions (SORT's STORE, MOVE,
    /// COPY to another db): WATCHes on it fail and clients waiting on it get a look
    /// (signalModifiedKey plus signalKeyAsReady).
    pub fn key_modified_in(&mut self, db: usize, key: &[u8]) {
        self.state.dbs[db].touch_watched(key);
        self.state.blocking.signal(db, key);
        if self.state.tracking.active() {
            tracking::invalidate_key(self.state, Some(self.session.id), key, true);
        }
    }

    /// A key of the command's database changed where the command's write bookkeeping does not
    /// see it (a pop's key, LTRIM that trimmed nothing, SMOVE's destination): WATCHes on it fail
    /// and tracking clients are told (signalModifiedKey).
    pub fn signal_modified(&mut self, key: &[u8]) {
        self.db().touch_watched(key);
        if self.state.tracking.active() {
            tracking::invalidate_key(self.state, Some(self.session.id), key, true);
        }
    }

    /// Records the command line `argv` builds as (one of) what this command is replayed as,
    /// instead of itself. Nothing is built when nothing consumes the write stream.
    /// Whether what a command propagates is recorded at all (a replica, the backlog or the AOF
    /// takes it): a command that would rewrite its arguments for it can skip the work otherwise.
    pub fn propagating(&self) -> bool {
        self.state.propagation.enabled
    }

    pub fn propagate_as(&mut self, argv: impl FnOnce() -> Vec<Bytes>) {
        if self.state.propagation.enabled {
            self.session.propagate_as.get_or_insert_with(Vec::new).push(argv());
        }
    }

    /// Whether an absolute expiry time has passed, so setting it deletes the key instead
    /// (checkAlreadyExpired). Never on a replica or while loading: the key is deleted when the
    /// master's DEL arrives, and a master's stream must apply the same way whenever it is read.
    pub fn already_expired(&self, at_ms: i64) -> bool {
        at_ms <= self.now_ms as i64 && self.state.loading.is_none() && !self.state.repl.is_replica()
    }

    /// The command is replayed even when it changed nothing (FLUSHDB/FLUSHALL of empty data), or
    /// although it is not a write (PFCOUNT storing the cardinality it computed in the value).
    pub fn force_propagation(&mut self) {
        self.session.force_propagation = true;
    }

    /// The command's writes are replicated, but its keys are not signalled as modified (WATCH
    /// holds): for the few Redis commands that never call signalModifiedKey.
    pub fn keys_not_signalled(&mut self) {
        self.session.keys_not_signalled = true;
    }

    pub fn dirty(&mut self, n: u64) {
        self.state.dirty += n;
    }
}

pub use crate::server::command::{arity_ok, resolve, CmdName, CommandMap, SENTINEL_COMMANDS};

/// Runs one command line for the session and returns its reply; with client-side caching in use,
/// the invalidations its command caused for itself follow the reply (afterCommand).
pub fn process(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.state.tracking.clients == 0 && !ctx.state.tracking.active() {
        return process_command(ctx, args);
    }
    ctx.state.tracking.current = Some(ctx.session.id);
    // Top level: no command runs (a command that panicked left nothing behind).
    ctx.state.tracking.in_call = 0;
    let reply = process_command(ctx, args);
    tracking::send_pending(ctx.state, &mut ctx.session.after_reply);
    // CLIENT CACHING concerns the next command, or the next transaction (resetClient).
    if ctx.session.tracking && ctx.session.multi.is_none() && !args[0].eq_ignore_ascii_case(b"client") {
        tracking::clear_caching(ctx.state, ctx.session.id);
    }
    ctx.state.tracking.current = None;
    reply
}

fn process_command(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let resolved = resolve(ctx.server, args);
    // CLIENT LIST's cmd= names the command as soon as it is looked up (NULL if unknown), like Redis.
    let last = match &resolved {
        Ok((_, name)) => *name,
        Err(_) => CmdName { parent: None, name: "NULL" },
    };
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        last.write_to(&mut ci.last_cmd);
        ci.last_interaction_ms = ctx.now_ms;
    }
    let (spec, fullname) = match resolved {
        Ok(r) => r,
        Err(e) => return rejected(ctx, e, None),
    };
    if !arity_ok(spec, args.len()) {
        let e = Reply::error(format!("ERR wrong number of arguments for '{fullname}' command"));
        return rejected(ctx, e, Some((spec, fullname)));
    }
    // A script command is checked as what its script declares it does.
    let declared;
    let checked: &CommandSpec = if matches!(spec.id, CmdId::Eval | CmdId::EvalSha | CmdId::Fcall) {
        declared = CommandSpec { flags: scripting::command_flags(ctx.state, spec, args), ..*spec };
        &declared
    } else if spec.id == CmdId::Exec && ctx.session.multi.is_some() {
        // EXEC is checked as what its transaction does (Redis's is_write_command and kin).
        declared = CommandSpec { flags: exec_flags(spec.flags, ctx.session.multi_flags), ..*spec };
        &declared
    } else {
        spec
    };
    if spec.has(table::PROTECTED) {
        // DEBUG and MODULE, each under its own enable-*-command option.
        let (option, refusal) = if args[0].eq_ignore_ascii_case(b"module") {
            (crate::ckey!("enable-module-command"), module_cmd::MODULE_NOT_ALLOWED)
        } else {
            (crate::ckey!("enable-debug-command"), debug::DEBUG_NOT_ALLOWED)
        };
        if !debug::protected_allowed(ctx, option) {
            return rejected(ctx, Reply::error(refusal), Some((spec, fullname)));
        }
    }
    if !ctx.session.authenticated && !spec.has(NO_AUTH) && ctx.state.acl.auth_required() {
        return rejected(ctx, Reply::error("NOAUTH Authentication required."), Some((spec, fullname)));
    }
    // Redis refuses a no-multi command inside MULTI right after authentication, before ACL.
    if ctx.session.multi.is_some() && !spec.id.controls_transaction() && spec.has(NO_MULTI) {
        return rejected(ctx, Reply::error("ERR Command not allowed inside a transaction"), Some((spec, fullname)));
    }
    if let Some(e) = acl::dispatch_check(ctx, spec, fullname, args) {
        return rejected(ctx, e, Some((spec, fullname)));
    }
    // Redis's maxmemory step comes after authentication and before the replica/MULTI checks.
    if let Some(e) = crate::server::eviction::before_command(ctx, checked) {
        return rejected(ctx, e, Some((spec, fullname)));
    }
    if ctx.state.tracking.clients > 0 {
        tracking::limit_table(ctx.state);
    }
    // A failed save stops writes (and PING) while stop-writes-on-bgsave-error says so.
    // The master's stream is obeyed whatever this replica's disks say (obey_client).
    let obeyed = ctx.session.repl.is_master;
    if (checked.has(WRITE) || spec.id == CmdId::Ping)
        && !obeyed
        && crate::persistence::snapshot::writes_denied(ctx.state)
    {
        return rejected(ctx, Reply::error(crate::persistence::snapshot::MISCONF), Some((spec, fullname)));
    }
    if (checked.has(WRITE) || spec.id == CmdId::Ping) && !obeyed {
        if let Some(e) = crate::persistence::appendonly::write_error(ctx.state) {
            let e = Reply::error(format!("MISCONF Errors writing to the AOF file: {e}"));
            return rejected(ctx, e, Some((spec, fullname)));
        }
    }
    if let Some(e) = replication_refusal(ctx, checked) {
        return rejected(ctx, e, Some((spec, fullname)));
    }
    if ctx.session.monitor && (checked.has(WRITE) || checked.has(table::READONLY) || checked.has(table::MAY_REPLICATE))
    {
        let e = Reply::error("ERR Replica can't interact with the keyspace");
        return rejected(ctx, e, Some((spec, fullname)));
    }
    if master_down(ctx.state) && !checked.has(table::STALE) {
        let e = Reply::error("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
        return rejected(ctx, e, Some((spec, fullname)));
    }
    if ctx.state.loading.is_some() && !checked.has(table::LOADING) {
        return rejected(ctx, Reply::error("LOADING Redis is loading the dataset in memory"), Some((spec, fullname)));
    }
    // Served from a busy script's hook: only what Redis allows meanwhile runs.
    if let Some(running) = &ctx.state.scripts.running {
        if !spec.has(table::ALLOW_BUSY) {
            let e = scripting::busy_error(running.eval);
            return rejected(ctx, e, Some((spec, fullname)));
        }
    }
    // A pause holds a command back only once every check has let it through (Redis's
    // blockPostponeClient comes last): a refused write is refused at once.
    if let Some(until_ms) = paused_until(ctx, checked) {
        ctx.session.postponed = Some(until_ms);
        return Reply::NoReply;
    }
    if ctx.session.multi.is_some() && !spec.id.controls_transaction() {
        transactions::queue(ctx, args, checked.flags);
        return Reply::status("QUEUED");
    }
    if ctx.session.in_pubsub_context() && !spec.id.allowed_in_pubsub_context() {
        let e = format!(
            "ERR Can't execute '{fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        );
        return rejected(ctx, Reply::error(e), Some((spec, fullname)));
    }
    let reply = call(ctx, spec, &fullname, args);
    // After the whole command (EXEC included), like Redis's processCommand.
    if ctx.state.blocking.has_ready() {
        blocking::serve_ready_keys(ctx);
    }
    reply
}

/// Writes refused for replication's sake: without enough good replicas (min-replicas-to-write),
/// and on a read-only replica unless they come from its master.
fn replication_refusal(ctx: &Ctx, spec: &CommandSpec) -> Option<Reply> {
    if !spec.has(WRITE) || ctx.session.repl.is_master {
        return None;
    }
    let st = &*ctx.state;
    if st.repl.is_replica() {
        if st.hot.replica_read_only {
            return Some(Reply::error("READONLY You can't write against a read only replica."));
        }
        return None;
    }
    if !crate::replication::acks::enough_good_replicas(st) {
        return Some(Reply::error("NOREPLICAS Not enough good replicas to write."));
    }
    None
}

/// Until when CLIENT PAUSE (or a FAILOVER/SHUTDOWN's pause) holds this command back, if it does:
/// everything under PAUSE ALL, under PAUSE WRITE what may replicate (`spec` is EXEC as its
/// transaction: held if it queued such commands). The master link and replicas are never paused.
fn paused_until(ctx: &Ctx, spec: &CommandSpec) -> Option<u64> {
    let pause = ctx.state.pause?;
    if ctx.session.repl.is_master || ctx.state.repl.replicas.contains_key(&ctx.session.id) {
        return None;
    }
    let held = pause.all || spec.has(WRITE) || spec.has(table::MAY_REPLICATE);
    held.then_some(pause.until_ms)
}

/// The flags EXEC is checked by: a write if a queued command writes (likewise DENYOOM, READONLY,
/// may-replicate), and refused on a stale replica or while loading unless every queued command
/// may run then.
fn exec_flags(exec: u32, queued: crate::server::session::QueuedFlags) -> u32 {
    use table::{DENYOOM, LOADING, MAY_REPLICATE, NO_ASYNC_LOADING, READONLY, STALE};
    let taken = queued.any & (WRITE | READONLY | DENYOOM | MAY_REPLICATE | NO_ASYNC_LOADING);
    (exec | taken) & !(queued.missing & (STALE | LOADING))
}

/// A replica whose link is down and that must not serve stale data (replica-serve-stale-data no).
pub(crate) fn master_down(st: &State) -> bool {
    st.repl.master.as_ref().is_some_and(|m| !m.is_connected())
        && !st.config.bool(crate::ckey!("replica-serve-stale-data"))
}

/// A command refused before it ran (Redis's rejectCommand): inside MULTI the transaction is
/// flagged, and a refused EXEC aborts it with the reason.
fn rejected(ctx: &mut Ctx, e: Reply, cmd: Option<(&'static CommandSpec, CmdName)>) -> Reply {
    let mut e = e;
    if ctx.session.multi.is_some() {
        ctx.session.multi_error = true;
    }
    if cmd.is_some_and(|(spec, _)| spec.id == CmdId::Exec) {
        // Redis's execCommandAbort: the transaction (if any) and the WATCHes go, with the reason.
        transactions::discard_transaction(ctx);
        if let Reply::Error(text) = &e {
            let reason = text.strip_prefix("ERR ").unwrap_or(text);
            e = Reply::error(format!("EXECABORT Transaction discarded because of: {reason}"));
        }
    }
    if let Reply::Error(text) = &e {
        ctx.state.count_error(text);
    }
    if let Some((spec, name)) = cmd {
        ctx.state.stats.command(spec, name).rejected += 1;
    }
    e
}

/// Executes a resolved command with Redis's bookkeeping around it.
pub fn call(ctx: &mut Ctx, spec: &'static CommandSpec, fullname: &CmdName, args: &[Bytes]) -> Reply {
    let Some(handler) = spec.handler else {
        return Reply::error("ERR unknown command");
    };
    let dirty_before = ctx.state.dirty;
    let unit = !ctx.session.in_exec;
    if unit {
        ctx.state.propagation.begin_unit();
    }
    // The previous command's end is this one's start: one clock read per command.
    let start = ctx.clock;
    ctx.state.tracking.in_call += 1;
    let script = matches!(spec.id, CmdId::Eval | CmdId::EvalSha | CmdId::Fcall);
    if script && ctx.state.tracking.clients > 0 {
        ctx.state.tracking.script_keys = Some(spec.key_positions(args).into_iter().map(|i| args[i].clone()).collect());
    }
    let reply = handler(ctx, args);
    if script {
        ctx.state.tracking.script_keys = None;
    }
    if ctx.state.tracking.clients > 0 && spec.has(table::READONLY) {
        remember_read_keys(ctx, spec, args);
    }
    let rerun = ctx.session.rerun_deadline.is_some();
    // Like Redis's call(): monitors see the command after it ran (so SELECT shows the new db),
    // admin commands never, and a parked command run again only the first time.
    if !ctx.state.monitors.is_empty() && !spec.has(SKIP_MONITOR) && !spec.has(ADMIN) && !rerun {
        feed_monitors(ctx, args);
    }
    let end = Instant::now();
    ctx.clock = end;
    let usec = end.saturating_duration_since(start).as_micros() as u64;
    let rewritten = ctx.session.propagate_as.take();
    let forced = std::mem::take(&mut ctx.session.force_propagation);
    let unsignalled = std::mem::take(&mut ctx.session.keys_not_signalled);
    if (spec.has(WRITE) && ctx.state.dirty != dirty_before) || forced {
        if !unsignalled {
            key_written(ctx, spec, args);
        }
        if ctx.state.propagation.enabled && ctx.session.block.is_none() {
            ctx.session.repl.unflushed_write = true;
            let db = ctx.session.db;
            match rewritten {
                Some(lines) => lines.into_iter().for_each(|l| ctx.state.propagation.push(db, l)),
                None => ctx.state.propagation.push(db, args.to_vec()),
            }
        }
    }
    // The command's own key changes (above) count as during the command too.
    ctx.state.tracking.in_call -= 1;
    // What one command (EXEC included) propagated, its lazy-expiry DELs too, replays atomically;
    // a command inside EXEC is wrapped with the whole transaction.
    // SCAN and RANDOMKEY run by a client (not by EXEC or a script) replay their DELs unwrapped
    // (Redis's CMD_TOUCHES_ARBITRARY_KEYS).
    if unit && spec.has(table::TOUCHES_ARBITRARY_KEYS) {
        ctx.state.propagation.propagated_now();
    } else if unit {
        ctx.state.propagation.end_unit();
    }
    if ctx.session.block.is_some() {
        // Parked: it counts as called when its wait ends (Redis's updateStatsOnUnblock).
        return reply;
    }
    let latency_tracking = ctx.state.hot.latency_tracking;
    let st = ctx.state.stats.command(spec, *fullname);
    st.calls += 1;
    st.usec += usec;
    if latency_tracking {
        // Redis records the µs it measured, in ns (updateCommandLatencyHistogram).
        st.latency.record(usec.saturating_mul(1000));
    }
    if let Reply::Error(text) = &reply {
        st.failed += 1;
        if !std::mem::take(&mut ctx.session.error_counted) {
            let text = text.clone();
            ctx.state.count_error(&text);
        }
    }
    ctx.state.stats.total_commands += 1;
    let threshold = ctx.state.hot.slowlog_threshold;
    if threshold >= 0 && usec >= threshold as u64 && !spec.has(table::SKIP_SLOWLOG) {
        slowlog::slowlog_push(ctx, args, usec);
    }
    if usec >= 1000 {
        ctx.state.latency_add(if spec.has(table::FAST) { "fast-command" } else { "command" }, usec / 1000);
    }
    reply
}

/// After a read command of a client tracking keys in the default mode: the keys it read, for
/// their invalidations. A script's read makes its caller track the keys the script declared, as
/// Redis remembers the caller's command's keys; the scripts' READONLY forms themselves track
/// nothing, nor do shard channels (keys only for routing).
fn remember_read_keys(ctx: &mut Ctx, spec: &CommandSpec, args: &[Bytes]) {
    if matches!(spec.id, CmdId::Eval | CmdId::EvalSha | CmdId::Fcall) || spec.has(table::PUBSUB) {
        return;
    }
    if ctx.session.id == crate::server::session::SCRIPT_CLIENT_ID {
        let Some(caller) = ctx.state.tracking.current else { return };
        if tracking::remembers_reads(ctx.state, caller) {
            let keys = ctx.state.tracking.script_keys.clone().unwrap_or_default();
            tracking::remember_keys(ctx.state, caller, keys.into_iter());
        }
        return;
    }
    if tracking::remembers_reads(ctx.state, ctx.session.id) {
        let keys = spec.key_positions(args).into_iter().map(|i| args[i].clone());
        tracking::remember_keys(ctx.state, ctx.session.id, keys);
    }
}

/// A write changed the keyspace: WATCHes on its keys fail, clients waiting on them get a look.
/// Tracking clients that read them are told.
/// The stream commands signal their keys themselves, as Redis: only XADD (new entries) and XGROUP
/// DESTROY (a group gone) concern blocked readers; XDEL, XTRIM, XSETID, XGROUP SETID... do not
/// wake them, whatever they did to the IDs.
fn key_written(ctx: &mut Ctx, spec: &CommandSpec, args: &[Bytes]) {
    let db = ctx.session.db;
    let watched = !ctx.state.dbs[db].watched.is_empty();
    let signal = ctx.state.blocking.count() != 0 && spec.group != "stream";
    let tracked = ctx.state.tracking.active();
    if !watched && !signal && !tracked {
        return;
    }
    for i in spec.written_key_positions(args) {
        if tracked {
            tracking::invalidate_key(ctx.state, Some(ctx.session.id), &args[i], true);
        }
        if watched {
            ctx.state.dbs[db].touch_watched(&args[i]);
        }
        if signal {
            ctx.state.blocking.signal(db, &args[i]);
        }
    }
}

pub(crate) fn feed_monitors(ctx: &mut Ctx, args: &[Bytes]) {
    let now = crate::util::time::unix_us();
    let from = if ctx.session.id == crate::server::session::SCRIPT_CLIENT_ID { "lua" } else { &ctx.session.addr };
    let mut line = format!("{}.{:06} [{} {}]", now / 1_000_000, now % 1_000_000, ctx.session.db, from);
    let redacted = slowlog::redacted_positions(args);
    for (i, a) in args.iter().enumerate() {
        line.push(' ');
        if redacted.contains(&i) {
            line.push_str("\"(redacted)\"");
        } else {
            line.push_str(&crate::util::splitargs::repr(a));
        }
    }
    let msg = Arc::new(Reply::Status(line.into()));
    let monitors = ctx.state.monitors.clone();
    for id in monitors {
        if id == ctx.session.id {
            // A monitor sees its own commands too, after their replies.
            ctx.session.after_reply.push(msg.clone());
        } else if let Some(c) = ctx.state.clients.get(&id) {
            let _ = c.tx.send(crate::server::state::Push::Reply(msg.clone()));
        }
    }
}

pub use crate::protocol::errors;
pub use crate::server::session::{Ctx, ReplyMode, Session};

/// Parses an integer argument with Redis's error.
pub fn int_arg(b: &[u8]) -> Result<i64, Reply> {
    crate::util::numbers::parse_i64(b).ok_or_else(|| Reply::error(errors::NOT_INTEGER))
}

/// A client's inclusive index range (negative indexes count from the end) clamped to a
/// collection of `len`, or None when it selects nothing (LRANGE, LTRIM, ZRANGE by rank, ...).
pub(crate) fn index_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

pub fn float_arg(b: &[u8]) -> Result<f64, Reply> {
    crate::util::numbers::parse_f64(b).ok_or_else(|| Reply::error(errors::NOT_FLOAT))
}

pub use client::{info_line as client_info_line, info_string as client_info_string};
pub use shutdown::finish_shutdown;
pub use transactions::unwatch_all;

/// addReplySubcommandSyntaxError: the subcommand as typed, the container upper-cased.
pub(crate) fn subcommand_syntax_error(args: &[Bytes]) -> Reply {
    let sub: String = String::from_utf8_lossy(&args[1]).chars().take(128).collect();
    Reply::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        String::from_utf8_lossy(&args[0]).to_ascii_uppercase()
    ))
}

/// The reply to `<CONTAINER> HELP`, in Redis's layout.
pub fn help_reply(container: &str, lines: &[&str]) -> Reply {
    let mut out =
        vec![Reply::Status(format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into())];
    out.extend(lines.iter().map(|l| Reply::Status((*l).to_string().into())));
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Prints this help."));
    Reply::Array(out)
}

pub use config_cmd::refresh as refresh_config;
pub use debug::install_crash_report;
