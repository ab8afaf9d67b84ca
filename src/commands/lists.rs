//! The list commands: pushes and pops at both ends (with counts, over several keys, moving between
//! lists), index and range access, LINSERT/LREM/LSET/LTRIM/LPOS, and the blocking BLPOP, BRPOP,
//! BLMOVE, BRPOPLPUSH and BLMPOP. Replies, errors, the order in which arguments and keys are checked,
//! keyspace notifications and dirty counts follow Redis 7.0 (t_list.c).

use bytes::Bytes;

use super::blocking::{timeout_arg, BlockKind};
use super::notify;
use super::{errors, int_arg, Ctx};
use crate::cmd;
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::propagation::argv;
use crate::types::list::End;
use crate::types::List;
use crate::util::numbers::parse_i64;

/// For the pops over several keys: Redis marks only the key it popped from as modified (WATCH),
/// which the handler does itself (`elements_removed`), so the table names no written keys.
const POPPED_KEY_ONLY: Option<(i32, i32, i32)> = Some((0, 0, 0));

pub static TABLE: &[CommandSpec] = &[
    cmd!("lpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", "1.0.0", "Prepend one or multiple elements to a list", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", lpush),
    cmd!("rpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", "1.0.0", "Append one or multiple elements to a list", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", rpush),
    cmd!("lpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", "2.2.0", "Prepend an element to a list, only if the list exists", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", lpushx),
    cmd!("rpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", "2.2.0", "Append an element to a list, only if the list exists", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", rpushx),
    cmd!("lpop", -2, WRITE | FAST, (1, 1, 1), "list", "1.0.0", "Remove and get the first elements in a list", "O(N) where N is the number of elements returned", lpop),
    cmd!("rpop", -2, WRITE | FAST, (1, 1, 1), "list", "1.0.0", "Remove and get the last elements in a list", "O(N) where N is the number of elements returned", rpop),
    cmd!("llen", 2, READONLY | FAST, (1, 1, 1), "list", "1.0.0", "Get the length of a list", "O(1)", llen),
    cmd!("lindex", 3, READONLY, (1, 1, 1), "list", "1.0.0", "Get an element from a list by its index", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", lindex),
    cmd!("linsert", 5, WRITE | DENYOOM, (1, 1, 1), "list", "2.2.0", "Insert an element before or after another element in a list", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", linsert),
    cmd!("lrange", 4, READONLY, (1, 1, 1), "list", "1.0.0", "Get a range of elements from a list", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", lrange),
    cmd!("lrem", 4, WRITE, (1, 1, 1), "list", "1.0.0", "Remove elements from a list", "O(N+M) where N is the length of the list and M is the number of elements removed.", lrem),
    cmd!("lset", 4, WRITE | DENYOOM, (1, 1, 1), "list", "1.0.0", "Set the value of an element in a list by its index", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", lset),
    cmd!("ltrim", 4, WRITE, (1, 1, 1), "list", "1.0.0", "Trim a list to the specified range", "O(N) where N is the number of elements to be removed by the operation.", ltrim),
    cmd!("lpos", -3, READONLY, (1, 1, 1), "list", "6.0.6", "Return the index of matching elements on a list", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", lpos),
    cmd!("lmove", 5, WRITE | DENYOOM, (1, 2, 1), "list", "6.2.0", "Pop an element from a list, push it to another list and return it", "O(1)", lmove),
    cmd!("rpoplpush", 3, WRITE | DENYOOM, (1, 2, 1), "list", "1.2.0", "Remove the last element in a list, prepend it to another list and return it", "O(1)", rpoplpush),
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 1)),
        write_keys: POPPED_KEY_ONLY,
        ..cmd!("lmpop", -4, WRITE, (0, 0, 0), "list", "7.0.0", "Pop elements from a list", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", lmpop)
    },
    CommandSpec {
        write_keys: POPPED_KEY_ONLY,
        ..cmd!("blpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), "list", "2.0.0", "Remove and get the first element in a list, or block until one is available", "O(N) where N is the number of provided keys.", blpop)
    },
    CommandSpec {
        write_keys: POPPED_KEY_ONLY,
        ..cmd!("brpop", -3, WRITE | NOSCRIPT | BLOCKING, (1, -2, 1), "list", "2.0.0", "Remove and get the last element in a list, or block until one is available", "O(N) where N is the number of provided keys.", brpop)
    },
    cmd!("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, (1, 2, 1), "list", "6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)", blmove),
    cmd!("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, (1, 2, 1), "list", "2.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)", brpoplpush),
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 2)),
        write_keys: POPPED_KEY_ONLY,
        ..cmd!("blmpop", -5, WRITE | BLOCKING, (0, 0, 0), "list", "7.0.0", "Pop elements from a list, or block until one is available", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", blmpop)
    },
];

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

/// Redis compares keywords with `strcasecmp`, which stops at the first NUL byte.
fn is_word(arg: &[u8], word: &str) -> bool {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(word.as_bytes())
}

/// LEFT or RIGHT (getListPositionFromObjectOrReply).
fn end_arg(arg: &[u8]) -> Result<End, Reply> {
    if is_word(arg, "right") {
        Ok(End::Back)
    } else if is_word(arg, "left") {
        Ok(End::Front)
    } else {
        Err(Reply::error(errors::SYNTAX))
    }
}

/// An integer in `min..=i64::MAX`, else `msg` (getRangeLongFromObjectOrReply with a message: the
/// same message for a non-integer and for one out of range).
fn ranged_arg(arg: &[u8], min: i64, msg: &'static str) -> Result<i64, Reply> {
    match parse_i64(arg) {
        Some(n) if n >= min => Ok(n),
        _ => Err(Reply::error(msg)),
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Front => "lpop",
        End::Back => "rpop",
    }
}

fn push_event(end: End) -> &'static str {
    match end {
        End::Front => "lpush",
        End::Back => "rpush",
    }
}

fn bulk_of(element: &[u8]) -> Reply {
    Reply::Bulk(element.to_vec())
}

/// Removes `n` elements (at most the whole list) from `end` and returns them as an array reply, in
/// the order they were popped (from the tail backwards for `Back`).
fn pop_many(list: &mut List, end: End, n: usize) -> Reply {
    let n = n.min(list.len());
    let popped = match end {
        End::Front => Reply::bulk_array(list.iter().take(n)),
        End::Back => Reply::bulk_array(list.iter().rev().take(n)),
    };
    list.truncate_end(end, n);
    popped
}

/// What follows every pop (listElementsRemoved): the key marked modified for WATCH (the only key
/// the multi-key pops mark, see POPPED_KEY_ONLY), the pop event, the key's deletion if the list
/// emptied, and one dirty change per element.
fn elements_removed(ctx: &mut Ctx, key: &[u8], end: End, count: usize) {
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, pop_event(end), key);
    ctx.delete_if_empty(key);
    ctx.dirty(count as u64);
}

/// Stores a new list under `key` (after a write lookup found none).
fn create_list(ctx: &mut Ctx, key: &[u8], list: List) {
    ctx.db().set(key, Value::List(Box::new(list)), Ttl::Keep);
}

/// A count (already known to be in 0..=i64::MAX) limited to what the list holds.
fn at_most(count: u64, list: &List) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX).min(list.len())
}

// ---------------------------------------------------------------------------
// Pushes and pops
// ---------------------------------------------------------------------------

fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Front, false)
}

fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Back, false)
}

fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Front, true)
}

fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, End::Back, true)
}

/// LPUSH/RPUSH, and with `only_existing` LPUSHX/RPUSHX.
fn push_generic(ctx: &mut Ctx, args: &[Bytes], end: End, only_existing: bool) -> Reply {
    let key = &args[1];
    let elements = &args[2..];
    let len = match tri!(ctx.write_typed(key, Value::as_list_mut)) {
        Some(list) => {
            for e in elements {
                list.push(end, e);
            }
            list.len()
        }
        None if only_existing => return Reply::Int(0),
        None => {
            let mut list = List::new();
            for e in elements {
                list.push(end, e);
            }
            let len = list.len();
            create_list(ctx, key, list);
            len
        }
    };
    ctx.dirty(elements.len() as u64);
    ctx.notify(notify::LIST, push_event(end), key);
    Reply::Int(len as i64)
}

fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, End::Front)
}

fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, End::Back)
}

/// LPOP/RPOP key [count]: one element as a bulk string, or with a count an array of up to that
/// many (an empty array for 0, a null array for a missing key).
fn pop_generic(ctx: &mut Ctx, args: &[Bytes], end: End) -> Reply {
    if args.len() > 3 {
        let name = if end == End::Front { "lpop" } else { "rpop" };
        return Reply::error(format!("ERR wrong number of arguments for '{name}' command"));
    }
    let count = match args.get(2) {
        Some(arg) => Some(tri!(ranged_arg(arg, 0, NOT_POSITIVE)) as u64),
        None => None,
    };
    let key = &args[1];
    let Some(list) = tri!(ctx.write_typed(key, Value::as_list_mut)) else {
        return if count.is_some() { Reply::NilArray } else { Reply::Nil };
    };
    let (reply, popped) = match count {
        Some(0) => return Reply::Array(Vec::new()),
        Some(n) => {
            let n = at_most(n, list);
            (pop_many(list, end, n), n)
        }
        None => match list.pop(end) {
            Some(item) => (bulk_of(&item), 1),
            None => return Reply::Nil,
        },
    };
    elements_removed(ctx, key, end, popped);
    reply
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

fn llen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(ctx.read_typed(&args[1], Value::as_list)) {
        Some(list) => Reply::Int(list.len() as i64),
        None => Reply::Int(0),
    }
}

fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // The key is looked up before the index is parsed: a missing key answers nil whatever the index.
    let Some(list) = tri!(ctx.read_typed(&args[1], Value::as_list)) else { return Reply::Nil };
    let index = tri!(int_arg(&args[2]));
    match list.resolve_index(index).and_then(|i| list.get(i)) {
        Some(e) => bulk_of(e),
        None => Reply::Nil,
    }
}

fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = tri!(int_arg(&args[2]));
    let end = tri!(int_arg(&args[3]));
    let Some(list) = tri!(ctx.read_typed(&args[1], Value::as_list)) else { return Reply::Array(Vec::new()) };
    match super::index_range(list.len(), start, end) {
        Some((from, to)) => Reply::bulk_array(list.range(from, to)),
        None => Reply::Array(Vec::new()),
    }
}

/// LPOS's options, parsed before the key is looked up.
struct LposOptions {
    /// Which match is the first one reported (1-based), counting from the tail when negative.
    rank: i64,
    /// None: no COUNT, the reply is one index (or nil). Some(0): all matches.
    count: Option<i64>,
    /// Elements compared at most; 0 for all.
    maxlen: i64,
}

fn lpos_options(args: &[Bytes]) -> Result<LposOptions, Reply> {
    let mut opts = LposOptions { rank: 1, count: None, maxlen: 0 };
    let mut j = 3;
    while j < args.len() {
        let has_value = j + 1 < args.len();
        let opt = &args[j];
        if is_word(opt, "RANK") && has_value {
            j += 1;
            opts.rank = int_arg(&args[j])?;
            if opts.rank == 0 {
                return Err(Reply::error(RANK_ZERO));
            }
        } else if is_word(opt, "COUNT") && has_value {
            j += 1;
            opts.count = Some(ranged_arg(&args[j], 0, "ERR COUNT can't be negative")?);
        } else if is_word(opt, "MAXLEN") && has_value {
            j += 1;
            opts.maxlen = ranged_arg(&args[j], 0, "ERR MAXLEN can't be negative")?;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
        j += 1;
    }
    Ok(opts)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = tri!(lpos_options(args));
    let element = &args[2][..];
    let Some(list) = tri!(ctx.read_typed(&args[1], Value::as_list)) else {
        return if opts.count.is_some() { Reply::Array(Vec::new()) } else { Reply::Nil };
    };
    let from_tail = opts.rank < 0;
    // Redis negates the rank in a C long: RANK -9223372036854775808 stays negative, so every
    // match qualifies and a COUNT is never reached. Wrapping arithmetic keeps that behaviour.
    let rank = if from_tail { opts.rank.wrapping_neg() } else { opts.rank };
    let len = list.len();
    let scan_limit = if opts.maxlen == 0 { len } else { len.min(opts.maxlen as usize) };
    let mut matches: i64 = 0;
    let mut found = Vec::new();
    for step in 0..scan_limit {
        let index = if from_tail { len - 1 - step } else { step };
        if list.get(index) != Some(element) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        let Some(count) = opts.count else { return Reply::Int(index as i64) };
        found.push(Reply::Int(index as i64));
        if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
            break;
        }
    }
    match opts.count {
        Some(_) => Reply::Array(found),
        None => Reply::Nil,
    }
}

