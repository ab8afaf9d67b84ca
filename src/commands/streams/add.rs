//! XADD and XTRIM, with the trimming options they share (streamParseAddOrTrimArgsOrReply).

use bytes::Bytes;

use super::{arity_error, c_str, id_bulk, id_error, is_word, must_obey};
use crate::commands::{errors, int_arg, notify, Ctx};
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;
use crate::types::stream::{AppendError, Stream, StreamId, TrimArgs, TrimStrategy, XaddId};

/// What the options said.
struct Parsed {
    /// XADD's explicit ID (None for `*`).
    id: Option<XaddId>,
    no_mkstream: bool,
    trim: Option<TrimArgs>,
    /// Index of the MAXLEN/MINID value, rewritten for propagation after an approximate trim.
    trim_arg_index: usize,
    /// Index of the ID argument (XADD).
    id_index: usize,
}

fn parse(ctx: &Ctx, args: &[Bytes], xadd: bool) -> Result<Parsed, Reply> {
    let mut p = Parsed { id: None, no_mkstream: false, trim: None, trim_arg_index: 0, id_index: args.len() };
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut strategy: Option<TrimStrategy> = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i];
        if xadd && c_str(opt) == b"*" {
            break;
        } else if (is_word(opt, "maxlen") || is_word(opt, "minid")) && more > 0 {
            if strategy.is_some() {
                return Err(Reply::error(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            approx = false;
            let next = c_str(&args[i + 1]);
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if is_word(opt, "maxlen") {
                let n = int_arg(&args[i + 1])?;
                if n < 0 {
                    return Err(Reply::error("ERR The MAXLEN argument must be >= 0."));
                }
                strategy = Some(TrimStrategy::MaxLen(n as u64));
            } else {
                strategy = Some(TrimStrategy::MinId(StreamId::parse_strict(&args[i + 1], 0).map_err(id_error)?));
            }
            i += 1;
            p.trim_arg_index = i;
        } else if is_word(opt, "limit") && more > 0 {
            limit = int_arg(&args[i + 1])?;
            if limit < 0 {
                return Err(Reply::error("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is_word(opt, "nomkstream") {
            p.no_mkstream = true;
        } else if xadd {
            p.id = Some(StreamId::parse_for_xadd(opt).map_err(id_error)?);
            break;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
        i += 1;
    }
    p.id_index = i;
    if limit != 0 && strategy.is_none() {
        return Err(Reply::error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && strategy.is_none() {
        return Err(Reply::error("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    if must_obey(ctx) {
        limit = 0;
    } else if limit_given {
        if !approx {
            return Err(Reply::error("ERR syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else if approx {
        let per_node = ctx.state.hot.encoding.stream_node_max_entries as i64;
        limit = per_node.saturating_mul(100);
        if limit <= 0 {
            limit = 10000;
        }
        limit = limit.min(1_000_000);
    } else {
        limit = 0;
    }
    p.trim = strategy.map(|strategy| TrimArgs { strategy, approx, limit: limit as u64 });
    Ok(p)
}

/// After an approximate trim, what is propagated is the exact equivalent (`=` and the length or
/// first ID the stream now has), so that replicas and the AOF trim the same entries
/// (streamRewriteApproxSpecifier, streamRewriteTrimArgument).
fn rewrite_trim(argv: &mut [Bytes], p: &Parsed, s: &Stream) {
    let Some(trim) = p.trim else { return };
    if !trim.approx {
        return;
    }
    argv[p.trim_arg_index - 1] = Bytes::from_static(b"=");
    argv[p.trim_arg_index] = match trim.strategy {
        TrimStrategy::MaxLen(_) => Bytes::from(s.len().to_string()),
        TrimStrategy::MinId(_) => id_bulk(s.edge_id(true, false)),
    };
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
pub(super) fn xadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let p = tri!(parse(ctx, args, true));
    let field_pos = p.id_index + 1;
    if args.len() < field_pos + 2 || (args.len() - field_pos) % 2 == 1 {
        return arity_error(args);
    }
    if let Some(XaddId { id, seq_given: true }) = p.id {
        if id.is_zero() {
            return Reply::error("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let key = &args[1];
    let limits = ctx.state.hot.encoding.stream_nodes();
    let now = ctx.now_ms;
    let exists = match tri!(ctx.write_typed(key, Value::as_stream_mut)) {
        Some(_) => true,
        None if p.no_mkstream => return Reply::Nil,
        None => false,
    };
    if !exists {
        ctx.db().set(key, Value::Stream(Box::new(Stream::new())), Ttl::Keep);
    }
    // What replicas and the AOF get: the ID given or made and an exact trim, when they are fed.
    let propagating = ctx.propagating();
    let Some(s) = ctx.db().get_mut(key).and_then(|e| e.value_mut().as_stream_mut()) else {
        return Reply::error(errors::WRONGTYPE);
    };
    if s.last_id() == StreamId::MAX {
        return Reply::error("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match s.append(&args[field_pos..], p.id, now, limits) {
        Ok(id) => id,
        Err(AppendError::NotGreater) => {
            return Reply::error("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        }
        Err(AppendError::TooLarge) => return Reply::error("ERR Elements are too large to be stored"),
    };
    let mut trimmed = false;
    let mut argv: Option<Vec<Bytes>> = None;
    if let Some(trim) = p.trim {
        trimmed = s.trim(trim) > 0;
        if trim.approx && propagating {
            let mut v = args.to_vec();
            rewrite_trim(&mut v, &p, s);
            argv = Some(v);
        }
    }
    if propagating && !matches!(p.id, Some(XaddId { seq_given: true, .. })) {
        argv.get_or_insert_with(|| args.to_vec())[p.id_index] = id_bulk(id);
    }
    ctx.dirty(1);
    // Readers blocked on the key get a look, even when the trim left nothing new to read.
    let db = ctx.session.db;
    ctx.state.blocking.signal(db, key);
    ctx.notify(notify::STREAM, "xadd", key);
    if trimmed {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    if let Some(v) = argv {
        ctx.propagate_as(|| v);
    }
    Reply::Bulk(id.to_bytes())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub(super) fn xtrim(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let p = tri!(parse(ctx, args, false));
    let key = &args[1];
    let propagating = ctx.propagating();
    let Some(s) = tri!(ctx.write_typed(key, Value::as_stream_mut)) else {
        return Reply::Int(0);
    };
    let Some(trim) = p.trim else { return Reply::Int(0) };
    let deleted = s.trim(trim);
    if deleted > 0 {
        let mut argv = None;
        if trim.approx && propagating {
            let mut v = args.to_vec();
            rewrite_trim(&mut v, &p, s);
            argv = Some(v);
        }
        ctx.notify(notify::STREAM, "xtrim", key);
        ctx.dirty(deleted);
        if let Some(v) = argv {
            ctx.propagate_as(|| v);
        }
    }
    Reply::Int(deleted as i64)
}
