//! The hash commands (t_hash.c): HSET, HSETNX, HMSET, HGET, HMGET, HGETALL, HKEYS, HVALS, HDEL,
//! HEXISTS, HLEN, HSTRLEN, HINCRBY, HINCRBYFLOAT, HRANDFIELD and HSCAN, with Redis 7.0's replies,
//! errors and checking order, keyspace notifications and dirty counts.

use bytes::Bytes;

use super::keys::{parse_cursor, ScanOptions};
use super::{errors, int_arg, notify, Ctx};
use crate::cmd;
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::propagation::argv;
use crate::types::hash::Limits;
use crate::types::Hash;
use crate::util::numbers::{i64_to_bytes, parse_i64, LongDouble};

pub static TABLE: &[CommandSpec] = &[
    cmd!("hset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", "2.0.0", "Set the string value of a hash field", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", hset),
    cmd!("hsetnx", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", "2.0.0", "Set the value of a hash field, only if the field does not exist", "O(1)", hsetnx),
    cmd!("hmset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", "2.0.0", "Set multiple hash fields to multiple values", "O(N) where N is the number of fields being set.", hmset),
    cmd!("hget", 3, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Get the value of a hash field", "O(1)", hget),
    cmd!("hmget", -3, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Get the values of all the given hash fields", "O(N) where N is the number of fields being requested.", hmget),
    cmd!("hgetall", 2, READONLY, (1, 1, 1), "hash", "2.0.0", "Get all the fields and values in a hash", "O(N) where N is the size of the hash.", hgetall),
    cmd!("hkeys", 2, READONLY, (1, 1, 1), "hash", "2.0.0", "Get all the fields in a hash", "O(N) where N is the size of the hash.", hkeys),
    cmd!("hvals", 2, READONLY, (1, 1, 1), "hash", "2.0.0", "Get all the values in a hash", "O(N) where N is the size of the hash.", hvals),
    cmd!("hdel", -3, WRITE | FAST, (1, 1, 1), "hash", "2.0.0", "Delete one or more hash fields", "O(N) where N is the number of fields to be removed.", hdel),
    cmd!("hexists", 3, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Determine if a hash field exists", "O(1)", hexists),
    cmd!("hlen", 2, READONLY | FAST, (1, 1, 1), "hash", "2.0.0", "Get the number of fields in a hash", "O(1)", hlen),
    cmd!("hstrlen", 3, READONLY | FAST, (1, 1, 1), "hash", "3.2.0", "Get the length of the value of a hash field", "O(1)", hstrlen),
    cmd!("hincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", "2.0.0", "Increment the integer value of a hash field by the given number", "O(1)", hincrby),
    cmd!("hincrbyfloat", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", "2.6.0", "Increment the float value of a hash field by the given amount", "O(1)", hincrbyfloat),
    cmd!("hrandfield", -2, READONLY, (1, 1, 1), "hash", "6.2.0", "Get one or multiple random fields from a hash", "O(N) where N is the number of fields returned", hrandfield),
    cmd!("hscan", -3, READONLY, (1, 1, 1), "hash", "2.8.0", "Incrementally iterate hash fields and associated values", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", hscan),
];

/// hash-max-listpack-entries / -value as currently configured.
fn limits(ctx: &Ctx) -> Limits {
    let e = &ctx.state.hot.encoding;
    Limits { max_entries: e.hash_max_listpack_entries, max_value: e.hash_max_listpack_value }
}

/// Runs `f` on the hash at `key`, or on a new one if the key is missing (Redis's
/// hashTypeLookupWriteOrCreate). A new hash is stored only if `f` left something in it, so a
/// failed write never leaves an empty key behind.
fn with_hash_or_new<R>(ctx: &mut Ctx, key: &[u8], f: impl FnOnce(&mut Hash, Limits) -> R) -> Result<R, Reply> {
    let limits = limits(ctx);
    if let Some(h) = ctx.write_typed(key, Value::as_hash_mut)? {
        return Ok(f(h, limits));
    }
    let mut h = Hash::new();
    let r = f(&mut h, limits);
    if !h.is_empty() {
        ctx.db().set(key, Value::Hash(Box::new(h)), Ttl::Keep);
    }
    Ok(r)
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

/// HSET and HMSET: they differ only in their reply.
fn hset_generic(ctx: &mut Ctx, args: &[Bytes], name: &str) -> Reply {
    if args.len() % 2 == 1 {
        return Reply::error(format!("ERR wrong number of arguments for '{name}' command"));
    }
    let key = &args[1];
    let pairs = &args[2..];
    let added = tri!(with_hash_or_new(ctx, key, |h, limits| {
        h.convert_if_too_long(pairs.iter().map(|a| a.as_ref()), limits);
        pairs.chunks_exact(2).filter(|fv| h.set(&fv[0], &fv[1], limits)).count()
    }));
    ctx.notify(notify::HASH, "hset", key);
    // Redis counts every pair written, new or not.
    ctx.dirty((pairs.len() / 2) as u64);
    if name == "hmset" {
        Reply::OK
    } else {
        Reply::Int(added as i64)
    }
}

fn hset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    hset_generic(ctx, args, "hset")
}

fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    hset_generic(ctx, args, "hmset")
}

fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, field, value) = (&args[1], &args[2], &args[3]);
    let set = tri!(with_hash_or_new(ctx, key, |h, limits| {
        if h.contains(field) {
            return false;
        }
        h.convert_if_too_long([field.as_ref(), value.as_ref()], limits);
        h.set(field, value, limits);
        true
    }));
    if !set {
        return Reply::Int(0);
    }
    ctx.notify(notify::HASH, "hset", key);
    ctx.dirty(1);
    Reply::Int(1)
}

fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let Some(h) = tri!(ctx.write_typed(key, Value::as_hash_mut)) else {
        return Reply::Int(0);
    };
    let mut deleted = 0;
    for field in &args[2..] {
        if h.remove(field) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        ctx.notify(notify::HASH, "hdel", key);
        ctx.delete_if_empty(key);
        ctx.dirty(deleted);
    }
    Reply::Int(deleted as i64)
}

fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, field) = (&args[1], &args[2]);
    let incr = tri!(int_arg(&args[3]));
    let result = tri!(with_hash_or_new(ctx, key, |h, limits| {
        let current = match h.get(field) {
            None => 0,
            Some(v) => parse_i64(v).ok_or_else(|| Reply::error("ERR hash value is not an integer"))?,
        };
        let sum = current.checked_add(incr).ok_or_else(|| Reply::error(errors::OVERFLOW))?;
        h.set(field, &i64_to_bytes(sum), limits);
        Ok(sum)
    }));
    let sum = tri!(result);
    ctx.notify(notify::HASH, "hincrby", key);
    ctx.dirty(1);
    Reply::Int(sum)
}

fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, field) = (&args[1], &args[2]);
    let Some(incr) = LongDouble::parse(&args[3]) else {
        return Reply::error(errors::NOT_FLOAT);
    };
    if !incr.is_finite() {
        return Reply::error("ERR value is NaN or Infinity");
    }
    // Redis computes in long double (80-bit on x86-64), as INCRBYFLOAT does.
    let result = tri!(with_hash_or_new(ctx, key, |h, limits| {
        let current = match h.get(field) {
            None => LongDouble::ZERO,
            Some(v) => LongDouble::parse(v).ok_or_else(|| Reply::error("ERR hash value is not a float"))?,
        };
        let sum = current.add(incr);
        if !sum.is_finite() {
            return Err(Reply::error("ERR increment would produce NaN or Infinity"));
        }
        let text = sum.to_human_string().into_bytes();
        h.set(field, &text, limits);
        Ok(text)
    }));
    let text = tri!(result);
    ctx.notify(notify::HASH, "hincrbyfloat", key);
    ctx.dirty(1);
    // Replayed as the result, so float arithmetic never diverges.
    ctx.propagate_as(|| argv(&[b"HSET", key, field, &text]));
    Reply::Bulk(text)
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

