//! ZPOPMIN, ZPOPMAX, ZMPOP and the blocking BZPOPMIN, BZPOPMAX, BZMPOP (genericZpopCommand).

use bytes::Bytes;

use super::is;
use crate::commands::blocking::{timeout_arg, BlockKind};
use crate::commands::{errors, notify, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::server::propagation::argv;
use crate::util::numbers::parse_i64;

/// How a pop replies (genericZpopCommand's flags).
#[derive(Clone, Copy)]
struct Shape {
    /// Name the key first (BZPOP*, ZMPOP, BZMPOP).
    with_key: bool,
    /// [member, score] pairs rather than a flat list.
    nested: bool,
    /// A null (rather than an empty array) when no key holds anything (ZMPOP, BZMPOP).
    nil_when_empty: bool,
    /// What the pop is replayed as (AOF, replicas).
    replay: Replay,
}

/// What a pop is replayed as, in Redis 7.0's forms.
#[derive(Clone, Copy, PartialEq)]
enum Replay {
    /// ZPOPMIN/ZPOPMAX: as sent.
    AsSent,
    /// BZPOPMIN/BZPOPMAX: ZPOPMIN/ZPOPMAX key, without a count (a replay must never block).
    OnePop,
    /// ZMPOP/BZMPOP: ZPOPMIN/ZPOPMAX key <members popped>, from the key that had members.
    CountedPop,
}

/// An integer in `min..`, with one error text for a bad number and for one out of range, as
/// getRangeLongFromObjectOrReply gives when passed a message.
fn long_at_least(arg: &[u8], min: i64, msg: &'static str) -> Result<i64, Reply> {
    parse_i64(arg).filter(|&v| v >= min).ok_or_else(|| Reply::error(msg))
}

pub fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zpop_min_max(ctx, args, false)
}

pub fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zpop_min_max(ctx, args, true)
}

fn zpop_min_max(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Reply {
    if args.len() > 3 {
        return Reply::error(errors::SYNTAX);
    }
    let count = match args.get(2) {
        Some(a) => Some(tri!(long_at_least(a, 0, "ERR value is out of range, must be positive"))),
        None => None,
    };
    // RESP3 nests pairs only when a count was given.
    let nested = ctx.session.resp > 2 && count.is_some();
    let shape = Shape { with_key: false, nested, nil_when_empty: false, replay: Replay::AsSent };
    pop_first_of(ctx, &args[1..2], max, count, shape)
}

/// Pops from the first of `keys` that exists: `count` members (None: one, replied flat).
fn pop_first_of(ctx: &mut Ctx, keys: &[Bytes], max: bool, count: Option<i64>, shape: Shape) -> Reply {
    let mut found = None;
    for k in keys {
        if tri!(ctx.write_typed(k, Value::as_zset_mut)).is_some() {
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else {
        return if shape.nil_when_empty { Reply::NilArray } else { Reply::Array(vec![]) };
    };
    if count == Some(0) {
        return Reply::Array(vec![]);
    }
    pop_from(ctx, key, max, count.unwrap_or(1) as u64, shape)
}

/// Pops up to `count` members of the existing sorted set at `key`.
fn pop_from(ctx: &mut Ctx, key: &Bytes, max: bool, count: u64, shape: Shape) -> Reply {
    let Ok(Some(z)) = ctx.write_typed(key, Value::as_zset_mut) else {
        return Reply::error(errors::WRONGTYPE);
    };
    let n = count.min(z.len() as u64) as usize;
    let mut popped = Vec::with_capacity(n);
    for _ in 0..n {
        if let Some(it) = z.pop(max) {
            popped.push(it);
        }
    }
    ctx.dirty(popped.len() as u64);
    ctx.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    match shape.replay {
        Replay::AsSent => {}
        Replay::OnePop => ctx.propagate_as(|| argv(&[name, key])),
        Replay::CountedPop => ctx.propagate_as(|| argv(&[name, key, popped.len().to_string().as_bytes()])),
    }
    ctx.delete_if_empty(key);
    let mut items = Vec::with_capacity(popped.len() * 2 + 1);
    for it in popped {
        let (m, s) = (Reply::bulk(&it.member), Reply::Double(it.score));
        if shape.nested {
            items.push(Reply::Array(vec![m, s]));
        } else {
            items.push(m);
            items.push(s);
        }
    }
    match (shape.with_key, shape.nested) {
        (false, _) => Reply::Array(items),
        (true, false) => {
            items.insert(0, Reply::bulk(key));
            Reply::Array(items)
        }
        (true, true) => Reply::Array(vec![Reply::bulk(key), Reply::Array(items)]),
    }
}

/// ZMPOP/BZMPOP's `numkeys key... MIN|MAX [COUNT count]` from `numkeys_at`: keys, max, count.
fn parse_mpop(args: &[Bytes], numkeys_at: usize) -> Result<(&[Bytes], bool, i64), Reply> {
    let numkeys = long_at_least(&args[numkeys_at], 1, "ERR numkeys should be greater than 0")? as usize;
    let where_at = numkeys_at.checked_add(numkeys).and_then(|i| i.checked_add(1)).filter(|&i| i < args.len());
    let Some(where_at) = where_at else {
        return Err(Reply::error(errors::SYNTAX));
    };
    let max = match &args[where_at] {
        w if is(w, "min") => false,
        w if is(w, "max") => true,
        _ => return Err(Reply::error(errors::SYNTAX)),
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "count") && j + 1 < args.len() {
            count = Some(long_at_least(&args[j + 1], 1, "ERR count should be greater than 0")?);
            j += 2;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
    }
    Ok((&args[numkeys_at + 1..where_at], max, count.unwrap_or(1)))
}

const MPOP_SHAPE: Shape = Shape { with_key: true, nested: true, nil_when_empty: true, replay: Replay::CountedPop };

pub fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (keys, max, count) = tri!(parse_mpop(args, 1));
    pop_first_of(ctx, keys, max, Some(count), MPOP_SHAPE)
}

pub fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bzpop(ctx, args, false)
}

pub fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bzpop(ctx, args, true)
}

fn bzpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Reply {
    let deadline = tri!(timeout_arg(ctx.now_ms, &args[args.len() - 1]));
    let keys = &args[1..args.len() - 1];
    let shape = Shape { with_key: true, nested: false, nil_when_empty: false, replay: Replay::OnePop };
    blocking_pop(ctx, keys, max, 1, shape, deadline)
}

pub fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (keys, max, count) = tri!(parse_mpop(args, 2));
    let deadline = tri!(timeout_arg(ctx.now_ms, &args[1]));
    blocking_pop(ctx, keys, max, count as u64, MPOP_SHAPE, deadline)
}

/// Serves the first key with members at once, else blocks on all of them
/// (blockingGenericZpopCommand).
fn blocking_pop(ctx: &mut Ctx, keys: &[Bytes], max: bool, count: u64, shape: Shape, deadline: u64) -> Reply {
    for k in keys {
        match tri!(ctx.write_typed(k, Value::as_zset_mut)) {
            Some(z) if !z.is_empty() => return pop_from(ctx, k, max, count, shape),
            _ => {}
        }
    }
    ctx.block(keys.to_vec(), deadline, BlockKind::ZSet, Reply::NilArray)
}
