// Included (with `include!`) by every target: the global allocator aborts on any single request
// over 256 MB, so that an input that makes the code allocate what no input's declared limit
// allows is reported as a crash, with or without a sanitizer. libFuzzer's -malloc_limit_mb does
// the same only through a sanitizer's malloc hooks, and the smoke build has none.

/// The same bound as scripts/fuzz.sh's -malloc_limit_mb.
const MAX_ONE_ALLOCATION: usize = 256 << 20;

struct LimitedAlloc;

fn check_allocation(size: usize) {
    if size > MAX_ONE_ALLOCATION {
        // Written without allocating: this runs inside the allocator.
        use std::io::Write;
        let _ = std::io::stderr().write_all(b"==fuzz== an allocation of over 256 MB was requested\n");
        std::process::abort();
    }
}

// SAFETY: every method forwards to System with the caller's own layout and pointer, after a check
// that allocates nothing; the contract of GlobalAlloc is System's.
unsafe impl std::alloc::GlobalAlloc for LimitedAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        check_allocation(layout.size());
        std::alloc::System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        check_allocation(layout.size());
        std::alloc::System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        check_allocation(new_size);
        std::alloc::System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: LimitedAlloc = LimitedAlloc;
