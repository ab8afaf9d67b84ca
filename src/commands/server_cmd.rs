//! Server commands: DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN, MONITOR, DEBUG,
//! SLOWLOG, LATENCY, MEMORY, COMMAND. Table rows, replies and error texts follow Redis 7.0.15.

use bytes::Bytes;

use super::table::*;
use super::{errors, metadata, Ctx};
use crate::protocol::Reply;
use crate::server::state::{SlowlogEntry, State};
use crate::server::Server;
use crate::{cmd, container};

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
        shutdown
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
    cmd!(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
        (0, 0, 0),
        "server",
        "1.0.0",
        "A container for debugging commands",
        "Depends on subcommand.",
        debug
    ),
    container!("slowlog", "server", "2.2.12", "A container for slow log commands", SLOWLOG_SUBS),
    container!("latency", "server", "2.8.13", "A container for latency diagnostics commands", LATENCY_SUBS),
    container!("memory", "server", "4.0.0", "A container for memory diagnostics commands", MEMORY_SUBS),
    CommandSpec {
        name: "command",
        arity: -1,
        flags: LOADING | STALE | SENTINEL,
        keys: (0, 0, 0),
        group: "server",
        since: "2.8.13",
        summary: "Get array of Redis command details",
        complexity: "O(N) where N is the total number of Redis commands",
        acl: &["connection"],
        write_keys: None,
        keys_fn: None,
        handler: Some(command_info_all),
        subcommands: COMMAND_SUBS,
    },
];

static SLOWLOG_SUBS: &[CommandSpec] = &[
    cmd!(
        "get",
        -2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Get the slow log's entries",
        "O(N) where N is the number of entries returned",
        slowlog_get
    ),
    cmd!(
        "len",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Get the slow log's length",
        "O(1)",
        slowlog_len
    ),
    cmd!(
        "reset",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Clear all entries from the slow log",
        "O(N) where N is the number of entries in the slowlog",
        slowlog_reset
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        slowlog_help
    ),
];

static LATENCY_SUBS: &[CommandSpec] = &[
    cmd!(
        "latest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return the latest latency samples for all events.",
        "O(1)",
        latency_latest
    ),
    cmd!(
        "history",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return timestamp-latency samples for the event.",
        "O(1)",
        latency_history
    ),
    cmd!(
        "reset",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Reset latency data for one or more events.",
        "O(1)",
        latency_reset
    ),
    cmd!(
        "doctor",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return a human readable latency analysis report.",
        "O(1)",
        latency_doctor
    ),
    cmd!(
        "graph",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return a latency graph for the event.",
        "O(1)",
        latency_graph
    ),
    cmd!(
        "histogram",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Return the cumulative distribution of latencies of a subset of commands or all.",
        "O(N) where N is the number of commands with latency information being retrieved.",
        latency_histogram
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Show helpful text about the different subcommands.",
        "O(1)",
        latency_help
    ),
];

static MEMORY_SUBS: &[CommandSpec] = &[
    CommandSpec {
        name: "usage",
        arity: -3,
        flags: READONLY,
        keys: (2, 2, 1),
        group: "server",
        since: "4.0.0",
        summary: "Estimate the memory usage of a key",
        complexity: "O(N) where N is the number of samples.",
        acl: &[],
        write_keys: None,
        keys_fn: None,
        handler: Some(memory_usage),
        subcommands: &[],
    },
    cmd!("doctor", 2, 0, (0, 0, 0), "server", "4.0.0", "Outputs memory problems report", "O(1)", memory_doctor),
    cmd!(
        "malloc-stats",
        2,
        0,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Show allocator internal stats",
        "Depends on how much memory is allocated, could be slow",
        memory_malloc_stats
    ),
    cmd!(
        "purge",
        2,
        0,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Ask the allocator to release memory",
        "Depends on how much memory is allocated, could be slow",
        memory_purge
    ),
    cmd!("stats", 2, 0, (0, 0, 0), "server", "4.0.0", "Show memory usage details", "O(1)", memory_stats),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        memory_help
    ),
];

/// COMMAND's subcommands are in the @connection category as well.
macro_rules! command_sub {
    ($name:literal, $arity:expr, $since:literal, $summary:literal, $cx:literal, $handler:expr) => {
        CommandSpec {
            acl: &["connection"],
            ..cmd!($name, $arity, LOADING | STALE, (0, 0, 0), "server", $since, $summary, $cx, $handler)
        }
    };
}

static COMMAND_SUBS: &[CommandSpec] = &[
    command_sub!("count", 2, "2.8.13", "Get total number of Redis commands", "O(1)", command_count),
    command_sub!(
        "info",
        -2,
        "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
        "O(N) where N is the number of commands to look up",
        command_info
    ),
    command_sub!(
        "docs",
        -2,
        "7.0.0",
        "Get array of specific Redis command documentation",
        "O(N) where N is the number of commands to look up",
        command_docs
    ),
    command_sub!(
        "list",
        -2,
        "7.0.0",
        "Get an array of Redis command names",
        "O(N) where N is the total number of Redis commands",
        command_list
    ),
    command_sub!(
        "getkeys",
        -4,
        "2.8.13",
        "Extract keys given a full Redis command",
        "O(N) where N is the number of arguments to the command",
        command_getkeys
    ),
    command_sub!(
        "getkeysandflags",
        -4,
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
        "O(N) where N is the number of arguments to the command",
        command_getkeysandflags
    ),
    command_sub!("help", 2, "5.0.0", "Show helpful text about the different subcommands", "O(1)", command_help),
];

