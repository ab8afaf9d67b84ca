//! CLIENT: ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE, UNPAUSE, REPLY, NO-EVICT, UNBLOCK, TRACKING,
//! GETREDIR, TRACKINGINFO, CACHING, HELP (the subcommands of Redis 7.0; NO-TOUCH is 7.2).

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::{errors, Ctx, ReplyMode};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::state::{ClientInfo, ClientKind, Pause};
use crate::server::tracking::{self, ClientTracking};
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] =
    &[container!("client", "connection", "2.4.0", "A container for client connection commands", SUBS)];

static SUBS: &[CommandSpec] = &[
    subcmd!(
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "5.0.0",
        "Returns the client ID for the current connection",
        "O(1)",
        id
    ),
    subcmd!(
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.6.9",
        "Set the current connection name",
        "O(1)",
        setname
    ),
    subcmd!(
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.6.9",
        "Get the current connection name",
        "O(1)",
        getname
    ),
    subcmd!(
        "list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.4.0",
        "Get the list of client connections",
        "O(N) where N is the number of client connections",
        list
    ),
    subcmd!(
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Returns information about the current client connection.",
        "O(1)",
        info
    ),
    subcmd!(
        "kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.4.0",
        "Kill the connection of a client",
        "O(N) where N is the number of client connections",
        kill
    ),
    subcmd!(
        "pause",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.9.50",
        "Stop processing commands from clients for some time",
        "O(1)",
        pause
    ),
    subcmd!(
        "unpause",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Resume processing of clients that were paused",
        "O(N) Where N is the number of paused clients",
        unpause
    ),
    subcmd!(
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "3.2.0",
        "Instruct the server whether to reply to commands",
        "O(1)",
        reply
    ),
    subcmd!(
        "no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "7.0.0",
        "Set client eviction mode for the current connection",
        "O(1)",
        no_evict
    ),
    // NO-TOUCH arrived in Redis 7.2; this project carries it because admins ask for it.
    subcmd!(
        "no-touch",
        3,
        NOSCRIPT | LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        "O(1)",
        no_touch
    ),
    subcmd!(
        "tracking",
        -3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Enable or disable server assisted client side caching support",
        "O(1). Some options may introduce additional complexity.",
        tracking
    ),
    subcmd!(
        "getredir",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Get tracking notifications redirection client ID if any",
        "O(1)",
        getredir
    ),
    subcmd!(
        "trackinginfo",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Return information about server assisted client side caching for the current connection",
        "O(1)",
        trackinginfo
    ),
    subcmd!(
        "caching",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Instruct the server about tracking or not keys in the next request",
        "O(1)",
        caching
    ),
    subcmd!(
        "unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "5.0.0",
        "Unblock a client blocked in a blocking command from a different connection",
        "O(log N) where N is the number of client connections",
        unblock
    ),
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "connection",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        help
    ),
];

fn id(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.session.id as i64)
}

