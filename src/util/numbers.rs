//! Number parsing and formatting, as exact ports of Redis 7.0 (src/util.c,
//! src/object.c) behaviour:
//!
//! * [`parse_i64`] — `string2ll`, the strict integer parser behind INCR,
//!   EXPIRE, LRANGE indexes and friends.
//! * [`parse_f64`] — `string2d` (`strtod` plus Redis's checks), used for ZADD
//!   scores, ZINCRBY, ZRANGEBYSCORE bounds, GEO coordinates...
//! * [`format_f64_17g`] — `printf("%.17g")`, used by `addReplyDouble` (ZSCORE,
//!   ZINCRBY, WITHSCORES replies).
//! * [`d2string`] — `d2string`, used where Redis stores a double as text.
//! * [`LongDouble`] and [`format_long_double`] — INCRBYFLOAT and HINCRBYFLOAT.
//!   Redis computes these in C `long double`, which on x86-64 is the 80-bit
//!   x87 extended format (64-bit mantissa). Doing the arithmetic in `f64`
//!   instead gives client-visible differences: after `SET k 10.5`,
//!   `INCRBYFLOAT k 0.1` real Redis replies `10.6` where `f64` gives
//!   `10.59999999999999964`, then `INCRBYFLOAT k 5.0e3` replies
//!   `5010.60000000000000009` where `f64` gives `5010.6000000000003638`;
//!   and `INCRBYFLOAT k 1e400` works because long double reaches
//!   ~1.19e4932. So
//!   [`LongDouble`] is a small software implementation of exactly the three
//!   operations those commands need: `strtold`, `+`, and `"%.17Lf"` output,
//!   each correctly rounded the way glibc and the x87 FPU do it.
//! * [`i64_to_bytes`] — `ll2string`; [`itoa_buf`] the same into a stack buffer.
//!
//! Everything here takes raw client bytes and never panics.

use std::cmp::Ordering;

/// `LONG_STR_SIZE` in Redis: 20 characters is the longest valid i64
/// ("-9223372036854775808"); longer input is rejected before parsing.
const LONG_STR_SIZE: usize = 21;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` copies its input into a
/// buffer this big and rejects anything that doesn't fit with its NUL.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

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

/// Port of `ll2string`: decimal representation of `v`.
pub fn i64_to_bytes(v: i64) -> Vec<u8> {
    // 19 digits plus a sign is the longest i64.
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    buf[pos..].to_vec()
}

/// A stack buffer for formatting integers without allocating.
pub struct IntBuf {
    buf: [u8; 20],
    start: usize,
}

impl IntBuf {
    pub fn as_bytes_mut(&mut self) -> &[u8] {
        &self.buf[self.start..]
    }
}

pub fn itoa_buf(n: i64) -> IntBuf {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        pos -= 1;
        buf[pos] = b'-';
    }
    IntBuf { buf, start: pos }
}

// ---------------------------------------------------------------------------
// Doubles
// ---------------------------------------------------------------------------

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

/// Port of `ld2string(..., LD_STR_HUMAN)` applied to an `f64` value:
/// `"%.17Lf"`, then trailing zeros and a trailing `.` stripped, `"-0"`
/// rewritten to `"0"`, infinities spelled `"inf"`/`"-inf"`.
///
/// Widening an `f64` to long double is exact, so this prints precisely what
/// Redis would print for the same value. Note however that INCRBYFLOAT and
/// HINCRBYFLOAT *compute* in long double: use [`LongDouble`] for those, since
/// e.g. the f64 sum 10.5 + 0.1 is 10.5999999999999996447... and prints as
/// `10.59999999999999964`, whereas Redis's long double sum prints `10.6`.
pub fn format_long_double(v: f64) -> String {
    LongDouble::from_f64(v).to_human_string()
}

// ---------------------------------------------------------------------------
// LongDouble: the x87 80-bit extended format, in software
// ---------------------------------------------------------------------------

/// A C `long double` as on x86-64 Linux (x87 80-bit extended precision:
/// 64-bit mantissa, exponent range 2^-16382..2^16383, subnormals down to
/// 2^-16445), supporting the operations INCRBYFLOAT/HINCRBYFLOAT perform:
///
/// ```text
/// let cur = LongDouble::parse(old_bytes)?;        // string2ld, or from_i64
/// let inc = LongDouble::parse(arg)?;              // string2ld
/// let sum = cur + inc;                            // value += incr
/// if !sum.is_finite() { /* "increment would produce NaN or Infinity" */ }
/// let text = sum.to_human_string();               // ld2string LD_STR_HUMAN
/// ```
///
/// All operations are correctly rounded (round to nearest, ties to even),
/// matching glibc's `strtold`/`printf` and the FPU's addition bit for bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    negative: bool,
    value: LdValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LdValue {
    Zero,
    /// `mant * 2^exp`; `mant` has its top bit set unless the number is
    /// subnormal, in which case `exp` is the minimum (-16445).
    Finite {
        mant: u64,
        exp: i64,
    },
    Inf,
    Nan,
}

