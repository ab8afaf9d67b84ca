//! The set commands: SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP, SRANDMEMBER, SMOVE,
//! SINTER/SUNION/SDIFF and their STORE forms, SINTERCARD, SSCAN. Replies, errors (and the order in
//! which arguments are checked), notifications and dirty counts follow Redis 7.0.15's t_set.c.

use bytes::Bytes;

use super::keys::{parse_cursor, ScanOptions};
use super::{errors, int_arg, notify, Ctx};
use crate::cmd;
use crate::keyspace::{Db, Ttl, Value};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::propagation::argv;
use crate::types::set::MemberRef;
use crate::types::Set;

pub static TABLE: &[CommandSpec] = &[
    cmd!("sadd", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "set", "1.0.0", "Add one or more members to a set", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", sadd),
    cmd!("srem", -3, WRITE | FAST, (1, 1, 1), "set", "1.0.0", "Remove one or more members from a set", "O(N) where N is the number of members to be removed.", srem),
    cmd!("sismember", 3, READONLY | FAST, (1, 1, 1), "set", "1.0.0", "Determine if a given value is a member of a set", "O(1)", sismember),
    cmd!("smismember", -3, READONLY | FAST, (1, 1, 1), "set", "6.2.0", "Returns the membership associated with the given elements for a set", "O(N) where N is the number of elements being checked for membership", smismember),
    cmd!("smembers", 2, READONLY, (1, 1, 1), "set", "1.0.0", "Get all the members in a set", "O(N) where N is the set cardinality.", smembers),
    cmd!("scard", 2, READONLY | FAST, (1, 1, 1), "set", "1.0.0", "Get the number of members in a set", "O(1)", scard),
    cmd!("spop", -2, WRITE | FAST, (1, 1, 1), "set", "1.0.0", "Remove and return one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", spop),
    cmd!("srandmember", -2, READONLY, (1, 1, 1), "set", "1.0.0", "Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", srandmember),
    // The destination is only modified when the member was not in it yet: the handler signals it.
    CommandSpec { write_keys: Some((1, 1, 1)), ..cmd!("smove", 4, WRITE | FAST, (1, 2, 1), "set", "1.0.0", "Move a member from one set to another", "O(1)", smove) },
    cmd!("sinter", -2, READONLY, (1, -1, 1), "set", "1.0.0", "Intersect multiple sets", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", sinter),
    cmd!("sunion", -2, READONLY, (1, -1, 1), "set", "1.0.0", "Add multiple sets", "O(N) where N is the total number of elements in all given sets.", sunion),
    cmd!("sdiff", -2, READONLY, (1, -1, 1), "set", "1.0.0", "Subtract multiple sets", "O(N) where N is the total number of elements in all given sets.", sdiff),
    CommandSpec { write_keys: Some((1, 1, 1)), ..cmd!("sinterstore", -3, WRITE | DENYOOM, (1, -1, 1), "set", "1.0.0", "Intersect multiple sets and store the resulting set in a key", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", sinterstore) },
    CommandSpec { write_keys: Some((1, 1, 1)), ..cmd!("sunionstore", -3, WRITE | DENYOOM, (1, -1, 1), "set", "1.0.0", "Add multiple sets and store the resulting set in a key", "O(N) where N is the total number of elements in all given sets.", sunionstore) },
    CommandSpec { write_keys: Some((1, 1, 1)), ..cmd!("sdiffstore", -3, WRITE | DENYOOM, (1, -1, 1), "set", "1.0.0", "Subtract multiple sets and store the resulting set in a key", "O(N) where N is the total number of elements in all given sets.", sdiffstore) },
    CommandSpec { keys_fn: Some(|a| numkeys_positions(a, 1)), ..cmd!("sintercard", -3, READONLY, (0, 0, 0), "set", "7.0.0", "Intersect multiple sets and return the cardinality of the result", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", sintercard) },
    cmd!("sscan", -3, READONLY, (1, 1, 1), "set", "2.8.0", "Incrementally iterate Set elements", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", sscan),
];

/// Redis's getPositiveLongFromObjectOrReply error for a negative count.
const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
/// SRANDMEMBER's count range (Redis refuses LONG_MIN, whose negation overflows).
const RANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// SPOP with count: the set is rebuilt from the members that stay when fewer than count/5 stay.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;
/// SRANDMEMBER with count: members are drawn by elimination when count is above a third of the set.
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;

fn max_intset(ctx: &Ctx) -> usize {
    ctx.state.hot.encoding.set_max_intset_entries
}

fn bulk(m: MemberRef) -> Reply {
    Reply::Bulk(m.to_vec())
}

/// A count that must be >= 0 (getPositiveLongFromObjectOrReply: one error for anything else,
/// not-a-number included).
fn positive_arg(b: &[u8]) -> Result<u64, Reply> {
    crate::util::numbers::parse_i64(b).and_then(|n| u64::try_from(n).ok()).ok_or_else(|| Reply::error(NOT_POSITIVE))
}

fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let max = max_intset(ctx);
    let add_all = |set: &mut Set| args[2..].iter().filter(|m| set.add(m, max)).count() as u64;
    let added = match tri!(ctx.write_typed(key, Value::as_set_mut)) {
        Some(set) => add_all(set),
        None => {
            let mut set = Set::new();
            let added = add_all(&mut set);
            ctx.db().set(key, Value::Set(Box::new(set)), Ttl::Keep);
            added
        }
    };
    if added > 0 {
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.dirty(added);
    Reply::Int(added as i64)
}

fn srem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(set) = tri!(ctx.write_typed(key, Value::as_set_mut)) else {
        return Reply::Int(0);
    };
    let mut removed = 0;
    for m in &args[2..] {
        if set.remove(m) {
            removed += 1;
            // Redis stops at the member that emptied the set (and deletes the key).
            if set.is_empty() {
                break;
            }
        }
    }
    if removed > 0 {
        ctx.notify(notify::SET, "srem", key);
        ctx.delete_if_empty(key);
        ctx.dirty(removed);
    }
    Reply::Int(removed as i64)
}

/// Whether `key` holds a set, after lazy expiry (lookupKeyWrite): None if it does not exist.
fn write_lookup_is_set(ctx: &mut Ctx, key: &[u8]) -> Option<bool> {
    ctx.lookup_write(key).map(|e| e.value().as_set().is_some())
}

fn smove(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    // Both keys are looked up before anything is checked; a missing source wins over a wrong type.
    let src_is_set = write_lookup_is_set(ctx, src);
    let dst_is_set = write_lookup_is_set(ctx, dst);
    match src_is_set {
        None => return Reply::Int(0),
        Some(false) => return Reply::error(errors::WRONGTYPE),
        Some(true) => {}
    }
    if dst_is_set == Some(false) {
        return Reply::error(errors::WRONGTYPE);
    }
    let db = ctx.db();
    if src == dst {
        return Reply::Int(set_of(db, src).is_some_and(|s| s.contains(member)) as i64);
    }
    if !set_of_mut(db, src).is_some_and(|s| s.remove(member)) {
        return Reply::Int(0);
    }
    ctx.notify(notify::SET, "srem", src);
    ctx.delete_if_empty(src);
    ctx.dirty(1);
    let max = max_intset(ctx);
    let added = match set_of_mut(ctx.db(), dst) {
        Some(set) => set.add(member, max),
        None => {
            let mut set = Set::new();
            set.add(member, max);
            ctx.db().set(dst, Value::Set(Box::new(set)), Ttl::Keep);
            true
        }
    };
    if added {
        ctx.dirty(1);
        ctx.signal_modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    Reply::Int(1)
}

/// The set under `key`, already looked up (and type-checked) by the caller.
fn set_of<'d>(db: &'d Db, key: &[u8]) -> Option<&'d Set> {
    db.get_raw(key).and_then(|e| e.value().as_set())
}

fn set_of_mut<'d>(db: &'d mut Db, key: &[u8]) -> Option<&'d mut Set> {
    db.get_mut(key).and_then(|e| e.value_mut().as_set_mut())
}

fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let set = tri!(ctx.read_typed(&args[1], Value::as_set));
    Reply::Int(set.is_some_and(|s| s.contains(&args[2])) as i64)
}

fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let set = tri!(ctx.read_typed(&args[1], Value::as_set));
    Reply::Array(args[2..].iter().map(|m| Reply::Int(set.is_some_and(|s| s.contains(m)) as i64)).collect())
}

fn scard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let set = tri!(ctx.read_typed(&args[1], Value::as_set));
    Reply::Int(set.map_or(0, |s| s.len() as i64))
}

