//! Software x87 80-bit extended precision, the `long double` Redis uses on x86-64 for INCRBYFLOAT
//! and HINCRBYFLOAT.
//!
//! Doing that arithmetic in `f64` would give visibly different replies: `SET k 10.5` then
//! `INCRBYFLOAT k 0.1` answers `10.6` in Redis only because 0.1 is parsed, added and then printed
//! with `%.17Lf` at 64 bits of mantissa. So this module parses like glibc's `strtold`, adds with
//! round-to-nearest-even on a 64-bit significand and prints exactly like `%.17Lf`, using a small
//! bignum so that every step is exact before its single rounding.

use std::cmp::Ordering;

/// Exponent of the smallest subnormal: 2^-16382 (minimum normal) times 2^-63.
const MIN_EXP: i64 = -16445;
/// Exponent (of the integer significand) of the largest finite values: 2^16383 / 2^63.
const MAX_EXP: i64 = 16320;

/// Redis refuses numbers whose text is this long or longer (MAX_LONG_DOUBLE_CHARS).
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongDouble {
    /// `mant * 2^exp`; `mant` has bit 63 set unless the value is zero or subnormal
    /// (then `exp == MIN_EXP`).
    Finite { neg: bool, mant: u64, exp: i64 },
    Inf { neg: bool },
    Nan,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite { neg: false, mant: 0, exp: MIN_EXP };

    /// Exact: every i64 fits in a 64-bit significand.
    pub fn from_i64(v: i64) -> LongDouble {
        if v == 0 {
            return LongDouble::ZERO;
        }
        let mag = v.unsigned_abs();
        let shift = mag.leading_zeros() as i64;
        LongDouble::Finite { neg: v < 0, mant: mag << shift, exp: -shift }
    }

    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// `self + other` rounded to nearest-even, as the x87 FPU does in extended precision.
    pub fn add(self, other: LongDouble) -> LongDouble {
        use LongDouble::*;
        match (self, other) {
            (Nan, _) | (_, Nan) => Nan,
            (Inf { neg: a }, Inf { neg: b }) => {
                if a == b {
                    Inf { neg: a }
                } else {
                    Nan
                }
            }
            (Inf { neg }, _) | (_, Inf { neg }) => Inf { neg },
            (Finite { neg: na, mant: ma, exp: ea }, Finite { neg: nb, mant: mb, exp: eb }) => {
                if ma == 0 && mb == 0 {
                    // IEEE: the sum of two zeros is -0 only when both are -0.
                    return Finite { neg: na && nb, mant: 0, exp: MIN_EXP };
                }
                if ma == 0 {
                    return other;
                }
                if mb == 0 {
                    return self;
                }
                let e = ea.min(eb);
                let mut a = Big::from_u64(ma);
                a.shl((ea - e) as usize);
                let mut b = Big::from_u64(mb);
                b.shl((eb - e) as usize);
                if na == nb {
                    a.add(&b);
                    round(na, a, e, false).0
                } else {
                    match a.cmp(&b) {
                        Ordering::Equal => LongDouble::ZERO,
                        Ordering::Greater => {
                            a.sub(&b);
                            round(na, a, e, false).0
                        }
                        Ordering::Less => {
                            b.sub(&a);
                            round(nb, b, e, false).0
                        }
                    }
                }
            }
        }
    }

    /// Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf` with trailing zeros (and a trailing dot)
    /// removed, and `-0` shown as `0`.
    pub fn to_human_string(self) -> String {
        let (neg, mant, exp) = match self {
            LongDouble::Nan => return "nan".into(),
            LongDouble::Inf { neg } => return if neg { "-inf".into() } else { "inf".into() },
            LongDouble::Finite { neg, mant, exp } => (neg, mant, exp),
        };
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&fixed17(mant, exp));
        // `%.17Lf` always prints a dot, so the trailing zeros are fractional ones.
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }
}

