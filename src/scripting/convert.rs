//! Replies to Lua values and back, as Redis's script_lua.c does it (redisProtocolToLuaType and
//! luaReplyToRedisReply): what a command returns to redis.call in the script's protocol
//! (redis.setresp), and what a script returns to its caller.

use std::borrow::Cow;
use std::ffi::c_int;

use super::ffi::*;
use crate::protocol::Reply;
use crate::util::numbers::format_f64_17g;

/// Pushes the error table redis.pcall returns and redis.call raises: {err="CODE message"}
/// (luaPushErrorBuff). A text starting with '-' carries its own code up to the first space;
/// any other text gets "ERR ". Newlines around the message are trimmed.
///
/// # Safety
/// `l` is a live state with 3 free stack slots.
pub unsafe fn push_error_table(l: *mut lua_State, text: &[u8]) {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let msg = trim_newlines(msg);
    let mut full = Vec::with_capacity(code.len() + 1 + msg.len());
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(msg);
    // lua_pushstring of an sds: the C string ends at the first NUL.
    if let Some(nul) = full.iter().position(|&b| b == 0) {
        full.truncate(nul);
    }
    // SAFETY: the caller guarantees the stack room; the table is on top for set_field.
    unsafe {
        lua_newtable(l);
        push_bytes(l, &full);
        set_field(l, -2, b"err\0");
    }
}

