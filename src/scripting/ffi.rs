//! The C functions Redis's Lua adds to Lua 5.1 (read-only tables) and the entry points of its Lua
//! libraries (deps/lua-libs, built by build.rs), with small helpers over the raw stack API.

use std::ffi::{c_char, c_int};

pub use mlua_sys::*;

extern "C-unwind" {
    /// Redis's addition to Lua (lapi.c): a read-only table raises "Attempt to modify a readonly
    /// table" on any store.
    pub fn lua_enablereadonlytable(l: *mut lua_State, index: c_int, enabled: c_int);
    pub fn lua_isreadonlytable(l: *mut lua_State, index: c_int) -> c_int;

    pub fn luaopen_cjson(l: *mut lua_State) -> c_int;
    pub fn luaopen_struct(l: *mut lua_State) -> c_int;
    pub fn luaopen_cmsgpack(l: *mut lua_State) -> c_int;
    pub fn luaopen_bit(l: *mut lua_State) -> c_int;
}

/// Pushes a byte string (Lua strings are 8-bit clean).
///
/// # Safety
/// `l` is a live state with a free stack slot.
pub unsafe fn push_bytes(l: *mut lua_State, bytes: &[u8]) {
    // SAFETY: the pointer and length describe `bytes`, which Lua copies.
    unsafe { lua_pushlstring_(l, bytes.as_ptr() as *const c_char, bytes.len()) }
}

/// The string (or number, converted in place as `lua_tolstring` does) at `idx`, copied out.
///
/// # Safety
/// `l` is a live state and `idx` a valid index.
pub unsafe fn to_bytes(l: *mut lua_State, idx: c_int) -> Option<Vec<u8>> {
    let mut len = 0usize;
    // SAFETY: lua_tolstring returns NULL or a pointer to `len` bytes owned by the state, valid
    // while the value stays on the stack; they are copied before returning.
    unsafe {
        let p = lua_tolstring(l, idx, &mut len);
        if p.is_null() {
            None
        } else {
            Some(std::slice::from_raw_parts(p as *const u8, len).to_vec())
        }
    }
}

/// Like [`to_bytes`] but stops at the first NUL, as the C code that reads a Lua string with
/// `lua_tostring` and treats it as a C string (sdsnew, "%s") does.
///
/// # Safety
/// As for [`to_bytes`].
pub unsafe fn to_cstr_bytes(l: *mut lua_State, idx: c_int) -> Option<Vec<u8>> {
    // SAFETY: forwarded to the caller's guarantee.
    let mut bytes = unsafe { to_bytes(l, idx) }?;
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(nul);
    }
    Some(bytes)
}

/// `lua_setfield(l, idx, name)` for a Rust string literal with its NUL.
///
/// # Safety
/// `l` is live, `idx` valid, a value on top of the stack; `name` ends with a NUL byte.
pub unsafe fn set_field(l: *mut lua_State, idx: c_int, name: &'static [u8]) {
    debug_assert_eq!(name.last(), Some(&0));
    // SAFETY: `name` is NUL-terminated (checked above in debug builds, literals below).
    unsafe { lua_setfield(l, idx, name.as_ptr() as *const c_char) }
}

/// `lua_getfield(l, idx, name)` for a NUL-terminated literal.
///
/// # Safety
/// As for [`set_field`], without the value on top.
pub unsafe fn get_field(l: *mut lua_State, idx: c_int, name: &'static [u8]) {
    debug_assert_eq!(name.last(), Some(&0));
    // SAFETY: `name` is NUL-terminated.
    unsafe { lua_getfield_(l, idx, name.as_ptr() as *const c_char) }
}

/// Pushes `t[key]` (raw, no metamethods) for the table at `idx` (a negative index counted before
/// the key is pushed).
///
/// # Safety
/// `l` is live and the value at `idx` is a table.
pub unsafe fn raw_get_str(l: *mut lua_State, idx: c_int, key: &[u8]) -> c_int {
    // SAFETY: the key is pushed, so a negative `idx` moves one down.
    unsafe {
        push_bytes(l, key);
        lua_rawget_(l, if idx < 0 { idx - 1 } else { idx });
        lua_type(l, -1)
    }
}
