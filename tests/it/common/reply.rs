//! The one parsed form of a RESP2/RESP3 reply that every test uses, its parser, its byte-exact
//! encoder and its printer.
//!
//! Parsing is strict so that `encode(parse(b)) == b` for every reply it accepts: integers and
//! lengths must be written as Redis writes them (no sign on lengths, no leading zeros), and
//! doubles and big numbers keep their text. A test may therefore normalise a parsed reply
//! (sort, mask a field) and still compare bytes.
//!
//! The printer (`Display`) looks like redis-cli's, but never lets two different replies print
//! the same: a bulk string is quoted, a null bulk, a null array and RESP3's null differ, and each
//! aggregate kind has its own index mark. `Debug` prints the same on one line, for assertions.
#![allow(dead_code)]

use std::fmt::{self, Write as _};

/// One reply. Statuses and errors keep their bytes: Redis echoes client bytes into errors.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reply {
    /// `+`
    Status(Vec<u8>),
    /// `-`
    Error(Vec<u8>),
    /// `:`
    Int(i64),
    /// `$`
    Bulk(Vec<u8>),
    /// `$-1`: RESP2's null bulk string.
    Nil,
    /// `*-1`: RESP2's null array.
    NilArray,
    /// `_`: RESP3's null.
    Null,
    /// `*`
    Array(Vec<Reply>),
    /// `%`, pairs in the order sent.
    Map(Vec<(Reply, Reply)>),
    /// `~`
    Set(Vec<Reply>),
    /// `>`
    Push(Vec<Reply>),
    /// `,` as sent (`1.5`, `inf`, `-nan`...), so that re-encoding is exact.
    Double(String),
    /// `#t` / `#f`
    Bool(bool),
    /// `(` as sent.
    BigNumber(String),
    /// `=`: a three-letter format (`txt`, `mkd`) and the text.
    Verbatim(String, Vec<u8>),
    /// `!`
    BlobError(Vec<u8>),
    /// `|`: attributes, then the reply they annotate.
    Attributed(Vec<(Reply, Reply)>, Box<Reply>),
}

/// Why bytes are not one reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The bytes end before the reply does: more must be read.
    Incomplete,
    /// Not RESP as Redis writes it; says what and where.
    Invalid(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Incomplete => f.write_str("incomplete reply"),
            ParseError::Invalid(why) => f.write_str(why),
        }
    }
}

impl Reply {
    /// Exactly one reply: panics, showing the bytes, on anything else (a test's failure).
    pub fn parse(b: &[u8]) -> Reply {
        match Reply::parse_prefix(b) {
            Ok((r, used)) if used == b.len() => r,
            Ok((_, used)) => panic!("trailing bytes after a reply: {}", show_bytes(&b[used..], 200)),
            Err(e) => panic!("{e}: {}", show_bytes(b, 200)),
        }
    }

    /// The reply at the start of `b` and how many bytes it took.
    pub fn parse_prefix(b: &[u8]) -> Result<(Reply, usize), ParseError> {
        parse_at(b, 0, 0)
    }

    /// `Status` from text, for comparisons: `Reply::status("OK")`.
    pub fn status(s: &str) -> Reply {
        Reply::Status(s.as_bytes().to_vec())
    }

    pub fn bulk_of(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(b.as_ref().to_vec())
    }

