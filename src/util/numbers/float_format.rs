//! Doubles as text: `printf("%.17g")` and Redis's d2string, printed from the exact decimal
//! expansion of the binary value.

use super::bignum::Big;
use super::integer::i64_to_bytes;

/// `printf("%.17g", v)` exactly as glibc prints it: 17 significant digits,
/// correctly rounded (ties to even), trailing zeros removed, exponent form
/// when the decimal exponent is < -4 or >= 17. This is the text of every
/// finite double reply (`addReplyDouble`, RESP2 bulk or RESP3 `,` double).
///
/// ```text
/// 1.5 -> "1.5"   0.1 -> "0.10000000000000001"   1e20 -> "1e+20"
/// -0.0 -> "-0"   inf -> "inf"   NaN -> "nan" / "-nan"
/// ```
pub fn format_f64_17g(v: f64) -> String {
    let neg = v.is_sign_negative();
    let sign = if neg { "-" } else { "" };
    if v.is_nan() {
        return format!("{sign}nan");
    }
    if v.is_infinite() {
        return format!("{sign}inf");
    }
    if v == 0.0 {
        return format!("{sign}0");
    }
    // Fast path: an integer below 2^53 has at most 16 digits, which %.17g
    // prints verbatim in fixed notation. This is the common score shape.
    if v.abs() < 9_007_199_254_740_992.0 && v.fract() == 0.0 {
        return format!("{sign}{}", v.abs() as u64);
    }
    let (mant, exp) = f64_parts(v.abs());
    let (digits, frac_digits) = exact_decimal(mant, exp);
    format_g(sign, &digits, frac_digits, 17)
}

/// `printf("%g", v)` as glibc prints it (6 significant digits): how Redis's Lua debugger shows
/// numbers.
///
/// ```text
/// 1e20 -> "1e+20"   0.1 -> "0.1"   123456789012 -> "1.23457e+11"   NaN -> "nan" / "-nan"
/// ```
pub fn format_f64_g(v: f64) -> String {
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v.is_nan() {
        return format!("{sign}nan");
    }
    if v.is_infinite() {
        return format!("{sign}inf");
    }
    if v == 0.0 {
        return format!("{sign}0");
    }
    let (mant, exp) = f64_parts(v.abs());
    let (digits, frac_digits) = exact_decimal(mant, exp);
    format_g(sign, &digits, frac_digits, 6)
}

/// Port of Redis 7.0 `d2string`: `"nan"`, `"inf"`/`"-inf"`, `"0"`/`"-0"`,
/// plain integer printing for integral values strictly inside
/// (-(2^52 - 1), 2^52), otherwise `"%.17g"`.
///
/// The integer shortcut prints the same text `%.17g` would (such values have
/// at most 16 digits), so this differs from [`format_f64_17g`] only in
/// always spelling NaN without a sign.
pub fn d2string(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if v == 0.0 {
        // Redis tests the sign of zero with 1.0/value < 0.
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // The bounds are Redis's own literals (its comments have them swapped).
    let min = -4_503_599_627_370_495.0;
    let max = 4_503_599_627_370_496.0;
    if v > min && v < max && v == (v as i64) as f64 {
        return String::from_utf8_lossy(&i64_to_bytes(v as i64)).into_owned();
    }
    format_f64_17g(v)
}

/// Splits a finite positive f64 into `mant * 2^exp` with `mant < 2^53`.
pub(super) fn f64_parts(v: f64) -> (u64, i64) {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    }
}

/// Exact decimal expansion of `mant * 2^exp` (mant > 0): the digits of an
/// integer D without leading zeros, and the count of those digits that are
/// after the decimal point, so value = D / 10^frac_digits. Every binary
/// fraction has a finite decimal expansion: mant / 2^k = mant * 5^k / 10^k.
fn exact_decimal(mant: u64, exp: i64) -> (Vec<u8>, u64) {
    let mut big = Big::from_u128(u128::from(mant));
    if exp >= 0 {
        big.shl(exp.unsigned_abs());
        (big.to_decimal(), 0)
    } else {
        let k = exp.unsigned_abs();
        big.mul_pow5(k);
        (big.to_decimal(), k)
    }
}

