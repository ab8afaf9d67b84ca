//! The SENTINEL command (§9) over a sentinel's running state, with Redis 7.0's reply shapes and
//! error texts, and the `# Sentinel` INFO section.
//!
//! Everything here is pure: time and what the links know come in through [`Context`], and what
//! the caller has to do afterwards goes out through [`Outcome`] and the state itself
//! (`Sentinel::flush_needed`, `Sentinel::events`). FAILOVER, PENDING-SCRIPTS and
//! SIMULATE-FAILURE belong to the failover and scripts machinery: [`command`] checks their
//! arity and leaves them to the caller ([`Dispatch::NotHere`]).
//!
//! This file dispatches; the subcommands live by what they do:
//! * `instance_map`: the map MASTER(S)/REPLICAS/SENTINELS give for one instance, and the
//!   addresses shown;
//! * `queries`: the read-only subcommands (MASTERS ... CKQUORUM, INFO-CACHE, MYID) and
//!   IS-MASTER-DOWN-BY-ADDR, which also votes;
//! * `edits`: what changes the watched masters (MONITOR, REMOVE, SET, RESET, FLUSHCONFIG);
//! * `config_cmd`: SENTINEL CONFIG GET/SET, the global parameters;
//! * `debug_help`: SENTINEL DEBUG (the time parameters) and HELP;
//! * `info_section`: INFO's `# Sentinel` section.

mod config_cmd;
mod debug_help;
mod edits;
mod info_section;
mod instance_map;
mod queries;

use super::instance::InstanceId;
use super::state::{Master, Sentinel};
use super::timing::Timings;
use crate::protocol::Reply;

pub use config_cmd::config;
pub use debug_help::{debug, help};
pub use edits::{flushconfig, monitor, remove, reset, set};
pub use info_section::info_sentinel_section;
pub use instance_map::{instance_map, shown_host};
pub use queries::{
    ckquorum, get_master_addr_by_name, info_cache, is_master_down_by_addr, master, masters, myid, replicas, sentinels,
};

/// What the links know of one instance (Redis keeps it in the instance's link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// Both connections (cmd, and pubsub for masters and replicas) are up.
    pub connected: bool,
    /// Commands sent and not answered yet.
    pub pending: usize,
    /// How many instance records share the link (sentinels watching several common masters).
    pub refcount: usize,
}

/// What a command needs besides the state: the time, the links, and the monitor's state.
pub struct Context<'a> {
    pub now_ms: u64,
    /// The link of an instance, by its record's id.
    pub links: &'a dyn Fn(InstanceId) -> LinkStatus,
    /// Since when the sentinel is in TILT mode (§6), if it is.
    pub tilt_since_ms: Option<u64>,
    /// Scripts running now and scripts waiting (INFO).
    pub running_scripts: usize,
    pub queued_scripts: usize,
    /// SENTINEL SIMULATE-FAILURE's flags (INFO).
    pub simulate_failure_flags: u32,
}

/// A command's reply and the links the caller must close (their credentials changed, or their
/// records were reset or removed; a closed link of a record that still exists is reopened).
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub reply: Reply,
    pub drop_links: Vec<InstanceId>,
}

impl Outcome {
    fn reply(reply: Reply) -> Outcome {
        Outcome { reply, drop_links: Vec::new() }
    }
}

/// What [`command`] did with a SENTINEL command.
#[derive(Debug, PartialEq)]
pub enum Dispatch {
    Done(Outcome),
    /// FAILOVER, PENDING-SCRIPTS or SIMULATE-FAILURE with the right number of arguments: the
    /// caller answers them.
    NotHere,
}

const NO_SUCH_MASTER: &str = "ERR No such master with that name";
const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";

