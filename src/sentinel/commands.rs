//! The SENTINEL command (§9) over a sentinel's running state, with Redis 7.0's reply shapes and
//! error texts, and the `# Sentinel` INFO section.
//!
//! Everything here is pure: time and what the links know come in through [`Context`], and what
//! the caller has to do afterwards goes out through [`Outcome`] and the state itself
//! (`Sentinel::flush_needed`, `Sentinel::events`). FAILOVER, PENDING-SCRIPTS and
//! SIMULATE-FAILURE belong to the failover and scripts machinery: [`command`] checks their
//! arity and leaves them to the caller ([`Dispatch::NotHere`]).

use std::borrow::Cow;

use super::config::resolve_address;
use super::instance::{InstanceId, Kind, Reconf};
use super::model::{CommandRename, MasterConfig, SentinelConfig};
use super::state::{Master, Record, Sentinel};
use super::timing::Timings;
use crate::protocol::Reply;
use crate::util::glob::string_match;
use crate::util::numbers::parse_i64;
use crate::util::sys::is_executable;

/// What the links know of one instance (Redis keeps it in the instance's link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// Both connections (cmd, and pubsub for masters and replicas) are up.
    pub connected: bool,
    /// Commands sent and not answered yet.
    pub pending: usize,
    /// How many instance records share the link (sentinels watching several common masters).
    pub refcount: usize,
}

/// What a command needs besides the state: the time, the links, and the monitor's state.
pub struct Context<'a> {
    pub now_ms: u64,
    /// The link of an instance, by its record's id.
    pub links: &'a dyn Fn(InstanceId) -> LinkStatus,
    /// Since when the sentinel is in TILT mode (§6), if it is.
    pub tilt_since_ms: Option<u64>,
    /// Scripts running now and scripts waiting (INFO).
    pub running_scripts: usize,
    pub queued_scripts: usize,
    /// SENTINEL SIMULATE-FAILURE's flags (INFO).
    pub simulate_failure_flags: u32,
}

/// A command's reply and the links the caller must close (their credentials changed, or their
/// records were reset or removed; a closed link of a record that still exists is reopened).
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub reply: Reply,
    pub drop_links: Vec<InstanceId>,
}

impl Outcome {
    fn reply(reply: Reply) -> Outcome {
        Outcome { reply, drop_links: Vec::new() }
    }
}

/// What [`command`] did with a SENTINEL command.
#[derive(Debug, PartialEq)]
pub enum Dispatch {
    Done(Outcome),
    /// FAILOVER, PENDING-SCRIPTS or SIMULATE-FAILURE with the right number of arguments: the
    /// caller answers them.
    NotHere,
}

const NO_SUCH_MASTER: &str = "ERR No such master with that name";
const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";

/// Subcommands and their arity (Redis convention: negative = at least).
const ARITY: [(&str, i32); 20] = [
    ("ckquorum", 3),
    ("config", -3),
    ("debug", -2),
    ("failover", 3),
    ("flushconfig", 2),
    ("get-master-addr-by-name", 3),
    ("help", 2),
    ("info-cache", -3),
    ("is-master-down-by-addr", 6),
    ("master", 3),
    ("masters", 2),
    ("monitor", 6),
    ("myid", 2),
    ("pending-scripts", 2),
    ("remove", 3),
    ("replicas", 3),
    ("reset", 3),
    ("sentinels", 3),
    ("set", -5),
    ("simulate-failure", -3),
];

