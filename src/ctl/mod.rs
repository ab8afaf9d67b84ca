//! redisctl: edit /etc/redis/redis.conf and sentinel.conf in place, keeping every other byte, and
//! optionally apply the change to the running service. Built on the server's config-file engine
//! (`config::document`), its parser (`config::Config`) and start-up checks (`config::preflight`),
//! and on Sentinel's own reading of its statements and SENTINEL SET.

mod apply;
mod edit;
mod files;
mod query;
mod sentinel_edit;
mod set;
mod socket_unit;
mod status;
mod tls;
mod user;
pub mod validate;
mod wait;

use std::cell::RefCell;
use std::io::Read;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use apply::{ServerChange, Target};
use edit::{edit, Run};
use set::{apply_to_server, Live};

#[derive(Parser, Debug)]
#[command(
    name = "redisctl",
    version,
    about = "Edit /etc/redis/redis.conf and /etc/redis/sentinel.conf in place, keeping every comment, and optionally apply the change to the running service.",
    long_about = "Edit /etc/redis/redis.conf and /etc/redis/sentinel.conf in place.\n\nOnly the affected line changes: an active directive is replaced where it stands (aliases such as slaveof included), an absent one goes right after its commented template line (e.g. '# replicaof <masterip> <masterport>') or at the end. Every edit is checked as the server checks its file at start-up before anything is written. Files are written atomically and keep their owner, group and mode. Setting a value that is already set changes nothing.\n\nExit codes: 0 success, 1 invalid input or file (or, for status, a server that does not answer), 2 usage."
)]
pub struct Cli {
    /// The server's config file.
    #[arg(long, global = true, value_name = "PATH", default_value = "/etc/redis/redis.conf")]
    pub config: std::path::PathBuf,
    /// Sentinel's config file.
    #[arg(long = "sentinel-config", global = true, value_name = "PATH", default_value = "/etc/redis/sentinel.conf")]
    pub sentinel_config: std::path::PathBuf,
    /// Print a unified diff of the change and write nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Also apply the change to the running server or Sentinel (see the man page).
    #[arg(long, global = true)]
    pub apply: bool,
    /// Print the result as JSON on standard output (errors still go to standard error).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Set any directive of redis.conf (or, as 'set sentinel OPTION MASTER VALUE', a master's setting in sentinel.conf), checked as CONFIG SET checks it.
    Set {
        /// The directive, e.g. maxmemory, save, client-output-buffer-limit, rename-command, sentinel.
        directive: String,
        /// Its value, in as many words as the directive takes.
        #[arg(value_name = "VALUE", allow_hyphen_values = true)]
        values: Vec<String>,
        /// Read the value from standard input (required for secrets: requirepass, masterauth, masteruser, auth-pass, sentinel-pass).
        #[arg(long)]
        stdin: bool,
        /// Set the directive in sentinel.conf rather than redis.conf (port, bind, logfile...).
        #[arg(long)]
        sentinel: bool,
    },
    /// Remove a directive's lines so its default applies (e.g. 'unset requirepass', 'unset rename-command CONFIG').
    Unset {
        directive: String,
        #[arg(value_name = "WORD")]
        words: Vec<String>,
    },
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
        /// With --apply: follow the sync until master_link_status is up.
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        timeout: u64,
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
    /// Turn protected mode on or off (yes/no, in any case).
    ProtectedMode { value: String },
    /// Set the TCP port the server listens on.
    Port { port: String },
    /// Set the password clients must give (read from standard input, never from the command line), or remove it.
    Requirepass {
        /// Read the password from standard input (secrets never go on the command line).
        #[arg(long, conflicts_with = "remove")]
        stdin: bool,
        /// Remove the password: clients need none.
        #[arg(long)]
        remove: bool,
        /// Refused: a password on the command line is visible to every user of the host.
        #[arg(hide = true)]
        password: Option<String>,
    },
    /// Set the password a replica uses with its master (read from standard input), or remove it.
    Masterauth {
        /// Read the password from standard input (secrets never go on the command line).
        #[arg(long, conflicts_with = "remove")]
        stdin: bool,
        /// Remove the password.
        #[arg(long)]
        remove: bool,
        /// Refused: a password on the command line is visible to every user of the host.
        #[arg(hide = true)]
        password: Option<String>,
    },
    /// Print a directive's effective value (every line, for directives of several lines), with the file and line it comes from.
    Get {
        /// The directive: a name ('maxmemory'), 'rename-command', or a sentinel key ('sentinel monitor').
        #[arg(required = true, num_args = 1..)]
        directive: Vec<String>,
    },
    /// Manage ACL users in the aclfile, or in redis.conf's user lines when there is no aclfile.
    User {
        #[command(subcommand)]
        command: UserCmd,
    },
    /// Turn TLS on: tls-port, tls-cert-file, tls-key-file, tls-ca-cert-file (and tls-replication) after their template comments, once the files are readable by the redis user and the key matches the certificate.
    Tls {
        /// The server's certificate (PEM; a chain, the server's first).
        #[arg(long, value_name = "FILE")]
        cert: std::path::PathBuf,
        /// Its private key (PEM); never shown.
        #[arg(long, value_name = "FILE")]
        key: std::path::PathBuf,
        /// The CA certificate(s) that clients', replicas' and Sentinels' certificates are checked against.
        #[arg(long, value_name = "FILE")]
        ca: std::path::PathBuf,
        /// The TLS port (tls-port); without it, the file's own tls-port is kept.
        #[arg(long, value_name = "N")]
        port: Option<String>,
        /// Also replicate (and, for Sentinel, monitor) over TLS: tls-replication yes.
        #[arg(long)]
        replication: bool,
        /// Write sentinel.conf rather than redis.conf (with no Sentinel running).
        #[arg(long)]
        sentinel: bool,
    },
    /// Print the settings the replication and Sentinel guides talk about, for both files.
    Show,
    /// Check both files with the server's own parser and start-up checks, and the sentinel statements as Sentinel reads them.
    Check,
    /// One screen for the node: units, role, replication, persistence, memory, and what Sentinel watches.
    Status,
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
    /// Change a monitored master's setting: any option SENTINEL SET takes (auth-pass is read from standard input).
    Set {
        name: String,
        #[arg(value_enum)]
        option: SentinelOption,
        /// The new value (two for rename-command: COMMAND NEW-NAME; none for auth-pass, read from standard input).
        #[arg(num_args = 0..=2, allow_hyphen_values = true)]
        value: Vec<String>,
        /// Read the value from standard input (required for auth-pass).
        #[arg(long, conflicts_with = "remove")]
        stdin: bool,
        /// Remove the setting (auth-pass, auth-user, notification-script, client-reconfig-script).
        #[arg(long)]
        remove: bool,
    },
    /// Stop monitoring a master, and remove every line about it.
    Remove { name: String },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user with ACL rules (as ACL SETUSER takes them); its password from standard input.
    Add {
        name: String,
        /// ACL rules, e.g. on ~app:* +@read; never a '>password' rule: use --password-stdin.
        #[arg(value_name = "RULE", allow_hyphen_values = true)]
        rules: Vec<String>,
        /// Read a password from standard input; it is stored as its SHA-256 ('#<hash>').
        #[arg(long)]
        password_stdin: bool,
    },
    /// Apply ACL rules to an existing user (e.g. 'off', '-@dangerous', 'resetpass').
    Set {
        name: String,
        /// ACL rules; never a '>password' rule: use --password-stdin.
        #[arg(value_name = "RULE", allow_hyphen_values = true)]
        rules: Vec<String>,
        /// Read a password to add from standard input; it is stored as its SHA-256 ('#<hash>').
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user.
    Del { name: String },
    /// Print the users as ACL LIST shows them (passwords only as hashes).
    List,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentinelOption {
    Quorum,
    DownAfterMilliseconds,
    FailoverTimeout,
    ParallelSyncs,
    NotificationScript,
    ClientReconfigScript,
    AuthPass,
    AuthUser,
    MasterRebootDownAfterPeriod,
    RenameCommand,
}

impl SentinelOption {
    pub fn name(self) -> &'static str {
        match self {
            SentinelOption::Quorum => "quorum",
            SentinelOption::DownAfterMilliseconds => "down-after-milliseconds",
            SentinelOption::FailoverTimeout => "failover-timeout",
            SentinelOption::ParallelSyncs => "parallel-syncs",
            SentinelOption::NotificationScript => "notification-script",
            SentinelOption::ClientReconfigScript => "client-reconfig-script",
            SentinelOption::AuthPass => "auth-pass",
            SentinelOption::AuthUser => "auth-user",
            SentinelOption::MasterRebootDownAfterPeriod => "master-reboot-down-after-period",
            SentinelOption::RenameCommand => "rename-command",
        }
    }
}

/// An error and the exit code it ends with.
pub struct Failure {
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
    let _ = crate::util::sys::default_signal_action(crate::util::sys::Signal::SIGPIPE);
    let cli = match Cli::try_parse_from(globals_before_values(args)) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let run = Run { cli: &cli, report: RefCell::new(edit::EditReport::default()), saved: RefCell::new(Vec::new()) };
    let result = dispatch(&run);
    if cli.json && is_edit(&cli.command) && result.is_ok() {
        let mut report = run.report.borrow().clone();
        if report.file.is_empty() {
            report.file = edited_file(&cli).display().to_string();
        }
        match serde_json::to_string(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("redisctl: {e}");
                return 1;
            }
        }
    }
    match result {
        Ok(()) => 0,
        Err(Failure { msg, code }) => {
            eprintln!("redisctl: {msg}");
            code
        }
    }
}

