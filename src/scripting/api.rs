//! The `redis` table scripts see (script_lua.c luaRegisterRedisAPI and eval.c's debugger stubs),
//! Redis's pcall and its math.random/math.randomseed, as C functions on the raw Lua API.
//!
//! Errors: like Redis, these functions raise Lua *tables* ({err="CODE message"}) rather than
//! strings, which the script's message handler completes with the source and line. Raising
//! unwinds with longjmp through `lua_error`; every function here calls it (directly or through
//! a luaL_check* argument check) only from frames that hold no value with a destructor, so no
//! Rust cleanup is skipped.

use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::convert::{number_arg, push_error_table, push_reply};
use super::ffi::*;
use super::ldb;
use super::rand::LRAND48_MAX;
use super::RunCtx;

std::thread_local! {
    /// The current run's context (Redis keeps it in the registry, REGISTRY_RUN_CTX_NAME). Read by
    /// every redis.call, so it is kept where a read costs no table lookup. A script runs on one
    /// thread from its start to its end (a busy script's hook included), and never inside
    /// another (scripts cannot call EVAL or FCALL), so one slot per thread is enough.
    static RUN_CTX: std::cell::Cell<*mut c_void> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// Installs the context of the run that starts (a pointer from [`ctx_ptr`]) until the guard is
/// dropped, even by an unwinding panic, so that no pointer outlives its run.
pub(crate) fn install_run_ctx(p: *mut c_void) -> RunCtxInstalled {
    RUN_CTX.with(|c| c.set(p));
    RunCtxInstalled
}

pub(crate) struct RunCtxInstalled;

impl Drop for RunCtxInstalled {
    fn drop(&mut self) {
        RUN_CTX.with(|c| c.set(std::ptr::null_mut()));
    }
}

/// The current run's context, if a script is running.
///
/// # Safety
/// The pointer, when set, points to a RunCtx that outlives the run (vm.rs sets it for the
/// duration of one pcall and clears it after); `_l` is the running state.
pub(crate) unsafe fn run_ctx<'a>(_l: *mut lua_State) -> Option<&'a mut RunCtx<'a>> {
    let p = RUN_CTX.with(|c| c.get()) as *mut RunCtx<'a>;
    // SAFETY: see above; nothing else holds a reference to the context during a Lua callback.
    unsafe { p.as_mut() }
}

/// luaPushErrorBuff: the error table pushed, and logged while a debugger steps.
///
/// # Safety
/// As for [`push_error_table`].
pub(crate) unsafe fn push_error(l: *mut lua_State, text: &[u8]) {
    // SAFETY: forwarded.
    unsafe {
        ldb::log_error(l, text);
        push_error_table(l, text);
    }
}

/// Pushes an error table and raises it (luaPushError + luaError).
///
/// # Safety
/// `l` is live and inside a C function called by Lua; the caller's frames hold no destructors.
pub(crate) unsafe fn raise(l: *mut lua_State, text: &[u8]) -> ! {
    // SAFETY: as above.
    unsafe {
        push_error(l, text);
        lua_error(l)
    }
}

enum Outcome {
    Return(c_int),
    Raise,
}

/// luaArgsToRedisArgv: every argument a string, or a number written with "%.17g". The
/// arguments are popped; on failure the error table is pushed instead.
///
/// # Safety
/// `l` is live.
unsafe fn args_to_argv(l: *mut lua_State) -> Option<Vec<Vec<u8>>> {
    // SAFETY: indexes 1..=argc exist.
    unsafe {
        let argc = lua_gettop(l);
        if argc == 0 {
            push_error(l, b"Please specify at least one argument for this redis lib call");
            return None;
        }
        let mut argv = Vec::with_capacity(argc as usize);
        for j in 1..=argc {
            if lua_type(l, j) == LUA_TNUMBER {
                argv.push(number_arg(lua_tonumber(l, j)));
            } else {
                match to_bytes(l, j) {
                    Some(arg) => argv.push(arg),
                    None => break,
                }
            }
        }
        lua_pop(l, argc);
        if argv.len() != argc as usize {
            push_error(l, b"Lua redis lib command arguments must be strings or integers");
            return None;
        }
        Some(argv)
    }
}