/// `SENTINEL <subcommand> ...` (args[0] is `SENTINEL`).
pub fn command<A: AsRef<[u8]>>(s: &mut Sentinel, args: &[A], ctx: &Context, timings: &mut Timings) -> Dispatch {
    let args: Vec<String> = args.iter().map(|a| String::from_utf8_lossy(a.as_ref()).into_owned()).collect();
    if args.len() < 2 {
        return done(Reply::error("ERR wrong number of arguments for 'sentinel' command"));
    }
    let sub = args[1].to_ascii_lowercase();
    let sub = if sub == "slaves" { "replicas".to_string() } else { sub };
    let Some(&(name, arity)) = ARITY.iter().find(|(n, _)| *n == sub) else {
        let shown: String = args[1].chars().take(128).collect();
        return done(Reply::error(format!("ERR unknown subcommand '{shown}'. Try SENTINEL HELP.")));
    };
    let n = args.len() as i32;
    if (arity >= 0 && n != arity) || (arity < 0 && n < -arity) {
        let shown = if args[1].eq_ignore_ascii_case("slaves") { "slaves" } else { name };
        return done(Reply::error(format!("ERR wrong number of arguments for 'sentinel|{shown}' command")));
    }
    let a = &args[2..];
    let reply = match name {
        "masters" => masters(s, ctx),
        "master" => master(s, &a[0], ctx),
        "replicas" => replicas(s, &a[0], ctx),
        "sentinels" => sentinels(s, &a[0], ctx),
        "get-master-addr-by-name" => get_master_addr_by_name(s, &a[0]),
        "is-master-down-by-addr" => is_master_down_by_addr(s, &a[0], &a[1], &a[2], &a[3], ctx),
        "reset" => return Dispatch::Done(reset(s, &a[0], ctx.now_ms)),
        "ckquorum" => ckquorum(s, &a[0]),
        "flushconfig" => flushconfig(s),
        "monitor" => monitor(s, &a[0], &a[1], &a[2], &a[3], timings, ctx.now_ms),
        "remove" => return Dispatch::Done(remove(s, &a[0])),
        "set" => return Dispatch::Done(set(s, &a[0], &a[1..])),
        "config" => return Dispatch::Done(config(s, a)),
        "info-cache" => info_cache(s, a, ctx.now_ms),
        "myid" => myid(s),
        "debug" => debug(timings, a),
        "help" => help(),
        _ => return Dispatch::NotHere,
    };
    done(reply)
}

fn done(reply: Reply) -> Dispatch {
    Dispatch::Done(Outcome::reply(reply))
}

fn bulk_str(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

fn bulk_num(n: impl ToString) -> Reply {
    Reply::bulk(n.to_string().as_bytes())
}

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

fn find_master<'a>(s: &'a Sentinel, name: &str) -> Result<&'a Master, Reply> {
    s.masters.iter().find(|m| m.settings.name == name).ok_or_else(|| Reply::error(NO_SUCH_MASTER))
}

/// SENTINEL MASTERS.
pub fn masters(s: &Sentinel, ctx: &Context) -> Reply {
    Reply::Array(s.masters.iter().map(|m| instance_map(s, m, &m.record, ctx)).collect())
}

/// SENTINEL MASTER <name>.
pub fn master(s: &Sentinel, name: &str, ctx: &Context) -> Reply {
    match find_master(s, name) {
        Ok(m) => instance_map(s, m, &m.record, ctx),
        Err(e) => e,
    }
}

/// SENTINEL REPLICAS|SLAVES <name>: replicas that say `replica_announced:0` are left out.
pub fn replicas(s: &Sentinel, name: &str, ctx: &Context) -> Reply {
    match find_master(s, name) {
        Ok(m) => Reply::Array(
            m.replicas
                .iter()
                .filter(|r| r.info.replica_announced != Some(false))
                .map(|r| instance_map(s, m, r, ctx))
                .collect(),
        ),
        Err(e) => e,
    }
}

/// SENTINEL SENTINELS <name>: the other sentinels.
pub fn sentinels(s: &Sentinel, name: &str, ctx: &Context) -> Reply {
    match find_master(s, name) {
        Ok(m) => Reply::Array(m.sentinels.iter().map(|r| instance_map(s, m, r, ctx)).collect()),
        Err(e) => e,
    }
}

