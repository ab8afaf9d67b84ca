//! The string family: GET/SET and friends, counters, ranges, LCS (the bit commands are in
//! `bitmaps.rs`). Behaviour, replies and error texts follow Redis 7.0 (t_string.c), including the
//! order in which arguments and keys are checked, since that decides which error a client sees.

use std::borrow::Cow;

use bytes::Bytes;

use super::{errors, int_arg, notify, Ctx};
use crate::cmd;
use crate::keyspace::{Entry, Ttl, Value};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::propagation::argv;
use crate::util::numbers::{parse_i64, LongDouble};

pub static TABLE: &[CommandSpec] = &[
    cmd!("get", 2, READONLY | FAST, (1, 1, 1), "string", "1.0.0", "Get the value of a key", "O(1)", get),
    cmd!("set", -3, WRITE | DENYOOM, (1, 1, 1), "string", "1.0.0", "Set the string value of a key", "O(1)", set),
    cmd!("setnx", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "1.0.0", "Set the value of a key, only if the key does not exist", "O(1)", setnx),
    cmd!("setex", 4, WRITE | DENYOOM, (1, 1, 1), "string", "2.0.0", "Set the value and expiration of a key", "O(1)", setex),
    cmd!("psetex", 4, WRITE | DENYOOM, (1, 1, 1), "string", "2.6.0", "Set the value and expiration in milliseconds of a key", "O(1)", psetex),
    cmd!("getset", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "1.0.0", "Set the string value of a key and return its old value", "O(1)", getset),
    cmd!("getdel", 2, WRITE | FAST, (1, 1, 1), "string", "6.2.0", "Get the value of a key and delete the key", "O(1)", getdel),
    cmd!("getex", -2, WRITE | FAST, (1, 1, 1), "string", "6.2.0", "Get the value of a key and optionally set its expiration", "O(1)", getex),
    cmd!("mget", -2, READONLY | FAST, (1, -1, 1), "string", "1.0.0", "Get the values of all the given keys", "O(N) where N is the number of keys to retrieve.", mget),
    cmd!("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", "1.0.1", "Set multiple keys to multiple values", "O(N) where N is the number of keys to set.", mset),
    cmd!("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), "string", "1.0.1", "Set multiple keys to multiple values, only if none of the keys exist", "O(N) where N is the number of keys to set.", msetnx),
    cmd!("append", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "2.0.0", "Append a value to a key", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", append),
    cmd!("strlen", 2, READONLY | FAST, (1, 1, 1), "string", "2.2.0", "Get the length of the value stored in a key", "O(1)", strlen),
    cmd!("incr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "1.0.0", "Increment the integer value of a key by one", "O(1)", incr),
    cmd!("decr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "1.0.0", "Decrement the integer value of a key by one", "O(1)", decr),
    cmd!("incrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "1.0.0", "Increment the integer value of a key by the given amount", "O(1)", incrby),
    cmd!("decrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "1.0.0", "Decrement the integer value of a key by the given number", "O(1)", decrby),
    cmd!("incrbyfloat", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", "2.6.0", "Increment the float value of a key by the given amount", "O(1)", incrbyfloat),
    cmd!("getrange", 4, READONLY, (1, 1, 1), "string", "2.4.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", getrange),
    cmd!("substr", 4, READONLY, (1, 1, 1), "string", "1.0.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", getrange),
    cmd!("setrange", 4, WRITE | DENYOOM, (1, 1, 1), "string", "2.2.0", "Overwrite part of a string at key starting at the specified offset", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", setrange),
    cmd!("lcs", -3, READONLY, (1, 2, 1), "string", "7.0.0", "Find longest common substring", "O(N*M) where N and M are the lengths of s1 and s2, respectively", lcs),
];

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

pub(super) fn wrongtype() -> Reply {
    Reply::error(errors::WRONGTYPE)
}

/// Asked through the type name rather than by matching variants, so values of types added later
/// are refused with WRONGTYPE without touching this file.
fn is_string(v: &Value) -> bool {
    v.type_name() == "string"
}

/// Redis compares many options with C string functions, which stop at the first NUL byte.
pub(super) fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// `strcasecmp(arg, word) == 0`.
pub(super) fn is_word(arg: &[u8], word: &str) -> bool {
    cstr(arg).eq_ignore_ascii_case(word.as_bytes())
}

/// The string at `key` for a read (lookupKeyRead: counts hits and misses, expires lazily).
pub(super) fn read_string<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<Cow<'a, [u8]>>, Reply> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) if is_string(e.value()) => e.value().as_bytes().map(Some).ok_or_else(wrongtype),
        Some(_) => Err(wrongtype()),
    }
}

/// The live entry at `key` for a write (lookupKeyWrite + checkType).
pub(super) fn write_entry<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut Entry>, Reply> {
    match ctx.lookup_write(key) {
        Some(e) if !is_string(e.value()) => Err(wrongtype()),
        other => Ok(other),
    }
}

fn value_len(v: &Value) -> usize {
    v.as_bytes().map_or(0, |b| b.len())
}

/// checkStringLength: the grown string must fit proto-max-bulk-len (and not overflow).
fn check_string_length(size: u64, append: u64, max: i64) -> Result<(), Reply> {
    match size.checked_add(append) {
        Some(total) if total <= max.max(0) as u64 => Ok(()),
        _ => Err(Reply::error(STRING_TOO_LONG)),
    }
}

/// Grows the string to `len` bytes with zeros. Unlike `resize`, which writes byte by byte in
/// unoptimised builds (seconds for SETBIT's 512 MB maximum), this is one memset.
pub(super) fn zero_pad(bytes: &mut thin_vec::ThinVec<u8>, len: usize) {
    let old = bytes.len();
    if len <= old {
        return;
    }
    bytes.reserve(len - old);
    // SAFETY: reserve made the capacity at least `len`; bytes old..len are written before the
    // length covers them.
    unsafe {
        std::ptr::write_bytes(bytes.as_mut_ptr().add(old), 0, len - old);
        bytes.set_len(len);
    }
}

/// getGenericCommand: the reply to GET, or WRONGTYPE. Used by SET ... GET, GETSET and GETDEL.
fn get_generic(ctx: &mut Ctx, key: &[u8]) -> Result<Reply, Reply> {
    Ok(match read_string(ctx, key)? {
        Some(b) => Reply::Bulk(b.into_owned()),
        None => Reply::Nil,
    })
}

// ---------------------------------------------------------------------------
// GET / SET family
// ---------------------------------------------------------------------------

const OBJ_NX: u32 = 1 << 0;
const OBJ_XX: u32 = 1 << 1;
const OBJ_GET: u32 = 1 << 2;
const OBJ_KEEPTTL: u32 = 1 << 3;
const OBJ_PERSIST: u32 = 1 << 4;
const OBJ_EX: u32 = 1 << 5;
const OBJ_PX: u32 = 1 << 6;
const OBJ_EXAT: u32 = 1 << 7;
const OBJ_PXAT: u32 = 1 << 8;
const ANY_EXPIRE: u32 = OBJ_EX | OBJ_PX | OBJ_EXAT | OBJ_PXAT;

struct ExtArgs<'a> {
    flags: u32,
    expire: Option<&'a [u8]>,
    unit_seconds: bool,
}

/// parseExtendedStringArgumentsOrReply: SET's options from argv[3], GETEX's from argv[2]. Each
/// option is refused (syntax error) when a conflicting one came before it; repeating the same
/// option is allowed and the last expire wins.
fn parse_ext_args(args: &[Bytes], for_set: bool) -> Result<ExtArgs<'_>, Reply> {
    let mut out = ExtArgs { flags: 0, expire: None, unit_seconds: true };
    let mut j = if for_set { 3 } else { 2 };
    while j < args.len() {
        let opt = cstr(&args[j]);
        let next = args.get(j + 1);
        let f = out.flags;
        let eq = |w: &str| opt.eq_ignore_ascii_case(w.as_bytes());
        if eq("nx") && f & OBJ_XX == 0 && for_set {
            out.flags |= OBJ_NX;
        } else if eq("xx") && f & OBJ_NX == 0 && for_set {
            out.flags |= OBJ_XX;
        } else if eq("get") && for_set {
            out.flags |= OBJ_GET;
        } else if eq("keepttl") && f & (OBJ_PERSIST | ANY_EXPIRE) == 0 && for_set {
            out.flags |= OBJ_KEEPTTL;
        } else if eq("persist") && !for_set && f & (ANY_EXPIRE | OBJ_KEEPTTL) == 0 {
            out.flags |= OBJ_PERSIST;
        } else if let (Some(n), Some((flag, secs))) = (next, expire_option(opt, f)) {
            out.flags |= flag;
            out.unit_seconds = secs;
            out.expire = Some(n);
            j += 1;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
        j += 1;
    }
    Ok(out)
}

/// EX/PX/EXAT/PXAT when allowed after `flags`: the flag and whether its unit is seconds.
fn expire_option(opt: &[u8], flags: u32) -> Option<(u32, bool)> {
    let (flag, secs) = if opt.eq_ignore_ascii_case(b"ex") {
        (OBJ_EX, true)
    } else if opt.eq_ignore_ascii_case(b"px") {
        (OBJ_PX, false)
    } else if opt.eq_ignore_ascii_case(b"exat") {
        (OBJ_EXAT, true)
    } else if opt.eq_ignore_ascii_case(b"pxat") {
        (OBJ_PXAT, false)
    } else {
        return None;
    };
    // The same option may repeat; any other expire form, KEEPTTL or PERSIST conflicts.
    let conflicts = (ANY_EXPIRE & !flag) | OBJ_KEEPTTL | OBJ_PERSIST;
    (flags & conflicts == 0).then_some((flag, secs))
}

/// getExpireMillisecondsOrReply: the absolute expire time in ms. Zero, negative and overflowing
/// values are refused with the command's name in the error.
fn expire_at_ms(now_ms: u64, arg: &[u8], flags: u32, unit_seconds: bool, cmd: &str) -> Result<u64, Reply> {
    let mut ms = int_arg(arg)?;
    let invalid = || Reply::error(format!("ERR invalid expire time in '{cmd}' command"));
    if ms <= 0 || (unit_seconds && ms > i64::MAX / 1000) {
        return Err(invalid());
    }
    if unit_seconds {
        ms *= 1000;
    }
    if flags & (OBJ_EX | OBJ_PX) != 0 {
        // Redis adds in signed 64-bit and then refuses a non-positive result.
        ms = ms.wrapping_add(now_ms as i64);
    }
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms as u64)
}

struct SetCall<'a> {
    flags: u32,
    key: &'a [u8],
    val: &'a [u8],
    expire: Option<&'a [u8]>,
    unit_seconds: bool,
    cmd: &'static str,
    ok: Reply,
    abort: Reply,
}

/// setGenericCommand.
fn set_generic(ctx: &mut Ctx, c: SetCall) -> Reply {
    let when = match c.expire {
        Some(e) => Some(tri!(expire_at_ms(ctx.now_ms, e, c.flags, c.unit_seconds, c.cmd))),
        None => None,
    };
    let old = if c.flags & OBJ_GET != 0 { Some(tri!(get_generic(ctx, c.key))) } else { None };
    let found = ctx.lookup_write(c.key).is_some();
    if (c.flags & OBJ_NX != 0 && found) || (c.flags & OBJ_XX != 0 && !found) {
        return old.unwrap_or(c.abort);
    }
    let ttl = match when {
        // A time already past is stored as is: the key then expires on its next access.
        Some(at) => Ttl::At(at),
        None if c.flags & OBJ_KEEPTTL != 0 => Ttl::Keep,
        None => Ttl::Clear,
    };
    crate::server::lazyfree::server_overwrite(ctx.state, ctx.session.db, c.key, Value::string(c.val), ttl);
    ctx.dirty(1);
    ctx.notify(notify::STRING, "set", c.key);
    if let Some(at) = when {
        ctx.notify(notify::GENERIC, "expire", c.key);
        // Replayed later, a relative time would mean a later expiry: whatever the form and the
        // other options, Redis replays SET key value PXAT <ms>.
        ctx.propagate_as(|| argv(&[b"SET", c.key, c.val, b"PXAT", at.to_string().as_bytes()]));
    }
    old.unwrap_or(c.ok)
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    tri!(get_generic(ctx, &args[1]))
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = tri!(parse_ext_args(args, true));
    let reply = set_generic(
        ctx,
        SetCall {
            flags: opts.flags,
            key: &args[1],
            val: &args[2],
            expire: opts.expire,
            unit_seconds: opts.unit_seconds,
            cmd: "set",
            ok: Reply::OK,
            abort: Reply::Nil,
        },
    );
    // The old value is of no use to a replay: replayed without GET (with an expiry, the PXAT
    // form set_generic recorded already has none).
    if opts.flags & OBJ_GET != 0 && opts.expire.is_none() {
        ctx.propagate_as(|| {
            let options = args[3..].iter().filter(|a| !is_word(a, "get"));
            args[..3].iter().chain(options).cloned().collect()
        });
    }
    reply
}

fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let call = SetCall {
        flags: OBJ_NX,
        key: &args[1],
        val: &args[2],
        expire: None,
        unit_seconds: true,
        cmd: "setnx",
        ok: Reply::Int(1),
        abort: Reply::Int(0),
    };
    set_generic(ctx, call)
}

fn setex_generic(ctx: &mut Ctx, args: &[Bytes], seconds: bool, cmd: &'static str) -> Reply {
    let call = SetCall {
        flags: if seconds { OBJ_EX } else { OBJ_PX },
        key: &args[1],
        val: &args[3],
        expire: Some(&args[2]),
        unit_seconds: seconds,
        cmd,
        ok: Reply::OK,
        abort: Reply::Nil,
    };
    set_generic(ctx, call)
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setex_generic(ctx, args, true, "setex")
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    setex_generic(ctx, args, false, "psetex")
}

fn getset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let old = tri!(get_generic(ctx, &args[1]));
    crate::server::lazyfree::server_overwrite(ctx.state, ctx.session.db, &args[1], Value::string(&args[2]), Ttl::Clear);
    ctx.notify(notify::STRING, "set", &args[1]);
    ctx.dirty(1);
    // Replayed as SET key value, as Redis does.
    ctx.propagate_as(|| argv(&[b"SET", &args[1], &args[2]]));
    old
}

fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let old = tri!(get_generic(ctx, &args[1]));
    if matches!(old, Reply::Nil) {
        return old;
    }
    // As DEL does under lazyfree-lazy-user-del: freed in the background, replayed as UNLINK.
    let lazy = ctx.state.config.bool(crate::ckey!("lazyfree-lazy-user-del"));
    if let Some(entry) = ctx.db().remove(&args[1]) {
        if lazy {
            crate::server::lazyfree::free_entry(entry);
        }
        ctx.notify(notify::GENERIC, "del", &args[1]);
        ctx.dirty(1);
        let del: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        ctx.propagate_as(|| argv(&[del, &args[1]]));
    }
    old
}

