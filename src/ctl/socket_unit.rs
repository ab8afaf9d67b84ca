//! Keeps the packaged socket units in step with the files: under socket activation a socket
//! unit's addresses are the ones served, so when redisctl changes `bind`, `port` or `tls-port` it
//! also writes a drop-in giving the unit the file's addresses. redis-server-rs.socket holds
//! redis.conf's plain port and unix socket, redis-server-rs-tls.socket its TLS port, and
//! redis-sentinel-rs.socket sentinel.conf's port, or its TLS port when it has no plain one (a
//! TLS-only Sentinel: the unit's one socket is then named `redis-tls`).

use std::path::{Path, PathBuf};

use super::files::ConfSet;

const DEFAULT_UNIX: &str = "/run/redis-rs/redis-server.sock";
/// Where the package installs its units: the Sentinel's socket unit is used whenever the packaged
/// Sentinel runs (its service requires it), enabled yet or not.
const PACKAGED_DIR: &str = "/lib/systemd/system";

/// A packaged socket unit that follows a configuration file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    Server,
    ServerTls,
    Sentinel,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Server => "redis-server-rs.socket",
            Unit::ServerTls => "redis-server-rs-tls.socket",
            Unit::Sentinel => "redis-sentinel-rs.socket",
        }
    }

    /// The service these sockets are passed to.
    fn service(self) -> &'static str {
        match self {
            Unit::Server | Unit::ServerTls => "redis-server-rs.service",
            Unit::Sentinel => "redis-sentinel-rs.service",
        }
    }
}

/// Where systemd's admin units live (overridable for tests with REDISCTL_SYSTEMD_DIR).
fn systemd_dir() -> PathBuf {
    std::env::var_os("REDISCTL_SYSTEMD_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/etc/systemd/system"))
}

pub fn dropin_path(unit: Unit) -> PathBuf {
    systemd_dir().join(format!("{}.d", unit.name())).join("redisctl.conf")
}

fn enabled(unit: &str) -> bool {
    // The enablement symlink counts even when its target is elsewhere (e.g. inside a chroot).
    systemd_dir().join("sockets.target.wants").join(unit).symlink_metadata().is_ok()
}

/// Whether the unit's addresses are (or will be, once it is enabled) the ones served. The
/// server's: its socket unit or its TLS socket unit enabled, or a drop-in of ours already there.
/// Sentinel's: the same, or the packaged unit installed, since Sentinel is configured before
/// it is enabled and its service always runs on its socket unit.
fn in_use(unit: Unit) -> bool {
    match unit {
        Unit::Server | Unit::ServerTls => {
            [Unit::Server, Unit::ServerTls].iter().any(|u| enabled(u.name()) || dropin_path(*u).exists())
        }
        Unit::Sentinel => {
            enabled(unit.name())
                || dropin_path(unit).exists()
                || (std::env::var_os("REDISCTL_SYSTEMD_DIR").is_none()
                    && Path::new(PACKAGED_DIR).join(unit.name()).exists())
        }
    }
}

/// Whether `config` is the file of the unit's service: redis.conf or sentinel.conf, not an
/// instance's redis-NAME.conf (its own units are not these), and any file outside /etc/redis (a
/// test's).
fn serves(unit: Unit, config: &Path) -> bool {
    let service = unit.service().trim_end_matches(".service");
    match super::apply::unit_of(config, service) {
        Some(u) => u == service,
        None => true,
    }
}

/// The ListenStream= lines of `port` on the file's bind addresses (`all` when it has none).
fn listen_lines(binds: Option<&[String]>, all: &[&str], port: &str) -> (String, bool) {
    let mut text = String::new();
    let mut optional = false;
    let binds: Vec<String> =
        binds.map(<[String]>::to_vec).unwrap_or_else(|| all.iter().map(|s| s.to_string()).collect());
    for b in &binds {
        let addr = b.strip_prefix('-').unwrap_or(b);
        optional |= b.starts_with('-');
        let listen = match addr {
            "" => port.to_string(),
            "*" => format!("0.0.0.0:{port}"),
            "::*" => format!("[::]:{port}"),
            a if a.contains(':') => format!("[{a}]:{port}"),
            a => format!("{a}:{port}"),
        };
        text.push_str(&format!("ListenStream={listen}\n"));
    }
    (text, optional)
}

/// The drop-in for `unit` from `config`, or None when the file gives the unit nothing to hold
/// (no tls-port for the TLS socket unit), in which case it is left as it is.
pub fn render(unit: Unit, config: &Path) -> Result<Option<String>, String> {
    let set = ConfSet::load(config)?;
    let value = |name: &str, default: &str| {
        set.find(name, &[]).and_then(|f| f.values.first().cloned()).unwrap_or_else(|| default.into())
    };
    let bind = set.find("bind", &[]).map(|f| f.values);
    let mut text = format!(
        "# Written by redisctl from {}: with socket activation these are the addresses served.\n[Socket]\nListenStream=\n",
        config.display()
    );
    let (lines, optional) = match unit {
        Unit::Server => {
            let port = value("port", "6379");
            let (mut lines, optional) =
                if port != "0" { listen_lines(bind.as_deref(), &["*", "-::*"], &port) } else { (String::new(), false) };
            let unix = set.find("unixsocket", &[]).and_then(|f| f.values.first().cloned()).filter(|u| !u.is_empty());
            lines.push_str(&format!("ListenStream={}\n", unix.as_deref().unwrap_or(DEFAULT_UNIX)));
            (lines, optional)
        }
        Unit::ServerTls => match value("tls-port", "0").as_str() {
            "0" => return Ok(None),
            port => listen_lines(bind.as_deref(), &["*", "-::*"], port),
        },
        Unit::Sentinel => {
            // The packaged unit listens on every address, dual-stack, as Debian's Sentinel does.
            let (port, name) = match (value("port", "26379"), value("tls-port", "0")) {
                (p, _) if p != "0" => (p, "redis"),
                (_, t) if t != "0" => (t, "redis-tls"),
                _ => return Ok(None),
            };
            let (lines, optional) = listen_lines(bind.as_deref(), &[""], &port);
            (format!("{lines}FileDescriptorName={name}\n"), optional)
        }
    };
    text.push_str(&lines);
    if optional {
        // Like bind's '-': an address that does not exist (yet) does not stop the socket unit.
        text.push_str("FreeBind=yes\n");
    }
    Ok(Some(text))
}

