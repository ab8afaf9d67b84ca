//! Pending entries lists by ID: what Redis keeps in a radix tree per group and per consumer.
//!
//! A PEL mostly grows at its end (deliveries go in ID order) and shrinks anywhere (XACK, XCLAIM).
//! A BTreeMap did that with a walk down six or seven nodes per lookup, each a cache miss at a
//! million pending entries: XACK cost more CPU than Redis's rax lookup. Here the entries are a
//! sorted sequence cut into chunks of at most `CHUNK`, found through a flat array of each chunk's
//! lower bound: a lookup is a binary search of that array (contiguous, its last steps in one
//! cache line) and one of a chunk. Appends fill the last chunk to the brim. A chunk emptied by
//! removals stays as a placeholder (its bound still sorts correctly) until they make up half the
//! chunks, then all are dropped at once, so removal never shifts the chunk array per call.

use std::ops::{Index, RangeFrom};

use super::StreamId;

/// Entries per chunk: a group's chunk is 64 × 56 = 3584 bytes, a consumer's 1 KB.
const CHUNK: usize = 64;

/// Below this many emptied chunks, they are left alone.
const COMPACT_MIN: usize = 16;

type Chunk<V> = Vec<(StreamId, V)>;

#[derive(Debug, Clone)]
pub struct PelMap<V> {
    /// Chunks in order, each sorted; a chunk may be empty (a placeholder, see `empty`).
    chunks: Vec<Chunk<V>>,
    /// `bounds[i]` is at most every key of chunk i, and greater than every key of chunk i - 1.
    bounds: Vec<StreamId>,
    len: usize,
    /// How many chunks are empty.
    empty: usize,
}

impl<V> Default for PelMap<V> {
    fn default() -> Self {
        PelMap { chunks: Vec::new(), bounds: Vec::new(), len: 0, empty: 0 }
    }
}

impl<V: PartialEq> PartialEq for PelMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<V: Eq> Eq for PelMap<V> {}

impl<V> PelMap<V> {
    pub fn new() -> PelMap<V> {
        PelMap::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk whose range holds `id`; None when `id` is below every bound (or there is none).
    fn chunk_for(&self, id: StreamId) -> Option<usize> {
        self.bounds.partition_point(|b| *b <= id).checked_sub(1)
    }

    fn find(&self, id: StreamId) -> Option<(usize, usize)> {
        let ci = self.chunk_for(id)?;
        let i = self.chunks[ci].binary_search_by_key(&id, |e| e.0).ok()?;
        Some((ci, i))
    }

    pub fn get(&self, id: &StreamId) -> Option<&V> {
        self.find(*id).map(|(ci, i)| &self.chunks[ci][i].1)
    }

    pub fn get_mut(&mut self, id: &StreamId) -> Option<&mut V> {
        let (ci, i) = self.find(*id)?;
        Some(&mut self.chunks[ci][i].1)
    }

    pub fn contains_key(&self, id: &StreamId) -> bool {
        self.find(*id).is_some()
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, id: StreamId, value: V) -> Option<V> {
        let mut ci = match self.chunk_for(id) {
            Some(ci) => ci,
            None => {
                // Below every bound (or the first entry): the first chunk's range starts here now.
                if self.chunks.is_empty() {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                    self.bounds.push(id);
                    self.empty += 1;
                }
                self.bounds[0] = id;
                0
            }
        };
        let i = match self.chunks[ci].binary_search_by_key(&id, |e| e.0) {
            Ok(i) => return Some(std::mem::replace(&mut self.chunks[ci][i].1, value)),
            Err(i) => i,
        };
        if self.chunks[ci].len() == CHUNK {
            if ci + 1 == self.chunks.len() && i == CHUNK {
                // An append: the full chunk stays full, the entry starts the next one.
                self.chunks.push(Vec::with_capacity(CHUNK));
                self.bounds.push(id);
                self.empty += 1;
                return self.insert_in(ci + 1, id, value);
            }
            let mut tail = Vec::with_capacity(CHUNK);
            tail.extend(self.chunks[ci].drain(CHUNK / 2..));
            self.bounds.insert(ci + 1, tail[0].0);
            self.chunks.insert(ci + 1, tail);
            if id >= self.bounds[ci + 1] {
                ci += 1;
            }
        }
        self.insert_in(ci, id, value)
    }

    /// Inserts an absent `id` into chunk `ci`, whose range holds it.
    fn insert_in(&mut self, ci: usize, id: StreamId, value: V) -> Option<V> {
        let chunk = &mut self.chunks[ci];
        if chunk.is_empty() {
            self.empty -= 1;
        }
        let i = chunk.partition_point(|e| e.0 < id);
        chunk.insert(i, (id, value));
        self.len += 1;
        None
    }

    pub fn remove(&mut self, id: &StreamId) -> Option<V> {
        let (ci, i) = self.find(*id)?;
        let (_, value) = self.chunks[ci].remove(i);
        self.len -= 1;
        if self.chunks[ci].is_empty() {
            self.empty += 1;
            if self.len == 0 {
                *self = PelMap::new();
            } else if self.empty >= COMPACT_MIN && self.empty * 2 > self.chunks.len() {
                self.compact();
            }
        }
        Some(value)
    }

    /// Drops the empty chunks.
    fn compact(&mut self) {
        let chunks = std::mem::take(&mut self.chunks);
        let bounds = std::mem::take(&mut self.bounds);
        for (chunk, bound) in chunks.into_iter().zip(bounds) {
            if !chunk.is_empty() {
                self.chunks.push(chunk);
                self.bounds.push(bound);
            }
        }
        self.empty = 0;
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&StreamId, &V)> + '_ {
        self.chunks.iter().flatten().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &StreamId> + '_ {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// The entries from `range.start` on, in order.
    pub fn range(&self, range: RangeFrom<StreamId>) -> impl Iterator<Item = (&StreamId, &V)> + '_ {
        let start = range.start;
        let ci = self.chunk_for(start).unwrap_or(0);
        let (head, rest): (&[(StreamId, V)], &[Chunk<V>]) = match self.chunks.get(ci) {
            Some(chunk) => (&chunk[chunk.partition_point(|e| e.0 < start)..], &self.chunks[ci + 1..]),
            None => (&[], &[]),
        };
        head.iter().chain(rest.iter().flatten()).map(|(k, v)| (k, v))
    }
}

