//! INFO latencystats and LATENCY HISTOGRAM against Debian's real Redis 7.0.
//!
//! Latencies differ between two servers, so each server is checked against the samples it
//! recorded itself: after every call, INFO commandstats' `usec` grows by exactly the µs the call
//! took, and that is what Redis records (µs · 1000 ns). From those samples the model below, written
//! after hdr_histogram.c and Redis's fillCommandCDF, gives every percentile and bucket exactly. The
//! real server passing shows the model is Redis's; ours passing shows we are. The rest of both
//! replies (names, labels, formats, RESP types) is compared byte for byte with the numbers masked.

use std::collections::BTreeMap;

use crate::common::{show_bytes, Reply};
use crate::common::{Client, Server};

/// Odd percentiles on purpose: p0 is a bucket's lowest value, 0.1 rounds to rank 0 (read as 1),
/// and 34/60/76 fall where rounding the rank to nearest and rounding it up disagree.
const PERCENTILES: &str = "0 0.1 34 50 60 76 99.9 100";

/// What each server runs: fast commands, and sleeps that land in far-apart buckets (0.6 s lies
/// past LATENCY HISTOGRAM's last power-of-two level, 2^29 ns).
const WORKLOAD: &[&[&str]] = &[
    &["SET", "k", "v"],
    &["GET", "k"],
    &["SET", "k", "v2"],
    &["DEBUG", "SLEEP", "0"],
    &["GET", "k"],
    &["DEBUG", "SLEEP", "0.002"],
    &["GET", "nosuch"],
    &["DEBUG", "SLEEP", "0.6"],
    &["SET", "k", "v3"],
];

/// hdr_histogram.c's bucket for a value under hdr_init(1, 1e9, 2): 256 sub-buckets, so a value
/// needing b > 8 bits shares a bucket of 2^(b-8) values. Returns its lowest and highest value.
fn hdr_bucket(ns: u64) -> (u64, u64) {
    let bits = 64 - (ns | 255).leading_zeros();
    let shift = bits - 8;
    let lowest = (ns >> shift) << shift;
    (lowest, lowest + (1u64 << shift) - 1)
}

/// What Redis records for a call of `usec` µs (updateCommandLatencyHistogram's clamp).
fn recorded_ns(usec: u64) -> u64 {
    (usec * 1000).clamp(1, 1_000_000_000)
}

/// hdr_value_at_percentile: the sample at rank max(1, (int)(p/100·n + 0.5)), as its bucket's
/// highest value (lowest for p = 0).
fn model_percentile(samples_ns: &[u64], p: f64) -> u64 {
    let mut sorted = samples_ns.to_vec();
    sorted.sort_unstable();
    let rank = ((((p.min(100.0)) / 100.0) * sorted.len() as f64 + 0.5) as usize).max(1);
    let (lowest, highest) = hdr_bucket(sorted[rank - 1]);
    if p == 0.0 {
        lowest
    } else {
        highest
    }
}

/// fillCommandCDF over hdr_iter_log_init(h, 1024, 2): per level 1024·2ⁿ ns the samples whose
/// bucket starts at or below it, keyed by the level's bucket end in µs; past the last bucket
/// (23 buckets: the last starts at 255·2^22) every sample, keyed by that bucket's end.
fn model_cdf(samples_ns: &[u64]) -> Vec<(i64, i64)> {
    let last_bucket = 255u64 << 22;
    let total = samples_ns.len() as u64;
    let (mut level, mut previous, mut out) = (1024u64, 0u64, Vec::new());
    while previous < total {
        let (end, cumulative) = if level <= last_bucket {
            (hdr_bucket(level).1, samples_ns.iter().filter(|&&s| hdr_bucket(s).0 <= level).count() as u64)
        } else {
            (hdr_bucket(last_bucket).1, total)
        };
        if cumulative > previous {
            out.push(((end / 1000) as i64, cumulative as i64));
        }
        previous = cumulative;
        if level > last_bucket {
            break;
        }
        level *= 2;
    }
    out
}

