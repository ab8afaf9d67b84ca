//! XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER / HELP (xgroupCommand): one
//! handler, as in Redis, because the subcommands share their option parsing and the checks of
//! the key and group, whose order decides which error a bad command gets.

use bytes::Bytes;

use crate::commands::streams::{id_error, is_word};
use crate::commands::{help_reply, int_arg, notify, subcommand_syntax_error, Ctx};
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;
use crate::types::stream::{Stream, StreamId};

const HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// The error for a group that does not exist, shared by the group commands.
pub(super) fn no_group(group: &[u8], key: &[u8]) -> Reply {
    Reply::error(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(crate::commands::streams::c_str(group)),
        String::from_utf8_lossy(crate::commands::streams::c_str(key))
    ))
}

/// ENTRIESREAD's value: -1 is "unknown" (None); other negatives are refused.
pub(super) fn entries_read_arg(arg: &[u8]) -> Result<Option<u64>, Reply> {
    let n = int_arg(arg)?;
    if n == -1 {
        Ok(None)
    } else if n < 0 {
        Err(Reply::error("ERR value for ENTRIESREAD must be positive or -1"))
    } else {
        Ok(Some(n as u64))
    }
}

pub(super) fn xgroup(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let sub = args[1].to_ascii_lowercase();
    let sub = sub.as_slice();
    if args.len() < 4 {
        return if args.len() == 2 && sub == b"help" {
            help_reply("XGROUP", HELP)
        } else {
            subcommand_syntax_error(args)
        };
    }
    let create = sub == b"create";
    let mut mkstream = false;
    let mut entries_read = None;
    let mut i = 5;
    while i < args.len() {
        if create && is_word(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || sub == b"setid") && is_word(&args[i], "entriesread") && i + 1 < args.len() {
            entries_read = tri!(entries_read_arg(&args[i + 1]));
            i += 2;
        } else {
            return subcommand_syntax_error(args);
        }
    }
    let key = &args[2];
    let group = args[3].as_ref();
    let exists = tri!(ctx.write_typed(key, Value::as_stream_mut)).is_some();
    if !mkstream {
        if !exists {
            return Reply::error(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use \
                 the MKSTREAM option to create an empty stream automatically.",
            );
        }
        let has_group = stream_of(ctx, key).is_some_and(|s| s.group(group).is_some());
        if !has_group && matches!(sub, b"setid" | b"createconsumer" | b"delconsumer") {
            return no_group(group, key);
        }
    }
    match sub {
        b"create" if args.len() <= 8 => create_group(ctx, args, exists, entries_read),
        b"setid" if args.len() == 5 || args.len() == 7 => {
            let Some(s) = stream_of(ctx, key) else { return no_group(group, key) };
            let id = if args[4].as_ref() == b"$" {
                s.last_id()
            } else {
                tri!(StreamId::parse(&args[4], 0).map_err(id_error))
            };
            let Some(g) = s.group_mut(group) else { return no_group(group, key) };
            g.last_id = id;
            g.entries_read = entries_read;
            ctx.dirty(1);
            ctx.notify(notify::STREAM, "xgroup-setid", key);
            Reply::OK
        }
        b"destroy" if args.len() == 4 => {
            let destroyed = stream_of(ctx, key).is_some_and(|s| s.destroy_group(group));
            if !destroyed {
                return Reply::Int(0);
            }
            ctx.dirty(1);
            ctx.notify(notify::STREAM, "xgroup-destroy", key);
            // Clients blocked in XREADGROUP on this group wake up to their NOGROUP error.
            let db = ctx.session.db;
            ctx.state.blocking.signal(db, key);
            Reply::Int(1)
        }
        b"createconsumer" if args.len() == 5 => {
            let now = ctx.now_ms as i64;
            let created =
                stream_of(ctx, key).and_then(|s| s.group_mut(group)).is_some_and(|g| g.create_consumer(&args[4], now));
            if created {
                ctx.dirty(1);
                ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
            }
            Reply::Int(created as i64)
        }
        b"delconsumer" if args.len() == 5 => {
            let pending =
                stream_of(ctx, key).and_then(|s| s.group_mut(group)).and_then(|g| g.delete_consumer(&args[4]));
            let Some(pending) = pending else { return Reply::Int(0) };
            ctx.dirty(1);
            ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
            Reply::Int(pending as i64)
        }
        _ => subcommand_syntax_error(args),
    }
}

/// The stream at `key`, already checked to be one (or absent).
fn stream_of<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Stream> {
    ctx.db().get_mut(key).and_then(|e| e.value_mut().as_stream_mut())
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]: the ID is checked before MKSTREAM
/// creates the key, so a bad ID creates nothing.
fn create_group(ctx: &mut Ctx, args: &[Bytes], exists: bool, entries_read: Option<u64>) -> Reply {
    let key = &args[2];
    let id = if args[4].as_ref() == b"$" {
        stream_of(ctx, key).map_or(StreamId::MIN, |s| s.last_id())
    } else {
        tri!(StreamId::parse_strict(&args[4], 0).map_err(id_error))
    };
    if !exists {
        ctx.db().set(key, Value::Stream(Box::new(Stream::new())), Ttl::Keep);
        let db = ctx.session.db;
        ctx.key_modified_in(db, key);
    }
    let Some(s) = stream_of(ctx, key) else {
        return Reply::error(crate::commands::errors::WRONGTYPE);
    };
    if s.create_group(&args[3], id, entries_read).is_none() {
        return Reply::error("BUSYGROUP Consumer Group name already exists");
    }
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-create", key);
    Reply::OK
}
