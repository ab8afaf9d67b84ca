//! man/redisctl.1 must document what `redisctl --help` offers: the same subcommands (nested ones such
//! as `sentinel monitor` included) under COMMANDS, and every global long option under OPTIONS.

use std::collections::BTreeSet;
use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_redisctl"))
        .args(args)
        .arg("--help")
        .env("NO_COLOR", "1")
        .output()
        .expect("run redisctl --help");
    assert!(out.status.success(), "redisctl {args:?} --help failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The lines of a clap help section ("Commands:", "Options:"), up to the next section heading.
fn help_section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| l.trim_end() != heading)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

/// Subcommand names of a clap help text (clap's own `help` left out).
fn help_commands(help: &str) -> Vec<String> {
    help_section(help, "Commands:")
        .into_iter()
        // An entry starts two spaces in; a wrapped description would be indented further.
        .filter_map(|l| l.strip_prefix("  ").filter(|rest| !rest.starts_with(' ')))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every subcommand path of redisctl: "bind", ..., and "sentinel monitor" for nested ones.
fn cli_commands() -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    let top = help_commands(&help(&[]));
    assert!(top.len() >= 5, "no subcommands parsed from redisctl --help:\n{}", help(&[]));
    for cmd in top {
        let nested = help_commands(&help(&[&cmd]));
        if nested.is_empty() {
            all.insert(cmd);
        } else {
            all.extend(nested.into_iter().map(|sub| format!("{cmd} {sub}")));
        }
    }
    all
}

/// Long options (`--name`) listed under "Options:" of `redisctl --help`.
fn cli_long_options() -> BTreeSet<String> {
    let help = help(&[]);
    let options: BTreeSet<String> = help_section(&help, "Options:")
        .into_iter()
        // Option lines start with `-`; their descriptions are indented further.
        .filter(|l| {
            let trimmed = l.trim_start();
            trimmed.starts_with('-') && l.len() - trimmed.len() <= 6
        })
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '<'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect();
    assert!(options.contains("--config"), "no options parsed from redisctl --help:\n{help}");
    options
}

fn man_page() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/man/redisctl.1");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A roff line with its escapes resolved to plain text (`\-` to `-`, font changes dropped).
fn unroff(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('-') => out.push('-'),
            Some('e') => out.push('\\'),
            Some(' ') => out.push(' '),
            Some('&') | Some('c') | Some('%') | None => {}
            // \fB, \fI, \fR, \fP, \f(CW...
            Some('f') => match chars.next() {
                Some('(') => {
                    chars.next();
                    chars.next();
                }
                Some('[') => while chars.next().is_some_and(|c| c != ']') {},
                _ => {}
            },
            // \(aq, \(bu ...
            Some('(') => {
                let name: String = [chars.next(), chars.next()].into_iter().flatten().collect();
                out.push_str(match name.as_str() {
                    "aq" => "'",
                    "dq" => "\"",
                    _ => "",
                });
            }
            Some(other) => out.push(other),
        }
    }
    out
}

/// The arguments of a macro line, split as roff does (double quotes group words).
fn macro_args(rest: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let Some(&first) = chars.peek() else { break };
        let mut arg = String::new();
        if first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.next_if_eq(&'"').is_some() {
                        arg.push('"');
                        continue;
                    }
                    break;
                }
                arg.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ' ' && *c != '\t') {
                arg.push(c);
            }
        }
        args.push(arg);
    }
    args
}

/// The tag lines of the top-level `.TP` entries of one `.SH` section (entries inside `.RS`/`.RE`
/// blocks are nested lists, not entries of the section).
fn man_tags(man: &str, section: &str) -> Vec<String> {
    let mut in_section = false;
    let mut depth = 0usize;
    let mut tags = Vec::new();
    let mut lines = man.lines();
    while let Some(line) = lines.next() {
        if let Some(heading) = line.strip_prefix(".SH") {
            in_section = macro_args(heading).join(" ") == section;
            depth = 0;
            continue;
        }
        if !in_section {
            continue;
        }
        match line.split_whitespace().next() {
            Some(".RS") => depth += 1,
            Some(".RE") => depth = depth.saturating_sub(1),
            Some(".TP") if depth == 0 => {
                // The tag is the next line that is not a comment.
                if let Some(tag) = lines.by_ref().find(|l| !l.starts_with(".\\\"")) {
                    tags.push(tag.to_string());
                }
            }
            _ => {}
        }
    }
    tags
}

