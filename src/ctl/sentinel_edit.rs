//! Sentinel's file: `sentinel monitor`, `quorum`, `sentinel set`/`remove`. While a Sentinel runs
//! it rewrites its own file, so a change goes through it (SENTINEL MONITOR/SET/REMOVE); else the
//! file is edited, each value checked by Sentinel's own SENTINEL SET and the result by its parser.

use std::path::Path;

use super::apply;
use super::edit::{check_edit, finish, Run};
use super::files::{self, ConfSet};
use super::{fail, Failure, Result};
use crate::config::document::ConfigDocument;

/// Options whose value is a secret (given on standard input, never shown).
pub fn secret_option(option: &str) -> bool {
    option.eq_ignore_ascii_case("auth-pass") || option.eq_ignore_ascii_case("sentinel-pass")
}

/// Sentinel's own settings (`sentinel OPTION VALUE`) an admin sets; all but deny-scripts-reconfig
/// can change live with SENTINEL CONFIG SET.
pub const GLOBAL_SETTABLE: [&str; 7] = [
    "announce-ip",
    "announce-port",
    "resolve-hostnames",
    "announce-hostnames",
    "sentinel-user",
    "sentinel-pass",
    "deny-scripts-reconfig",
];

/// `redisctl set sentinel OPTION VALUE` for a global option: checked by Sentinel's own SENTINEL
/// CONFIG SET (and its parser), made through a running Sentinel with --apply.
pub fn set_global(cli: &Run, option: &str, value: &str) -> Result<()> {
    let set = ConfSet::load(&cli.sentinel_config)?;
    for d in set.docs.iter().rev() {
        files::check_text(d.path(), &d.render())?;
    }
    let live = option != "deny-scripts-reconfig";
    if live {
        let cfg = parsed(&set)?;
        let mut sentinel = crate::sentinel::state::Sentinel::from_config(cfg, 0);
        let args = ["set".to_string(), option.to_string(), value.to_string()];
        if let crate::protocol::Reply::Error(e) = crate::sentinel::commands::config(&mut sentinel, &args).reply {
            return Err(fail(e.strip_prefix("ERR ").unwrap_or(&e).to_string()));
        }
    }
    if apply::running_sentinel(&cli.sentinel_config)?.is_some() && !live {
        return Err(fail(format!(
            "a Sentinel is running and rewrites {} itself; {option} cannot change while it runs: stop it (systemctl stop redis-sentinel-rs), run this again, then start it",
            cli.sentinel_config.display()
        )));
    }
    if through_running(cli, &["config", "set", option, value])? {
        return Ok(());
    }
    let key = format!("sentinel {option}");
    // An empty user or password unsets it, as SENTINEL CONFIG SET does.
    let lines = if value.is_empty() && matches!(option, "sentinel-user" | "sentinel-pass") {
        vec![]
    } else {
        vec![vec![value.to_string()]]
    };
    super::edit::edit(cli, &cli.sentinel_config, &key, &[], lines, secret_option(option)).map(|_| ())
}

/// The `sentinel` statements of the files as Sentinel reads them, or its error for the first bad one.
fn parsed(set: &ConfSet) -> Result<crate::sentinel::SentinelConfig> {
    let mut statements = Vec::new();
    let mut origins = Vec::new();
    gather_sentinel_statements(set, 0, 0, &mut statements, &mut origins);
    crate::sentinel::config::parse(&statements).map_err(|bad| {
        let doc = origins[bad.index];
        let e = bad.error;
        fail(format!("{}:{}: '{}': {}", set.docs[doc].path().display(), e.line_no, e.line, e.reason))
    })
}

/// Options whose empty value means "unset" in SENTINEL SET.
pub fn unsettable(option: &str) -> bool {
    matches!(option, "auth-pass" | "auth-user" | "notification-script" | "client-reconfig-script")
}

/// The per-master options SENTINEL SET takes, with how many values each.
pub const SET_OPTIONS: [(&str, usize); 10] = [
    ("quorum", 1),
    ("down-after-milliseconds", 1),
    ("failover-timeout", 1),
    ("parallel-syncs", 1),
    ("notification-script", 1),
    ("client-reconfig-script", 1),
    ("auth-pass", 1),
    ("auth-user", 1),
    ("master-reboot-down-after-period", 1),
    ("rename-command", 2),
];

