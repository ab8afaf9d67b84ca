//! One stream node: a listpack laid out as t_stream.c lays it out, so that RDB save and load copy
//! its bytes and its size is Redis's.
//!
//! Master entry: `count | deleted | num-fields | field_1 ... field_N | 0`, where count and
//! deleted are the live and flagged entries. Then each entry:
//! `flags | ms-delta | seq-delta | [num-fields | field_1] value_1 ... | lp-count`, deltas against
//! the node's master ID (its key), fields omitted when SAMEFIELDS says they are the master's,
//! and lp-count the number of elements before it in the entry, to walk back from the tail.

use super::id::StreamId;
use crate::types::listpack::{self, Element};

pub const FLAG_NONE: i64 = 0;
pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

/// What the master entry says, with where things are.
#[derive(Clone, Copy, Debug)]
pub struct Master {
    pub live: i64,
    pub deleted: i64,
    pub fields: i64,
    /// The first master field (meaningful when `fields > 0`).
    pub fields_start: usize,
    /// The master entry's terminating 0.
    pub terminator: usize,
}

/// Reads the master entry; None when the node is not shaped as one (only for unvalidated input).
pub fn master(lp: &[u8]) -> Option<Master> {
    let live_at = listpack::first(lp)?;
    let deleted_at = listpack::next(lp, live_at)?;
    let fields_at = listpack::next(lp, deleted_at)?;
    let fields = listpack::get(lp, fields_at).as_int()?;
    let fields_start = listpack::next(lp, fields_at)?;
    let mut terminator = fields_start;
    for _ in 0..fields {
        terminator = listpack::next(lp, terminator)?;
    }
    Some(Master {
        live: listpack::get(lp, live_at).as_int()?,
        deleted: listpack::get(lp, deleted_at).as_int()?,
        fields,
        fields_start,
        terminator,
    })
}

/// One entry of a node, located.
#[derive(Clone, Copy, Debug)]
pub struct EntryAt {
    pub flags_pos: usize,
    pub flags: i64,
    pub id: StreamId,
    pub num_fields: i64,
    /// The first field (or value, with SAMEFIELDS).
    pub data_pos: Option<usize>,
    /// The entry's lp-count element.
    pub count_pos: usize,
}

impl EntryAt {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    pub fn same_fields(&self) -> bool {
        self.flags & FLAG_SAMEFIELDS != 0
    }
}

/// The ID an entry stores as deltas (the C code adds them to the master's as uint64).
pub fn id_from_deltas(master_id: StreamId, ms_delta: i64, seq_delta: i64) -> StreamId {
    StreamId::new(master_id.ms.wrapping_add(ms_delta as u64), master_id.seq.wrapping_add(seq_delta as u64))
}

/// Reads the entry whose flags are at `flags_pos`.
pub fn entry_at(lp: &[u8], master_id: StreamId, m: &Master, flags_pos: usize) -> Option<EntryAt> {
    let flags = listpack::get(lp, flags_pos).as_int()?;
    let ms_at = listpack::next(lp, flags_pos)?;
    let seq_at = listpack::next(lp, ms_at)?;
    let id = id_from_deltas(master_id, listpack::get(lp, ms_at).as_int()?, listpack::get(lp, seq_at).as_int()?);
    let mut p = listpack::next(lp, seq_at)?;
    let num_fields = if flags & FLAG_SAMEFIELDS != 0 {
        m.fields
    } else {
        let n = listpack::get(lp, p).as_int()?;
        p = listpack::next(lp, p)?;
        n
    };
    let elements = if flags & FLAG_SAMEFIELDS != 0 { num_fields } else { num_fields * 2 };
    let data_pos = (elements > 0).then_some(p);
    for _ in 0..elements {
        p = listpack::next(lp, p)?;
    }
    Some(EntryAt { flags_pos, flags, id, num_fields, data_pos, count_pos: p })
}

/// The first entry's flags position (after the master terminator), if any.
pub fn first_entry_pos(lp: &[u8], m: &Master) -> Option<usize> {
    listpack::next(lp, m.terminator)
}

/// The next entry's flags position after `e`.
pub fn next_entry_pos(lp: &[u8], e: &EntryAt) -> Option<usize> {
    listpack::next(lp, e.count_pos)
}

/// The flags position of the entry whose lp-count is at `count_pos`; None at the master's 0.
pub fn entry_start_from_count(lp: &[u8], count_pos: usize) -> Option<usize> {
    let count = listpack::get_int(lp, count_pos);
    if count <= 0 {
        return None;
    }
    let mut p = count_pos;
    for _ in 0..count {
        p = listpack::prev(lp, p)?;
    }
    Some(p)
}

