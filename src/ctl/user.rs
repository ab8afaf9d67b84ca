//! `redisctl user add|set|del|list`: ACL users where the configuration keeps them, the file named
//! by `aclfile` or redis.conf's `user` lines (Redis refuses both at once), and --apply through
//! ACL SETUSER/DELUSER (user lines) or ACL LOAD (an ACL file).
//!
//! Rules are applied with the server's own ACL engine (`crate::acl`), so a line is written only
//! if the server would take it, and it is written as ACL LIST describes the user. A password is
//! read from standard input only and stored as its SHA-256 (`#<hex>`): a cleartext password rule
//! (`>pw`, `<pw`) on the command line is refused, and no password ever appears in output.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::apply::{ServerChange, Target};
use super::edit::{finish, Run, Saved};
use super::files::{self, ConfSet};
use super::set::{apply_to_server, Live};
use super::{fail, usage, Result};
use crate::acl::{Acl, User};

/// Where the users live.
enum Store {
    /// `aclfile PATH`.
    AclFile(PathBuf),
    /// `user` lines of redis.conf (or of the included file that has them).
    ConfigLines,
}

/// What `user` does to the named user.
pub enum Action {
    Add,
    Set,
    Del,
}

/// The ACL engine as the server sets it up: its command catalog and acl-pubsub-default.
fn engine(set: &ConfSet) -> Acl {
    let all_channels =
        set.find("acl-pubsub-default", &[]).is_some_and(|f| f.values.first().is_some_and(|v| v == "allchannels"));
    let catalog = crate::server::command::acl_catalog(crate::commands::DISPATCH.table, false);
    Acl::new(Arc::new(catalog), all_channels)
}

fn store(set: &ConfSet, config: &Path) -> Result<Store> {
    let Some(found) = set.find("aclfile", &[]) else { return Ok(Store::ConfigLines) };
    let Some(path) = found.values.first().filter(|p| !p.is_empty()) else { return Ok(Store::ConfigLines) };
    let path = PathBuf::from(path);
    // Redis opens a relative aclfile from its working directory; the packaged units run in the
    // config file's directory's sibling data dir, so only an absolute path is unambiguous.
    if path.is_relative() {
        return Err(fail(format!(
            "{}: aclfile '{}' is a relative path: give it as an absolute path so redisctl edits the file the server reads",
            config.display(),
            path.display()
        )));
    }
    Ok(Store::AclFile(path))
}

/// The users an ACL file's text defines, checked as ACL LOAD checks it.
fn parse_acl_file(acl: &Acl, path: &Path, text: &str) -> Result<Vec<(String, User)>> {
    let users = crate::acl::file::parse(acl, text.as_bytes(), &path.display().to_string()).map_err(fail)?;
    // Only the users the file names (parse adds an implied default user).
    let named: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_ascii_whitespace().nth(1).filter(|_| l.trim_start().starts_with("user ")))
        .map(str::to_string)
        .collect();
    Ok(users
        .into_iter()
        .map(|(name, u)| (String::from_utf8_lossy(&name).into_owned(), u))
        .filter(|(name, _)| named.contains(name))
        .collect())
}

/// The users of redis.conf's `user` lines, checked as the server checks them at start-up.
fn config_users(acl: &mut Acl, set: &ConfSet) -> Result<Vec<(String, User)>> {
    let lines: Vec<Vec<String>> = set.find_all("user", &[]).into_iter().map(|f| f.values).collect();
    acl.load_configured(&lines).map_err(|e| fail(format!("the user lines of the configuration: {e}")))?;
    let mut out = Vec::new();
    for line in &lines {
        let Some(name) = line.first() else { continue };
        if let Some(u) = acl.user(name.as_bytes()) {
            out.retain(|(n, _): &(String, User)| n != name);
            out.push((name.clone(), u.clone()));
        }
    }
    Ok(out)
}

/// The rules of the command line, plus the password from standard input as its hash.
fn rules_with_password(rules: &[String], password_stdin: bool) -> Result<Vec<String>> {
    if let Some(r) = rules.iter().find(|r| r.starts_with('>') || r.starts_with('<')) {
        let kind = if r.starts_with('>') { '>' } else { '<' };
        return Err(usage(format!(
            "a password is never taken on the command line (other users of the host can read it): leave out the '{kind}...' rule and give the password on standard input with --password-stdin"
        )));
    }
    let mut out = rules.to_vec();
    if password_stdin {
        let password = super::read_secret("password")?;
        out.push(format!("#{}", crate::util::sha256::hex(password.as_bytes())));
    }
    Ok(out)
}

