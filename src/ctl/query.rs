//! `get`, `show` and `check`: read both files as the server and Sentinel read them, as text or
//! (--json) as the structures below.

use std::path::Path;

use serde::Serialize;

use super::edit::{whole_config, Run};
use super::files::{self, ConfSet, Found};
use super::sentinel_edit::{check_sentinel_statements, sentinel_sensitive};
use super::{fail, Result};
use crate::config::table::{self, Kind, Special, SENSITIVE};

/// How an unset directive's default is shown, the same in `get` and `show`.
fn shown_default(default: &str) -> String {
    if default.is_empty() {
        "(none)".to_string()
    } else {
        default.to_string()
    }
}

const SECRET: &str = "(set)";

#[derive(Serialize)]
pub struct GetReport {
    pub directive: String,
    /// The active lines in the order the server reads them (every line for the directives that
    /// add up over several lines, else the one in effect). Empty when the default applies.
    pub lines: Vec<GetLine>,
    /// The built-in default, when no line sets the directive (null if it has none).
    pub default: Option<String>,
}

#[derive(Serialize)]
pub struct GetLine {
    /// The values after the directive's name; "(set)" for a secret.
    pub value: String,
    pub file: String,
    pub line: usize,
}

pub fn get(cli: &Run, words: &[String]) -> Result<()> {
    let name = words.join(" ").to_ascii_lowercase();
    let first = name.split_ascii_whitespace().next().unwrap_or_default().to_string();
    let (file, canonical, aliases, every_line, default): (&Path, String, &[&str], bool, Option<&str>) =
        if first == "sentinel" {
            (&cli.sentinel_config, name.clone(), &[], true, None)
        } else if first == "rename-command" {
            (&cli.config, name.clone(), &[], true, None)
        } else {
            match table::lookup(&name) {
                Some((_, spec)) => {
                    let every = matches!(spec.kind, Kind::Special(Special::Save | Special::ClientOutputBufferLimit));
                    (&cli.config, spec.name.to_string(), spec.aliases, every, Some(spec.default))
                }
                None => return Err(fail(format!("unknown directive '{name}'"))),
            }
        };
    let set = ConfSet::load(file)?;
    let secret = table::lookup(&canonical).is_some_and(|(_, s)| s.has(SENSITIVE)) || sentinel_sensitive(&canonical);
    let mut found = set.find_all(&canonical, aliases);
    if !every_line {
        found = found.pop().into_iter().collect();
    }
    let shown = |f: &Found| {
        let line_secret = secret
            || (canonical == "sentinel"
                && f.values.first().is_some_and(|o| sentinel_sensitive(&o.to_ascii_lowercase())));
        if line_secret {
            // What the secret belongs to (a master's name) is not secret; the last word is.
            let mut v: Vec<String> = f.values[..f.values.len().saturating_sub(1)].to_vec();
            v.push(SECRET.into());
            v.join(" ")
        } else {
            f.values.iter().map(|v| quoted(v)).collect::<Vec<_>>().join(" ")
        }
    };
    let report = GetReport {
        directive: canonical.clone(),
        lines: found
            .iter()
            .map(|f| GetLine { value: shown(f), file: f.file.display().to_string(), line: f.line })
            .collect(),
        default: if found.is_empty() { default.filter(|d| !d.is_empty()).map(str::to_string) } else { None },
    };
    if cli.json {
        println!("{}", serde_json::to_string(&report).map_err(|e| fail(e.to_string()))?);
        return Ok(());
    }
    if report.lines.is_empty() {
        let d = shown_default(default.unwrap_or(""));
        println!("{canonical} {d}\t(default; not set in {})", file.display());
    }
    for l in &report.lines {
        println!("{canonical} {}\t({}:{})", l.value, l.file, l.line);
    }
    Ok(())
}

/// A value as it would be written in the file: quoted when it must be (empty, blanks, quotes).
fn quoted(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '\t', '"', '\'', '\\']) {
        v.to_string()
    } else {
        crate::util::splitargs::repr(v.as_bytes())
    }
}

#[derive(Serialize)]
pub struct ShowReport {
    pub server: ShowServer,
    pub sentinel: ShowSentinel,
}