/// `sentinel monitor` arguments (name, host, port, quorum) of a master.
pub fn monitored(set: &ConfSet, name: &str) -> Option<Vec<String>> {
    set.docs
        .iter()
        .flat_map(|d| d.get_all("sentinel monitor", &[]))
        .map(|(_, v)| v)
        .find(|v| v.first().is_some_and(|n| n == name))
}

pub fn only_master(sentinel_config: &Path) -> Result<String> {
    let set = ConfSet::load(sentinel_config)?;
    let names: Vec<String> = set
        .docs
        .iter()
        .flat_map(|d| d.get_all("sentinel monitor", &[]))
        .filter_map(|(_, v)| v.first().cloned())
        .collect();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(fail(format!("{}: no master is monitored", sentinel_config.display()))),
        many => Err(fail(format!(
            "{} monitors {} masters ({}): name one, e.g. 'redisctl quorum {} 2'",
            sentinel_config.display(),
            many.len(),
            many.join(", "),
            many[0]
        ))),
    }
}

/// Sentinel rewrites its own file, so while one is running a change must go through it.
pub fn through_running(cli: &Run, command: &[&str]) -> Result<bool> {
    // A bad line could point the probe at another Sentinel (a port that does not parse reads
    // as the default): the files are checked first.
    for d in ConfSet::load(&cli.sentinel_config)?.docs.iter().rev() {
        files::check_text(d.path(), &d.render())?;
    }
    match apply::running_sentinel(&cli.sentinel_config)? {
        None => Ok(false),
        Some(addr) if cli.apply && !cli.dry_run => {
            let report = apply::sentinel(&addr, command)?;
            let mut r = cli.report.borrow_mut();
            r.changed = true;
            r.file = cli.sentinel_config.display().to_string();
            drop(r);
            cli.applied(report);
            Ok(true)
        }
        Some(t) if cli.dry_run => Err(fail(format!(
            "a Sentinel is running at {}: it would make this change itself with --apply (no diff to show)",
            t.address()
        ))),
        Some(t) => Err(fail(format!(
            "a Sentinel is running at {} and rewrites {} itself, so an edit of the file would be lost: run again with --apply to make the change through it",
            t.address(),
            cli.sentinel_config.display()
        ))),
    }
}

/// Changes the monitor line of a master (its quorum) in the file, or through the running Sentinel.
pub fn edit_monitor(cli: &Run, values: Vec<String>, command: &[&str]) -> Result<()> {
    let key = "sentinel monitor";
    if through_running(cli, command)? {
        return Ok(());
    }
    let main = cli.sentinel_config.clone();
    let mut set = ConfSet::load(&main)?;
    // Each master's monitor line is its own key: `sentinel monitor NAME`.
    let name = values[0].clone();
    let Some(file) = set.docs.iter().find_map(|d| {
        d.get_all(key, &[]).into_iter().find(|(_, v)| v.first() == Some(&name)).map(|_| d.path().to_path_buf())
    }) else {
        return Err(fail(format!("{}: no master named '{name}' is monitored", main.display())));
    };
    let doc = set.doc_mut(&file).ok_or_else(|| fail("not loaded"))?;
    let full_key = format!("{key} {name}");
    let new: Vec<String> = values[1..].to_vec();
    let before = doc.render();
    if !doc.set(&full_key, &[], std::slice::from_ref(&new)) {
        cli.report.borrow_mut().file = file.display().to_string();
        cli.say(&format!("{full_key} is already {} in {}; nothing changed", new.join(" "), file.display()));
        return Ok(());
    }
    finish(cli, &mut set, &file, &before, &full_key, &[new], false)
}

