//! MIGRATE's cached connections to target servers (cluster.c's migrate_cached_sockets): one
//! per `host:port` as the command named them, at most 64, each closed after 10 seconds unused.
//! They are plain blocking sockets used with deadlines (Redis's syncio.c): MIGRATE blocks the
//! server while it talks to the target, as in Redis.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// MIGRATE_SOCKET_CACHE_ITEMS.
const MAX_CACHED: usize = 64;
/// MIGRATE_SOCKET_CACHE_TTL, in seconds.
const IDLE_SECS: i64 = 10;
/// connSyncReadLine's buffer: a longer reply line is cut there.
const MAX_LINE: usize = 1024;

pub struct MigrateConn {
    reader: BufReader<TcpStream>,
    /// The database the target has selected on this connection, when known.
    pub last_db: Option<i64>,
    last_use_secs: i64,
}

impl MigrateConn {
    fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// connSyncWrite: all of `buf` within `timeout`.
    pub fn write_all(&mut self, buf: &[u8], timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        // Written in 64 KiB pieces, each with what is left of the time, as Redis does.
        for piece in buf.chunks(64 * 1024) {
            let left = remaining(deadline)?;
            self.stream().set_write_timeout(Some(left))?;
            let mut s = self.stream();
            s.write_all(piece)?;
        }
        Ok(())
    }

    /// connSyncReadLine: one reply line without its CRLF, within `timeout`. An empty line, the
    /// end of the stream or the time running out are errors (the caller's "<= 0").
    pub fn read_line(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut line = Vec::new();
        loop {
            let left = remaining(deadline)?;
            self.stream().set_read_timeout(Some(left))?;
            let before = line.len();
            let n = Read::take(&mut self.reader, (MAX_LINE - 1 - line.len()) as u64).read_until(b'\n', &mut line)?;
            if n == 0 && line.len() == before {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
            }
            if line.last() == Some(&b'\n') || line.len() >= MAX_LINE - 1 {
                break;
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "empty reply line"));
        }
        Ok(line)
    }
}

fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "timeout"));
    }
    Ok(left)
}

/// Whether an I/O error is the time running out (Redis's errno ETIMEDOUT: no retry then).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
}

#[derive(Default)]
pub struct MigrateSockets {
    conns: HashMap<Vec<u8>, MigrateConn>,
}

impl MigrateSockets {
    /// INFO's migrate_cached_sockets.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// migrateGetSocket: the cached connection to `host:port`, or a new one connected within
    /// `timeout` (a random cached one is dropped when 64 are open).
    pub fn get(&mut self, host: &[u8], port: &[u8], timeout: Duration, now_secs: i64) -> io::Result<&mut MigrateConn> {
        let name = [host, b":", port].concat();
        if !self.conns.contains_key(&name) {
            if self.conns.len() >= MAX_CACHED {
                let victim = self.conns.keys().nth(fastrand::usize(..self.conns.len())).cloned();
                if let Some(v) = victim {
                    self.conns.remove(&v);
                }
            }
            let stream = connect(host, port, timeout)?;
            stream.set_nodelay(true)?;
            self.conns
                .insert(name.clone(), MigrateConn { reader: BufReader::new(stream), last_db: None, last_use_secs: 0 });
        }
        let conn = self.conns.get_mut(&name).ok_or_else(|| io::Error::other("no connection"))?;
        conn.last_use_secs = now_secs;
        Ok(conn)
    }

    /// migrateCloseSocket.
    pub fn close(&mut self, host: &[u8], port: &[u8]) {
        self.conns.remove(&[host, b":", port].concat());
    }

    /// migrateCloseTimedoutSockets, from the cron.
    pub fn close_idle(&mut self, now_secs: i64) {
        self.conns.retain(|_, c| now_secs.saturating_sub(c.last_use_secs) <= IDLE_SECS);
    }
}

/// connBlockingConnect: the host resolved, each address tried until one connects within the time
/// left. The port is read as atoi reads it.
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> io::Result<TcpStream> {
    let deadline = Instant::now() + timeout;
    let host = std::str::from_utf8(host).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad host"))?;
    let port = u16::try_from(crate::util::numbers::c_atoll(port))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad port"))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}
