//! Start-up of redis-server-rs: arguments, config, daemonize, pidfile, logging, runtime.

use std::path::PathBuf;

use crate::config::{options_from_args, Config};

fn usage(sentinel_mode: bool) -> &'static str {
    if sentinel_mode {
        return concat!(
            "Usage: ./redis-sentinel-rs /path/to/sentinel.conf [options]\n",
            "       ./redis-sentinel-rs -v or --version\n",
            "       ./redis-sentinel-rs -h or --help\n",
            "\n",
            "Sentinel needs its config file on disk, writable: it saves its state there.\n",
            "Options are config directives, as --name value, applied after the file (and saved with it).\n",
            "\n",
            "Examples:\n",
            "       ./redis-sentinel-rs /etc/redis/sentinel.conf\n",
            "       ./redis-sentinel-rs /etc/redis/sentinel.conf --port 26380\n",
            "       ./redis-server-rs /etc/redis/sentinel.conf --sentinel (the same)\n",
        );
    }
    concat!(
        "Usage: ./redis-server-rs [/path/to/redis.conf] [options] [-]\n",
        "       ./redis-server-rs - (read config from stdin)\n",
        "       ./redis-server-rs -v or --version\n",
        "       ./redis-server-rs -h or --help\n",
        "\n",
        "Examples:\n",
        "       ./redis-server-rs (run the server with default conf)\n",
        "       echo 'maxmemory 128mb' | ./redis-server-rs -\n",
        "       ./redis-server-rs /etc/redis/6379.conf\n",
        "       ./redis-server-rs --port 7777\n",
        "       ./redis-server-rs --port 7777 --replicaof 127.0.0.1 8888\n",
        "       ./redis-server-rs /etc/myredis.conf --loglevel verbose -\n",
        "       ./redis-server-rs /etc/myredis.conf --loglevel verbose\n",
        "\n",
        "Sentinel mode:\n",
        "       ./redis-server-rs /etc/sentinel.conf --sentinel\n",
    )
}

/// Runs the server with the process arguments (without argv[0]); returns the exit code.
/// `--sentinel` anywhere starts Redis Sentinel instead, as `redis-server --sentinel` does.
pub fn main(args: Vec<String>) -> i32 {
    if args.iter().any(|a| a == "--sentinel") {
        let rest = args.into_iter().filter(|a| a != "--sentinel").collect();
        return run(rest, true);
    }
    run(args, false)
}

/// redis-sentinel-rs: Redis Sentinel, as `redis-sentinel` is.
pub fn main_sentinel(args: Vec<String>) -> i32 {
    run(args, true)
}

