//! CONFIG GET/SET/RESETSTAT/REWRITE, all driven by the config table.

use bytes::Bytes;

use super::Ctx;
use crate::config::document::ConfigDocument;
use crate::config::table::{self as ctable, TABLE as CONFIG_TABLE};
use crate::config::Val;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::state::HotConfig;
use crate::util::glob::string_match;
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] =
    &[container!("config", "server", "2.0.0", "A container for server configuration commands", SUBS)];

static SUBS: &[CommandSpec] = &[
    subcmd!(
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.0.0",
        "Get the values of configuration parameters",
        "O(N) when N is the number of configuration parameters provided",
        get
    ),
    subcmd!(
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.0.0",
        "Set configuration parameters to the given values",
        "O(N) when N is the number of configuration parameters provided",
        set
    ),
    subcmd!(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.0.0",
        "Reset the stats returned by INFO",
        "O(1)",
        resetstat
    ),
    subcmd!(
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.0",
        "Rewrite the configuration file with the in memory configuration",
        "O(1)",
        rewrite
    ),
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
];

/// `configGetCommand`: a name without glob characters is looked up exactly (hidden configs too)
/// and answered under the spelling asked for; a pattern matches every name and alias that is not
/// hidden. Each name or alias is answered once.
fn get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut matches: Vec<(String, usize)> = Vec::new();
    let seen = |matches: &[(String, usize)], name: &str| matches.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    for pattern in &args[2..] {
        if !pattern.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
            let name = String::from_utf8_lossy(pattern).into_owned();
            if let Some((idx, _)) = ctable::lookup(&name) {
                if !seen(&matches, &name) {
                    matches.push((name, idx));
                }
            }
            continue;
        }
        for (idx, spec) in CONFIG_TABLE.iter().enumerate() {
            if spec.has(ctable::HIDDEN) {
                continue;
            }
            for name in std::iter::once(&spec.name).chain(spec.aliases) {
                if !seen(&matches, name) && string_match(pattern, name.as_bytes(), true) {
                    matches.push((name.to_string(), idx));
                }
            }
        }
    }
    let pairs = matches
        .into_iter()
        .map(|(name, idx)| (Reply::bulk(name.as_bytes()), Reply::bulk(ctx.state.config.render(idx).as_bytes())))
        .collect();
    Reply::Map(pairs)
}

/// `configSetCommand`: every name is checked before any value; the values are then set in order
/// (a bad one restores those set before it) and only then take effect, all of them or, when one
/// cannot, none: the earlier values are restored and made to take effect again.
fn set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() % 2 != 0 {
        return Reply::error("ERR syntax error");
    }
    let fail = |name: &str, why: &str| Reply::error(format!("ERR {}", crate::config::config_set_error(name, why)));
    let protected_allowed = ctx.state.config.bool(crate::ckey!("enable-protected-configs"));
    // Each directive as Redis's config dictionary names it: an alias is an entry of its own, so
    // a name and its alias in one call are not duplicates (the later one wins).
    let mut targets: Vec<(usize, String)> = Vec::new();
    for pair in args[2..].chunks(2) {
        let typed = String::from_utf8_lossy(&pair[0]);
        let name = typed.to_ascii_lowercase();
        let Some((idx, spec)) = ctable::lookup(&name) else {
            return Reply::error(format!("ERR Unknown option or number of arguments for CONFIG SET - '{typed}'"));
        };
        if spec.has(ctable::IMMUTABLE) || spec.name == "replicaof" {
            return fail(&typed, "can't set immutable config");
        }
        if spec.has(ctable::PROTECTED) && !protected_allowed {
            return fail(&typed, "can't set protected config");
        }
        if targets.iter().any(|(i, n)| *i == idx && *n == name) {
            return fail(&typed, "duplicate parameter");
        }
        targets.push((idx, name));
    }
    let old: Vec<(usize, Val)> = targets.iter().map(|(i, _)| (*i, ctx.state.config.val_at(*i).clone())).collect();
    // Like Redis, a plain value (yes/no, number, enum, string) that did not change does not take
    // effect again (`performInterfaceSet` returning 2 registers no apply function): naming the
    // current port does not rebind. The special ones always do (`dir` changes directory again,
    // `bind` rebinds), as their set functions report a change whatever the value, and so do the
    // TLS files (VOLATILE_CONFIG): setting the same path reads a renewed certificate.
    let mut changes: Vec<(usize, Val)> = Vec::new();
    let mut changed_from: Vec<usize> = Vec::new();
    for (n, ((idx, name), pair)) in targets.iter().zip(args[2..].chunks(2)).enumerate() {
        match ctx.state.config.parse_set(*idx, &String::from_utf8_lossy(&pair[1])) {
            Ok(v) => {
                let always = matches!(CONFIG_TABLE[*idx].kind, ctable::Kind::Special(_))
                    || CONFIG_TABLE[*idx].has(ctable::VOLATILE);
                if v != *ctx.state.config.val_at(*idx) || always {
                    changes.push((*idx, v.clone()));
                    changed_from.push(n);
                }
                ctx.state.config.set_val(*idx, v);
            }
            Err(why) => {
                restore(ctx, &old[..=n]);
                return fail(name, &why);
            }
        }
    }
    if let Err((at, why)) = apply(ctx, &changes) {
        let name = &targets[changed_from[at]].1;
        tracing::warn!(
            "Failed applying new configuration. Possibly related to new {name} setting. Restoring previous settings."
        );
        restore(ctx, &old);
        let reverted: Vec<(usize, Val)> = changed_from.iter().map(|&n| old[n].clone()).collect();
        if let Err((_, why)) = apply(ctx, &reverted) {
            tracing::warn!("Failed applying restored failed CONFIG SET command: {why}");
        }
        return fail(name, &why);
    }
    Reply::OK
}

