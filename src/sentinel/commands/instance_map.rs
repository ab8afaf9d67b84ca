//! addReplySentinelRedisInstance: the map SENTINEL MASTER(S)/REPLICAS/SENTINELS give for one
//! instance, and the addresses Sentinel shows.

use super::super::config::resolve_address;
use super::super::instance::Kind;
use super::super::model::SentinelConfig;
use super::super::state::{Master, Record, Sentinel};
use super::{bulk_num, bulk_str, Context, LinkStatus};
use crate::protocol::Reply;

/// The address Redis shows for `host` (announceSentinelAddr): the host as given with
/// announce-hostnames, else the IP it stands for. Host names were resolved when they came in
/// ([`Sentinel::kept_address`]); only numeric forms are converted here (`127.1` is shown as
/// `127.0.0.1`), and a name that did not resolve is shown as given.
pub fn shown_host(settings: &SentinelConfig, host: &str) -> String {
    if settings.announce_hostnames || host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_string();
    }
    resolve_address(host, false).unwrap_or_else(|| host.to_string())
}

/// The `flags` field: Redis's order, comma-joined.
fn flags(master: &Master, r: &Record, link: &LinkStatus) -> String {
    let is_master = r.kind == Kind::Master;
    let set = [
        ("s_down", r.s_down),
        ("o_down", r.o_down),
        ("master", r.kind == Kind::Master),
        ("slave", r.kind == Kind::Replica),
        ("sentinel", r.kind == Kind::Sentinel),
        ("disconnected", !link.connected),
        ("master_down", r.kind == Kind::Sentinel && r.peer_master_down),
        ("failover_in_progress", is_master && master.failover_in_progress),
        ("promoted", r.promoted),
        ("reconf_sent", r.reconf.sent()),
        ("reconf_inprog", r.reconf.in_progress()),
        ("reconf_done", r.reconf.done()),
        ("force_failover", is_master && master.force_failover),
        ("script_kill_sent", r.script_kill_sent),
    ];
    set.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect::<Vec<_>>().join(",")
}

/// addReplySentinelRedisInstance: the map SENTINEL MASTER(S)/REPLICAS/SENTINELS give for one
/// instance, fields in Redis's order, every value a bulk string.
pub fn instance_map(s: &Sentinel, master: &Master, r: &Record, ctx: &Context) -> Reply {
    let now = ctx.now_ms;
    let since = |t: u64| now.saturating_sub(t);
    let link = (ctx.links)(r.id);
    let (host, port) = match r.kind {
        Kind::Master => (master.settings.host.as_str(), master.settings.port),
        _ => (r.host.as_str(), r.port),
    };
    let mut m: Vec<(Reply, Reply)> = Vec::with_capacity(24);
    let mut put = |k: &str, v: Reply| m.push((bulk_str(k), v));
    put("name", bulk_str(&r.name));
    put("ip", bulk_str(&shown_host(&s.settings, host)));
    put("port", bulk_num(port));
    put("runid", bulk_str(r.run_id.as_deref().unwrap_or("")));
    put("flags", bulk_str(&flags(master, r, &link)));
    put("link-pending-commands", bulk_num(link.pending));
    put("link-refcount", bulk_num(link.refcount));
    if r.kind == Kind::Master && master.failover_in_progress {
        put("failover-state", bulk_str(master.failover_state.name()));
    }
    put("last-ping-sent", bulk_num(if r.act_ping_ms != 0 { since(r.act_ping_ms) } else { 0 }));
    put("last-ok-ping-reply", bulk_num(since(r.last_avail_ms)));
    put("last-ping-reply", bulk_num(since(r.last_pong_ms)));
    if r.s_down {
        put("s-down-time", bulk_num(since(r.s_down_since)));
    }
    if r.o_down {
        put("o-down-time", bulk_num(since(r.o_down_since)));
    }
    put("down-after-milliseconds", bulk_num(master.settings.down_after_ms));
    if r.kind != Kind::Sentinel {
        put("info-refresh", bulk_num(if r.info_ms != 0 { since(r.info_ms) } else { 0 }));
        put("role-reported", bulk_str(if r.role_reported == Kind::Master { "master" } else { "slave" }));
        put("role-reported-time", bulk_num(since(r.role_reported_ms)));
    }
    match r.kind {
        Kind::Master => master_fields(master, &mut put),
        Kind::Replica => replica_fields(r, &mut put),
        Kind::Sentinel => {
            put("last-hello-message", bulk_num(since(r.last_hello_ms)));
            let (leader, epoch) = r.vote.clone().unwrap_or_else(|| ("?".to_string(), 0));
            put("voted-leader", bulk_str(&leader));
            put("voted-leader-epoch", bulk_num(epoch));
        }
    }
    Reply::Map(m)
}

fn master_fields(master: &Master, put: &mut impl FnMut(&str, Reply)) {
    let c = &master.settings;
    put("config-epoch", bulk_num(c.config_epoch));
    put("num-slaves", bulk_num(master.replicas.len()));
    put("num-other-sentinels", bulk_num(master.sentinels.len()));
    put("quorum", bulk_num(c.quorum));
    put("failover-timeout", bulk_num(c.failover_timeout_ms));
    put("parallel-syncs", bulk_num(c.parallel_syncs));
    if let Some(script) = &c.notification_script {
        put("notification-script", bulk_str(script));
    }
    if let Some(script) = &c.client_reconfig_script {
        put("client-reconfig-script", bulk_str(script));
    }
}

fn replica_fields(r: &Record, put: &mut impl FnMut(&str, Reply)) {
    let info = &r.info;
    put("master-link-down-time", bulk_num(info.master_link_down_ms));
    put("master-link-status", bulk_str(if info.master_link_up { "ok" } else { "err" }));
    put("master-host", bulk_str(info.master_host.as_deref().unwrap_or("?")));
    put("master-port", bulk_num(info.master_port.unwrap_or(0)));
    put("slave-priority", bulk_num(r.priority()));
    put("slave-repl-offset", bulk_num(info.slave_repl_offset.unwrap_or(0)));
    put("replica-announced", bulk_num(u8::from(info.replica_announced.unwrap_or(true))));
}

/// The IP a master's address stands for (numeric forms only, see [`shown_host`]).
pub(super) fn shown_ip(host: &str) -> String {
    resolve_address(host, false).unwrap_or_default()
}
