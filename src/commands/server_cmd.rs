//! Server commands: DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN, MONITOR. Table rows,
//! replies and error texts follow Redis 7.0.15.

use bytes::Bytes;

use super::{errors, Ctx};
use crate::cmd;
use crate::protocol::Reply;
use crate::server::command::*;

pub static TABLE: &[CommandSpec] = &[
    CommandSpec {
        acl: &["keyspace"],
        ..cmd!(
            "dbsize",
            1,
            READONLY | FAST,
            (0, 0, 0),
            "server",
            "1.0.0",
            "Return the number of keys in the selected database",
            "O(1)",
            dbsize
        )
    },
    CommandSpec {
        acl: &["keyspace", "dangerous"],
        ..cmd!(
            "flushdb",
            -1,
            WRITE,
            (0, 0, 0),
            "server",
            "1.0.0",
            "Remove all keys from the current database",
            "O(N) where N is the number of keys in the selected database",
            flushdb
        )
    },
    CommandSpec {
        acl: &["keyspace", "dangerous"],
        ..cmd!(
            "flushall",
            -1,
            WRITE,
            (0, 0, 0),
            "server",
            "1.0.0",
            "Remove all keys from all databases",
            "O(N) where N is the total number of keys in all databases",
            flushall
        )
    },
    CommandSpec {
        acl: &["keyspace", "dangerous"],
        ..cmd!(
            "swapdb",
            3,
            WRITE | FAST,
            (0, 0, 0),
            "server",
            "4.0.0",
            "Swaps two Redis databases",
            "O(N) where N is the count of clients watching or blocking on keys from both databases.",
            swapdb
        )
    },
    cmd!(
        "time",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        "2.6.0",
        "Return the current server time",
        "O(1)",
        time
    ),
    CommandSpec {
        acl: &["admin", "dangerous"],
        ..cmd!(
            "lastsave",
            1,
            LOADING | STALE | FAST,
            (0, 0, 0),
            "server",
            "1.0.0",
            "Get the UNIX time stamp of the last successful save to disk",
            "O(1)",
            lastsave
        )
    },
    cmd!(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        super::shutdown::shutdown
    ),
    cmd!(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Listen for all requests received by the server in real time",
        "",
        monitor
    ),
];

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.db().len() as i64)
}

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC (getFlushCommandFlags): whether the keys are freed in
/// the background, by default as lazyfree-lazy-user-flush says.
fn flush_mode(ctx: &Ctx, args: &[Bytes]) -> Result<bool, Reply> {
    match args.len() {
        1 => Ok(ctx.state.config.bool(crate::ckey!("lazyfree-lazy-user-flush"))),
        2 if args[1].eq_ignore_ascii_case(b"async") => Ok(true),
        2 if args[1].eq_ignore_ascii_case(b"sync") => Ok(false),
        _ => Err(Reply::error(errors::SYNTAX)),
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let lazy = tri!(flush_mode(ctx, args));
    let db = ctx.session.db;
    let st = &mut *ctx.state;
    st.dbs[db].touch_all_watched(None, ctx.now_ms);
    // Readers blocked in XREADGROUP learn their streams are gone.
    crate::server::dataset::signal_deleted_streams(&mut st.blocking, db, &st.dbs[db], None);
    let old = st.dbs[db].take_keys();
    let n = old.len();
    if lazy {
        crate::server::lazyfree::free_databases(vec![old]);
    }
    crate::server::tracking::invalidate_all(st);
    // Each key removed counts as a change, the flush itself none (as Redis 7.0.15); it is replayed
    // even when there was nothing to remove.
    ctx.dirty(n as u64);
    ctx.force_propagation();
    Reply::OK
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let lazy = tri!(flush_mode(ctx, args));
    let old = ctx.state.empty_dataset();
    let n: usize = old.iter().map(|db| db.len()).sum();
    if lazy {
        crate::server::lazyfree::free_databases(old);
    }
    // Each key removed counts as a change (Redis 7.0.15 adds nothing for the flush itself); it is
    // replayed even when there was nothing to remove.
    ctx.dirty(n as u64);
    ctx.force_propagation();
    // flushAllDataAndResetRDB: a running save is stale, and with save points the (empty) dataset
    // is saved at once.
    crate::persistence::snapshot::kill_child(ctx.state);
    if crate::persistence::snapshot::save_points_configured(ctx.state) {
        let _ = crate::persistence::snapshot::save(ctx.state);
    }
    Reply::OK
}

fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // Redis reads both as C ints: a number outside that range is invalid, not out of range.
    let int = |b: &[u8]| crate::util::numbers::parse_i64(b).filter(|n| i32::try_from(*n).is_ok());
    let Some(a) = int(&args[1]) else {
        return Reply::error("ERR invalid first DB index");
    };
    let Some(b) = int(&args[2]) else {
        return Reply::error("ERR invalid second DB index");
    };
    let n = ctx.state.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Reply::error(errors::DB_INDEX);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        ctx.state.dbs[a].touch_all_watched(Some(&ctx.state.dbs[b]), ctx.now_ms);
        ctx.state.dbs[b].touch_all_watched(Some(&ctx.state.dbs[a]), ctx.now_ms);
        // The data moves; each database keeps its own watchers.
        ctx.state.dbs.swap(a, b);
        let wa = std::mem::take(&mut ctx.state.dbs[a].watched);
        let wb = std::mem::take(&mut ctx.state.dbs[b].watched);
        ctx.state.dbs[a].watched = wb;
        ctx.state.dbs[b].watched = wa;
        // Clients waiting in either database may find their keys now (scanDatabaseForReadyKeys).
        ctx.state.blocking.signal_db(a);
        ctx.state.blocking.signal_db(b);
    }
    ctx.dirty(1);
    Reply::OK
}

fn time(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let us = crate::util::time::unix_us();
    Reply::Array(vec![Reply::bulk((us / 1_000_000).to_string()), Reply::bulk((us % 1_000_000).to_string())])
}

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.state.lastsave)
}

fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_some() || ctx.session.in_exec {
        return Reply::error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if ctx.session.monitor {
        // Redis ignores MONITOR from a client already monitoring: no reply at all.
        return Reply::NoReply;
    }
    ctx.session.monitor = true;
    ctx.state.monitors.push(ctx.session.id);
    Reply::OK
}
