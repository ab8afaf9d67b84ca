//! What a running script's `redis.call` does (script.c's scriptCall): the command checked as
//! Redis checks commands from scripts, then run as the script's own client through `call()`,
//! inside the caller's command, so that its writes replicate with the script's (wrapped in
//! MULTI/EXEC by the caller's unit). The hook of a busy script serves other clients from here.

use std::time::Instant;

use bytes::Bytes;

use super::busy;
use crate::commands::{arity_ok, call, resolve, Ctx, Session};
use crate::protocol::Reply;
use crate::scripting::{ReplFlags, ScriptHost};
use crate::server::command::{DENYOOM, MAY_REPLICATE, NOSCRIPT, STALE, WRITE};
use crate::server::session::SCRIPT_CLIENT_ID;

/// One script run's view of the server.
pub struct Host<'c, 'a> {
    pub ctx: &'c mut Ctx<'a>,
    /// The caller's command line (EVAL/FCALL ...), for the Running record once busy.
    command: &'c [Bytes],
    /// The script's own client: its database (SELECT inside the script changes only this) and
    /// protocol (redis.setresp).
    lua: Box<Session>,
    /// EVAL_RO/FCALL_RO, or a script whose shebang says no-writes.
    read_only: bool,
    allow_oom: bool,
    repl: ReplFlags,
    started: Instant,
    /// busy-reply-threshold in ms (0: never busy).
    threshold_ms: u64,
    busy: bool,
    /// Errors of the script's commands, already counted in the error statistics.
    counted_errors: Vec<String>,
}

impl<'c, 'a> Host<'c, 'a> {
    pub fn new(ctx: &'c mut Ctx<'a>, command: &'c [Bytes], read_only: bool, allow_oom: bool) -> Host<'c, 'a> {
        // The script client is made once and kept between runs (Redis's lctx.lua_client): a
        // client without a connection, "?:0" as SLOWLOG shows it (MONITOR says "lua").
        let mut lua = ctx
            .state
            .scripts
            .client
            .take()
            .unwrap_or_else(|| Box::new(Session::new(SCRIPT_CLIENT_ID, "?:0".to_string())));
        lua.db = ctx.session.db;
        lua.resp = 2;
        lua.authenticated = true;
        if lua.user != ctx.session.user {
            lua.user = ctx.session.user.clone();
        }
        // Commands run as inside EXEC: nothing blocks, and the caller's unit wraps their writes.
        lua.in_exec = true;
        lua.repl.is_master = ctx.session.repl.is_master;
        lua.repl.unflushed_write = false;
        let threshold_ms = ctx.state.config.int(crate::ckey!("busy-reply-threshold")).max(0) as u64;
        // The command's start as dispatch read it: a clock read fewer per call.
        let started = ctx.clock;
        Host {
            ctx,
            command,
            lua,
            read_only,
            allow_oom,
            repl: ReplFlags { aof: true, replicas: true },
            started,
            threshold_ms,
            busy: false,
            counted_errors: Vec::new(),
        }
    }

    /// Whether the instruction hook is needed (a threshold is set).
    pub fn killable(&self) -> bool {
        self.threshold_ms > 0
    }

    /// Whether the script's error reply came from one of its commands (already counted).
    pub fn error_was_counted(&self, reply: &Reply) -> bool {
        let Reply::Error(text) = reply else { return false };
        self.counted_errors.iter().any(|e| text.starts_with(e.as_str()))
    }

