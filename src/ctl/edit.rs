//! One edit of a config file: change the lines, check the whole result as the server would at
//! start-up, then print the diff (--dry-run) or save atomically under a lock; and what the edit
//! did, for the prose output and for --json.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::files::{self, ConfSet};
use super::{fail, Cli, Result};
use crate::config::document::ConfigDocument;

/// What an edit command did, as `--json` reports it.
#[derive(Serialize, Debug, Default, Clone)]
pub struct EditReport {
    /// Whether a file changed (with --dry-run: would change).
    pub changed: bool,
    /// The file the change is (or would be) in.
    pub file: String,
    /// The unified diff of the change; secrets masked. Empty when nothing changed or when a
    /// running Sentinel made the change (it rewrites its file itself).
    pub diff: String,
    /// What --apply did to the running service; null without --apply.
    pub applied: Option<String>,
}

/// A file written by this run, kept so a change the running server refuses can be undone.
pub struct Saved {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// One run of redisctl: the command line, and what the edit did so far.
pub struct Run<'a> {
    pub cli: &'a Cli,
    pub report: RefCell<EditReport>,
    pub saved: RefCell<Vec<Saved>>,
}

impl std::ops::Deref for Run<'_> {
    type Target = Cli;
    fn deref(&self) -> &Cli {
        self.cli
    }
}

impl Run<'_> {
    /// Prose for the admin: not with --quiet, and not with --json (stdout is the JSON then).
    pub fn say(&self, msg: &str) {
        if !self.cli.quiet && !self.cli.json {
            println!("{msg}");
        }
    }

    /// What --apply did; several steps (SENTINEL REMOVE, MONITOR, SET...) add up.
    pub fn applied(&self, msg: String) {
        self.say(&msg);
        let mut r = self.report.borrow_mut();
        match &mut r.applied {
            Some(all) => {
                all.push_str("; ");
                all.push_str(&msg);
            }
            None => r.applied = Some(msg),
        }
    }

    fn unchanged(&self, file: &Path, msg: &str) {
        self.say(msg);
        let mut r = self.report.borrow_mut();
        r.file = file.display().to_string();
    }
}

pub fn describe(values: &[Vec<String>]) -> String {
    if values.is_empty() {
        "not set".to_string()
    } else {
        values.iter().map(|v| v.join(" ")).collect::<Vec<_>>().join(", ")
    }
}

/// Changes one directive where it is in effect. Returns false when it already had that value.
pub fn edit(
    cli: &Run,
    main: &Path,
    key: &str,
    aliases: &[&str],
    values: Vec<Vec<String>>,
    secret: bool,
) -> Result<bool> {
    edit_in_group(cli, main, key, aliases, values, secret, None)
}

/// Like [`edit`] for one line of a directive that has several (`rename-command CONFIG`, a class
/// of `client-output-buffer-limit`): a new line goes after the directive's other lines, else
/// after its commented template, rather than at the end of the file.
pub fn edit_in_group(
    cli: &Run,
    main: &Path,
    key: &str,
    aliases: &[&str],
    values: Vec<Vec<String>>,
    secret: bool,
    group: Option<&str>,
) -> Result<bool> {
    let mut set = ConfSet::load(main)?;
    // Included files first, so an error in one names that file rather than the include line.
    for d in set.docs.iter().rev() {
        files::check_text(d.path(), &d.render())?;
    }
    let target = set.find(key, aliases).map(|f| f.file).unwrap_or_else(|| main.to_path_buf());
    let Some(doc) = set.doc_mut(&target) else { return Err(fail(format!("{}: not loaded", target.display()))) };
    let before = doc.render();
    let anchor =
        group.filter(|_| doc.get(key, aliases).is_none() && !values.is_empty()).and_then(|g| group_anchor(doc, g));
    let changed = match anchor {
        Some(line) => {
            doc.insert_after(Some(line), key, &values);
            true
        }
        None => doc.set(key, aliases, &values),
    };
    if !changed {
        let shown = if secret { "(the same secret)".to_string() } else { describe(&values) };
        cli.unchanged(&target, &format!("{key} is already {shown} in {}; nothing changed", target.display()));
        return Ok(false);
    }
    finish(cli, &mut set, &target, &before, key, &values, secret)?;
    Ok(true)
}

/// The last active line of directive `group`, else its last commented template (`# NAME value`).
pub(super) fn group_anchor(doc: &ConfigDocument, group: &str) -> Option<usize> {
    let active = doc.directives().filter(|(_, d, _)| *d == group).map(|(l, _, _)| l).last();
    active.or_else(|| {
        doc.lines()
            .iter()
            .rposition(|l| {
                let Some(comment) = l.text.trim_start().strip_prefix('#') else { return false };
                let mut words = comment.split_ascii_whitespace();
                words.next() == Some(group) && words.next().is_some()
            })
            .map(|i| i + 1)
    })
}

