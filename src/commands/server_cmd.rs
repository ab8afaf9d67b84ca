//! Server commands: DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN, MONITOR, DEBUG,
//! SLOWLOG, LATENCY, MEMORY, COMMAND.

use bytes::Bytes;

use super::table::*;
use super::{errors, int_arg, Ctx};
use crate::protocol::Reply;
use crate::server::state::SlowlogEntry;
use crate::{cmd, container};

pub static TABLE: &[CommandSpec] = &[
    cmd!(
        "dbsize",
        1,
        READONLY | FAST,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Returns the number of keys in the database.",
        "O(1)",
        dbsize
    ),
    cmd!(
        "flushdb",
        -1,
        WRITE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Remove all keys from the current database.",
        "O(N) where N is the number of keys in the selected database",
        flushdb
    ),
    cmd!(
        "flushall",
        -1,
        WRITE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Removes all keys from all databases.",
        "O(N) where N is the total number of keys in all databases",
        flushall
    ),
    cmd!(
        "swapdb",
        3,
        WRITE | FAST,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Swaps two Redis databases.",
        "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        swapdb
    ),
    cmd!("time", 1, LOADING | STALE | FAST, (0, 0, 0), "server", "2.6.0", "Returns the server time.", "O(1)", time),
    cmd!(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk.",
        "O(1)",
        lastsave
    ),
    cmd!(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        shutdown
    ),
    cmd!(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Listens for all requests received by the server in real-time.",
        "",
        monitor
    ),
    cmd!(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "A container for debugging commands.",
        "Depends on subcommand.",
        debug
    ),
    container!("slowlog", "server", "2.2.12", "A container for slow log commands.", SLOWLOG_SUBS),
    container!("latency", "server", "2.8.13", "A container for latency diagnostics commands.", LATENCY_SUBS),
    container!("memory", "server", "4.0.0", "A container for memory diagnostics commands.", MEMORY_SUBS),
    CommandSpec {
        name: "command",
        arity: -1,
        flags: LOADING | STALE | SENTINEL,
        keys: (0, 0, 0),
        group: "server",
        since: "2.8.13",
        summary: "Returns detailed information about all commands.",
        complexity: "O(N) where N is the total number of Redis commands",
        acl: &["connection"],
        write_keys: None,
        handler: Some(command_info_all),
        subcommands: COMMAND_SUBS,
    },
];

static SLOWLOG_SUBS: &[CommandSpec] = &[
    cmd!(
        "get",
        -2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Returns the slow log's entries.",
        "O(N) where N is the number of entries returned",
        slowlog_get
    ),
    cmd!(
        "len",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Returns the number of entries in the slow log.",
        "O(1)",
        slowlog_len
    ),
    cmd!(
        "reset",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Clears all entries from the slow log.",
        "O(N) where N is the number of entries in the slowlog",
        slowlog_reset
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        slowlog_help
    ),
];

static LATENCY_SUBS: &[CommandSpec] = &[
    cmd!(
        "latest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Returns the latest latency samples for all events.",
        "O(1)",
        latency_latest
    ),
    cmd!(
        "history",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Returns timestamp-latency samples for an event.",
        "O(1)",
        latency_history
    ),
    cmd!(
        "reset",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Resets the latency data for one or more events.",
        "O(1)",
        latency_reset
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Returns helpful text about the different subcommands.",
        "O(1)",
        latency_help
    ),
];

static MEMORY_SUBS: &[CommandSpec] = &[
    CommandSpec {
        name: "usage",
        arity: -3,
        flags: READONLY,
        keys: (2, 2, 1),
        group: "server",
        since: "4.0.0",
        summary: "Estimates the memory usage of a key.",
        complexity: "O(N) where N is the number of samples.",
        acl: &[],
        write_keys: None,
        handler: Some(memory_usage),
        subcommands: &[],
    },
    cmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
        memory_help
    ),
];

