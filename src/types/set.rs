//! The set type, in Redis 7.0's two encodings:
//!
//! - `intset`: while every member is an integer in canonical form (what Redis's string2ll accepts)
//!   and there are at most set-max-intset-entries of them. A sorted `Vec<i64>`: binary search for
//!   lookups, ascending iteration — an order clients can see (SMEMBERS, SSCAN, SINTER) and that
//!   must match Redis's.
//! - `hashtable`: anything else. A `Dense` of compact member strings: O(1) lookup, O(1) uniformly
//!   random member (SPOP, SRANDMEMBER), a SCAN cursor.
//!
//! Conversion goes one way, intset to hashtable, exactly when Redis converts: when a member that is
//! not an integer is added, or when a successful add makes the intset longer than the limit (so a
//! limit lowered with CONFIG SET only takes effect on the next add). A new set always starts as an
//! (empty) intset, which is what Redis's SADD/SMOVE/*STORE/SPOP paths amount to.

use std::borrow::Cow;

use super::{CompactBytes, Dense, Keyed};
use crate::util::numbers::parse_i64;

/// Redis caps the intset at 2^30 entries whatever set-max-intset-entries says.
const INTSET_HARD_LIMIT: usize = 1 << 30;

/// A hashtable-encoded member.
#[derive(Clone)]
struct Member(CompactBytes);

impl Keyed for Member {
    fn key(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug)]
enum Repr {
    Ints(Vec<i64>),
    Table {
        members: Dense<Member>,
        /// Heap bytes of members too long to be stored inline (MEMORY USAGE without a walk).
        boxed: usize,
    },
}

#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    fn default() -> Set {
        Set::new()
    }
}

/// A member as stored: an intset holds integers, a hashtable byte strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberRef<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl MemberRef<'_> {
    /// The member's bytes (an integer in decimal).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            MemberRef::Int(n) => n.to_string().into_bytes(),
            MemberRef::Bytes(b) => b.to_vec(),
        }
    }

    /// Calls `f` with the member's bytes, formatting an integer on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            MemberRef::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            MemberRef::Bytes(b) => f(b),
        }
    }

    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match *self {
            MemberRef::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            MemberRef::Bytes(b) => Cow::Borrowed(b),
        }
    }
}

/// Iterates a set's members: ascending for an intset, position order for a hashtable.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Ints(std::slice::Iter<'a, i64>),
    Table(std::slice::Iter<'a, Member>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = MemberRef<'a>;

    fn next(&mut self) -> Option<MemberRef<'a>> {
        match &mut self.0 {
            IterRepr::Ints(it) => it.next().map(|&n| MemberRef::Int(n)),
            IterRepr::Table(it) => it.next().map(|m| MemberRef::Bytes(&m.0)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Ints(it) => it.size_hint(),
            IterRepr::Table(it) => it.size_hint(),
        }
    }
}

impl Set {
    /// An empty set, intset-encoded like the sets Redis creates for results and new keys.
    pub fn new() -> Set {
        Set { repr: Repr::Ints(Vec::new()) }
    }

