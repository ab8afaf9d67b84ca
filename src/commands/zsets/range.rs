//! ZRANGE in all its forms (zrangeGenericCommand): by rank, score or lex, forwards or in
//! reverse, with LIMIT and WITHSCORES, to the client or stored (ZRANGESTORE); and the
//! ZREMRANGEBY* commands.

use bytes::Bytes;

use super::{is, lex_range, members_reply, score_range, store_result};
use crate::commands::{errors, int_arg, notify, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::types::zset::{Item, LexRange, ScoreRange, ZSet};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

/// The range a request asks for, once parsed.
enum Spec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

pub fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, None, Kind::Auto, Dir::Auto)
}

pub fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, None, Kind::Rank, Dir::Reverse)
}

pub fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, None, Kind::Score, Dir::Forward)
}

pub fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, None, Kind::Score, Dir::Reverse)
}

pub fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, None, Kind::Lex, Dir::Forward)
}

pub fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, None, Kind::Lex, Dir::Reverse)
}

pub fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 2, Some(&args[1]), Kind::Auto, Dir::Auto)
}

/// A parsed request: what range, which way, and the options.
struct Request {
    spec: Spec,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// -1: no LIMIT given (a negative count means no limit anyway).
    limit: i64,
}

/// `src` is the source key's position: `<src> <min> <max> [options]` follow it.
fn generic(ctx: &mut Ctx, args: &[Bytes], src: usize, dst: Option<&Bytes>, kind: Kind, dir: Dir) -> Reply {
    let req = tri!(parse(args, src, dst.is_some(), kind, dir));
    let resp = ctx.session.resp;
    let items = match tri!(ctx.read_typed(&args[src], Value::as_zset)) {
        None => Vec::new(),
        Some(z) => match &req.spec {
            Spec::Rank(start, end) => by_rank(z, *start, *end, req.rev),
            Spec::Score(r) => by_score(z, r, req.offset, req.limit, req.rev),
            Spec::Lex(r) => by_lex(z, r, req.offset, req.limit, req.rev),
        },
    };
    match dst {
        Some(dst) => {
            let items = items.into_iter().map(|(m, s)| Item::new(&m, s)).collect();
            store_result(ctx, dst, items, "zrangestore")
        }
        None => members_reply(resp, items, req.withscores),
    }
}

/// Options first (each error as met), then their conflicts, then the range, as Redis checks them.
/// A REV, BYSCORE or BYLEX the command already implies is a syntax error, as is a repeated one.
fn parse(args: &[Bytes], src: usize, store: bool, mut kind: Kind, mut dir: Dir) -> Result<Request, Reply> {
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src + 3;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = int_arg(&args[j + 1])?;
            limit = int_arg(&args[j + 2])?;
            j += 2;
        } else if dir == Dir::Auto && is(a, "rev") {
            dir = Dir::Reverse;
        } else if kind == Kind::Auto && is(a, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && is(a, "byscore") {
            kind = Kind::Score;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
        j += 1;
    }
    let rev = dir == Dir::Reverse;
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return Err(Reply::error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(Reply::error("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    // Reverse score and lex ranges are given as max, min.
    let (lo, hi) =
        if rev && kind != Kind::Rank { (&args[src + 2], &args[src + 1]) } else { (&args[src + 1], &args[src + 2]) };
    let spec = match kind {
        Kind::Score => Spec::Score(score_range(lo, hi)?),
        Kind::Lex => Spec::Lex(lex_range(lo, hi)?),
        _ => Spec::Rank(int_arg(lo)?, int_arg(hi)?),
    };
    Ok(Request { spec, rev, withscores, offset, limit })
}

fn by_rank(z: &ZSet, start: i64, end: i64, rev: bool) -> Vec<(Vec<u8>, f64)> {
    let Some((start, end)) = crate::commands::index_range(z.len(), start, end) else { return Vec::new() };
    let from = if rev { z.len() - 1 - start } else { start };
    z.iter_at(from, rev).take(end - start + 1).map(|(m, s)| (m.to_vec(), s)).collect()
}

/// Where a LIMIT walk starts: `offset` steps past `first`; a negative offset walks off the end
/// (Redis's `while (ln && offset--)` never stops early).
fn skip(first: Option<usize>, offset: i64, rev: bool, len: usize) -> Option<usize> {
    let first = first?;
    let offset = usize::try_from(offset).ok()?;
    if rev {
        first.checked_sub(offset)
    } else {
        first.checked_add(offset).filter(|&i| i < len)
    }
}

/// A negative LIMIT count means no limit.
fn take_limit(limit: i64) -> usize {
    usize::try_from(limit).unwrap_or(usize::MAX)
}

fn by_score(z: &ZSet, r: &ScoreRange, offset: i64, limit: i64, rev: bool) -> Vec<(Vec<u8>, f64)> {
    if offset > 0 && offset as u64 >= z.len() as u64 {
        return Vec::new();
    }
    let first = if rev { z.last_in_score_range(r) } else { z.first_in_score_range(r) };
    let Some(start) = skip(first, offset, rev, z.len()) else { return Vec::new() };
    z.iter_at(start, rev)
        .take(take_limit(limit))
        .take_while(|&(_, s)| if rev { r.gte_min(s) } else { r.lte_max(s) })
        .map(|(m, s)| (m.to_vec(), s))
        .collect()
}

fn by_lex(z: &ZSet, r: &LexRange, offset: i64, limit: i64, rev: bool) -> Vec<(Vec<u8>, f64)> {
    let first = if rev { z.last_in_lex_range(r) } else { z.first_in_lex_range(r) };
    let Some(start) = skip(first, offset, rev, z.len()) else { return Vec::new() };
    z.iter_at(start, rev)
        .take(take_limit(limit))
        .take_while(|&(m, _)| if rev { r.gte_min(m) } else { r.lte_max(m) })
        .map(|(m, s)| (m.to_vec(), s))
        .collect()
}

pub fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let start = tri!(int_arg(&args[2]));
    let end = tri!(int_arg(&args[3]));
    remove_generic(ctx, &args[1], "zremrangebyrank", |z| match crate::commands::index_range(z.len(), start, end) {
        Some((a, b)) => z.remove_ranks(a, b + 1),
        None => 0,
    })
}

pub fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let r = tri!(score_range(&args[2], &args[3]));
    remove_generic(ctx, &args[1], "zremrangebyscore", |z| match z.first_in_score_range(&r) {
        Some(first) => {
            let n = z.count_in_score_range(&r);
            z.remove_ranks(first, first + n)
        }
        None => 0,
    })
}

pub fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let r = tri!(lex_range(&args[2], &args[3]));
    remove_generic(ctx, &args[1], "zremrangebylex", |z| match z.first_in_lex_range(&r) {
        Some(first) => {
            let n = z.count_in_lex_range(&r);
            z.remove_ranks(first, first + n)
        }
        None => 0,
    })
}

/// The ZREMRANGEBY* tail: remove, then notify, delete an emptied key and count the changes.
fn remove_generic(ctx: &mut Ctx, key: &[u8], event: &str, remove: impl FnOnce(&mut ZSet) -> usize) -> Reply {
    let Some(z) = tri!(ctx.write_typed(key, Value::as_zset_mut)) else {
        return Reply::Int(0);
    };
    let deleted = remove(z);
    if deleted > 0 {
        ctx.notify(notify::ZSET, event, key);
        ctx.delete_if_empty(key);
        ctx.dirty(deleted as u64);
    }
    Reply::Int(deleted as i64)
}