static COMMAND_SUBS: &[CommandSpec] = &[
    cmd!(
        "count",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Returns a count of commands.",
        "O(1)",
        command_count
    ),
    cmd!(
        "info",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Returns information about one, multiple or all commands.",
        "O(N) where N is the number of commands to look up",
        command_info
    ),
    cmd!(
        "docs",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Returns documentary information about one, multiple or all commands.",
        "O(N) where N is the number of commands to look up",
        command_docs
    ),
    cmd!(
        "list",
        -2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Returns a list of command names.",
        "O(N) where N is the total number of Redis commands",
        command_list
    ),
    cmd!(
        "getkeys",
        -3,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Extracts the key names from an arbitrary command.",
        "O(N) where N is the number of arguments to the command",
        command_getkeys
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
        command_help
    ),
];

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.db().len() as i64)
}

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC. Freeing is synchronous either way: the reply is the same.
fn flush_mode(args: &[Bytes]) -> Result<(), Reply> {
    match args.len() {
        1 => Ok(()),
        2 if args[1].eq_ignore_ascii_case(b"async") || args[1].eq_ignore_ascii_case(b"sync") => Ok(()),
        _ => Err(Reply::error(errors::SYNTAX)),
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    tri!(flush_mode(args));
    let db = ctx.db();
    db.touch_all_watched(None);
    let n = db.clear();
    ctx.dirty(n as u64 + 1);
    Reply::OK
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    tri!(flush_mode(args));
    let mut n = 0;
    for db in ctx.state.dbs.iter_mut() {
        db.touch_all_watched(None);
        n += db.clear();
    }
    ctx.dirty(n as u64 + 1);
    Reply::OK
}

fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(a) = crate::util::numbers::parse_i64(&args[1]) else {
        return Reply::error("ERR invalid first DB index");
    };
    let Some(b) = crate::util::numbers::parse_i64(&args[2]) else {
        return Reply::error("ERR invalid second DB index");
    };
    let n = ctx.state.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Reply::error(errors::DB_INDEX);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        ctx.state.dbs[a].touch_all_watched(Some(&ctx.state.dbs[b]));
        ctx.state.dbs[b].touch_all_watched(Some(&ctx.state.dbs[a]));
        // The data moves; each database keeps its own watchers.
        ctx.state.dbs.swap(a, b);
        let wa = std::mem::take(&mut ctx.state.dbs[a].watched);
        let wb = std::mem::take(&mut ctx.state.dbs[b].watched);
        ctx.state.dbs[a].watched = wb;
        ctx.state.dbs[b].watched = wa;
    }
    ctx.dirty(1);
    Reply::OK
}

fn time(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let us = crate::util::time::unix_us();
    Reply::Array(vec![Reply::bulk((us / 1_000_000).to_string()), Reply::bulk((us % 1_000_000).to_string())])
}

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.state.lastsave)
}

fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut nosave, mut save, mut abort) = (false, false, false);
    for a in &args[1..] {
        match a.to_ascii_lowercase().as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" | b"force" => {}
            b"abort" => abort = true,
            _ => return Reply::error(errors::SYNTAX),
        }
    }
    if (abort && args.len() != 2) || (nosave && save) {
        return Reply::error(errors::SYNTAX);
    }
    if abort {
        return Reply::error("ERR No shutdown in progress.");
    }
    let save_points = !matches!(ctx.state.config.val("save"), crate::config::Val::Save(p) if p.is_empty());
    if save || (save_points && !nosave) {
        // RDB persistence is not built yet: a save that was asked for cannot be honoured.
        if save {
            tracing::warn!(
                "Error trying to save the DB, can't exit: RDB persistence is not implemented in this version."
            );
            return Reply::error("ERR Errors trying to SHUTDOWN. Check logs.");
        }
        tracing::warn!("Save points are configured, but RDB persistence is not implemented in this version: exiting without saving.");
    }
    ctx.state.shutdown_requested = true;
    ctx.server.shutdown.notify_one();
    ctx.session.close_after_reply = true;
    Reply::NoReply
}

fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_some() || ctx.session.in_exec {
        return Reply::error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if !ctx.session.monitor {
        ctx.session.monitor = true;
        ctx.state.monitors.push(ctx.session.id);
    }
    Reply::OK
}

fn debug(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let sub = args[1].to_ascii_lowercase();
    match (sub.as_slice(), args.len()) {
        (b"sleep", 3) => {
            let secs = tri!(super::float_arg(&args[2]));
            // Holding the keyspace while sleeping is the point: DEBUG SLEEP blocks the server.
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.clamp(0.0, 3600.0)));
            Reply::OK
        }
        (b"set-active-expire", 3) => {
            let v = tri!(int_arg(&args[2]));
            ctx.state.active_expire_enabled = v != 0;
            Reply::OK
        }
        (b"object", 3) => {
            let db = ctx.session.db;
            ctx.expire_if_needed(db, &args[2]);
            let Some(e) = ctx.state.dbs[db].get_raw(&args[2]) else {
                return Reply::error(errors::NO_SUCH_KEY);
            };
            let len = e.value().as_bytes().map(|b| b.len()).unwrap_or(0);
            Reply::Status(
                format!(
                    "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                    e.value().encoding(),
                    len,
                    e.access() & 0xFFFFFF,
                    crate::keyspace::access::idle_secs(e.access())
                )
                .into(),
            )
        }
        (b"help", _) => super::help_reply(
            "DEBUG",
            &[
                "OBJECT <key>",
                "    Show low level info about the `key` and associated value.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        ),
        _ => Reply::error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&args[1])
        )),
    }
}