/// Puts back the values `old` holds, last first, so that a directive named twice (as a name and
/// as its alias) ends at its value from before the command.
fn restore(ctx: &mut Ctx, old: &[(usize, Val)]) {
    for (idx, v) in old.iter().rev() {
        ctx.state.config.set_val(*idx, v.clone());
    }
}

/// Makes changed values take effect. On failure returns the position in `changes` of the
/// directive that could not.
fn apply(ctx: &mut Ctx, changes: &[(usize, Val)]) -> Result<(), (usize, String)> {
    let mut rebound = false;
    let mut tls_reconfigured = false;
    for (at, (idx, v)) in changes.iter().enumerate() {
        match (CONFIG_TABLE[*idx].name, v) {
            ("dir", Val::Str(d)) => {
                std::env::set_current_dir(d).map_err(|e| (at, e.to_string()))?;
            }
            ("loglevel", Val::Str(l)) => crate::logging::set_level(l),
            // updateMaxclients: the NOFILE limit raised to fit, or the value refused.
            ("maxclients", Val::Int(n)) => {
                let adjusted = crate::util::fd_limit::adjust(*n as u64);
                adjusted.log();
                if adjusted.maxclients != *n as u64 || adjusted.fatal {
                    let fit = adjusted.maxclients as i64 as i32;
                    let why = format!(
                        "The operating system is not able to handle the specified number of clients, try with {fit}"
                    );
                    return Err((at, why));
                }
            }
            ("appendonly", Val::Bool(on)) => {
                crate::persistence::appendonly::set_enabled(ctx.state, *on).map_err(|e| (at, e))?;
            }
            // One rebind serves both: it listens on the port and addresses now configured.
            (name @ ("port" | "bind"), _) if !rebound => {
                rebound = true;
                let rebind = ctx.server.rebind_tcp.get().ok_or((at, "the server is not listening yet".to_string()))?;
                rebind(ctx.server, &ctx.state.config).map_err(|e| (at, rebind_error(name, e)))?;
                // New addresses are the TLS port's too (changeBindAddr rebinds both).
                if name == "bind" && ctx.state.config.int(crate::ckey!("tls-port")) != 0 {
                    let rebind =
                        ctx.server.rebind_tls.get().ok_or((at, "the server is not listening yet".to_string()))?;
                    rebind(ctx.server, &ctx.state.config).map_err(|e| (at, rebind_error(name, e)))?;
                }
            }
            // applyTLSPort: TLS configured if it was not yet, then the port.
            ("tls-port", _) => {
                if !ctx.server.tls.is_configured() {
                    reconfigure_tls(ctx).map_err(|e| (at, e))?;
                }
                let rebind = ctx.server.rebind_tls.get().ok_or((at, "the server is not listening yet".to_string()))?;
                rebind(ctx.server, &ctx.state.config).map_err(|e| (at, rebind_error("port", e)))?;
            }
            // applyTlsCfg, once per command: the contexts rebuilt from every tls-* value now set,
            // when TLS is in use. Connected clients keep the context they were accepted with.
            (name, _) if name.starts_with("tls-") && name != "tls-auth-clients" && !tls_reconfigured => {
                tls_reconfigured = true;
                if crate::tls::wanted(&ctx.state.config) {
                    reconfigure_tls(ctx).map_err(|e| (at, e))?;
                }
            }
            _ => {}
        }
    }
    refresh(ctx.state);
    if changes.iter().any(|(idx, _)| CONFIG_TABLE[*idx].name == "maxmemory") {
        crate::server::eviction::maxmemory_changed(ctx.server, ctx.state);
    }
    Ok(())
}

