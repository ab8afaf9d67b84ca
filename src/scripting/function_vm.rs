//! The Lua VM of FUNCTION and FCALL, set up as Redis 7.0's function_lua.c sets up its own: the
//! same libraries and `redis` API as EVAL's (without the debugger stubs), a library-loading
//! environment where top-level code sees only `redis.register_function`, `redis.log` and the
//! version fields, and registered callbacks kept in the registry and called with the KEYS and
//! ARGV tables as their two arguments.

use std::ffi::{c_char, c_int};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::api::{self, raise, set_fn, set_num};
use super::ffi::*;
use super::flags::ScriptFlags;
use super::rand::Rand48;
use super::sandbox;
use super::vm::{call_pushed, load_libraries, PushedCall, RunOptions};
use super::ScriptHost;
use crate::protocol::Reply;

const LOAD_CTX_KEY: &[u8] = b"__LIBRARY_CTX__\0";
const LIBRARY_API_KEY: &[u8] = b"__LIBRARY_API__\0";
const GLOBALS_API_KEY: &[u8] = b"__GLOBALS_API__\0";

/// function_lua.c's handler: the same as EVAL's, returned instead of made a global.
const ERROR_HANDLER: &[u8] = b"local dbg = debug\n\
debug = nil\n\
local error_handler = function (err)\n  \
local i = dbg.getinfo(2,'nSl')\n  \
if i and i.what == 'C' then\n    \
i = dbg.getinfo(3,'nSl')\n  \
end\n  \
if type(err) ~= 'table' then\n    \
err = {err='ERR ' .. tostring(err)}  \
end  \
if i then\n    \
err['source'] = i.source\n    \
err['line'] = i.currentline\n  \
end  \
return err\n\
end\n\
return error_handler";

/// A callback registered by a library's code: its registry reference is the handle FCALL uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredFunction {
    pub name: Vec<u8>,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
    pub handle: FunctionHandle,
}

/// A compiled function in the VM; freed with [`FunctionVm::free_function`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionHandle(c_int);

struct LoadCtx {
    started: Instant,
    timeout: Duration,
    functions: Vec<RegisteredFunction>,
}

pub struct FunctionVm {
    l: *mut lua_State,
    rand: Arc<Mutex<Rand48>>,
    calls_since_gc: u32,
    /// The registry reference of the error handler: an array slot, which every FCALL reads
    /// faster than a named field (Redis looks it up by name).
    handler_ref: c_int,
}

// SAFETY: as for EvalVm: the state is reached only through this value.
unsafe impl Send for FunctionVm {}

impl Drop for FunctionVm {
    fn drop(&mut self) {
        // SAFETY: `l` came from lua_alloc::new_state and is closed once.
        unsafe { lua_close(self.l) }
    }
}

/// functionsVerifyName
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

impl FunctionVm {
    /// luaEngineInitEngine. `rand` is the generator shared with EVAL's VM.
    pub fn new(rand: Arc<Mutex<Rand48>>) -> Result<FunctionVm, String> {
        // SAFETY: a new state set up in function_lua.c's order.
        unsafe {
            let l = super::lua_alloc::new_state();
            if l.is_null() {
                return Err("cannot create the Lua state (out of memory)".to_string());
            }
            let mut vm = FunctionVm { l, rand, calls_since_gc: 0, handler_ref: LUA_NOREF };
            // luaRegisterRedisAPI
            sandbox::allow_list_protection(l);
            load_libraries(l);
            api::register(l, false);

            // The environment of library loading: { redis = {register_function, log, ...} }.
            lua_newtable(l);
            lua_newtable(l);
            set_fn(l, b"register_function\0", register_function);
            set_fn(l, b"log\0", api::redis_log);
            set_num(l, b"LOG_DEBUG\0", 0.0);
            set_num(l, b"LOG_VERBOSE\0", 1.0);
            set_num(l, b"LOG_NOTICE\0", 2.0);
            set_num(l, b"LOG_WARNING\0", 3.0);
            set_num(l, b"REDIS_VERSION_NUM\0", f64::from(api::REDIS_VERSION_NUM));
            push_bytes(l, api::REDIS_VERSION);
            set_field(l, -2, b"REDIS_VERSION\0");
            sandbox::set_error_metatable(l);
            set_field(l, -2, b"redis\0");
            sandbox::set_error_metatable(l);
            sandbox::protect_recursively(l);
            set_field(l, LUA_REGISTRYINDEX, LIBRARY_API_KEY);

            if luaL_loadbuffer(
                l,
                ERROR_HANDLER.as_ptr() as *const c_char,
                ERROR_HANDLER.len(),
                c"@err_handler_def".as_ptr(),
            ) != 0
                || lua_pcall(l, 0, 1, 0) != 0
            {
                let err = to_bytes(l, -1).unwrap_or_default();
                return Err(format!("cannot set up the Lua error handler: {}", String::from_utf8_lossy(&err)));
            }
            vm.handler_ref = luaL_ref(l, LUA_REGISTRYINDEX);

            lua_pushvalue(l, LUA_GLOBALSINDEX);
            sandbox::set_error_metatable(l);
            sandbox::protect_recursively(l);
            lua_pop(l, 1);
            lua_pushvalue(l, LUA_GLOBALSINDEX);
            set_field(l, LUA_REGISTRYINDEX, GLOBALS_API_KEY);

            // New, empty globals whose metatable's __index switches between the two APIs.
            lua_newtable(l);
            lua_newtable(l);
            lua_pushvalue(l, LUA_GLOBALSINDEX);
            set_field(l, -2, b"__index\0");
            lua_enablereadonlytable(l, -1, 1);
            lua_setmetatable(l, -2);
            lua_enablereadonlytable(l, -1, 1);
            lua_replace(l, LUA_GLOBALSINDEX);
            sandbox::protect_basic_types(l);
            Ok(vm)
        }
    }

