//! Redis's rand.c: the 48-bit linear congruential generator behind math.random, ported exactly so
//! scripts draw the same numbers as on Redis whatever the libc. Redis keeps one generator for the
//! whole process, never reseeded except by math.randomseed: the sequence runs on across scripts.

const N: u32 = 16;
const MASK: u32 = (1 << N) - 1;
const X0: u32 = 0x330E;
const X1: u32 = 0xABCD;
const X2: u32 = 0x1234;
const A0: u32 = 0xE66D;
const A1: u32 = 0xDEEC;
const A2: u32 = 0x5;
const C: u32 = 0xB;

/// REDIS_LRAND48_MAX
pub const LRAND48_MAX: i32 = i32::MAX;

#[derive(Debug, Clone)]
pub struct Rand48 {
    x: [u32; 3],
    a: [u32; 3],
    c: u32,
}

impl Default for Rand48 {
    fn default() -> Self {
        Rand48 { x: [X0, X1, X2], a: [A0, A1, A2], c: C }
    }
}

fn low(x: u32) -> u32 {
    x & MASK
}

fn high(x: u32) -> u32 {
    low(x >> N)
}

/// MUL: a 16x16-bit product split into two 16-bit halves (the C keeps it in an int32_t, which
/// wraps the same way as u32 here since only the low 32 bits are used).
fn mul(x: u32, y: u32) -> [u32; 2] {
    let l = x.wrapping_mul(y);
    [low(l), high(l)]
}

fn carry(x: u32, y: u32) -> u32 {
    u32::from(x.wrapping_add(y) > MASK)
}

impl Rand48 {
    /// redisLrand48: a number in [0, 2^31).
    pub fn lrand48(&mut self) -> i32 {
        self.next();
        ((self.x[2] << (N - 1)).wrapping_add(self.x[1] >> 1)) as i32
    }

    /// redisSrand48
    pub fn srand48(&mut self, seed: i32) {
        let seed = seed as u32;
        self.x = [X0, low(seed), high(seed)];
        self.a = [A0, A1, A2];
        self.c = C;
    }

    fn next(&mut self) {
        let (a, x) = (self.a, self.x);
        let mut p = mul(a[0], x[0]);
        // ADDEQU(p[0], c, carry0)
        let carry0 = carry(p[0], self.c);
        p[0] = low(p[0].wrapping_add(self.c));
        let carry1 = carry(p[1], carry0);
        p[1] = low(p[1].wrapping_add(carry0));
        let q = mul(a[0], x[1]);
        let carry0 = carry(p[1], q[0]);
        p[1] = low(p[1].wrapping_add(q[0]));
        let r = mul(a[1], x[0]);
        self.x[2] = low(carry0
            .wrapping_add(carry1)
            .wrapping_add(carry(p[1], r[0]))
            .wrapping_add(q[1])
            .wrapping_add(r[1])
            .wrapping_add(a[0].wrapping_mul(x[2]))
            .wrapping_add(a[1].wrapping_mul(x[1]))
            .wrapping_add(a[2].wrapping_mul(x[0])));
        self.x[1] = low(p[1].wrapping_add(r[0]));
        self.x[0] = low(p[0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same LCG as POSIX lrand48 (a = 0x5DEECE66D, c = 0xB), so after srand48(s) the
    /// sequence must be libc's: checked against glibc through the libc crate.
    #[test]
    fn matches_libc_lrand48() {
        for seed in [0i32, 1, 42, -7, i32::MAX, i32::MIN] {
            let mut ours = Rand48::default();
            ours.srand48(seed);
            // SAFETY: srand48/lrand48 only touch libc's own generator state; this test is the
            // only user of it in the process.
            unsafe { libc::srand48(seed as libc::c_long) };
            for _ in 0..1000 {
                let theirs = unsafe { libc::lrand48() } as i32;
                assert_eq!(ours.lrand48(), theirs, "seed {seed}");
            }
        }
    }

    #[test]
    fn default_state_is_redis_initial_seed() {
        // Redis's initial x is {X0, X1, X2}: the same as srand48(0x1234ABCD).
        let mut fresh = Rand48::default();
        let mut seeded = Rand48::default();
        seeded.srand48(0x1234ABCD);
        for _ in 0..10 {
            assert_eq!(fresh.lrand48(), seeded.lrand48());
        }
    }
}
