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

fn get(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let patterns = &args[2..];
    let mut pairs = Vec::new();
    for (idx, spec) in CONFIG_TABLE.iter().enumerate() {
        let mut value = None;
        for name in std::iter::once(&spec.name).chain(spec.aliases) {
            if patterns.iter().any(|p| string_match(p, name.as_bytes(), true)) {
                let v = value.get_or_insert_with(|| ctx.state.config.render(idx));
                pairs.push((Reply::bulk(name), Reply::bulk(v.as_bytes())));
            }
        }
    }
    Reply::Map(pairs)
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() % 2 != 0 {
        return Reply::error("ERR wrong number of arguments for 'config|set' command");
    }
    let fail = |name: &str, why: &str| Reply::error(format!("ERR {}", crate::config::config_set_error(name, why)));
    let protected_allowed = ctx.state.config.bool(crate::ckey!("enable-protected-configs"));
    let mut changes: Vec<(usize, Val)> = Vec::new();
    for pair in args[2..].chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
        let Some((idx, spec)) = ctable::lookup(&name) else {
            return Reply::error(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                String::from_utf8_lossy(&pair[0])
            ));
        };
        if spec.has(ctable::IMMUTABLE) || spec.name == "replicaof" {
            return fail(&name, "can't set immutable config");
        }
        if spec.has(ctable::PROTECTED) && !protected_allowed {
            return fail(&name, "can't set protected config");
        }
        if changes.iter().any(|(i, _)| *i == idx) {
            return fail(&name, "duplicate parameter");
        }
        let value = String::from_utf8_lossy(&pair[1]);
        match ctx.state.config.parse_set(idx, &value) {
            Ok(v) => changes.push((idx, v)),
            Err(why) => return fail(&name, &why),
        }
    }
    // Apply all or nothing: keep the old values to restore if an apply step fails.
    let old: Vec<(usize, Val)> = changes.iter().map(|(i, _)| (*i, ctx.state.config.val_at(*i).clone())).collect();
    for (idx, v) in &changes {
        ctx.state.config.set_val(*idx, v.clone());
    }
    if let Err((idx, why)) = apply(ctx, &changes) {
        for (i, v) in old {
            ctx.state.config.set_val(i, v);
        }
        let _ = apply(ctx, &[]);
        return fail(CONFIG_TABLE[idx].name, &why);
    }
    Reply::OK
}

/// Makes changed values take effect. On failure returns the offending directive.
fn apply(ctx: &mut Ctx, changes: &[(usize, Val)]) -> Result<(), (usize, String)> {
    for (idx, v) in changes {
        match (CONFIG_TABLE[*idx].name, v) {
            ("dir", Val::Str(d)) => {
                std::env::set_current_dir(d).map_err(|e| (*idx, e.to_string()))?;
            }
            ("loglevel", Val::Str(l)) => crate::logging::set_level(l),
            ("appendonly", Val::Bool(on)) => {
                crate::persistence::appendonly::set_enabled(ctx.state, *on).map_err(|e| (*idx, e))?;
            }
            ("port" | "bind", _) => {
                let rebind =
                    ctx.server.rebind_tcp.get().ok_or((*idx, "the server is not listening yet".to_string()))?;
                rebind(ctx.server, &ctx.state.config).map_err(|e| (*idx, e))?;
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

/// Recomputes everything derived from the config.
pub fn refresh(st: &mut crate::server::state::State) {
    st.hot = HotConfig::from_config(&st.config);
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
}

fn resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let s = &mut ctx.state.stats;
    *s = crate::server::state::Stats::default();
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
];

/// rewriteConfig: the file rewritten with the current values; with `force_all` (DEBUG
/// CONFIG-REWRITE-FORCE-ALL) every directive is written, defaults included.
pub(crate) fn rewrite_file(ctx: &Ctx, path: &std::path::Path, force_all: bool) -> std::io::Result<()> {
    let mut doc = ConfigDocument::load(path)?;
    let mut options = ctx.state.config.rewrite_options();
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