/// addReplySubcommandSyntaxError: the subcommand as typed, the container upper-cased.
fn subcommand_syntax_error(args: &[Bytes]) -> Reply {
    let sub: String = String::from_utf8_lossy(&args[1]).chars().take(128).collect();
    Reply::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        String::from_utf8_lossy(&args[0]).to_ascii_uppercase()
    ))
}

/// C's strtod(s, NULL): the longest leading prefix that is a number, 0 when there is none.
fn strtod(b: &[u8]) -> f64 {
    // A longer number is no different to sleep on; the cap keeps the prefix search cheap.
    let s = String::from_utf8_lossy(&b[..b.len().min(64)]);
    let s = s.trim_start();
    let mut best = 0.0;
    for end in (1..=s.len()).rev() {
        if !s.is_char_boundary(end) {
            continue;
        }
        let p = &s[..end];
        // Rust accepts "inf"/"nan" words like strtod does; it rejects a bare exponent marker.
        if let Ok(v) = p.parse::<f64>() {
            best = v;
            break;
        }
    }
    best
}

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.db().len() as i64)
}

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC. Freeing is synchronous either way: the reply is the same.
fn flush_mode(args: &[Bytes]) -> Result<(), Reply> {
    match args.len() {
        1 => Ok(()),
        2 if args[1].eq_ignore_ascii_case(b"async") || args[1].eq_ignore_ascii_case(b"sync") => Ok(()),
        _ => Err(Reply::error(errors::SYNTAX)),
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    tri!(flush_mode(args));
    let db = ctx.db();
    db.touch_all_watched(None);
    let n = db.clear();
    // Each key removed counts as a change, the flush itself none (as Redis 7.0.15); it is replayed
    // even when there was nothing to remove.
    ctx.dirty(n as u64);
    ctx.force_propagation();
    Reply::OK
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    tri!(flush_mode(args));
    let mut n = 0;
    for db in ctx.state.dbs.iter_mut() {
        db.touch_all_watched(None);
        n += db.clear();
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
        ctx.state.dbs[a].touch_all_watched(Some(&ctx.state.dbs[b]));
        ctx.state.dbs[b].touch_all_watched(Some(&ctx.state.dbs[a]));
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

fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut nosave, mut save, mut now, mut force, mut abort) = (false, false, false, false, false);
    for a in &args[1..] {
        match a.to_ascii_lowercase().as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" => now = true,
            b"force" => force = true,
            b"abort" => abort = true,
            _ => return Reply::error(errors::SYNTAX),
        }
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return Reply::error(errors::SYNTAX);
    }
    if abort {
        return crate::replication::master::abort_shutdown(ctx.server, ctx.state);
    }
    if !now && ctx.session.in_exec {
        return Reply::error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    }
    let how = ShutdownFlags { nosave, save, force };
    // Replicas that have not acknowledged every write get shutdown-timeout seconds to catch up,
    // with writes paused, so none of them has to resync from scratch afterwards.
    if !now && crate::replication::master::wait_before_shutdown(ctx.state, ctx.session.id, how) {
        return ctx.block(Vec::new(), 0, super::blocking::BlockKind::Shutdown, Reply::NoReply);
    }
    match finish_shutdown(ctx.server, ctx.state, how) {
        Ok(()) => {
            ctx.session.close_after_reply = true;
            Reply::NoReply
        }
        Err(e) => e,
    }
}

/// SHUTDOWN's options that decide how it ends.
#[derive(Clone, Copy, Debug)]
pub struct ShutdownFlags {
    pub nosave: bool,
    pub save: bool,
    pub force: bool,
}

