//! Client eviction (maxmemory-clients), as Redis 7.0's networking.c and server.c do it: what each
//! evictable client uses is kept in one of 19 buckets by its log2 (below 32 KB in the first,
//! above 4 GB in the last); when what normal and pub/sub clients use together reaches the limit,
//! clients are freed from the biggest bucket down, each bucket's in the order they entered it,
//! until it is below.
//!
//! Redis keeps the sum from each client's last measured usage, updated where its buffers change
//! (after a read, after each command, after a write, at the cron's visit); the connection tasks
//! report at the same points, and eviction is checked where Redis checks it (before each command,
//! after the writes, after CONFIG SET). Nothing is tracked while maxmemory-clients is 0.

use std::sync::atomic::{AtomicBool, Ordering};

use hashbrown::HashMap;

use super::state::{ClientId, ClientInfo, ClientKind, State};

/// CLIENT_MEM_USAGE_BUCKET_MIN_LOG: the first bucket holds clients of less than 2^15 bytes.
const MIN_LOG: u32 = 15;
/// CLIENT_MEM_USAGE_BUCKET_MAX_LOG: the last holds those above 2^32.
const MAX_LOG: u32 = 33;
pub const BUCKETS: usize = (1 + MAX_LOG - MIN_LOG) as usize;

/// Whether maxmemory-clients is set, for the connection tasks to know without the lock whether a
/// read or a write must be reported (a stale view only delays a report to the cron's visit).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// A client's last measured usage, and its place in a bucket while it may be evicted.
struct Tracked {
    mem: usize,
    /// Bucket index and the order it entered that bucket.
    slot: Option<(usize, u64)>,
}

#[derive(Default, Clone, Copy)]
pub struct Bucket {
    /// mem_usage_sum
    pub sum: usize,
    pub clients: usize,
}

/// The buckets and the usage of normal and pub/sub clients (stat_clients_type_memory).
#[derive(Default)]
pub struct ClientMem {
    tracked: HashMap<ClientId, Tracked>,
    buckets: [Bucket; BUCKETS],
    total: usize,
    next_seq: u64,
    /// Whether the buckets are in use (server.client_mem_usage_buckets != NULL).
    active: bool,
}

impl ClientMem {
    /// DEBUG CLIENT-EVICTION's view; None while maxmemory-clients is 0.
    pub fn buckets(&self) -> Option<&[Bucket; BUCKETS]> {
        self.active.then_some(&self.buckets)
    }

    fn unslot(&mut self, t: &mut Tracked) {
        if let Some((b, _)) = t.slot.take() {
            self.buckets[b].sum -= t.mem;
            self.buckets[b].clients -= 1;
        }
    }
}

/// getMemUsageBucket: log2 of the usage, clamped to the buckets' range.
fn bucket_of(mem: usize) -> usize {
    let bits = (usize::BITS - mem.leading_zeros()).clamp(MIN_LOG, MAX_LOG);
    (bits - MIN_LOG) as usize
}

/// Whether reads and writes must be reported (maxmemory-clients is set).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// getClientEvictionLimit: maxmemory-clients in bytes, or as a percentage of maxmemory (stored
/// negative, and no limit while maxmemory is 0); never below 128 KB, so that a bad setting does
/// not cut every client off. 0: none.
pub fn limit(st: &State) -> usize {
    let (setting, maxmemory) = (st.hot.maxmemory_clients, st.hot.maxmemory);
    let bytes = match setting {
        n if n < 0 && maxmemory > 0 => (maxmemory as f64 * -(n as f64) / 100.0) as usize,
        n if n < 0 => return 0,
        0 => return 0,
        n => n as usize,
    };
    bytes.max(128 * 1024)
}

/// clientEvictionAllowed
fn allowed(st: &State, c: &ClientInfo) -> bool {
    st.hot.maxmemory_clients != 0 && !c.no_evict && matches!(c.kind, ClientKind::Normal | ClientKind::Pubsub)
}

/// updateClientMemUsageAndBucket: the client uses `mem` bytes now. An evictable client's usage is
/// recorded and it moves to its bucket; one that may not be evicted (NO-EVICT) leaves its bucket
/// and its recorded usage stays as the cron last measured it.
pub fn update(st: &mut State, id: ClientId, mem: usize) {
    let Some(c) = st.clients.get(&id) else { return };
    let evictable = allowed(st, c);
    let cm = &mut st.client_mem;
    if !cm.active {
        return;
    }
    let mut t = cm.tracked.remove(&id).unwrap_or(Tracked { mem: 0, slot: None });
    if !evictable {
        cm.unslot(&mut t);
        cm.tracked.insert(id, t);
        return;
    }
    let bucket = bucket_of(mem);
    match t.slot {
        Some((b, seq)) if b == bucket => {
            cm.buckets[b].sum = cm.buckets[b].sum - t.mem + mem;
            t.slot = Some((b, seq));
        }
        _ => {
            cm.unslot(&mut t);
            cm.next_seq += 1;
            cm.buckets[bucket].sum += mem;
            cm.buckets[bucket].clients += 1;
            t.slot = Some((bucket, cm.next_seq));
        }
    }
    cm.total = cm.total - t.mem + mem;
    t.mem = mem;
    cm.tracked.insert(id, t);
}

