//! A seeded random stream workload (issue 18) compared with Debian's real Redis 7.0: XADD, XDEL
//! and XTRIM mixed with the consumer-group commands (XGROUP, XREADGROUP, XREAD, XACK, XCLAIM,
//! XAUTOCLAIM, XPENDING, XINFO) over a few keys, with 4-entry stream nodes, compared reply by
//! reply and by XINFO STREAM FULL at the end; and the same kind of workload on a master with a
//! real and our replica attached, whose rebuilt groups must be equal.
//!
//! Times are compared within a tolerance, as in streams_diff_groups. IDs are explicit and only
//! grow; the IDs the workload acknowledges and claims are mostly ones real Redis just delivered.
//! Proved against real Redis on both sides with `REDIS_RS_DIFF_OURS=real` (see differential_support).

use crate::common::{show_bytes, Reply};
use crate::differential_support::*;
use crate::replication_support::{start_replica, wait_in_sync, Impl, Node};
use crate::streams_diff_groups::{check_xinfo, check_xpending, stream_times};

/// Mostly streams; `str` (a string now and then) and `nogroup` (never created) for the errors.
const STREAM_KEYS: &[&str] = &["s1", "s2", "s1", "s2", "s3", "s1", "s2", "s3", "s1", "str"];
const GROUPS: &[&str] = &["g1", "g2", "g1", "g2", "g1", "nogroup"];
const CONSUMERS: &[&str] = &["c1", "c2", "c3", "c4"];
const SMALL_COUNTS: &[&str] = &["1", "2", "3", "5", "10", "1", "2", "3", "5", "10", "0", "-1"];
const MIN_IDLES: &[&str] = &["0", "0", "0", "0", "1000000", "100000000"];

/// The workload's stream IDs only grow (an ID a little below the newest, now and then, so some
/// XADDs are refused): `next` is the newest millisecond part handed out.
struct Ids {
    next: u64,
    /// (key, group, ID) that real Redis delivered lately (to a group's consumer, or in a claim):
    /// most likely still pending.
    delivered: Vec<(String, String, String)>,
}

impl Ids {
    fn fresh(&mut self, rng: &mut Rng) -> String {
        self.next += 1 + rng.below(2) as u64;
        match rng.below(12) {
            0 => format!("{}-0", self.next.saturating_sub(3)),
            1 => format!("{}", self.next),
            2 => format!("{}-{}", self.next, 1 + rng.below(2)),
            _ => format!("{}-0", self.next),
        }
    }

    /// IDs delivered lately in one group of one stream (three quarters of the time; an ID among
    /// the newest in `key` and `group` otherwise).
    fn pending_somewhere(&self, rng: &mut Rng, key: String, group: String, n: usize) -> (String, String, Vec<String>) {
        if self.delivered.is_empty() || rng.below(4) == 0 {
            let ids = (0..n).map(|_| format!("{}-0", self.next.saturating_sub(rng.below(12) as u64))).collect();
            return (key, group, ids);
        }
        let (k, g, _) = self.delivered[rng.below(self.delivered.len())].clone();
        let same: Vec<&String> =
            self.delivered.iter().filter(|(k2, g2, _)| *k2 == k && *g2 == g).map(|t| &t.2).collect();
        let ids = (0..n).map(|_| same[rng.below(same.len())].clone()).collect();
        (k, g, ids)
    }

    /// Remembers what a workload command delivered (XREADGROUP on one stream, XCLAIM, XAUTOCLAIM).
    fn note_reply(&mut self, args: &[&str], reply: &[u8]) {
        match args[0] {
            "XCLAIM" | "XAUTOCLAIM" => self.note_delivered(args[1], args[2], reply),
            "XREADGROUP" if args[args.len() - 3] == "STREAMS" => {
                self.note_delivered(args[args.len() - 2], args[2], reply)
            }
            _ => {}
        }
    }