/// Redis allows printable ASCII without spaces in client names.
pub fn validate_name(name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(Reply::error("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

fn setname(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if let Err(e) = validate_name(&args[2]) {
        return e;
    }
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        // A copy: a slice would keep the read buffer it came in alive as long as the name.
        ci.name = (!args[2].is_empty()).then(|| Bytes::copy_from_slice(&args[2]));
    }
    Reply::OK
}

fn getname(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    match ctx.state.clients.get(&ctx.session.id).and_then(|c| c.name.clone()) {
        Some(n) => Reply::bulk(n),
        None => Reply::Nil,
    }
}

/// What CLIENT LIST shows that ClientInfo does not hold: MONITOR and a broken WATCH.
#[derive(Default)]
struct Extra {
    /// The client that asks, whose current command and read are in its buffers.
    me: Option<Asking>,
    monitors: Vec<u64>,
    dirty_cas: std::collections::HashSet<u64>,
    blocked: std::collections::HashSet<u64>,
}

impl Extra {
    fn of(st: &crate::server::state::State) -> Extra {
        let mut dirty_cas = std::collections::HashSet::new();
        for db in &st.dbs {
            for w in db.watched.values().flatten() {
                if w.dirty.load(Ordering::Relaxed) {
                    dirty_cas.insert(w.client);
                }
            }
        }
        let blocked =
            st.clients.keys().copied().filter(|id| st.blocking.is_parked(*id) || st.postponed.contains(*id)).collect();
        Extra { me: None, monitors: st.monitors.clone(), dirty_cas, blocked }
    }

    fn asked_by(mut self, session: &crate::server::session::Session, args: &[Bytes]) -> Extra {
        // Redis's argv_len_sum; the argument handles count in tot-mem (their size is ours).
        let argv = if session.in_exec { session.exec_argv_len } else { args.iter().map(|a| a.len()).sum() };
        let handles = std::mem::size_of_val(args);
        let (qbuf, qbuf_free, qbuf_alloc) = session.query_buffer;
        self.me = Some(Asking { id: session.id, qbuf, qbuf_free, qbuf_alloc, argv, handles });
        self
    }
}

/// The asking client's query buffer (length, room, block) and its command's argument bytes.
struct Asking {
    id: u64,
    qbuf: usize,
    qbuf_free: usize,
    qbuf_alloc: usize,
    argv: usize,
    handles: usize,
}

/// The flags field, in Redis's order (getClientInfoString).
fn flags(c: &ClientInfo, extra: &Extra) -> String {
    let mut f = String::new();
    if extra.monitors.contains(&c.id) {
        f.push('O');
    }
    match c.kind {
        ClientKind::Replica => f.push('S'),
        ClientKind::Master => f.push('M'),
        _ => {}
    }
    if c.subscriptions() > 0 {
        f.push('P');
    }
    if c.multi >= 0 {
        f.push('x');
    }
    if extra.blocked.contains(&c.id) {
        f.push('b');
    }
    if let Some(t) = &c.tracking {
        f.push('t');
        if t.broken_redirect {
            f.push('R');
        }
        if t.bcast {
            f.push('B');
        }
    }
    if extra.dirty_cas.contains(&c.id) {
        f.push('d');
    }
    if c.signals.is_killed() {
        f.push('A');
    }
    if c.is_unix {
        f.push('U');
    }
    if c.no_evict {
        f.push('e');
    }
    if c.no_touch {
        f.push('T');
    }
    if f.is_empty() {
        f.push('N');
    }
    f
}

/// One CLIENT LIST line, with Redis 7.0's fields in its order.
fn describe(c: &ClientInfo, now_ms: u64, extra: &Extra) -> String {
    let (qbuf, qbuf_free, argv, tot_mem) = match &extra.me {
        Some(me) if me.id == c.id => {
            (me.qbuf, me.qbuf_free, me.argv, c.memory_with(me.argv + me.handles, me.qbuf_alloc))
        }
        _ => (c.qbuf, c.qbuf_free, c.argv_pending, c.memory(c.argv_pending_mem)),
    };
    // Replies not yet taken: the reply buffer's part (obl), the rest as Redis's reply list.
    let pending = c.output_pending();
    let obl = c.unwritten.load(Ordering::Relaxed).min(c.rbs);
    let omem = pending - obl;
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        c.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default(),
        now_ms.saturating_sub(c.created_ms) / 1000,
        now_ms.saturating_sub(c.last_interaction_ms) / 1000,
        flags(c, extra),
        c.db,
        c.subs,
        c.psubs,
        c.ssubs,
        c.multi,
        qbuf,
        qbuf_free,
        argv,
        c.multi_mem,
        c.rbs,
        c.rbp,
        obl,
        usize::from(omem > 0),
        omem,
        tot_mem,
        if c.last_cmd.is_empty() { "NULL" } else { &c.last_cmd },
        c.user,
        c.tracking.as_ref().map_or(-1, |t| t.redirect as i64),
        c.resp,
    )
}

/// Client `id`'s CLIENT LIST line (catClientInfoString), for log lines about it.
pub fn info_string(st: &crate::server::state::State, id: u64, now_ms: u64) -> Option<String> {
    st.clients.get(&id).map(|c| describe(c, now_ms, &Extra::of(st)))
}

/// A client's CLIENT LIST line without what only the whole state tells (MONITOR, a broken
/// WATCH, blocked), where the state is not at hand (a PUBLISH's receivers).
pub fn info_line(c: &ClientInfo, now_ms: u64) -> String {
    describe(c, now_ms, &Extra::default())
}

fn list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let now = ctx.now_ms;
    let mut ids: Option<Vec<u64>> = None;
    let mut kind: Option<ClientKind> = None;
    if args.len() > 2 {
        let opt = args[2].to_ascii_lowercase();
        if opt == b"type" && args.len() == 4 {
            match parse_kind(&args[3]) {
                Some(k) => kind = Some(k),
                None => {
                    return Reply::error(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(&args[3])))
                }
            }
        } else if opt == b"id" && args.len() >= 4 {
            let mut v = Vec::new();
            for a in &args[3..] {
                // Any integer is accepted; ids that match no client (0, negative) list nothing.
                match crate::util::numbers::parse_i64(a) {
                    Some(n) => v.push(n as u64),
                    None => return Reply::error("ERR Invalid client ID"),
                }
            }
            ids = Some(v);
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    let extra = Extra::of(ctx.state).asked_by(ctx.session, args);
    let mut clients: Vec<&ClientInfo> = ctx.state.clients.values().collect();
    clients.sort_by_key(|c| c.id);
    let mut out = String::new();
    for c in clients {
        if ids.as_ref().is_some_and(|v| !v.contains(&c.id)) || kind.is_some_and(|k| c.kind != k) {
            continue;
        }
        out.push_str(&describe(c, now, &extra));
        out.push('\n');
    }
    Reply::Verbatim("txt", out.into_bytes())
}

fn info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let extra = Extra::of(ctx.state).asked_by(ctx.session, args);
    match ctx.state.clients.get(&ctx.session.id) {
        Some(c) => Reply::Verbatim("txt", format!("{}\n", describe(c, ctx.now_ms, &extra)).into_bytes()),
        None => Reply::Nil,
    }
}

