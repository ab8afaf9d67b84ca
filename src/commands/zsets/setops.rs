//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (zunionInterDiffGenericCommand).
//! Plain sets are operands too, every member scoring 1.

use bytes::Bytes;

use super::{is, members_reply, store_result};
use crate::commands::{errors, int_arg, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::types::zset::{cmp_key, Item};
use crate::types::{Dense, Set, ZSet};
use crate::util::numbers::parse_f64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// zunionInterAggregate: inf + -inf sums to 0, not NaN.
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => *target = if v < *target { v } else { *target },
            Aggregate::Max => *target = if v > *target { v } else { *target },
        }
    }
}

/// What the command line asks for, once parsed.
struct Request {
    keys: Vec<Bytes>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

pub fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, "zunion", None, Op::Union, false)
}

pub fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, "zinter", None, Op::Inter, false)
}

pub fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, "zdiff", None, Op::Diff, false)
}

pub fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, "zunionstore", Some(&args[1]), Op::Union, false)
}

pub fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, "zinterstore", Some(&args[1]), Op::Inter, false)
}

pub fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, "zdiffstore", Some(&args[1]), Op::Diff, false)
}

pub fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, "zintercard", None, Op::Inter, true)
}

/// `name` is the command's name for Redis's error text.
fn generic(ctx: &mut Ctx, args: &[Bytes], name: &str, dst: Option<&Bytes>, op: Op, card_only: bool) -> Reply {
    let numkeys_at = if dst.is_some() { 2 } else { 1 };
    let keys = tri!(input_keys(args, numkeys_at, name));
    // Redis looks every key up (and type-checks it) before reading the options.
    for k in keys {
        match ctx.lookup_read(k).map(|e| e.value()) {
            None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
            Some(_) => return Reply::error(errors::WRONGTYPE),
        }
    }
    let req = tri!(parse_options(&args[numkeys_at + 1 + keys.len()..], keys, op, dst.is_some(), card_only));
    let db = &ctx.state.dbs[ctx.session.db];
    let mut srcs: Vec<Source> = req
        .keys
        .iter()
        .zip(&req.weights)
        .map(|(k, &weight)| Source { key: k, value: db.get_raw(k).map(|e| e.value()), weight })
        .collect();
    if op != Op::Diff {
        // Smallest first (a stable sort, like glibc's qsort for this size): fewer lookups, and
        // the order in which scores are summed.
        srcs.sort_by_key(|s| s.len());
    }
    if card_only {
        return Reply::Int(intersection(&srcs, req.aggregate, req.limit, |_, _| {}) as i64);
    }
    let mut items: Vec<Item> = match op {
        Op::Inter => {
            let mut out = Vec::new();
            intersection(&srcs, req.aggregate, 0, |m, s| out.push(Item::new(m, s)));
            out
        }
        Op::Union => union(&srcs, req.aggregate),
        Op::Diff => difference(&srcs),
    };
    let Some(dst) = dst else {
        items.sort_unstable_by(|a, b| cmp_key(a.score, &a.member, b.score, &b.member));
        let resp = ctx.session.resp;
        return members_reply(
            resp,
            items.into_iter().map(|it| (it.member.to_vec(), it.score)).collect(),
            req.withscores,
        );
    };
    let event = match op {
        Op::Union => "zunionstore",
        Op::Inter => "zinterstore",
        Op::Diff => "zdiffstore",
    };
    store_result(ctx, dst, items, event)
}

/// The keys after the numkeys count, with Redis's errors for a bad count.
fn input_keys<'a>(args: &'a [Bytes], numkeys_at: usize, name: &str) -> Result<&'a [Bytes], Reply> {
    let n = int_arg(&args[numkeys_at])?;
    if n < 1 {
        return Err(Reply::error(format!("ERR at least 1 input key is needed for '{name}' command")));
    }
    if n > (args.len() - numkeys_at - 1) as i64 {
        return Err(Reply::error(errors::SYNTAX));
    }
    Ok(&args[numkeys_at + 1..numkeys_at + 1 + n as usize])
}

