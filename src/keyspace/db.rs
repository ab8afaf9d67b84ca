//! One database: a hash table that grows by splitting small segments (extendible hashing), so that
//! growing to millions of keys never rehashes more than one segment at a time, and whose SCAN cursor
//! is a position in hash space, so a full iteration returns every key present throughout, exactly once.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

pub use super::entry::Entry;
use super::value::Value;

/// A segment splits instead of growing past this many entries (a 1024-bucket table at 7/8 load).
const SEGMENT_MAX: usize = 896;

/// Segments filled by a uniform hash all reach their limit together, so the whole table would
/// double at once and sit at half load; a random split point per segment spreads the doublings out.
fn split_point() -> u32 {
    fastrand::u32(SEGMENT_MAX as u32 / 2 + 1..=SEGMENT_MAX as u32)
}

struct Segment {
    split_at: u32,
    depth: u8,
    table: HashTable<Entry>,
    volatile: u32,
}

/// A client's WATCH on a key: its flag is raised when the key changes.
#[derive(Clone)]
pub struct Watcher {
    pub client: u64,
    pub dirty: Arc<AtomicBool>,
    /// The key was already expired when watched (Redis 7.0's watchedKey.expired): its deletion
    /// is no change, and EXEC does not fail because it is expired. Shared with the session.
    pub expired: Arc<AtomicBool>,
}

pub struct Db {
    directory: Vec<u32>,
    global_depth: u8,
    segments: Vec<Segment>,
    len: usize,
    volatile: usize,
    hasher: DefaultHashBuilder,
    /// Next segment the active expire cycle visits.
    expire_segment: usize,
    /// Running estimate of the average TTL of volatile keys, as INFO keyspace's avg_ttl.
    pub avg_ttl: u64,
    pub watched: HashMap<Box<[u8]>, Vec<Watcher>>,
    /// Keys created since the last keyspace event, whose `new` event is still to be published
    /// (Redis publishes it inside dbAdd, before the command's own event; the publisher drains
    /// this before publishing anything else, which keeps that order).
    pub new_keys: Vec<Box<[u8]>>,
    /// Whether `set` records created keys in `new_keys`: only while the keyspace event `new` (the
    /// `n` class of notify-keyspace-events) can be published.
    pub record_new_keys: bool,
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

/// What `set` does with an existing TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    Keep,
    Clear,
    At(u64),
}

/// hashbrown takes its bucket index from the low bits and its tag from the top 7; the directory uses
/// the top bits, so the table gets the hash rotated to keep those independent.
#[inline]
fn table_hash(h: u64) -> u64 {
    h.rotate_left(32)
}

