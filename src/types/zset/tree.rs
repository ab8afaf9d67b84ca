//! The order of a large sorted set: a B+tree over (score, member id) whose inner nodes count the
//! elements below each child, so ranks, selection by rank and range bounds cost O(log n).
//!
//! Leaves hold scores and ids in parallel arrays (12 bytes an element) and are linked both ways
//! for in-order walks. Members themselves live once, in the set's member index; the tree asks a
//! `Members` for an id's bytes only to break score ties. Separators in inner nodes are owned
//! copies of keys, so they stay valid when the elements they came from are removed or when the
//! member index moves an entry to another id.
//!
//! Ordering is Redis's: by score, then by member bytes. Scores are never NaN.

use std::cmp::Ordering;

use crate::types::CompactBytes;

pub const LEAF_CAP: usize = 64;
const LEAF_MIN: usize = LEAF_CAP / 4;
const INNER_CAP: usize = 64;
const INNER_MIN: usize = INNER_CAP / 4;
const NIL: u32 = u32::MAX;

/// Where the tree finds an id's member bytes.
pub trait Members {
    fn member(&self, id: u32) -> &[u8];
}

/// Redis's element order: by score, ties broken by member bytes (so -0 and 0 tie).
pub fn cmp_key(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    if a_score < b_score {
        Ordering::Less
    } else if a_score > b_score {
        Ordering::Greater
    } else {
        a_member.cmp(b_member)
    }
}

/// A separator: every key in the child on its left is smaller, every key on its right is not.
#[derive(Clone, Debug)]
struct Sep {
    score: f64,
    member: CompactBytes,
}

#[derive(Clone)]
struct Leaf {
    len: u32,
    prev: u32,
    next: u32,
    scores: [f64; LEAF_CAP],
    ids: [u32; LEAF_CAP],
}

impl Leaf {
    fn empty() -> Leaf {
        Leaf { len: 0, prev: NIL, next: NIL, scores: [0.0; LEAF_CAP], ids: [0; LEAF_CAP] }
    }

    fn len(&self) -> usize {
        self.len as usize
    }

    /// The slot of (score, member), or where it would go.
    fn search<M: Members + ?Sized>(&self, score: f64, member: &[u8], m: &M) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let s = self.scores[mid];
            let ord = if s < score {
                Ordering::Less
            } else if s > score {
                Ordering::Greater
            } else {
                m.member(self.ids[mid]).cmp(member)
            };
            match ord {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn insert_at(&mut self, pos: usize, score: f64, id: u32) {
        let len = self.len();
        self.scores.copy_within(pos..len, pos + 1);
        self.ids.copy_within(pos..len, pos + 1);
        self.scores[pos] = score;
        self.ids[pos] = id;
        self.len += 1;
    }

    fn remove_at(&mut self, pos: usize) {
        let len = self.len();
        self.scores.copy_within(pos + 1..len, pos);
        self.ids.copy_within(pos + 1..len, pos);
        self.len -= 1;
    }

    fn sep_at<M: Members + ?Sized>(&self, slot: usize, m: &M) -> Sep {
        Sep { score: self.scores[slot], member: CompactBytes::new(m.member(self.ids[slot])) }
    }
}

#[derive(Clone, Default)]
struct Inner {
    children: Vec<u32>,
    counts: Vec<u32>,
    /// `seps[i]` divides `children[i]` from `children[i + 1]`.
    seps: Vec<Sep>,
}

impl Inner {
    /// The child whose key range holds (score, member).
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        self.seps.partition_point(|s| cmp_key(s.score, &s.member, score, member) != Ordering::Greater)
    }

    fn total(&self) -> usize {
        self.counts.iter().map(|&c| c as usize).sum()
    }

    fn count_before(&self, i: usize) -> usize {
        self.counts[..i].iter().map(|&c| c as usize).sum()
    }
}

/// A position in the tree: a leaf and a slot in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    leaf: u32,
    slot: u32,
}

