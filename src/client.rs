//! The one small RESP client: connect, AUTH, send a command, read its reply. Used by `redisctl
//! --apply` and by Sentinel's links (`sentinel::link`), which share its reply parser
//! ([`read_value`]) and command encoder ([`encode_command`]).

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream};

/// The longest bulk reply accepted, Redis's own proto-max-bulk-len default: a bigger length from
/// the network is a protocol error, never an allocation.
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// The longest reply line (type byte, status/error text or a length) accepted before its CRLF.
const MAX_LINE_LEN: usize = 1024 * 1024;
/// How deeply arrays may nest: each level is a boxed future polled recursively, so a peer sending
/// `*1\r\n` forever must not exhaust the stack.
const MAX_DEPTH: usize = 128;

/// A reply as the client sees it (RESP2, plus RESP3's null).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Value>),
    Nil,
}

impl Value {
    /// The text of a status or bulk reply.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Status(s) => Some(s.clone()),
            Value::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

fn protocol_error(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("protocol error: {what}"))
}

/// One command as a RESP array of bulk strings, ready to write.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one whole reply. A clean end of stream before it starts is `UnexpectedEof` "connection
/// closed"; anything malformed, oversized or too deeply nested is `InvalidData`. Not cancel-safe:
/// a reply abandoned halfway leaves the stream in the middle of it.
pub async fn read_value<R: AsyncBufRead + Unpin + Send>(reader: &mut R) -> std::io::Result<Value> {
    read_nested(reader, 0).await
}

fn read_nested<'a, R: AsyncBufRead + Unpin + Send>(
    reader: &'a mut R,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Value>> + Send + 'a>> {
    Box::pin(async move {
        let line = read_line(reader, depth == 0).await?;
        // The type byte is ASCII in any valid reply; a line starting with another character
        // (the line is lossy UTF-8, so possibly a multi-byte one) is not split inside it.
        let (kind, rest) = line.split_at_checked(1).unwrap_or(("", ""));
        let len = || rest.parse::<i64>().map_err(|_| protocol_error("bad length"));
        Ok(match kind {
            "+" => Value::Status(rest.to_string()),
            "-" => Value::Error(rest.to_string()),
            ":" => Value::Int(len()?),
            "_" => Value::Nil,
            "$" => match usize::try_from(len()?) {
                Ok(n) => Value::Bulk(read_bulk(reader, n).await?),
                Err(_) => Value::Nil,
            },
            "*" => match usize::try_from(len()?) {
                Ok(_) if depth >= MAX_DEPTH => return Err(protocol_error("arrays nested too deeply")),
                Ok(n) => {
                    // The count is the peer's word: capacity grows with what actually arrives.
                    let mut items = Vec::with_capacity(n.min(1024));
                    for _ in 0..n {
                        items.push(read_nested(reader, depth + 1).await?);
                    }
                    Value::Array(items)
                }
                Err(_) => Value::Nil,
            },
            _ => return Err(protocol_error("unexpected reply type")),
        })
    })
}

/// A line without its CRLF, at most MAX_LINE_LEN long.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, at_reply_start: bool) -> std::io::Result<String> {
    let mut line = Vec::new();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Err(if line.is_empty() && at_reply_start {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed")
            } else {
                protocol_error("connection closed mid-reply")
            });
        }
        let (taken, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        line.extend_from_slice(&available[..taken]);
        reader.consume(taken);
        if line.len() > MAX_LINE_LEN + 2 {
            return Err(protocol_error("reply line too long"));
        }
        if done {
            break;
        }
    }
    if !line.ends_with(b"\r\n") {
        return Err(protocol_error("line not ended by CRLF"));
    }
    line.truncate(line.len() - 2);
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// A bulk string's `n` bytes and its CRLF. Memory grows with the bytes received, not with the
/// length announced.
async fn read_bulk<R: AsyncBufRead + Unpin>(reader: &mut R, n: usize) -> std::io::Result<Vec<u8>> {
    if n > MAX_BULK_LEN {
        return Err(protocol_error("bulk length over 512 MB"));
    }
    let mut data = Vec::with_capacity(n.min(64 * 1024));
    (&mut *reader).take(n as u64).read_to_end(&mut data).await?;
    let mut crlf = [0u8; 2];
    if data.len() < n || reader.read_exact(&mut crlf).await.is_err() {
        return Err(protocol_error("connection closed mid-reply"));
    }
    if &crlf != b"\r\n" {
        return Err(protocol_error("bulk string not ended by CRLF"));
    }
    Ok(data)
}

/// A connection the client can talk over: TCP, or a Unix socket (an instance with `port 0`).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub struct Client {
    stream: BufReader<Box<dyn Stream>>,
    timeout: Duration,
}

fn connect_timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
}

impl Client {
    pub async fn connect(host: &str, port: u16, timeout: Duration) -> std::io::Result<Client> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| connect_timed_out())??;
        stream.set_nodelay(true)?;
        Ok(Client { stream: BufReader::new(Box::new(stream)), timeout })
    }

    /// Connects to the Unix socket at `path` (the server's `unixsocket`).
    pub async fn connect_unix(path: &std::path::Path, timeout: Duration) -> std::io::Result<Client> {
        let stream =
            tokio::time::timeout(timeout, UnixStream::connect(path)).await.map_err(|_| connect_timed_out())??;
        Ok(Client { stream: BufReader::new(Box::new(stream)), timeout })
    }

    /// AUTH with a password (and a user, for ACL users); an error reply becomes an error.
    pub async fn auth(&mut self, user: Option<&str>, password: &str) -> std::io::Result<()> {
        let reply = match user {
            Some(u) => self.command(&["AUTH", u, password]).await?,
            None => self.command(&["AUTH", password]).await?,
        };
        match reply {
            Value::Error(e) => Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, e)),
            _ => Ok(()),
        }
    }

    pub async fn command(&mut self, args: &[&str]) -> std::io::Result<Value> {
        let out = encode_command(args);
        let t = self.timeout;
        tokio::time::timeout(t, async {
            self.stream.get_mut().write_all(&out).await?;
            read_value(&mut self.stream).await
        })
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply in time"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply line that starts with a multi-byte character (a garbled or hostile peer) is a
    /// protocol error: it used to be split inside the character, a panic (found by
    /// fuzz/reply_parser).
    #[tokio::test]
    async fn a_line_starting_with_a_multibyte_character_is_a_protocol_error() {
        for input in [&b"\xc3\xa9OK\r\n"[..], b"\xff\r\n", b"*2\r\n+OK\r\n\xe2\x82\xac1\r\n"] {
            let mut reader = input;
            let e = read_value(&mut reader).await.expect_err("not a reply");
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{input:?}");
        }
        let mut reader = &b"+\xc3\xa9\r\n"[..];
        assert_eq!(read_value(&mut reader).await.ok(), Some(Value::Status("é".into())));
    }
}
