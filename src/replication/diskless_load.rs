//! repl-diskless-load: a replica loads its master's RDB straight from the socket instead of
//! writing it to a file first. `on-empty-db` does so only when the dataset is empty (nothing is
//! lost if the transfer breaks); `swapdb` loads into separate databases while clients keep
//! reading the old ones, and swaps them in once the load succeeded.
//!
//! The RDB parser reads from a blocking reader, so the socket is handed to a blocking thread for
//! the transfer and back to the runtime afterwards. Nothing may be read past the payload: after a
//! `$<len>` payload the master's stream follows at once.

use std::io::{Cursor, Read};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;

use super::link::{BlockingTls, Link};
use crate::keyspace::Db;
use crate::persistence::load::ReplInfo;
use crate::server::Server;

/// How the payload ends: after `len` bytes, or at the 40-byte end mark.
pub enum Framing {
    Length(u64),
    Mark([u8; 40]),
}

/// Loads the payload from the socket; returns the socket (back in non-blocking mode), what was
/// read past the payload, and the RDB's replication info.
pub async fn load(
    server: &Arc<Server>,
    stream: Link,
    buffered: BytesMut,
    framing: Framing,
    swap: bool,
    timeout: Duration,
) -> Result<(Link, BytesMut, ReplInfo), String> {
    let stream = match stream {
        Link::Plain(s) => s,
        Link::Tls(stream) => {
            // TLS is decrypted in this process: the blocking parser reads through the runtime.
            let reader = BlockingTls { stream, handle: tokio::runtime::Handle::current(), timeout };
            let loader = server.clone();
            let (reader, rest, loaded) =
                tokio::task::spawn_blocking(move || load_blocking(&loader, reader, buffered, framing, swap))
                    .await
                    .map_err(|e| e.to_string())?;
            return Ok((Link::Tls(reader.stream), rest, loaded?));
        }
    };
    let socket = stream.into_std().map_err(|e| e.to_string())?;
    socket.set_nonblocking(false).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let loader = server.clone();
    let (socket, rest, loaded) =
        tokio::task::spawn_blocking(move || load_blocking(&loader, socket, buffered, framing, swap))
            .await
            .map_err(|e| e.to_string())?;
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    let stream = TcpStream::from_std(socket).map_err(|e| e.to_string())?;
    Ok((Link::Plain(stream), rest, loaded?))
}

fn load_blocking<S: Read>(
    server: &Arc<Server>,
    mut socket: S,
    mut buffered: BytesMut,
    framing: Framing,
    swap: bool,
) -> (S, BytesMut, Result<ReplInfo, String>) {
    let result = match framing {
        Framing::Length(len) => {
            // Bytes already read past the payload are the stream's: they stay buffered.
            let head = buffered.split_to(buffered.len().min(len as usize));
            let mut input = Cursor::new(head).chain(&mut socket).take(len);
            load_from(server, &mut input, swap).and_then(|info| ended(&mut input).map(|()| info))
        }
        Framing::Mark(mark) => {
            let head = buffered.split();
            let mut input = UntilMark::new(Cursor::new(head).chain(&mut socket), mark);
            load_from(server, &mut input, swap).and_then(|info| ended(&mut input).map(|()| info))
        }
    };
    (socket, buffered, result)
}

/// The payload must end where the RDB ended: anything more is a broken transfer.
fn ended(input: &mut impl Read) -> Result<(), String> {
    let mut extra = Vec::new();
    match input.read_to_end(&mut extra) {
        Ok(0) => Ok(()),
        Ok(n) => Err(format!("{n} bytes after the end of the RDB payload")),
        Err(e) => Err(e.to_string()),
    }
}

fn load_from<R: Read>(server: &Arc<Server>, input: R, swap: bool) -> Result<ReplInfo, String> {
    if !swap {
        return crate::persistence::load::load_from_master_stream(server, input, None);
    }
    let databases = server.lock().dbs.len();
    let mut dbs: Vec<Db> = (0..databases).map(|_| Db::new()).collect();
    // Whichever is discarded, what a failed load left or the old dataset, goes to the lazy free
    // thread whatever replica-lazy-flush says, as Redis's discardTempDb does.
    let info = match crate::persistence::load::load_from_master_stream(server, input, Some(&mut dbs)) {
        Ok(info) => info,
        Err(e) => {
            crate::server::lazyfree::free_databases(dbs);
            return Err(e);
        }
    };
    tracing::info!("MASTER <-> REPLICA sync: Swapping the loaded databases in");
    let old = {
        let mut st = server.lock();
        st.replace_dataset(dbs)
    };
    crate::server::lazyfree::free_databases(old);
    Ok(info)
}

/// Reads up to the 40-byte end mark of a diskless payload, which it withholds: the last 40 bytes
/// read are released only once more follow, and when they are the mark the payload has ended.
struct UntilMark<R> {
    inner: R,
    held: Vec<u8>,
    /// Bytes of `held` already handed out.
    start: usize,
    mark: [u8; 40],
    ended: bool,
}

impl<R: Read> UntilMark<R> {
    fn new(inner: R, mark: [u8; 40]) -> UntilMark<R> {
        UntilMark { inner, held: Vec::with_capacity(1 << 16), start: 0, mark, ended: false }
    }
}

impl<R: Read> Read for UntilMark<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let pending = self.held.len() - self.start;
            let releasable = if self.ended { pending } else { pending.saturating_sub(40) };
            if releasable > 0 {
                let n = releasable.min(out.len());
                out[..n].copy_from_slice(&self.held[self.start..self.start + n]);
                self.start += n;
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            // Only the withheld tail remains: start the buffer over with it.
            self.held.drain(..self.start);
            self.start = 0;
            let mut chunk = [0u8; 1 << 16];
            let n = self.inner.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the master closed the connection"));
            }
            self.held.extend_from_slice(&chunk[..n]);
            if self.held.ends_with(&self.mark) {
                self.held.truncate(self.held.len() - 40);
                self.ended = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its data in fixed pieces, like a socket.
    struct Pieces(Vec<Vec<u8>>);

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let piece = self.0.remove(0);
            out[..piece.len()].copy_from_slice(&piece);
            Ok(piece.len())
        }
    }

    #[test]
    fn stops_at_the_mark_however_the_bytes_arrive() {
        let mark = [b'm'; 40];
        let payload: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        let mut all = payload.clone();
        all.extend_from_slice(&mark);
        for piece in [1, 7, 39, 40, 41, 100, 400] {
            let pieces = all.chunks(piece).map(<[u8]>::to_vec).collect();
            let mut r = UntilMark::new(Pieces(pieces), mark);
            let mut got = Vec::new();
            r.read_to_end(&mut got).expect("read");
            assert_eq!(got, payload, "pieces of {piece}");
        }
    }

    #[test]
    fn a_payload_cut_short_is_an_error() {
        let mark = [b'm'; 40];
        let mut r = UntilMark::new(Pieces(vec![vec![1, 2, 3]]), mark);
        let mut got = Vec::new();
        assert!(r.read_to_end(&mut got).is_err());
    }
}
