//! A command's latency histogram as Redis 7.0 keeps it: an HdrHistogram of nanoseconds from 1 ns
//! to 1 s with 2 significant digits, read the way Redis reads it (`hdr_value_at_percentile` for
//! INFO latencystats, a base-2 logarithmic iteration from 1024 ns for LATENCY HISTOGRAM).
//!
//! The `hdrhistogram` crate keeps the counts; its bucket layout is the C library's. Its readings
//! are not Redis's: `value_at_quantile` rounds the wanted count up where the C library rounds it
//! to nearest (with 2 samples, p60 is the first sample in Redis, the second in the crate), and its
//! log iterator reports other bucket ends, so both readings are written here after the C code.

use hdrhistogram::Histogram as Hdr;

/// Redis's LATENCY_HISTOGRAM_MIN_VALUE, _MAX_VALUE and _PRECISION.
const LOWEST_NS: u64 = 1;
const HIGHEST_NS: u64 = 1_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 2;
/// Sub-buckets per bucket for 2 significant digits: the power of two covering 2·10².
const SUB_BUCKETS: u64 = 256;
/// LATENCY HISTOGRAM's first reporting level, in ns; each next one doubles it.
const FIRST_CDF_LEVEL_NS: u64 = 1024;

/// Allocated on the first sample, as Redis does, so the ~240 commands never run cost nothing.
#[derive(Clone, Default)]
pub struct Histogram {
    hdr: Option<Box<Hdr<u64>>>,
}

