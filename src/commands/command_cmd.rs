//! COMMAND: COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, read from the command table and
//! Redis 7.0.15's own metadata.

use bytes::Bytes;

use super::{errors, metadata, Ctx};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::subcmd;

pub static TABLE: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: LOADING | STALE | SENTINEL,
    keys: (0, 0, 0),
    group: "server",
    since: "2.8.13",
    summary: "Get array of Redis command details",
    complexity: "O(N) where N is the total number of Redis commands",
    acl: &["connection"],
    write_keys: None,
    keys_fn: None,
    handler: Some(command_info_all),
    subcommands: COMMAND_SUBS,
    id: CmdId::Other,
}];

/// COMMAND's subcommands are in the @connection category as well.
macro_rules! command_sub {
    ($name:literal, $arity:expr, $since:literal, $summary:literal, $cx:literal, $handler:expr) => {
        CommandSpec {
            acl: &["connection"],
            ..subcmd!($name, $arity, LOADING | STALE, (0, 0, 0), "server", $since, $summary, $cx, $handler)
        }
    };
}

static COMMAND_SUBS: &[CommandSpec] = &[
    command_sub!("count", 2, "2.8.13", "Get total number of Redis commands", "O(1)", command_count),
    command_sub!(
        "info",
        -2,
        "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
        "O(N) where N is the number of commands to look up",
        command_info
    ),
    command_sub!(
        "docs",
        -2,
        "7.0.0",
        "Get array of specific Redis command documentation",
        "O(N) where N is the number of commands to look up",
        command_docs
    ),
    command_sub!(
        "list",
        -2,
        "7.0.0",
        "Get an array of Redis command names",
        "O(N) where N is the total number of Redis commands",
        command_list
    ),
    command_sub!(
        "getkeys",
        -4,
        "2.8.13",
        "Extract keys given a full Redis command",
        "O(N) where N is the number of arguments to the command",
        command_getkeys
    ),
    command_sub!(
        "getkeysandflags",
        -4,
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
        "O(N) where N is the number of arguments to the command",
        command_getkeysandflags
    ),
    command_sub!("help", 2, "5.0.0", "Show helpful text about the different subcommands", "O(1)", command_help),
];

fn command_count(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.server.commands.all().count() as i64)
}

/// Key-spec flags as this table can tell them: a read command reads, a write updates.
fn key_flags(spec: &CommandSpec) -> Vec<&'static str> {
    if spec.has(WRITE) {
        vec!["RW", "access", "update"]
    } else {
        vec!["RO", "access"]
    }
}

/// Key specs generated from the table, for a command Redis 7.0.15 lacks.
fn key_specs(spec: &CommandSpec) -> Reply {
    let (first, last, step) = spec.keys;
    if first <= 0 {
        return Reply::Set(vec![]);
    }
    Reply::Set(vec![Reply::Map(vec![
        (Reply::bulk("flags"), Reply::Set(key_flags(spec).into_iter().map(Reply::status).collect())),
        (
            Reply::bulk("begin_search"),
            Reply::Map(vec![
                (Reply::bulk("type"), Reply::bulk("index")),
                (Reply::bulk("spec"), Reply::Map(vec![(Reply::bulk("index"), Reply::Int(first as i64))])),
            ]),
        ),
        (
            Reply::bulk("find_keys"),
            Reply::Map(vec![
                (Reply::bulk("type"), Reply::bulk("range")),
                (
                    Reply::bulk("spec"),
                    Reply::Map(vec![
                        (
                            Reply::bulk("lastkey"),
                            Reply::Int(if last < 0 { last as i64 } else { (last - first) as i64 }),
                        ),
                        (Reply::bulk("keystep"), Reply::Int(step as i64)),
                        (Reply::bulk("limit"), Reply::Int(0)),
                    ]),
                ),
            ]),
        ),
    ])])
}