    /// A set of `members` (duplicates collapse), encoded as Redis would after adding them in this
    /// order: for SORT ... STORE-like callers and the RDB loader.
    pub fn from_members<I, B>(members: I, max_intset_entries: usize) -> Set
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut s = Set::new();
        for m in members {
            s.add(m.as_ref(), max_intset_entries);
        }
        s
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table { members, .. } => members.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table { .. } => "hashtable",
        }
    }

    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    /// Heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.capacity() * std::mem::size_of::<i64>(),
            Repr::Table { members, boxed } => members.heap_size() + boxed,
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => parse_i64(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            Repr::Table { members, .. } => members.contains(member),
        }
    }

    /// Membership of a member taken from another set, without formatting integers when both are
    /// intsets.
    pub fn contains_ref(&self, member: MemberRef) -> bool {
        match (&self.repr, member) {
            (Repr::Ints(v), MemberRef::Int(n)) => v.binary_search(&n).is_ok(),
            (_, m) => m.with_bytes(|b| self.contains(b)),
        }
    }

    /// Adds `member`; false if it was present. Converts to a hashtable when Redis would.
    pub fn add(&mut self, member: &[u8], max_intset_entries: usize) -> bool {
        if let Repr::Ints(_) = self.repr {
            match parse_i64(member) {
                Some(n) => return self.add_int(n, max_intset_entries),
                None => self.convert_to_table(),
            }
        }
        self.table_add(member)
    }

    /// `add` for a member taken from another set.
    pub fn add_ref(&mut self, member: MemberRef, max_intset_entries: usize) -> bool {
        match (&self.repr, member) {
            (Repr::Ints(_), MemberRef::Int(n)) => self.add_int(n, max_intset_entries),
            (_, m) => m.with_bytes(|b| self.add(b, max_intset_entries)),
        }
    }

    fn add_int(&mut self, n: i64, max_intset_entries: usize) -> bool {
        let Repr::Ints(v) = &mut self.repr else {
            return self.table_add(itoa::Buffer::new().format(n).as_bytes());
        };
        let Err(at) = v.binary_search(&n) else {
            return false;
        };
        v.insert(at, n);
        if v.len() > max_intset_entries.min(INTSET_HARD_LIMIT) {
            self.convert_to_table();
        }
        true
    }

    fn table_add(&mut self, member: &[u8]) -> bool {
        let Repr::Table { members, boxed } = &mut self.repr else {
            unreachable!("table_add on an intset");
        };
        if members.contains(member) {
            return false;
        }
        let m = CompactBytes::new(member);
        *boxed += m.heap_size();
        members.insert_new(Member(m));
        true
    }

    fn convert_to_table(&mut self) {
        let Repr::Ints(v) = &self.repr else { return };
        // Presized like Redis's dictExpand before the copy.
        let mut members = Dense::with_capacity(v.len());
        for &n in v {
            members.insert_new(Member(CompactBytes::new(itoa::Buffer::new().format(n).as_bytes())));
        }
        self.repr = Repr::Table { members, boxed: 0 };
    }

    /// Removes `member`; false if it was absent. An intset stays an intset.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match parse_i64(member).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    shrink_ints(v);
                    true
                }
                _ => false,
            },
            Repr::Table { members, boxed } => match members.remove(member) {
                Some(m) => {
                    *boxed -= m.0.heap_size();
                    true
                }
                None => false,
            },
        }
    }

    /// `remove` for a member taken from another set.
    pub fn remove_ref(&mut self, member: MemberRef) -> bool {
        match (&mut self.repr, member) {
            (Repr::Ints(v), MemberRef::Int(n)) => match v.binary_search(&n) {
                Ok(at) => {
                    v.remove(at);
                    shrink_ints(v);
                    true
                }
                Err(_) => false,
            },
            (_, m) => m.with_bytes(|b| self.remove(b)),
        }
    }

    /// The member at position `i` (0..len): ascending rank for an intset, slot for a hashtable.
    /// With a uniform `i` this is a uniformly random member.
    pub fn at(&self, i: usize) -> MemberRef<'_> {
        match &self.repr {
            Repr::Ints(v) => MemberRef::Int(v[i]),
            Repr::Table { members, .. } => MemberRef::Bytes(&members.at(i).0),
        }
    }

    /// A uniformly random member; None if the set is empty.
    pub fn random(&self) -> Option<MemberRef<'_>> {
        if self.is_empty() {
            return None;
        }
        Some(self.at(fastrand::usize(..self.len())))
    }

    /// Removes and returns a uniformly random member; None if the set is empty.
    pub fn pop_random(&mut self) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Ints(v) => {
                if v.is_empty() {
                    return None;
                }
                let n = v.remove(fastrand::usize(..v.len()));
                shrink_ints(v);
                Some(n.to_string().into_bytes())
            }
            Repr::Table { members, boxed } => {
                if members.is_empty() {
                    return None;
                }
                let m = members.remove_at(members.random_position());
                *boxed -= m.0.heap_size();
                Some(m.0.to_vec())
            }
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Ints(v) => Iter(IterRepr::Ints(v.iter())),
            Repr::Table { members, .. } => Iter(IterRepr::Table(members.iter())),
        }
    }

    /// The members as byte strings (integers formatted), for callers outside the set commands.
    pub fn iter_bytes(&self) -> impl Iterator<Item = Cow<'_, [u8]>> {
        self.iter().map(|m| match m {
            MemberRef::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            MemberRef::Bytes(b) => Cow::Borrowed(b),
        })
    }

    /// One SSCAN step: the members visited and the next cursor (0 when done). An intset is returned
    /// whole with cursor 0, as Redis does for compact encodings.
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<MemberRef<'_>>, u64) {
        match &self.repr {
            Repr::Ints(v) => (v.iter().map(|&n| MemberRef::Int(n)).collect(), 0),
            Repr::Table { members, .. } => {
                let (found, next) = members.scan(cursor, count);
                (found.map(|m| MemberRef::Bytes(&m.0)).collect(), next)
            }
        }
    }
}

