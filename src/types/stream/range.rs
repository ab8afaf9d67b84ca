//! Walking a stream's entries over an ID range in either direction (streamIterator): forward
//! along each node's listpack, backward through the lp-count back links.

use super::id::StreamId;
use super::node::{self, EntryAt, Master};
use super::node_map::Cursor;
use super::Stream;

/// One entry with its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

pub struct Range<'a> {
    nodes: Cursor<'a>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    skip_tombstones: bool,
    current: Option<Current<'a>>,
    done: bool,
}

struct Current<'a> {
    master_id: StreamId,
    lp: &'a [u8],
    master: Master,
    /// Forward: the next entry's flags. Backward: the lp-count of the next entry to emit.
    pos: Option<usize>,
}

impl<'a> Range<'a> {
    pub(super) fn new(s: &'a Stream, start: StreamId, end: StreamId, rev: bool, skip_tombstones: bool) -> Range<'a> {
        // The node holding `start` is the last one keyed at or before it (raxSeek "<=").
        let nodes = if !rev { s.nodes.iter_from(start) } else { s.nodes.iter_back_from(end) };
        Range { nodes, start, end, rev, skip_tombstones, current: None, done: start > end }
    }

    /// The next entry's location within its node.
    fn next_at(&mut self) -> Option<(EntryAt, &'a [u8], Master)> {
        if self.done {
            return None;
        }
        loop {
            if self.current.as_ref().is_none_or(|c| c.pos.is_none()) {
                let Some((master_id, lp)) = self.nodes.next() else {
                    self.done = true;
                    return None;
                };
                let Some(master) = node::master(lp) else { continue };
                let pos = if self.rev { crate::types::listpack::last(lp) } else { node::first_entry_pos(lp, &master) };
                self.current = Some(Current { master_id, lp, master, pos });
            }
            let c = self.current.as_mut()?;
            let Some(pos) = c.pos else { continue };
            let flags_pos = if self.rev {
                match node::entry_start_from_count(c.lp, pos) {
                    Some(p) => p,
                    None => {
                        c.pos = None;
                        continue;
                    }
                }
            } else {
                pos
            };
            let Some(e) = node::entry_at(c.lp, c.master_id, &c.master, flags_pos) else {
                c.pos = None;
                continue;
            };
            c.pos =
                if self.rev { crate::types::listpack::prev(c.lp, flags_pos) } else { node::next_entry_pos(c.lp, &e) };
            if self.skip_tombstones && e.deleted() {
                continue;
            }
            if !self.rev {
                if e.id < self.start {
                    continue;
                }
                if e.id > self.end {
                    self.done = true;
                    return None;
                }
            } else {
                if e.id > self.end {
                    continue;
                }
                if e.id < self.start {
                    self.done = true;
                    return None;
                }
            }
            return Some((e, c.lp, c.master));
        }
    }

    /// Writes the next entry as a reply element (see `node::write_entry`); returns its ID.
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> Option<StreamId> {
        let (e, lp, m) = self.next_at()?;
        node::write_entry(lp, &m, &e, out);
        Some(e.id)
    }

    /// The next entry's ID, without reading its fields.
    pub fn next_id(&mut self) -> Option<StreamId> {
        self.next_at().map(|(e, _, _)| e.id)
    }

    /// The next entry's ID and whether it is a tombstone (for walks that include them).
    pub fn next_with_flags(&mut self) -> Option<(StreamId, bool)> {
        self.next_at().map(|(e, _, _)| (e.id, e.deleted()))
    }
}

impl Iterator for Range<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let (e, lp, m) = self.next_at()?;
        Some(Entry { id: e.id, fields: node::fields_of(lp, &m, &e) })
    }
}
