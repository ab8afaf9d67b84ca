//! Consumer groups (streamCG): the last delivered ID and read counter, the group's pending
//! entries list (PEL) and the consumers with their own PELs. A pending entry (streamNACK) lives
//! in the group's PEL and names its consumer; the consumer's PEL holds the same IDs.

use std::collections::BTreeMap;

use super::id::StreamId;
use super::pel::{PelMap, PelSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// Unix time in milliseconds of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The consumer it was last delivered to.
    pub consumer: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Unix time in milliseconds the consumer was last active (7.0 keeps only this).
    pub seen_time: i64,
    pub pel: PelSet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroup {
    pub last_id: StreamId,
    /// The logical read counter; None is Redis's SCG_INVALID_ENTRIES_READ (-1).
    pub entries_read: Option<u64>,
    pub pel: PelMap<Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> ConsumerGroup {
        ConsumerGroup { last_id, entries_read, pel: PelMap::new(), consumers: BTreeMap::new() }
    }

    /// Creates a consumer (streamCreateConsumer); false when it exists.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(name.to_vec(), Consumer { seen_time: now_ms, pel: PelSet::new() });
        true
    }

    /// Looks a consumer up, refreshing its seen-time unless `now_ms` is None (SLC_NO_REFRESH).
    pub fn lookup_consumer(&mut self, name: &[u8], now_ms: Option<i64>) -> Option<&mut Consumer> {
        let c = self.consumers.get_mut(name)?;
        if let Some(now) = now_ms {
            c.seen_time = now;
        }
        Some(c)
    }

    /// Deletes a consumer and its pending entries from the group (streamDelConsumer); returns
    /// how many were pending, or None when there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Records a delivery of `id` to `consumer` (XREADGROUP, XCLAIM): a new pending entry, or the
    /// existing one moved to this consumer with its time and, when `count_delivery`, count bumped.
    /// The consumer must exist.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64, count_delivery: bool) {
        match self.pel.get_mut(&id) {
            Some(nack) => {
                if nack.consumer != consumer {
                    if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                        old.pel.remove(&id);
                    }
                    nack.consumer = consumer.to_vec();
                }
                nack.delivery_time = now_ms;
                if count_delivery {
                    nack.delivery_count += 1;
                }
            }
            None => {
                self.pel.insert(id, Nack { delivery_time: now_ms, delivery_count: 1, consumer: consumer.to_vec() });
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Acknowledges `id` (XACK): removed from both PELs. False when it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else { return false };
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Drops a pending entry from both PELs (XACK, and XCLAIM/XAUTOCLAIM of a deleted entry),
    /// returning it.
    pub fn take_pending(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        Some(nack)
    }

    /// Gives the pending entry `id` to `consumer` (XCLAIM, XAUTOCLAIM): its delivery time set,
    /// its count set to `retry_count` when given, else bumped when `count_delivery`. The entry
    /// must be pending and the consumer exist; returns the entry as it now is.
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        delivery_time: i64,
        retry_count: Option<u64>,
        count_delivery: bool,
    ) -> Option<&Nack> {
        let nack = self.pel.get_mut(&id)?;
        if nack.consumer != consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pel.remove(&id);
            }
            nack.consumer = consumer.to_vec();
        }
        nack.delivery_time = delivery_time;
        match retry_count {
            Some(n) => nack.delivery_count = n,
            None if count_delivery => nack.delivery_count += 1,
            None => {}
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        Some(nack)
    }

    /// A pending entry created by XCLAIM's FORCE, owned by `consumer` (which must exist) and
    /// delivered once, now (streamCreateNACK).
    pub fn force_pending(&mut self, id: StreamId, consumer: &[u8], now_ms: i64) {
        self.pel.insert(id, Nack { delivery_time: now_ms, delivery_count: 1, consumer: consumer.to_vec() });
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Adds a pending entry as RDB load and AOF replay restore it (the consumer is set later
    /// through `attach`); false when it was already there.
    pub fn insert_pending(&mut self, id: StreamId, delivery_time: i64, delivery_count: u64) -> bool {
        if self.pel.contains_key(&id) {
            return false;
        }
        self.pel.insert(id, Nack { delivery_time, delivery_count, consumer: Vec::new() });
        true
    }

    /// Gives a pending entry to a consumer (RDB load's consumer PELs); false when the entry is
    /// not in the group's PEL or already belongs to a consumer.
    pub fn attach(&mut self, consumer: &[u8], id: StreamId) -> bool {
        let Some(nack) = self.pel.get_mut(&id) else { return false };
        if !nack.consumer.is_empty() {
            return false;
        }
        let Some(c) = self.consumers.get_mut(consumer) else { return false };
        if !c.pel.insert(id) {
            return false;
        }
        nack.consumer = consumer.to_vec();
        true
    }

    /// Pending entries no consumer took (a corrupt RDB has them).
    pub fn orphans(&self) -> usize {
        self.pel.values().filter(|n| n.consumer.is_empty()).count()
    }

    pub fn heap_size(&self) -> usize {
        let nack = std::mem::size_of::<(StreamId, Nack)>() + 8;
        let pel: usize = self.pel.values().map(|n| nack + n.consumer.capacity()).sum();
        let consumers: usize = self
            .consumers
            .iter()
            .map(|(name, c)| name.capacity() + std::mem::size_of::<Consumer>() + c.pel.len() * 24)
            .sum();
        std::mem::size_of::<ConsumerGroup>() + pel + consumers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    #[test]
    fn delivery_moves_between_consumers_and_ack_clears_both() {
        let mut g = ConsumerGroup::new(StreamId::MIN, Some(0));
        assert!(g.create_consumer(b"a", 10));
        assert!(!g.create_consumer(b"a", 11));
        assert!(g.create_consumer(b"b", 12));
        g.deliver(id(1), b"a", 100, true);
        g.deliver(id(2), b"a", 100, true);
        assert_eq!(g.pel[&id(1)].delivery_count, 1);
        g.deliver(id(1), b"b", 200, true);
        assert_eq!(g.pel[&id(1)], Nack { delivery_time: 200, delivery_count: 2, consumer: b"b".to_vec() });
        assert_eq!(g.consumers[&b"a"[..]].pel.iter().copied().collect::<Vec<_>>(), vec![id(2)]);
        assert!(g.consumers[&b"b"[..]].pel.contains(&id(1)));
        g.deliver(id(1), b"b", 300, false);
        assert_eq!(g.pel[&id(1)].delivery_count, 2);
        assert!(g.ack(id(1)));
        assert!(!g.ack(id(1)));
        assert!(g.consumers[&b"b"[..]].pel.is_empty());
        assert_eq!(g.delete_consumer(b"a"), Some(1));
        assert!(g.pel.is_empty());
        assert_eq!(g.delete_consumer(b"a"), None);
        assert_eq!(g.lookup_consumer(b"b", Some(999)).map(|c| c.seen_time), Some(999));
        assert_eq!(g.lookup_consumer(b"b", None).map(|c| c.seen_time), Some(999));
    }

    #[test]
    fn claims_move_entries_and_set_counts() {
        let mut g = ConsumerGroup::new(StreamId::MIN, Some(0));
        g.create_consumer(b"a", 0);
        g.create_consumer(b"b", 0);
        g.deliver(id(1), b"a", 100, true);
        assert!(g.claim(id(2), b"b", 5, None, true).is_none());
        let n = g.claim(id(1), b"b", 500, None, true).cloned();
        assert_eq!(n, Some(Nack { delivery_time: 500, delivery_count: 2, consumer: b"b".to_vec() }));
        assert!(g.consumers[&b"a"[..]].pel.is_empty());
        assert!(g.consumers[&b"b"[..]].pel.contains(&id(1)));
        assert_eq!(g.claim(id(1), b"b", 600, Some(7), true).map(|n| n.delivery_count), Some(7));
        assert_eq!(g.claim(id(1), b"b", 700, None, false).map(|n| n.delivery_count), Some(7));
        g.force_pending(id(3), b"a", 900);
        assert_eq!(g.pel[&id(3)].delivery_count, 1);
        assert!(g.consumers[&b"a"[..]].pel.contains(&id(3)));
        assert_eq!(g.take_pending(id(3)).map(|n| n.consumer), Some(b"a".to_vec()));
        assert!(g.consumers[&b"a"[..]].pel.is_empty());
        assert!(g.take_pending(id(3)).is_none());
    }

    #[test]
    fn loading_attaches_pending_entries_once() {
        let mut g = ConsumerGroup::new(id(5), None);
        assert!(g.insert_pending(id(1), 7, 3));
        assert!(!g.insert_pending(id(1), 7, 3));
        assert_eq!(g.orphans(), 1);
        assert!(!g.attach(b"x", id(1)));
        g.create_consumer(b"x", 0);
        assert!(!g.attach(b"x", id(2)));
        assert!(g.attach(b"x", id(1)));
        assert!(!g.attach(b"x", id(1)));
        assert_eq!(g.orphans(), 0);
        assert_eq!(g.pel[&id(1)].consumer, b"x");
    }
}
