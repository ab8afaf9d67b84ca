//! Shutdown, in one place: SHUTDOWN (its flags, ABORT), waiting for lagging replicas with writes
//! paused (shutdown-timeout), the final save, and what a shutdown by signal does before exiting.
//! The network runtime calls in here for the signal's path; the cron for a waiting SHUTDOWN.

use std::time::Duration;

use bytes::Bytes;

use super::{errors, Ctx};
use crate::protocol::Reply;
use crate::server::shutdown::{PendingShutdown, ShutdownFlags};
use crate::server::state::{ClientId, State};
use crate::server::Server;

pub fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut nosave, mut save, mut now, mut force, mut abort) = (false, false, false, false, false);
    for a in &args[1..] {
        match a.to_ascii_lowercase().as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" => now = true,
            b"force" => force = true,
            b"abort" => abort = true,
            _ => return Reply::error(errors::SYNTAX),
        }
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return Reply::error(errors::SYNTAX);
    }
    if abort {
        return abort_shutdown(ctx.server, ctx.state);
    }
    // From a busy script's hook: only SHUTDOWN NOSAVE, which ends the script and then the
    // server, without a save (Redis exits on the spot).
    if let Some(script) = ctx.state.scripts.running.as_mut() {
        if !nosave {
            return super::scripting::busy_error(script.eval);
        }
        script.kill = true;
        script.shutdown_nosave = true;
        ctx.state.shutdown_saved = true;
        ctx.session.close_after_reply = true;
        return Reply::NoReply;
    }
    if !now && ctx.session.in_exec {
        return Reply::error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    }
    let how = ShutdownFlags { nosave, save, force };
    // Replicas that have not acknowledged every write get shutdown-timeout seconds to catch up,
    // with writes paused, so none of them has to resync from scratch afterwards.
    if !now && wait_before_shutdown(ctx.state, ctx.session.id, how) {
        return ctx.block(Vec::new(), 0, super::blocking::BlockKind::Shutdown, Reply::NoReply);
    }
    match finish_shutdown(ctx.server, ctx.state, how) {
        Ok(()) => {
            ctx.session.close_after_reply = true;
            Reply::NoReply
        }
        Err(e) => e,
    }
}

/// The end of a shutdown (finishShutdown): the save its flags ask for, then the exit. Err: the
/// save failed and the server keeps running.
pub fn finish_shutdown(server: &Server, st: &mut State, how: ShutdownFlags) -> Result<(), Reply> {
    // A sentinel has no dataset: its SHUTDOWN never saves.
    let how = if server.sentinel_mode { ShutdownFlags { nosave: true, save: false, force: how.force } } else { how };
    let save_points = crate::persistence::snapshot::save_points_configured(st);
    if how.save || (save_points && !how.nosave) {
        if crate::persistence::snapshot::save_for_shutdown(st).is_err() {
            if !how.force {
                tracing::warn!("Errors trying to shut down the server. Check the logs for more information.");
                return Err(Reply::error("ERR Errors trying to SHUTDOWN. Check logs."));
            }
            tracing::warn!("Error trying to save the DB. Exit anyway.");
        }
    } else {
        crate::persistence::snapshot::kill_child(st);
    }
    st.shutdown_saved = true;
    st.shutdown_requested = true;
    server.shutdown.notify_one();
    Ok(())
}

/// Whether a replica has not acknowledged the whole stream yet (!isReadyToShutdown).
fn lagging(st: &State) -> bool {
    st.repl.replicas.values().any(|r| r.ack_offset != st.repl.master_repl_offset)
}