/// `%.{precision}g` (no `#` flag) from an exact decimal expansion.
fn format_g(sign: &str, digits: &[u8], frac_digits: u64, precision: usize) -> String {
    // Decimal exponent of the leading digit.
    let mut x = digits.len() as i64 - 1 - frac_digits as i64;
    // Round to `precision` significant digits, ties to even (glibc rounds the
    // exact value in the current rounding mode, i.e. to nearest even).
    let mut sig: Vec<u8> = digits.iter().take(precision).copied().collect();
    if digits.len() > precision {
        let round_digit = digits[precision];
        let rest_nonzero = digits[precision + 1..].iter().any(|&d| d != b'0');
        let last_odd = sig.last().is_some_and(|&d| (d - b'0') % 2 == 1);
        let up = round_digit > b'5' || (round_digit == b'5' && (rest_nonzero || last_odd));
        if up && increment_decimal(&mut sig) {
            // 999.. carried into a new leading digit.
            x += 1;
            sig.truncate(precision);
        }
    }
    sig.resize(precision, b'0');

    let p = precision as i64;
    let mut out = String::with_capacity(precision + 8);
    out.push_str(sign);
    if x < -4 || x >= p {
        // Exponential form: d.ddd e±XX with trailing zeros removed.
        out.push(char::from(sig[0]));
        let frac = trim_trailing_zeros(&sig[1..]);
        if !frac.is_empty() {
            out.push('.');
            push_ascii(&mut out, frac);
        }
        out.push('e');
        out.push(if x < 0 { '-' } else { '+' });
        let ax = x.unsigned_abs();
        if ax < 10 {
            out.push('0');
        }
        out.push_str(&ax.to_string());
    } else if x >= 0 {
        let int_len = (x + 1) as usize;
        push_ascii(&mut out, &sig[..int_len]);
        let frac = trim_trailing_zeros(&sig[int_len..]);
        if !frac.is_empty() {
            out.push('.');
            push_ascii(&mut out, frac);
        }
    } else {
        // -4 <= x < 0: 0.000ddd
        out.push_str("0.");
        for _ in 0..(-x - 1) {
            out.push('0');
        }
        push_ascii(&mut out, trim_trailing_zeros(&sig));
    }
    out
}

/// Adds one to a string of decimal digits; returns true if it carried out
/// of the top (all nines), in which case the result is "1000...0" one digit
/// longer.
fn increment_decimal(d: &mut Vec<u8>) -> bool {
    for digit in d.iter_mut().rev() {
        if *digit == b'9' {
            *digit = b'0';
        } else {
            *digit += 1;
            return false;
        }
    }
    d.insert(0, b'1');
    true
}

pub(super) fn trim_trailing_zeros(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1);
    &s[..end]
}

/// Appends ASCII digits (always ASCII here) to a String.
pub(super) fn push_ascii(out: &mut String, s: &[u8]) {
    out.extend(s.iter().map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::numbers::parse_f64;

    #[test]
    fn format_g_like_printf() {
        // glibc printf("%g")
        let cases: &[(f64, &str)] = &[
            (1e20, "1e+20"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (123456789012.0, "1.23457e+11"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (999999.5, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.0, "-2"),
            (-0.0, "-0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1.23456789, "1.23457"),
        ];
        for &(v, want) in cases {
            assert_eq!(format_f64_g(v), want, "{v:e}");
        }
        assert_eq!(format_f64_g(-f64::NAN), "-nan");
    }

    #[test]
    fn format_17g_like_zscore() {
        // redis: ZADD + ZSCORE
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5, "1.5"),
            (4503599627370497.0, "4503599627370497"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (0.00012345678901234567, "0.00012345678901234567"),
            (3000.0, "3000"),
            (1e308, "1e+308"),
            (2.5e-308, "2.4999999999999998e-308"),
            (9007199254740993.0, "9007199254740992"),
            (4e-320, "3.999955468730732e-320"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0, "0"),
            (-0.0, "-0"),
            // glibc
            (f64::MAX, "1.7976931348623157e+308"),
            (-1.5, "-1.5"),
            (100.0, "100"),
            (1e-4, "0.0001"),
            (0.5e-4, "5.0000000000000002e-05"),
            (99999999999999999.0, "1e+17"),
            (12345678901234567.0, "12345678901234568"),
            // An exact tie at the 18th digit rounds to even, like glibc.
            (1234567890123456.0 + 0.25, "1234567890123456.2"),
            (1234567890123456.0 + 0.75, "1234567890123456.8"),
        ];
        for &(v, want) in cases {
            assert_eq!(format_f64_17g(v), want, "{v:e}");
        }
        assert_eq!(format_f64_17g(f64::NAN), "nan");
        assert_eq!(format_f64_17g(-f64::NAN), "-nan");
    }

    #[test]
    fn format_17g_roundtrips() {
        // 17 significant digits always identify the double.
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_nan() {
                continue;
            }
            let s = format_f64_17g(v);
            assert_eq!(parse_f64(s.as_bytes()).map(f64::to_bits), Some(v.to_bits()), "{s}");
        }
    }

    #[test]
    fn d2string_port() {
        assert_eq!(d2string(1.0), "1");
        assert_eq!(d2string(-3.0), "-3");
        assert_eq!(d2string(0.0), "0");
        assert_eq!(d2string(-0.0), "-0");
        assert_eq!(d2string(f64::NAN), "nan");
        assert_eq!(d2string(-f64::NAN), "nan");
        assert_eq!(d2string(f64::INFINITY), "inf");
        assert_eq!(d2string(f64::NEG_INFINITY), "-inf");
        assert_eq!(d2string(1.5), "1.5");
        assert_eq!(d2string(0.1), "0.10000000000000001");
        assert_eq!(d2string(4503599627370495.0), "4503599627370495");
        // Outside the integer window: same text via %.17g.
        assert_eq!(d2string(4503599627370496.0), "4503599627370496");
        assert_eq!(d2string(-4503599627370495.0), "-4503599627370495");
        assert_eq!(d2string(1e17), "1e+17");
    }
}
