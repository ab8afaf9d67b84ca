//! SENTINEL CONFIG GET/SET: the global parameters (7.0: one parameter per call).

use super::super::model::SentinelConfig;
use super::super::state::Sentinel;
use super::{bulk_str, Outcome};
use crate::protocol::Reply;
use crate::util::glob::string_match;
use crate::util::numbers::parse_i64;

const CONFIG_USAGE: &str = "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.";

/// SENTINEL CONFIG GET <pattern> | SET <param> <value> (7.0: one parameter per call).
pub fn config(s: &mut Sentinel, args: &[String]) -> Outcome {
    match args {
        [op, param, value] if op.eq_ignore_ascii_case("set") => config_set(s, param, value),
        [op, pattern] if op.eq_ignore_ascii_case("get") => Outcome::reply(config_get(&s.settings, pattern)),
        _ => Outcome::reply(Reply::error(CONFIG_USAGE)),
    }
}

fn config_set(s: &mut Sentinel, param: &str, value: &str) -> Outcome {
    let bad_value = || Reply::error(format!("ERR Invalid value '{value}' to SENTINEL CONFIG SET '{param}'"));
    let g = &mut s.settings;
    let mut drop_sentinel_links = false;
    match param.to_ascii_lowercase().as_str() {
        "resolve-hostnames" => match yes_no(value) {
            Some(v) => g.resolve_hostnames = v,
            None => return Outcome::reply(bad_value()),
        },
        "announce-hostnames" => match yes_no(value) {
            Some(v) => g.announce_hostnames = v,
            None => return Outcome::reply(bad_value()),
        },
        // Kept even when empty, as Redis does (it then announces an empty address).
        "announce-ip" => g.announce_ip = Some(value.to_string()),
        "announce-port" => match parse_i64(value.as_bytes()).filter(|p| (0..=65535).contains(p)) {
            Some(p) => g.announce_port = p as i32,
            None => return Outcome::reply(bad_value()),
        },
        "sentinel-user" => {
            g.sentinel_user = Some(value.to_string()).filter(|v| !v.is_empty());
            drop_sentinel_links = true;
        }
        "sentinel-pass" => {
            g.sentinel_pass = Some(value.to_string()).filter(|v| !v.is_empty());
            drop_sentinel_links = true;
        }
        _ => {
            return Outcome::reply(Reply::error(format!("ERR Invalid argument '{param}' to SENTINEL CONFIG SET")));
        }
    }
    s.flush_needed = true;
    let drop_links = if drop_sentinel_links {
        s.masters.iter().flat_map(|m| m.sentinels.iter().map(|r| r.id)).collect()
    } else {
        Vec::new()
    };
    Outcome { reply: Reply::OK, drop_links }
}

/// Redis's yesnotoi.
fn yes_no(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if v.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

fn config_get(g: &SentinelConfig, pattern: &str) -> Reply {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let params = [
        ("resolve-hostnames", yes_no(g.resolve_hostnames)),
        ("announce-hostnames", yes_no(g.announce_hostnames)),
        ("announce-ip", g.announce_ip.clone().unwrap_or_default()),
        ("announce-port", g.announce_port.to_string()),
        ("sentinel-user", g.sentinel_user.clone().unwrap_or_default()),
        ("sentinel-pass", g.sentinel_pass.clone().unwrap_or_default()),
    ];
    Reply::Map(
        params
            .iter()
            .filter(|(name, _)| string_match(pattern.as_bytes(), name.as_bytes(), true))
            .map(|(name, value)| (bulk_str(name), bulk_str(value)))
            .collect(),
    )
}
