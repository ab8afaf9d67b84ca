//! A minimal unsigned big integer (little-endian u32 limbs, no high zero limbs), enough for
//! exact decimal and binary conversions.

use std::cmp::Ordering;

#[derive(Clone, Debug, Default)]
pub(super) struct Big(Vec<u32>);

impl Big {
    pub(super) fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    pub(super) fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// self = self * m + a
    pub(super) fn mul_add_small(&mut self, m: u32, a: u32) {
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

    pub(super) fn mul_pow5(&mut self, mut k: u64) {
        const FIVE_13: u32 = 1_220_703_125; // largest power of 5 in a u32
        while k >= 13 {
            self.mul_add_small(FIVE_13, 0);
            k -= 13;
        }
        if k > 0 {
            self.mul_add_small(5u32.pow(k as u32), 0);
        }
    }

    pub(super) fn bit_len(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    pub(super) fn shl(&mut self, bits: u64) {
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

    pub(super) fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.0.iter_mut().rev() {
            let next = *limb & 1;
            *limb = (*limb >> 1) | (carry << 31);
            carry = next;
        }
        self.trim();
    }

    pub(super) fn cmp(&self, other: &Big) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// self -= other; requires self >= other.
    pub(super) fn sub_assign(&mut self, other: &Big) {
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
    pub(super) fn div_small_quotient(&mut self, divisor: &Big, qbits: u32) -> u128 {
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
    pub(super) fn top128(&self) -> (u128, u64, bool) {
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
    pub(super) fn div_rem_small(&mut self, d: u32) -> u32 {
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
    pub(super) fn to_decimal(&self) -> Vec<u8> {
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
