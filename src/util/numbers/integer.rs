//! Integers: Redis's string2ll and ll2string, and C's atoll as Redis uses it.

/// `LONG_STR_SIZE` in Redis: 20 characters is the longest valid i64
/// ("-9223372036854775808"); longer input is rejected before parsing.
const LONG_STR_SIZE: usize = 21;

/// C's atoi/atol/atoll as Redis uses them on text it trusts little: leading white space, an
/// optional sign, then the digits up to the first non-digit; 0 when there are none. Saturates
/// where C would overflow.
pub fn c_atoll(s: &[u8]) -> i64 {
    let mut i = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut n: i64 = 0;
    for &b in s[i..].iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative {
        -n
    } else {
        n
    }
}

/// Port of `string2ll`: the whole input must be a canonical decimal i64.
///
/// Rejected: empty input, more than 20 bytes, a leading `+`, leading zeros
/// (`"01"`, but `"0"` is fine), `"-0"`, any whitespace, and overflow.
/// Strictness matters because Redis relies on it to decide whether a string
/// round-trips through an integer (shared integers, int encoding).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // The first digit must be 1-9: this is what rejects "01", "-0", "-".
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        // -(2^63) is valid; wrapping negation maps it onto i64::MIN.
        if v > i64::MIN.unsigned_abs() {
            None
        } else {
            Some(0u64.wrapping_sub(v) as i64)
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Port of `ll2string`: decimal representation of `v` (the `itoa` crate writes the same digits;
/// callers that must not allocate use `itoa::Buffer` directly).
pub fn i64_to_bytes(v: i64) -> Vec<u8> {
    itoa::Buffer::new().format(v).as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_redis_vectors() {
        // The cases from Redis's own util.c test_string2ll.
        for bad in ["+1", " 1", "1 ", "01", "-9223372036854775809", "9223372036854775808"] {
            assert_eq!(parse_i64(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"99"), Some(99));
        assert_eq!(parse_i64(b"-99"), Some(-99));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
    }

    #[test]
    fn parse_i64_strictness() {
        // redis: INCRBY rejects all of these.
        for bad in [
            "",
            "-",
            "+",
            "-0",
            "00",
            "-01",
            "1a",
            "0x1",
            "1.0",
            "1e3",
            " ",
            "1\0",
            "18446744073709551616",
            "99999999999999999999",
            "123456789012345678901",
            "\u{661}", // non-ASCII digit
        ] {
            assert_eq!(parse_i64(bad.as_bytes()), None, "{bad:?}");
        }
        // Non-UTF-8 bytes are just rejected.
        assert_eq!(parse_i64(b"\xff1"), None);
        assert_eq!(parse_i64(b"1\xff"), None);
    }

    #[test]
    fn i64_to_bytes_roundtrip() {
        assert_eq!(i64_to_bytes(0), b"0");
        assert_eq!(i64_to_bytes(-1), b"-1");
        assert_eq!(i64_to_bytes(1234567890), b"1234567890");
        assert_eq!(i64_to_bytes(i64::MIN), b"-9223372036854775808");
        assert_eq!(i64_to_bytes(i64::MAX), b"9223372036854775807");
        let mut x: i64 = 1;
        for i in 0..200_000i64 {
            for v in [i, -i, x, x.wrapping_neg()] {
                assert_eq!(i64_to_bytes(v), v.to_string().as_bytes());
                assert_eq!(parse_i64(&i64_to_bytes(v)), Some(v));
            }
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        }
    }
}
