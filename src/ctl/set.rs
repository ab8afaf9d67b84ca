//! `redisctl set DIRECTIVE VALUE...` and `unset DIRECTIVE`: any directive of redis.conf, checked
//! by the server's own config table (CONFIG SET's words for a bad value), and the change to the
//! running server that goes with an edit (--apply).

use super::apply::{self, Applied, ServerChange, Target};
use super::edit::{edit, edit_in_group, roll_back, Run};
use super::{fail, usage, Result};
use crate::config::table::{self, Kind, Special, IMMUTABLE, SENSITIVE};

/// How a directive reaches a running server.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// CONFIG SET (or REPLICAOF) changes it in place.
    Yes,
    /// Only a restart reads it (immutable directives, rename-command).
    Restart,
}

/// After a file edit: with --apply, make the running server agree. A change the server refuses
/// is rolled back in the file too, so the file never holds what the server will not run.
pub fn apply_to_server(cli: &Run, server: Option<&Target>, change: ServerChange, live: Live) -> Result<()> {
    let Some(target) = server else { return Ok(()) };
    if cli.dry_run {
        return Ok(());
    }
    if live == Live::Restart {
        let changed = cli.report.borrow().changed;
        if !changed {
            cli.applied("the file already says this; nothing to restart".into());
            return Ok(());
        }
        if !apply::answers(target) {
            cli.applied(format!(
                "no server is running at {}: the change takes effect when it starts",
                target.address()
            ));
            return Ok(());
        }
        let why = format!("{} is read only when the server starts", change.name());
        let done = apply::restart_unit(target, &why)?;
        cli.applied(done);
        return Ok(());
    }
    match apply::server(target, &change)? {
        Applied::Done(m) | Applied::AlreadyInEffect(m) | Applied::NotRunning(m) => {
            cli.applied(m);
            Ok(())
        }
        Applied::Refused(why) if why.contains("can't set protected config") => {
            // The file was checked as the server checks it at start-up: a restart applies it.
            let done = apply::restart_unit(target, &why)?;
            cli.applied(done);
            Ok(())
        }
        Applied::Refused(why) => {
            let undone = roll_back(cli)?;
            Err(fail(format!("{why}; {undone}, so the server and its file still agree")))
        }
    }
}

/// The directive's table entry, or CONFIG SET's error for an unknown one.
fn spec_of(name: &str) -> Result<&'static table::Spec> {
    table::lookup(name)
        .map(|(_, s)| s)
        .ok_or_else(|| fail(format!("Unknown option or number of arguments for CONFIG SET - '{name}'")))
}

fn live_of(spec: &table::Spec) -> Live {
    if spec.has(IMMUTABLE) {
        Live::Restart
    } else {
        Live::Yes
    }
}

/// Splits multi-word values as CONFIG SET does (`"3600 1 300 100"` is four words).
fn words_of(values: &[String]) -> Result<Vec<String>> {
    let joined = values.join(" ");
    let parts =
        crate::util::splitargs::split_args(joined.as_bytes()).ok_or_else(|| fail("Unbalanced quotes in the value"))?;
    let words: Vec<String> = parts.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect();
    Ok(if words.is_empty() { vec![String::new()] } else { words })
}

