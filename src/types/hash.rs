//! The hash type: field → value maps with Redis 7.0's two encodings.
//!
//! `listpack` (small hashes): pairs in a vector, in insertion order, found by linear search. An
//! update keeps the pair's position and a deletion closes the gap, so HGETALL, HKEYS, HVALS and
//! HSCAN list fields exactly in the order Redis's listpack does.
//!
//! `hashtable` (large hashes): the same pairs in a [`Dense`] table, which adds O(1) lookup and keeps
//! O(1) uniform random picks (HRANDFIELD) and a SCAN cursor. The order is unspecified, as Redis's
//! dict order is.
//!
//! A hash converts one way, from listpack to hashtable, when it gets more than
//! hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value bytes.
//!
//! Both forms hold [`Pair`]s: field and value packed into one 32-byte slot, inline when they fit
//! together in 29 bytes (the common case: `field:123456` with a short value), else in one heap
//! block. A million-field hash therefore costs about 32 bytes per field for the slots plus the
//! index, less than Redis's dictEntry, two sds strings and its bucket array.

use std::collections::HashSet;

use super::dense::{Dense, Keyed};

/// Field and value bytes that fit inline together in a [`Pair`].
const INLINE_MAX: usize = 29;

/// Redis refuses to grow a listpack past 1 GiB (LISTPACK_MAX_SAFETY_SIZE); a hash that would is
/// converted to a hashtable instead.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// One field with its value.
#[derive(Clone)]
pub enum Pair {
    /// `data[..field_len]` is the field, `data[field_len..len]` the value.
    Inline { field_len: u8, len: u8, data: [u8; INLINE_MAX] },
    /// The field followed by the value, in one allocation.
    Heap { field_len: usize, data: Box<[u8]> },
}

impl Pair {
    pub fn new(field: &[u8], value: &[u8]) -> Pair {
        let len = field.len() + value.len();
        if len <= INLINE_MAX {
            let mut data = [0u8; INLINE_MAX];
            data[..field.len()].copy_from_slice(field);
            data[field.len()..len].copy_from_slice(value);
            Pair::Inline { field_len: field.len() as u8, len: len as u8, data }
        } else {
            let mut data = Vec::with_capacity(len);
            data.extend_from_slice(field);
            data.extend_from_slice(value);
            Pair::Heap { field_len: field.len(), data: data.into_boxed_slice() }
        }
    }

    pub fn field(&self) -> &[u8] {
        match self {
            Pair::Inline { field_len, data, .. } => &data[..*field_len as usize],
            Pair::Heap { field_len, data } => &data[..*field_len],
        }
    }

    pub fn value(&self) -> &[u8] {
        match self {
            Pair::Inline { field_len, len, data } => &data[*field_len as usize..*len as usize],
            Pair::Heap { field_len, data } => &data[*field_len..],
        }
    }

    /// Replaces the value, keeping the field.
    fn set_value(&mut self, value: &[u8]) {
        let updated = Pair::new(self.field(), value);
        *self = updated;
    }

    /// Heap bytes owned beyond the slot.
    fn heap_size(&self) -> usize {
        match self {
            Pair::Inline { .. } => 0,
            Pair::Heap { data, .. } => data.len(),
        }
    }
}

impl Keyed for Pair {
    fn key(&self) -> &[u8] {
        self.field()
    }
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}={:?}", String::from_utf8_lossy(self.field()), String::from_utf8_lossy(self.value()))
    }
}

/// hash-max-listpack-entries and hash-max-listpack-value.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

#[derive(Clone, Debug)]
enum Repr {
    Listpack(Vec<Pair>),
    Table(Dense<Pair>),
}

#[derive(Clone, Debug)]
pub struct Hash {
    repr: Repr,
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::new()
    }
}

impl Hash {
    /// An empty hash in the listpack encoding, as Redis creates them.
    pub fn new() -> Hash {
        Hash { repr: Repr::Listpack(Vec::new()) }
    }