#[derive(Serialize)]
pub struct ShowServer {
    pub file: String,
    /// Why the file cannot be read or would not start the server; null when it is fine.
    pub error: Option<String>,
    pub settings: Vec<ShowSetting>,
}

#[derive(Serialize)]
pub struct ShowSetting {
    pub name: String,
    /// The value in effect ("(set)" for a secret, "(none)" when unset without a default).
    pub value: String,
    /// Whether the built-in default applies (no line sets it).
    pub default: bool,
    pub file: Option<String>,
    pub line: Option<usize>,
}

#[derive(Serialize)]
pub struct ShowSentinel {
    pub file: String,
    /// Whether the file exists (Sentinel is optional).
    pub present: bool,
    pub error: Option<String>,
    pub port: String,
    pub masters: Vec<ShowMaster>,
}

#[derive(Serialize)]
pub struct ShowMaster {
    pub name: String,
    pub host: String,
    pub port: String,
    pub quorum: String,
    pub file: String,
    pub line: usize,
    /// The master's other settings (`sentinel OPTION NAME VALUE...`), as OPTION and VALUE.
    pub settings: Vec<(String, String)>,
}

const SHOWN: [&str; 10] = [
    "bind",
    "port",
    "unixsocket",
    "protected-mode",
    "replicaof",
    "masterauth",
    "requirepass",
    "dir",
    "dbfilename",
    "appendonly",
];

