//! A client's query buffer and reply buffer, sized as Redis 7.0 sizes them, so that memory held
//! by idle clients goes back and CLIENT LIST's qbuf, qbuf-free, rbs and rbp say what Redis's say.
//!
//! Redis's query buffer is an sds string: a read makes room for 16 KB (readQueryFromClient, with
//! sdsMakeRoomFor's greedy or non-greedy growth), and clientsCron gives the room back from a
//! client idle for more than 2 s or one whose buffer is far above its recent peak
//! (clientsCronResizeQueryBuffer). Its reply buffer is 16 KB at first, shrunk or grown by the
//! cron after its peak use (clientsCronResizeOutputBuffer). The sizes are computed as Redis's
//! are (sds header, jemalloc's size class), so that the figures agree for the same traffic.

use std::future::poll_fn;
use std::future::Future;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// PROTO_IOBUF_LEN: the room made for each read.
pub const READ_LEN: usize = 16 * 1024;
/// PROTO_RESIZE_THRESHOLD
const RESIZE_THRESHOLD: usize = 32 * 1024;
/// PROTO_REPLY_CHUNK_BYTES: a new client's reply buffer, and the most the cron grows it to.
pub const REPLY_CHUNK: usize = 16 * 1024;
/// PROTO_REPLY_MIN_BYTES: the least the cron shrinks a reply buffer to.
const REPLY_MIN: usize = 1024;

/// The allocation (sdsalloc) an sds of `len` bytes gets when made with exactly that room: the
/// header its length needs (sds5 is never used for room made ahead), and the size class jemalloc
/// rounds the block to, all of which sds keeps as room.
fn sds_alloc_for(len: usize) -> usize {
    let (hdr, max) = match len {
        0..=255 => (3, 255),
        256..=65_535 => (5, 65_535),
        65_536..=0xffff_ffff => (9, 0xffff_ffff),
        _ => (17, usize::MAX),
    };
    (crate::alloc::size_class(hdr + len + 1) - hdr - 1).min(max)
}

/// The query buffer: what the client sent that has not been run yet.
pub struct QueryBuf {
    pub buf: BytesMut,
    /// querybuf_peak: the most it held since the cron last looked.
    peak: usize,
    /// The length of a big bulk argument being read (Redis's bulklen >= PROTO_MBULK_BIG_ARG):
    /// reads then make room for the rest of it alone, as readQueryFromClient does.
    pub big_bulk: Option<usize>,
    /// Bytes parsed from it since the last read (Redis trims them only once the whole read has
    /// been processed, so they count in qbuf meanwhile).
    pub consumed: usize,
    /// Bytes parsed by earlier reads whose room has not been taken back yet: it is, when the
    /// room is next needed (moving the rest to the front on every read would cost more). For
    /// Redis, who moves it at once, it is room.
    front: usize,
}

impl Default for QueryBuf {
    fn default() -> Self {
        // createClient: sdsempty(), no room until the first read.
        QueryBuf { buf: BytesMut::new(), peak: 0, big_bulk: None, consumed: 0, front: 0 }
    }
}

impl QueryBuf {
    /// sdslen: what a CLIENT LIST of the client shows while it runs a command of this read.
    pub fn len_with_consumed(&self) -> usize {
        self.consumed + self.buf.len()
    }

    /// sdsavail
    pub fn free(&self) -> usize {
        self.front + self.buf.capacity() - self.buf.len()
    }

    /// sdsalloc: the buffer's whole room, parsed bytes included (jemalloc's block for it is
    /// `crate::alloc::size_class` of it, left to whoever shows it: this is every request's path).
    pub fn allocated(&self) -> usize {
        self.front + self.consumed + self.buf.capacity()
    }

    /// The read is processed: the parsed bytes leave the buffer (their room is taken back when
    /// a read needs it).
    pub fn settle(&mut self) {
        self.front += self.consumed;
        self.consumed = 0;
    }

    /// The buffer was reallocated behind our back (a big argument's room made by the parser):
    /// what it holds now starts its block, which gets the whole size class Redis's
    /// sdsMakeRoomForNonGreedy gets (qbuf-free and the client's memory show it). Only big
    /// arguments come here, mostly right after their header, so little is copied.
    pub fn reallocated(&mut self) {
        self.front = 0;
        let room = self.buf.capacity();
        if sds_alloc_for(room) != room {
            self.resize(room);
        }
    }