/// tlsConfigure from the values now set: the new contexts replace the old ones only when all is
/// well; otherwise the reason is logged and the old ones stay.
fn reconfigure_tls(ctx: &mut Ctx) -> Result<(), String> {
    match crate::tls::configure(&crate::tls::Settings::from_config(&ctx.state.config)) {
        Ok(c) => {
            ctx.server.tls.set(c);
            Ok(())
        }
        Err(why) => {
            tracing::warn!("{why}");
            Err("Unable to update TLS configuration. Check server logs.".into())
        }
    }
}

/// Redis's text for a failed rebind is the one of the apply function that ran first: `updatePort`
/// when port was named first, `applyBind` when bind was.
fn rebind_error(directive: &str, why: String) -> String {
    const PORT: &str = "Unable to listen on this port. Check server logs.";
    const BIND: &str = "Failed to bind to specified addresses.";
    match directive {
        _ if why != PORT && why != BIND => why,
        "port" => PORT.to_string(),
        _ => BIND.to_string(),
    }
}

/// Recomputes everything derived from the config.
pub fn refresh(st: &mut crate::server::state::State) {
    let old_pass = st.hot.requirepass.clone();
    st.hot = HotConfig::from_config(&st.config);
    // requirepass is the default user's password (updateRequirePass).
    if st.hot.requirepass != old_pass {
        let pass = st.hot.requirepass.clone();
        st.acl.set_default_password(pass.as_deref());
    }
    st.acl.all_channels_default = st.config.str(crate::ckey!("acl-pubsub-default")) == "allchannels";
    crate::crash::configure(
        st.config.bool(crate::ckey!("crash-log-enabled")),
        st.config.bool(crate::ckey!("use-exit-on-panic")),
    );
    let policy = st.config.str(crate::ckey!("maxmemory-policy")).to_string();
    crate::keyspace::access::configure(
        policy.contains("lfu"),
        st.config.int(crate::ckey!("lfu-log-factor")) as u32,
        st.config.int(crate::ckey!("lfu-decay-time")) as u32,
    );
    super::notify::configure_new_key_events(st);
    let fsync = crate::persistence::appendonly::Fsync::from_config(st);
    if let Some(aof) = st.aof.as_mut() {
        aof.fsync = fsync;
    }
    let backlog_size = st.config.int(crate::ckey!("repl-backlog-size")).max(1) as u64;
    if let Some(b) = st.repl.backlog.as_mut() {
        b.resize(backlog_size);
    }
    st.repl.trim_backlog();
    crate::server::client_eviction::configure(st, crate::util::time::unix_ms());
}

fn resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let s = &mut ctx.state.stats;
    *s = crate::server::state::Stats::default();
    crate::server::lazyfree::reset_stats();
    Reply::OK
}

fn rewrite(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let Some(path) = ctx.server.config_file.clone() else {
        return Reply::error("ERR The server is running without a config file");
    };
    match rewrite_file(ctx, &path, false) {
        Ok(()) => {
            tracing::info!("CONFIG REWRITE executed with success.");
            Reply::OK
        }
        Err(e) => {
            tracing::warn!("CONFIG REWRITE failed: {e}", e = crate::util::sys::error_text(&e));
            Reply::error(format!("ERR Rewriting config file: {e}", e = crate::util::sys::error_text(&e)))
        }
    }
}

/// Redis's EMPTY_STRING_IS_NULL string directives that we have.
const NULL_WHEN_EMPTY: &[&str] = &[
    "unixsocket",
    "pidfile",
    "replica-announce-ip",
    "masteruser",
    "masterauth",
    "requirepass",
    "cluster-announce-ip",
    "cluster-announce-hostname",
    "server_cpulist",
    "bio_cpulist",
    "aof_rewrite_cpulist",
    "bgsave_cpulist",
    "bind-source-addr",
    "tls-cert-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-client-cert-file",
    "tls-client-key-file",
    "tls-client-key-file-pass",
    "tls-dh-params-file",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-protocols",
    "tls-ciphers",
    "tls-ciphersuites",
];

/// rewriteConfig: the file rewritten with the current values; with `force_all` (DEBUG
/// CONFIG-REWRITE-FORCE-ALL) every directive is written, defaults included.
pub(crate) fn rewrite_file(ctx: &Ctx, path: &std::path::Path, force_all: bool) -> std::io::Result<()> {
    let mut doc = ConfigDocument::load(path)?;
    let mut options = ctx.state.rewrite_options();
    if force_all {
        options.iter_mut().for_each(|o| o.is_default = false);
        // Strings whose empty value means "unset" (EMPTY_STRING_IS_NULL) are left out when unset:
        // a file naming them would set them at the next start.
        options.retain(|o| !(NULL_WHEN_EMPTY.contains(&o.name) && o.lines.iter().all(|l| l.concat().is_empty())));
    }
    doc.rewrite(&options);
    doc.save()
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )
}
