//! ACL: the ACL command and the glue between the ACL model (crate::acl) and dispatch: the
//! permission check of a command line (its keys from the key specs, its channels), the -NOPERM
//! replies and ACL LOG entries, and the disconnection of clients whose user went away.

use bytes::Bytes;

use super::{errors, keyspecs, Ctx};
use crate::acl::{Denied, LogContext, LogEntry, LogReason, Request, User};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::state::State;
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] =
    &[container!("acl", "server", "6.0.0", "A container for Access List Control commands ", SUBS)];

const MANAGE: u32 = ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL;

static SUBS: &[CommandSpec] = &[
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
        "deluser",
        -3,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Remove the specified ACL users and the associated rules",
        "O(1) amortized time considering the typical user.",
        deluser
    ),
    subcmd!(
        "dryrun",
        -4,
        MANAGE,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Returns whether the user can execute the given command without executing the command.",
        "O(1).",
        dryrun
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
        "getuser",
        3,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Get the rules for a specific ACL user",
        "O(N). Where N is the number of password, command and pattern rules that the user has.",
        getuser
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
    subcmd!(
        "list",
        2,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List the current ACL rules in ACL config file format",
        "O(N). Where N is the number of configured users.",
        list
    ),
    subcmd!(
        "load",
        2,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Reload the ACLs from the configured ACL file",
        "O(N). Where N is the number of configured users.",
        load
    ),
    subcmd!(
        "log",
        -2,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List latest events denied because of ACLs in place",
        "O(N) with N being the number of entries shown.",
        log
    ),
    subcmd!(
        "save",
        2,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Save the current ACL rules in the configured ACL file",
        "O(N). Where N is the number of configured users.",
        save
    ),
    subcmd!(
        "setuser",
        -3,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Modify or create the rules for a specific ACL user",
        "O(N). Where N is the number of rules provided.",
        setuser
    ),
    subcmd!(
        "users",
        2,
        MANAGE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List the username of all the configured ACL rules",
        "O(N). Where N is the number of configured users.",
        users
    ),
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
];

// ---- The permission check ----

/// The channels a command line names, for the ACL check (getChannelsFromCommand): the
/// subscriptions of (S|P)SUBSCRIBE (PSUBSCRIBE's patterns matched literally) and the channel of
/// PUBLISH and SPUBLISH. Unsubscribing is never checked.
fn channels_of(spec: &CommandSpec, name: CmdName, args: &[Bytes]) -> Vec<(usize, bool)> {
    match spec.id {
        CmdId::Subscribe | CmdId::SSubscribe => (1..args.len()).map(|i| (i, false)).collect(),
        CmdId::PSubscribe => (1..args.len()).map(|i| (i, true)).collect(),
        _ if name.parent.is_none() && spec.has(PUBSUB) && matches!(spec.name, "publish" | "spublish") => {
            vec![(1, false)]
        }
        _ => Vec::new(),
    }
}

/// Whether `user` may run this command line (ACLCheckAllUserCommandPerm).
pub(crate) fn check_user(
    st: &State,
    user: &User,
    spec: &'static CommandSpec,
    name: CmdName,
    args: &[Bytes],
) -> Result<(), Denied> {
    if user.unrestricted() {
        return Ok(());
    }
    let fullname = name.to_string();
    let channels = channels_of(spec, name, args);
    let req = Request {
        cmd: st.acl.catalog.id_by_key(spec as *const CommandSpec as usize),
        no_auth: spec.has(NO_AUTH),
        args,
        first_arg_at: if name.parent.is_some() { 2 } else { 1 },
        has_keys: keyspecs::has_keys(spec, &fullname),
        channels: &channels,
    };
    let mut keys = || {
        keyspecs::find(spec, &fullname, args)
            .into_iter()
            .filter(|(i, _)| *i < args.len())
            .map(|(i, flags)| (i, crate::acl::access_of(&flags)))
            .collect()
    };
    user.check(&req, &mut keys)
}

/// The session's user; a user gone (its clients are being closed) checks as the default one.
fn session_user<'a>(st: &'a State, name: &str) -> Option<&'a User> {
    st.acl.user(name.as_bytes()).or_else(|| st.acl.user(b"default"))
}

/// Whether the session's user may run this command line.
pub(crate) fn check(ctx: &Ctx, spec: &'static CommandSpec, name: CmdName, args: &[Bytes]) -> Result<(), Denied> {
    match session_user(ctx.state, &ctx.session.user) {
        Some(u) => check_user(ctx.state, u, spec, name, args),
        None => Ok(()),
    }
}

