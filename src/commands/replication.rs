//! The replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, and the ones replicas send (SYNC,
//! PSYNC, REPLCONF). The protocol itself lives in crate::replication.

use bytes::Bytes;

use super::blocking::BlockKind;
use super::{errors, Ctx};
use crate::cmd;
use crate::protocol::Reply;
use crate::replication::state::ReplicaState;
use crate::replication::{acks, failover, master, replica};
use crate::server::command::*;
use crate::server::handover::Handover;

pub static TABLE: &[CommandSpec] = &[
    cmd!(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "5.0.0",
        "Make the server a replica of another instance, or promote it as master.",
        "O(1)",
        replicaof
    ),
    cmd!(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Make the server a replica of another instance, or promote it as master.",
        "O(1)",
        replicaof
    ),
    CommandSpec {
        acl: &["admin", "dangerous"],
        ..cmd!(
            "role",
            1,
            NOSCRIPT | LOADING | STALE | FAST,
            (0, 0, 0),
            "server",
            "2.8.12",
            "Return the role of the instance in the context of replication",
            "O(1)",
            role
        )
    },
    cmd!(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        "2.8.0",
        "Internal command used for replication",
        "",
        sync
    ),
    cmd!(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Internal command used for replication",
        "",
        sync
    ),
    cmd!(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        "3.0.0",
        "An internal command for configuring the replication stream",
        "O(1)",
        replconf
    ),
    cmd!(
        "failover",
        -1,
        ADMIN | NOSCRIPT | STALE,
        (0, 0, 0),
        "server",
        "6.2.0",
        "Start a coordinated failover between this server and one of its replicas.",
        "O(1)",
        failover
    ),
    CommandSpec {
        acl: &["connection"],
        ..cmd!(
            "wait",
            3,
            NOSCRIPT,
            (0, 0, 0),
            "generic",
            "3.0.0",
            "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
            "O(1)",
            wait
        )
    },
];

/// REPLICAOF host port | NO ONE.
fn replicaof(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.state.repl.replicas.contains_key(&ctx.session.id) {
        return Reply::error("ERR Command is not valid when client is a replica.");
    }
    if ctx.state.repl.failover.state != crate::replication::failover::FailoverState::None {
        return Reply::error("ERR REPLICAOF not allowed while failing over.");
    }
    if args[1].eq_ignore_ascii_case(b"no") && args[2].eq_ignore_ascii_case(b"one") {
        if ctx.state.repl.is_replica() {
            replica::unset_master(ctx.state);
            remember_in_config(ctx, None);
            tracing::info!(
                redis_event = "master-mode",
                "MASTER MODE enabled (user request from 'id={} addr={}')",
                ctx.session.id,
                ctx.session.addr
            );
        }
        return Reply::OK;
    }
    // Redis answers the same for a port that is no number and one out of range.
    let Some(port) = crate::util::numbers::parse_i64(&args[2]).and_then(|p| u16::try_from(p).ok()) else {
        return Reply::error("ERR Invalid master port");
    };
    let host = String::from_utf8_lossy(&args[1]).into_owned();
    if let Some(m) = &ctx.state.repl.master {
        if m.host.eq_ignore_ascii_case(&host) && m.port == port {
            tracing::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            return Reply::status("OK Already connected to specified master");
        }
    }
    replica::set_master(ctx.server, ctx.state, host.clone(), port, false);
    remember_in_config(ctx, Some((host.clone(), port)));
    tracing::info!(
        redis_event = "replicaof",
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        ctx.session.id,
        ctx.session.addr
    );
    Reply::OK
}

/// CONFIG GET and CONFIG REWRITE show what REPLICAOF set, as Redis's server.masterhost does.
fn remember_in_config(ctx: &mut Ctx, master: Option<(String, u16)>) {
    ctx.state.config.set_val(crate::ckey!("replicaof").0, crate::config::Val::Replicaof(master));
}

/// ROLE.
fn role(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if let Some(rt) = &ctx.state.sentinel {
        let names = rt.sentinel.masters.iter().map(|m| Reply::bulk(&m.settings.name)).collect();
        return Reply::Array(vec![Reply::bulk("sentinel"), Reply::Array(names)]);
    }
    let repl = &ctx.state.repl;
    if let Some(m) = &repl.master {
        let offset = if m.client.is_some() { repl.master_repl_offset as i64 } else { -1 };
        return Reply::Array(vec![
            Reply::bulk("slave"),
            Reply::bulk(&m.host),
            Reply::Int(m.port as i64),
            Reply::bulk(m.state.role_name()),
            Reply::Int(offset),
        ]);
    }
    let mut ids: Vec<_> = repl.replicas.keys().copied().collect();
    ids.sort_unstable();
    let replicas = ids
        .iter()
        .filter_map(|id| repl.replicas.get(id))
        .filter(|r| r.state == master::ReplicaState::Online)
        .map(|r| {
            Reply::Array(vec![
                Reply::bulk(&r.ip),
                Reply::bulk(r.port.to_string()),
                Reply::bulk(r.ack_offset.to_string()),
            ])
        })
        .collect();
    Reply::Array(vec![Reply::bulk("master"), Reply::Int(repl.master_repl_offset as i64), Reply::Array(replicas)])
}

