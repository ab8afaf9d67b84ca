//! The server's core: the shared handle (`Server`), the state its lock protects, and the services
//! every part of the server uses (propagation, blocking, eviction, Sentinel's announcements).

pub mod blocking;
pub mod busy;
pub mod client_eviction;
pub mod command;
pub mod dataset;
pub mod eviction;
pub mod handover;
pub mod lazyfree;
pub mod migrate_sockets;
pub mod notify;
pub mod postpone;
pub mod propagation;
pub mod pubsub;
pub mod replica_output;
pub mod scripts;
pub mod sentinel_events;
pub mod session;
pub mod shutdown;
pub mod signals;
pub mod state;
pub mod tracking;

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::config::Config;
use command::{CommandMap, Handler, Table};
use state::State;

/// What the command layer gives the core: its table, and its dispatcher.
#[derive(Clone, Copy)]
pub struct Dispatch {
    pub table: Table,
    /// Runs one command line as a client's would run, every check included (processCommand).
    pub process: Handler,
    /// Runs a resolved command with the bookkeeping around it but without the checks (call()).
    pub call: command::Call,
}

pub type RebindTcp = fn(&Server, &Config) -> Result<(), String>;

/// What never changes after start-up, plus the lock around everything else.
pub struct Server {
    pub state: Mutex<State>,
    pub commands: CommandMap,
    /// The command layer's dispatcher: AOF replay and a replica's apply of its master's stream
    /// run commands through it.
    pub dispatch: Dispatch,
    pub run_id: String,
    pub started: Instant,
    pub pid: u32,
    pub executable: String,
    pub config_file: Option<std::path::PathBuf>,
    pub shutdown: Notify,
    /// Actual TCP port (port 0 in the config means no TCP).
    pub tcp_port: Mutex<u16>,
    /// Bumped to make the TCP accept loops close their sockets (CONFIG SET port/bind).
    pub tcp_generation: tokio::sync::watch::Sender<u64>,
    /// TCP accept loops still running.
    pub tcp_open: std::sync::atomic::AtomicUsize,
    pub tcp_config: Mutex<Option<TcpConfig>>,
    /// Rebinds the TCP listeners after CONFIG SET port/bind: the network runtime registers it
    /// when it starts listening.
    pub rebind_tcp: std::sync::OnceLock<RebindTcp>,
    /// The TLS contexts (tls-* directives) in use, None until TLS is configured.
    pub tls: crate::tls::Current,
    /// Actual TLS port (0: none).
    pub tls_port: Mutex<u16>,
    /// Bumped to make the TLS accept loops close their sockets (CONFIG SET tls-port/bind).
    pub tls_generation: tokio::sync::watch::Sender<u64>,
    /// TLS accept loops still running.
    pub tls_open: std::sync::atomic::AtomicUsize,
    /// Rebinds the TLS listeners after CONFIG SET tls-port/bind (registered like `rebind_tcp`).
    pub rebind_tls: std::sync::OnceLock<RebindTcp>,
    /// The listening sockets came from systemd socket activation (the .socket unit owns the addresses).
    pub socket_activated: std::sync::atomic::AtomicBool,
    /// Writes may wait in the AOF's queue: replies are held until they are written (set and
    /// cleared under the state lock; see `persistence::appendonly::write_queued`).
    pub aof_queued: std::sync::atomic::AtomicBool,
    /// Started as Redis Sentinel: Sentinel's commands, no dataset.
    pub sentinel_mode: bool,
    /// Sentinel mode: the state read from the config file, until the monitoring loop takes it.
    pub sentinel_boot: Mutex<Option<crate::sentinel::state::Sentinel>>,
    /// A script running past busy-reply-threshold, and the commands handed to it.
    pub busy: busy::Busy,
    this: std::sync::Weak<Server>,
}

