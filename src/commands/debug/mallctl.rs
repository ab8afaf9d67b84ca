//! DEBUG MALLCTL and MALLCTL-STR: jemalloc's mallctl() namespace read and written, with Redis's
//! calls (mallctl_int, mallctl_string in debug.c) so that every quirk of theirs is the same here:
//! an integer is read as 8 bytes, then 4, 2, 1 after EINVAL, with the size jemalloc writes back;
//! a write-only name is written on EPERM; errors are strerror's text.

use std::ffi::{c_char, c_void, CString};

use bytes::Bytes;

use crate::protocol::Reply;

/// A mallctl name as jemalloc sees the C string: up to its first NUL byte.
fn c_name(arg: &[u8]) -> CString {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    // No NUL inside after the cut; the fallback cannot happen.
    CString::new(&arg[..end]).unwrap_or_default()
}

fn errno_reply(code: i32) -> Reply {
    Reply::error(format!("ERR {}", nix::errno::Errno::from_raw(code).desc()))
}

/// mallctl(): the raw call.
///
/// # Safety
/// `old`/`oldlen` and `new`/`newlen` must describe buffers of the type jemalloc uses for `name`,
/// or be sized so jemalloc refuses them (it checks the lengths before copying).
unsafe fn mallctl(name: &CString, old: *mut c_void, oldlen: *mut usize, new: *mut c_void, newlen: usize) -> i32 {
    // SAFETY: the caller's contract; the name is NUL-terminated.
    unsafe { tikv_jemalloc_sys::mallctl(name.as_ptr(), old, oldlen, new, newlen) }
}

/// DEBUG MALLCTL <key> [<val>]: the integer's old value; with a value, written too.
pub fn mallctl_int(args: &[Bytes]) -> Reply {
    let name = c_name(&args[0]);
    let mut val: i64 = 0;
    if let Some(v) = args.get(1) {
        match crate::util::numbers::parse_i64(v) {
            Some(n) => val = n,
            None => return Reply::error(crate::protocol::errors::NOT_INTEGER),
        }
    }
    let writing = args.len() > 1;
    let mut old: i64 = 0;
    let mut sz = std::mem::size_of::<i64>();
    while sz > 0 {
        let newp = if writing { &mut val as *mut i64 as *mut c_void } else { std::ptr::null_mut() };
        // SAFETY: `old` and `val` are 8-byte buffers and `sz` never exceeds 8; jemalloc copies
        // at most `sz` bytes and refuses a size that is not its type's (EINVAL).
        let ret =
            unsafe { mallctl(&name, &mut old as *mut i64 as *mut c_void, &mut sz, newp, if writing { sz } else { 0 }) };
        if ret == 0 {
            // Little-endian: the low `sz` bytes hold the value, as Redis reads it.
            return Reply::Int(old);
        }
        if ret == libc::EPERM && writing {
            // A write-only name: write it alone.
            // SAFETY: as above, with no old value asked for.
            if unsafe { mallctl(&name, std::ptr::null_mut(), std::ptr::null_mut(), newp, sz) } == 0 {
                return Reply::OK;
            }
        }
        if ret == libc::EINVAL {
            // Perhaps the wrong size: try a smaller one.
            sz /= 2;
            continue;
        }
        return errno_reply(ret);
    }
    errno_reply(libc::EINVAL)
}

/// DEBUG MALLCTL-STR <key> [<val>]: the string's old value; with a value (VOID for none),
/// written too.
pub fn mallctl_string(args: &[Bytes]) -> Reply {
    let name = c_name(&args[0]);
    let mut old: *const c_char = std::ptr::null();
    let mut sz = std::mem::size_of::<*const c_char>();
    // SAFETY: a string name's value is a `const char *`, which `old` is sized for.
    let rret =
        unsafe { mallctl(&name, &mut old as *mut *const c_char as *mut c_void, &mut sz, std::ptr::null_mut(), 0) };
    if rret != 0 && !(rret == libc::EPERM && args.len() > 1) {
        return errno_reply(rret);
    }
    let mut wret = 0;
    if let Some(v) = args.get(1) {
        let value = c_name(v);
        let mut ptr = value.as_ptr();
        let (newp, newlen) = if value.as_bytes() == b"VOID" {
            (std::ptr::null_mut(), 0)
        } else {
            (&mut ptr as *mut *const c_char as *mut c_void, sz)
        };
        // SAFETY: the new value is a pointer to a NUL-terminated string that outlives the call,
        // passed as jemalloc's `const char *` (or nothing, for VOID).
        wret = unsafe { mallctl(&name, std::ptr::null_mut(), std::ptr::null_mut(), newp, newlen) };
    }
    if rret == 0 {
        if old.is_null() {
            return Reply::Nil;
        }
        // SAFETY: jemalloc returned a pointer to one of its own NUL-terminated, static strings.
        let text = unsafe { std::ffi::CStr::from_ptr(old) };
        return Reply::Bulk(text.to_bytes().to_vec());
    }
    if wret != 0 {
        return errno_reply(wret);
    }
    Reply::OK
}