/// sdstrim(s, "\r\n") on both ends.
fn trim_newlines(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// Marks the error table on top as already counted in the error statistics (the command that
/// failed counted it), as Redis's `ignore_error_stats_update` field does.
///
/// # Safety
/// `l` is live with a table on top and a free slot.
pub unsafe fn mark_error_counted(l: *mut lua_State) {
    // SAFETY: the table is on top.
    unsafe {
        lua_pushboolean(l, 1);
        set_field(l, -2, b"ignore_error_stats_update\0");
    }
}

/// Pushes a command's reply as redis.call returns it to a script speaking `resp` (2 or 3).
///
/// # Safety
/// `l` is a live state.
pub unsafe fn push_reply(l: *mut lua_State, reply: &Reply, resp: u8) {
    // SAFETY: each arm pushes exactly one value after reserving room (Redis panics where this
    // fails; Lua's own limit of LUAI_MAXCSTACK slots makes that an out-of-memory error here).
    unsafe {
        lua_checkstack(l, 5);
        match reply {
            Reply::Status(s) => {
                lua_newtable(l);
                push_bytes(l, s.as_bytes());
                set_field(l, -2, b"ok\0");
            }
            Reply::Error(s) => {
                let mut text = Vec::with_capacity(s.len() + 1);
                text.push(b'-');
                text.extend(s.bytes().map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
                push_error_table(l, &text);
                mark_error_counted(l);
            }
            Reply::Int(n) => lua_pushnumber(l, *n as f64),
            Reply::Bulk(b) => push_bytes(l, b),
            Reply::Nil | Reply::NilArray => {
                if resp >= 3 {
                    lua_pushnil(l)
                } else {
                    lua_pushboolean(l, 0)
                }
            }
            Reply::Array(items) | Reply::Push(items) => push_array(l, items.iter(), resp),
            Reply::Set(items) if resp < 3 => push_array(l, items.iter(), resp),
            Reply::Set(items) => {
                lua_newtable(l);
                lua_newtable(l);
                for item in items {
                    push_reply(l, item, resp);
                    lua_pushboolean(l, 1);
                    lua_settable(l, -3);
                }
                set_field(l, -2, b"set\0");
            }
            Reply::Map(pairs) if resp < 3 => {
                lua_newtable(l);
                for (i, (k, v)) in pairs.iter().enumerate() {
                    push_reply(l, k, resp);
                    lua_rawseti_(l, -2, (2 * i + 1) as c_int);
                    push_reply(l, v, resp);
                    lua_rawseti_(l, -2, (2 * i + 2) as c_int);
                }
            }
            Reply::Map(pairs) => {
                lua_newtable(l);
                lua_newtable(l);
                for (k, v) in pairs {
                    push_reply(l, k, resp);
                    push_reply(l, v, resp);
                    lua_settable(l, -3);
                }
                set_field(l, -2, b"map\0");
            }
            Reply::Double(d) if resp >= 3 => {
                lua_newtable(l);
                lua_pushnumber(l, *d);
                set_field(l, -2, b"double\0");
            }
            Reply::Bool(b) if resp >= 3 => lua_pushboolean(l, c_int::from(*b)),
            Reply::Bool(b) => lua_pushnumber(l, if *b { 1.0 } else { 0.0 }),
            Reply::BigNumber(digits) if resp >= 3 => {
                lua_newtable(l);
                push_bytes(l, digits);
                set_field(l, -2, b"big_number\0");
            }
            Reply::Verbatim(format, text) if resp >= 3 => {
                lua_newtable(l);
                lua_newtable(l);
                push_bytes(l, text);
                set_field(l, -2, b"string\0");
                push_bytes(l, format.as_bytes());
                set_field(l, -2, b"format\0");
                set_field(l, -2, b"verbatim_string\0");
            }
            Reply::Double(_) | Reply::BigNumber(_) | Reply::Verbatim(..) => {
                // RESP2 renders these as bulk strings: take that rendering.
                let mut out = Vec::new();
                reply.encode(2, &mut out);
                match parse_bulk(&out) {
                    Some(b) => push_bytes(l, b),
                    None => lua_pushboolean(l, 0),
                }
            }
            Reply::Many(items) => match items.first() {
                // Several replies to one call do not occur for commands scripts may run; the
                // first is what Redis's parser would read.
                Some(first) => push_reply(l, first, resp),
                None => lua_pushboolean(l, 0),
            },
            Reply::NoReply => lua_pushboolean(l, 0),
            Reply::Encoded(bytes) => {
                let mut pos = 0;
                if !push_resp(l, bytes, &mut pos) {
                    lua_pushboolean(l, 0);
                }
            }
        }
    }
}

/// # Safety
/// `l` is live.
unsafe fn push_array<'a>(l: *mut lua_State, items: impl ExactSizeIterator<Item = &'a Reply>, resp: u8) {
    // SAFETY: one table pushed, each element pushed then stored into it.
    unsafe {
        lua_newtable(l);
        for (i, item) in items.enumerate() {
            push_reply(l, item, resp);
            lua_rawseti_(l, -2, (i + 1) as c_int);
        }
    }
}

fn parse_bulk(out: &[u8]) -> Option<&[u8]> {
    let rest = out.strip_prefix(b"$")?;
    let crlf = rest.windows(2).position(|w| w == b"\r\n")?;
    let len: usize = std::str::from_utf8(&rest[..crlf]).ok()?.parse().ok()?;
    rest.get(crlf + 2..crlf + 2 + len)
}

/// Pushes the RESP value at `bytes[*pos..]` (the already-encoded replies: arrays of bulks and
/// integers), returning false on anything it does not read.
///
/// # Safety
/// `l` is live.
unsafe fn push_resp(l: *mut lua_State, bytes: &[u8], pos: &mut usize) -> bool {
    let Some(&kind) = bytes.get(*pos) else { return false };
    let Some(crlf) = bytes[*pos..].windows(2).position(|w| w == b"\r\n") else { return false };
    let line = &bytes[*pos + 1..*pos + crlf];
    *pos += crlf + 2;
    let number = || std::str::from_utf8(line).ok().and_then(|s| s.parse::<i64>().ok());
    // SAFETY: mirrors push_reply for the kinds read.
    unsafe {
        lua_checkstack(l, 3);
        match kind {
            b':' => match number() {
                Some(n) => lua_pushnumber(l, n as f64),
                None => return false,
            },
            b'$' => match number() {
                Some(-1) => lua_pushboolean(l, 0),
                Some(n) if n >= 0 => {
                    let n = n as usize;
                    let Some(b) = bytes.get(*pos..*pos + n) else { return false };
                    push_bytes(l, b);
                    *pos += n + 2;
                }
                _ => return false,
            },
            b'*' => match number() {
                Some(-1) => lua_pushboolean(l, 0),
                Some(n) if n >= 0 => {
                    lua_newtable(l);
                    for i in 0..n {
                        if !push_resp(l, bytes, pos) {
                            lua_pop(l, 1);
                            return false;
                        }
                        lua_rawseti_(l, -2, (i + 1) as c_int);
                    }
                }
                _ => return false,
            },
            // A RESP3 double in a text of its own (GEOPOS's coordinates): read with strtod, as
            // Redis's Lua parser reads it, into a {double=...} table.
            b',' => match crate::util::numbers::parse_f64_strtod(line) {
                Some(d) => {
                    lua_newtable(l);
                    lua_pushnumber(l, d);
                    set_field(l, -2, b"double\0");
                }
                None => return false,
            },
            _ => return false,
        }
    }
    true
}

/// What the Lua value on top of the stack returns to the script's caller (luaReplyToRedisReply);
/// the value is popped. `script_resp` is the script's protocol (booleans depend on it),
/// `caller_resp` the calling client's (only verbatim strings with an unusual format need it:
/// they are rendered here).
///
/// # Safety
/// `l` is a live state with a value on top.
pub unsafe fn pop_reply(l: *mut lua_State, script_resp: u8, caller_resp: u8) -> Reply {
    // Nesting is bounded only by Lua's stack (thousands of levels): grow ours as needed.
    // SAFETY: forwarded to the caller's guarantee.
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || unsafe { pop_reply_here(l, script_resp, caller_resp) })
}