/// The user as it will be: `rules` applied (ACL SETUSER's way) to the existing one or a new one.
/// Returns its line's values (name, then the rules ACL LIST shows).
fn updated(acl: &mut Acl, name: &str, rules: &[String]) -> Result<Vec<String>> {
    let refs: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
    acl.set_user(name.as_bytes(), &refs).map_err(|e| usage(format!("user {name}: {e}")))?;
    let user = acl.user(name.as_bytes()).ok_or_else(|| fail(format!("user {name}: not created")))?;
    let mut values = vec![name.to_string()];
    values.extend(user.describe(acl.env()).split(' ').filter(|w| !w.is_empty()).map(str::to_string));
    Ok(values)
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || crate::acl::has_spaces(name.as_bytes()) {
        return Err(usage(format!("invalid user name '{name}': it cannot be empty or contain spaces")));
    }
    Ok(())
}

/// `user add|set|del NAME [RULES...]`.
pub fn change(
    cli: &Run,
    server: Option<&Target>,
    action: Action,
    name: &str,
    rules: &[String],
    password_stdin: bool,
) -> Result<()> {
    check_name(name)?;
    if matches!(action, Action::Del) && (!rules.is_empty() || password_stdin) {
        return Err(usage("user del takes a user name only"));
    }
    let set = ConfSet::load(&cli.config)?;
    let mut acl = engine(&set);
    let store = store(&set, &cli.config)?;
    let (users, acl_text) = match &store {
        Store::AclFile(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(fail(files::io_error(path, &e, false))),
            };
            let users = parse_acl_file(&acl, path, &text)?;
            for (n, u) in &users {
                acl.users_mut().insert(n.as_bytes().to_vec(), u.clone());
            }
            (users, Some(text))
        }
        Store::ConfigLines => (config_users(&mut acl, &set)?, None),
    };
    let exists = users.iter().any(|(n, _)| n == name);
    match action {
        Action::Add if exists => {
            return Err(fail(format!("user {name} already exists: change it with 'redisctl user set {name} RULES...'")))
        }
        Action::Set | Action::Del if !exists => {
            return Err(fail(format!(
                "no user {name} in the configuration: add it with 'redisctl user add {name} RULES...'"
            )))
        }
        Action::Del if name == "default" => {
            return Err(usage("The 'default' user cannot be removed: disable it with 'redisctl user set default off'"))
        }
        _ => {}
    }
    let (line, rules) = match action {
        Action::Del => (None, Vec::new()),
        Action::Add | Action::Set => {
            let rules = rules_with_password(rules, password_stdin)?;
            if rules.is_empty() && matches!(action, Action::Set) {
                return Err(usage("user set needs rules to apply (e.g. 'on', '+@read', '~app:*')"));
            }
            (Some(updated(&mut acl, name, &rules)?), rules)
        }
    };
    match store {
        Store::AclFile(path) => {
            edit_acl_file(cli, &path, acl_text.unwrap_or_default(), &acl, name, line.as_deref())?;
            apply_to_server(cli, server, ServerChange::Acl(vec!["ACL".into(), "LOAD".into()]), Live::Yes)
        }
        Store::ConfigLines => {
            edit_config_lines(cli, set, name, line.as_deref())?;
            // The same rules, applied by the server to its user as they were to the file's: a
            // `reset` and the whole line would differ (reset adds sanitize-payload), and
            // DELUSER first would disconnect the user's clients.
            let args = match &line {
                Some(_) => {
                    let mut args = vec!["ACL".to_string(), "SETUSER".into(), name.to_string()];
                    args.extend(rules);
                    args
                }
                None => vec!["ACL".into(), "DELUSER".into(), name.to_string()],
            };
            apply_to_server(cli, server, ServerChange::Acl(args), Live::Yes)
        }
    }
}

/// redis.conf's `user` lines: the user's line changes where it is (or goes away), a new one goes
/// after the other user lines or their commented template.
fn edit_config_lines(cli: &Run, mut set: ConfSet, name: &str, line: Option<&[String]>) -> Result<()> {
    let target = set.find("user", &[]).map(|f| f.file).unwrap_or_else(|| cli.config.clone());
    let doc = set.doc_mut(&target).ok_or_else(|| fail(format!("{}: not loaded", target.display())))?;
    let before = doc.render();
    let has_line = doc.get_all("user", &[]).iter().any(|(_, v)| v.first().is_some_and(|n| n == name));
    match line {
        Some(values) if !has_line => {
            let anchor = super::edit::group_anchor(doc, "user");
            doc.insert_after(anchor, "user", &[values.to_vec()]);
        }
        _ => {
            // Every user line keeps its place; this user's is replaced or dropped.
            let others: Vec<Vec<String>> = doc
                .get_all("user", &[])
                .into_iter()
                .map(|(_, v)| v)
                .filter(|v| v.first().is_none_or(|n| n != name))
                .collect();
            let mut keyed: Vec<crate::config::document::KeyedLine> =
                others.into_iter().map(|values| keyed_user(values)).collect();
            if let Some(values) = line {
                keyed.push(keyed_user(values.to_vec()));
            }
            doc.rewrite_lines(&["user"], &keyed);
        }
    }
    if doc.render() == before {
        cli.say(&format!("user {name} is already so in {}; nothing changed", target.display()));
        cli.report.borrow_mut().file = target.display().to_string();
        return Ok(());
    }
    let shown: Vec<Vec<String>> = line.map(|v| vec![v.to_vec()]).unwrap_or_default();
    finish(cli, &mut set, &target, &before, "user", &shown, false)
}

