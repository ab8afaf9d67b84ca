//! Request parsing: RESP multibulk and inline commands, incrementally, with Redis 7.0's exact protocol errors.

use bytes::{Buf, Bytes, BytesMut};

use crate::util::splitargs::split_args;

/// Redis's PROTO_INLINE_MAX_SIZE: the longest inline request or length line.
pub const INLINE_MAX: usize = 64 * 1024;
/// Above this a bulk argument is read into a buffer of its own size, like Redis's PROTO_MBULK_BIG_ARG.
pub const BIG_ARG: usize = 32 * 1024;
const BIG_RESERVE_STEP: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub proto_max_bulk_len: i64,
    /// Unauthenticated clients get tight limits so they cannot make the server allocate.
    pub authenticated: bool,
}

/// The parser keeps its place between reads, so a command with many or large arguments is parsed once.
#[derive(Default)]
pub struct Parser {
    /// Arguments still expected for the multibulk in progress (0 = none in progress).
    remaining: usize,
    args: Vec<Bytes>,
    /// Length of the bulk whose header was read but whose data has not fully arrived.
    bulk_len: Option<usize>,
}

/// The text after `-ERR `; the connection replies with it and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl Parser {
    /// Parse one command. `Ok(None)` means more bytes are needed. Empty commands (a blank
    /// inline line, `*0`) are consumed and skipped.
    pub fn next(&mut self, buf: &mut BytesMut, limits: Limits) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.remaining == 0 {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match self.inline(buf)? {
                        Some(args) if args.is_empty() => continue,
                        other => return Ok(other),
                    }
                }
                let Some(n) = read_len_line(buf, "too big mbulk count string")? else {
                    return Ok(None);
                };
                let n = match n {
                    Some(n) if n <= i32::MAX as i64 => n,
                    _ => return Err(err("invalid multibulk length")),
                };
                if !limits.authenticated && n > 10 {
                    return Err(err("unauthenticated multibulk length"));
                }
                if n <= 0 {
                    continue;
                }
                self.remaining = n as usize;
                self.args = Vec::with_capacity(self.remaining.min(1024));
            }
            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => {
                        if buf.is_empty() {
                            return Ok(None);
                        }
                        if buf[0] != b'$' {
                            return Err(err(&format!("expected '$', got '{}'", char::from(buf[0]))));
                        }
                        let Some(len) = read_len_line(buf, "too big bulk count string")? else {
                            return Ok(None);
                        };
                        let len = match len {
                            Some(l) if l >= 0 && l <= limits.proto_max_bulk_len => l,
                            _ => return Err(err("invalid bulk length")),
                        };
                        if !limits.authenticated && len > 16384 {
                            return Err(err("unauthenticated bulk length"));
                        }
                        let len = len as usize;
                        // Room for a big argument is made up front, like Redis, but in bounded steps
                        // so a length alone cannot make the server allocate hundreds of megabytes.
                        if len >= BIG_ARG && buf.capacity() < len + 2 {
                            // Exactly that room, as Redis's sdsMakeRoomForNonGreedy gives:
                            // BytesMut::reserve would double a buffer that is already big, and
                            // the client would hold (and be charged for) twice the argument.
                            let room = buf.len() + (len + 2 - buf.len()).min(BIG_RESERVE_STEP);
                            let mut exact = BytesMut::with_capacity(room);
                            exact.extend_from_slice(buf);
                            *buf = exact;
                        }
                        self.bulk_len = Some(len);
                        len
                    }
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                let data = buf.split_to(len).freeze();
                buf.advance(2);
                self.args.push(data);
                self.bulk_len = None;
                self.remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }

    /// The arguments of the command still arriving that are complete: how many, and their bytes
    /// (Redis's c->argc and c->argv_len_sum between reads: CLIENT LIST's argv-mem, and what the
    /// client holds for maxmemory-clients).
    pub fn pending_args(&self) -> (usize, usize) {
        if self.remaining == 0 {
            return (0, 0);
        }
        (self.args.len(), self.args.iter().map(|a| a.len()).sum())
    }

    /// The length of the bulk argument being read, once its header is in (Redis's c->bulklen).
    pub fn pending_bulk(&self) -> Option<usize> {
        self.bulk_len
    }

    fn inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(nl) = c_strchr(b'\n', buf) else {
            if buf.len() > INLINE_MAX {
                return Err(err("too big inline request"));
            }
            return Ok(None);
        };
        let mut line_end = nl;
        if line_end > 0 && buf[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let parsed = split_args(&buf[..line_end]);
        buf.advance(nl + 1);
        match parsed {
            Some(args) => Ok(Some(args.into_iter().map(Bytes::from).collect())),
            None => Err(err("unbalanced quotes in request")),
        }
    }
}