    /// A refusal counts as the error reply it is, and as a rejected call of the command.
    fn refused(
        &mut self,
        e: Reply,
        cmd: Option<(&'static crate::server::command::CommandSpec, crate::commands::CmdName)>,
    ) -> Reply {
        if let Reply::Error(text) = &e {
            self.ctx.state.count_error(text);
            self.counted_errors.push(text.to_string());
        }
        if let Some((spec, name)) = cmd {
            self.ctx.state.stats.command(spec, name).rejected += 1;
        }
        e
    }

    /// After the script: what its commands left behind for the caller (WAIT's offset), the end
    /// of a busy period (commands handed over meanwhile and not taken run as usual), and the
    /// script client kept for the next run.
    pub fn finish(self) {
        if self.lua.repl.unflushed_write {
            self.ctx.session.repl.unflushed_write = true;
        }
        if self.busy {
            busy::end(self.ctx);
        }
        self.ctx.state.scripts.client = Some(self.lua);
    }

    /// Refusals of scriptCall, in its order; the text is what the script sees.
    fn refusal(
        &mut self,
        spec: &'static crate::server::command::CommandSpec,
        name: crate::server::command::CmdName,
        args: &[Bytes],
    ) -> Option<Reply> {
        if spec.has(NOSCRIPT) {
            return Some(Reply::error("ERR This Redis command is not allowed from script"));
        }
        if crate::commands::master_down(self.ctx.state) && !spec.has(STALE) {
            return Some(Reply::error("ERR Can not execute the command on a stale replica"));
        }
        let caller = self.ctx.session.id;
        if let Some(e) = crate::commands::acl::script_check(self.ctx, &self.lua.user, caller, spec, name, args) {
            return Some(e);
        }
        let st = &*self.ctx.state;
        // Read-only scripts refuse what may replicate too (PUBLISH, PFCOUNT), as script.c does.
        if self.read_only && (spec.has(WRITE) || spec.has(MAY_REPLICATE)) {
            return Some(Reply::error("ERR Write commands are not allowed from read-only scripts."));
        }
        if spec.has(WRITE) {
            let from_master = self.ctx.session.repl.is_master;
            if st.repl.is_replica() && st.hot.replica_read_only && !from_master {
                return Some(Reply::error("READONLY You can't write against a read only replica."));
            }
            if crate::persistence::snapshot::writes_denied(st) {
                return Some(Reply::error(crate::persistence::snapshot::MISCONF));
            }
            if let Some(e) = crate::persistence::appendonly::write_error(st) {
                return Some(Reply::error(format!("MISCONF Errors writing to the AOF file: {e}")));
            }
        }
        let wrote = st.scripts.running.as_ref().is_some_and(|r| r.wrote);
        if !self.allow_oom
            && st.hot.maxmemory > 0
            && !st.repl.is_replica()
            && !wrote
            && st.pre_command_oom
            && spec.has(DENYOOM)
        {
            return Some(Reply::error(crate::server::eviction::OOM));
        }
        None
    }
}

impl ScriptHost for Host<'_, '_> {
    fn call(&mut self, argv: Vec<Vec<u8>>, resp: u8) -> Reply {
        let args: Vec<Bytes> = argv.into_iter().map(Bytes::from).collect();
        let (spec, name) = match resolve(self.ctx.server, &args) {
            Ok(found) => found,
            // A container without its subcommand is found (and has the wrong arity) in Redis.
            Err(_) if args.len() == 1 && self.ctx.server.commands.get(&args[0]).is_some() => {
                let e = Reply::error("ERR Wrong number of args calling Redis command from script");
                return self.refused(e, None);
            }
            Err(_) => return self.refused(Reply::error("ERR Unknown Redis command called from script"), None),
        };
        if !arity_ok(spec, args.len()) {
            let e = Reply::error("ERR Wrong number of args calling Redis command from script");
            return self.refused(e, Some((spec, name)));
        }
        if let Some(refused) = self.refusal(spec, name, &args) {
            return self.refused(refused, Some((spec, name)));
        }
        if spec.has(WRITE) {
            if let Some(r) = self.ctx.state.scripts.running.as_mut() {
                r.wrote = true;
            }
        }
        self.lua.resp = resp;
        let from = self.ctx.state.propagation.ops.len();
        let mut inner = Ctx {
            server: self.ctx.server,
            state: &mut *self.ctx.state,
            session: &mut self.lua,
            now_ms: self.ctx.now_ms,
            clock: self.ctx.clock,
        };
        let reply = call(&mut inner, spec, &name, &args);
        self.ctx.clock = inner.clock;
        if let Reply::Error(text) = &reply {
            self.counted_errors.push(text.to_string());
        }
        self.ctx.state.propagation.restrict_since(from, self.repl.aof, self.repl.replicas);
        reply
    }

    fn acl_check(&mut self, argv: &[Vec<u8>]) -> Option<bool> {
        // The caller's user, without logging (redis.acl_check_cmd).
        let args: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let (spec, name) = resolve(self.ctx.server, &args).ok()?;
        let st = &*self.ctx.state;
        let user = st.acl.user(self.ctx.session.user.as_bytes()).or_else(|| st.acl.user(b"default"));
        Some(user.is_none_or(|u| crate::commands::acl::check_user(st, u, spec, name, &args).is_ok()))
    }

    fn set_repl(&mut self, flags: ReplFlags) {
        self.repl = flags;
    }

    fn should_kill(&mut self) -> bool {
        if !self.busy {
            let elapsed = self.started.elapsed().as_millis() as u64;
            if elapsed < self.threshold_ms {
                return false;
            }
            let eval = self.ctx.state.scripts.running.as_ref().is_none_or(|r| r.eval);
            tracing::warn!(
                "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the script using the {} command.",
                if eval { "SCRIPT KILL" } else { "FUNCTION KILL" }
            );
            self.busy = true;
            if let Some(r) = self.ctx.state.scripts.running.as_mut() {
                r.command = self.command.to_vec();
            }
            self.ctx.server.busy.begin();
        }
        crate::server::busy::hand_off_runtime();
        busy::serve_waiting(self.ctx);
        self.ctx.state.scripts.running.as_ref().is_some_and(|r| r.kill)
    }
}
