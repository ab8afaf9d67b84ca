//! Sorted sets, in Redis 7.0's two encodings.
//!
//! `listpack`: a vector of (score, member) kept in order, for small sets (at most
//! zset-max-listpack-entries members, none longer than zset-max-listpack-value bytes). Lookups
//! scan it, as Redis scans its listpack.
//!
//! `skiplist`: a member index (`Dense`: member -> score in O(1)) plus an order-statistic B+tree
//! over (score, id) (`tree`): rank, selection by rank and range bounds in O(log n). The name is
//! Redis's; the structure is not a skiplist. Conversion goes one way, listpack to skiplist, except
//! that a set built whole (a store result, a loaded value) picks its encoding by its size.
//!
//! Order is Redis's: by score, ties by member bytes. Scores are never NaN.

mod tree;

use std::cmp::Ordering;

use crate::types::{CompactBytes, Dense, Keyed};
pub use tree::cmp_key;
use tree::{Members, Pos, Tree};

/// A member and its score.
#[derive(Clone, Debug)]
pub struct Item {
    pub score: f64,
    pub member: CompactBytes,
}

impl Item {
    pub fn new(member: &[u8], score: f64) -> Item {
        Item { score, member: CompactBytes::new(member) }
    }

    fn cmp(&self, other: &Item) -> Ordering {
        cmp_key(self.score, &self.member, other.score, &other.member)
    }
}

impl Keyed for Item {
    fn key(&self) -> &[u8] {
        &self.member
    }
}

impl Members for Dense<Item> {
    fn member(&self, id: u32) -> &[u8] {
        &self.at(id as usize).member
    }
}

/// zset-max-listpack-entries and zset-max-listpack-value.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Limits {
    fn fits_listpack(&self, len: usize, longest_member: usize) -> bool {
        len <= self.max_entries && longest_member <= self.max_value
    }
}

/// A listpack stores integral scores as integers (double2ll), so -0 comes back as 0.
fn listpack_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// A score interval with open or closed ends (ZRANGEBYSCORE's `(1.5 +inf`).
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_ex: bool,
    pub max_ex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.min_ex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.max_ex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    fn always_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }
}

/// One end of a lexicographic range: `-`, `+`, or a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    Min,
    Max,
    Str(Vec<u8>),
}

impl LexBound {
    /// Redis's sdscmplex between two bounds: `-` below everything, `+` above, equal to itself.
    fn cmp_bound(&self, other: &LexBound) -> Ordering {
        match (self, other) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (LexBound::Str(a), LexBound::Str(b)) => a.cmp(b),
        }
    }

    /// How a member compares to the bound.
    fn cmp_value(&self, v: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Str(s) => v.cmp(s),
        }
    }
}

/// A lexicographic interval (ZRANGEBYLEX's `[a (c`); `-` and `+` are always exclusive.
#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
    pub min_ex: bool,
    pub max_ex: bool,
}

impl LexRange {
    pub fn gte_min(&self, v: &[u8]) -> bool {
        let c = self.min.cmp_value(v);
        if self.min_ex {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    pub fn lte_max(&self, v: &[u8]) -> bool {
        let c = self.max.cmp_value(v);
        if self.max_ex {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    fn always_empty(&self) -> bool {
        let c = self.min.cmp_bound(&self.max);
        c == Ordering::Greater || (c == Ordering::Equal && (self.min_ex || self.max_ex))
    }
}

/// The skiplist encoding's parts.
#[derive(Clone)]
struct Large {
    members: Dense<Item>,
    order: Tree,
}

impl Large {
    fn new() -> Large {
        Large { members: Dense::new(), order: Tree::new() }
    }

    /// From items with distinct members, in any order.
    fn from_items(items: Vec<Item>) -> Large {
        let mut members = Dense::with_capacity(items.len());
        for it in items {
            members.insert_new(it);
        }
        let mut ids: Vec<u32> = (0..members.len() as u32).collect();
        ids.sort_unstable_by(|&a, &b| members.at(a as usize).cmp(members.at(b as usize)));
        let sorted: Vec<(f64, u32)> = ids.into_iter().map(|id| (members.at(id as usize).score, id)).collect();
        let order = Tree::build(&sorted, &members);
        Large { members, order }
    }

    fn at_pos(&self, p: Pos) -> (&[u8], f64) {
        let (score, id) = self.order.get(p);
        (&self.members.at(id as usize).member, score)
    }

    fn add_new(&mut self, member: &[u8], score: f64) {
        let id = self.members.len() as u32;
        self.members.insert_new(Item::new(member, score));
        self.order.insert(score, id, &self.members);
    }

    fn set_score(&mut self, pos: usize, score: f64) {
        let Large { members, order } = self;
        let old = members.at(pos).score;
        let member = &members.at(pos).member;
        if !order.update_in_place(old, member, score, members) {
            order.remove(old, member, members);
            order.insert(score, pos as u32, members);
        }
        members.at_mut(pos).score = score;
    }

    /// Removes the member at `pos` of the index. The index fills the hole with its last entry,
    /// whose id the tree then learns.
    fn remove_pos(&mut self, pos: usize) -> Item {
        let Large { members, order } = self;
        let it = members.at(pos);
        order.remove(it.score, &it.member, members);
        let last = members.len() - 1;
        if pos != last {
            let moved = members.at(last);
            order.replace_id(moved.score, &moved.member, pos as u32, members);
        }
        members.remove_at(pos)
    }

    fn remove_rank(&mut self, rank: usize) -> Option<Item> {
        let p = self.order.select(rank)?;
        let (_, id) = self.order.get(p);
        Some(self.remove_pos(id as usize))
    }
}

#[derive(Clone)]
enum Repr {
    Listpack(Vec<Item>),
    Skiplist(Box<Large>),
}

#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet::new()
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s))).finish()
    }
}