/// SENTINEL GET-MASTER-ADDR-BY-NAME <name>: the address clients are to use now; the port is a
/// bulk string. Unknown: a null array.
pub fn get_master_addr_by_name(s: &Sentinel, name: &str) -> Reply {
    match find_master(s, name) {
        Ok(m) => {
            let (host, port) = m.current_address();
            Reply::Array(vec![bulk_str(&shown_host(&s.settings, host)), bulk_num(port)])
        }
        Err(_) => Reply::NilArray,
    }
}

/// SENTINEL IS-MASTER-DOWN-BY-ADDR <ip> <port> <epoch> <runid|*> (§4.2): whether the master at
/// that address is SDOWN here (never in TILT), and, when asked for a vote, this sentinel's vote.
pub fn is_master_down_by_addr(
    s: &mut Sentinel,
    ip: &str,
    port: &str,
    epoch: &str,
    runid: &str,
    ctx: &Context,
) -> Reply {
    let (Some(port), Some(epoch)) = (parse_i64(port.as_bytes()), parse_i64(epoch.as_bytes())) else {
        return Reply::error(NOT_AN_INTEGER);
    };
    let found = s.masters.iter().position(|m| {
        i64::from(m.settings.port) == port && (m.settings.host == ip || shown_ip(&m.settings.host) == ip)
    });
    let down = ctx.tilt_since_ms.is_none() && found.is_some_and(|m| s.masters[m].record.s_down);
    let (mut leader, mut leader_epoch) = (None, 0);
    if let Some(m) = found.filter(|_| runid != "*") {
        // Redis reads the epoch as a signed number and votes with it as unsigned.
        (leader, leader_epoch) = s.vote(m, epoch as u64, runid, ctx.now_ms);
    }
    Reply::Array(vec![
        Reply::Int(i64::from(down)),
        bulk_str(leader.as_deref().unwrap_or("*")),
        Reply::Int(leader_epoch as i64),
    ])
}

/// The IP a master's address stands for (numeric forms only, see [`shown_host`]).
fn shown_ip(host: &str) -> String {
    resolve_address(host, false).unwrap_or_default()
}

/// SENTINEL RESET <pattern>: every master whose name matches (case-sensitive glob) forgets its
/// replicas, fellow sentinels and failover, and starts over as a freshly monitored master
/// (sentinelResetMaster). Replies the count; emits `+reset-master`. Not flushed (§2.2).
pub fn reset(s: &mut Sentinel, pattern: &str, now_ms: u64) -> Outcome {
    let mut count = 0;
    let mut drop_links = Vec::new();
    for m in 0..s.masters.len() {
        if !string_match(pattern.as_bytes(), s.masters[m].settings.name.as_bytes(), false) {
            continue;
        }
        drop_links.extend(reset_master(&mut s.masters[m], now_ms));
        s.event("+reset-master", true, Some((m, None)), "");
        count += 1;
    }
    Outcome { reply: Reply::Int(count), drop_links }
}

/// Resets one master; returns the ids whose links must close (its own and its dropped records').
fn reset_master(master: &mut Master, now_ms: u64) -> Vec<InstanceId> {
    let mut ids = vec![master.record.id];
    ids.extend(master.replicas.drain(..).map(|r| r.id));
    ids.extend(master.sentinels.drain(..).map(|r| r.id));
    master.leader = None;
    master.failover_state = Default::default();
    master.failover_state_change_ms = 0;
    // So that a failover may start at once.
    master.failover_start_ms = 0;
    master.failover_in_progress = false;
    master.force_failover = false;
    let r = &mut master.record;
    r.s_down = false;
    r.o_down = false;
    r.script_kill_sent = false;
    r.promoted = false;
    r.reconf = Reconf::None;
    r.run_id = None;
    r.info.master_host = None;
    r.act_ping_ms = now_ms;
    r.last_ping_ms = 0;
    r.last_avail_ms = now_ms;
    r.last_pong_ms = now_ms;
    r.role_reported = Kind::Master;
    r.role_reported_ms = now_ms;
    ids
}