    /// luaEngineCreate: runs a library's code (without its `#!lua name=` line) so it registers
    /// its functions, within `timeout` (FUNCTION LOAD's 500 ms). The error is the text Redis
    /// puts after "ERR " in FUNCTION LOAD's reply. A library registering nothing is an error
    /// ("No functions registered"), as functions.c makes it.
    pub fn load_library(&mut self, code: &[u8], timeout: Duration) -> Result<Vec<RegisteredFunction>, String> {
        let l = self.l;
        let mut ctx = LoadCtx { started: Instant::now(), timeout, functions: Vec::new() };
        // SAFETY: the load context pointer is in the registry only while `ctx` lives; the
        // globals' __index is restored on every path.
        let result = unsafe {
            switch_api(l, LIBRARY_API_KEY);
            let result =
                if luaL_loadbuffer(l, code.as_ptr() as *const c_char, code.len(), c"@user_function".as_ptr()) != 0 {
                    let err = to_cstr_bytes(l, -1).unwrap_or_default();
                    lua_pop(l, 1);
                    Err(format!("Error compiling function: {}", String::from_utf8_lossy(&err)))
                } else {
                    lua_pushlightuserdata(l, &mut ctx as *mut LoadCtx as *mut std::ffi::c_void);
                    set_field(l, LUA_REGISTRYINDEX, LOAD_CTX_KEY);
                    lua_sethook(l, Some(load_hook), LUA_MASKCOUNT, 100_000);
                    if lua_pcall(l, 0, 0, 0) != 0 {
                        let msg = error_message(l);
                        lua_pop(l, 1);
                        Err(format!("Error registering functions: {msg}"))
                    } else {
                        Ok(())
                    }
                };
            switch_api(l, GLOBALS_API_KEY);
            lua_sethook(l, None, 0, 0);
            lua_pushnil(l);
            set_field(l, LUA_REGISTRYINDEX, LOAD_CTX_KEY);
            result
        };
        let functions = std::mem::take(&mut ctx.functions);
        match result {
            Ok(()) if functions.is_empty() => Err("No functions registered".to_string()),
            Ok(()) => Ok(functions),
            Err(e) => {
                for f in functions {
                    self.free_function(f.handle);
                }
                Err(e)
            }
        }
    }

    /// luaEngineCall: FCALL of a registered function; `name` is what error replies show.
    pub fn call(
        &mut self,
        handle: FunctionHandle,
        name: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn ScriptHost,
        options: RunOptions,
    ) -> Reply {
        let l = self.l;
        // SAFETY: handler and function pushed; call_pushed pops the function's slot, the
        // handler is popped here.
        unsafe {
            lua_checkstack(l, 6);
            lua_rawgeti_(l, LUA_REGISTRYINDEX, self.handler_ref);
            lua_rawgeti_(l, LUA_REGISTRYINDEX, handle.0);
            if lua_isfunction(l, -1) == 0 {
                lua_pop(l, 2);
                return Reply::error("ERR Function not found");
            }
            let call = PushedCall { funcname: name, keys, args, eval_mode: false };
            let reply = call_pushed(l, &call, host, options, &self.rand, &mut self.calls_since_gc, None);
            lua_pop(l, 1);
            reply
        }
    }

    /// luaEngineFreeFunction
    pub fn free_function(&mut self, handle: FunctionHandle) {
        // SAFETY: releases a registry reference this VM created.
        unsafe { luaL_unref(self.l, LUA_REGISTRYINDEX, handle.0) }
    }

    /// Lua's memory in bytes (used_memory_vm_functions).
    pub fn memory(&self) -> u64 {
        // SAFETY: a GC query runs no Lua code.
        let kb = unsafe { lua_gc(self.l, LUA_GCCOUNT, 0) };
        kb.max(0) as u64 * 1024
    }
}

