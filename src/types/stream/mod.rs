//! The stream type (t_stream.c): entries in listpack nodes keyed by their master ID, the
//! bookkeeping IDs and counters of 7.0, and the consumer groups.

pub mod group;
pub mod id;
pub mod node;
mod node_map;
pub mod pel;
mod range;
mod rax_shape;
mod trim;

use std::collections::BTreeMap;

pub use group::{Consumer, ConsumerGroup, Nack};
pub use id::{StreamId, XaddId, INVALID_ID};
pub use node_map::NodeMap;
pub use pel::{PelMap, PelSet};
pub use range::{Entry, Range};
pub use trim::{TrimArgs, TrimStrategy};

/// Largest listpack a node may grow to, and largest total of an entry's elements
/// (STREAM_LISTPACK_MAX_SIZE).
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;
/// Bytes a new node reserves up front (STREAM_LISTPACK_MAX_PRE_ALLOCATE).
const MAX_PRE_ALLOCATE: usize = 4096;

/// stream-node-max-bytes and stream-node-max-entries; 0 means no limit.
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> NodeLimits {
        NodeLimits { max_bytes: 4096, max_entries: 100 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the last one (EDOM in streamAppendItem).
    NotGreater,
    /// The elements do not fit a listpack (ERANGE).
    TooLarge,
}

#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// The nodes by master ID, in Redis's rax's stead, with its O(log n) seek to the node
    /// holding an ID.
    nodes: NodeMap,
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted_entry_id: StreamId,
    entries_added: u64,
    groups: BTreeMap<Vec<u8>, ConsumerGroup>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    pub fn first_id(&self) -> StreamId {
        self.first_id
    }

    pub fn max_deleted_entry_id(&self) -> StreamId {
        self.max_deleted_entry_id
    }

    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// The nodes in order, with their master IDs (RDB, DEBUG).
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &[u8])> {
        self.nodes.iter()
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes Redis's rax would have for this stream's node keys (XINFO STREAM).
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<StreamId> = self.nodes.iter().map(|(k, _)| k).collect();
        rax_shape::rax_node_count(&keys)
    }

    /// Rebuilds a stream from its parts (RDB load, which validated them).
    pub fn from_parts(nodes: NodeMap, meta: StreamMeta) -> Stream {
        Stream {
            nodes,
            length: meta.length,
            last_id: meta.last_id,
            first_id: meta.first_id,
            max_deleted_entry_id: meta.max_deleted_entry_id,
            entries_added: meta.entries_added,
            groups: BTreeMap::new(),
        }
    }

    /// The first ID as an RDB of Redis 5/6 leaves it to be found (streamGetEdgeID).
    pub fn set_first_id(&mut self, id: StreamId) {
        self.first_id = id;
    }

    /// XSETID's effect: the last ID, and optionally the counters.
    pub fn set_last_id(&mut self, id: StreamId, entries_added: Option<u64>, max_deleted: Option<StreamId>) {
        self.last_id = id;
        if let Some(n) = entries_added {
            self.entries_added = n;
        }
        if let Some(m) = max_deleted {
            self.max_deleted_entry_id = m;
        }
    }

    /// Adds an entry (streamAppendItem). `pairs` is field, value, field, value...; `id` None
    /// generates one from `now_ms`.
    pub fn append<T: AsRef<[u8]>>(
        &mut self,
        pairs: &[T],
        id: Option<XaddId>,
        now_ms: u64,
        limits: NodeLimits,
    ) -> Result<StreamId, AppendError> {
        let id = match id {
            Some(XaddId { id, seq_given: true }) => id,
            Some(XaddId { id, seq_given: false }) => {
                if self.last_id.ms == id.ms {
                    if self.last_id.seq == u64::MAX {
                        // Redis fails here without setting errno, and XADD then reports
                        // whatever errno held: in practice not EDOM, so "too large".
                        return Err(AppendError::TooLarge);
                    }
                    StreamId::new(id.ms, self.last_id.seq + 1)
                } else {
                    id
                }
            }
            None => StreamId::next_after(self.last_id, now_ms),
        };
        if id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let total: usize = pairs.iter().map(|p| p.as_ref().len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }

        let mut tail = self.nodes.last_mut();
        if let Some((_, lp)) = &mut tail {
            let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > LISTPACK_MAX_SIZE {
                LISTPACK_MAX_SIZE
            } else {
                limits.max_bytes
            };
            let full = if lp.len() + total >= max_bytes {
                true
            } else if limits.max_entries > 0 {
                let m = node::master(lp);
                m.is_some_and(|m| m.live + m.deleted >= limits.max_entries as i64)
            } else {
                false
            };
            if full {
                lp.shrink_to_fit();
                tail = None;
            }
        }
        match tail {
            Some((master_id, lp)) => {
                let same = node::master(lp).is_some_and(|m| node::same_as_master(lp, &m, pairs));
                node::push_entry(lp, master_id, id, pairs, same);
            }
            None => {
                let prealloc = if limits.max_bytes > 0 && limits.max_bytes < MAX_PRE_ALLOCATE {
                    limits.max_bytes
                } else {
                    MAX_PRE_ALLOCATE
                };
                let mut lp = node::new_node(pairs);
                lp.reserve(prealloc.saturating_sub(lp.len()));
                node::push_entry(&mut lp, id, id, pairs, true);
                self.nodes.push(id, lp);
            }
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Entries from `start` to `end` inclusive, forward or in reverse, without tombstones.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        Range::new(self, start, end, rev, true)
    }

    /// The first or last entry's ID, tombstones included or not (streamGetEdgeID); when there is
    /// none, the first is MAX and the last MIN, as Redis has it.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> StreamId {
        let mut r = Range::new(self, StreamId::MIN, StreamId::MAX, !first, skip_tombstones);
        match r.next_id() {
            Some(id) => id,
            None if first => StreamId::MAX,
            None => StreamId::MIN,
        }
    }

    /// Deletes one entry if present and live (streamDeleteItem): flags it, and drops its node
    /// when it was the node's last live entry. The bookkeeping IDs are the caller's (XDEL's).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((master_id, lp)) = self.nodes.floor_mut(id) else { return false };
        let Some(m) = node::master(lp) else { return false };
        let mut at = node::first_entry_pos(lp, &m);
        while let Some(p) = at {
            let Some(e) = node::entry_at(lp, master_id, &m, p) else { return false };
            if e.id > id {
                return false;
            }
            if e.id == id {
                if e.deleted() {
                    return false;
                }
                if m.live == 1 {
                    self.nodes.remove(master_id);
                } else {
                    node::mark_deleted(lp, e.flags_pos, e.flags);
                    node::set_counts(lp, |live, deleted| (live - 1, deleted + 1));
                }
                self.length -= 1;
                return true;
            }
            at = node::next_entry_pos(lp, &e);
        }
        false
    }

    /// XDEL: deletes the IDs, keeping max_deleted_entry_id and first_id as Redis does. Returns
    /// how many were deleted.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_entry = false;
        for &id in ids {
            if self.delete(id) {
                if id == self.first_id {
                    first_entry = true;
                }
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_entry {
                self.first_id = self.edge_id(true, true);
            }
        }
        deleted
    }

    /// Whether `id` is a live entry (streamEntryExists).
    pub fn contains(&self, id: StreamId) -> bool {
        Range::new(self, id, id, false, true).next_id().is_some()
    }

    /// The last live entry's ID (streamLastValidID); MIN when empty.
    pub fn last_valid_id(&self) -> StreamId {
        Range::new(self, StreamId::MIN, StreamId::MAX, true, true).next_id().unwrap_or(StreamId::MIN)
    }

    /// Whether a tombstone may lie between `start` and `end` (streamRangeHasTombstones; the
    /// caller has checked `start` is below the last ID).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// The number of entries from the first ever added to `id`, when it can be known
    /// (streamEstimateDistanceFromFirstEverEntry); None is Redis's SCG_INVALID_ENTRIES_READ.
    pub fn estimate_distance_from_first_ever_entry(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(self.entries_added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return Some(self.entries_added - self.length),
                std::cmp::Ordering::Equal => return Some(self.entries_added - self.length + 1),
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// A group's lag, None when it cannot be known (streamReplyWithCGLag).
    pub fn group_lag(&self, group: &ConsumerGroup) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = group.entries_read {
            if !self.range_has_tombstones(Some(group.last_id), None) {
                return Some((self.entries_added as i64).wrapping_sub(read as i64));
            }
        }
        self.estimate_distance_from_first_ever_entry(group.last_id)
            .map(|read| (self.entries_added as i64).wrapping_sub(read as i64))
    }

    pub fn groups(&self) -> &BTreeMap<Vec<u8>, ConsumerGroup> {
        &self.groups
    }

    pub fn groups_mut(&mut self) -> &mut BTreeMap<Vec<u8>, ConsumerGroup> {
        &mut self.groups
    }

    pub fn group(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.groups.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.groups.get_mut(name)
    }

    /// Creates a group (streamCreateCG); None when the name is taken.
    pub fn create_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<u64>,
    ) -> Option<&mut ConsumerGroup> {
        if self.groups.contains_key(name) {
            return None;
        }
        Some(self.groups.entry(name.to_vec()).or_insert_with(|| ConsumerGroup::new(last_id, entries_read)))
    }

    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// Heap bytes owned (MEMORY USAGE, INFO): the nodes' allocations, the map's nodes and the groups.
    pub fn heap_size(&self) -> usize {
        let nodes = self.nodes.heap_size();
        let groups: usize = self.groups.iter().map(|(name, g)| name.capacity() + g.heap_size() + 48).sum();
        nodes + groups
    }
}

/// The counters and IDs an RDB file stores beside the nodes.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamMeta {
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
}

#[cfg(test)]
mod tests;
