//! What blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...) share: the timeout argument and the
//! request to block. A handler first tries to serve itself; if no key has data it returns
//! `ctx.block(...)`. When a key it waits on is written, the server runs the command again, as
//! that client, in the writer's turn (server::blocking), until it is served or times out.

use bytes::Bytes;

use super::{Ctx, Value};
use crate::protocol::Reply;
pub use crate::server::blocking::{BlockKind, BlockRequest};
use crate::server::session::WokenBy;

/// Parses a timeout in seconds (fractions allowed, 0 = forever) into an absolute deadline in unix
/// ms, with Redis's errors (getTimeoutFromObjectOrReply with UNIT_SECONDS).
pub fn timeout_arg(now_ms: u64, arg: &[u8]) -> Result<u64, Reply> {
    let Some(secs) = crate::util::numbers::LongDouble::parse(arg).filter(|v| !v.is_nan()) else {
        return Err(Reply::error("ERR timeout is not a float or out of range"));
    };
    let ms = secs.to_f64() * 1000.0;
    // C's (long long) conversion truncates toward zero; infinities and values beyond the range
    // become LLONG_MIN on x86, which Redis then reports as negative.
    let ms = if ms.is_finite() && ms.abs() < 9.2e18 { ms.trunc() as i64 } else { i64::MIN };
    if ms < 0 {
        return Err(Reply::error("ERR timeout is negative"));
    }
    if ms == 0 {
        return Ok(0);
    }
    if ms > i64::MAX - now_ms as i64 {
        return Err(Reply::error("ERR timeout is out of range"));
    }
    Ok(now_ms + ms as u64)
}

impl Ctx<'_> {
    /// Blocks the client on `keys` (Redis's blockForKeys). Inside MULTI/EXEC a blocking command
    /// cannot wait, so it answers `in_multi_reply` (its own kind of null) at once, as in Redis. Returns the handler's reply: nothing
    /// now, the real one when the client is served, times out or is unblocked.
    pub fn block(&mut self, keys: Vec<Bytes>, deadline_ms: u64, kind: BlockKind, in_multi_reply: Reply) -> Reply {
        self.block_as(keys, deadline_ms, kind, in_multi_reply, None)
    }

    /// `block`, with the command line as resolved now (`resolved_args`), for the command's own
    /// use when a key it waits on is ready (Session::woken_by).
    pub fn block_as(
        &mut self,
        keys: Vec<Bytes>,
        deadline_ms: u64,
        kind: BlockKind,
        in_multi_reply: Reply,
        resolved_args: Option<Vec<Bytes>>,
    ) -> Reply {
        if self.session.in_exec {
            return in_multi_reply;
        }
        // Run again after a wake-up that found nothing for it: keep the first deadline.
        let deadline_ms = self.session.rerun_deadline.unwrap_or(deadline_ms);
        self.session.block = Some(BlockRequest { keys, deadline_ms, kind, timeout_reply: None, resolved_args });
        Reply::NoReply
    }
}

/// Whether `key` can serve a client waiting for `kind`: it exists, has not expired, and holds
/// that type (collections are never empty).
fn can_serve(ctx: &mut Ctx, db: usize, key: &[u8], kind: BlockKind) -> bool {
    if ctx.expire_if_needed(db, key) {
        return false;
    }
    match ctx.state.dbs[db].get_raw(key).map(|e| e.value()) {
        Some(Value::List(_)) => kind == BlockKind::List,
        Some(Value::ZSet(_)) => kind == BlockKind::ZSet,
        _ => false,
    }
}

/// Serves the clients waiting on keys written by the command that just ran
/// (handleClientsBlockedOnKeys): for each ready key, its waiters in arrival order, each by
/// running its command again as that client, while the key can serve them. A served command
/// may write other keys (BLMOVE's destination); those are served in the same loop.
pub fn serve_ready_keys(ctx: &mut Ctx) {
    while let Some((db, key)) = ctx.state.blocking.next_ready() {
        while let Some((id, kind)) = ctx.state.blocking.first_waiting(db, &key) {
            if !can_serve(ctx, db, &key, kind) {
                break;
            }
            let Some(mut p) = ctx.state.blocking.unpark(id) else { break };
            let reply = rerun(ctx, &mut p);
            if p.session.block.is_some() {
                // Nothing it could take after all (e.g. BLMOVE into a key of the wrong type is
                // an error, not this): back to the head of its lines.
                p.session.block = None;
                ctx.state.blocking.park(id, p, true);
                break;
            }
            ctx.state.blocking.finish(id, p, reply);
        }
        serve_stream_readers(ctx, db, &key);
    }
}

/// Serves the clients waiting on keys that became ready outside any command (keys the active
/// expiry deleted: readers blocked in XREADGROUP on them get their error at once, as Redis's
/// beforeSleep does).
pub fn serve_ready_keys_outside_commands(server: &crate::server::Server, st: &mut crate::server::state::State) {
    if !st.blocking.has_ready() {
        return;
    }
    // Nothing here runs as this client: each waiter's command runs as its own.
    let mut nobody = super::Session::new(0, String::new());
    let mut ctx = Ctx {
        server,
        state: st,
        session: &mut nobody,
        now_ms: crate::util::time::unix_ms(),
        clock: std::time::Instant::now(),
    };
    serve_ready_keys(&mut ctx);
}

/// Serves the stream readers waiting on a ready key (serveClientsBlockedOnStreamKey and
/// unblockDeletedStreamReadgroupClients): each, in arrival order, whose stream got past the ID it
/// waits for, or whose wait can no longer be served (its key or group gone: an error). The
/// others keep their place in line.
fn serve_stream_readers(ctx: &mut Ctx, db: usize, key: &Bytes) {
    for id in ctx.state.blocking.stream_waiters(db, key) {
        let Some((args, parked_db)) = ctx.state.blocking.parked_command(id) else { continue };
        let args = args.to_vec();
        if !super::streams::woken_reader_has_reply(ctx, parked_db, key, &args) {
            continue;
        }
        let Some(mut p) = ctx.state.blocking.unpark(id) else { continue };
        let args = p.resolved_args.clone().unwrap_or_else(|| p.args.clone());
        p.session.woken_by = Some(WokenBy { key: key.clone(), args });
        let reply = rerun(ctx, &mut p);
        p.session.woken_by = None;
        if p.session.block.take().is_some() {
            // It found nothing after all: it waits on.
            ctx.state.blocking.park(id, p, true);
            continue;
        }
        ctx.state.blocking.finish(id, p, reply);
    }
}

/// Runs a parked client's command again, as that client.
fn rerun(ctx: &mut Ctx, p: &mut crate::server::blocking::Parked) -> Reply {
    p.session.rerun_deadline = Some(p.deadline_ms);
    let reply = match super::resolve(ctx.server, &p.args) {
        Ok((spec, name)) => {
            let mut as_client = Ctx {
                server: ctx.server,
                state: ctx.state,
                session: &mut p.session,
                now_ms: ctx.now_ms,
                clock: ctx.clock,
            };
            let r = super::call(&mut as_client, spec, &name, &p.args);
            ctx.clock = as_client.clock;
            r
        }
        Err(e) => e,
    };
    p.session.rerun_deadline = None;
    reply
}
