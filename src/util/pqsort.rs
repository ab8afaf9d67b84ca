//! Redis's partial quicksort (pqsort.c, Bentley & McIlroy's qsort that skips the partitions
//! outside a range of ranks): GEORADIUS ... COUNT sorts only the first COUNT results with it. Its
//! order of equal elements is part of the reply, so it is ported step for step rather than
//! replaced by `select_nth_unstable`.

use std::cmp::Ordering;

/// Sorts `v` enough that the elements of ranks `lrange..=rrange` are in place and in order.
pub fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: usize, rrange: usize) {
    partial(v, 0, v.len(), cmp, lrange, rrange);
}

/// The median of three positions, as med3 picks it.
fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

/// Swaps the `n` elements from `a` with the `n` from `b`, pairwise (vecswap).
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the subarray `start..start + len` holds none of the ranks `l..=r`.
fn outside(start: usize, len: usize, l: usize, r: usize) -> bool {
    (l < start && r < start) || (l >= start + len && r >= start + len)
}

/// `_pqsort` on `v[a..a + n]`, with element indexes in place of C's byte pointers.
fn partial<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: &impl Fn(&T, &T) -> Ordering, l: usize, r: usize) {
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        // pc and pd may step below a + 1 (to a): kept as signed positions.
        let (mut pc, mut pd) = ((a + n - 1) as isize, (a + n - 1) as isize);
        loop {
            while pb as isize <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb as isize <= pc {
                let c = cmp(&v[pc as usize], &v[a]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pc as usize, pd as usize);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb as isize > pc {
                break;
            }
            v.swap(pb, pc as usize);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let s = (pa - a).min(pb - pa);
        vecswap(v, a, pb - s, s);
        let s = ((pd - pc) as usize).min(pn - pd as usize - 1);
        vecswap(v, pb, pn - s, s);
        let left = pb - pa;
        if left > 1 && !outside(a, left, l, r) {
            partial(v, a, left, cmp, l, r);
        }
        let right = (pd - pc) as usize;
        if right <= 1 {
            return;
        }
        // The right part is iterated rather than recursed into, as in C.
        a = pn - right;
        n = right;
        if outside(a, n, l, r) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requested_ranks_are_sorted() {
        let mut seed = 12345u64;
        for len in [0usize, 1, 5, 7, 8, 30, 41, 100, 500] {
            let orig: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 40) as u32 % 50
                })
                .collect();
            let mut sorted = orig.clone();
            sorted.sort();
            for count in [1usize, 3, 10, len] {
                if count == 0 || count > len {
                    continue;
                }
                let mut v = orig.clone();
                pqsort(&mut v, &|a: &u32, b: &u32| a.cmp(b), 0, count - 1);
                assert_eq!(&v[..count], &sorted[..count], "len {len} count {count}");
            }
        }
    }
}
