//! SENTINEL, answered in Sentinel mode only (crate::sentinel has the subcommands).

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::cmd;
use crate::protocol::Reply;

pub static TABLE: &[CommandSpec] = &[cmd!(
    "sentinel",
    -2,
    ADMIN | SENTINEL | LOADING | STALE,
    (0, 0, 0),
    "sentinel",
    "2.8.4",
    "A container for Redis Sentinel commands",
    "Depends on subcommand.",
    sentinel
)];

fn sentinel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let now = ctx.now_ms;
    let Some(rt) = ctx.state.sentinel.as_mut() else {
        return Reply::error("ERR unknown command 'sentinel'");
    };
    let reply = rt.command(args, now);
    let sub = args.get(1).map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    // A change the file must keep is saved before the reply says it is done.
    if std::mem::take(&mut rt.sentinel.flush_needed) {
        let cfg = rt.sentinel.to_config();
        if let Some(path) = ctx.state.sentinel_config_file.clone() {
            if let Err(e) = crate::sentinel::config::flush(&path, &cfg) {
                tracing::warn!("WARNING: Sentinel was not able to save the new configuration on disk!!!: {e}");
                crate::sentinel::runner::announce(ctx.state);
                return Reply::error(if sub == b"set" {
                    "ERR Failed to save Sentinel new configuration on disk"
                } else {
                    "ERR Failed to save config file. Check server logs."
                });
            }
        }
    }
    crate::sentinel::runner::announce(ctx.state);
    reply
}