/// The end of a shutdown (finishShutdown): the save its flags ask for, then the exit. Err: the
/// save failed and the server keeps running.
pub fn finish_shutdown(server: &Server, st: &mut State, how: ShutdownFlags) -> Result<(), Reply> {
    // A sentinel has no dataset: its SHUTDOWN never saves.
    let how = if server.sentinel_mode { ShutdownFlags { nosave: true, save: false, force: how.force } } else { how };
    let save_points = crate::persistence::snapshot::save_points_configured(st);
    if how.save || (save_points && !how.nosave) {
        if crate::persistence::snapshot::save_for_shutdown(st).is_err() {
            if !how.force {
                tracing::warn!("Errors trying to shut down the server. Check the logs for more information.");
                return Err(Reply::error("ERR Errors trying to SHUTDOWN. Check logs."));
            }
            tracing::warn!("Error trying to save the DB. Exit anyway.");
        }
    } else {
        crate::persistence::snapshot::kill_child(st);
    }
    st.shutdown_saved = true;
    st.shutdown_requested = true;
    server.shutdown.notify_one();
    Ok(())
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

/// Redis's islocalClient: a unix socket or a loopback peer.
fn is_local_client(ctx: &Ctx) -> bool {
    if ctx.state.clients.get(&ctx.session.id).is_some_and(|c| c.is_unix) {
        return true;
    }
    let ip = ctx.session.addr.rsplit_once(':').map(|(ip, _)| ip).unwrap_or("");
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    ip == "127.0.0.1" || ip == "::1"
}

/// DEBUG is a protected command: `enable-debug-command` must allow it (yes, or local for a local
/// client), as Redis checks before running it.
pub fn debug_allowed(ctx: &Ctx) -> bool {
    match ctx.state.config.str("enable-debug-command") {
        "yes" => true,
        "local" => is_local_client(ctx),
        _ => false,
    }
}

pub const DEBUG_NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

fn debug(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let sub = args[1].to_ascii_lowercase();
    match (sub.as_slice(), args.len()) {
        (b"sleep", 3) => {
            // Like Redis: strtod, so a non-number sleeps 0 seconds.
            let secs = strtod(&args[2]);
            // Holding the keyspace while sleeping is the point: DEBUG SLEEP blocks the server.
            if secs > 0.0 {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            }
            Reply::OK
        }
        (b"set-active-expire", 3) => {
            // Like Redis: atoi, so a non-number disables active expiry.
            ctx.state.active_expire_enabled = crate::util::numbers::c_atoll(&args[2]) != 0;
            Reply::OK
        }
        (b"log", 3) => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2]));
            Reply::OK
        }
        (b"object", 3) => {
            // Redis looks the key up in the dict directly: an expired key not yet deleted is shown.
            let db = ctx.session.db;
            let Some(e) = ctx.state.dbs[db].get_raw(&args[2]) else {
                return Reply::error(errors::NO_SUCH_KEY);
            };
            let shared = match e.value() {
                crate::keyspace::Value::Int(n) => (0..10_000).contains(n) && shared_integers_allowed(ctx),
                _ => false,
            };
            let refcount = if shared { i32::MAX as i64 } else { 1 };
            Reply::Status(
                format!(
                    "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                    e as *const _,
                    e.value().encoding(),
                    crate::persistence::rdb::serialized_len(e.value(), ctx.state.config.bool("rdbcompression")),
                    e.access() & 0xFFFFFF,
                    crate::keyspace::access::idle_secs(e.access())
                )
                .into(),
            )
        }
        (b"reload", _) => debug_reload(ctx, &args[2..]),
        (b"help", 2) => super::help_reply(
            "DEBUG",
            &[
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about the `key` and associated value.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Available <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception and kill the server.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
                "    Examples:",
                "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                "      the database.",
                "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                "      existing RDB file.",
                "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                "      file to the database.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        ),
        _ => subcommand_syntax_error(args),
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the keyspace, load the file back.
fn debug_reload(ctx: &mut Ctx, opts: &[Bytes]) -> Reply {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for o in opts {
        match o.to_ascii_lowercase().as_slice() {
            b"merge" => merge = true,
            b"noflush" => flush = false,
            b"nosave" => save = false,
            _ => return Reply::error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."),
        }
    }
    if save && crate::persistence::snapshot::save(ctx.state).is_err() {
        return Reply::error("ERR");
    }
    if flush {
        for db in ctx.state.dbs.iter_mut() {
            db.touch_all_watched(None);
            db.clear();
        }
    }
    let path = crate::persistence::snapshot::rdb_path(ctx.state);
    if let Err(e) = crate::persistence::load::load_locked(ctx.state, &path, merge) {
        tracing::warn!("Error trying to load the RDB dump: {e}");
        return Reply::error("ERR Error trying to load the RDB dump, check server logs.");
    }
    tracing::info!("DB reloaded by DEBUG RELOAD");
    Reply::OK
}

/// Redis shares the integers 0..9999 unless maxmemory evicts by LRU/LFU.
fn shared_integers_allowed(ctx: &Ctx) -> bool {
    let policy = ctx.state.config.str("maxmemory-policy");
    ctx.state.config.int("maxmemory") == 0 || !(policy.contains("lru") || policy.contains("lfu"))
}

/// The positions of `args` that Redis replaces by "(redacted)" in SLOWLOG and MONITOR: AUTH's
/// credentials, HELLO's AUTH credentials and the values of sensitive directives in CONFIG SET,
/// exactly when the command itself would redact them (after its own argument checks).
pub fn redacted_positions(args: &[Bytes]) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(name) = args.first() else { return out };
    if name.eq_ignore_ascii_case(b"auth") {
        if args.len() == 2 || args.len() == 3 {
            out.extend(1..args.len());
        }
    } else if name.eq_ignore_ascii_case(b"hello") {
        if args.len() >= 2 && !matches!(crate::util::numbers::parse_i64(&args[1]), Some(2..=3)) {
            return out;
        }
        let mut j = 2;
        while j < args.len() {
            let more = args.len() - 1 - j;
            if args[j].eq_ignore_ascii_case(b"auth") && more >= 2 {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else if args[j].eq_ignore_ascii_case(b"setname") && more >= 1 {
                j += 2;
            } else {
                break;
            }
        }
    } else if name.eq_ignore_ascii_case(b"config")
        && args.len() >= 4
        && args.len() % 2 == 0
        && args[1].eq_ignore_ascii_case(b"set")
    {
        for pair in args[2..].chunks(2).enumerate() {
            let (i, kv) = pair;
            let Some((_, spec)) = crate::config::table::lookup(&String::from_utf8_lossy(&kv[0])) else {
                break;
            };
            if spec.has(crate::config::table::SENSITIVE) {
                out.push(3 + 2 * i);
            }
        }
    }
    out
}

pub fn slowlog_push(ctx: &mut Ctx, args: &[Bytes], usec: u64) {
    let max_len = ctx.state.hot.slowlog_max_len;
    let redacted = redacted_positions(args);
    // Like Redis: at most 32 arguments and 128 bytes per argument are kept.
    let mut kept: Vec<Bytes> = Vec::with_capacity(args.len().min(32));
    for (i, a) in args.iter().enumerate() {
        if i == 31 && args.len() > 32 {
            kept.push(Bytes::from(format!("... ({} more arguments)", args.len() - 31)));
            break;
        }
        if redacted.contains(&i) {
            kept.push(Bytes::from_static(b"(redacted)"));
        } else if a.len() > 128 {
            let mut v = a[..128].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
            kept.push(Bytes::from(v));
        } else {
            kept.push(a.clone());
        }
    }
    let name = ctx.state.clients.get(&ctx.session.id).and_then(|c| c.name.clone());
    let entry = SlowlogEntry {
        id: ctx.state.slowlog_next_id,
        time: crate::util::time::unix_secs(),
        duration_us: usec,
        args: kept,
        peer: ctx.session.addr.clone(),
        name: name.map(|n| String::from_utf8_lossy(&n).into_owned()).unwrap_or_default(),
    };
    ctx.state.slowlog_next_id += 1;
    ctx.state.slowlog.push_front(entry);
    while ctx.state.slowlog.len() > max_len {
        ctx.state.slowlog.pop_back();
    }
}

fn slowlog_get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let count = match args.get(2) {
        Some(a) => match crate::util::numbers::parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => return Reply::error("ERR count should be greater than or equal to -1"),
        },
        None => 10,
    };
    let items = ctx
        .state
        .slowlog
        .iter()
        .take(count)
        .map(|e| {
            Reply::Array(vec![
                Reply::Int(e.id as i64),
                Reply::Int(e.time),
                Reply::Int(e.duration_us as i64),
                Reply::array_of_bulks(e.args.iter()),
                Reply::bulk(&e.peer),
                Reply::bulk(&e.name),
            ])
        })
        .collect();
    Reply::Array(items)
}

