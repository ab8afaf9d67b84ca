//! SLOWLOG: recording slow commands (with Redis's redaction of credentials) and the SLOWLOG
//! subcommands. Table rows, replies and error texts follow Redis 7.0.15.

use bytes::Bytes;

use super::{subcommand_syntax_error, Ctx};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::state::SlowlogEntry;
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] =
    &[container!("slowlog", "server", "2.2.12", "A container for slow log commands", SLOWLOG_SUBS)];

static SLOWLOG_SUBS: &[CommandSpec] = &[
    subcmd!(
        "get",
        -2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Get the slow log's entries",
        "O(N) where N is the number of entries returned",
        slowlog_get
    ),
    subcmd!(
        "len",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Get the slow log's length",
        "O(1)",
        slowlog_len
    ),
    subcmd!(
        "reset",
        2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "Clear all entries from the slow log",
        "O(N) where N is the number of entries in the slowlog",
        slowlog_reset
    ),
    subcmd!(
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

/// The positions of `args` that Redis replaces by "(redacted)" in SLOWLOG and MONITOR: AUTH's
/// credentials, HELLO's AUTH credentials and the values of sensitive directives in CONFIG SET,
/// exactly when the command itself would redact them (after its own argument checks).
pub fn redacted_positions(args: &[Bytes]) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(name) = args.first() else { return out };
    if name.eq_ignore_ascii_case(b"migrate") {
        return super::migrate::redacted_positions(args);
    }
    if name.eq_ignore_ascii_case(b"auth") {
        if args.len() == 2 || args.len() == 3 {
            out.extend(1..args.len());
        }
    } else if name.eq_ignore_ascii_case(b"hello") {
        if args.len() >= 2 && !matches!(crate::util::numbers::parse_i64(&args[1]), Some(2..=3)) {
            return out;
        }
        let mut j = 2;
        while j < args.len() {
            let more = args.len() - 1 - j;
            if args[j].eq_ignore_ascii_case(b"auth") && more >= 2 {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else if args[j].eq_ignore_ascii_case(b"setname") && more >= 1 {
                j += 2;
            } else {
                break;
            }
        }
    } else if name.eq_ignore_ascii_case(b"config")
        && args.len() >= 4
        && args.len() % 2 == 0
        && args[1].eq_ignore_ascii_case(b"set")
    {
        // configSetCommand redacts every sensitive value it is given, past an unknown name too.
        for pair in args[2..].chunks(2).enumerate() {
            let (i, kv) = pair;
            let Some((_, spec)) = crate::config::table::lookup(&String::from_utf8_lossy(&kv[0])) else {
                continue;
            };
            if spec.has(crate::config::table::SENSITIVE) {
                out.push(3 + 2 * i);
            }
        }
    }
    out
}

pub fn slowlog_push(ctx: &mut Ctx, args: &[Bytes], usec: u64) {
    let max_len = ctx.state.hot.slowlog_max_len;
    let redacted = redacted_positions(args);
    // Like Redis: at most 32 arguments and 128 bytes per argument are kept.
    let mut kept: Vec<Bytes> = Vec::with_capacity(args.len().min(32));
    for (i, a) in args.iter().enumerate() {
        if i == 31 && args.len() > 32 {
            kept.push(Bytes::from(format!("... ({} more arguments)", args.len() - 31)));
            break;
        }
        if redacted.contains(&i) {
            kept.push(Bytes::from_static(b"(redacted)"));
        } else if a.len() > 128 {
            let mut v = a[..128].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
            kept.push(Bytes::from(v));
        } else {
            // A copy: a slice would keep the client's whole read buffer alive with the entry.
            kept.push(Bytes::copy_from_slice(a));
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
        return subcommand_syntax_error(args);
    }
    let count = match args.get(2) {
        Some(a) => match crate::util::numbers::parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
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