/// SENTINEL CKQUORUM <name>: whether the sentinels not seen down make the quorum and a majority.
pub fn ckquorum(s: &Sentinel, name: &str) -> Reply {
    let m = match find_master(s, name) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let usable = 1 + m.sentinels.iter().filter(|r| !r.s_down && !r.o_down).count();
    let voters = m.sentinels.len() + 1;
    let no_quorum = (usable as u64) < u64::from(m.settings.quorum);
    let no_majority = usable < voters / 2 + 1;
    if !no_quorum && !no_majority {
        return Reply::Status(Cow::Owned(format!(
            "OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
        )));
    }
    let mut reasons = Vec::new();
    if no_quorum {
        reasons.push("Not enough available Sentinels to reach the specified quorum for this master");
    }
    if no_majority {
        reasons.push("Not enough available Sentinels to reach the majority and authorize a failover");
    }
    Reply::error(format!("NOQUORUM {usable} usable Sentinels. {}", reasons.join(". ")))
}

/// SENTINEL FLUSHCONFIG: the caller writes sentinel.conf (and answers a save error instead).
pub fn flushconfig(s: &mut Sentinel) -> Reply {
    s.flush_needed = true;
    Reply::OK
}

/// SENTINEL MONITOR <name> <ip> <port> <quorum>, with Redis's checks in its order.
pub fn monitor(
    s: &mut Sentinel,
    name: &str,
    host: &str,
    port: &str,
    quorum: &str,
    timings: &Timings,
    now_ms: u64,
) -> Reply {
    let Some(quorum) = parse_i64(quorum.as_bytes()) else {
        return Reply::error("ERR Invalid quorum");
    };
    let Some(port) = parse_i64(port.as_bytes()) else {
        return Reply::error("ERR Invalid port");
    };
    if quorum <= 0 {
        return Reply::error("ERR Quorum must be 1 or greater.");
    }
    if resolve_address(host, s.settings.resolve_hostnames).is_none() {
        return Reply::error("ERR Invalid IP address or hostname specified");
    }
    let Ok(port) = u16::try_from(port) else {
        return Reply::error("ERR Invalid port number.");
    };
    if s.master_index(name).is_some() {
        return Reply::error("ERR Duplicate master name.");
    }
    // Redis keeps the quorum in an unsigned int.
    let mut settings = MasterConfig::new(name, host, port, quorum as u32);
    settings.down_after_ms = timings.default_down_after;
    settings.failover_timeout_ms = timings.default_failover_timeout;
    s.add_master(settings, now_ms);
    s.flush_needed = true;
    let m = s.masters.len() - 1;
    s.event("+monitor", true, Some((m, None)), &format!("quorum {}", quorum as u32));
    Reply::OK
}

/// SENTINEL REMOVE <name>: stops watching the master (`-monitor`).
pub fn remove(s: &mut Sentinel, name: &str) -> Outcome {
    let Some(m) = s.master_index(name) else {
        return Outcome::reply(Reply::error(NO_SUCH_MASTER));
    };
    s.event("-monitor", true, Some((m, None)), "");
    let master = s.masters.remove(m);
    let ids = std::iter::once(&master.record).chain(&master.replicas).chain(&master.sentinels).map(|r| r.id);
    s.flush_needed = true;
    Outcome { reply: Reply::OK, drop_links: ids.collect() }
}

/// Why one SENTINEL SET option failed.
enum SetError {
    /// The option's value is refused: `Invalid argument '<value>' ...`.
    BadValue(String),
    /// The whole reply text.
    Other(String),
}

