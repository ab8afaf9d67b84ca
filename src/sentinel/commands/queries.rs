//! The subcommands that read the state: MASTERS, MASTER, REPLICAS, SENTINELS,
//! GET-MASTER-ADDR-BY-NAME, CKQUORUM, INFO-CACHE, MYID; and IS-MASTER-DOWN-BY-ADDR, the other
//! sentinels' question, which also casts this sentinel's vote.

use std::borrow::Cow;

use super::super::state::{Master, Record, Sentinel};
use super::instance_map::{instance_map, shown_host, shown_ip};
use super::{bulk_num, bulk_str, find_master, Context, NOT_AN_INTEGER};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

/// SENTINEL MASTERS.
pub fn masters(s: &Sentinel, ctx: &Context) -> Reply {
    Reply::Array(s.masters.iter().map(|m| instance_map(s, m, &m.record, ctx)).collect())
}

/// SENTINEL MASTER <name>.
pub fn master(s: &Sentinel, name: &str, ctx: &Context) -> Reply {
    match find_master(s, name) {
        Ok(m) => instance_map(s, m, &m.record, ctx),
        Err(e) => e,
    }
}

/// SENTINEL REPLICAS|SLAVES <name>: replicas that say `replica_announced:0` are left out.
pub fn replicas(s: &Sentinel, name: &str, ctx: &Context) -> Reply {
    match find_master(s, name) {
        Ok(m) => Reply::Array(
            m.replicas
                .iter()
                .filter(|r| r.info.replica_announced != Some(false))
                .map(|r| instance_map(s, m, r, ctx))
                .collect(),
        ),
        Err(e) => e,
    }
}

/// SENTINEL SENTINELS <name>: the other sentinels.
pub fn sentinels(s: &Sentinel, name: &str, ctx: &Context) -> Reply {
    match find_master(s, name) {
        Ok(m) => Reply::Array(m.sentinels.iter().map(|r| instance_map(s, m, r, ctx)).collect()),
        Err(e) => e,
    }
}

/// SENTINEL GET-MASTER-ADDR-BY-NAME <name>: the address clients are to use now; the port is a
/// bulk string. Unknown: a null array.
pub fn get_master_addr_by_name(s: &Sentinel, name: &str) -> Reply {
    match find_master(s, name) {
        Ok(m) => {
            let (host, port) = m.current_address();
            Reply::Array(vec![bulk_str(&shown_host(&s.settings, host)), bulk_num(port)])
        }
        Err(_) => Reply::NilArray,
    }
}

/// SENTINEL IS-MASTER-DOWN-BY-ADDR <ip> <port> <epoch> <runid|*> (§4.2): whether the master at
/// that address is SDOWN here (never in TILT), and, when asked for a vote, this sentinel's vote.
pub fn is_master_down_by_addr(
    s: &mut Sentinel,
    ip: &str,
    port: &str,
    epoch: &str,
    runid: &str,
    ctx: &Context,
) -> Reply {
    let (Some(port), Some(epoch)) = (parse_i64(port.as_bytes()), parse_i64(epoch.as_bytes())) else {
        return Reply::error(NOT_AN_INTEGER);
    };
    let found = s.masters.iter().position(|m| {
        i64::from(m.settings.port) == port && (m.settings.host == ip || shown_ip(&m.settings.host) == ip)
    });
    let down = ctx.tilt_since_ms.is_none() && found.is_some_and(|m| s.masters[m].record.s_down);
    let (mut leader, mut leader_epoch) = (None, 0);
    if let Some(m) = found.filter(|_| runid != "*") {
        // Redis reads the epoch as a signed number and votes with it as unsigned.
        (leader, leader_epoch) = s.vote(m, epoch as u64, runid, ctx.now_ms);
    }
    Reply::Array(vec![
        Reply::Int(i64::from(down)),
        bulk_str(leader.as_deref().unwrap_or("*")),
        Reply::Int(leader_epoch as i64),
    ])
}

/// SENTINEL CKQUORUM <name>: whether the sentinels not seen down make the quorum and a majority.
pub fn ckquorum(s: &Sentinel, name: &str) -> Reply {
    let m = match find_master(s, name) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let usable = 1 + m.sentinels.iter().filter(|r| !r.s_down && !r.o_down).count();
    let voters = m.sentinels.len() + 1;
    let no_quorum = (usable as u64) < u64::from(m.settings.quorum);
    let no_majority = usable < voters / 2 + 1;
    if !no_quorum && !no_majority {
        return Reply::Status(Cow::Owned(format!(
            "OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
        )));
    }
    let mut reasons = Vec::new();
    if no_quorum {
        reasons.push("Not enough available Sentinels to reach the specified quorum for this master");
    }
    if no_majority {
        reasons.push("Not enough available Sentinels to reach the majority and authorize a failover");
    }
    Reply::error(format!("NOQUORUM {usable} usable Sentinels. {}", reasons.join(". ")))
}

/// SENTINEL INFO-CACHE <name> [...]: for each named master (once, unknown names skipped) its
/// name, then `[age, INFO]` of the master and of each replica.
pub fn info_cache(s: &Sentinel, names: &[String], now_ms: u64) -> Reply {
    let mut chosen: Vec<&Master> = Vec::new();
    for name in names {
        if let Some(m) = s.masters.iter().find(|m| &m.settings.name == name) {
            if !chosen.iter().any(|c| std::ptr::eq(*c, m)) {
                chosen.push(m);
            }
        }
    }
    let entry = |r: &Record, age_known: bool| {
        let age = if age_known { now_ms.saturating_sub(r.info_ms) } else { 0 };
        let info = r.info_text.as_deref().map_or(Reply::Nil, |t| Reply::bulk(t.as_bytes()));
        Reply::Array(vec![Reply::Int(age as i64), info])
    };
    let mut out = Vec::with_capacity(chosen.len() * 2);
    for m in chosen {
        out.push(bulk_str(&m.settings.name));
        let mut infos = vec![entry(&m.record, m.record.info_ms != 0)];
        // Redis decides whether a replica's INFO has an age by its master's (a quirk kept).
        infos.extend(m.replicas.iter().map(|r| entry(r, m.record.info_ms != 0)));
        out.push(Reply::Array(infos));
    }
    Reply::Array(out)
}

/// SENTINEL MYID.
pub fn myid(s: &Sentinel) -> Reply {
    bulk_str(&s.myid)
}
