//! Wall-clock helpers (expiry is absolute unix time in ms, as in Redis).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_ms() -> u64 {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    test_clock::shifted(ms, 1)
}

pub fn unix_us() -> u64 {
    let us = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0);
    test_clock::shifted(us, 1000)
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

/// Release builds read the real clock.
#[cfg(not(test))]
mod test_clock {
    #[inline(always)]
    pub fn shifted(t: u64, _per_ms: u64) -> u64 {
        t
    }
}

/// The clock of the in-process test harness (`commands::testing`): an offset the test moves
/// forward, per thread because the test runner runs tests on parallel threads and each test owns
/// its clock.
#[cfg(test)]
pub mod test_clock {
    use std::cell::Cell;

    thread_local! {
        static OFFSET_MS: Cell<u64> = const { Cell::new(0) };
    }

    /// `t` in units of 1/`per_ms` ms, moved forward by this thread's offset.
    pub fn shifted(t: u64, per_ms: u64) -> u64 {
        t + OFFSET_MS.with(Cell::get) * per_ms
    }

    /// Moves this thread's clock forward by `ms`.
    pub fn advance(ms: u64) {
        OFFSET_MS.with(|o| o.set(o.get() + ms));
    }

    /// Back to the real clock.
    pub fn reset() {
        OFFSET_MS.with(|o| o.set(0));
    }

    #[test]
    fn advance_moves_every_clock_of_this_thread_only() {
        reset();
        let (ms, us, s) = (super::unix_ms(), super::unix_us(), super::unix_secs());
        advance(10_000);
        assert!(super::unix_ms() >= ms + 10_000 && super::unix_ms() < ms + 11_000);
        assert!(super::unix_us() >= us + 10_000_000 && super::unix_us() < us + 11_000_000);
        assert!(super::unix_secs() >= s + 10 && super::cached_unix_secs() >= s + 10);
        let other = std::thread::spawn(super::unix_ms).join().unwrap_or(0);
        assert!(other < ms + 10_000, "another thread's clock moved too");
        reset();
        assert!(super::unix_ms() < ms + 10_000);
    }
}