// ---------------------------------------------------------------------------
// Edits
// ---------------------------------------------------------------------------

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let after = if is_word(&args[2], "after") {
        true
    } else if is_word(&args[2], "before") {
        false
    } else {
        return Reply::error(errors::SYNTAX);
    };
    let key = &args[1];
    let Some(list) = tri!(ctx.write_typed(key, Value::as_list_mut)) else { return Reply::Int(0) };
    let Some(pivot) = list.position(&args[3]) else { return Reply::Int(-1) };
    list.insert(if after { pivot + 1 } else { pivot }, &args[4]);
    let len = list.len();
    ctx.notify(notify::LIST, "linsert", key);
    ctx.dirty(1);
    Reply::Int(len as i64)
}

/// LSET key index element
fn lset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(list) = tri!(ctx.write_typed(key, Value::as_list_mut)) else {
        return Reply::error(errors::NO_SUCH_KEY);
    };
    let index = tri!(int_arg(&args[2]));
    let replaced = list.resolve_index(index).is_some_and(|i| list.set(i, &args[3]));
    if !replaced {
        return Reply::error(errors::OUT_OF_RANGE);
    }
    ctx.notify(notify::LIST, "lset", key);
    ctx.dirty(1);
    Reply::OK
}

/// LREM key count element: count > 0 removes from the head, < 0 from the tail, 0 all.
fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let count = tri!(int_arg(&args[2]));
    let key = &args[1];
    let Some(list) = tri!(ctx.write_typed(key, Value::as_list_mut)) else { return Reply::Int(0) };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = list.remove_matching(&args[3], limit, count < 0);
    if removed > 0 {
        ctx.notify(notify::LIST, "lrem", key);
    }
    ctx.delete_if_empty(key);
    ctx.dirty(removed as u64);
    Reply::Int(removed as i64)
}

/// LTRIM key start stop. The `ltrim` event is sent even when nothing was removed, as in Redis.
fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = tri!(int_arg(&args[2]));
    let end = tri!(int_arg(&args[3]));
    let key = &args[1];
    let Some(list) = tri!(ctx.write_typed(key, Value::as_list_mut)) else { return Reply::OK };
    let len = list.len();
    let (from_head, from_tail) = match super::index_range(len, start, end) {
        Some((from, to)) => (from, len - 1 - to),
        None => (len, 0),
    };
    list.truncate_end(End::Front, from_head);
    list.truncate_end(End::Back, from_tail);
    // Redis marks the key modified (WATCH) even when nothing was trimmed and dirty is unchanged.
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, "ltrim", key);
    ctx.delete_if_empty(key);
    ctx.dirty((from_head + from_tail) as u64);
    Reply::OK
}

// ---------------------------------------------------------------------------
// Moves between lists
// ---------------------------------------------------------------------------

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let from = tri!(end_arg(&args[3]));
    let to = tri!(end_arg(&args[4]));
    lmove_generic(ctx, &args[1], &args[2], from, to)
}

fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    lmove_generic(ctx, &args[1], &args[2], End::Back, End::Front)
}

