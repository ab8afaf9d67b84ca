//! The stops of a debugged script: the line hook (luaLdbLineHook) and the debugger's command
//! loop (ldbRepl) with every command of its `help`.
//!
//! Lua hooks do not nest (Lua turns hooks off while one runs), so the Lua code `eval` and
//! `redis` run from here never re-enters the hook; but that code does reach the run context
//! (redis.call logs through it), so no reference to the session is held across it.

use std::ffi::{c_char, c_int, CStr};
use std::time::Instant;

use super::parse::{parse_command, Parsed};
use super::render::cat_stack_value;
use super::{link, LdbState, BREAKPOINTS_MAX};
use crate::scripting::api;
use crate::scripting::ffi::*;
use crate::util::numbers::{c_atoll, parse_i64};

/// Redis reads the client in pieces of this size.
const READ_CHUNK: usize = 1024;
/// Past this many unparsed bytes the script is aborted ("max client buffer reached").
const MAX_CLIENT_BUFFER: usize = 1 << 20;

const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

/// luaLdbLineHook. Errors it raises ("script aborted for user request", "protocol error",
/// ...) are raised here, once every Rust value of the stop is dropped.
pub(crate) unsafe extern "C-unwind" fn line_hook(l: *mut lua_State, ar: *mut lua_Debug) {
    // SAFETY: called by Lua with a live state and its debug record.
    let raise = unsafe { stop_if_needed(l, ar) };
    if let Some(msg) = raise {
        // SAFETY: nothing with a destructor is alive in this frame.
        unsafe { api::raise(l, msg) }
    }
}

/// Whether the C string has "user_script" in it: events elsewhere (eval'd code) are ignored.
fn in_user_script(short_src: &[c_char]) -> bool {
    let bytes: Vec<u8> = short_src.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    bytes.windows(11).any(|w| w == b"user_script")
}

/// # Safety
/// As for [`line_hook`].
unsafe fn stop_if_needed(l: *mut lua_State, ar: *mut lua_Debug) -> Option<&'static [u8]> {
    // SAFETY: `ar` is Lua's record for this event; the session reference is dropped before
    // the command loop runs Lua code.
    unsafe {
        lua_getstack(l, 0, ar);
        lua_getinfo(l, c"Sl".as_ptr(), ar);
        let st = &mut link(l)?.state;
        st.currentline = (*ar).currentline;
        let bp = st.is_breakpoint(st.currentline) || st.luabp;
        if !in_user_script(&(*ar).short_src) {
            return None;
        }
        let mut timeout = false;
        if (*ar).event == LUA_HOOKCOUNT && !st.step && !bp {
            if st.since_stop.elapsed() >= st.time_limit {
                timeout = true;
                st.step = true;
            } else {
                return None;
            }
        }
        if !(st.step || bp) {
            return None;
        }
        let reason = if bp {
            if st.luabp {
                "redis.breakpoint() called"
            } else {
                "break point"
            }
        } else if timeout {
            "timeout reached, infinite loop?"
        } else {
            "step over"
        };
        st.step = false;
        st.luabp = false;
        st.log(format!("* Stopped at {}, stop reason = {reason}", st.currentline).into_bytes());
        st.log_source_line(st.currentline);
        let session = link(l)?;
        session.state.send_logs(session.io);
        match repl(l) {
            Err(msg) => return Some(msg),
            Ok(Session::ClientGone) if timeout => {
                // Without a client the script would never stop looping.
                return Some(b"timeout during Lua debugging with client closing connection");
            }
            Ok(_) => {}
        }
        link(l)?.state.since_stop = Instant::now();
        None
    }
}

enum Session {
    Resume,
    ClientGone,
}

/// strcasecmp on the command name as a C string.
fn is(name: &[u8], short: &str, long: &str) -> bool {
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    name.eq_ignore_ascii_case(short.as_bytes()) || name.eq_ignore_ascii_case(long.as_bytes())
}