impl ZSet {
    /// An empty listpack-encoded set.
    pub fn new() -> ZSet {
        ZSet { repr: Repr::Listpack(Vec::new()) }
    }

    /// The empty set ZADD creates for its first member: skiplist-encoded from the start when no
    /// listpack may hold it (zset-max-listpack-entries 0, or a first member too long).
    pub fn new_for_first(member_len: usize, limits: Limits) -> ZSet {
        if limits.max_entries == 0 || member_len > limits.max_value {
            ZSet { repr: Repr::Skiplist(Box::new(Large::new())) }
        } else {
            ZSet::new()
        }
    }

    /// A set from (member, score) pairs in any order; a repeated member keeps its last score.
    /// The encoding is chosen by the result's size (SORT ... STORE, the RDB loader).
    pub fn from_pairs<B: AsRef<[u8]>>(pairs: impl IntoIterator<Item = (B, f64)>, limits: Limits) -> ZSet {
        let mut members: Dense<Item> = Dense::new();
        for (m, score) in pairs {
            let m = m.as_ref();
            match members.get_mut(m) {
                Some(it) => it.score = score,
                None => members.insert_new(Item::new(m, score)),
            }
        }
        ZSet::from_items(members.drain().collect(), limits)
    }

    /// A set from items with distinct members, in any order; the encoding by size.
    pub fn from_items(mut items: Vec<Item>, limits: Limits) -> ZSet {
        let longest = items.iter().map(|it| it.member.len()).max().unwrap_or(0);
        if limits.fits_listpack(items.len(), longest) {
            for it in &mut items {
                it.score = listpack_score(it.score);
            }
            items.sort_unstable_by(Item::cmp);
            items.shrink_to_fit();
            ZSet { repr: Repr::Listpack(items) }
        } else {
            ZSet { repr: Repr::Skiplist(Box::new(Large::from_items(items))) }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.len(),
            Repr::Skiplist(l) => l.members.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist(_) => "skiplist",
        }
    }

