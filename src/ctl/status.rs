//! `redisctl status`: one screen for the node — the units, the server's role, replication,
//! persistence and memory, and the masters a running Sentinel watches — read with the project's
//! RESP client at the addresses the config files give.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::apply::{self, Target};
use super::edit::Run;
use super::{fail, Result};
use crate::client::Value;

#[derive(Serialize)]
pub struct StatusReport {
    pub units: Vec<UnitState>,
    pub server: ServerStatus,
    /// Null when the host has no sentinel.conf.
    pub sentinel: Option<SentinelStatus>,
}

#[derive(Serialize)]
pub struct UnitState {
    pub unit: String,
    /// `systemctl is-active`'s answer, or "unknown" (no such unit, or no systemctl).
    pub active: String,
    /// `systemctl is-enabled`'s answer, or "unknown".
    pub enabled: String,
    /// Why the state is unknown, if it is.
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct ServerStatus {
    pub address: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub role: Option<String>,
    pub master_link: Option<MasterLink>,
    pub replicas: Vec<ReplicaState>,
    pub persistence: Option<Persistence>,
    pub memory: Option<Memory>,
}

#[derive(Serialize)]
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    /// "up" or "down".
    pub status: String,
    pub last_io_seconds_ago: i64,
    pub sync_in_progress: bool,
    pub repl_offset: i64,
}

#[derive(Serialize)]
pub struct ReplicaState {
    pub address: String,
    pub state: String,
    pub offset: i64,
    /// Bytes the replica is behind the master's offset.
    pub lag_bytes: i64,
    /// Seconds since its last acknowledgement.
    pub lag_seconds: i64,
}

#[derive(Serialize)]
pub struct Persistence {
    pub last_save_time: i64,
    pub changes_since_last_save: i64,
    pub bgsave_in_progress: bool,
    pub last_bgsave_status: String,
    pub aof_enabled: bool,
    pub aof_rewrite_in_progress: bool,
    pub aof_last_write_status: String,
}

#[derive(Serialize)]
pub struct Memory {
    pub used: i64,
    /// 0: no limit.
    pub maxmemory: i64,
    pub policy: String,
    /// used / maxmemory in percent; null without a limit.
    pub percent_of_maxmemory: Option<f64>,
}

#[derive(Serialize)]
pub struct SentinelStatus {
    pub address: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub masters: Vec<WatchedMaster>,
}

#[derive(Serialize)]
pub struct WatchedMaster {
    pub name: String,
    /// The current master's address (SENTINEL GET-MASTER-ADDR-BY-NAME).
    pub address: String,
    pub quorum: i64,
    pub flags: String,
    pub replicas: i64,
    pub other_sentinels: i64,
    /// Whether enough Sentinels are reachable for the quorum and a failover (SENTINEL CKQUORUM).
    pub quorum_reachable: bool,
    /// CKQUORUM's reply.
    pub ckquorum: String,
}

/// `systemctl is-active`/`is-enabled` of a unit; a missing systemctl or unit is said, not fatal.
fn unit_state(unit: &str) -> UnitState {
    let ask = |verb: &str| -> std::result::Result<String, String> {
        let out = std::process::Command::new("systemctl")
            .args([verb, unit])
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "systemctl is not available on this host".to_string(),
                _ => format!("systemctl: {}", super::files::plain(&e)),
            })?;
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if !answer.is_empty() && answer != "not-found" {
            return Ok(answer);
        }
        Err(if answer == "not-found" || err.contains("No such file") || err.contains("not found") {
            format!("no unit {unit} is installed")
        } else if err.contains("not been booted") || err.contains("Failed to connect to bus") {
            "systemd is not running on this host".to_string()
        } else if err.is_empty() {
            "systemctl gave no answer".to_string()
        } else {
            err
        })
    };
    let (active, enabled) = (ask("is-active"), ask("is-enabled"));
    let mut notes: Vec<String> = [&enabled, &active].into_iter().filter_map(|r| r.as_ref().err().cloned()).collect();
    notes.dedup();
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    let known = |r: std::result::Result<String, String>| r.unwrap_or_else(|_| "unknown".into());
    let (active, enabled) = (known(active), known(enabled));
    UnitState { unit: unit.to_string(), active, enabled, note }
}

