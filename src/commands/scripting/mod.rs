//! Scripting's commands: EVAL and its variants, SCRIPT, FCALL and FUNCTION, over the Lua engine
//! of `crate::scripting` and the state of `server::scripts`.

mod busy;
mod debug;
mod eval;
mod function;
mod function_dump;
mod host;
mod run;

use bytes::Bytes;

pub use busy::busy_error;

use crate::commands::Ctx;
use crate::protocol::Reply;
use crate::scripting::ScriptFlags;
use crate::server::command::*;
use crate::server::state::State;
use crate::{cmd, container, subcmd};

/// EVAL's and FCALL's keys: numkeys at 2, the keys after it.
fn script_keys(args: &[Bytes]) -> Vec<usize> {
    numkeys_positions(args, 2)
}

pub static TABLE: &[CommandSpec] = &[
    CommandSpec {
        keys_fn: Some(script_keys),
        ..cmd!(
            "eval",
            -3,
            NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE,
            (0, 0, 0),
            "scripting",
            "2.6.0",
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
            eval::eval
        )
    },
    CommandSpec {
        keys_fn: Some(script_keys),
        ..cmd!(
            "evalsha",
            -3,
            NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE,
            (0, 0, 0),
            "scripting",
            "2.6.0",
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
            eval::evalsha
        )
    },
    CommandSpec {
        keys_fn: Some(script_keys),
        ..cmd!(
            "eval_ro",
            -3,
            NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY,
            (0, 0, 0),
            "scripting",
            "7.0.0",
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
            eval::eval_ro
        )
    },
    CommandSpec {
        keys_fn: Some(script_keys),
        ..cmd!(
            "evalsha_ro",
            -3,
            NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY,
            (0, 0, 0),
            "scripting",
            "7.0.0",
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
            eval::evalsha_ro
        )
    },
    CommandSpec {
        keys_fn: Some(script_keys),
        ..cmd!(
            "fcall",
            -3,
            NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE,
            (0, 0, 0),
            "scripting",
            "7.0.0",
            "Invoke a function",
            "Depends on the function that is executed.",
            function::fcall
        )
    },
    CommandSpec {
        keys_fn: Some(script_keys),
        ..cmd!(
            "fcall_ro",
            -3,
            NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY,
            (0, 0, 0),
            "scripting",
            "7.0.0",
            "Invoke a read-only function",
            "Depends on the function that is executed.",
            function::fcall_ro
        )
    },
    container!("script", "scripting", "2.6.0", "A container for Lua scripts management commands", SCRIPT_SUBS),
    container!("function", "scripting", "7.0.0", "A container for function commands", FUNCTION_SUBS),
];

static SCRIPT_SUBS: &[CommandSpec] = &[
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "scripting",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        eval::script_help
    ),
    subcmd!(
        "exists",
        -3,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Check existence of scripts in the script cache.",
        "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        eval::script_exists
    ),
    subcmd!(
        "load",
        3,
        NOSCRIPT | STALE,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Load the specified Lua script into the script cache.",
        "O(N) with N being the length in bytes of the script body.",
        eval::script_load
    ),
    subcmd!(
        "flush",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Remove all the scripts from the script cache.",
        "O(N) with N being the number of scripts in cache",
        eval::script_flush
    ),
    subcmd!(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        "2.6.0",
        "Kill the script currently in execution.",
        "O(1)",
        eval::script_kill
    ),
    subcmd!(
        "debug",
        3,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "3.2.0",
        "Set the debug mode for executed scripts.",
        "O(1)",
        debug::script_debug
    ),
];

static FUNCTION_SUBS: &[CommandSpec] = &[
    subcmd!(
        "load",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Create a function with the given arguments (name, code, description)",
        "O(1) (considering compilation time is redundant)",
        function::function_load
    ),
    subcmd!(
        "flush",
        -2,
        WRITE | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Deleting all functions",
        "O(N) where N is the number of functions deleted",
        function::function_flush
    ),
    subcmd!(
        "list",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "List information about all the functions",
        "O(N) where N is the number of functions",
        function::function_list
    ),
    subcmd!(
        "delete",
        3,
        WRITE | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Delete a function by name",
        "O(1)",
        function::function_delete
    ),
    subcmd!(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Kill the function currently in execution.",
        "O(1)",
        function::function_kill
    ),
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        function::function_help
    ),
    subcmd!(
        "stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Return information about the function currently running (name, description, duration)",
        "O(1)",
        function::function_stats
    ),
    subcmd!(
        "dump",
        2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Dump all functions into a serialized binary payload",
        "O(N) where N is the number of functions",
        function_dump::function_dump
    ),
    subcmd!(
        "restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Restore all the functions on the given payload",
        "O(N) where N is the number of functions on the payload",
        function_dump::function_restore
    ),
];

/// SCRIPT KILL and FUNCTION KILL (scriptKill).
fn kill(ctx: &mut Ctx, is_eval: bool) -> Reply {
    let Some(r) = ctx.state.scripts.running.as_mut() else {
        return Reply::error("NOTBUSY No scripts in execution right now.");
    };
    if r.from_master {
        return Reply::error("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.");
    }
    if r.wrote {
        return Reply::error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
    }
    if is_eval != r.eval {
        return busy_error(r.eval);
    }
    r.kill = true;
    Reply::OK
}

/// The flags a script command runs under (evalGetCommandFlags, fcallGetCommandFlags): a
/// script with a shebang, or a function, declares whether it writes, may run out of memory
/// or on a stale replica, and dispatch checks the call as such a command.
pub fn command_flags(st: &State, spec: &CommandSpec, args: &[Bytes]) -> u32 {
    let flags = match spec.id {
        CmdId::Eval => eval_flags(st, &args[1], false),
        CmdId::EvalSha => eval_flags(st, &args[1], true),
        CmdId::Fcall => st.scripts.libraries.function(&args[1]).map(|f| f.flags),
        _ => None,
    };
    match flags {
        Some(f) if !f.eval_compat_mode => script_flags_to_command_flags(spec.flags, f),
        _ => spec.flags,
    }
}

fn eval_flags(st: &State, script: &[u8], evalsha: bool) -> Option<ScriptFlags> {
    if evalsha {
        return st.scripts.cached(script).map(|s| s.flags);
    }
    if !script.starts_with(b"#!") {
        return None;
    }
    let sha = crate::scripting::sha1_hex(script);
    match st.scripts.cached(sha.as_bytes()) {
        Some(s) => Some(s.flags),
        None => crate::scripting::parse_shebang(script).ok().map(|(f, _)| f),
    }
}

/// scriptFlagsToCmdFlags
fn script_flags_to_command_flags(cmd: u32, script: ScriptFlags) -> u32 {
    let mut flags = cmd & !(STALE | DENYOOM | WRITE | MAY_REPLICATE);
    if !script.allow_oom && !script.no_writes {
        flags |= DENYOOM;
    }
    if !script.no_writes {
        flags |= WRITE;
    }
    if script.allow_stale {
        flags |= STALE;
    }
    flags
}