/// `%f` then trimDoubleString, as Redis labels a percentile.
fn label(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn info_fields(c: &mut Client, section: &str) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(&c.cmd(&["INFO", section])).into_owned();
    text.lines()
        .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A command's `usec` in INFO commandstats (0 before its first call).
fn command_usec(c: &mut Client, name: &str) -> u64 {
    let fields = info_fields(c, "commandstats");
    let Some(stat) = fields.get(&format!("cmdstat_{name}")) else { return 0 };
    let usec = stat.split(',').find_map(|kv| kv.strip_prefix("usec=")).unwrap_or_else(|| panic!("{stat}"));
    usec.parse().unwrap_or_else(|_| panic!("{stat}"))
}

/// Runs the workload, returning each command's samples in ns as the server must have recorded them.
fn run_workload(c: &mut Client) -> BTreeMap<String, Vec<u64>> {
    let mut samples: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for args in WORKLOAD {
        let name = args[0].to_lowercase();
        let before = command_usec(c, &name);
        let reply = c.cmd(args);
        assert!(!reply.starts_with(b"-"), "{args:?}: {}", show_bytes(&reply, usize::MAX));
        let took = command_usec(c, &name) - before;
        samples.entry(name).or_default().push(recorded_ns(took));
    }
    samples
}

/// A reply's structure: RESP types and strings kept, integers masked, and runs of like elements
/// (a histogram's buckets, whose number follows the server's latencies) shown once.
fn shape(v: &Reply) -> String {
    match v {
        Reply::Int(_) => ":N".to_string(),
        Reply::Array(_) | Reply::Set(_) | Reply::Push(_) | Reply::Map(_) => {
            let mut parts: Vec<String> = v.items().iter().map(shape).collect();
            parts.dedup();
            // The type byte tells a RESP3 map from RESP2's flat array.
            format!("{}[{}]", v.encode()[0] as char, parts.join(" "))
        }
        other => format!("{other:?}"),
    }
}

/// An INFO line with every value after `=` masked.
fn mask_values(line: &str) -> String {
    line.split(',')
        .map(|kv| kv.split_once('=').map_or(kv.to_string(), |(k, _)| format!("{k}=N")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Checks one server's INFO latencystats and LATENCY HISTOGRAM against the model of its own
/// samples; returns both replies masked, to compare the two servers' shapes.
fn check_server(who: &str, server: &Server) -> Vec<String> {
    let mut c = server.client();
    assert_eq!(c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", PERCENTILES]), b"+OK\r\n");
    let samples = run_workload(&mut c);
    let percentiles: Vec<f64> = PERCENTILES.split(' ').map(|p| p.parse().expect("percentile")).collect();
    let mut failures = Vec::new();

    let info = info_fields(&mut c, "latencystats");
    for (name, ns) in &samples {
        let want: Vec<String> = percentiles
            .iter()
            .map(|&p| format!("p{}={:.3}", label(p), model_percentile(ns, p) as f64 / 1000.0))
            .collect();
        let key = format!("latency_percentiles_usec_{name}");
        let got = info.get(&key).cloned().unwrap_or_default();
        if got != want.join(",") {
            failures.push(format!("{key} for samples {ns:?} ns\n    want {}\n    got  {got}", want.join(",")));
        }
    }

    let mut shapes = Vec::new();
    for resp in ["2", "3"] {
        c.cmd(&["HELLO", resp]);
        let mut args = vec!["LATENCY", "HISTOGRAM"];
        args.extend(samples.keys().map(String::as_str));
        let reply = c.cmd(&args);
        let parsed = Reply::parse(&reply);
        shapes.push(shape(&parsed));
        let by_name: BTreeMap<String, &Reply> = parsed.pairs().into_iter().map(|(k, v)| (k.text(), v)).collect();
        for (name, ns) in &samples {
            let Some(entry) = by_name.get(name) else {
                failures
                    .push(format!("RESP{resp} LATENCY HISTOGRAM has no {name}: {}", show_bytes(&reply, usize::MAX)));
                continue;
            };
            let fields: BTreeMap<String, &Reply> = entry.pairs().into_iter().map(|(k, v)| (k.text(), v)).collect();
            let calls = fields.get("calls").map(|c| c.int());
            let buckets: Vec<(i64, i64)> = fields
                .get("histogram_usec")
                .map(|h| h.pairs().iter().map(|(k, v)| (k.int(), v.int())).collect())
                .unwrap_or_default();
            let want = model_cdf(ns);
            if calls != Some(ns.len() as i64) || buckets != want {
                failures.push(format!(
                    "RESP{resp} LATENCY HISTOGRAM {name} for samples {ns:?} ns\n    want calls={} {want:?}\n    got  calls={calls:?} {buckets:?}",
                    ns.len()
                ));
            }
            // Redis's own invariants: power-of-two levels from 1024 ns, growing cumulative counts.
            assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{who} {name}: {buckets:?}");
        }
    }
    c.cmd(&["HELLO", "2"]);

    // Tracking off: calls still count, the histograms no longer grow.
    assert_eq!(c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]), b"+OK\r\n");
    c.cmd(&["GET", "k"]);
    let reply = c.cmd(&["LATENCY", "HISTOGRAM", "get"]);
    let gets = samples["get"].len() as i64;
    let parsed = Reply::parse(&reply);
    let calls = parsed.pairs().first().map(|(_, entry)| entry.get("calls").map(Reply::int));
    if calls != Some(Some(gets)) {
        failures
            .push(format!("with latency-tracking no, GET's histogram still grew: {}", show_bytes(&reply, usize::MAX)));
    }
    assert_eq!(c.cmd(&["CONFIG", "SET", "latency-tracking", "yes"]), b"+OK\r\n");

    // INFO's lines as a set (Redis lists them in its command table's hash order).
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "latencystats"])).into_owned();
    let mut lines: Vec<String> = info
        .lines()
        .filter(|l| samples.keys().any(|n| l.starts_with(&format!("latency_percentiles_usec_{n}:"))))
        .map(mask_values)
        .collect();
    lines.sort();
    shapes.extend(lines);

    assert!(
        failures.is_empty(),
        "{who}: {} difference(s) from the hdr model:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    shapes
}

#[test]
fn latency_percentiles_and_histogram_follow_redis_hdr_histogram() {
    let args = ["--enable-debug-command", "yes"];
    let real = Server::start_real(&args);
    let ours = Server::start(&args);
    let real_shapes = check_server("real Redis", &real);
    let our_shapes = check_server("ours", &ours);
    assert_eq!(our_shapes.len(), real_shapes.len(), "ours {our_shapes:#?}\nreal {real_shapes:#?}");
    for (o, r) in our_shapes.iter().zip(&real_shapes) {
        assert_eq!(o, r, "shape of the reply or line differs from real Redis");
    }
}