/// `mant * 2^exp` printed as `%.17f` (no sign), rounding half to even like glibc.
fn fixed17(mant: u64, exp: i64) -> String {
    const SCALE: u64 = 100_000_000_000_000_000; // 10^17
    let mut q = Big::from_u64(mant);
    if exp >= 0 {
        q.shl(exp as usize);
        q.mul_small(SCALE);
    } else {
        q.mul_small(SCALE);
        let shift = (-exp) as usize;
        let half = q.bit(shift - 1);
        let rest = q.any_below(shift - 1);
        q.shr(shift);
        if half && (rest || q.bit(0)) {
            q.add_small(1);
        }
    }
    let frac = q.divmod_small(SCALE);
    format!("{}.{:017}", q.to_decimal(), frac)
}

/// Rounds `n * 2^e0` (plus something below its last bit when `sticky`) to the nearest value with a
/// 64-bit significand, ties to even. Returns the value and whether it is inexact.
fn round(neg: bool, mut n: Big, e0: i64, sticky: bool) -> (LongDouble, bool) {
    let len = n.bitlen() as i64;
    if len == 0 {
        return (LongDouble::Finite { neg, mant: 0, exp: MIN_EXP }, sticky);
    }
    let mut e = (e0 + len - 64).max(MIN_EXP);
    let shift = e - e0;
    let (mut mant, inexact) = if shift <= 0 {
        n.shl((-shift) as usize);
        (n.low_u64(), sticky)
    } else {
        let s = shift as usize;
        let half = n.bit(s - 1);
        let rest = sticky || n.any_below(s - 1);
        n.shr(s);
        let mut m = n.low_u128();
        if half && (rest || m & 1 == 1) {
            m += 1;
        }
        if m >> 64 != 0 {
            m >>= 1;
            e += 1;
        }
        (m as u64, half || rest)
    };
    if e > MAX_EXP {
        return (LongDouble::Inf { neg }, true);
    }
    if mant == 0 {
        e = MIN_EXP;
        mant = 0;
    }
    (LongDouble::Finite { neg, mant, exp: e }, inexact)
}

/// What glibc's `strtold` would consume from the start of `s`: the value and the bytes used
/// (0 when no number was found). `erange` reports overflow, or underflow to zero.
struct Parsed {
    value: LongDouble,
    used: usize,
    erange: bool,
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn strtold(s: &[u8]) -> Parsed {
    let none = Parsed { value: LongDouble::ZERO, used: 0, erange: false };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"inf") {
        let used = if starts(b"infinity") { 8 } else { 3 };
        return Parsed { value: LongDouble::Inf { neg }, used: i + used, erange: false };
    }
    if starts(b"nan") {
        let mut used = i + 3;
        // `nan(n-char-sequence)` is consumed whole only when the parenthesis closes.
        if s.get(used) == Some(&b'(') {
            let mut j = used + 1;
            while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
                j += 1;
            }
            if s.get(j) == Some(&b')') {
                used = j + 1;
            }
        }
        return Parsed { value: LongDouble::Nan, used, erange: false };
    }
    if rest.len() >= 3 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' && {
        let c = rest[2];
        c.is_ascii_hexdigit() || (c == b'.' && rest.get(3).is_some_and(|d| d.is_ascii_hexdigit()))
    } {
        return parse_hex(s, i + 2, neg);
    }
    // Decimal: digits with an optional dot, then an optional exponent.
    let mut digits: Vec<u8> = Vec::new();
    let mut dec_exp: i64 = 0;
    let mut any = false;
    let mut j = i;
    while j < s.len() && s[j].is_ascii_digit() {
        push_digit(&mut digits, &mut dec_exp, s[j], false);
        any = true;
        j += 1;
    }
    if j < s.len() && s[j] == b'.' {
        let mut k = j + 1;
        let mut frac_any = false;
        while k < s.len() && s[k].is_ascii_digit() {
            push_digit(&mut digits, &mut dec_exp, s[k], true);
            frac_any = true;
            k += 1;
        }
        if any || frac_any {
            any = true;
            j = k;
        }
    }
    if !any {
        return none;
    }
    let (e, used) = parse_exponent(s, j);
    dec_exp = dec_exp.saturating_add(e);
    let (value, erange) = decimal_to_ld(neg, &digits, dec_exp);
    Parsed { value, used, erange }
}

