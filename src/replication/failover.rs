//! FAILOVER: a coordinated switch of roles between this master and one of its replicas. Writes
//! are paused; once the target replica has acknowledged everything (or the timeout passes with
//! FORCE) this server becomes its replica and sends `PSYNC <replid> <offset> FAILOVER`, which
//! makes the target promote itself; then writes resume here (to be refused as a replica).

pub use super::state::{Failover, FailoverState, ReplicaState};
use crate::protocol::Reply;
use crate::server::state::{Pause, State};
use crate::server::Server;

/// What FAILOVER was asked to do.
pub struct Request {
    /// Host and port as given: a port out of range names no replica (not an error).
    pub target: Option<(String, i64)>,
    pub timeout_ms: u64,
    pub force: bool,
}

/// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] (the checks in failoverCommand's order).
pub fn start(st: &mut State, req: Request) -> Reply {
    if st.repl.failover.state != FailoverState::None {
        return Reply::error("ERR FAILOVER already in progress.");
    }
    if st.repl.is_replica() {
        return Reply::error("ERR FAILOVER is not valid when server is a replica.");
    }
    if st.repl.replicas.is_empty() {
        return Reply::error("ERR FAILOVER requires connected replicas.");
    }
    if req.force && (req.timeout_ms == 0 || req.target.is_none()) {
        return Reply::error("ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
    }
    let target = match req.target {
        Some((host, port)) => {
            let Some(r) =
                st.repl.replicas.values().find(|r| r.ip.eq_ignore_ascii_case(&host) && i64::from(r.port) == port)
            else {
                return Reply::error("ERR FAILOVER target HOST and PORT is not a replica.");
            };
            if r.state != ReplicaState::Online {
                return Reply::error("ERR FAILOVER target replica is not online.");
            }
            tracing::info!("FAILOVER requested to {host}:{port}.");
            Some((host, r.port))
        }
        None => {
            tracing::info!("FAILOVER requested to any replica.");
            None
        }
    };
    let end_ms = if req.timeout_ms > 0 { crate::util::time::unix_ms() + req.timeout_ms } else { 0 };
    st.repl.failover = Failover { state: FailoverState::WaitForSync, target, end_ms, force: req.force };
    st.pause = Some(Pause { until_ms: u64::MAX, all: false });
    Reply::OK
}

/// FAILOVER ABORT.
pub fn abort_command(server: &Server, st: &mut State) -> Reply {
    if st.repl.failover.state == FailoverState::None {
        return Reply::error("ERR No failover in progress.");
    }
    abort(server, st, "Failover manually aborted");
    Reply::OK
}

/// Gives up: back to being a master if the switch had begun, and writes resume.
pub fn abort(_server: &Server, st: &mut State, reason: &str) {
    match &st.repl.failover.target {
        Some((host, port)) => {
            tracing::warn!(redis_event = "failover-abort", "FAILOVER to {host}:{port} aborted: {reason}")
        }
        None => tracing::warn!(redis_event = "failover-abort", "FAILOVER to any replica aborted: {reason}"),
    }
    if st.repl.failover.state == FailoverState::InProgress {
        super::replica::unset_master(st);
        st.config.set_val(crate::ckey!("replicaof").0, crate::config::Val::Replicaof(None));
    }
    clear(st);
}

/// The switch is done (or abandoned): writes resume.
pub fn clear(st: &mut State) {
    st.repl.failover = Failover::default();
    crate::server::postpone::end_pause(st);
}

/// From the cron (updateFailoverStatus): times out, or starts the switch once a replica is in sync.
pub fn cron(server: &Server, st: &mut State) {
    if st.repl.failover.state != FailoverState::WaitForSync {
        return;
    }
    let f = &st.repl.failover;
    if f.end_ms != 0 && f.end_ms <= crate::util::time::unix_ms() {
        if f.force {
            if let Some((host, port)) = f.target.clone() {
                tracing::info!("FAILOVER to {host}:{port} time out exceeded, failing over.");
                switch_to(server, st, host, port);
                return;
            }
        }
        abort(server, st, "Replica never caught up before timeout");
        return;
    }
    let offset = st.repl.master_repl_offset;
    let synced = st.repl.replicas.values().find(|r| match &f.target {
        Some((host, port)) => r.ip.eq_ignore_ascii_case(host) && r.port == *port,
        None => r.ack_offset == offset && r.state == ReplicaState::Online,
    });
    if let Some(r) = synced.filter(|r| r.ack_offset == offset) {
        let (host, port) = (r.ip.clone(), r.port);
        tracing::info!(redis_event = "failover", "Failover target {host}:{port} is synced, failing over.");
        switch_to(server, st, host, port);
    }
}

fn switch_to(server: &Server, st: &mut State, host: String, port: u16) {
    st.repl.failover.state = FailoverState::InProgress;
    st.repl.failover.target = Some((host.clone(), port));
    super::replica::set_master(server, st, host.clone(), port, false);
    st.config.set_val(crate::ckey!("replicaof").0, crate::config::Val::Replicaof(Some((host, port))));
}
