//! How the debugger shows values: Lua values (ldbCatStackValue), strings (sdscatrepr) and
//! command replies (ldbRedisProtocolToHuman), byte for byte as Redis 7.0.15 does.

use std::ffi::c_int;

use super::super::ffi::*;
use crate::util::numbers::{format_f64_g, parse_i64};

/// LDB_MAX_VALUES_DEPTH: LUA_MINSTACK / 2.
const MAX_VALUES_DEPTH: u32 = (LUA_MINSTACK / 2) as u32;

/// sdscatrepr: the bytes in double quotes, escaped as C would write them.
pub(crate) fn cat_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// ldbCatStackValue: the Lua value at `idx` (a negative index, as Redis always passes) in
/// human form. The value stays on the stack, unconverted.
///
/// # Safety
/// `l` is live and `idx` a valid negative index.
pub(crate) unsafe fn cat_stack_value(out: &mut Vec<u8>, l: *mut lua_State, idx: c_int) {
    // SAFETY: forwarded.
    unsafe { cat_stack_value_rec(out, l, idx, 0) }
}

/// # Safety
/// As for [`cat_stack_value`].
unsafe fn cat_stack_value_rec(out: &mut Vec<u8>, l: *mut lua_State, idx: c_int, level: u32) {
    if level == MAX_VALUES_DEPTH {
        out.extend_from_slice(b"<max recursion level reached! Nested table?>");
        return;
    }
    let level = level + 1;
    // SAFETY: reads of the value at `idx`; a table walk pushes a key and value per step and
    // pops them, leaving the stack as found (the depth cap bounds the stack use).
    unsafe {
        let t = lua_type(l, idx);
        match t {
            LUA_TSTRING => cat_repr(out, &to_bytes(l, idx).unwrap_or_default()),
            LUA_TBOOLEAN => out.extend_from_slice(if lua_toboolean(l, idx) != 0 { b"true" } else { b"false" }),
            LUA_TNUMBER => out.extend_from_slice(format_f64_g(lua_tonumber(l, idx)).as_bytes()),
            LUA_TNIL => out.extend_from_slice(b"nil"),
            LUA_TTABLE => {
                lua_checkstack(l, 3);
                let mut expected_index = 1.0;
                let mut is_array = true;
                // Both forms are built at once; which one shows is known only at the end.
                let mut as_array = Vec::new();
                let mut as_map = Vec::new();
                lua_pushnil(l);
                while lua_next(l, idx - 1) != 0 {
                    if is_array && (lua_type(l, -2) != LUA_TNUMBER || lua_tonumber(l, -2) != expected_index) {
                        is_array = false;
                    }
                    cat_stack_value_rec(&mut as_array, l, -1, level);
                    as_array.extend_from_slice(b"; ");
                    as_map.push(b'[');
                    cat_stack_value_rec(&mut as_map, l, -2, level);
                    as_map.extend_from_slice(b"]=");
                    cat_stack_value_rec(&mut as_map, l, -1, level);
                    as_map.extend_from_slice(b"; ");
                    lua_pop(l, 1);
                    expected_index += 1.0;
                }
                let chosen = if is_array { &mut as_array } else { &mut as_map };
                chosen.truncate(chosen.len().saturating_sub(2));
                out.push(b'{');
                out.extend_from_slice(chosen);
                out.push(b'}');
            }
            LUA_TFUNCTION | LUA_TUSERDATA | LUA_TTHREAD | LUA_TLIGHTUSERDATA => {
                let p = lua_topointer(l, idx);
                let name = match t {
                    LUA_TFUNCTION => "function",
                    LUA_TUSERDATA => "userdata",
                    LUA_TTHREAD => "thread",
                    _ => "light-userdata",
                };
                out.extend_from_slice(format!("\"{name}@{}\"", c_pointer(p)).as_bytes());
            }
            _ => out.extend_from_slice(b"\"<unknown-lua-type>\""),
        }
    }
}

/// glibc's "%p".
fn c_pointer(p: *const std::ffi::c_void) -> String {
    if p.is_null() {
        "(nil)".to_string()
    } else {
        format!("{p:p}")
    }
}

/// The end of the line that starts at `from` (its '\r'), or the end of the bytes.
fn line_end(reply: &[u8], from: usize) -> usize {
    reply.get(from..).and_then(|r| r.iter().position(|&b| b == b'\r')).map_or(reply.len(), |i| from + i)
}