fn getex(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = tri!(parse_ext_args(args, false));
    let key = &args[1];
    let value = match tri!(read_string(ctx, key)) {
        None => return Reply::Nil,
        Some(b) => b.into_owned(),
    };
    let now = ctx.now_ms;
    let when = match opts.expire {
        Some(e) => Some(tri!(expire_at_ms(now, e, opts.flags, opts.unit_seconds, "getex"))),
        None => None,
    };
    let event = match when {
        // An absolute time already past deletes the key, as EXPIREAT would.
        Some(at) if opts.flags & (OBJ_EXAT | OBJ_PXAT) != 0 && ctx.already_expired(at as i64) => {
            crate::server::lazyfree::expire_delete(ctx.state, ctx.session.db, key).then_some("del")
        }
        Some(at) => ctx.db().set_expire(key, at).then_some("expire"),
        None => (opts.flags & OBJ_PERSIST != 0 && ctx.db().persist(key)).then_some("persist"),
    };
    if let Some(event) = event {
        ctx.notify(notify::GENERIC, event, key);
        ctx.dirty(1);
        // Replayed as what it did: PEXPIREAT <ms>, the deletion of an expired key, or PERSIST.
        let del = super::keys::expired_deletion(ctx.state);
        ctx.propagate_as(|| match (event, when) {
            ("expire", Some(at)) => argv(&[b"PEXPIREAT", key, at.to_string().as_bytes()]),
            ("del", _) => argv(&[del, key]),
            _ => argv(&[b"PERSIST", key]),
        });
    }
    Reply::Bulk(value)
}

