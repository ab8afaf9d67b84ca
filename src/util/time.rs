//! Wall-clock helpers (expiry is absolute unix time in ms, as in Redis).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub fn unix_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

pub fn unix_secs() -> i64 {
    (unix_ms() / 1000) as i64
}

/// Unix seconds as last refreshed by the cron (like Redis's cached clocks): for the LRU clock and
/// other second-resolution stamps on the request path, where a clock read per access would cost
/// more than the work itself.
static CACHED_SECS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

pub fn refresh_cached() {
    CACHED_SECS.store(unix_secs(), std::sync::atomic::Ordering::Relaxed);
}

pub fn cached_unix_secs() -> i64 {
    match CACHED_SECS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => {
            refresh_cached();
            CACHED_SECS.load(std::sync::atomic::Ordering::Relaxed)
        }
        s => s,
    }
}