/// Keeps only significant digits; `dec_exp` tracks the power of ten of the last digit kept.
fn push_digit(digits: &mut Vec<u8>, dec_exp: &mut i64, d: u8, fractional: bool) {
    if digits.is_empty() && d == b'0' {
        if fractional {
            *dec_exp -= 1;
        }
        return;
    }
    digits.push(d - b'0');
    if fractional {
        *dec_exp -= 1;
    }
}

/// An exponent part (`e`/`p` already at `s[j]` for decimal/hex); consumed only when well formed.
fn parse_exponent(s: &[u8], j: usize) -> (i64, usize) {
    parse_exp_marker(s, j, b'e')
}

fn parse_exp_marker(s: &[u8], j: usize, marker: u8) -> (i64, usize) {
    if j >= s.len() || (s[j] | 0x20) != marker {
        return (0, j);
    }
    let mut k = j + 1;
    let mut neg = false;
    if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
        neg = s[k] == b'-';
        k += 1;
    }
    if k >= s.len() || !s[k].is_ascii_digit() {
        return (0, j);
    }
    let mut e: i64 = 0;
    while k < s.len() && s[k].is_ascii_digit() {
        // Far beyond any representable magnitude; saturating keeps the sign meaningful.
        e = (e * 10 + (s[k] - b'0') as i64).min(1_000_000_000);
        k += 1;
    }
    (if neg { -e } else { e }, k)
}