fn err(msg: &str) -> ProtocolError {
    ProtocolError(format!("Protocol error: {msg}"))
}

/// Reads `*N\r\n` or `$N\r\n`. `Ok(None)`: incomplete. `Ok(Some(None))`: not a valid integer.
fn read_len_line(buf: &mut BytesMut, too_big: &str) -> Result<Option<Option<i64>>, ProtocolError> {
    let Some(cr) = c_strchr(b'\r', buf) else {
        if buf.len() > INLINE_MAX {
            return Err(err(too_big));
        }
        return Ok(None);
    };
    if cr > INLINE_MAX {
        return Err(err(too_big));
    }
    if buf.len() < cr + 2 {
        return Ok(None);
    }
    let n = crate::util::numbers::parse_i64(&buf[1..cr]);
    buf.advance(cr + 2);
    Ok(Some(n))
}

/// Where `c` is, as C's strchr finds it in Redis's NUL-terminated query buffer: a NUL before it
/// hides it, so Redis goes on waiting for a line end (and refuses the line once it passes the
/// inline limit) rather than parsing the line. Matching that keeps the reply and connection
/// outcome identical for such input.
fn c_strchr(c: u8, b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == c || x == 0).filter(|&i| b[i] == c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits { proto_max_bulk_len: 512 * 1024 * 1024, authenticated: true };

    fn all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut p = Parser::default();
        let mut buf = BytesMut::from(input);
        let mut v = Vec::new();
        while let Some(c) = p.next(&mut buf, L)? {
            v.push(c);
        }
        Ok(v)
    }

    #[test]
    fn multibulk_pipelined_and_inline() {
        let v = all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n\r\nset a \"b c\"\n").unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(v[1], vec![Bytes::from("PING")]);
        assert_eq!(v[2][2], Bytes::from("b c"));
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        let mut p = Parser::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(c) = p.next(&mut buf, L).unwrap() {
                got = Some(c);
            }
        }
        assert_eq!(got.unwrap()[2], Bytes::from("hello"));
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(all(b"*1\r\n+x\r\n").unwrap_err().0, "Protocol error: expected '$', got '+'");
        assert_eq!(all(b"*x\r\n").unwrap_err().0, "Protocol error: invalid multibulk length");
        assert_eq!(all(b"*1\r\n$-5\r\n").unwrap_err().0, "Protocol error: invalid bulk length");
        assert_eq!(all(b"set \"a\r\n").unwrap_err().0, "Protocol error: unbalanced quotes in request");
        let unauth = Limits { authenticated: false, ..L };
        let mut p = Parser::default();
        let mut b = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(p.next(&mut b, unauth).unwrap_err().0, "Protocol error: unauthenticated multibulk length");
    }

    #[test]
    fn a_nul_hides_the_line_end_as_in_redis() {
        let mut p = Parser::default();
        let mut b = BytesMut::from(&b"EC\0HO\r\n"[..]);
        assert_eq!(p.next(&mut b, L), Ok(None));
        b.extend_from_slice(&vec![b'a'; INLINE_MAX]);
        assert_eq!(p.next(&mut b, L).unwrap_err().0, "Protocol error: too big inline request");
        let mut p = Parser::default();
        let mut b = BytesMut::from(&b"*1\0\r\n$4\r\nPING\r\n"[..]);
        assert_eq!(p.next(&mut b, L), Ok(None));
        // A NUL after the line end is only data.
        assert_eq!(all(b"ECHO a\r\n\0").map(|v| v.len()), Ok(1));
    }
}
