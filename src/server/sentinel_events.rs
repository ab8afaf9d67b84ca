//! Sentinel's events announced: on their pub/sub channel, in the log (with SENTINEL_EVENT and
//! MASTER_NAME for the journal), and in sentinel.conf when the state to keep changed.

use crate::sentinel::state::Event;
use crate::server::state::State;

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
        crate::server::pubsub::publish(st, &channel, &message);
    }
    if let (Some(cfg), Some(path)) = (flush, st.sentinel_config_file.clone()) {
        match crate::sentinel::config::flush(&path, &cfg, &st.rewrite_options()) {
            Ok(()) => tracing::info!("Sentinel new configuration saved on disk"),
            Err(e) => tracing::warn!(
                "WARNING: Sentinel was not able to save the new configuration on disk!!!: {e}",
                e = crate::util::sys::error_text(&e)
            ),
        }
    }
    crate::sentinel::simulate::exit_if_crashed(&simulate_failure);
}

/// INFO's `# Sentinel` section.
pub fn info_section(st: &State) -> String {
    match st.sentinel.as_ref() {
        Some(rt) => rt.info_section(crate::util::time::unix_ms()),
        None => "# Sentinel\r\n".to_string(),
    }
}