/// Gives memory back after mass removals, like the intset's realloc on every removal does.
fn shrink_ints(v: &mut Vec<i64>) {
    if v.capacity() > 16 && v.len() < v.capacity() / 4 {
        v.shrink_to(v.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(|m| m.to_vec()).collect()
    }

    #[test]
    fn intset_stays_sorted_and_converts_on_a_string_member() {
        let mut s = Set::new();
        for m in ["5", "-3", "100", "5", "0"] {
            s.add(m.as_bytes(), 512);
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(members(&s), vec![b"-3".to_vec(), b"0".to_vec(), b"5".to_vec(), b"100".to_vec()]);
        assert!(s.contains(b"100") && !s.contains(b"0100") && !s.contains(b"x"));
        assert!(s.add(b"07", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 5);
        for m in ["-3", "0", "5", "100", "07"] {
            assert!(s.contains(m.as_bytes()), "{m}");
        }
        assert!(!s.contains(b"7"));
    }

    #[test]
    fn intset_converts_past_the_limit_only_on_a_successful_add() {
        let mut s = Set::new();
        for i in 0..3 {
            s.add(i.to_string().as_bytes(), 3);
        }
        assert_eq!(s.encoding(), "intset");
        // A duplicate adds nothing, even with a lower limit.
        assert!(!s.add(b"1", 1));
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"3", 3));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn extreme_integers_and_non_canonical_forms() {
        let mut s = Set::new();
        for m in ["9223372036854775807", "-9223372036854775808"] {
            assert!(s.add(m.as_bytes(), 512));
        }
        assert_eq!(s.encoding(), "intset");
        for m in ["9223372036854775808", "+1", " 1", "-0", "1.0", ""] {
            let mut t = s.clone();
            assert!(t.add(m.as_bytes(), 512), "{m:?}");
            assert_eq!(t.encoding(), "hashtable", "{m:?}");
            assert!(t.contains(m.as_bytes()) && t.contains(b"-9223372036854775808"));
        }
    }

    #[test]
    fn remove_pop_and_boxed_accounting() {
        let long = vec![b'x'; 40];
        let mut s = Set::from_members([&b"a"[..], &long, b"b"], 512);
        assert_eq!(s.encoding(), "hashtable");
        let base = s.heap_size();
        assert!(s.remove(&long));
        assert_eq!(s.heap_size(), base - 40);
        assert!(!s.remove(&long));
        let mut seen = vec![s.pop_random().unwrap(), s.pop_random().unwrap()];
        seen.sort();
        assert_eq!(seen, vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(s.is_empty() && s.pop_random().is_none() && s.random().is_none());
    }

    #[test]
    fn scan_of_a_table_visits_every_member() {
        let s = Set::from_members((0..1000).map(|i| format!("m{i}")), 512);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            let (found, next) = s.scan(cursor, 10);
            seen.extend(found.into_iter().map(|m| m.to_vec()));
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