impl LongDouble {
    /// Positive zero.
    pub const ZERO: LongDouble = LongDouble { negative: false, value: LdValue::Zero };

    /// Port of `string2ld` (used by `getLongDoubleFromObject`): like
    /// [`parse_f64`] but parsed as a long double (`strtold`), so the range
    /// reaches ~1.19e4932, and input of 5120 bytes or more is rejected
    /// (Redis's `MAX_LONG_DOUBLE_CHARS` buffer). `inf` is accepted here;
    /// the commands then refuse the infinite result themselves.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        // string2ld works on a NUL-terminated copy, so an embedded NUL ends
        // strtold's input early and fails the "all bytes consumed" check;
        // scan_c_float rejects NUL like any other unexpected byte.
        let (negative, syntax) = scan_c_float(s)?;
        let value = match syntax {
            FloatSyntax::Inf => LdValue::Inf,
            _ => match syntax_to_binary(&syntax, &F80)? {
                Binary::Zero => LdValue::Zero,
                Binary::Finite { mant, exp } => ld_normalize(mant, exp),
            },
        };
        Some(LongDouble { negative, value })
    }

    /// Exact conversion (every i64 fits in a 64-bit mantissa); this is what
    /// C does for an int-encoded string object (`value = (long)o->ptr`).
    pub fn from_i64(v: i64) -> LongDouble {
        LongDouble { negative: v < 0, value: if v == 0 { LdValue::Zero } else { ld_normalize(v.unsigned_abs(), 0) } }
    }

    /// Exact widening conversion, as C's `(long double)d`.
    pub fn from_f64(v: f64) -> LongDouble {
        let negative = v.is_sign_negative();
        let value = if v.is_nan() {
            LdValue::Nan
        } else if v.is_infinite() {
            LdValue::Inf
        } else if v == 0.0 {
            LdValue::Zero
        } else {
            let (mant, exp) = f64_parts(v.abs());
            ld_normalize(mant, exp)
        };
        LongDouble { negative, value }
    }

    /// Nearest `f64` (ties to even), as C's `(double)ld`. Values beyond the
    /// f64 range become ±inf or ±0.
    pub fn to_f64(self) -> f64 {
        let magnitude = match self.value {
            LdValue::Zero => 0.0,
            LdValue::Inf => f64::INFINITY,
            LdValue::Nan => f64::NAN,
            LdValue::Finite { mant, exp } => check_range(round_binary(u128::from(mant), false, exp, &F64), &F64)
                .and_then(finite_to_f64)
                .unwrap_or(f64::INFINITY),
        };
        if self.negative {
            -magnitude
        } else {
            magnitude
        }
    }

    /// True unless the value is an infinity or NaN: INCRBYFLOAT and
    /// HINCRBYFLOAT refuse such results with "increment would produce NaN
    /// or Infinity".
    pub fn is_finite(self) -> bool {
        matches!(self.value, LdValue::Zero | LdValue::Finite { .. })
    }

    /// True for NaN (only reachable as `inf + -inf`).
    pub fn is_nan(self) -> bool {
        self.value == LdValue::Nan
    }

    /// Port of `ld2string(..., LD_STR_HUMAN)`: `"%.17Lf"` with trailing
    /// zeros and a dangling `.` removed, `"-0"` turned into `"0"`, and
    /// infinities as `"inf"`/`"-inf"`. This is the text INCRBYFLOAT stores
    /// and replies with.
    pub fn to_human_string(self) -> String {
        let sign = if self.negative { "-" } else { "" };
        match self.value {
            LdValue::Inf => format!("{sign}inf"),
            // Not reachable from the commands (they reject NaN first), but
            // this is what glibc would print.
            LdValue::Nan => format!("{sign}nan"),
            // "-0.00000000000000000" strips to "-0", which Redis rewrites.
            LdValue::Zero => "0".to_string(),
            LdValue::Finite { mant, exp } => {
                let digits = fixed_17_digits(mant, exp);
                // digits holds round(|v| * 10^17) with at least 18 digits.
                let split = digits.len() - 17;
                let (int_part, frac) = digits.split_at(split);
                let frac = trim_trailing_zeros(frac);
                let mut out = String::with_capacity(digits.len() + 2);
                out.push_str(sign);
                push_ascii(&mut out, int_part);
                if !frac.is_empty() {
                    out.push('.');
                    push_ascii(&mut out, frac);
                }
                if out == "-0" {
                    // A tiny negative value rounds to "-0.000...": Redis
                    // never replies "-0" here.
                    out = "0".to_string();
                }
                out
            }
        }
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// Same as [`LongDouble::add`].
    fn add(self, other: LongDouble) -> LongDouble {
        LongDouble::add(self, other)
    }
}

