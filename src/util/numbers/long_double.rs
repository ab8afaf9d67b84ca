//! LongDouble: the x87 80-bit extended format, in software, for INCRBYFLOAT and HINCRBYFLOAT.

use std::cmp::Ordering;

use super::bignum::Big;
use super::float_format::{f64_parts, push_ascii, trim_trailing_zeros};
use super::strtod::{
    check_range, finite_to_f64, round_binary, scan_c_float, syntax_to_binary, Binary, FloatSyntax, F64, F80,
};

/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` copies its input into a
/// buffer this big and rejects anything that doesn't fit with its NUL.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
