//! Periodic work, like Redis's serverCron: active expiry, instantaneous stats, the memory peak, idle
//! client timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::state::{ClientKind, State};
use crate::server::Server;

/// Entries examined per lock hold: keeps each hold well under a millisecond.
const EXPIRE_CHUNK: usize = 4096;

pub async fn run(server: Arc<Server>) {
    let mut tick = 0u64;
    loop {
        let hz = server.lock().hot.hz;
        let period = Duration::from_millis(1000 / hz.max(1));
        tokio::time::sleep(period).await;
        crate::util::time::refresh_cached();
        // DEBUG PAUSE-CRON 1 stops the periodic work (the clock above still ticks).
        if server.lock().pause_cron {
            continue;
        }
        active_expire(&server, period);
        // Reading the allocator's counter records the peak, as serverCron does.
        crate::alloc::allocated();
        let mut st = server.lock();
        crate::commands::blocking::serve_ready_keys_outside_commands(&server, &mut st);
        if st.tracking.clients > 0 {
            // Keys the active expiry or a background eviction removed, to BCAST clients; a
            // tracking-table-max-keys lowered by CONFIG SET applies even when no command comes.
            crate::server::tracking::broadcast(&mut st, None);
            crate::server::tracking::limit_table(&mut st);
        }
        sample_stats(&mut st);
        close_idle_clients(&mut st);
        tend_client_buffers(&mut st, &mut tick);
        close_clients_over_output_limits(&mut st);
        st.scripts.reap_debug_children();
        if let Some(finished) = crate::persistence::snapshot::reap_child(&mut st) {
            crate::replication::sync::child_done(&mut st, finished.ok);
        }
        crate::persistence::snapshot::cron(&mut st);
        crate::persistence::appendonly::cron(&mut st);
        crate::replication::master::cron(&mut st);
        crate::replication::sync::cron(&mut st);
        crate::replication::failover::cron(&server, &mut st);
        crate::replication::acks::serve_waits(&server, &mut st);
        crate::commands::shutdown::shutdown_cron(&server, &mut st);
        st.migrate_sockets.close_idle(crate::util::time::cached_unix_secs());
        // Keys the active expiry deleted reach the replicas and the AOF now, not with the next write.
        crate::server::propagation::flush(&mut st);
        if let Some(p) = st.pause {
            if p.until_ms <= crate::util::time::unix_ms() {
                crate::server::postpone::end_pause(&mut st);
            }
        }
    }
}

/// Like Redis's slow active-expire cycle: at most 25% of the period (more with higher effort),
/// in short lock holds, stopping once the stale keys found fall under 10% (less with higher effort).
fn active_expire(server: &Server, period: Duration) {
    let (enabled, effort) = {
        let st = server.lock();
        (st.active_expire_enabled, st.hot.active_expire_effort)
    };
    // A replica's keys expire when its master's DEL arrives (until then reads miss them).
    // Nor while writes are paused, nor while the dataset loads: an AOF's commands must replay onto
    // the keys they found when they ran.
    let held_back = {
        let st = server.lock();
        st.repl.is_replica() || st.pause.is_some() || st.loading.is_some()
    };
    if !enabled || held_back {
        return;
    }
    let budget = period * (25 + 2 * (effort as u32 - 1)) / 100;
    let acceptable_stale = 10u64.saturating_sub(effort - 1);
    let start = Instant::now();
    let ndbs = server.lock().dbs.len();
    for db in 0..ndbs {
        loop {
            if start.elapsed() >= budget {
                record_cpu(server, start);
                return;
            }
            let mut st = server.lock();
            let now = crate::util::time::unix_ms();
            let Some(d) = st.dbs.get_mut(db) else { break };
            if d.volatile_len() == 0 {
                break;
            }
            let (expired, examined) = d.expire_cycle(now, EXPIRE_CHUNK);
            st.stats.expired_keys += expired.len() as u64;
            let unlink = st.config.bool(crate::ckey!("lazyfree-lazy-expire"));
            let stale_found = expired.len();
            for entry in expired {
                let key = entry.key().to_vec();
                // lazyfree-lazy-expire: a big value goes to the lazy free thread (dbAsyncDelete).
                match unlink {
                    true => crate::server::lazyfree::free_entry(entry),
                    false => drop(entry),
                }
                let key = &key[..];
                crate::server::notify::notify(&mut st, crate::server::notify::EXPIRED, "expired", key, db);
                crate::server::tracking::invalidate_key(&mut st, None, key, true);
                st.propagation.deleted(db, key, unlink);
                // Readers blocked in XREADGROUP on it are answered after the next command.
                st.blocking.signal(db, key);
            }
            if examined > 0 {
                let stale = stale_found as f64 / examined as f64;
                st.stats.expired_stale_perc = st.stats.expired_stale_perc * 0.95 + stale * 100.0 * 0.05;
            }
            if examined == 0 || (stale_found as u64) * 100 <= examined as u64 * acceptable_stale {
                break;
            }
        }
    }
    record_cpu(server, start);
}