impl LongDouble {
    /// `self + other` with IEEE semantics in extended precision, as the x87
    /// FPU computes `value += incr` (round to nearest even; `x + -x` is +0;
    /// `inf + -inf` is NaN). Also available as the `+` operator.
    #[allow(clippy::should_implement_trait)] // it is implemented, above
    pub fn add(self, other: LongDouble) -> LongDouble {
        use LdValue::*;
        let (a, b) = (self, other);
        match (a.value, b.value) {
            (Nan, _) | (_, Nan) => LongDouble { negative: false, value: Nan },
            (Inf, Inf) if a.negative != b.negative => LongDouble {
                negative: true, // the x87 "default NaN" is negative
                value: Nan,
            },
            (Inf, _) => a,
            (_, Inf) => b,
            (Zero, Zero) => LongDouble {
                // Only -0 + -0 stays negative in round-to-nearest.
                negative: a.negative && b.negative,
                value: Zero,
            },
            (Zero, _) => b,
            (_, Zero) => a,
            (Finite { mant: ma, exp: ea }, Finite { mant: mb, exp: eb }) => {
                ld_add_finite(a.negative, ma, ea, b.negative, mb, eb)
            }
        }
    }
}

/// Exact addition of two finite nonzero extended values, then rounding.
fn ld_add_finite(na: bool, ma: u64, ea: i64, nb: bool, mb: u64, eb: i64) -> LongDouble {
    // Order by exponent so `a` is the operand with the larger one.
    let ((na, ma, ea), (nb, mb, eb)) =
        if ea >= eb { ((na, ma, ea), (nb, mb, eb)) } else { ((nb, mb, eb), (na, ma, ea)) };
    // Work in u128 with 62 guard bits under the 64-bit mantissas, the
    // classic soft-float layout: the smaller operand is shifted right with
    // every bit that falls off "jammed" into bit 0 (sticky), which keeps the
    // final rounding exact. 62 guard bits leave room for the carry of an
    // addition (2^126 + 2^126 < 2^128).
    const GUARD: u32 = 62;
    let a = u128::from(ma) << GUARD;
    let b_full = u128::from(mb) << GUARD;
    let d = ea - eb; // >= 0
    let b = if d == 0 {
        b_full
    } else if d < 128 {
        let shifted = b_full >> d;
        let lost = b_full & ((1u128 << d) - 1);
        shifted | u128::from(lost != 0)
    } else {
        // Entirely below the guard bits: only its stickiness matters.
        1
    };
    let (negative, sum) = if na == nb {
        (na, a + b)
    } else if a >= b {
        (na, a - b)
    } else {
        (nb, b - a)
    };
    if sum == 0 {
        // Exact cancellation (only possible when nothing was shifted out):
        // IEEE round-to-nearest gives +0.
        return LongDouble::ZERO;
    }
    let value = match check_range(round_binary(sum, false, ea - i64::from(GUARD), &F80), &F80) {
        None => LdValue::Inf,
        Some(Binary::Zero) => LdValue::Zero,
        Some(Binary::Finite { mant, exp }) => ld_normalize(mant, exp),
    };
    LongDouble { negative, value }
}

