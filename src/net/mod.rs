//! The network runtime: listeners, connections, the cron, start-up of the data server or of
//! Sentinel mode, and the way a process ends (signals, the final save).

pub mod client_buffers;
mod client_memory;
pub mod conn;
mod cron;
pub mod halves;
pub mod listener;
pub mod sentinel_runner;
pub mod syscheck;

use std::sync::Arc;

use crate::server::Server;

/// The TLS contexts at start-up, when a TLS port or TLS replication is configured.
fn configure_tls(server: &Server) -> Result<(), String> {
    let settings = {
        let st = server.lock();
        if !crate::tls::wanted(&st.config) {
            return Ok(());
        }
        crate::tls::Settings::from_config(&st.config)
    };
    server.tls.set(crate::tls::configure(&settings)?);
    Ok(())
}

/// Runs the server until SHUTDOWN or a signal. Returns the process exit code.
pub async fn run(server: Arc<Server>, inherited: Vec<crate::systemd::Inherited>) -> i32 {
    let mut signals = ShutdownSignals::catch();
    let _ = server.rebind_tcp.set(listener::rebind_tcp);
    let _ = server.rebind_tls.set(listener::rebind_tls);
    let _ = crate::server::state::CLIENT_INFO.set(crate::commands::client_info_line);
    // Like Redis's initServer: TLS is configured before anything listens, and a bad certificate
    // or setting stops the start-up.
    if let Err(msg) = configure_tls(&server) {
        tracing::warn!("{msg}");
        tracing::warn!("Failed to configure TLS. Check logs for more info.");
        return 1;
    }
    // Like Redis's initServer: the NOFILE limit is raised for maxclients before anything listens.
    if !adjust_open_files_limit(&server) {
        return 1;
    }
    let listeners = match listener::bind_all(&server, inherited) {
        Ok(l) => l,
        Err(msg) => {
            tracing::warn!("{msg}");
            return 1;
        }
    };
    // A TLS socket from systemd serves TLS even where the config has no tls-port.
    let tls_socket = listeners.iter().any(|l| matches!(l, listener::Listener::Tls(_)));
    if tls_socket && !server.tls.is_configured() {
        let settings = crate::tls::Settings::from_config(&server.lock().config);
        match crate::tls::configure(&settings) {
            Ok(c) => server.tls.set(c),
            Err(msg) => {
                tracing::warn!("{msg}");
                tracing::warn!("Failed to configure TLS. Check logs for more info.");
                return 1;
            }
        }
    }
    {
        let st = server.lock();
        let mode = if server.sentinel_mode { "sentinel" } else { "standalone" };
        // Redis shows the TLS port when there is no plain one.
        let port = match *server.tcp_port.lock() {
            0 => *server.tls_port.lock(),
            p => p,
        };
        syscheck::show_logo(mode, port, st.config.bool(crate::ckey!("always-show-logo")));
        syscheck::check_tcp_backlog(st.config.int(crate::ckey!("tcp-backlog")));
    }
    if server.sentinel_mode {
        return run_sentinel(server, listeners, signals).await;
    }
    tracing::warn!("Server initialized");
    syscheck::memory_warnings(server.lock().config.bool(crate::ckey!("disable-thp")));
    // Clients that connect before the dataset is in are told -LOADING.
    server.lock().loading = Some(crate::persistence::load::Loading::starting());
    tokio::spawn(cron::run(server.clone()));
    let loading = {
        let server = server.clone();
        tokio::spawn(async move { load_dataset(&server).await })
    };
    // Like Redis, which serves clients during a load only after each 2 MB read, a small dataset is
    // in before the first client is answered (a socket-activated client gets PONG, not -LOADING).
    let started = std::time::Instant::now();
    while !loading.is_finished() && !load_is_long(&server, started) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // A load that has already failed is reported before anyone is served: Redis never answers a
    // client from a dataset it could not load (a long load answers -LOADING meanwhile).
    let mut waiting = Some(listeners);
    if !loading.is_finished() {
        accept_on(&server, waiting.take());
    }
    match loading.await {
        Ok(Ok(())) => {}
        Ok(Err(msg)) => {
            // Empty: the loader has logged the failure in full itself.
            if !msg.is_empty() {
                tracing::warn!("{msg}");
            }
            return 1;
        }
        Err(e) => {
            tracing::warn!("Fatal error loading the dataset: {e}");
            return 1;
        }
    }
    {
        let st = server.lock();
        // One line for all of them: Debian's stock redis.conf alone sets about forty.
        if !st.config.later_seen.is_empty() {
            tracing::warn!(
                "These directives are accepted, but their features are not implemented in this version yet, so they have no effect: {}",
                st.config.later_seen.join(", ")
            );
        }
        if !st.config.no_effect_seen.is_empty() {
            tracing::debug!("These directives have no meaning for redis-rs: {}", st.config.no_effect_seen.join(", "));
        }
    }
    // Nothing after start-up needs privileges: listeners are bound, files are opened as needed.
    // Dropped before the first client is served (unless a long load answered some meanwhile).
    crate::capabilities::drop_in_every_thread();
    // Said before serving, as Redis logs it before its event loop starts.
    tracing::info!("Ready to accept connections");
    accept_on(&server, waiting.take());
    crate::systemd::ready();
    crate::systemd::spawn_watchdog();
    loop {
        wait_for_shutdown(&server, &mut signals).await;
        // Said first, so that systemd's stop timeout is extended by the progress reports of what
        // follows (waiting for replicas, the final save, the AOF's fsync) and not run out by them.
        crate::systemd::stopping();
        tracing::warn!("User requested shutdown...");
        if !server.lock().shutdown_saved {
            crate::commands::shutdown::wait_for_replicas_at_exit(&server).await;
        }
        if crate::commands::shutdown::save_before_exit(&server) {
            break;
        }
        // Like Redis: a signal's shutdown whose save failed leaves the server running.
        tracing::warn!(
            "SIGTERM received but errors trying to shut down the server, check the logs for more information"
        );
        crate::systemd::status("Error trying to save the DB, can't exit.");
    }
    server.lock().scripts.kill_debug_children();
    crate::persistence::appendonly::shutdown(&mut server.lock());
    let unixsocket = server.lock().config.str(crate::ckey!("unixsocket")).to_string();
    // A socket from systemd socket activation belongs to the .socket unit: it stays.
    let socket_activated = server.socket_activated.load(std::sync::atomic::Ordering::Relaxed);
    if !unixsocket.is_empty() && !socket_activated {
        tracing::info!("Removing the unix socket file.");
        let _ = std::fs::remove_file(&unixsocket);
    }
    let pidfile = server.lock().config.str(crate::ckey!("pidfile")).to_string();
    if !pidfile.is_empty() {
        tracing::info!("Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    tracing::warn!("Redis is now ready to exit, bye bye...");
    0
}

/// Sentinel mode: no dataset; the monitoring loop instead. Stops like the server does.
async fn run_sentinel(server: Arc<Server>, listeners: Vec<listener::Listener>, mut signals: ShutdownSignals) -> i32 {
    tokio::spawn(cron::run(server.clone()));
    for l in listeners {
        let s = server.clone();
        tokio::spawn(async move { l.accept_loop(s).await });
    }
    let boot = server.sentinel_boot.lock().take();
    if let (Some(sentinel), Some(file)) = (boot, server.config_file.clone()) {
        crate::net::sentinel_runner::start(&server, sentinel, file);
    }
    crate::capabilities::drop_in_every_thread();
    crate::systemd::ready();
    crate::systemd::spawn_watchdog();
    wait_for_shutdown(&server, &mut signals).await;
    crate::systemd::stopping();
    tracing::warn!("User requested shutdown...");
    let pidfile = server.lock().config.str(crate::ckey!("pidfile")).to_string();
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    tracing::warn!("Redis is now ready to exit, bye bye...");
    0
}

/// Loads the RDB file into the empty keyspace, off the runtime's threads, while clients that
/// connect are answered -LOADING; a file that cannot be loaded stops start-up and stays as it is.
/// Whether a load in progress has gone on long enough that clients should be answered meanwhile:
/// 2 MB read (Redis's loading-process-events-interval-bytes) or a quarter of a second.
fn load_is_long(server: &Server, started: std::time::Instant) -> bool {
    const BYTES: u64 = 2 * 1024 * 1024;
    let read = server.lock().loading.as_ref().map_or(0, |l| l.read_bytes.load(std::sync::atomic::Ordering::Relaxed));
    read >= BYTES || started.elapsed() >= std::time::Duration::from_millis(250)
}

async fn load_dataset(server: &Arc<Server>) -> Result<(), String> {
    let result = load_dataset_from_disk(server).await;
    let mut st = server.lock();
    st.loading = None;
    // In the same step as the end of loading: a client answered from now on must already see a
    // replica (a SYNC must get -NOMASTERLINK, not a full sync of this replica's data). The link
    // itself starts only now, after the load, so that it continues the history loaded from disk.
    if result.is_ok() {
        if let crate::config::Val::Replicaof(Some((host, port))) = st.config.val(crate::ckey!("replicaof")).clone() {
            crate::replication::replica::set_master(server, &mut st, host, port, true);
        }
    }
    result
}

async fn load_dataset_from_disk(server: &Arc<Server>) -> Result<(), String> {
    let path = crate::persistence::snapshot::rdb_path(&server.lock());
    let server = server.clone();
    // With appendonly yes the AOF is the dataset, and the RDB file is not read (as in Redis).
    if server.lock().config.bool(crate::ckey!("appendonly")) {
        return tokio::task::spawn_blocking(move || crate::persistence::appendonly::start(&server))
            .await
            .map_err(|e| format!("Fatal error loading the append only file: {e}. Exiting."))?;
    }
    tokio::task::spawn_blocking(move || crate::persistence::load::load_at_startup(&server, &path))
        .await
        .map_err(|e| format!("Fatal error loading the DB: {e}. Exiting."))?
}

/// SIGTERM and SIGINT, caught from the start: a signal that comes while the server is still
/// starting must shut it down cleanly, not kill it.
struct ShutdownSignals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn catch() -> ShutdownSignals {
        use tokio::signal::unix::{signal, SignalKind};
        ShutdownSignals { term: signal(SignalKind::terminate()).ok(), int: signal(SignalKind::interrupt()).ok() }
    }
}

async fn wait_for_shutdown(server: &Server, signals: &mut ShutdownSignals) {
    let ShutdownSignals { term, int } = signals;
    loop {
        if server.lock().shutdown_requested {
            return;
        }
        tokio::select! {
            _ = server.shutdown.notified() => {}
            _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                crate::logging::from_signal_handler("Received SIGTERM scheduling shutdown...");
                return;
            }
            _ = async { match int.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                crate::logging::from_signal_handler("Received SIGINT scheduling shutdown...");
                return;
            }
        }
    }
}

/// adjustOpenFilesLimit at start-up: logs what it got, lowers maxclients to fit. False: not even
/// one client fits, and the server exits as Redis does.
fn adjust_open_files_limit(server: &Server) -> bool {
    let mut st = server.lock();
    let adjusted = crate::util::fd_limit::adjust(st.config.int(crate::ckey!("maxclients")).max(1) as u64);
    adjusted.log();
    let maxclients = adjusted.maxclients as i64;
    st.config.set_val(crate::ckey!("maxclients").0, crate::config::Val::Int(maxclients));
    st.hot.maxclients = adjusted.maxclients as usize;
    !adjusted.fatal
}

/// Starts accepting clients on `listeners`, if not done yet.
fn accept_on(server: &Arc<Server>, listeners: Option<Vec<listener::Listener>>) {
    for l in listeners.into_iter().flatten() {
        let s = server.clone();
        tokio::spawn(async move { l.accept_loop(s).await });
    }
}