/// The next command from the client; Ok(None) when the client is gone.
///
/// # Safety
/// `l` is live, in a debugged run.
unsafe fn read_command(l: *mut lua_State) -> Result<Option<Vec<Vec<u8>>>, &'static [u8]> {
    // SAFETY: the session is reached with no Lua code running meanwhile.
    let Some(link) = (unsafe { link(l) }) else { return Ok(None) };
    loop {
        match parse_command(&link.state.cbuf) {
            Parsed::Command(argv) => {
                // Whatever followed the command (a pipelined one) is dropped, as Redis does.
                link.state.cbuf.clear();
                return Ok(Some(argv));
            }
            Parsed::ProtocolError => return Err(b"protocol error"),
            Parsed::NeedMore => {}
        }
        let mut buf = [0u8; READ_CHUNK];
        let n = link.io.read(&mut buf);
        if n == 0 {
            // The script runs on to its end without stopping.
            link.state.step = false;
            link.state.bpcount = 0;
            return Ok(None);
        }
        link.state.cbuf.extend_from_slice(&buf[..n.min(READ_CHUNK)]);
        if link.state.cbuf.len() > MAX_CLIENT_BUFFER {
            link.state.cbuf = Vec::new();
            return Err(b"max client buffer reached");
        }
    }
}

/// ldbRepl: commands until one resumes the script. Err is the error to abort it with.
///
/// # Safety
/// `l` is live, in a debugged run, inside the hook.
unsafe fn repl(l: *mut lua_State) -> Result<Session, &'static [u8]> {
    loop {
        // SAFETY: each step reaches the session afresh; `eval` and `redis` run Lua code with
        // no session reference held.
        unsafe {
            let Some(argv) = read_command(l)? else { return Ok(Session::ClientGone) };
            let name = argv[0].as_slice();
            let argc = argv.len();
            if is(name, "h", "help") {
                let st = &mut link(l).ok_or(&b"no session"[..])?.state;
                for line in HELP {
                    st.log(line.as_bytes().to_vec());
                }
            } else if is(name, "s", "step") || is(name, "n", "next") {
                link(l).ok_or(&b"no session"[..])?.state.step = true;
                return Ok(Session::Resume);
            } else if is(name, "c", "continue") {
                return Ok(Session::Resume);
            } else if is(name, "t", "trace") {
                trace(l);
            } else if is(name, "m", "maxlen") {
                link(l).ok_or(&b"no session"[..])?.state.maxlen_command(&argv);
            } else if is(name, "b", "break") {
                link(l).ok_or(&b"no session"[..])?.state.break_command(&argv);
            } else if is(name, "e", "eval") {
                eval(l, &argv);
            } else if is(name, "a", "abort") {
                return Err(b"script aborted for user request");
            } else if argc > 1 && is(name, "r", "redis") {
                redis(l, &argv);
            } else if is(name, "p", "print") {
                if argc == 2 {
                    print(l, &argv[1]);
                } else {
                    print_all(l);
                }
            } else if is(name, "l", "list") {
                let st = &mut link(l).ok_or(&b"no session"[..])?.state;
                let mut around = st.currentline;
                let mut context = 5;
                if argc > 1 {
                    let num = c_atoll(&argv[1]) as i32;
                    if num > 0 {
                        around = num;
                    }
                }
                if argc > 2 {
                    context = c_atoll(&argv[2]) as i32;
                }
                st.list(around, context);
            } else if is(name, "w", "whole") {
                link(l).ok_or(&b"no session"[..])?.state.list(1, 1_000_000);
            } else {
                link(l)
                    .ok_or(&b"no session"[..])?
                    .state
                    .log(b"<error> Unknown Redis Lua debugger command or wrong number of arguments.".to_vec());
            }
            let link = link(l).ok_or(&b"no session"[..])?;
            link.state.send_logs(link.io);
        }
    }
}

impl LdbState {
    /// ldbGetSourceLine
    fn source_line(&self, line: i32) -> &[u8] {
        match usize::try_from(line - 1).ok().and_then(|i| self.src.get(i)) {
            Some(text) => text,
            None => b"<out of range source code line>",
        }
    }

