//! The hash type: field → value maps with Redis 7.0's two encodings.
//!
//! `listpack` (small hashes): the pairs packed one after another in a single byte vector, in
//! insertion order, found by a linear walk, like Redis's listpack. An update keeps the pair's
//! position and a deletion closes the gap, so HGETALL, HKEYS, HVALS and HSCAN list fields exactly
//! in Redis's order. The vector is sized exactly, as a listpack is, so a small hash costs little
//! more than its bytes.
//!
//! `hashtable` (large hashes): [`Pair`]s in a [`Dense`] table, which gives O(1) lookup, O(1) uniform
//! random picks (HRANDFIELD) and a SCAN cursor. The order is unspecified, as Redis's dict order is.
//! A pair keeps field and value together in one 32-byte slot, inline when they fit together in
//! 29 bytes (`field:123456` with a short value does), else in one heap block: a million-field hash
//! costs about 44 bytes a field with the index, where Redis spends a dictEntry, two sds strings
//! and a bucket (about 64).
//!
//! A hash converts one way, from listpack to hashtable, when it gets more than
//! hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value bytes.

use std::collections::HashSet;

use super::dense::{Dense, Keyed};

/// Field and value bytes that fit inline together in a [`Pair`].
const INLINE_MAX: usize = 29;

/// Redis refuses to grow a listpack past 1 GiB (LISTPACK_MAX_SAFETY_SIZE); a hash that would is
/// converted to a hashtable instead.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// One field with its value, as the hashtable encoding stores it.
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

    fn both(&self) -> (&[u8], &[u8]) {
        (self.field(), self.value())
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

/// The listpack encoding: for each pair, the field's length (LEB128), the field, the value's
/// length, the value. Capacity is kept exact, like a listpack's allocation.
#[derive(Clone, Default)]
struct Packed {
    bytes: Vec<u8>,
    count: usize,
}

/// Where one packed pair lies: `start..end` is the whole entry, `value_at` where the value's
/// length begins.
struct Slot<'a> {
    start: usize,
    value_at: usize,
    end: usize,
    field: &'a [u8],
    value: &'a [u8],
}

fn push_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn len_size(mut n: usize) -> usize {
    let mut size = 1;
    while n >= 0x80 {
        n >>= 7;
        size += 1;
    }
    size
}

/// Reads a length written by `push_len` at `*pos`, advancing it.
fn read_len(bytes: &[u8], pos: &mut usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = bytes[*pos];
        *pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

/// Walks the packed pairs in order.
struct Slots<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Slots<'a> {
    type Item = Slot<'a>;

    fn next(&mut self) -> Option<Slot<'a>> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let mut pos = start;
        let flen = read_len(self.bytes, &mut pos);
        let field = &self.bytes[pos..pos + flen];
        let value_at = pos + flen;
        pos = value_at;
        let vlen = read_len(self.bytes, &mut pos);
        let value = &self.bytes[pos..pos + vlen];
        self.pos = pos + vlen;
        Some(Slot { start, value_at, end: self.pos, field, value })
    }
}

