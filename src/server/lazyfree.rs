//! Freeing big values in a background thread, and the counters INFO shows for it, as Redis's
//! lazyfree.c does: UNLINK, DEL under lazyfree-lazy-user-del, FLUSHALL/FLUSHDB ASYNC (or under
//! lazyfree-lazy-user-flush), keys evicted under lazyfree-lazy-eviction, keys expired under
//! lazyfree-lazy-expire, values a command deletes or overwrites on its own (a STORE's destination,
//! RENAME's target, SET over a key) under lazyfree-lazy-server-del, and a replica's old dataset
//! under replica-lazy-flush hand what they remove to one thread, so the command does not pay for
//! the deallocation. A value is only worth the trip when it is made of many allocations
//! (`free_effort` above 64); a flushed database always goes, and counts one object per key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

use crate::keyspace::{Db, Ttl, Value};
use crate::server::state::State;

/// Redis's LAZYFREE_THRESHOLD: a value of at most this many allocations is freed at once.
pub const THRESHOLD: usize = 64;

/// Objects handed to the thread and not yet freed (`lazyfree_pending_objects`).
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// Objects the thread has freed since start-up or CONFIG RESETSTAT (`lazyfreed_objects`).
static FREED: AtomicUsize = AtomicUsize::new(0);

struct Job {
    objects: usize,
    payload: Box<dyn Send>,
}

/// The thread's queue, started on first use. None if the thread could not be started: values
/// are then freed where they are removed, which is slower but loses nothing.
fn queue() -> Option<&'static Mutex<Sender<Job>>> {
    static QUEUE: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = channel::<Job>();
            let spawned = std::thread::Builder::new().name("bio_lazy_free".into()).spawn(move || {
                for job in rx {
                    drop(job.payload);
                    PENDING.fetch_sub(job.objects, Ordering::AcqRel);
                    FREED.fetch_add(job.objects, Ordering::AcqRel);
                }
            });
            match spawned {
                Ok(_) => Some(Mutex::new(tx)),
                Err(e) => {
                    tracing::warn!("Can't create the lazy free thread, values are freed at once: {e}");
                    None
                }
            }
        })
        .as_ref()
}

fn submit(objects: usize, payload: Box<dyn Send>) {
    let Some(q) = queue() else { return };
    PENDING.fetch_add(objects, Ordering::AcqRel);
    let sent = match q.lock() {
        Ok(tx) => tx.send(Job { objects, payload }),
        Err(poisoned) => poisoned.into_inner().send(Job { objects, payload }),
    };
    if let Err(returned) = sent {
        // The thread is gone: free here, and count it as Redis would have.
        drop(returned.0.payload);
        PENDING.fetch_sub(objects, Ordering::AcqRel);
        FREED.fetch_add(objects, Ordering::AcqRel);
    }
}

/// How many allocations freeing `value` takes, as Redis's lazyfreeGetFreeEffort counts them:
/// quicklist nodes for a list, elements for a set, hash or sorted set in a hash table or skiplist,
/// radix tree nodes plus consumer groups times (1 + the first group's pending entries) for a
/// stream; 1 for anything else (strings and the compact encodings).
pub fn free_effort(value: &Value) -> usize {
    match value {
        Value::List(l) => crate::persistence::rdb::quicklist_node_count(l),
        Value::Set(s) if !s.is_intset() => s.len(),
        Value::Hash(h) if !h.is_listpack() => h.len(),
        Value::ZSet(z) if !z.is_listpack() => z.len(),
        Value::Stream(s) => {
            let groups = s.groups();
            let first_pel = groups.values().next().map_or(0, |g| g.pel.len());
            s.radix_tree_nodes() + groups.len() * (1 + first_pel)
        }
        _ => 1,
    }
}

/// Frees a removed key (its entry) in the background when it is big enough (freeObjAsync), else
/// at once.
pub fn free_entry(entry: crate::keyspace::Entry) {
    if free_effort(entry.value()) > THRESHOLD {
        submit(1, Box::new(entry));
    }
}

/// A removed value: in the background when it is big enough (freeObjAsync), else at once.
pub fn free_value(value: Value) {
    if free_effort(&value) > THRESHOLD {
        submit(1, Box::new(value));
    }
}

/// dbDelete, for the deletions a command makes on its own (an empty result's destination, the
/// target RENAME or COPY replaces, what RESTORE REPLACE replaces): the value is freed as
/// lazyfree-lazy-server-del says. True if the key existed.
pub fn server_delete(st: &mut State, db: usize, key: &[u8]) -> bool {
    let Some(entry) = st.dbs[db].remove(key) else { return false };
    match st.config.bool(crate::ckey!("lazyfree-lazy-server-del")) {
        true => free_entry(entry),
        false => drop(entry),
    }
    true
}

/// setKey's dbOverwrite: the key gets `value`; the value it had goes as
/// lazyfree-lazy-server-del says.
pub fn server_overwrite(st: &mut State, db: usize, key: &[u8], value: Value, ttl: Ttl) {
    let Some(old) = st.dbs[db].set(key, value, ttl) else { return };
    match st.config.bool(crate::ckey!("lazyfree-lazy-server-del")) {
        true => free_value(old),
        false => drop(old),
    }
}

/// A deletion by a time already past (EXPIRE, GETEX, SET with EXAT/PXAT in the past): the value
/// is freed as lazyfree-lazy-expire says. True if the key existed.
pub fn expire_delete(st: &mut State, db: usize, key: &[u8]) -> bool {
    let Some(entry) = st.dbs[db].remove(key) else { return false };
    match st.config.bool(crate::ckey!("lazyfree-lazy-expire")) {
        true => free_entry(entry),
        false => drop(entry),
    }
    true
}

/// Frees emptied databases in the background (emptyDbAsync), one object per key.
pub fn free_databases(dbs: Vec<Db>) {
    let keys = dbs.iter().map(Db::len).sum();
    submit(keys, Box::new(dbs));
}

/// `lazyfree_pending_objects`.
pub fn pending_objects() -> usize {
    PENDING.load(Ordering::Acquire)
}

/// `lazyfreed_objects`.
pub fn freed_objects() -> usize {
    FREED.load(Ordering::Acquire)
}

/// CONFIG RESETSTAT (lazyfreeResetStats): the freed count starts again; pending work stays.
pub fn reset_stats() {
    FREED.store(0, Ordering::Release);
}