pub fn set(
    cli: &Run,
    server: Option<&Target>,
    directive: &str,
    values: &[String],
    secret_value: Option<String>,
    in_sentinel_file: bool,
) -> Result<()> {
    let name = directive.to_ascii_lowercase();
    if name == "sentinel" {
        let from_stdin = secret_value.is_some();
        let words: Vec<String> = values.iter().cloned().chain(secret_value).collect();
        return set_sentinel(cli, &words, from_stdin);
    }
    if secret_value.is_some() && !values.is_empty() {
        return Err(usage("give the value either as arguments or with --stdin, not both"));
    }
    if name == "rename-command" {
        let [command, renamed] = values else {
            return Err(usage("usage: redisctl set rename-command COMMAND NEW-NAME (\"\" disables the command)"));
        };
        let key = format!("rename-command {command}");
        edit_in_group(cli, &cli.config, &key, &[], vec![vec![renamed.clone()]], false, Some("rename-command"))?;
        let change = ServerChange::ConfigSet("rename-command".into(), format!("{command} {renamed}"));
        return apply_to_server(cli, server, change, Live::Restart);
    }
    let spec = spec_of(&name)?;
    let secret = spec.has(SENSITIVE);
    let values: Vec<String> = match (secret, secret_value) {
        (true, None) => {
            return Err(usage(format!(
                "{} is a secret: give it on standard input with 'redisctl set {} --stdin', never on the command line",
                spec.name, spec.name
            )))
        }
        (_, Some(v)) => vec![v],
        (false, None) if values.is_empty() => {
            return Err(usage(format!(
                "missing value for {} (use 'redisctl unset {}' to remove it)",
                spec.name, spec.name
            )))
        }
        (false, None) => values.to_vec(),
    };
    // Booleans and enums are taken in any case, as Redis takes them, and written as it writes them.
    let values: Vec<String> = match spec.kind {
        Kind::Bool | Kind::Enum(_) => values.iter().map(|v| v.to_ascii_lowercase()).collect(),
        _ => values,
    };
    let value = values.join(" ");
    let (idx, _) = table::lookup(spec.name).ok_or_else(|| fail(spec.name))?;
    crate::config::Config::default()
        .parse_set(idx, &value)
        .map_err(|why| fail(crate::config::config_set_error(spec.name, &why)))?;
    if spec.name == "replicaof" {
        let words = words_of(&values)?;
        return match words.as_slice() {
            [h, p] if h.eq_ignore_ascii_case("no") && p.eq_ignore_ascii_case("one") => {
                super::replicaof(cli, server, "no", "one")
            }
            [h, p] => super::replicaof(cli, server, h, p),
            _ => Err(fail(crate::config::config_set_error(spec.name, "wrong number of arguments"))),
        };
    }
    let lines: Vec<Vec<String>> = match spec.kind {
        Kind::Special(Special::ClientOutputBufferLimit) => {
            return set_client_output_buffer_limit(cli, server, &words_of(&values)?);
        }
        Kind::Special(Special::Octal | Special::Dir) => vec![vec![value.clone()]],
        Kind::Special(_) => vec![words_of(&values)?],
        _ => vec![vec![value.clone()]],
    };
    if in_sentinel_file {
        return set_in_sentinel_file(cli, spec, lines, secret);
    }
    edit(cli, &cli.config, spec.name, spec.aliases, lines, secret)?;
    // Under socket activation the socket unit's addresses are served: they follow the file, as
    // with the bind and port commands.
    if matches!(spec.name, "bind" | "port" | "unixsocket") && super::sync_socket_unit(cli)? {
        return Ok(());
    }
    apply_to_server(cli, server, ServerChange::ConfigSet(spec.name.into(), value), live_of(spec))
}

/// client-output-buffer-limit sets the classes it names, each on its own line
/// (`client-output-buffer-limit replica 256mb 64mb 60`), like CONFIG SET.
fn set_client_output_buffer_limit(cli: &Run, server: Option<&Target>, words: &[String]) -> Result<()> {
    let name = "client-output-buffer-limit";
    for class in words.chunks(4) {
        let class_name = class[0].to_ascii_lowercase();
        let other = match class_name.as_str() {
            "replica" => Some("slave"),
            "slave" => Some("replica"),
            _ => None,
        };
        let key = format!("{name} {class_name}");
        let alias = other.map(|o| format!("{name} {o}"));
        let aliases: Vec<&str> = alias.iter().map(String::as_str).collect();
        edit_in_group(cli, &cli.config, &key, &aliases, vec![class[1..].to_vec()], false, Some(name))?;
    }
    apply_to_server(cli, server, ServerChange::ConfigSet(name.into(), words.join(" ")), Live::Yes)
}