/// luaRedisGenericCommand: redis.call (raise_error) and redis.pcall.
///
/// # Safety
/// `l` is live, inside a Lua call of a C function.
unsafe fn generic_command(l: *mut lua_State, raise_error: bool) -> Outcome {
    // SAFETY: as above; the host is reached through the run context vm.rs installed.
    unsafe {
        let Some(ctx) = run_ctx(l) else {
            push_error(l, b"redis.call/pcall can only be called inside a script invocation");
            return Outcome::Raise;
        };
        let Some(argv) = args_to_argv(l) else {
            return if raise_error { Outcome::Raise } else { Outcome::Return(1) };
        };
        ldb::log_command(ctx.ldb.as_mut(), &argv);
        let resp = ctx.resp;
        let host = &mut *ctx.host;
        let reply = match catch_unwind(AssertUnwindSafe(|| host.call(argv, resp))) {
            Ok(reply) => reply,
            Err(_) => crate::protocol::Reply::error("ERR internal error running the command"),
        };
        let raise_now = raise_error && reply.is_error();
        push_reply(l, &reply, resp);
        ldb::log_reply(ctx.ldb.as_mut(), &reply, resp);
        drop(reply);
        if raise_now {
            Outcome::Raise
        } else {
            Outcome::Return(1)
        }
    }
}

unsafe extern "C-unwind" fn redis_call(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua; generic_command's values are dropped before lua_error.
    unsafe {
        match generic_command(l, true) {
            Outcome::Return(n) => n,
            Outcome::Raise => lua_error(l),
        }
    }
}

unsafe extern "C-unwind" fn redis_pcall(l: *mut lua_State) -> c_int {
    // SAFETY: as for redis_call.
    unsafe {
        match generic_command(l, false) {
            Outcome::Return(n) => n,
            Outcome::Raise => lua_error(l),
        }
    }
}

/// Redis's global pcall: an error that is a table with a string `err` comes back as that
/// string, as in Redis 6 where errors were strings.
unsafe extern "C-unwind" fn lua_pcall_compat(l: *mut lua_State) -> c_int {
    // SAFETY: stack manipulation within the C function's own frame, as script_lua.c does.
    unsafe {
        let argc = lua_gettop(l);
        lua_pushboolean(l, 1);
        lua_insert(l, 1);
        if lua_pcall(l, argc - 1, LUA_MULTRET, 0) != 0 {
            lua_remove(l, 1);
            if lua_istable(l, -1) != 0 {
                get_field(l, -1, b"err\0");
                if lua_isstring(l, -1) != 0 {
                    lua_replace(l, -2);
                }
            }
            lua_pushboolean(l, 0);
            lua_insert(l, 1);
        }
        lua_gettop(l)
    }
}

unsafe extern "C-unwind" fn redis_sha1hex(l: *mut lua_State) -> c_int {
    // SAFETY: the digest String is dropped before any raise (none after it).
    unsafe {
        if lua_gettop(l) != 1 {
            raise(l, b"wrong number of arguments");
        }
        let input = to_bytes(l, 1).unwrap_or_default();
        let digest = sha1_smol::Sha1::from(&input).digest().to_string();
        push_bytes(l, digest.as_bytes());
        1
    }
}