/// Pops from `source` and pushes onto `destination` (possibly the same list). The destination's
/// type is checked before anything is popped. Redis notifies the push on the destination first,
/// then the pop on the source (and its deletion if it emptied).
fn lmove_generic(ctx: &mut Ctx, source: &[u8], destination: &[u8], from: End, to: End) -> Reply {
    if tri!(ctx.write_typed(source, Value::as_list_mut)).is_none() {
        return Reply::Nil;
    }
    tri!(ctx.write_typed(destination, Value::as_list_mut));
    let Some(item) = list_mut(ctx, source).and_then(|l| l.pop(from)) else { return Reply::Nil };
    let reply = bulk_of(&item);
    match list_mut(ctx, destination) {
        Some(list) => list.push_item(to, item),
        None => {
            let mut list = List::new();
            list.push_item(to, item);
            create_list(ctx, destination, list);
        }
    }
    ctx.notify(notify::LIST, push_event(to), destination);
    ctx.notify(notify::LIST, pop_event(from), source);
    ctx.delete_if_empty(source);
    ctx.dirty(1);
    reply
}

/// The list at `key`, already looked up (expired or not, type-checked) by this command.
fn list_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut List> {
    ctx.db().get_mut(key).and_then(|e| e.value_mut().as_list_mut())
}

// ---------------------------------------------------------------------------
// LMPOP and the blocking pops
// ---------------------------------------------------------------------------

/// LMPOP/BLMPOP's arguments from numkeys on.
struct MpopArgs {
    /// Positions of the keys in the argument vector.
    keys: std::ops::Range<usize>,
    end: End,
    count: u64,
}

/// Parses `numkeys key... LEFT|RIGHT [COUNT count]` starting at `numkeys_at`, in Redis's order.
fn mpop_args(args: &[Bytes], numkeys_at: usize) -> Result<MpopArgs, Reply> {
    let numkeys = ranged_arg(&args[numkeys_at], 1, "ERR numkeys should be greater than 0")?;
    let first_key = numkeys_at + 1;
    let where_at = match usize::try_from(numkeys).ok().and_then(|n| first_key.checked_add(n)) {
        Some(at) if at < args.len() => at,
        _ => return Err(Reply::error(errors::SYNTAX)),
    };
    let end = end_arg(&args[where_at])?;
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && is_word(&args[j], "COUNT") && j + 1 < args.len() {
            j += 1;
            count = Some(ranged_arg(&args[j], 1, "ERR count should be greater than 0")? as u64);
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
        j += 1;
    }
    Ok(MpopArgs { keys: first_key..where_at, end, count: count.unwrap_or(1) })
}

/// Pops from the first non-empty list of `keys`: Some([key, [elements]]), or the WRONGTYPE error
/// of a key of another type met first; None when every key is missing.
fn mpop_first(ctx: &mut Ctx, keys: &[Bytes], end: End, count: u64) -> Option<Reply> {
    for key in keys {
        let list = match ctx.write_typed(key, Value::as_list_mut) {
            Err(e) => return Some(e),
            Ok(Some(list)) if !list.is_empty() => list,
            Ok(_) => continue,
        };
        let n = at_most(count, list);
        let items = pop_many(list, end, n);
        elements_removed(ctx, key, end, n);
        // Replayed as the pop from the key that had elements (the others may differ by then).
        ctx.propagate_as(|| argv(&[pop_name(end), key, n.to_string().as_bytes()]));
        return Some(Reply::Array(vec![bulk_of(key), items]));
    }
    None
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let parsed = tri!(mpop_args(args, 1));
    mpop_first(ctx, &args[parsed.keys], parsed.end, parsed.count).unwrap_or(Reply::NilArray)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the timeout is checked after the
/// other arguments, as in Redis.
fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let parsed = tri!(mpop_args(args, 2));
    let deadline = tri!(timeout_arg(ctx.now_ms, &args[1]));
    let keys = &args[parsed.keys];
    match mpop_first(ctx, keys, parsed.end, parsed.count) {
        Some(reply) => reply,
        None => ctx.block(keys.to_vec(), deadline, BlockKind::List, Reply::NilArray),
    }
}

fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, End::Front)
}

fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, End::Back)
}

