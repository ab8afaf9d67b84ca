//! What EVAL and FCALL share: the numkeys argument, the checks before a script may run
//! (scriptPrepareForRun), and the run itself with its Running record.

use bytes::Bytes;

use super::host::Host;
use crate::commands::{errors, Ctx};
use crate::protocol::Reply;
use crate::scripting::{RunOptions, ScriptFlags};
use crate::server::scripts::Running;

/// A script's KEYS and ARGV.
pub type KeysAndArgs<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);

/// The keys and arguments of EVAL/FCALL's `script numkeys key... arg...`; `bad_numkeys` is
/// the error for a numkeys that is not an integer (EVAL's and FCALL's differ).
pub fn split_keys<'a>(args: &'a [Bytes], bad_numkeys: &'static str) -> Result<KeysAndArgs<'a>, Reply> {
    let Some(numkeys) = crate::util::numbers::parse_i64(&args[2]) else {
        return Err(Reply::error(bad_numkeys));
    };
    if numkeys > (args.len() - 3) as i64 {
        return Err(Reply::error("ERR Number of keys can't be greater than number of args"));
    }
    if numkeys < 0 {
        return Err(Reply::error("ERR Number of keys can't be negative"));
    }
    let split = 3 + numkeys as usize;
    Ok((args[3..split].iter().map(|a| &a[..]).collect(), args[split..].iter().map(|a| &a[..]).collect()))
}

/// EVAL's numkeys error (getLongLongFromObjectOrReply).
pub const EVAL_BAD_NUMKEYS: &str = errors::NOT_INTEGER;
/// FCALL's.
pub const FCALL_BAD_NUMKEYS: &str = "ERR Bad number of keys provided";

/// scriptPrepareForRun's refusals: a script is refused as a whole, before it runs, by what
/// its flags say it may do.
pub fn refuse_to_run(ctx: &Ctx, flags: ScriptFlags, ro: bool) -> Option<Reply> {
    if flags.eval_compat_mode {
        return crate::commands::master_down(ctx.state)
            .then(|| Reply::error("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."));
    }
    let st = &*ctx.state;
    if !flags.allow_oom && !flags.no_writes && st.pre_command_oom && st.hot.maxmemory > 0 {
        return Some(Reply::error(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
        ));
    }
    if crate::commands::master_down(ctx.state) && !flags.allow_stale {
        return Some(Reply::error("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script."));
    }
    if !flags.no_writes {
        if st.repl.is_replica() && st.hot.replica_read_only && !ctx.session.repl.is_master {
            return Some(Reply::error("ERR Can not run script with write flag on readonly replica"));
        }
        if !st.repl.is_replica() {
            if crate::persistence::snapshot::writes_denied(st) {
                return Some(Reply::error("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."));
            }
            if let Some(e) = crate::persistence::appendonly::write_error(st) {
                return Some(Reply::error(format!("MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {e}")));
            }
        }
        if ro {
            return Some(Reply::error("ERR Can not execute a script with write flag using *_ro command."));
        }
    }
    None
}

/// What runs the script once the host is set up: EVAL's VM or the functions' VM.
pub type Runner<'r> = dyn FnOnce(&mut Host, RunOptions) -> Reply + 'r;

/// Runs a script as the current command: the Running record set for SCRIPT KILL, FUNCTION
/// STATS and busy replies, the host built from the flags, and everything undone afterwards.
pub fn run_script(
    ctx: &mut Ctx,
    args: &[Bytes],
    eval: bool,
    name: String,
    flags: ScriptFlags,
    ro: bool,
    runner: Box<Runner<'_>>,
) -> Reply {
    let read_only = ro || (!flags.eval_compat_mode && flags.no_writes);
    let allow_oom = !flags.eval_compat_mode && flags.allow_oom;
    ctx.state.scripts.running = Some(Running {
        eval,
        name,
        command: Vec::new(),
        // The command's start as dispatch read it: a clock read fewer per call.
        started: ctx.clock,
        wrote: false,
        from_master: ctx.session.repl.is_master,
        kill: false,
        shutdown_nosave: false,
    });
    let caller_resp = ctx.session.resp;
    let mut host = Host::new(ctx, args, read_only, allow_oom);
    let options = RunOptions { caller_resp, killable: host.killable() };
    let reply = runner(&mut host, options);
    let counted = host.error_was_counted(&reply);
    host.finish();
    ctx.session.error_counted = counted;
    let ended = ctx.state.scripts.running.take();
    if ended.is_some_and(|r| r.shutdown_nosave) {
        // SHUTDOWN NOSAVE came while the script ran: Redis exits there and then, and the
        // script's caller gets no reply.
        ctx.state.shutdown_requested = true;
        ctx.server.shutdown.notify_one();
        ctx.session.close_after_reply = true;
        return Reply::NoReply;
    }
    reply
}