fn hget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(ctx.read_typed(&args[1], Value::as_hash));
    match h.and_then(|h| h.get(&args[2])) {
        Some(v) => Reply::bulk(v),
        None => Reply::Nil,
    }
}

fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // A missing key is an empty hash: one nil per field.
    let h = tri!(ctx.read_typed(&args[1], Value::as_hash));
    let values = args[2..].iter().map(|f| match h.and_then(|h| h.get(f)) {
        Some(v) => Reply::bulk(v),
        None => Reply::Nil,
    });
    Reply::Array(values.collect())
}

fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(h) = tri!(ctx.read_typed(&args[1], Value::as_hash)) else {
        return Reply::Map(Vec::new());
    };
    Reply::Map(h.iter().map(|(f, v)| (Reply::bulk(f), Reply::bulk(v))).collect())
}

fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(h) = tri!(ctx.read_typed(&args[1], Value::as_hash)) else {
        return Reply::Array(Vec::new());
    };
    Reply::Array(h.iter().map(|(f, _)| Reply::bulk(f)).collect())
}

fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(h) = tri!(ctx.read_typed(&args[1], Value::as_hash)) else {
        return Reply::Array(Vec::new());
    };
    Reply::Array(h.iter().map(|(_, v)| Reply::bulk(v)).collect())
}

fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(ctx.read_typed(&args[1], Value::as_hash));
    Reply::Int(h.is_some_and(|h| h.contains(&args[2])) as i64)
}

fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(ctx.read_typed(&args[1], Value::as_hash));
    Reply::Int(h.map_or(0, |h| h.len()) as i64)
}

fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let h = tri!(ctx.read_typed(&args[1], Value::as_hash));
    Reply::Int(h.and_then(|h| h.get(&args[2])).map_or(0, |v| v.len()) as i64)
}

// ---------------------------------------------------------------------------
// HRANDFIELD
// ---------------------------------------------------------------------------

/// `strcasecmp(arg, word) == 0`: C compares up to the first NUL byte.
fn is_word(arg: &[u8], word: &str) -> bool {
    let arg = arg.iter().position(|&c| c == 0).map_or(arg, |i| &arg[..i]);
    arg.eq_ignore_ascii_case(word.as_bytes())
}

fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        let h = tri!(ctx.read_typed(&args[1], Value::as_hash));
        return match h.and_then(Hash::random_pair) {
            Some((field, _)) => Reply::bulk(field),
            None => Reply::Nil,
        };
    }
    // The count's range, then the syntax, then WITHVALUES' narrower range, before the key.
    let count = tri!(int_arg(&args[2]));
    if count == i64::MIN {
        return Reply::error(format!("ERR value is out of range, value must between {} and {}", -i64::MAX, i64::MAX));
    }
    if args.len() > 4 || (args.len() == 4 && !is_word(&args[3], "withvalues")) {
        return Reply::error(errors::SYNTAX);
    }
    let with_values = args.len() == 4;
    if with_values && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Reply::error("ERR value is out of range");
    }
    let resp3 = ctx.session.resp >= 3;
    // Like Redis, a reply of repeated picks stops growing once it is past the client's hard output
    // limit (the connection then drops the client); with no limit it is as large as asked.
    let hard_limit = ctx.state.hot.output_limits[0].0;
    let Some(h) = tri!(ctx.read_typed(&args[1], Value::as_hash)) else {
        return Reply::Array(Vec::new());
    };
    let mut out = PairsReply { items: Vec::new(), bytes: 0, with_values, resp3 };
    add_random_fields(&mut out, h, count, hard_limit);
    Reply::Array(out.items)
}

/// HRANDFIELD with a count: a negative count draws with repetition, a positive one distinct
/// fields (all of them, in order, when it covers the hash).
fn add_random_fields(out: &mut PairsReply, h: &Hash, count: i64, hard_limit: u64) {
    let wanted = count.unsigned_abs();
    if count < 0 || count == 1 {
        // Grown as it fills: a huge count costs what it returns, nothing up front.
        out.items.reserve(wanted.min(1024) as usize);
        h.random_pairs_with_repeats(wanted, |pair| {
            out.push(pair);
            hard_limit == 0 || out.bytes <= hard_limit
        });
    } else if wanted >= h.len() as u64 {
        h.iter().for_each(|pair| out.push(pair));
    } else {
        h.distinct_random_pairs(wanted as usize).into_iter().for_each(|pair| out.push(pair));
    }
}

/// HRANDFIELD's reply: fields, or with values a flat field, value, ... array in RESP2 and
/// [field, value] pairs in RESP3.
struct PairsReply {
    items: Vec<Reply>,
    /// A lower bound of the encoded size so far (each bulk string costs at least 5 more bytes).
    bytes: u64,
    with_values: bool,
    resp3: bool,
}

impl PairsReply {
    fn push(&mut self, (field, value): (&[u8], &[u8])) {
        self.bytes += field.len() as u64 + 5;
        let field = Reply::bulk(field);
        if !self.with_values {
            self.items.push(field);
            return;
        }
        self.bytes += value.len() as u64 + 5;
        let value = Reply::bulk(value);
        if self.resp3 {
            self.items.push(Reply::Array(vec![field, value]));
        } else {
            self.items.push(field);
            self.items.push(value);
        }
    }
}