fn is_edit(cmd: &Cmd) -> bool {
    !matches!(
        cmd,
        Cmd::Get { .. }
            | Cmd::Show
            | Cmd::Check
            | Cmd::Status
            | Cmd::Completions { .. }
            | Cmd::User { command: UserCmd::List }
    )
}

/// The file an edit command is about.
fn edited_file(cli: &Cli) -> &std::path::Path {
    match &cli.command {
        Cmd::Quorum { .. } | Cmd::Sentinel { .. } | Cmd::Tls { sentinel: true, .. } => &cli.sentinel_config,
        Cmd::Set { directive, sentinel, .. } if *sentinel || directive.eq_ignore_ascii_case("sentinel") => {
            &cli.sentinel_config
        }
        _ => &cli.config,
    }
}

/// A secret from standard input: one line (its end of line removed); empty or multi-line
/// input is refused rather than stored.
fn read_secret(what: &str) -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| fail(format!("reading {what} from standard input: {}", files::plain(&e))))?;
    let s = s.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&s).to_string();
    if s.is_empty() {
        return Err(fail(format!("no {what} on standard input")));
    }
    if s.contains(['\n', '\r']) {
        return Err(fail(format!(
            "the {what} on standard input has more than one line: give exactly one line (a line break cannot be part of a {what})"
        )));
    }
    Ok(s)
}

