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