fn parse_hex(s: &[u8], start: usize, neg: bool) -> Parsed {
    let mut n = Big::from_u64(0);
    let mut bin_exp: i64 = 0;
    let mut j = start;
    let mut sticky = false;
    let mut push = |n: &mut Big, v: u8, bin_exp: &mut i64, fractional: bool| {
        // Beyond ~80 significant hex digits only the sticky bit matters.
        if n.bitlen() > 400 {
            if v != 0 {
                sticky = true;
            }
            if !fractional {
                *bin_exp += 4;
            }
        } else {
            n.shl(4);
            n.add_small(v as u64);
            if fractional {
                *bin_exp -= 4;
            }
        }
    };
    while j < s.len() && s[j].is_ascii_hexdigit() {
        push(&mut n, hex_val(s[j]), &mut bin_exp, false);
        j += 1;
    }
    if j < s.len() && s[j] == b'.' {
        j += 1;
        while j < s.len() && s[j].is_ascii_hexdigit() {
            push(&mut n, hex_val(s[j]), &mut bin_exp, true);
            j += 1;
        }
    }
    let (e, used) = parse_exp_marker(s, j, b'p');
    let e0 = bin_exp.saturating_add(e).clamp(-1_000_000, 1_000_000);
    if n.is_zero() {
        return Parsed { value: LongDouble::Finite { neg, mant: 0, exp: MIN_EXP }, used, erange: false };
    }
    let (value, _) = round(neg, n, e0, sticky);
    let erange = match value {
        LongDouble::Inf { .. } => true,
        LongDouble::Finite { mant, .. } => mant == 0,
        LongDouble::Nan => false,
    };
    Parsed { value, used, erange }
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// `digits * 10^dec_exp`, correctly rounded. Returns the value and whether it over- or underflowed.
fn decimal_to_ld(neg: bool, digits: &[u8], mut dec_exp: i64) -> (LongDouble, bool) {
    let mut digits = digits;
    while let Some((&0, rest)) = digits.split_last() {
        digits = rest;
        dec_exp += 1;
    }
    if digits.is_empty() {
        return (LongDouble::Finite { neg, mant: 0, exp: MIN_EXP }, false);
    }
    let nd = digits.len() as i64;
    // The value lies in [10^(nd-1+dec_exp), 10^(nd+dec_exp)); the extremes of the format are about
    // 1.19e4932 and 3.6e-4951.
    if nd - 1 + dec_exp > 4933 {
        return (LongDouble::Inf { neg }, true);
    }
    if nd + dec_exp < -4952 {
        return (LongDouble::Finite { neg, mant: 0, exp: MIN_EXP }, true);
    }
    let mut n = Big::from_u64(0);
    for chunk in digits.chunks(19) {
        let mut v = 0u64;
        for &d in chunk {
            v = v * 10 + d as u64;
        }
        n.mul_small(10u64.pow(chunk.len() as u32));
        n.add_small(v);
    }
    let (value, _) = if dec_exp >= 0 {
        n.mul_pow10(dec_exp as usize);
        round(neg, n, 0, false)
    } else {
        // n / 10^k = n * 2^s / 5^k * 2^-(k+s), with s chosen so the quotient keeps ~68 bits.
        let k = (-dec_exp) as usize;
        let log2_5k = (k as i64 * 2322) / 1000 + 1;
        let s = (68 + log2_5k - n.bitlen() as i64).max(0) as usize;
        n.shl(s);
        let mut sticky = false;
        let mut left = k;
        while left > 0 {
            let step = left.min(27);
            if n.divmod_small(5u64.pow(step as u32)) != 0 {
                sticky = true;
            }
            left -= step;
        }
        round(neg, n, -(k as i64) - s as i64, sticky)
    };
    let erange = match value {
        LongDouble::Inf { .. } => true,
        LongDouble::Finite { mant, .. } => mant == 0,
        LongDouble::Nan => false,
    };
    (value, erange)
}

/// Redis's `string2ld`: the whole argument must be a number `strtold` accepts, without leading
/// space, not NaN, and not out of range. Like the C code, the text ends at an embedded NUL.
pub fn parse_redis(s: &[u8]) -> Option<LongDouble> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    let s = &s[..end];
    if s.first().is_some_and(|&b| is_c_space(b)) {
        return None;
    }
    let p = strtold(s);
    // No number at all leaves strtold's end pointer at the start; Redis then only checks that it
    // points at the terminating NUL, which it does for an argument cut short by a NUL.
    if p.used == 0 {
        return if s.is_empty() { Some(LongDouble::ZERO) } else { None };
    }
    if p.used != s.len() || p.erange || p.value == LongDouble::Nan {
        return None;
    }
    Some(p.value)
}