pub fn slowlog_push(ctx: &mut Ctx, args: &[Bytes], usec: u64) {
    let max_len = ctx.state.hot.slowlog_max_len;
    // Like Redis: at most 32 arguments and 128 bytes per argument are kept.
    let mut kept: Vec<Bytes> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i == 31 && args.len() > 32 {
            kept.push(Bytes::from(format!("... ({} more arguments)", args.len() - 31)));
            break;
        }
        if a.len() > 128 {
            let mut v = a[..128].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
            kept.push(Bytes::from(v));
        } else {
            kept.push(a.clone());
        }
    }
    let name = ctx.state.clients.get(&ctx.session.id).and_then(|c| c.name.clone());
    let entry = SlowlogEntry {
        id: ctx.state.slowlog_next_id,
        time: crate::util::time::unix_secs(),
        duration_us: usec,
        args: kept,
        peer: ctx.session.addr.clone(),
        name: name.map(|n| String::from_utf8_lossy(&n).into_owned()).unwrap_or_default(),
    };
    ctx.state.slowlog_next_id += 1;
    ctx.state.slowlog.push_front(entry);
    while ctx.state.slowlog.len() > max_len {
        ctx.state.slowlog.pop_back();
    }
}

fn slowlog_get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return Reply::error("ERR wrong number of arguments for 'slowlog|get' command");
    }
    let count = match args.get(2) {
        Some(a) => match crate::util::numbers::parse_i64(a) {
            Some(n) if n >= -1 => {
                if n == -1 {
                    usize::MAX
                } else {
                    n as usize
                }
            }
            _ => return Reply::error("ERR count should be greater than or equal to -1"),
        },
        None => 10,
    };
    let items = ctx
        .state
        .slowlog
        .iter()
        .take(count)
        .map(|e| {
            Reply::Array(vec![
                Reply::Int(e.id as i64),
                Reply::Int(e.time),
                Reply::Int(e.duration_us as i64),
                Reply::array_of_bulks(e.args.iter()),
                Reply::bulk(&e.peer),
                Reply::bulk(&e.name),
            ])
        })
        .collect();
    Reply::Array(items)
}

fn slowlog_len(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.state.slowlog.len() as i64)
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    ctx.state.slowlog.clear();
    Reply::OK
}

fn slowlog_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
}

fn latency_latest(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let items = ctx
        .state
        .latency
        .iter()
        .filter_map(|(name, ev)| {
            let (t, ms) = *ev.samples.back()?;
            Some(Reply::Array(vec![
                Reply::bulk(*name),
                Reply::Int(t),
                Reply::Int(ms as i64),
                Reply::Int(ev.max as i64),
            ]))
        })
        .collect();
    Reply::Array(items)
}

fn latency_history(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let name = String::from_utf8_lossy(&args[2]);
    let items = ctx
        .state
        .latency
        .iter()
        .find(|(n, _)| **n == name)
        .map(|(_, ev)| {
            ev.samples.iter().map(|(t, ms)| Reply::Array(vec![Reply::Int(*t), Reply::Int(*ms as i64)])).collect()
        })
        .unwrap_or_default();
    Reply::Array(items)
}

fn latency_reset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        let n = ctx.state.latency.len();
        ctx.state.latency.clear();
        return Reply::Int(n as i64);
    }
    let mut n = 0;
    for a in &args[2..] {
        let name = String::from_utf8_lossy(a);
        let key = ctx.state.latency.keys().find(|k| **k == name).copied();
        if let Some(k) = key {
            ctx.state.latency.remove(k);
            n += 1;
        }
    }
    Reply::Int(n)
}

fn latency_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
}

/// Bytes a key costs: the entry in its table slot plus key and value allocations.
pub fn entry_memory(key_len: usize, value: &crate::keyspace::Value) -> usize {
    std::mem::size_of::<crate::keyspace::Entry>() + key_len + value.heap_size()
}

fn memory_usage(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut i = 3;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"samples") && i + 1 < args.len() {
            let n = tri!(int_arg(&args[i + 1]));
            if n < 0 {
                return Reply::error(errors::SYNTAX);
            }
            i += 2;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    let db = ctx.session.db;
    ctx.expire_if_needed(db, &args[2]);
    match ctx.state.dbs[db].get_raw(&args[2]) {
        Some(e) => Reply::Int(entry_memory(e.key().len(), e.value()) as i64),
        None => Reply::Nil,
    }
}

fn memory_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "MEMORY",
        &[
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
}

fn command_count(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(super::all_commands().count() as i64)
}

