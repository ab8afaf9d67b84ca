//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (eval.c).

use bytes::Bytes;

use super::run::{refuse_to_run, run_script, split_keys, EVAL_BAD_NUMKEYS};
use crate::commands::{feed_monitors, help_reply, Ctx};
use crate::protocol::Reply;

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

pub fn eval(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    eval_generic(ctx, args, false, false)
}

pub fn evalsha(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    eval_generic(ctx, args, true, false)
}

pub fn eval_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    eval_generic(ctx, args, false, true)
}

pub fn evalsha_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    eval_generic(ctx, args, true, true)
}

/// evalGenericCommand
fn eval_generic(ctx: &mut Ctx, args: &[Bytes], evalsha: bool, ro: bool) -> Reply {
    // Fed here, not by call(), so that monitors see the script before its commands.
    // The line is formatted only for someone to read it: a quarter of an EVALSHA's work otherwise.
    if !ctx.state.monitors.is_empty() {
        feed_monitors(ctx, args);
    }
    if evalsha && args[1].len() != 40 {
        return Reply::error(NOSCRIPT);
    }
    if let Some(mode) = ctx.session.script_debug {
        if evalsha {
            return Reply::error("ERR Please use EVAL instead of EVALSHA for debugging");
        }
        return super::debug::eval_debugged(ctx, args, ro, mode);
    }
    let (keys, argv) = tri!(split_keys(args, EVAL_BAD_NUMKEYS));
    let created;
    let (sha, flags): (&str, _) = if evalsha {
        let Some(flags) = ctx.state.scripts.cached(&args[1]).map(|s| s.flags) else {
            return Reply::error(NOSCRIPT);
        };
        // Found, it is 40 hex digits: ASCII. The VM looks it up in any case.
        let Ok(sha) = std::str::from_utf8(&args[1]) else {
            return Reply::error(NOSCRIPT);
        };
        (sha, flags)
    } else {
        created = tri!(ctx.state.scripts.create_eval_script(&args[1]));
        (created.0.as_str(), created.1)
    };
    if let Some(refused) = refuse_to_run(ctx, flags, ro) {
        return refused;
    }
    let mut vm = tri!(ctx.state.scripts.take_eval_vm());
    let name = sha.to_ascii_lowercase();
    let reply = run_script(
        ctx,
        args,
        true,
        name,
        flags,
        ro,
        Box::new(|host, options| vm.run(sha, &keys, &argv, host, options)),
    );
    ctx.state.scripts.put_eval_vm(vm);
    reply
}

const SCRIPT_HELP: &[&str] = &[
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
];

pub fn script_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    help_reply("SCRIPT", SCRIPT_HELP)
}

pub fn script_exists(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let scripts = &ctx.state.scripts;
    Reply::Array(args[2..].iter().map(|sha| Reply::Int(i64::from(scripts.cached(sha).is_some()))).collect())
}

pub fn script_load(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (sha, _) = tri!(ctx.state.scripts.create_eval_script(&args[2]));
    Reply::Bulk(sha.into_bytes())
}

/// SCRIPT FLUSH [ASYNC|SYNC]: both modes empty the cache at once here (there is no other
/// thread to hand the old VM to that would make a difference a client can see).
pub fn script_flush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3
        || (args.len() == 3 && !args[2].eq_ignore_ascii_case(b"sync") && !args[2].eq_ignore_ascii_case(b"async"))
    {
        return Reply::error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    }
    ctx.state.scripts.flush_eval();
    Reply::OK
}

pub fn script_kill(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::kill(ctx, true)
}
