//! A small log-linear latency histogram (16 sub-buckets per power of two, ~6% precision), for
//! INFO latencystats without a dependency.

const SUB: usize = 16;
const BUCKETS: usize = 64 * SUB;

#[derive(Clone, Default)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

fn index(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros() as usize;
    let shift = msb - 4;
    let mantissa = ((v >> shift) as usize) & (SUB - 1);
    ((msb - 3) * SUB + mantissa).min(BUCKETS - 1)
}

/// The largest value that falls in bucket `i`.
fn upper(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let msb = i / SUB + 3;
    let mantissa = (i % SUB) as u64;
    let shift = msb - 4;
    (((SUB as u64) | mantissa) << shift) + (1u64 << shift) - 1
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        self.counts[index(v)] += 1;
        self.total += 1;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn percentile(&self, p: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let target = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return upper(i) as f64;
            }
        }
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_bounded() {
        let mut last = 0;
        for v in [0u64, 1, 15, 16, 17, 100, 1000, 123456, u32::MAX as u64] {
            let i = index(v);
            assert!(i >= last);
            last = i;
            assert!(upper(i) >= v, "{v}");
            assert!(upper(i) as f64 <= v as f64 * 1.07 + 1.0, "{v}");
        }
        let mut h = Histogram::default();
        for v in 1..=100 {
            h.record(v);
        }
        assert!((h.percentile(50.0) - 50.0).abs() <= 4.0);
    }
}
