//! The nodes of a stream by master ID, in order: what Redis keeps in a radix tree. Nodes are only
//! ever added after the last one (a new node holds IDs greater than every other), and removed
//! anywhere (trimming from the front, XDEL emptying a node). So they are kept in a sorted
//! sequence cut into chunks of `CHUNK`: appending fills the last chunk to the brim, a seek is two
//! binary searches (O(log n)), and a removal shifts at most one chunk. A node costs its ID and
//! listpack handle, about 40 bytes, where a BTreeMap filled in order (its leaves split half full)
//! cost twice that, more than Redis's rax.

use std::collections::VecDeque;

use super::StreamId;

/// Nodes per chunk: a chunk's array is 64 × 40 = 2560 bytes, an allocator size class of its own.
const CHUNK: usize = 64;

type Slot = (StreamId, Vec<u8>);

#[derive(Debug, Clone, Default)]
pub struct NodeMap {
    /// Every chunk non-empty; chunks in order, each sorted.
    chunks: VecDeque<Vec<Slot>>,
    len: usize,
}

/// A node's place: its chunk, and its index in the chunk.
type Pos = (usize, usize);

impl NodeMap {
    pub fn new() -> NodeMap {
        NodeMap::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a node after the others. `id` must be greater than every key: callers append only.
    pub fn push(&mut self, id: StreamId, lp: Vec<u8>) {
        debug_assert!(self.last_key().is_none_or(|last| id > last));
        match self.chunks.back_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push((id, lp)),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push((id, lp));
                self.chunks.push_back(chunk);
            }
        }
        self.len += 1;
    }

    fn last_key(&self) -> Option<StreamId> {
        self.chunks.back().and_then(|c| c.last()).map(|(k, _)| *k)
    }

    pub fn first_mut(&mut self) -> Option<(StreamId, &mut Vec<u8>)> {
        self.chunks.front_mut().and_then(|c| c.first_mut()).map(|(k, v)| (*k, v))
    }

    pub fn last_mut(&mut self) -> Option<(StreamId, &mut Vec<u8>)> {
        self.chunks.back_mut().and_then(|c| c.last_mut()).map(|(k, v)| (*k, v))
    }

    /// The place of the last node keyed at or before `id` (raxSeek "<=").
    fn floor(&self, id: StreamId) -> Option<Pos> {
        // The chunks whose first key is <= id: the last of them holds the answer.
        let ci = self.chunks.partition_point(|c| c[0].0 <= id).checked_sub(1)?;
        let ei = self.chunks[ci].partition_point(|(k, _)| *k <= id) - 1;
        Some((ci, ei))
    }

    /// The node that would hold `id`: the last one keyed at or before it.
    pub fn floor_mut(&mut self, id: StreamId) -> Option<(StreamId, &mut Vec<u8>)> {
        let (ci, ei) = self.floor(id)?;
        let (k, v) = &mut self.chunks[ci][ei];
        Some((*k, v))
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.floor(id).is_some_and(|(ci, ei)| self.chunks[ci][ei].0 == id)
    }

    /// Removes the node keyed `id`, if there is one.
    pub fn remove(&mut self, id: StreamId) -> Option<Vec<u8>> {
        let (ci, ei) = self.floor(id).filter(|&(ci, ei)| self.chunks[ci][ei].0 == id)?;
        let is_last = ci + 1 == self.chunks.len();
        let chunk = &mut self.chunks[ci];
        let (_, lp) = chunk.remove(ei);
        if chunk.is_empty() {
            self.chunks.remove(ci);
        } else if !is_last {
            // Only the last chunk is appended to: the others give back what they no longer hold.
            chunk.shrink_to_fit();
        }
        self.len -= 1;
        Some(lp)
    }

    /// Every node, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (StreamId, &[u8])> + '_ {
        self.chunks.iter().flat_map(|c| c.iter()).map(|(k, v)| (*k, v.as_slice()))
    }

    /// The nodes from the one that would hold `id` (or the first, if `id` is before every node)
    /// onwards.
    pub fn iter_from(&self, id: StreamId) -> Cursor<'_> {
        let at = self.floor(id).or((!self.is_empty()).then_some((0, 0)));
        Cursor { map: self, at, rev: false }
    }

    /// The nodes from the one that would hold `id` backwards.
    pub fn iter_back_from(&self, id: StreamId) -> Cursor<'_> {
        Cursor { map: self, at: self.floor(id), rev: true }
    }

    /// Heap bytes of the sequence itself and of every listpack.
    pub fn heap_size(&self) -> usize {
        let slots: usize = self.chunks.iter().map(|c| c.capacity() * std::mem::size_of::<Slot>()).sum();
        let lps: usize = self.chunks.iter().flat_map(|c| c.iter()).map(|(_, v)| v.capacity()).sum();
        self.chunks.capacity() * std::mem::size_of::<Vec<Slot>>() + slots + lps
    }
}

/// A walk over the nodes from a place, forwards or backwards.
pub struct Cursor<'a> {
    map: &'a NodeMap,
    at: Option<Pos>,
    rev: bool,
}

impl<'a> Iterator for Cursor<'a> {
    type Item = (StreamId, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (ci, ei) = self.at?;
        let chunks = &self.map.chunks;
        let (k, v) = &chunks[ci][ei];
        self.at = if !self.rev {
            if ei + 1 < chunks[ci].len() {
                Some((ci, ei + 1))
            } else {
                (ci + 1 < chunks.len()).then_some((ci + 1, 0))
            }
        } else if ei > 0 {
            Some((ci, ei - 1))
        } else {
            ci.checked_sub(1).map(|p| (p, chunks[p].len() - 1))
        };
        Some((*k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn id(n: u64) -> StreamId {
        StreamId { ms: n, seq: 0 }
    }

    /// Appends, removals anywhere and every seek agree with a BTreeMap doing the same.
    #[test]
    fn behaves_as_an_ordered_map() {
        let mut map = NodeMap::new();
        let mut model = BTreeMap::new();
        let mut state: u64 = 7;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut key = 0;
        for round in 0..4000 {
            if next() % 3 != 0 || model.is_empty() {
                key += 1 + next() % 3;
                map.push(id(key), vec![round as u8]);
                model.insert(id(key), vec![round as u8]);
            } else {
                let probe = id(next() % (key + 2));
                assert_eq!(map.remove(probe), model.remove(&probe));
            }
            assert_eq!(map.len(), model.len());
            let probe = id(next() % (key + 2));
            let expect_from: Vec<_> = {
                let from = model.range(..=probe).next_back().map(|(k, _)| *k).unwrap_or(id(0));
                model.range(from..).map(|(k, _)| *k).collect()
            };
            assert_eq!(map.iter_from(probe).map(|(k, _)| k).collect::<Vec<_>>(), expect_from);
            let expect_back: Vec<_> = model.range(..=probe).rev().map(|(k, _)| *k).collect();
            assert_eq!(map.iter_back_from(probe).map(|(k, _)| k).collect::<Vec<_>>(), expect_back);
            assert_eq!(map.contains(probe), model.contains_key(&probe));
            assert_eq!(map.floor_mut(probe).map(|(k, _)| k), model.range(..=probe).next_back().map(|(k, _)| *k));
        }
        assert_eq!(map.iter().map(|(k, _)| k).collect::<Vec<_>>(), model.keys().copied().collect::<Vec<_>>());
        assert_eq!(map.first_mut().map(|(k, _)| k), model.keys().next().copied());
        assert_eq!(map.last_mut().map(|(k, _)| k), model.keys().next_back().copied());
    }
}
