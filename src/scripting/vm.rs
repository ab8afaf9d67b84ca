//! The Lua VM of EVAL, set up as Redis 7.0's scriptingInit sets up its own: the libraries of
//! luaLoadLibraries (no os, io, package, loadfile, dofile), the `redis` API, the error handler
//! that adds source and line to errors, and the read-only globals. Scripts are compiled once
//! into functions kept in the registry as `f_<sha1>` and called with KEYS and ARGV as globals.

use std::ffi::{c_char, c_int};
use std::sync::Arc;

use parking_lot::Mutex;

use super::api;
use super::convert::pop_reply;
use super::ffi::*;
use super::flags::{parse_shebang, ScriptFlags};
use super::ldb::{self, LdbLink, LdbSession};
use super::rand::Rand48;
use super::sandbox;
use super::{RunCtx, ScriptHost};

use crate::protocol::Reply;

/// Redis steps the collector by this much every this many script calls (LUA_GC_CYCLE_PERIOD).
const GC_CYCLE_PERIOD: u32 = 50;

/// The message handler every script runs under (eval.c scriptingInit), byte for byte: its
/// text decides the source and line every error reply shows.
const ERROR_HANDLER: &[u8] = b"local dbg = debug\n\
debug = nil\n\
function __redis__err__handler(err)\n  \
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
end\n";

/// A script compiled into the VM: its SHA1 (lowercase hex) and shebang flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledScript {
    pub sha: String,
    pub flags: ScriptFlags,
}

/// How one script call runs.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// The calling client's protocol (2 or 3).
    pub caller_resp: u8,
    /// Poll [`ScriptHost::should_kill`] every 100,000 instructions (busy-reply-threshold > 0).
    pub killable: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { caller_resp: 2, killable: false }
    }
}

pub struct EvalVm {
    l: *mut lua_State,
    rand: Arc<Mutex<Rand48>>,
    calls_since_gc: u32,
}

// SAFETY: the state is reached only through &mut self (or &self for read-only queries that do
// not run Lua code), so moving it between threads is no different from moving a Vec.
unsafe impl Send for EvalVm {}

impl Drop for EvalVm {
    fn drop(&mut self) {
        // SAFETY: `l` came from lua_alloc::new_state and is closed once.
        unsafe { lua_close(self.l) }
    }
}

/// The lowercase hex SHA1 of a script body, as Redis names scripts.
pub fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// `f_<sha1 in lowercase>\0`, the registry key of a script's function (as Redis names it), on
/// the stack: EVALSHA builds it on every call.
struct RegistryName {
    bytes: [u8; 43],
    len: usize,
}

impl RegistryName {
    fn as_ptr(&self) -> *const c_char {
        self.bytes.as_ptr() as *const c_char
    }

    /// The SHA1 part, for error replies.
    fn sha(&self) -> &str {
        std::str::from_utf8(&self.bytes[2..self.len]).unwrap_or("")
    }
}

/// None for anything but 40 bytes, which no cached script's SHA1 is.
fn registry_name(sha: &str) -> Option<RegistryName> {
    if sha.len() != 40 {
        return None;
    }
    let mut bytes = [0u8; 43];
    bytes[..2].copy_from_slice(b"f_");
    for (to, from) in bytes[2..42].iter_mut().zip(sha.bytes()) {
        *to = from.to_ascii_lowercase();
    }
    Some(RegistryName { bytes, len: 42 })
}