/// BLPOP/BRPOP key [key ...] timeout: [key, element] from the first non-empty list.
fn blocking_pop(ctx: &mut Ctx, args: &[Bytes], end: End) -> Reply {
    let deadline = tri!(timeout_arg(ctx.now_ms, &args[args.len() - 1]));
    let keys = &args[1..args.len() - 1];
    for key in keys {
        let Some(list) = tri!(ctx.write_typed(key, Value::as_list_mut)) else { continue };
        let Some(item) = list.pop(end) else { continue };
        elements_removed(ctx, key, end, 1);
        // Replayed without blocking: a replay must never wait.
        ctx.propagate_as(|| argv(&[pop_name(end), key]));
        return Reply::Array(vec![bulk_of(key), bulk_of(&item)]);
    }
    ctx.block(keys.to_vec(), deadline, BlockKind::List, Reply::NilArray)
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let from = tri!(end_arg(&args[3]));
    let to = tri!(end_arg(&args[4]));
    let deadline = tri!(timeout_arg(ctx.now_ms, &args[5]));
    blocking_move(ctx, args, from, to, deadline)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let deadline = tri!(timeout_arg(ctx.now_ms, &args[3]));
    blocking_move(ctx, args, End::Back, End::Front, deadline)
}

/// Moves at once if the source has elements, else waits on the source alone.
fn blocking_move(ctx: &mut Ctx, args: &[Bytes], from: End, to: End, deadline: u64) -> Reply {
    let (source, destination) = (&args[1], &args[2]);
    if tri!(ctx.write_typed(source, Value::as_list_mut)).is_none() {
        return ctx.block(vec![source.clone()], deadline, BlockKind::List, Reply::Nil);
    }
    let reply = lmove_generic(ctx, source, destination, from, to);
    // Replayed without blocking: a replay must never wait.
    if args[0].eq_ignore_ascii_case(b"brpoplpush") {
        ctx.propagate_as(|| argv(&[b"RPOPLPUSH", source, destination]));
    } else {
        ctx.propagate_as(|| argv(&[b"LMOVE", source, destination, &args[3], &args[4]]));
    }
    reply
}