fn slowlog_len(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.state.slowlog.len() as i64)
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.state.slowlog.clear();
    Reply::OK
}

fn slowlog_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
}

fn latency_latest(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let items = ctx
        .state
        .latency
        .iter()
        .filter_map(|(name, ev)| {
            let (t, ms) = *ev.samples.back()?;
            Some(Reply::Array(vec![
                Reply::bulk(*name),
                Reply::Int(t),
                Reply::Int(ms as i64),
                Reply::Int(ev.max as i64),
            ]))
        })
        .collect();
    Reply::Array(items)
}

fn latency_event<'a>(ctx: &'a Ctx, name: &[u8]) -> Option<&'a crate::server::state::LatencyEvent> {
    ctx.state.latency.iter().find(|(n, _)| n.as_bytes() == name).map(|(_, ev)| ev)
}

fn latency_history(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let items = latency_event(ctx, &args[2])
        .map(|ev| ev.samples.iter().map(|(t, ms)| Reply::Array(vec![Reply::Int(*t), Reply::Int(*ms as i64)])).collect())
        .unwrap_or_default();
    Reply::Array(items)
}

fn latency_reset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        let n = ctx.state.latency.len();
        ctx.state.latency.clear();
        return Reply::Int(n as i64);
    }
    let mut n = 0;
    for a in &args[2..] {
        let key = ctx.state.latency.keys().find(|k| k.as_bytes() == &a[..]).copied();
        if let Some(k) = key {
            ctx.state.latency.remove(k);
            n += 1;
        }
    }
    Reply::Int(n)
}

fn latency_doctor(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let threshold = ctx.state.config.int("latency-monitor-threshold");
    let text = if threshold == 0 && ctx.state.latency.is_empty() {
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string()
    } else if ctx.state.latency.is_empty() {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".to_string()
    } else {
        let mut names: Vec<&&str> = ctx.state.latency.keys().collect();
        names.sort();
        let mut s = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, name) in names.into_iter().enumerate() {
            let ev = &ctx.state.latency[*name];
            let n = ev.samples.len().max(1) as u64;
            let avg = ev.samples.iter().map(|(_, ms)| ms).sum::<u64>() / n;
            s.push_str(&format!(
                "{}. {name}: {} latency spikes (average {avg}ms, mean deviation 0ms, period 0 sec). Worst all time event {}ms.\n",
                i + 1,
                ev.samples.len(),
                ev.max
            ));
        }
        s.push_str("\nI have a few advices for you:\n\n- Check your system for other processes that may be using CPU or performing I/O.\n");
        s
    };
    Reply::Verbatim("txt", text.into_bytes())
}

