//! The per-key access field, as Redis's `lru`: an LRU clock in seconds, or under an LFU
//! maxmemory-policy a logarithmic access counter with its last-decrement time in minutes.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Redis's LRU_CLOCK_MAX: the clock wraps at 24 bits.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// New keys start with this counter so they are not evicted right away.
pub const LFU_INIT_VAL: u32 = 5;

static LFU_MODE: AtomicBool = AtomicBool::new(false);
static LFU_LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
static LFU_DECAY_TIME: AtomicU32 = AtomicU32::new(1);

pub fn configure(lfu: bool, log_factor: u32, decay_time: u32) {
    LFU_MODE.store(lfu, Ordering::Relaxed);
    LFU_LOG_FACTOR.store(log_factor, Ordering::Relaxed);
    LFU_DECAY_TIME.store(decay_time, Ordering::Relaxed);
}

pub fn lfu_mode() -> bool {
    LFU_MODE.load(Ordering::Relaxed)
}

pub fn lru_clock() -> u32 {
    (crate::util::time::cached_unix_secs() as u32) & LRU_CLOCK_MAX
}

fn minutes() -> u32 {
    ((crate::util::time::cached_unix_secs() / 60) as u32) & 0xFFFF
}

/// The access field of a newly created key.
pub fn initial() -> u32 {
    if lfu_mode() {
        (minutes() << 8) | LFU_INIT_VAL
    } else {
        lru_clock()
    }
}

/// The field after an access, as Redis's updateLFU / LRU_CLOCK().
pub fn touched(access: u32) -> u32 {
    if lfu_mode() {
        let mut counter = lfu_decayed(access);
        if counter < 255 {
            let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
            let p = 1.0 / (base * LFU_LOG_FACTOR.load(Ordering::Relaxed) as f64 + 1.0);
            if fastrand::f64() < p {
                counter += 1;
            }
        }
        (minutes() << 8) | counter
    } else {
        lru_clock()
    }
}

/// objectSetLRUOrLFU: the access field RESTORE's FREQ (under an LFU policy) or IDLETIME in
/// seconds (otherwise) gives a key, the idle time counted back from `lru_clock`; None when the
/// policy ignores what was given.
pub fn restored(freq: Option<u8>, idle_secs: Option<i64>, lru_clock: u32) -> Option<u32> {
    if lfu_mode() {
        return freq.map(|f| (minutes() << 8) | u32::from(f));
    }
    let idle = idle_secs?;
    let abs = i64::from(lru_clock).wrapping_sub(idle);
    // An idle time longer than the wrapping clock's value lands half a clock back, as in Redis.
    let abs =
        if abs < 0 { (i64::from(lru_clock) + i64::from(LRU_CLOCK_MAX / 2)) % i64::from(LRU_CLOCK_MAX) } else { abs };
    Some(abs as u32)
}

/// The LFU counter after decay (OBJECT FREQ).
pub fn lfu_decayed(access: u32) -> u32 {
    let last = access >> 8;
    let counter = access & 255;
    let now = minutes();
    let elapsed = if now >= last { now - last } else { 65535 - last + now };
    let decay = LFU_DECAY_TIME.load(Ordering::Relaxed);
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Seconds since the last access (OBJECT IDLETIME), handling the 24-bit wrap.
pub fn idle_secs(access: u32) -> u64 {
    let now = lru_clock();
    if now >= access {
        (now - access) as u64
    } else {
        (LRU_CLOCK_MAX - access + now) as u64
    }
}
