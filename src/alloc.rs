//! The global allocator: jemalloc, with a count of what is allocated, so that `used_memory` in
//! INFO is what the process has allocated, as Redis's zmalloc reports it.
//!
//! What is counted is each block's real footprint in jemalloc, its usable size (the size class
//! the request was rounded up to; jemalloc keeps no per-block header), not the size Rust asked
//! for: that is what Redis counts too (zmalloc_size is je_malloc_usable_size), and `maxmemory`
//! would be overshot by the rounding otherwise.
//!
//! Why jemalloc and not glibc's malloc: bench/run.sh's memory fill (1M keys `key:` + 12 digits,
//! 3-byte values) and growth probe (10M keys, 4 pipelined writers), one server at a time on the
//! same build (Redis: Debian's 7.0.15, for scale); then every other key deleted, then FLUSHALL.
//! used_memory (as each allocator counts it) and RSS in MB, and mem_fragmentation_ratio:
//!
//! | after                  | glibc: used   RSS  frag | jemalloc: used RSS frag | Redis: used   RSS  frag |
//! |------------------------|-------------------------|-------------------------|-------------------------|
//! | empty                  |     0.2     6.4   34.07 |     0.2     7.1   37.50 |     1.0    12.3   13.23 |
//! | fill 1M keys           |    83.0    89.7    1.08 |    69.0    83.1    1.20 |   105.4   128.0    1.21 |
//! | del every other, +1 s  |    51.0    89.7    1.76 |    45.1    83.2    1.85 |    57.5   120.6    2.10 |
//! | del every other, +15 s |    51.0    89.9    1.76 |    45.1    80.5    1.79 |    57.5   120.2    2.09 |
//! | FLUSHALL, +1 s         |     0.3    89.8  337.83 |     0.3    80.3  301.72 |     1.1    16.1   15.70 |
//! | FLUSHALL, +15 s        |     0.3    89.8  337.83 |     0.3     8.3   31.33 |     1.1    16.0   15.14 |
//! | growth probe 10M keys  |   794.4   805.5    1.01 |   649.7   700.4    1.08 |  1162.4  1205.9    1.04 |
//! | its FLUSHALL, +15 s    |     1.0   804.4  829.52 |     0.3    17.9   63.00 |     1.1    44.9   43.30 |
//!
//! A key costs 83 B of RSS with glibc, 76 B with jemalloc (Redis: 116 B); at 10M keys jemalloc
//! needs 13 % less. glibc never gave memory back: a server that once held 10M keys kept 804 MB
//! after FLUSHALL, while jemalloc's background threads purge what is freed within seconds (as
//! Redis's `jemalloc-bg-thread yes` does; without them it kept 78 MB after the 1M FLUSHALL too).
//! used_memory per key fell from 82.8 B to 68.8 B (glibc's 16-byte steps, 8-byte header and
//! 32-byte minimum against jemalloc's 8/16/32/48/64... classes), so the fragmentation ratio after
//! the fill reads 1.20 instead of 1.08: RSS over a smaller count, not more RSS. The growth probe's
//! worst PING stall was 45 ms (glibc) and 14 ms (jemalloc), on a shared machine: noise.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(feature = "system-alloc"))]
use tikv_jemallocator::Jemalloc;

/// With the `system-alloc` feature (sanitizer builds: LeakSanitizer and AddressSanitizer see only
/// what goes through libc's malloc), blocks come from the system allocator and count their
/// requested size; jemalloc stays linked for its size-class arithmetic and statistics.
#[cfg(feature = "system-alloc")]
use std::alloc::System as Jemalloc;

pub struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static STARTUP: AtomicUsize = AtomicUsize::new(0);

/// Up to this size an ordinarily aligned request's usable size follows from its size alone.
const SMALL_MAX: usize = 4096;

/// jemalloc's size class for a small request (its usable size), computed without a call into
/// jemalloc: 8, then multiples of the 16-byte quantum up to 128, then four classes per doubling
/// (160, 192, 224, 256, 320, ...). The lookup of a live block's size (an rtree walk) was a
/// measurable share of every command's instructions.
#[inline]
fn small_size_class(size: usize) -> usize {
    if size <= 8 {
        return 8;
    }
    if size <= 128 {
        return (size + 15) & !15;
    }
    let lg = usize::BITS - 1 - (size - 1).leading_zeros();
    let delta = 1usize << (lg - 2);
    (size + delta - 1) & !(delta - 1)
}

/// jemalloc's usable size for a request of `size` bytes (what zmalloc_usable reports).
pub fn size_class(size: usize) -> usize {
    if size <= SMALL_MAX {
        return small_size_class(size);
    }
    // SAFETY: nallocx only computes a size class; it allocates nothing. 0 for a size too large.
    match unsafe { tikv_jemalloc_sys::nallocx(size, 0) } {
        0 => size,
        n => n,
    }
}