    /// The reply's bytes, exactly as parsed (or as Redis would write it).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        fn line(out: &mut Vec<u8>, t: u8, body: &[u8]) {
            out.push(t);
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        fn blob(out: &mut Vec<u8>, t: u8, parts: &[&[u8]]) {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            line(out, t, len.to_string().as_bytes());
            parts.iter().for_each(|p| out.extend_from_slice(p));
            out.extend_from_slice(b"\r\n");
        }
        fn pairs(out: &mut Vec<u8>, t: u8, kv: &[(Reply, Reply)]) {
            line(out, t, kv.len().to_string().as_bytes());
            for (k, v) in kv {
                k.encode_into(out);
                v.encode_into(out);
            }
        }
        match self {
            Reply::Status(s) => line(out, b'+', s),
            Reply::Error(s) => line(out, b'-', s),
            Reply::Int(n) => line(out, b':', n.to_string().as_bytes()),
            Reply::Bulk(b) => blob(out, b'$', &[b]),
            Reply::Nil => line(out, b'$', b"-1"),
            Reply::NilArray => line(out, b'*', b"-1"),
            Reply::Null => line(out, b'_', b""),
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
                let t = match self {
                    Reply::Array(_) => b'*',
                    Reply::Set(_) => b'~',
                    _ => b'>',
                };
                line(out, t, items.len().to_string().as_bytes());
                items.iter().for_each(|i| i.encode_into(out));
            }
            Reply::Map(kv) => pairs(out, b'%', kv),
            Reply::Double(s) => line(out, b',', s.as_bytes()),
            Reply::Bool(b) => line(out, b'#', if *b { b"t" } else { b"f" }),
            Reply::BigNumber(s) => line(out, b'(', s.as_bytes()),
            Reply::Verbatim(format, text) => blob(out, b'=', &[format.as_bytes(), b":", text]),
            Reply::BlobError(b) => blob(out, b'!', &[b]),
            Reply::Attributed(attrs, reply) => {
                pairs(out, b'|', attrs);
                reply.encode_into(out);
            }
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_) | Reply::BlobError(_))
    }

    /// An array, set, push or map.
    pub fn is_aggregate(&self) -> bool {
        matches!(self, Reply::Array(_) | Reply::Set(_) | Reply::Push(_) | Reply::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Reply::Nil | Reply::NilArray | Reply::Null)
    }

    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    /// A bulk string's bytes (a verbatim string's text); None for a null.
    pub fn bulk(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => Some(b),
            Reply::Nil | Reply::Null => None,
            other => panic!("expected a bulk reply, got {other:?}"),
        }
    }

    /// The elements of an array, set or push.
    pub fn array(&self) -> &[Reply] {
        match self {
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => items,
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    /// Elements of an array, set or push, or a map's keys and values in turn (RESP2's flat form).
    pub fn items(&self) -> Vec<Reply> {
        match self {
            Reply::Map(kv) => kv.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect(),
            other => other.array().to_vec(),
        }
    }

    /// A scalar's text (errors without their `-`), for readable assertions.
    pub fn text(&self) -> String {
        match self {
            Reply::Status(s) | Reply::Error(s) | Reply::Bulk(s) | Reply::Verbatim(_, s) | Reply::BlobError(s) => {
                String::from_utf8_lossy(s).into_owned()
            }
            Reply::Int(n) => n.to_string(),
            Reply::Double(s) | Reply::BigNumber(s) => s.clone(),
            other => panic!("expected a text reply, got {other:?}"),
        }
    }

    /// The text of each element of an array, set or push.
    pub fn texts(&self) -> Vec<String> {
        self.array().iter().map(Reply::text).collect()
    }

    /// Key/value pairs of a RESP3 map, or of RESP2's flat array that stands for one.
    pub fn pairs(&self) -> Vec<(&Reply, &Reply)> {
        match self {
            Reply::Map(kv) => kv.iter().map(|(k, v)| (k, v)).collect(),
            Reply::Array(items) if items.len() % 2 == 0 => items.chunks(2).map(|p| (&p[0], &p[1])).collect(),
            other => panic!("expected a map (or a flat key/value array), got {other:?}"),
        }
    }

    /// The value under the key whose text is `key`, in a map or flat key/value array.
    pub fn get(&self, key: &str) -> Option<&Reply> {
        self.pairs().into_iter().find(|(k, _)| k.text() == key).map(|(_, v)| v)
    }

    /// The RESP type of each element, recursively: `status`, `int`, `bulk`, `[int, bulk]`,
    /// `{bulk: int}`: what a reply looks like when its values legitimately differ.
    pub fn shape(&self) -> String {
        let list = |items: &[Reply]| items.iter().map(Reply::shape).collect::<Vec<_>>().join(", ");
        let map = |kv: &[(Reply, Reply)]| {
            kv.iter().map(|(k, v)| format!("{}: {}", k.shape(), v.shape())).collect::<Vec<_>>().join(", ")
        };
        match self {
            Reply::Status(_) => "status".into(),
            Reply::Error(_) => "error".into(),
            Reply::Int(_) => "int".into(),
            Reply::Bulk(_) => "bulk".into(),
            Reply::Nil => "nil".into(),
            Reply::NilArray => "nil-array".into(),
            Reply::Null => "null".into(),
            Reply::Array(items) => format!("[{}]", list(items)),
            Reply::Set(items) => format!("~[{}]", list(items)),
            Reply::Push(items) => format!(">[{}]", list(items)),
            Reply::Map(kv) => format!("{{{}}}", map(kv)),
            Reply::Double(_) => "double".into(),
            Reply::Bool(_) => "bool".into(),
            Reply::BigNumber(_) => "bignum".into(),
            Reply::Verbatim(..) => "verbatim".into(),
            Reply::BlobError(_) => "blob-error".into(),
            Reply::Attributed(attrs, r) => format!("|{{{}}} {}", map(attrs), r.shape()),
        }
    }
}

/// Every reply in `b`, a stream of replies: panics, showing the bytes, unless they are whole.
pub fn parse_all(b: &[u8]) -> Vec<Reply> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        match parse_at(b, at, 0) {
            Ok((r, next)) => {
                out.push(r);
                at = next;
            }
            Err(e) => panic!("{e} at byte {at} of {}", show_bytes(b, 400)),
        }
    }
    out
}