#[derive(Clone)]
pub struct Tree {
    leaves: Vec<Leaf>,
    inners: Vec<Inner>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    root: u32,
    /// 0: the root is a leaf.
    height: u32,
    len: usize,
    head: u32,
    tail: u32,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            leaves: vec![Leaf::empty()],
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            height: 0,
            len: 0,
            head: 0,
            tail: 0,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes of the nodes (separators' long members included).
    pub fn heap_size(&self) -> usize {
        let inner_bytes: usize = self
            .inners
            .iter()
            .map(|n| {
                n.children.capacity() * 4
                    + n.counts.capacity() * 4
                    + n.seps.capacity() * std::mem::size_of::<Sep>()
                    + n.seps.iter().map(|s| s.member.heap_size()).sum::<usize>()
            })
            .sum();
        self.leaves.capacity() * std::mem::size_of::<Leaf>()
            + self.inners.capacity() * std::mem::size_of::<Inner>()
            + (self.free_leaves.capacity() + self.free_inners.capacity()) * 4
            + inner_bytes
    }

    /// Builds a tree from elements already in order (strictly increasing keys).
    pub fn build<M: Members + ?Sized>(sorted: &[(f64, u32)], m: &M) -> Tree {
        let mut t = Tree::new();
        if sorted.is_empty() {
            return t;
        }
        t.leaves.clear();
        t.len = sorted.len();
        // Leaves full, except that the last two share their elements if the last would be small.
        let mut level: Vec<(u32, u32, Sep)> = Vec::new(); // (node, count, first key)
        for chunk in balanced_chunks(sorted.len(), LEAF_CAP, LEAF_MIN) {
            let mut leaf = Leaf::empty();
            for (k, &(score, id)) in sorted[chunk.clone()].iter().enumerate() {
                leaf.scores[k] = score;
                leaf.ids[k] = id;
            }
            leaf.len = chunk.len() as u32;
            let id = t.leaves.len() as u32;
            leaf.prev = if id == 0 { NIL } else { id - 1 };
            if id > 0 {
                t.leaves[id as usize - 1].next = id;
            }
            let first = leaf.sep_at(0, m);
            t.leaves.push(leaf);
            level.push((id, chunk.len() as u32, first));
        }
        t.head = 0;
        t.tail = t.leaves.len() as u32 - 1;
        while level.len() > 1 {
            let mut up = Vec::new();
            let mut rest = level.into_iter();
            for chunk in balanced_chunks(rest.len(), INNER_CAP, INNER_MIN) {
                let group: Vec<(u32, u32, Sep)> = rest.by_ref().take(chunk.len()).collect();
                let mut inner = Inner::default();
                let mut first = None;
                for (k, (node, count, key)) in group.into_iter().enumerate() {
                    inner.children.push(node);
                    inner.counts.push(count);
                    if k == 0 {
                        first = Some(key);
                    } else {
                        inner.seps.push(key);
                    }
                }
                let total = inner.total() as u32;
                let id = t.alloc_inner(inner);
                up.push((id, total, first.unwrap_or(Sep { score: 0.0, member: CompactBytes::new(b"") })));
            }
            level = up;
            t.height += 1;
        }
        t.root = level[0].0;
        t
    }

    fn alloc_leaf(&mut self, leaf: Leaf) -> u32 {
        match self.free_leaves.pop() {
            Some(id) => {
                self.leaves[id as usize] = leaf;
                id
            }
            None => {
                self.leaves.push(leaf);
                self.leaves.len() as u32 - 1
            }
        }
    }

    fn alloc_inner(&mut self, inner: Inner) -> u32 {
        match self.free_inners.pop() {
            Some(id) => {
                self.inners[id as usize] = inner;
                id
            }
            None => {
                self.inners.push(inner);
                self.inners.len() as u32 - 1
            }
        }
    }

    fn free_inner(&mut self, id: u32) {
        self.inners[id as usize] = Inner::default();
        self.free_inners.push(id);
    }

    fn node_count(&self, node: u32, height: u32) -> usize {
        if height == 0 {
            self.leaves[node as usize].len()
        } else {
            self.inners[node as usize].total()
        }
    }

    fn too_small(&self, node: u32, height: u32) -> bool {
        if height == 0 {
            self.leaves[node as usize].len() < LEAF_MIN
        } else {
            self.inners[node as usize].children.len() < INNER_MIN
        }
    }

    /// Adds an element whose id already names its member in `m`; the key must not be present.
    pub fn insert<M: Members + ?Sized>(&mut self, score: f64, id: u32, m: &M) {
        let member = m.member(id);
        if let Some((sep, right)) = self.insert_rec(self.root, self.height, score, id, member, m) {
            let left = self.root;
            let counts = vec![self.node_count(left, self.height) as u32, self.node_count(right, self.height) as u32];
            self.root = self.alloc_inner(Inner { children: vec![left, right], counts, seps: vec![sep] });
            self.height += 1;
        }
        self.len += 1;
    }

    /// Inserts below `node`; returns the separator and the new right sibling if `node` split.
    fn insert_rec<M: Members + ?Sized>(
        &mut self,
        node: u32,
        height: u32,
        score: f64,
        id: u32,
        member: &[u8],
        m: &M,
    ) -> Option<(Sep, u32)> {
        if height == 0 {
            return self.leaf_insert(node, score, id, member, m);
        }
        let i = self.inners[node as usize].child_for(score, member);
        let child = self.inners[node as usize].children[i];
        let split = self.insert_rec(child, height - 1, score, id, member, m);
        let right_count = split.as_ref().map(|(_, right)| self.node_count(*right, height - 1) as u32);
        let inner = &mut self.inners[node as usize];
        inner.counts[i] += 1;
        if let (Some((sep, right)), Some(rc)) = (split, right_count) {
            inner.counts[i] -= rc;
            inner.children.insert(i + 1, right);
            inner.counts.insert(i + 1, rc);
            inner.seps.insert(i, sep);
            if inner.children.len() > INNER_CAP {
                return Some(self.split_inner(node));
            }
        }
        None
    }

    fn leaf_insert<M: Members + ?Sized>(
        &mut self,
        node: u32,
        score: f64,
        id: u32,
        member: &[u8],
        m: &M,
    ) -> Option<(Sep, u32)> {
        let leaf = &mut self.leaves[node as usize];
        let pos = match leaf.search(score, member, m) {
            Ok(p) | Err(p) => p,
        };
        if leaf.len() < LEAF_CAP {
            leaf.insert_at(pos, score, id);
            return None;
        }
        let mut right = Leaf::empty();
        let is_last = leaf.next == NIL;
        let is_first = leaf.prev == NIL;
        if pos == LEAF_CAP && is_last {
            // Appending in order: start a new leaf and keep this one full.
            right.insert_at(0, score, id);
        } else if pos == 0 && is_first {
            // Prepending in order: everything moves right, the new element stays alone.
            right.scores = leaf.scores;
            right.ids = leaf.ids;
            right.len = leaf.len;
            leaf.len = 0;
            leaf.insert_at(0, score, id);
        } else {
            let half = LEAF_CAP / 2;
            right.scores[..LEAF_CAP - half].copy_from_slice(&leaf.scores[half..]);
            right.ids[..LEAF_CAP - half].copy_from_slice(&leaf.ids[half..]);
            right.len = (LEAF_CAP - half) as u32;
            leaf.len = half as u32;
            if pos <= half {
                leaf.insert_at(pos, score, id);
            } else {
                right.insert_at(pos - half, score, id);
            }
        }
        let sep = right.sep_at(0, m);
        right.prev = node;
        right.next = self.leaves[node as usize].next;
        let right_id = self.alloc_leaf(right);
        let after = self.leaves[right_id as usize].next;
        if after == NIL {
            self.tail = right_id;
        } else {
            self.leaves[after as usize].prev = right_id;
        }
        self.leaves[node as usize].next = right_id;
        Some((sep, right_id))
    }

    /// Splits an overfull inner node in two; the middle separator goes up.
    fn split_inner(&mut self, node: u32) -> (Sep, u32) {
        let inner = &mut self.inners[node as usize];
        let mid = inner.children.len() / 2;
        let children = inner.children.split_off(mid);
        let counts = inner.counts.split_off(mid);
        let seps = inner.seps.split_off(mid);
        let up = inner.seps.pop().unwrap_or(Sep { score: 0.0, member: CompactBytes::new(b"") });
        let right = self.alloc_inner(Inner { children, counts, seps });
        (up, right)
    }

    /// Removes the element with this key; false if it is not there.
    pub fn remove<M: Members + ?Sized>(&mut self, score: f64, member: &[u8], m: &M) -> bool {
        if !self.remove_rec(self.root, self.height, score, member, m) {
            return false;
        }
        self.len -= 1;
        while self.height > 0 && self.inners[self.root as usize].children.len() == 1 {
            let old = self.root;
            self.root = self.inners[old as usize].children[0];
            self.free_inner(old);
            self.height -= 1;
        }
        true
    }

    fn remove_rec<M: Members + ?Sized>(&mut self, node: u32, height: u32, score: f64, member: &[u8], m: &M) -> bool {
        if height == 0 {
            let leaf = &mut self.leaves[node as usize];
            return match leaf.search(score, member, m) {
                Ok(pos) => {
                    leaf.remove_at(pos);
                    true
                }
                Err(_) => false,
            };
        }
        let i = self.inners[node as usize].child_for(score, member);
        let child = self.inners[node as usize].children[i];
        if !self.remove_rec(child, height - 1, score, member, m) {
            return false;
        }
        self.inners[node as usize].counts[i] -= 1;
        if self.too_small(child, height - 1) && self.inners[node as usize].children.len() > 1 {
            self.rebalance(node, i, height - 1, m);
        }
        true
    }

    /// Merges the small child `i` of `parent` with a sibling, or evens their sizes out.
    fn rebalance<M: Members + ?Sized>(&mut self, parent: u32, i: usize, child_height: u32, m: &M) {
        let n = self.inners[parent as usize].children.len();
        let l = if i + 1 < n { i } else { i - 1 };
        let (left, right) = {
            let p = &self.inners[parent as usize];
            (p.children[l], p.children[l + 1])
        };
        if child_height == 0 {
            self.rebalance_leaves(parent, l, left, right, m);
        } else {
            self.rebalance_inners(parent, l, left, right);
        }
    }

    fn rebalance_leaves<M: Members + ?Sized>(&mut self, parent: u32, l: usize, left: u32, right: u32, m: &M) {
        let (a, b) = two_mut(&mut self.leaves, left as usize, right as usize);
        let (la, lb) = (a.len(), b.len());
        if la + lb <= LEAF_CAP {
            a.scores[la..la + lb].copy_from_slice(&b.scores[..lb]);
            a.ids[la..la + lb].copy_from_slice(&b.ids[..lb]);
            a.len = (la + lb) as u32;
            a.next = b.next;
            let after = b.next;
            if after == NIL {
                self.tail = left;
            } else {
                self.leaves[after as usize].prev = left;
            }
            self.leaves[right as usize] = Leaf::empty();
            self.free_leaves.push(right);
            let p = &mut self.inners[parent as usize];
            p.counts[l] += p.counts[l + 1];
            p.children.remove(l + 1);
            p.counts.remove(l + 1);
            p.seps.remove(l);
            return;
        }
        let target = (la + lb) / 2;
        if la < target {
            let k = target - la;
            a.scores[la..target].copy_from_slice(&b.scores[..k]);
            a.ids[la..target].copy_from_slice(&b.ids[..k]);
            b.scores.copy_within(k..lb, 0);
            b.ids.copy_within(k..lb, 0);
        } else {
            let k = la - target;
            b.scores.copy_within(0..lb, k);
            b.ids.copy_within(0..lb, k);
            b.scores[..k].copy_from_slice(&a.scores[target..la]);
            b.ids[..k].copy_from_slice(&a.ids[target..la]);
        }
        a.len = target as u32;
        b.len = (la + lb - target) as u32;
        let sep = b.sep_at(0, m);
        let p = &mut self.inners[parent as usize];
        p.counts[l] = target as u32;
        p.counts[l + 1] = (la + lb - target) as u32;
        p.seps[l] = sep;
    }

    fn rebalance_inners(&mut self, parent: u32, l: usize, left: u32, right: u32) {
        let mut a = std::mem::take(&mut self.inners[left as usize]);
        let mut b = std::mem::take(&mut self.inners[right as usize]);
        let p = &mut self.inners[parent as usize];
        if a.children.len() + b.children.len() <= INNER_CAP {
            a.seps.push(p.seps.remove(l));
            a.seps.append(&mut b.seps);
            a.children.append(&mut b.children);
            a.counts.append(&mut b.counts);
            p.counts[l] += p.counts[l + 1];
            p.children.remove(l + 1);
            p.counts.remove(l + 1);
            self.inners[left as usize] = a;
            self.free_inner(right);
            return;
        }
        let target = (a.children.len() + b.children.len()) / 2;
        while a.children.len() < target {
            // Rotate b's first child over to a, through the parent's separator.
            a.seps.push(std::mem::replace(&mut p.seps[l], b.seps.remove(0)));
            a.children.push(b.children.remove(0));
            a.counts.push(b.counts.remove(0));
        }
        while a.children.len() > target {
            let child = a.children.pop().unwrap_or(NIL);
            let count = a.counts.pop().unwrap_or(0);
            let sep = a.seps.pop().unwrap_or(Sep { score: 0.0, member: CompactBytes::new(b"") });
            b.seps.insert(0, std::mem::replace(&mut p.seps[l], sep));
            b.children.insert(0, child);
            b.counts.insert(0, count);
        }
        p.counts[l] = a.total() as u32;
        p.counts[l + 1] = b.total() as u32;
        self.inners[left as usize] = a;
        self.inners[right as usize] = b;
    }

    /// The leaf slot holding (score, member), if present.
    pub fn find<M: Members + ?Sized>(&self, score: f64, member: &[u8], m: &M) -> Option<Pos> {
        let mut node = self.root;
        for _ in 0..self.height {
            let inner = &self.inners[node as usize];
            node = inner.children[inner.child_for(score, member)];
        }
        self.leaves[node as usize].search(score, member, m).ok().map(|slot| Pos { leaf: node, slot: slot as u32 })
    }

    /// The 0-based rank of (score, member), if present.
    pub fn rank<M: Members + ?Sized>(&self, score: f64, member: &[u8], m: &M) -> Option<usize> {
        let mut node = self.root;
        let mut rank = 0;
        for _ in 0..self.height {
            let inner = &self.inners[node as usize];
            let i = inner.child_for(score, member);
            rank += inner.count_before(i);
            node = inner.children[i];
        }
        self.leaves[node as usize].search(score, member, m).ok().map(|slot| rank + slot)
    }

    /// The position of the element of rank `rank` (< len).
    pub fn select(&self, rank: usize) -> Option<Pos> {
        if rank >= self.len {
            return None;
        }
        let mut node = self.root;
        let mut left = rank;
        for _ in 0..self.height {
            let inner = &self.inners[node as usize];
            let mut i = 0;
            while i + 1 < inner.counts.len() && left >= inner.counts[i] as usize {
                left -= inner.counts[i] as usize;
                i += 1;
            }
            node = inner.children[i];
        }
        Some(Pos { leaf: node, slot: left as u32 })
    }

    /// The rank of the first element whose score fails `before` (`before` must hold for a prefix
    /// of the order, as "score < min" does).
    pub fn lower_bound_score(&self, before: impl Fn(f64) -> bool) -> usize {
        let mut node = self.root;
        let mut rank = 0;
        for _ in 0..self.height {
            let inner = &self.inners[node as usize];
            let i = inner.seps.partition_point(|s| before(s.score));
            rank += inner.count_before(i);
            node = inner.children[i];
        }
        let leaf = &self.leaves[node as usize];
        rank + leaf.scores[..leaf.len()].partition_point(|&s| before(s))
    }

    /// Like `lower_bound_score` for a condition on members (lexicographic ranges, meaningful when
    /// all scores are equal).
    pub fn lower_bound_member<M: Members + ?Sized>(&self, m: &M, before: impl Fn(&[u8]) -> bool) -> usize {
        let mut node = self.root;
        let mut rank = 0;
        for _ in 0..self.height {
            let inner = &self.inners[node as usize];
            let i = inner.seps.partition_point(|s| before(&s.member));
            rank += inner.count_before(i);
            node = inner.children[i];
        }
        let leaf = &self.leaves[node as usize];
        rank + leaf.ids[..leaf.len()].partition_point(|&id| before(m.member(id)))
    }

    /// Replaces the id stored for (score, member): the member index moved the entry.
    pub fn replace_id<M: Members + ?Sized>(&mut self, score: f64, member: &[u8], new_id: u32, m: &M) -> bool {
        match self.find(score, member, m) {
            Some(p) => {
                self.leaves[p.leaf as usize].ids[p.slot as usize] = new_id;
                true
            }
            None => false,
        }
    }

    /// Changes the score of (score, member) in place when the element keeps its position inside
    /// its leaf (neither end of it, so no separator is affected). False if it would move.
    pub fn update_in_place<M: Members + ?Sized>(&mut self, score: f64, member: &[u8], new_score: f64, m: &M) -> bool {
        let Some(p) = self.find(score, member, m) else { return false };
        let slot = p.slot as usize;
        let leaf = &self.leaves[p.leaf as usize];
        if slot == 0 || slot + 1 >= leaf.len() {
            return false;
        }
        let after_prev =
            cmp_key(leaf.scores[slot - 1], m.member(leaf.ids[slot - 1]), new_score, member) == Ordering::Less;
        let before_next =
            cmp_key(new_score, member, leaf.scores[slot + 1], m.member(leaf.ids[slot + 1])) == Ordering::Less;
        if !(after_prev && before_next) {
            return false;
        }
        self.leaves[p.leaf as usize].scores[slot] = new_score;
        true
    }

    pub fn get(&self, p: Pos) -> (f64, u32) {
        let leaf = &self.leaves[p.leaf as usize];
        (leaf.scores[p.slot as usize], leaf.ids[p.slot as usize])
    }

    #[cfg(test)]
    pub fn last(&self) -> Option<Pos> {
        self.len.checked_sub(1).and_then(|r| self.select(r))
    }

    pub fn next(&self, p: Pos) -> Option<Pos> {
        let leaf = &self.leaves[p.leaf as usize];
        if (p.slot as usize) + 1 < leaf.len() {
            return Some(Pos { leaf: p.leaf, slot: p.slot + 1 });
        }
        let mut n = leaf.next;
        while n != NIL {
            if self.leaves[n as usize].len > 0 {
                return Some(Pos { leaf: n, slot: 0 });
            }
            n = self.leaves[n as usize].next;
        }
        None
    }

    pub fn prev(&self, p: Pos) -> Option<Pos> {
        if p.slot > 0 {
            return Some(Pos { leaf: p.leaf, slot: p.slot - 1 });
        }
        let mut n = self.leaves[p.leaf as usize].prev;
        while n != NIL {
            let len = self.leaves[n as usize].len;
            if len > 0 {
                return Some(Pos { leaf: n, slot: len - 1 });
            }
            n = self.leaves[n as usize].prev;
        }
        None
    }

    /// Every element in order (checks).
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (f64, u32)> + '_ {
        let mut n = self.head;
        let mut slot = 0usize;
        std::iter::from_fn(move || loop {
            if n == NIL {
                return None;
            }
            let leaf = &self.leaves[n as usize];
            if slot < leaf.len() {
                slot += 1;
                return Some((leaf.scores[slot - 1], leaf.ids[slot - 1]));
            }
            n = leaf.next;
            slot = 0;
        })
    }

