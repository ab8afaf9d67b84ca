//! Stream entry IDs (streamID): milliseconds and a sequence, ordered as the pair, with the
//! parsing rules of streamGenericParseIDOrReply and its wrappers.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// The one error every malformed ID gets.
pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// An ID as XADD takes it: `ms-*` leaves the sequence to be generated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct XaddId {
    pub id: StreamId,
    pub seq_given: bool,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The successor (streamIncrID); None when this is the largest ID.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The predecessor (streamDecrID); None when this is 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The 128-bit big-endian form the rax keys and RDB use (streamEncodeID).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// streamDecodeID; None unless exactly 16 bytes.
    pub fn from_be_bytes(b: &[u8]) -> Option<StreamId> {
        let b: &[u8; 16] = b.try_into().ok()?;
        let ms = u64::from_be_bytes(b[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(b[8..].try_into().ok()?);
        Some(StreamId::new(ms, seq))
    }

    /// The ID after `last` for a new entry at time `now_ms` (streamNextID): the current time with
    /// sequence 0 when it is ahead, else `last` plus one (wrapping to 0-0 at the very end, which
    /// the append then refuses as not greater).
    pub fn next_after(last: StreamId, now_ms: u64) -> StreamId {
        if now_ms > last.ms {
            StreamId::new(now_ms, 0)
        } else {
            last.incr().unwrap_or(StreamId::MIN)
        }
    }

    /// `-`, `+`, `ms` (the sequence then is `missing_seq`) or `ms-seq` (streamParseIDOrReply).
    pub fn parse(arg: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
        parse_generic(arg, missing_seq, false, false).map(|x| x.id)
    }

    /// As `parse` but without `-` and `+` (streamParseStrictIDOrReply).
    pub fn parse_strict(arg: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
        parse_generic(arg, missing_seq, true, false).map(|x| x.id)
    }

    /// XADD's explicit ID: strict, and `ms-*` accepted.
    pub fn parse_for_xadd(arg: &[u8]) -> Result<XaddId, &'static str> {
        parse_generic(arg, 0, true, true)
    }

    /// A range bound (streamParseIntervalIDOrReply): a `(` prefix (on more than one byte) makes
    /// it exclusive and the rest strict. Returns the ID and whether it is exclusive.
    pub fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), &'static str> {
        if arg.len() > 1 && arg[0] == b'(' {
            Ok((StreamId::parse_strict(&arg[1..], missing_seq)?, true))
        } else {
            Ok((StreamId::parse(arg, missing_seq)?, false))
        }
    }
}

/// string2ull: string2ll (refusing negatives), then strtoull's looser form for the rest, which
/// accepts leading white space, a sign (a `-` negates modulo 2^64) and leading zeros.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::util::numbers::parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut rest = s;
    while let Some((&c, tail)) = rest.split_first() {
        if !matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
            break;
        }
        rest = tail;
    }
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'+' | b'-')) {
        rest = &rest[1..];
    }
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in rest {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

fn parse_generic(arg: &[u8], missing_seq: u64, strict: bool, allow_star_seq: bool) -> Result<XaddId, &'static str> {
    // The C code copies into a 128-byte buffer, and stops at a NUL byte (C string).
    if arg.len() > 127 {
        return Err(INVALID_ID);
    }
    let arg = &arg[..arg.iter().position(|&c| c == 0).unwrap_or(arg.len())];
    if strict && (arg == b"-" || arg == b"+") {
        return Err(INVALID_ID);
    }
    if arg == b"-" {
        return Ok(XaddId { id: StreamId::MIN, seq_given: true });
    }
    if arg == b"+" {
        return Ok(XaddId { id: StreamId::MAX, seq_given: true });
    }
    let (ms_part, seq_part) = match arg.iter().position(|&c| c == b'-') {
        Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms_part).ok_or(INVALID_ID)?;
    match seq_part {
        Some(b"*") if allow_star_seq => Ok(XaddId { id: StreamId::new(ms, 0), seq_given: false }),
        Some(seq) => {
            let seq = string2ull(seq).ok_or(INVALID_ID)?;
            Ok(XaddId { id: StreamId::new(ms, seq), seq_given: true })
        }
        None => Ok(XaddId { id: StreamId::new(ms, missing_seq), seq_given: true }),
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl StreamId {
    /// The `ms-seq` text replies and propagated arguments use (createStreamIDString).
    pub fn to_bytes(self) -> Vec<u8> {
        let mut a = itoa::Buffer::new();
        let mut b = itoa::Buffer::new();
        let (ms, seq) = (a.format(self.ms), b.format(self.seq));
        let mut out = Vec::with_capacity(ms.len() + 1 + seq.len());
        out.extend_from_slice(ms.as_bytes());
        out.push(b'-');
        out.extend_from_slice(seq.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_redis() {
        assert_eq!(StreamId::parse(b"-", 0), Ok(StreamId::MIN));
        assert_eq!(StreamId::parse(b"+", 0), Ok(StreamId::MAX));
        assert_eq!(StreamId::parse(b"5", 7), Ok(StreamId::new(5, 7)));
        assert_eq!(StreamId::parse(b"5-3", 7), Ok(StreamId::new(5, 3)));
        assert_eq!(StreamId::parse(b"18446744073709551615-18446744073709551615", 0), Ok(StreamId::MAX));
        // strtoull's leniency, as Redis has it.
        assert_eq!(StreamId::parse(b"01", 0), Ok(StreamId::new(1, 0)));
        assert_eq!(StreamId::parse(b" +1-02", 0), Ok(StreamId::new(1, 2)));
        assert_eq!(StreamId::parse(b"1- -1", 0), Ok(StreamId::new(1, u64::MAX)));
        for bad in [&b"18446744073709551616"[..], b"abc", b"1-", b"-1", b"1-2-3", b"", b" ", b"1-*", b"1--1", b"1 "] {
            assert_eq!(StreamId::parse(bad, 0), Err(INVALID_ID), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(StreamId::parse_strict(b"-", 0), Err(INVALID_ID));
        assert_eq!(StreamId::parse_strict(b"+", 0), Err(INVALID_ID));
        assert_eq!(StreamId::parse_for_xadd(b"5-*"), Ok(XaddId { id: StreamId::new(5, 0), seq_given: false }));
        assert_eq!(StreamId::parse_for_xadd(b"5-2"), Ok(XaddId { id: StreamId::new(5, 2), seq_given: true }));
        assert_eq!(StreamId::parse_for_xadd(b"*"), Err(INVALID_ID));
        assert_eq!(StreamId::parse_interval(b"(5", 0), Ok((StreamId::new(5, 0), true)));
        assert_eq!(StreamId::parse_interval(b"(", 0), Err(INVALID_ID));
        assert_eq!(StreamId::parse_interval(b"(-", 0), Err(INVALID_ID));
        assert_eq!(StreamId::parse_interval(b"-", 0), Ok((StreamId::MIN, false)));
    }

    #[test]
    fn steps_and_encodes() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
        let id = StreamId::new(0x0102, 0x0304);
        let b = id.to_be_bytes();
        assert_eq!(&b[6..8], &[1, 2]);
        assert_eq!(StreamId::from_be_bytes(&b), Some(id));
        assert!(StreamId::new(1, 9) < StreamId::new(2, 0));
        assert_eq!(StreamId::next_after(StreamId::new(10, 4), 5), StreamId::new(10, 5));
        assert_eq!(StreamId::next_after(StreamId::new(10, 4), 11), StreamId::new(11, 0));
        assert_eq!(StreamId::new(3, 4).to_bytes(), b"3-4");
    }
}
