//! redisctl: edit /etc/redis/redis.conf and sentinel.conf in place, keeping every other byte, and
//! optionally apply the change to the running service. Built on the server's config-file engine
//! (`config::document`) and its parser (`config::Config`).

mod apply;
mod files;
mod socket_unit;
pub mod validate;

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use files::ConfSet;

#[derive(Parser, Debug)]
#[command(
    name = "redisctl",
    version,
    about = "Edit /etc/redis/redis.conf and /etc/redis/sentinel.conf in place, keeping every comment, and optionally apply the change to the running service.",
    long_about = "Edit /etc/redis/redis.conf and /etc/redis/sentinel.conf in place.\n\nOnly the affected line changes: an active directive is replaced where it stands (aliases such as slaveof included), an absent one goes right after its commented template line (e.g. '# replicaof <masterip> <masterport>') or at the end. Files are written atomically and keep their owner, group and mode. Setting a value that is already set changes nothing.\n\nExit codes: 0 success, 1 invalid input or file, 2 usage."
)]
pub struct Cli {
    /// The server's config file.
    #[arg(long, global = true, value_name = "PATH", default_value = "/etc/redis/redis.conf")]
    pub config: PathBuf,
    /// Sentinel's config file.
    #[arg(long = "sentinel-config", global = true, value_name = "PATH", default_value = "/etc/redis/sentinel.conf")]
    pub sentinel_config: PathBuf,
    /// Print a unified diff of the change and write nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Also apply the change to the running server or Sentinel (see the man page).
    #[arg(long, global = true)]
    pub apply: bool,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Set the addresses the server listens on (IPv4, IPv6, '*', '::*'; a '-' prefix makes one optional).
    Bind {
        #[arg(required = true, value_name = "ADDRESS", allow_hyphen_values = true)]
        addresses: Vec<String>,
    },
    /// Make the server a replica of HOST PORT, or stop replicating with 'replicaof no one'.
    Replicaof {
        #[arg(value_name = "HOST|no")]
        host: String,
        #[arg(value_name = "PORT|one")]
        port: String,
    },
    /// Set the quorum of a monitored master: 'quorum MASTER N', or 'quorum N' when sentinel.conf monitors one master.
    Quorum {
        #[arg(value_name = "MASTER", num_args = 1..=2, required = true)]
        args: Vec<String>,
    },
    /// Edit Sentinel's monitoring configuration.
    Sentinel {
        #[command(subcommand)]
        command: SentinelCmd,
    },
    /// Turn protected mode on or off.
    ProtectedMode {
        #[arg(value_enum)]
        value: YesNo,
    },
    /// Set the TCP port the server listens on.
    Port { port: String },
    /// Set the password clients must give (read from standard input, never from the command line).
    Requirepass {
        /// Read the password from standard input (required: secrets never go on the command line).
        #[arg(long, required = true)]
        stdin: bool,
    },
    /// Set the password a replica uses with its master (read from standard input).
    Masterauth {
        /// Read the password from standard input (required: secrets never go on the command line).
        #[arg(long, required = true)]
        stdin: bool,
    },
    /// Print a directive's effective value, with the file and line it comes from.
    Get { directive: String },
    /// Print the settings the replication and Sentinel guides talk about, for both files.
    Show,
    /// Check both files with the server's own parser, and the sentinel statements as Sentinel reads them.
    Check,
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
pub enum SentinelCmd {
    /// Start monitoring a master: sentinel monitor NAME HOST PORT QUORUM.
    Monitor { name: String, host: String, port: String, quorum: String },
    /// Change a monitored master's setting (auth-pass is read from standard input).
    Set {
        name: String,
        #[arg(value_enum)]
        option: SentinelOption,
        /// The new value (not for auth-pass, which is read from standard input).
        value: Option<String>,
        /// Read the value from standard input (required for auth-pass).
        #[arg(long)]
        stdin: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum YesNo {
    Yes,
    No,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentinelOption {
    DownAfterMilliseconds,
    FailoverTimeout,
    ParallelSyncs,
    AuthPass,
}

impl SentinelOption {
    pub fn name(self) -> &'static str {
        match self {
            SentinelOption::DownAfterMilliseconds => "down-after-milliseconds",
            SentinelOption::FailoverTimeout => "failover-timeout",
            SentinelOption::ParallelSyncs => "parallel-syncs",
            SentinelOption::AuthPass => "auth-pass",
        }
    }
}

/// An error and the exit code it ends with.
struct Failure {
    msg: String,
    code: i32,
}

type Result<T> = std::result::Result<T, Failure>;

impl From<String> for Failure {
    fn from(msg: String) -> Failure {
        fail(msg)
    }
}

/// Invalid input or file: exit code 1.
fn fail(msg: impl Into<String>) -> Failure {
    Failure { msg: msg.into(), code: 1 }
}

/// Wrong use of the command line: exit code 2, like clap's own usage errors.
fn usage(msg: impl Into<String>) -> Failure {
    Failure { msg: msg.into(), code: 2 }
}

/// Runs redisctl with the process arguments; returns the exit code.
pub fn main(args: Vec<std::ffi::OsString>) -> i32 {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`redisctl completions bash | head`).
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse_from(globals_before_bind(args)) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(&cli) {
        Ok(()) => 0,
        Err(Failure { msg, code }) => {
            eprintln!("redisctl: {msg}");
            code
        }
    }
}

fn say(cli: &Cli, msg: &str) {
    if !cli.quiet {
        println!("{msg}");
    }
}

fn read_secret(what: &str) -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| fail(format!("reading {what} from standard input: {e}")))?;
    let s = s.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&s).to_string();
    if s.is_empty() {
        return Err(fail(format!("no {what} on standard input")));
    }
    Ok(s)
}

