//! LDB, the Lua debugger of SCRIPT DEBUG, as eval.c's ldb* functions of Redis 7.0.15 are.
//!
//! A session is one EVAL run with the debugging client's connection taken over: every line of
//! the script passes a line hook ([`repl::line_hook`]) that stops on a step, a breakpoint or
//! `redis.breakpoint()`, sends what was logged since the last stop, and reads debugger
//! commands from the client with Redis's own RESP parser ([`parse`]) until one of them
//! resumes the script. Replies to the client are RESP arrays of status lines (ldbSendLogs).
//!
//! How the commands layer runs a session (evalGenericCommandWithDebugging), for an EVAL or
//! EVAL_RO from a client in debug mode (SCRIPT DEBUG YES or SYNC; EVALSHA in debug mode
//! replies "ERR Please use EVAL instead of EVALSHA for debugging" after its NOSCRIPT length
//! check, with no session):
//! 1. [`LdbSession::start`] with the EVAL body (its lines are what `list` shows), the
//!    busy-reply-threshold and an [`LdbIo`] over the client's socket (blocking reads, writes
//!    with a 5 second timeout as Redis sets; [`StreamIo`] wraps a `TcpStream`);
//! 2. exactly what EVAL does without debugging, inside the session, except that the run is
//!    [`EvalVm::run_debugged`](crate::scripting::EvalVm::run_debugged): the numkeys checks,
//!    compiling and the script flags checks reply with their usual errors (Redis sends
//!    "*1\r\n+<endsession>\r\n" then "-ERR value is not an integer or out of range" for
//!    `EVAL body abc`);
//! 3. [`LdbSession::end`]: the logs left and "<endsession>" go to the client;
//! 4. then EVAL's reply (kept from step 2) is written, the client leaves debug mode and its
//!    connection is closed (CLIENT_CLOSE_AFTER_REPLY). For SCRIPT DEBUG YES all of this runs
//!    in a forked child (the parent closes its copy of the client at once and keeps the
//!    child's pid for SCRIPT KILL/SHUTDOWN to kill); the child exits after step 4.
//!
//! The session state lives in [`LdbState`]; while the script runs, the run context holds an
//! [`LdbLink`] to it and to the I/O, which the hook and the `redis` API reach through the Lua
//! registry, as Redis reaches its global `ldb`.

pub(crate) mod parse;
pub(crate) mod render;
pub(crate) mod repl;

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use super::ffi::*;
use super::RunCtx;
use crate::protocol::Reply;

/// LDB_BREAKPOINTS_MAX
const BREAKPOINTS_MAX: usize = 64;
/// LDB_MAX_LEN_DEFAULT: the default cap of logged replies and values.
const MAX_LEN_DEFAULT: usize = 256;
/// The script stops with "timeout reached" after this long without a stop when
/// busy-reply-threshold is 0.
const DEFAULT_TIME_LIMIT_MS: u64 = 5000;

/// The debugging client's connection.
pub trait LdbIo {
    /// connRead: blocks for up to `buf.len()` bytes; 0 when the client is gone (closed, error,
    /// timeout), which lets the script run on to its end without stopping.
    fn read(&mut self, buf: &mut [u8]) -> usize;
    /// connWrite of a whole reply. Failures are ignored as Redis ignores them: the next read
    /// finds the client gone.
    fn write(&mut self, bytes: &[u8]);
}

/// An [`LdbIo`] over a blocking stream (a `TcpStream` with its write timeout set).
pub struct StreamIo<S>(pub S);

impl<S: Read + Write> LdbIo for StreamIo<S> {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        loop {
            match self.0.read(buf) {
                Ok(n) => return n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return 0,
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let _ = self.0.write_all(bytes).and_then(|()| self.0.flush());
    }
}

/// One debugging session: the client's connection and the debugger's state (eval.c's `ldb`).
pub struct LdbSession<'io> {
    io: &'io mut (dyn LdbIo + 'static),
    state: LdbState,
}