fn spop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        3 => return spop_with_count(ctx, args),
        n if n > 3 => return Reply::error(errors::SYNTAX),
        _ => {}
    }
    let key = &args[1];
    let Some(set) = tri!(ctx.write_typed(key, Value::as_set_mut)) else {
        return Reply::Nil;
    };
    let Some(member) = set.pop_random() else {
        return Reply::Nil;
    };
    ctx.notify(notify::SET, "spop", key);
    ctx.delete_if_empty(key);
    ctx.dirty(1);
    // The member was chosen at random: replayed as its removal.
    ctx.propagate_as(|| argv(&[b"SREM", key, &member]));
    Reply::Bulk(member)
}

fn spop_with_count(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let count = tri!(positive_arg(&args[2]));
    let key = &args[1];
    let max = max_intset(ctx);
    let Some(set) = tri!(ctx.write_typed(key, Value::as_set_mut)) else {
        return Reply::Set(Vec::new());
    };
    if count == 0 {
        return Reply::Set(Vec::new());
    }
    let size = set.len() as u64;
    if count >= size {
        // Redis answers with the SUNION of the key alone (a new set, so an intset-able result
        // comes out in ascending order), then deletes the key.
        ctx.notify(notify::SET, "spop", key);
        ctx.dirty(size);
        let reply = sunion_diff(ctx, &args[1..2], Output::Reply, SetOp::Union);
        ctx.db().remove(key);
        ctx.notify(notify::GENERIC, "del", key);
        ctx.propagate_as(|| argv(&[b"DEL", key]));
        return reply;
    }
    let remaining = size - count;
    let popped: Vec<Reply> = if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        (0..count).filter_map(|_| set.pop_random()).map(Reply::Bulk).collect()
    } else {
        // Few members stay: move those to a new set and answer with what is left of the old one.
        let mut kept = Set::new();
        for _ in 0..remaining {
            if let Some(m) = set.pop_random() {
                kept.add(&m, max);
            }
        }
        let popped = set.iter().map(bulk).collect();
        *set = kept;
        popped
    };
    ctx.notify(notify::SET, "spop", key);
    ctx.dirty(count);
    // Chosen at random: replayed as the removal of exactly these members, one SREM each, as
    // Redis 7.0 does.
    for member in &popped {
        if let Reply::Bulk(m) = member {
            ctx.propagate_as(|| argv(&[b"SREM", key, m.as_ref()]));
        }
    }
    Reply::Set(popped)
}

fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        3 => return srandmember_with_count(ctx, args),
        n if n > 3 => return Reply::error(errors::SYNTAX),
        _ => {}
    }
    let set = tri!(ctx.read_typed(&args[1], Value::as_set));
    match set.and_then(|s| s.random()) {
        Some(m) => bulk(m),
        None => Reply::Nil,
    }
}

fn srandmember_with_count(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let n = tri!(int_arg(&args[2]));
    if n == i64::MIN {
        return Reply::error(RANDMEMBER_RANGE);
    }
    // A negative count allows repeats.
    let (count, distinct) = (n.unsigned_abs(), n >= 0);
    let Some(set) = tri!(ctx.read_typed(&args[1], Value::as_set)) else {
        return Reply::Array(Vec::new());
    };
    if count == 0 {
        return Reply::Array(Vec::new());
    }
    if !distinct || count == 1 {
        // The reply grows as it is produced (like Redis's output buffer); nothing is reserved
        // for a count the client chose.
        let mut out = Vec::with_capacity(count.min(1024) as usize);
        for _ in 0..count {
            out.extend(set.random().map(bulk));
        }
        return Reply::Array(out);
    }
    let size = set.len() as u64;
    if count >= size {
        return Reply::Array(set.iter().map(bulk).collect());
    }
    let positions = if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        distinct_positions_by_elimination(size as usize, count as usize)
    } else {
        distinct_positions_by_sampling(size as usize, count as usize)
    };
    Reply::Array(positions.into_iter().map(|i| bulk(set.at(i))).collect())
}