/// A password given on the command line is refused, pointing at --stdin.
fn secret_on_command_line(command: &str) -> Failure {
    usage(format!(
        "a password is never taken on the command line (other users of the host can read it): use 'echo PASSWORD | redisctl {command} --stdin', or 'redisctl {command} --remove' to remove it"
    ))
}

/// `protected-mode`'s value: Redis takes yes/no in any case.
fn yes_no(v: &str) -> Result<&'static str> {
    if v.eq_ignore_ascii_case("yes") {
        Ok("yes")
    } else if v.eq_ignore_ascii_case("no") {
        Ok("no")
    } else {
        Err(usage(format!(
            "invalid value '{v}' for protected-mode: {}",
            crate::config::config_set_error("protected-mode", "argument must be 'yes' or 'no'")
        )))
    }
}

fn dispatch(cli: &Run) -> Result<()> {
    // Where the running server is must be read before the file changes (port and bind edits).
    let server: Option<Target> =
        if cli.apply && !cli.dry_run && !edited_file(cli).eq(&cli.sentinel_config) && is_edit(&cli.command) {
            Some(apply::target(&cli.config, 6379)?)
        } else {
            None
        };
    let server = server.as_ref();
    match &cli.command {
        Cmd::Set { directive, values, stdin, sentinel } => {
            let secret = if *stdin { Some(read_secret("value")?) } else { None };
            set::set(cli, server, directive, values, secret, *sentinel)
        }
        Cmd::Unset { directive, words } => set::unset(cli, server, directive, words),
        Cmd::Bind { addresses } => {
            for a in addresses {
                validate::bind_address(a)?;
            }
            edit(cli, &cli.config, "bind", &[], vec![addresses.clone()], false)?;
            if sync_socket_unit(cli)? {
                return Ok(());
            }
            apply_to_server(cli, server, ServerChange::ConfigSet("bind".into(), addresses.join(" ")), Live::Yes)
        }
        Cmd::Replicaof { host, port, wait, timeout } => {
            if *wait && (!cli.apply || cli.dry_run) {
                return Err(usage("--wait follows the sync of the running server: use it with --apply"));
            }
            replicaof(cli, server, host, port)?;
            match server {
                Some(t) if *wait && !host.eq_ignore_ascii_case("no") => {
                    wait::until_in_sync(cli, t, Duration::from_secs(*timeout))
                }
                _ => Ok(()),
            }
        }
        Cmd::ProtectedMode { value } => {
            let v = yes_no(value)?;
            edit(cli, &cli.config, "protected-mode", &[], vec![vec![v.to_string()]], false)?;
            apply_to_server(cli, server, ServerChange::ConfigSet("protected-mode".into(), v.into()), Live::Yes)
        }
        Cmd::Port { port } => {
            // 0 turns the plain port off, as in redis.conf: the start-up checks refuse it unless a
            // tls-port or a unixsocket is left to serve.
            let p = if port == "0" { 0 } else { validate::port(port)? };
            edit(cli, &cli.config, "port", &[], vec![vec![p.to_string()]], false)?;
            if sync_socket_unit(cli)? {
                return Ok(());
            }
            apply_to_server(cli, server, ServerChange::ConfigSet("port".into(), p.to_string()), Live::Yes)
        }
        Cmd::Requirepass { stdin, remove, password } => {
            password_command(cli, server, "requirepass", *stdin, *remove, password)
        }
        Cmd::Masterauth { stdin, remove, password } => {
            password_command(cli, server, "masterauth", *stdin, *remove, password)
        }
        Cmd::Quorum { args } => {
            let (name, q) = match args.as_slice() {
                [q] => (sentinel_edit::only_master(&cli.sentinel_config)?, q.clone()),
                [name, q] => (name.clone(), q.clone()),
                _ => return Err(usage("usage: redisctl quorum [MASTER] N")),
            };
            let q = validate::quorum(&q)?;
            sentinel_edit::set_option(cli, &name, "quorum", &[q.to_string()])
        }
        Cmd::Sentinel { command: SentinelCmd::Monitor { name, host, port, quorum } } => {
            sentinel_monitor(cli, name, host, port, quorum)
        }
        Cmd::Sentinel { command: SentinelCmd::Remove { name } } => sentinel_edit::remove(cli, name),
        Cmd::Sentinel { command: SentinelCmd::Set { name, option, value, stdin, remove } } => {
            let o = option.name();
            let values = sentinel_set_values(o, value, *stdin, *remove)?;
            sentinel_edit::set_option(cli, name, o, &values)
        }
        Cmd::User { command } => match command {
            UserCmd::Add { name, rules, password_stdin } => {
                user::change(cli, server, user::Action::Add, name, rules, *password_stdin)
            }
            UserCmd::Set { name, rules, password_stdin } => {
                user::change(cli, server, user::Action::Set, name, rules, *password_stdin)
            }
            UserCmd::Del { name } => user::change(cli, server, user::Action::Del, name, &[], false),
            UserCmd::List => user::list(cli),
        },
        Cmd::Tls { cert, key, ca, port, replication, sentinel } => {
            let request =
                tls::Request { cert, key, ca, port: port.as_deref(), replication: *replication, sentinel: *sentinel };
            tls::tls(cli, server, &request)
        }
        Cmd::Get { directive } => query::get(cli, directive),
        Cmd::Show => query::show(cli),
        Cmd::Check => query::check(cli),
        Cmd::Status => status::status(cli),
        Cmd::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "redisctl", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// The values of `sentinel set NAME OPTION`: from the arguments, from standard input (always for
/// a secret), or "" (SENTINEL SET's way of unsetting) with --remove.
fn sentinel_set_values(option: &str, args: &[String], stdin: bool, remove: bool) -> Result<Vec<String>> {
    let wanted = sentinel_edit::SET_OPTIONS.iter().find(|(n, _)| *n == option).map_or(1, |(_, c)| *c);
    let values = if remove {
        if !args.is_empty() || !sentinel_edit::unsettable(option) {
            return Err(usage(format!(
                "--remove is for auth-pass, auth-user and the scripts, without a value, not {option}"
            )));
        }
        vec![String::new()]
    } else if sentinel_edit::secret_option(option) && !args.is_empty() {
        return Err(usage(format!("{option} is a secret: give it on standard input with --stdin")));
    } else if stdin && !args.is_empty() {
        return Err(usage("give the value either as an argument or with --stdin"));
    } else if stdin || sentinel_edit::secret_option(option) {
        vec![read_secret(option)?]
    } else if args.is_empty() {
        return Err(usage(format!("missing value for {option}")));
    } else {
        args.to_vec()
    };
    if values.len() != wanted {
        return Err(usage(format!("{option} takes {wanted} value(s)")));
    }
    Ok(values)
}

fn password_command(
    cli: &Run,
    server: Option<&Target>,
    name: &'static str,
    stdin: bool,
    remove: bool,
    password: &Option<String>,
) -> Result<()> {
    if password.is_some() {
        return Err(secret_on_command_line(name));
    }
    if remove {
        edit(cli, &cli.config, name, &[], vec![], true)?;
        return apply_to_server(cli, server, ServerChange::ConfigSet(name.into(), String::new()), Live::Yes);
    }
    if !stdin {
        return Err(usage(format!("give the password on standard input with 'redisctl {name} --stdin', or remove it with 'redisctl {name} --remove'")));
    }
    let pass = read_secret("password")?;
    edit(cli, &cli.config, name, &[], vec![vec![pass.clone()]], true)?;
    apply_to_server(cli, server, ServerChange::ConfigSet(name.into(), pass), Live::Yes)
}

fn replicaof(cli: &Run, server: Option<&Target>, host: &str, port: &str) -> Result<()> {
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        edit(cli, &cli.config, "replicaof", &["slaveof"], vec![], false)?;
        return apply_to_server(cli, server, ServerChange::Replicaof(None), Live::Yes);
    }
    validate::host(host)?;
    let p = validate::port(port)?;
    edit(cli, &cli.config, "replicaof", &["slaveof"], vec![vec![host.to_string(), p.to_string()]], false)?;
    apply_to_server(cli, server, ServerChange::Replicaof(Some((host.to_string(), p))), Live::Yes)
}

fn sentinel_monitor(cli: &Run, name: &str, host: &str, port: &str, quorum: &str) -> Result<()> {
    validate::master_name(name)?;
    validate::host(host)?;
    let p = validate::port(port)?;
    let q = validate::quorum(quorum)?;
    let set = files::ConfSet::load(&cli.sentinel_config)?;
    let values = vec![name.to_string(), host.to_string(), p.to_string(), q.to_string()];
    match sentinel_edit::monitored(&set, name) {
        None => {
            let args = ["monitor", name, host, &p.to_string(), &q.to_string()].map(str::to_string);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            sentinel_edit::add_monitor(cli, name, values, &args)
        }
        // The same master: only the quorum can differ, and SENTINEL SET changes that alone.
        Some(current) if current[1] == *host && current[2] == p.to_string() => {
            sentinel_edit::edit_monitor(cli, values, &["set", name, "quorum", &q.to_string()])
        }
        Some(_) => sentinel_edit::repoint(cli, values),
    }
}

/// With the socket units in use, their drop-ins follow redis.conf's addresses. Returns true when
/// --apply went through systemd (the server then gets its new sockets from the socket units).
fn sync_socket_unit(cli: &Run) -> Result<bool> {
    let mut changed = false;
    for unit in [socket_unit::Unit::Server, socket_unit::Unit::ServerTls] {
        let Some(report) = socket_unit::sync(unit, &cli.config, cli.dry_run)? else { continue };
        changed = true;
        if cli.dry_run {
            print!("{report}");
        } else {
            cli.say(&report);
        }
    }
    if !changed || cli.dry_run {
        return Ok(false);
    }
    if cli.apply {
        let done = socket_unit::apply()?;
        cli.applied(done);
        return Ok(true);
    }
    Ok(false)
}

/// Sentinel's socket unit follows sentinel.conf's `bind`, `port` and `tls-port` (Sentinel is
/// stopped: redisctl edits these only then), applied when Sentinel next starts.
fn sync_sentinel_socket_unit(cli: &Run) -> Result<()> {
    let unit = socket_unit::Unit::Sentinel;
    match socket_unit::sync(unit, &cli.sentinel_config, cli.dry_run)? {
        Some(report) if cli.dry_run => print!("{report}"),
        Some(report) => cli.say(&format!("{report}; Sentinel serves it from its next start")),
        None => {}
    }
    Ok(())
}

/// `bind`'s addresses and `set`'s values may start with '-' (`-::1`, `-2`), so the parser takes
/// anything after them as a value; redisctl's own options given after them are moved in front of
/// the values (global ones in front of the command).
fn globals_before_values(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let with_value = |a: &str| a == "--config" || a == "--sentinel-config";
    let is_global = |a: &str| {
        matches!(a, "--apply" | "--dry-run" | "--quiet" | "-q" | "--json")
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
    // The command's words, and its own flags that may come after its values.
    let (words, locals): (usize, &[&str]) = match args.get(i).and_then(|a| a.to_str()) {
        Some("bind") => (1, &[]),
        Some("set") => (1, &["--stdin", "--sentinel"]),
        Some("sentinel") if args.get(i + 1).is_some_and(|a| a == "set") => (2, &["--stdin", "--remove"]),
        // `user add NAME RULES...`: rules may start with '-' (-@all).
        Some("user") if args.get(i + 1).is_some_and(|a| a == "add" || a == "set") => (3, &["--password-stdin"]),
        _ => return args,
    };
    let (mut head, tail) = (args[..i].to_vec(), &args[i..]);
    let command = tail[..words.min(tail.len())].to_vec();
    let mut own = Vec::new();
    let mut rest = Vec::new();
    let mut j = command.len();
    while j < tail.len() {
        let a = tail[j].to_string_lossy();
        if is_global(&a) {
            head.push(tail[j].clone());
            if with_value(&a) && j + 1 < tail.len() {
                head.push(tail[j + 1].clone());
                j += 1;
            }
        } else if locals.contains(&a.as_ref()) {
            own.push(tail[j].clone());
        } else {
            rest.push(tail[j].clone());
        }
        j += 1;
    }
    head.extend(command);
    head.extend(own);
    head.extend(rest);
    head
}