/// SHUTDOWN without NOW: with lagging replicas and a shutdown-timeout, writes pause and the
/// replicas are asked to acknowledge; true if the shutdown waits for them.
pub fn wait_before_shutdown(st: &mut State, client: ClientId, how: ShutdownFlags) -> bool {
    let timeout = st.config.int(crate::ckey!("shutdown-timeout")).max(0) as u64;
    if timeout == 0 || !lagging(st) {
        return false;
    }
    crate::server::propagation::flush(st);
    // As Redis: the replicas are asked to acknowledge at once (unless writes are paused
    // already), so the shutdown need not wait for their next periodic ACK.
    crate::replication::acks::request_acks(st);
    st.pause = Some(crate::server::state::Pause { until_ms: u64::MAX, all: false });
    tracing::info!("Waiting for replicas before shutting down.");
    st.pending_shutdown =
        Some(PendingShutdown { client, how, deadline_ms: crate::util::time::unix_ms() + timeout * 1000 });
    true
}

fn log_lagging(st: &State) {
    for r in st.repl.replicas.values().filter(|r| r.ack_offset != st.repl.master_repl_offset) {
        tracing::warn!(
            "Lagging replica {} reported offset {} behind master, lag={}, state={}.",
            r.name(),
            st.repl.master_repl_offset.saturating_sub(r.ack_offset),
            (crate::util::time::unix_ms().saturating_sub(r.ack_time_ms)) / 1000,
            r.state.name()
        );
    }
}

/// From the cron: a waiting SHUTDOWN goes on once its replicas caught up or its time is up.
pub fn shutdown_cron(server: &Server, st: &mut State) {
    let Some(p) = &st.pending_shutdown else { return };
    let timed_out = crate::util::time::unix_ms() >= p.deadline_ms;
    if lagging(st) && !timed_out {
        return;
    }
    if timed_out {
        log_lagging(st);
    }
    let Some(p) = st.pending_shutdown.take() else { return };
    if let Err(e) = finish_shutdown(server, st, p.how) {
        resume_writes(st);
        crate::server::blocking::end_wait(server, st, p.client, Some(e));
    }
}

/// SHUTDOWN ABORT.
pub fn abort_shutdown(server: &Server, st: &mut State) -> Reply {
    let Some(p) = st.pending_shutdown.take() else {
        return Reply::error("ERR No shutdown in progress.");
    };
    tracing::warn!("Shutdown manually aborted.");
    resume_writes(st);
    crate::server::blocking::end_wait(
        server,
        st,
        p.client,
        Some(Reply::error("ERR Errors trying to SHUTDOWN. Check logs.")),
    );
    Reply::OK
}

fn resume_writes(st: &mut State) {
    crate::server::postpone::end_pause(st);
}

/// A shutdown by signal gives lagging replicas shutdown-timeout seconds too, writes paused.
pub async fn wait_for_replicas_at_exit(server: &Server) {
    let deadline = {
        let mut st = server.lock();
        let timeout = st.config.int(crate::ckey!("shutdown-timeout")).max(0) as u64;
        if timeout == 0 || !lagging(&st) {
            return;
        }
        tracing::info!("Waiting for replicas before shutting down.");
        crate::systemd::progress(
            "Waiting for lagging replicas before shutting down",
            Duration::from_secs(timeout) + crate::systemd::PROGRESS_GRACE,
        );
        crate::server::propagation::flush(&mut st);
        st.pause = Some(crate::server::state::Pause { until_ms: u64::MAX, all: false });
        std::time::Instant::now() + Duration::from_secs(timeout)
    };
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let st = server.lock();
        if !lagging(&st) {
            return;
        }
        if std::time::Instant::now() >= deadline {
            log_lagging(&st);
            return;
        }
    }
}

/// What a shutdown does before exiting (prepareForShutdown): SHUTDOWN saved already; a signal
/// saves when save points are configured. False if that save failed.
pub fn save_before_exit(server: &Server) -> bool {
    let mut st = server.lock();
    if st.shutdown_saved {
        return true;
    }
    if !crate::persistence::snapshot::save_points_configured(&st) {
        crate::persistence::snapshot::kill_child(&mut st);
        return true;
    }
    if crate::persistence::snapshot::save_for_shutdown(&mut st).is_ok() {
        return true;
    }
    st.shutdown_requested = false;
    false
}
