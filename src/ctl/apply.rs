//! --apply: make a change take effect in the running server, or go through a running Sentinel
//! (which rewrites its own file), using the project's RESP client.

use std::path::Path;
use std::time::Duration;

use super::files::ConfSet;
use crate::client::{Client, Value};

pub enum ServerChange {
    /// CONFIG SET name value.
    ConfigSet(&'static str, String),
    /// REPLICAOF host port, or REPLICAOF NO ONE.
    Replicaof(Option<(String, u16)>),
}

/// Where and how to reach a server, as its config file says (read before the file is edited, so
/// a change of port or bind still reaches the running server).
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub password: Option<String>,
    /// Whether this is the packaged service's file, so restarting its unit restarts this server.
    pub is_service_config: bool,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start: {e}"))
}

/// The address to connect to for a file's `bind`/`port`, and its `requirepass`.
pub fn target(config: &Path, default_port: u16) -> Result<Target, String> {
    let set = ConfSet::load(config)?;
    let port =
        set.find("port", &[]).and_then(|f| f.values.first().and_then(|p| p.parse().ok())).unwrap_or(default_port);
    let bind = set.find("bind", &[]).map(|f| f.values).unwrap_or_default();
    let host = bind
        .iter()
        .map(|a| a.trim_start_matches('-'))
        .find(|a| *a != "*" && *a != "::*")
        .map(|a| if a == "0.0.0.0" { "127.0.0.1" } else { a })
        .unwrap_or("127.0.0.1")
        .to_string();
    let password = set.find("requirepass", &[]).and_then(|f| f.values.first().cloned()).filter(|p| !p.is_empty());
    let is_service_config = config == Path::new("/etc/redis/redis.conf");
    Ok(Target { host, port, password, is_service_config })
}

async fn connect(t: &Target) -> std::io::Result<Client> {
    let mut c = Client::connect(&t.host, t.port, Duration::from_secs(5)).await?;
    if let Some(p) = &t.password {
        c.auth(None, p).await?;
    }
    Ok(c)
}

/// Applies a server change live; when Redis cannot change it live, restarts the unit.
pub fn server(target: &Target, change: ServerChange) -> Result<String, String> {
    let (args, shown): (Vec<String>, String) = match &change {
        ServerChange::ConfigSet(name, value) => {
            let shown =
                if *name == "requirepass" || *name == "masterauth" { "(secret)".to_string() } else { value.clone() };
            (vec!["CONFIG".into(), "SET".into(), name.to_string(), value.clone()], format!("CONFIG SET {name} {shown}"))
        }
        ServerChange::Replicaof(Some((h, p))) => {
            (vec!["REPLICAOF".into(), h.clone(), p.to_string()], format!("REPLICAOF {h} {p}"))
        }
        ServerChange::Replicaof(None) => {
            (vec!["REPLICAOF".into(), "NO".into(), "ONE".into()], "REPLICAOF NO ONE".into())
        }
    };
    let addr = format!("{}:{}", target.host, target.port);
    let reply = runtime()?.block_on(async {
        let mut c = connect(target).await?;
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.command(&refs).await
    });
    match reply {
        Ok(Value::Error(e)) if target.is_service_config => {
            restart_unit(&format!("the server at {addr} refused {shown}: {e}"))
        }
        Ok(Value::Error(e)) => Err(format!(
            "the server at {addr} refused {shown}: {e}: the file is updated, restart the server to apply it"
        )),
        Ok(_) => Ok(format!("applied to the running server at {addr}: {shown}")),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Ok(format!("no server is running at {addr}: the change takes effect when it starts"))
        }
        Err(e) => Err(format!("the file is updated, but applying it to {addr} failed: {e}")),
    }
}

/// Restarts redis-server-rs with systemctl when the setting cannot change live.
fn restart_unit(why: &str) -> Result<String, String> {
    let unit = "redis-server-rs";
    let active = std::process::Command::new("systemctl")
        .args(["is-active", "--quiet", unit])
        .stderr(std::process::Stdio::null())
        .status();
    match active {
        Ok(s) if s.success() => {
            let st = std::process::Command::new("systemctl")
                .args(["restart", unit])
                .stderr(std::process::Stdio::null())
                .status();
            match st {
                Ok(s) if s.success() => Ok(format!("{why}; restarted {unit} to apply the file")),
                _ => Err(format!(
                    "{why}; 'systemctl restart {unit}' failed: the file is updated, restart the server to apply it"
                )),
            }
        }
        _ => Err(format!("{why}: the file is updated, restart the server to apply it")),
    }
}

/// The address of a Sentinel running for this sentinel.conf, if one answers.
pub fn running_sentinel(config: &Path) -> Result<Option<Target>, String> {
    let t = target(config, 26379)?;
    let probe = runtime()?.block_on(async {
        let mut c = connect(&t).await?;
        c.command(&["INFO", "server"]).await
    });
    match probe {
        Ok(v) => Ok(v.text().filter(|s| s.contains("redis_mode:sentinel")).map(|_| t)),
        Err(_) => Ok(None),
    }
}

/// Sends `SENTINEL <command...>` to the running Sentinel, which persists the change itself.
pub fn sentinel(t: &Target, command: &[&str]) -> Result<String, String> {
    let mut args = vec!["SENTINEL"];
    args.extend_from_slice(command);
    let shown: Vec<&str> = if command.first() == Some(&"set") && command.get(2) == Some(&"auth-pass") {
        vec!["SENTINEL", "set", command[1], "auth-pass", "(secret)"]
    } else {
        args.clone()
    };
    let addr = format!("{}:{}", t.host, t.port);
    let reply = runtime()?.block_on(async {
        let mut c = connect(t).await?;
        c.command(&args).await
    });
    match reply {
        Ok(Value::Error(e)) => Err(format!("the Sentinel at {addr} refused {}: {e}", shown.join(" "))),
        Ok(_) => Ok(format!(
            "applied through the running Sentinel at {addr}: {} (it rewrites its config file itself)",
            shown.join(" ")
        )),
        Err(e) => Err(format!("the Sentinel at {addr} did not answer: {e}")),
    }
}
