//! Sentinel mode in the server: start-up (the config file Sentinel needs and keeps), the task
//! that runs the monitoring loop under the server's lock, and the announcement of events: on
//! their pub/sub channel, in the log (with SENTINEL_EVENT and MASTER_NAME for the journal), and
//! in sentinel.conf when the state to keep changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::link::LinkEvent;
use super::monitor::{Runtime, Tag};
use super::state::{Event, Sentinel};
use crate::server::state::State;
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
    let statements = super::config::statements(&doc);
    let cfg = super::config::parse(&statements).map_err(|bad| {
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
        let mut st = server.state.lock();
        let port = *server.tcp_port.lock();
        let mut rt = Runtime::new(sentinel, port, tx, now);
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
                let mut st = server.state.lock();
                let requirepass = st.hot.requirepass.clone();
                if let Some(rt) = st.sentinel.as_mut() {
                    rt.requirepass = requirepass;
                    rt.tick(crate::util::time::unix_ms());
                }
                announce(&mut st);
                drop(st);
                sleep.as_mut().reset(tokio::time::Instant::now() + next_period());
            }
            event = events.recv() => {
                let Some(event) = event else { return };
                let mut st = server.state.lock();
                if let Some(rt) = st.sentinel.as_mut() {
                    rt.handle_event(event, crate::util::time::unix_ms());
                }
                announce(&mut st);
            }
        }
    }
}

/// Logs an event at its level (VERBOSE role changes only at debug) with the journal's fields:
/// SENTINEL_EVENT, and who it is about: MASTER_NAME/MASTER_IP/MASTER_PORT and
/// INSTANCE_TYPE/INSTANCE_IP/INSTANCE_PORT (for +switch-master, the new master).
fn log_event(e: &Event) {
    // tracing's fields are fixed per call site, so each combination of subjects is its own call.
    macro_rules! at_level {
        ($($fields:tt)*) => {
            if e.kind.ends_with("role-change") {
                tracing::debug!($($fields)*)
            } else if e.warning {
                tracing::warn!($($fields)*)
            } else {
                tracing::info!($($fields)*)
            }
        };
    }
    match (&e.master, &e.instance) {
        (Some(m), Some(i)) => at_level!(
            sentinel_event = %e.kind,
            master_name = %m.name,
            master_ip = %m.ip,
            master_port = m.port,
            instance_type = %i.name,
            instance_ip = %i.ip,
            instance_port = i.port,
            "{} {}",
            e.kind,
            e.message
        ),
        (Some(m), None) => at_level!(
            sentinel_event = %e.kind,
            master_name = %m.name,
            master_ip = %m.ip,
            master_port = m.port,
            "{} {}",
            e.kind,
            e.message
        ),
        (None, _) => at_level!(sentinel_event = %e.kind, "{} {}", e.kind, e.message),
    }
}

/// Publishes and logs the pending events, and saves sentinel.conf if the state to keep changed;
/// then ends the process if SENTINEL SIMULATE-FAILURE's crash point was reached.
pub fn announce(st: &mut State) {
    let Some(rt) = st.sentinel.as_mut() else { return };
    let events = std::mem::take(&mut rt.sentinel.events);
    let flush = std::mem::take(&mut rt.sentinel.flush_needed).then(|| rt.sentinel.to_config());
    let simulate_failure = rt.simulate_failure;
    for e in events {
        log_event(&e);
        let channel = bytes::Bytes::from(e.kind.into_bytes());
        let message = bytes::Bytes::from(e.message.into_bytes());
        crate::commands::publish(st, &channel, &message);
    }
    if let (Some(cfg), Some(path)) = (flush, st.sentinel_config_file.clone()) {
        match super::config::flush(&path, &cfg, &st.config.rewrite_options()) {
            Ok(()) => tracing::info!("Sentinel new configuration saved on disk"),
            Err(e) => tracing::warn!(
                "WARNING: Sentinel was not able to save the new configuration on disk!!!: {e}",
                e = crate::util::sys::error_text(&e)
            ),
        }
    }
    super::simulate::exit_if_crashed(&simulate_failure);
}

/// INFO's `# Sentinel` section.
pub fn info_section(st: &State) -> String {
    match st.sentinel.as_ref() {
        Some(rt) => rt.info_section(crate::util::time::unix_ms()),
        None => "# Sentinel\r\n".to_string(),
    }
}
