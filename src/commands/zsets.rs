//! The sorted set commands (t_zset.c): ZADD, ZRANGE and its family, ranks and counts, the set
//! operations, ZPOP and BZPOP, ZRANDMEMBER, ZSCAN.

mod pop;
mod range;
mod setops;

use bytes::Bytes;

use super::{errors, float_arg, int_arg, notify, Ctx};
use crate::cmd;
use crate::keyspace::db::Ttl;
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::server::command::{numkeys_positions, CommandSpec, BLOCKING, DENYOOM, FAST, NOSCRIPT, READONLY, WRITE};
use crate::types::zset::{LexBound, LexRange, Limits, ScoreRange, ZSet};
use crate::util::numbers::{d2string, parse_f64_strtod};

pub static TABLE: &[CommandSpec] = &[
    cmd!("zadd", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "sorted-set", "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", zadd),
    cmd!("zincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "sorted-set", "1.2.0", "Increment the score of a member in a sorted set", "O(log(N)) where N is the number of elements in the sorted set.", zincrby),
    cmd!("zrem", -3, WRITE | FAST, (1, 1, 1), "sorted-set", "1.2.0", "Remove one or more members from a sorted set", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", zrem),
    cmd!("zcard", 2, READONLY | FAST, (1, 1, 1), "sorted-set", "1.2.0", "Get the number of members in a sorted set", "O(1)", zcard),
    cmd!("zscore", 3, READONLY | FAST, (1, 1, 1), "sorted-set", "1.2.0", "Get the score associated with the given member in a sorted set", "O(1)", zscore),
    cmd!("zmscore", -3, READONLY | FAST, (1, 1, 1), "sorted-set", "6.2.0", "Get the score associated with the given members in a sorted set", "O(N) where N is the number of members being requested.", zmscore),
    cmd!("zrank", 3, READONLY | FAST, (1, 1, 1), "sorted-set", "2.0.0", "Determine the index of a member in a sorted set", "O(log(N))", zrank),
    cmd!("zrevrank", 3, READONLY | FAST, (1, 1, 1), "sorted-set", "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", "O(log(N))", zrevrank),
    cmd!("zcount", 4, READONLY | FAST, (1, 1, 1), "sorted-set", "2.0.0", "Count the members in a sorted set with scores within the given values", "O(log(N)) with N being the number of elements in the sorted set.", zcount),
    cmd!("zlexcount", 4, READONLY | FAST, (1, 1, 1), "sorted-set", "2.8.9", "Count the number of members in a sorted set between a given lexicographical range", "O(log(N)) with N being the number of elements in the sorted set.", zlexcount),
    cmd!("zrange", -4, READONLY, (1, 1, 1), "sorted-set", "1.2.0", "Return a range of members in a sorted set", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", range::zrange),
    cmd!("zrangebyscore", -4, READONLY, (1, 1, 1), "sorted-set", "1.0.5", "Return a range of members in a sorted set, by score", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", range::zrangebyscore),
    cmd!("zrevrangebyscore", -4, READONLY, (1, 1, 1), "sorted-set", "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", range::zrevrangebyscore),
    cmd!("zrangebylex", -4, READONLY, (1, 1, 1), "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", range::zrangebylex),
    cmd!("zrevrangebylex", -4, READONLY, (1, 1, 1), "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", range::zrevrangebylex),
    cmd!("zrevrange", -4, READONLY, (1, 1, 1), "sorted-set", "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", range::zrevrange),
    CommandSpec {
        write_keys: Some((1, 1, 1)),
        ..cmd!("zrangestore", -5, WRITE | DENYOOM, (1, 2, 1), "sorted-set", "6.2.0", "Store a range of members from sorted set into another key", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", range::zrangestore)
    },
    cmd!("zremrangebyrank", 4, WRITE, (1, 1, 1), "sorted-set", "2.0.0", "Remove all members in a sorted set within the given indexes", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", range::zremrangebyrank),
    cmd!("zremrangebyscore", 4, WRITE, (1, 1, 1), "sorted-set", "1.2.0", "Remove all members in a sorted set within the given scores", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", range::zremrangebyscore),
    cmd!("zremrangebylex", 4, WRITE, (1, 1, 1), "sorted-set", "2.8.9", "Remove all members in a sorted set between the given lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", range::zremrangebylex),
    cmd!("zpopmin", -2, WRITE | FAST, (1, 1, 1), "sorted-set", "5.0.0", "Remove and return members with the lowest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", pop::zpopmin),
    cmd!("zpopmax", -2, WRITE | FAST, (1, 1, 1), "sorted-set", "5.0.0", "Remove and return members with the highest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", pop::zpopmax),
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 1)),
        ..cmd!("zmpop", -4, WRITE, (0, 0, 0), "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", pop::zmpop)
    },
    cmd!("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, (1, -2, 1), "sorted-set", "5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.", pop::bzpopmin),
    cmd!("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, (1, -2, 1), "sorted-set", "5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.", pop::bzpopmax),
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 2)),
        ..cmd!("bzmpop", -5, WRITE | BLOCKING, (0, 0, 0), "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set or block until one is available", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", pop::bzmpop)
    },
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 1)),
        ..cmd!("zunion", -3, READONLY, (0, 0, 0), "sorted-set", "6.2.0", "Add multiple sorted sets", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", setops::zunion)
    },
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 1)),
        ..cmd!("zinter", -3, READONLY, (0, 0, 0), "sorted-set", "6.2.0", "Intersect multiple sorted sets", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", setops::zinter)
    },
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 1)),
        ..cmd!("zdiff", -3, READONLY, (0, 0, 0), "sorted-set", "6.2.0", "Subtract multiple sorted sets", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", setops::zdiff)
    },
    CommandSpec {
        keys_fn: Some(store_keys),
        write_keys: Some((1, 1, 1)),
        ..cmd!("zunionstore", -4, WRITE | DENYOOM, (1, 1, 1), "sorted-set", "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", setops::zunionstore)
    },
    CommandSpec {
        keys_fn: Some(store_keys),
        write_keys: Some((1, 1, 1)),
        ..cmd!("zinterstore", -4, WRITE | DENYOOM, (1, 1, 1), "sorted-set", "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", setops::zinterstore)
    },
    CommandSpec {
        keys_fn: Some(store_keys),
        write_keys: Some((1, 1, 1)),
        ..cmd!("zdiffstore", -4, WRITE | DENYOOM, (1, 1, 1), "sorted-set", "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", setops::zdiffstore)
    },
    CommandSpec {
        keys_fn: Some(|a| numkeys_positions(a, 1)),
        ..cmd!("zintercard", -3, READONLY, (0, 0, 0), "sorted-set", "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", setops::zintercard)
    },
    cmd!("zrandmember", -2, READONLY, (1, 1, 1), "sorted-set", "6.2.0", "Get one or multiple random elements from a sorted set", "O(N) where N is the number of elements returned", zrandmember),
    cmd!("zscan", -3, READONLY, (1, 1, 1), "sorted-set", "2.8.0", "Incrementally iterate sorted sets elements and associated scores", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", zscan),
];

