//! --apply: make a change take effect in the running server, or go through a running Sentinel
//! (which rewrites its own file), using the project's RESP client.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::ConfSet;
use crate::client::{Client, Value};

pub enum ServerChange {
    /// CONFIG SET name value.
    ConfigSet(String, String),
    /// CONFIG SET of several directives at once (applied together, or none), always sent: the
    /// TLS files are read again even at the same paths.
    ConfigSetMany(Vec<(String, String)>),
    /// REPLICAOF host port, or REPLICAOF NO ONE.
    Replicaof(Option<(String, u16)>),
    /// An ACL command (SETUSER, DELUSER, LOAD), always sent: ACL GETUSER cannot tell whether a
    /// user already is what its line says without the same rules engine on both sides.
    Acl(Vec<String>),
}

impl ServerChange {
    fn args(&self) -> Vec<String> {
        match self {
            ServerChange::ConfigSet(name, value) => vec!["CONFIG".into(), "SET".into(), name.clone(), value.clone()],
            ServerChange::ConfigSetMany(pairs) => ["CONFIG", "SET"]
                .into_iter()
                .map(String::from)
                .chain(pairs.iter().flat_map(|(n, v)| [n.clone(), v.clone()]))
                .collect(),
            ServerChange::Replicaof(Some((h, p))) => vec!["REPLICAOF".into(), h.clone(), p.to_string()],
            ServerChange::Replicaof(None) => vec!["REPLICAOF".into(), "NO".into(), "ONE".into()],
            ServerChange::Acl(args) => args.clone(),
        }
    }

    /// The directive (or command) this change is about.
    pub fn name(&self) -> &str {
        match self {
            ServerChange::ConfigSet(name, _) => name,
            ServerChange::ConfigSetMany(pairs) => pairs.first().map_or("CONFIG SET", |(n, _)| n),
            ServerChange::Replicaof(_) => "replicaof",
            ServerChange::Acl(_) => "ACL",
        }
    }

    /// The command as shown to the admin: a secret's value never is.
    pub fn shown(&self) -> String {
        match self {
            ServerChange::ConfigSet(name, _) if is_secret(name) => format!("CONFIG SET {name} (secret)"),
            ServerChange::ConfigSet(name, value) if value.is_empty() => format!("CONFIG SET {name} \"\""),
            ServerChange::ConfigSetMany(pairs) => {
                let shown =
                    pairs.iter().map(|(n, v)| if is_secret(n) { format!("{n} (secret)") } else { format!("{n} {v}") });
                format!("CONFIG SET {}", shown.collect::<Vec<_>>().join(" "))
            }
            // Password rules and hashes are never shown.
            ServerChange::Acl(args) => args
                .iter()
                .map(|a| if a.starts_with(['>', '<', '#', '!']) { "(secret)" } else { a.as_str() })
                .collect::<Vec<_>>()
                .join(" "),
            _ => self.args().join(" "),
        }
    }
}

fn is_secret(name: &str) -> bool {
    crate::config::table::lookup(name).is_some_and(|(_, s)| s.has(crate::config::table::SENSITIVE))
}

/// Where and how to reach a server, as its config file says (read before the file is edited, so
/// a change of port or bind still reaches the running server).
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The Unix socket, used when the instance has no TCP port (`port 0`, e.g. a templated
    /// instance that only listens on its socket).
    pub unixsocket: Option<PathBuf>,
    pub password: Option<String>,
    /// The systemd unit that runs the server of this file, if it is one of the packaged ones
    /// (/etc/redis/redis.conf, or /etc/redis/redis-NAME.conf for the templated @NAME instances).
    pub unit: Option<String>,
}

