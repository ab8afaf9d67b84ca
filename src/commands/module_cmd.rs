//! MODULE: HELP, LIST, LOAD, LOADEX, UNLOAD, as a Redis 7.0.15 that can load no module answers them.
//! Loading C modules is out of scope (they are built against Redis's own structures): LOAD and
//! LOADEX fail as a module that does not load fails, with the reason in the log; LIST is empty
//! and UNLOAD finds no module. Table rows, replies and error texts follow module.c.

use bytes::Bytes;

use super::Ctx;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] = &[container!("module", "server", "4.0.0", "A container for module commands", SUBS)];

const PROTECTED_ADMIN: u32 = ADMIN | NOSCRIPT | PROTECTED;

static SUBS: &[CommandSpec] = &[
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        help
    ),
    subcmd!(
        "list",
        2,
        ADMIN | NOSCRIPT,
        (0, 0, 0),
        "server",
        "4.0.0",
        "List all modules loaded by the server",
        "O(N) where N is the number of loaded modules.",
        list
    ),
    subcmd!(
        "load",
        -3,
        PROTECTED_ADMIN | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Load a module",
        "O(1)",
        load
    ),
    subcmd!(
        "loadex",
        -3,
        PROTECTED_ADMIN | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Load a module with extended parameters",
        "O(1)",
        load
    ),
    subcmd!(
        "unload",
        3,
        PROTECTED_ADMIN | NO_ASYNC_LOADING,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Unload a module",
        "O(1)",
        unload
    ),
];

pub const MODULE_NOT_ALLOWED: &str = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "MODULE",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    )
}

fn list(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Array(Vec::new())
}

/// moduleLoad failing: Redis logs why (dlopen's error) and answers the one error text.
fn load(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    tracing::warn!(
        "Module {} failed to load: this server (redis-rs) cannot load Redis modules",
        String::from_utf8_lossy(&args[2])
    );
    Reply::error("ERR Error loading the extension. Please check the server logs.")
}

fn unload(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::error("ERR Error unloading module: no such module with that name")
}