fn key_specs(spec: &CommandSpec) -> Reply {
    let (first, last, step) = spec.keys;
    if first <= 0 {
        return Reply::Array(vec![]);
    }
    let flags: Vec<Reply> = if spec.has(WRITE) {
        vec![Reply::status("RW"), Reply::status("access"), Reply::status("update")]
    } else {
        vec![Reply::status("RO"), Reply::status("access")]
    };
    Reply::Array(vec![Reply::Map(vec![
        (Reply::bulk("flags"), Reply::Set(flags)),
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

fn info_entry(spec: &CommandSpec, fullname: &str) -> Reply {
    let (first, last, step) = spec.keys;
    Reply::Array(vec![
        Reply::bulk(fullname),
        Reply::Int(spec.arity as i64),
        Reply::Set(spec.flag_names().into_iter().map(Reply::status).collect()),
        Reply::Int(first as i64),
        Reply::Int(last as i64),
        Reply::Int(step as i64),
        Reply::Set(spec.acl_categories().into_iter().map(|c| Reply::Status(c.into())).collect()),
        Reply::Array(vec![]),
        key_specs(spec),
        Reply::Array(spec.subcommands.iter().map(|s| info_entry(s, &format!("{}|{}", fullname, s.name))).collect()),
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
        ctx.server.commands.all().map(|(name, spec)| info_entry(spec, &String::from_utf8_lossy(name))).collect(),
    )
}

fn command_info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return command_info_all(ctx, &args[..1]);
    }
    Reply::Array(
        args[2..]
            .iter()
            .map(|n| lookup_fullname(ctx, n).map(|(s, full)| info_entry(s, &full)).unwrap_or(Reply::NilArray))
            .collect(),
    )
}

/// Finds `name` or `container|sub`.
fn lookup_fullname(ctx: &Ctx, name: &[u8]) -> Option<(&'static CommandSpec, String)> {
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.splitn(2, |c| *c == b'|');
    let top = ctx.server.commands.get(parts.next()?)?;
    match parts.next() {
        None => Some((top, String::from_utf8_lossy(&lower).into_owned())),
        Some(sub) => {
            let s = top.subcommands.iter().find(|s| s.name.as_bytes() == sub)?;
            Some((s, String::from_utf8_lossy(&lower).into_owned()))
        }
    }
}

fn doc_entry(spec: &CommandSpec) -> Reply {
    let mut fields = vec![
        (Reply::bulk("summary"), Reply::bulk(spec.summary)),
        (Reply::bulk("since"), Reply::bulk(spec.since)),
        (Reply::bulk("group"), Reply::bulk(spec.group)),
    ];
    if !spec.complexity.is_empty() {
        fields.push((Reply::bulk("complexity"), Reply::bulk(spec.complexity)));
    }
    if !spec.subcommands.is_empty() {
        let subs =
            spec.subcommands.iter().map(|s| (Reply::bulk(format!("{}|{}", spec.name, s.name)), doc_entry(s))).collect();
        fields.push((Reply::bulk("subcommands"), Reply::Map(subs)));
    }
    Reply::Map(fields)
}

fn command_docs(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return Reply::Map(
            ctx.server.commands.all().map(|(name, spec)| (Reply::bulk(name), doc_entry(spec))).collect(),
        );
    }
    Reply::Map(
        args[2..]
            .iter()
            .filter_map(|n| lookup_fullname(ctx, n).map(|(s, full)| (Reply::bulk(full), doc_entry(s))))
            .collect(),
    )
}

fn command_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let filter = match args.len() {
        2 => None,
        5 if args[2].eq_ignore_ascii_case(b"filterby") => Some((args[3].to_ascii_lowercase(), args[4].clone())),
        _ => return Reply::error(errors::SYNTAX),
    };
    let mut names = Vec::new();
    for (name, spec) in ctx.server.commands.all() {
        let mut entries = vec![(String::from_utf8_lossy(name).into_owned(), *spec)];
        for s in spec.subcommands {
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
                    b"module" => false,
                    _ => return Reply::error(errors::SYNTAX),
                },
            };
            if keep {
                names.push(Reply::bulk(full));
            }
        }
    }
    Reply::Array(names)
}

fn command_getkeys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let cmd_args = &args[2..];
    let (spec, _) = match super::resolve(ctx.server, cmd_args) {
        Ok(r) => r,
        Err(_) => return Reply::error("ERR Invalid command specified"),
    };
    if !super::arity_ok(spec, cmd_args.len()) {
        return Reply::error("ERR Invalid number of arguments specified for command");
    }
    let keys = spec.key_positions(cmd_args);
    if keys.is_empty() {
        return Reply::error("ERR The command has no key arguments");
    }
    Reply::Array(keys.into_iter().map(|i| Reply::bulk(&cmd_args[i])).collect())
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