    /// Whether the compact (listpack) encoding holds the set.
    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => {
                v.capacity() * std::mem::size_of::<Item>() + v.iter().map(|it| it.member.heap_size()).sum::<usize>()
            }
            Repr::Skiplist(l) => {
                std::mem::size_of::<Large>()
                    + l.members.heap_size()
                    + l.members.iter().map(|it| it.member.heap_size()).sum::<usize>()
                    + l.order.heap_size()
            }
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let Repr::Listpack(v) = &mut self.repr {
            let items = std::mem::take(v);
            self.repr = Repr::Skiplist(Box::new(Large::from_items(items)));
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().find(|it| it.member.as_slice() == member).map(|it| it.score),
            Repr::Skiplist(l) => l.members.get(member).map(|it| it.score),
        }
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().position(|it| it.member.as_slice() == member),
            Repr::Skiplist(l) => {
                let it = l.members.get(member)?;
                l.order.rank(it.score, member, &l.members)
            }
        }
    }

    /// Sets `member`'s score, adding it if absent (converting to skiplist first when the
    /// listpack would outgrow `limits`). Returns the previous score. An equal score (0 and -0
    /// included) leaves the stored one untouched, as Redis does.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> Option<f64> {
        let old = self.score(member);
        match old {
            Some(old) if old == score => {}
            Some(_) => self.update(member, score),
            None => {
                if let Repr::Listpack(v) = &self.repr {
                    if !limits.fits_listpack(v.len() + 1, member.len()) {
                        self.convert_to_skiplist();
                    }
                }
                match &mut self.repr {
                    Repr::Listpack(v) => {
                        let it = Item::new(member, listpack_score(score));
                        let at = v.partition_point(|x| x.cmp(&it) == Ordering::Less);
                        v.insert(at, it);
                    }
                    Repr::Skiplist(l) => l.add_new(member, score),
                }
            }
        }
        old
    }

    /// Moves an existing member to a new score.
    fn update(&mut self, member: &[u8], score: f64) {
        match &mut self.repr {
            Repr::Listpack(v) => {
                if let Some(i) = v.iter().position(|it| it.member.as_slice() == member) {
                    let mut it = v.remove(i);
                    it.score = listpack_score(score);
                    let at = v.partition_point(|x| x.cmp(&it) == Ordering::Less);
                    v.insert(at, it);
                }
            }
            Repr::Skiplist(l) => {
                if let Some(pos) = l.members.position(member) {
                    l.set_score(pos, score);
                }
            }
        }
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Listpack(v) => {
                let i = v.iter().position(|it| it.member.as_slice() == member)?;
                Some(v.remove(i).score)
            }
            Repr::Skiplist(l) => {
                let pos = l.members.position(member)?;
                Some(l.remove_pos(pos).score)
            }
        }
    }

    /// Removes the members of ranks `start..end`; returns how many.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Listpack(v) => {
                v.drain(start..end);
            }
            Repr::Skiplist(l) => {
                for _ in start..end {
                    l.remove_rank(start);
                }
            }
        }
        end - start
    }

    /// Removes and returns the lowest (or, with `max`, the highest) member.
    pub fn pop(&mut self, max: bool) -> Option<Item> {
        let rank = if max { self.len().checked_sub(1)? } else { 0 };
        match &mut self.repr {
            Repr::Listpack(v) => (rank < v.len()).then(|| v.remove(rank)),
            Repr::Skiplist(l) => l.remove_rank(rank),
        }
    }

    /// The member of rank `rank` with its score.
    pub fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Listpack(v) => v.get(rank).map(|it| (it.member.as_slice(), it.score)),
            Repr::Skiplist(l) => l.order.select(rank).map(|p| l.at_pos(p)),
        }
    }

    /// Members with scores in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_at(0, false)
    }

    /// Members from rank `rank` on, ascending, or descending with `rev` (an empty walk if `rank`
    /// is out of range).
    pub fn iter_at(&self, rank: usize, rev: bool) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(v) => Iter(Walk::Listpack { items: v, next: (rank < v.len()).then_some(rank), rev }),
            Repr::Skiplist(l) => Iter(Walk::Skiplist { large: l, pos: l.order.select(rank), rev }),
        }
    }

    /// The rank of the first member whose score is in `r` (zslFirstInRange).
    pub fn first_in_score_range(&self, r: &ScoreRange) -> Option<usize> {
        if r.always_empty() {
            return None;
        }
        let i = match &self.repr {
            Repr::Listpack(v) => v.partition_point(|it| !r.gte_min(it.score)),
            Repr::Skiplist(l) => l.order.lower_bound_score(|s| !r.gte_min(s)),
        };
        self.at(i).filter(|&(_, s)| r.lte_max(s)).map(|_| i)
    }

    /// The rank of the last member whose score is in `r` (zslLastInRange).
    pub fn last_in_score_range(&self, r: &ScoreRange) -> Option<usize> {
        if r.always_empty() {
            return None;
        }
        let end = match &self.repr {
            Repr::Listpack(v) => v.partition_point(|it| r.lte_max(it.score)),
            Repr::Skiplist(l) => l.order.lower_bound_score(|s| r.lte_max(s)),
        };
        let i = end.checked_sub(1)?;
        self.at(i).filter(|&(_, s)| r.gte_min(s)).map(|_| i)
    }

    /// How many scores fall in `r` (ZCOUNT).
    pub fn count_in_score_range(&self, r: &ScoreRange) -> usize {
        match (self.first_in_score_range(r), self.last_in_score_range(r)) {
            (Some(a), Some(b)) if b >= a => b - a + 1,
            _ => 0,
        }
    }

    /// Whether any part of the set can be in the lex range (zslIsInLexRange).
    fn may_hold_lex(&self, r: &LexRange) -> bool {
        if r.always_empty() {
            return false;
        }
        let (Some((first, _)), Some((last, _))) = (self.at(0), self.at(self.len().wrapping_sub(1))) else {
            return false;
        };
        r.gte_min(last) && r.lte_max(first)
    }

    /// The rank of the first member in the lex range (zzlFirstInLexRange / zslFirstInLexRange).
    /// Lex ranges assume equal scores; with mixed scores the listpack answer is Redis's linear
    /// scan, the skiplist one a descent, as in Redis.
    pub fn first_in_lex_range(&self, r: &LexRange) -> Option<usize> {
        if !self.may_hold_lex(r) {
            return None;
        }
        let i = match &self.repr {
            Repr::Listpack(v) => v.iter().position(|it| r.gte_min(&it.member))?,
            Repr::Skiplist(l) => l.order.lower_bound_member(&l.members, |m| !r.gte_min(m)),
        };
        self.at(i).filter(|&(m, _)| r.lte_max(m)).map(|_| i)
    }

    /// The rank of the last member in the lex range.
    pub fn last_in_lex_range(&self, r: &LexRange) -> Option<usize> {
        if !self.may_hold_lex(r) {
            return None;
        }
        let i = match &self.repr {
            Repr::Listpack(v) => v.iter().rposition(|it| r.lte_max(&it.member))?,
            Repr::Skiplist(l) => l.order.lower_bound_member(&l.members, |m| r.lte_max(m)).checked_sub(1)?,
        };
        self.at(i).filter(|&(m, _)| r.gte_min(m)).map(|_| i)
    }

    /// How many members fall in the lex range (ZLEXCOUNT): the listpack counts forward from the
    /// first while in range, the skiplist subtracts ranks, as Redis does.
    pub fn count_in_lex_range(&self, r: &LexRange) -> usize {
        let Some(first) = self.first_in_lex_range(r) else { return 0 };
        match &self.repr {
            Repr::Listpack(_) => self.iter_at(first, false).take_while(|&(m, _)| r.lte_max(m)).count(),
            Repr::Skiplist(_) => match self.last_in_lex_range(r) {
                Some(last) if last >= first => last - first + 1,
                _ => 0,
            },
        }
    }

    /// A uniformly random member with its score; None if empty.
    pub fn random(&self) -> Option<(&[u8], f64)> {
        if self.is_empty() {
            return None;
        }
        match &self.repr {
            Repr::Listpack(v) => v.get(fastrand::usize(..v.len())).map(|it| (it.member.as_slice(), it.score)),
            Repr::Skiplist(l) => {
                let it = l.members.at(l.members.random_position());
                Some((it.member.as_slice(), it.score))
            }
        }
    }

    /// Members in the member index's order (unspecified, fast): for whole-set reads where order
    /// does not matter.
    pub fn iter_unordered(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match &self.repr {
            Repr::Listpack(v) => Box::new(v.iter().map(|it| (it.member.as_slice(), it.score))),
            Repr::Skiplist(l) => Box::new(l.members.iter().map(|it| (it.member.as_slice(), it.score))),
        }
    }

    /// One ZSCAN step: a listpack answers everything at once with cursor 0, as in Redis 7.0;
    /// the skiplist walks its member index with `Dense::scan`'s guarantee.
    pub fn scan(&self, cursor: u64, count: usize, mut emit: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Listpack(v) => {
                for it in v {
                    emit(&it.member, it.score);
                }
                0
            }
            Repr::Skiplist(l) => {
                let (batch, next) = l.members.scan(cursor, count);
                for it in batch {
                    emit(&it.member, it.score);
                }
                next
            }
        }
    }

    /// Checks the encoding's invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        match &self.repr {
            Repr::Listpack(v) => {
                for w in v.windows(2) {
                    assert_eq!(w[0].cmp(&w[1]), Ordering::Less);
                }
            }
            Repr::Skiplist(l) => {
                l.order.check(&l.members);
                assert_eq!(l.order.len(), l.members.len());
                for (score, id) in l.order.iter() {
                    assert_eq!(l.members.at(id as usize).score.to_bits(), score.to_bits());
                }
            }
        }
    }
}

