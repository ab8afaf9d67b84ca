//! The systemd units in systemd/: `systemd-analyze verify` has nothing to say about any of them,
//! and the services' exposure score (`systemd-analyze security --offline=yes`) is at most 1.0
//! (Debian's redis-server.service scores 1.2).

use std::path::{Path, PathBuf};
use std::process::Command;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_redis-server-rs");
const SENTINEL_BIN: &str = env!("CARGO_BIN_EXE_redis-sentinel-rs");

/// Copies of the units whose ExecStart names the binary just built, so verify can check it exists.
fn units_for_test() -> (tempfile::TempDir, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("/usr/bin/redis-server-rs", SERVER_BIN)
            .replace("/usr/bin/redis-sentinel-rs", SENTINEL_BIN);
        let dst = dir.path().join(p.file_name().unwrap());
        std::fs::write(&dst, text).unwrap();
        out.push(dst);
    }
    out.sort();
    (dir, out)
}

#[test]
fn every_unit_verifies_cleanly() {
    let (_dir, units) = units_for_test();
    let names: Vec<String> = units.iter().map(|u| u.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in [
        "redis-server-rs.service",
        "redis-server-rs.socket",
        "redis-server-rs@.service",
        "redis-server-rs@.socket",
        "redis-sentinel-rs.service",
        "redis-sentinel-rs.socket",
        "redis-sentinel-rs@.service",
        "redis-sentinel-rs@.socket",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing systemd/{expected}");
    }
    let out =
        Command::new("systemd-analyze").arg("verify").arg("--man=no").args(&units).output().expect("systemd-analyze");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.trim().is_empty(), "systemd-analyze verify:\n{text}");
}

#[test]
fn services_are_hardened_at_least_as_well_as_debians() {
    let (_dir, units) = units_for_test();
    for unit in units.iter().filter(|u| u.extension().is_some_and(|e| e == "service")) {
        let out = Command::new("systemd-analyze").args(["security", "--offline=yes"]).arg(unit).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let score: f64 = text
            .lines()
            .find_map(|l| l.split("Overall exposure level for ").nth(1))
            .and_then(|rest| rest.split(": ").nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no score for {}:\n{text}", unit.display()));
        assert!(score <= 1.0, "{} scores {score}:\n{text}", unit.display());
    }
}

/// `(section, key, value)` of every setting of a unit file, in order.
fn settings(unit: &str) -> Vec<(String, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd").join(unit);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// The values of KEY in SECTION (a key may be given several times).
fn values(unit: &str, section: &str, key: &str) -> Vec<String> {
    settings(unit).into_iter().filter(|(s, k, _)| s == section && k == key).map(|(_, _, v)| v).collect()
}

const SERVICES: [&str; 4] =
    ["redis-server-rs.service", "redis-server-rs@.service", "redis-sentinel-rs.service", "redis-sentinel-rs@.service"];

#[test]
fn services_use_debians_umask() {
    // UMask=0077 made dump.rdb and the AOF 0600 and logs unreadable to group adm.
    for unit in SERVICES {
        assert_eq!(values(unit, "Service", "UMask"), ["0007"], "{unit}");
    }
}

#[test]
fn no_alias_is_claimed_by_two_units() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    let mut claimed: Vec<(String, String)> = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        for alias in values(&name, "Install", "Alias").iter().flat_map(|v| v.split_whitespace().map(str::to_string)) {
            if let Some((other, _)) = claimed.iter().find(|(_, a)| *a == alias) {
                panic!("{alias} is claimed by both {other} and {name}: enabling the second one fails");
            }
            claimed.push((name.clone(), alias));
        }
    }
    assert_eq!(values("redis-server-rs.service", "Install", "Alias"), ["redis-rs.service"]);
}

#[test]
fn services_provide_debians_runtime_directories() {
    // A migrated Debian redis.conf says `pidfile /run/redis/redis-server.pid`, sentinel.conf
    // `pidfile /run/sentinel/redis-sentinel.pid`; ProtectSystem=strict makes both unwritable unless
    // the unit provides the directory.
    let expected = [
        ("redis-server-rs.service", "redis"),
        ("redis-server-rs@.service", "redis-%i"),
        ("redis-sentinel-rs.service", "sentinel"),
        ("redis-sentinel-rs@.service", "sentinel-%i"),
    ];
    for (unit, dir) in expected {
        assert_eq!(values(unit, "Service", "RuntimeDirectory"), [dir], "{unit}");
        assert_eq!(values(unit, "Service", "RuntimeDirectoryMode"), ["2755"], "{unit}");
        let writable: Vec<String> = values(unit, "Service", "ReadWritePaths")
            .iter()
            .flat_map(|v| v.split_whitespace().map(|p| p.trim_start_matches('-').to_string()))
            .collect();
        assert!(writable.contains(&format!("/run/{dir}")), "{unit}: /run/{dir} not in ReadWritePaths {writable:?}");
    }
    // Removed when its service stops, a runtime directory must belong to that service alone, and
    // must not hold the sockets that the socket units keep listening across service restarts.
    let sockets_dir = "/run/redis-rs/";
    for unit in ["redis-server-rs.socket", "redis-server-rs@.socket", "redis-sentinel-rs@.socket"] {
        for listen in values(unit, "Socket", "ListenStream").iter().filter(|l| l.starts_with('/')) {
            assert!(listen.starts_with(sockets_dir), "{unit}: {listen} outside {sockets_dir}");
        }
    }
    for unit in SERVICES {
        assert_ne!(values(unit, "Service", "RuntimeDirectory"), ["redis-rs"], "{unit}");
    }
}

#[test]
fn stop_timeouts_are_finite() {
    // The shutdown save extends the stop timeout while it makes progress (EXTEND_TIMEOUT_USEC);
    // a finite base still gets a hung server killed.
    for unit in SERVICES {
        let timeout = values(unit, "Service", "TimeoutStopSec");
        assert_eq!(timeout.len(), 1, "{unit}: {timeout:?}");
        let secs: u64 = timeout[0].parse().unwrap_or_else(|_| panic!("{unit}: TimeoutStopSec={}", timeout[0]));
        assert!(secs > 0, "{unit}: TimeoutStopSec=0 waits for ever");
    }
}

#[test]
fn enabling_or_disabling_a_service_acts_on_its_socket() {
    // `systemctl disable --now redis-sentinel-rs` left the socket listening, and the next
    // connection started the Sentinel the admin had turned off.
    for unit in SERVICES {
        let socket = unit.replace("@.service", "@%i.socket").replace(".service", ".socket");
        assert_eq!(values(unit, "Install", "Also"), [socket], "{unit}");
    }
}

#[test]
fn stopping_sentinel_stops_its_socket() {
    // `systemctl disable --now redis-sentinel-rs` left the socket listening, and the next
    // connection started the Sentinel the admin had just turned off.
    assert_eq!(values("redis-sentinel-rs.socket", "Unit", "PartOf"), ["redis-sentinel-rs.service"]);
    assert_eq!(values("redis-sentinel-rs@.socket", "Unit", "PartOf"), ["redis-sentinel-rs@%i.service"]);
}