/// # Safety
/// As for [`pop_reply`].
unsafe fn pop_reply_here(l: *mut lua_State, script_resp: u8, caller_resp: u8) -> Reply {
    // SAFETY: every path below pops exactly the value it started with, whatever it pushed.
    unsafe {
        if lua_checkstack(l, 4) == 0 {
            lua_pop(l, 1);
            return Reply::error("ERR reached lua stack limit");
        }
        let reply = match lua_type(l, -1) {
            LUA_TSTRING => Reply::Bulk(to_bytes(l, -1).unwrap_or_default()),
            LUA_TBOOLEAN => {
                let b = lua_toboolean(l, -1) != 0;
                if script_resp == 2 {
                    if b {
                        Reply::Int(1)
                    } else {
                        Reply::Nil
                    }
                } else {
                    Reply::Bool(b)
                }
            }
            LUA_TNUMBER => Reply::Int(c_double_to_long_long(lua_tonumber(l, -1))),
            LUA_TTABLE => table_reply(l, script_resp, caller_resp),
            _ => Reply::Nil,
        };
        lua_pop(l, 1);
        reply
    }
}

/// `(long long)d` as x86-64 computes it: out of range and NaN give i64::MIN (cvttsd2si).
pub fn c_double_to_long_long(d: f64) -> i64 {
    // 2^63: the first double out of range either way.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// The reply for the table on top of the stack, left on the stack.
///
/// # Safety
/// `l` is live, a table on top, 4 free slots.
unsafe fn table_reply(l: *mut lua_State, script_resp: u8, caller_resp: u8) -> Reply {
    // SAFETY: each probe pushes one value and pops it (or what it pushed on top of it).
    unsafe {
        if raw_get_str(l, -1, b"err") == LUA_TSTRING {
            lua_pop(l, 1);
            // luaExtractErrorInformation reads the field with lua_getfield (metamethods and
            // all) as a C string; the reply is "-%s" with end newlines trimmed.
            get_field(l, -1, b"err\0");
            let msg = to_cstr_bytes(l, -1).unwrap_or_default();
            lua_pop(l, 1);
            return error_reply_from(&msg);
        }
        lua_pop(l, 1);
        if raw_get_str(l, -1, b"ok") == LUA_TSTRING {
            let status = to_cstr_bytes(l, -1).unwrap_or_default();
            lua_pop(l, 1);
            let status: Vec<u8> = status.into_iter().map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }).collect();
            return Reply::Status(Cow::Owned(String::from_utf8_lossy(&status).into_owned()));
        }
        lua_pop(l, 1);
        if raw_get_str(l, -1, b"double") == LUA_TNUMBER {
            let d = lua_tonumber(l, -1);
            lua_pop(l, 1);
            return Reply::Double(d);
        }
        lua_pop(l, 1);
        if raw_get_str(l, -1, b"big_number") == LUA_TSTRING {
            let digits = to_bytes(l, -1).unwrap_or_default();
            lua_pop(l, 1);
            let digits = digits.into_iter().map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }).collect();
            return Reply::BigNumber(digits);
        }
        lua_pop(l, 1);
        if raw_get_str(l, -1, b"verbatim_string") == LUA_TTABLE {
            if raw_get_str(l, -1, b"format") == LUA_TSTRING {
                let format = to_cstr_bytes(l, -1).unwrap_or_default();
                if raw_get_str(l, -2, b"string") == LUA_TSTRING {
                    let text = to_bytes(l, -1).unwrap_or_default();
                    lua_pop(l, 3);
                    return verbatim(&format, text, caller_resp);
                }
                lua_pop(l, 1);
            }
            lua_pop(l, 1);
        }
        lua_pop(l, 1);
        if raw_get_str(l, -1, b"map") == LUA_TTABLE {
            let mut pairs = Vec::new();
            lua_pushnil(l);
            while lua_next(l, -2) != 0 {
                lua_pushvalue(l, -2);
                let key = pop_reply(l, script_resp, caller_resp);
                let value = pop_reply(l, script_resp, caller_resp);
                pairs.push((key, value));
            }
            lua_pop(l, 1);
            return Reply::Map(pairs);
        }
        lua_pop(l, 1);
        if raw_get_str(l, -1, b"set") == LUA_TTABLE {
            let mut items = Vec::new();
            lua_pushnil(l);
            while lua_next(l, -2) != 0 {
                lua_pop(l, 1);
                lua_pushvalue(l, -1);
                items.push(pop_reply(l, script_resp, caller_resp));
            }
            lua_pop(l, 1);
            return Reply::Set(items);
        }
        lua_pop(l, 1);
        let mut items = Vec::new();
        let mut j = 1;
        loop {
            lua_pushnumber(l, j as f64);
            lua_rawget_(l, -2);
            if lua_type(l, -1) == LUA_TNIL {
                lua_pop(l, 1);
                break;
            }
            items.push(pop_reply(l, script_resp, caller_resp));
            j += 1;
        }
        Reply::Array(items)
    }
}

