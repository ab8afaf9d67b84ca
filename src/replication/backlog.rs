//! The replication stream buffer: the bytes of the write stream, addressed by replication offset.
//! It is both the backlog (the history a reconnecting replica continues from with +CONTINUE) and
//! every attached replica's output (like Redis 7.0's shared replication buffer): each replica
//! keeps only its position in it, so a write is stored once however many replicas there are.
//!
//! Chunks are immutable `Bytes`: a replica's task takes cheap clones of the chunks it has still
//! to send and writes them without holding the keyspace lock.

use std::collections::VecDeque;

use bytes::Bytes;

pub struct Backlog {
    /// (replication offset of the chunk's first byte, chunk).
    chunks: VecDeque<(u64, Bytes)>,
    /// Offset of the first byte held (repl_backlog_first_byte_offset).
    first: u64,
    /// Bytes held.
    len: u64,
    /// repl-backlog-size: the history kept for partial resynchronisation.
    pub size: u64,
}

impl Backlog {
    /// An empty backlog whose next byte will have offset `next`.
    pub fn new(size: u64, next: u64) -> Backlog {
        Backlog { chunks: VecDeque::new(), first: next, len: 0, size }
    }

    pub fn first_offset(&self) -> u64 {
        self.first
    }

    pub fn histlen(&self) -> u64 {
        self.len
    }

    /// Offset the next appended byte gets.
    pub fn next_offset(&self) -> u64 {
        self.first + self.len
    }

    pub fn append(&mut self, data: Bytes) {
        // As Redis's feedReplicationBuffer: no chunk bigger than a 16th of the backlog (at
        // least 16 KB), so that history past the backlog's size is freed chunk by chunk; one
        // big write kept whole would stay until as much again had been written after it. The
        // pieces are copies: a slice would keep the whole buffer alive.
        let most = (self.size / 16).max(16 * 1024) as usize;
        if data.len() <= most {
            self.push(data);
        } else {
            data.chunks(most).for_each(|piece| self.push(Bytes::copy_from_slice(piece)));
        }
    }

    fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        let at = self.next_offset();
        self.len += data.len() as u64;
        self.chunks.push_back((at, data));
    }

    /// Whether a replica can continue from `offset` (the first byte it is missing).
    pub fn covers(&self, offset: u64) -> bool {
        offset >= self.first && offset <= self.next_offset()
    }

    /// The bytes from `offset` to the end, as chunks; None if `offset` was trimmed already.
    pub fn read_from(&self, offset: u64, max: usize) -> Option<Vec<Bytes>> {
        if !self.covers(offset) {
            return None;
        }
        let mut out = Vec::new();
        let mut taken = 0usize;
        let start = self.chunks.partition_point(|(at, c)| at + c.len() as u64 <= offset);
        for (at, chunk) in self.chunks.iter().skip(start) {
            let skip = offset.saturating_sub(*at) as usize;
            out.push(chunk.slice(skip..));
            taken += chunk.len() - skip;
            if taken >= max {
                break;
            }
        }
        Some(out)
    }

    /// Drops history beyond `size`, but never a byte at or after `pinned` (the earliest position a
    /// connected replica has still to send).
    pub fn trim(&mut self, pinned: u64) {
        while let Some((at, chunk)) = self.chunks.front() {
            let end = at + chunk.len() as u64;
            if self.len - (chunk.len() as u64) < self.size || end > pinned {
                break;
            }
            self.len -= chunk.len() as u64;
            self.first = end;
            self.chunks.pop_front();
        }
    }

    /// CONFIG SET repl-backlog-size.
    pub fn resize(&mut self, size: u64) {
        self.size = size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(v: Vec<Bytes>) -> Vec<u8> {
        v.iter().flat_map(|b| b.iter().copied()).collect()
    }

    #[test]
    fn reads_from_any_offset_inside() {
        let mut b = Backlog::new(100, 1);
        b.append(Bytes::from_static(b"hello"));
        b.append(Bytes::from_static(b"world"));
        assert_eq!(collect(b.read_from(1, usize::MAX).unwrap()), b"helloworld");
        assert_eq!(collect(b.read_from(4, usize::MAX).unwrap()), b"loworld");
        assert_eq!(collect(b.read_from(8, usize::MAX).unwrap()), b"rld");
        assert_eq!(collect(b.read_from(11, usize::MAX).unwrap()), b"");
        assert!(b.read_from(12, usize::MAX).is_none());
        assert!(b.read_from(0, usize::MAX).is_none());
    }

    #[test]
    fn trim_keeps_size_and_pinned_bytes() {
        let mut b = Backlog::new(6, 1);
        for c in [&b"aaaa"[..], b"bbbb", b"cccc"] {
            b.append(Bytes::copy_from_slice(c));
        }
        b.trim(1);
        assert_eq!(b.first_offset(), 1, "a replica at offset 1 pins everything");
        b.trim(u64::MAX);
        assert_eq!(b.first_offset(), 5);
        assert_eq!(b.histlen(), 8);
        assert_eq!(collect(b.read_from(5, usize::MAX).unwrap()), b"bbbbcccc");
        assert!(b.read_from(4, usize::MAX).is_none());
    }

    #[test]
    fn a_big_write_is_kept_in_pieces_that_trim_frees() {
        let size = 1 << 20;
        let mut b = Backlog::new(size, 1);
        let data: Vec<u8> = (0..20 << 20).map(|i: u32| i as u8).collect();
        b.append(Bytes::from(data.clone()));
        assert_eq!(collect(b.read_from(1, usize::MAX).unwrap()), data);
        b.trim(u64::MAX);
        // What stays is the backlog's size, give or take a piece (a 16th of it).
        assert!(b.histlen() >= size && b.histlen() < size + size / 16, "{}", b.histlen());
        assert!(b.chunks.iter().all(|(_, c)| c.len() <= (size / 16) as usize));
        assert_eq!(
            collect(b.read_from(b.first_offset(), usize::MAX).unwrap()),
            data[data.len() - b.histlen() as usize..]
        );
    }
}