/// SENTINEL SET <name> <option> <value> [...]: options apply in order, each with a `+set`; the
/// first bad one stops there (what was applied stays, and is flushed).
pub fn set(s: &mut Sentinel, name: &str, options: &[String]) -> Outcome {
    let Some(m) = s.master_index(name) else {
        return Outcome::reply(Reply::error(NO_SUCH_MASTER));
    };
    let mut drop_links = Vec::new();
    let mut changes = 0;
    let mut j = 0;
    let mut reply = Reply::OK;
    while j < options.len() {
        let option = &options[j];
        let rest = &options[j + 1..];
        match set_option(s, m, option, rest) {
            Ok((used, drops)) => {
                changes += 1;
                if drops {
                    drop_links.push(s.masters[m].record.id);
                    drop_links.extend(s.masters[m].replicas.iter().map(|r| r.id));
                }
                let shown = if option.eq_ignore_ascii_case("auth-pass") { "******" } else { rest[0].as_str() };
                let text = match used {
                    2 => format!("{option} {} {}", rest[0], rest[1]),
                    _ => format!("{option} {shown}"),
                };
                s.event("+set", true, Some((m, None)), &text);
                j += 1 + used;
            }
            Err(SetError::BadValue(v)) => {
                reply = Reply::error(format!("ERR Invalid argument '{v}' for SENTINEL SET '{option}'"));
                break;
            }
            Err(SetError::Other(text)) => {
                reply = Reply::error(text);
                break;
            }
        }
    }
    if changes > 0 {
        s.flush_needed = true;
    }
    Outcome { reply, drop_links }
}

/// One SET option: how many values it took, and whether the master's links must be dropped.
fn set_option(s: &mut Sentinel, m: usize, option: &str, rest: &[String]) -> Result<(usize, bool), SetError> {
    let opt = option.to_ascii_lowercase();
    let deny_scripts = s.settings.deny_scripts_reconfig;
    let c = &mut s.masters[m].settings;
    let positive = |v: &String| parse_i64(v.as_bytes()).filter(|&n| n > 0).ok_or_else(|| SetError::BadValue(v.clone()));
    match (opt.as_str(), rest) {
        ("down-after-milliseconds", [v, ..]) => c.down_after_ms = positive(v)? as u64,
        ("failover-timeout", [v, ..]) => c.failover_timeout_ms = positive(v)? as u64,
        // Redis keeps these in an int and an unsigned int.
        ("parallel-syncs", [v, ..]) => c.parallel_syncs = positive(v)? as i32,
        ("quorum", [v, ..]) => c.quorum = positive(v)? as u32,
        ("notification-script", [v, ..]) => {
            c.notification_script = script_path(deny_scripts, v, "Notification script")?;
        }
        ("client-reconfig-script", [v, ..]) => {
            c.client_reconfig_script = script_path(deny_scripts, v, "Client reconfiguration script")?;
        }
        ("auth-pass", [v, ..]) => {
            c.auth_pass = Some(v.clone()).filter(|v| !v.is_empty());
            return Ok((1, true));
        }
        ("auth-user", [v, ..]) => {
            c.auth_user = Some(v.clone()).filter(|v| !v.is_empty());
            return Ok((1, true));
        }
        ("rename-command", [old, new, ..]) => {
            if old.is_empty() || new.is_empty() {
                return Err(SetError::BadValue(if new.is_empty() { new.clone() } else { old.clone() }));
            }
            c.rename_commands.retain(|r| !r.command.eq_ignore_ascii_case(old));
            // Renaming a command to itself only removes its renaming.
            if !old.eq_ignore_ascii_case(new) {
                c.rename_commands.push(CommandRename { command: old.clone(), renamed: new.clone() });
            }
            return Ok((2, false));
        }
        ("master-reboot-down-after-period", [v, ..]) => {
            let n = parse_i64(v.as_bytes()).filter(|&n| n >= 0).ok_or_else(|| SetError::BadValue(v.clone()))?;
            c.master_reboot_down_after_period_ms = n as u64;
        }
        _ => {
            return Err(SetError::Other(format!(
                "ERR Unknown option or number of arguments for SENTINEL SET '{option}'"
            )))
        }
    }
    Ok((1, false))
}

/// A script path for SENTINEL SET: refused under deny-scripts-reconfig; "" unsets it.
fn script_path(deny: bool, path: &str, what: &str) -> Result<Option<String>, SetError> {
    if deny {
        return Err(SetError::Other(
            "ERR Reconfiguration of scripts path is denied for security reasons. Check the \
             deny-scripts-reconfig configuration directive in your Sentinel configuration"
                .to_string(),
        ));
    }
    if path.is_empty() {
        return Ok(None);
    }
    if !is_executable(path) {
        return Err(SetError::Other(format!("ERR {what} seems non existing or non executable")));
    }
    Ok(Some(path.to_string()))
}