/// The command an entry of COMMANDS documents: the bold words its tag starts with, e.g.
/// `.BI "sentinel monitor " "name host port quorum"` documents "sentinel monitor".
fn man_command(tag: &str) -> String {
    let (mac, rest) = tag.split_once(' ').unwrap_or((tag, ""));
    let args = macro_args(rest);
    let bold = match mac {
        // All of `.B`'s arguments are bold, but a command's arguments follow it: `.B "requirepass --stdin"`.
        ".B" => args.join(" "),
        ".BI" | ".BR" => args.first().cloned().unwrap_or_default(),
        _ => panic!("COMMANDS entry tag should be .B, .BI or .BR with the command in bold: {tag:?}"),
    };
    let words: Vec<String> = unroff(&bold).split_whitespace().map(str::to_string).collect();
    // A command is one or more words without option dashes: "sentinel set", "protected-mode".
    words.into_iter().take_while(|w| !w.starts_with('-')).collect::<Vec<_>>().join(" ")
}

fn man_commands() -> BTreeSet<String> {
    let tags = man_tags(&man_page(), "COMMANDS");
    assert!(!tags.is_empty(), "man/redisctl.1 has no .TP entries under .SH COMMANDS");
    tags.iter().map(|t| man_command(t)).collect()
}

/// Long options named in the tags of the OPTIONS entries.
fn man_long_options() -> BTreeSet<String> {
    let tags = man_tags(&man_page(), "OPTIONS");
    assert!(!tags.is_empty(), "man/redisctl.1 has no .TP entries under .SH OPTIONS");
    tags.iter()
        .flat_map(|t| {
            let (_, rest) = t.split_once(' ').unwrap_or((t, ""));
            macro_args(rest).iter().map(|a| unroff(a)).collect::<Vec<_>>()
        })
        .flat_map(|a| a.split(|c: char| c.is_whitespace() || c == ',').map(str::to_string).collect::<Vec<_>>())
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect()
}

#[test]
fn man_page_documents_every_subcommand() {
    let cli = cli_commands();
    let man = man_commands();
    for expected in ["sentinel monitor", "sentinel set", "completions", "replicaof", "bind"] {
        assert!(cli.contains(expected), "parsing `redisctl --help` missed {expected:?}: {cli:?}");
    }
    let undocumented: Vec<&String> = cli.difference(&man).collect();
    let stale: Vec<&String> = man.difference(&cli).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "man/redisctl.1 COMMANDS and `redisctl --help` disagree:\n  \
         in --help, missing from the man page: {undocumented:?}\n  \
         in the man page, not a redisctl command: {stale:?}"
    );
}

#[test]
fn man_page_documents_every_global_option() {
    let cli = cli_long_options();
    let man = man_long_options();
    let undocumented: Vec<&String> = cli.difference(&man).collect();
    let stale: Vec<&String> = man.difference(&cli).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "man/redisctl.1 OPTIONS and `redisctl --help` disagree:\n  \
         in --help, missing from the man page: {undocumented:?}\n  \
         in the man page, not a global option: {stale:?}"
    );
}

#[test]
fn roff_parsing() {
    assert_eq!(macro_args(r#""sentinel monitor " "name host"  x"#), ["sentinel monitor ", "name host", "x"]);
    assert_eq!(unroff(r"\fB\-\-dry\-run\fR \(aqx\(aq"), "--dry-run 'x'");
    assert_eq!(man_command(r#".BI "sentinel set " "name option""#), "sentinel set");
    assert_eq!(man_command(r#".B "requirepass \-\-stdin""#), "requirepass");
    assert_eq!(man_command(r#".BR "protected\-mode " yes | no"#), "protected-mode");
    assert_eq!(man_command(".B show"), "show");
}