fn fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(f: &HashMap<String, String>, k: &str) -> i64 {
    f.get(k).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn server_status(target: &Target) -> ServerStatus {
    let address = target.address();
    let info = apply::runtime().map_err(std::io::Error::other).and_then(|rt| {
        rt.block_on(async {
            let mut c = apply::connect(target).await?;
            c.command(&["INFO", "all"]).await
        })
    });
    let mut s = ServerStatus {
        address,
        reachable: false,
        error: None,
        role: None,
        master_link: None,
        replicas: Vec::new(),
        persistence: None,
        memory: None,
    };
    let text = match info {
        Ok(Value::Error(e)) => {
            s.error = Some(e);
            return s;
        }
        Ok(v) => v.text().unwrap_or_default(),
        Err(e) => {
            s.error = Some(super::files::plain(&e));
            return s;
        }
    };
    s.reachable = true;
    let f = fields(&text);
    s.role = f.get("role").cloned();
    if s.role.as_deref() == Some("slave") {
        s.master_link = Some(MasterLink {
            host: f.get("master_host").cloned().unwrap_or_default(),
            port: num(&f, "master_port") as u16,
            status: f.get("master_link_status").cloned().unwrap_or_default(),
            last_io_seconds_ago: num(&f, "master_last_io_seconds_ago"),
            sync_in_progress: num(&f, "master_sync_in_progress") == 1,
            repl_offset: num(&f, "slave_repl_offset"),
        });
    }
    let master_offset = num(&f, "master_repl_offset");
    for i in 0..num(&f, "connected_slaves") {
        let Some(line) = f.get(&format!("slave{i}")) else { continue };
        let kv: HashMap<&str, &str> = line.split(',').filter_map(|p| p.split_once('=')).collect();
        let get = |k: &str| kv.get(k).copied().unwrap_or_default();
        let offset = get("offset").parse().unwrap_or(0);
        s.replicas.push(ReplicaState {
            address: format!("{}:{}", get("ip"), get("port")),
            state: get("state").to_string(),
            offset,
            lag_bytes: (master_offset - offset).max(0),
            lag_seconds: get("lag").parse().unwrap_or(0),
        });
    }
    s.persistence = Some(Persistence {
        last_save_time: num(&f, "rdb_last_save_time"),
        changes_since_last_save: num(&f, "rdb_changes_since_last_save"),
        bgsave_in_progress: num(&f, "rdb_bgsave_in_progress") == 1,
        last_bgsave_status: f.get("rdb_last_bgsave_status").cloned().unwrap_or_default(),
        aof_enabled: num(&f, "aof_enabled") == 1,
        aof_rewrite_in_progress: num(&f, "aof_rewrite_in_progress") == 1,
        aof_last_write_status: f.get("aof_last_write_status").cloned().unwrap_or_default(),
    });
    let (used, max) = (num(&f, "used_memory"), num(&f, "maxmemory"));
    s.memory = Some(Memory {
        used,
        maxmemory: max,
        policy: f.get("maxmemory_policy").cloned().unwrap_or_default(),
        percent_of_maxmemory: (max > 0).then(|| (used as f64 * 1000.0 / max as f64).round() / 10.0),
    });
    s
}

/// A flat array reply as field/value pairs.
fn pairs(v: &Value) -> HashMap<String, String> {
    let Value::Array(items) = v else { return HashMap::new() };
    items.chunks(2).filter_map(|kv| Some((kv.first()?.text()?, kv.get(1)?.text()?))).collect()
}

fn sentinel_status(target: &Target) -> SentinelStatus {
    let mut s = SentinelStatus { address: target.address(), reachable: false, error: None, masters: Vec::new() };
    let result = apply::runtime().map_err(std::io::Error::other).and_then(|rt| {
        rt.block_on(async {
            let mut c = apply::connect(target).await?;
            let masters = c.command(&["SENTINEL", "MASTERS"]).await?;
            let mut out = Vec::new();
            let Value::Array(list) = &masters else { return Ok(Err(format!("{masters:?}"))) };
            for m in list {
                let p = pairs(m);
                let name = p.get("name").cloned().unwrap_or_default();
                let ck = c.command(&["SENTINEL", "CKQUORUM", &name]).await?;
                let addr = c.command(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &name]).await?;
                out.push((p, ck, addr));
            }
            Ok::<_, std::io::Error>(Ok(out))
        })
    });
    let masters = match result {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            s.error = Some(e);
            return s;
        }
        Err(e) => {
            s.error = Some(super::files::plain(&e));
            return s;
        }
    };
    s.reachable = true;
    for (p, ck, addr) in masters {
        let n = |k: &str| p.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        let address = match &addr {
            Value::Array(a) => a.iter().filter_map(Value::text).collect::<Vec<_>>().join(":"),
            _ => String::new(),
        };
        let (quorum_reachable, ckquorum) = match ck {
            Value::Error(e) => (false, e),
            v => (true, v.text().unwrap_or_default()),
        };
        s.masters.push(WatchedMaster {
            name: p.get("name").cloned().unwrap_or_default(),
            address,
            quorum: n("quorum"),
            flags: p.get("flags").cloned().unwrap_or_default(),
            replicas: n("num-slaves"),
            other_sentinels: n("num-other-sentinels"),
            quorum_reachable,
            ckquorum,
        });
    }
    s
}

