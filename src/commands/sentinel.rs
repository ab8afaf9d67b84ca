//! SENTINEL, answered in Sentinel mode only (crate::sentinel has the subcommands).

use bytes::Bytes;

use super::Ctx;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::subcmd;

/// SENTINEL and its subcommands as Redis 7.0's table has them (COMMAND INFO and DOCS, ACL
/// rules such as `-sentinel|set`, arity errors naming `sentinel|<sub>`). Every subcommand has the
/// one handler: crate::sentinel answers them all.
pub static TABLE: &[CommandSpec] = &[CommandSpec {
    name: "sentinel",
    arity: -2,
    flags: ADMIN | SENTINEL,
    keys: (0, 0, 0),
    group: "sentinel",
    since: "2.8.4",
    summary: "A container for Sentinel commands",
    complexity: "Depends on subcommand.",
    acl: &[],
    write_keys: None,
    keys_fn: None,
    handler: Some(sentinel),
    subcommands: SUBS,
    id: CmdId::Other,
}];

#[rustfmt::skip]
static SUBS: &[CommandSpec] = &[
    subcmd!("ckquorum", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Check for a Sentinel quorum", "", sentinel),
    subcmd!("config", -3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "6.2.0", "Configure Sentinel", "O(1)", sentinel),
    subcmd!("debug", -2, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "7.0.0", "List or update the current configurable parameters", "O(N) where N is the number of configurable parameters", sentinel),
    subcmd!("failover", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Force a failover", "", sentinel),
    subcmd!("flushconfig", 2, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Rewrite configuration file", "O(1)", sentinel),
    subcmd!("get-master-addr-by-name", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Get port and address of a master", "O(1)", sentinel),
    subcmd!("help", 2, LOADING | STALE | SENTINEL, (0, 0, 0), "sentinel", "6.2.0", "Show helpful text about the different subcommands", "O(1)", sentinel),
    subcmd!("info-cache", -3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "3.2.0", "Get cached INFO from the instances in the deployment", "O(N) where N is the number of instances", sentinel),
    subcmd!("is-master-down-by-addr", 6, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Check if a master is down", "O(1)", sentinel),
    subcmd!("master", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Shows the state of a master", "O(1)", sentinel),
    subcmd!("masters", 2, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "List the monitored masters", "O(N) where N is the number of masters", sentinel),
    subcmd!("monitor", 6, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Start monitoring", "O(1)", sentinel),
    subcmd!("myid", 2, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "6.2.0", "Get the Sentinel instance ID", "O(1)", sentinel),
    subcmd!("pending-scripts", 2, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Get information about pending scripts", "", sentinel),
    subcmd!("remove", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Stop monitoring", "O(1)", sentinel),
    subcmd!("replicas", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "5.0.0", "List the monitored replicas", "O(N) where N is the number of replicas", sentinel),
    subcmd!("reset", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Reset masters by name pattern", "O(N) where N is the number of monitored masters", sentinel),
    subcmd!("sentinels", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "List the Sentinel instances", "O(N) where N is the number of Sentinels", sentinel),
    subcmd!("set", -5, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.4", "Change the configuration of a monitored master", "O(1)", sentinel),
    subcmd!("simulate-failure", -3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "3.2.0", "Simulate failover scenarios", "", sentinel),
    subcmd!("slaves", 3, ADMIN | SENTINEL, (0, 0, 0), "sentinel", "2.8.0", "List the monitored slaves", "O(N) where N is the number of slaves", sentinel),
];

fn sentinel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let now = ctx.now_ms;
    let Some(rt) = ctx.state.sentinel.as_mut() else {
        return Reply::error("ERR unknown command 'sentinel'");
    };
    let reply = rt.command(args, now);
    let sub = args.get(1).map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    // A change the file must keep is saved before the reply says it is done. The commands that
    // change the configuration say so when it could not be saved (sentinelFlushConfigAndReply);
    // the one other command that saves, IS-MASTER-DOWN-BY-ADDR (a vote), answers anyway, as
    // Redis's sentinelVoteLeader does.
    if std::mem::take(&mut rt.sentinel.flush_needed) {
        let cfg = rt.sentinel.to_config();
        if let Some(path) = ctx.state.sentinel_config_file.clone() {
            if let Err(e) = crate::sentinel::config::flush(&path, &cfg, &ctx.state.rewrite_options()) {
                tracing::warn!(
                    "WARNING: Sentinel was not able to save the new configuration on disk!!!: {e}",
                    e = crate::util::sys::error_text(&e)
                );
                if sub != b"is-master-down-by-addr" {
                    crate::server::sentinel_events::announce(ctx.state);
                    return Reply::error("ERR Failed to save config file. Check server logs.");
                }
            }
        }
    }
    crate::server::sentinel_events::announce(ctx.state);
    reply
}