    /// Remembers the stream IDs in a reply (of XREADGROUP on one stream, XCLAIM, XAUTOCLAIM).
    fn note_delivered(&mut self, key: &str, group: &str, reply: &[u8]) {
        fn walk(v: &Reply, out: &mut Vec<String>) {
            match v {
                Reply::Bulk(b) => {
                    let t = String::from_utf8_lossy(b);
                    let is_id = t.split_once('-').is_some_and(|(ms, seq)| {
                        !ms.is_empty() && !seq.is_empty() && (ms.to_owned() + seq).bytes().all(|c| c.is_ascii_digit())
                    });
                    if is_id && t != "0-0" {
                        out.push(t.into_owned());
                    }
                }
                Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => items.iter().for_each(|x| walk(x, out)),
                Reply::Map(kv) => kv.iter().for_each(|(_, x)| walk(x, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(&Reply::parse(reply), &mut found);
        self.delivered.extend(found.into_iter().map(|id| (key.to_string(), group.to_string(), id)));
        let excess = self.delivered.len().saturating_sub(40);
        self.delivered.drain(..excess);
    }

    /// An ID that may or may not be in a stream (deleted, trimmed, not yet added), or a bad one.
    fn any(&self, rng: &mut Rng) -> String {
        match rng.below(20) {
            0 => "bad-id".into(),
            1 => "0".into(),
            2 => "-".into(),
            3 => "+".into(),
            _ => format!("{}-{}", rng.below(self.next as usize + 3), rng.below(3)),
        }
    }
}

fn random_stream_command(rng: &mut Rng, ids: &mut Ids) -> Vec<String> {
    let key = rng.pick(STREAM_KEYS).to_string();
    let group = rng.pick(GROUPS).to_string();
    let consumer = rng.pick(CONSUMERS).to_string();
    let mut c: Vec<String> = Vec::new();
    match rng.below(24) {
        0..=4 => {
            c.extend(["XADD".into(), key]);
            match rng.below(8) {
                0 => c.extend(["MAXLEN".into(), rng.pick(&["0", "3", "8"]).into()]),
                1 => c.extend(["MAXLEN".into(), "~".into(), "4".into()]),
                2 => c.push("NOMKSTREAM".into()),
                _ => {}
            }
            c.push(ids.fresh(rng));
            for i in 0..1 + rng.below(3) {
                c.extend([format!("f{i}"), rng.pick(&["v", "1", "", "-7", "x y"]).into()]);
            }
        }
        5 => {
            c.extend(["XDEL".into(), key]);
            for _ in 0..1 + rng.below(3) {
                c.push(ids.any(rng));
            }
        }
        6 => match rng.below(3) {
            0 => c.extend(["XTRIM".into(), key, "MAXLEN".into(), rng.pick(&["0", "2", "5", "~", "-1"]).into()]),
            1 => c.extend(["XTRIM".into(), key, "MINID".into(), ids.any(rng)]),
            _ => c.extend(["XTRIM".into(), key, "MAXLEN".into(), "~".into(), "4".into(), "LIMIT".into(), "8".into()]),
        },
        7 | 8 if rng.below(3) != 0 => {
            let group = rng.pick(&["g1", "g2"]).to_string();
            let start = rng.pick(&["$", "0", "0", "mid"]);
            let start = if start == "mid" { ids.any(rng) } else { start.to_string() };
            c.extend(["XGROUP".into(), "CREATE".into(), key, group, start]);
            if rng.below(3) == 0 {
                c.push("MKSTREAM".into());
            }
            if rng.below(4) == 0 {
                c.extend(["ENTRIESREAD".into(), rng.pick(&["0", "2", "-1", "100"]).into()]);
            }
        }
        8 => c.extend(["XGROUP".into(), "SETID".into(), key, group, rng.pick(&["$", "0", "3-0"]).into()]),
        9 => match rng.below(6) {
            0 => c.extend(["XGROUP".into(), "DESTROY".into(), key, group]),
            1 | 2 => c.extend(["XGROUP".into(), "CREATECONSUMER".into(), key, group, consumer]),
            _ => c.extend(["XGROUP".into(), "DELCONSUMER".into(), key, group, consumer]),
        },
        10..=13 => {
            c.extend(["XREADGROUP".into(), "GROUP".into(), group, consumer]);
            if rng.below(2) == 0 {
                c.extend(["COUNT".into(), rng.pick(SMALL_COUNTS).into()]);
            }
            if rng.below(6) == 0 {
                c.push("NOACK".into());
            }
            c.push("STREAMS".into());
            let second = rng.below(4) == 0;
            c.push(key);
            if second {
                c.push(rng.pick(STREAM_KEYS).into());
            }
            for _ in 0..1 + second as usize {
                c.push(if rng.below(4) == 0 { ids.any(rng) } else { ">".into() });
            }
        }
        14 => {
            c.extend(["XREAD".into(), "COUNT".into(), rng.pick(SMALL_COUNTS).into(), "STREAMS".into(), key]);
            c.push(ids.any(rng));
        }
        15 => {
            let n = 1 + rng.below(3);
            let (key, group, pending) = ids.pending_somewhere(rng, key, group, n);
            c.extend(["XACK".into(), key, group]);
            c.extend(pending);
            if rng.below(5) == 0 {
                c.push(ids.any(rng));
            }
        }
        16..=18 => {
            let n = 1 + rng.below(3);
            let (key, group, pending) = ids.pending_somewhere(rng, key, group, n);
            c.extend(["XCLAIM".into(), key, group, consumer, rng.pick(MIN_IDLES).into()]);
            c.extend(pending);
            if rng.below(5) == 0 {
                c.push(ids.any(rng));
            }
            match rng.below(7) {
                0 => c.push("JUSTID".into()),
                1 => c.push("FORCE".into()),
                2 => c.extend(["IDLE".into(), "5000000".into()]),
                3 => c.extend(["RETRYCOUNT".into(), rng.pick(&["0", "5", "-1"]).into()]),
                4 => c.extend(["LASTID".into(), ids.any(rng)]),
                5 => c.extend(["TIME".into(), "1000".into(), "JUSTID".into()]),
                _ => {}
            }
        }
        19 | 20 => {
            c.extend(["XAUTOCLAIM".into(), key, group, consumer, rng.pick(MIN_IDLES).into(), ids.any(rng)]);
            if rng.below(2) == 0 {
                c.extend(["COUNT".into(), rng.pick(SMALL_COUNTS).into()]);
            }
            if rng.below(3) == 0 {
                c.push("JUSTID".into());
            }
        }
        21 => match rng.below(4) {
            0 => c.extend(["XPENDING".into(), key, group]),
            1 => c.extend(["XINFO".into(), "GROUPS".into(), key]),
            2 => c.extend(["XINFO".into(), "STREAM".into(), key]),
            _ => c.extend(["XRANGE".into(), key, "-".into(), "+".into()]),
        },
        22 => {
            c.extend(["XPENDING".into(), key, group]);
            if rng.below(3) == 0 {
                c.extend(["IDLE".into(), rng.pick(MIN_IDLES).into()]);
            }
            c.extend(["-".into(), "+".into(), rng.pick(SMALL_COUNTS).into()]);
            if rng.below(2) == 0 {
                c.push(consumer);
            }
        }
        _ => match rng.below(12) {
            0 => c.extend(["DEL".into(), key]),
            1 => c.extend(["SET".into(), "str".into(), "v".into()]),
            _ => c.extend(["XINFO".into(), "CONSUMERS".into(), key, group]),
        },
    }
    c
}

/// Runs `ops` seeded random commands, reply by reply, then compares every stream's XINFO STREAM
/// FULL. Stops early once ours has drifted (the first mismatches are the ones to read).
fn random_workload(p: &mut Pair, seed: u64, ops: usize) {
    p.check(&["CONFIG", "SET", "stream-node-max-entries", "4"]);
    let mut rng = Rng(seed);
    let mut ids = Ids { next: 0, delivered: Vec::new() };
    for _ in 0..ops {
        let cmd = random_stream_command(&mut rng, &mut ids);
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let r = match (args[0], args.get(1).copied()) {
            ("XPENDING", _) => check_xpending(p, &args),
            ("XINFO", Some("CONSUMERS")) => check_xinfo(p, &args),
            _ => p.check(&args),
        };
        ids.note_reply(&args, &r);
        if p.mismatches.len() >= 10 {
            p.mismatches.push(format!("(seed {seed}: stopped after 10 mismatches)"));
            return;
        }
    }
    for key in STREAM_KEYS {
        check_xinfo(p, &["XINFO", "STREAM", key, "FULL"]);
        p.check(&["XINFO", "GROUPS", key]);
    }
    p.check(&["CONFIG", "SET", "stream-node-max-entries", "100"]);
}

#[test]
fn random_stream_workloads_as_real_redis() {
    let duo = Duo::start(&[]);
    for seed in [1, 2, 3] {
        duo.in_both_protocols(|p| random_workload(p, seed, 1500));
    }
}

/// The state the propagated commands rebuild on a replica: a master runs a seeded workload with
/// two replicas attached, real Redis and ours, and once both are in sync their XINFO STREAM FULL,
/// XINFO GROUPS and XINFO CONSUMERS of every stream must be equal (seen and idle times within the
/// tolerance). Replicas are compared with each other, not with the master: in Redis 7.0 a
/// replica's entries-read and lag legitimately differ from its master's.
fn replicas_rebuild_groups(master_imp: Impl, seed: u64) {
    let ours = if ours_is_real() { Impl::Real } else { Impl::Ours };
    let node_size = ["--stream-node-max-entries", "4"];
    let master = Node::start("master", master_imp, &node_size);
    let real_replica = start_replica("real replica", Impl::Real, &master, &node_size);
    let our_replica = start_replica("our replica", ours, &master, &node_size);
    wait_in_sync(&master, &real_replica);
    wait_in_sync(&master, &our_replica);
    let mut m = master.client();
    let mut rng = Rng(seed);
    let mut ids = Ids { next: 0, delivered: Vec::new() };
    for _ in 0..800 {
        let cmd = random_stream_command(&mut rng, &mut ids);
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let reply = m.cmd(&args);
        ids.note_reply(&args, &reply);
    }
    wait_in_sync(&master, &real_replica);
    wait_in_sync(&master, &our_replica);
    let (mut real, mut ours_c) = (real_replica.client(), our_replica.client());
    let mut diffs = Vec::new();
    let mut compared = 0;
    for key in STREAM_KEYS {
        let mut queries = vec![vec!["XINFO", "STREAM", key, "FULL"], vec!["XINFO", "GROUPS", key]];
        queries.extend(GROUPS.iter().map(|g| vec!["XINFO", "CONSUMERS", key, g]));
        for args in queries {
            let (rb, ob) = (real.cmd(&args), ours_c.cmd(&args));
            let ((rm, rt), (om, ot)) = (extract_times(&rb, stream_times), extract_times(&ob, stream_times));
            let close = rt.len() == ot.len() && rt.iter().zip(&ot).all(|(a, b)| (a - b).abs() <= TIME_TOLERANCE_MS);
            if rm != om || !close {
                diffs.push(format!(
                    "{args:?}\n      real replica: {}\n      our replica:  {}",
                    show_bytes(&rb, usize::MAX),
                    show_bytes(&ob, usize::MAX)
                ));
            }
            compared += !rb.starts_with(b"-") as usize;
        }
    }
    assert!(compared > 5, "the workload left almost no stream with groups (seed {seed})");
    assert!(
        diffs.is_empty(),
        "{} difference(s) between replicas of a {} master:\n  {}",
        diffs.len(),
        master_imp.label(),
        diffs.join("\n  ")
    );
}

#[test]
fn replicas_rebuild_stream_groups_as_real_redis() {
    // With REDIS_RS_DIFF_OURS=real every node is real Redis.
    replicas_rebuild_groups(Impl::Real, 11);
    replicas_rebuild_groups(if ours_is_real() { Impl::Real } else { Impl::Ours }, 12);
}
