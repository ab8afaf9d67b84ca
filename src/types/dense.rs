//! The large form of hashes, sets and sorted sets' member index: entries packed in a vector, found
//! through a hash table of their positions. Deletion moves the last entry into the hole.
//!
//! Packing gives what Redis's dict gives through other means: O(1) lookup, a uniformly random
//! member in O(1) (SPOP, SRANDMEMBER, HRANDFIELD, eviction-free sampling), and a SCAN cursor with
//! Redis's guarantee. The cursor walks positions downwards: an entry below the cursor only moves
//! when it is the last one, and then only further down, so every entry present for a whole
//! iteration is returned at least once; entries added meanwhile land above it and may be missed,
//! as Redis allows.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// An entry with a byte-string key (a set member, a hash field with its value, ...).
pub trait Keyed {
    fn key(&self) -> &[u8];
}

#[derive(Clone, Default)]
pub struct Dense<E> {
    entries: Vec<E>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl<E: Keyed> Dense<E> {
    pub fn new() -> Dense<E> {
        Dense { entries: Vec::new(), index: HashTable::new(), hasher: DefaultHashBuilder::default() }
    }

    pub fn with_capacity(n: usize) -> Dense<E> {
        Dense {
            entries: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The position of `key`'s entry.
    pub fn position(&self, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index.find(self.hash(key), |&i| entries[i as usize].key() == key).map(|&i| i as usize)
    }

    pub fn get(&self, key: &[u8]) -> Option<&E> {
        self.position(key).map(|i| &self.entries[i])
    }

    /// The entry, for changes that keep its key.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut E> {
        self.position(key).map(move |i| &mut self.entries[i])
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.position(key).is_some()
    }

    /// Adds an entry whose key is not present yet (check with `position` first).
    pub fn insert_new(&mut self, e: E) {
        let h = self.hash(e.key());
        let pos = self.entries.len() as u32;
        self.entries.push(e);
        let Dense { entries, index, hasher } = self;
        index.insert_unique(h, pos, |&i| hasher.hash_one(entries[i as usize].key()));
    }

    /// Adds or replaces; returns the replaced entry.
    pub fn insert(&mut self, e: E) -> Option<E> {
        match self.position(e.key()) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i], e)),
            None => {
                self.insert_new(e);
                None
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<E> {
        let i = self.position(key)?;
        Some(self.remove_at(i))
    }

    /// Removes the entry at `i` (from `position`, a random pick or a scan), moving the last entry
    /// into its place.
    pub fn remove_at(&mut self, i: usize) -> E {
        let h = self.hash(self.entries[i].key());
        let Dense { entries, index, .. } = self;
        if let Ok(slot) = index.find_entry(h, |&p| p as usize == i) {
            slot.remove();
        }
        let last = entries.len() - 1;
        let removed = entries.swap_remove(i);
        if i != last {
            let moved_hash = self.hasher.hash_one(self.entries[i].key());
            if let Some(p) = self.index.find_mut(moved_hash, |&p| p as usize == last) {
                *p = i as u32;
            }
        }
        self.maybe_shrink();
        removed
    }

    /// Like Redis's dict resize: a table that lost most of its entries gives the memory back.
    fn maybe_shrink(&mut self) {
        let len = self.entries.len();
        if self.entries.capacity() > 64 && len < self.entries.capacity() / 8 {
            self.entries.shrink_to(len * 2);
            let Dense { entries, index, hasher } = self;
            index.shrink_to(len * 2, |&i| hasher.hash_one(entries[i as usize].key()));
        }
    }

    pub fn at(&self, i: usize) -> &E {
        &self.entries[i]
    }

    pub fn at_mut(&mut self, i: usize) -> &mut E {
        &mut self.entries[i]
    }

    /// A uniformly random position; the collection must not be empty.
    pub fn random_position(&self) -> usize {
        fastrand::usize(..self.entries.len())
    }

    pub fn iter(&self) -> std::slice::Iter<'_, E> {
        self.entries.iter()
    }

    /// One SCAN step: about `count` entries and the next cursor (0 when done). Cursor 0 starts an
    /// iteration; others are positions below which entries remain to be visited.
    pub fn scan(&self, cursor: u64, count: usize) -> (std::iter::Rev<std::slice::Iter<'_, E>>, u64) {
        let len = self.entries.len();
        let top = if cursor == 0 { len } else { (cursor.min(len as u64)) as usize };
        let bottom = top.saturating_sub(count.max(1));
        let next = if bottom == 0 { 0 } else { bottom as u64 };
        (self.entries[bottom..top].iter().rev(), next)
    }

    /// Heap bytes of the vector and the index (entries' own allocations not included).
    pub fn heap_size(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<E>() + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }

    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
        let Dense { entries, index, hasher } = self;
        index.reserve(n, |&i| hasher.hash_one(entries[i as usize].key()));
    }

    /// Empties the collection, returning its entries in position order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, E> {
        self.index.clear();
        self.entries.drain(..)
    }
}

impl<E: Keyed + std::fmt::Debug> std::fmt::Debug for Dense<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct M(Vec<u8>);
    impl Keyed for M {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    fn m(i: usize) -> M {
        M(format!("m{i}").into_bytes())
    }

    #[test]
    fn insert_find_remove_keep_the_index_right() {
        let mut d = Dense::new();
        for i in 0..1000 {
            d.insert_new(m(i));
        }
        for i in (0..1000).step_by(3) {
            assert_eq!(d.remove(&m(i).0), Some(m(i)));
        }
        for i in 0..1000 {
            assert_eq!(d.contains(&m(i).0), i % 3 != 0, "{i}");
        }
        assert_eq!(d.len(), 666);
        assert_eq!(d.insert(m(1)), Some(m(1)));
        assert_eq!(d.len(), 666);
    }

    #[test]
    fn scan_returns_every_entry_present_throughout_despite_removals_and_inserts() {
        let mut d = Dense::new();
        for i in 0..500 {
            d.insert_new(m(i));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let (batch, next) = d.scan(cursor, 7);
            seen.extend(batch.map(|e| e.0.clone()));
            // Churn: remove some entries that are never checked, add new ones.
            d.remove(&m(round * 2 + 1).0);
            d.insert_new(m(10_000 + round));
            round += 1;
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        for i in (0..500).filter(|i| i % 2 == 0 || *i > round * 2 + 1) {
            assert!(seen.contains(&m(i).0), "missed m{i}");
        }
    }
}