/// WAIT numreplicas timeout: until that many replicas acknowledged this server's writes so far.
fn wait(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.state.repl.is_replica() {
        return Reply::error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
    }
    // numreplicas first, then the timeout: which error a doubly bad call gets.
    let Some(wanted) = crate::util::numbers::parse_i64(&args[1]) else {
        return Reply::error(errors::NOT_INTEGER);
    };
    let timeout_ms = match crate::util::numbers::parse_i64(&args[2]) {
        Some(t) if t < 0 => return Reply::error("ERR timeout is negative"),
        Some(t) => t as u64,
        None => return Reply::error("ERR timeout is not an integer or out of range"),
    };
    // WAIT waits for this client's own writes: those of this batch go into the stream first.
    // (Not inside EXEC: the transaction's writes go out whole, after it.)
    if !ctx.session.in_exec && std::mem::take(&mut ctx.session.repl.unflushed_write) {
        crate::server::propagation::flush(ctx.state);
        ctx.session.repl.woff = ctx.state.repl.master_repl_offset;
    }
    let woff = ctx.session.repl.woff;
    let acked = acks::acked_replicas(ctx.state, woff);
    if acked as i64 >= wanted || ctx.session.in_exec {
        return Reply::Int(acked as i64);
    }
    let deadline = if timeout_ms == 0 { 0 } else { ctx.now_ms + timeout_ms };
    acks::request_acks(ctx.state);
    ctx.state.repl.waits.push(acks::Wait { client: ctx.session.id, offset: woff, replicas: wanted });
    let reply = ctx.block(Vec::new(), deadline, BlockKind::Replicas, Reply::Int(acked as i64));
    // A WAIT that times out answers how many replicas acknowledged by then.
    if let Some(req) = ctx.session.block.as_mut() {
        req.timeout_reply = Some(acks::wait_timed_out);
    }
    reply
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds], parsed as Redis's
/// failoverCommand: ABORT only alone, the options in any order, each once.
fn failover(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 && args[1].eq_ignore_ascii_case(b"abort") {
        return failover::abort_command(ctx.server, ctx.state);
    }
    let mut target = None;
    let mut timeout_ms = 0u64;
    let mut force = false;
    let mut j = 1;
    while j < args.len() {
        let a = &args[j];
        if a.eq_ignore_ascii_case(b"timeout") && timeout_ms == 0 && j + 1 < args.len() {
            let Some(t) = crate::util::numbers::parse_i64(&args[j + 1]) else {
                return Reply::error(errors::NOT_INTEGER);
            };
            if t <= 0 {
                return Reply::error("ERR FAILOVER timeout must be greater than 0");
            }
            timeout_ms = t as u64;
            j += 2;
        } else if a.eq_ignore_ascii_case(b"to") && target.is_none() && j + 2 < args.len() {
            let Some(port) = crate::util::numbers::parse_i64(&args[j + 2]) else {
                return Reply::error(errors::NOT_INTEGER);
            };
            target = Some((String::from_utf8_lossy(&args[j + 1]).into_owned(), port));
            j += 3;
        } else if a.eq_ignore_ascii_case(b"force") && !force {
            force = true;
            j += 1;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    failover::start(ctx.state, failover::Request { target, timeout_ms, force })
}

/// REPLCONF <option> <value> ...
pub fn replconf(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() % 2 == 0 {
        return Reply::error(errors::SYNTAX);
    }
    for pair in args[1..].chunks(2) {
        let (opt, val) = (pair[0].to_ascii_lowercase(), &pair[1]);
        match opt.as_slice() {
            b"listening-port" => match crate::util::numbers::parse_i64(val) {
                Some(p) if (0..=65535).contains(&p) => ctx.session.repl.conf.listening_port = p as u16,
                _ => return Reply::error(errors::NOT_INTEGER),
            },
            b"ip-address" => {
                // NET_HOST_STR_LEN: since 7.0 a replica may announce a hostname.
                if val.len() >= 256 {
                    return Reply::error(format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        val.len()
                    ));
                }
                ctx.session.repl.conf.ip_address = Some(String::from_utf8_lossy(val).into_owned());
            }
            b"capa" => {
                if val.eq_ignore_ascii_case(b"eof") {
                    ctx.session.repl.conf.capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    ctx.session.repl.conf.capa_psync2 = true;
                }
            }
            b"ack" => {
                // Only replicas acknowledge, and an ACK is never answered.
                if let Some(off) = crate::util::numbers::parse_i64(val) {
                    master::ack(ctx.state, ctx.session.id, off.max(0) as u64);
                }
                return Reply::NoReply;
            }
            b"getack" => {
                // Answered by the replica link, which reads its master's stream itself.
                return Reply::NoReply;
            }
            b"rdb-only" => match crate::util::numbers::parse_i64(val) {
                Some(0 | 1) => {}
                Some(_) => return Reply::error("ERR value is out of range, value must between 0 and 1"),
                None => return Reply::error(errors::NOT_INTEGER),
            },
            b"rdb-filter-only" => {
                // Like Redis, the filter is on (everything filtered out) before its values are
                // checked: a bad value still leaves the request filtered.
                ctx.session.repl.conf.rdb_filtered = true;
                let Some(filters) = crate::util::splitargs::split_args(val) else {
                    return Reply::error("ERR Missing rdb-filter-only values");
                };
                if let Some(bad) = filters.iter().find(|f| !f.eq_ignore_ascii_case(b"functions")) {
                    return Reply::error(format!(
                        "ERR Unsupported rdb-filter-only option: {}",
                        String::from_utf8_lossy(bad)
                    ));
                }
            }
            _ => {
                return Reply::error(format!("ERR Unrecognized REPLCONF option: {}", String::from_utf8_lossy(&pair[0])))
            }
        }
    }
    Reply::OK
}

/// SYNC and PSYNC <replid> <offset> (syncCommand).
pub fn sync(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let id = ctx.session.id;
    if ctx.state.repl.replicas.contains_key(&id) || ctx.session.repl.handover.is_some() {
        return Reply::NoReply;
    }
    // PSYNC ... FAILOVER: our master hands over to us (its FAILOVER command).
    if args.len() > 3 && args[0].eq_ignore_ascii_case(b"psync") && args[3].eq_ignore_ascii_case(b"failover") {
        if !args[1].eq_ignore_ascii_case(ctx.state.repl.replid.as_bytes()) {
            return Reply::error("ERR PSYNC FAILOVER replid must match my replid.");
        }
        replica::unset_master(ctx.state);
        ctx.state.config.set_val(crate::ckey!("replicaof").0, crate::config::Val::Replicaof(None));
        tracing::info!("MASTER MODE enabled (failover request from 'id={id} addr={}')", ctx.session.addr);
    }
    // No new replica while this master hands over to one.
    if ctx.state.repl.failover.state != failover::FailoverState::None {
        return Reply::error("NOMASTERLINK Can't SYNC while failing over");
    }
    if let Some(link) = &ctx.state.repl.master {
        if !link.is_connected() {
            return Reply::error("NOMASTERLINK Can't SYNC while not connected with my master");
        }
    }
    if ctx.session.repl.conf.rdb_filtered && !ctx.session.repl.conf.capa_eof {
        return Reply::error("ERR Filtered replica requires EOF capability");
    }
    let psync = args[0].eq_ignore_ascii_case(b"psync");
    let requested_offset = if psync {
        match crate::util::numbers::parse_i64(&args[2]) {
            Some(o) => Some(o),
            None => return Reply::error(errors::NOT_INTEGER),
        }
    } else {
        None
    };
    let conf = ctx.session.repl.conf.clone();
    let ip = conf.ip_address.clone().unwrap_or_else(|| peer_ip(&ctx.session.addr));
    let name = crate::replication::state::display_name(&ip, conf.listening_port);
    tracing::info!("Replica {name} asks for synchronization");
    let st = &mut *ctx.state;
    if let Some(offset) = requested_offset {
        let replid = String::from_utf8_lossy(&args[1]).into_owned();
        match master::try_partial(st, &replid, offset, &name) {
            Some(from) => {
                st.repl.stats.sync_partial_ok += 1;
                master::attach(st, id, ip, &conf, ReplicaState::Online, from, None);
                ctx.session.repl.handover = Some(Handover::Partial { from });
                let reply = if conf.capa_psync2 { format!("CONTINUE {}", st.repl.replid) } else { "CONTINUE".into() };
                return Reply::Status(reply.into());
            }
            None => {
                if !replid.starts_with('?') {
                    st.repl.stats.sync_partial_err += 1;
                }
            }
        }
    }
    st.repl.stats.sync_full += 1;
    if st.repl.backlog.is_none() {
        // A new backlog starts a new history: offsets of an old one must not be continued.
        if !st.repl.is_replica() {
            st.repl.new_history();
        }
        let size = st.config.int(crate::ckey!("repl-backlog-size")).max(1) as u64;
        st.repl.create_backlog(size);
        crate::replication::refresh_propagation(st);
        tracing::info!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            st.repl.replid,
            st.repl.replid2
        );
    }
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let next = st.repl.master_repl_offset + 1;
    master::attach(st, id, ip, &conf, ReplicaState::WaitBgsave, next, Some(tx));
    ctx.session.repl.handover = Some(Handover::Full { psync, rdb: rx });
    crate::replication::sync::replica_waiting(st);
    Reply::NoReply
}

/// The address part of "ip:port" (or "[v6]:port").
fn peer_ip(addr: &str) -> String {
    match addr.rfind(':') {
        Some(i) => addr[..i].trim_start_matches('[').trim_end_matches(']').to_string(),
        None => addr.to_string(),
    }
}
