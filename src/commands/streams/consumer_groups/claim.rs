//! XCLAIM and XAUTOCLAIM: pending entries change owner. Neither is replayed as itself: each
//! claimed entry goes out as an idempotent XCLAIM with its new state (the removal of one whose
//! entry was deleted too), plus XGROUP SETID when only LASTID moved the group.

use bytes::Bytes;

use super::propagate::{setid_line, xclaim_line};
use super::{has_group, no_key_or_group, stream_mut};
use crate::commands::streams::{entry_reply, id_bulk, id_error, is_word};
use crate::commands::{errors, int_arg, notify, Ctx};
use crate::protocol::Reply;
use crate::types::stream::{Stream, StreamId};

/// getLongLongFromObjectOrReply with a message of the command's own.
fn int_or(arg: &[u8], msg: &'static str) -> Result<i64, Reply> {
    int_arg(arg).map_err(|_| Reply::error(msg))
}

/// The reply for a claimed entry: its ID, or the entry itself.
fn claimed_reply(s: &Stream, id: StreamId, justid: bool) -> Reply {
    if justid {
        return Reply::Bulk(id.to_bytes());
    }
    match s.range(id, id, false).next() {
        Some(e) => entry_reply(e),
        None => Reply::Bulk(id.to_bytes()),
    }
}