/// Minimal unsigned bignum, little-endian 64-bit limbs, no trailing zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u64>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bitlen(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(top) => self.0.len() * 64 - top.leading_zeros() as usize,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|l| (l >> (i % 64)) & 1 == 1)
    }

    /// Whether any bit below position `i` is set.
    fn any_below(&self, i: usize) -> bool {
        let full = i / 64;
        if self.0.iter().take(full).any(|&l| l != 0) {
            return true;
        }
        let part = i % 64;
        part > 0 && self.0.get(full).is_some_and(|l| l & ((1u64 << part) - 1) != 0)
    }

    fn low_u64(&self) -> u64 {
        self.0.first().copied().unwrap_or(0)
    }

    fn low_u128(&self) -> u128 {
        let lo = self.0.first().copied().unwrap_or(0) as u128;
        let hi = self.0.get(1).copied().unwrap_or(0) as u128;
        lo | (hi << 64)
    }

    fn shl(&mut self, n: usize) {
        if self.is_zero() || n == 0 {
            return;
        }
        let limbs = n / 64;
        let bits = n % 64;
        if bits > 0 {
            let mut carry = 0u64;
            for l in self.0.iter_mut() {
                let next = *l >> (64 - bits);
                *l = (*l << bits) | carry;
                carry = next;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        if limbs > 0 {
            self.0.splice(0..0, std::iter::repeat(0).take(limbs));
        }
    }

    fn shr(&mut self, n: usize) {
        let limbs = n / 64;
        if limbs >= self.0.len() {
            self.0.clear();
            return;
        }
        self.0.drain(0..limbs);
        let bits = n % 64;
        if bits > 0 {
            let len = self.0.len();
            for i in 0..len {
                let hi = if i + 1 < len { self.0[i + 1] << (64 - bits) } else { 0 };
                self.0[i] = (self.0[i] >> bits) | hi;
            }
        }
        self.trim();
    }

    fn mul_small(&mut self, m: u64) {
        let mut carry = 0u128;
        for l in self.0.iter_mut() {
            let v = *l as u128 * m as u128 + carry;
            *l = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            self.0.push(carry as u64);
        }
        self.trim();
    }

    fn mul_pow10(&mut self, mut k: usize) {
        while k > 0 {
            let step = k.min(19);
            self.mul_small(10u64.pow(step as u32));
            k -= step;
        }
    }

    fn add_small(&mut self, a: u64) {
        let mut carry = a;
        for l in self.0.iter_mut() {
            if carry == 0 {
                break;
            }
            let (v, o) = l.overflowing_add(carry);
            *l = v;
            carry = o as u64;
        }
        if carry != 0 {
            self.0.push(carry);
        }
    }

    fn add(&mut self, other: &Big) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        let mut carry = false;
        for i in 0..self.0.len() {
            let b = other.0.get(i).copied().unwrap_or(0);
            let (v1, o1) = self.0[i].overflowing_add(b);
            let (v2, o2) = v1.overflowing_add(carry as u64);
            self.0[i] = v2;
            carry = o1 || o2;
        }
        if carry {
            self.0.push(1);
        }
    }

    /// `self -= other`; requires `self >= other`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = false;
        for i in 0..self.0.len() {
            let b = other.0.get(i).copied().unwrap_or(0);
            let (v1, o1) = self.0[i].overflowing_sub(b);
            let (v2, o2) = v1.overflowing_sub(borrow as u64);
            self.0[i] = v2;
            borrow = o1 || o2;
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    fn divmod_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for l in self.0.iter_mut().rev() {
            let cur = (rem << 64) | *l as u128;
            *l = (cur / d as u128) as u64;
            rem = cur % d as u128;
        }
        self.trim();
        rem as u64
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        const CHUNK: u64 = 10_000_000_000_000_000_000; // 10^19
        let mut n = self.clone();
        let mut parts = Vec::new();
        while !n.is_zero() {
            parts.push(n.divmod_small(CHUNK));
        }
        let mut s = String::new();
        for (i, p) in parts.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&p.to_string());
            } else {
                s.push_str(&format!("{p:019}"));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> Option<String> {
        let x = parse_redis(a.as_bytes())?;
        let y = parse_redis(b.as_bytes())?;
        let r = x.add(y);
        r.is_finite().then(|| r.to_human_string())
    }

    #[test]
    fn matches_redis_incrbyfloat() {
        assert_eq!(incr("10.5", "0.1").as_deref(), Some("10.6"));
        assert_eq!(incr("0", "0.1").as_deref(), Some("0.1"));
        assert_eq!(incr("5.0e3", "2.0e2").as_deref(), Some("5200"));
        assert_eq!(incr("1", "-1").as_deref(), Some("0"));
        assert_eq!(incr("-0", "-0").as_deref(), Some("0"));
        assert_eq!(incr("0.000003814697265625", "0").as_deref(), Some("0.00000381469726562"));
        assert_eq!(incr("1.1e4932", "1.1e4932"), None);
        assert_eq!(incr("0x10", "0x1p-1").as_deref(), Some("16.5"));
    }

    #[test]
    fn parse_rejects_like_string2ld() {
        for bad in ["", " 1", "1 ", "abc", "nan", "1e", "1e99999", "1e-99999", ".", "0x", "1.5x"] {
            assert!(parse_redis(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(parse_redis(b"inf").is_some());
        assert!(parse_redis(b"1.5\0junk").is_some());
        assert_eq!(parse_redis(b"\0"), Some(LongDouble::ZERO));
    }
}