    /// A hash built from pairs (RDB loading, DUMP/RESTORE): listpack if it fits `limits`, else a
    /// hashtable. A repeated field keeps its last value.
    pub fn from_pairs<F, V>(pairs: impl IntoIterator<Item = (F, V)>, limits: Limits) -> Hash
    where
        F: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut h = Hash::new();
        for (field, value) in pairs {
            let (field, value) = (field.as_ref(), value.as_ref());
            h.convert_if_too_long([field, value], limits);
            h.set(field, value, limits);
        }
        h
    }

    pub fn len(&self) -> usize {
        self.pairs().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        let slots = match &self.repr {
            Repr::Listpack(v) => v.capacity() * std::mem::size_of::<Pair>(),
            Repr::Table(d) => d.heap_size(),
        };
        slots + self.pairs().iter().map(Pair::heap_size).sum::<usize>()
    }

    /// All pairs: insertion order for a listpack, position order for a hashtable.
    pub fn pairs(&self) -> &[Pair] {
        match &self.repr {
            Repr::Listpack(v) => v,
            Repr::Table(d) => d.iter().as_slice(),
        }
    }

    /// (field, value) pairs in the encoding's order (HGETALL's).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.pairs().iter().map(|p| (p.field(), p.value()))
    }

    fn position(&self, field: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().position(|p| p.field() == field),
            Repr::Table(d) => d.position(field),
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.position(field).map(|i| self.pairs()[i].value())
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.position(field).is_some()
    }

    /// Redis's hashTypeTryConversion, run before a write with all its fields and values: a listpack
    /// becomes a hashtable if any of them is longer than hash-max-listpack-value, or if they would
    /// grow the listpack past its 1 GiB safety limit.
    pub fn convert_if_too_long<'a>(&mut self, strings: impl IntoIterator<Item = &'a [u8]>, limits: Limits) {
        if !self.is_listpack() {
            return;
        }
        let mut sum = 0usize;
        for s in strings {
            if s.len() > limits.max_value {
                self.convert_to_table();
                return;
            }
            sum = sum.saturating_add(s.len());
        }
        if self.listpack_bytes_with(sum, limits) > LISTPACK_MAX_SAFETY_SIZE {
            self.convert_to_table();
        }
    }

    /// Redis's listpack size once `extra` bytes are added, near enough for the 1 GiB limit (header
    /// and terminator, and per string at least an encoding byte and a back-length byte).
    fn listpack_bytes_with(&self, extra: usize, limits: Limits) -> usize {
        // Every string in a listpack is at most max_value long: most hashes are far from the limit
        // without summing anything.
        let most = self.len().saturating_mul(limits.max_value.saturating_mul(2).saturating_add(20));
        if most.saturating_add(extra) < LISTPACK_MAX_SAFETY_SIZE / 2 {
            return most.saturating_add(extra);
        }
        let stored: usize = self.pairs().iter().map(|p| p.field().len() + p.value().len() + 4).sum();
        7usize.saturating_add(stored).saturating_add(extra)
    }

    /// Redis's hashTypeSet: sets `field` to `value`, returns true if the field is new. A listpack
    /// converts first if either string is too long, and after if it holds too many fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if self.is_listpack() && (field.len() > limits.max_value || value.len() > limits.max_value) {
            self.convert_to_table();
        }
        match &mut self.repr {
            Repr::Listpack(v) => {
                if let Some(p) = v.iter_mut().find(|p| p.field() == field) {
                    p.set_value(value);
                    return false;
                }
                v.push(Pair::new(field, value));
                if v.len() > limits.max_entries {
                    self.convert_to_table();
                }
                true
            }
            Repr::Table(d) => match d.get_mut(field) {
                Some(p) => {
                    p.set_value(value);
                    false
                }
                None => {
                    d.insert_new(Pair::new(field, value));
                    true
                }
            },
        }
    }

    /// Removes `field`; true if it was there. A listpack closes the gap, keeping the order.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(v) => match v.iter().position(|p| p.field() == field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Repr::Table(d) => d.remove(field).is_some(),
        }
    }

    fn convert_to_table(&mut self) {
        if let Repr::Listpack(v) = &mut self.repr {
            let mut d = Dense::with_capacity(v.len());
            for p in v.drain(..) {
                d.insert_new(p);
            }
            self.repr = Repr::Table(d);
        }
    }

    /// A uniformly random pair; None if empty.
    pub fn random_pair(&self) -> Option<&Pair> {
        let pairs = self.pairs();
        if pairs.is_empty() {
            None
        } else {
            Some(&pairs[fastrand::usize(..pairs.len())])
        }
    }

    /// `count` distinct pairs chosen uniformly (count < len), in the encoding's order: Redis's
    /// listpack sampling keeps listpack order; a hashtable's order is unspecified anyway.
    pub fn distinct_random_pairs(&self, count: usize) -> Vec<&Pair> {
        let pairs = self.pairs();
        let mut picked = floyd_sample(pairs.len(), count.min(pairs.len()));
        picked.sort_unstable();
        picked.into_iter().map(|i| &pairs[i]).collect()
    }

    /// One HSCAN step over a hashtable: the pairs visited and the next cursor (0 when done). A
    /// listpack is returned whole with cursor 0, as Redis 7.0 does.
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<&Pair>, u64) {
        match &self.repr {
            Repr::Listpack(v) => (v.iter().collect(), 0),
            Repr::Table(d) => {
                let (found, next) = d.scan(cursor, count);
                (found.collect(), next)
            }
        }
    }
}