/// What a refusal logs: its reason, and the command's name or the key or channel refused.
fn logged_object(denied: Denied, name: CmdName, args: &[Bytes]) -> (LogReason, Vec<u8>) {
    match denied {
        Denied::Command => (LogReason::Command, name.to_string().into_bytes()),
        Denied::Key(i) => (LogReason::Key, args[i].to_vec()),
        Denied::Channel(i) => (LogReason::Channel, args[i].to_vec()),
    }
}

/// Records an entry in the ACL log (addACLLogEntry). `client` is the connection whose line is
/// logged (a script's caller for the script's commands).
fn add_log(
    st: &mut State,
    client: u64,
    username: &[u8],
    reason: LogReason,
    context: LogContext,
    object: Vec<u8>,
    now_ms: u64,
) {
    let client_info = super::client_info_string(st, client, now_ms).unwrap_or_default();
    let entry = LogEntry {
        count: 1,
        reason,
        context,
        object,
        username: username.to_vec(),
        ctime_ms: crate::util::time::unix_ms(),
        client_info,
    };
    let max_len = st.config.int(crate::ckey!("acllog-max-len")).max(0) as usize;
    st.acl.log_add(entry, max_len);
}

/// A failed AUTH or HELLO AUTH (reason auth; the object is the command name as typed).
pub(crate) fn log_auth_failure(ctx: &mut Ctx, username: &[u8], command: &[u8]) {
    let context =
        if ctx.session.in_exec || ctx.session.multi.is_some() { LogContext::Multi } else { LogContext::Toplevel };
    let id = ctx.session.id;
    add_log(ctx.state, id, username, LogReason::Auth, context, command.to_vec(), ctx.now_ms);
}

/// processCommand's check: the -NOPERM refusal (logged), or None when allowed.
pub(crate) fn dispatch_check(
    ctx: &mut Ctx,
    spec: &'static CommandSpec,
    name: CmdName,
    args: &[Bytes],
) -> Option<Reply> {
    let generation = ctx.state.acl.generation();
    if ctx.session.acl_unrestricted.as_ref().is_some_and(|(g, user)| *g == generation && *user == ctx.session.user) {
        return None;
    }
    let Err(denied) = check(ctx, spec, name, args) else {
        if session_user(ctx.state, &ctx.session.user).is_some_and(|u| u.unrestricted()) {
            ctx.session.acl_unrestricted = Some((generation, ctx.session.user.clone()));
        }
        return None;
    };
    let context = if ctx.session.multi.is_some() { LogContext::Multi } else { LogContext::Toplevel };
    let user = ctx.session.user.clone();
    let (reason, object) = logged_object(denied, name, args);
    add_log(ctx.state, ctx.session.id, user.as_bytes(), reason, context, object, ctx.now_ms);
    Some(Reply::error(match denied {
        Denied::Command => format!("NOPERM this user has no permissions to run the '{name}' command"),
        Denied::Key(_) => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments".into()
        }
    }))
}

/// EXEC's check of each queued command, in case the rules changed since it was queued.
pub(crate) fn exec_check(ctx: &mut Ctx, spec: &'static CommandSpec, name: CmdName, args: &[Bytes]) -> Option<Reply> {
    let denied = check(ctx, spec, name, args).err()?;
    let user = ctx.session.user.clone();
    let (reason, object) = logged_object(denied, name, args);
    add_log(ctx.state, ctx.session.id, user.as_bytes(), reason, LogContext::Multi, object, ctx.now_ms);
    let reason = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    Some(Reply::error(format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
    )))
}

/// A script's command (scriptVerifyACL): checked as the script's user, logged with the
/// caller's client line, refused with the text the script sees (an ERR in 7.0, not NOPERM).
pub(crate) fn script_check(
    ctx: &mut Ctx,
    script_user: &str,
    caller: u64,
    spec: &'static CommandSpec,
    name: CmdName,
    args: &[Bytes],
) -> Option<Reply> {
    let generation = ctx.state.acl.generation();
    if ctx.session.acl_unrestricted.as_ref().is_some_and(|(g, user)| *g == generation && user == script_user) {
        return None;
    }
    let user = session_user(ctx.state, script_user)?;
    if user.unrestricted() {
        ctx.session.acl_unrestricted = Some((generation, script_user.to_string()));
        return None;
    }
    let denied = check_user(ctx.state, user, spec, name, args).err()?;
    let (reason, object) = logged_object(denied, name, args);
    add_log(ctx.state, caller, script_user.as_bytes(), reason, LogContext::Lua, object, ctx.now_ms);
    Some(Reply::error(format!("ERR The user executing the script {}", denied_message(denied))))
}

/// getAclErrorMessage.
fn denied_message(d: Denied) -> &'static str {
    match d {
        Denied::Command => "can't run this command or subcommand",
        Denied::Key(_) => "can't access at least one of the keys mentioned in the command arguments",
        Denied::Channel(_) => "can't publish to the channel mentioned in the command",
    }
}