impl Packed {
    fn slots(&self) -> Slots<'_> {
        Slots { bytes: &self.bytes, pos: 0 }
    }

    fn find(&self, field: &[u8]) -> Option<Slot<'_>> {
        self.slots().find(|s| s.field == field)
    }

    /// Replaces `range` with `with`, growing the allocation only by what is needed.
    fn splice(&mut self, range: std::ops::Range<usize>, with: &[u8]) {
        let grow = with.len().saturating_sub(range.len());
        self.bytes.reserve_exact(grow);
        self.bytes.splice(range, with.iter().copied());
        self.shrink_if_loose();
    }

    fn push(&mut self, field: &[u8], value: &[u8]) {
        let size = len_size(field.len()) + field.len() + len_size(value.len()) + value.len();
        self.bytes.reserve_exact(size);
        push_len(&mut self.bytes, field.len());
        self.bytes.extend_from_slice(field);
        push_len(&mut self.bytes, value.len());
        self.bytes.extend_from_slice(value);
        self.count += 1;
    }

    /// Sets the value of an existing field in place; false if the field is missing.
    fn update(&mut self, field: &[u8], value: &[u8]) -> bool {
        let Some(s) = self.find(field) else { return false };
        let (at, end) = (s.value_at, s.end);
        let mut encoded = Vec::with_capacity(len_size(value.len()) + value.len());
        push_len(&mut encoded, value.len());
        encoded.extend_from_slice(value);
        self.splice(at..end, &encoded);
        true
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let Some(s) = self.find(field) else { return false };
        let range = s.start..s.end;
        self.bytes.drain(range);
        self.count -= 1;
        self.shrink_if_loose();
        true
    }

    /// A listpack shrinks with its content; so does this vector (with some hysteresis).
    fn shrink_if_loose(&mut self) {
        if self.bytes.capacity() > self.bytes.len() + self.bytes.len() / 4 + 16 {
            self.bytes.shrink_to_fit();
        }
    }

    /// The pair at position `i` (walks the pairs before it).
    fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.slots().nth(i).map(|s| (s.field, s.value))
    }
}

/// A field and its value, borrowed from a hash.
pub type FieldValue<'a> = (&'a [u8], &'a [u8]);

/// hash-max-listpack-entries and hash-max-listpack-value.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

#[derive(Clone)]
enum Repr {
    Listpack(Packed),
    /// Boxed so that the many small hashes do not pay for the table's size.
    Table(Box<Dense<Pair>>),
}

#[derive(Clone)]
pub struct Hash {
    repr: Repr,
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::new()
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        f.debug_map().entries(self.iter().map(|(k, v)| (show(k), show(v)))).finish()
    }
}

/// (field, value) pairs of either encoding.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Listpack(Slots<'a>),
    Table(std::slice::Iter<'a, Pair>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        match &mut self.0 {
            IterRepr::Listpack(slots) => slots.next().map(|s| (s.field, s.value)),
            IterRepr::Table(pairs) => pairs.next().map(Pair::both),
        }
    }
}

impl Hash {
    /// An empty hash in the listpack encoding, as Redis creates them.
    pub fn new() -> Hash {
        Hash { repr: Repr::Listpack(Packed::default()) }
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
        match &self.repr {
            Repr::Listpack(p) => p.count,
            Repr::Table(d) => d.len(),
        }
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
        match &self.repr {
            Repr::Listpack(p) => p.bytes.capacity(),
            Repr::Table(d) => {
                std::mem::size_of::<Dense<Pair>>() + d.heap_size() + d.iter().map(Pair::heap_size).sum::<usize>()
            }
        }
    }