/// Redis's sparkline.c with SPARKLINE_FILL: `rows` rows of `_o#|` scaled between the smallest
/// and largest sample, a blank line, then each sample's label written vertically.
fn sparkline(samples: &[(u64, String)], columns: usize, rows: usize) -> String {
    const FILL: &[u8] = b"_o#";
    let min = samples.iter().map(|s| s.0).min().unwrap_or(0) as f64;
    let max = samples.iter().map(|s| s.0).max().unwrap_or(0) as f64;
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (FILL.len() * rows) as i64;
    let mut out = String::new();
    for (n, chunk) in samples.chunks(columns).enumerate() {
        if n != 0 {
            out.push('\n');
        }
        let mut row = 0;
        loop {
            let mut any = false;
            let mut chars = vec![b' '; chunk.len()];
            for (j, (value, label)) in chunk.iter().enumerate() {
                let relval = *value as f64 - min;
                let step = (((relval * steps as f64) / relmax) as i64).clamp(0, steps - 1);
                if row < rows {
                    let idx = step - ((rows - row - 1) * FILL.len()) as i64;
                    any = true;
                    if (0..FILL.len() as i64).contains(&idx) {
                        chars[j] = FILL[idx as usize];
                    } else if idx >= FILL.len() as i64 {
                        chars[j] = b'|';
                    }
                } else if row - rows < 1 {
                    // The blank line between the graph and the labels.
                    any = true;
                    break;
                } else if let Some(c) = label.as_bytes().get(row - rows - 1) {
                    any = true;
                    chars[j] = *c;
                }
            }
            if !any {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&chars));
            out.push('\n');
        }
    }
    out
}

/// LATENCY GRAPH, as latencyCommandGenSparkeline draws it.
fn latency_graph(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(ev) = latency_event(ctx, &args[2]) else {
        return Reply::error(format!("ERR No samples available for event '{}'", String::from_utf8_lossy(&args[2])));
    };
    let now = crate::util::time::unix_secs();
    let samples: Vec<(u64, String)> = ev
        .samples
        .iter()
        .map(|(t, ms)| {
            let elapsed = now - t;
            let label = if elapsed < 60 {
                format!("{elapsed}s")
            } else if elapsed < 3600 {
                format!("{}m", elapsed / 60)
            } else if elapsed < 86400 {
                format!("{}h", elapsed / 3600)
            } else {
                format!("{}d", elapsed / 86400)
            };
            (*ms, label)
        })
        .collect();
    let min = samples.iter().map(|s| s.0).min().unwrap_or(0);
    let max = samples.iter().map(|s| s.0).max().unwrap_or(0);
    let mut out = format!(
        "{} - high {max} ms, low {min} ms (all time high {} ms)\n{}\n",
        String::from_utf8_lossy(&args[2]),
        ev.max,
        "-".repeat(80)
    );
    out.push_str(&sparkline(&samples, 80, 4));
    Reply::Verbatim("txt", out.into_bytes())
}