// ---- Disconnections ----

/// Closes every client authenticated as `name` (ACLFreeUserAndKillClients); the current one
/// after its reply.
pub(crate) fn kill_clients_of(ctx: &mut Ctx, name: &[u8]) {
    let ids: Vec<u64> = ctx.state.clients.values().filter(|c| c.user.as_bytes() == name).map(|c| c.id).collect();
    for id in ids {
        super::client::kill_one(ctx, id);
    }
    if ctx.session.user.as_bytes() == name {
        ctx.session.close_after_reply = true;
    }
}

/// After ACL SETUSER: the user's pub/sub clients subscribed to what it may no longer use are
/// closed (ACLKillPubsubClientsIfNeeded).
fn kill_pubsub_clients_if_needed(ctx: &mut Ctx, old: &User, new: &User) {
    if new.all_channels() {
        return;
    }
    let upcoming: Vec<Vec<u8>> = new.selectors.iter().flat_map(|s| s.channels.iter().cloned()).collect();
    let still = old.selectors.iter().all(|s| !s.all_channels && s.channels.iter().all(|c| upcoming.contains(c)));
    if still {
        return;
    }
    let matches = |c: &[u8], pattern: bool| {
        upcoming.iter().any(|p| if pattern { p == c } else { crate::util::glob::string_match(p, c, false) })
    };
    let st = &*ctx.state;
    let mut victims = Vec::new();
    for c in st.clients.values() {
        if c.user.as_bytes() != old.name.as_slice() || c.subscriptions() == 0 {
            continue;
        }
        let (chans, pats) = st.pubsub.by_client.get(&c.id).cloned().unwrap_or_default();
        let shard = st.pubsub.shard_by_client.get(&c.id).cloned().unwrap_or_default();
        let kill = pats.iter().any(|p| !matches(p, true))
            || chans.iter().any(|ch| !matches(ch, false))
            || shard.iter().any(|ch| !matches(ch, false));
        if kill {
            victims.push(c.id);
        }
    }
    for id in victims {
        super::client::kill_one(ctx, id);
    }
}

// ---- The subcommands ----

fn setuser(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let name = &args[2];
    if crate::acl::has_spaces(name) {
        return Reply::error("ERR Usernames can't contain spaces or null characters");
    }
    let rules: Vec<&[u8]> = args[3..].iter().map(|a| &a[..]).collect();
    match ctx.state.acl.set_user(name, &rules) {
        Err(e) => Reply::error(format!("ERR {}", e.replace(['\r', '\n'], " "))),
        Ok(old) => {
            if let Some(old) = old {
                if let Some(new) = ctx.state.acl.user(name).cloned() {
                    kill_pubsub_clients_if_needed(ctx, &old, &new);
                }
            }
            Reply::OK
        }
    }
}

fn deluser(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args[2..].iter().any(|n| &n[..] == b"default") {
        return Reply::error("ERR The 'default' user cannot be removed");
    }
    let mut deleted = 0;
    for name in &args[2..] {
        if ctx.state.acl.users_mut().remove(&name[..]).is_some() {
            kill_clients_of(ctx, name);
            deleted += 1;
        }
    }
    Reply::Int(deleted)
}

fn selector_fields(env: crate::acl::Env, s: &crate::acl::Selector) -> Vec<(Reply, Reply)> {
    vec![
        (Reply::bulk("commands"), Reply::bulk(s.describe_commands(env))),
        (Reply::bulk("keys"), Reply::bulk(s.describe_keys())),
        (Reply::bulk("channels"), Reply::bulk(s.describe_channels())),
    ]
}

fn getuser(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let acl = &ctx.state.acl;
    let Some(u) = acl.user(&args[2]) else { return Reply::Nil };
    let env = acl.env();
    let mut fields = vec![
        (Reply::bulk("flags"), Reply::Set(u.flag_names().into_iter().map(Reply::bulk).collect())),
        (Reply::bulk("passwords"), Reply::Array(u.passwords.iter().map(Reply::bulk).collect())),
    ];
    fields.extend(selector_fields(env, &u.selectors[0]));
    let selectors = u.selectors[1..].iter().map(|s| Reply::Map(selector_fields(env, s))).collect();
    fields.push((Reply::bulk("selectors"), Reply::Array(selectors)));
    Reply::Map(fields)
}

/// `user <name> <rules>` lines, as ACL LIST, ACL SAVE and CONFIG REWRITE write them.
pub fn user_lines(st: &State) -> Vec<String> {
    let env = st.acl.env();
    st.acl.users().values().map(|u| format!("user {} {}", String::from_utf8_lossy(&u.name), u.describe(env))).collect()
}