/// A walk over members with scores from some rank, forwards or backwards.
pub struct Iter<'a>(Walk<'a>);

enum Walk<'a> {
    Listpack { items: &'a [Item], next: Option<usize>, rev: bool },
    Skiplist { large: &'a Large, pos: Option<Pos>, rev: bool },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        match &mut self.0 {
            Walk::Listpack { items, next, rev } => {
                let i = (*next)?;
                *next = if *rev { i.checked_sub(1) } else { Some(i + 1).filter(|&j| j < items.len()) };
                let it = &items[i];
                Some((it.member.as_slice(), it.score))
            }
            Walk::Skiplist { large, pos, rev } => {
                let p = (*pos)?;
                *pos = if *rev { large.order.prev(p) } else { large.order.next(p) };
                Some(large.at_pos(p))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits { max_entries: 8, max_value: 16 };

    fn members(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn grows_from_listpack_to_skiplist_and_agrees_with_a_model() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut z = ZSet::new();
        let mut model: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
        for step in 0..20_000 {
            let m = format!("m{}", rng.u32(..600)).into_bytes();
            let s = (rng.i32(-40..40) as f64) / 4.0;
            match rng.u8(..10) {
                0..=5 => {
                    assert_eq!(z.insert(&m, s, SMALL), model.insert(m.clone(), s));
                }
                6..=7 => assert_eq!(z.remove(&m), model.remove(&m)),
                8 => {
                    if let Some(it) = z.pop(rng.bool()) {
                        assert!(model.remove(it.member.as_slice()).is_some());
                    }
                }
                _ => {
                    let a = rng.usize(..=z.len());
                    let b = rng.usize(a..=z.len());
                    let doomed: Vec<Vec<u8>> = z.iter_at(a, false).take(b - a).map(|(m, _)| m.to_vec()).collect();
                    assert_eq!(z.remove_ranks(a, b), b - a);
                    for d in doomed {
                        model.remove(&d);
                    }
                }
            }
            if step % 1000 == 0 {
                z.check();
            }
            assert_eq!(z.len(), model.len());
        }
        z.check();
        assert_eq!(z.encoding(), "skiplist");
        let mut expect: Vec<(Vec<u8>, f64)> = model.into_iter().collect();
        expect.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
        assert_eq!(members(&z), expect);
        for (r, (m, s)) in expect.iter().enumerate() {
            assert_eq!(z.rank(m), Some(r));
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.at(r), Some((m.as_slice(), *s)));
        }
        let rev: Vec<(Vec<u8>, f64)> = z.iter_at(expect.len() - 1, true).map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(rev, expect.iter().rev().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn encodings_follow_the_limits() {
        let mut z = ZSet::new();
        for i in 0..8 {
            z.insert(format!("{i}").as_bytes(), i as f64, SMALL);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"8", 8.0, SMALL);
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::new();
        z.insert(b"a", 1.0, SMALL);
        z.insert(&[b'x'; 17], 1.0, SMALL);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(ZSet::new_for_first(17, SMALL).encoding(), "skiplist");
        assert_eq!(ZSet::new_for_first(16, SMALL).encoding(), "listpack");
        let z = ZSet::from_pairs((0..8).map(|i| (format!("{i}"), i as f64)), SMALL);
        assert_eq!(z.encoding(), "listpack");
        let z = ZSet::from_pairs((0..9).map(|i| (format!("{i}"), -(i as f64))), SMALL);
        assert_eq!(z.encoding(), "skiplist");
        z.check();
        assert_eq!(z.at(0), Some((&b"8"[..], -8.0)));
        let z = ZSet::from_pairs([("a", 1.0), ("b", 2.0), ("a", 3.0)], SMALL);
        assert_eq!(members(&z), vec![(b"b".to_vec(), 2.0), (b"a".to_vec(), 3.0)]);
    }

    #[test]
    fn score_and_lex_ranges_on_both_encodings() {
        for limits in [SMALL, Limits { max_entries: 0, max_value: 0 }] {
            let z = ZSet::from_pairs((0..8).map(|i| (format!("{}", (b'a' + i) as char), (i / 2) as f64)), limits);
            let r = ScoreRange { min: 1.0, max: 2.0, min_ex: false, max_ex: true };
            assert_eq!(z.first_in_score_range(&r), Some(2));
            assert_eq!(z.last_in_score_range(&r), Some(3));
            assert_eq!(z.count_in_score_range(&r), 2);
            let r = ScoreRange { min: 5.0, max: 1.0, min_ex: false, max_ex: false };
            assert_eq!(z.count_in_score_range(&r), 0);
            let same = ZSet::from_pairs(["a", "b", "c", "d"].map(|m| (m, 0.0)), limits);
            let r = LexRange { min: LexBound::Str(b"b".to_vec()), max: LexBound::Max, min_ex: true, max_ex: true };
            assert_eq!(same.first_in_lex_range(&r), Some(2));
            assert_eq!(same.last_in_lex_range(&r), Some(3));
            assert_eq!(same.count_in_lex_range(&r), 2);
            let r = LexRange { min: LexBound::Min, max: LexBound::Min, min_ex: true, max_ex: true };
            assert_eq!(same.count_in_lex_range(&r), 0);
        }
    }
}