/// `count` distinct numbers below `n`, uniformly (Floyd's algorithm: O(count) time and memory).
fn floyd_sample(n: usize, count: usize) -> Vec<usize> {
    let mut chosen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    for j in n - count..n {
        let t = fastrand::usize(..=j);
        let pick = if chosen.contains(&t) { j } else { t };
        chosen.insert(pick);
        out.push(pick);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits { max_entries: 4, max_value: 8 };

    fn fields(h: &Hash) -> Vec<String> {
        h.iter().map(|(f, _)| String::from_utf8_lossy(f).into_owned()).collect()
    }

    #[test]
    fn pair_is_32_bytes_and_round_trips() {
        assert_eq!(std::mem::size_of::<Pair>(), 32);
        for (f, v) in [(0, 0), (12, 6), (20, 9), (20, 10), (0, 100), (300, 2)] {
            let (field, value) = (vec![b'f'; f], vec![b'v'; v]);
            let p = Pair::new(&field, &value);
            assert_eq!((p.field(), p.value()), (&field[..], &value[..]));
            assert_eq!(matches!(p, Pair::Inline { .. }), f + v <= INLINE_MAX);
        }
    }

    #[test]
    fn listpack_keeps_insertion_order_through_updates_and_deletes() {
        let mut h = Hash::new();
        for f in ["a", "b", "c", "d"] {
            assert!(h.set(f.as_bytes(), b"1", SMALL));
        }
        assert!(!h.set(b"b", b"2", SMALL));
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert!(h.set(b"a", b"3", SMALL));
        assert_eq!(fields(&h), ["b", "c", "d", "a"]);
        assert_eq!(h.get(b"b"), Some(&b"2"[..]));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_one_way_on_count_and_length() {
        let mut h = Hash::new();
        for f in ["a", "b", "c", "d", "e"] {
            h.set(f.as_bytes(), b"1", SMALL);
        }
        assert_eq!(h.encoding(), "hashtable");
        for f in ["a", "b", "c"] {
            h.remove(f.as_bytes());
        }
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"e"), Some(&b"1"[..]));

        let mut h = Hash::new();
        h.set(b"a", b"123456789", SMALL);
        assert_eq!(h.encoding(), "hashtable");

        let mut h = Hash::new();
        h.convert_if_too_long([&b"x"[..], &b"123456789"[..]], SMALL);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn from_pairs_picks_the_encoding_by_size() {
        let small = Hash::from_pairs([("a", "1"), ("b", "2"), ("a", "3")], SMALL);
        assert_eq!((small.encoding(), small.len(), small.get(b"a")), ("listpack", 2, Some(&b"3"[..])));
        let big = Hash::from_pairs((0..10).map(|i| (format!("f{i}"), "v")), SMALL);
        assert_eq!((big.encoding(), big.len()), ("hashtable", 10));
    }

    #[test]
    fn distinct_random_pairs_are_distinct_and_ordered() {
        let limits = Limits { max_entries: 1000, max_value: 64 };
        let h = Hash::from_pairs((0..100).map(|i| (format!("f{i:03}"), "v")), limits);
        for count in [1, 10, 50, 99] {
            let picked = h.distinct_random_pairs(count);
            let names: Vec<&[u8]> = picked.iter().map(|p| p.field()).collect();
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(names, sorted, "count {count}");
            assert_eq!(names.len(), count);
        }
    }

    #[test]
    fn scan_of_a_table_visits_every_field() {
        let limits = Limits { max_entries: 8, max_value: 64 };
        let h = Hash::from_pairs((0..1000).map(|i| (format!("f{i}"), "v")), limits);
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            let (batch, next) = h.scan(cursor, 10);
            seen.extend(batch.iter().map(|p| p.field().to_vec()));
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
