//! The globals protection of Redis 7.0.15 as Debian ships it (script_lua.c): during set-up only
//! allowed names may become globals; afterwards the globals table and every table reachable
//! from it (and the metatables of the basic types) are read-only, and reading a missing global
//! is an error.

use std::ffi::c_int;

use super::ffi::*;

const LIBRARIES_ALLOW_LIST: &[&[u8]] = &[b"string", b"cjson", b"bit", b"cmsgpack", b"math", b"table", b"struct"];
const REDIS_API_ALLOW_LIST: &[&[u8]] = &[b"redis", b"__redis__err__handler"];
const LUA_BUILTINS_ALLOW_LIST: &[&[u8]] = &[
    b"xpcall",
    b"tostring",
    b"setmetatable",
    b"next",
    b"assert",
    b"tonumber",
    b"rawequal",
    b"collectgarbage",
    b"getmetatable",
    b"rawset",
    b"pcall",
    b"coroutine",
    b"type",
    b"_G",
    b"select",
    b"unpack",
    b"gcinfo",
    b"pairs",
    b"rawget",
    b"loadstring",
    b"ipairs",
    b"_VERSION",
    b"load",
    b"error",
];
/// Allowed only with the hidden lua-enable-deprecated-api config, off by default (and here).
const LUA_BUILTINS_DEPRECATED: &[&[u8]] = &[b"newproxy", b"setfenv", b"getfenv"];
/// Removed right after set-up (debug becomes nil once the error handler captured it).
const REMOVED_AFTER_INIT_ALLOW_LIST: &[&[u8]] = &[b"debug"];
/// Dropped on purpose, without the warning other unknown names get.
const DENY_LIST: &[&[u8]] = &[b"dofile", b"loadfile", b"print"];

/// Raises `msg` with the position of the calling Lua code (luaL_error's "chunk:line: ").
///
/// # Safety
/// Inside a C function called by Lua; no destructors pending in the caller.
unsafe fn raise_at_caller(l: *mut lua_State, msg: &[u8]) -> ! {
    // SAFETY: as above.
    unsafe {
        luaL_where(l, 1);
        push_bytes(l, msg);
        lua_concat(l, 2);
        lua_error(l)
    }
}

/// luaProtectedTableError: the __index of the globals.
unsafe extern "C-unwind" fn protected_table_error(l: *mut lua_State) -> c_int {
    // SAFETY: the message is built in a block whose values are dropped before raising.
    unsafe {
        if lua_gettop(l) != 2 {
            tracing::warn!("malicious code trying to call luaProtectedTableError with wrong arguments");
            raise_at_caller(l, b"Wrong number of arguments to luaProtectedTableError");
        }
        if lua_isstring(l, -1) == 0 && lua_isnumber(l, -1) == 0 {
            raise_at_caller(l, b"Second argument to luaProtectedTableError must be a string or number");
        }
        let msg = {
            let name = to_cstr_bytes(l, -1).unwrap_or_default();
            let mut msg = b"Script attempted to access nonexistent global variable '".to_vec();
            msg.extend_from_slice(&name);
            msg.push(b'\'');
            msg
        };
        luaL_where(l, 1);
        push_bytes(l, &msg);
        drop(msg);
        lua_concat(l, 2);
        lua_error(l)
    }
}

