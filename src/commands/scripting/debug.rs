//! SCRIPT DEBUG and the EVAL it applies to (evalGenericCommandWithDebugging): the client's
//! connection is taken over by the debugger of `crate::scripting::ldb` for one script run,
//! in the server itself (SYNC) or in a forked child working on a copy of the data (YES), and
//! closed afterwards.

use std::os::fd::FromRawFd;

use bytes::Bytes;

use super::run::{refuse_to_run, run_script, split_keys, EVAL_BAD_NUMKEYS};
use crate::commands::Ctx;
use crate::protocol::Reply;
use crate::scripting::ldb::{LdbSession, StreamIo};
use crate::server::session::ScriptDebug;

/// SCRIPT DEBUG YES|SYNC|NO
pub fn script_debug(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // The session would take the connection over with replies still queued on it.
    if ctx.session.replies_pending {
        return Reply::error("ERR SCRIPT DEBUG must be called outside a pipeline");
    }
    let mode = args[2].to_ascii_lowercase();
    if mode != b"no" && on_tls_port(ctx) {
        // The debugger writes to the socket itself, which a TLS session cannot share.
        return Reply::error("ERR SCRIPT DEBUG is not available on TLS connections");
    }
    ctx.session.script_debug = match mode.as_slice() {
        b"no" => None,
        b"yes" => Some(ScriptDebug::Forked),
        b"sync" => Some(ScriptDebug::Sync),
        _ => return Reply::error("ERR Use SCRIPT DEBUG YES/SYNC/NO"),
    };
    Reply::OK
}

/// Whether the client came in through the TLS port (its local address is on that port).
fn on_tls_port(ctx: &Ctx) -> bool {
    let tls_port = *ctx.server.tls_port.lock();
    let laddr = ctx.state.clients.get(&ctx.session.id).map(|c| c.laddr.as_str()).unwrap_or("");
    tls_port != 0 && laddr.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()) == Some(tls_port)
}

/// EVAL or EVAL_RO from a client in debug mode. The client leaves debug mode and its
/// connection closes after the session.
pub fn eval_debugged(ctx: &mut Ctx, args: &[Bytes], ro: bool, mode: ScriptDebug) -> Reply {
    ctx.session.script_debug = None;
    ctx.session.close_after_reply = true;
    let Some(fd) = ctx.state.clients.get(&ctx.session.id).map(|c| c.fd) else {
        return Reply::error("ERR the debugging client has no connection");
    };
    match mode {
        ScriptDebug::Sync => session(ctx, args, ro, fd),
        ScriptDebug::Forked => {
            let child = || {
                let resp = ctx.session.resp;
                let reply = session(ctx, args, ro, fd);
                let mut out = Vec::new();
                reply.encode(resp, &mut out);
                // SAFETY: the descriptor is the client's socket, open for the child's whole life;
                // ManuallyDrop keeps it from being closed here.
                let file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
                let _ = std::io::Write::write_all(&mut &*file, &out);
                0
            };
            // SAFETY: the child touches only the state this thread holds locked (its private
            // copy after the fork), the client's socket and the allocator; it runs the script's
            // commands, which do not log, and no tokio code (fork_child's contract).
            let forked = unsafe { crate::util::sys::fork_child(child) };
            match forked {
                Ok(pid) => {
                    tracing::info!("Redis forked for debugging eval");
                    ctx.state.scripts.debug_children.push(pid);
                    ctx.session.handed_to_child = true;
                    Reply::NoReply
                }
                Err(e) => Reply::error(format!("ERR Fork() failed: can't run EVAL in debugging mode: {e}")),
            }
        }
    }
}

/// The debugging session of one EVAL: the socket made blocking with Redis's 5 s send timeout,
/// then what EVAL does, inside the session; the reply is what EVAL answers after it.
fn session(ctx: &mut Ctx, args: &[Bytes], ro: bool, fd: i32) -> Reply {
    // SAFETY: `fd` is the client's open socket, which outlives this function (the connection
    // is closed after the session); it is only borrowed to duplicate it.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let Ok(socket) = nix::unistd::dup(borrowed) else {
        return Reply::error("ERR cannot take over the connection for debugging");
    };
    // The descriptor's flags are the connection's: it stays blocking until it is closed, which
    // follows this session.
    if let Ok(flags) = nix::fcntl::fcntl(&socket, nix::fcntl::FcntlArg::F_GETFL) {
        let blocking = nix::fcntl::OFlag::from_bits_truncate(flags) & !nix::fcntl::OFlag::O_NONBLOCK;
        let _ = nix::fcntl::fcntl(&socket, nix::fcntl::FcntlArg::F_SETFL(blocking));
    }
    let _ = socket2::SockRef::from(&socket).set_write_timeout(Some(std::time::Duration::from_secs(5)));
    let mut io = StreamIo(std::fs::File::from(socket));
    let threshold = ctx.state.config.int(crate::ckey!("busy-reply-threshold")).max(0) as u64;
    let mut ldb = LdbSession::start(&args[1], threshold, &mut io);
    let reply = run_in_session(ctx, args, ro, &mut ldb);
    ldb.end();
    reply
}

fn run_in_session(ctx: &mut Ctx, args: &[Bytes], ro: bool, ldb: &mut LdbSession<'_>) -> Reply {
    let (keys, argv) = match split_keys(args, EVAL_BAD_NUMKEYS) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let (sha, flags) = match ctx.state.scripts.create_eval_script(&args[1]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if let Some(refused) = refuse_to_run(ctx, flags, ro) {
        return refused;
    }
    let mut vm = match ctx.state.scripts.take_eval_vm() {
        Ok(vm) => vm,
        Err(e) => return e,
    };
    let name = sha.clone();
    let reply = run_script(
        ctx,
        args,
        true,
        name,
        flags,
        ro,
        Box::new(|host, mut options| {
            options.killable = false;
            vm.run_debugged(&sha, &keys, &argv, host, options, ldb)
        }),
    );
    ctx.state.scripts.put_eval_vm(vm);
    reply
}
