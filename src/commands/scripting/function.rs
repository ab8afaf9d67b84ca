//! FCALL, FCALL_RO and FUNCTION (functions.c).

use bytes::Bytes;

use super::run::{refuse_to_run, run_script, split_keys, FCALL_BAD_NUMKEYS};
use crate::commands::{feed_monitors, help_reply, subcommand_syntax_error, Ctx};
use crate::protocol::Reply;
use crate::scripting::ScriptFlags;

pub fn fcall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    fcall_generic(ctx, args, false)
}

pub fn fcall_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    fcall_generic(ctx, args, true)
}

/// fcallCommandGeneric
fn fcall_generic(ctx: &mut Ctx, args: &[Bytes], ro: bool) -> Reply {
    // Fed here, not by call(), so that monitors see the call before its commands.
    // The line is formatted only for someone to read it: a quarter of an EVALSHA's work otherwise.
    if !ctx.state.monitors.is_empty() {
        feed_monitors(ctx, args);
    }
    let Some(f) = ctx.state.scripts.libraries.function(&args[1]) else {
        return Reply::error("ERR Function not found");
    };
    let (name, flags, handle) = (String::from_utf8_lossy(&f.name).into_owned(), f.flags, f.handle);
    let (keys, argv) = tri!(split_keys(args, FCALL_BAD_NUMKEYS));
    if let Some(refused) = refuse_to_run(ctx, flags, ro) {
        return refused;
    }
    let mut vm = match ctx.state.scripts.take_function_vm() {
        Ok(vm) => vm,
        Err(e) => return Reply::error(format!("ERR {e}")),
    };
    let shown = name.clone();
    let reply = run_script(
        ctx,
        args,
        false,
        name,
        flags,
        ro,
        Box::new(|host, options| vm.call(handle, &shown, &keys, &argv, host, options)),
    );
    ctx.state.scripts.put_function_vm(vm);
    reply
}

const FUNCTION_HELP: &[&str] = &[
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
];

pub fn function_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    help_reply("FUNCTION", FUNCTION_HELP)
}

/// FUNCTION LOAD [REPLACE] code
pub fn function_load(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut replace = false;
    let mut pos = 2;
    while pos < args.len() - 1 {
        let arg = &args[pos];
        pos += 1;
        if arg.eq_ignore_ascii_case(b"replace") {
            replace = true;
            continue;
        }
        return Reply::error(format!("ERR Unknown option given: {}", String::from_utf8_lossy(arg)));
    }
    if pos >= args.len() {
        return Reply::error("ERR Function code is missing");
    }
    match ctx.state.scripts.load_library(&args[pos], replace) {
        Ok(name) => {
            ctx.dirty(1);
            Reply::Bulk(name.to_vec())
        }
        Err(e) => Reply::error(format!("ERR {e}")),
    }
}

pub fn function_delete(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if !ctx.state.scripts.delete_library(&args[2]) {
        return Reply::error("ERR Library not found");
    }
    ctx.dirty(1);
    Reply::OK
}

/// FUNCTION FLUSH [ASYNC|SYNC]: both modes free the libraries at once (see SCRIPT FLUSH).
pub fn function_flush(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    if args.len() == 3 && !args[2].eq_ignore_ascii_case(b"sync") && !args[2].eq_ignore_ascii_case(b"async") {
        return Reply::error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    }
    ctx.state.scripts.flush_functions();
    ctx.dirty(1);
    Reply::OK
}

/// A function's flags as FUNCTION LIST shows them: a set, in scripts_flags_def's order, of status
/// replies (functionListCommand sends each with addReplyStatus, so RESP2 clients see `+no-writes`).
fn flag_names(flags: ScriptFlags) -> Reply {
    let mut names = Vec::new();
    for (on, name) in [
        (flags.no_writes, "no-writes"),
        (flags.allow_oom, "allow-oom"),
        (flags.allow_stale, "allow-stale"),
        (flags.no_cluster, "no-cluster"),
        (flags.allow_cross_slot_keys, "allow-cross-slot-keys"),
    ] {
        // Status strings, as functionListReplyFlags sends them.
        if on {
            names.push(Reply::status(name));
        }
    }
    Reply::Set(names)
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
pub fn function_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut with_code = false;
    let mut pattern: Option<&Bytes> = None;
    let mut i = 2;
    while i < args.len() {
        let arg = &args[i];
        if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
            if i >= args.len() - 1 {
                return Reply::error("ERR library name argument was not given");
            }
            i += 1;
            pattern = Some(&args[i]);
        } else {
            return Reply::error(format!("ERR Unknown argument {}", String::from_utf8_lossy(arg)));
        }
        i += 1;
    }
    let mut out = Vec::new();
    for lib in ctx.state.scripts.libraries.libraries.values() {
        if pattern.is_some_and(|p| !crate::util::glob::string_match(p, &lib.name, true)) {
            continue;
        }
        let functions = lib
            .functions
            .iter()
            .map(|f| {
                Reply::Map(vec![
                    (Reply::bulk("name"), Reply::Bulk(f.name.to_vec())),
                    (
                        Reply::bulk("description"),
                        f.description.as_ref().map_or(Reply::Nil, |d| Reply::Bulk(d.to_vec())),
                    ),
                    (Reply::bulk("flags"), flag_names(f.flags)),
                ])
            })
            .collect();
        let mut fields = vec![
            (Reply::bulk("library_name"), Reply::Bulk(lib.name.to_vec())),
            (Reply::bulk("engine"), Reply::bulk(lib.engine)),
            (Reply::bulk("functions"), Reply::Array(functions)),
        ];
        if with_code {
            fields.push((Reply::bulk("library_code"), Reply::Bulk(lib.code.to_vec())));
        }
        out.push(Reply::Map(fields));
    }
    Reply::Array(out)
}

/// FUNCTION STATS: the function running now (a busy server answers this) and the engines.
pub fn function_stats(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let scripts = &ctx.state.scripts;
    let running = match &scripts.running {
        Some(r) if r.eval => return super::busy::busy_error(true),
        Some(r) => Reply::Map(vec![
            (Reply::bulk("name"), Reply::bulk(r.name.as_str())),
            (Reply::bulk("command"), Reply::Array(r.command.iter().map(|a| Reply::Bulk(a.to_vec())).collect())),
            (Reply::bulk("duration_ms"), Reply::Int(r.started.elapsed().as_millis() as i64)),
        ]),
        None => Reply::Nil,
    };
    let lua = Reply::Map(vec![
        (Reply::bulk("libraries_count"), Reply::Int(scripts.libraries.libraries.len() as i64)),
        (Reply::bulk("functions_count"), Reply::Int(scripts.libraries.function_count() as i64)),
    ]);
    Reply::Map(vec![
        (Reply::bulk("running_script"), running),
        (Reply::bulk("engines"), Reply::Map(vec![(Reply::bulk("LUA"), lua)])),
    ])
}

pub fn function_kill(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::kill(ctx, false)
}