/// Deeper nesting than any reply of Redis's: malformed input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

fn invalid<T>(at: usize, why: impl fmt::Display) -> Result<T, ParseError> {
    Err(ParseError::Invalid(format!("{why} (at byte {at})")))
}

/// The line starting at `at` (without its CRLF) and where the next one starts.
fn line_at(b: &[u8], at: usize) -> Result<(&[u8], usize), ParseError> {
    match b[at..].windows(2).position(|w| w == b"\r\n") {
        Some(end) => Ok((&b[at..at + end], at + end + 2)),
        None => Err(ParseError::Incomplete),
    }
}

/// An integer written as Redis writes it (`-` only for negatives, no leading zeros, no `+`).
fn canonical_int(text: &[u8], at: usize) -> Result<i64, ParseError> {
    let parsed = std::str::from_utf8(text).ok().and_then(|s| s.parse::<i64>().ok());
    match parsed {
        Some(n) if n.to_string().as_bytes() == text => Ok(n),
        _ => invalid(at, format!("not an integer as Redis writes one: {:?}", String::from_utf8_lossy(text))),
    }
}

/// A length: -1 (a null, where `null_ok`) or a canonical count.
fn length(text: &[u8], at: usize, null_ok: bool) -> Result<Option<usize>, ParseError> {
    match canonical_int(text, at)? {
        -1 if null_ok => Ok(None),
        n if n >= 0 => Ok(Some(n as usize)),
        n => invalid(at, format!("bad length {n}")),
    }
}

fn ascii_text(text: &[u8], at: usize) -> Result<String, ParseError> {
    match std::str::from_utf8(text) {
        Ok(s) if s.is_ascii() => Ok(s.to_string()),
        _ => invalid(at, "non-ASCII number"),
    }
}