/// `count` distinct positions out of `size`, for a count close to the size: a partial shuffle.
fn distinct_positions_by_elimination(size: usize, count: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..size).collect();
    for i in 0..count {
        let j = fastrand::usize(i..size);
        all.swap(i, j);
    }
    all.truncate(count);
    all
}

/// `count` distinct positions out of `size`, for a count well below the size: draw until enough.
fn distinct_positions_by_sampling(size: usize, count: usize) -> Vec<usize> {
    let mut seen = hashbrown::HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let i = fastrand::usize(..size);
        if seen.insert(i) {
            out.push(i);
        }
    }
    out
}

/// What a set operation does with its result.
#[derive(Clone, Copy)]
enum Output<'a> {
    Reply,
    /// Store into this key (deleting it when the result is empty) and reply the cardinality.
    Store(&'a [u8]),
    /// Reply the cardinality only, stopping at the limit (0: none).
    Cardinality(u64),
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Diff,
}

/// Looks up every operand like lookupKeyRead (expiry, hit/miss stats), stopping at the first
/// that is not a set. True for each operand that exists.
fn lookup_operands(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<bool>, Reply> {
    keys.iter().map(|k| ctx.read_typed(k, Value::as_set).map(|s| s.is_some())).collect()
}

fn operands<'d>(db: &'d Db, keys: &[Bytes]) -> Vec<Option<&'d Set>> {
    keys.iter().map(|k| set_of(db, k)).collect()
}

fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sinter_generic(ctx, &args[1..], Output::Reply)
}

fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sinter_generic(ctx, &args[1..], Output::Reply)
}

fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sinter_generic(ctx, &args[2..], Output::Store(&args[1]))
}

fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = match int_arg(&args[1]) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Reply::error(NUMKEYS),
    };
    if numkeys > (args.len() - 2) as u64 {
        return Reply::error("ERR Number of keys can't be greater than number of args");
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0;
    let mut i = keys_end;
    while i < args.len() {
        let more = i + 1 < args.len();
        if more && args[i].eq_ignore_ascii_case(b"limit") {
            limit = match int_arg(&args[i + 1]) {
                Ok(n) if n >= 0 => n as u64,
                _ => return Reply::error("ERR LIMIT can't be negative"),
            };
            i += 2;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    sinter_generic(ctx, &args[2..keys_end], Output::Cardinality(limit))
}

/// SINTER, SINTERSTORE, SINTERCARD and SMEMBERS (sinterGenericCommand).
fn sinter_generic(ctx: &mut Ctx, keys: &[Bytes], out: Output) -> Reply {
    let present = tri!(lookup_operands(ctx, keys));
    if present.contains(&false) {
        // A missing key is an empty set: so is the intersection.
        return match out {
            Output::Store(dst) => store_result(ctx, dst, Set::new(), "sinterstore"),
            Output::Cardinality(_) => Reply::Int(0),
            Output::Reply => Reply::Set(Vec::new()),
        };
    }
    let max = max_intset(ctx);
    let db = &ctx.state.dbs[ctx.session.db];
    let mut sets: Vec<&Set> = operands(db, keys).into_iter().flatten().collect();
    // Smallest first, stably (glibc's qsort is a merge sort): its iteration order is the reply's
    // order, ascending when it is an intset.
    sets.sort_by_key(|s| s.len());
    let (first, rest) = (sets[0], &sets[1..]);
    let in_all = |m: &MemberRef| rest.iter().all(|s| std::ptr::eq(*s, first) || s.contains_ref(*m));
    let result = match out {
        Output::Reply => return Reply::Set(first.iter().filter(in_all).map(bulk).collect()),
        Output::Cardinality(limit) => {
            let mut n = 0;
            for _ in first.iter().filter(in_all) {
                n += 1;
                if limit != 0 && n >= limit {
                    break;
                }
            }
            return Reply::Int(n as i64);
        }
        Output::Store(_) => {
            let mut result = Set::new();
            for m in first.iter().filter(in_all) {
                result.add_ref(m, max);
            }
            result
        }
    };
    match out {
        Output::Store(dst) => store_result(ctx, dst, result, "sinterstore"),
        _ => unreachable!("only STORE builds a result set"),
    }
}

fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[1..], Output::Reply, SetOp::Union)
}

fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[2..], Output::Store(&args[1]), SetOp::Union)
}

fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[1..], Output::Reply, SetOp::Diff)
}

fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[2..], Output::Store(&args[1]), SetOp::Diff)
}

/// SUNION, SDIFF and their STORE forms (sunionDiffGenericCommand). The result is always built as
/// a new set, so its encoding, and with it the reply's order, is the one Redis's would have.
fn sunion_diff(ctx: &mut Ctx, keys: &[Bytes], out: Output, op: SetOp) -> Reply {
    tri!(lookup_operands(ctx, keys));
    let max = max_intset(ctx);
    let db = &ctx.state.dbs[ctx.session.db];
    let sets = operands(db, keys);
    let result = match op {
        SetOp::Union => union_of(&sets, max),
        SetOp::Diff => diff_of(&sets, max),
    };
    match out {
        Output::Store(dst) => {
            let event = if op == SetOp::Union { "sunionstore" } else { "sdiffstore" };
            store_result(ctx, dst, result, event)
        }
        _ => {
            let reply = Reply::Set(result.iter().map(bulk).collect());
            // Redis frees the set it computed as it frees a deleted value: in the background
            // under lazyfree-lazy-server-del, when big enough (sunionDiffGenericCommand).
            if ctx.state.config.bool(crate::ckey!("lazyfree-lazy-server-del")) {
                crate::server::lazyfree::free_value(Value::Set(Box::new(result)));
            }
            reply
        }
    }
}

fn union_of(sets: &[Option<&Set>], max: usize) -> Set {
    let mut result = Set::new();
    for s in sets.iter().flatten() {
        for m in s.iter() {
            result.add_ref(m, max);
        }
    }
    result
}

fn diff_of(sets: &[Option<&Set>], max: usize) -> Set {
    let mut result = Set::new();
    let Some(first) = sets[0] else {
        return result;
    };
    let mut others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
    // Redis's choice between its two algorithms decides the result's encoding: the second one
    // copies the whole first set (possibly converting it) before removing.
    let per_member_work = (first.len() as u128 * (1 + others.len() as u128)) / 2;
    let copy_work = first.len() as u128 + others.iter().map(|s| s.len() as u128).sum::<u128>();
    if per_member_work <= copy_work {
        // Largest first: members are more likely found early.
        others.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for m in first.iter() {
            if !others.iter().any(|s| s.contains_ref(m)) {
                result.add_ref(m, max);
            }
        }
    } else {
        for m in first.iter() {
            result.add_ref(m, max);
        }
        for s in others {
            if result.is_empty() {
                break;
            }
            for m in s.iter() {
                result.remove_ref(m);
            }
        }
    }
    result
}

/// Stores a STORE command's result (setKey: the destination's old value and TTL go), or deletes
/// the destination when the result is empty.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set, event: &'static str) -> Reply {
    if result.is_empty() {
        // dbDelete, which does not look at expiry: an expired destination counts as deleted.
        if crate::server::lazyfree::server_delete(ctx.state, ctx.session.db, dst) {
            ctx.dirty(1);
            ctx.notify(notify::GENERIC, "del", dst);
        }
        return Reply::Int(0);
    }
    let n = result.len();
    ctx.lookup_write(dst);
    crate::server::lazyfree::server_overwrite(ctx.state, ctx.session.db, dst, Value::Set(Box::new(result)), Ttl::Clear);
    ctx.notify(notify::SET, event, dst);
    ctx.dirty(1);
    Reply::Int(n as i64)
}

fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse_cursor(&args[2]) else {
        return Reply::error("ERR invalid cursor");
    };
    let Some(set) = tri!(ctx.read_typed(&args[1], Value::as_set)) else {
        return Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]);
    };
    let opts = tri!(ScanOptions::parse(&args[3..], false));
    let (found, next) = set.scan(cursor, opts.count);
    let items = found.into_iter().filter(|m| m.with_bytes(|b| opts.matches(b))).map(bulk).collect();
    Reply::Array(vec![Reply::bulk(next.to_string()), Reply::Array(items)])
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;

    #[test]
    fn set_commands() {
        Harness::new().check(&[
            ("SADD s c a b a", ":3\r\n"),
            ("SCARD s", ":3\r\n"),
            ("SISMEMBER s a", ":1\r\n"),
            ("SMISMEMBER s a z", "*2\r\n:1\r\n:0\r\n"),
            ("SMEMBERS nokey", "*0\r\n"),
            ("SREM s a z", ":1\r\n"),
            ("SADD n 3 1 2", ":3\r\n"),
            ("SMEMBERS n", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("OBJECT ENCODING n", "$6\r\nintset\r\n"),
            ("SADD n x", ":1\r\n"),
            ("OBJECT ENCODING n", "$9\r\nhashtable\r\n"),
            ("SINTER n s", "*0\r\n"),
            ("SADD t 1 2 9", ":3\r\n"),
            ("SINTER n t", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SINTERCARD 2 n t", ":2\r\n"),
            ("SINTERCARD 2 n t LIMIT 1", ":1\r\n"),
            ("SINTERCARD 0 n", "-ERR numkeys should be greater than 0\r\n"),
            ("SINTERCARD 2 n t LIMIT -1", "-ERR LIMIT can't be negative\r\n"),
            ("SUNIONSTORE u n t", ":5\r\n"),
            ("SDIFFSTORE d n t", ":2\r\n"),
            ("SMISMEMBER d 3 x 1", "*3\r\n:1\r\n:1\r\n:0\r\n"),
            ("SINTERSTORE i n nokey", ":0\r\n"),
            ("EXISTS i", ":0\r\n"),
            ("SMOVE n t x", ":1\r\n"),
            ("SMOVE n t zz", ":0\r\n"),
            ("SMOVE nokey t 1", ":0\r\n"),
            ("SPOP nokey", "$-1\r\n"),
            ("SPOP nokey 2", "*0\r\n"),
            ("SPOP n -1", "-ERR value is out of range, must be positive\r\n"),
            ("SRANDMEMBER nokey 5", "*0\r\n"),
            ("SET str v", "+OK\r\n"),
            ("SADD str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("SINTER n str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("SMOVE n str 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("SUNION nokey nokey2", "*0\r\n"),
        ]);
    }

    #[test]
    fn intsets_convert_past_their_limit_and_resp3_answers_sets() {
        let mut h = Harness::with_config("set-max-intset-entries 3\n");
        h.check(&[
            ("SADD n 30 -1 2", ":3\r\n"),
            ("OBJECT ENCODING n", "$6\r\nintset\r\n"),
            ("SMEMBERS n", "*3\r\n$2\r\n-1\r\n$1\r\n2\r\n$2\r\n30\r\n"),
            ("SADD n 4", ":1\r\n"),
            ("OBJECT ENCODING n", "$9\r\nhashtable\r\n"),
            ("SADD one 7", ":1\r\n"),
            ("SPOP one", "$1\r\n7\r\n"),
            ("EXISTS one", ":0\r\n"),
        ]);
        assert!(!h.run(&["HELLO", "3"]).is_error());
        h.check(&[("SADD m 5", ":1\r\n"), ("SMEMBERS m", "~1\r\n$1\r\n5\r\n"), ("SMEMBERS nokey", "~0\r\n")]);
    }
}