/// Writes the drop-in (atomically) if it would change; returns what was done, if anything.
pub fn sync(unit: Unit, config: &Path, dry_run: bool) -> Result<Option<String>, String> {
    if !in_use(unit) || !serves(unit, config) {
        return Ok(None);
    }
    let path = dropin_path(unit);
    if dry_run {
        // The dry run left the file as it was, so the drop-in cannot be rendered from it.
        return Ok(Some(format!("{}: would be rewritten from the new addresses\n", path.display())));
    }
    let Some(text) = render(unit, config)? else { return Ok(None) };
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    if before == text {
        return Ok(None);
    }
    let dir = path.parent().ok_or("no parent directory")?;
    std::fs::create_dir_all(dir).map_err(|e| super::files::io_error(dir, &e, true))?;
    let doc = crate::config::document::ConfigDocument::parse(&path, &text);
    doc.save().map_err(|e| super::files::io_error(&path, &e, true))?;
    Ok(Some(format!(
        "{}: updated for {}; 'systemctl daemon-reload' and a restart of the socket apply it",
        path.display(),
        unit.name()
    )))
}

/// --apply: reload systemd and restart the server's sockets (the TLS one when it is enabled)
/// and the service in one transaction, so the service starts with every new socket.
pub fn apply() -> Result<String, String> {
    let mut restart = vec!["restart", Unit::Server.name()];
    if enabled(Unit::ServerTls.name()) {
        restart.push(Unit::ServerTls.name());
    }
    restart.push("redis-server-rs.service");
    for args in [vec!["daemon-reload"], restart.clone()] {
        let st = std::process::Command::new("systemctl")
            .args(&args)
            .status()
            .map_err(|e| format!("systemctl: {}", super::files::plain(&e)))?;
        if !st.success() {
            return Err(format!("'systemctl {}' failed", args.join(" ")));
        }
    }
    Ok(format!("reloaded systemd and restarted {}", restart[1..].join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(unit: Unit, conf: &str) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("redis.conf");
        std::fs::write(&path, conf).unwrap();
        render(unit, &path).unwrap().map(|t| t.split_once("[Socket]\n").unwrap().1.to_string())
    }

    #[test]
    fn a_tls_only_server_keeps_only_its_unix_socket_and_its_tls_port() {
        let conf = "bind 127.0.0.1 -::1\nport 0\ntls-port 6379\n";
        assert_eq!(
            rendered(Unit::Server, conf).unwrap(),
            "ListenStream=\nListenStream=/run/redis-rs/redis-server.sock\n"
        );
        assert_eq!(
            rendered(Unit::ServerTls, conf).unwrap(),
            "ListenStream=\nListenStream=127.0.0.1:6379\nListenStream=[::1]:6379\nFreeBind=yes\n"
        );
        // No tls-port: the TLS socket unit is left as it is.
        assert_eq!(rendered(Unit::ServerTls, "port 6379\n"), None);
    }

    #[test]
    fn sentinel_names_its_socket_by_the_port_it_serves() {
        assert_eq!(
            rendered(Unit::Sentinel, "").unwrap(),
            "ListenStream=\nListenStream=26379\nFileDescriptorName=redis\n"
        );
        assert_eq!(
            rendered(Unit::Sentinel, "port 0\ntls-port 26379\n").unwrap(),
            "ListenStream=\nListenStream=26379\nFileDescriptorName=redis-tls\n"
        );
        assert_eq!(
            rendered(Unit::Sentinel, "bind 10.0.0.2\nport 26380\ntls-port 26379\n").unwrap(),
            "ListenStream=\nListenStream=10.0.0.2:26380\nFileDescriptorName=redis\n"
        );
    }

    #[test]
    fn an_instance_file_is_not_the_packaged_units() {
        assert!(serves(Unit::Server, Path::new("/etc/redis/redis.conf")));
        assert!(!serves(Unit::Server, Path::new("/etc/redis/redis-replica.conf")));
        assert!(!serves(Unit::ServerTls, Path::new("/etc/redis/redis-replica.conf")));
        assert!(serves(Unit::Sentinel, Path::new("/etc/redis/sentinel.conf")));
        assert!(!serves(Unit::Sentinel, Path::new("/etc/redis/sentinel-b.conf")));
        assert!(serves(Unit::Server, Path::new("/tmp/x/redis.conf")));
    }
}