const CONFIG_USAGE: &str = "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.";

/// SENTINEL CONFIG GET <pattern> | SET <param> <value> (7.0: one parameter per call).
pub fn config(s: &mut Sentinel, args: &[String]) -> Outcome {
    match args {
        [op, param, value] if op.eq_ignore_ascii_case("set") => config_set(s, param, value),
        [op, pattern] if op.eq_ignore_ascii_case("get") => Outcome::reply(config_get(&s.settings, pattern)),
        _ => Outcome::reply(Reply::error(CONFIG_USAGE)),
    }
}

fn config_set(s: &mut Sentinel, param: &str, value: &str) -> Outcome {
    let bad_value = || Reply::error(format!("ERR Invalid value '{value}' to SENTINEL CONFIG SET '{param}'"));
    let g = &mut s.settings;
    let mut drop_sentinel_links = false;
    match param.to_ascii_lowercase().as_str() {
        "resolve-hostnames" => match yes_no(value) {
            Some(v) => g.resolve_hostnames = v,
            None => return Outcome::reply(bad_value()),
        },
        "announce-hostnames" => match yes_no(value) {
            Some(v) => g.announce_hostnames = v,
            None => return Outcome::reply(bad_value()),
        },
        // Kept even when empty, as Redis does (it then announces an empty address).
        "announce-ip" => g.announce_ip = Some(value.to_string()),
        "announce-port" => match parse_i64(value.as_bytes()).filter(|p| (0..=65535).contains(p)) {
            Some(p) => g.announce_port = p as i32,
            None => return Outcome::reply(bad_value()),
        },
        "sentinel-user" => {
            g.sentinel_user = Some(value.to_string()).filter(|v| !v.is_empty());
            drop_sentinel_links = true;
        }
        "sentinel-pass" => {
            g.sentinel_pass = Some(value.to_string()).filter(|v| !v.is_empty());
            drop_sentinel_links = true;
        }
        _ => {
            return Outcome::reply(Reply::error(format!("ERR Invalid argument '{param}' to SENTINEL CONFIG SET")));
        }
    }
    s.flush_needed = true;
    let drop_links = if drop_sentinel_links {
        s.masters.iter().flat_map(|m| m.sentinels.iter().map(|r| r.id)).collect()
    } else {
        Vec::new()
    };
    Outcome { reply: Reply::OK, drop_links }
}

