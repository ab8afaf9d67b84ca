//! DEBUG, a protected command, and its subcommands. Table rows, replies and error texts follow
//! Redis 7.0.15.

use bytes::Bytes;

use super::{errors, subcommand_syntax_error, Ctx};
use crate::cmd;
use crate::protocol::Reply;
use crate::server::command::*;

pub static TABLE: &[CommandSpec] = &[cmd!(
    "debug",
    -2,
    ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
    (0, 0, 0),
    "server",
    "1.0.0",
    "A container for debugging commands",
    "Depends on subcommand.",
    debug
)];

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
    match ctx.state.config.str(crate::ckey!("enable-debug-command")) {
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
                    crate::persistence::rdb::serialized_len(
                        e.value(),
                        ctx.state.config.bool(crate::ckey!("rdbcompression"))
                    ),
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
        crate::server::tracking::invalidate_all(ctx.state);
        // emptyData: the function libraries go too, and come back from the file.
        ctx.state.scripts.flush_functions();
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
    let policy = ctx.state.config.str(crate::ckey!("maxmemory-policy"));
    ctx.state.config.int(crate::ckey!("maxmemory")) == 0 || !(policy.contains("lru") || policy.contains("lfu"))
}
