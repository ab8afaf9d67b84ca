//! MULTI/EXEC/DISCARD/WATCH/UNWATCH.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::{Ctx, Session};
use crate::cmd;
use crate::keyspace::db::Watcher;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::state::State;

pub static TABLE: &[CommandSpec] = &[
    cmd!(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "1.2.0",
        "Mark the start of a transaction block",
        "O(1)",
        multi
    ),
    cmd!(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        (0, 0, 0),
        "transactions",
        "1.2.0",
        "Execute all commands issued after MULTI",
        "Depends on commands in the transaction",
        exec
    ),
    cmd!(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "2.0.0",
        "Discard all commands issued after MULTI",
        "O(N), when N is the number of queued commands",
        discard
    ),
    cmd!(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (1, -1, 1),
        "transactions",
        "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
        "O(1) for every key.",
        watch
    ),
    cmd!(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "2.2.0",
        "Forget about all watched keys",
        "O(1)",
        unwatch
    ),
];

/// Queues a command of the transaction with the flags it was checked by (a script's are its own).
/// Nothing is queued once EXEC is bound to fail (Redis's queueMultiCommand): those commands
/// neither take memory nor count in EXEC's checks.
pub fn queue(ctx: &mut Ctx, args: &[Bytes], flags: u32) {
    if ctx.session.multi_error || ctx.session.watch_dirty.load(Ordering::Relaxed) {
        return;
    }
    let Some(q) = ctx.session.multi.as_mut() else { return };
    // Copies: slices would keep the connection's read buffer from being reused until EXEC.
    q.push(args.iter().map(|a| Bytes::copy_from_slice(a)).collect());
    let n = q.len() as i64;
    ctx.session.multi_flags.add(flags);
    set_multi_count(ctx, n);
    // queueMultiCommand's argv_len_sums: the arguments' bytes and a pointer for each.
    let bytes = args.iter().map(|a| a.len()).sum::<usize>() + std::mem::size_of::<usize>() * args.len();
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.multi_mem += bytes;
    }
}

fn set_multi_count(ctx: &mut Ctx, n: i64) {
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.multi = n;
        if n <= 0 {
            ci.multi_mem = 0;
        }
    }
}

fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_some() {
        return Reply::error("ERR MULTI calls can not be nested");
    }
    ctx.session.multi = Some(Vec::new());
    ctx.session.multi_error = false;
    ctx.session.multi_flags = Default::default();
    set_multi_count(ctx, 0);
    Reply::OK
}

pub fn discard_transaction(ctx: &mut Ctx) {
    ctx.session.multi = None;
    ctx.session.multi_error = false;
    ctx.session.multi_flags = Default::default();
    set_multi_count(ctx, -1);
    super::unwatch_all(ctx.state, ctx.session);
}

fn discard(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_none() {
        return Reply::error("ERR DISCARD without MULTI");
    }
    discard_transaction(ctx);
    Reply::OK
}

/// True if a watched key changed, or expired since WATCH (Redis's isWatchedKeyExpired: a key
/// already expired when watched does not count).
fn watch_broken(ctx: &Ctx) -> bool {
    if ctx.session.watch_dirty.load(Ordering::Relaxed) {
        return true;
    }
    ctx.session
        .watched
        .iter()
        .any(|(db, key, expired)| !expired.load(Ordering::Relaxed) && key_expired(&ctx.state.dbs[*db], key, ctx.now_ms))
}

/// Present and past its TTL (Redis's keyIsExpired), whether or not lazy expiry deleted it yet.
fn key_expired(db: &crate::keyspace::Db, key: &[u8], now_ms: u64) -> bool {
    db.get_raw(key).and_then(|e| e.expire_at()).is_some_and(|at| at < now_ms)
}

