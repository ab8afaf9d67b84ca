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
//! * [`i64_to_bytes`] — `ll2string` (`itoa::Buffer` for the same on the stack).
//!
//! Everything here takes raw client bytes and never panics.
//!
//! One file per concern: [`integer`], [`strtod`] (the parsers of both float formats),
//! [`float_format`] (`%.17g`), [`long_double`], and `bignum` under the exact conversions. Test
//! values marked "redis" were checked against redis-server 7.0.15 on x86-64; the rest against
//! glibc's strtod/strtold/printf.

mod bignum;
pub mod float_format;
pub mod integer;
pub mod long_double;
pub mod strtod;

pub use float_format::{d2string, format_f64_17g, format_f64_g};
pub use integer::{c_atoll, i64_to_bytes, parse_i64};
pub use long_double::{format_long_double, LongDouble};
pub use strtod::{parse_f64, parse_f64_strtod};

#[cfg(test)]
mod tests {
    use super::*;

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