    /// (field, value) pairs in the encoding's order: insertion order for a listpack (HGETALL's).
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(p) => Iter(IterRepr::Listpack(p.slots())),
            Repr::Table(d) => Iter(IterRepr::Table(d.iter())),
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(p) => p.find(field).map(|s| s.value),
            Repr::Table(d) => d.get(field).map(Pair::value),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Redis's hashTypeTryConversion, run before a write with all its fields and values: a listpack
    /// becomes a hashtable if any of them is longer than hash-max-listpack-value, or if they would
    /// grow the listpack past its 1 GiB safety limit.
    pub fn convert_if_too_long<'a>(&mut self, strings: impl IntoIterator<Item = &'a [u8]>, limits: Limits) {
        let Repr::Listpack(p) = &self.repr else { return };
        let stored = p.bytes.len();
        let mut sum = 0usize;
        for s in strings {
            if s.len() > limits.max_value {
                self.convert_to_table();
                return;
            }
            sum = sum.saturating_add(s.len());
        }
        if stored.saturating_add(sum) > LISTPACK_MAX_SAFETY_SIZE {
            self.convert_to_table();
        }
    }

    /// Redis's hashTypeSet: sets `field` to `value`, returns true if the field is new. A listpack
    /// converts first if either string is too long, and after if it holds too many fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if self.is_listpack() && (field.len() > limits.max_value || value.len() > limits.max_value) {
            self.convert_to_table();
        }
        match &mut self.repr {
            Repr::Listpack(p) => {
                if p.update(field, value) {
                    return false;
                }
                p.push(field, value);
                if p.count > limits.max_entries {
                    self.convert_to_table();
                }
                true
            }
            Repr::Table(d) => match d.get_mut(field) {
                Some(pair) => {
                    *pair = Pair::new(field, value);
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
            Repr::Listpack(p) => p.remove(field),
            Repr::Table(d) => d.remove(field).is_some(),
        }
    }

    fn convert_to_table(&mut self) {
        if let Repr::Listpack(p) = &self.repr {
            let mut d = Dense::with_capacity(p.count);
            for s in p.slots() {
                d.insert_new(Pair::new(s.field, s.value));
            }
            self.repr = Repr::Table(Box::new(d));
        }
    }

    /// A uniformly random pair; None if empty.
    pub fn random_pair(&self) -> Option<FieldValue<'_>> {
        if self.is_empty() {
            return None;
        }
        match &self.repr {
            Repr::Listpack(p) => p.nth(fastrand::usize(..p.count)),
            Repr::Table(d) => Some(d.at(d.random_position()).both()),
        }
    }

    /// Draws uniformly random pairs, with repetition, handing each to `take` until it returns
    /// false or `count` were drawn. Nothing is drawn from an empty hash.
    pub fn random_pairs_with_repeats(&self, count: u64, mut take: impl FnMut(FieldValue<'_>) -> bool) {
        match &self.repr {
            Repr::Listpack(p) => {
                // One walk to find the pairs, then each draw is O(1).
                let pairs: Vec<FieldValue> = p.slots().map(|s| (s.field, s.value)).collect();
                if pairs.is_empty() {
                    return;
                }
                for _ in 0..count {
                    if !take(pairs[fastrand::usize(..pairs.len())]) {
                        return;
                    }
                }
            }
            Repr::Table(d) => {
                if d.is_empty() {
                    return;
                }
                for _ in 0..count {
                    if !take(d.at(d.random_position()).both()) {
                        return;
                    }
                }
            }
        }
    }

    /// `count` distinct pairs chosen uniformly, in the encoding's order: Redis's listpack sampling
    /// keeps listpack order; a hashtable's order is unspecified anyway.
    pub fn distinct_random_pairs(&self, count: usize) -> Vec<FieldValue<'_>> {
        let mut picked = floyd_sample(self.len(), count.min(self.len()));
        picked.sort_unstable();
        match &self.repr {
            Repr::Listpack(p) => {
                let wanted: HashSet<usize> = picked.into_iter().collect();
                p.slots().enumerate().filter(|(i, _)| wanted.contains(i)).map(|(_, s)| (s.field, s.value)).collect()
            }
            Repr::Table(d) => picked.into_iter().map(|i| d.at(i).both()).collect(),
        }
    }

    /// One HSCAN step over a hashtable: the pairs visited and the next cursor (0 when done). A
    /// listpack is returned whole with cursor 0, as Redis 7.0 does.
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<FieldValue<'_>>, u64) {
        match &self.repr {
            Repr::Listpack(_) => (self.iter().collect(), 0),
            Repr::Table(d) => {
                let (found, next) = d.scan(cursor, count);
                (found.map(Pair::both).collect(), next)
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
    const ROOMY: Limits = Limits { max_entries: 1000, max_value: 1000 };

    fn fields(h: &Hash) -> Vec<String> {
        h.iter().map(|(f, _)| String::from_utf8_lossy(f).into_owned()).collect()
    }

    #[test]
    fn pair_is_32_bytes_and_round_trips() {
        assert_eq!(std::mem::size_of::<Pair>(), 32);
        assert_eq!(std::mem::size_of::<Hash>(), 32);
        for (f, v) in [(0, 0), (12, 6), (20, 9), (20, 10), (0, 100), (300, 2)] {
            let (field, value) = (vec![b'f'; f], vec![b'v'; v]);
            let p = Pair::new(&field, &value);
            assert_eq!((p.field(), p.value()), (&field[..], &value[..]));
            assert_eq!(matches!(p, Pair::Inline { .. }), f + v <= INLINE_MAX);
        }
    }

    #[test]
    fn packed_pairs_of_every_length_round_trip() {
        let mut h = Hash::new();
        let lens = [0usize, 1, 127, 128, 300, 16_384, 20_000];
        for (i, &flen) in lens.iter().enumerate() {
            let field = vec![b'a' + i as u8; flen];
            let value = vec![b'v'; lens[lens.len() - 1 - i]];
            assert!(h.set(&field, &value, Limits { max_entries: 100, max_value: 1 << 20 }));
            assert_eq!(h.get(&field), Some(&value[..]));
        }
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.len(), lens.len());
        let got: Vec<usize> = h.iter().map(|(f, _)| f.len()).collect();
        assert_eq!(got, lens);
        // Growing and shrinking a value in place keeps the others intact.
        let first = vec![b'a'; 0];
        h.set(&first, &[b'x'; 500], ROOMY);
        h.set(&first, b"", ROOMY);
        for (i, (f, v)) in h.iter().enumerate() {
            assert_eq!(f.len(), lens[i]);
            let want = if i == 0 { 0 } else { lens[lens.len() - 1 - i] };
            assert_eq!(v.len(), want);
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
        assert_eq!(h.get(b"zz"), None);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn the_listpack_allocation_follows_its_content() {
        let mut h = Hash::new();
        for i in 0..100 {
            h.set(format!("f{i}").as_bytes(), b"value", ROOMY);
        }
        let full = h.heap_size();
        assert!(full <= 100 * 10, "{full}");
        for i in 0..95 {
            h.remove(format!("f{i}").as_bytes());
        }
        assert!(h.heap_size() < full / 4, "{} of {full}", h.heap_size());
    }

    #[test]
    fn converts_one_way_on_count_and_length() {
        let mut h = Hash::new();
        for f in ["a", "b", "c", "d", "e"] {
            h.set(f.as_bytes(), b"1", SMALL);
        }
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(fields(&h).len(), 5);
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
    fn random_picks_in_both_encodings() {
        for limits in [ROOMY, SMALL] {
            let h = Hash::from_pairs((0..100).map(|i| (format!("f{i:03}"), format!("v{i:03}"))), limits);
            for count in [1, 10, 50, 99, 100] {
                let picked = h.distinct_random_pairs(count);
                let mut sorted = picked.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted.len(), count, "count {count}");
                if h.is_listpack() {
                    assert_eq!(picked, sorted, "listpack order");
                }
                assert!(picked.iter().all(|(f, v)| h.get(f) == Some(*v)));
            }
            let mut seen = HashSet::new();
            h.random_pairs_with_repeats(5000, |(f, _)| {
                seen.insert(f.to_vec());
                true
            });
            assert_eq!(seen.len(), 100, "{}", h.encoding());
            let mut drawn = 0;
            h.random_pairs_with_repeats(u64::MAX, |_| {
                drawn += 1;
                drawn < 7
            });
            assert_eq!(drawn, 7);
            assert!(h.random_pair().is_some_and(|(f, v)| h.get(f) == Some(v)));
        }
        assert!(Hash::new().random_pair().is_none());
        Hash::new().random_pairs_with_repeats(10, |_| panic!("drew from an empty hash"));
    }

    #[test]
    fn scan_of_a_table_visits_every_field() {
        let limits = Limits { max_entries: 8, max_value: 64 };
        let h = Hash::from_pairs((0..1000).map(|i| (format!("f{i}"), "v")), limits);
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            let (batch, next) = h.scan(cursor, 10);
            seen.extend(batch.iter().map(|(f, _)| f.to_vec()));
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