impl Db {
    pub fn new() -> Db {
        Db {
            directory: vec![0],
            global_depth: 0,
            segments: vec![Segment { split_at: split_point(), depth: 0, table: HashTable::new(), volatile: 0 }],
            len: 0,
            volatile: 0,
            hasher: DefaultHashBuilder::default(),
            expire_segment: 0,
            avg_ttl: 0,
            watched: HashMap::new(),
            new_keys: Vec::new(),
            record_new_keys: false,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    fn slot(&self, h: u64) -> usize {
        if self.global_depth == 0 {
            0
        } else {
            (h >> (64 - self.global_depth)) as usize
        }
    }

    #[inline]
    fn segment_of(&self, h: u64) -> usize {
        self.directory[self.slot(h)] as usize
    }

    /// The entry, expired or not.
    pub fn get_raw(&self, key: &[u8]) -> Option<&Entry> {
        let h = self.hash(key);
        let seg = &self.segments[self.segment_of(h)];
        seg.table.find(table_hash(h), |e| e.key() == key)
    }

    /// The entry, expired or not, for changing it. Lazy expiry (and counting it) is done before,
    /// through `Ctx::lookup_write` / `Ctx::expire_if_needed`.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let h = self.hash(key);
        let s = self.segment_of(h);
        self.segments[s].table.find_mut(table_hash(h), |e| e.key() == key)
    }

    /// Takes the key out if its TTL has passed, returning its entry (the caller decides when to
    /// free it, so the time that takes can be measured).
    pub fn take_expired(&mut self, key: &[u8], now_ms: u64) -> Option<Entry> {
        // Most databases hold no volatile keys: then no lookup is needed at all.
        if self.volatile == 0 {
            return None;
        }
        match self.get_raw(key).and_then(|e| e.expire_at()) {
            Some(at) if at < now_ms => self.remove(key),
            _ => None,
        }
    }

    /// Inserts or overwrites. Returns the old value if there was one (expired or not).
    pub fn set(&mut self, key: &[u8], value: Value, ttl: Ttl) -> Option<Value> {
        let h = self.hash(key);
        let mut s = self.segment_of(h);
        if self.segments[s].table.len() >= self.segments[s].split_at as usize && self.get_raw(key).is_none() {
            self.split(s);
            s = self.segment_of(h);
        }
        let hasher = self.hasher;
        let seg = &mut self.segments[s];
        match seg.table.entry(table_hash(h), |e| e.key() == key, |e| table_hash(hasher.hash_one(e.key()))) {
            TableEntry::Occupied(mut o) => {
                let e = o.get_mut();
                let old = std::mem::replace(e.value_mut(), value);
                let was_volatile = e.expire_at().is_some();
                match ttl {
                    Ttl::Keep => {}
                    Ttl::Clear => e.set_expire(0),
                    Ttl::At(at) => e.set_expire(at),
                }
                let is_volatile = e.expire_at().is_some();
                adjust_volatile(&mut seg.volatile, &mut self.volatile, was_volatile, is_volatile);
                Some(old)
            }
            TableEntry::Vacant(v) => {
                let expire_at = match ttl {
                    Ttl::At(at) => at,
                    _ => 0,
                };
                v.insert(Entry::new(key, value, expire_at, super::access::initial()));
                self.len += 1;
                if self.record_new_keys {
                    self.new_keys.push(key.into());
                }
                adjust_volatile(&mut seg.volatile, &mut self.volatile, false, expire_at != 0);
                None
            }
        }
    }

    /// Removes the key (expired or not), returning its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let h = self.hash(key);
        let s = self.segment_of(h);
        let seg = &mut self.segments[s];
        let removed = match seg.table.find_entry(table_hash(h), |e| e.key() == key) {
            Ok(o) => o.remove().0,
            Err(_) => return None,
        };
        self.len -= 1;
        adjust_volatile(&mut seg.volatile, &mut self.volatile, removed.expire_at().is_some(), false);
        self.touch_watched(key);
        Some(removed)
    }

