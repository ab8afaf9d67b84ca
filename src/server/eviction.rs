//! maxmemory: evicting keys when memory use passes the limit, as Redis 7.0's evict.c does. Which
//! key goes is `keyspace::evict`'s; here, performing the evictions: a time limit per call set by
//! `maxmemory-eviction-tenacity`, with the rest done in the background; and, before each command,
//! the refusal of commands that may grow memory while it stays over the limit.

use std::time::Instant;

use crate::keyspace::evict::{Picker, Policy};
use crate::protocol::Reply;
use crate::server::command::{CmdId, CommandSpec, DENYOOM, NO_MULTI};
use crate::server::notify;
use crate::server::session::Ctx;
use crate::server::state::State;
use crate::server::Server;

/// Redis's shared.oomerr.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// What persists between eviction calls, like Redis's statics in evict.c.
#[derive(Default)]
pub struct Evictor {
    /// The candidate pool and the random policies' next database.
    picker: Picker,
    /// Eviction goes on in the background after a call ran out of time (isEvictionProcRunning).
    background: bool,
}

/// performEvictions' result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or not allowed to evict right now).
    Ok,
    /// Still over, with eviction continuing in the background: commands are not refused.
    Running,
    /// Over the limit with nothing (allowed) left to evict.
    Fail,
}

/// processCommand's maxmemory step, before every command once authentication passed: evicts what
/// is needed, then refuses the command (Some) if memory is still over the limit and the command
/// may grow it — a DENYOOM command, an EXEC whose transaction queued one, or anything to be queued
/// in a transaction.
pub fn before_command(ctx: &mut Ctx, spec: &CommandSpec) -> Option<Reply> {
    if ctx.state.hot.notify_flags & notify::NEW != 0 {
        // Normally already published with the command's own event; never carried further.
        notify::publish_new_keys(ctx.state);
    }
    // Not while a busy script runs (its hook serves this command): that script's own view of
    // memory at its start must stay as it was.
    if ctx.state.scripts.running.is_some() {
        return None;
    }
    ctx.state.pre_command_oom = false;
    if ctx.state.hot.maxmemory == 0 {
        return None;
    }
    // A replica's memory follows its master's dataset (replica-ignore-maxmemory).
    if ctx.state.repl.is_replica() && ctx.state.config.bool(crate::ckey!("replica-ignore-maxmemory")) {
        return None;
    }
    let in_multi = ctx.session.multi.is_some();
    if in_multi && spec.has(NO_MULTI) {
        // Refused as not allowed in a transaction, a check Redis makes first.
        return None;
    }
    if perform_evictions(ctx.server, ctx.state) != Outcome::Fail {
        return None;
    }
    ctx.state.pre_command_oom = true;
    let queued = in_multi && !matches!(spec.id, CmdId::Exec | CmdId::Discard | CmdId::Quit | CmdId::Reset);
    // An EXEC comes checked as its transaction: DENYOOM if a queued command is.
    (queued || spec.has(DENYOOM)).then(|| Reply::error(OOM))
}

/// After CONFIG SET maxmemory (updateMaxmemory): warns when the new limit is already exceeded and
/// evicts right away.
pub fn maxmemory_changed(server: &Server, st: &mut State) {
    let max = st.hot.maxmemory;
    if max == 0 {
        return;
    }
    let used = crate::alloc::allocated() as u64;
    if max < used {
        tracing::warn!(
            "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
        );
    }
    perform_evictions(server, st);
}

/// How many bytes must go to be back under maxmemory, if any (getMaxmemoryState). Redis leaves
/// out of the count the replication buffer beyond the backlog and the AOF buffer
/// (freeMemoryGetNotCountedMemory); this server has neither, so everything counts, clients'
/// buffers included as in Redis.
pub fn memory_to_free(st: &State) -> Option<u64> {
    let max = st.hot.maxmemory;
    let used = crate::alloc::allocated() as u64;
    (max != 0 && used > max).then(|| used - max)
}

/// Redis does not evict while clients are paused: the dataset stays as it is.
fn safe_to_evict(st: &State) -> bool {
    st.pause.is_none_or(|p| p.until_ms <= crate::util::time::unix_ms())
}