unsafe extern "C-unwind" fn redis_error_reply(l: *mut lua_State) -> c_int {
    // SAFETY: no raise; values pushed within the frame.
    unsafe {
        if lua_gettop(l) != 1 || lua_type(l, -1) != LUA_TSTRING {
            push_error(l, b"wrong number or type of arguments");
            return 1;
        }
        let err = to_cstr_bytes(l, -1).unwrap_or_default();
        if err.first() == Some(&b'-') {
            push_error(l, &err);
        } else {
            let mut text = Vec::with_capacity(err.len() + 1);
            text.push(b'-');
            text.extend_from_slice(&err);
            push_error(l, &text);
        }
        1
    }
}

unsafe extern "C-unwind" fn redis_status_reply(l: *mut lua_State) -> c_int {
    // SAFETY: as for redis_error_reply.
    unsafe {
        if lua_gettop(l) != 1 || lua_type(l, -1) != LUA_TSTRING {
            push_error(l, b"wrong number or type of arguments");
            return 1;
        }
        lua_newtable(l);
        lua_pushvalue(l, -2);
        set_field(l, -2, b"ok\0");
        1
    }
}

/// PROPAGATE_AOF | PROPAGATE_REPL
const REPL_ALL: i32 = 3;

unsafe extern "C-unwind" fn redis_set_repl(l: *mut lua_State) -> c_int {
    // SAFETY: raises only before any owned value exists.
    unsafe {
        let Some(ctx) = run_ctx(l) else {
            raise(l, b"redis.set_repl can only be called inside a script invocation");
        };
        if lua_gettop(l) != 1 {
            raise(l, b"redis.set_repl() requires two arguments.");
        }
        let flags = lua_tonumber(l, -1) as i32;
        if flags & !REPL_ALL != 0 {
            raise(l, b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
        }
        ctx.host.set_repl(super::ReplFlags { aof: flags & 1 != 0, replicas: flags & 2 != 0 });
        0
    }
}

unsafe extern "C-unwind" fn redis_acl_check_cmd(l: *mut lua_State) -> c_int {
    // SAFETY: `argv` is dropped (end of the inner block) before any raise.
    unsafe {
        let Some(ctx) = run_ctx(l) else {
            raise(l, b"redis.acl_check_cmd can only be called inside a script invocation");
        };
        let allowed = {
            let Some(argv) = args_to_argv(l) else { lua_error(l) };
            ctx.host.acl_check(&argv)
        };
        match allowed {
            Some(allowed) => {
                lua_pushboolean(l, c_int::from(allowed));
                1
            }
            None => raise(l, b"Invalid command passed to redis.acl_check_cmd()"),
        }
    }
}

pub(crate) unsafe extern "C-unwind" fn redis_log(l: *mut lua_State) -> c_int {
    // SAFETY: raises before the message buffer exists.
    unsafe {
        let argc = lua_gettop(l);
        if argc < 2 {
            raise(l, b"redis.log() requires two arguments or more.");
        } else if lua_isnumber(l, -argc) == 0 {
            raise(l, b"First argument must be a number (log level).");
        }
        let level = lua_tonumber(l, -argc) as i32;
        if !(0..=3).contains(&level) {
            raise(l, b"Invalid debug level.");
        }
        let mut line = Vec::new();
        for j in 1..argc {
            if let Some(s) = to_bytes(l, -argc + j) {
                if j != 1 {
                    line.push(b' ');
                }
                line.extend_from_slice(&s);
            }
        }
        let text = String::from_utf8_lossy(&line);
        // Redis's levels onto tracing's, as crate::logging maps them back.
        match level {
            0 => tracing::trace!(target: "redis_rs::script", "{text}"),
            1 => tracing::debug!(target: "redis_rs::script", "{text}"),
            2 => tracing::info!(target: "redis_rs::script", "{text}"),
            _ => tracing::warn!(target: "redis_rs::script", "{text}"),
        }
        0
    }
}

unsafe extern "C-unwind" fn redis_setresp(l: *mut lua_State) -> c_int {
    // SAFETY: raises before any owned value exists.
    unsafe {
        let Some(ctx) = run_ctx(l) else {
            raise(l, b"redis.setresp can only be called inside a script invocation");
        };
        if lua_gettop(l) != 1 {
            raise(l, b"redis.setresp() requires one argument.");
        }
        let resp = lua_tonumber(l, 1) as i32;
        if resp != 2 && resp != 3 {
            raise(l, b"RESP version must be 2 or 3.");
        }
        ctx.resp = resp as u8;
        0
    }
}

/// redis.breakpoint: in a debugging session (SCRIPT DEBUG), stop at the next line and return
/// true; outside one, false.
unsafe extern "C-unwind" fn redis_breakpoint(l: *mut lua_State) -> c_int {
    // SAFETY: one value pushed.
    unsafe {
        let active = ldb::breakpoint(l);
        lua_pushboolean(l, c_int::from(active));
    }
    1
}

/// redis.debug: logs its arguments to the debugging client; nothing outside a session.
unsafe extern "C-unwind" fn redis_debug(l: *mut lua_State) -> c_int {
    // SAFETY: reads its arguments only.
    unsafe { ldb::debug(l) };
    0
}

/// redis.replicate_commands: deprecated, always true (effects replication is the only mode).
unsafe extern "C-unwind" fn redis_replicate_commands(l: *mut lua_State) -> c_int {
    // SAFETY: one value pushed.
    unsafe { lua_pushboolean(l, 1) };
    1
}

/// luaL_checkint: the integer conversion of the number, cut to a C int.
///
/// # Safety
/// `l` live; raises a Lua error for a non-number (no destructors pending in callers).
unsafe fn check_int(l: *mut lua_State, n: c_int) -> i32 {
    // SAFETY: as above.
    unsafe { luaL_checkinteger(l, n) as i32 }
}

unsafe extern "C-unwind" fn math_random(l: *mut lua_State) -> c_int {
    // SAFETY: the generator lock is released (end of statement) before any argument check.
    unsafe {
        let Some(ctx) = run_ctx(l) else {
            luaL_error(l, c"math.random can only be called inside a script invocation".as_ptr());
            return 0;
        };
        let drawn = ctx.rand.lock().lrand48();
        let r = (drawn % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
        match lua_gettop(l) {
            0 => lua_pushnumber(l, r),
            1 => {
                let u = check_int(l, 1);
                if 1 > u {
                    luaL_argerror(l, 1, c"interval is empty".as_ptr());
                }
                lua_pushnumber(l, (r * u as f64).floor() + 1.0);
            }
            2 => {
                let lo = check_int(l, 1);
                let u = check_int(l, 2);
                if lo > u {
                    luaL_argerror(l, 2, c"interval is empty".as_ptr());
                }
                lua_pushnumber(l, (r * (u as f64 - lo as f64 + 1.0)).floor() + lo as f64);
            }
            _ => {
                luaL_error(l, c"wrong number of arguments".as_ptr());
            }
        }
        1
    }
}

unsafe extern "C-unwind" fn math_randomseed(l: *mut lua_State) -> c_int {
    // SAFETY: the argument check runs before the lock is taken.
    unsafe {
        let Some(ctx) = run_ctx(l) else {
            luaL_error(l, c"math.randomseed can only be called inside a script invocation".as_ptr());
            return 0;
        };
        let seed = check_int(l, 1);
        ctx.rand.lock().srand48(seed);
        0
    }
}

/// The count hook of a run that may be killed (luaMaskCountHook): asks the host every 100,000
/// instructions; once killed, it fires on every line so pcall cannot swallow the kill.
pub(crate) unsafe extern "C-unwind" fn kill_hook(l: *mut lua_State, _ar: *mut lua_Debug) {
    // SAFETY: raising from a hook is how Lua aborts; no destructors pending.
    unsafe {
        let Some(ctx) = run_ctx(l) else { return };
        if ctx.killed || ctx.host.should_kill() {
            ctx.killed = true;
            tracing::warn!("Lua script killed by user with SCRIPT KILL.");
            lua_sethook(l, Some(kill_hook), LUA_MASKLINE, 0);
            raise(l, b"Script killed by user with SCRIPT KILL...");
        }
    }
}

/// Registers `f` as `t[name]` for the table on top.
///
/// # Safety
/// `l` live with a table on top; `name` NUL-terminated.
pub(crate) unsafe fn set_fn(l: *mut lua_State, name: &'static [u8], f: lua_CFunction) {
    // SAFETY: as above.
    unsafe {
        lua_pushcfunction(l, f);
        set_field(l, -2, name);
    }
}

/// # Safety
/// As for [`set_fn`].
pub(crate) unsafe fn set_num(l: *mut lua_State, name: &'static [u8], n: f64) {
    // SAFETY: as above.
    unsafe {
        lua_pushnumber(l, n);
        set_field(l, -2, name);
    }
}

/// REDIS_VERSION_NUM of 7.0.15
pub const REDIS_VERSION_NUM: u32 = 0x0007_000f;
pub const REDIS_VERSION: &[u8] = b"7.0.15";

/// luaRegisterRedisAPI's global pcall and `redis` table plus eval.c's additions
/// (breakpoint, debug, replicate_commands), and the math.random replacements.
///
/// # Safety
/// `l` is a fresh state with its libraries loaded, globals still writable.
/// `eval_extras`: breakpoint, debug and replicate_commands, which only EVAL's VM has.
pub(crate) unsafe fn register(l: *mut lua_State, eval_extras: bool) {
    // SAFETY: table building on a fresh stack.
    unsafe {
        lua_pushcfunction(l, lua_pcall_compat);
        lua_setglobal(l, c"pcall".as_ptr());

        lua_newtable(l);
        set_fn(l, b"call\0", redis_call);
        set_fn(l, b"pcall\0", redis_pcall);
        set_fn(l, b"log\0", redis_log);
        set_num(l, b"LOG_DEBUG\0", 0.0);
        set_num(l, b"LOG_VERBOSE\0", 1.0);
        set_num(l, b"LOG_NOTICE\0", 2.0);
        set_num(l, b"LOG_WARNING\0", 3.0);
        set_num(l, b"REDIS_VERSION_NUM\0", f64::from(REDIS_VERSION_NUM));
        push_bytes(l, REDIS_VERSION);
        set_field(l, -2, b"REDIS_VERSION\0");
        set_fn(l, b"setresp\0", redis_setresp);
        set_fn(l, b"sha1hex\0", redis_sha1hex);
        set_fn(l, b"error_reply\0", redis_error_reply);
        set_fn(l, b"status_reply\0", redis_status_reply);
        set_fn(l, b"set_repl\0", redis_set_repl);
        set_num(l, b"REPL_NONE\0", 0.0);
        set_num(l, b"REPL_AOF\0", 1.0);
        set_num(l, b"REPL_SLAVE\0", 2.0);
        set_num(l, b"REPL_REPLICA\0", 2.0);
        set_num(l, b"REPL_ALL\0", 3.0);
        set_fn(l, b"acl_check_cmd\0", redis_acl_check_cmd);
        if eval_extras {
            set_fn(l, b"breakpoint\0", redis_breakpoint);
            set_fn(l, b"debug\0", redis_debug);
            set_fn(l, b"replicate_commands\0", redis_replicate_commands);
        }
        lua_setglobal(l, c"redis".as_ptr());

        lua_getglobal_(l, c"math".as_ptr());
        set_fn(l, b"random\0", math_random);
        set_fn(l, b"randomseed\0", math_randomseed);
        lua_pop(l, 1);
    }
}

/// A pointer for the registry slot of the run context.
pub(crate) fn ctx_ptr(ctx: &mut RunCtx<'_>) -> *mut c_void {
    ctx as *mut RunCtx<'_> as *mut c_void
}