/// Sets the __index of the globals' metatable to the API table saved under `key`. As in Redis,
/// the metatable's protection is lifted for that and not restored (Redis re-protects the
/// globals table instead, which already is).
///
/// # Safety
/// `l` is a FunctionVm's state.
unsafe fn switch_api(l: *mut lua_State, key: &'static [u8]) {
    // SAFETY: the globals have a metatable (set in new()).
    unsafe {
        lua_getmetatable(l, LUA_GLOBALSINDEX);
        lua_enablereadonlytable(l, -1, 0);
        get_field(l, LUA_REGISTRYINDEX, key);
        set_field(l, -2, b"__index\0");
        lua_enablereadonlytable(l, LUA_GLOBALSINDEX, 1);
        lua_pop(l, 1);
    }
}

/// luaExtractErrorInformation's message for a raw error value (no handler ran): a string gets
/// "ERR ", a table gives its `err` field.
///
/// # Safety
/// `l` live with the error on top.
unsafe fn error_message(l: *mut lua_State) -> String {
    // SAFETY: reads pop what they push.
    unsafe {
        let mut msg = None;
        if lua_isstring(l, -1) != 0 {
            msg = to_cstr_bytes(l, -1).map(|m| {
                let mut full = b"ERR ".to_vec();
                full.extend_from_slice(&m);
                full
            });
        }
        get_field(l, -1, b"err\0");
        if lua_isstring(l, -1) != 0 {
            msg = to_cstr_bytes(l, -1);
        }
        lua_pop(l, 1);
        msg.map(|m| String::from_utf8_lossy(&m).into_owned()).unwrap_or_else(|| "(null)".to_string())
    }
}

/// # Safety
/// `l` live; the registry slot holds a LoadCtx pointer during a load, else nothing.
unsafe fn load_ctx<'a>(l: *mut lua_State) -> Option<&'a mut LoadCtx> {
    // SAFETY: see above.
    unsafe {
        get_field(l, LUA_REGISTRYINDEX, LOAD_CTX_KEY);
        let p = lua_touserdata(l, -1) as *mut LoadCtx;
        lua_pop(l, 1);
        p.as_mut()
    }
}

/// luaEngineLoadHook: FUNCTION LOAD's time limit.
unsafe extern "C-unwind" fn load_hook(l: *mut lua_State, _ar: *mut lua_Debug) {
    // SAFETY: raising from a hook aborts the load; no destructors pending.
    unsafe {
        let Some(ctx) = load_ctx(l) else { return };
        if !ctx.timeout.is_zero() && ctx.started.elapsed() > ctx.timeout {
            lua_sethook(l, Some(load_hook), LUA_MASKLINE, 0);
            raise(l, b"FUNCTION LOAD timeout");
        }
    }
}

/// What register_function read from its arguments.
struct FunctionArgs {
    name: Vec<u8>,
    description: Option<Vec<u8>>,
    flags: ScriptFlags,
    reference: c_int,
}

/// luaGetStringSds: a string or a number (converted in place, as lua_tolstring does).
///
/// # Safety
/// `l` live, `idx` valid.
unsafe fn string_arg(l: *mut lua_State, idx: c_int) -> Option<Vec<u8>> {
    // SAFETY: as above.
    unsafe {
        if lua_isstring(l, idx) == 0 {
            return None;
        }
        to_bytes(l, idx)
    }
}

/// luaRegisterFunctionReadFlags on the table on top: names matched without case.
///
/// # Safety
/// `l` live with a table on top.
unsafe fn read_flags(l: *mut lua_State) -> Option<ScriptFlags> {
    // SAFETY: each element pushed is popped.
    unsafe {
        let mut flags = ScriptFlags::default();
        let mut j = 1;
        loop {
            lua_pushnumber(l, f64::from(j));
            lua_gettable_(l, -2);
            j += 1;
            if lua_type(l, -1) == LUA_TNIL {
                lua_pop(l, 1);
                return Some(flags);
            }
            if lua_isstring(l, -1) == 0 {
                lua_pop(l, 1);
                return None;
            }
            let name = to_cstr_bytes(l, -1).unwrap_or_default().to_ascii_lowercase();
            lua_pop(l, 1);
            if !flags.set_named(&name) {
                return None;
            }
        }
    }
}