/// `redisctl set sentinel ...`, in sentinel.conf's own words: `monitor NAME HOST PORT QUORUM`,
/// a master's `OPTION NAME VALUE...`, or a global `OPTION VALUE`. A secret comes last, from
/// standard input (`from_stdin`).
fn set_sentinel(cli: &Run, words: &[String], from_stdin: bool) -> Result<()> {
    use super::sentinel_edit::{secret_option, set_global, set_option, GLOBAL_SETTABLE, SET_OPTIONS};
    let secret_needs_stdin =
        |o: &str, how: &str| Err(usage(format!("{o} is a secret: give it on standard input with '{how} --stdin'")));
    match words {
        [option, name, host, port, quorum] if option.eq_ignore_ascii_case("monitor") => {
            super::sentinel_monitor(cli, name, host, port, quorum)
        }
        [option, rest @ ..] if GLOBAL_SETTABLE.iter().any(|g| g.eq_ignore_ascii_case(option)) => {
            let o = option.to_ascii_lowercase();
            match rest {
                [value] if !secret_option(&o) || from_stdin => set_global(cli, &o, value),
                [_] => secret_needs_stdin(&o, &format!("redisctl set sentinel {o}")),
                _ => Err(usage(format!("sentinel {o} takes one value"))),
            }
        }
        [option, name, rest @ ..] => match SET_OPTIONS.iter().find(|(o, _)| o.eq_ignore_ascii_case(option)) {
            Some((o, _)) if secret_option(o) && !from_stdin => {
                secret_needs_stdin(o, &format!("redisctl set sentinel {o} {name}"))
            }
            Some((o, n)) if rest.len() == *n => set_option(cli, name, o, rest),
            Some((o, n)) => Err(usage(format!("sentinel {o} takes the master's name and {n} value(s)"))),
            None => Err(fail(format!("Unknown option or number of arguments for SENTINEL SET '{option}'"))),
        },
        _ => Err(usage("usage: redisctl set sentinel OPTION [MASTER] VALUE... (as the line in sentinel.conf)")),
    }
}

/// A directive of the server's table in sentinel.conf (`port`, `bind`, `logfile`...). A running
/// Sentinel rewrites its whole file and cannot change these live, so it must be stopped first.
fn set_in_sentinel_file(cli: &Run, spec: &table::Spec, lines: Vec<Vec<String>>, secret: bool) -> Result<()> {
    if let Some(t) = apply::running_sentinel(&cli.sentinel_config)? {
        return Err(fail(format!(
            "a Sentinel is running at {} and rewrites {} itself; {} cannot change through it: stop it (systemctl stop redis-sentinel-rs), run this again, then start it",
            t.address(),
            cli.sentinel_config.display(),
            spec.name
        )));
    }
    edit(cli, &cli.sentinel_config, spec.name, spec.aliases, lines, secret)?;
    if matches!(spec.name, "bind" | "port" | "tls-port") {
        super::sync_sentinel_socket_unit(cli)?;
    }
    Ok(())
}

/// `redisctl unset DIRECTIVE`: removes its lines, so the default applies; --apply sets the
/// running server back to the default.
pub fn unset(cli: &Run, server: Option<&Target>, directive: &str, words: &[String]) -> Result<()> {
    let name = directive.to_ascii_lowercase();
    if name == "rename-command" {
        let [command] = words else { return Err(usage("usage: redisctl unset rename-command COMMAND")) };
        let key = format!("rename-command {command}");
        edit(cli, &cli.config, &key, &[], vec![], false)?;
        let change = ServerChange::ConfigSet("rename-command".into(), command.clone());
        return apply_to_server(cli, server, change, Live::Restart);
    }
    if !words.is_empty() {
        return Err(usage(format!("unset takes only the directive's name: 'redisctl unset {name}'")));
    }
    let spec = spec_of(&name)?;
    edit(cli, &cli.config, spec.name, spec.aliases, vec![], spec.has(SENSITIVE))?;
    if spec.name == "replicaof" {
        return apply_to_server(cli, server, ServerChange::Replicaof(None), Live::Yes);
    }
    apply_to_server(cli, server, ServerChange::ConfigSet(spec.name.into(), spec.default.into()), live_of(spec))
}