/// Makes sure the claiming consumer exists, the first time an entry is claimed: looked up
/// (its seen-time refreshed) or created, with the event.
fn ensure_consumer(ctx: &mut Ctx, key: &Bytes, group: &[u8], name: &[u8], done: &mut bool) {
    if *done {
        return;
    }
    *done = true;
    let now = ctx.now_ms as i64;
    let Some(g) = stream_mut(ctx, key).and_then(|s| s.group_mut(group)) else { return };
    if g.lookup_consumer(name, Some(now)).is_none() {
        g.create_consumer(name, now);
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
}

struct ClaimOptions {
    delivery_time: i64,
    retry_count: Option<u64>,
    force: bool,
    justid: bool,
    last_id: StreamId,
}

/// The options after the IDs, which start at the first argument that is not an ID.
fn parse_options(args: &[Bytes], from: usize, now: i64) -> Result<ClaimOptions, Reply> {
    let mut o =
        ClaimOptions { delivery_time: -1, retry_count: None, force: false, justid: false, last_id: StreamId::MIN };
    let mut retry: i64 = -1;
    let mut j = from;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = &args[j];
        if is_word(opt, "force") {
            o.force = true;
        } else if is_word(opt, "justid") {
            o.justid = true;
        } else if is_word(opt, "idle") && more {
            j += 1;
            let idle = int_or(&args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
            o.delivery_time = now.wrapping_sub(idle);
        } else if is_word(opt, "time") && more {
            j += 1;
            o.delivery_time = int_or(&args[j], "ERR Invalid TIME option argument for XCLAIM")?;
        } else if is_word(opt, "retrycount") && more {
            j += 1;
            retry = int_or(&args[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if is_word(opt, "lastid") && more {
            j += 1;
            o.last_id = StreamId::parse_strict(&args[j], 0).map_err(id_error)?;
        } else {
            let text = String::from_utf8_lossy(crate::commands::streams::c_str(opt));
            return Err(Reply::error(format!("ERR Unrecognized XCLAIM option '{text}'")));
        }
        j += 1;
    }
    o.retry_count = (retry >= 0).then_some(retry as u64);
    Ok(o)
}

/// XCLAIM key group consumer min-idle-time id... [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE]
/// [JUSTID] [LASTID id]
pub(super) fn xclaim(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, group, name) = (&args[1], &args[2], &args[3]);
    if !tri!(has_group(ctx, key, group)) {
        return no_key_or_group(key, group);
    }
    let min_idle = tri!(int_or(&args[4], "ERR Invalid min-idle-time argument for XCLAIM")).max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match StreamId::parse_strict(&args[j], 0) {
            Ok(id) => ids.push((id, args[j].clone())),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now_ms as i64;
    let mut o = tri!(parse_options(args, j, now));
    let Some(s) = stream_mut(ctx, key) else { return Reply::error(errors::WRONGTYPE) };
    let Some(g) = s.group_mut(group) else { return no_key_or_group(key, group) };
    let mut propagate_last_id = false;
    if o.last_id > g.last_id {
        g.last_id = o.last_id;
        propagate_last_id = true;
    }
    if o.delivery_time == -1 || o.delivery_time < 0 || o.delivery_time > now {
        o.delivery_time = now;
    }

    let mut out = Vec::new();
    let mut consumer_ready = false;
    for (id, id_arg) in ids {
        let Some(s) = stream_mut(ctx, key) else { break };
        let exists = s.contains(id);
        let Some(g) = s.group_mut(group) else { break };
        let pending = g.pel.get(&id).map(|n| n.delivery_time);
        if !exists {
            if let Some(nack) = g.take_pending(id) {
                let line = xclaim_line(key, group, id_arg, &nack, g);
                ctx.propagate_as(|| line);
                propagate_last_id = false;
                ctx.dirty(1);
            }
            continue;
        }
        let forced = match pending {
            Some(delivered) => {
                if min_idle != 0 && now - delivered < min_idle {
                    continue;
                }
                false
            }
            None if o.force => true,
            None => continue,
        };
        ensure_consumer(ctx, key, group, name, &mut consumer_ready);
        let Some(s) = stream_mut(ctx, key) else { break };
        let Some(g) = s.group_mut(group) else { break };
        if forced {
            g.force_pending(id, name, now);
        }
        let Some(nack) = g.claim(id, name, o.delivery_time, o.retry_count, !o.justid).cloned() else { continue };
        let line = xclaim_line(key, group, id_arg, &nack, g);
        out.push(claimed_reply(s, id, o.justid));
        ctx.propagate_as(|| line);
        propagate_last_id = false;
        ctx.dirty(1);
    }
    if propagate_last_id {
        if let Some(g) = stream_mut(ctx, key).and_then(|s| s.group_mut(group)) {
            let line = setid_line(key, group, g);
            ctx.propagate_as(|| line);
        }
        ctx.dirty(1);
    }
    Reply::Array(out)
}

/// XAUTOCLAIM's COUNT bound: LONG_MAX / max(sizeof(streamID), attempts factor).
const MAX_COUNT: i64 = i64::MAX / 16;
/// How many pending entries XAUTOCLAIM may look at per entry it may claim.
const ATTEMPTS_FACTOR: u64 = 10;

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]: replies with the
/// cursor to go on from (0-0 at the end), the claimed entries and the IDs found deleted.
pub(super) fn xautoclaim(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, group, name) = (&args[1], &args[2], &args[3]);
    let min_idle = tri!(int_or(&args[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")).max(0);
    let (mut start, start_ex) = tri!(StreamId::parse_interval(&args[5], 0).map_err(id_error));
    if start_ex {
        let Some(next) = start.incr() else { return Reply::error("ERR invalid start ID for the interval") };
        start = next;
    }
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is_word(&args[j], "count") && more {
            let n = tri!(int_or(&args[j + 1], "ERR COUNT must be > 0"));
            if !(1..=MAX_COUNT).contains(&n) {
                return Reply::error("ERR COUNT must be > 0");
            }
            count = n as u64;
            j += 1;
        } else if is_word(&args[j], "justid") {
            justid = true;
        } else {
            return Reply::error(errors::SYNTAX);
        }
        j += 1;
    }
    if !tri!(has_group(ctx, key, group)) {
        return no_key_or_group(key, group);
    }

    let now = ctx.now_ms as i64;
    let mut attempts = count * ATTEMPTS_FACTOR;
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut consumer_ready = false;
    // The next pending entry to look at is the first at or after `from`; None past the last ID.
    let mut from = Some(start);
    let mut at_end = false;
    loop {
        if attempts == 0 {
            break;
        }
        attempts -= 1;
        if count == 0 {
            break;
        }
        let Some(s) = stream_mut(ctx, key) else { break };
        let Some(g) = s.group(group) else { break };
        let next = from.and_then(|f| g.pel.range(f..).next().map(|(id, n)| (*id, n.delivery_time)));
        let Some((id, delivered)) = next else {
            at_end = true;
            break;
        };
        from = id.incr();
        if !s.contains(id) {
            let Some(g) = s.group_mut(group) else { break };
            if let Some(nack) = g.take_pending(id) {
                let line = xclaim_line(key, group, id_bulk(id), &nack, g);
                ctx.propagate_as(|| line);
                ctx.dirty(1);
            }
            deleted.push(Reply::Bulk(id.to_bytes()));
            count -= 1;
            continue;
        }
        if min_idle != 0 && now - delivered < min_idle {
            continue;
        }
        ensure_consumer(ctx, key, group, name, &mut consumer_ready);
        let Some(s) = stream_mut(ctx, key) else { break };
        let Some(g) = s.group_mut(group) else { break };
        let Some(nack) = g.claim(id, name, now, None, !justid).cloned() else { continue };
        let line = xclaim_line(key, group, id_bulk(id), &nack, g);
        claimed.push(claimed_reply(s, id, justid));
        count -= 1;
        ctx.propagate_as(|| line);
        ctx.dirty(1);
    }
    let cursor = if at_end {
        StreamId::MIN
    } else {
        stream_mut(ctx, key)
            .and_then(|s| s.group(group))
            .and_then(|g| from.and_then(|f| g.pel.range(f..).next().map(|(id, _)| *id)))
            .unwrap_or(StreamId::MIN)
    };
    Reply::Array(vec![Reply::Bulk(cursor.to_bytes()), Reply::Array(claimed), Reply::Array(deleted)])
}
