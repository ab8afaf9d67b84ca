//! Where Lua's memory comes from: jemalloc, as for Redis's Lua (Debian links redis-server with
//! jemalloc, which serves Lua's realloc), not glibc's malloc that luaL_newstate would use. Like
//! Redis's, it is not counted in used_memory: INFO reports it as used_memory_lua.

use std::ffi::{c_int, c_void};

use super::ffi::{lua_State, lua_atpanic, lua_newstate, lua_tolstring};

/// lua_Alloc over jemalloc's own entry points (the Rust global allocator would count Lua's
/// memory into used_memory, which Redis does not).
#[cfg(not(feature = "system-alloc"))]
unsafe extern "C" fn alloc(_ud: *mut c_void, ptr: *mut c_void, _osize: usize, nsize: usize) -> *mut c_void {
    // SAFETY: Lua hands back only blocks this function gave it, and frees each once (size 0).
    unsafe {
        if nsize == 0 {
            if !ptr.is_null() {
                tikv_jemalloc_sys::dallocx(ptr, 0);
            }
            return std::ptr::null_mut();
        }
        if ptr.is_null() {
            tikv_jemalloc_sys::mallocx(nsize, 0)
        } else {
            tikv_jemalloc_sys::rallocx(ptr, nsize, 0)
        }
    }
}

/// The same over libc's malloc, for sanitizer builds (see crate::alloc).
#[cfg(feature = "system-alloc")]
unsafe extern "C" fn alloc(_ud: *mut c_void, ptr: *mut c_void, _osize: usize, nsize: usize) -> *mut c_void {
    // SAFETY: Lua hands back only blocks this function gave it, and frees each once (size 0).
    unsafe {
        if nsize == 0 {
            libc::free(ptr);
            return std::ptr::null_mut();
        }
        libc::realloc(ptr, nsize)
    }
}

/// lauxlib's panic handler: an error outside any protected call (never expected here).
unsafe extern "C-unwind" fn panic(l: *mut lua_State) -> c_int {
    // SAFETY: Lua calls this with the error message on top of the stack.
    let message = unsafe {
        let s = lua_tolstring(l, -1, std::ptr::null_mut());
        if s.is_null() {
            String::new()
        } else {
            std::ffi::CStr::from_ptr(s).to_string_lossy().into_owned()
        }
    };
    eprintln!("PANIC: unprotected error in call to Lua API ({message})");
    0
}

/// luaL_newstate with jemalloc's allocator.
///
/// # Safety
/// The state is closed with lua_close once.
pub unsafe fn new_state() -> *mut lua_State {
    // SAFETY: a new state with a valid allocator function and no user data.
    unsafe {
        let l = lua_newstate(alloc, std::ptr::null_mut());
        if !l.is_null() {
            lua_atpanic(l, panic);
        }
        l
    }
}