fn keyed_user(values: Vec<String>) -> crate::config::document::KeyedLine<'static> {
    crate::config::document::KeyedLine { name: "user", aliases: &[], values, identity: 1, add_if_missing: true }
}

/// The ACL file: the user's line replaced where it is, appended, or dropped; the result checked
/// as ACL LOAD checks it, then written atomically (ACL SAVE's way) under redisctl's lock.
fn edit_acl_file(cli: &Run, path: &Path, before: String, acl: &Acl, name: &str, line: Option<&[String]>) -> Result<()> {
    let new_line = line.map(|v| format!("user {}", v.join(" ")));
    let mut lines: Vec<String> = Vec::new();
    let mut placed = false;
    for l in before.lines() {
        let is_this = l.split_ascii_whitespace().nth(1) == Some(name) && l.trim_start().starts_with("user ");
        if !is_this {
            lines.push(l.to_string());
        } else if let (Some(n), false) = (&new_line, placed) {
            lines.push(n.clone());
            placed = true;
        }
    }
    if let (Some(n), false) = (&new_line, placed) {
        lines.push(n.clone());
    }
    let mut after = lines.join("\n");
    if !after.is_empty() {
        after.push('\n');
    }
    parse_acl_file(acl, path, &after)?;
    let diff = files::unified_diff(path, &before, &after);
    {
        let mut r = cli.report.borrow_mut();
        r.file = path.display().to_string();
        if after == before {
            drop(r);
            cli.say(&format!("user {name} is already so in {}; nothing changed", path.display()));
            return Ok(());
        }
        r.changed = true;
        r.diff.push_str(&diff);
    }
    if cli.dry_run {
        if !cli.json {
            print!("{diff}");
        }
        return Ok(());
    }
    let _lock = files::lock_dir_of(path)?;
    let current = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(fail(files::io_error(path, &e, false))),
    };
    if current != before {
        return Err(fail(format!(
            "{} changed while redisctl was editing it; nothing was written, run the command again",
            path.display()
        )));
    }
    crate::acl::file::save(&path.display().to_string(), after.as_bytes()).map_err(fail)?;
    cli.saved.borrow_mut().push(Saved { path: path.to_path_buf(), before, after });
    let what = if line.is_some() { "saved" } else { "removed" };
    cli.say(&format!("{}: user {name} {what}", path.display()));
    Ok(())
}

/// One user as `user list --json` shows it.
#[derive(Serialize)]
struct Listed {
    name: String,
    /// The rules as ACL LIST shows them (passwords as their `#<sha256>` hashes).
    rules: String,
}

/// `user list`: the users of the aclfile or of the user lines, as ACL LIST shows them.
pub fn list(cli: &Run) -> Result<()> {
    let set = ConfSet::load(&cli.config)?;
    let mut acl = engine(&set);
    let (users, from) = match store(&set, &cli.config)? {
        Store::AclFile(path) => {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(fail(files::io_error(&path, &e, false))),
            };
            (parse_acl_file(&acl, &path, &text)?, path)
        }
        Store::ConfigLines => (config_users(&mut acl, &set)?, cli.config.clone()),
    };
    let env = acl.env();
    let listed: Vec<Listed> = users.iter().map(|(n, u)| Listed { name: n.clone(), rules: u.describe(env) }).collect();
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            file: String,
            users: &'a [Listed],
        }
        let out = Out { file: from.display().to_string(), users: &listed };
        println!("{}", serde_json::to_string(&out).map_err(|e| fail(e.to_string()))?);
    } else if listed.is_empty() {
        cli.say(&format!("no users in {} (only the default user, from requirepass)", from.display()));
    } else {
        for u in &listed {
            println!("user {} {}", u.name, u.rules);
        }
    }
    Ok(())
}
