//! The one reply type. Commands produce a `Reply`; the connection renders it as RESP2 or RESP3.

use std::borrow::Cow;

use crate::util::numbers::d2string;

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+text`
    Status(Cow<'static, str>),
    /// `-text`; the text starts with the error code (`ERR`, `WRONGTYPE`, ...).
    Error(Cow<'static, str>),
    Int(i64),
    Bulk(Vec<u8>),
    /// RESP2 `$-1`, RESP3 `_`.
    Nil,
    /// RESP2 `*-1`, RESP3 `_`.
    NilArray,
    Array(Vec<Reply>),
    /// RESP3 map; a flat array of key, value, ... in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 set; an array in RESP2.
    Set(Vec<Reply>),
    /// RESP3 double; a bulk string in RESP2.
    Double(f64),
    /// RESP3 boolean; an integer 1/0 in RESP2.
    Bool(bool),
    /// RESP3 big number (`(`); a bulk string in RESP2. Scripts return them as {big_number=...}.
    BigNumber(Vec<u8>),
    /// RESP3 verbatim string (`=`) with its three-letter format; a bulk string in RESP2.
    Verbatim(&'static str, Vec<u8>),
    /// RESP3 push (`>`); an array in RESP2.
    Push(Vec<Reply>),
    /// Several replies to one command, written one after another (SUBSCRIBE to several channels).
    Many(Vec<Reply>),
    /// Nothing is written.
    NoReply,
    /// RESP bytes already encoded, the same in RESP2 and RESP3 (an array of bulk strings, see
    /// `bulk_array`): a large reply built without one allocation per element.
    Encoded(Vec<u8>),
}

impl Reply {
    pub const OK: Reply = Reply::Status(Cow::Borrowed("OK"));

    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    pub fn error(s: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Error(s.into())
    }

    pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(b.as_ref().to_vec())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    pub fn array_of_bulks<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        Reply::Array(items.into_iter().map(Reply::bulk).collect())
    }

    /// An array of bulk strings, encoded at once (`*N` then `$len` and the bytes of each).
    pub fn bulk_array<'a, I>(items: I) -> Reply
    where
        I: ExactSizeIterator<Item = &'a [u8]> + Clone,
    {
        let payload: usize = items.clone().map(|b| b.len()).sum();
        // Each element adds `$`, up to 20 digits and two CRLFs; small lengths need 1-3 digits.
        let mut out = Vec::with_capacity(16 + payload + items.len() * 8);
        int_line(&mut out, b'*', items.len() as i64);
        for b in items {
            bulk_header(&mut out, b.len());
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Encoded(out)
    }

    /// `*<n>\r\n`: the header of an array whose elements a caller writes itself (into the bytes
    /// of a `Reply::Encoded`).
    pub fn write_array_len(out: &mut Vec<u8>, n: usize) {
        int_line(out, b'*', n as i64);
    }

    /// One bulk string, as an element of an array written by hand (see `write_array_len`).
    #[inline]
    pub fn write_bulk(out: &mut Vec<u8>, b: &[u8]) {
        bulk_header(out, b.len());
        out.extend_from_slice(b);
        out.extend_from_slice(b"\r\n");
    }

    /// An element of an aggregate: a nested aggregate may be thousands deep (a script can return
    /// a table containing itself), so its recursion grows the stack on the heap when needed.
    fn encode_nested(&self, resp: u8, out: &mut Vec<u8>) {
        match self {
            Reply::Array(_) | Reply::Map(_) | Reply::Set(_) | Reply::Push(_) | Reply::Many(_) => {
                stacker::maybe_grow(32 * 1024, 1024 * 1024, || self.encode(resp, out))
            }
            _ => self.encode(resp, out),
        }
    }

    /// Write the reply in the given protocol version (2 or 3).
    pub fn encode(&self, resp: u8, out: &mut Vec<u8>) {
        match self {
            Reply::Status(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(s) => {
                // An error text never spans lines: Redis replaces newlines with spaces.
                out.push(b'-');
                out.extend(s.bytes().map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
                out.extend_from_slice(b"\r\n");
            }
            Reply::Int(n) => int_line(out, b':', *n),
            Reply::Bulk(b) => bulk(out, b),
            Reply::Nil => out.extend_from_slice(if resp >= 3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NilArray => out.extend_from_slice(if resp >= 3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => {
                int_line(out, b'*', items.len() as i64);
                for i in items {
                    i.encode_nested(resp, out);
                }
            }
            Reply::Map(pairs) => {
                if resp >= 3 {
                    int_line(out, b'%', pairs.len() as i64);
                } else {
                    int_line(out, b'*', 2 * pairs.len() as i64);
                }
                for (k, v) in pairs {
                    k.encode_nested(resp, out);
                    v.encode_nested(resp, out);
                }
            }
            Reply::Set(items) => {
                int_line(out, if resp >= 3 { b'~' } else { b'*' }, items.len() as i64);
                for i in items {
                    i.encode_nested(resp, out);
                }
            }
            Reply::Push(items) => {
                int_line(out, if resp >= 3 { b'>' } else { b'*' }, items.len() as i64);
                for i in items {
                    i.encode_nested(resp, out);
                }
            }
            Reply::Double(d) => {
                let text = format_double(*d);
                if resp >= 3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) => {
                if resp >= 3 {
                    out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Reply::BigNumber(digits) => {
                if resp >= 3 {
                    line(out, b'(', digits);
                } else {
                    bulk(out, digits);
                }
            }
            Reply::Verbatim(fmt, text) => {
                if resp >= 3 {
                    int_line(out, b'=', (text.len() + 4) as i64);
                    out.extend_from_slice(fmt.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(text);
                    out.extend_from_slice(b"\r\n");
                } else {
                    bulk(out, text);
                }
            }
            Reply::Many(items) => {
                for i in items {
                    i.encode_nested(resp, out);
                }
            }
            Reply::NoReply => {}
            Reply::Encoded(bytes) => out.extend_from_slice(bytes),
        }
    }
}

/// RESP3 doubles: `inf`, `-inf`, `nan`, else Redis's `%.17g`.
fn format_double(d: f64) -> String {
    if d.is_nan() {
        "nan".to_string()
    } else {
        d2string(d)
    }
}

fn line(out: &mut Vec<u8>, prefix: u8, text: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn int_line(out: &mut Vec<u8>, prefix: u8, n: i64) {
    out.push(prefix);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `$<len>\r\n`, with the one- and two-digit lengths of typical elements written in one step.
#[inline]
fn bulk_header(out: &mut Vec<u8>, len: usize) {
    if len < 10 {
        out.extend_from_slice(&[b'$', b'0' + len as u8, b'\r', b'\n']);
    } else if len < 100 {
        out.extend_from_slice(&[b'$', b'0' + (len / 10) as u8, b'0' + (len % 10) as u8, b'\r', b'\n']);
    } else {
        int_line(out, b'$', len as i64);
    }
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    int_line(out, b'$', b.len() as i64);
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, v: u8) -> String {
        let mut out = Vec::new();
        r.encode(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_both_protocols() {
        assert_eq!(enc(&Reply::Nil, 2), "$-1\r\n");
        assert_eq!(enc(&Reply::Nil, 3), "_\r\n");
        assert_eq!(enc(&Reply::Int(i64::MIN), 2), ":-9223372036854775808\r\n");
        let m = Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))]);
        assert_eq!(enc(&m, 2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, 3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Reply::Double(1.5), 3), ",1.5\r\n");
        assert_eq!(enc(&Reply::Double(1.5), 2), "$3\r\n1.5\r\n");
        assert_eq!(enc(&Reply::Verbatim("txt", b"hi".to_vec()), 3), "=6\r\ntxt:hi\r\n");
        assert_eq!(enc(&Reply::BigNumber(b"123".to_vec()), 3), "(123\r\n");
        assert_eq!(enc(&Reply::BigNumber(b"123".to_vec()), 2), "$3\r\n123\r\n");
        assert_eq!(enc(&Reply::error("ERR a\r\nb"), 2), "-ERR a  b\r\n");
        let items: [&[u8]; 2] = [b"a", b""];
        let arr = Reply::bulk_array(items.iter().copied());
        assert_eq!(enc(&arr, 2), "*2\r\n$1\r\na\r\n$0\r\n\r\n");
        assert_eq!(enc(&arr, 3), enc(&Reply::array_of_bulks(items), 3));
        let sizes: Vec<Vec<u8>> = [0, 9, 10, 99, 100, 12345].iter().map(|&n| vec![b'x'; n]).collect();
        let arr = Reply::bulk_array(sizes.iter().map(|v| v.as_slice()));
        assert_eq!(enc(&arr, 2), enc(&Reply::array_of_bulks(&sizes), 2));
    }
}