impl Histogram {
    /// Records one latency in nanoseconds, clamped into 1 ns ..= 1 s like Redis's
    /// updateCommandLatencyHistogram.
    pub fn record(&mut self, ns: u64) {
        let ns = ns.clamp(LOWEST_NS, HIGHEST_NS);
        let hdr = match &mut self.hdr {
            Some(hdr) => hdr,
            None => match Hdr::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_DIGITS) {
                Ok(hdr) => self.hdr.insert(Box::new(hdr)),
                // The bounds are constants the crate accepts (tested below); nothing to record into.
                Err(_) => return,
            },
        };
        hdr.saturating_record(ns);
    }

    /// How many samples were recorded.
    pub fn total(&self) -> u64 {
        self.hdr.as_ref().map_or(0, |h| h.len())
    }

    /// C's `hdr_value_at_percentile`, in ns: the sample at rank round(p% · total) (at least the
    /// first), as the highest value of its bucket, or the lowest for p = 0. 0 when empty.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let Some(hdr) = &self.hdr else { return 0 };
        let requested = if percentile < 100.0 { percentile } else { 100.0 };
        // `(int64_t)(x + 0.5)`: truncation, so round half up for the non-negative x we get.
        let rank = (((requested / 100.0) * hdr.len() as f64) + 0.5) as u64;
        let rank = rank.max(1);
        let mut seen = 0;
        for v in hdr.iter_recorded() {
            seen += v.count_at_value();
            if seen >= rank {
                let value = v.value_iterated_to();
                return if percentile == 0.0 { hdr.lowest_equivalent(value) } else { hdr.highest_equivalent(value) };
            }
        }
        0
    }

    /// LATENCY HISTOGRAM's cumulative distribution, as Redis's fillCommandCDF reads
    /// `hdr_iter_log_init(&iter, h, 1024, 2)`: for each level 1024·2ⁿ ns, the samples in buckets
    /// starting at or below it, keyed by the level's highest equivalent value in whole µs. A level
    /// past the last bucket reports the last bucket's end with every sample. Only levels that add
    /// samples are listed, and the walk stops at the first level that holds them all.
    pub fn cdf(&self) -> Vec<(u64, u64)> {
        let Some(hdr) = &self.hdr else { return Vec::new() };
        let total = hdr.len();
        // The lowest value of the histogram's last bucket (bucket_count - 1, sub-bucket 255).
        let last_bucket_value = (SUB_BUCKETS - 1) << (u32::from(hdr.buckets()).saturating_sub(1));
        let recorded: Vec<(u64, u64)> =
            hdr.iter_recorded().map(|v| (hdr.lowest_equivalent(v.value_iterated_to()), v.count_at_value())).collect();
        let mut out = Vec::new();
        let (mut level, mut previous) = (FIRST_CDF_LEVEL_NS, 0);
        while previous < total {
            let (end, cumulative) = if level <= last_bucket_value {
                // Levels are powers of two ≥ the sub-bucket count: each starts its own bucket.
                let count = recorded.iter().filter(|(lowest, _)| *lowest <= level).map(|(_, c)| c).sum();
                (hdr.highest_equivalent(level), count)
            } else {
                (hdr.highest_equivalent(last_bucket_value), total)
            };
            if cumulative > previous {
                out.push((end / 1000, cumulative));
            }
            previous = cumulative;
            if level > last_bucket_value {
                break;
            }
            level *= 2;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(samples: &[u64]) -> Histogram {
        let mut h = Histogram::default();
        samples.iter().for_each(|&ns| h.record(ns));
        h
    }

    #[test]
    fn layout_is_redis_hdr_init_1_to_1e9_with_2_digits() {
        let h = histogram(&[1]);
        let hdr = h.hdr.as_ref().expect("allocated on first record");
        // hdr_calculate_bucket_config: 23 buckets of 256 sub-buckets, counts_len 24·128.
        assert_eq!(hdr.buckets(), 23);
        assert_eq!(hdr.distinct_values(), 3072);
        assert_eq!(Histogram::default().total(), 0);
        assert_eq!(Histogram::default().value_at_percentile(50.0), 0);
        assert!(Histogram::default().cdf().is_empty());
    }

    // Expected values worked by hand from hdr_histogram.c (bucket = bits(v|255) - 8, bucket size
    // 2^bucket): 1500 → [1496, 1503], 2047 → [2040, 2047], 1 000 000 → [999424, 1003519].
    #[test]
    fn percentiles_follow_hdr_value_at_percentile() {
        let h = histogram(&[1500, 2047, 1_000_000]);
        assert_eq!(h.total(), 3);
        assert_eq!(h.value_at_percentile(0.0), 1496);
        assert_eq!(h.value_at_percentile(0.1), 1503);
        assert_eq!(h.value_at_percentile(33.0), 1503);
        // 0.34·3 + 0.5 = 1.52 → rank 1 (rounding up would say 2047).
        assert_eq!(h.value_at_percentile(34.0), 1503);
        assert_eq!(h.value_at_percentile(50.0), 2047);
        assert_eq!(h.value_at_percentile(83.0), 2047);
        assert_eq!(h.value_at_percentile(84.0), 1_003_519);
        assert_eq!(h.value_at_percentile(99.9), 1_003_519);
        assert_eq!(h.value_at_percentile(100.0), 1_003_519);
        assert_eq!(h.value_at_percentile(250.0), 1_003_519);
    }

    // What Redis 7.0.15 printed for two DEBUG SLEEPs of 97 µs and 606215 µs
    // (p0=96.768,p34=97.279,p60=97.279,p76=608174.079; histogram 132 → 1, 1073741 → 2).
    #[test]
    fn matches_redis_7_0_15_for_two_samples() {
        let h = histogram(&[97_000, 606_215_000]);
        assert_eq!(h.value_at_percentile(0.0), 96_768);
        assert_eq!(h.value_at_percentile(34.0), 97_279);
        assert_eq!(h.value_at_percentile(60.0), 97_279);
        assert_eq!(h.value_at_percentile(74.0), 97_279);
        assert_eq!(h.value_at_percentile(76.0), 608_174_079);
        assert_eq!(h.cdf(), vec![(132, 1), (1_073_741, 2)]);
    }

    #[test]
    fn cdf_follows_the_log_iterator() {
        // 1500 and 2047 start at or below 2048 (whose bucket ends at 2063 ns); 1 ms starts below
        // 2^20, whose bucket ends at 1056767 ns.
        assert_eq!(histogram(&[1500, 2047, 1_000_000]).cdf(), vec![(2, 2), (1056, 3)]);
        // Everything up to 1024's bucket (1024..=1031 ns) is the first level: 1 µs.
        assert_eq!(histogram(&[1, 1000, 1031]).cdf(), vec![(1, 3)]);
        // 1032 ns starts the next bucket, so it waits for the 2048 level.
        assert_eq!(histogram(&[1032]).cdf(), vec![(2, 1)]);
        // 26 µs as Redis showed it for one SET: 32768's bucket ends at 33023 ns.
        assert_eq!(histogram(&[26_000]).cdf(), vec![(33, 1)]);
        assert_eq!(histogram(&[4000, 4000, 5000]).cdf(), vec![(4, 2), (8, 3)]);
    }

    #[test]
    fn records_are_clamped_like_update_command_latency_histogram() {
        let h = histogram(&[0, 5_000_000_000]);
        assert_eq!(h.value_at_percentile(0.0), 1);
        assert_eq!(h.value_at_percentile(50.0), 1);
        // 1e9 sits in [998244352, 1002438655].
        assert_eq!(h.value_at_percentile(100.0), 1_002_438_655);
        assert_eq!(h.cdf(), vec![(1, 1), (1_073_741, 2)]);
    }
}
