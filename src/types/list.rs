//! The list type: a ring buffer of compact strings. Both ends push and pop in O(1), any index is
//! reached in O(1), and a range is one or two contiguous runs of 24-byte slots (elements up to 22
//! bytes live inside their slot, so the common small element costs no allocation of its own).
//!
//! Redis 7.0 stores lists as a quicklist of listpacks. Integers stored there come back as their
//! canonical decimal text, which is exactly the text they were pushed as (only canonical integers
//! are stored as integers), so keeping the bytes as given is indistinguishable to clients.

use std::collections::VecDeque;

use super::CompactBytes;

/// Capacity below which a drained list keeps its buffer (not worth reallocating for).
const MIN_SHRINK_CAPACITY: usize = 64;

/// Which end of a list an operation works on (Redis's LIST_HEAD / LIST_TAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head: LPUSH, LPOP, LEFT.
    Front,
    /// The tail: RPUSH, RPOP, RIGHT.
    Back,
}

#[derive(Debug, Clone, Default)]
pub struct List {
    items: VecDeque<CompactBytes>,
    /// Heap bytes owned by elements too long to be inline, kept current so that MEMORY USAGE
    /// does not walk the list.
    element_heap: usize,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// OBJECT ENCODING's name: Redis 7.0 always reports its lists as quicklists.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned (MEMORY USAGE): the slot buffer plus the out-of-line elements.
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<CompactBytes>() + self.element_heap
    }

    pub fn push_back(&mut self, element: &[u8]) {
        self.push_item(End::Back, CompactBytes::new(element));
    }

    pub fn push_front(&mut self, element: &[u8]) {
        self.push_item(End::Front, CompactBytes::new(element));
    }

    /// Pushes at `end`.
    pub fn push(&mut self, end: End, element: &[u8]) {
        self.push_item(end, CompactBytes::new(element));
    }

    /// Pushes an element taken from another list (LMOVE) without copying it.
    pub fn push_item(&mut self, end: End, item: CompactBytes) {
        self.element_heap += item.heap_size();
        match end {
            End::Front => self.items.push_front(item),
            End::Back => self.items.push_back(item),
        }
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<CompactBytes> {
        let item = match end {
            End::Front => self.items.pop_front(),
            End::Back => self.items.pop_back(),
        }?;
        self.element_heap -= item.heap_size();
        self.shrink_if_sparse();
        Some(item)
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index).map(CompactBytes::as_slice)
    }

    /// Replaces the element at `index`; false if there is none.
    pub fn set(&mut self, index: usize, element: &[u8]) -> bool {
        let Some(slot) = self.items.get_mut(index) else { return false };
        let new = CompactBytes::new(element);
        self.element_heap = self.element_heap - slot.heap_size() + new.heap_size();
        *slot = new;
        true
    }

    /// Inserts before the element now at `index` (`index == len` appends).
    pub fn insert(&mut self, index: usize, element: &[u8]) {
        let item = CompactBytes::new(element);
        self.element_heap += item.heap_size();
        self.items.insert(index, item);
    }

    /// A client's index (negative counts from the tail, -1 being the last element) as a position,
    /// if it names an element.
    pub fn resolve_index(&self, index: i64) -> Option<usize> {
        let len = self.items.len() as i128;
        let pos = if index < 0 { len + index as i128 } else { index as i128 };
        (0..len).contains(&pos).then_some(pos as usize)
    }

    /// The first position holding `element`.
    pub fn position(&self, element: &[u8]) -> Option<usize> {
        self.items.iter().position(|e| e.as_slice() == element)
    }

    /// Elements front to back.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + Clone {
        self.items.iter().map(CompactBytes::as_slice)
    }

    /// Elements of positions `start..=end` (both within the list), front to back.
    pub fn range(
        &self,
        start: usize,
        end: usize,
    ) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + Clone {
        self.items.range(start..=end).map(CompactBytes::as_slice)
    }

    /// Removes up to `limit` elements equal to `element` (0: all of them), the ones nearest the
    /// head, or the tail when `from_tail`. Returns how many were removed.
    pub fn remove_matching(&mut self, element: &[u8], limit: usize, from_tail: bool) -> usize {
        let total = self.items.iter().filter(|e| e.as_slice() == element).count();
        let to_remove = if limit == 0 { total } else { total.min(limit) };
        if to_remove == 0 {
            return 0;
        }
        // Matches are met front to back; from the tail, the first ones met are the ones kept.
        let mut to_skip = if from_tail { total - to_remove } else { 0 };
        let mut removed = 0;
        let mut freed = 0;
        self.items.retain(|e| {
            if removed == to_remove || e.as_slice() != element {
                return true;
            }
            if to_skip > 0 {
                to_skip -= 1;
                return true;
            }
            removed += 1;
            freed += e.heap_size();
            false
        });
        self.element_heap -= freed;
        self.shrink_if_sparse();
        removed
    }

    /// Drops `n` elements (at most all of them) from `end`.
    pub fn truncate_end(&mut self, end: End, n: usize) {
        let n = n.min(self.items.len());
        if n == 0 {
            return;
        }
        let dropped = match end {
            End::Front => self.items.drain(..n),
            End::Back => {
                let keep = self.items.len() - n;
                self.items.drain(keep..)
            }
        };
        let freed: usize = dropped.map(|e| e.heap_size()).sum();
        self.element_heap -= freed;
        self.shrink_if_sparse();
    }

    /// A list that shrank to a quarter of its buffer gives the memory back (Redis frees quicklist
    /// nodes as they empty), keeping room to grow again without reallocating at once.
    fn shrink_if_sparse(&mut self) {
        let cap = self.items.capacity();
        if cap > MIN_SHRINK_CAPACITY && self.items.len() < cap / 4 {
            self.items.shrink_to((self.items.len() * 2).max(MIN_SHRINK_CAPACITY));
        }
    }
}

