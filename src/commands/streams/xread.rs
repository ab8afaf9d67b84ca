//! XREAD and XREADGROUP (xreadCommand): options, then each stream's key and ID, then what can be
//! served at once; otherwise the client blocks (with XREAD's `$` resolved then) until an XADD
//! gets its stream past the ID it waits for (serveClientsBlockedOnStreamKey), or its key or
//! group goes away.

use bytes::Bytes;

use super::delivery::{self, GroupRead};
use super::{c_str, entries_reply, id_bulk, id_error, is_word};
use crate::cmd;
use crate::commands::blocking::BlockKind;
use crate::commands::{errors, int_arg, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::session::SCRIPT_CLIENT_ID;
use crate::types::stream::StreamId;

/// At most this many entries for a woken client that gave no COUNT, so that a low ID does not
/// make one XADD send it a whole stream (XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

pub static READ_TABLE: &[CommandSpec] = &[
    CommandSpec {
        keys_fn: Some(stream_key_positions),
        ..cmd!("xread", -4, READONLY | BLOCKING, (0, 0, 0), "stream", "5.0.0", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.", xread)
    },
    CommandSpec {
        keys_fn: Some(stream_key_positions),
        // What it changes is the group's bookkeeping, not the key: WATCH is not touched, as in
        // Redis (no signalModifiedKey).
        write_keys: Some((0, 0, 0)),
        ..cmd!("xreadgroup", -7, WRITE | BLOCKING, (0, 0, 0), "stream", "5.0.0", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.", xreadgroup)
    },
];

/// The keys: those after STREAMS, half of what follows it (xreadGetKeys).
fn stream_key_positions(args: &[Bytes]) -> Vec<usize> {
    let mut i = 1;
    let mut streams_at = None;
    while i < args.len() {
        let a = &args[i];
        if is_word(a, "block") || is_word(a, "count") {
            i += 1;
        } else if is_word(a, "group") {
            i += 2;
        } else if is_word(a, "noack") {
        } else if is_word(a, "streams") {
            streams_at = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(at) = streams_at else { return Vec::new() };
    let num = args.len() - at - 1;
    if num == 0 || num % 2 != 0 {
        return Vec::new();
    }
    (at + 1..at + 1 + num / 2).collect()
}

/// The options before STREAMS.
struct Options {
    /// BLOCK's deadline in unix ms (0 waits forever); None without BLOCK.
    deadline_ms: Option<u64>,
    /// 0 for no limit.
    count: usize,
    /// Index of the first key.
    streams_at: usize,
    /// How many streams.
    n: usize,
    group: Option<(Bytes, Bytes)>,
    noack: bool,
}

impl Options {
    fn keys<'a>(&self, args: &'a [Bytes]) -> &'a [Bytes] {
        &args[self.streams_at..self.streams_at + self.n]
    }

    fn id_args<'a>(&self, args: &'a [Bytes]) -> &'a [Bytes] {
        &args[self.streams_at + self.n..]
    }
}

fn parse_options(args: &[Bytes], readgroup: bool, in_script: bool, now_ms: u64) -> Result<Options, Reply> {
    let mut o = Options { deadline_ms: None, count: 0, streams_at: 0, n: 0, group: None, noack: false };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let a = &args[i];
        if is_word(a, "block") && more > 0 {
            if in_script {
                let name = String::from_utf8_lossy(c_str(&args[0])).into_owned();
                return Err(Reply::error(format!("ERR {name} command is not allowed with BLOCK option from scripts")));
            }
            i += 1;
            o.deadline_ms = Some(ms_timeout(now_ms, &args[i])?);
        } else if is_word(a, "count") && more > 0 {
            i += 1;
            o.count = int_arg(&args[i])?.max(0) as usize;
        } else if is_word(a, "streams") && more > 0 {
            o.streams_at = i + 1;
            let rest = args.len() - o.streams_at;
            if rest % 2 != 0 {
                return Err(Reply::error(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            o.n = rest / 2;
            break;
        } else if is_word(a, "group") && more >= 2 {
            if !readgroup {
                return Err(Reply::error(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            o.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if is_word(a, "noack") {
            if !readgroup {
                return Err(Reply::error(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            o.noack = true;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
        i += 1;
    }
    if o.streams_at == 0 {
        return Err(Reply::error(errors::SYNTAX));
    }
    if readgroup && o.group.is_none() {
        return Err(Reply::error("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(o)
}

/// BLOCK's milliseconds as an absolute deadline (getTimeoutFromObjectOrReply, UNIT_MILLISECONDS).
fn ms_timeout(now_ms: u64, arg: &[u8]) -> Result<u64, Reply> {
    let ms = crate::util::numbers::parse_i64(arg)
        .ok_or_else(|| Reply::error("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(Reply::error("ERR timeout is negative"));
    }
    Ok(if ms == 0 { 0 } else { now_ms.saturating_add(ms as u64) })
}

/// XREADGROUP's `>`: the largest ID stands for it, as in Redis (an explicit largest ID means the
/// same).
const NEW_ENTRIES: StreamId = StreamId::MAX;

pub(super) fn xread(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    read_generic(ctx, args, false)
}

pub(super) fn xreadgroup(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    read_generic(ctx, args, true)
}

fn read_generic(ctx: &mut Ctx, args: &[Bytes], readgroup: bool) -> Reply {
    if readgroup {
        // What a group read changes is propagated as XCLAIM and XGROUP commands, never as itself.
        ctx.session.propagate_as.get_or_insert_with(Vec::new);
    }
    if let Some(w) = ctx.session.woken_by.take() {
        let o = tri!(parse_options(&w.args, readgroup, false, ctx.now_ms));
        return serve_woken(ctx, &w.args, &o, &w.key);
    }
    let in_script = ctx.session.id == SCRIPT_CLIENT_ID;
    let o = tri!(parse_options(args, readgroup, in_script, ctx.now_ms));
    let mut ids = Vec::with_capacity(o.n);
    for (key, id_arg) in o.keys(args).iter().zip(o.id_args(args)) {
        let s = tri!(ctx.read_typed(key, Value::as_stream));
        if let Some((group, _)) = &o.group {
            if s.is_none_or(|s| s.group(group).is_none()) {
                return Reply::error(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(c_str(key)),
                    String::from_utf8_lossy(c_str(group)),
                ));
            }
        }
        let id = match c_str(id_arg) {
            b"$" if readgroup => {
                return Reply::error(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                )
            }
            b"$" => s.map_or(StreamId::MIN, |s| s.last_id()),
            b">" if !readgroup => {
                return Reply::error(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                )
            }
            b">" => NEW_ENTRIES,
            _ => tri!(StreamId::parse_strict(id_arg, 0).map_err(id_error)),
        };
        ids.push(id);
    }

    let mut served = Vec::new();
    for (i, key) in o.keys(args).iter().enumerate() {
        let Some(s) = ctx.lookup_read(key).and_then(|e| e.value().as_stream()) else { continue };
        let mut gt = ids[i];
        let mut history = false;
        let serve = match &o.group {
            Some((group, _)) if gt != NEW_ENTRIES => {
                history = true;
                s.group(group).is_some()
            }
            Some((group, _)) => match s.group(group) {
                Some(g) if !s.is_empty() && s.last_valid_id() > g.last_id => {
                    gt = g.last_id;
                    true
                }
                _ => false,
            },
            None => !s.is_empty() && s.last_valid_id() > gt,
        };
        if !serve {
            continue;
        }
        // The range is inclusive: it starts after the ID given.
        let start = gt.incr().unwrap_or(StreamId::MIN);
        let entries = match &o.group {
            Some((group, consumer)) => {
                let read = GroupRead { key, group, consumer, noack: o.noack };
                let r = if history {
                    delivery::history(ctx, &read, start, o.count)
                } else {
                    delivery::new_entries(ctx, &read, start, o.count)
                };
                ctx.dirty(1);
                r
            }
            None => plain_entries(ctx, key, start, o.count),
        };
        served.push((Reply::Bulk(key.to_vec()), entries));
    }
    if !served.is_empty() {
        return per_stream_reply(ctx, served);
    }
    let Some(deadline) = o.deadline_ms else { return Reply::NilArray };
    // Once blocked, XREAD waits for what comes after the IDs as they are now: `$` is the last ID
    // its stream had (0-0 for a missing key).
    let mut resolved = args.to_vec();
    if !readgroup {
        for (i, id) in ids.iter().enumerate() {
            resolved[o.streams_at + o.n + i] = id_bulk(*id);
        }
    }
    let keys = o.keys(args).to_vec();
    ctx.block_as(keys, deadline, BlockKind::Stream, Reply::NilArray, Some(resolved))
}

/// A plain XREAD's entries after `start`.
fn plain_entries(ctx: &mut Ctx, key: &[u8], start: StreamId, count: usize) -> Reply {
    let db = ctx.session.db;
    let Some(s) = ctx.state.dbs[db].get_raw(key).and_then(|e| e.value().as_stream()) else {
        return Reply::Array(Vec::new());
    };
    let limit = if count == 0 { usize::MAX } else { count };
    entries_reply(s.range(start, StreamId::MAX, false), limit, None)
}

/// The reply: each stream served with its entries, an array of pairs in RESP2, a map in RESP3.
fn per_stream_reply(ctx: &Ctx, served: Vec<(Reply, Reply)>) -> Reply {
    if ctx.session.resp >= 3 {
        Reply::Map(served)
    } else {
        Reply::Array(served.into_iter().map(|(k, v)| Reply::Array(vec![k, v])).collect())
    }
}

/// What a blocked reader gets now that `key` is ready.
enum Woken {
    /// Nothing for it yet: it keeps waiting, in its place.
    Waits,
    /// Its wait cannot be served any more.
    Fails(Reply),
    /// New entries after this ID.
    Served(StreamId),
}

/// Whether a blocked XREAD/XREADGROUP waiting on `key` in `db` is answered now that the key is
/// ready: its stream's last ID got past the one it waits for (its group's for XREADGROUP), or
/// (XREADGROUP) its key is no longer a stream or its group is gone.
pub fn woken_reader_has_reply(ctx: &mut Ctx, db: usize, key: &[u8], args: &[Bytes]) -> bool {
    !matches!(woken(ctx, db, key, args), Woken::Waits)
}

fn woken(ctx: &mut Ctx, db: usize, key: &[u8], args: &[Bytes]) -> Woken {
    let readgroup = args.first().is_some_and(|a| a.len() == "xreadgroup".len());
    let Ok(o) = parse_options(args, readgroup, false, 0) else { return Woken::Waits };
    let Some(i) = o.keys(args).iter().position(|k| k.as_ref() == key) else { return Woken::Waits };
    ctx.expire_if_needed(db, key);
    let s = match ctx.state.dbs[db].get_raw(key).map(|e| e.value()) {
        Some(Value::Stream(s)) => s,
        _ if o.group.is_some() => return Woken::Fails(Reply::error("UNBLOCKED the stream key no longer exists")),
        _ => return Woken::Waits,
    };
    let gt = match &o.group {
        Some((group, _)) => match s.group(group) {
            Some(g) => g.last_id,
            None => {
                return Woken::Fails(Reply::error(
                    "NOGROUP the consumer group this client was blocked on no longer exists",
                ))
            }
        },
        None => match StreamId::parse_strict(&o.id_args(args)[i], 0) {
            Ok(id) => id,
            Err(_) => return Woken::Waits,
        },
    };
    // The last ID, not the last entry's: an XADD whose own trim left nothing new still answers.
    if s.last_id() > gt {
        Woken::Served(gt)
    } else {
        Woken::Waits
    }
}

/// A woken reader's reply, from `key` alone.
fn serve_woken(ctx: &mut Ctx, args: &[Bytes], o: &Options, key: &Bytes) -> Reply {
    let db = ctx.session.db;
    let gt = match woken(ctx, db, key, args) {
        Woken::Served(gt) => gt,
        Woken::Fails(e) => return e,
        // Nothing changed since it was found ready; should that ever be, it waits on.
        Woken::Waits => {
            let keys = o.keys(args).to_vec();
            return ctx.block_as(keys, 0, BlockKind::Stream, Reply::NilArray, Some(args.to_vec()));
        }
    };
    let start = gt.incr().unwrap_or(StreamId::MIN);
    let count = if o.count == 0 { BLOCKED_DEFAULT_COUNT } else { o.count };
    let entries = match &o.group {
        Some((group, consumer)) => {
            ctx.force_propagation();
            delivery::new_entries(ctx, &GroupRead { key, group, consumer, noack: o.noack }, start, count)
        }
        None => plain_entries(ctx, key, start, count),
    };
    per_stream_reply(ctx, vec![(Reply::Bulk(key.to_vec()), entries)])
}