/// Walks an entry's field-value pairs in order (the fields from the master entry when the entry
/// has its fields). The one walk behind `fields_of` and `write_entry`.
fn for_each_pair<'a>(lp: &'a [u8], m: &Master, e: &EntryAt, mut pair: impl FnMut(Element<'a>, Element<'a>)) {
    let Some(mut p) = e.data_pos else { return };
    let mut master_field = m.fields_start;
    for i in 0..e.num_fields {
        let field = if e.same_fields() {
            let f = listpack::get(lp, master_field);
            if i + 1 < e.num_fields {
                master_field = listpack::next(lp, master_field).unwrap_or(master_field);
            }
            f
        } else {
            let f = listpack::get(lp, p);
            p = listpack::next(lp, p).unwrap_or(p);
            f
        };
        pair(field, listpack::get(lp, p));
        if let Some(np) = listpack::next(lp, p) {
            p = np;
        }
    }
}

/// The field-value pairs of an entry, as lpGet's strings.
pub fn fields_of(lp: &[u8], m: &Master, e: &EntryAt) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::with_capacity(e.num_fields.max(0) as usize);
    for_each_pair(lp, m, e, |f, v| out.push((f.to_bytes(), v.to_bytes())));
    out
}

/// An entry as XRANGE replies with it, `[id, [field, value, ...]]`, written straight from the
/// listpack into `out` (as streamReplyWithRange adds each element to the reply): the same walk as
/// `fields_of` without a copy of each string and a reply tree around them.
pub fn write_entry(lp: &[u8], m: &Master, e: &EntryAt, out: &mut Vec<u8>) {
    use crate::protocol::Reply;
    out.extend_from_slice(b"*2\r\n");
    let mut id = [0u8; 41];
    let mut ms = itoa::Buffer::new();
    let mut seq = itoa::Buffer::new();
    let (ms, seq) = (ms.format(e.id.ms).as_bytes(), seq.format(e.id.seq).as_bytes());
    let len = ms.len() + 1 + seq.len();
    id[..ms.len()].copy_from_slice(ms);
    id[ms.len()] = b'-';
    id[ms.len() + 1..len].copy_from_slice(seq);
    Reply::write_bulk(out, &id[..len]);
    if e.data_pos.is_none() {
        Reply::write_array_len(out, 0);
        return;
    }
    Reply::write_array_len(out, e.num_fields.max(0) as usize * 2);
    for_each_pair(lp, m, e, |f, v| {
        f.write_bulk(out);
        v.write_bulk(out);
    });
}

/// A new node whose master entry takes the fields of its first entry (which is not added here).
pub fn new_node<T: AsRef<[u8]>>(pairs: &[T]) -> Vec<u8> {
    let mut lp = listpack::new_empty();
    listpack::append_int(&mut lp, 0);
    listpack::append_int(&mut lp, 0);
    listpack::append_int(&mut lp, (pairs.len() / 2) as i64);
    for field in pairs.iter().step_by(2) {
        listpack::append(&mut lp, field.as_ref());
    }
    listpack::append_int(&mut lp, 0);
    lp
}

/// Whether these fields are the master's, in order.
pub fn same_as_master<T: AsRef<[u8]>>(lp: &[u8], m: &Master, pairs: &[T]) -> bool {
    if (pairs.len() / 2) as i64 != m.fields {
        return false;
    }
    let mut p = Some(m.fields_start);
    for field in pairs.iter().step_by(2) {
        let Some(at) = p else { return false };
        if !listpack::get(lp, at).eq_bytes(field.as_ref()) {
            return false;
        }
        p = listpack::next(lp, at);
    }
    true
}

/// Appends an entry to the node and counts it live (the tail of streamAppendItem).
pub fn push_entry<T: AsRef<[u8]>>(lp: &mut Vec<u8>, master_id: StreamId, id: StreamId, pairs: &[T], same_fields: bool) {
    set_counts(lp, |live, deleted| (live + 1, deleted));
    let flags = if same_fields { FLAG_SAMEFIELDS } else { FLAG_NONE };
    listpack::append_int(lp, flags);
    listpack::append_int(lp, id.ms.wrapping_sub(master_id.ms) as i64);
    listpack::append_int(lp, id.seq.wrapping_sub(master_id.seq) as i64);
    let numfields = (pairs.len() / 2) as i64;
    if !same_fields {
        listpack::append_int(lp, numfields);
    }
    for pair in pairs.chunks(2) {
        if !same_fields {
            listpack::append(lp, pair[0].as_ref());
        }
        listpack::append(lp, pair[1].as_ref());
    }
    let lp_count = if same_fields { numfields + 3 } else { numfields * 2 + 4 };
    listpack::append_int(lp, lp_count);
}