/// Checks the edited file (and the whole configuration it is part of) as the server would at
/// start-up, then prints the diff (dry run) or saves it.
pub fn finish(
    cli: &Run,
    set: &mut ConfSet,
    file: &Path,
    before: &str,
    key: &str,
    values: &[Vec<String>],
    secret: bool,
) -> Result<()> {
    let main = set.docs.first().map(|d| d.path().to_path_buf()).unwrap_or_default();
    let doc = set.doc_mut(file).ok_or_else(|| fail(format!("{}: not loaded", file.display())))?;
    let after = check_edit(cli, doc)?;
    if main != cli.sentinel_config {
        whole_config(set)?;
    }
    let doc = set.doc_mut(file).ok_or_else(|| fail(format!("{}: not loaded", file.display())))?;
    let mut diff = files::unified_diff(doc.path(), before, &after);
    if secret {
        diff = mask_secret_lines(&diff, key);
    }
    {
        let mut r = cli.report.borrow_mut();
        r.changed = true;
        r.file = doc.path().display().to_string();
        r.diff.push_str(&diff);
    }
    if cli.dry_run {
        if !cli.json {
            print!("{diff}");
        }
        return Ok(());
    }
    // The lock serialises writers; a file changed by someone else since it was read is not
    // overwritten. Dry runs and no-op edits never get here, so they need no lock file.
    let _lock = files::lock_dir_of(doc.path())?;
    let current = std::fs::read(doc.path()).map_err(|e| fail(files::io_error(doc.path(), &e, false)))?;
    if current != before.as_bytes() {
        return Err(fail(format!(
            "{} changed while redisctl was editing it; nothing was written, run the command again",
            doc.path().display()
        )));
    }
    doc.save().map_err(|e| fail(files::io_error(doc.path(), &e, true)))?;
    cli.saved.borrow_mut().push(Saved {
        path: doc.path().to_path_buf(),
        before: before.to_string(),
        after: after.clone(),
    });
    let shown = if secret { "(secret)".to_string() } else { describe(values) };
    cli.say(&format!("{}: {key} {shown}", doc.path().display()));
    Ok(())
}

/// Puts back the files this run saved (latest first), unless someone changed one since.
/// Returns what was done.
pub fn roll_back(cli: &Run) -> Result<String> {
    let saved: Vec<Saved> = std::mem::take(&mut *cli.saved.borrow_mut());
    if saved.is_empty() {
        return Ok("the file was not changed".into());
    }
    let mut done = Vec::new();
    for s in saved.iter().rev() {
        let _lock = files::lock_dir_of(&s.path)?;
        let current = std::fs::read(&s.path).map_err(|e| fail(files::io_error(&s.path, &e, false)))?;
        if current != s.after.as_bytes() {
            done.push(format!("{} changed meanwhile and was left as it is", s.path.display()));
            continue;
        }
        ConfigDocument::parse(&s.path, &s.before).save().map_err(|e| fail(files::io_error(&s.path, &e, true)))?;
        done.push(format!("{} was restored to what it was", s.path.display()));
    }
    let mut r = cli.report.borrow_mut();
    r.changed = false;
    r.diff.clear();
    done.dedup();
    Ok(done.join("; "))
}

/// Checks an edited file with the server's parser, and sentinel.conf with Sentinel's too (e.g. a
/// host name needs resolve-hostnames). Returns the edited text.
pub fn check_edit(cli: &Cli, doc: &ConfigDocument) -> Result<String> {
    let after = doc.render();
    files::check_text(doc.path(), &after)?;
    if doc.path() == cli.sentinel_config {
        let edited = ConfigDocument::parse(doc.path(), &after);
        let statements = crate::sentinel::config::statements(&edited);
        if let Err(bad) = crate::sentinel::config::parse(&statements) {
            let e = bad.error;
            return Err(fail(format!("{}:{}: '{}': {}", doc.path().display(), e.line_no, e.line, e.reason)));
        }
    }
    Ok(after)
}

/// The server's start-up checks on the configuration as a whole (the main file with its included
/// files as edited): what parses line by line may still not start, e.g. `bind 127.0.0.1 127.0.0.1`.
pub fn whole_config(set: &ConfSet) -> Result<()> {
    let text = inlined(set, 0, 0);
    let main = set.docs.first().map(|d| d.path().display().to_string()).unwrap_or_default();
    let cfg = crate::config::Config::validate(&text).map_err(|e| fail(format!("{main}: {}", e.reason)))?;
    crate::config::preflight::check(&cfg)
        .map_err(|why| fail(format!("{main}: the server would not start with this: {why}")))?;
    // The users (user lines or the ACL file), loaded as the server loads them at start-up.
    crate::server::startup_acl(&cfg, crate::commands::DISPATCH.table, false)
        .map(|_| ())
        .map_err(|why| fail(format!("{main}: the server would not start with this: {}", why.replace('\n', ": "))))
}

/// The text of `set.docs[doc]` with each include line replaced by the included file's text.
fn inlined(set: &ConfSet, doc: usize, depth: usize) -> String {
    let mut out = String::new();
    for line in set.docs[doc].lines() {
        match line.directive() {
            Some(("include", [included, ..])) if depth < 16 => {
                if let Some(child) = set.docs.iter().position(|d| d.path() == Path::new(included)) {
                    out.push_str(&inlined(set, child, depth + 1));
                    out.push('\n');
                    continue;
                }
                out.push_str(&line.text);
            }
            _ => out.push_str(&line.text),
        }
        out.push('\n');
    }
    out
}

/// The diff shows where a secret's line goes, never the secret: added and removed lines of the
/// directive keep only its name.
pub fn mask_secret_lines(diff: &str, key: &str) -> String {
    let words: Vec<&str> = key.split(' ').collect();
    let mut out = String::new();
    for line in diff.split_inclusive('\n') {
        let is_change =
            (line.starts_with('+') && !line.starts_with("+++")) || (line.starts_with('-') && !line.starts_with("---"));
        let body = &line[1.min(line.len())..];
        let tokens = crate::util::splitargs::split_args(body.trim_end().as_bytes()).unwrap_or_default();
        let names_it = tokens.len() > words.len()
            && tokens.iter().zip(&words).all(|(t, w)| String::from_utf8_lossy(t).eq_ignore_ascii_case(w));
        if is_change && names_it {
            out.push_str(&line[..1]);
            out.push_str(&words.join(" "));
            out.push_str(" (secret)\n");
        } else {
            out.push_str(line);
        }
    }
    out
}
