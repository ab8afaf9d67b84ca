//! Wall-clock helpers (expiry is absolute unix time in ms, as in Redis).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_ms() -> u64 {
    #[cfg(test)]
    if let Some(us) = test_clock::now_us() {
        return us / 1000;
    }
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub fn unix_us() -> u64 {
    #[cfg(test)]
    if let Some(us) = test_clock::now_us() {
        return us;
    }
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

#[cfg(not(test))]
pub fn cached_unix_secs() -> i64 {
    match CACHED_SECS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => {
            refresh_cached();
            CACHED_SECS.load(std::sync::atomic::Ordering::Relaxed)
        }
        s => s,
    }
}

/// In unit tests there is no cron to refresh the cache, and each test thread has its own clock
/// (see `test_clock`): the cached clock is that thread's clock.
#[cfg(test)]
pub fn cached_unix_secs() -> i64 {
    unix_secs()
}

/// The clock of the in-process test harness (`commands::testing`): stopped, and moved only by the
/// test, so TTLs and timeouts are exact. Per thread, because the test runner runs tests on
/// parallel threads and each test owns its clock.
#[cfg(test)]
pub mod test_clock {
    use std::cell::Cell;

    thread_local! {
        /// Unix µs while stopped; None reads the real clock.
        static NOW_US: Cell<Option<u64>> = const { Cell::new(None) };
    }

    pub fn now_us() -> Option<u64> {
        NOW_US.with(Cell::get)
    }

    /// Stops this thread's clock at the real time.
    pub fn freeze() {
        reset();
        let real = super::unix_us();
        NOW_US.with(|c| c.set(Some(real)));
    }

    /// Moves this thread's clock forward by `ms` (stopping it first if it runs).
    pub fn advance(ms: u64) {
        if now_us().is_none() {
            freeze();
        }
        NOW_US.with(|c| c.set(c.get().map(|us| us + ms * 1000)));
    }

    /// Back to the real clock.
    pub fn reset() {
        NOW_US.with(|c| c.set(None));
    }

    #[test]
    fn advance_moves_every_clock_of_this_thread_only() {
        freeze();
        let (ms, us, s) = (super::unix_ms(), super::unix_us(), super::unix_secs());
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(super::unix_us(), us, "a stopped clock moved");
        advance(10_000);
        assert_eq!(super::unix_ms(), ms + 10_000);
        assert_eq!(super::unix_us(), us + 10_000_000);
        assert_eq!(super::unix_secs(), s + 10);
        assert_eq!(super::cached_unix_secs(), s + 10);
        let other = std::thread::spawn(super::unix_ms).join().unwrap_or(u64::MAX);
        assert!(other < ms + 10_000, "another thread's clock moved too");
        reset();
        assert!(super::unix_ms() < ms + 10_000);
    }
}