fn sentinel_absent(path: &Path) -> bool {
    matches!(path.symlink_metadata(), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// Every file of the set checked as the server (or Sentinel) would read it.
fn file_problems(cli: &Run, path: &Path, set: &ConfSet) -> Vec<(String, Option<String>)> {
    let mut results: Vec<(String, Option<String>)> = set
        .docs
        .iter()
        .map(|d| (d.path().display().to_string(), files::check_text(d.path(), &d.render()).err()))
        .collect();
    if results.iter().all(|(_, e)| e.is_none()) {
        if path == cli.sentinel_config {
            // Sentinel applies its statements once every line has been read, so a bad regular
            // line is what it reports first.
            if let Err((doc, e)) = check_sentinel_statements(set) {
                results[doc].1 = Some(e.msg);
            }
        } else if let Err(e) = whole_config(set) {
            results[0].1 = Some(e.msg);
        }
    }
    results
}

pub fn show(cli: &Run) -> Result<()> {
    let mut errors = Vec::new();
    let server = match ConfSet::load(&cli.config) {
        Ok(set) => {
            let problems: Vec<String> =
                file_problems(cli, &cli.config, &set).into_iter().filter_map(|(_, e)| e).collect();
            errors.extend(problems.iter().cloned());
            let mut settings = Vec::new();
            for name in SHOWN {
                let (_, spec) = table::lookup(name).ok_or_else(|| fail(name.to_string()))?;
                settings.push(match set.find(spec.name, spec.aliases) {
                    Some(f) => ShowSetting {
                        name: name.into(),
                        value: if spec.has(SENSITIVE) { SECRET.into() } else { f.values.join(" ") },
                        default: false,
                        file: Some(f.file.display().to_string()),
                        line: Some(f.line),
                    },
                    None => ShowSetting {
                        name: name.into(),
                        value: shown_default(spec.default),
                        default: true,
                        file: None,
                        line: None,
                    },
                });
            }
            ShowServer { file: cli.config.display().to_string(), error: problems.first().cloned(), settings }
        }
        Err(e) => {
            errors.push(e.clone());
            ShowServer { file: cli.config.display().to_string(), error: Some(e), settings: Vec::new() }
        }
    };
    let mut sentinel = ShowSentinel {
        file: cli.sentinel_config.display().to_string(),
        present: !sentinel_absent(&cli.sentinel_config),
        error: None,
        port: "26379".into(),
        masters: Vec::new(),
    };
    if sentinel.present {
        match ConfSet::load(&cli.sentinel_config) {
            Ok(set) => {
                let problems: Vec<String> =
                    file_problems(cli, &cli.sentinel_config, &set).into_iter().filter_map(|(_, e)| e).collect();
                errors.extend(problems.iter().cloned());
                sentinel.error = problems.first().cloned();
                if let Some(f) = set.find("port", &[]) {
                    sentinel.port = f.values.join(" ");
                }
                for d in &set.docs {
                    for (line, v) in d.get_all("sentinel monitor", &[]) {
                        let name = v.first().cloned().unwrap_or_default();
                        let mut settings = Vec::new();
                        for doc in &set.docs {
                            for (_, directive, args) in doc.directives() {
                                if directive != "sentinel" || args.len() < 3 || args[1] != name {
                                    continue;
                                }
                                let option = args[0].to_ascii_lowercase();
                                if option == "monitor" || super::sentinel_edit::is_state_option(&option) {
                                    continue;
                                }
                                let value = if super::sentinel_edit::secret_option(&option) {
                                    SECRET.to_string()
                                } else {
                                    args[2..].join(" ")
                                };
                                settings.push((option, value));
                            }
                        }
                        sentinel.masters.push(ShowMaster {
                            name,
                            host: v.get(1).cloned().unwrap_or_default(),
                            port: v.get(2).cloned().unwrap_or_default(),
                            quorum: v.get(3).cloned().unwrap_or_default(),
                            file: d.path().display().to_string(),
                            line,
                            settings,
                        });
                    }
                }
            }
            Err(e) => {
                errors.push(e.clone());
                sentinel.error = Some(e);
            }
        }
    }
    let report = ShowReport { server, sentinel };
    if cli.json {
        println!("{}", serde_json::to_string(&report).map_err(|e| fail(e.to_string()))?);
    } else {
        print_show(&report);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(fail(errors.join("\nredisctl: ")))
    }
}

fn print_show(r: &ShowReport) {
    println!("{}:", r.server.file);
    if let Some(e) = &r.server.error {
        println!("  error: {e}");
    }
    for s in &r.server.settings {
        match (&s.file, s.line) {
            (Some(f), Some(l)) => println!("  {:<16} {}\t{f}:{l}", s.name, s.value),
            _ => println!("  {:<16} {}\t(default)", s.name, s.value),
        }
    }
    println!("{}:", r.sentinel.file);
    if !r.sentinel.present {
        println!("  (absent: Sentinel is not configured on this host)");
        return;
    }
    if let Some(e) = &r.sentinel.error {
        println!("  error: {e}");
    }
    println!("  {:<16} {}", "port", r.sentinel.port);
    for m in &r.sentinel.masters {
        println!("  master {:<9} {}:{} quorum {}\t{}:{}", m.name, m.host, m.port, m.quorum, m.file, m.line);
        for (opt, val) in &m.settings {
            println!("    {opt:<24} {val}");
        }
    }
}

#[derive(Serialize)]
pub struct CheckReport {
    pub ok: bool,
    pub files: Vec<CheckedFile>,
}

#[derive(Serialize)]
pub struct CheckedFile {
    pub file: String,
    pub present: bool,
    pub ok: bool,
    pub error: Option<String>,
}

pub fn check(cli: &Run) -> Result<()> {
    let mut files_out = Vec::new();
    for path in [&cli.config, &cli.sentinel_config] {
        // Sentinel is optional: a host without sentinel.conf is fine.
        if path == &cli.sentinel_config && sentinel_absent(path) {
            files_out.push(CheckedFile { file: path.display().to_string(), present: false, ok: true, error: None });
            continue;
        }
        match ConfSet::load(path) {
            Ok(set) => {
                for (file, error) in file_problems(cli, path, &set) {
                    files_out.push(CheckedFile { file, present: true, ok: error.is_none(), error });
                }
            }
            Err(e) => files_out.push(CheckedFile {
                file: path.display().to_string(),
                present: path.exists(),
                ok: false,
                error: Some(e),
            }),
        }
    }
    let report = CheckReport { ok: files_out.iter().all(|f| f.ok), files: files_out };
    if cli.json {
        println!("{}", serde_json::to_string(&report).map_err(|e| fail(e.to_string()))?);
    } else {
        for f in &report.files {
            match (&f.error, f.present) {
                (None, true) => cli.say(&format!("{}: OK", f.file)),
                (None, false) => cli.say(&format!("{}: absent (Sentinel is not configured on this host)", f.file)),
                (Some(_), _) => {}
            }
        }
    }
    let errors: Vec<&str> = report.files.iter().filter_map(|f| f.error.as_deref()).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(fail(errors.join("\nredisctl: ")))
    }
}