/// Subcommands and their arity (Redis convention: negative = at least).
const ARITY: [(&str, i32); 20] = [
    ("ckquorum", 3),
    ("config", -3),
    ("debug", -2),
    ("failover", 3),
    ("flushconfig", 2),
    ("get-master-addr-by-name", 3),
    ("help", 2),
    ("info-cache", -3),
    ("is-master-down-by-addr", 6),
    ("master", 3),
    ("masters", 2),
    ("monitor", 6),
    ("myid", 2),
    ("pending-scripts", 2),
    ("remove", 3),
    ("replicas", 3),
    ("reset", 3),
    ("sentinels", 3),
    ("set", -5),
    ("simulate-failure", -3),
];

/// `SENTINEL <subcommand> ...` (args[0] is `SENTINEL`).
pub fn command<A: AsRef<[u8]>>(s: &mut Sentinel, args: &[A], ctx: &Context, timings: &mut Timings) -> Dispatch {
    let args: Vec<String> = args.iter().map(|a| String::from_utf8_lossy(a.as_ref()).into_owned()).collect();
    if args.len() < 2 {
        return done(Reply::error("ERR wrong number of arguments for 'sentinel' command"));
    }
    let sub = args[1].to_ascii_lowercase();
    let sub = if sub == "slaves" { "replicas".to_string() } else { sub };
    let Some(&(name, arity)) = ARITY.iter().find(|(n, _)| *n == sub) else {
        let shown: String = args[1].chars().take(128).collect();
        return done(Reply::error(format!("ERR unknown subcommand '{shown}'. Try SENTINEL HELP.")));
    };
    let n = args.len() as i32;
    if (arity >= 0 && n != arity) || (arity < 0 && n < -arity) {
        let shown = if args[1].eq_ignore_ascii_case("slaves") { "slaves" } else { name };
        return done(Reply::error(format!("ERR wrong number of arguments for 'sentinel|{shown}' command")));
    }
    let a = &args[2..];
    let reply = match name {
        "masters" => masters(s, ctx),
        "master" => master(s, &a[0], ctx),
        "replicas" => replicas(s, &a[0], ctx),
        "sentinels" => sentinels(s, &a[0], ctx),
        "get-master-addr-by-name" => get_master_addr_by_name(s, &a[0]),
        "is-master-down-by-addr" => is_master_down_by_addr(s, &a[0], &a[1], &a[2], &a[3], ctx),
        "reset" => return Dispatch::Done(reset(s, &a[0], ctx.now_ms)),
        "ckquorum" => ckquorum(s, &a[0]),
        "flushconfig" => flushconfig(s),
        "monitor" => monitor(s, &a[0], &a[1], &a[2], &a[3], timings, ctx.now_ms),
        "remove" => return Dispatch::Done(remove(s, &a[0])),
        "set" => return Dispatch::Done(set(s, &a[0], &a[1..])),
        "config" => return Dispatch::Done(config(s, a)),
        "info-cache" => info_cache(s, a, ctx.now_ms),
        "myid" => myid(s),
        "debug" => debug(timings, a),
        "help" => help(),
        _ => return Dispatch::NotHere,
    };
    done(reply)
}

fn done(reply: Reply) -> Dispatch {
    Dispatch::Done(Outcome::reply(reply))
}

fn bulk_str(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

fn bulk_num(n: impl ToString) -> Reply {
    Reply::bulk(n.to_string().as_bytes())
}

fn find_master<'a>(s: &'a Sentinel, name: &str) -> Result<&'a Master, Reply> {
    s.masters.iter().find(|m| m.settings.name == name).ok_or_else(|| Reply::error(NO_SUCH_MASTER))
}

#[cfg(test)]
mod tests {
    use super::super::model::{MasterConfig, SentinelConfig};
    use super::*;