    fn is_breakpoint(&self, line: i32) -> bool {
        self.bp[..self.bpcount].contains(&line)
    }

    /// ldbAddBreakpoint: false for a line out of the source, one already set, or no room.
    fn add_breakpoint(&mut self, line: i32) -> bool {
        if line <= 0 || i64::from(line) > self.src.len() as i64 {
            return false;
        }
        if !self.is_breakpoint(line) && self.bpcount != BREAKPOINTS_MAX {
            self.bp[self.bpcount] = line;
            self.bpcount += 1;
            return true;
        }
        false
    }

    /// ldbDelBreakpoint, with Redis's `memmove(bp+j, bp+j+1, bpcount-j)`: a count of bytes,
    /// not of ints, so the lines after the removed one are mangled as they are in Redis.
    fn del_breakpoint(&mut self, line: i32) -> bool {
        let Some(j) = self.bp[..self.bpcount].iter().position(|&b| b == line) else { return false };
        self.bpcount -= 1;
        let mut bytes: Vec<u8> = self.bp.iter().flat_map(|b| b.to_ne_bytes()).collect();
        let n = self.bpcount - j;
        bytes.copy_within((j + 1) * 4..(j + 1) * 4 + n, j * 4);
        for (slot, chunk) in self.bp.iter_mut().zip(bytes.chunks_exact(4)) {
            *slot = i32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        true
    }

    /// ldbLogSourceLine: "-> " current line, "  #" breakpoint, "->#" both, line number in 3.
    fn log_source_line(&mut self, line: i32) {
        let current = self.currentline == line;
        let prefix = match (current, self.is_breakpoint(line)) {
            (true, true) => "->#",
            (true, false) => "-> ",
            (false, true) => "  #",
            (false, false) => "   ",
        };
        let mut entry = format!("{prefix}{line:<3} ").into_bytes();
        entry.extend_from_slice(self.source_line(line).split(|&b| b == 0).next().unwrap_or_default());
        self.log(entry);
    }

    /// ldbList: the whole source when `around` is 0, else the lines within `context` of it.
    fn list(&mut self, around: i32, context: i32) {
        for j in 1..=self.src.len() as i32 {
            if around != 0 && (i64::from(around) - i64::from(j)).abs() > i64::from(context) {
                continue;
            }
            self.log_source_line(j);
        }
    }

    /// ldbBreak
    fn break_command(&mut self, argv: &[Vec<u8>]) {
        if argv.len() == 1 {
            if self.bpcount == 0 {
                self.log(b"No breakpoints set. Use 'b <line>' to add one.".to_vec());
            } else {
                self.log(format!("{} breakpoints set:", self.bpcount).into_bytes());
                for j in 0..self.bpcount {
                    self.log_source_line(self.bp[j]);
                }
            }
            return;
        }
        for arg in &argv[1..] {
            // string2l, then the long passed on as an int (cut to 32 bits) as Redis does.
            let Some(line) = parse_i64(arg) else {
                let mut entry = b"Invalid argument:'".to_vec();
                entry.extend_from_slice(arg.split(|&b| b == 0).next().unwrap_or_default());
                entry.push(b'\'');
                self.log(entry);
                continue;
            };
            if line == 0 {
                self.bpcount = 0;
                self.log(b"All breakpoints removed.".to_vec());
            } else if line > 0 {
                if self.bpcount == BREAKPOINTS_MAX {
                    self.log(b"Too many breakpoints set.".to_vec());
                } else if self.add_breakpoint(line as i32) {
                    self.list(line as i32, 1);
                } else {
                    self.log(b"Wrong line number.".to_vec());
                }
            } else if self.del_breakpoint(line.wrapping_neg() as i32) {
                self.log(b"Breakpoint removed.".to_vec());
            } else {
                self.log(b"No breakpoint in the specified line.".to_vec());
            }
        }
    }

    /// ldbMaxlen: sets (at least 60, 0 for no cap) and shows the cap.
    fn maxlen_command(&mut self, argv: &[Vec<u8>]) {
        if argv.len() == 2 {
            let mut newval = c_atoll(&argv[1]) as i32;
            self.maxlen_hint_sent = true;
            if newval != 0 && newval <= 60 {
                newval = 60;
            }
            self.maxlen = newval as usize;
        }
        if self.maxlen != 0 {
            self.log(format!("<value> replies are truncated at {} bytes.", self.maxlen as c_int).into_bytes());
        } else {
            self.log(b"<value> replies are unlimited.".to_vec());
        }
    }
}

/// The C string Lua returned (a local's name), or empty.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string alive for the call.
unsafe fn c_bytes<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        b""
    } else {
        // SAFETY: see above.
        unsafe { CStr::from_ptr(p) }.to_bytes()
    }
}

