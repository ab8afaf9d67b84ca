//! XACK and XPENDING.

use bytes::Bytes;

use super::{has_group, no_key_or_group, stream_mut};
use crate::commands::streams::{id_bulk, id_error, is_word};
use crate::commands::{errors, int_arg, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::types::stream::StreamId;

/// XACK key group id...: a missing key or group acknowledges nothing; the IDs are all checked
/// before any is acknowledged.
pub(super) fn xack(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, group) = (&args[1], &args[2]);
    if !tri!(has_group(ctx, key, group)) {
        return Reply::Int(0);
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in &args[3..] {
        ids.push(tri!(StreamId::parse_strict(a, 0).map_err(id_error)));
    }
    let Some(g) = stream_mut(ctx, key).and_then(|s| s.group_mut(group)) else { return Reply::Int(0) };
    let acked = ids.into_iter().filter(|&id| g.ack(id)).count();
    ctx.dirty(acked as u64);
    Reply::Int(acked as i64)
}

/// The extended form's arguments: [IDLE min-idle] start end count [consumer].
struct Extended<'a> {
    min_idle: i64,
    start: StreamId,
    end: StreamId,
    count: u64,
    consumer: Option<&'a [u8]>,
}

fn parse_extended(args: &[Bytes]) -> Result<Extended<'_>, Reply> {
    let mut at = 3;
    let mut min_idle = 0;
    if is_word(&args[3], "idle") {
        min_idle = int_arg(&args[4])?;
        if args.len() < 8 {
            return Err(Reply::error(errors::SYNTAX));
        }
        at += 2;
    }
    let count = int_arg(&args[at + 2])?.max(0) as u64;
    let (mut start, start_ex) = StreamId::parse_interval(&args[at], 0).map_err(id_error)?;
    if start_ex {
        start = start.incr().ok_or_else(|| Reply::error("ERR invalid start ID for the interval"))?;
    }
    let (mut end, end_ex) = StreamId::parse_interval(&args[at + 1], u64::MAX).map_err(id_error)?;
    if end_ex {
        end = end.decr().ok_or_else(|| Reply::error("ERR invalid end ID for the interval"))?;
    }
    Ok(Extended { min_idle, start, end, count, consumer: args.get(at + 3).map(|c| c.as_ref()) })
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]: the range is parsed before
/// the key is looked at, so a syntax error wins over a missing group.
pub(super) fn xpending(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() != 3 && !(6..=9).contains(&args.len()) {
        return Reply::error(errors::SYNTAX);
    }
    let ext = if args.len() >= 6 { Some(tri!(parse_extended(args))) } else { None };
    let (key, group) = (&args[1], &args[2]);
    let now = ctx.now_ms as i64;
    let found = tri!(ctx.read_typed(key, Value::as_stream)).and_then(|s| s.group(group));
    let Some(g) = found else { return no_key_or_group(key, group) };
    let Some(ext) = ext else {
        let (Some(first), Some(last)) = (g.pel.keys().next(), g.pel.keys().next_back()) else {
            return Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]);
        };
        let consumers = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(name, c)| {
                Reply::Array(vec![Reply::Bulk(name.clone()), Reply::Bulk(c.pel.len().to_string().into_bytes())])
            })
            .collect();
        return Reply::Array(vec![
            Reply::Int(g.pel.len() as i64),
            Reply::Bulk(first.to_bytes()),
            Reply::Bulk(last.to_bytes()),
            Reply::Array(consumers),
        ]);
    };
    let ids: Box<dyn Iterator<Item = StreamId> + '_> = match ext.consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) => Box::new(c.pel.range(ext.start..).copied()),
            None => return Reply::Array(Vec::new()),
        },
        None => Box::new(g.pel.range(ext.start..).map(|(id, _)| *id)),
    };
    let mut out = Vec::new();
    let mut count = ext.count;
    for id in ids {
        if count == 0 || id > ext.end {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        let idle = now - nack.delivery_time;
        if ext.min_idle != 0 && idle < ext.min_idle {
            continue;
        }
        count -= 1;
        out.push(Reply::Array(vec![
            Reply::Bulk(id_bulk(id).to_vec()),
            Reply::Bulk(nack.consumer.clone()),
            Reply::Int(idle.max(0)),
            Reply::Int(nack.delivery_count as i64),
        ]));
    }
    Reply::Array(out)
}
