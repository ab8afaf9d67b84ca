//! Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO.

use bytes::Bytes;

use super::{errors, Ctx, ReplyMode};
use crate::cmd;
use crate::protocol::Reply;
use crate::server::command::*;

pub static TABLE: &[CommandSpec] = &[
    cmd!("ping", -1, FAST | SENTINEL, (0, 0, 0), "connection", "1.0.0", "Ping the server", "O(1)", ping),
    cmd!("echo", 2, LOADING | STALE | FAST, (0, 0, 0), "connection", "1.0.0", "Echo the given string", "O(1)", echo),
    cmd!(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Close the connection",
        "O(1)",
        quit
    ),
    cmd!(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Reset the connection",
        "O(1)",
        reset
    ),
    cmd!(
        "select",
        2,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Change the selected database for the current connection",
        "O(1)",
        select
    ),
    cmd!(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Authenticate to the server",
        "O(N) where N is the number of passwords defined for the user",
        auth
    ),
    cmd!(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Handshake with Redis",
        "O(1)",
        hello
    ),
];

fn ping(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 2 {
        return Reply::error("ERR wrong number of arguments for 'ping' command");
    }
    if ctx.session.in_pubsub_context() {
        let msg = args.get(1).map(|a| a.to_vec()).unwrap_or_default();
        return Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(msg)]);
    }
    match args.get(1) {
        Some(m) => Reply::bulk(m),
        None => Reply::status("PONG"),
    }
}

fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    Reply::bulk(&args[1])
}

fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    // Like any reply, QUIT's +OK is not sent while CLIENT REPLY is OFF or SKIP.
    ctx.session.close_after_reply = true;
    Reply::OK
}

fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::transactions::discard_transaction(ctx);
    super::unwatch_all(ctx.state, ctx.session);
    crate::server::pubsub::unsubscribe_all(ctx.state, ctx.session.id);
    ctx.session.subs = 0;
    ctx.session.psubs = 0;
    ctx.session.ssubs = 0;
    ctx.state.monitors.retain(|m| *m != ctx.session.id);
    ctx.session.monitor = false;
    crate::server::tracking::disable(ctx.state, ctx.session.id);
    ctx.session.tracking = false;
    ctx.session.db = 0;
    ctx.session.resp = 2;
    // CLIENT REPLY OFF and a SKIP still to come end; a SKIP that applies to this very RESET
    // (SkipThis) still skips its reply, as Redis clears REPLY_SKIP_NEXT, not REPLY_SKIP.
    if ctx.session.reply_mode != ReplyMode::SkipThis {
        ctx.session.reply_mode = ReplyMode::On;
    }
    // Back to the default user, authenticated only if it needs no password (Redis's
    // clearClientConnectionState).
    ctx.session.authenticated = !ctx.state.acl.auth_required();
    ctx.session.user = "default".into();
    // CLIENT NO-EVICT is kept: clearClientConnectionState leaves that flag alone.
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.name = None;
        ci.db = 0;
        ci.resp = 2;
        ci.no_touch = false;
        ci.subs = 0;
        ci.psubs = 0;
        ci.ssubs = 0;
        ci.kind = crate::server::state::ClientKind::Normal;
        ci.user = "default".into();
    }
    Reply::status("RESET")
}

fn select(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let n = tri!(db_number(&args[1]));
    if n < 0 || n as usize >= ctx.state.dbs.len() {
        return Reply::error(errors::DB_INDEX);
    }
    ctx.session.db = n as usize;
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.db = n as usize;
    }
    Reply::OK
}

/// A database number as Redis's getIntFromObjectOrReply reads it: an integer that fits in 32 bits.
pub(crate) fn db_number(arg: &[u8]) -> Result<i64, Reply> {
    let n = super::int_arg(arg)?;
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(Reply::error("ERR value is out of range, value must between -2147483648 and 2147483647"));
    }
    Ok(n)
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// ACLAuthenticateUser: on success the connection is authenticated as the user; a failure is
/// logged (reason auth, the command as typed).
fn authenticate(ctx: &mut Ctx, user: &[u8], pass: &[u8], command: &[u8]) -> bool {
    if !ctx.state.acl.check_credentials(user, pass) {
        super::acl::log_auth_failure(ctx, user, command);
        return false;
    }
    ctx.session.authenticated = true;
    let name = String::from_utf8_lossy(user).into_owned();
    if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
        ci.user.clone_from(&name);
    }
    ctx.session.user = name;
    true
}

fn auth(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return Reply::error(errors::SYNTAX);
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 { (b"default", &args[1]) } else { (&args[1], &args[2]) };
    if args.len() == 2 && ctx.state.acl.user(b"default").is_some_and(|u| u.nopass) {
        return Reply::error(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
    }
    if authenticate(ctx, user, pass, &args[0]) {
        Reply::OK
    } else {
        Reply::error(WRONGPASS)
    }
}

fn hello(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut ver = None;
    let mut i = 1;
    if args.len() >= 2 {
        let v = match crate::util::numbers::parse_i64(&args[1]) {
            Some(v) => v,
            None => return Reply::error("ERR Protocol version is not an integer or out of range"),
        };
        if !(2..=3).contains(&v) {
            return Reply::error("NOPROTO unsupported protocol version");
        }
        ver = Some(v as u8);
        i = 2;
    }
    // All options are parsed (and a SETNAME validated) before the credentials are checked.
    let mut setname = None;
    let mut creds = None;
    while i < args.len() {
        let opt = args[i].to_ascii_lowercase();
        let more = args.len() - i - 1;
        if opt == b"auth" && more >= 2 {
            creds = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if opt == b"setname" && more >= 1 {
            if let Err(e) = super::client::validate_name(&args[i + 1]) {
                return e;
            }
            setname = Some(Bytes::copy_from_slice(&args[i + 1]));
            i += 2;
        } else {
            return Reply::error(format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(&args[i])));
        }
    }
    if let Some((user, pass)) = creds {
        if !authenticate(ctx, user, pass, &args[0]) {
            return Reply::error(WRONGPASS);
        }
    }
    if !ctx.session.authenticated {
        return Reply::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(name) = setname {
        if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
            ci.name = (!name.is_empty()).then_some(name);
        }
    }
    if let Some(v) = ver {
        ctx.session.resp = v;
        if let Some(ci) = ctx.state.clients.get_mut(&ctx.session.id) {
            ci.resp = v;
        }
    }
    let mut fields = vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (Reply::bulk("version"), Reply::bulk(crate::REDIS_VERSION)),
        (Reply::bulk("proto"), Reply::Int(ctx.session.resp as i64)),
        (Reply::bulk("id"), Reply::Int(ctx.session.id as i64)),
    ];
    if ctx.server.sentinel_mode {
        // A sentinel has no role field.
        fields.push((Reply::bulk("mode"), Reply::bulk("sentinel")));
    } else {
        fields.push((Reply::bulk("mode"), Reply::bulk("standalone")));
        fields.push((Reply::bulk("role"), Reply::bulk(if ctx.state.repl.is_replica() { "replica" } else { "master" })));
    }
    fields.push((Reply::bulk("modules"), Reply::Array(vec![])));
    Reply::Map(fields)
}
