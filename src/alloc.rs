//! A counting global allocator: `used_memory` in INFO is what the process has allocated, as Redis's
//! zmalloc reports it.
//!
//! What is counted is each block's real footprint in the C allocator (its usable size plus the
//! allocator's per-chunk header), not the size Rust asked for: glibc rounds every request up to a
//! 16-byte step with an 8-byte header and a 32-byte minimum, so counting requested sizes left a
//! keyspace of small keys about a quarter bigger in RSS than in `used_memory`, and `maxmemory`
//! would have been overshot by as much. Redis counts the same way (zmalloc_size is the usable size
//! of the block, plus the header where the allocator has one).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static STARTUP: AtomicUsize = AtomicUsize::new(0);

/// glibc's in-use chunk header (the size word); the usable size does not include it.
const CHUNK_HEADER: usize = std::mem::size_of::<usize>();

/// Below this size glibc always serves a request from its heap (the mmap threshold starts at
/// 128 KiB), where a chunk's size follows from the request alone.
const HEAP_REQUEST_MAX: usize = 64 * 1024;

/// The bytes a live block of `size` bytes occupies in the C allocator. For small, ordinarily
/// aligned requests that is glibc's request2size (size plus the header, rounded up to 16, at least
/// 32), computed without a call into libc on the hot path; otherwise the allocator is asked. Both
/// sides of every block use the same rule, so the counter stays exact.
///
/// # Safety
/// `p` must be a live block of `size` bytes returned by the system allocator with `align`.
#[inline]
unsafe fn footprint(p: *mut u8, size: usize, align: usize) -> usize {
    if size < HEAP_REQUEST_MAX && align <= 16 {
        ((size + CHUNK_HEADER + 15) & !15).max(32)
    } else {
        libc::malloc_usable_size(p.cast()) + CHUNK_HEADER
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added, and
// blocks are measured only while they are live.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(footprint(p, layout.size(), layout.align()), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(footprint(ptr, layout.size(), layout.align()), Ordering::Relaxed);
        System.dealloc(ptr, layout);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(footprint(p, layout.size(), layout.align()), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = footprint(ptr, layout.size(), layout.align());
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            // On failure the old block is untouched and still counted.
            ALLOCATED.fetch_add(footprint(p, new_size, layout.align()), Ordering::Relaxed);
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
