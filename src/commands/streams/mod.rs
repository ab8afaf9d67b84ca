//! The stream commands (t_stream.c): XADD and XTRIM (with their shared trimming options),
//! XRANGE/XREVRANGE/XLEN, XDEL and XSETID; XREAD and XREADGROUP (READ_TABLE). Replies, errors
//! and their order, notifications and what is propagated follow Redis 7.0.

mod add;
pub mod consumer_groups;
mod delete;
mod delivery;
mod read;
mod xread;

pub use xread::{woken_reader_has_reply, READ_TABLE};

pub use consumer_groups::GROUP_TABLE;

use bytes::Bytes;

use super::Ctx;
use crate::cmd;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::types::stream::{Entry, Range, StreamId, INVALID_ID};

pub static TABLE: &[CommandSpec] = &[
    cmd!("xadd", -5, WRITE | DENYOOM | FAST, (1, 1, 1), "stream", "5.0.0", "Appends a new entry to a stream", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", add::xadd),
    cmd!("xtrim", -4, WRITE, (1, 1, 1), "stream", "5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", add::xtrim),
    cmd!("xrange", -4, READONLY, (1, 1, 1), "stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", read::xrange),
    cmd!("xrevrange", -4, READONLY, (1, 1, 1), "stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", read::xrevrange),
    cmd!("xlen", 2, READONLY | FAST, (1, 1, 1), "stream", "5.0.0", "Return the number of entries in a stream", "O(1)", read::xlen),
    cmd!("xdel", -3, WRITE | FAST, (1, 1, 1), "stream", "5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", "O(1) for each single item to delete in the stream, regardless of the stream size.", delete::xdel),
    cmd!("xsetid", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "stream", "5.0.0", "An internal command for replicating stream values", "O(1)", delete::xsetid),
];

/// Redis compares keywords with `strcasecmp`, which stops at the first NUL byte.
fn is_word(arg: &[u8], word: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(word.as_bytes())
}

/// The argument as C code sees it: up to its first NUL byte.
fn c_str(arg: &[u8]) -> &[u8] {
    &arg[..arg.iter().position(|&c| c == 0).unwrap_or(arg.len())]
}

fn id_error(e: &'static str) -> Reply {
    debug_assert_eq!(e, INVALID_ID);
    Reply::error(e)
}

/// One entry as XRANGE and XREAD reply with it: its ID, then its fields and values flat.
fn entry_reply(e: Entry) -> Reply {
    let mut flat = Vec::with_capacity(e.fields.len() * 2);
    for (f, v) in e.fields {
        flat.push(Reply::Bulk(f));
        flat.push(Reply::Bulk(v));
    }
    Reply::Array(vec![Reply::Bulk(e.id.to_bytes()), Reply::Array(flat)])
}

/// At most `limit` entries of `range` as an array reply, encoded as they are read (no copy of each
/// field and value, no reply tree): what XRANGE, XREAD and XREADGROUP answer. Their IDs go to
/// `ids` when given.
fn entries_reply(mut range: Range, limit: usize, mut ids: Option<&mut Vec<StreamId>>) -> Reply {
    let mut body = Vec::new();
    let mut n = 0;
    while n < limit {
        let Some(id) = range.write_next(&mut body) else { break };
        if let Some(ids) = ids.as_deref_mut() {
            ids.push(id);
        }
        n += 1;
    }
    let mut out = Vec::with_capacity(body.len() + 24);
    Reply::write_array_len(&mut out, n);
    out.extend_from_slice(&body);
    Reply::Encoded(out)
}

/// The wrong-arity error Redis gives from inside a command (addReplyErrorArity).
fn arity_error(args: &[Bytes]) -> Reply {
    let name = String::from_utf8_lossy(&args[0]).to_lowercase();
    Reply::error(format!("ERR wrong number of arguments for '{name}' command"))
}

fn id_bulk(id: StreamId) -> Bytes {
    Bytes::from(id.to_bytes())
}

/// A client whose trims are exact whatever it asks (mustObeyClient): the master's link and AOF
/// replay, which carry the trims the master made, rewritten exact.
fn must_obey(ctx: &Ctx) -> bool {
    ctx.session.repl.is_master || ctx.state.loading.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_stop_at_nul() {
        assert!(is_word(b"MAXLEN\0junk", "maxlen"));
        assert!(!is_word(b"MAXLENS", "maxlen"));
    }
}