impl Target {
    pub fn address(&self) -> String {
        match &self.unixsocket {
            Some(p) if self.port == 0 => p.display().to_string(),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start: {e}"))
}

/// The unit the packaging runs for a config file, by the paths its unit files name.
pub fn unit_of(config: &Path, server: &str) -> Option<String> {
    let dir = Path::new("/etc/redis");
    let file = config.file_name()?.to_str()?;
    if config.parent()? != dir {
        return None;
    }
    let base = if server == "redis-server-rs" { "redis" } else { "sentinel" };
    if file == format!("{base}.conf") {
        return Some(server.to_string());
    }
    let name = file.strip_prefix(&format!("{base}-"))?.strip_suffix(".conf")?;
    (!name.is_empty()).then(|| format!("{server}@{name}"))
}

/// The address to connect to for a file's `bind`/`port`/`unixsocket`, and its `requirepass`.
pub fn target(config: &Path, default_port: u16) -> Result<Target, String> {
    let set = ConfSet::load(config)?;
    let port =
        set.find("port", &[]).and_then(|f| f.values.first().and_then(|p| p.parse().ok())).unwrap_or(default_port);
    let bind = set.find("bind", &[]).map(|f| f.values).unwrap_or_default();
    let host = local_address(&bind);
    let unixsocket = set.find("unixsocket", &[]).and_then(|f| f.values.first().cloned()).filter(|p| !p.is_empty());
    let password = set.find("requirepass", &[]).and_then(|f| f.values.first().cloned()).filter(|p| !p.is_empty());
    let server = if default_port == 26379 { "redis-sentinel-rs" } else { "redis-server-rs" };
    Ok(Target { host, port, unixsocket: unixsocket.map(PathBuf::from), password, unit: unit_of(config, server) })
}

/// The address of the server to talk to among its `bind` addresses: a loopback one first, since
/// protected mode refuses other addresses until a password is set (`redisctl bind 10.0.0.2
/// 127.0.0.1` followed by `redisctl --apply requirepass` is the guide's order); then a wildcard's
/// loopback; then the first address.
fn local_address(bind: &[String]) -> String {
    let addrs: Vec<&str> = bind.iter().map(|a| a.trim_start_matches('-')).collect();
    let is_loopback = |a: &str| a.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if let Some(a) = addrs.iter().find(|a| is_loopback(a)) {
        return a.to_string();
    }
    if addrs.is_empty() || addrs.iter().any(|a| matches!(*a, "*" | "0.0.0.0")) {
        return "127.0.0.1".to_string();
    }
    if addrs.iter().any(|a| matches!(*a, "::*" | "::")) {
        return "::1".to_string();
    }
    addrs[0].to_string()
}

pub async fn connect(t: &Target) -> std::io::Result<Client> {
    let timeout = Duration::from_secs(5);
    let mut c = match &t.unixsocket {
        Some(path) if t.port == 0 => Client::connect_unix(path, timeout).await?,
        _ => Client::connect(&t.host, t.port, timeout).await?,
    };
    if let Some(p) = &t.password {
        c.auth(None, p).await?;
    }
    Ok(c)
}

/// What became of a change sent to the running server.
pub enum Applied {
    /// The server took it.
    Done(String),
    /// The server already had this value: nothing was sent.
    AlreadyInEffect(String),
    /// Nothing answers at the address: the file is all there is to change.
    NotRunning(String),
    /// The server refused the command, with its error reply.
    Refused(String),
}

/// Whether the running server already has `change` in effect.
async fn in_effect(c: &mut Client, change: &ServerChange) -> std::io::Result<bool> {
    match change {
        ServerChange::Acl(_) | ServerChange::ConfigSetMany(_) => Ok(false),
        ServerChange::ConfigSet(name, value) => {
            let Some(wanted) = normalized(name, value) else { return Ok(false) };
            let reply = c.command(&["CONFIG", "GET", name]).await?;
            Ok(match reply {
                Value::Array(items) => items.get(1).and_then(Value::text).is_some_and(|v| v == wanted),
                _ => false,
            })
        }
        ServerChange::Replicaof(wanted) => {
            let info = c.command(&["INFO", "replication"]).await?.text().unwrap_or_default();
            let field = |k: &str| info.lines().find_map(|l| l.strip_prefix(k)).map(str::to_string);
            Ok(match wanted {
                None => field("role:").as_deref() == Some("master"),
                Some((h, p)) => {
                    field("role:").as_deref() == Some("slave")
                        && field("master_host:").as_deref() == Some(h.as_str())
                        && field("master_port:") == Some(p.to_string())
                }
            })
        }
    }
}

/// The value as CONFIG GET would show it once set (`1gb` is `1073741824`, `YES` is `yes`).
fn normalized(name: &str, value: &str) -> Option<String> {
    let (idx, _) = crate::config::table::lookup(name)?;
    let mut cfg = crate::config::Config::default();
    let v = cfg.parse_set(idx, value).ok()?;
    cfg.set_val(idx, v);
    Some(cfg.render(idx))
}

/// Sends a change to the running server unless it already has it.
pub fn server(target: &Target, change: &ServerChange) -> Result<Applied, String> {
    let shown = change.shown();
    let addr = target.address();
    let args = change.args();
    let reply = runtime()?.block_on(async {
        let mut c = connect(target).await?;
        if in_effect(&mut c, change).await? {
            return Ok(None);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.command(&refs).await.map(Some)
    });
    match reply {
        Ok(None) => Ok(Applied::AlreadyInEffect(format!(
            "the running server at {addr} already has this value: nothing sent ({shown})"
        ))),
        Ok(Some(Value::Error(e))) => Ok(Applied::Refused(format!("the server at {addr} refused {shown}: {e}"))),
        Ok(Some(_)) => Ok(Applied::Done(format!("applied to the running server at {addr}: {shown}"))),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound) => {
            Ok(Applied::NotRunning(format!("no server is running at {addr}: the change takes effect when it starts")))
        }
        Err(e) => Err(format!("the file is updated, but applying it to {addr} failed: {}", super::files::plain(&e))),
    }
}

/// Whether a server answers at the target's address.
pub fn answers(target: &Target) -> bool {
    // Only whether something listens: a password that does not work still means a server runs.
    let anyone = Target { password: None, ..target.clone() };
    runtime().is_ok_and(|rt| rt.block_on(async { connect(&anyone).await.is_ok() }))
}

/// Restarts the server's unit when a setting cannot change live.
pub fn restart_unit(target: &Target, why: &str) -> Result<String, String> {
    let Some(unit) = &target.unit else {
        return Err(format!("{why}: the file is updated, restart the server to apply it"));
    };
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
    let mut shown: Vec<&str> = args.clone();
    // SENTINEL SET name option value [option value ...] and SENTINEL CONFIG SET option value:
    // secrets are never shown.
    if command.first().is_some_and(|c| c.eq_ignore_ascii_case("set") || c.eq_ignore_ascii_case("config")) {
        for i in (4..shown.len()).step_by(2) {
            if super::sentinel_edit::secret_option(shown[i - 1]) {
                shown[i] = "(secret)";
            }
        }
    }
    let addr = t.address();
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
        Err(e) => Err(format!("the Sentinel at {addr} did not answer: {}", super::files::plain(&e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_bind_address_is_preferred() {
        let v = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(local_address(&v("10.0.0.2 127.0.0.1")), "127.0.0.1");
        assert_eq!(local_address(&v("10.0.0.2 -::1")), "::1");
        assert_eq!(local_address(&v("10.0.0.2 *")), "127.0.0.1");
        assert_eq!(local_address(&v("* -::*")), "127.0.0.1");
        assert_eq!(local_address(&v("::*")), "::1");
        assert_eq!(local_address(&[]), "127.0.0.1");
        assert_eq!(local_address(&v("10.0.0.2")), "10.0.0.2");
    }

    #[test]
    fn packaged_units_of_config_files() {
        assert_eq!(unit_of(Path::new("/etc/redis/redis.conf"), "redis-server-rs").as_deref(), Some("redis-server-rs"));
        assert_eq!(
            unit_of(Path::new("/etc/redis/redis-cache.conf"), "redis-server-rs").as_deref(),
            Some("redis-server-rs@cache")
        );
        assert_eq!(
            unit_of(Path::new("/etc/redis/sentinel-a.conf"), "redis-sentinel-rs").as_deref(),
            Some("redis-sentinel-rs@a")
        );
        assert_eq!(unit_of(Path::new("/tmp/redis.conf"), "redis-server-rs"), None);
        assert_eq!(unit_of(Path::new("/etc/redis/redis-.conf"), "redis-server-rs"), None);
    }

    #[test]
    fn values_compare_as_config_get_shows_them() {
        assert_eq!(normalized("maxmemory", "1mb").as_deref(), Some("1048576"));
        assert_eq!(normalized("protected-mode", "YES").as_deref(), Some("yes"));
        assert_eq!(normalized("maxmemory", "lots"), None);
        assert_eq!(
            ServerChange::ConfigSet("requirepass".into(), "pw".into()).shown(),
            "CONFIG SET requirepass (secret)"
        );
        let many = ServerChange::ConfigSetMany(vec![
            ("tls-port".into(), "6380".into()),
            ("tls-key-file-pass".into(), "pw".into()),
        ]);
        assert_eq!(many.shown(), "CONFIG SET tls-port 6380 tls-key-file-pass (secret)");
        assert_eq!(many.args(), ["CONFIG", "SET", "tls-port", "6380", "tls-key-file-pass", "pw"]);
    }
}
