//! MULTI/EXEC/DISCARD/WATCH/UNWATCH.

use std::sync::atomic::Ordering;

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

fn set_multi_count(ctx: &mut Ctx, n: i64) {
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.multi = n;
    }
}

fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_some() {
        return Reply::error("ERR MULTI calls can not be nested");
    }
    ctx.session.multi = Some(Vec::new());
    ctx.session.multi_error = false;
    set_multi_count(ctx, 0);
    Reply::OK
}

pub fn discard_transaction(ctx: &mut Ctx) {
    ctx.session.multi = None;
    ctx.session.multi_error = false;
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

/// True if a watched key changed or expired since WATCH.
fn watch_broken(ctx: &Ctx) -> bool {
    if ctx.session.watch_dirty.load(Ordering::Relaxed) {
        return true;
    }
    ctx.session
        .watched
        .iter()
        .any(|(db, key)| ctx.state.dbs[*db].get_raw(key).and_then(|e| e.expire_at()).is_some_and(|at| at < ctx.now_ms))
}

fn exec(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
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
    set_multi_count(ctx, -1);
    ctx.session.in_exec = true;
    let mut replies = Vec::with_capacity(queue.len());
    for args in &queue {
        let r = match super::resolve(ctx.server, args) {
            Ok((spec, name)) => super::call(ctx, spec, &name, args),
            Err(e) => e,
        };
        replies.push(r);
    }
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
        if ctx.session.watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        // A key already past its TTL is deleted now, so its later deletion cannot abort EXEC.
        ctx.expire_if_needed(db, key);
        let w = Watcher { client: ctx.session.id, dirty: ctx.session.watch_dirty.clone() };
        ctx.state.dbs[db].watched.entry(key.to_vec().into_boxed_slice()).or_default().push(w);
        ctx.session.watched.push((db, key.clone()));
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
    for (db, key) in session.watched.drain(..) {
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