    /// Sets the absolute expiry of an existing key. False if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at_ms: u64) -> bool {
        self.update_expire(key, at_ms)
    }

    /// Removes the TTL. True if the key had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        matches!(self.get_raw(key).map(|e| e.expire_at().is_some()), Some(true)) && self.update_expire(key, 0)
    }

    fn update_expire(&mut self, key: &[u8], at: u64) -> bool {
        let h = self.hash(key);
        let s = self.segment_of(h);
        let seg = &mut self.segments[s];
        let Some(e) = seg.table.find_mut(table_hash(h), |e| e.key() == key) else {
            return false;
        };
        let was = e.expire_at().is_some();
        e.set_expire(at);
        adjust_volatile(&mut seg.volatile, &mut self.volatile, was, at != 0);
        true
    }

    /// Removes every key, returning how many there were.
    pub fn clear(&mut self) -> usize {
        self.take_keys().len()
    }

    /// Removes every key, returning them as a database of their own, for the caller to free
    /// where it likes (FLUSHDB ASYNC); the watchers stay with this one.
    pub fn take_keys(&mut self) -> Db {
        let watched = std::mem::take(&mut self.watched);
        let hasher = self.hasher;
        let old = std::mem::take(self);
        self.hasher = hasher;
        self.watched = watched;
        old
    }

    /// Raises the dirty flag of every client watching `key` (Redis's touchWatchedKey). A key
    /// watched when already expired is no change once deleted: that watch just stops being one
    /// of an expired key. Redis stops at such a watch while the key is still there (a replica's
    /// key written by its master), leaving the watchers after it untouched; so does this.
    pub fn touch_watched(&self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        let Some(ws) = self.watched.get(key) else { return };
        for w in ws {
            if w.expired.load(Ordering::Relaxed) {
                if self.get_raw(key).is_some() {
                    break;
                }
                w.expired.store(false, Ordering::Relaxed);
                continue;
            }
            w.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// FLUSHDB, FLUSHALL, SWAPDB, a full sync (Redis's touchAllWatchedKeysInDb): this database is
    /// emptied, or its data `replaced_with` another's. A watch fails if its key exists here or
    /// there, expired keys counting as existing, except: a key watched expired that is gone, or
    /// replaced by one expired too, is no change; nor is a missing key replaced by an expired one
    /// (the watch becomes one of an expired key).
    pub fn touch_all_watched(&self, replaced_with: Option<&Db>, now_ms: u64) {
        let expired_in = |d: &Db, k: &[u8]| d.get_raw(k).and_then(|e| e.expire_at()).is_some_and(|at| at < now_ms);
        for (k, ws) in &self.watched {
            let in_emptied = self.get_raw(k).is_some();
            let in_replacement = replaced_with.is_some_and(|o| o.get_raw(k).is_some());
            if !in_emptied && !in_replacement {
                continue;
            }
            let replacement_expired = replaced_with.is_some_and(|o| expired_in(o, k));
            for w in ws {
                if w.expired.load(Ordering::Relaxed) {
                    if !in_replacement {
                        w.expired.store(false, Ordering::Relaxed);
                        continue;
                    }
                    if replacement_expired {
                        continue;
                    }
                } else if !in_emptied && replacement_expired {
                    w.expired.store(true, Ordering::Relaxed);
                    continue;
                }
                w.dirty.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Prepares an empty database for about `n` keys (a load that knows the count from RESIZEDB):
    /// the segments they will need, each with room, so the load neither splits nor rehashes.
    pub fn reserve(&mut self, n: usize) {
        // Below the smallest split point, with room for the uneven spread of keys over segments.
        const KEYS_PER_SEGMENT: usize = 320;
        if !self.is_empty() || n == 0 {
            return;
        }
        while self.segments.len() * KEYS_PER_SEGMENT < n {
            for s in 0..self.segments.len() {
                self.split(s);
            }
        }
        let each = n / self.segments.len() + n / self.segments.len() / 4 + 8;
        let hasher = self.hasher;
        for seg in &mut self.segments {
            seg.table.reserve(each, |e: &Entry| table_hash(hasher.hash_one(e.key())));
        }
    }

    fn split(&mut self, s: usize) {
        if self.segments[s].depth == self.global_depth {
            // Double the directory: each slot becomes two that point to the same segment.
            let old = std::mem::take(&mut self.directory);
            self.directory = old.iter().flat_map(|&x| [x, x]).collect();
            self.global_depth += 1;
        }
        let depth = self.segments[s].depth;
        let bit = 63 - depth as u32;
        let hasher = self.hasher;
        let mut moved = HashTable::with_capacity(self.segments[s].table.len() / 2 + 1);
        let mut moved_volatile = 0u32;
        let old = &mut self.segments[s];
        for e in old.table.extract_if(|e| (hasher.hash_one(e.key()) >> bit) & 1 == 1) {
            if e.expire_at().is_some() {
                moved_volatile += 1;
            }
            let h = table_hash(hasher.hash_one(e.key()));
            moved.insert_unique(h, e, |e: &Entry| table_hash(hasher.hash_one(e.key())));
        }
        old.depth = depth + 1;
        old.volatile -= moved_volatile;
        old.split_at = split_point();
        old.table.shrink_to_fit(|e: &Entry| table_hash(hasher.hash_one(e.key())));
        let new_index = self.segments.len() as u32;
        self.segments.push(Segment {
            split_at: split_point(),
            depth: depth + 1,
            table: moved,
            volatile: moved_volatile,
        });
        // Slots that pointed to the old segment and have the new bit set now point to the new one.
        let shift = self.global_depth - (depth + 1);
        for (slot, seg) in self.directory.iter_mut().enumerate() {
            if *seg as usize == s && (slot >> shift) & 1 == 1 {
                *seg = new_index;
            }
        }
    }

    /// One SCAN step from `cursor` (a position in hash space). Returns the keys found, about `count` of
    /// them, and the next cursor (0 when the iteration is complete). Expired keys are included; the
    /// caller filters them.
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<Box<[u8]>>, u64) {
        let mut out = Vec::new();
        let mut pos = cursor;
        loop {
            let s = self.segment_of(pos);
            let seg = &self.segments[s];
            let span_bits = 64 - seg.depth as u32;
            let seg_start = if span_bits == 64 { 0 } else { (pos >> span_bits) << span_bits };
            let seg_end = seg_start as u128 + (1u128 << span_bits);
            let mut here: Vec<(u64, &Entry)> = seg
                .table
                .iter()
                .filter_map(|e| {
                    let h = self.hash(e.key());
                    (h >= pos).then_some((h, e))
                })
                .collect();
            let want = count.saturating_sub(out.len()).max(1);
            if here.len() > want {
                here.sort_unstable_by_key(|(h, _)| *h);
                // Stop at a hash boundary so equal hashes are never split across calls.
                let mut n = want;
                while n < here.len() && here[n].0 == here[n - 1].0 {
                    n += 1;
                }
                if n < here.len() {
                    out.extend(here[..n].iter().map(|(_, e)| Box::<[u8]>::from(e.key())));
                    return (out, here[n].0.max(1));
                }
            }
            out.extend(here.iter().map(|(_, e)| Box::<[u8]>::from(e.key())));
            if seg_end >= 1u128 << 64 {
                return (out, 0);
            }
            pos = seg_end as u64;
            if out.len() >= count {
                return (out, pos);
            }
        }
    }

    /// All keys, expired or not (KEYS filters).
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.segments.iter().flat_map(|s| s.table.iter())
    }

    pub fn random_key(&self) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        // Segments are of similar size, so a random slot then a random entry is close to uniform.
        for _ in 0..16 {
            let seg = &self.segments[self.directory[fastrand::usize(..self.directory.len())] as usize];
            if !seg.table.is_empty() {
                return seg.table.iter().nth(fastrand::usize(..seg.table.len()));
            }
        }
        self.iter().nth(fastrand::usize(..self.len))
    }

    /// A random key with a TTL, for eviction of volatile keys.
    pub fn random_volatile_key(&self) -> Option<&Entry> {
        if self.volatile == 0 {
            return None;
        }
        let start = fastrand::usize(..self.segments.len());
        let seg = (0..self.segments.len())
            .map(|i| &self.segments[(start + i) % self.segments.len()])
            .find(|s| s.volatile > 0)?;
        seg.table.iter().filter(|e| e.expire_at().is_some()).nth(fastrand::usize(..seg.volatile as usize))
    }

    /// Up to `n` entries from one random spot of the table, with a TTL only when `volatile`: the
    /// candidates an eviction round looks at (dictGetSomeKeys). Entries sit in hash order, so a run
    /// of neighbours is a random sample; the spot is a random directory slot, which picks a segment
    /// in proportion to the share of hash space (and so of keys) it holds.
    pub fn sample(&self, n: usize, volatile: bool) -> Vec<&Entry> {
        let mut out = Vec::with_capacity(n.min(self.len));
        if n == 0 || self.len == 0 || (volatile && self.volatile == 0) {
            return out;
        }
        let eligible = |e: &&Entry| !volatile || e.expire_at().is_some();
        let slots = self.directory.len();
        let start = fastrand::usize(..slots);
        // The first segment is entered at a random entry, and what comes before it is taken last.
        let first = &self.segments[self.directory[start] as usize];
        let count = if volatile { first.volatile as usize } else { first.table.len() };
        let skip = if count > 0 { fastrand::usize(..count) } else { 0 };
        out.extend(first.table.iter().filter(eligible).skip(skip).take(n));
        let mut previous = self.directory[start];
        for i in 1..slots {
            if out.len() >= n {
                return out;
            }
            // The slots of one segment are contiguous: each segment is visited once.
            let s = self.directory[(start + i) % slots];
            if s == previous || s == self.directory[start] {
                continue;
            }
            previous = s;
            let wanted = n - out.len();
            out.extend(self.segments[s as usize].table.iter().filter(eligible).take(wanted));
        }
        let wanted = n.saturating_sub(out.len()).min(skip);
        out.extend(first.table.iter().filter(eligible).take(wanted));
        out
    }

    /// Bytes of structure rather than data: the tables' buckets and control bytes, the directory,
    /// and each entry's fixed part (header, expiry, value slot). INFO's used_memory_overhead counts
    /// this like Redis counts its dict entries, bucket pointers and object headers.
    pub fn overhead(&self) -> usize {
        let slot = std::mem::size_of::<Entry>() + 1;
        let tables: usize = self.segments.iter().map(|s| bucket_count(s.table.capacity()) * slot).sum();
        let entries = self.len * (8 + std::mem::size_of::<Value>()) + self.volatile * 8;
        tables
            + entries
            + self.directory.capacity() * std::mem::size_of::<u32>()
            + self.segments.capacity() * std::mem::size_of::<Segment>()
    }

    /// Active expiry: visits segments holding volatile keys, deleting expired ones, until `budget`
    /// entries were examined. Returns (the expired entries, entries examined): the caller frees
    /// them, at once or in the background (lazyfree-lazy-expire).
    pub fn expire_cycle(&mut self, now_ms: u64, budget: usize) -> (Vec<Entry>, usize) {
        let mut examined = 0;
        let mut expired = Vec::new();
        let nsegs = self.segments.len();
        let mut visited = 0;
        let mut ttl_sum: u128 = 0;
        let mut ttl_n: u64 = 0;
        while examined < budget && visited < nsegs && self.volatile > 0 {
            let s = self.expire_segment % nsegs;
            self.expire_segment = (s + 1) % nsegs;
            visited += 1;
            let seg = &mut self.segments[s];
            if seg.volatile == 0 {
                continue;
            }
            examined += seg.table.len();
            for at in seg.table.iter().filter_map(|e| e.expire_at()) {
                if at > now_ms {
                    ttl_sum += (at - now_ms) as u128;
                    ttl_n += 1;
                }
            }
            let mut gone = 0;
            for e in seg.table.extract_if(|e| e.expire_at().is_some_and(|at| at < now_ms)) {
                gone += 1;
                expired.push(e);
            }
            seg.volatile -= gone;
            self.volatile -= gone as usize;
            self.len -= gone as usize;
        }
        if ttl_n > 0 {
            // Like Redis: a moving average that gives the new sample 2% weight per... sample round.
            let sample = (ttl_sum / ttl_n as u128) as u64;
            self.avg_ttl = if self.avg_ttl == 0 { sample } else { (self.avg_ttl / 50) * 49 + sample / 50 };
        } else if self.volatile == 0 {
            self.avg_ttl = 0;
        }
        for e in &expired {
            self.touch_watched(e.key());
        }
        (expired, examined)
    }
}

/// The buckets behind a hashbrown table of this capacity (7/8 load, powers of two; small tables
/// are full).
fn bucket_count(capacity: usize) -> usize {
    match capacity {
        0 => 0,
        1..=3 => 4,
        4..=7 => 8,
        c => (c * 8 / 7).next_power_of_two(),
    }
}

fn adjust_volatile(seg: &mut u32, db: &mut usize, was: bool, is: bool) {
    match (was, is) {
        (false, true) => {
            *seg += 1;
            *db += 1;
        }
        (true, false) => {
            *seg -= 1;
            *db -= 1;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn s(v: &str) -> Value {
        Value::string(v.as_bytes())
    }

    #[test]
    fn grows_by_splitting_and_finds_everything() {
        let mut db = Db::new();
        for i in 0..20_000 {
            db.set(format!("key:{i}").as_bytes(), s("v"), Ttl::Clear);
        }
        assert_eq!(db.len(), 20_000);
        assert!(db.segments.len() > 16);
        for i in 0..20_000 {
            assert!(db.get_raw(format!("key:{i}").as_bytes()).is_some());
        }
        for i in 0..10_000 {
            assert!(db.remove(format!("key:{i}").as_bytes()).is_some());
        }
        assert_eq!(db.len(), 10_000);
    }

    #[test]
    fn scan_returns_each_key_once_even_while_growing() {
        let mut db = Db::new();
        for i in 0..3000 {
            db.set(format!("a{i}").as_bytes(), s("v"), Ttl::Clear);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut extra = 0;
        loop {
            let (keys, next) = db.scan(cursor, 10);
            for k in keys {
                assert!(seen.insert(k), "duplicate");
            }
            // Grow the table mid-iteration.
            for _ in 0..20 {
                db.set(format!("b{extra}").as_bytes(), s("v"), Ttl::Clear);
                extra += 1;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for i in 0..3000 {
            assert!(seen.contains(format!("a{i}").as_bytes()), "missing a{i}");
        }
    }

    #[test]
    fn samples_reach_the_whole_table() {
        let mut db = Db::new();
        for i in 0..20_000 {
            let ttl = if i % 10 == 0 { Ttl::At(1_000_000) } else { Ttl::Clear };
            db.set(format!("key:{i}").as_bytes(), s("v"), ttl);
        }
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let got = db.sample(5, false);
            assert_eq!(got.len(), 5);
            seen.extend(got.iter().map(|e| e.key().to_vec()));
            let volatile = db.sample(5, true);
            assert_eq!(volatile.len(), 5);
            assert!(volatile.iter().all(|e| e.expire_at().is_some()));
        }
        // 10,000 draws from 20,000 keys: a uniform sampler reaches about 7,900 distinct ones.
        assert!(seen.len() > 6000, "only {} distinct keys sampled", seen.len());
        let mut small = Db::new();
        for i in 0..7 {
            small.set(format!("k{i}").as_bytes(), s("v"), Ttl::Clear);
        }
        for _ in 0..20 {
            let mut keys: Vec<&[u8]> = small.sample(64, false).iter().map(|e| e.key()).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), 7);
        }
        assert!(small.sample(5, true).is_empty());
    }

    #[test]
    fn volatile_accounting_and_active_expiry() {
        let mut db = Db::new();
        for i in 0..2000 {
            db.set(format!("k{i}").as_bytes(), s("v"), if i % 2 == 0 { Ttl::At(100) } else { Ttl::Clear });
        }
        assert_eq!(db.volatile_len(), 1000);
        db.persist(b"k0");
        assert_eq!(db.volatile_len(), 999);
        let (gone, _) = db.expire_cycle(200, usize::MAX);
        assert_eq!(gone.len(), 999);
        assert_eq!(db.len(), 1001);
        assert_eq!(db.volatile_len(), 0);
    }
}
