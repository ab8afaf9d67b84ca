//! The persistence commands: SAVE and BGSAVE (LASTSAVE and SHUTDOWN's save live with the server
//! commands).

use bytes::Bytes;

use super::{errors, Ctx};
use crate::cmd;
use crate::persistence::snapshot;
use crate::protocol::Reply;
use crate::server::command::*;

pub static TABLE: &[CommandSpec] = &[
    cmd!(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk",
        "O(N) where N is the total number of keys in all databases",
        save
    ),
    cmd!(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Asynchronously save the dataset to disk",
        "O(1)",
        bgsave
    ),
    cmd!(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Asynchronously rewrite the append-only file",
        "O(1)",
        bgrewriteaof
    ),
];

/// SAVE: the whole dataset, now, while every other client waits.
fn save(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.state.snapshots.child.is_some() {
        return Reply::error("ERR Background save already in progress");
    }
    match snapshot::save(ctx.state) {
        Ok(()) => Reply::OK,
        Err(_) => Reply::error("ERR"),
    }
}

/// BGSAVE [SCHEDULE]: a forked child saves; with SCHEDULE a save already running makes this one
/// start when it ends.
fn bgsave(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let schedule = match args.get(1) {
        None => false,
        Some(a) if args.len() == 2 && a.eq_ignore_ascii_case(b"schedule") => true,
        Some(_) => return Reply::error(errors::SYNTAX),
    };
    if ctx.state.snapshots.child.is_some() {
        if schedule {
            ctx.state.snapshots.scheduled = true;
            return Reply::status("Background saving scheduled");
        }
        return Reply::error("ERR Background save already in progress");
    }
    match snapshot::start_background_save(ctx.state) {
        Ok(_) => Reply::status("Background saving started"),
        Err(_) => Reply::error("ERR"),
    }
}

/// BGREWRITEAOF: a forked child writes the dataset as the AOF's new base. With a BGSAVE running it
/// waits for it; with the AOF off there is nothing to rewrite (this server keeps no AOF then).
fn bgrewriteaof(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let Some(aof) = ctx.state.aof.as_mut() else {
        return Reply::error("ERR Background append only file rewriting error: AOF is not enabled");
    };
    if aof.rewrite.is_some() {
        return Reply::error("ERR Background append only file rewriting already in progress");
    }
    if ctx.state.snapshots.child.is_some() {
        aof.rewrite_scheduled = true;
        return Reply::status("Background append only file rewriting scheduled");
    }
    match crate::persistence::appendonly::start_rewrite(ctx.state) {
        Ok(()) => Reply::status("Background append only file rewriting started"),
        // The log says why (start_rewrite); the client gets one text for every cause.
        Err(_) => Reply::error(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
        ),
    }
}