/// How many recorded samples are at most `v` microseconds, from the histogram's percentiles.
fn count_at_most(h: &crate::util::histogram::Histogram, v: u64) -> u64 {
    let total = h.total();
    // The k-th smallest sample's bucket grows with k: binary search the largest k within `v`.
    let kth = |k: u64| h.percentile((k as f64 - 0.5) * 100.0 / total as f64);
    let (mut lo, mut hi) = (0u64, total);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if kth(mid) <= v as f64 {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// One command's LATENCY HISTOGRAM entry: power-of-two buckets from 1 µs, as Redis reports its
/// HdrHistogram (the bucket ends are hdr's highest equivalent values of 1024·2ⁿ ns, in µs).
fn command_cdf(stat: &crate::server::state::CommandStat) -> Reply {
    let h = &stat.latency;
    let mut buckets = Vec::new();
    let mut previous = 0;
    let mut ns: u64 = 1024;
    while previous < h.total() && ns < 1 << 40 {
        // hdr (2 significant digits): values from 2^k on are grouped by 2^(k-7).
        let magnitude = 63 - ns.leading_zeros() as u64;
        let highest_ns = ns + (1u64 << magnitude.saturating_sub(7)) - 1;
        let micros = highest_ns / 1000;
        let cumulative = count_at_most(h, micros);
        if cumulative > previous {
            buckets.push((Reply::Int(micros as i64), Reply::Int(cumulative as i64)));
        }
        previous = previous.max(cumulative);
        ns <<= 1;
    }
    Reply::Map(vec![
        (Reply::bulk("calls"), Reply::Int(stat.calls as i64)),
        (Reply::bulk("histogram_usec"), Reply::Map(buckets)),
    ])
}

fn latency_histogram(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let stats = &ctx.state.stats.commands;
    let with_data = |name: &str| stats.values().find(|c| c.name == name && c.latency.total() > 0);
    if args.len() == 2 {
        let mut all: Vec<&crate::server::state::CommandStat> =
            stats.values().filter(|c| c.latency.total() > 0).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        return Reply::Map(all.into_iter().map(|c| (Reply::bulk(&c.name), command_cdf(c))).collect());
    }
    // Like Redis: every name asked for (repeats too), a container with its subcommands.
    let mut out = Vec::new();
    for a in &args[2..] {
        let Some((spec, full)) = lookup_fullname(ctx, a) else { continue };
        let names = std::iter::once(full.clone()).chain(spec.subcommands.iter().map(|s| format!("{full}|{}", s.name)));
        for name in names {
            if let Some(c) = with_data(&name) {
                out.push((Reply::bulk(&c.name), command_cdf(c)));
            }
        }
    }
    Reply::Map(out)
}

fn latency_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
}

/// Bytes a key costs: the entry in its table slot plus key and value allocations.
/// What a key costs: its allocation (header, value, key), what the value owns beyond it, and its
/// 8-byte slot plus control byte in the table.
pub fn entry_memory(e: &crate::keyspace::Entry) -> usize {
    e.allocation_size() + e.value().heap_size() + std::mem::size_of::<crate::keyspace::Entry>() + 1
}

fn memory_usage(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut i = 3;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"samples") && i + 1 < args.len() {
            let n = tri!(super::int_arg(&args[i + 1]));
            if n < 0 {
                return Reply::error(errors::SYNTAX);
            }
            i += 2;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    let db = ctx.session.db;
    ctx.expire_if_needed(db, &args[2]);
    match ctx.state.dbs[db].get_raw(&args[2]) {
        Some(e) => Reply::Int(entry_memory(e) as i64),
        None => Reply::Nil,
    }
}

fn memory_doctor(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let used = crate::alloc::allocated();
    let text = if used < 5 * 1024 * 1024 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    Reply::Verbatim("txt", text.as_bytes().to_vec())
}

fn memory_malloc_stats(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    // Redis's answer when it is not built with jemalloc.
    Reply::Verbatim("txt", b"Stats not supported for the current allocator".to_vec())
}

fn memory_purge(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::OK
}

fn memory_stats(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let used = crate::alloc::allocated() as i64;
    let peak = (crate::alloc::peak() as i64).max(used);
    let startup = crate::alloc::startup() as i64;
    let rss = crate::util::sys::rss_bytes() as i64;
    let clients_normal = super::info::clients_memory(ctx.state) as i64;
    let keys: i64 = ctx.state.dbs.iter().map(|d| d.len() as i64).sum();
    // The same figure as INFO's used_memory_overhead.
    let overhead = super::info::memory_overhead(ctx.state) as i64;
    let dataset = (used - overhead).max(0);
    // Redis computes these ratios in single precision and prints them with %.17g.
    let ratio = |a: i64, b: i64| Reply::Double(if b > 0 { (a as f32 / b as f32) as f64 } else { 0.0 });
    let pct = |a: i64, b: i64| Reply::Double(if b > 0 { (a as f32 * 100.0 / b as f32) as f64 } else { 0.0 });
    let mut f: Vec<(Reply, Reply)> = vec![
        (Reply::bulk("peak.allocated"), Reply::Int(peak)),
        (Reply::bulk("total.allocated"), Reply::Int(used)),
        (Reply::bulk("startup.allocated"), Reply::Int(startup)),
        (Reply::bulk("replication.backlog"), Reply::Int(0)),
        (Reply::bulk("clients.slaves"), Reply::Int(0)),
        (Reply::bulk("clients.normal"), Reply::Int(clients_normal)),
        (Reply::bulk("cluster.links"), Reply::Int(0)),
        (Reply::bulk("aof.buffer"), Reply::Int(0)),
        (Reply::bulk("lua.caches"), Reply::Int(0)),
        (Reply::bulk("functions.caches"), Reply::Int(0)),
    ];
    for (i, db) in ctx.state.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        // The keyspace's structure is one table here, expiries living in the entries: the
        // expiry fields are what the expires table costs in Redis.
        let expires = db.volatile_len() as i64 * 8;
        f.push((
            Reply::bulk(format!("db.{i}")),
            Reply::Map(vec![
                (Reply::bulk("overhead.hashtable.main"), Reply::Int(db.overhead() as i64 - expires)),
                (Reply::bulk("overhead.hashtable.expires"), Reply::Int(expires)),
                (Reply::bulk("overhead.hashtable.slot-to-keys"), Reply::Int(0)),
            ]),
        ));
    }
    f.extend([
        (Reply::bulk("overhead.total"), Reply::Int(overhead)),
        (Reply::bulk("keys.count"), Reply::Int(keys)),
        (Reply::bulk("keys.bytes-per-key"), Reply::Int(if keys > 0 { (used - startup) / keys } else { 0 })),
        (Reply::bulk("dataset.bytes"), Reply::Int(dataset)),
        (Reply::bulk("dataset.percentage"), pct(dataset, used - startup)),
        (Reply::bulk("peak.percentage"), pct(used, peak)),
        (Reply::bulk("allocator.allocated"), Reply::Int(used)),
        (Reply::bulk("allocator.active"), Reply::Int(used)),
        (Reply::bulk("allocator.resident"), Reply::Int(rss)),
        (Reply::bulk("allocator-fragmentation.ratio"), ratio(1, 1)),
        (Reply::bulk("allocator-fragmentation.bytes"), Reply::Int(0)),
        (Reply::bulk("allocator-rss.ratio"), ratio(rss, used)),
        (Reply::bulk("allocator-rss.bytes"), Reply::Int(rss - used)),
        (Reply::bulk("rss-overhead.ratio"), ratio(1, 1)),
        (Reply::bulk("rss-overhead.bytes"), Reply::Int(0)),
        (Reply::bulk("fragmentation"), ratio(rss, used)),
        (Reply::bulk("fragmentation.bytes"), Reply::Int(rss - used)),
    ]);
    Reply::Map(f)
}