fn parse_at(b: &[u8], at: usize, depth: usize) -> Result<(Reply, usize), ParseError> {
    if depth > MAX_DEPTH {
        return invalid(at, "replies nested too deep");
    }
    if at >= b.len() {
        return Err(ParseError::Incomplete);
    }
    let (body, next) = line_at(b, at + 1)?;
    let items = |n: usize, mut next: usize| -> Result<(Vec<Reply>, usize), ParseError> {
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let (r, after) = parse_at(b, next, depth + 1)?;
            out.push(r);
            next = after;
        }
        Ok((out, next))
    };
    let pairs = |n: usize, next: usize| -> Result<(Vec<(Reply, Reply)>, usize), ParseError> {
        let (flat, next) = items(2 * n, next)?;
        let mut it = flat.into_iter();
        let mut out = Vec::with_capacity(n);
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            out.push((k, v));
        }
        Ok((out, next))
    };
    let blob = |n: usize| -> Result<(&[u8], usize), ParseError> {
        if b.len() < next + n + 2 {
            return Err(ParseError::Incomplete);
        }
        if &b[next + n..next + n + 2] != b"\r\n" {
            return invalid(next + n, format!("a {n}-byte string not followed by CRLF"));
        }
        Ok((&b[next..next + n], next + n + 2))
    };
    let t = b[at];
    Ok(match t {
        b'+' => (Reply::Status(body.to_vec()), next),
        b'-' => (Reply::Error(body.to_vec()), next),
        b':' => (Reply::Int(canonical_int(body, at)?), next),
        b'_' if body.is_empty() => (Reply::Null, next),
        b'#' if body == b"t" || body == b"f" => (Reply::Bool(body == b"t"), next),
        b',' => (Reply::Double(ascii_text(body, at)?), next),
        b'(' => {
            let digits = body.strip_prefix(b"-").unwrap_or(body);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return invalid(at, "bad big number");
            }
            (Reply::BigNumber(ascii_text(body, at)?), next)
        }
        b'$' => match length(body, at, true)? {
            None => (Reply::Nil, next),
            Some(n) => {
                let (s, next) = blob(n)?;
                (Reply::Bulk(s.to_vec()), next)
            }
        },
        b'!' => {
            let (s, next) = blob(length(body, at, false)?.unwrap_or(0))?;
            (Reply::BlobError(s.to_vec()), next)
        }
        b'=' => {
            let (s, next) = blob(length(body, at, false)?.unwrap_or(0))?;
            if s.len() < 4 || s[3] != b':' || !s[..3].is_ascii() {
                return invalid(at, "a verbatim string without its `xxx:` format");
            }
            (Reply::Verbatim(ascii_text(&s[..3], at)?, s[4..].to_vec()), next)
        }
        b'*' => match length(body, at, true)? {
            None => (Reply::NilArray, next),
            Some(n) => {
                let (v, next) = items(n, next)?;
                (Reply::Array(v), next)
            }
        },
        b'~' | b'>' => {
            let (v, next) = items(length(body, at, false)?.unwrap_or(0), next)?;
            (if t == b'~' { Reply::Set(v) } else { Reply::Push(v) }, next)
        }
        b'%' => {
            let (kv, next) = pairs(length(body, at, false)?.unwrap_or(0), next)?;
            (Reply::Map(kv), next)
        }
        b'|' => {
            let (kv, next) = pairs(length(body, at, false)?.unwrap_or(0), next)?;
            let (r, next) = parse_at(b, next, depth + 1)?;
            (Reply::Attributed(kv, Box::new(r)), next)
        }
        _ => return invalid(at, format!("unexpected reply line {:?}", String::from_utf8_lossy(&b[at..next - 2]))),
    })
}