impl EvalVm {
    /// A fresh VM. `rand` is math.random's generator, shared with the FUNCTION VM as Redis
    /// shares its one process-wide generator.
    pub fn new(rand: Arc<Mutex<Rand48>>) -> Result<EvalVm, String> {
        // SAFETY: a new state, set up step by step as scriptingInit does, before any script.
        unsafe {
            let l = super::lua_alloc::new_state();
            if l.is_null() {
                return Err("cannot create the Lua state (out of memory)".to_string());
            }
            let vm = EvalVm { l, rand, calls_since_gc: 0 };
            sandbox::allow_list_protection(l);
            load_libraries(l);
            api::register(l, true);
            if luaL_loadbuffer(
                l,
                ERROR_HANDLER.as_ptr() as *const c_char,
                ERROR_HANDLER.len(),
                c"@err_handler_def".as_ptr(),
            ) != 0
                || lua_pcall(l, 0, 0, 0) != 0
            {
                let err = to_bytes(l, -1).unwrap_or_default();
                return Err(format!("cannot set up the Lua error handler: {}", String::from_utf8_lossy(&err)));
            }
            lua_pushvalue(l, LUA_GLOBALSINDEX);
            sandbox::set_error_metatable(l);
            sandbox::protect_recursively(l);
            lua_pop(l, 1);
            sandbox::protect_basic_types(l);
            Ok(vm)
        }
    }

    /// Whether the script with this SHA1 (any case) is compiled in the VM.
    pub fn has_script(&self, sha: &str) -> bool {
        let Some(name) = registry_name(sha) else { return false };
        // SAFETY: a registry read; the stack is left as found.
        unsafe {
            lua_getfield_(self.l, LUA_REGISTRYINDEX, name.as_ptr());
            let found = lua_isnil(self.l, -1) == 0;
            lua_pop(self.l, 1);
            found
        }
    }

    /// luaCreateFunction: parses the shebang and compiles the body as `f_<sha1>` (a script
    /// already compiled is not compiled again). The error is the reply Redis gives.
    pub fn compile(&mut self, body: &[u8]) -> Result<CompiledScript, Reply> {
        let sha = sha1_hex(body);
        let (flags, shebang_len) = parse_shebang(body).map_err(|e| Reply::error(format!("ERR {e}")))?;
        if self.has_script(&sha) {
            return Ok(CompiledScript { sha, flags });
        }
        let code = &body[shebang_len..];
        let name = registry_name(&sha).ok_or_else(|| Reply::error("ERR a script's SHA1 is not 40 digits"))?;
        // SAFETY: the chunk is compiled from `code`, which Lua copies; the function is stored
        // in the registry (popping it), or the error message is popped.
        unsafe {
            if luaL_loadbuffer(self.l, code.as_ptr() as *const c_char, code.len(), c"@user_script".as_ptr()) != 0 {
                let err = to_cstr_bytes(self.l, -1).unwrap_or_default();
                lua_pop(self.l, 1);
                return Err(error_format(format!(
                    "Error compiling script (new function): {}",
                    String::from_utf8_lossy(&err)
                )));
            }
            lua_setfield(self.l, LUA_REGISTRYINDEX, name.as_ptr());
        }
        Ok(CompiledScript { sha, flags })
    }

    /// evalGenericCommand + luaCallFunction for a compiled script: KEYS and ARGV set, the
    /// function called under the error handler, its value converted to the caller's reply.
    /// An unknown SHA1 gives Redis's NOSCRIPT error.
    pub fn run(
        &mut self,
        sha: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn ScriptHost,
        options: RunOptions,
    ) -> Reply {
        self.run_with(sha, keys, args, host, options, None)
    }

    /// [`EvalVm::run`] inside a debugging session (SCRIPT DEBUG): the script stops on its
    /// lines as the debugging client asks; the kill hook is not installed (Redis does not poll
    /// SCRIPT KILL while debugging). The session goes on after the run: the caller ends it
    /// (see [`super::ldb`] for the whole sequence).
    pub fn run_debugged(
        &mut self,
        sha: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn ScriptHost,
        options: RunOptions,
        session: &mut LdbSession<'_>,
    ) -> Reply {
        self.run_with(sha, keys, args, host, options, Some(session.link()))
    }

