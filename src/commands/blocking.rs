//! What blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...) share: the timeout argument and the
//! request to block. A handler first tries to serve itself; if no key has data it returns
//! `ctx.block(...)`. When a key it waits on is written, the server runs the command again, as
//! that client, in the writer's turn (server::blocking), until it is served or times out.

use bytes::Bytes;

use super::Ctx;
use crate::protocol::Reply;

/// The type a key must hold to serve a waiting client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    List,
    ZSet,
}

/// What a handler asks for when it has to wait.
#[derive(Debug)]
pub struct BlockRequest {
    pub keys: Vec<Bytes>,
    /// Absolute unix ms; 0 waits forever.
    pub deadline_ms: u64,
    pub kind: BlockKind,
    /// The reply on timeout (a null of the command's kind) or on CLIENT UNBLOCK ... TIMEOUT.
    pub timeout_reply: Reply,
}

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
    /// cannot wait, so it times out at once, as in Redis. Returns the handler's reply: nothing
    /// now, the real one when the client is served, times out or is unblocked.
    pub fn block(&mut self, keys: Vec<Bytes>, deadline_ms: u64, kind: BlockKind, timeout_reply: Reply) -> Reply {
        if self.session.in_exec {
            return timeout_reply;
        }
        // Served again after a wake-up that found no data: keep the first deadline.
        let deadline_ms = self.session.reblock_deadline.take().unwrap_or(deadline_ms);
        self.session.block = Some(BlockRequest { keys, deadline_ms, kind, timeout_reply });
        Reply::NoReply
    }
}