/// ldbLogStackValue: `prefix` and the value on top, cut to maxlen.
///
/// # Safety
/// `l` is live with a value on top, in a debugged run.
unsafe fn log_stack_value(l: *mut lua_State, prefix: &[u8]) {
    // SAFETY: rendering reads the stack only.
    unsafe {
        let mut entry = prefix.to_vec();
        cat_stack_value(&mut entry, l, -1);
        if let Some(link) = link(l) {
            link.state.log_with_max_len(entry);
        }
    }
}

fn zeroed_debug() -> lua_Debug {
    // SAFETY: lua_Debug is plain C data (ints, pointers, a char array): all zeros is valid.
    unsafe { std::mem::zeroed() }
}

/// ldbPrint: the first local named `name` from the current frame outwards, else the globals
/// KEYS and ARGV.
///
/// # Safety
/// `l` is live, in the hook.
unsafe fn print(l: *mut lua_State, name: &[u8]) {
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    let mut ar = zeroed_debug();
    // SAFETY: each lua_getlocal pushes the local's value, popped after use.
    unsafe {
        let mut level = 0;
        while lua_getstack(l, level, &mut ar) != 0 {
            level += 1;
            let mut i = 1;
            loop {
                let local = lua_getlocal(l, &ar, i);
                if local.is_null() {
                    break;
                }
                i += 1;
                let found = c_bytes(local) == name;
                if found {
                    log_stack_value(l, b"<value> ");
                }
                lua_pop(l, 1);
                if found {
                    return;
                }
            }
        }
        if name == b"ARGV" || name == b"KEYS" {
            let global = if name == b"ARGV" { c"ARGV" } else { c"KEYS" };
            lua_getglobal_(l, global.as_ptr());
            log_stack_value(l, b"<value> ");
            lua_pop(l, 1);
        } else if let Some(link) = link(l) {
            link.state.log(b"No such variable.".to_vec());
        }
    }
}

/// ldbPrintAll: the locals of the current frame, Lua's temporaries left out.
///
/// # Safety
/// `l` is live, in the hook.
unsafe fn print_all(l: *mut lua_State) {
    let mut ar = zeroed_debug();
    let mut vars = 0;
    // SAFETY: as in print.
    unsafe {
        if lua_getstack(l, 0, &mut ar) != 0 {
            let mut i = 1;
            loop {
                let local = lua_getlocal(l, &ar, i);
                if local.is_null() {
                    break;
                }
                i += 1;
                let name = c_bytes(local);
                if !name.windows(12).any(|w| w == b"(*temporary)") {
                    let mut prefix = b"<value> ".to_vec();
                    prefix.extend_from_slice(name);
                    prefix.extend_from_slice(b" = ");
                    log_stack_value(l, &prefix);
                    vars += 1;
                }
                lua_pop(l, 1);
            }
        }
        if vars == 0 {
            if let Some(link) = link(l) {
                link.state.log(b"No local variables in the current context.".to_vec());
            }
        }
    }
}