/// Printable form of raw bytes (a reply on the wire, a binary value) for messages: CR, LF, `"`,
/// `\` and bytes outside printable ASCII escaped; cut after `max` bytes.
pub fn show_bytes(b: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &c in b.iter().take(max) {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    if b.len() > max {
        let _ = write!(s, "...({} bytes)", b.len());
    }
    s
}

fn quoted(b: &[u8]) -> String {
    format!("\"{}\"", show_bytes(b, usize::MAX))
}

/// A status as redis-cli shows it (bare) when that cannot be read as anything else.
fn status_text(s: &[u8]) -> String {
    let plain = s.first().is_some_and(u8::is_ascii_alphabetic)
        && s.iter().all(|c| c.is_ascii_alphanumeric() || b" _-.:/=,".contains(c));
    if plain {
        String::from_utf8_lossy(s).into_owned()
    } else {
        format!("(status) {}", quoted(s))
    }
}

impl Reply {
    /// A scalar's printed form; None for aggregates.
    fn scalar(&self) -> Option<String> {
        Some(match self {
            Reply::Status(s) => status_text(s),
            Reply::Error(s) => format!("(error) {}", show_bytes(s, usize::MAX)),
            Reply::Int(n) => format!("(integer) {n}"),
            Reply::Bulk(b) => quoted(b),
            Reply::Nil => "(nil)".into(),
            Reply::NilArray => "(nil array)".into(),
            Reply::Null => "(null)".into(),
            Reply::Double(s) => format!("(double) {s}"),
            Reply::Bool(b) => format!("({b})"),
            Reply::BigNumber(s) => format!("(big number) {s}"),
            Reply::Verbatim(f, t) => format!("(verbatim {f}) {}", quoted(t)),
            Reply::BlobError(s) => format!("(blob error) {}", quoted(s)),
            Reply::Array(v) if v.is_empty() => "(empty array)".into(),
            Reply::Set(v) if v.is_empty() => "(empty set)".into(),
            Reply::Push(v) if v.is_empty() => "(empty push)".into(),
            Reply::Map(v) if v.is_empty() => "(empty map)".into(),
            _ => return None,
        })
    }

    /// redis-cli's layout: `1) ` before each element, nested ones indented under their parent's.
    fn pretty(&self, indent: usize, out: &mut String) {
        if let Some(s) = self.scalar() {
            out.push_str(&s);
            return;
        }
        let (mark, items, kv): (char, &[Reply], &[(Reply, Reply)]) = match self {
            Reply::Array(v) => (')', v, &[]),
            Reply::Set(v) => ('~', v, &[]),
            Reply::Push(v) => ('>', v, &[]),
            Reply::Map(kv) => ('#', &[], kv),
            Reply::Attributed(kv, r) => {
                out.push_str("(attributes) ");
                Reply::Map(kv.clone()).pretty(indent + 13, out);
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                r.pretty(indent, out);
                return;
            }
            _ => unreachable!("scalars printed above"),
        };
        let count = items.len().max(kv.len());
        let width = count.to_string().len();
        for i in 0..count {
            if i > 0 {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
            }
            let label = format!("{:>width$}{mark} ", i + 1);
            out.push_str(&label);
            let inner = indent + label.len();
            if kv.is_empty() {
                items[i].pretty(inner, out);
            } else {
                kv[i].0.pretty(inner, out);
                out.push_str(" => ");
                kv[i].1.pretty(inner + 4, out);
            }
        }
    }

    /// The same on one line: `["a", (integer) 1]`, `~[..]`, `>[..]`, `{k => v}`.
    fn compact(&self, out: &mut String) {
        if let Some(s) = self.scalar() {
            out.push_str(&s);
            return;
        }
        let list = |open: &str, items: &[Reply], out: &mut String| {
            out.push_str(open);
            for (i, r) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                r.compact(out);
            }
            out.push(']');
        };
        let map = |kv: &[(Reply, Reply)], out: &mut String| {
            out.push('{');
            for (i, (k, v)) in kv.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                k.compact(out);
                out.push_str(" => ");
                v.compact(out);
            }
            out.push('}');
        };
        match self {
            Reply::Array(v) => list("[", v, out),
            Reply::Set(v) => list("~[", v, out),
            Reply::Push(v) => list(">[", v, out),
            Reply::Map(kv) => map(kv, out),
            Reply::Attributed(kv, r) => {
                out.push('|');
                map(kv, out);
                out.push(' ');
                r.compact(out);
            }
            _ => unreachable!("scalars printed above"),
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.pretty(0, &mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.compact(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replies that must come back byte for byte.
    const ROUND_TRIPS: &[&[u8]] = &[
        b"+OK\r\n",
        b"+\r\n",
        b"-ERR unknown command 'f\xffo'\r\n",
        b":0\r\n",
        b":-9223372036854775808\r\n",
        b":9223372036854775807\r\n",
        b"$0\r\n\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"*0\r\n",
        b"_\r\n",
        b"$6\r\n\x00\r\n\xff\r\n\r\n",
        b"$4\r\n$1\r\n\r\n",
        b"*3\r\n*0\r\n*-1\r\n*2\r\n$-1\r\n*1\r\n*1\r\n:1\r\n",
        b"%2\r\n$1\r\na\r\n~2\r\n:1\r\n,1.5\r\n+b\r\n%0\r\n",
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n",
        b",inf\r\n",
        b",-nan\r\n",
        b",3.0000000000000004\r\n",
        b"#t\r\n",
        b"#f\r\n",
        b"(-3492890328409238509324850943850943825024385\r\n",
        b"=15\r\ntxt:Some string\r\n",
        b"=4\r\nmkd:\r\n",
        b"!21\r\nSYNTAX invalid syntax\r\n",
        b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
    ];

    #[test]
    fn every_reply_re_encodes_to_its_bytes() {
        for &b in ROUND_TRIPS {
            let r = Reply::parse(b);
            assert_eq!(show_bytes(&r.encode(), 1000), show_bytes(b, 1000), "{r:?}");
        }
        let stream = ROUND_TRIPS.concat();
        let all = parse_all(&stream);
        assert_eq!(all.len(), ROUND_TRIPS.len());
        assert_eq!(all.iter().flat_map(Reply::encode).collect::<Vec<u8>>(), stream);
    }

    #[test]
    fn nulls_and_empties_stay_apart() {
        let kinds = [b"$-1\r\n" as &[u8], b"*-1\r\n", b"_\r\n", b"*0\r\n", b"$0\r\n\r\n", b"~0\r\n", b"%0\r\n"];
        let parsed: Vec<Reply> = kinds.iter().map(|b| Reply::parse(b)).collect();
        let shown: Vec<String> = parsed.iter().map(|r| r.to_string()).collect();
        for i in 0..kinds.len() {
            for j in i + 1..kinds.len() {
                assert_ne!(parsed[i], parsed[j]);
                assert_ne!(shown[i], shown[j], "{} and {} print the same", shown[i], shown[j]);
            }
        }
        assert_eq!(shown, ["(nil)", "(nil array)", "(null)", "(empty array)", "\"\"", "(empty set)", "(empty map)"]);
    }

    #[test]
    fn a_binary_bulk_keeps_its_bytes() {
        let r = Reply::parse(b"$5\r\n\r\n\x00\"\\\r\n");
        assert_eq!(r.bulk(), Some(&b"\r\n\x00\"\\"[..]));
        assert_eq!(r.to_string(), r#""\r\n\x00\"\\""#);
    }

    #[test]
    fn incomplete_replies_ask_for_more() {
        let whole = b"*2\r\n$3\r\nabc\r\n%1\r\n+k\r\n:1\r\n";
        for cut in 0..whole.len() {
            assert_eq!(Reply::parse_prefix(&whole[..cut]), Err(ParseError::Incomplete), "cut at {cut}");
        }
        assert_eq!(Reply::parse_prefix(whole).map(|(_, n)| n), Ok(whole.len()));
    }

    #[test]
    fn what_redis_would_not_write_is_refused() {
        for bad in [
            b":+1\r\n" as &[u8],
            b":01\r\n",
            b":-0\r\n",
            b":\r\n",
            b"$03\r\nabc\r\n",
            b"$-2\r\n",
            b"$3\r\nabcd\r\n",
            b"~-1\r\n",
            b"#x\r\n",
            b"_x\r\n",
            b"(1.5\r\n",
            b"=3\r\ntxt\r\n",
            b"?\r\n",
        ] {
            assert!(
                matches!(Reply::parse_prefix(bad), Err(ParseError::Invalid(_))),
                "{} was accepted",
                show_bytes(bad, 100)
            );
        }
        let deep = [b"*1\r\n".repeat(MAX_DEPTH + 2), b":1\r\n".to_vec()].concat();
        assert!(matches!(Reply::parse_prefix(&deep), Err(ParseError::Invalid(_))));
    }

    #[test]
    fn nested_replies_print_like_redis_cli() {
        let r = Reply::parse(b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n*1\r\n+OK\r\n%1\r\n$1\r\nk\r\n~1\r\n#t\r\n");
        assert_eq!(r.to_string(), "1) \"a\"\n2) 1) (integer) 1\n   2) 1) OK\n3) 1# \"k\" => 1~ (true)");
        assert_eq!(format!("{r:?}"), "[\"a\", [(integer) 1, [OK]], {\"k\" => ~[(true)]}]");
        let ten = Reply::Array((1..=10).map(Reply::Int).collect());
        assert!(ten.to_string().starts_with(" 1) (integer) 1\n 2) "), "{ten}");
        assert!(ten.to_string().ends_with("\n10) (integer) 10"), "{ten}");
    }

    #[test]
    fn a_status_that_reads_like_something_else_is_marked() {
        assert_eq!(Reply::status("OK").to_string(), "OK");
        assert_eq!(Reply::status("Background saving started").to_string(), "Background saving started");
        for odd in ["(integer) 1", "\"x\"", "1) x", ""] {
            assert!(Reply::status(odd).to_string().starts_with("(status) \""), "{odd}");
        }
    }

    #[test]
    fn accessors_read_maps_in_both_protocols() {
        let resp2 = Reply::parse(b"*4\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$2\r\nid\r\n:7\r\n");
        let resp3 = Reply::parse(b"%2\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$2\r\nid\r\n:7\r\n");
        for r in [&resp2, &resp3] {
            assert_eq!(r.get("role").map(Reply::text).as_deref(), Some("master"));
            assert_eq!(r.get("id").map(Reply::int), Some(7));
            assert_eq!(r.get("nope"), None);
        }
        assert_eq!(resp2.shape(), "[bulk, bulk, bulk, int]");
        assert_eq!(resp3.shape(), "{bulk: bulk, bulk: int}");
        assert_eq!(resp2.texts(), ["role", "master", "id", "7"]);
    }
}
