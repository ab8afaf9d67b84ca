//! strtod and strtold: the syntax they accept and the correctly rounded conversion, for doubles
//! (string2d, zslParseRange's bounds) and for the x87 long double (string2ld).

use super::bignum::Big;

/// Port of `string2d` (what `getDoubleFromObject` uses in 7.0).
///
/// Accepts exactly what glibc `strtod` would consume *entirely*: optional
/// sign, decimal (`1`, `1.`, `.5`, `1e5`, `1E-05`) or hexadecimal (`0x1.8p3`)
/// notation, `inf`/`infinity` in any case. Rejected: empty input, leading
/// whitespace (Redis checks `isspace(s[0])`), trailing bytes of any kind,
/// NaN in every spelling, and results that overflow to ±inf or underflow all
/// the way to zero (strtod's ERANGE cases Redis refuses). Subnormal results
/// are accepted, as in Redis (`ZADD z 4e-320 m` works).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let (negative, syntax) = scan_c_float(s)?;
    let magnitude = match syntax {
        FloatSyntax::Inf => f64::INFINITY,
        FloatSyntax::Decimal { digits, .. } => {
            // The syntax was validated above and is pure ASCII, and Rust's
            // parser is correctly rounded like glibc's, so it gives the same
            // double much faster than the generic big-number path (which is
            // kept as the fallback and for hex).
            let text = std::str::from_utf8(digits).ok();
            match text.and_then(|t| t.parse::<f64>().ok()) {
                Some(v) => {
                    if v.is_infinite() {
                        return None; // ERANGE overflow
                    }
                    if v == 0.0 && has_nonzero_digit(digits) {
                        return None; // ERANGE underflow to zero
                    }
                    v
                }
                None => finite_to_f64(syntax_to_binary(&syntax, &F64)?)?,
            }
        }
        FloatSyntax::Hex { .. } => finite_to_f64(syntax_to_binary(&syntax, &F64)?)?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A bare `strtod` whose end pointer must reach the end of the C string, as
/// ZRANGEBYSCORE's bounds are read (`zslParseRange`): the text up to the
/// first NUL byte, leading whitespace allowed, the empty string is 0 (strtod
/// converts nothing and stops at the terminator), an overflow is ±inf and an
/// underflow its rounded value (no ERANGE check); NaN is rejected.
pub fn parse_f64_strtod(s: &[u8]) -> Option<f64> {
    let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s.iter().position(|&b| !is_c_space(b))?;
    let (negative, syntax) = scan_c_float(&s[start..])?;
    let magnitude = match syntax {
        FloatSyntax::Inf => f64::INFINITY,
        FloatSyntax::Decimal { digits, .. } => {
            // Validated ASCII; Rust's parser is correctly rounded and saturates like strtod.
            std::str::from_utf8(digits).ok()?.parse::<f64>().ok()?
        }
        FloatSyntax::Hex { int, frac, exp } => match hex_to_bits(int, frac, exp) {
            Exact::Zero => 0.0,
            Exact::TooLarge => f64::INFINITY,
            Exact::Bits { top, sticky, exp2 } => match check_range(round_binary(top, sticky, exp2, &F64), &F64) {
                None => f64::INFINITY,
                Some(b) => finite_to_f64(b).unwrap_or(f64::INFINITY),
            },
        },
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// What `strtod` would recognise, when it consumes the whole input.
pub(super) enum FloatSyntax<'a> {
    Inf,
    /// `digits` is the unsigned number text (for Rust's parser); the parts
    /// are split out for the big-number path.
    Decimal {
        digits: &'a [u8],
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
    Hex {
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
}

/// C `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Exponents are clamped to this magnitude while parsing: far beyond any
/// format's range, yet small enough that adding digit counts can't overflow.
const EXP_CLAMP: i64 = 1_000_000_000_000;

/// Recognises the strtod grammar, requiring that all of `s` is consumed
/// (which is what Redis checks via the end pointer). Returns the sign and
/// the unsigned part; `None` for anything Redis would reject on syntax,
/// including every NaN spelling.
pub(super) fn scan_c_float(s: &[u8]) -> Option<(bool, FloatSyntax<'_>)> {
    let first = *s.first()?;
    if is_c_space(first) {
        return None;
    }
    let (negative, body) = match first {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some((negative, FloatSyntax::Inf));
    }
    let is_hex = body.len() > 2
        && body[0] == b'0'
        && (body[1] | 0x20) == b'x'
        && (body[2].is_ascii_hexdigit() || (body[2] == b'.' && body.get(3).is_some_and(|b| b.is_ascii_hexdigit())));
    if is_hex {
        let rest = &body[2..];
        let (int, frac, after) = split_mantissa(rest, |b| b.is_ascii_hexdigit());
        let exp = parse_exponent(after, b'p')?;
        return Some((negative, FloatSyntax::Hex { int, frac, exp }));
    }
    let (int, frac, after) = split_mantissa(body, |b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = parse_exponent(after, b'e')?;
    Some((negative, FloatSyntax::Decimal { digits: body, int, frac, exp }))
}

/// Splits `digits [ '.' digits ]` off the front of `s`, returning the
/// integer digits, the fraction digits and what follows.
fn split_mantissa(s: &[u8], is_digit: impl Fn(&u8) -> bool) -> (&[u8], &[u8], &[u8]) {
    let int_len = s.iter().take_while(|b| is_digit(b)).count();
    let (int, rest) = s.split_at(int_len);
    if rest.first() == Some(&b'.') {
        let rest = &rest[1..];
        let frac_len = rest.iter().take_while(|b| is_digit(b)).count();
        let (frac, after) = rest.split_at(frac_len);
        (int, frac, after)
    } else {
        (int, &[], rest)
    }
}

/// Parses an optional exponent `marker [+-] digits` that must end the input.
/// A marker without digits is not part of the number for strtod, so it
/// would be left unconsumed: reject.
fn parse_exponent(s: &[u8], marker: u8) -> Option<i64> {
    let Some((&m, rest)) = s.split_first() else {
        return Some(0);
    };
    if (m | 0x20) != marker {
        return None;
    }
    let (negative, digits) = match rest.split_first() {
        Some((b'-', d)) => (true, d),
        Some((b'+', d)) => (false, d),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = (v * 10 + i64::from(d - b'0')).min(EXP_CLAMP);
    }
    Some(if negative { -v } else { v })
}

fn has_nonzero_digit(s: &[u8]) -> bool {
    // Only the mantissa matters: stop at the exponent marker.
    s.iter().take_while(|&&b| b != b'e' && b != b'E').any(|&b| (b'1'..=b'9').contains(&b))
}

/// A binary floating-point format: `prec` mantissa bits, normal exponents
/// `emin..=emax` (value = 1.f * 2^e), gradual underflow below.
pub(super) struct BinFormat {
    pub(super) prec: u32,
    pub(super) emin: i64,
    pub(super) emax: i64,
}

pub(super) const F64: BinFormat = BinFormat { prec: 53, emin: -1022, emax: 1023 };

pub(super) const F80: BinFormat = BinFormat { prec: 64, emin: -16382, emax: 16383 };

/// Decimal significant digits kept exactly when converting; further digits
/// only count as "nonzero or not". This is safe as long as it exceeds the
/// longest decimal expansion of any rounding midpoint or representable
/// value (767 digits for f64, ~11,500 for x87 extended): then the dropped
/// tail can never move the value across a rounding boundary. (strtold input
/// is capped at 5119 bytes anyway; only strtod input can be longer.)
const MAX_SIG_DIGITS: usize = 12_000;

/// A decimal or hex number reduced to a binary value of at least 67
/// significant bits, before rounding to a format.
enum Exact {
    Zero,
    /// Beyond the largest finite value of every format.
    TooLarge,
    /// (top + ε) * 2^exp2, with ε in (0,1) iff `sticky`.
    Bits {
        top: u128,
        sticky: bool,
        exp2: i64,
    },
}

/// A correctly rounded finite result: `mant * 2^exp`, `mant < 2^prec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Binary {
    Zero,
    Finite { mant: u64, exp: i64 },
}

/// Converts a recognised number to the format, or `None` where strtod would
/// report ERANGE with a result Redis rejects (±inf on overflow, zero on
/// underflow of a nonzero input). An exact zero input gives `Binary::Zero`.
pub(super) fn syntax_to_binary(syntax: &FloatSyntax<'_>, fmt: &BinFormat) -> Option<Binary> {
    let exact = match *syntax {
        FloatSyntax::Inf => return None,
        FloatSyntax::Decimal { int, frac, exp, .. } => decimal_to_bits(int, frac, exp),
        FloatSyntax::Hex { int, frac, exp } => hex_to_bits(int, frac, exp),
    };
    let (top, sticky, exp2) = match exact {
        Exact::Zero => return Some(Binary::Zero),
        Exact::TooLarge => return None,
        Exact::Bits { top, sticky, exp2 } => (top, sticky, exp2),
    };
    match check_range(round_binary(top, sticky, exp2, fmt), fmt)? {
        Binary::Zero => None, // underflow of a nonzero value: ERANGE
        finite => Some(finite),
    }
}

/// `None` if a rounded result is beyond the largest finite value of `fmt`
/// (the caller turns that into infinity or an ERANGE rejection).
pub(super) fn check_range(b: Binary, fmt: &BinFormat) -> Option<Binary> {
    match b {
        Binary::Finite { mant, exp } if 63 - i64::from(mant.leading_zeros()) + exp > fmt.emax => None,
        b => Some(b),
    }
}

/// The value of the decimal number `int.frac e exp10`, exactly (up to the
/// sticky bit). Underflow far below any format comes back as a tiny value
/// that rounds to zero.
fn decimal_to_bits(int: &[u8], frac: &[u8], exp10: i64) -> Exact {
    let mut big = Big::default();
    let mut n_sig: usize = 0;
    let mut sticky = false;
    let mut dexp = exp10;
    let mut chunk: u32 = 0;
    let mut chunk_len: u32 = 0;
    for (i, &b) in int.iter().chain(frac.iter()).enumerate() {
        let after_point = i >= int.len();
        let d = u32::from(b - b'0');
        if n_sig == 0 && d == 0 {
            // Leading zero: only its position matters.
            if after_point {
                dexp = dexp.saturating_sub(1);
            }
            continue;
        }
        if n_sig < MAX_SIG_DIGITS {
            chunk = chunk * 10 + d;
            chunk_len += 1;
            if chunk_len == 9 {
                big.mul_add_small(1_000_000_000, chunk);
                chunk = 0;
                chunk_len = 0;
            }
            n_sig += 1;
            if after_point {
                dexp = dexp.saturating_sub(1);
            }
        } else {
            // Beyond the exact digits: remember only "something nonzero".
            sticky |= d != 0;
            if !after_point {
                dexp = dexp.saturating_add(1);
            }
        }
    }
    if chunk_len > 0 {
        big.mul_add_small(10u32.pow(chunk_len), chunk);
    }
    if n_sig == 0 {
        return Exact::Zero;
    }
    // value = (D + ε) * 10^dexp with D having n_sig digits, so it lies in
    // [10^(m10-1), 10^m10). Settle absurd magnitudes before doing big math:
    // x87 extended tops out near 1.19e4932 and its smallest subnormal is
    // ~3.6e-4951.
    let m10 = dexp.saturating_add(n_sig as i64);
    if m10 - 1 > 4933 {
        return Exact::TooLarge;
    }
    if m10 < -4952 {
        // Certainly below half the smallest subnormal of any format we use.
        return Exact::Bits { top: 1, sticky: false, exp2: -20_000 };
    }
    if dexp >= 0 {
        // D * 10^e = (D * 5^e) * 2^e, exactly.
        big.mul_pow5(dexp.unsigned_abs());
        let (top, dropped, lost) = big.top128();
        Exact::Bits { top, sticky: sticky || lost, exp2: dexp + dropped as i64 }
    } else {
        // D / 10^k = D / 5^k * 2^-k. Scale by 2^s so the quotient has 67 or
        // 68 bits (>= prec + 3 for both formats), then divide.
        let k = dexp.unsigned_abs();
        let mut divisor = Big::from_u128(1);
        divisor.mul_pow5(k);
        let s = 67 + divisor.bit_len() as i64 - big.bit_len() as i64;
        if s >= 0 {
            big.shl(s.unsigned_abs());
        } else {
            divisor.shl(s.unsigned_abs());
        }
        let q = big.div_small_quotient(&divisor, 68);
        // `big` now holds the remainder.
        Exact::Bits { top: q, sticky: sticky || !big.is_zero(), exp2: -(k as i64) - s }
    }
}

/// The value of the hex float `int.frac p exp2`, keeping up to 124
/// significant bits plus the sticky bit.
fn hex_to_bits(int: &[u8], frac: &[u8], exp2: i64) -> Exact {
    let mut top: u128 = 0;
    let mut n_sig = 0u32;
    let mut sticky = false;
    let mut exp = exp2;
    for (i, &b) in int.iter().chain(frac.iter()).enumerate() {
        let after_point = i >= int.len();
        let d = hex_value(b);
        if n_sig == 0 && d == 0 {
            if after_point {
                exp = exp.saturating_sub(4);
            }
            continue;
        }
        // 31 hex digits (<= 124 bits) always fit in a u128.
        if n_sig < 31 {
            top = (top << 4) | u128::from(d);
            n_sig += 1;
            if after_point {
                exp = exp.saturating_sub(4);
            }
        } else {
            sticky |= d != 0;
            if !after_point {
                exp = exp.saturating_add(4);
            }
        }
    }
    if top == 0 {
        Exact::Zero
    } else {
        Exact::Bits { top, sticky, exp2: exp }
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Rounds (top + ε) * 2^e, ε in (0,1) iff `sticky`, to the nearest value
/// of `fmt` (ties to even), with gradual underflow. The result may exceed
/// `fmt.emax`; callers check for overflow.
pub(super) fn round_binary(top: u128, sticky: bool, e: i64, fmt: &BinFormat) -> Binary {
    if top == 0 {
        return Binary::Zero;
    }
    let p = i64::from(fmt.prec);
    let bit_len = 128 - i64::from(top.leading_zeros());
    let lead_exp = (bit_len - 1).saturating_add(e);
    // Exponent of the last mantissa bit: set by the precision for normal
    // numbers, pinned at the bottom of the range for subnormals.
    let mut ulp = lead_exp.saturating_sub(p - 1).max(fmt.emin - (p - 1));
    let shift = ulp.saturating_sub(e);
    let mut kept: u128;
    if shift <= 0 {
        // Everything fits: exact (any sticky part is < half an ulp).
        kept = top << shift.unsigned_abs();
    } else {
        let (k, half, rest) = if shift > 128 {
            // The whole value is below half an ulp.
            (0, false, true)
        } else if shift == 128 {
            (0, top >> 127 == 1, (top << 1) != 0 || sticky)
        } else {
            let sh = shift as u32;
            let low_mask = (1u128 << (sh - 1)) - 1;
            (top >> sh, (top >> (sh - 1)) & 1 == 1, (top & low_mask) != 0 || sticky)
        };
        kept = k;
        if half && (rest || kept & 1 == 1) {
            kept += 1;
            if kept == 1u128 << p {
                // Rounded up to the next power of two.
                kept >>= 1;
                ulp += 1;
            }
        }
    }
    if kept == 0 {
        return Binary::Zero;
    }
    Binary::Finite { mant: kept as u64, exp: ulp }
}

/// Assembles an f64 from a rounded F64 result; `None` on overflow.
pub(super) fn finite_to_f64(b: Binary) -> Option<f64> {
    match b {
        Binary::Zero => Some(0.0),
        Binary::Finite { mant, exp } => {
            if mant >= 1u64 << 52 {
                let biased = exp + 52 + 1023;
                if biased >= 0x7ff {
                    return None;
                }
                Some(f64::from_bits(((biased as u64) << 52) | (mant & ((1u64 << 52) - 1))))
            } else {
                // Subnormal: round_binary pins exp at -1074 here.
                Some(f64::from_bits(mant))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<f64> {
        parse_f64(s.as_bytes())
    }

    #[test]
    fn parse_f64_accepts_what_strtod_consumes() {
        // redis (ZADD then ZSCORE)
        assert_eq!(d("0x10"), Some(16.0));
        assert_eq!(d("1."), Some(1.0));
        assert_eq!(d(".5"), Some(0.5));
        assert_eq!(d("inf"), Some(f64::INFINITY));
        assert_eq!(d("+inf"), Some(f64::INFINITY));
        assert_eq!(d("-INFINITY"), Some(f64::NEG_INFINITY));
        assert_eq!(d("iNfInItY"), Some(f64::INFINITY));
        assert_eq!(d("4e-320"), Some(4e-320)); // subnormal: accepted
        assert_eq!(d("0x1p-1074"), Some(f64::from_bits(1)));
        // glibc
        assert_eq!(d("1.5"), Some(1.5));
        assert_eq!(d("-2.5E+3"), Some(-2500.0));
        assert_eq!(d("+7"), Some(7.0));
        assert_eq!(d("00012"), Some(12.0));
        assert_eq!(d("0x1.8p1"), Some(3.0));
        assert_eq!(d("0X.8P+1"), Some(1.0));
        assert_eq!(d("0x8."), Some(8.0));
        assert_eq!(d("1e-5"), Some(1e-5));
        assert_eq!(d("1.7976931348623157e308"), Some(f64::MAX));
        assert_eq!(d("0e99999999999999999999"), Some(0.0));
        let neg_zero = d("-0").map(f64::to_bits);
        assert_eq!(neg_zero, Some((-0.0f64).to_bits()));
        // A long mantissa (the tail still decides the rounding).
        let long = format!("0.{}1", "0".repeat(10_000));
        assert_eq!(d(&long), None); // 1e-10001 underflows to zero
        let long = format!("1.{}1", "0".repeat(10_000));
        assert_eq!(d(&long), Some(1.0));
    }

    #[test]
    fn parse_f64_strtod_like_zrangebyscore_bounds() {
        let d = parse_f64_strtod;
        assert_eq!(d(b""), Some(0.0));
        assert_eq!(d(b" 1"), Some(1.0));
        assert_eq!(d(b"\t-5"), Some(-5.0));
        assert_eq!(d(b"0x10"), Some(16.0));
        assert_eq!(d(b"1e400"), Some(f64::INFINITY));
        assert_eq!(d(b"-1e400"), Some(f64::NEG_INFINITY));
        assert_eq!(d(b"1e-400"), Some(0.0));
        assert_eq!(d(b"0x1p+2000"), Some(f64::INFINITY));
        assert_eq!(d(b"0x1p-2000"), Some(0.0));
        assert_eq!(d(b"-inFinity"), Some(f64::NEG_INFINITY));
        assert_eq!(d(b"1\0abc"), Some(1.0));
        for bad in [&b" "[..], b"1 ", b"nan", b"-nan", b"x", b".", b"+", b"1e", b"0x"] {
            assert_eq!(d(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_f64_rejections() {
        // redis: "ERR value is not a valid float" for each of these.
        for bad in [
            "",
            " 1",
            "1 ",
            "\t1",
            "\x0b1",
            "nan",
            "-nan",
            "NaN",
            "nan(1)",
            "1e",
            "1e+",
            ".",
            "0x",
            "0xg",
            "0x1p",
            "e5",
            "+-1",
            "--1",
            "- 1",
            "1\0",
            "1,5",
            "infin",
            "infinityy",
            "1e400",
            "-1e400",
            "1e-400",
            "1e-4000",
            "0x1p-1075",
            "0x1p1024",
            "1.7976931348623159e308",
        ] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
        assert_eq!(parse_f64(b"\xff"), None);
        assert_eq!(parse_f64(b"1\xff"), None);
    }
}