fn parse_kind(b: &[u8]) -> Option<ClientKind> {
    match b.to_ascii_lowercase().as_slice() {
        b"normal" => Some(ClientKind::Normal),
        b"slave" | b"replica" => Some(ClientKind::Replica),
        b"pubsub" => Some(ClientKind::Pubsub),
        b"master" => Some(ClientKind::Master),
        _ => None,
    }
}

#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<Vec<u8>>,
    laddr: Option<Vec<u8>>,
    kind: Option<ClientKind>,
    user: Option<Vec<u8>>,
    skipme: bool,
}

fn kill(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // Old form: CLIENT KILL ip:port, answers OK or an error.
    if args.len() == 3 {
        let target = &args[2];
        let found = ctx.state.clients.values().find(|c| c.addr.as_bytes() == target.as_ref()).map(|c| c.id);
        return match found {
            Some(id) => {
                kill_one(ctx, id);
                Reply::OK
            }
            None => Reply::error("ERR No such client"),
        };
    }
    let mut f = KillFilter { skipme: true, ..Default::default() };
    let mut i = 2;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Reply::error(errors::SYNTAX);
        }
        let v = &args[i + 1];
        match args[i].to_ascii_lowercase().as_slice() {
            b"id" => match crate::util::numbers::parse_i64(v) {
                Some(n) if n > 0 => f.id = Some(n as u64),
                _ => return Reply::error("ERR client-id should be greater than 0"),
            },
            b"type" => match parse_kind(v) {
                Some(k) => f.kind = Some(k),
                None => return Reply::error(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(v))),
            },
            b"addr" => f.addr = Some(v.to_vec()),
            b"laddr" => f.laddr = Some(v.to_vec()),
            b"user" => {
                // `default` is the only ACL user.
                if v.as_ref() != b"default" {
                    return Reply::error(format!("ERR No such user '{}'", String::from_utf8_lossy(v)));
                }
                f.user = Some(v.to_vec())
            }
            b"skipme" => match v.to_ascii_lowercase().as_slice() {
                b"yes" => f.skipme = true,
                b"no" => f.skipme = false,
                _ => return Reply::error(errors::SYNTAX),
            },
            _ => return Reply::error(errors::SYNTAX),
        }
        i += 2;
    }
    let me = ctx.session.id;
    let victims: Vec<u64> = ctx
        .state
        .clients
        .values()
        .filter(|c| f.id.is_none_or(|id| c.id == id))
        .filter(|c| f.addr.as_ref().is_none_or(|a| c.addr.as_bytes() == a.as_slice()))
        .filter(|c| f.laddr.as_ref().is_none_or(|a| c.laddr.as_bytes() == a.as_slice()))
        .filter(|c| f.kind.is_none_or(|k| c.kind == k))
        .filter(|c| f.user.as_ref().is_none_or(|u| c.user.as_bytes() == u.as_slice()))
        .filter(|c| !(f.skipme && c.id == me))
        .map(|c| c.id)
        .collect();
    for id in &victims {
        kill_one(ctx, *id);
    }
    Reply::Int(victims.len() as i64)
}

