//! The replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, and the ones replicas send (SYNC,
//! PSYNC, REPLCONF). The protocol itself lives in crate::replication.

use bytes::Bytes;

use super::blocking::BlockKind;
use super::{errors, Ctx};
use crate::cmd;
use crate::protocol::Reply;
use crate::replication::{failover, master, replica};
use crate::server::command::*;

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
        master::sync
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
        master::sync
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
        master::replconf
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
    if !ctx.session.in_exec && std::mem::take(&mut ctx.session.unflushed_write) {
        crate::server::propagation::flush(ctx.state);
        ctx.session.woff = ctx.state.repl.master_repl_offset;
    }
    let woff = ctx.session.woff;
    let acked = master::acked_replicas(ctx.state, woff);
    if acked as i64 >= wanted || ctx.session.in_exec {
        return Reply::Int(acked as i64);
    }
    let deadline = if timeout_ms == 0 { 0 } else { ctx.now_ms + timeout_ms };
    master::request_acks(ctx.state);
    ctx.state.repl.waits.push(master::Wait { client: ctx.session.id, offset: woff, replicas: wanted });
    let reply = ctx.block(Vec::new(), deadline, BlockKind::Replicas, Reply::Int(acked as i64));
    // A WAIT that times out answers how many replicas acknowledged by then.
    if let Some(req) = ctx.session.block.as_mut() {
        req.timeout_reply = Some(master::wait_timed_out);
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