/// COMMAND INFO's tips: Redis 7.0.15's; none for a command it lacks.
fn tips(fullname: &str) -> Reply {
    metadata::get().tips(fullname).cloned().unwrap_or(Reply::Set(vec![]))
}

/// COMMAND INFO's flags: Redis hides `may_replicate` and `sentinel` on purpose.
fn visible_flags(spec: &CommandSpec) -> Vec<&'static str> {
    spec.flag_names().into_iter().filter(|f| !matches!(*f, "sentinel" | "may_replicate")).collect()
}

fn info_entry(map: &CommandMap, spec: &'static CommandSpec, fullname: &str) -> Reply {
    let (first, last, step) = spec.keys;
    Reply::Array(vec![
        Reply::bulk(fullname),
        Reply::Int(spec.arity as i64),
        Reply::Set(visible_flags(spec).into_iter().map(Reply::status).collect()),
        Reply::Int(first as i64),
        Reply::Int(last as i64),
        Reply::Int(step as i64),
        Reply::Set(spec.acl_categories().into_iter().map(|c| Reply::Status(c.into())).collect()),
        tips(fullname),
        metadata::get().key_specs(fullname).cloned().unwrap_or_else(|| key_specs(spec)),
        // Redis: an empty set without subcommands, else an array.
        if spec.subcommands.is_empty() {
            Reply::Set(vec![])
        } else {
            Reply::Array(
                map.subcommands(spec).map(|s| info_entry(map, s, &format!("{}|{}", fullname, s.name))).collect(),
            )
        },
    ])
}

fn command_info_all(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 1 {
        return Reply::error(format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(&args[1])
        ));
    }
    Reply::Array(
        ctx.server
            .commands
            .all()
            .map(|(name, spec)| info_entry(&ctx.server.commands, spec, &String::from_utf8_lossy(name)))
            .collect(),
    )
}

fn command_info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return command_info_all(ctx, &args[..1]);
    }
    Reply::Array(
        args[2..]
            .iter()
            .map(|n| {
                lookup_fullname(ctx, n)
                    .map(|(s, full)| info_entry(&ctx.server.commands, s, &full))
                    .unwrap_or(Reply::Nil)
            })
            .collect(),
    )
}

/// Finds `name` or `container|sub`.
pub(super) fn lookup_fullname(ctx: &Ctx, name: &[u8]) -> Option<(&'static CommandSpec, String)> {
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.splitn(2, |c| *c == b'|');
    let top = ctx.server.commands.get(parts.next()?)?;
    match parts.next() {
        None => Some((top, String::from_utf8_lossy(&lower).into_owned())),
        Some(sub) => {
            let s = ctx.server.commands.subcommands(top).find(|s| s.name.as_bytes() == sub)?;
            Some((s, String::from_utf8_lossy(&lower).into_owned()))
        }
    }
}

/// COMMAND DOCS's entry: Redis 7.0.15's, its subcommands narrowed to the ones we implement; one
/// generated from the table for a command Redis 7.0.15 lacks.
fn doc_entry(map: &CommandMap, spec: &'static CommandSpec, fullname: &str) -> Reply {
    let subcommands = || {
        let subs = map
            .subcommands(spec)
            .map(|s| {
                let full = format!("{fullname}|{}", s.name);
                (Reply::bulk(&full), doc_entry(map, s, &full))
            })
            .collect();
        (Reply::bulk("subcommands"), Reply::Map(subs))
    };
    if let Some(fields) = metadata::get().doc(fullname) {
        return Reply::Map(
            fields
                .iter()
                .map(|(k, v)| if metadata::text(k) == "subcommands" { subcommands() } else { (k.clone(), v.clone()) })
                .collect(),
        );
    }
    let mut fields = vec![
        (Reply::bulk("summary"), Reply::bulk(spec.summary)),
        (Reply::bulk("since"), Reply::bulk(spec.since)),
        (Reply::bulk("group"), Reply::bulk(spec.group)),
    ];
    if !spec.complexity.is_empty() {
        fields.push((Reply::bulk("complexity"), Reply::bulk(spec.complexity)));
    }
    if !spec.subcommands.is_empty() {
        fields.push(subcommands());
    }
    Reply::Map(fields)
}