pub(super) fn kill_one(ctx: &mut Ctx, id: u64) {
    if id == ctx.session.id {
        ctx.session.close_after_reply = true;
        return;
    }
    // Like Redis's freeClient(): the victim is gone from CLIENT LIST, PUBSUB and MONITOR as soon as
    // CLIENT KILL returns; its task closes the socket and finishes the cleanup.
    crate::server::client_eviction::free(ctx.state, id);
}

/// `CLIENT <sub> ...` with a bad argument count that the table's arity let through.
fn subcommand_syntax_error(args: &[Bytes]) -> Reply {
    Reply::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
        String::from_utf8_lossy(&args[1])
    ))
}

fn pause(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        return subcommand_syntax_error(args);
    }
    // The mode is checked before the timeout, as in Redis.
    let all = match args.get(3).map(|a| a.to_ascii_lowercase()) {
        None => true,
        Some(m) if m == b"all" => true,
        Some(m) if m == b"write" => false,
        _ => return Reply::error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    let Some(ms) = crate::util::numbers::parse_i64(&args[2]) else {
        return Reply::error("ERR timeout is not an integer or out of range");
    };
    if ms < 0 {
        return Reply::error("ERR timeout is negative");
    }
    let until = ctx.now_ms.saturating_add(ms as u64);
    // A new pause extends, never shortens, and ALL wins over WRITE, as in Redis.
    let p = match ctx.state.pause {
        Some(old) if old.until_ms > until => Pause { until_ms: old.until_ms, all: old.all || all },
        Some(old) => Pause { until_ms: until, all: old.all || all },
        None => Pause { until_ms: until, all },
    };
    ctx.state.pause = Some(p);
    Reply::OK
}

fn unpause(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    crate::server::postpone::end_pause(ctx.state);
    Reply::OK
}

fn reply(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args[2].to_ascii_lowercase().as_slice() {
        b"on" => {
            ctx.session.reply_mode = ReplyMode::On;
            Reply::OK
        }
        b"off" => {
            ctx.session.reply_mode = ReplyMode::Off;
            Reply::NoReply
        }
        b"skip" => {
            // Like Redis's CLIENT_REPLY_SKIP_NEXT: also when this command's own reply is being skipped
            // (SkipThis), so that SKIP SKIP x y skips x; ignored while replies are OFF.
            if ctx.session.reply_mode != ReplyMode::Off {
                ctx.session.reply_mode = ReplyMode::Skip;
            }
            Reply::NoReply
        }
        _ => Reply::error(errors::SYNTAX),
    }
}

fn on_off(b: &[u8]) -> Option<bool> {
    match b.to_ascii_lowercase().as_slice() {
        b"on" => Some(true),
        b"off" => Some(false),
        _ => None,
    }
}

fn no_evict(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(v) = on_off(&args[2]) else { return Reply::error(errors::SYNTAX) };
    let id = ctx.session.id;
    let Some(ci) = ctx.state.clients.get_mut(&id) else { return Reply::OK };
    ci.no_evict = v;
    // Off: back in its bucket with what it uses now; on: out of it (updateClientMemUsageAndBucket).
    let mem = ci.memory_with(0, ctx.session.query_buffer.2);
    crate::server::client_eviction::update(ctx.state, id, mem);
    Reply::OK
}

fn no_touch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(v) = on_off(&args[2]) else { return Reply::error(errors::SYNTAX) };
    ctx.session.no_touch = v;
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.no_touch = v;
    }
    Reply::OK
}

/// This client's tracking options, if tracking is on.
fn my_tracking<'a>(ctx: &'a Ctx) -> Option<&'a ClientTracking> {
    ctx.state.clients.get(&ctx.session.id).and_then(|c| c.tracking.as_deref())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with