/// WEIGHTS, AGGREGATE, WITHSCORES and LIMIT, as each command allows them.
fn parse_options(opts: &[Bytes], keys: &[Bytes], op: Op, store: bool, card_only: bool) -> Result<Request, Reply> {
    let n = keys.len();
    let mut req =
        Request { keys: keys.to_vec(), weights: vec![1.0; n], aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = 0;
    while j < opts.len() {
        let left = opts.len() - j;
        let a = &opts[j];
        if op != Op::Diff && !card_only && left > n && is(a, "weights") {
            for (w, arg) in req.weights.iter_mut().zip(&opts[j + 1..j + 1 + n]) {
                *w = parse_f64(arg).ok_or_else(|| Reply::error("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != Op::Diff && !card_only && left >= 2 && is(a, "aggregate") {
            let v = &opts[j + 1];
            req.aggregate = match () {
                _ if is(v, "sum") => Aggregate::Sum,
                _ if is(v, "min") => Aggregate::Min,
                _ if is(v, "max") => Aggregate::Max,
                _ => return Err(Reply::error(errors::SYNTAX)),
            };
            j += 2;
        } else if !store && !card_only && is(a, "withscores") {
            req.withscores = true;
            j += 1;
        } else if card_only && left >= 2 && is(a, "limit") {
            let limit = crate::util::numbers::parse_i64(&opts[j + 1]).filter(|&l| l >= 0);
            req.limit = limit.ok_or_else(|| Reply::error("ERR LIMIT can't be negative"))? as usize;
            j += 2;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
    }
    Ok(req)
}

/// One operand: a sorted set, a plain set (scores 1) or a missing key (empty).
struct Source<'a> {
    key: &'a Bytes,
    value: Option<&'a Value>,
    weight: f64,
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self.value {
            Some(Value::ZSet(z)) => z.len(),
            Some(Value::Set(s)) => s.len(),
            _ => 0,
        }
    }

    /// Every member with its score, in no particular order.
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self.value {
            Some(Value::ZSet(z)) => z.iter_unordered().for_each(|(m, s)| f(m, s)),
            Some(Value::Set(s)) => set_members(s, |m| f(m, 1.0)),
            _ => {}
        }
    }
}

/// A set's members as bytes (an intset's formatted).
fn set_members(s: &Set, mut f: impl FnMut(&[u8])) {
    for m in s.iter_bytes() {
        f(&m);
    }
}

/// Score lookups into an operand: a plain set's members score 1.
enum Lookup<'a> {
    ZSet(&'a ZSet),
    Set(&'a Set),
    Empty,
}

impl<'a> Lookup<'a> {
    fn of(src: &Source<'a>) -> Lookup<'a> {
        match src.value {
            Some(Value::ZSet(z)) => Lookup::ZSet(z),
            Some(Value::Set(s)) => Lookup::Set(s),
            _ => Lookup::Empty,
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Lookup::ZSet(z) => z.score(member),
            Lookup::Set(s) => s.contains(member).then_some(1.0),
            Lookup::Empty => None,
        }
    }
}

/// A weighted score; NaN (0 * inf) counts as 0.
fn weighted(weight: f64, score: f64) -> f64 {
    let v = weight * score;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Members of the first (smallest) operand present in all others, aggregated in operand order;
/// stops after `limit` (0: no limit). Returns how many.
fn intersection(srcs: &[Source], agg: Aggregate, limit: usize, mut emit: impl FnMut(&[u8], f64)) -> usize {
    if srcs[0].len() == 0 {
        return 0;
    }
    let lookups: Vec<Lookup> = srcs[1..].iter().map(Lookup::of).collect();
    let mut found = 0;
    let mut done = false;
    srcs[0].for_each(|m, s0| {
        if done {
            return;
        }
        let mut score = weighted(srcs[0].weight, s0);
        for (src, lookup) in srcs[1..].iter().zip(&lookups) {
            let v = if src.key == srcs[0].key { Some(s0) } else { lookup.score(m) };
            match v {
                Some(v) => agg.apply(&mut score, v * src.weight),
                None => return,
            }
        }
        found += 1;
        emit(m, score);
        if limit > 0 && found >= limit {
            done = true;
        }
    });
    found
}

/// Every member of every operand, scores aggregated in operand order.
fn union(srcs: &[Source], agg: Aggregate) -> Vec<Item> {
    let largest = srcs.iter().map(Source::len).max().unwrap_or(0);
    let mut acc: Dense<Item> = Dense::with_capacity(largest);
    for src in srcs {
        src.for_each(|m, s| {
            let score = weighted(src.weight, s);
            match acc.get_mut(m) {
                Some(it) => agg.apply(&mut it.score, score),
                None => acc.insert_new(Item::new(m, score)),
            }
        });
    }
    acc.drain().collect()
}

/// Members of the first operand in none of the others, with their scores.
fn difference(srcs: &[Source]) -> Vec<Item> {
    if srcs[0].len() == 0 || srcs[1..].iter().any(|s| s.key == srcs[0].key) {
        return Vec::new();
    }
    let lookups: Vec<Lookup> = srcs[1..].iter().map(Lookup::of).collect();
    let mut out = Vec::new();
    srcs[0].for_each(|m, s| {
        if lookups.iter().all(|l| l.score(m).is_none()) {
            out.push(Item::new(m, s));
        }
    });
    out
}