fn mget(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut out = Vec::with_capacity(args.len() - 1);
    for key in &args[1..] {
        // Keys of other types read as nil here instead of failing the whole command.
        out.push(match read_string(ctx, key) {
            Ok(Some(b)) => Reply::Bulk(b.into_owned()),
            _ => Reply::Nil,
        });
    }
    Reply::Array(out)
}

fn mset_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Reply {
    if args.len() % 2 == 0 {
        let name = if nx { "msetnx" } else { "mset" };
        return Reply::error(format!("ERR wrong number of arguments for '{name}' command"));
    }
    if nx {
        for pair in args[1..].chunks(2) {
            if ctx.lookup_write(&pair[0]).is_some() {
                return Reply::Int(0);
            }
        }
    }
    for pair in args[1..].chunks(2) {
        // setKey looks the key up for writing first, which expires (and counts) a stale one.
        ctx.lookup_write(&pair[0]);
        crate::server::lazyfree::server_overwrite(
            ctx.state,
            ctx.session.db,
            &pair[0],
            Value::string(&pair[1]),
            Ttl::Clear,
        );
        ctx.notify(notify::STRING, "set", &pair[0]);
    }
    ctx.dirty((args.len() as u64 - 1) / 2);
    if nx {
        Reply::Int(1)
    } else {
        Reply::OK
    }
}