/// ldbTrace: the script's frames, innermost first.
///
/// # Safety
/// `l` is live, in the hook.
unsafe fn trace(l: *mut lua_State) {
    let mut ar = zeroed_debug();
    let mut level = 0;
    // SAFETY: debug queries; no Lua code runs.
    unsafe {
        let Some(link) = link(l) else { return };
        while lua_getstack(l, level, &mut ar) != 0 {
            lua_getinfo(l, c"Snl".as_ptr(), &mut ar);
            if in_user_script(&ar.short_src) {
                let mut entry = if level == 0 { b"In ".to_vec() } else { b"From ".to_vec() };
                if ar.name.is_null() {
                    entry.extend_from_slice(b"top level");
                } else {
                    entry.extend_from_slice(c_bytes(ar.name));
                }
                entry.push(b':');
                link.state.log(entry);
                link.state.log_source_line(ar.currentline);
            }
            level += 1;
        }
        if level == 0 {
            link.state.log(b"<error> Can't retrieve Lua stack.".to_vec());
        }
    }
}

/// The "<error> %s" of a failed compile or call: the message as a C string. Redis crashes on
/// an error that is not a string (it formats a NULL): the error table of redis.call shows its
/// `err` text here, anything else nothing.
///
/// # Safety
/// `l` is live with the error on top (popped here).
unsafe fn log_lua_error(l: *mut lua_State) {
    // SAFETY: the message is copied before the pop.
    unsafe {
        let mut entry = b"<error> ".to_vec();
        if lua_type(l, -1) == LUA_TSTRING || lua_type(l, -1) == LUA_TNUMBER {
            entry.extend_from_slice(&to_cstr_bytes(l, -1).unwrap_or_default());
        } else if lua_istable(l, -1) != 0 && raw_get_str(l, -1, b"err") == LUA_TSTRING {
            entry.extend_from_slice(&to_cstr_bytes(l, -1).unwrap_or_default());
            lua_pop(l, 1);
        } else if lua_istable(l, -1) != 0 {
            lua_pop(l, 1);
        }
        lua_pop(l, 1);
        if let Some(link) = link(l) {
            link.state.log(entry);
        }
    }
}

/// ldbEval: the arguments joined by spaces, compiled as "return <code>" or else as a
/// statement, called in a frame of its own; "<retval> " and its value, or "<error> ".
///
/// # Safety
/// `l` is live, in the hook.
unsafe fn eval(l: *mut lua_State, argv: &[Vec<u8>]) {
    let code = argv[1..].join(&b' ');
    let mut expr = b"return ".to_vec();
    expr.extend_from_slice(&code);
    let name = c"@ldb_eval".as_ptr();
    // SAFETY: Lua copies the chunks; the call runs Lua code with no session reference held.
    unsafe {
        lua_checkstack(l, 2);
        if luaL_loadbuffer(l, expr.as_ptr() as *const c_char, expr.len(), name) != 0 {
            lua_pop(l, 1);
            if luaL_loadbuffer(l, code.as_ptr() as *const c_char, code.len(), name) != 0 {
                log_lua_error(l);
                return;
            }
        }
        if lua_pcall(l, 0, 1, 0) != 0 {
            log_lua_error(l);
            return;
        }
        log_stack_value(l, b"<retval> ");
        lua_pop(l, 1);
    }
}

/// ldbRedis: redis.call with the arguments, stepping for its duration so that the command,
/// its reply or its error are logged.
///
/// # Safety
/// `l` is live, in the hook.
unsafe fn redis(l: *mut lua_State, argv: &[Vec<u8>]) {
    let argc = argv.len() as c_int;
    // SAFETY: the pushes are within the checked stack room; the session is reached afresh
    // before and after the call.
    unsafe {
        if lua_checkstack(l, argc + 1) == 0 {
            if let Some(link) = link(l) {
                link.state.log_redis_reply(b"max lua stack reached");
            }
            return;
        }
        lua_getglobal_(l, c"redis".as_ptr());
        push_bytes(l, b"call");
        lua_gettable_(l, -2);
        for arg in &argv[1..] {
            push_bytes(l, arg);
        }
        if let Some(link) = link(l) {
            link.state.step = true;
        }
        lua_pcall(l, argc - 1, 1, 0);
        if let Some(link) = link(l) {
            link.state.step = false;
        }
        lua_pop(l, 2);
    }
}