impl<'io> LdbSession<'io> {
    /// ldbEnable + ldbStartSession: a fresh debugger (stepping, no breakpoints, maxlen 256)
    /// over the script's source, its trailing newlines cut and split into lines.
    /// `busy_reply_threshold_ms` is the config of that name: without a stop for that long (5
    /// seconds if 0), the script stops with "timeout reached, infinite loop?".
    pub fn start(body: &[u8], busy_reply_threshold_ms: u64, io: &'io mut (dyn LdbIo + 'static)) -> LdbSession<'io> {
        let mut src = body;
        while let [rest @ .., b'\n' | b'\r'] = src {
            src = rest;
        }
        let src = if src.is_empty() { Vec::new() } else { src.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect() };
        let limit = if busy_reply_threshold_ms > 0 { busy_reply_threshold_ms } else { DEFAULT_TIME_LIMIT_MS };
        LdbSession {
            io,
            state: LdbState {
                logs: Vec::new(),
                src,
                bp: [0; BREAKPOINTS_MAX],
                bpcount: 0,
                step: true,
                luabp: false,
                currentline: 0,
                cbuf: Vec::new(),
                maxlen: MAX_LEN_DEFAULT,
                maxlen_hint_sent: false,
                time_limit: Duration::from_millis(limit),
                since_stop: Instant::now(),
            },
        }
    }

    /// ldbEndSession's part on the wire: what is left of the logs and "<endsession>". The
    /// commands layer then writes EVAL's reply and closes the connection.
    pub fn end(mut self) {
        self.state.log(b"<endsession>".to_vec());
        self.state.send_logs(self.io);
    }

    /// The link a run holds while the script runs.
    pub(crate) fn link(&mut self) -> LdbLink<'_> {
        self.state.since_stop = Instant::now();
        LdbLink { state: &mut self.state, io: &mut *self.io }
    }
}

/// The debugger's state during a session.
pub(crate) struct LdbState {
    /// Messages for the client, sent at the next stop or at the end.
    logs: Vec<Vec<u8>>,
    /// The script's lines.
    src: Vec<Vec<u8>>,
    /// Breakpoint lines (the first `bpcount`), kept as Redis's int array: removing one moves
    /// bytes, not ints, as Redis's memmove does.
    bp: [i32; BREAKPOINTS_MAX],
    bpcount: usize,
    /// Stop at the next line.
    step: bool,
    /// redis.breakpoint() was called: stop at the next line.
    luabp: bool,
    currentline: i32,
    /// The client's unparsed bytes.
    cbuf: Vec<u8>,
    /// The cap of logged replies and values; 0 for none.
    maxlen: usize,
    maxlen_hint_sent: bool,
    time_limit: Duration,
    /// The run's start or its last stop (rctx->start_time).
    since_stop: Instant,
}

impl LdbState {
    /// ldbLog
    fn log(&mut self, entry: Vec<u8>) {
        self.logs.push(entry);
    }

    /// ldbLogWithMaxLen: cut to maxlen with " ..." added, and the first time a hint.
    fn log_with_max_len(&mut self, mut entry: Vec<u8>) {
        let trimmed = self.maxlen != 0 && entry.len() > self.maxlen;
        if trimmed {
            entry.truncate(self.maxlen);
            entry.extend_from_slice(b" ...");
        }
        self.log(entry);
        if trimmed && !self.maxlen_hint_sent {
            self.maxlen_hint_sent = true;
            self.log(b"<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.".to_vec());
        }
    }

    /// ldbSendLogs: the logs as an array of status lines (CR and LF become spaces), consumed.
    fn send_logs(&mut self, io: &mut dyn LdbIo) {
        let mut proto = format!("*{}\r\n", self.logs.len()).into_bytes();
        for entry in self.logs.drain(..) {
            proto.push(b'+');
            proto.extend(entry.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
            proto.extend_from_slice(b"\r\n");
        }
        io.write(&proto);
    }

    /// ldbIsEnabled: stepping, so commands, replies and errors are logged.
    fn tracing(&self) -> bool {
        self.step
    }

    /// ldbLogRedisReply: "<reply> " and the RESP reply in human form, cut to maxlen.
    fn log_redis_reply(&mut self, resp_bytes: &[u8]) {
        let mut entry = b"<reply> ".to_vec();
        render::protocol_to_human(&mut entry, resp_bytes, 0);
        self.log_with_max_len(entry);
    }
}

/// What a debugged run reaches through its run context.
pub(crate) struct LdbLink<'a> {
    state: &'a mut LdbState,
    // 'static objects keep the link covariant, so that the run context can hold it.
    io: &'a mut (dyn LdbIo + 'static),
}

/// The session of the script running on `l`, if it is being debugged.
///
/// # Safety
/// As for [`super::api::run_ctx`]: the reference must not be held across a call that runs Lua
/// code (which may fetch it again).
pub(crate) unsafe fn link<'a>(l: *mut lua_State) -> Option<&'a mut LdbLink<'a>> {
    // SAFETY: forwarded.
    let ctx: &'a mut RunCtx<'a> = unsafe { super::api::run_ctx(l) }?;
    ctx.ldb.as_mut()
}

/// redis.breakpoint(): in a session, stop at the next line and return true; false outside.
///
/// # Safety
/// `l` is live, inside a call from Lua.
pub(crate) unsafe fn breakpoint(l: *mut lua_State) -> bool {
    // SAFETY: forwarded.
    match unsafe { link(l) } {
        Some(link) => {
            link.state.luabp = true;
            true
        }
        None => false,
    }
}