/// Puts `mant * 2^exp` (nonzero, already representable) into canonical
/// extended form: top mantissa bit set, or the minimum exponent for
/// subnormals.
fn ld_normalize(mant: u64, exp: i64) -> LdValue {
    if mant == 0 {
        return LdValue::Zero;
    }
    let min_exp = F80.emin - i64::from(F80.prec - 1);
    let lz = i64::from(mant.leading_zeros());
    // Shift left as far as the mantissa allows, but not below the minimum
    // exponent (that would be a subnormal).
    let shift = lz.min(exp - min_exp).max(0);
    LdValue::Finite { mant: mant << shift, exp: exp - shift }
}

/// round(|v| * 10^17) as decimal digits, zero-padded to at least 18 digits
/// (so there is always an integer digit before the 17 fraction digits).
/// This is glibc's "%.17Lf" rounding: exact, ties to even.
fn fixed_17_digits(mant: u64, exp: i64) -> Vec<u8> {
    const P17: u128 = 100_000_000_000_000_000;
    let mut digits = if exp >= 0 {
        // An integer: print it exactly (up to ~4933 digits for long double).
        let mut big = Big::from_u128(u128::from(mant));
        big.shl(exp.unsigned_abs());
        let mut d = big.to_decimal();
        d.extend_from_slice(&[b'0'; 17]);
        d
    } else {
        // |v| * 10^17 = mant * 10^17 / 2^k, and mant * 10^17 < 2^121 fits.
        let n = u128::from(mant) * P17;
        let k = exp.unsigned_abs();
        let (mut q, rem_cmp_half, q_odd) = if k >= 129 {
            // n < 2^121 <= 2^(k-1): below half a unit, rounds to zero.
            (0u128, Ordering::Less, false)
        } else {
            let q = if k == 128 { 0 } else { n >> k };
            let rem = if k == 128 { n } else { n & ((1u128 << k) - 1) };
            let half = 1u128 << (k - 1);
            (q, rem.cmp(&half), q & 1 == 1)
        };
        if rem_cmp_half == Ordering::Greater || (rem_cmp_half == Ordering::Equal && q_odd) {
            q += 1;
        }
        q.to_string().into_bytes()
    };
    if digits.len() < 18 {
        let mut padded = vec![b'0'; 18 - digits.len()];
        padded.append(&mut digits);
        digits = padded;
    }
    digits
}

// ---------------------------------------------------------------------------
// %g formatting helpers
// ---------------------------------------------------------------------------

/// Splits a finite positive f64 into `mant * 2^exp` with `mant < 2^53`.
fn f64_parts(v: f64) -> (u64, i64) {
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

fn trim_trailing_zeros(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1);
    &s[..end]
}

/// Appends ASCII digits (always ASCII here) to a String.
fn push_ascii(out: &mut String, s: &[u8]) {
    out.extend(s.iter().map(|&b| char::from(b)));
}

// ---------------------------------------------------------------------------
// strtod / strtold: syntax
// ---------------------------------------------------------------------------