    /// Verifies every invariant (tests): order, counts, separators, links, fill.
    #[cfg(test)]
    pub fn check<M: Members + ?Sized>(&self, m: &M) {
        let mut seen = Vec::new();
        let total = self.check_node(self.root, self.height, None, None, m, &mut seen, true);
        assert_eq!(total, self.len, "len");
        let walked: Vec<(f64, u32)> = self.iter().collect();
        assert_eq!(walked, seen, "leaf links walk the leaves in order");
        for w in walked.windows(2) {
            assert_eq!(
                cmp_key(w[0].0, m.member(w[0].1), w[1].0, m.member(w[1].1)),
                Ordering::Less,
                "strictly increasing"
            );
        }
        let mut back: Vec<(f64, u32)> = Vec::new();
        let mut p = self.last();
        while let Some(q) = p {
            back.push(self.get(q));
            p = self.prev(q);
        }
        back.reverse();
        assert_eq!(back, seen, "backward walk");
    }

    #[cfg(test)]
    #[allow(clippy::too_many_arguments)]
    fn check_node<M: Members + ?Sized>(
        &self,
        node: u32,
        height: u32,
        lo: Option<&Sep>,
        hi: Option<&Sep>,
        m: &M,
        out: &mut Vec<(f64, u32)>,
        is_root: bool,
    ) -> usize {
        if height == 0 {
            let leaf = &self.leaves[node as usize];
            // In-order inserts leave the end leaves small on purpose; others stay a quarter full.
            let at_an_end = leaf.prev == NIL || leaf.next == NIL;
            assert!(is_root || at_an_end || leaf.len() >= LEAF_MIN, "leaf underfull: {}", leaf.len());
            for k in 0..leaf.len() {
                let (s, id) = (leaf.scores[k], leaf.ids[k]);
                if let Some(lo) = lo {
                    assert_ne!(cmp_key(s, m.member(id), lo.score, &lo.member), Ordering::Less, "below separator");
                }
                if let Some(hi) = hi {
                    assert_eq!(cmp_key(s, m.member(id), hi.score, &hi.member), Ordering::Less, "above separator");
                }
                out.push((s, id));
            }
            return leaf.len();
        }
        let inner = &self.inners[node as usize];
        assert_eq!(inner.seps.len() + 1, inner.children.len());
        assert_eq!(inner.counts.len(), inner.children.len());
        assert!(inner.children.len() <= INNER_CAP);
        assert!(if is_root { inner.children.len() >= 2 } else { inner.children.len() >= INNER_MIN });
        let mut total = 0;
        for (i, &c) in inner.children.iter().enumerate() {
            let clo = if i == 0 { lo } else { Some(&inner.seps[i - 1]) };
            let chi = if i + 1 == inner.children.len() { hi } else { Some(&inner.seps[i]) };
            let n = self.check_node(c, height - 1, clo, chi, m, out, false);
            assert_eq!(n, inner.counts[i] as usize, "count of child {i}");
            total += n;
        }
        total
    }
}