fn exec(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(queue) = ctx.session.multi.take() else {
        return Reply::error("ERR EXEC without MULTI");
    };
    if ctx.session.multi_error {
        discard_transaction(ctx);
        return Reply::error("EXECABORT Transaction discarded because of previous errors.");
    }
    if watch_broken(ctx) {
        discard_transaction(ctx);
        return Reply::NilArray;
    }
    super::unwatch_all(ctx.state, ctx.session);
    ctx.session.in_exec = true;
    ctx.session.exec_argv_len = args.iter().map(|a| a.len()).sum();
    // EXEC's own reply has begun (Redis's deferred array length): replies are pending.
    ctx.session.replies_pending = true;
    let mut replies = Vec::with_capacity(queue.len());
    for args in &queue {
        let r = match super::resolve(ctx.server, args) {
            // The rules may have changed since the command was queued: checked again.
            Ok((spec, name)) => match super::acl::exec_check(ctx, spec, name, args) {
                Some(refused) => refused,
                None => super::call(ctx, spec, &name, args),
            },
            Err(e) => e,
        };
        replies.push(r);
    }
    // The queue is the client's (CLIENT LIST's multi and multi-mem) until the last one has run.
    set_multi_count(ctx, -1);
    ctx.session.in_exec = false;
    // call() wraps what the transaction propagated, as for any command.
    Reply::Array(replies)
}

fn watch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_some() {
        return Reply::error("ERR WATCH inside MULTI is not allowed");
    }
    let db = ctx.session.db;
    for key in &args[1..] {
        if ctx.session.watched.iter().any(|(d, k, _)| *d == db && k == key) {
            continue;
        }
        // A key already past its TTL is left as it is (WATCH deletes nothing), flagged so that
        // neither its deletion nor its being expired aborts EXEC.
        let expired = Arc::new(AtomicBool::new(key_expired(&ctx.state.dbs[db], key, ctx.now_ms)));
        let w = Watcher { client: ctx.session.id, dirty: ctx.session.watch_dirty.clone(), expired: expired.clone() };
        ctx.state.dbs[db].watched.entry(key.to_vec().into_boxed_slice()).or_default().push(w);
        ctx.session.watched.push((db, key.clone(), expired));
    }
    let n = ctx.session.watched.len();
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.watched = n;
    }
    Reply::OK
}

fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::unwatch_all(ctx.state, ctx.session);
    Reply::OK
}