fn memory_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
}

fn command_count(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.server.commands.all().count() as i64)
}

/// Key-spec flags as this table can tell them: a read command reads, a write updates.
fn key_flags(spec: &CommandSpec) -> Vec<&'static str> {
    if spec.has(WRITE) {
        vec!["RW", "access", "update"]
    } else {
        vec!["RO", "access"]
    }
}

/// Key specs generated from the table, for a command Redis 7.0.15 lacks.
fn key_specs(spec: &CommandSpec) -> Reply {
    let (first, last, step) = spec.keys;
    if first <= 0 {
        return Reply::Set(vec![]);
    }
    Reply::Set(vec![Reply::Map(vec![
        (Reply::bulk("flags"), Reply::Set(key_flags(spec).into_iter().map(Reply::status).collect())),
        (
            Reply::bulk("begin_search"),
            Reply::Map(vec![
                (Reply::bulk("type"), Reply::bulk("index")),
                (Reply::bulk("spec"), Reply::Map(vec![(Reply::bulk("index"), Reply::Int(first as i64))])),
            ]),
        ),
        (
            Reply::bulk("find_keys"),
            Reply::Map(vec![
                (Reply::bulk("type"), Reply::bulk("range")),
                (
                    Reply::bulk("spec"),
                    Reply::Map(vec![
                        (
                            Reply::bulk("lastkey"),
                            Reply::Int(if last < 0 { last as i64 } else { (last - first) as i64 }),
                        ),
                        (Reply::bulk("keystep"), Reply::Int(step as i64)),
                        (Reply::bulk("limit"), Reply::Int(0)),
                    ]),
                ),
            ]),
        ),
    ])])
}

/// COMMAND INFO's tips: Redis 7.0.15's; none for a command it lacks.
fn tips(fullname: &str) -> Reply {
    metadata::get().tips(fullname).cloned().unwrap_or(Reply::Set(vec![]))
}

/// COMMAND INFO's flags: Redis hides `may_replicate` and `sentinel` on purpose.
fn visible_flags(spec: &CommandSpec) -> Vec<&'static str> {
    spec.flag_names().into_iter().filter(|f| !matches!(*f, "sentinel" | "may_replicate")).collect()
}

fn info_entry(spec: &CommandSpec, fullname: &str) -> Reply {
    let (first, last, step) = spec.keys;
    Reply::Array(vec![
        Reply::bulk(fullname),
        Reply::Int(spec.arity as i64),
        Reply::Set(visible_flags(spec).into_iter().map(Reply::status).collect()),
        Reply::Int(first as i64),
        Reply::Int(last as i64),
        Reply::Int(step as i64),
        Reply::Set(spec.acl_categories().into_iter().map(|c| Reply::Status(c.into())).collect()),
        tips(fullname),
        metadata::get().key_specs(fullname).cloned().unwrap_or_else(|| key_specs(spec)),
        // Redis: an empty set without subcommands, else an array.
        if spec.subcommands.is_empty() {
            Reply::Set(vec![])
        } else {
            Reply::Array(spec.subcommands.iter().map(|s| info_entry(s, &format!("{}|{}", fullname, s.name))).collect())
        },
    ])
}

fn command_info_all(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 1 {
        return Reply::error(format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(&args[1])
        ));
    }
    Reply::Array(
        ctx.server.commands.all().map(|(name, spec)| info_entry(spec, &String::from_utf8_lossy(name))).collect(),
    )
}

fn command_info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return command_info_all(ctx, &args[..1]);
    }
    Reply::Array(
        args[2..]
            .iter()
            .map(|n| lookup_fullname(ctx, n).map(|(s, full)| info_entry(s, &full)).unwrap_or(Reply::Nil))
            .collect(),
    )
}

/// Finds `name` or `container|sub`.
fn lookup_fullname(ctx: &Ctx, name: &[u8]) -> Option<(&'static CommandSpec, String)> {
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.splitn(2, |c| *c == b'|');
    let top = ctx.server.commands.get(parts.next()?)?;
    match parts.next() {
        None => Some((top, String::from_utf8_lossy(&lower).into_owned())),
        Some(sub) => {
            let s = top.subcommands.iter().find(|s| s.name.as_bytes() == sub)?;
            Some((s, String::from_utf8_lossy(&lower).into_owned()))
        }
    }
}

