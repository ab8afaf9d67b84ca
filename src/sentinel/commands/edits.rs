//! The subcommands that change which masters are watched and how: MONITOR, REMOVE, SET, RESET,
//! and FLUSHCONFIG (the caller writes the file).

use super::super::config::resolve_address;
use super::super::instance::{InstanceId, Kind, Reconf};
use super::super::model::{CommandRename, MasterConfig};
use super::super::state::{Master, Sentinel};
use super::super::timing::Timings;
use super::{Outcome, NO_SUCH_MASTER};
use crate::protocol::Reply;
use crate::util::glob::string_match;
use crate::util::numbers::parse_i64;
use crate::util::sys::is_executable;

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

/// SENTINEL FLUSHCONFIG: the caller writes sentinel.conf (and answers a save error instead).
pub fn flushconfig(s: &mut Sentinel) -> Reply {
    s.flush_needed = true;
    Reply::OK
}