/// luaRegisterFunctionReadNamedArgs / ReadPositionalArgs. On error the reference taken (if
/// any) is released and the message returned.
///
/// # Safety
/// `l` live, inside register_function.
unsafe fn read_args(l: *mut lua_State) -> Result<FunctionArgs, &'static str> {
    // SAFETY: stack reads within the C function's frame.
    unsafe {
        let argc = lua_gettop(l);
        if !(1..=2).contains(&argc) {
            return Err("wrong number of arguments to redis.register_function");
        }
        if argc == 2 {
            let Some(name) = string_arg(l, 1) else {
                return Err("first argument to redis.register_function must be a string");
            };
            if lua_isfunction(l, 2) == 0 {
                return Err("second argument to redis.register_function must be a function");
            }
            let reference = luaL_ref(l, LUA_REGISTRYINDEX);
            return Ok(FunctionArgs { name, description: None, flags: ScriptFlags::default(), reference });
        }
        if lua_istable(l, 1) == 0 {
            return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
        }
        let mut name = None;
        let mut description = None;
        let mut reference = None;
        let mut flags = ScriptFlags::default();
        let fail = |l: *mut lua_State, reference: Option<c_int>, err: &'static str| {
            if let Some(r) = reference {
                luaL_unref(l, LUA_REGISTRYINDEX, r);
            }
            Err(err)
        };
        lua_pushnil(l);
        while lua_next(l, -2) != 0 {
            if lua_isstring(l, -2) == 0 {
                return fail(l, reference, "named argument key given to redis.register_function is not a string");
            }
            let key = to_cstr_bytes(l, -2).unwrap_or_default().to_ascii_lowercase();
            match key.as_slice() {
                b"function_name" => match string_arg(l, -1) {
                    Some(v) => name = Some(v),
                    None => {
                        return fail(
                            l,
                            reference,
                            "function_name argument given to redis.register_function must be a string",
                        )
                    }
                },
                b"description" => match string_arg(l, -1) {
                    Some(v) => description = Some(v),
                    None => {
                        return fail(
                            l,
                            reference,
                            "description argument given to redis.register_function must be a string",
                        )
                    }
                },
                b"callback" => {
                    if lua_isfunction(l, -1) == 0 {
                        return fail(
                            l,
                            reference,
                            "callback argument given to redis.register_function must be a function",
                        );
                    }
                    // A second callback leaks the first reference, as in Redis.
                    reference = Some(luaL_ref(l, LUA_REGISTRYINDEX));
                    continue;
                }
                b"flags" => {
                    if lua_istable(l, -1) == 0 {
                        return fail(
                            l,
                            reference,
                            "flags argument to redis.register_function must be a table representing function flags",
                        );
                    }
                    match read_flags(l) {
                        Some(f) => flags = f,
                        None => return fail(l, reference, "unknown flag given"),
                    }
                }
                _ => return fail(l, reference, "unknown argument given to redis.register_function"),
            }
            lua_pop(l, 1);
        }
        let Some(name) = name else {
            return fail(l, reference, "redis.register_function must get a function name argument");
        };
        let Some(reference) = reference else {
            return Err("redis.register_function must get a callback argument");
        };
        Ok(FunctionArgs { name, description, flags, reference })
    }
}

/// redis.register_function, only during FUNCTION LOAD.
unsafe extern "C-unwind" fn register_function(l: *mut lua_State) -> c_int {
    // SAFETY: every owned value is moved into the load context or dropped before a raise.
    unsafe {
        let Some(ctx) = load_ctx(l) else {
            raise(l, b"redis.register_function can only be called on FUNCTION LOAD command");
        };
        let err: &'static [u8] = match read_args(l) {
            Err(e) => e.as_bytes(),
            Ok(args) => {
                if !valid_name(&args.name) {
                    luaL_unref(l, LUA_REGISTRYINDEX, args.reference);
                    b"Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
                } else if ctx.functions.iter().any(|f| f.name == args.name) {
                    luaL_unref(l, LUA_REGISTRYINDEX, args.reference);
                    b"Function already exists in the library"
                } else {
                    ctx.functions.push(RegisteredFunction {
                        name: args.name,
                        description: args.description,
                        flags: args.flags,
                        handle: FunctionHandle(args.reference),
                    });
                    return 0;
                }
            }
        };
        raise(l, err)
    }
}

/// functionExtractLibMetaData: the engine and library name of a FUNCTION LOAD payload's
/// `#!<engine> name=<name>` line, and the code after it (from its line feed on, keeping line
/// numbers). Errors are Redis's texts without "ERR ".
pub fn parse_library_metadata(payload: &[u8]) -> Result<LibraryMetadata, String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".to_string());
    }
    let Some(end) = payload.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".to_string());
    };
    let parts = match crate::util::splitargs::split_args(&payload[..end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid library metadata".to_string()),
    };
    let engine = parts[0][2.min(parts[0].len())..].to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".to_string());
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(part)));
    }
    let Some(name) = name else {
        return Err("Library name was not given".to_string());
    };
    Ok(LibraryMetadata { engine, name, code: payload[end..].to_vec() })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryMetadata {
    pub engine: Vec<u8>,
    pub name: Vec<u8>,
    pub code: Vec<u8>,
}