/// The keys after the count, then the destination (Z*STORE), in `genericGetKeys`'s order; none,
/// not even the destination, when the count is not usable.
fn store_keys(args: &[Bytes]) -> Vec<usize> {
    let mut keys = numkeys_positions(args, 2);
    if !keys.is_empty() {
        keys.push(1);
    }
    keys
}

const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// The configured listpack limits.
fn limits(ctx: &Ctx) -> Limits {
    let e = &ctx.state.hot.encoding;
    Limits { max_entries: e.zset_max_listpack_entries, max_value: e.zset_max_listpack_value }
}

/// ASCII case-insensitive option match.
fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// A score bound, `(` making it exclusive, read with strtod as zslParseRange does.
fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.first() {
        Some(b'(') => parse_f64_strtod(&arg[1..]).map(|v| (v, true)),
        _ => parse_f64_strtod(arg).map(|v| (v, false)),
    }
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, Reply> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange { min, max, min_ex, max_ex }),
        _ => Err(Reply::error(NOT_FLOAT_RANGE)),
    }
}

/// One end of a lex range: `-`, `+`, `(str` or `[str` (zslParseLexRangeItem: `+` and `-` are
/// read as C strings, so a NUL may follow them).
fn lex_bound(arg: &[u8]) -> Option<(LexBound, bool)> {
    let alone = arg.get(1).is_none_or(|&b| b == 0);
    match arg.first()? {
        b'+' => alone.then_some((LexBound::Max, true)),
        b'-' => alone.then_some((LexBound::Min, true)),
        b'(' => Some((LexBound::Str(arg[1..].to_vec()), true)),
        b'[' => Some((LexBound::Str(arg[1..].to_vec()), false)),
        _ => None,
    }
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, Reply> {
    match (lex_bound(min), lex_bound(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(LexRange { min, max, min_ex, max_ex }),
        _ => Err(Reply::error(NOT_LEX_RANGE)),
    }
}

/// Members with optional scores as Redis replies them: a flat array in RESP2, [member, score]
/// pairs in RESP3 when scores are included.
fn members_reply(resp: u8, items: Vec<(Vec<u8>, f64)>, withscores: bool) -> Reply {
    if !withscores {
        return Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect());
    }
    if resp >= 3 {
        return Reply::Array(
            items.into_iter().map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)])).collect(),
        );
    }
    let mut out = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        out.push(Reply::Bulk(m));
        out.push(Reply::Double(s));
    }
    Reply::Array(out)
}

