//! Keeps redis-server-rs.socket in step with redis.conf: under socket activation the socket unit's
//! addresses are the ones served, so when the socket unit is enabled, `redisctl bind` and `port`
//! also write a drop-in that gives it redis.conf's addresses.

use std::path::{Path, PathBuf};

use super::files::ConfSet;

const UNIT: &str = "redis-server-rs.socket";
const DEFAULT_UNIX: &str = "/run/redis-rs/redis-server.sock";

/// Where systemd's admin units live (overridable for tests with REDISCTL_SYSTEMD_DIR).
fn systemd_dir() -> PathBuf {
    std::env::var_os("REDISCTL_SYSTEMD_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/etc/systemd/system"))
}

pub fn dropin_path() -> PathBuf {
    systemd_dir().join(format!("{UNIT}.d")).join("redisctl.conf")
}

/// Whether the socket unit is enabled (its symlink in sockets.target.wants) or already has our drop-in.
pub fn in_use() -> bool {
    let dir = systemd_dir();
    // The enablement symlink counts even when its target is elsewhere (e.g. inside a chroot).
    dir.join("sockets.target.wants").join(UNIT).symlink_metadata().is_ok() || dropin_path().exists()
}

/// ListenStream= lines for redis.conf's bind, port and unixsocket.
pub fn render(config: &Path) -> Result<String, String> {
    let set = ConfSet::load(config)?;
    let port = set.find("port", &[]).and_then(|f| f.values.first().cloned()).unwrap_or_else(|| "6379".into());
    let binds = set.find("bind", &[]).map(|f| f.values).unwrap_or_else(|| vec!["*".into(), "-::*".into()]);
    let unix = set.find("unixsocket", &[]).and_then(|f| f.values.first().cloned()).filter(|u| !u.is_empty());
    let mut text = String::from(
        "# Written by redisctl from /etc/redis/redis.conf's bind, port and unixsocket: with socket\n# activation these are the addresses redis-server-rs serves.\n[Socket]\nListenStream=\n",
    );
    let mut optional = false;
    if port != "0" {
        for b in &binds {
            let addr = b.strip_prefix('-').unwrap_or(b);
            optional |= b.starts_with('-');
            let listen = match addr {
                "*" => format!("0.0.0.0:{port}"),
                "::*" => format!("[::]:{port}"),
                a if a.contains(':') => format!("[{a}]:{port}"),
                a => format!("{a}:{port}"),
            };
            text.push_str(&format!("ListenStream={listen}\n"));
        }
    }
    text.push_str(&format!("ListenStream={}\n", unix.as_deref().unwrap_or(DEFAULT_UNIX)));
    if optional {
        // Like bind's '-': an address that does not exist (yet) does not stop the socket unit.
        text.push_str("FreeBind=yes\n");
    }
    Ok(text)
}

/// Writes the drop-in (atomically) if it would change; returns what was done, if anything.
pub fn sync(config: &Path, dry_run: bool) -> Result<Option<String>, String> {
    if !in_use() {
        return Ok(None);
    }
    let path = dropin_path();
    if dry_run {
        // The dry run left redis.conf as it was, so the drop-in cannot be rendered from it.
        return Ok(Some(format!("{}: would be rewritten from the new bind and port\n", path.display())));
    }
    let text = render(config)?;
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    if before == text {
        return Ok(None);
    }
    let dir = path.parent().ok_or("no parent directory")?;
    std::fs::create_dir_all(dir).map_err(|e| super::files::io_error(dir, &e, true))?;
    let doc = crate::config::document::ConfigDocument::parse(&path, &text);
    doc.save().map_err(|e| super::files::io_error(&path, &e, true))?;
    Ok(Some(format!(
        "{}: updated for {UNIT}; 'systemctl daemon-reload' and a restart of the socket apply it",
        path.display()
    )))
}

/// --apply: reload systemd and restart the socket and the service so the new addresses are served.
pub fn apply() -> Result<String, String> {
    for args in [&["daemon-reload"][..], &["restart", UNIT, "redis-server-rs.service"]] {
        let st = std::process::Command::new("systemctl")
            .args(args)
            .status()
            .map_err(|e| format!("systemctl: {}", super::files::plain(&e)))?;
        if !st.success() {
            return Err(format!("'systemctl {}' failed", args.join(" ")));
        }
    }
    Ok(format!("reloaded systemd and restarted {UNIT} and redis-server-rs.service"))
}