/// performEvictions: evicts keys by the policy until memory is under maxmemory, for at most the
/// tenacity's time limit (then the background carries on).
pub fn perform_evictions(server: &Server, st: &mut State) -> Outcome {
    if !safe_to_evict(st) {
        return Outcome::Ok;
    }
    let outcome = match memory_to_free(st) {
        None => Outcome::Ok,
        Some(_) if st.hot.maxmemory_policy == Policy::NoEviction => Outcome::Fail,
        Some(to_free) => evict(server, st, to_free),
    };
    update_exceeded_time(st, outcome);
    outcome
}

/// evictionTimeLimitUs: 50 µs per tenacity step up to 10, then 15% more per step; 100 is unlimited.
fn time_limit_us(tenacity: u32) -> u64 {
    match tenacity {
        0..=10 => 50 * u64::from(tenacity),
        11..=99 => (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        _ => u64::MAX,
    }
}

fn evict(server: &Server, st: &mut State, to_free: u64) -> Outcome {
    let limit_us = time_limit_us(st.hot.maxmemory_eviction_tenacity);
    let start = Instant::now();
    let mut freed: i64 = 0;
    let mut keys_freed: u64 = 0;
    let mut outcome = None;
    while freed < to_free as i64 {
        let Some((db, key)) = pick(st) else {
            outcome = Some(Outcome::Fail);
            break;
        };
        // Only what deleting the key frees counts, not what publishing its event costs.
        // lazyfree-lazy-eviction: a big value goes to the lazy free thread (dbAsyncDelete).
        let unlink = st.config.bool(crate::ckey!("lazyfree-lazy-eviction"));
        let before = crate::alloc::allocated() as i64;
        let del_start = Instant::now();
        if let Some(entry) = st.dbs[db].remove(&key) {
            match unlink {
                true => super::lazyfree::free_entry(entry),
                false => drop(entry),
            }
        }
        add_latency(st, "eviction-del", del_start);
        freed += before - crate::alloc::allocated() as i64;
        st.stats.evicted_keys += 1;
        notify::notify(st, notify::EVICTED, "evicted", &key, db);
        super::tracking::invalidate_key(st, None, &key, true);
        st.propagation.deleted(db, &key, unlink);
        keys_freed += 1;
        if keys_freed % 16 == 0 {
            // What the thread frees is not in `freed`: memory itself says when it is enough.
            if unlink && memory_to_free(st).is_none() {
                break;
            }
            if start.elapsed().as_micros() as u64 > limit_us {
                continue_in_background(server, st);
                break;
            }
        }
    }
    st.propagation.propagated_now();
    let outcome = outcome.unwrap_or(if st.evictor.background { Outcome::Running } else { Outcome::Ok });
    add_latency(st, "eviction-cycle", start);
    outcome
}

/// A latency sample since `start`, skipping the (slow) threshold lookup when under a millisecond,
/// which no threshold admits.
pub fn add_latency(st: &mut State, event: &'static str, start: Instant) {
    let ms = start.elapsed().as_millis() as u64;
    if ms > 0 {
        st.latency_add(event, ms);
    }
}

/// evictionTimeProc: keeps evicting between other clients' commands until under the limit or
/// out of keys. While it runs, commands are not refused.
fn continue_in_background(server: &Server, st: &mut State) {
    if st.evictor.background {
        return;
    }
    let (Some(server), Ok(runtime)) = (server.me(), tokio::runtime::Handle::try_current()) else {
        return;
    };
    st.evictor.background = true;
    runtime.spawn(async move {
        loop {
            tokio::task::yield_now().await;
            let mut st = server.lock();
            if perform_evictions(&server, &mut st) != Outcome::Running {
                st.evictor.background = false;
                break;
            }
        }
    });
}

/// Tracks how long memory has stayed over the limit (INFO's *_eviction_exceeded_time).
fn update_exceeded_time(st: &mut State, outcome: Outcome) {
    let s = &mut st.stats;
    match outcome {
        Outcome::Running | Outcome::Fail => {
            s.eviction_exceeded_since.get_or_insert_with(Instant::now);
        }
        Outcome::Ok => {
            if let Some(since) = s.eviction_exceeded_since.take() {
                s.eviction_exceeded_total_us += since.elapsed().as_micros() as u64;
            }
        }
    }
}

/// The next key to evict and its database, None when no key may go.
fn pick(st: &mut State) -> Option<(usize, Box<[u8]>)> {
    let State { evictor, dbs, hot, .. } = st;
    evictor.picker.pick(dbs, hot.maxmemory_policy, hot.maxmemory_samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_time_limits() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        assert_eq!(time_limit_us(11), 575);
        assert_eq!(time_limit_us(100), u64::MAX);
    }
}
