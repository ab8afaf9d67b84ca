//! XDEL and XSETID.

use bytes::Bytes;

use super::{id_error, is_word};
use crate::commands::{errors, int_arg, notify, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::types::stream::StreamId;

/// XDEL key id...: every ID is checked before any is deleted.
pub(super) fn xdel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(s) = tri!(ctx.write_typed(key, Value::as_stream_mut)) else {
        return Reply::Int(0);
    };
    let mut ids = Vec::with_capacity(args.len() - 2);
    for a in &args[2..] {
        ids.push(tri!(StreamId::parse_strict(a, 0).map_err(id_error)));
    }
    let deleted = s.delete_ids(&ids);
    if deleted > 0 {
        ctx.notify(notify::STREAM, "xdel", key);
        ctx.dirty(deleted);
    }
    Reply::Int(deleted as i64)
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
pub(super) fn xsetid(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let id = tri!(StreamId::parse_strict(&args[2], 0).map_err(id_error));
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is_word(&args[i], "entriesadded") && more {
            let n = tri!(int_arg(&args[i + 1]));
            if n < 0 {
                return Reply::error("ERR entries_added must be positive");
            }
            entries_added = Some(n as u64);
            i += 2;
        } else if is_word(&args[i], "maxdeletedid") && more {
            max_deleted = tri!(StreamId::parse_strict(&args[i + 1], 0).map_err(id_error));
            if id < max_deleted {
                return Reply::error(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                );
            }
            i += 2;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    let Some(s) = tri!(ctx.write_typed(key, Value::as_stream_mut)) else {
        return Reply::error(errors::NO_SUCH_KEY);
    };
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return Reply::error("ERR The ID specified in XSETID is smaller than the target stream top item");
        }
        if entries_added.is_some_and(|n| s.len() > n) {
            return Reply::error("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.set_last_id(id, entries_added, (!max_deleted.is_zero()).then_some(max_deleted));
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xsetid", key);
    Reply::OK
}