/// A range read or a set operation's result stored at `dst` (ZRANGESTORE, Z*STORE): the
/// result replaces the key (and its TTL); an empty one deletes it.
fn store_result(ctx: &mut Ctx, dst: &[u8], items: Vec<crate::types::zset::Item>, event: &str) -> Reply {
    if items.is_empty() {
        if crate::server::lazyfree::server_delete(ctx.state, ctx.session.db, dst) {
            ctx.notify(notify::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return Reply::Int(0);
    }
    let z = ZSet::from_items(items, limits(ctx));
    let n = z.len();
    crate::server::lazyfree::server_overwrite(ctx.state, ctx.session.db, dst, Value::ZSet(Box::new(z)), Ttl::Clear);
    ctx.notify(notify::ZSET, event, dst);
    ctx.dirty(1);
    Reply::Int(n as i64)
}

/// ZADD's flags.
#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
    ch: bool,
}

/// What one member's update did (zsetAdd's out flags).
enum Outcome {
    Added(f64),
    Updated(f64),
    Unchanged(f64),
    Skipped,
}

pub(super) fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zadd_generic(ctx, args, AddFlags::default())
}

fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    zadd_generic(ctx, args, AddFlags { incr: true, ..AddFlags::default() })
}

/// ZADD and ZINCRBY (zaddGenericCommand): everything is checked before anything changes.
fn zadd_generic(ctx: &mut Ctx, args: &[Bytes], f: AddFlags) -> Reply {
    let (f, pairs, scores) = tri!(parse_add(args, f));
    let key = &args[1];
    let lim = limits(ctx);
    if tri!(ctx.write_typed(key, Value::as_zset_mut)).is_none() {
        if f.xx {
            return add_reply(f, 0, 0, None);
        }
        let z = ZSet::new_for_first(pairs[1].len(), lim);
        ctx.db().set(key, Value::ZSet(Box::new(z)), Ttl::Keep);
    }
    let Ok(Some(z)) = ctx.write_typed(key, Value::as_zset_mut) else {
        return Reply::error(errors::WRONGTYPE);
    };
    let (mut added, mut updated, mut last) = (0, 0, None);
    let mut failed = false;
    for (p, &score) in pairs.chunks(2).zip(&scores) {
        match add_one(z, &p[1], score, f, lim) {
            Some(Outcome::Added(s)) => (added, last) = (added + 1, Some(s)),
            Some(Outcome::Updated(s)) => (updated, last) = (updated + 1, Some(s)),
            Some(Outcome::Unchanged(s)) => last = Some(s),
            Some(Outcome::Skipped) => {}
            None => {
                failed = true;
                break;
            }
        }
    }
    ctx.dirty((added + updated) as u64);
    if added + updated > 0 {
        ctx.notify(notify::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if failed {
        return Reply::error(NAN_SCORE);
    }
    add_reply(f, added, updated, last)
}

/// ZADD's options, its score/member pairs and their scores, with Redis's errors in its order.
fn parse_add(args: &[Bytes], mut f: AddFlags) -> Result<(AddFlags, &[Bytes], Vec<f64>), Reply> {
    let mut first = 2;
    while first < args.len() {
        let a = &args[first];
        match () {
            _ if is(a, "nx") => f.nx = true,
            _ if is(a, "xx") => f.xx = true,
            _ if is(a, "ch") => f.ch = true,
            _ if is(a, "incr") => f.incr = true,
            _ if is(a, "gt") => f.gt = true,
            _ if is(a, "lt") => f.lt = true,
            _ => break,
        }
        first += 1;
    }
    let pairs = &args[first..];
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return Err(Reply::error(errors::SYNTAX));
    }
    if f.nx && f.xx {
        return Err(Reply::error("ERR XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(Reply::error("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && pairs.len() > 2 {
        return Err(Reply::error("ERR INCR option supports a single increment-element pair"));
    }
    let scores = pairs.chunks(2).map(|p| float_arg(&p[0])).collect::<Result<Vec<f64>, Reply>>()?;
    Ok((f, pairs, scores))
}

fn add_reply(f: AddFlags, added: i64, updated: i64, last: Option<f64>) -> Reply {
    if f.incr {
        return last.map_or(Reply::Nil, Reply::Double);
    }
    Reply::Int(if f.ch { added + updated } else { added })
}

/// One member of ZADD (zsetAdd); None when INCR makes the score NaN.
fn add_one(z: &mut ZSet, member: &[u8], score: f64, f: AddFlags, lim: Limits) -> Option<Outcome> {
    if !(f.nx || f.xx || f.gt || f.lt || f.incr) {
        // The common case in one lookup.
        return Some(match z.insert(member, score, lim) {
            None => Outcome::Added(score),
            Some(old) if old == score => Outcome::Unchanged(score),
            Some(_) => Outcome::Updated(score),
        });
    }
    let Some(cur) = z.score(member) else {
        if f.xx {
            return Some(Outcome::Skipped);
        }
        z.insert(member, score, lim);
        return Some(Outcome::Added(score));
    };
    if f.nx {
        return Some(Outcome::Skipped);
    }
    let new = if f.incr { cur + score } else { score };
    if new.is_nan() {
        return None;
    }
    if (f.lt && new >= cur) || (f.gt && new <= cur) {
        return Some(Outcome::Skipped);
    }
    if new == cur {
        return Some(Outcome::Unchanged(new));
    }
    z.insert(member, new, lim);
    Some(Outcome::Updated(new))
}

fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(z) = tri!(ctx.write_typed(key, Value::as_zset_mut)) else {
        return Reply::Int(0);
    };
    let mut deleted = 0;
    for m in &args[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    if deleted > 0 {
        ctx.notify(notify::ZSET, "zrem", key);
        ctx.delete_if_empty(key);
        ctx.dirty(deleted as u64);
    }
    Reply::Int(deleted)
}

fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let z = tri!(ctx.read_typed(&args[1], Value::as_zset));
    Reply::Int(z.map_or(0, |z| z.len() as i64))
}

fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let z = tri!(ctx.read_typed(&args[1], Value::as_zset));
    z.and_then(|z| z.score(&args[2])).map_or(Reply::Nil, Reply::Double)
}

fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let z = tri!(ctx.read_typed(&args[1], Value::as_zset));
    Reply::Array(args[2..].iter().map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double)).collect())
}

fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> Reply {
    let Some(z) = tri!(ctx.read_typed(&args[1], Value::as_zset)) else {
        return Reply::Nil;
    };
    match z.rank(&args[2]) {
        Some(r) if rev => Reply::Int((z.len() - 1 - r) as i64),
        Some(r) => Reply::Int(r as i64),
        None => Reply::Nil,
    }
}

fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let range = tri!(score_range(&args[2], &args[3]));
    let z = tri!(ctx.read_typed(&args[1], Value::as_zset));
    Reply::Int(z.map_or(0, |z| z.count_in_score_range(&range) as i64))
}

fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let range = tri!(lex_range(&args[2], &args[3]));
    let z = tri!(ctx.read_typed(&args[1], Value::as_zset));
    Reply::Int(z.map_or(0, |z| z.count_in_lex_range(&range) as i64))
}

fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = super::keys::parse_cursor(&args[2]) else {
        return Reply::error("ERR invalid cursor");
    };
    let Some(z) = tri!(ctx.read_typed(&args[1], Value::as_zset)) else {
        return Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])]);
    };
    // Redis reads the options only once it has the key.
    let opts = tri!(super::keys::ScanOptions::parse(&args[3..], false));
    // A listpack keeps integral scores as integers and answers them as such; a skiplist
    // formats its doubles (ld2string, %.17Lg).
    let listpack = z.is_listpack();
    let mut out = Vec::new();
    let next = z.scan(cursor, opts.count, |m, s| {
        if opts.matches(m) {
            out.push(Reply::bulk(m));
            let text = match listpack_integer(s) {
                Some(n) if listpack => n.to_string(),
                _ => d2string(s),
            };
            out.push(Reply::Bulk(text.into_bytes()));
        }
    });
    Reply::Array(vec![Reply::Bulk(next.to_string().into_bytes()), Reply::Array(out)])
}