/// The integer between the type byte at `at` and the line's end (string2ll; 0 if unreadable,
/// as the C variable stays 0).
fn header_len(reply: &[u8], at: usize, end: usize) -> i64 {
    reply.get(at + 1..end).and_then(parse_i64).unwrap_or(0)
}

/// ldbRedisProtocolToHuman: appends the reply at `reply[pos..]` in human form and returns where
/// the next one starts. A type it does not know appends nothing and does not move.
pub(crate) fn protocol_to_human(out: &mut Vec<u8>, reply: &[u8], pos: usize) -> usize {
    let Some(&kind) = reply.get(pos) else { return pos };
    let end = line_end(reply, pos + 1);
    let next = (end + 2).min(reply.len());
    match kind {
        b':' => {
            out.extend_from_slice(&reply[pos + 1..end]);
            next
        }
        b'$' => {
            let len = header_len(reply, pos, end);
            if len == -1 {
                out.extend_from_slice(b"NULL");
                next
            } else {
                let len = len.max(0) as usize;
                let body_end = (next + len).min(reply.len());
                cat_repr(out, &reply[next..body_end]);
                (body_end + 2).min(reply.len())
            }
        }
        b'+' | b'-' => {
            cat_repr(out, &reply[pos..end]);
            next
        }
        b'*' => {
            let len = header_len(reply, pos, end);
            if len == -1 {
                out.extend_from_slice(b"NULL");
                return next;
            }
            aggregate(out, reply, next, len, b"[", b"]", false)
        }
        b'~' => aggregate(out, reply, next, header_len(reply, pos, end), b"~(", b")", false),
        b'%' => aggregate(out, reply, next, header_len(reply, pos, end), b"{", b"}", true),
        b'_' => {
            out.extend_from_slice(b"(null)");
            next
        }
        b'#' => {
            out.extend_from_slice(if reply.get(pos + 1) == Some(&b't') { b"#true" } else { b"#false" });
            next
        }
        b',' => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(&reply[pos + 1..end]);
            next
        }
        _ => pos,
    }
}

/// The elements of an array, set or map (pairs joined by " => "), separated by ",".
fn aggregate(out: &mut Vec<u8>, reply: &[u8], mut p: usize, len: i64, open: &[u8], close: &[u8], pairs: bool) -> usize {
    out.extend_from_slice(open);
    for j in 0..len.max(0) {
        p = protocol_to_human(out, reply, p);
        if pairs {
            out.extend_from_slice(b" => ");
            p = protocol_to_human(out, reply, p);
        }
        if j != len - 1 {
            out.push(b',');
        }
    }
    out.extend_from_slice(close);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(reply: &[u8]) -> String {
        let mut out = Vec::new();
        protocol_to_human(&mut out, reply, 0);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn repr_escapes_as_sdscatrepr() {
        let mut out = Vec::new();
        cat_repr(&mut out, b"a\0b\x01\xff\"\\\r\n\t\x07\x08 ~");
        assert_eq!(out, b"\"a\\x00b\\x01\\xff\\\"\\\\\\r\\n\\t\\a\\b ~\"");
    }

    #[test]
    fn replies_in_human_form() {
        assert_eq!(human(b":12\r\n"), "12");
        assert_eq!(human(b"$3\r\nfoo\r\n"), "\"foo\"");
        assert_eq!(human(b"$-1\r\n"), "NULL");
        assert_eq!(human(b"+OK\r\n"), "\"+OK\"");
        assert_eq!(human(b"-ERR bad\r\n"), "\"-ERR bad\"");
        assert_eq!(human(b"*-1\r\n"), "NULL");
        assert_eq!(human(b"*0\r\n"), "[]");
        assert_eq!(human(b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n$-1\r\n"), "[1,\"a\",[NULL]]");
        assert_eq!(human(b"~2\r\n$1\r\na\r\n:2\r\n"), "~(\"a\",2)");
        assert_eq!(human(b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n"), "{\"a\" => 1,\"b\" => (null)}");
        assert_eq!(human(b"#t\r\n"), "#true");
        assert_eq!(human(b"#f\r\n"), "#false");
        assert_eq!(human(b",3.5\r\n"), "(double) 3.5");
        assert_eq!(human(b"(123\r\n"), "");
        // Not a reply at all (ldbRedis's "max lua stack reached").
        assert_eq!(human(b"max lua stack reached"), "");
    }
}