// ---------------------------------------------------------------------------
// HSCAN
// ---------------------------------------------------------------------------

fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(cursor) = parse_cursor(&args[2]) else {
        return Reply::error("ERR invalid cursor");
    };
    // Options are parsed only once the key is found, as Redis does.
    let Some(h) = tri!(ctx.read_typed(&args[1], Value::as_hash)) else {
        return scan_reply(0, Vec::new());
    };
    let opts = tri!(ScanOptions::parse(&args[3..], false));
    let (pairs, next) = h.scan(cursor, opts.count);
    let mut items = Vec::new();
    for (field, value) in pairs.into_iter().filter(|(field, _)| opts.matches(field)) {
        items.push(Reply::bulk(field));
        items.push(Reply::bulk(value));
    }
    scan_reply(next, items)
}

fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::Array(items)])
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;

    #[test]
    fn hash_commands() {
        Harness::new().check(&[
            ("HSET h a 1 b 2", ":2\r\n"),
            ("HSET h a 3", ":0\r\n"),
            ("HGET h a", "$1\r\n3\r\n"),
            ("HGET h zz", "$-1\r\n"),
            ("HGET nokey a", "$-1\r\n"),
            ("HMGET h a zz b", "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n2\r\n"),
            ("HLEN h", ":2\r\n"),
            ("HSTRLEN h a", ":1\r\n"),
            ("HEXISTS h b", ":1\r\n"),
            ("HDEL h b zz", ":1\r\n"),
            ("HSETNX h a 9", ":0\r\n"),
            ("HSETNX h c 9", ":1\r\n"),
            ("HINCRBY h a 5", ":8\r\n"),
            ("HINCRBY h a x", "-ERR value is not an integer or out of range\r\n"),
            ("HINCRBY h c 9223372036854775807", "-ERR increment or decrement would overflow\r\n"),
            ("HINCRBYFLOAT h a 1.5", "$3\r\n9.5\r\n"),
            // Redis adds in long double: 1e400 is a finite increment, printed with %.17Lg.
            ("HINCRBYFLOAT h f 1e400", "$401\r\n10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880\r\n"),
            ("HSET h s str", ":1\r\n"),
            ("HINCRBY h s 1", "-ERR hash value is not an integer\r\n"),
            ("HINCRBYFLOAT h s 1", "-ERR hash value is not a float\r\n"),
            ("HSET h a", "-ERR wrong number of arguments for 'hset' command\r\n"),
            ("HMSET h x 1", "+OK\r\n"),
            ("HKEYS nokey", "*0\r\n"),
            ("HGETALL nokey", "*0\r\n"),
            ("HRANDFIELD nokey", "$-1\r\n"),
            ("HRANDFIELD nokey 2", "*0\r\n"),
            ("HRANDFIELD h 0", "*0\r\n"),
            ("HDEL h a c s x f", ":5\r\n"),
            ("EXISTS h", ":0\r\n"),
            ("SET str v", "+OK\r\n"),
            ("HGET str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HSET str a 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
        ]);
    }

    #[test]
    fn encodings_follow_the_config_and_order_is_insertion_order() {
        let mut h = Harness::with_config("hash-max-listpack-entries 2\nhash-max-listpack-value 64\n");
        h.check(&[
            ("HSET h b 1 a 2", ":2\r\n"),
            ("OBJECT ENCODING h", "$8\r\nlistpack\r\n"),
            ("HGETALL h", "*4\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n"),
            ("HKEYS h", "*2\r\n$1\r\nb\r\n$1\r\na\r\n"),
            ("HVALS h", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("HSET h c 3", ":1\r\n"),
            ("OBJECT ENCODING h", "$9\r\nhashtable\r\n"),
            ("HDEL h c", ":1\r\n"),
            ("OBJECT ENCODING h", "$9\r\nhashtable\r\n"),
            ("HSET h2 f 12345678901234567890123456789012345678901234567890123456789012345", ":1\r\n"),
            ("OBJECT ENCODING h2", "$9\r\nhashtable\r\n"),
            ("HSET h3 a 1", ":1\r\n"),
        ]);
        assert!(!h.run(&["HELLO", "3"]).is_error());
        h.check(&[
            ("HGETALL h3", "%1\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("HRANDFIELD h3 1 WITHVALUES", "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
        ]);
    }
}