    fn state() -> Sentinel {
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, 1);
        m.known_sentinels.push(super::super::model::KnownSentinel {
            host: "127.0.0.1".into(),
            port: 26380,
            run_id: "b".repeat(40),
        });
        let cfg = SentinelConfig { myid: Some("a".repeat(40)), masters: vec![m], ..Default::default() };
        Sentinel::from_config(cfg, 1_000)
    }

    fn up(_: InstanceId) -> LinkStatus {
        LinkStatus { connected: true, pending: 0, refcount: 1 }
    }

    fn ctx(links: &dyn Fn(InstanceId) -> LinkStatus, tilt: Option<u64>) -> Context<'_> {
        Context {
            now_ms: 2_000,
            links,
            tilt_since_ms: tilt,
            running_scripts: 0,
            queued_scripts: 0,
            simulate_failure_flags: 0,
        }
    }

    #[test]
    fn is_master_down_answers_sdown_outside_tilt_and_votes_even_in_tilt() {
        let mut s = state();
        s.masters[0].record.s_down = true;
        let links = up;
        let r = is_master_down_by_addr(&mut s, "127.0.0.1", "6379", "3", "*", &ctx(&links, None));
        assert_eq!(r, Reply::Array(vec![Reply::Int(1), bulk_str("*"), Reply::Int(0)]));
        let candidate = "c".repeat(40);
        let r = is_master_down_by_addr(&mut s, "127.0.0.1", "6379", "3", &candidate, &ctx(&links, Some(0)));
        assert_eq!(r, Reply::Array(vec![Reply::Int(0), bulk_str(&candidate), Reply::Int(3)]));
        assert_eq!(s.settings.current_epoch, 3);
        // Found by address only: another port is another master.
        let r = is_master_down_by_addr(&mut s, "127.0.0.1", "6380", "4", &candidate, &ctx(&links, None));
        assert_eq!(r, Reply::Array(vec![Reply::Int(0), bulk_str("*"), Reply::Int(0)]));
    }

    #[test]
    fn reset_forgets_replicas_sentinels_and_failover() {
        let mut s = state();
        let sentinel_id = s.masters[0].sentinels[0].id;
        let m = &mut s.masters[0];
        m.record.s_down = true;
        m.failover_in_progress = true;
        m.failover_start_ms = 500;
        m.leader = Some("x".into());
        let out = reset(&mut s, "my*", 5_000);
        assert_eq!(out.reply, Reply::Int(1));
        assert!(out.drop_links.contains(&sentinel_id));
        let m = &s.masters[0];
        assert!(m.sentinels.is_empty() && !m.record.s_down && !m.failover_in_progress);
        assert_eq!((m.failover_start_ms, m.leader.as_deref(), m.record.act_ping_ms), (0, None, 5_000));
        assert_eq!(s.events[0].message, "master mymaster 127.0.0.1 6379");
        assert!(!s.flush_needed, "RESET does not flush");
        assert_eq!(reset(&mut s, "MY*", 5_000).reply, Reply::Int(0), "names match case-sensitively");
    }

    #[test]
    fn debug_sets_in_order_until_a_bad_one() {
        let mut t = Timings::default();
        let args: Vec<String> = ["ping-period", "100", "ask-period", "0"].iter().map(|s| s.to_string()).collect();
        assert!(debug(&mut t, &args).is_error());
        assert_eq!((t.ping_period, t.ask_period), (100, 1_000));
    }

    #[test]
    fn flags_and_failover_state_of_a_failing_over_master() {
        let mut s = state();
        let m = &mut s.masters[0];
        m.record.s_down = true;
        m.record.o_down = true;
        m.failover_in_progress = true;
        m.force_failover = true;
        m.failover_state = super::super::state::FailoverState::WaitStart;
        let down = |_| LinkStatus { connected: false, pending: 2, refcount: 1 };
        let Reply::Map(fields) = master(&s, "mymaster", &ctx(&down, None)) else { panic!("a map") };
        let get = |k: &str| fields.iter().find(|(key, _)| *key == bulk_str(k)).map(|(_, v)| v.clone());
        assert_eq!(
            get("flags"),
            Some(bulk_str("s_down,o_down,master,disconnected,failover_in_progress,force_failover"))
        );
        assert_eq!(get("failover-state"), Some(bulk_str("wait_start")));
        assert_eq!(get("link-pending-commands"), Some(bulk_str("2")));
        assert!(get("s-down-time").is_some() && get("o-down-time").is_some());
    }
}