/// `redisctl sentinel set NAME OPTION VALUE...`: any per-master option SENTINEL SET takes. The
/// value is checked by Sentinel's own SENTINEL SET, then written as the line Sentinel writes.
pub fn set_option(cli: &Run, name: &str, option: &str, values: &[String]) -> Result<()> {
    let option = option.to_ascii_lowercase();
    let set = ConfSet::load(&cli.sentinel_config)?;
    for d in set.docs.iter().rev() {
        files::check_text(d.path(), &d.render())?;
    }
    if monitored(&set, name).is_none() {
        return Err(fail(format!("{}: no master named '{name}' is monitored", cli.sentinel_config.display())));
    }
    let mut command = vec!["set".to_string(), name.to_string(), option.clone()];
    command.extend(values.iter().cloned());
    let refs: Vec<&str> = command.iter().map(String::as_str).collect();
    if cli.apply && !cli.dry_run && apply::running_sentinel(&cli.sentinel_config)?.is_some() {
        return through_running(cli, &refs).map(|_| ());
    }
    validate_set(&set, name, &command[2..])?;
    if option == "quorum" {
        let monitor = monitored(&set, name).unwrap_or_default();
        let line = vec![name.to_string(), monitor[1].clone(), monitor[2].clone(), values[0].trim().to_string()];
        return edit_monitor(cli, line, &refs);
    }
    let secret = secret_option(&option);
    let (key, line) = match option.as_str() {
        // One line per renamed command: `sentinel rename-command NAME OLD NEW`; renaming a
        // command to itself removes its renaming, as SENTINEL SET does.
        "rename-command" if values[0].eq_ignore_ascii_case(&values[1]) => {
            (format!("sentinel rename-command {name} {}", values[0]), vec![])
        }
        "rename-command" => (format!("sentinel rename-command {name} {}", values[0]), vec![vec![values[1].clone()]]),
        o if unsettable(o) && values[0].is_empty() => (format!("sentinel {o} {name}"), vec![]),
        o => (format!("sentinel {o} {name}"), vec![values.to_vec()]),
    };
    set_line(cli, name, &key, line, secret, &refs)
}

/// Sentinel's SENTINEL SET on the master as the file describes it: its refusal, in its words.
/// Scripts are checked as if deny-scripts-reconfig were off: it guards against clients, and an
/// admin editing the file is not one.
fn validate_set(set: &ConfSet, name: &str, options: &[String]) -> Result<()> {
    let cfg = parsed(set)?;
    let mut sentinel = crate::sentinel::state::Sentinel::from_config(cfg, 0);
    sentinel.settings.deny_scripts_reconfig = false;
    let outcome = crate::sentinel::commands::set(&mut sentinel, name, options);
    match outcome.reply {
        crate::protocol::Reply::Error(e) => Err(fail(e.strip_prefix("ERR ").unwrap_or(&e).to_string())),
        _ => Ok(()),
    }
}

/// `redisctl sentinel remove NAME`: stop monitoring a master (SENTINEL REMOVE), and with it
/// every line of the file about it.
pub fn remove(cli: &Run, name: &str) -> Result<()> {
    let main = cli.sentinel_config.clone();
    let mut set = ConfSet::load(&main)?;
    if monitored(&set, name).is_none() {
        return Err(fail(format!("{}: no master named '{name}' is monitored", main.display())));
    }
    if through_running(cli, &["remove", name])? {
        return Ok(());
    }
    let monitor_key = format!("sentinel monitor {name}");
    let file = set.find(&monitor_key, &[]).map(|f| f.file).unwrap_or_else(|| main.clone());
    let doc = set.doc_mut(&file).ok_or_else(|| fail("not loaded"))?;
    let before = doc.render();
    let keys: Vec<String> = doc
        .directives()
        .filter(|(_, d, a)| *d == "sentinel" && a.len() >= 2 && a[1] == name)
        .map(|(_, _, a)| format!("sentinel {} {name}", a[0].to_ascii_lowercase()))
        .collect();
    for key in keys {
        doc.remove(&key, &[]);
    }
    finish(cli, &mut set, &file, &before, &monitor_key, &[], false)
}

