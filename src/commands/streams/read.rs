//! XRANGE, XREVRANGE and XLEN.

use bytes::Bytes;

use super::{entries_reply, id_error, is_word};
use crate::commands::{errors, int_arg, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::types::stream::StreamId;

pub(super) fn xrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    range_generic(ctx, args, false)
}

pub(super) fn xrevrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    range_generic(ctx, args, true)
}

/// xrangeGenericCommand: bounds (an incomplete start gets sequence 0, an incomplete end the
/// largest; `(` excludes), then COUNT, then the key.
fn range_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> Reply {
    let (start_arg, end_arg) = if rev { (&args[3], &args[2]) } else { (&args[2], &args[3]) };
    let (mut start, start_ex) = tri!(StreamId::parse_interval(start_arg, 0).map_err(id_error));
    if start_ex {
        start = match start.incr() {
            Some(id) => id,
            None => return Reply::error("ERR invalid start ID for the interval"),
        };
    }
    let (mut end, end_ex) = tri!(StreamId::parse_interval(end_arg, u64::MAX).map_err(id_error));
    if end_ex {
        end = match end.decr() {
            Some(id) => id,
            None => return Reply::error("ERR invalid end ID for the interval"),
        };
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is_word(&args[j], "count") && j + 1 < args.len() {
            count = tri!(int_arg(&args[j + 1])).max(0);
            j += 2;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    let Some(s) = tri!(ctx.read_typed(&args[1], Value::as_stream)) else {
        return Reply::Array(Vec::new());
    };
    if count == 0 {
        return Reply::NilArray;
    }
    let limit = if count < 0 { usize::MAX } else { count as usize };
    entries_reply(s.range(start, end, rev), limit, None)
}

pub(super) fn xlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(ctx.read_typed(&args[1], Value::as_stream)) {
        Some(s) => Reply::Int(s.len() as i64),
        None => Reply::Int(0),
    }
}
