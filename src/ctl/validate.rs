//! Validation of what the admin types, before any file is touched.

use std::net::IpAddr;

/// A `bind` address: an IPv4 or IPv6 address, `*` or `::*`, optionally prefixed with `-`
/// (Redis skips a `-` address that is not available instead of failing).
pub fn bind_address(a: &str) -> Result<(), String> {
    let bare = a.strip_prefix('-').unwrap_or(a);
    if bare == "*" || bare == "::*" || bare.parse::<IpAddr>().is_ok() {
        Ok(())
    } else {
        Err(format!(
            "invalid bind address '{a}': expected an IPv4 or IPv6 address, '*' or '::*', optionally prefixed with '-'"
        ))
    }
}

/// A TCP port, 1-65535 (0 disables TCP in `port`, which has its own rule).
pub fn port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("invalid port '{p}': expected a number from 1 to 65535")),
    }
}

/// A host name or an IP address for replicaof / sentinel monitor.
pub fn host(h: &str) -> Result<(), String> {
    if h.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(valid_label)
        && !h.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        Ok(())
    } else {
        Err(format!("invalid host '{h}': expected an IP address or a host name"))
    }
}

pub fn quorum(q: &str) -> Result<u32, String> {
    match q.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("invalid quorum '{q}': expected a number of sentinels, 1 or more")),
    }
}

/// A Sentinel master name: Redis accepts letters, digits and `.-_`.
pub fn master_name(n: &str) -> Result<(), String> {
    if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        Ok(())
    } else {
        Err(format!("invalid master name '{n}': use letters, digits, '.', '-' and '_'"))
    }
}

pub fn positive_number(what: &str, v: &str) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("invalid {what} '{v}': expected a positive whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_ports_hosts() {
        for ok in ["10.0.0.2", "127.0.0.1", "-::1", "::1", "*", "-::*", "fe80::1"] {
            assert!(bind_address(ok).is_ok(), "{ok}");
        }
        for bad in ["10.0.0.256", "localhost", "", "--::1", "1.2.3"] {
            assert!(bind_address(bad).is_err(), "{bad}");
        }
        assert!(port("0").is_err() && port("65536").is_err() && port("abc").is_err() && port("6379").is_ok());
        assert!(host("redis-1.example.com").is_ok() && host("10.0.0.1").is_ok());
        assert!(host("10.0.0.300").is_err() && host("bad host").is_err() && host("").is_err());
        assert!(quorum("0").is_err() && quorum("2").is_ok());
    }
}
