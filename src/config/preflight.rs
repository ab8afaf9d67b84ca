//! Start-up checks that need the whole configuration rather than one line: a file can parse line
//! by line and still describe a server that refuses to start (two `bind` addresses that cannot
//! both be bound, nowhere to listen, cluster mode). The server refuses to start on these;
//! `redisctl` runs the same checks before it writes a file, so an edit never leaves a server
//! that will not start.

use std::net::IpAddr;

use super::{Config, Val};

/// Why a configuration that parses would still not start, in the words the server logs.
pub fn check(cfg: &Config) -> Result<(), String> {
    if let Some(reason) = cluster_refusal(cfg) {
        return Err(reason.to_string());
    }
    let port = cfg.int(crate::ckey!("port"));
    let binds = match cfg.val(crate::ckey!("bind")) {
        Val::List(l) => l.clone(),
        _ => Vec::new(),
    };
    // The TLS port listens on the same addresses: Redis fails the same way there ("(TLS)").
    let tls_port = cfg.int(crate::ckey!("tls-port"));
    let (port, kind) = if port != 0 { (port, "TCP") } else { (tls_port, "TLS") };
    if port != 0 {
        if let Some(bad) = binds.iter().find(|b| bind_ip(b).is_none()) {
            return Err(format!(
                "bind {bad} is not an IP address, '*' or '::*': Redis aborts with 'Failed listening on port {port} ({kind}), aborting.'"
            ));
        }
        if let Some((a, b)) = bind_conflict(&binds) {
            return Err(format!(
                "bind {a} and {b} cannot both listen on port {port} (the second fails with 'Address already in use'): Redis aborts with 'Failed listening on port {port} ({kind}), aborting.'"
            ));
        }
    }
    if port == 0 && cfg.str(crate::ckey!("unixsocket")).is_empty() {
        return Err("port 0, no tls-port and no unixsocket: Configured to not listen anywhere, exiting.".to_string());
    }
    Ok(())
}

/// The server has no cluster mode: `cluster-enabled yes` stops it at start-up.
pub fn cluster_refusal(cfg: &Config) -> Option<&'static str> {
    cfg.bool(crate::ckey!("cluster-enabled")).then_some("Cluster mode is not supported by redis-rs")
}

/// Two `bind` addresses of which the second cannot be bound once the first is: the same address
/// twice, or an address and its family's wildcard (`*`/0.0.0.0, `::*`/::). The listening sockets
/// use SO_REUSEADDR and IPv6 sockets are v6-only, as in Redis, so IPv4 and IPv6 never collide.
/// The `-` prefix does not help: it only skips addresses that do not exist on the host.
pub fn bind_conflict(binds: &[String]) -> Option<(String, String)> {
    let ips: Vec<(&String, IpAddr)> = binds.iter().filter_map(|b| bind_ip(b).map(|ip| (b, ip))).collect();
    for (i, (a, ip_a)) in ips.iter().enumerate() {
        for (b, ip_b) in &ips[i + 1..] {
            let same_family = ip_a.is_ipv4() == ip_b.is_ipv4();
            if same_family && (ip_a == ip_b || ip_a.is_unspecified() || ip_b.is_unspecified()) {
                return Some(((*a).clone(), (*b).clone()));
            }
        }
    }
    None
}

fn bind_ip(b: &str) -> Option<IpAddr> {
    match b.strip_prefix('-').unwrap_or(b) {
        "*" => Some(IpAddr::from([0u8, 0, 0, 0])),
        "::*" => Some(IpAddr::from([0u16; 8])),
        a => a.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict(b: &str) -> bool {
        bind_conflict(&b.split(' ').map(str::to_string).collect::<Vec<_>>()).is_some()
    }

    #[test]
    fn binds_that_redis_cannot_listen_on_together() {
        // Each checked against Redis 7.0.15: these abort with "Address already in use".
        for bad in ["127.0.0.1 127.0.0.1", "* 127.0.0.1", "127.0.0.1 *", "::* ::1", "0.0.0.0 *", "::1 -::1", "-::* ::1"]
        {
            assert!(conflict(bad), "{bad}");
        }
        for good in ["* -::*", "127.0.0.1 127.0.0.2", "127.0.0.1 ::1", "127.0.0.1 -::1"] {
            assert!(!conflict(good), "{good}");
        }
    }

    #[test]
    fn whole_config_checks() {
        assert!(check(&Config::validate("bind 127.0.0.1 127.0.0.1").unwrap()).is_err());
        assert!(check(&Config::validate("bind 127.0.0.1 127.0.0.1\nport 0\nunixsocket /tmp/x.sock").unwrap()).is_ok());
        assert!(check(&Config::validate("port 0").unwrap()).is_err());
        assert!(check(&Config::validate("cluster-enabled yes").unwrap()).is_err());
        assert!(check(&Config::validate("bind 127.0.0.1 -::1").unwrap()).is_ok());
        assert!(check(&Config::validate("bind 1.2.3").unwrap()).is_err());
        // TLS only: the TLS port is somewhere to listen, on the same bind addresses.
        assert!(check(&Config::validate("port 0\ntls-port 6380").unwrap()).is_ok());
        let tls_conflict = check(&Config::validate("port 0\ntls-port 6380\nbind * 127.0.0.1").unwrap());
        assert!(tls_conflict.is_err_and(|e| e.contains("port 6380 (TLS)")));
    }
}