/// luaNewIndexAllowList: the __newindex of the globals during set-up.
unsafe extern "C-unwind" fn new_index_allow_list(l: *mut lua_State) -> c_int {
    // SAFETY: raises only before the name is copied out.
    unsafe {
        if lua_gettop(l) != 3 {
            tracing::warn!("malicious code trying to call luaProtectedTableError with wrong arguments");
            raise_at_caller(l, b"Wrong number of arguments to luaNewIndexAllowList");
        }
        if lua_istable(l, -3) == 0 {
            raise_at_caller(l, b"first argument to luaNewIndexAllowList must be a table");
        }
        if lua_isstring(l, -2) == 0 && lua_isnumber(l, -2) == 0 {
            raise_at_caller(l, b"Second argument to luaNewIndexAllowList must be a string or number");
        }
        let name = to_cstr_bytes(l, -2).unwrap_or_default();
        let allowed =
            [LIBRARIES_ALLOW_LIST, REDIS_API_ALLOW_LIST, LUA_BUILTINS_ALLOW_LIST, REMOVED_AFTER_INIT_ALLOW_LIST]
                .iter()
                .any(|list| list.contains(&name.as_slice()));
        if allowed {
            lua_rawset(l, -3);
        } else if !DENY_LIST.contains(&name.as_slice()) && !LUA_BUILTINS_DEPRECATED.contains(&name.as_slice()) {
            tracing::warn!(
                "A key '{}' was added to Lua globals which is not on the globals allow list nor listed on the deny list.",
                String::from_utf8_lossy(&name)
            );
        }
        0
    }
}

/// Sets a metatable with the allow-list __newindex on the globals (luaSetAllowListProtection).
///
/// # Safety
/// `l` live, stack room for 3.
pub unsafe fn allow_list_protection(l: *mut lua_State) {
    // SAFETY: as above.
    unsafe {
        lua_pushvalue(l, LUA_GLOBALSINDEX);
        lua_newtable(l);
        lua_pushcfunction(l, new_index_allow_list);
        set_field(l, -2, b"__newindex\0");
        lua_setmetatable(l, -2);
        lua_pop(l, 1);
    }
}

/// luaSetErrorMetatable on the table on top: missing keys raise the nonexistent-global error.
///
/// # Safety
/// `l` live with a table on top, room for 2.
pub unsafe fn set_error_metatable(l: *mut lua_State) {
    // SAFETY: as above.
    unsafe {
        lua_newtable(l);
        lua_pushcfunction(l, protected_table_error);
        set_field(l, -2, b"__index\0");
        lua_setmetatable(l, -2);
    }
}

/// luaSetTableProtectionRecursively on the table on top.
///
/// # Safety
/// `l` live with a table on top.
pub unsafe fn protect_recursively(l: *mut lua_State) {
    // SAFETY: iteration with lua_next leaves the stack as found.
    unsafe {
        if lua_isreadonlytable(l, -1) != 0 {
            return;
        }
        lua_enablereadonlytable(l, -1, 1);
        lua_checkstack(l, 2);
        lua_pushnil(l);
        while lua_next(l, -2) != 0 {
            if lua_istable(l, -1) != 0 {
                protect_recursively(l);
            }
            lua_pop(l, 1);
        }
        if lua_getmetatable(l, -1) != 0 {
            protect_recursively(l);
            lua_pop(l, 1);
        }
    }
}

unsafe extern "C-unwind" fn no_op(_l: *mut lua_State) -> c_int {
    0
}

/// luaSetTableProtectionForBasicTypes: the metatables of strings, numbers, ... become read-only
/// (only strings have one: {__index = string}).
///
/// # Safety
/// `l` live.
pub unsafe fn protect_basic_types(l: *mut lua_State) {
    // SAFETY: each dummy value and its metatable are popped.
    unsafe {
        for ty in [LUA_TSTRING, LUA_TNUMBER, LUA_TBOOLEAN, LUA_TNIL, LUA_TFUNCTION, LUA_TTHREAD, LUA_TLIGHTUSERDATA] {
            match ty {
                LUA_TSTRING => push_bytes(l, b""),
                LUA_TNUMBER => lua_pushnumber(l, 0.0),
                LUA_TBOOLEAN => lua_pushboolean(l, 0),
                LUA_TNIL => lua_pushnil(l),
                LUA_TFUNCTION => lua_pushcfunction(l, no_op),
                LUA_TTHREAD => {
                    lua_newthread(l);
                }
                _ => lua_pushlightuserdata(l, l as *mut std::ffi::c_void),
            }
            if lua_getmetatable(l, -1) != 0 {
                protect_recursively(l);
                lua_pop(l, 1);
            }
            lua_pop(l, 1);
        }
    }
}