/// The bytes a block occupies in jemalloc: its usable size. Both sides of every block are
/// measured the same way (decided by its layout), so the counter stays exact.
///
/// # Safety
/// `p` must be a live block returned by jemalloc for `layout`.
#[inline]
unsafe fn footprint(p: *mut u8, layout: Layout) -> usize {
    if cfg!(feature = "system-alloc") {
        return layout.size();
    }
    if layout.size() <= SMALL_MAX && layout.align() <= 16 {
        // jemalloc's sz_sa2u: the size rounded up to the alignment, then its class.
        small_size_class((layout.size() + layout.align() - 1) & !(layout.align() - 1))
    } else {
        // SAFETY: the caller's contract; usable_size reads jemalloc's own record of the block.
        unsafe { tikv_jemallocator::usable_size(p) }
    }
}

// SAFETY: every call is forwarded to jemalloc unchanged; only counters are added, and
// blocks are measured only while they are live.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(footprint(p, layout), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(footprint(ptr, layout), Ordering::Relaxed);
        Jemalloc.dealloc(ptr, layout);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(footprint(p, layout), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = footprint(ptr, layout);
        let p = Jemalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            // On failure the old block is untouched and still counted.
            // SAFETY: realloc's contract: the new size with the old alignment is a valid layout.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            ALLOCATED.fetch_add(footprint(p, new_layout), Ordering::Relaxed);
            ALLOCATED.fetch_sub(old, Ordering::Relaxed);
        }
        p
    }
}

pub fn allocated() -> usize {
    let a = ALLOCATED.load(Ordering::Relaxed);
    // The peak is refreshed when read (INFO, cron, eviction checks), not on every allocation.
    PEAK.fetch_max(a, Ordering::Relaxed);
    a
}

pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed).max(allocated())
}

pub fn mark_startup() {
    STARTUP.store(allocated(), Ordering::Relaxed);
}

pub fn startup() -> usize {
    STARTUP.load(Ordering::Relaxed)
}

/// Starts jemalloc's background threads, which give freed memory back to the system as it ages
/// (without them jemalloc purges only while the process allocates, so an idle server kept what
/// a FLUSHALL freed). Called once the process has daemonized: a forked child runs with them off.
pub fn start_background_purging() -> Result<(), String> {
    // With the system allocator jemalloc holds nothing to purge. (Its threads are also made
    // outside LeakSanitizer's pthread_create, which then aborts at their pthread_join.)
    if cfg!(feature = "system-alloc") {
        return Ok(());
    }
    tikv_jemalloc_ctl::background_thread::write(true).map_err(|e| e.to_string())
}

/// Stops jemalloc's background threads (it joins them); whether they were running. They block
/// every signal, so a change of credentials that every thread must make (the capability drop)
/// starts them again afterwards instead.
pub fn stop_background_purging() -> bool {
    !cfg!(feature = "system-alloc")
        && tikv_jemalloc_ctl::background_thread::read().unwrap_or(false)
        && tikv_jemalloc_ctl::background_thread::write(false).is_ok()
}

/// What jemalloc itself reports (zmalloc_get_allocator_info): bytes allocated by the
/// application, in active pages, and resident.
pub struct AllocatorInfo {
    pub allocated: usize,
    pub active: usize,
    pub resident: usize,
}

/// jemalloc's statistics, refreshed (they are cached until the epoch advances); None if jemalloc
/// cannot report them.
pub fn allocator_info() -> Option<AllocatorInfo> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    Some(AllocatorInfo {
        allocated: stats::allocated::read().ok()?,
        active: stats::active::read().ok()?,
        resident: stats::resident::read().ok()?,
    })
}

/// INFO's mem_allocator, as Redis names it (ZMALLOC_LIB: "jemalloc-" and the release).
pub fn name() -> String {
    let version = tikv_jemalloc_ctl::version::read().unwrap_or("unknown");
    format!("jemalloc-{}", version.split('-').next().unwrap_or(version))
}

/// jemalloc's own statistics report (MEMORY MALLOC-STATS), as je_malloc_stats_print writes it.
pub fn stats_text() -> String {
    let mut out = Vec::new();
    match tikv_jemalloc_ctl::stats_print::stats_print(&mut out, Default::default()) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => format!("jemalloc could not report its statistics: {e}"),
    }
}

#[cfg(all(test, not(feature = "system-alloc")))]
mod tests {
    use super::*;

    #[test]
    fn size_classes_above_the_small_ones_are_jemallocs_too() {
        for size in (SMALL_MAX..=3 * 1024 * 1024).step_by(997).chain([16384, 16390, 20474, 1 << 20]) {
            let layout = Layout::from_size_align(size, 1).unwrap();
            // SAFETY: a non-zero-sized layout; the block is freed with the same layout.
            unsafe {
                let p = Jemalloc.alloc(layout);
                assert!(!p.is_null());
                assert_eq!(size_class(size), tikv_jemallocator::usable_size(p), "size {size}");
                Jemalloc.dealloc(p, layout);
            }
        }
    }

    #[test]
    fn small_size_classes_are_jemallocs_usable_sizes() {
        for size in 1..=SMALL_MAX {
            for align in [1, 2, 4, 8, 16] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero-sized layout; the block is freed with the same layout.
                unsafe {
                    let p = Jemalloc.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(footprint(p, layout), tikv_jemallocator::usable_size(p), "size {size} align {align}");
                    Jemalloc.dealloc(p, layout);
                }
            }
        }
    }
}