/// Sets (or, with no values, removes) one line of master `name`'s settings.
fn set_line(cli: &Run, name: &str, key: &str, values: Vec<Vec<String>>, secret: bool, command: &[&str]) -> Result<()> {
    if through_running(cli, command)? {
        return Ok(());
    }
    let main = cli.sentinel_config.clone();
    let mut set = ConfSet::load(&main)?;
    // An absent setting goes right after the master's other lines, not at the end of the file.
    let target = set
        .find(key, &[])
        .map(|f| f.file)
        .or_else(|| {
            set.docs
                .iter()
                .find(|d| {
                    d.get_all("sentinel monitor", &[]).iter().any(|(_, v)| v.first().map(String::as_str) == Some(name))
                })
                .map(|d| d.path().to_path_buf())
        })
        .unwrap_or_else(|| main.clone());
    let doc = set.doc_mut(&target).ok_or_else(|| fail("not loaded"))?;
    let before = doc.render();
    let changed = if doc.get(key, &[]).is_some() || values.is_empty() {
        doc.set(key, &[], &values)
    } else {
        let anchor = last_line_of_master(doc, name);
        doc.insert_after(anchor, key, &values);
        true
    };
    if !changed {
        let shown = if secret { "(the same secret)".to_string() } else { super::edit::describe(&values) };
        cli.report.borrow_mut().file = target.display().to_string();
        cli.say(&format!("{key} is already {shown} in {}; nothing changed", target.display()));
        return Ok(());
    }
    finish(cli, &mut set, &target, &before, key, &values, secret)
}

/// The last line (1-based) that configures master `name` (`sentinel <option> name ...`).
fn last_line_of_master(doc: &ConfigDocument, name: &str) -> Option<usize> {
    doc.directives().filter(|(_, d, a)| *d == "sentinel" && a.len() >= 2 && a[1] == name).map(|(l, _, _)| l).last()
}

pub fn sentinel_sensitive(key: &str) -> bool {
    key.contains("auth-pass") || key.contains("sentinel-pass")
}
/// Sentinel's own reading of the `sentinel` statements of sentinel.conf and its includes. On
/// error: the index of the file at fault in `set.docs`, and what is wrong, where.
pub fn check_sentinel_statements(set: &ConfSet) -> std::result::Result<(), (usize, Failure)> {
    let mut statements = Vec::new();
    let mut origins = Vec::new();
    gather_sentinel_statements(set, 0, 0, &mut statements, &mut origins);
    crate::sentinel::config::parse(&statements).map(|_| ()).map_err(|bad| {
        let doc = origins[bad.index];
        let e = bad.error;
        (doc, fail(format!("{}:{}: '{}': {}", set.docs[doc].path().display(), e.line_no, e.line, e.reason)))
    })
}

/// The statements of `set.docs[doc]` in the order Sentinel reads them: an included file's where
/// its include line stands. `origins` gets the file index of each.
fn gather_sentinel_statements(
    set: &ConfSet,
    doc: usize,
    depth: usize,
    statements: &mut Vec<crate::sentinel::config::Statement>,
    origins: &mut Vec<usize>,
) {
    for (i, line) in set.docs[doc].lines().iter().enumerate() {
        if let Some(statement) = crate::sentinel::config::Statement::from_line(i + 1, line) {
            statements.push(statement);
            origins.push(doc);
        } else if let Some(("include", [included, ..])) = line.directive() {
            let child = set.docs.iter().position(|d| d.path() == Path::new(included));
            // ConfSet loaded each file once, so an include cycle would otherwise never end.
            if let Some(child) = child.filter(|_| depth < 16) {
                gather_sentinel_statements(set, child, depth + 1, statements, origins);
            }
        }
    }
}

/// Lines of sentinel.conf that record what Sentinel learnt about a master (its replicas, the other
/// sentinels, the epochs) rather than what the admin configured.
const SENTINEL_STATE_OPTIONS: [&str; 5] =
    ["known-replica", "known-slave", "known-sentinel", "config-epoch", "leader-epoch"];

pub fn is_state_option(option: &str) -> bool {
    SENTINEL_STATE_OPTIONS.contains(&option)
}

/// The admin's settings of master `name` in sentinel.conf (`sentinel OPTION name VALUE...`), as
/// SENTINEL SET arguments: everything but the monitor line and the learnt state.
fn master_settings(set: &ConfSet, name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for doc in &set.docs {
        for (_, directive, args) in doc.directives() {
            if directive != "sentinel" || args.len() < 3 || args[1] != name {
                continue;
            }
            let option = args[0].to_ascii_lowercase();
            if option == "monitor" || SENTINEL_STATE_OPTIONS.contains(&option.as_str()) {
                continue;
            }
            let mut setting = vec![option];
            setting.extend(args[2..].iter().cloned());
            out.push(setting);
        }
    }
    out
}

