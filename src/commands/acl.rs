//! ACL, for the one user this server has so far: `default` (its password is `requirepass`).
//! WHOAMI, USERS, CAT, GENPASS and HELP behave as in Redis 7.0; subcommands that manage other users
//! are not implemented and answer Redis's unknown-subcommand error.

use bytes::Bytes;

use super::{errors, Ctx};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] =
    &[container!("acl", "server", "6.0.0", "A container for Access List Control commands ", SUBS)];

static SUBS: &[CommandSpec] = &[
    subcmd!(
        "whoami",
        2,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Return the name of the user associated to the current connection",
        "O(1)",
        whoami
    ),
    subcmd!(
        "users",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List the username of all the configured ACL rules",
        "O(N). Where N is the number of configured users.",
        users
    ),
    subcmd!(
        "cat",
        -2,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List the ACL categories or the commands inside a category",
        "O(1) since the categories and commands are a fixed set.",
        cat
    ),
    subcmd!(
        "genpass",
        -2,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Generate a pseudorandom secure password to use for ACL users",
        "O(1)",
        genpass
    ),
    subcmd!(
        "help",
        2,
        LOADING | STALE | SENTINEL,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        help
    ),
];

fn whoami(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::bulk(&ctx.session.user)
}

fn users(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Array(vec![Reply::bulk("default")])
}

fn cat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        2 => Reply::Array(ACL_CATEGORIES.iter().map(Reply::bulk).collect()),
        3 => {
            let name = String::from_utf8_lossy(&args[2]).to_ascii_lowercase();
            if !ACL_CATEGORIES.contains(&name.as_str()) {
                return Reply::error(format!("ERR Unknown category '{}'", String::from_utf8_lossy(&args[2])));
            }
            let wanted = format!("@{name}");
            let mut out = Vec::new();
            for (cmd_name, spec) in ctx.server.commands.all() {
                let cmd_name = String::from_utf8_lossy(cmd_name);
                if spec.subcommands.is_empty() {
                    if spec.acl_categories().contains(&wanted) {
                        out.push(Reply::bulk(cmd_name.as_bytes()));
                    }
                } else {
                    for sub in spec.subcommands {
                        if sub.acl_categories().contains(&wanted) {
                            out.push(Reply::bulk(format!("{cmd_name}|{}", sub.name)));
                        }
                    }
                }
            }
            Reply::Array(out)
        }
        _ => Reply::error("ERR wrong number of arguments for 'acl|cat' command"),
    }
}

fn genpass(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let bits = match args.get(2) {
        None => 256,
        Some(a) => match crate::util::numbers::parse_i64(a) {
            None => return Reply::error(errors::NOT_INTEGER),
            Some(n) if n <= 0 || n > 4096 => {
                return Reply::error(
                    "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
                )
            }
            Some(n) => n as usize,
        },
    };
    if args.len() > 3 {
        return Reply::error("ERR wrong number of arguments for 'acl|genpass' command");
    }
    // One hex digit per 4 bits, rounded up, from the OS's random source like Redis's getRandomHexChars.
    let chars = bits.div_ceil(4);
    let mut raw = vec![0u8; chars];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw));
    if filled.is_err() {
        raw.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    let hex: String = raw.iter().map(|b| char::from(b"0123456789abcdef"[(b & 15) as usize])).collect();
    Reply::bulk(hex)
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    )
}