    fn run_with(
        &mut self,
        sha: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn ScriptHost,
        options: RunOptions,
        ldb: Option<LdbLink<'_>>,
    ) -> Reply {
        let l = self.l;
        const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
        let Some(name) = registry_name(sha) else { return Reply::error(NOSCRIPT) };
        // The name as the registry has it (lowercase), for error replies.
        let funcname = name.sha();
        // SAFETY: eval.c's stack discipline: handler and function pushed, both popped on every
        // path (call_pushed pops the function, the handler is popped here).
        unsafe {
            lua_checkstack(l, 4);
            lua_getglobal_(l, c"__redis__err__handler".as_ptr());
            lua_getfield_(l, LUA_REGISTRYINDEX, name.as_ptr());
            if lua_isnil(l, -1) != 0 {
                lua_pop(l, 2);
                return Reply::error(NOSCRIPT);
            }
            let call = PushedCall { funcname, keys, args, eval_mode: true };
            let reply = call_pushed(l, &call, host, options, &self.rand, &mut self.calls_since_gc, ldb);
            lua_pop(l, 1);
            reply
        }
    }

    /// Lua's memory in bytes (luaMemory: used_memory_lua / used_memory_vm_eval).
    pub fn memory(&self) -> u64 {
        // SAFETY: a GC query runs no Lua code.
        let kb = unsafe { lua_gc(self.l, LUA_GCCOUNT, 0) };
        kb.max(0) as u64 * 1024
    }

    /// Compiles and runs `body` in one go, as EVAL does: for tests of the engine alone.
    pub fn eval_for_test(&mut self, body: &[u8], keys: &[&[u8]], args: &[&[u8]], host: &mut dyn ScriptHost) -> Reply {
        self.eval_with(body, keys, args, host, RunOptions::default())
    }

    /// EVAL's compile-then-run with explicit options.
    pub fn eval_with(
        &mut self,
        body: &[u8],
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn ScriptHost,
        options: RunOptions,
    ) -> Reply {
        match self.compile(body) {
            Ok(script) => self.run(&script.sha, keys, args, host, options),
            Err(reply) => reply,
        }
    }
}

/// One call of a function already on the stack above its message handler.
pub(crate) struct PushedCall<'a> {
    /// The name error replies show: the SHA1 for EVAL, the function name for FCALL.
    pub funcname: &'a str,
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    /// EVAL sets KEYS and ARGV as globals; FCALL passes them as the two arguments.
    pub eval_mode: bool,
}

/// luaCallFunction: the run context installed, the hook set, the call made under the handler
/// (at -2 below the function), the value or error converted, the function's slot popped (the
/// handler stays for the caller to pop).
///
/// # Safety
/// `l` live with the handler and the function on top.
pub(crate) unsafe fn call_pushed(
    l: *mut lua_State,
    call: &PushedCall<'_>,
    host: &mut dyn ScriptHost,
    options: RunOptions,
    rand: &Mutex<Rand48>,
    calls_since_gc: &mut u32,
    ldb: Option<LdbLink<'_>>,
) -> Reply {
    let debugged = ldb.is_some();
    let mut ctx = RunCtx { host, resp: 2, rand, killed: false, ldb };
    // SAFETY: the run context pointer is installed only while `ctx` lives (cleared below
    // before it is dropped); the globals are unlocked only around the two assignments.
    unsafe {
        lua_checkstack(l, 4);
        let installed = api::install_run_ctx(api::ctx_ptr(&mut ctx));
        let hooked = debugged || options.killable;
        if debugged {
            ldb::install_hook(l);
        } else if options.killable {
            lua_sethook(l, Some(api::kill_hook), LUA_MASKCOUNT, 100_000);
        }
        create_array(l, call.keys);
        if call.eval_mode {
            lua_enablereadonlytable(l, LUA_GLOBALSINDEX, 0);
            lua_setglobal(l, c"KEYS".as_ptr());
            lua_enablereadonlytable(l, LUA_GLOBALSINDEX, 1);
        }
        create_array(l, call.args);
        if call.eval_mode {
            lua_enablereadonlytable(l, LUA_GLOBALSINDEX, 0);
            lua_setglobal(l, c"ARGV".as_ptr());
            lua_enablereadonlytable(l, LUA_GLOBALSINDEX, 1);
        }
        let err = if call.eval_mode { lua_pcall(l, 0, 1, -2) } else { lua_pcall(l, 2, 1, -4) };

        *calls_since_gc += 1;
        if *calls_since_gc == GC_CYCLE_PERIOD {
            lua_gc(l, LUA_GCSTEP, GC_CYCLE_PERIOD as c_int);
            *calls_since_gc = 0;
        }
        let reply = if err != 0 {
            let reply = failure_reply(l, call.funcname);
            lua_pop(l, 1);
            reply
        } else {
            pop_reply(l, ctx.resp, options.caller_resp)
        };
        if hooked {
            lua_sethook(l, None, 0, 0);
        }
        drop(installed);
        reply
    }
}