/// Redis's checks in its order: the options are parsed (and REDIRECT's client looked up) for OFF
/// too; the mode checks are ON's.
fn tracking(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut redirect: i64 = 0;
    let mut opts = ClientTracking::default();
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = args[j].to_ascii_lowercase();
        match opt.as_slice() {
            b"redirect" if more => {
                j += 1;
                if redirect != 0 {
                    return Reply::error("ERR A client can only redirect to a single other client");
                }
                redirect = tri!(super::int_arg(&args[j]));
                if redirect <= 0 || !ctx.state.clients.contains_key(&(redirect as u64)) {
                    return Reply::error("ERR The client ID you want redirect to does not exist");
                }
            }
            b"bcast" => opts.bcast = true,
            b"optin" => opts.optin = true,
            b"optout" => opts.optout = true,
            b"noloop" => opts.noloop = true,
            b"prefix" if more => {
                j += 1;
                prefixes.push(args[j].clone());
            }
            _ => return Reply::error(errors::SYNTAX),
        }
        j += 1;
    }
    match args[2].to_ascii_lowercase().as_slice() {
        b"on" => {
            if !opts.bcast && !prefixes.is_empty() {
                return Reply::error("ERR PREFIX option requires BCAST mode to be enabled");
            }
            let current = my_tracking(ctx).cloned();
            if let Some(cur) = &current {
                if cur.bcast != opts.bcast {
                    return Reply::error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
                }
            }
            if opts.bcast && (opts.optin || opts.optout) {
                return Reply::error("ERR OPTIN and OPTOUT are not compatible with BCAST");
            }
            if opts.optin && opts.optout {
                return Reply::error("ERR You can't specify both OPTIN mode and OPTOUT mode");
            }
            if let Some(cur) = &current {
                if (opts.optin && cur.optout) || (opts.optout && cur.optin) {
                    return Reply::error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
                }
            }
            if opts.bcast {
                let existing = current.map(|c| c.prefixes).unwrap_or_default();
                if let Some(e) = tracking::prefix_collision(&existing, &prefixes) {
                    return Reply::error(e);
                }
            }
            tracking::enable(ctx.state, ctx.session.id, redirect as u64, opts, &prefixes);
            ctx.session.tracking = true;
        }
        b"off" => {
            tracking::disable(ctx.state, ctx.session.id);
            ctx.session.tracking = false;
        }
        _ => return Reply::error(errors::SYNTAX),
    }
    Reply::OK
}

fn getredir(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(my_tracking(ctx).map_or(-1, |t| t.redirect as i64))
}

fn trackinginfo(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let t = my_tracking(ctx);
    let mut flags = vec![Reply::bulk(if t.is_some() { "on" } else { "off" })];
    if let Some(t) = t {
        let named = [
            (t.bcast, "bcast"),
            (t.optin, "optin"),
            (t.optin && t.caching, "caching-yes"),
            (t.optout, "optout"),
            (t.optout && t.caching, "caching-no"),
            (t.noloop, "noloop"),
            (t.broken_redirect, "broken_redirect"),
        ];
        flags.extend(named.iter().filter(|(on, _)| *on).map(|(_, name)| Reply::bulk(*name)));
    }
    let prefixes = t.map(|t| t.prefixes.iter().map(Reply::bulk).collect()).unwrap_or_default();
    Reply::Map(vec![
        (Reply::bulk("flags"), Reply::Set(flags)),
        (Reply::bulk("redirect"), Reply::Int(t.map_or(-1, |t| t.redirect as i64))),
        (Reply::bulk("prefixes"), Reply::Array(prefixes)),
    ])
}

fn caching(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let id = ctx.session.id;
    let Some(t) = ctx.state.clients.get_mut(&id).and_then(|c| c.tracking.as_deref_mut()) else {
        return Reply::error(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        );
    };
    match args[2].to_ascii_lowercase().as_slice() {
        b"yes" if t.optin => t.caching = true,
        b"yes" => return Reply::error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."),
        b"no" if t.optout => t.caching = true,
        b"no" => return Reply::error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."),
        _ => return Reply::error(errors::SYNTAX),
    }
    Reply::OK
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends a blocking command's wait as if it timed out, or with
/// an error.
fn unblock(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        return subcommand_syntax_error(args);
    }
    let mut error = None;
    if let Some(reason) = args.get(3) {
        if reason.eq_ignore_ascii_case(b"error") {
            error = Some(Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
        } else if !reason.eq_ignore_ascii_case(b"timeout") {
            return Reply::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        }
    }
    let id = tri!(super::int_arg(&args[2]));
    let Ok(id) = u64::try_from(id) else { return Reply::Int(0) };
    Reply::Int(crate::server::blocking::end_wait(ctx.server, ctx.state, id, error) as i64)
}

fn help(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let lines: &[&str] = &[
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
    ];
    // A Sentinel has no NO-TOUCH (see serves_subcommand): its help is redis-sentinel 7.0's.
    let shown = if ctx.server.sentinel_mode { &lines[..lines.len() - 2] } else { lines };
    super::help_reply("CLIENT", shown)
}