/// The non-blocking pop a blocking one is replayed as.
fn pop_name(end: End) -> &'static [u8] {
    match end {
        End::Front => b"LPOP",
        End::Back => b"RPOP",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_ranges_like_redis() {
        assert_eq!(crate::commands::index_range(5, 0, -1), Some((0, 4)));
        assert_eq!(crate::commands::index_range(5, -100, 100), Some((0, 4)));
        assert_eq!(crate::commands::index_range(5, 3, 1), None);
        assert_eq!(crate::commands::index_range(5, 5, 10), None);
        assert_eq!(crate::commands::index_range(5, -2, -1), Some((3, 4)));
        assert_eq!(crate::commands::index_range(5, 0, -6), None);
        assert_eq!(crate::commands::index_range(5, i64::MIN, i64::MAX), Some((0, 4)));
        assert_eq!(crate::commands::index_range(0, 0, -1), None);
    }

    #[test]
    fn keywords_stop_at_nul_like_strcasecmp() {
        assert!(is_word(b"LeFt", "left"));
        assert!(is_word(b"left\0junk", "left"));
        assert!(!is_word(b"lef", "left"));
        assert_eq!(end_arg(b"RIGHT").ok(), Some(End::Back));
        assert!(end_arg(b"middle").is_err());
    }

    #[test]
    fn mpop_arguments_in_redis_order() {
        let args = |s: &str| -> Vec<Bytes> { s.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect() };
        let p = mpop_args(&args("lmpop 2 a b left count 3"), 1).ok().unwrap();
        assert_eq!((p.keys, p.end, p.count), (2..4, End::Front, 3));
        assert!(mpop_args(&args("lmpop 9223372036854775807 a left"), 1).is_err());
        assert!(mpop_args(&args("lmpop 1 a left count 1 count 1"), 1).is_err());
    }
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;
    use crate::protocol::Reply;

    #[test]
    fn list_commands() {
        Harness::new().check(&[
            ("RPUSH l a b c", ":3\r\n"),
            ("LPUSH l z", ":4\r\n"),
            ("LRANGE l 0 -1", "*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("LRANGE l -100 100", "*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("LRANGE l 5 1", "*0\r\n"),
            ("LINDEX l -1", "$1\r\nc\r\n"),
            ("LINDEX l 10", "$-1\r\n"),
            ("LINDEX l x", "-ERR value is not an integer or out of range\r\n"),
            ("LLEN l", ":4\r\n"),
            ("LLEN nokey", ":0\r\n"),
            ("LPOP l 2", "*2\r\n$1\r\nz\r\n$1\r\na\r\n"),
            ("RPOP l 0", "*0\r\n"),
            ("LPOP nokey 2", "*-1\r\n"),
            ("LPOP l -1", "-ERR value is out of range, must be positive\r\n"),
            ("LSET l 5 q", "-ERR index out of range\r\n"),
            ("LSET nokey 0 q", "-ERR no such key\r\n"),
            ("LSET l 0 q", "+OK\r\n"),
            ("LINSERT l BEFORE c n", ":3\r\n"),
            ("LINSERT l AFTER zz n", ":-1\r\n"),
            ("LINSERT l MIDDLE c n", "-ERR syntax error\r\n"),
            ("LINSERT nokey BEFORE c n", ":0\r\n"),
            ("RPUSH l c c", ":5\r\n"),
            ("LREM l -2 c", ":2\r\n"),
            ("LRANGE l 0 -1", "*3\r\n$1\r\nq\r\n$1\r\nn\r\n$1\r\nc\r\n"),
            ("LPOS l c", ":2\r\n"),
            ("LPOS l c RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"),
            ("LPOS l n COUNT 0", "*1\r\n:1\r\n"),
            ("LPOS l n MAXLEN -1", "-ERR MAXLEN can't be negative\r\n"),
            ("LTRIM l 1 0", "+OK\r\n"),
            ("EXISTS l", ":0\r\n"),
            ("RPUSHX l a", ":0\r\n"),
            ("LPUSHX nokey a", ":0\r\n"),
            ("SET s x", "+OK\r\n"),
            ("LPUSH s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ]);
    }

    #[test]
    fn moves_and_multi_pops() {
        Harness::new().check(&[
            ("LMOVE nokey l LEFT RIGHT", "$-1\r\n"),
            ("RPUSH src 1 2 3", ":3\r\n"),
            ("LMOVE src dst LEFT RIGHT", "$1\r\n1\r\n"),
            ("RPOPLPUSH src dst", "$1\r\n3\r\n"),
            ("LRANGE dst 0 -1", "*2\r\n$1\r\n3\r\n$1\r\n1\r\n"),
            ("LMOVE src src RIGHT LEFT", "$1\r\n2\r\n"),
            ("LRANGE src 0 -1", "*1\r\n$1\r\n2\r\n"),
            ("LMOVE src dst UP DOWN", "-ERR syntax error\r\n"),
            ("LMPOP 2 nokey src LEFT COUNT 5", "*2\r\n$3\r\nsrc\r\n*1\r\n$1\r\n2\r\n"),
            ("LMPOP 0 src LEFT", "-ERR numkeys should be greater than 0\r\n"),
            ("LMPOP 1 src MIDDLE", "-ERR syntax error\r\n"),
            ("BLPOP dst -1", "-ERR timeout is negative\r\n"),
            ("BLPOP dst abc", "-ERR timeout is not a float or out of range\r\n"),
            ("BLPOP dst 0", "*2\r\n$3\r\ndst\r\n$1\r\n3\r\n"),
            ("BLMPOP 0 1 dst RIGHT COUNT 2", "*2\r\n$3\r\ndst\r\n*1\r\n$1\r\n1\r\n"),
        ]);
    }

    #[test]
    fn blpop_is_served_by_a_later_push_first_come_first_served() {
        let mut h = Harness::new();
        let (mut c1, mut c2) = (h.client(), h.client());
        assert_eq!(c1.run(&["BLPOP", "q", "0"]), Reply::NoReply);
        assert_eq!(c2.run(&["BLPOP", "q", "0"]), Reply::NoReply);
        assert!(c1.is_blocked() && c2.is_blocked());
        assert_eq!(c1.blocked_resp(), None);
        assert_eq!(h.state().blocking.count(), 2);
        h.check(&[("RPUSH q x y z", ":3\r\n")]);
        assert_eq!(c1.blocked_resp().as_deref(), Some("*2\r\n$1\r\nq\r\n$1\r\nx\r\n"));
        assert_eq!(c2.blocked_resp().as_deref(), Some("*2\r\n$1\r\nq\r\n$1\r\ny\r\n"));
        h.check(&[("LLEN q", ":1\r\n")]);
        assert_eq!(h.state().blocking.count(), 0);
        // Back to running commands.
        c1.check(&[("LPOP q", "$1\r\nz\r\n")]);
    }

    #[test]
    fn blmove_feeds_a_client_waiting_on_its_destination() {
        let mut h = Harness::new();
        let (mut c1, mut c2) = (h.client(), h.client());
        c1.run(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"]);
        c2.run(&["BLPOP", "b", "0"]);
        h.check(&[("LPUSH a v", ":1\r\n")]);
        assert_eq!(c1.blocked_resp().as_deref(), Some("$1\r\nv\r\n"));
        assert_eq!(c2.blocked_resp().as_deref(), Some("*2\r\n$1\r\nb\r\n$1\r\nv\r\n"));
        h.check(&[("EXISTS a b", ":0\r\n")]);
    }

    #[test]
    fn a_wait_times_out_at_its_deadline() {
        let h = Harness::new();
        let mut c = h.client();
        assert!(!c.run(&["HELLO", "3"]).is_error());
        assert_eq!(c.run(&["BLPOP", "q", "1.5"]), Reply::NoReply);
        h.advance(1499);
        assert_eq!(c.blocked_reply(), None);
        h.advance(1);
        // RESP3's null, whatever the command (Redis's replyToBlockedClientTimedOut).
        assert_eq!(c.blocked_resp().as_deref(), Some("_\r\n"));
        c.run(&["HELLO", "2"]);
        c.run(&["BLMOVE", "q", "x", "LEFT", "LEFT", "0.1"]);
        h.advance(100);
        assert_eq!(c.blocked_resp().as_deref(), Some("*-1\r\n"));
    }

    #[test]
    fn blocking_pops_do_not_block_in_multi_and_can_be_unblocked() {
        let mut h = Harness::new();
        h.check(&[("MULTI", "+OK\r\n"), ("BLPOP q 0", "+QUEUED\r\n"), ("EXEC", "*1\r\n*-1\r\n")]);
        let mut c = h.client();
        let id = c.id().to_string();
        c.run(&["BLPOP", "q", "0"]);
        assert_eq!(h.resp(&["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1\r\n");
        assert_eq!(c.blocked_resp().as_deref(), Some("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"));
        c.run(&["BLPOP", "q", "0"]);
        assert_eq!(h.resp(&["CLIENT", "UNBLOCK", &id]), ":1\r\n");
        assert_eq!(c.blocked_resp().as_deref(), Some("*-1\r\n"));
        assert_eq!(h.resp(&["CLIENT", "UNBLOCK", &id]), ":0\r\n");
    }

    #[test]
    fn a_waiter_ignores_a_key_of_another_type() {
        let mut h = Harness::new();
        let mut c = h.client();
        c.run(&["BLPOP", "w", "0"]);
        h.check(&[("SET w str", "+OK\r\n")]);
        assert_eq!(c.blocked_reply(), None);
        h.check(&[("DEL w", ":1\r\n"), ("RPUSH w 1", ":1\r\n")]);
        assert_eq!(c.blocked_resp().as_deref(), Some("*2\r\n$1\r\nw\r\n$1\r\n1\r\n"));
    }

    #[test]
    fn a_blocked_client_that_disconnects_leaves_no_waiter() {
        let mut h = Harness::new();
        let mut c = h.client();
        c.run(&["BLPOP", "q", "0"]);
        drop(c);
        assert_eq!(h.state().blocking.count(), 0);
        h.check(&[("RPUSH q a", ":1\r\n"), ("LLEN q", ":1\r\n")]);
    }
}