impl<B: AsRef<[u8]>> FromIterator<B> for List {
    fn from_iter<I: IntoIterator<Item = B>>(iter: I) -> List {
        let mut list = List::new();
        list.extend(iter);
        list
    }
}

impl<B: AsRef<[u8]>> Extend<B> for List {
    /// Appends at the tail, in order.
    fn extend<I: IntoIterator<Item = B>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.items.reserve(iter.size_hint().0);
        for e in iter {
            self.push_back(e.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(l: &List) -> Vec<String> {
        l.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect()
    }

    #[test]
    fn pushes_and_pops_at_both_ends() {
        let mut l = List::new();
        l.push_back(b"b");
        l.push_front(b"a");
        l.push(End::Back, b"c");
        assert_eq!(contents(&l), ["a", "b", "c"]);
        assert_eq!(l.pop(End::Back).as_deref(), Some(&b"c"[..]));
        assert_eq!(l.pop(End::Front).as_deref(), Some(&b"a"[..]));
        assert_eq!(l.len(), 1);
        assert_eq!(l.encoding(), "quicklist");
    }

    #[test]
    fn resolves_client_indexes() {
        let l: List = ["a", "b", "c"].into_iter().collect();
        assert_eq!(l.resolve_index(0), Some(0));
        assert_eq!(l.resolve_index(-1), Some(2));
        assert_eq!(l.resolve_index(-3), Some(0));
        assert_eq!(l.resolve_index(-4), None);
        assert_eq!(l.resolve_index(3), None);
        assert_eq!(l.resolve_index(i64::MIN), None);
        assert_eq!(l.resolve_index(i64::MAX), None);
    }

    #[test]
    fn removes_matches_from_either_end() {
        let make = || -> List { ["x", "a", "x", "b", "x"].into_iter().collect() };
        let mut l = make();
        assert_eq!(l.remove_matching(b"x", 2, false), 2);
        assert_eq!(contents(&l), ["a", "b", "x"]);
        let mut l = make();
        assert_eq!(l.remove_matching(b"x", 2, true), 2);
        assert_eq!(contents(&l), ["x", "a", "b"]);
        let mut l = make();
        assert_eq!(l.remove_matching(b"x", 0, true), 3);
        assert_eq!(contents(&l), ["a", "b"]);
        assert_eq!(l.remove_matching(b"zz", 0, false), 0);
    }

    #[test]
    fn tracks_heap_of_long_elements() {
        let long = vec![b'x'; 100];
        let mut l = List::new();
        l.push_back(&long);
        l.push_back(b"short");
        let base = l.items.capacity() * 24;
        assert_eq!(l.heap_size(), base + 100);
        l.set(1, &long);
        assert_eq!(l.heap_size(), base + 200);
        l.remove_matching(&long, 1, false);
        assert_eq!(l.heap_size(), l.items.capacity() * 24 + 100);
        l.truncate_end(End::Back, 5);
        assert!(l.is_empty());
        assert_eq!(l.heap_size(), l.items.capacity() * 24);
    }

    #[test]
    fn gives_memory_back_when_drained() {
        let mut l: List = (0..10_000).map(|i| i.to_string()).collect();
        l.truncate_end(End::Front, 9_990);
        while l.pop(End::Front).is_some() {}
        assert!(l.items.capacity() <= 2 * MIN_SHRINK_CAPACITY);
    }

    #[test]
    fn inserts_and_truncates() {
        let mut l: List = ["a", "c"].into_iter().collect();
        l.insert(1, b"b");
        l.insert(3, b"d");
        assert_eq!(contents(&l), ["a", "b", "c", "d"]);
        assert_eq!(l.position(b"c"), Some(2));
        assert_eq!(l.range(1, 2).collect::<Vec<_>>(), [b"b", b"c"]);
        l.truncate_end(End::Front, 1);
        l.truncate_end(End::Back, 1);
        assert_eq!(contents(&l), ["b", "c"]);
    }
}