/// Rewrites the live/deleted counters of the master entry.
pub fn set_counts(lp: &mut Vec<u8>, f: impl FnOnce(i64, i64) -> (i64, i64)) {
    let Some(live_at) = listpack::first(lp) else { return };
    let live = listpack::get_int(lp, live_at);
    let deleted_at = listpack::next(lp, live_at).unwrap_or(live_at);
    let deleted = listpack::get_int(lp, deleted_at);
    let (new_live, new_deleted) = f(live, deleted);
    if new_live != live {
        listpack::replace_int(lp, live_at, new_live);
    }
    if new_deleted != deleted {
        // The live count's encoding may have changed size: find the deleted count again.
        if let Some(deleted_at) = listpack::first(lp).and_then(|p| listpack::next(lp, p)) {
            listpack::replace_int(lp, deleted_at, new_deleted);
        }
    }
}

/// Flags the entry at `flags_pos` deleted (the element keeps its one-byte size).
pub fn mark_deleted(lp: &mut Vec<u8>, flags_pos: usize, flags: i64) {
    listpack::replace_int(lp, flags_pos, flags | FLAG_DELETED);
}

/// The last entry's ID, tombstone or not (lpGetEdgeStreamID with first = 0).
pub fn last_id(lp: &[u8], master_id: StreamId) -> Option<StreamId> {
    let flags_pos = entry_start_from_count(lp, listpack::last(lp)?)?;
    let ms_at = listpack::next(lp, flags_pos)?;
    let seq_at = listpack::next(lp, ms_at)?;
    Some(id_from_deltas(master_id, listpack::get_int(lp, ms_at), listpack::get_int(lp, seq_at)))
}

/// What a validated node holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub live: u64,
    pub deleted: u64,
    pub last_id: StreamId,
}

/// Checks a node read from outside (streamValidateListpackIntegrity in deep mode, plus what the
/// walkers here rely on): a valid listpack, a master entry, each entry's element counts and
/// lp-count, the first entry at the master ID, IDs increasing, the counters matching the flags.
pub fn validate(lp: &[u8], master_id: StreamId) -> Result<Checked, String> {
    let elements = listpack::decode(lp).map_err(|e| format!("{} at byte {}", e.message, e.pos))?;
    if elements.is_empty() {
        return Err("Empty listpack inside stream".into());
    }
    let limit = elements.len() as i64;
    let mut ints = elements.iter().map(|e| e.as_int());
    let mut int = |what: &str| -> Result<i64, String> {
        ints.next()
            .ok_or_else(|| format!("stream node: missing {what}"))?
            .ok_or_else(|| format!("stream node: {what} is not an integer"))
    };
    let live = int("entry count")?;
    let deleted = int("deleted count")?;
    let master_fields = int("master field count")?;
    if !(0..=limit).contains(&live) || !(0..=limit).contains(&deleted) || !(0..=limit).contains(&master_fields) {
        return Err("stream node: impossible master entry counts".into());
    }
    // Field names are strings or integers alike; only their presence matters here.
    let skip = |n: i64, int: &mut dyn FnMut(&str) -> Result<i64, String>| -> Result<(), String> {
        for _ in 0..n {
            match int("field or value") {
                Ok(_) => {}
                Err(e) if e.ends_with("is not an integer") => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    skip(master_fields, &mut int)?;
    if int("master terminator")? != 0 {
        return Err("stream node: the master entry does not end with 0".into());
    }
    let (mut seen_live, mut seen_deleted) = (0u64, 0u64);
    let mut last: Option<StreamId> = None;
    for _ in 0..live + deleted {
        let flags = int("entry flags")?;
        let ms_delta = int("ms delta")?;
        let id = id_from_deltas(master_id, ms_delta, int("seq delta")?);
        let (fields, mut expected_count) = if flags & FLAG_SAMEFIELDS != 0 {
            (master_fields, 3)
        } else {
            let n = int("entry field count")?;
            if !(0..=limit).contains(&n) {
                return Err("stream node: impossible entry field count".into());
            }
            skip(n, &mut int)?;
            (n, 3 + n + 1)
        };
        skip(fields, &mut int)?;
        expected_count += fields;
        if int("lp-count")? != expected_count {
            return Err("stream node: wrong lp-count".into());
        }
        match last {
            None if id != master_id => return Err("stream node: the first entry is not the master ID".into()),
            Some(prev) if id <= prev => return Err("stream node: entry IDs not increasing".into()),
            _ => {}
        }
        last = Some(id);
        if flags & FLAG_DELETED != 0 {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
    }
    match int("end") {
        Err(e) if e.starts_with("stream node: missing") => {}
        _ => return Err("stream node: elements after the last entry".into()),
    }
    if seen_live != live as u64 || seen_deleted != deleted as u64 {
        return Err("stream node: live/deleted counts do not match the entries' flags".into());
    }
    let last_id = last.ok_or("stream node without entries")?;
    Ok(Checked { live: seen_live, deleted: seen_deleted, last_id })
}