pub fn status(cli: &Run) -> Result<()> {
    let server_target = apply::target(&cli.config, 6379).map_err(fail)?;
    let sentinel_present = cli.sentinel_config.exists();
    let sentinel_target = if sentinel_present { apply::target(&cli.sentinel_config, 26379).ok() } else { None };
    let server_unit = server_target.unit.clone().unwrap_or_else(|| "redis-server-rs".into());
    let sentinel_unit =
        sentinel_target.as_ref().and_then(|t| t.unit.clone()).unwrap_or_else(|| "redis-sentinel-rs".into());
    let report = StatusReport {
        units: vec![unit_state(&server_unit), unit_state(&sentinel_unit)],
        server: server_status(&server_target),
        sentinel: sentinel_target.as_ref().map(sentinel_status),
    };
    if cli.json {
        println!("{}", serde_json::to_string(&report).map_err(|e| fail(e.to_string()))?);
    } else {
        print(&report, &cli.config, &cli.sentinel_config);
    }
    if report.server.reachable {
        Ok(())
    } else {
        Err(fail(format!(
            "the server at {} does not answer: {}",
            report.server.address,
            report.server.error.as_deref().unwrap_or("no reply")
        )))
    }
}

fn print(r: &StatusReport, config: &Path, sentinel_config: &Path) {
    println!("Units:");
    for u in &r.units {
        let note = u.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        println!("  {:<22} {} / {}{note}", u.unit, u.active, u.enabled);
    }
    let s = &r.server;
    println!("Server ({}, from {}):", s.address, config.display());
    if !s.reachable {
        println!("  not answering: {}", s.error.as_deref().unwrap_or("no reply"));
    }
    if let Some(role) = &s.role {
        println!("  role                 {}", if role == "slave" { "replica" } else { role });
    }
    if let Some(m) = &s.master_link {
        println!(
            "  master               {}:{} link {} (last I/O {}s ago{})",
            m.host,
            m.port,
            m.status,
            m.last_io_seconds_ago,
            if m.sync_in_progress { ", full sync in progress" } else { "" }
        );
    }
    for rep in &s.replicas {
        println!(
            "  replica              {} {} offset {} lag {} bytes, {}s",
            rep.address, rep.state, rep.offset, rep.lag_bytes, rep.lag_seconds
        );
    }
    if let Some(p) = &s.persistence {
        println!(
            "  last save            {}, {} changes since, last bgsave {}{}",
            when(p.last_save_time),
            p.changes_since_last_save,
            p.last_bgsave_status,
            if p.bgsave_in_progress { ", bgsave in progress" } else { "" }
        );
        println!(
            "  AOF                  {}",
            if p.aof_enabled {
                format!(
                    "on, last write {}{}",
                    p.aof_last_write_status,
                    if p.aof_rewrite_in_progress { ", rewrite in progress" } else { "" }
                )
            } else {
                "off".to_string()
            }
        );
    }
    if let Some(m) = &s.memory {
        match m.percent_of_maxmemory {
            Some(pct) => println!(
                "  memory               {} of maxmemory {} bytes ({pct}%), policy {}",
                m.used, m.maxmemory, m.policy
            ),
            None => println!("  memory               {} bytes, no maxmemory, policy {}", m.used, m.policy),
        }
    }
    match &r.sentinel {
        None => println!("Sentinel: {} is absent: not configured on this host", sentinel_config.display()),
        Some(st) => {
            println!("Sentinel ({}):", st.address);
            if !st.reachable {
                println!("  not answering: {}", st.error.as_deref().unwrap_or("no reply"));
            }
            for m in &st.masters {
                println!(
                    "  master {:<12} at {} quorum {} flags {} replicas {} other sentinels {}",
                    m.name, m.address, m.quorum, m.flags, m.replicas, m.other_sentinels
                );
                println!("    ckquorum           {}", m.ckquorum);
            }
        }
    }
}

/// A unix time as an admin reads it: local date and time, and how long ago.
fn when(unix_secs: i64) -> String {
    let ago = crate::util::time::unix_secs().saturating_sub(unix_secs);
    match crate::util::sys::local_strftime(unix_secs, c"%Y-%m-%d %H:%M:%S %Z") {
        Some(t) => format!("{t} ({ago} s ago)"),
        None => format!("{unix_secs} (unix time)"),
    }
}