/// Drops every WATCH of the session and clears its dirty flag.
pub fn unwatch_all(st: &mut State, session: &mut Session) {
    for (db, key, _) in session.watched.drain(..) {
        if let Some(d) = st.dbs.get_mut(db) {
            if let Some(ws) = d.watched.get_mut(&key[..]) {
                ws.retain(|w| w.client != session.id);
                if ws.is_empty() {
                    d.watched.remove(&key[..]);
                }
            }
        }
    }
    session.watch_dirty.store(false, Ordering::Relaxed);
    if let Some(ci) = st.clients.get_mut(&session.id) {
        ci.watched = 0;
    }
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;

    #[test]
    fn queueing_errors_and_discard() {
        Harness::new().check(&[
            ("EXEC", "-ERR EXEC without MULTI\r\n"),
            ("DISCARD", "-ERR DISCARD without MULTI\r\n"),
            ("MULTI", "+OK\r\n"),
            ("MULTI", "-ERR MULTI calls can not be nested\r\n"),
            ("SET k v", "+QUEUED\r\n"),
            ("INCR k", "+QUEUED\r\n"),
            ("WATCH k", "-ERR WATCH inside MULTI is not allowed\r\n"),
            // A command that fails when it runs does not undo the others.
            ("EXEC", "*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n"),
            ("MULTI", "+OK\r\n"),
            ("SET k v2", "+QUEUED\r\n"),
            ("FOO bar", "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n"),
            ("GET", "-ERR wrong number of arguments for 'get' command\r\n"),
            ("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("MULTI", "+OK\r\n"),
            ("SET k 1", "+QUEUED\r\n"),
            ("DISCARD", "+OK\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("MULTI", "+OK\r\n"),
            ("EXEC", "*0\r\n"),
        ]);
    }

    #[test]
    fn a_write_by_another_client_aborts_the_watcher() {
        let mut h = Harness::new();
        let mut other = h.client();
        h.check(&[("WATCH k", "+OK\r\n")]);
        other.check(&[("SET k x", "+OK\r\n")]);
        h.check(&[("MULTI", "+OK\r\n"), ("GET k", "+QUEUED\r\n"), ("EXEC", "*-1\r\n")]);
        // EXEC forgot the WATCH: the next transaction runs.
        other.check(&[("SET k y", "+OK\r\n")]);
        h.check(&[("MULTI", "+OK\r\n"), ("GET k", "+QUEUED\r\n"), ("EXEC", "*1\r\n$1\r\ny\r\n")]);
    }

    #[test]
    fn own_writes_abort_too_and_unwatch_forgets() {
        let mut h = Harness::new();
        let mut other = h.client();
        h.check(&[
            ("WATCH k", "+OK\r\n"),
            ("SET k y", "+OK\r\n"),
            ("MULTI", "+OK\r\n"),
            ("GET k", "+QUEUED\r\n"),
            ("EXEC", "*-1\r\n"),
            ("WATCH k", "+OK\r\n"),
            ("UNWATCH", "+OK\r\n"),
        ]);
        other.check(&[("SET k z", "+OK\r\n")]);
        h.check(&[("MULTI", "+OK\r\n"), ("GET k", "+QUEUED\r\n"), ("EXEC", "*1\r\n$1\r\nz\r\n")]);
        // A write to another key does not touch the watched one.
        h.check(&[("WATCH other", "+OK\r\n")]);
        other.check(&[("SET unrelated 1", "+OK\r\n")]);
        h.check(&[("MULTI", "+OK\r\n"), ("PING", "+QUEUED\r\n"), ("EXEC", "*1\r\n+PONG\r\n")]);
    }

    #[test]
    fn flushall_aborts_watchers_of_keys_that_existed() {
        let mut h = Harness::new();
        let mut other = h.client();
        h.check(&[("SET k v", "+OK\r\n"), ("WATCH k nokey", "+OK\r\n")]);
        other.check(&[("FLUSHALL", "+OK\r\n")]);
        h.check(&[("MULTI", "+OK\r\n"), ("PING", "+QUEUED\r\n"), ("EXEC", "*-1\r\n"), ("WATCH nokey", "+OK\r\n")]);
        other.check(&[("FLUSHALL", "+OK\r\n")]);
        h.check(&[("MULTI", "+OK\r\n"), ("PING", "+QUEUED\r\n"), ("EXEC", "*1\r\n+PONG\r\n")]);
    }

    /// A watched key that expires between WATCH and EXEC aborts the transaction (Redis 7.0's
    /// isWatchedKeyExpired), even though nothing deleted it yet.
    #[test]
    fn a_watched_key_that_expires_aborts() {
        let mut h = Harness::new();
        h.check(&[("SET t v PX 100", "+OK\r\n"), ("WATCH t", "+OK\r\n")]);
        h.advance(100);
        h.check(&[("MULTI", "+OK\r\n"), ("PING", "+QUEUED\r\n"), ("EXEC", "*1\r\n+PONG\r\n")]);
        h.check(&[("WATCH t", "+OK\r\n")]);
        h.advance(1);
        h.check(&[("MULTI", "+OK\r\n"), ("PING", "+QUEUED\r\n"), ("EXEC", "*-1\r\n")]);
    }

    #[test]
    fn resp3_exec_carries_each_reply_in_its_type() {
        let mut h = Harness::new();
        assert!(!h.run(&["HELLO", "3"]).is_error());
        h.check(&[
            ("MULTI", "+OK\r\n"),
            ("SET a 1", "+QUEUED\r\n"),
            ("ZADD zz 1.5 m", "+QUEUED\r\n"),
            ("ZSCORE zz m", "+QUEUED\r\n"),
            ("GET nokey", "+QUEUED\r\n"),
            ("EXEC", "*4\r\n+OK\r\n:1\r\n,1.5\r\n_\r\n"),
            ("MULTI", "+OK\r\n"),
            ("SUBSCRIBE x", "+QUEUED\r\n"),
            ("EXEC", "*1\r\n>3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n"),
        ]);
    }
}