/// Redis's yesnotoi.
fn yes_no(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if v.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

fn config_get(g: &SentinelConfig, pattern: &str) -> Reply {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let params = [
        ("resolve-hostnames", yes_no(g.resolve_hostnames)),
        ("announce-hostnames", yes_no(g.announce_hostnames)),
        ("announce-ip", g.announce_ip.clone().unwrap_or_default()),
        ("announce-port", g.announce_port.to_string()),
        ("sentinel-user", g.sentinel_user.clone().unwrap_or_default()),
        ("sentinel-pass", g.sentinel_pass.clone().unwrap_or_default()),
    ];
    Reply::Map(
        params
            .iter()
            .filter(|(name, _)| string_match(pattern.as_bytes(), name.as_bytes(), true))
            .map(|(name, value)| (bulk_str(name), bulk_str(value)))
            .collect(),
    )
}

/// SENTINEL INFO-CACHE <name> [...]: for each named master (once, unknown names skipped) its
/// name, then `[age, INFO]` of the master and of each replica.
pub fn info_cache(s: &Sentinel, names: &[String], now_ms: u64) -> Reply {
    let mut chosen: Vec<&Master> = Vec::new();
    for name in names {
        if let Some(m) = s.masters.iter().find(|m| &m.settings.name == name) {
            if !chosen.iter().any(|c| std::ptr::eq(*c, m)) {
                chosen.push(m);
            }
        }
    }
    let entry = |r: &Record, age_known: bool| {
        let age = if age_known { now_ms.saturating_sub(r.info_ms) } else { 0 };
        let info = r.info_text.as_deref().map_or(Reply::Nil, |t| Reply::bulk(t.as_bytes()));
        Reply::Array(vec![Reply::Int(age as i64), info])
    };
    let mut out = Vec::with_capacity(chosen.len() * 2);
    for m in chosen {
        out.push(bulk_str(&m.settings.name));
        let mut infos = vec![entry(&m.record, m.record.info_ms != 0)];
        // Redis decides whether a replica's INFO has an age by its master's (a quirk kept).
        infos.extend(m.replicas.iter().map(|r| entry(r, m.record.info_ms != 0)));
        out.push(Reply::Array(infos));
    }
    Reply::Array(out)
}

/// SENTINEL MYID.
pub fn myid(s: &Sentinel) -> Reply {
    bulk_str(&s.myid)
}

/// SENTINEL DEBUG [<param> <ms> ...]: shows the time parameters, or sets them in order (the
/// first bad one stops there).
pub fn debug(timings: &mut Timings, args: &[String]) -> Reply {
    if args.is_empty() {
        return Reply::Map(timings.named().iter().map(|(name, v)| (bulk_str(name), bulk_num(v))).collect());
    }
    let mut j = 0;
    while j < args.len() {
        let option = &args[j];
        let (Some(field), Some(value)) = (timings.by_name(option), args.get(j + 1)) else {
            return Reply::error(format!("ERR Unknown option or number of arguments for SENTINEL DEBUG '{option}'"));
        };
        match parse_i64(value.as_bytes()).filter(|&v| v > 0) {
            Some(v) => *field = v as u64,
            None => return Reply::error(format!("ERR Invalid argument '{value}' for SENTINEL DEBUG '{option}'")),
        }
        j += 2;
    }
    Reply::OK
}

const HELP: [&str; 49] = [
    "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
    "HELP",
    "    Prints this help.",
];

/// SENTINEL HELP.
pub fn help() -> Reply {
    Reply::Array(HELP.iter().map(|line| Reply::status(line)).collect())
}

/// The `# Sentinel` section of INFO (its lines end with CRLF).
pub fn info_sentinel_section(s: &Sentinel, ctx: &Context) -> String {
    let tilt_since = ctx.tilt_since_ms.map_or(-1, |t| (ctx.now_ms.saturating_sub(t) / 1000) as i64);
    let mut out = format!(
        "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\nsentinel_tilt_since_seconds:{}\r\n\
         sentinel_running_scripts:{}\r\nsentinel_scripts_queue_length:{}\r\nsentinel_simulate_failure_flags:{}\r\n",
        s.masters.len(),
        u8::from(ctx.tilt_since_ms.is_some()),
        tilt_since,
        ctx.running_scripts,
        ctx.queued_scripts,
        ctx.simulate_failure_flags
    );
    for (i, m) in s.masters.iter().enumerate() {
        let status = if m.record.o_down {
            "odown"
        } else if m.record.s_down {
            "sdown"
        } else {
            "ok"
        };
        out.push_str(&format!(
            "master{i}:name={},status={status},address={}:{},slaves={},sentinels={}\r\n",
            m.settings.name,
            shown_host(&s.settings, &m.settings.host),
            m.settings.port,
            m.replicas.len(),
            m.sentinels.len() + 1
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Sentinel {
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, 1);
        m.known_sentinels.push(super::super::model::KnownSentinel {
            host: "127.0.0.1".into(),
            port: 26380,
            run_id: "b".repeat(40),
        });
        let cfg = SentinelConfig { myid: Some("a".repeat(40)), masters: vec![m], ..Default::default() };
        Sentinel::from_config(cfg, 1_000)
    }

    fn up(_: InstanceId) -> LinkStatus {
        LinkStatus { connected: true, pending: 0, refcount: 1 }
    }

    fn ctx(links: &dyn Fn(InstanceId) -> LinkStatus, tilt: Option<u64>) -> Context<'_> {
        Context {
            now_ms: 2_000,
            links,
            tilt_since_ms: tilt,
            running_scripts: 0,
            queued_scripts: 0,
            simulate_failure_flags: 0,
        }
    }

    #[test]
    fn is_master_down_answers_sdown_outside_tilt_and_votes_even_in_tilt() {
        let mut s = state();
        s.masters[0].record.s_down = true;
        let links = up;
        let r = is_master_down_by_addr(&mut s, "127.0.0.1", "6379", "3", "*", &ctx(&links, None));
        assert_eq!(r, Reply::Array(vec![Reply::Int(1), bulk_str("*"), Reply::Int(0)]));
        let candidate = "c".repeat(40);
        let r = is_master_down_by_addr(&mut s, "127.0.0.1", "6379", "3", &candidate, &ctx(&links, Some(0)));
        assert_eq!(r, Reply::Array(vec![Reply::Int(0), bulk_str(&candidate), Reply::Int(3)]));
        assert_eq!(s.settings.current_epoch, 3);
        // Found by address only: another port is another master.
        let r = is_master_down_by_addr(&mut s, "127.0.0.1", "6380", "4", &candidate, &ctx(&links, None));
        assert_eq!(r, Reply::Array(vec![Reply::Int(0), bulk_str("*"), Reply::Int(0)]));
    }

    #[test]
    fn reset_forgets_replicas_sentinels_and_failover() {
        let mut s = state();
        let sentinel_id = s.masters[0].sentinels[0].id;
        let m = &mut s.masters[0];
        m.record.s_down = true;
        m.failover_in_progress = true;
        m.failover_start_ms = 500;
        m.leader = Some("x".into());
        let out = reset(&mut s, "my*", 5_000);
        assert_eq!(out.reply, Reply::Int(1));
        assert!(out.drop_links.contains(&sentinel_id));
        let m = &s.masters[0];
        assert!(m.sentinels.is_empty() && !m.record.s_down && !m.failover_in_progress);
        assert_eq!((m.failover_start_ms, m.leader.as_deref(), m.record.act_ping_ms), (0, None, 5_000));
        assert_eq!(s.events[0].message, "master mymaster 127.0.0.1 6379");
        assert!(!s.flush_needed, "RESET does not flush");
        assert_eq!(reset(&mut s, "MY*", 5_000).reply, Reply::Int(0), "names match case-sensitively");
    }

    #[test]
    fn debug_sets_in_order_until_a_bad_one() {
        let mut t = Timings::default();
        let args: Vec<String> = ["ping-period", "100", "ask-period", "0"].iter().map(|s| s.to_string()).collect();
        assert!(debug(&mut t, &args).is_error());
        assert_eq!((t.ping_period, t.ask_period), (100, 1_000));
    }

    #[test]
    fn flags_and_failover_state_of_a_failing_over_master() {
        let mut s = state();
        let m = &mut s.masters[0];
        m.record.s_down = true;
        m.record.o_down = true;
        m.failover_in_progress = true;
        m.force_failover = true;
        m.failover_state = super::super::state::FailoverState::WaitStart;
        let down = |_| LinkStatus { connected: false, pending: 2, refcount: 1 };
        let Reply::Map(fields) = master(&s, "mymaster", &ctx(&down, None)) else { panic!("a map") };
        let get = |k: &str| fields.iter().find(|(key, _)| *key == bulk_str(k)).map(|(_, v)| v.clone());
        assert_eq!(
            get("flags"),
            Some(bulk_str("s_down,o_down,master,disconnected,failover_in_progress,force_failover"))
        );
        assert_eq!(get("failover-state"), Some(bulk_str("wait_start")));
        assert_eq!(get("link-pending-commands"), Some(bulk_str("2")));
        assert!(get("s-down-time").is_some() && get("o-down-time").is_some());
    }
}