/// Splits `n` items into chunks of at most `cap`, none (but a lone one) smaller than `min`.
fn balanced_chunks(n: usize, cap: usize, min: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let left = n - start;
        let take = if left > cap && left - cap < min { left / 2 } else { left.min(cap) };
        out.push(start..start + take);
        start += take;
    }
    out
}

fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Members by id, for the tests: ids index a vector of names.
    struct Names(Vec<Vec<u8>>);

    impl Members for Names {
        fn member(&self, id: u32) -> &[u8] {
            &self.0[id as usize]
        }
    }

    /// A model: the sorted list of (score, id).
    fn model_sorted(model: &[(f64, u32)], names: &Names) -> Vec<(f64, u32)> {
        let mut v = model.to_vec();
        v.sort_by(|a, b| cmp_key(a.0, names.member(a.1), b.0, names.member(b.1)));
        v
    }

    #[test]
    fn random_operations_agree_with_a_sorted_model() {
        let mut rng = fastrand::Rng::with_seed(7);
        let names =
            Names((0..3000u32).map(|i| format!("m{:05}", rng.u32(..100_000) * 10 + i % 10).into_bytes()).collect());
        // Ids are unique names only if the formatting made them so; dedupe by id anyway.
        let mut t = Tree::new();
        let mut present: Vec<Option<f64>> = vec![None; names.0.len()];
        for step in 0..40_000 {
            let id = rng.u32(..names.0.len() as u32);
            let score = (rng.u32(..50) as f64) - 25.0;
            match present[id as usize] {
                None if rng.u8(..10) < 6 => {
                    t.insert(score, id, &names);
                    present[id as usize] = Some(score);
                }
                Some(old) => {
                    assert!(t.remove(old, names.member(id), &names), "remove present");
                    present[id as usize] = None;
                    if rng.bool() {
                        t.insert(score, id, &names);
                        present[id as usize] = Some(score);
                    }
                }
                None => {
                    assert!(!t.remove(score, names.member(id), &names) || present[id as usize].is_some());
                }
            }
            if step % 4000 == 0 {
                t.check(&names);
            }
        }
        t.check(&names);
        let model: Vec<(f64, u32)> = present.iter().enumerate().filter_map(|(i, s)| s.map(|s| (s, i as u32))).collect();
        let sorted = model_sorted(&model, &names);
        assert_eq!(t.iter().collect::<Vec<_>>(), sorted);
        for (r, &(s, id)) in sorted.iter().enumerate() {
            assert_eq!(t.rank(s, names.member(id), &names), Some(r));
            assert_eq!(t.get(t.select(r).unwrap()), (s, id));
        }
        for min in -26..26 {
            let min = min as f64;
            let expect = sorted.iter().filter(|e| e.0 < min).count();
            assert_eq!(t.lower_bound_score(|s| s < min), expect);
            let expect = sorted.iter().filter(|e| e.0 <= min).count();
            assert_eq!(t.lower_bound_score(|s| s <= min), expect);
        }
        // Remove everything, checking along the way; the tree shrinks back to a leaf.
        for (k, &(s, id)) in sorted.iter().enumerate() {
            assert!(t.remove(s, names.member(id), &names));
            if k % 500 == 0 {
                t.check(&names);
            }
        }
        assert!(t.is_empty());
        assert_eq!(t.height, 0);
        t.check(&names);
    }

    #[test]
    fn deep_trees_split_merge_and_redistribute_inner_nodes() {
        let n = 40_000u32;
        let names = Names((0..n).map(|i| format!("d{i}").into_bytes()).collect());
        let mut rng = fastrand::Rng::with_seed(3);
        let mut ids: Vec<u32> = (0..n).collect();
        rng.shuffle(&mut ids);
        let mut t = Tree::new();
        for &id in &ids {
            t.insert((id % 997) as f64, id, &names);
        }
        t.check(&names);
        assert!(t.height >= 2, "height {}", t.height);
        rng.shuffle(&mut ids);
        for (k, &id) in ids.iter().enumerate() {
            assert!(t.remove((id % 997) as f64, names.member(id), &names));
            if k % 2500 == 0 {
                t.check(&names);
                let r = rng.usize(..t.len());
                let (s, id) = t.get(t.select(r).unwrap());
                assert_eq!(t.rank(s, names.member(id), &names), Some(r));
            }
            // Refill a little now and then so merges and redistributions both happen.
            if k % 7 == 0 && k + 1 < ids.len() {
                let again = ids[k];
                t.insert((again % 997) as f64 + 0.5, again, &names);
                assert!(t.remove((again % 997) as f64 + 0.5, names.member(again), &names));
            }
        }
        t.check(&names);
        assert!(t.is_empty());
    }

    #[test]
    fn in_order_inserts_fill_leaves_and_build_matches_inserts() {
        let names = Names((0..10_000u32).map(|i| format!("x{i:06}").into_bytes()).collect());
        let mut up = Tree::new();
        let mut down = Tree::new();
        for i in 0..10_000u32 {
            up.insert(i as f64, i, &names);
            down.insert(-(i as f64), i, &names);
        }
        up.check(&names);
        down.check(&names);
        // Appends and prepends keep leaves full: about n / LEAF_CAP of them.
        assert!(up.leaves.len() <= 10_000 / LEAF_CAP + 2, "{}", up.leaves.len());
        assert!(down.leaves.len() <= 10_000 / LEAF_CAP + 2, "{}", down.leaves.len());
        let sorted: Vec<(f64, u32)> = (0..10_000u32).map(|i| (i as f64, i)).collect();
        for n in [0, 1, 15, 16, 17, 64, 65, 80, 4096, 4097, 10_000] {
            let t = Tree::build(&sorted[..n], &names);
            t.check(&names);
            assert_eq!(t.iter().collect::<Vec<_>>(), sorted[..n].to_vec());
            for r in (0..n).step_by(37) {
                assert_eq!(t.get(t.select(r).unwrap()), sorted[r]);
            }
        }
    }

    #[test]
    fn ties_order_by_member_and_lex_bounds() {
        let names = Names(["b", "a", "d", "c", "e"].iter().map(|s| s.as_bytes().to_vec()).collect());
        let mut t = Tree::new();
        for id in 0..5 {
            t.insert(1.0, id, &names);
        }
        let order: Vec<&[u8]> = t.iter().map(|(_, id)| names.member(id)).collect();
        assert_eq!(order, vec![&b"a"[..], b"b", b"c", b"d", b"e"]);
        assert_eq!(t.lower_bound_member(&names, |m| m < b"c".as_slice()), 2);
        assert_eq!(t.lower_bound_member(&names, |m| m <= b"c".as_slice()), 3);
        // -0 and 0 tie on score, so members decide.
        let names = Names(vec![b"z".to_vec(), b"a".to_vec()]);
        let mut t = Tree::new();
        t.insert(0.0, 0, &names);
        t.insert(-0.0, 1, &names);
        assert_eq!(t.iter().map(|(_, id)| id).collect::<Vec<_>>(), vec![1, 0]);
    }

    #[test]
    fn update_in_place_only_when_the_position_holds() {
        let names = Names((0..200u32).map(|i| format!("k{i:03}").into_bytes()).collect());
        let mut t = Tree::new();
        for i in 0..200u32 {
            t.insert(i as f64 * 10.0, i, &names);
        }
        assert!(t.update_in_place(50.0, b"k005", 55.0, &names));
        assert!(!t.update_in_place(55.0, b"k005", 75.0, &names));
        t.check(&names);
        assert_eq!(t.rank(55.0, b"k005", &names), Some(5));
    }
}