/// What `strtod` would recognise, when it consumes the whole input.
enum FloatSyntax<'a> {
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
fn scan_c_float(s: &[u8]) -> Option<(bool, FloatSyntax<'_>)> {
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

// ---------------------------------------------------------------------------
// strtod / strtold: correctly rounded conversion
// ---------------------------------------------------------------------------

/// A binary floating-point format: `prec` mantissa bits, normal exponents
/// `emin..=emax` (value = 1.f * 2^e), gradual underflow below.
struct BinFormat {
    prec: u32,
    emin: i64,
    emax: i64,
}

const F64: BinFormat = BinFormat { prec: 53, emin: -1022, emax: 1023 };

const F80: BinFormat = BinFormat { prec: 64, emin: -16382, emax: 16383 };

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
enum Binary {
    Zero,
    Finite { mant: u64, exp: i64 },
}

/// Converts a recognised number to the format, or `None` where strtod would
/// report ERANGE with a result Redis rejects (±inf on overflow, zero on
/// underflow of a nonzero input). An exact zero input gives `Binary::Zero`.
fn syntax_to_binary(syntax: &FloatSyntax<'_>, fmt: &BinFormat) -> Option<Binary> {
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
fn check_range(b: Binary, fmt: &BinFormat) -> Option<Binary> {
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
fn round_binary(top: u128, sticky: bool, e: i64, fmt: &BinFormat) -> Binary {
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
fn finite_to_f64(b: Binary) -> Option<f64> {
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

// ---------------------------------------------------------------------------
// Minimal unsigned big integer (little-endian u32 limbs, no high zero limbs)
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// self = self * m + a
    fn mul_add_small(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let t = u64::from(*limb) * u64::from(m) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow5(&mut self, mut k: u64) {
        const FIVE_13: u32 = 1_220_703_125; // largest power of 5 in a u32
        while k >= 13 {
            self.mul_add_small(FIVE_13, 0);
            k -= 13;
        }
        if k > 0 {
            self.mul_add_small(5u32.pow(k as u32), 0);
        }
    }

    fn bit_len(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    fn shl(&mut self, bits: u64) {
        if self.is_zero() {
            return;
        }
        let b = (bits % 32) as u32;
        if b != 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let next = *limb >> (32 - b);
                *limb = (*limb << b) | carry;
                carry = next;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        let limbs = (bits / 32) as usize;
        if limbs > 0 {
            let mut shifted = vec![0u32; limbs];
            shifted.extend_from_slice(&self.0);
            self.0 = shifted;
        }
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.0.iter_mut().rev() {
            let next = *limb & 1;
            *limb = (*limb >> 1) | (carry << 31);
            carry = next;
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// self -= other; requires self >= other.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0u64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let sub = u64::from(other.0.get(i).copied().unwrap_or(0)) + borrow;
            let cur = u64::from(*limb);
            if cur >= sub {
                *limb = (cur - sub) as u32;
                borrow = 0;
            } else {
                *limb = (cur + (1u64 << 32) - sub) as u32;
                borrow = 1;
            }
        }
        self.trim();
    }

    /// Divides in place, leaving the remainder in `self` and returning the
    /// quotient, which the caller guarantees is below 2^qbits (<= 2^127).
    /// Plain binary long division: only ~68 steps are ever needed here.
    fn div_small_quotient(&mut self, divisor: &Big, qbits: u32) -> u128 {
        let mut shifted = divisor.clone();
        shifted.shl(u64::from(qbits - 1));
        let mut q = 0u128;
        for i in (0..qbits).rev() {
            if self.cmp(&shifted) != Ordering::Less {
                self.sub_assign(&shifted);
                q |= 1u128 << i;
            }
            shifted.shr1();
        }
        q
    }

    /// The top 128 bits, the number of low bits dropped to get them, and
    /// whether any dropped bit was set.
    fn top128(&self) -> (u128, u64, bool) {
        let len = self.bit_len();
        if len <= 128 {
            let mut v = 0u128;
            for (i, &limb) in self.0.iter().enumerate() {
                v |= u128::from(limb) << (32 * i);
            }
            return (v, 0, false);
        }
        let drop = len - 128;
        let limb_off = (drop / 32) as usize;
        let bit_off = (drop % 32) as i64;
        let mut v = 0u128;
        for (j, &limb) in self.0.iter().skip(limb_off).take(5).enumerate() {
            let pos = 32 * j as i64 - bit_off;
            if pos >= 0 {
                if pos < 128 {
                    v |= u128::from(limb) << pos;
                }
            } else {
                v |= u128::from(limb) >> (-pos);
            }
        }
        let lost = self.0.iter().take(limb_off).any(|&l| l != 0)
            || self.0.get(limb_off).is_some_and(|&l| bit_off > 0 && l & ((1u32 << bit_off) - 1) != 0);
        (v, drop, lost)
    }

    /// self /= d, returning the remainder.
    fn div_rem_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    /// Decimal digits, no leading zeros ("0" for zero).
    fn to_decimal(&self) -> Vec<u8> {
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_rem_small(1_000_000_000));
        }
        let mut out = Vec::with_capacity(chunks.len() * 9 + 1);
        match chunks.pop() {
            None => out.push(b'0'),
            Some(first) => out.extend_from_slice(first.to_string().as_bytes()),
        }
        for c in chunks.iter().rev() {
            out.extend_from_slice(format!("{c:09}").as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values marked "redis" were checked against redis-server
    // 7.0.15 on x86-64; the rest against glibc's strtod/strtold/printf.

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

    fn ld(s: &str) -> LongDouble {
        LongDouble::parse(s.as_bytes()).unwrap_or_else(|| panic!("{s:?} should parse"))
    }

    /// INCRBYFLOAT: parse the stored text, add, print.
    fn incr(cur: &str, by: &str) -> String {
        (ld(cur) + ld(by)).to_human_string()
    }

    #[test]
    fn incrbyfloat_matches_redis() {
        // redis: SET k 10.5; INCRBYFLOAT k 0.1; INCRBYFLOAT k 5.0e3
        assert_eq!(incr("10.5", "0.1"), "10.6");
        assert_eq!(incr("10.6", "5.0e3"), "5010.60000000000000009");
        // redis: INCRBYFLOAT on a missing key starts from 0.
        assert_eq!(incr("0", "3.0e3"), "3000");
        assert_eq!(incr("0", "1e30"), "1000000000000000000024696061952");
        assert_eq!(incr("0", "0x10"), "16");
        assert_eq!(incr("0", "0.1"), "0.1");
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("0", "-0"), "0");
        assert_eq!(incr("0", "-0.000000000000000001"), "0");
        assert_eq!(incr("0", "-1e-30"), "0");
        assert_eq!(incr("0", "1e-17"), "0.00000000000000001");
        assert_eq!(incr("0.00000000000000001", "5e-18"), "0.00000000000000002");
        assert_eq!(incr("1", "0.024390243902439025"), "1.02439024390243903");
        assert_eq!(incr("1.02439024390243903", "-0.024390243902439025"), "1");
        let big = incr("0", "1e4000");
        assert!(big.starts_with("9999999999999999999965463873099623784932"));
        assert_eq!(big.len(), 4000);
        // redis: SET c -9223372036854775808; INCRBYFLOAT c -1
        let sum = LongDouble::from_i64(i64::MIN) + LongDouble::from_i64(-1);
        assert_eq!(sum.to_human_string(), "-9223372036854775809");
        // Past f64's range, still finite in long double (redis agrees).
        assert!((ld("1.7976931348623157e308") + ld("1e4932")).is_finite());
    }

    #[test]
    fn incrbyfloat_rejections() {
        // redis: "ERR value is not a valid float"
        for bad in ["", " 1", "1 ", "1.5 ", "abc", "nan", "1e5000", "-1e5000", "1e-5000"] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        // redis: 5119 bytes are accepted, 5120 are not.
        let ok = format!("1.{}", "0".repeat(5117));
        assert_eq!(ld(&ok).to_human_string(), "1");
        let too_long = format!("1.{}", "0".repeat(5118));
        assert_eq!(LongDouble::parse(too_long.as_bytes()), None);
        // Infinity parses; the command then refuses the infinite result
        // ("increment would produce NaN or Infinity").
        assert!(!(ld("0") + ld("inf")).is_finite());
        let nan = ld("inf") + ld("-inf");
        assert!(nan.is_nan() && !nan.is_finite());
        // Overflowing the long double range is infinite, hence refused.
        assert!(!(ld("1e4932") + ld("1e4932")).is_finite());
    }

    #[test]
    fn long_double_arithmetic_edges() {
        // The inherent method and the operator are the same operation.
        assert_eq!(ld("1.5").add(ld("2")), ld("1.5") + ld("2"));
        assert_eq!(ld("1.5").add(ld("2")).to_human_string(), "3.5");
        assert_eq!((ld("-0") + ld("-0")).to_human_string(), "0");
        assert!((ld("-0") + ld("-0")).negative);
        assert!(!(ld("1") + ld("-1")).negative);
        // 1e19 + 1 still fits in 64 mantissa bits; 1e20 + 1 would not.
        assert_eq!(incr("1e19", "1"), "10000000000000000001");
        assert_eq!(incr("1e20", "1"), "100000000000000000000");
        // 2^64 + 1 is not representable with a 64-bit mantissa (tie: even).
        assert_eq!(incr("18446744073709551616", "1"), "18446744073709551616");
        assert_eq!(incr("18446744073709551616", "3"), "18446744073709551620");
        assert_eq!(incr("-5.5", "2.25"), "-3.25");
        assert_eq!(incr("1e-4940", "0"), "0");
        assert_eq!(ld("0.1").to_f64(), 0.1);
        assert_eq!(ld("1e4000").to_f64(), f64::INFINITY);
        assert_eq!(ld("-1e-4000").to_f64().to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn format_long_double_of_f64() {
        // %.17Lf of the exact f64 value: f64 arithmetic shows its error,
        // which is why INCRBYFLOAT uses LongDouble instead.
        assert_eq!(format_long_double(10.5 + 0.1), "10.59999999999999964");
        assert_eq!(format_long_double(1e30), "1000000000000000019884624838656");
        assert_eq!(format_long_double(10.5), "10.5");
        assert_eq!(format_long_double(3000.0), "3000");
        assert_eq!(format_long_double(0.1), "0.10000000000000001");
        assert_eq!(format_long_double(-0.0), "0");
        assert_eq!(format_long_double(-1e-30), "0");
        assert_eq!(format_long_double(f64::INFINITY), "inf");
        assert_eq!(format_long_double(f64::NEG_INFINITY), "-inf");
        // An exact tie at the 18th decimal rounds to even, like glibc:
        // 2^-18 = 0.000003814697265625
        assert_eq!(format_long_double(2f64.powi(-18)), "0.00000381469726562");
        assert_eq!(format_long_double(f64::MAX).len(), 309);
    }

    #[test]
    fn never_panics_on_odd_inputs() {
        let alphabet = b"0123456789.eE+-xXpPaAfFinINtyY \t\0\xff";
        let mut inputs: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..4 {
            let mut next = Vec::new();
            for i in &inputs {
                for &c in alphabet.iter() {
                    let mut j = i.clone();
                    j.push(c);
                    next.push(j);
                }
            }
            inputs = next;
            for i in &inputs {
                let _ = parse_i64(i);
                let _ = parse_f64(i);
                if let Some(v) = LongDouble::parse(i) {
                    let _ = (v + v).to_human_string();
                }
            }
            if inputs.len() > 40_000 {
                break;
            }
        }
        // Extreme magnitudes and lengths.
        for s in [
            "1e999999999999999999999999",
            "-1e-999999999999999999999999",
            "0x1p999999999999999999999999",
            "0x1p-999999999999999999999999",
            "0x0000000000000000000000000000000000000000001p-16445",
        ] {
            let _ = parse_f64(s.as_bytes());
            let _ = LongDouble::parse(s.as_bytes());
        }
        let huge = vec![b'7'; 2_000_000];
        assert_eq!(parse_f64(&huge), None); // overflows to inf
        let smallest = LongDouble::parse(b"0x1p-16445").map(LongDouble::to_human_string);
        assert_eq!(smallest.as_deref(), Some("0"));
        assert_eq!(LongDouble::parse(b"0x1p-16446"), None);
        let largest = LongDouble::parse(b"0xffffffffffffffffp16320");
        assert!(largest.is_some_and(|v| v.to_human_string().len() == 4933));
        assert_eq!(LongDouble::parse(b"0xffffffffffffffff8p16316"), None);
        for v in [f64::MAX, f64::MIN_POSITIVE, 5e-324, -5e-324] {
            let _ = format_long_double(v);
            let _ = format_f64_17g(v);
            let _ = d2string(v);
            let _ = LongDouble::from_f64(v) + LongDouble::from_f64(-v);
        }
    }
}