/// redis.debug(...): in a session, logs "<debug> line N: " and the arguments; nothing outside.
///
/// # Safety
/// `l` is live, inside a call from Lua (the arguments on the stack).
pub(crate) unsafe fn debug(l: *mut lua_State) {
    // SAFETY: rendering reads the stack only (no Lua code runs).
    unsafe {
        let Some(link) = link(l) else { return };
        let argc = lua_gettop(l);
        let mut entry = format!("<debug> line {}: ", link.state.currentline).into_bytes();
        for j in 0..argc {
            render::cat_stack_value(&mut entry, l, -(argc - j));
            if j != argc - 1 {
                entry.extend_from_slice(b", ");
            }
        }
        link.state.log(entry);
    }
}

/// luaPushErrorBuff's logging: "<error> <text>" while stepping.
///
/// # Safety
/// `l` is live.
pub(crate) unsafe fn log_error(l: *mut lua_State, text: &[u8]) {
    // SAFETY: forwarded.
    if let Some(link) = unsafe { link(l) } {
        if link.state.tracing() {
            let text = text.split(|&b| b == 0).next().unwrap_or_default();
            let mut entry = b"<error> ".to_vec();
            entry.extend_from_slice(text);
            link.state.log(entry);
        }
    }
}

/// luaRedisGenericCommand's logging of a command while stepping: "<redis> a b c", the first
/// ten arguments then " ... (N more)".
///
pub(crate) fn log_command(link: Option<&mut LdbLink<'_>>, argv: &[Vec<u8>]) {
    let Some(link) = link else { return };
    if !link.state.tracing() {
        return;
    }
    let mut entry = b"<redis>".to_vec();
    for (j, arg) in argv.iter().enumerate() {
        if j == 10 {
            entry.extend_from_slice(format!(" ... ({} more)", argv.len() - j - 1).as_bytes());
            break;
        }
        entry.push(b' ');
        entry.extend_from_slice(arg);
    }
    link.state.log(entry);
}

/// What the debugger logs after a command, as Redis logs it while stepping: a refusal (the
/// command never ran: scriptCall's `err`) as "<error> <text>"; a command's error reply as
/// "<error> -<text>" then its "<reply>"; any other reply as its "<reply>". `resp` is the
/// script's protocol, in which the reply is rendered.
pub(crate) fn log_reply(link: Option<&mut LdbLink<'_>>, reply: &Reply, resp: u8) {
    let Some(link) = link else { return };
    if !link.state.tracing() {
        return;
    }
    if let Reply::Error(text) = reply {
        if let Some(err) = refusal_text(text) {
            let mut entry = b"<error> ".to_vec();
            entry.extend_from_slice(&err);
            link.state.log(entry);
            return;
        }
        let mut entry = b"<error> -".to_vec();
        entry.extend(text.bytes().map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
        link.state.log(entry);
    }
    let mut bytes = Vec::new();
    reply.encode(resp, &mut bytes);
    link.state.log_redis_reply(&bytes);
}

/// The text Redis's scriptCall gives a command it refuses to run, from the error reply the host
/// gives for it (the host folds refusals into error replies with their code): the messages of
/// script.c without the "ERR " the host adds, and the shared replies (READONLY, MISCONF,
/// NOREPLICAS, OOM) as the "-CODE text\r\n" protocol lines Redis copies. None for an error
/// the command itself replied.
fn refusal_text(error: &str) -> Option<Vec<u8>> {
    const OWN_TEXTS: &[&str] = &[
        "Wrong number of args calling Redis command from script",
        "Unknown Redis command called from script",
        "This Redis command is not allowed from script",
        "Write commands are not allowed from read-only scripts.",
        "Can not execute the command on a stale replica",
    ];
    const OWN_PREFIXES: &[&str] = &["The user executing the script ", "Script attempted to "];
    const SHARED_CODES: &[&str] = &["READONLY ", "MISCONF ", "NOREPLICAS ", "OOM "];
    let text = error.strip_prefix("ERR ").unwrap_or(error);
    if OWN_TEXTS.contains(&text) || OWN_PREFIXES.iter().any(|p| text.starts_with(p)) {
        return Some(text.as_bytes().to_vec());
    }
    if SHARED_CODES.iter().any(|c| error.starts_with(c)) {
        return Some(format!("-{error}\r\n").into_bytes());
    }
    None
}

/// The hook a debugged run installs instead of the kill hook (luaCallFunction).
///
/// # Safety
/// `l` is live.
pub(crate) unsafe fn install_hook(l: *mut lua_State) {
    // SAFETY: a hook setting.
    unsafe {
        lua_sethook(l, Some(repl::line_hook), LUA_MASKLINE | LUA_MASKCOUNT, 100_000);
    }
}

#[cfg(test)]
mod tests;