fn run(cli: &Cli) -> Result<()> {
    // Where the running server is must be read before the file changes (port and bind edits).
    let server = if cli.apply && !cli.dry_run { Some(apply::target(&cli.config, 6379)?) } else { None };
    let apply_server = |change: apply::ServerChange| -> Result<()> {
        match &server {
            Some(t) => {
                let report = apply::server(t, change)?;
                say(cli, &report);
                Ok(())
            }
            None => Ok(()),
        }
    };
    match &cli.command {
        Cmd::Bind { addresses } => {
            for a in addresses {
                validate::bind_address(a)?;
            }
            edit(cli, &cli.config, "bind", &[], vec![addresses.clone()], false)?;
            if sync_socket_unit(cli)? {
                return Ok(());
            }
            apply_server(apply::ServerChange::ConfigSet("bind", addresses.join(" ")))
        }
        Cmd::Replicaof { host, port } => {
            if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
                edit(cli, &cli.config, "replicaof", &["slaveof"], vec![], false)?;
                return apply_server(apply::ServerChange::Replicaof(None));
            }
            validate::host(host)?;
            let p = validate::port(port)?;
            edit(cli, &cli.config, "replicaof", &["slaveof"], vec![vec![host.clone(), p.to_string()]], false)?;
            apply_server(apply::ServerChange::Replicaof(Some((host.clone(), p))))
        }
        Cmd::ProtectedMode { value } => {
            let v = if *value == YesNo::Yes { "yes" } else { "no" };
            edit(cli, &cli.config, "protected-mode", &[], vec![vec![v.to_string()]], false)?;
            apply_server(apply::ServerChange::ConfigSet("protected-mode", v.to_string()))
        }
        Cmd::Port { port } => {
            let p = validate::port(port)?;
            edit(cli, &cli.config, "port", &[], vec![vec![p.to_string()]], false)?;
            if sync_socket_unit(cli)? {
                return Ok(());
            }
            apply_server(apply::ServerChange::ConfigSet("port", p.to_string()))
        }
        Cmd::Requirepass { .. } => {
            let pass = read_secret("password")?;
            edit(cli, &cli.config, "requirepass", &[], vec![vec![pass.clone()]], true)?;
            apply_server(apply::ServerChange::ConfigSet("requirepass", pass))
        }
        Cmd::Masterauth { .. } => {
            let pass = read_secret("password")?;
            edit(cli, &cli.config, "masterauth", &[], vec![vec![pass.clone()]], true)?;
            apply_server(apply::ServerChange::ConfigSet("masterauth", pass))
        }
        Cmd::Quorum { args } => {
            let (name, q) = match args.as_slice() {
                [q] => (only_master(&cli.sentinel_config)?, q.clone()),
                [name, q] => (name.clone(), q.clone()),
                _ => return Err(usage("usage: redisctl quorum [MASTER] N")),
            };
            let q = validate::quorum(&q)?;
            let set = ConfSet::load(&cli.sentinel_config)?;
            let monitor = monitored(&set, &name).ok_or_else(|| {
                fail(format!("{}: no master named '{name}' is monitored", cli.sentinel_config.display()))
            })?;
            let values = vec![name.clone(), monitor[1].clone(), monitor[2].clone(), q.to_string()];
            // A running Sentinel changes a monitored master's quorum with SENTINEL SET (MONITOR
            // would refuse the duplicated name).
            sentinel_edit(cli, "sentinel monitor", values, &["set", &name, "quorum", &q.to_string()])
        }
        Cmd::Sentinel { command: SentinelCmd::Monitor { name, host, port, quorum } } => {
            validate::master_name(name)?;
            validate::host(host)?;
            let p = validate::port(port)?;
            let q = validate::quorum(quorum)?;
            let set = ConfSet::load(&cli.sentinel_config)?;
            let values = vec![name.clone(), host.clone(), p.to_string(), q.to_string()];
            match monitored(&set, name) {
                None => {
                    let args =
                        ["monitor", name.as_str(), host.as_str(), &p.to_string(), &q.to_string()].map(str::to_string);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    sentinel_add_monitor(cli, name, values, &args)
                }
                // The same master: only the quorum can differ, and SENTINEL SET changes that alone.
                Some(current) if current[1] == *host && current[2] == p.to_string() => {
                    sentinel_edit(cli, "sentinel monitor", values, &["set", name, "quorum", &q.to_string()])
                }
                Some(_) => sentinel_repoint(cli, values),
            }
        }
        Cmd::Sentinel { command: SentinelCmd::Set { name, option, value, stdin } } => {
            let set = ConfSet::load(&cli.sentinel_config)?;
            if monitored(&set, name).is_none() {
                return Err(fail(format!("{}: no master named '{name}' is monitored", cli.sentinel_config.display())));
            }
            let v = match (option, value, stdin) {
                (SentinelOption::AuthPass, Some(_), _) => {
                    return Err(usage("auth-pass is a secret: give it on standard input with --stdin"))
                }
                (_, None, true) | (SentinelOption::AuthPass, None, _) => read_secret(option.name())?,
                (_, Some(v), false) => v.clone(),
                (_, Some(_), true) => return Err(usage("give the value either as an argument or with --stdin")),
                (_, None, false) => return Err(usage(format!("missing value for {}", option.name()))),
            };
            if *option != SentinelOption::AuthPass {
                validate::positive_number(option.name(), &v)?;
            }
            let key = format!("sentinel {} {name}", option.name());
            sentinel_set(
                cli,
                name,
                &key,
                v.clone(),
                *option == SentinelOption::AuthPass,
                &["set", name, option.name(), &v],
            )
        }
        Cmd::Get { directive } => get(cli, directive),
        Cmd::Show => show(cli),
        Cmd::Check => check(cli),
        Cmd::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "redisctl", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// With the socket unit enabled, its drop-in follows redis.conf's addresses. Returns true when
/// --apply went through systemd (the server then gets its new sockets from the socket unit).
fn sync_socket_unit(cli: &Cli) -> Result<bool> {
    let Some(report) = socket_unit::sync(&cli.config, cli.dry_run)? else { return Ok(false) };
    if cli.dry_run {
        print!("{report}");
        return Ok(false);
    }
    say(cli, &report);
    if cli.apply {
        let done = socket_unit::apply()?;
        say(cli, &done);
        return Ok(true);
    }
    Ok(false)
}

/// `sentinel monitor` arguments (name, host, port, quorum) of a master.
fn monitored(set: &ConfSet, name: &str) -> Option<Vec<String>> {
    set.docs
        .iter()
        .flat_map(|d| d.get_all("sentinel monitor", &[]))
        .map(|(_, v)| v)
        .find(|v| v.first().is_some_and(|n| n == name))
}

fn only_master(sentinel_config: &Path) -> Result<String> {
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

/// `bind`'s addresses may start with '-' (optional addresses), so the parser takes anything after
/// `bind` as an address; global options given after them are moved in front of the command.
fn globals_before_bind(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let with_value = |a: &str| a == "--config" || a == "--sentinel-config";
    let is_global = |a: &str| {
        matches!(a, "--apply" | "--dry-run" | "--quiet" | "-q")
            || a.starts_with("--config=")
            || a.starts_with("--sentinel-config=")
            || with_value(a)
    };
    // Find the subcommand: the first argument that is neither an option nor an option's value.
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if with_value(&a) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    if i >= args.len() || args[i] != "bind" {
        return args;
    }
    let (mut head, tail) = (args[..i].to_vec(), &args[i..]);
    let mut rest = Vec::new();
    let mut j = 0;
    while j < tail.len() {
        let a = tail[j].to_string_lossy();
        if j > 0 && is_global(&a) {
            head.push(tail[j].clone());
            if with_value(&a) && j + 1 < tail.len() {
                head.push(tail[j + 1].clone());
                j += 1;
            }
        } else {
            rest.push(tail[j].clone());
        }
        j += 1;
    }
    head.extend(rest);
    head
}

/// Changes one directive where it is in effect. Returns false when it already had that value.
fn edit(cli: &Cli, main: &Path, key: &str, aliases: &[&str], values: Vec<Vec<String>>, secret: bool) -> Result<bool> {
    let mut set = ConfSet::load(main)?;
    // Included files first, so an error in one names that file rather than the include line.
    for d in set.docs.iter().rev() {
        files::check_text(d.path(), &d.render())?;
    }
    let target = set.find(key, aliases).map(|f| f.file).unwrap_or_else(|| main.to_path_buf());
    let Some(doc) = set.doc_mut(&target) else { return Err(fail(format!("{}: not loaded", target.display()))) };
    let before = doc.render();
    if !doc.set(key, aliases, &values) {
        let shown = if secret { "(the same secret)".to_string() } else { describe(&values) };
        say(cli, &format!("{key} is already {shown} in {}; nothing changed", target.display()));
        return Ok(false);
    }
    finish(cli, doc, &before, key, &values, secret)?;
    Ok(true)
}

fn describe(values: &[Vec<String>]) -> String {
    if values.is_empty() {
        "not set".to_string()
    } else {
        values.iter().map(|v| v.join(" ")).collect::<Vec<_>>().join(", ")
    }
}

/// Checks the edited file with the server's parser, then prints the diff (dry run) or saves it.
fn finish(
    cli: &Cli,
    doc: &crate::config::document::ConfigDocument,
    before: &str,
    key: &str,
    values: &[Vec<String>],
    secret: bool,
) -> Result<()> {
    let after = check_edit(cli, doc)?;
    if cli.dry_run {
        let mut diff = files::unified_diff(doc.path(), before, &after);
        if secret {
            diff = mask_secret_lines(&diff, key);
        }
        print!("{diff}");
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
    let shown = if secret { "(secret)".to_string() } else { describe(values) };
    say(cli, &format!("{}: {key} {shown}", doc.path().display()));
    Ok(())
}

/// Checks an edited file with the server's parser, and sentinel.conf with Sentinel's too (e.g. a
/// host name needs resolve-hostnames). Returns the edited text.
fn check_edit(cli: &Cli, doc: &crate::config::document::ConfigDocument) -> Result<String> {
    let after = doc.render();
    files::check_text(doc.path(), &after)?;
    if doc.path() == cli.sentinel_config {
        let edited = crate::config::document::ConfigDocument::parse(doc.path(), &after);
        let statements = crate::sentinel::config::statements(&edited);
        if let Err(bad) = crate::sentinel::config::parse(&statements) {
            let e = bad.error;
            return Err(fail(format!("{}:{}: '{}': {}", doc.path().display(), e.line_no, e.line, e.reason)));
        }
    }
    Ok(after)
}

/// The diff shows where a secret's line goes, never the secret: added and removed lines of the
/// directive keep only its name.
fn mask_secret_lines(diff: &str, key: &str) -> String {
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

/// Sentinel rewrites its own file, so while one is running a change must go through it.
fn sentinel_through_running(cli: &Cli, command: &[&str]) -> Result<bool> {
    match apply::running_sentinel(&cli.sentinel_config)? {
        None => Ok(false),
        Some(addr) if cli.apply && !cli.dry_run => {
            let report = apply::sentinel(&addr, command)?;
            say(cli, &report);
            Ok(true)
        }
        Some(t) if cli.dry_run => Err(fail(format!(
            "a Sentinel is running at {}:{}: it would make this change itself with --apply (no diff to show)",
            t.host, t.port
        ))),
        Some(t) => Err(fail(format!(
            "a Sentinel is running at {}:{} and rewrites {} itself, so an edit of the file would be lost: run again with --apply to make the change through it",
            t.host,
            t.port,
            cli.sentinel_config.display()
        ))),
    }
}

fn sentinel_edit(cli: &Cli, key: &str, values: Vec<String>, command: &[&str]) -> Result<()> {
    if sentinel_through_running(cli, command)? {
        return Ok(());
    }
    let main = cli.sentinel_config.clone();
    let mut set = ConfSet::load(&main)?;
    // Each master's monitor line is its own key: `sentinel monitor NAME`.
    let name = values[0].clone();
    let Some(found) = set.docs.iter().find_map(|d| {
        d.get_all(key, &[])
            .into_iter()
            .find(|(_, v)| v.first() == Some(&name))
            .map(|(l, v)| (d.path().to_path_buf(), l, v))
    }) else {
        return Err(fail(format!("{}: no master named '{name}' is monitored", main.display())));
    };
    let doc = set.doc_mut(&found.0).ok_or_else(|| fail("not loaded"))?;
    let full_key = format!("{key} {name}");
    let new: Vec<String> = values[1..].to_vec();
    let before = doc.render();
    if !doc.set(&full_key, &[], std::slice::from_ref(&new)) {
        say(cli, &format!("{full_key} is already {} in {}; nothing changed", new.join(" "), doc.path().display()));
        return Ok(());
    }
    finish(cli, doc, &before, &full_key, &[new], false)
}

fn sentinel_set(cli: &Cli, name: &str, key: &str, value: String, secret: bool, command: &[&str]) -> Result<()> {
    if sentinel_through_running(cli, command)? {
        return Ok(());
    }
    let main = cli.sentinel_config.clone();
    let mut set = ConfSet::load(&main)?;
    let values = vec![vec![value]];
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
    let changed = if doc.get(key, &[]).is_some() {
        doc.set(key, &[], &values)
    } else {
        let anchor = last_line_of_master(doc, name);
        doc.insert_after(anchor, key, &values);
        true
    };
    if !changed {
        let shown = if secret { "(the same secret)".to_string() } else { describe(&values) };
        say(cli, &format!("{key} is already {shown} in {}; nothing changed", doc.path().display()));
        return Ok(());
    }
    finish(cli, doc, &before, key, &values, secret)
}

/// The last line (1-based) that configures master `name` (`sentinel <option> name ...`).
fn last_line_of_master(doc: &crate::config::document::ConfigDocument, name: &str) -> Option<usize> {
    doc.directives().filter(|(_, d, a)| *d == "sentinel" && a.len() >= 2 && a[1] == name).map(|(l, _, _)| l).last()
}

fn sentinel_sensitive(key: &str) -> bool {
    key.contains("auth-pass") || key.contains("sentinel-pass")
}

fn get(cli: &Cli, directive: &str) -> Result<()> {
    let name = directive.to_ascii_lowercase();
    let (file, aliases): (&Path, &[&str]) = if name.starts_with("sentinel") {
        (&cli.sentinel_config, &[])
    } else {
        match crate::config::table::lookup(&name) {
            Some((_, spec)) => (&cli.config, spec.aliases),
            None => return Err(fail(format!("unknown directive '{directive}'"))),
        }
    };
    let set = ConfSet::load(file)?;
    let canonical = crate::config::table::lookup(&name).map(|(_, s)| s.name).unwrap_or(&name);
    match set.find(canonical, aliases) {
        Some(f) => {
            let secret = crate::config::table::lookup(canonical)
                .is_some_and(|(_, s)| s.has(crate::config::table::SENSITIVE))
                || sentinel_sensitive(canonical);
            let v = if secret { "(set)".to_string() } else { f.values.join(" ") };
            println!("{canonical} {v}\t({}:{})", f.file.display(), f.line);
        }
        None => {
            let default = crate::config::table::lookup(canonical).map(|(_, s)| s.default).unwrap_or("");
            println!("{canonical} {default}\t(default; not set in {})", file.display());
        }
    }
    Ok(())
}

fn show(cli: &Cli) -> Result<()> {
    let server = ConfSet::load(&cli.config);
    match &server {
        Ok(set) => {
            println!("{}:", cli.config.display());
            for name in [
                "bind",
                "port",
                "protected-mode",
                "replicaof",
                "masterauth",
                "requirepass",
                "dir",
                "dbfilename",
                "appendonly",
            ] {
                let (_, spec) = crate::config::table::lookup(name).ok_or_else(|| fail(name.to_string()))?;
                let shown = match set.find(spec.name, spec.aliases) {
                    Some(f) if spec.has(crate::config::table::SENSITIVE) => {
                        format!("(set)\t{}:{}", f.file.display(), f.line)
                    }
                    Some(f) => format!("{}\t{}:{}", f.values.join(" "), f.file.display(), f.line),
                    None => format!("{}\t(default)", if spec.default.is_empty() { "(none)" } else { spec.default }),
                };
                println!("  {name:<16} {shown}");
            }
        }
        Err(e) => println!("{}: {e}", cli.config.display()),
    }
    match ConfSet::load(&cli.sentinel_config) {
        Ok(set) => {
            println!("{}:", cli.sentinel_config.display());
            let port = set.find("port", &[]).map(|f| f.values.join(" ")).unwrap_or_else(|| "26379".into());
            println!("  {:<16} {port}", "port");
            for d in &set.docs {
                for (line, v) in d.get_all("sentinel monitor", &[]) {
                    let name = v.first().cloned().unwrap_or_default();
                    println!(
                        "  master {name:<9} {}:{} quorum {}\t{}:{line}",
                        v.get(1).cloned().unwrap_or_default(),
                        v.get(2).cloned().unwrap_or_default(),
                        v.get(3).cloned().unwrap_or_default(),
                        d.path().display()
                    );
                    for opt in ["down-after-milliseconds", "failover-timeout", "parallel-syncs", "auth-pass"] {
                        if let Some(f) = set.find(&format!("sentinel {opt} {name}"), &[]) {
                            let val = if opt == "auth-pass" { "(set)".to_string() } else { f.values.join(" ") };
                            println!("    {opt:<24} {val}");
                        }
                    }
                }
            }
        }
        Err(e) => println!("{}: {e}", cli.sentinel_config.display()),
    }
    server.map(|_| ()).map_err(fail)
}

fn check(cli: &Cli) -> Result<()> {
    let mut errors = Vec::new();
    for path in [&cli.config, &cli.sentinel_config] {
        match ConfSet::load(path) {
            Ok(set) => {
                let mut results: Vec<Result<()>> =
                    set.docs.iter().map(|d| files::check_text(d.path(), &d.render()).map_err(fail)).collect();
                // Sentinel applies its statements once every line has been read, so a bad
                // regular line is what it reports first.
                if path == &cli.sentinel_config && results.iter().all(Result::is_ok) {
                    if let Err((doc, e)) = check_sentinel_statements(&set) {
                        results[doc] = Err(e);
                    }
                }
                for (d, result) in set.docs.iter().zip(results) {
                    match result {
                        Ok(()) => say(cli, &format!("{}: OK", d.path().display())),
                        Err(e) => errors.push(e.msg),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(fail(errors.join("\nredisctl: ")))
    }
}

/// Sentinel's own reading of the `sentinel` statements of sentinel.conf and its includes. On
/// error: the index of the file at fault in `set.docs`, and what is wrong, where.
fn check_sentinel_statements(set: &ConfSet) -> std::result::Result<(), (usize, Failure)> {
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
fn sentinel_repoint(cli: &Cli, values: Vec<String>) -> Result<()> {
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
        return finish(cli, doc, &before, &monitor_key, &new, false);
    };
    if !cli.apply || cli.dry_run {
        // Refused with the usual explanation (the running Sentinel would overwrite the edit),
        // unless it stopped meanwhile: then the file is edited.
        sentinel_through_running(cli, &["monitor"])?;
        return finish(cli, doc, &before, &monitor_key, &new, false);
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
        say(cli, &report);
    }
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

fn sentinel_add_monitor(cli: &Cli, name: &str, values: Vec<String>, command: &[&str]) -> Result<()> {
    if sentinel_through_running(cli, command)? {
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
    finish(cli, doc, &before, &key, &rest, false)
}