    /// readQueryFromClient's sdsMakeRoomFor(readlen): non-greedy while the buffer is smaller than
    /// a read, greedy (double, or 1 MB more) after.
    #[inline]
    fn make_room(&mut self, readlen: usize) {
        if self.buf.capacity() - self.buf.len() < readlen {
            self.grow(readlen);
        }
    }

    /// readQueryFromClient for a big argument: room for what is missing of it (the bulk and its
    /// CRLF), non-greedy.
    #[cold]
    fn make_room_for_bulk(&mut self, bulk: usize) {
        let len = self.buf.len();
        let readlen = match (bulk + 2).saturating_sub(len) {
            0 => READ_LEN,
            remaining => remaining,
        };
        if self.buf.capacity() - len < readlen {
            self.resize(len + readlen);
        }
    }

    #[cold]
    fn grow(&mut self, readlen: usize) {
        let len = self.buf.len();
        if self.buf.try_reclaim(readlen) {
            self.front = 0;
            return;
        }
        let wanted = len + readlen;
        let greedy = self.buf.capacity() >= READ_LEN;
        let newlen = match greedy {
            false => wanted,
            true if wanted < 1024 * 1024 => wanted * 2,
            true => wanted + 1024 * 1024,
        };
        self.resize(newlen.max(len));
    }

    /// A buffer of exactly Redis's allocation for `len` bytes of room, holding what this one holds.
    fn resize(&mut self, len: usize) {
        let mut fresh = BytesMut::with_capacity(sds_alloc_for(len));
        fresh.extend_from_slice(&self.buf);
        self.buf = fresh;
        self.front = 0;
    }