fn mset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    mset_generic(ctx, args, true)
}

fn append(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (key, add) = (&args[1], &args[2]);
    let max = ctx.state.hot.proto_max_bulk_len;
    let total = match tri!(write_entry(ctx, key)) {
        Some(e) => {
            tri!(check_string_length(value_len(e.value()) as u64, add.len() as u64, max));
            let Some(bytes) = e.value_mut().bytes_mut() else {
                return wrongtype();
            };
            bytes.extend_from_slice(add);
            bytes.len()
        }
        None => {
            // A new key gets the argument's own encoding (int, embstr or raw), like SET.
            ctx.db().set(key, Value::string(add), Ttl::Clear);
            add.len()
        }
    };
    ctx.notify(notify::STRING, "append", key);
    ctx.dirty(1);
    Reply::Int(total as i64)
}

fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match tri!(read_string(ctx, &args[1])) {
        Some(b) => Reply::Int(b.len() as i64),
        None => Reply::Int(0),
    }
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

fn incr_decr(ctx: &mut Ctx, key: &[u8], incr: i64) -> Reply {
    let current = match tri!(write_entry(ctx, key)) {
        None => 0,
        Some(e) => match e.value() {
            Value::Int(n) => *n,
            v => match v.as_bytes().and_then(|b| parse_i64(&b)) {
                Some(n) => n,
                None => return Reply::error(errors::NOT_INTEGER),
            },
        },
    };
    let Some(value) = current.checked_add(incr) else {
        return Reply::error(errors::OVERFLOW);
    };
    // The TTL survives: Redis replaces the value in place.
    ctx.db().set(key, Value::Int(value), Ttl::Keep);
    ctx.notify(notify::STRING, "incrby", key);
    ctx.dirty(1);
    Reply::Int(value)
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    incr_decr(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    incr_decr(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let incr = tri!(int_arg(&args[2]));
    incr_decr(ctx, &args[1], incr)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let decr = tri!(int_arg(&args[2]));
    if decr == i64::MIN {
        return Reply::error("ERR decrement would overflow");
    }
    incr_decr(ctx, &args[1], -decr)
}

fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let not_float = || Reply::error(errors::NOT_FLOAT);
    // Redis computes in long double (80-bit on x86-64); LongDouble reproduces it bit for bit.
    let current = match tri!(write_entry(ctx, key)) {
        None => LongDouble::ZERO,
        Some(e) => match e.value() {
            Value::Int(n) => LongDouble::from_i64(*n),
            v => match v.as_bytes().and_then(|b| LongDouble::parse(&b)) {
                Some(x) => x,
                None => return not_float(),
            },
        },
    };
    let Some(incr) = LongDouble::parse(&args[2]) else {
        return not_float();
    };
    let sum = current.add(incr);
    if !sum.is_finite() {
        return Reply::error("ERR increment would produce NaN or Infinity");
    }
    let text = sum.to_human_string().into_bytes();
    // Stored as a plain string object (embstr/raw), never int-encoded, as Redis does.
    ctx.db().set(key, Value::Str { bytes: text.as_slice().into(), raw: false }, Ttl::Keep);
    ctx.notify(notify::STRING, "incrbyfloat", key);
    ctx.dirty(1);
    // Replayed as the result, so float arithmetic never diverges: SET key <value> KEEPTTL.
    ctx.propagate_as(|| argv(&[b"SET", key, &text, b"KEEPTTL"]));
    Reply::Bulk(text)
}

// ---------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------

fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut start = tri!(int_arg(&args[2]));
    let mut end = tri!(int_arg(&args[3]));
    let Some(s) = tri!(read_string(ctx, &args[1])) else {
        return Reply::bulk("");
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Reply::bulk("");
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Reply::bulk("");
    }
    Reply::bulk(&s[start as usize..=end as usize])
}

fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let value = &args[3];
    let offset = tri!(int_arg(&args[2]));
    if offset < 0 {
        return Reply::error("ERR offset is out of range");
    }
    let offset = offset as u64;
    let max = ctx.state.hot.proto_max_bulk_len;
    match tri!(write_entry(ctx, key)) {
        None => {
            if value.is_empty() {
                return Reply::Int(0);
            }
            tri!(check_string_length(offset, value.len() as u64, max));
            ctx.db().set(key, Value::raw_string([]), Ttl::Clear);
        }
        Some(e) => {
            // Setting nothing answers the current length and leaves the value (and its
            // encoding) untouched.
            let olen = value_len(e.value());
            if value.is_empty() {
                return Reply::Int(olen as i64);
            }
            tri!(check_string_length(offset, value.len() as u64, max));
        }
    }
    let Some(bytes) = ctx.db().get_mut(key).and_then(|e| e.value_mut().bytes_mut()) else {
        return wrongtype();
    };
    let off = offset as usize;
    let end = off + value.len();
    if bytes.len() < end {
        zero_pad(bytes, end);
    }
    bytes[off..end].copy_from_slice(value);
    let len = bytes.len();
    ctx.notify(notify::STRING, "setrange", key);
    ctx.dirty(1);
    Reply::Int(len as i64)
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut strings: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut bad_type = false;
    for (i, key) in args[1..3].iter().enumerate() {
        match read_string(ctx, key) {
            Ok(Some(b)) => strings[i] = b.into_owned(),
            Ok(None) => {}
            Err(_) => bad_type = true,
        }
    }
    if bad_type {
        return Reply::error("ERR The specified keys must contain string values");
    }
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        let more = args.len() - 1 - j;
        if is_word(opt, "idx") {
            getidx = true;
        } else if is_word(opt, "len") {
            getlen = true;
        } else if is_word(opt, "withmatchlen") {
            withmatchlen = true;
        } else if is_word(opt, "minmatchlen") && more > 0 {
            minmatchlen = tri!(int_arg(&args[j + 1])).max(0);
            j += 1;
        } else {
            return Reply::error(errors::SYNTAX);
        }
        j += 1;
    }
    if getidx && getlen {
        return Reply::error("ERR If you want both the length and indexes, please just use IDX.");
    }
    let [a, b] = &strings;
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Reply::error("ERR String too long for LCS");
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    let bytes = cells.checked_mul(4);
    if bytes.is_some_and(|n| n > ctx.state.hot.proto_max_bulk_len.max(0) as u64) {
        return Reply::error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let mut table: Vec<u32> = Vec::new();
    if bytes.is_none() || table.try_reserve_exact(cells as usize).is_err() {
        return Reply::error("ERR Insufficient memory, failed allocating transient memory for LCS");
    }
    table.resize(cells as usize, 0);
    let w = blen + 1;
    // table[i * w + j] is the LCS length of a[..i] and b[..j].
    for i in 1..=alen {
        for k in 1..=blen {
            table[i * w + k] = if a[i - 1] == b[k - 1] {
                table[(i - 1) * w + k - 1] + 1
            } else {
                table[(i - 1) * w + k].max(table[i * w + k - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    let computelcs = getidx || !getlen;
    let mut result = vec![0u8; if computelcs { total as usize } else { 0 }];
    let mut matches = Vec::new();
    // Walk back from the end, collecting the LCS and the ranges of contiguous matches; "alen" in
    // arange_start means no range is open, as in Redis.
    let (mut arange_start, mut arange_end, mut brange_start, mut brange_end) = (alen, 0usize, 0usize, 0usize);
    let (mut i, mut k, mut idx) = (alen, blen, total as usize);
    while computelcs && i > 0 && k > 0 {
        let mut emit = false;
        if a[i - 1] == b[k - 1] {
            result[idx - 1] = a[i - 1];
            if arange_start == alen {
                arange_start = i - 1;
                arange_end = i - 1;
                brange_start = k - 1;
                brange_end = k - 1;
            } else if arange_start == i && brange_start == k {
                arange_start -= 1;
                brange_start -= 1;
            } else {
                emit = true;
            }
            if arange_start == 0 || brange_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            k -= 1;
        } else {
            let up = table[(i - 1) * w + k];
            let left = table[i * w + k - 1];
            if up > left {
                i -= 1;
            } else {
                k -= 1;
            }
            if arange_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = arange_end.wrapping_sub(arange_start).wrapping_add(1) as i64;
            if (minmatchlen == 0 || match_len >= minmatchlen) && getidx {
                let mut item = vec![
                    Reply::Array(vec![Reply::Int(arange_start as i64), Reply::Int(arange_end as i64)]),
                    Reply::Array(vec![Reply::Int(brange_start as i64), Reply::Int(brange_end as i64)]),
                ];
                if withmatchlen {
                    item.push(Reply::Int(match_len));
                }
                matches.push(Reply::Array(item));
            }
            arange_start = alen;
        }
    }
    if getidx {
        Reply::Map(vec![
            (Reply::bulk("matches"), Reply::Array(matches)),
            (Reply::bulk("len"), Reply::Int(total as i64)),
        ])
    } else if getlen {
        Reply::Int(total as i64)
    } else {
        Reply::Bulk(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    #[test]
    fn set_options_conflicts() {
        let ok = |s: &str| parse_ext_args(&args(s), true).map(|o| o.flags).ok();
        assert_eq!(ok("SET k v NX GET"), Some(OBJ_NX | OBJ_GET));
        assert_eq!(ok("SET k v EX 1 EX 2"), Some(OBJ_EX));
        assert_eq!(ok("SET k v NX XX"), None);
        assert_eq!(ok("SET k v EX 1 PX 2"), None);
        assert_eq!(ok("SET k v KEEPTTL EX 1"), None);
        assert_eq!(ok("SET k v EX"), None);
        assert_eq!(ok("SET k v PERSIST"), None);
        let getex = |s: &str| parse_ext_args(&args(s), false).map(|o| o.flags).ok();
        assert_eq!(getex("GETEX k PERSIST"), Some(OBJ_PERSIST));
        assert_eq!(getex("GETEX k PERSIST EX 1"), None);
        assert_eq!(getex("GETEX k NX"), None);
    }

    #[test]
    fn expire_times() {
        assert_eq!(expire_at_ms(1000, b"5", OBJ_EX, true, "set").ok(), Some(6000));
        assert_eq!(expire_at_ms(1000, b"5", OBJ_PXAT, false, "set").ok(), Some(5));
        assert!(expire_at_ms(1000, b"0", OBJ_EX, true, "set").is_err());
        assert!(expire_at_ms(1000, b"9223372036854775", OBJ_EX, true, "set").is_err());
        assert!(expire_at_ms(1000, b"9223372036854775807", OBJ_PX, false, "set").is_err());
    }
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;

    #[test]
    fn counters() {
        Harness::new().check(&[
            ("SET k 10", "+OK\r\n"),
            ("INCR k", ":11\r\n"),
            ("INCRBY k 9223372036854775800", "-ERR increment or decrement would overflow\r\n"),
            ("DECRBY k -9223372036854775808", "-ERR decrement would overflow\r\n"),
            ("DECR nokey", ":-1\r\n"),
            ("INCRBYFLOAT k 0.5", "$4\r\n11.5\r\n"),
            ("GET k", "$4\r\n11.5\r\n"),
            ("SET f 10.50", "+OK\r\n"),
            ("INCRBYFLOAT f 0.1", "$4\r\n10.6\r\n"),
            ("INCRBYFLOAT f 5.0e3", "$22\r\n5010.60000000000000009\r\n"),
            ("INCRBYFLOAT f inf", "-ERR increment would produce NaN or Infinity\r\n"),
            ("INCRBYFLOAT f abc", "-ERR value is not a valid float\r\n"),
            ("APPEND k xyz", ":7\r\n"),
            ("INCR k", "-ERR value is not an integer or out of range\r\n"),
            ("SET big 9223372036854775807", "+OK\r\n"),
            ("INCR big", "-ERR increment or decrement would overflow\r\n"),
            ("GET big", "$19\r\n9223372036854775807\r\n"),
        ]);
    }

    #[test]
    fn ranges() {
        Harness::new().check(&[
            ("SET s hello", "+OK\r\n"),
            ("SETRANGE s 10 world", ":15\r\n"),
            ("GET s", "$15\r\nhello\0\0\0\0\0world\r\n"),
            ("GETRANGE s -5 -1", "$5\r\nworld\r\n"),
            ("GETRANGE s 3 1", "$0\r\n\r\n"),
            ("GETRANGE s 0 -100", "$1\r\nh\r\n"),
            ("STRLEN s", ":15\r\n"),
            ("STRLEN nokey", ":0\r\n"),
            ("SETRANGE s -1 x", "-ERR offset is out of range\r\n"),
            ("SETRANGE s 536870912 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"),
            ("APPEND s !", ":16\r\n"),
            ("SUBSTR s 0 4", "$5\r\nhello\r\n"),
        ]);
    }

    #[test]
    fn set_options_and_multi_key_forms() {
        Harness::new().check(&[
            ("SET k v NX", "+OK\r\n"),
            ("SET k2 v XX", "$-1\r\n"),
            ("SET k v2 GET", "$1\r\nv\r\n"),
            ("SET k v3 NX GET", "$2\r\nv2\r\n"),
            ("GET k", "$2\r\nv2\r\n"),
            ("SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n"),
            ("SET k v EX abc", "-ERR value is not an integer or out of range\r\n"),
            ("SET k v PX -5", "-ERR invalid expire time in 'set' command\r\n"),
            ("SET k v EX 10 PX 10", "-ERR syntax error\r\n"),
            ("SET k v NX XX", "-ERR syntax error\r\n"),
            ("SET k v BLAH", "-ERR syntax error\r\n"),
            ("SET n 1 KEEPTTL EX 5", "-ERR syntax error\r\n"),
            ("LPUSH l a", ":1\r\n"),
            ("GET l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("SET l x GET", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("APPEND l x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("MSET a 1 b 2", "+OK\r\n"),
            ("MGET a l nokey b", "*4\r\n$1\r\n1\r\n$-1\r\n$-1\r\n$1\r\n2\r\n"),
            ("MSETNX a 1 c 3", ":0\r\n"),
            ("MSETNX c 3 d 4", ":1\r\n"),
            ("MSET a", "-ERR wrong number of arguments for 'mset' command\r\n"),
            ("GETDEL a", "$1\r\n1\r\n"),
            ("GETDEL a", "$-1\r\n"),
            ("SETNX b 5", ":0\r\n"),
            ("SETEX x 0 v", "-ERR invalid expire time in 'setex' command\r\n"),
            ("SETEX x -1 v", "-ERR invalid expire time in 'setex' command\r\n"),
            ("GETEX x PX 1000 EX 10", "-ERR syntax error\r\n"),
            ("GETEX x EX 0", "$-1\r\n"),
            ("GETEX nokey PERSIST", "$-1\r\n"),
        ]);
    }

    #[test]
    fn expiry_options_on_the_test_clock() {
        let mut h = Harness::new();
        h.check(&[
            ("SET k v EX 100", "+OK\r\n"),
            ("SET k v2 KEEPTTL", "+OK\r\n"),
            ("TTL k", ":100\r\n"),
            ("SET k v3", "+OK\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETEX k PX 5000", "$2\r\nv3\r\n"),
            ("PTTL k", ":5000\r\n"),
            ("GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n"),
            ("GETEX k PERSIST", "$2\r\nv3\r\n"),
            ("PTTL k", ":-1\r\n"),
            ("PSETEX p 100 v", "+OK\r\n"),
            ("SET s v PX 1500", "+OK\r\n"),
        ]);
        h.advance(99);
        h.check(&[("PTTL p", ":1\r\n"), ("GET p", "$1\r\nv\r\n")]);
        // Like Redis's keyIsExpired (now > when): a key lives through its expiry millisecond.
        h.advance(1);
        h.check(&[("PTTL p", ":0\r\n"), ("GET p", "$1\r\nv\r\n")]);
        h.advance(1);
        h.check(&[("GET p", "$-1\r\n"), ("TTL s", ":1\r\n")]);
        h.advance(1399);
        h.check(&[("PTTL s", ":0\r\n"), ("GET s", "$1\r\nv\r\n")]);
        h.advance(1);
        h.check(&[("STRLEN s", ":0\r\n"), ("EXISTS s", ":0\r\n")]);
    }
}