fn record_cpu(server: &Server, start: Instant) {
    let ms = start.elapsed().as_millis() as u64;
    let mut st = server.lock();
    st.stats.expire_cycle_cpu_ms += ms;
    st.latency_add("expire-cycle", ms);
}

fn push_sample(v: &mut std::collections::VecDeque<(u64, u64)>, now: u64, value: u64) {
    v.push_back((now, value));
    if v.len() > 16 {
        v.pop_front();
    }
}

fn sample_stats(st: &mut State) {
    let now = crate::util::time::unix_ms();
    let (cmds, inb, outb) = (st.stats.total_commands, st.stats.net_input_bytes, st.stats.net_output_bytes);
    push_sample(&mut st.stats.ops_samples, now, cmds);
    push_sample(&mut st.stats.net_in_samples, now, inb);
    push_sample(&mut st.stats.net_out_samples, now, outb);
    let (rin, rout) = (st.repl.stats.net_repl_input_bytes, st.repl.stats.net_repl_output_bytes);
    push_sample(&mut st.repl.stats.in_samples, now, rin);
    push_sample(&mut st.repl.stats.out_samples, now, rout);
}

/// clientsCron's closeClientOnOutputBufferLimitReached: a client whose output stays over its
/// soft limit for longer than its seconds is closed even when no more output comes.
fn close_clients_over_output_limits(st: &mut State) {
    let now = crate::util::time::unix_ms();
    let limits = st.hot.output_limits;
    let mut closed = Vec::new();
    for c in st.clients.values_mut() {
        let used = c.output_pending() as u64;
        let served_elsewhere = matches!(c.kind, ClientKind::Replica | ClientKind::Master);
        if used == 0 || served_elsewhere || c.signals.is_killed() {
            continue;
        }
        if c.output_limit_reached(&limits, used, now) {
            let info = crate::server::state::client_info_line(c, now);
            tracing::warn!("Client {info} closed for overcoming of output buffer limits.");
            c.signals.kill();
            closed.push(c.id);
        }
    }
    st.stats.client_outbuf_limit_disconnections += closed.len() as u64;
    // Freed at once in Redis: what they held no longer counts towards maxmemory-clients.
    for id in closed {
        crate::server::client_eviction::forget(st, id);
    }
}

/// clientsCron's buffer resizing: each tick visits numclients/hz clients, at least 5 (or all of
/// them, when fewer), so each one about once a second, and every tick when there are few. A visit
/// asks the client's task to resize its buffers the next time it waits for its client.
fn tend_client_buffers(st: &mut State, tick: &mut u64) {
    const MIN_ITERATIONS: usize = 5;
    let n = st.clients.len();
    if n == 0 {
        return;
    }
    let per_tick = (n / st.hot.hz.max(1) as usize).max(MIN_ITERATIONS.min(n));
    // Clients fall into n/per_tick groups by id; a tick visits one group.
    let groups = n.div_ceil(per_tick) as u64;
    *tick = tick.wrapping_add(1);
    let group = *tick % groups;
    for c in st.clients.values() {
        if c.id % groups == group && !matches!(c.kind, ClientKind::Replica | ClientKind::Master) {
            c.signals.tend();
        }
    }
}

fn close_idle_clients(st: &mut State) {
    let timeout = st.hot.timeout_secs;
    if timeout == 0 {
        return;
    }
    let now = crate::util::time::unix_ms();
    for c in st.clients.values() {
        let idle = now.saturating_sub(c.last_interaction_ms) / 1000;
        // A client waiting in a blocking command is busy, not idle (its own timeout applies).
        // MONITOR clients are exempt too: Redis flags them CLIENT_SLAVE, which the timeout skips.
        let exempt = c.kind != ClientKind::Normal
            || c.subscriptions() > 0
            || st.blocking.is_parked(c.id)
            || st.monitors.contains(&c.id);
        if !exempt && idle > timeout {
            tracing::debug!("Closing idle client");
            c.signals.kill();
        }
    }
}