/// The error reply of a failed call (luaCallFunction): the handler's table gives
/// "<err> script: <name>, on <source>:<line>."; anything else "Error running script ...".
///
/// # Safety
/// `l` live with the error value on top (left there).
unsafe fn failure_reply(l: *mut lua_State, funcname: &str) -> Reply {
    // SAFETY: field reads pop what they push.
    unsafe {
        if lua_istable(l, -1) == 0 {
            let msg = if lua_isstring(l, -1) != 0 {
                String::from_utf8_lossy(&to_cstr_bytes(l, -1).unwrap_or_default()).into_owned()
            } else {
                "execution failure".to_string()
            };
            let msg: String = msg.chars().take(100).collect();
            return error_format(format!("Error running script {funcname}, {msg}\n"));
        }
        let field = |name: &'static [u8]| {
            get_field(l, -1, name);
            let value = if lua_isstring(l, -1) != 0 { to_cstr_bytes(l, -1) } else { None };
            lua_pop(l, 1);
            value.map(|v| String::from_utf8_lossy(&v).into_owned())
        };
        let msg = field(b"err\0").unwrap_or_default();
        let source = field(b"source\0");
        let line = field(b"line\0");
        let mut text = msg;
        if let (Some(line), Some(source)) = (line, source) {
            text.push_str(&format!(" script: {funcname}, on {source}:{line}."));
        }
        Reply::Error(text.into())
    }
}

/// addReplyErrorFormat: end newlines trimmed, "ERR " added unless the text has its own '-'.
pub(crate) fn error_format(text: String) -> Reply {
    let trimmed = text.trim_matches(|c| c == '\r' || c == '\n');
    match trimmed.strip_prefix('-') {
        Some(own) => Reply::Error(own.to_string().into()),
        None => Reply::Error(format!("ERR {trimmed}").into()),
    }
}

/// luaCreateArray
///
/// # Safety
/// `l` live.
pub(crate) unsafe fn create_array(l: *mut lua_State, items: &[&[u8]]) {
    // SAFETY: one table pushed, each item stored into it.
    unsafe {
        lua_newtable(l);
        for (j, item) in items.iter().enumerate() {
            push_bytes(l, item);
            lua_rawseti_(l, -2, (j + 1) as c_int);
        }
    }
}

/// luaLoadLibraries: each opener called with its library name as Lua's luaL_openlibs does.
///
/// # Safety
/// `l` is a fresh state.
pub(crate) unsafe fn load_libraries(l: *mut lua_State) {
    let libs: [(&std::ffi::CStr, lua_CFunction); 9] = [
        (c"", luaopen_base),
        (c"table", luaopen_table),
        (c"string", luaopen_string),
        (c"math", luaopen_math),
        (c"debug", luaopen_debug),
        (c"cjson", luaopen_cjson),
        (c"struct", luaopen_struct),
        (c"cmsgpack", luaopen_cmsgpack),
        (c"bit", luaopen_bit),
    ];
    for (name, open) in libs {
        // SAFETY: the opener runs unprotected as in Redis; only out-of-memory could fail it.
        unsafe {
            lua_pushcfunction(l, open);
            lua_pushstring_(l, name.as_ptr());
            lua_call(l, 1, 0);
        }
    }
}