    /// Polls one read. With no room at all (an idle client's buffer given back), nothing is
    /// allocated until the client sends something: the first bytes go through a small buffer on
    /// the stack, then room is made as a read makes it.
    #[inline]
    pub fn poll_read<R: AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<usize>> {
        let polled = if self.buf.capacity() == 0 {
            self.poll_first_read(rd, cx)
        } else {
            match self.big_bulk {
                Some(bulk) => self.make_room_for_bulk(bulk),
                None => self.make_room(READ_LEN),
            }
            // `read_buf`'s future holds no state between polls: a new one per poll reads the same.
            let read = rd.read_buf(&mut self.buf);
            tokio::pin!(read);
            read.poll(cx)
        };
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.peak = self.peak.max(self.buf.len());
            }
        }
        polled
    }

    /// A read into a buffer with no room (given back while the client was idle).
    #[cold]
    fn poll_first_read<R: AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<usize>> {
        let mut first = [0u8; 1024];
        let mut rb = ReadBuf::new(&mut first);
        match std::pin::Pin::new(&mut *rd).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n > 0 {
                    self.make_room(READ_LEN);
                    self.buf.extend_from_slice(rb.filled());
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    pub async fn read<R: AsyncRead + Unpin>(&mut self, rd: &mut R) -> std::io::Result<usize> {
        poll_fn(|cx| self.poll_read(rd, cx)).await
    }

    /// clientsCronResizeQueryBuffer. `idle_secs` as Redis counts it (whole seconds of its
    /// clock); `bulk` the length of a bulk argument being read, if any.
    pub fn tend(&mut self, idle_secs: u64, bulk: Option<usize>) {
        let len = self.buf.len();
        if self.free() > 4 * 1024 {
            let size = self.allocated();
            if idle_secs > 2 {
                // sdsRemoveFreeSpace: the room goes, the content stays.
                self.buf = if len == 0 { BytesMut::new() } else { BytesMut::from(&self.buf[..]) };
                self.front = 0;
            } else if size > RESIZE_THRESHOLD && size / 2 > self.peak {
                let keep = len.max(self.peak).max(bulk.unwrap_or(0));
                let mut fresh = BytesMut::with_capacity(keep);
                fresh.extend_from_slice(&self.buf);
                self.buf = fresh;
                self.front = 0;
            }
        }
        self.peak = len.max(bulk.unwrap_or(0));
    }
}

/// Redis's reply buffer (c->buf) as a size and a peak: replies are written into the connection's
/// output, which rests at this size between writes (the cron's resizing reallocates it).
pub struct ReplyBuf {
    /// buf_usable_size (rbs)
    pub size: usize,
    /// buf_peak (rbp): the most of it a reply used since the last reset.
    pub peak: usize,
    peak_reset_ms: u64,
}

impl Default for ReplyBuf {
    fn default() -> Self {
        let size = crate::alloc::size_class(REPLY_CHUNK);
        // createClient sets the peak to the size and its reset time in seconds, which the cron
        // compares with milliseconds: the first visit resets it.
        ReplyBuf { size, peak: size, peak_reset_ms: 0 }
    }
}

/// How the cron changed a reply buffer, for INFO's reply_buffer_shrinks and _expands.
#[derive(Debug, PartialEq, Eq)]
pub enum Resized {
    Shrunk,
    Expanded,
}

impl ReplyBuf {
    /// Replies of `pending` bytes are about to be written: the buffer's part of them.
    pub fn note(&mut self, pending: usize) {
        self.peak = self.peak.max(pending.min(self.size));
    }

    /// clientsCronResizeOutputBuffer, for a client with nothing left to write. `reset_ms`:
    /// reply_buffer_peak_reset_time (negative: never).
    pub fn tend(&mut self, now_ms: u64, resizing: bool, reset_ms: i64) -> Option<Resized> {
        if !resizing {
            return None;
        }
        let mut resized = None;
        let mut new_size = 0;
        if self.size / 2 >= REPLY_MIN && self.peak < self.size / 2 {
            new_size = REPLY_MIN.max(self.peak + 1);
            resized = Some(Resized::Shrunk);
        } else if self.size * 2 < REPLY_CHUNK * 2 && self.peak == self.size {
            new_size = REPLY_CHUNK.min(self.size * 2);
            resized = Some(Resized::Expanded);
        }
        if reset_ms >= 0 && now_ms.saturating_sub(self.peak_reset_ms) >= reset_ms as u64 {
            self.peak = 0;
            self.peak_reset_ms = now_ms;
        }
        if new_size > 0 {
            self.size = crate::alloc::size_class(new_size);
        }
        resized
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_for_a_read_is_redis_s_allocation() {
        // A first read: sdsMakeRoomForNonGreedy(empty, 16384) is an sds16 of 16390 bytes, which
        // jemalloc rounds to 20480, all of it room: 20474 (Redis's qbuf-free of an idle client).
        let mut q = QueryBuf::default();
        q.make_room(READ_LEN);
        assert_eq!(q.free(), 20474);
        assert_eq!(crate::alloc::size_class(q.allocated()), 20480);
        q.buf.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        let _ = q.buf.split_to(14);
        q.consumed = 14;
        assert_eq!(q.len_with_consumed(), 14);
        q.settle();
        assert_eq!(q.free(), 20474);
    }

    #[test]
    fn an_idle_client_gives_its_room_back_and_a_big_one_shrinks_to_its_peak() {
        let mut q = QueryBuf::default();
        q.make_room(READ_LEN);
        q.tend(1, None);
        assert_eq!(q.free(), 20474, "not idle long enough");
        q.tend(3, None);
        assert_eq!((q.buf.capacity(), q.free()), (0, 0));

        let mut q = QueryBuf::default();
        q.make_room(200_000);
        q.buf.extend_from_slice(&[b'x'; 100]);
        q.peak = 100;
        q.tend(0, None);
        assert_eq!(q.buf.capacity(), 100);
    }

    #[test]
    fn the_reply_buffer_shrinks_after_a_quiet_peak_and_grows_back_when_filled() {
        let mut r = ReplyBuf::default();
        assert_eq!((r.size, r.peak), (16384, 16384));
        // The first visit only resets the peak (it was the size).
        assert_eq!(r.tend(10_000, true, 5000), None);
        assert_eq!(r.peak, 0);
        r.note(781);
        assert_eq!(r.tend(11_000, true, 5000), Some(Resized::Shrunk));
        assert_eq!(r.size, 1024);
        r.note(5000);
        assert_eq!(r.peak, 1024);
        assert_eq!(r.tend(20_000, true, 5000), Some(Resized::Expanded));
        assert_eq!(r.size, 2048);
        assert_eq!(r.tend(20_100, false, 5000), None);
    }
}