/// updateClientMemoryUsage, the cron's measure of a client whatever its kind: a normal or
/// pub/sub client's usage counts in the total; an evictable one also moves to its bucket.
pub fn measure(st: &mut State, id: ClientId, mem: usize) {
    let Some(c) = st.clients.get(&id) else { return };
    if !st.client_mem.active {
        return;
    }
    if !matches!(c.kind, ClientKind::Normal | ClientKind::Pubsub) {
        forget(st, id);
        return;
    }
    update(st, id, mem);
    let cm = &mut st.client_mem;
    if let Some(t) = cm.tracked.get_mut(&id) {
        cm.total = cm.total - t.mem + mem;
        t.mem = mem;
    }
}

/// Clients a message or an invalidation was just queued for (pubsub.c and tracking.c measure
/// each receiver): their output grew while their own tasks may be waiting on a full socket.
pub fn measure_receivers(st: &mut State, ids: &[ClientId]) {
    for &id in ids {
        if let Some(c) = st.clients.get(&id) {
            let mem = c.memory(c.argv_pending_mem);
            update(st, id, mem);
        }
    }
}

/// The client is gone: its usage no longer counts.
pub fn forget(st: &mut State, id: ClientId) {
    let cm = &mut st.client_mem;
    if let Some(mut t) = cm.tracked.remove(&id) {
        cm.unslot(&mut t);
        cm.total -= t.mem;
    }
}

/// After a config change (applyClientMaxMemoryUsage): turned on, every client is measured into
/// its bucket; turned off, the buckets go. Whatever changed (the limit, or maxmemory under a
/// percentage), clients over the new limit are evicted at once, as Redis does before it sleeps.
pub fn configure(st: &mut State, now_ms: u64) {
    let on = st.hot.maxmemory_clients != 0;
    ENABLED.store(on, Ordering::Relaxed);
    if on && !st.client_mem.active {
        st.client_mem.active = true;
        let usage: Vec<(ClientId, usize)> = st.clients.values().map(|c| (c.id, c.memory(c.argv_pending_mem))).collect();
        // Redis's cron has measured every client all along, NO-EVICT ones included.
        for (id, mem) in usage {
            measure(st, id, mem);
        }
    } else if !on {
        st.client_mem = ClientMem::default();
    }
    evict(st, None, now_ms);
}

/// evictClients: while normal and pub/sub clients use more than the limit, frees the clients of
/// the biggest bucket, oldest in it first, then of the next one down. True when `me` (the client
/// whose command is about to run) was among them: its command must not run.
pub fn evict(st: &mut State, me: Option<ClientId>, now_ms: u64) -> bool {
    if !st.client_mem.active {
        return false;
    }
    let limit = limit(st);
    if limit == 0 || st.client_mem.total < limit {
        return false;
    }
    // Clients freed elsewhere, or that became replicas, leave the count before anyone is evicted
    // for them.
    let stale: Vec<ClientId> = st
        .client_mem
        .tracked
        .keys()
        .filter(|id| st.clients.get(*id).is_none_or(|c| !matches!(c.kind, ClientKind::Normal | ClientKind::Pubsub)))
        .copied()
        .collect();
    for id in stale {
        forget(st, id);
    }
    let mut evicted_me = false;
    while st.client_mem.total >= limit {
        let victim = st
            .client_mem
            .tracked
            .iter()
            .filter_map(|(id, t)| t.slot.map(|(b, seq)| (std::cmp::Reverse(b), seq, *id)))
            .min()
            .map(|(_, _, id)| id);
        let Some(id) = victim else {
            tracing::warn!("Over client maxmemory after evicting all evictable clients");
            break;
        };
        if let Some(c) = st.clients.get(&id) {
            let info = super::state::client_info_line(c, now_ms);
            tracing::info!("Evicting client: {info}");
        }
        free(st, id);
        forget(st, id);
        st.stats.evicted_clients += 1;
        evicted_me |= me == Some(id);
    }
    evicted_me
}

/// freeClient, as far as the shared state goes: the client is gone from CLIENT LIST, pub/sub,
/// MONITOR and tracking at once; its task closes the socket and finishes the clean-up.
pub fn free(st: &mut State, id: ClientId) {
    super::tracking::disable(st, id);
    if let Some(c) = st.clients.remove(&id) {
        c.signals.kill();
        super::pubsub::unsubscribe_all(st, id);
        st.monitors.retain(|m| *m != id);
        // A client held by a pause is freed too: its command never runs.
        super::postpone::forget(st, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_log2_of_the_usage_within_their_range() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(32 * 1024 - 1), 0);
        assert_eq!(bucket_of(32 * 1024), 1);
        assert_eq!(bucket_of(64 * 1024 - 1), 1);
        assert_eq!(bucket_of(3 * 1024 * 1024), 7);
        assert_eq!(bucket_of(1 << 32), BUCKETS - 1);
        assert_eq!(bucket_of(usize::MAX), BUCKETS - 1);
    }
}