impl<V> Index<&StreamId> for PelMap<V> {
    type Output = V;
    fn index(&self, id: &StreamId) -> &V {
        self.get(id).expect("no such pending entry")
    }
}

/// A consumer's PEL: the IDs alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PelSet(PelMap<()>);

impl PelSet {
    pub fn new() -> PelSet {
        PelSet::default()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: &StreamId) -> bool {
        self.0.contains_key(id)
    }

    /// False when it was there already.
    pub fn insert(&mut self, id: StreamId) -> bool {
        self.0.insert(id, ()).is_none()
    }

    /// False when it was not there.
    pub fn remove(&mut self, id: &StreamId) -> bool {
        self.0.remove(id).is_some()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &StreamId> + '_ {
        self.0.keys()
    }

    pub fn range(&self, range: RangeFrom<StreamId>) -> impl Iterator<Item = &StreamId> + '_ {
        self.0.range(range).map(|(k, _)| k)
    }
}

impl<'a> IntoIterator for &'a PelSet {
    type Item = &'a StreamId;
    type IntoIter = Box<dyn Iterator<Item = &'a StreamId> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<'a, V> IntoIterator for &'a PelMap<V> {
    type Item = (&'a StreamId, &'a V);
    type IntoIter = Box<dyn Iterator<Item = (&'a StreamId, &'a V)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn id(n: u64) -> StreamId {
        StreamId { ms: n / 3, seq: n % 3 }
    }

    /// Random inserts, removals and lookups agree with a BTreeMap, through splits, appends,
    /// emptied chunks and compactions.
    #[test]
    fn behaves_as_a_sorted_map() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..6 {
            let (mut ours, mut model) = (PelMap::new(), BTreeMap::new());
            let space = [50, 500, 5000, 20000, 3000, 200][round];
            let mut appended = 0;
            for step in 0..40_000u64 {
                let r = next();
                match r % 10 {
                    // Appends, as deliveries make them.
                    0..=3 => {
                        appended += 1 + r % 3;
                        let k = id(space + appended);
                        assert_eq!(ours.insert(k, step), model.insert(k, step));
                    }
                    4..=5 => {
                        let k = id(next() % (space + appended + 1));
                        assert_eq!(ours.insert(k, step), model.insert(k, step));
                    }
                    _ => {
                        let k = id(next() % (space + appended + 1));
                        assert_eq!(ours.remove(&k), model.remove(&k));
                    }
                }
                if step % 997 == 0 {
                    assert_eq!(ours.len(), model.len());
                    assert!(ours.iter().map(|(k, v)| (*k, *v)).eq(model.iter().map(|(k, v)| (*k, *v))));
                    let from = id(next() % (space + appended + 2));
                    assert!(ours.range(from..).map(|(k, _)| *k).eq(model.range(from..).map(|(k, _)| *k)));
                    assert_eq!(ours.keys().next_back(), model.keys().next_back());
                    let probe = id(next() % (space + appended + 2));
                    assert_eq!(ours.get(&probe), model.get(&probe));
                }
            }
            // Everything removed, in order, leaves it empty.
            let keys: Vec<_> = model.keys().copied().collect();
            for k in keys {
                assert_eq!(ours.remove(&k), model.remove(&k));
            }
            assert!(ours.is_empty() && ours.iter().next().is_none() && ours.range(id(0)..).next().is_none());
        }
    }

    #[test]
    fn appends_fill_chunks_to_the_brim() {
        let mut m = PelMap::new();
        for n in 0..(CHUNK * 10) as u64 {
            m.insert(id(n), ());
        }
        assert_eq!(m.chunks.len(), 10);
        assert!(m.chunks.iter().all(|c| c.len() == CHUNK && c.capacity() == CHUNK));
    }

    #[test]
    fn a_set_counts_what_it_holds() {
        let mut s = PelSet::new();
        assert!(s.insert(id(5)) && !s.insert(id(5)) && s.insert(id(1)));
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![id(1), id(5)]);
        assert_eq!(s.range(id(2)..).copied().collect::<Vec<_>>(), vec![id(5)]);
        assert!(s.remove(&id(1)) && !s.remove(&id(1)) && s.contains(&id(5)) && s.len() == 1);
    }
}