impl Server {
    /// The state lock. While a script is busy, the wait for it leaves the async runtime free
    /// (see `busy`): use this, never `state.lock()`.
    pub fn lock(&self) -> parking_lot::MutexGuard<'_, State> {
        busy::lock(&self.state, &self.busy)
    }

    pub fn new(config: Config, dispatch: Dispatch) -> Result<Arc<Server>, String> {
        let commands = CommandMap::new(dispatch.table, &config.renames, config.sentinel_mode)?;
        let sentinel_mode = config.sentinel_mode;
        let config_file = config.file.clone();
        // Redis's run id: 40 random hex characters.
        let run_id: String = (0..40).map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0')).collect();
        let port = config.int(crate::ckey!("port")) as u16;
        let tcp = TcpConfig::from_config(&config);
        let tls_port = config.int(crate::ckey!("tls-port")) as u16;
        let mut state = State::new(config);
        state.acl =
            startup_acl(&state.config, dispatch.table, sentinel_mode).map_err(|e| match e.split_once('\n') {
                // Redis logs the bad rule, then exits with its own line.
                Some((rule, fatal)) => {
                    tracing::warn!("{rule}");
                    fatal.to_string()
                }
                None => e,
            })?;
        // The users now live in the ACL state alone.
        state.config.users.clear();
        Ok(Arc::new_cyclic(|this| Server {
            state: Mutex::new(state),
            commands,
            dispatch,
            run_id,
            started: Instant::now(),
            pid: std::process::id(),
            executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            config_file,
            shutdown: Notify::new(),
            tcp_port: Mutex::new(port),
            tcp_generation: tokio::sync::watch::channel(0).0,
            tcp_open: std::sync::atomic::AtomicUsize::new(0),
            tcp_config: Mutex::new(Some(tcp)),
            rebind_tcp: std::sync::OnceLock::new(),
            tls: crate::tls::Current::default(),
            tls_port: Mutex::new(tls_port),
            tls_generation: tokio::sync::watch::channel(0).0,
            tls_open: std::sync::atomic::AtomicUsize::new(0),
            rebind_tls: std::sync::OnceLock::new(),
            socket_activated: std::sync::atomic::AtomicBool::new(false),
            aof_queued: std::sync::atomic::AtomicBool::new(false),
            sentinel_mode,
            sentinel_boot: Mutex::new(None),
            busy: busy::Busy::default(),
            this: this.clone(),
        }))
    }

    /// A strong handle to the server, for tasks spawned from code that only has `&Server`.
    pub fn me(&self) -> Option<Arc<Server>> {
        self.this.upgrade()
    }

    pub fn request_shutdown(&self) {
        self.lock().shutdown_requested = true;
        self.shutdown.notify_one();
    }
}

/// The TCP side of the config: bind addresses, port, backlog.
pub struct TcpConfig {
    pub binds: Vec<String>,
    pub port: u16,
    pub backlog: i32,
}

impl TcpConfig {
    pub fn from_config(c: &crate::config::Config) -> TcpConfig {
        let binds = match c.val(crate::ckey!("bind")) {
            crate::config::Val::List(l) => l.clone(),
            _ => Vec::new(),
        };
        TcpConfig {
            binds,
            port: c.int(crate::ckey!("port")) as u16,
            backlog: c.int(crate::ckey!("tcp-backlog")) as i32,
        }
    }
}

/// The ACL state a server starts with: ACLInit, requirepass as the default user's password, then
/// ACLLoadUsersAtStartup (the config file's `user` lines or the ACL file, never both). Sentinel's
/// start-up also needs it, to write the users when it saves its new ID before serving, and
/// redisctl, to check a configuration as the server would start with it. A bad user line's
/// error is its rule's line, a line break, then the fatal line.
pub fn startup_acl(config: &Config, table: command::Table, sentinel_mode: bool) -> Result<crate::acl::Acl, String> {
    let catalog = Arc::new(command::acl_catalog(table, sentinel_mode));
    let all_channels = config.str(crate::ckey!("acl-pubsub-default")) == "allchannels";
    let mut acl = crate::acl::Acl::new(catalog, all_channels);
    let requirepass = config.str(crate::ckey!("requirepass"));
    acl.set_default_password((!requirepass.is_empty()).then_some(requirepass.as_bytes()));
    let aclfile = config.str(crate::ckey!("aclfile"));
    let users = &config.users;
    if !aclfile.is_empty() && !users.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    if let Err(e) = acl.load_configured(users) {
        return Err(format!("{e}\nCritical error while loading ACLs. Exiting."));
    }
    if !aclfile.is_empty() {
        let users = crate::acl::file::load(&acl, aclfile)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
        *acl.users_mut() = users;
    }
    Ok(acl)
}