fn list(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Array(user_lines(ctx.state).into_iter().map(Reply::bulk).collect())
}

fn users(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Array(ctx.state.acl.users().keys().map(Reply::bulk).collect())
}

fn whoami(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::bulk(&ctx.session.user)
}

const NO_ACL_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn load(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let file = ctx.state.config.str(crate::ckey!("aclfile")).to_string();
    if file.is_empty() {
        return Reply::error(NO_ACL_FILE);
    }
    match crate::acl::file::load(&ctx.state.acl, &file) {
        Err(e) => Reply::error(format!("ERR {e}")),
        Ok(users) => {
            install_users(ctx, users);
            Reply::OK
        }
    }
}

/// Replaces every user with those loaded (ACL LOAD): clients of users other than `default`
/// are closed, as the old users are freed; the default user keeps its clients.
pub(crate) fn install_users(ctx: &mut Ctx, users: std::collections::BTreeMap<Vec<u8>, User>) {
    let old = std::mem::replace(ctx.state.acl.users_mut(), users);
    for name in old.keys().filter(|n| n.as_slice() != b"default") {
        kill_clients_of(ctx, name);
    }
}

fn save(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let file = ctx.state.config.str(crate::ckey!("aclfile")).to_string();
    if file.is_empty() {
        return Reply::error(NO_ACL_FILE);
    }
    let mut text = String::new();
    for line in user_lines(ctx.state) {
        text.push_str(&line);
        text.push('\n');
    }
    match crate::acl::file::save(&file, text.as_bytes()) {
        Ok(()) => Reply::OK,
        Err(e) => {
            tracing::warn!("{e}");
            Reply::error(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
            )
        }
    }
}

fn cat(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match args.len() {
        2 => Reply::Array(ACL_CATEGORIES.iter().map(Reply::bulk).collect()),
        3 => {
            let Some(bit) = crate::acl::category_bit(&args[2]) else {
                let name: String = String::from_utf8_lossy(&args[2]).chars().take(128).collect();
                return Reply::error(format!("ERR Unknown category '{name}'"));
            };
            let catalog = &ctx.state.acl.catalog;
            let out = catalog.commands.iter().filter(|c| c.categories & bit != 0).map(|c| Reply::bulk(&c.fullname));
            Reply::Array(out.collect())
        }
        _ => super::subcommand_syntax_error(args),
    }
}

fn genpass(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return super::subcommand_syntax_error(args);
    }
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

fn log(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return super::subcommand_syntax_error(args);
    }
    let mut count: i64 = 10;
    if let Some(a) = args.get(2) {
        if a.eq_ignore_ascii_case(b"reset") {
            ctx.state.acl.log.clear();
            return Reply::OK;
        }
        count = tri!(super::int_arg(a)).max(0);
    }
    let now = crate::util::time::unix_ms();
    let entries = ctx.state.acl.log.iter().take(count as usize).map(|e| {
        Reply::Map(vec![
            (Reply::bulk("count"), Reply::Int(e.count as i64)),
            (Reply::bulk("reason"), Reply::bulk(e.reason.name())),
            (Reply::bulk("context"), Reply::bulk(e.context.name())),
            (Reply::bulk("object"), Reply::bulk(&e.object)),
            (Reply::bulk("username"), Reply::bulk(&e.username)),
            (Reply::bulk("age-seconds"), Reply::Double(now.saturating_sub(e.ctime_ms) as f64 / 1000.0)),
            (Reply::bulk("client-info"), Reply::bulk(&e.client_info)),
        ])
    });
    Reply::Array(entries.collect())
}

fn dryrun(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(user) = ctx.state.acl.user(&args[2]).cloned() else {
        return Reply::error(format!("ERR User '{}' not found", String::from_utf8_lossy(&args[2])));
    };
    let line = &args[3..];
    let Ok((spec, name)) = super::resolve(ctx.server, line) else {
        return Reply::error(format!("ERR Command '{}' not found", String::from_utf8_lossy(&args[3])));
    };
    if !super::arity_ok(spec, line.len()) {
        return Reply::error(format!("ERR wrong number of arguments for '{name}' command"));
    }
    match check_user(ctx.state, &user, spec, name, line) {
        Ok(()) => Reply::OK,
        Err(Denied::Command) => Reply::bulk(format!("This user has no permissions to run the '{name}' command")),
        Err(Denied::Key(i)) => Reply::bulk(format!(
            "This user has no permissions to access the '{}' key",
            String::from_utf8_lossy(&line[i])
        )),
        Err(Denied::Channel(i)) => Reply::bulk(format!(
            "This user has no permissions to access the '{}' channel",
            String::from_utf8_lossy(&line[i])
        )),
    }
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