fn command_docs(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return Reply::Map(
            ctx.server
                .commands
                .all()
                .map(|(name, spec)| {
                    let name = String::from_utf8_lossy(name);
                    (Reply::bulk(name.as_bytes()), doc_entry(&ctx.server.commands, spec, &name))
                })
                .collect(),
        );
    }
    Reply::Map(
        args[2..]
            .iter()
            .filter_map(|n| {
                lookup_fullname(ctx, n).map(|(s, full)| (Reply::bulk(&full), doc_entry(&ctx.server.commands, s, &full)))
            })
            .collect(),
    )
}

fn command_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let filter = match args.len() {
        2 => None,
        5 if args[2].eq_ignore_ascii_case(b"filterby") => Some((args[3].to_ascii_lowercase(), args[4].clone())),
        _ => return Reply::error(errors::SYNTAX),
    };
    if let Some((kind, _)) = &filter {
        if !matches!(kind.as_slice(), b"pattern" | b"aclcat" | b"module") {
            return Reply::error(errors::SYNTAX);
        }
    }
    let mut names = Vec::new();
    for (name, spec) in ctx.server.commands.all() {
        let mut entries = vec![(String::from_utf8_lossy(name).into_owned(), spec)];
        for s in ctx.server.commands.subcommands(spec) {
            entries.push((format!("{}|{}", String::from_utf8_lossy(name), s.name), s));
        }
        for (full, s) in entries {
            let keep = match &filter {
                None => true,
                Some((kind, v)) => match kind.as_slice() {
                    b"pattern" => crate::util::glob::string_match(v, full.as_bytes(), true),
                    b"aclcat" => {
                        let cat = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
                        s.acl_categories().contains(&cat)
                    }
                    _ => false,
                },
            };
            if keep {
                names.push(Reply::bulk(full));
            }
        }
    }
    Reply::Array(names)
}

/// COMMAND GETKEYS/GETKEYSANDFLAGS: the command, then whether it has keys, then its arity, then
/// the keys its key specs find, with their flags.
fn keys_of(ctx: &Ctx, cmd_args: &[Bytes]) -> Result<Vec<super::keyspecs::FoundKey>, Reply> {
    let (spec, name) =
        super::resolve(ctx.server, cmd_args).map_err(|_| Reply::error("ERR Invalid command specified"))?;
    if !super::keyspecs::has_keys(spec, &name.to_string()) {
        return Err(Reply::error("ERR The command has no key arguments"));
    }
    if !super::arity_ok(spec, cmd_args.len()) {
        return Err(Reply::error("ERR Invalid number of arguments specified for command"));
    }
    let keys = super::keyspecs::find(spec, &name.to_string(), cmd_args);
    // No keys where the arguments decide them (SINTERCARD 0 ...): Redis refuses the arguments.
    if keys.is_empty() && !spec.has(NO_MANDATORY_KEYS) {
        return Err(Reply::error("ERR Invalid arguments specified for command"));
    }
    Ok(keys)
}

fn command_getkeys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let keys = tri!(keys_of(ctx, &args[2..]));
    Reply::Array(keys.into_iter().map(|(i, _)| Reply::bulk(&args[2 + i])).collect())
}

fn command_getkeysandflags(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let keys = tri!(keys_of(ctx, &args[2..]));
    Reply::Array(
        keys.into_iter()
            .map(|(i, flags)| {
                let flags = flags.into_iter().map(|f| Reply::Status(f.into())).collect();
                Reply::Array(vec![Reply::bulk(&args[2 + i]), Reply::Set(flags)])
            })
            .collect(),
    )
}

fn command_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    )
}
