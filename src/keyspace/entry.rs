//! A key and its value in one allocation behind an 8-byte pointer, so the hash table holds 8 bytes
//! per key and a small string key costs one allocation in all:
//!
//! ```text
//! [access: u32 (24 bits clock/LFU + flags)][key_len: u32][expire_at: u64, only if volatile][Value: 24][key]
//! ```

use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
use std::ptr::NonNull;

use super::value::Value;

const HEADER: usize = 8;
const VALUE_SIZE: usize = std::mem::size_of::<Value>();
const ACCESS_MASK: u32 = 0x00FF_FFFF;
const VOLATILE: u32 = 1 << 24;

pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry uniquely owns its allocation, like a Box, and the Value inside is Send + Sync.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

fn layout(key_len: usize, volatile: bool) -> Layout {
    let size = HEADER + if volatile { 8 } else { 0 } + VALUE_SIZE + key_len;
    // Sizes are bounded by the protocol's argument limit (< 4 GiB), far below isize::MAX.
    Layout::from_size_align(size, 8).unwrap_or_else(|_| handle_alloc_error(Layout::new::<u64>()))
}

impl Entry {
    /// `expire_at` is absolute unix ms, 0 for none. Keys are at most u32::MAX bytes (the protocol
    /// parser refuses longer arguments).
    pub fn new(key: &[u8], value: Value, expire_at: u64, access: u32) -> Entry {
        let volatile = expire_at != 0;
        let lay = layout(key.len(), volatile);
        // SAFETY: the layout has a non-zero size; every field is written before the Entry exists,
        // at offsets inside the allocation that are aligned for their types (8-byte aligned base,
        // u32s at 0 and 4, u64 and Value at multiples of 8).
        unsafe {
            let p = alloc(lay);
            let Some(ptr) = NonNull::new(p) else { handle_alloc_error(lay) };
            let flags = if volatile { VOLATILE } else { 0 };
            (p as *mut u32).write((access & ACCESS_MASK) | flags);
            (p.add(4) as *mut u32).write(key.len() as u32);
            let mut off = HEADER;
            if volatile {
                (p.add(off) as *mut u64).write(expire_at);
                off += 8;
            }
            (p.add(off) as *mut Value).write(value);
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(off + VALUE_SIZE), key.len());
            Entry { ptr }
        }
    }

    fn word(&self) -> u32 {
        // SAFETY: the header is always initialised.
        unsafe { (self.ptr.as_ptr() as *const u32).read() }
    }

    fn set_word(&mut self, w: u32) {
        // SAFETY: as above; we hold the only reference.
        unsafe { (self.ptr.as_ptr() as *mut u32).write(w) }
    }

    fn is_volatile(&self) -> bool {
        self.word() & VOLATILE != 0
    }

    fn key_len(&self) -> usize {
        // SAFETY: the header is always initialised.
        unsafe { (self.ptr.as_ptr().add(4) as *const u32).read() as usize }
    }

    fn value_offset(&self) -> usize {
        HEADER + if self.is_volatile() { 8 } else { 0 }
    }

    pub fn key(&self) -> &[u8] {
        // SAFETY: key_len bytes of key follow the value, inside the allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(self.value_offset() + VALUE_SIZE), self.key_len()) }
    }

    pub fn value(&self) -> &Value {
        // SAFETY: an initialised, aligned Value lives at value_offset for the Entry's lifetime.
        unsafe { &*(self.ptr.as_ptr().add(self.value_offset()) as *const Value) }
    }

    pub fn value_mut(&mut self) -> &mut Value {
        // SAFETY: as above, and &mut self gives exclusive access.
        unsafe { &mut *(self.ptr.as_ptr().add(self.value_offset()) as *mut Value) }
    }

    /// Absolute expiry in unix ms, if the key has a TTL.
    pub fn expire_at(&self) -> Option<u64> {
        if !self.is_volatile() {
            return None;
        }
        // SAFETY: a volatile entry stores its expiry right after the header.
        Some(unsafe { (self.ptr.as_ptr().add(HEADER) as *const u64).read() })
    }

    /// The LRU clock or LFU counter (24 bits), as Redis's `lru` field.
    pub fn access(&self) -> u32 {
        self.word() & ACCESS_MASK
    }

    pub fn set_access(&mut self, a: u32) {
        let w = self.word();
        self.set_word((w & !ACCESS_MASK) | (a & ACCESS_MASK));
    }

    /// Sets (non-zero) or removes (0) the expiry, growing or shrinking the allocation by the 8
    /// bytes of the expiry field when the key changes between volatile and persistent.
    pub fn set_expire(&mut self, at: u64) {
        let key_len = self.key_len();
        let tail = VALUE_SIZE + key_len;
        match (self.is_volatile(), at != 0) {
            (true, true) => {
                // SAFETY: a volatile entry has its expiry field right after the header.
                unsafe { (self.ptr.as_ptr().add(HEADER) as *mut u64).write(at) }
            }
            (false, false) => {}
            (false, true) => {
                let old = layout(key_len, false);
                let new = layout(key_len, true);
                // SAFETY: realloc to the larger layout keeps the old bytes; the value and key move
                // up by 8 bytes (ptr::copy handles the overlap) and the expiry fills the gap. Value
                // holds no pointers into the entry, so moving its bytes is a valid move.
                unsafe {
                    let p = realloc(self.ptr.as_ptr(), old, new.size());
                    let Some(ptr) = NonNull::new(p) else { handle_alloc_error(new) };
                    std::ptr::copy(p.add(HEADER), p.add(HEADER + 8), tail);
                    (p.add(HEADER) as *mut u64).write(at);
                    self.ptr = ptr;
                }
                let w = self.word();
                self.set_word(w | VOLATILE);
            }
            (true, false) => {
                let old = layout(key_len, true);
                let new = layout(key_len, false);
                // SAFETY: the value and key move down over the expiry field before the allocation
                // shrinks, so nothing live is cut off.
                unsafe {
                    let p = self.ptr.as_ptr();
                    std::ptr::copy(p.add(HEADER + 8), p.add(HEADER), tail);
                    let q = realloc(p, old, new.size());
                    let Some(ptr) = NonNull::new(q) else { handle_alloc_error(new) };
                    self.ptr = ptr;
                }
                let w = self.word();
                self.set_word(w & !VOLATILE);
            }
        }
    }

    /// Takes the value out, freeing the rest.
    pub fn into_value(self) -> Value {
        let lay = layout(self.key_len(), self.is_volatile());
        // SAFETY: the value is read out exactly once; the allocation is then freed without
        // dropping the value again (mem::forget skips Drop).
        unsafe {
            let v = (self.ptr.as_ptr().add(self.value_offset()) as *const Value).read();
            dealloc(self.ptr.as_ptr(), lay);
            std::mem::forget(self);
            v
        }
    }

    /// Bytes this entry occupies on the heap.
    pub fn allocation_size(&self) -> usize {
        layout(self.key_len(), self.is_volatile()).size()
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let lay = layout(self.key_len(), self.is_volatile());
        // SAFETY: the value is initialised and dropped once; then the allocation made with the
        // same layout is freed.
        unsafe {
            std::ptr::drop_in_place(self.ptr.as_ptr().add(self.value_offset()) as *mut Value);
            dealloc(self.ptr.as_ptr(), lay);
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", self.value())
            .field("expire_at", &self.expire_at())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_through_expiry_changes() {
        let long = vec![b'v'; 100];
        let mut e = Entry::new(b"some-key", Value::string(&long), 0, 123);
        assert_eq!(e.key(), b"some-key");
        assert_eq!(e.expire_at(), None);
        assert_eq!(e.access(), 123);
        e.set_expire(5000);
        assert_eq!(e.expire_at(), Some(5000));
        assert_eq!(e.key(), b"some-key");
        assert_eq!(e.value().as_bytes().unwrap().as_ref(), &long[..]);
        e.set_access(0xFFFFFF);
        assert_eq!(e.expire_at(), Some(5000));
        assert_eq!(e.access(), 0xFFFFFF);
        e.set_expire(0);
        assert_eq!(e.expire_at(), None);
        assert_eq!(e.key(), b"some-key");
        e.value_mut().bytes_mut().unwrap().extend_from_slice(b"!");
        assert_eq!(e.into_value().as_bytes().unwrap().len(), 101);
        let e = Entry::new(b"", Value::Int(7), 42, 0);
        assert_eq!((e.key(), e.expire_at()), (&b""[..], Some(42)));
    }

    #[test]
    fn small_keys_cost_one_small_allocation() {
        let e = Entry::new(b"key:000000000001", Value::string("xxx"), 0, 0);
        assert_eq!(e.allocation_size(), 48);
    }
}