/// The integer a listpack stores for a score (double2ll): integral and within ±LLONG_MAX/2.
fn listpack_integer(score: f64) -> Option<i64> {
    const HALF: f64 = (i64::MAX / 2) as f64;
    (score.fract() == 0.0 && (-HALF..=HALF).contains(&score)).then_some(score as i64)
}

/// ZRANDMEMBER: one random member, or a count of them (negative: repeats allowed).
fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() < 3 {
        let z = tri!(ctx.read_typed(&args[1], Value::as_zset));
        return z.and_then(|z| z.random()).map_or(Reply::Nil, |(m, _)| Reply::bulk(m));
    }
    let count = tri!(int_arg(&args[2]));
    if count == i64::MIN {
        return Reply::error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    if args.len() > 4 || (args.len() == 4 && !is(&args[3], "withscores")) {
        return Reply::error(errors::SYNTAX);
    }
    let withscores = args.len() == 4;
    // Redis guards the doubled reply length of WITHSCORES.
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Reply::error("ERR value is out of range");
    }
    let resp = ctx.session.resp;
    let Some(z) = tri!(ctx.read_typed(&args[1], Value::as_zset)) else {
        return Reply::Array(vec![]);
    };
    members_reply(resp, random_members(z, count), withscores)
}

/// ZRANDMEMBER's cases (zrandmemberWithCountCommand): repeats for a negative count (or 1), the
/// whole set from the highest rank down when the count covers it, else distinct picks.
fn random_members(z: &ZSet, count: i64) -> Vec<(Vec<u8>, f64)> {
    let size = z.len();
    let own = |(m, s): (&[u8], f64)| (m.to_vec(), s);
    if count == 0 {
        return Vec::new();
    }
    if count < 0 || count == 1 {
        let n = count.unsigned_abs();
        // Grows as it goes: a huge count costs what it returns, no more up front.
        let mut out = Vec::with_capacity(n.min(1024) as usize);
        for _ in 0..n {
            out.extend(z.random().map(own));
        }
        return out;
    }
    let count = count as usize;
    if count >= size {
        return z.iter_at(size - 1, true).map(own).collect();
    }
    if count * 3 > size || z.is_listpack() {
        // Drop random members until `count` remain; the survivors keep their order.
        let mut keep = vec![true; size];
        let mut left = size;
        while left > count {
            let i = fastrand::usize(..size);
            if keep[i] {
                keep[i] = false;
                left -= 1;
            }
        }
        return z.iter().zip(keep).filter(|(_, k)| *k).map(|(e, _)| own(e)).collect();
    }
    // A big set: random picks until `count` distinct ones, in the order drawn.
    let mut seen = std::collections::HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        if let Some((m, s)) = z.random() {
            if seen.insert(m) {
                out.push((m.to_vec(), s));
            }
        }
    }
    out
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;
    use crate::protocol::Reply;

    #[test]
    fn zadd_options_scores_and_ranks() {
        Harness::new().check(&[
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZADD z NX 5 a 4 d", ":1\r\n"),
            ("ZADD z XX CH 10 a 20 zz", ":1\r\n"),
            ("ZADD z GT 1 a", ":0\r\n"),
            ("ZADD z INCR 1 a", "$2\r\n11\r\n"),
            ("ZADD z INCR 1 a 2 b", "-ERR INCR option supports a single increment-element pair\r\n"),
            ("ZADD z NX XX 1 a", "-ERR XX and NX options at the same time are not compatible\r\n"),
            ("ZADD z GT LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
            ("ZADD z GT NX 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
            ("ZADD z nan a", "-ERR value is not a valid float\r\n"),
            ("ZADD z 1", "-ERR wrong number of arguments for 'zadd' command\r\n"),
            ("ZINCRBY z inf c", "$3\r\ninf\r\n"),
            ("ZINCRBY z -inf c", "-ERR resulting score is not a number (NaN)\r\n"),
            ("ZSCORE z c", "$3\r\ninf\r\n"),
            ("ZSCORE z nokey", "$-1\r\n"),
            ("ZMSCORE z a zz", "*2\r\n$2\r\n11\r\n$-1\r\n"),
            ("ZCARD z", ":4\r\n"),
            ("ZRANK z b", ":0\r\n"),
            ("ZREVRANK z b", ":3\r\n"),
            ("ZRANK z zz", "$-1\r\n"),
        ]);
    }

    #[test]
    fn ranges_counts_and_pops() {
        Harness::new().check(&[
            ("ZADD z 2 b 4 d 11 a inf c", ":4\r\n"),
            (
                "ZRANGE z 0 -1 WITHSCORES",
                "*8\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\na\r\n$2\r\n11\r\n$1\r\nc\r\n$3\r\ninf\r\n",
            ),
            ("ZRANGE z (1 +inf BYSCORE LIMIT 0 2", "*2\r\n$1\r\nb\r\n$1\r\nd\r\n"),
            ("ZRANGE z +inf -inf BYSCORE REV", "*4\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\nb\r\n"),
            ("ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 1 1", "*2\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("ZRANGE z 0 -1 BYLEX", "-ERR min or max not valid string range item\r\n"),
            ("ZRANGE z a b BYLEX", "-ERR min or max not valid string range item\r\n"),
            ("ZRANGEBYLEX z - +", "*4\r\n$1\r\nb\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nc\r\n"),
            ("ZCOUNT z (2 +inf", ":3\r\n"),
            ("ZCOUNT z x 1", "-ERR min or max is not a float\r\n"),
            ("ZLEXCOUNT z [a [c", ":1\r\n"),
            ("ZREM z d zz", ":1\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("ZPOPMAX z 5", "*4\r\n$1\r\nc\r\n$3\r\ninf\r\n$1\r\na\r\n$2\r\n11\r\n"),
            ("ZPOPMIN nokey", "*0\r\n"),
            ("ZPOPMIN z -1", "-ERR value is out of range, must be positive\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZREMRANGEBYSCORE nokey 0 1", ":0\r\n"),
            ("ZRANDMEMBER nokey", "$-1\r\n"),
        ]);
    }

    #[test]
    fn scores_print_as_17_digits_and_combine() {
        Harness::new().check(&[
            ("ZADD z 1.5 x 2.5e-3 y", ":2\r\n"),
            ("ZRANGE z 0 -1 WITHSCORES", "*4\r\n$1\r\ny\r\n$21\r\n0.0025000000000000001\r\n$1\r\nx\r\n$3\r\n1.5\r\n"),
            ("ZINCRBY z 0.1 x", "$18\r\n1.6000000000000001\r\n"),
            ("ZUNIONSTORE u 2 z nokey WEIGHTS 2 3", ":2\r\n"),
            ("ZRANGE u 0 -1 WITHSCORES", "*4\r\n$1\r\ny\r\n$21\r\n0.0050000000000000001\r\n$1\r\nx\r\n$18\r\n3.2000000000000002\r\n"),
            ("ZINTER 2 z u AGGREGATE MAX WITHSCORES", "*4\r\n$1\r\ny\r\n$21\r\n0.0050000000000000001\r\n$1\r\nx\r\n$18\r\n3.2000000000000002\r\n"),
            ("ZDIFF 1 z", "*2\r\n$1\r\ny\r\n$1\r\nx\r\n"),
            ("ZUNIONSTORE u 0 z", "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"),
            ("ZUNIONSTORE u 2 z", "-ERR syntax error\r\n"),
            ("ZMPOP 1 z MIN COUNT 10", "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\ny\r\n$21\r\n0.0025000000000000001\r\n*2\r\n$1\r\nx\r\n$18\r\n1.6000000000000001\r\n"),
        ]);
    }

    #[test]
    fn resp3_scores_are_doubles() {
        let mut h = Harness::new();
        assert!(!h.run(&["HELLO", "3"]).is_error());
        h.check(&[
            ("ZADD z 1.5 x 2 y", ":2\r\n"),
            ("ZRANGE z 0 -1 WITHSCORES", "*2\r\n*2\r\n$1\r\nx\r\n,1.5\r\n*2\r\n$1\r\ny\r\n,2\r\n"),
            ("ZSCORE z x", ",1.5\r\n"),
            ("ZINCRBY z inf y", ",inf\r\n"),
            ("ZMSCORE z x q", "*2\r\n,1.5\r\n_\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\nx\r\n,1.5\r\n"),
            ("ZPOPMIN z 1", "*1\r\n*2\r\n$1\r\ny\r\n,inf\r\n"),
            ("ZRANK z q", "_\r\n"),
            ("ZRANDMEMBER z 1 WITHSCORES", "*0\r\n"),
        ]);
    }

    #[test]
    fn bzpopmin_is_served_by_a_later_zadd_and_times_out() {
        let mut h = Harness::new();
        let mut c = h.client();
        assert_eq!(c.run(&["BZPOPMIN", "k1", "k2", "0"]), Reply::NoReply);
        h.check(&[("ZADD k2 5 m 3 n", ":2\r\n")]);
        assert_eq!(c.blocked_resp().as_deref(), Some("*3\r\n$2\r\nk2\r\n$1\r\nn\r\n$1\r\n3\r\n"));
        h.check(&[("ZRANGE k2 0 -1", "*1\r\n$1\r\nm\r\n")]);
        assert_eq!(c.run(&["BZPOPMAX", "k1", "0.2"]), Reply::NoReply);
        // A list pushed to a key a zset waiter waits on does not serve it.
        h.check(&[("RPUSH k1 x", ":1\r\n")]);
        assert_eq!(c.blocked_reply(), None);
        h.advance(200);
        assert_eq!(c.blocked_resp().as_deref(), Some("*-1\r\n"));
    }
}