fn run(args: Vec<String>, sentinel_mode: bool) -> i32 {
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                println!(
                    "Redis server v={} sha=00000000:0 malloc=libc bits=64 build=0 (redis-rs {})",
                    crate::REDIS_VERSION,
                    env!("CARGO_PKG_VERSION")
                );
                return 0;
            }
            "-h" | "--help" => {
                print!("{}", usage(sentinel_mode));
                return 0;
            }
            // Redis's memory tester and system check are not part of redis-rs: say so, rather
            // than read them as config directives ("Bad directive").
            "--test-memory" | "--check-system" => {
                eprintln!("{first} is not supported by redis-rs.");
                return 1;
            }
            _ => {}
        }
    }
    let mut rest = args.as_slice();
    let mut file: Option<PathBuf> = None;
    let mut stdin_config = String::new();
    if let Some(first) = rest.first() {
        if first == "-" {
            let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut stdin_config);
            rest = &rest[1..];
        } else if !first.starts_with('-') {
            file = Some(PathBuf::from(first));
            rest = &rest[1..];
        }
    }
    if rest.last().is_some_and(|l| l == "-") {
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut stdin_config);
        rest = &rest[..rest.len() - 1];
    }
    let mut options = stdin_config;
    let cli = options_from_args(rest);
    if !cli.is_empty() {
        if !options.is_empty() {
            options.push('\n');
        }
        options.push_str(&cli);
    }
    let defaults = if sentinel_mode { crate::net::sentinel_runner::DEFAULTS } else { "" };
    let mut config = match Config::load_over(file.as_deref(), defaults, &options) {
        Ok(c) => c,
        Err(e) if e.is_unreadable_file() => {
            // Redis logs this one as a line of its log on stdout (role C, or X for Sentinel).
            let role = if sentinel_mode { 'X' } else { 'C' };
            println!("{}:{role} {} # {}", std::process::id(), crate::logging::timestamp(), e.reason);
            return 1;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    config.sentinel_mode = sentinel_mode;
    let sentinel = if sentinel_mode {
        match load_sentinel(&config) {
            Ok(s) => Some(s),
            Err(msg) => {
                eprintln!("{msg}");
                return 1;
            }
        }
    } else {
        None
    };
    if let Some(reason) = crate::config::preflight::cluster_refusal(&config) {
        eprintln!("\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line 0\n>>> 'cluster-enabled yes'\n{reason}", crate::REDIS_VERSION);
        return 1;
    }
    // Sockets from systemd socket activation are claimed before anything else can see them.
    let inherited = crate::systemd::take_listen_fds();
    let supervise_mode = config.str(crate::ckey!("supervised")).to_string();
    let journald_wanted =
        supervise_mode == "systemd" || (supervise_mode == "auto" && std::env::var_os("NOTIFY_SOCKET").is_some());
    crate::logging::init(
        config.str(crate::ckey!("logfile")),
        config.str(crate::ckey!("loglevel")),
        journald_wanted,
        if sentinel_mode { "sentinel" } else { "master" },
        config.int(crate::ckey!("port")) as u16,
    );
    // Like Redis, the start-up lines come from the 'C' role until the server is configured.
    crate::logging::set_role(b'C');
    tracing::warn!("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    tracing::warn!(
        "Redis version={}, bits=64, commit=00000000, modified=0, pid={}, just started (redis-rs {})",
        crate::REDIS_VERSION,
        std::process::id(),
        env!("CARGO_PKG_VERSION")
    );
    if args.is_empty() {
        tracing::warn!("Warning: no config file specified, using the default config. In order to specify a config file use redis-server-rs /path/to/redis.conf");
    } else {
        tracing::warn!("Configuration loaded");
    }
    // Like Redis, supervision takes precedence over daemonize.
    let supervised = crate::systemd::init(config.str(crate::ckey!("supervised")));
    if config.bool(crate::ckey!("daemonize")) && !supervised {
        // SAFETY: no thread has been started yet (the runtime is built below).
        if let Err(e) = unsafe { crate::util::sys::daemonize() } {
            eprintln!("Can't daemonize: {e}");
            return 1;
        }
    }
    crate::logging::set_role(b'M');
    let pidfile = config.str(crate::ckey!("pidfile")).to_string();
    let pidfile = if pidfile.is_empty() && config.bool(crate::ckey!("daemonize")) {
        "/var/run/redis.pid".to_string()
    } else {
        pidfile
    };
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!("Failed to write PID file: {e}");
        }
    }
    // Redis removes the pid file after a crash only when it daemonized itself, unsupervised.
    let remove_at_crash = !pidfile.is_empty() && config.bool(crate::ckey!("daemonize")) && !supervised;
    crate::crash::set_pidfile_to_remove(remove_at_crash.then(|| PathBuf::from(&pidfile)));
    crate::crash::install(
        config.bool(crate::ckey!("crash-log-enabled")),
        config.bool(crate::ckey!("use-exit-on-panic")),
    );
    let server = match crate::server::Server::new(config, crate::commands::DISPATCH) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("{e}");
            return 1;
        }
    };
    crate::commands::install_crash_report(&server);
    crate::commands::refresh_config(&mut server.lock());
    *server.sentinel_boot.lock() = sentinel;
    if sentinel_mode {
        crate::logging::set_role(b'X');
    }
    // io-threads sets the number of threads serving connections, 1 by default like Redis: on a small
    // machine one thread beats two that contend for the keyspace lock and for cores with clients.
    let threads = server.lock().config.int(crate::ckey!("io-threads")).clamp(1, 128) as usize;
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("Can't start the runtime: {e}");
            return 1;
        }
    };
    // After daemonize (its child runs with the allocator's threads off) and before serving.
    if let Err(e) = crate::alloc::start_background_purging() {
        tracing::warn!("Could not start the allocator's background threads: {e}");
    }
    crate::alloc::mark_startup();
    let code = runtime.block_on(crate::net::run(server, inherited));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

/// Sentinel's state from its config file; a generated myid is saved at once, as Redis does.
fn load_sentinel(config: &Config) -> Result<crate::sentinel::state::Sentinel, String> {
    let file = config.file.as_deref();
    let mut sentinel = crate::net::sentinel_runner::load(file, crate::util::time::unix_ms())?;
    if let (true, Some(path)) = (std::mem::take(&mut sentinel.flush_needed), file) {
        // The users as the server will load them: Redis saves after ACLLoadUsersAtStartup. An ACL
        // error leaves the user lines as they are: the server's start-up reports it and exits.
        let options = match crate::server::startup_acl(config, crate::commands::DISPATCH.table, true) {
            Ok(acl) => crate::server::state::rewrite_options(config, &acl),
            Err(_) => config.rewrite_options(),
        };
        crate::sentinel::config::flush(path, &sentinel.to_config(), &options).map_err(|e| {
            format!(
                "Sentinel config file {} could not be saved: {e}. Exiting...",
                path.display(),
                e = crate::util::sys::error_text(&e)
            )
        })?;
    }
    Ok(sentinel)
}