/// COMMAND DOCS's entry: Redis 7.0.15's, its subcommands narrowed to the ones we implement; one
/// generated from the table for a command Redis 7.0.15 lacks.
fn doc_entry(spec: &CommandSpec, fullname: &str) -> Reply {
    let subcommands = || {
        let subs = spec
            .subcommands
            .iter()
            .map(|s| {
                let full = format!("{fullname}|{}", s.name);
                (Reply::bulk(&full), doc_entry(s, &full))
            })
            .collect();
        (Reply::bulk("subcommands"), Reply::Map(subs))
    };
    if let Some(fields) = metadata::get().doc(fullname) {
        return Reply::Map(
            fields
                .iter()
                .map(|(k, v)| if metadata::text(k) == "subcommands" { subcommands() } else { (k.clone(), v.clone()) })
                .collect(),
        );
    }
    let mut fields = vec![
        (Reply::bulk("summary"), Reply::bulk(spec.summary)),
        (Reply::bulk("since"), Reply::bulk(spec.since)),
        (Reply::bulk("group"), Reply::bulk(spec.group)),
    ];
    if !spec.complexity.is_empty() {
        fields.push((Reply::bulk("complexity"), Reply::bulk(spec.complexity)));
    }
    if !spec.subcommands.is_empty() {
        fields.push(subcommands());
    }
    Reply::Map(fields)
}

fn command_docs(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return Reply::Map(
            ctx.server
                .commands
                .all()
                .map(|(name, spec)| {
                    let name = String::from_utf8_lossy(name);
                    (Reply::bulk(name.as_bytes()), doc_entry(spec, &name))
                })
                .collect(),
        );
    }
    Reply::Map(
        args[2..]
            .iter()
            .filter_map(|n| lookup_fullname(ctx, n).map(|(s, full)| (Reply::bulk(&full), doc_entry(s, &full))))
            .collect(),
    )
}

fn command_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let filter = match args.len() {
        2 => None,
        5 if args[2].eq_ignore_ascii_case(b"filterby") => Some((args[3].to_ascii_lowercase(), args[4].clone())),
        _ => return Reply::error(errors::SYNTAX),
    };
    if let Some((kind, _)) = &filter {
        if !matches!(kind.as_slice(), b"pattern" | b"aclcat" | b"module") {
            return Reply::error(errors::SYNTAX);
        }
    }
    let mut names = Vec::new();
    for (name, spec) in ctx.server.commands.all() {
        let mut entries = vec![(String::from_utf8_lossy(name).into_owned(), *spec)];
        for s in spec.subcommands {
            entries.push((format!("{}|{}", String::from_utf8_lossy(name), s.name), s));
        }
        for (full, s) in entries {
            let keep = match &filter {
                None => true,
                Some((kind, v)) => match kind.as_slice() {
                    b"pattern" => crate::util::glob::string_match(v, full.as_bytes(), true),
                    b"aclcat" => {
                        let cat = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
                        s.acl_categories().contains(&cat)
                    }
                    _ => false,
                },
            };
            if keep {
                names.push(Reply::bulk(full));
            }
        }
    }
    Reply::Array(names)
}

/// COMMAND GETKEYS/GETKEYSANDFLAGS: the command, then whether it has keys, then its arity, then
/// the keys its key specs find, with their flags.
fn keys_of(ctx: &Ctx, cmd_args: &[Bytes]) -> Result<Vec<super::keyspecs::FoundKey>, Reply> {
    let (spec, name) =
        super::resolve(ctx.server, cmd_args).map_err(|_| Reply::error("ERR Invalid command specified"))?;
    if spec.keys.0 <= 0 && spec.keys_fn.is_none() {
        return Err(Reply::error("ERR The command has no key arguments"));
    }
    if !super::arity_ok(spec, cmd_args.len()) {
        return Err(Reply::error("ERR Invalid number of arguments specified for command"));
    }
    let keys = super::keyspecs::find(spec, &name.to_string(), cmd_args);
    // No keys where the arguments decide them (SINTERCARD 0 ...): Redis refuses the arguments.
    if keys.is_empty() && !spec.has(NO_MANDATORY_KEYS) {
        return Err(Reply::error("ERR Invalid arguments specified for command"));
    }
    Ok(keys)
}

fn command_getkeys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let keys = tri!(keys_of(ctx, &args[2..]));
    Reply::Array(keys.into_iter().map(|(i, _)| Reply::bulk(&args[2 + i])).collect())
}

fn command_getkeysandflags(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let keys = tri!(keys_of(ctx, &args[2..]));
    Reply::Array(
        keys.into_iter()
            .map(|(i, flags)| {
                let flags = flags.into_iter().map(|f| Reply::Status(f.into())).collect();
                Reply::Array(vec![Reply::bulk(&args[2 + i]), Reply::Set(flags)])
            })
            .collect(),
    )
}

fn command_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    )
}