/// `sentinel monitor NAME` for a name already monitored at another address (Debian's sentinel.conf
/// ships `mymaster 127.0.0.1 6379`): the master is a different one, so what Sentinel learnt about
/// the old one goes and the admin's settings stay. A running Sentinel is told the same way an admin
/// would with redis-cli: SENTINEL REMOVE, SENTINEL MONITOR, then SENTINEL SET of each setting.
pub fn repoint(cli: &Run, values: Vec<String>) -> Result<()> {
    let name = values[0].as_str();
    let main = cli.sentinel_config.clone();
    let mut edited = ConfSet::load(&main)?;
    let settings = master_settings(&edited, name);
    let scripts_refused = scripts_denied(&edited) && settings.iter().any(|s| s[0].ends_with("-script"));
    let monitor_key = format!("sentinel monitor {name}");
    let file = edited.find(&monitor_key, &[]).map(|f| f.file).unwrap_or_else(|| main.clone());
    let doc = edited.doc_mut(&file).ok_or_else(|| fail("not loaded"))?;
    let before = doc.render();
    let new = vec![values[1..].to_vec()];
    doc.set(&monitor_key, &[], &new);
    for option in SENTINEL_STATE_OPTIONS {
        doc.remove(&format!("sentinel {option} {name}"), &[]);
    }
    // Checked before a running Sentinel is touched: it must not lose the master to a bad address.
    check_edit(cli, doc)?;
    let Some(running) = apply::running_sentinel(&main)? else {
        return finish(cli, &mut edited, &file, &before, &monitor_key, &new, false);
    };
    if !cli.apply || cli.dry_run {
        // Refused with the usual explanation (the running Sentinel would overwrite the edit),
        // unless it stopped meanwhile: then the file is edited.
        through_running(cli, &["monitor"])?;
        return finish(cli, &mut edited, &file, &before, &monitor_key, &new, false);
    }
    if scripts_refused {
        return Err(fail(format!(
            "master '{name}' has scripts configured and the running Sentinel refuses to set scripts (sentinel deny-scripts-reconfig): stop it, run this again without --apply, then start it"
        )));
    }
    let mut steps: Vec<Vec<String>> =
        vec![vec!["remove".into(), name.into()], [vec!["monitor".to_string()], values.clone()].concat()];
    steps.extend(settings.into_iter().map(|s| [vec!["set".to_string(), name.to_string()], s].concat()));
    for step in steps {
        let args: Vec<&str> = step.iter().map(String::as_str).collect();
        let report = apply::sentinel(&running, &args).map_err(fail)?;
        cli.applied(report);
    }
    let mut r = cli.report.borrow_mut();
    r.changed = true;
    r.file = main.display().to_string();
    Ok(())
}

/// Whether Sentinel refuses SENTINEL SET of notification/client-reconfig scripts (the default).
fn scripts_denied(set: &ConfSet) -> bool {
    set.docs
        .iter()
        .filter_map(|d| d.get("sentinel deny-scripts-reconfig", &[]))
        .next_back()
        .is_none_or(|(_, v)| !v.first().is_some_and(|s| s.eq_ignore_ascii_case("no")))
}

pub fn add_monitor(cli: &Run, name: &str, values: Vec<String>, command: &[&str]) -> Result<()> {
    if through_running(cli, command)? {
        return Ok(());
    }
    let main = cli.sentinel_config.clone();
    let mut set = ConfSet::load(&main)?;
    let doc = set.doc_mut(&main).ok_or_else(|| fail("not loaded"))?;
    let before = doc.render();
    let key = format!("sentinel monitor {name}");
    let rest = vec![values[1..].to_vec()];
    // After the last monitor line if there is one, else after the commented template.
    let anchor = doc.get_all("sentinel monitor", &[]).last().map(|(l, _)| *l);
    match anchor {
        Some(l) => doc.insert_after(Some(l), &key, &rest),
        None => {
            doc.set(&key, &[], &rest);
        }
    }
    finish(cli, &mut set, &main, &before, &key, &rest, false)
}
