//! Sentinel mode in the server: start-up (the config file Sentinel needs and keeps) and the task
//! that runs the monitoring loop under the server's lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::sentinel::link::LinkEvent;
use crate::sentinel::monitor::{Runtime, Tag};
use crate::sentinel::state::Sentinel;
use crate::server::sentinel_events::announce;
use crate::server::Server;

/// The defaults Sentinel mode applies before its config file (which may change them).
pub const DEFAULTS: &str = "port 26379\nprotected-mode no";

/// Reads the `sentinel` statements of the config file (Sentinel needs one, writable, to save its
/// state) into the running state. Err: the message to print before exiting with 1.
pub fn load(path: Option<&Path>, now_ms: u64) -> Result<Sentinel, String> {
    let Some(path) = path else {
        return Err("Sentinel needs config file on disk to save state. Exiting...".into());
    };
    if let Err(e) = std::fs::OpenOptions::new().append(true).open(path) {
        return Err(format!(
            "Sentinel config file {} is not writable: {e}. Exiting...",
            path.display(),
            e = crate::util::sys::error_text(&e)
        ));
    }
    let doc = crate::config::document::ConfigDocument::load(path)
        .map_err(|e| format!("{}: {}", path.display(), crate::util::sys::error_text(&e)))?;
    let statements = crate::sentinel::config::statements(&doc);
    let cfg = crate::sentinel::config::parse(&statements).map_err(|bad| {
        let e: crate::config::FatalConfigError = bad.into();
        e.to_string()
    })?;
    Ok(Sentinel::from_config(cfg, now_ms))
}

/// Starts the monitoring loop: announces the ID and the masters, then runs until the process ends.
pub fn start(server: &Arc<Server>, sentinel: Sentinel, config_file: PathBuf) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let now = crate::util::time::unix_ms();
    {
        let mut st = server.lock();
        let mut rt = Runtime::new(sentinel, 0, tx, now);
        keep_current(server, &st.config, &mut rt);
        tracing::warn!("Sentinel ID is {}", rt.sentinel.myid);
        for m in 0..rt.sentinel.masters.len() {
            let quorum = rt.sentinel.masters[m].settings.quorum;
            rt.sentinel.event("+monitor", true, Some((m, None)), &format!("quorum {quorum}"));
        }
        st.sentinel = Some(Box::new(rt));
        st.sentinel_config_file = Some(config_file);
        announce(&mut st);
    }
    tokio::spawn(run(server.clone(), rx));
}

/// What the monitoring takes from the server's settings: the TLS contexts its links use with
/// tls-replication, and the port hellos announce without `announce-port`, which is the TLS port
/// then if there is one (sentinelSendHello).
fn keep_current(server: &Server, config: &crate::config::Config, rt: &mut Runtime) {
    let tls_replication = config.bool(crate::ckey!("tls-replication"));
    rt.tls = if tls_replication { server.tls.get() } else { None };
    let tls_port = *server.tls_port.lock();
    rt.port = if tls_replication && tls_port != 0 { tls_port } else { *server.tcp_port.lock() };
}

/// Ticks every 50–100 ms (Redis sets hz = 10 + rand()%10 after each tick) and handles the links'
/// events as they come. The tick keeps its own schedule, as Redis's time event does: events in
/// between must not push it back (restarting the timer on each of them stretched the gaps
/// between ticks to 200 ms and more with three sentinels watching three servers).
async fn run(server: Arc<Server>, mut events: tokio::sync::mpsc::UnboundedReceiver<LinkEvent<Tag>>) {
    let next_period = || Duration::from_millis(1000 / (10 + fastrand::u64(..10)));
    // The first tick comes at once, as Redis's first serverCron (1 ms after start).
    let sleep = tokio::time::sleep(Duration::from_millis(1));
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => {
                let mut st = server.lock();
                let requirepass = st.hot.requirepass.clone();
                let state = &mut *st;
                if let Some(rt) = state.sentinel.as_mut() {
                    rt.requirepass = requirepass;
                    keep_current(&server, &state.config, rt);
                    rt.tick(crate::util::time::unix_ms());
                }
                announce(&mut st);
                drop(st);
                sleep.as_mut().reset(tokio::time::Instant::now() + next_period());
            }
            event = events.recv() => {
                let Some(event) = event else { return };
                let mut st = server.lock();
                if let Some(rt) = st.sentinel.as_mut() {
                    rt.handle_event(event, crate::util::time::unix_ms());
                }
                announce(&mut st);
            }
        }
    }
}