/// "-%s" through addReplyErrorFormat: trailing newlines trimmed, inner ones become spaces, and
/// the text is written as is after its '-' (no "ERR " added).
fn error_reply_from(msg: &[u8]) -> Reply {
    let mut text = msg;
    while let [rest @ .., b'\r' | b'\n'] = text {
        text = rest;
    }
    Reply::Error(Cow::Owned(String::from_utf8_lossy(text).into_owned()))
}

/// addReplyVerbatim: the first three bytes of the format, padded with spaces.
fn verbatim(format: &[u8], text: Vec<u8>, caller_resp: u8) -> Reply {
    let mut ext = [b' '; 3];
    for (slot, &b) in ext.iter_mut().zip(format.iter()) {
        *slot = b;
    }
    match &ext {
        b"txt" => Reply::Verbatim("txt", text),
        b"mkd" => Reply::Verbatim("mkd", text),
        _ if caller_resp < 3 => Reply::Bulk(text),
        _ => {
            let mut out = format!("={}\r\n", text.len() + 4).into_bytes();
            out.extend_from_slice(&ext);
            out.push(b':');
            out.extend_from_slice(&text);
            out.extend_from_slice(b"\r\n");
            Reply::Encoded(out)
        }
    }
}

/// A number argument of redis.call as Redis passes it: "%.17g", not Lua's "%.14g".
pub fn number_arg(n: f64) -> Vec<u8> {
    format_f64_17g(n).into_bytes()
}
