use std::collections::BTreeMap;

use super::*;
use crate::types::listpack;

fn pairs(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn explicit(ms: u64, seq: u64) -> Option<XaddId> {
    Some(XaddId { id: StreamId::new(ms, seq), seq_given: true })
}

fn ids(s: &Stream, rev: bool) -> Vec<StreamId> {
    s.range(StreamId::MIN, StreamId::MAX, rev).map(|e| e.id).collect()
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

const SMALL: NodeLimits = NodeLimits { max_bytes: 0, max_entries: 3 };

#[test]
fn node_bytes_are_t_stream_c_layout() {
    let mut s = Stream::new();
    s.append(&pairs(&["a", "1", "b", "x"]), explicit(5, 2), 0, NodeLimits::default()).unwrap();
    s.append(&pairs(&["a", "2", "b", "y"]), explicit(7, 0), 0, NodeLimits::default()).unwrap();
    s.append(&pairs(&["c", "300"]), explicit(7, 1), 0, NodeLimits::default()).unwrap();
    let (master, lp) = s.nodes().next().unwrap();
    assert_eq!(master, StreamId::new(5, 2));
    let elements: Vec<Vec<u8>> = listpack::decode(lp).unwrap().iter().map(|e| e.to_bytes()).collect();
    let expected = pairs(&[
        "3", "0", "2", "a", "b", "0", // master entry
        "2", "0", "0", "1", "x", "5", // same fields, 5-2
        "2", "2", "-2", "2", "y", "5", // same fields, 7-0 as deltas 2, -2
        "0", "2", "-1", "1", "c", "300", "6", // own fields, 7-1
    ]);
    assert_eq!(elements, expected);
    assert_eq!(
        (s.len(), s.first_id(), s.last_id(), s.entries_added()),
        (3, StreamId::new(5, 2), StreamId::new(7, 1), 3)
    );
    assert_eq!(ids(&s, true), vec![StreamId::new(7, 1), StreamId::new(7, 0), StreamId::new(5, 2)]);
    let last = s.range(StreamId::MIN, StreamId::MAX, true).next().unwrap();
    assert_eq!(last.fields, vec![(b"c".to_vec(), b"300".to_vec())]);
}

#[test]
fn append_refuses_ids_not_greater_and_generates_sequences() {
    let mut s = Stream::new();
    assert_eq!(s.append(&pairs(&["f", "v"]), explicit(0, 0), 0, SMALL), Err(AppendError::NotGreater));
    s.append(&pairs(&["f", "v"]), explicit(5, 5), 0, SMALL).unwrap();
    assert_eq!(s.append(&pairs(&["f", "v"]), explicit(5, 5), 0, SMALL), Err(AppendError::NotGreater));
    let star = Some(XaddId { id: StreamId::new(5, 0), seq_given: false });
    assert_eq!(s.append(&pairs(&["f", "v"]), star, 0, SMALL), Ok(StreamId::new(5, 6)));
    let star = Some(XaddId { id: StreamId::new(4, 0), seq_given: false });
    assert_eq!(s.append(&pairs(&["f", "v"]), star, 0, SMALL), Err(AppendError::NotGreater));
    // Generated from the clock, never going back.
    assert_eq!(s.append(&pairs(&["f", "v"]), None, 3, SMALL), Ok(StreamId::new(5, 7)));
    assert_eq!(s.append(&pairs(&["f", "v"]), None, 9, SMALL), Ok(StreamId::new(9, 0)));
    s.append(&pairs(&["f", "v"]), explicit(10, u64::MAX), 0, SMALL).unwrap();
    let star = Some(XaddId { id: StreamId::new(10, 0), seq_given: false });
    assert_eq!(s.append(&pairs(&["f", "v"]), star, 0, SMALL), Err(AppendError::TooLarge));
    assert_eq!(s.append(&pairs(&["f", "v"]), None, 0, SMALL), Ok(StreamId::new(11, 0)));
}

#[test]
fn nodes_split_at_the_limits() {
    let mut s = Stream::new();
    for i in 1..=7 {
        s.append(&pairs(&["f", "v"]), explicit(i, 0), 0, SMALL).unwrap();
    }
    let masters: Vec<u64> = s.nodes().map(|(k, _)| k.ms).collect();
    assert_eq!(masters, vec![1, 4, 7]);
    // A node is closed when its bytes plus the new elements reach max_bytes.
    let mut s = Stream::new();
    let by_bytes = NodeLimits { max_bytes: 40, max_entries: 0 };
    for i in 1..=4 {
        s.append(&pairs(&["field", "value"]), explicit(i, 0), 0, by_bytes).unwrap();
    }
    for (_, lp) in s.nodes() {
        assert!(lp.len() < 40 + 10, "{}", lp.len());
    }
    assert!(s.node_count() > 1);
}

#[test]
fn delete_flags_entries_and_drops_empty_nodes() {
    let mut s = Stream::new();
    for i in 1..=6 {
        s.append(&pairs(&["f", "v"]), explicit(i, 0), 0, SMALL).unwrap();
    }
    assert_eq!(s.delete_ids(&[StreamId::new(2, 0), StreamId::new(2, 0), StreamId::new(9, 0)]), 1);
    assert_eq!(s.max_deleted_entry_id(), StreamId::new(2, 0));
    assert_eq!(s.node_count(), 2);
    assert_eq!(s.delete_ids(&[StreamId::new(1, 0), StreamId::new(3, 0)]), 2);
    assert_eq!(s.node_count(), 1, "the first node had no live entry left");
    assert_eq!(s.first_id(), StreamId::new(4, 0));
    assert_eq!(s.max_deleted_entry_id(), StreamId::new(3, 0));
    s.delete_ids(&[StreamId::new(5, 0)]);
    let (_, lp) = s.nodes().next().unwrap();
    let m = node::master(lp).unwrap();
    assert_eq!((m.live, m.deleted), (2, 1));
    assert_eq!(ids(&s, false), vec![StreamId::new(4, 0), StreamId::new(6, 0)]);
    assert_eq!(s.edge_id(true, false), StreamId::new(4, 0));
    assert!(s.contains(StreamId::new(6, 0)) && !s.contains(StreamId::new(5, 0)));
    s.delete_ids(&[StreamId::new(4, 0), StreamId::new(6, 0)]);
    assert_eq!((s.len(), s.first_id(), s.node_count()), (0, StreamId::MIN, 0));
    assert_eq!(s.last_id(), StreamId::new(6, 0));
    assert_eq!(s.edge_id(true, true), StreamId::MAX);
}

#[test]
fn trims_like_stream_trim() {
    let build = || {
        let mut s = Stream::new();
        for i in 1..=10 {
            s.append(&pairs(&["f", "v"]), explicit(i, 0), 0, SMALL).unwrap();
        }
        s
    };
    let maxlen = |n, approx, limit| TrimArgs { strategy: TrimStrategy::MaxLen(n), approx, limit };
    let mut s = build();
    assert_eq!(s.trim(maxlen(5, false, 0)), 5);
    assert_eq!(s.first_id(), StreamId::new(6, 0));
    assert_eq!(s.len(), 5);
    // `~` removes whole nodes only: nodes are [1,2,3] [4,5,6] [7,8,9] [10].
    let mut s = build();
    assert_eq!(s.trim(maxlen(5, true, 0)), 3);
    assert_eq!(s.first_id(), StreamId::new(4, 0));
    // LIMIT stops before a node that would exceed it.
    let mut s = build();
    assert_eq!(s.trim(maxlen(0, true, 5)), 3);
    let mut s = build();
    let minid = |id, approx| TrimArgs { strategy: TrimStrategy::MinId(StreamId::new(id, 0)), approx, limit: 0 };
    assert_eq!(s.trim(minid(5, false)), 4);
    assert_eq!(s.first_id(), StreamId::new(5, 0));
    let mut s = build();
    assert_eq!(s.trim(minid(5, true)), 3);
    assert_eq!(s.trim(minid(5, true)), 0);
    assert_eq!(s.trim(minid(100, false)), 7);
    assert_eq!((s.len(), s.first_id(), s.node_count()), (0, StreamId::MIN, 0));
}

#[test]
fn lag_and_distance_follow_7_0() {
    let mut s = Stream::new();
    let g = ConsumerGroup::new(StreamId::MIN, Some(0));
    assert_eq!(s.group_lag(&g), Some(0));
    for i in 1..=5 {
        s.append(&pairs(&["f", "v"]), explicit(i, 0), 0, SMALL).unwrap();
    }
    assert_eq!(s.group_lag(&g), Some(5));
    assert_eq!(s.estimate_distance_from_first_ever_entry(StreamId::new(5, 0)), Some(5));
    assert_eq!(s.estimate_distance_from_first_ever_entry(StreamId::new(1, 0)), Some(1));
    assert_eq!(s.estimate_distance_from_first_ever_entry(StreamId::new(0, 5)), Some(0));
    assert_eq!(s.estimate_distance_from_first_ever_entry(StreamId::new(3, 0)), None);
    assert_eq!(s.estimate_distance_from_first_ever_entry(StreamId::new(6, 0)), None);
    s.delete_ids(&[StreamId::new(3, 0)]);
    assert!(s.range_has_tombstones(Some(StreamId::new(1, 0)), None));
    assert!(!s.range_has_tombstones(Some(StreamId::new(4, 0)), None));
    let invalid = ConsumerGroup::new(StreamId::new(2, 0), None);
    assert_eq!(s.group_lag(&invalid), None);
    let at_end = ConsumerGroup::new(StreamId::new(5, 0), None);
    assert_eq!(s.group_lag(&at_end), Some(0));
    let stale = ConsumerGroup::new(StreamId::new(1, 0), Some(1));
    assert_eq!(s.group_lag(&stale), None, "a tombstone lies ahead");
}

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_operations_match_a_simple_model() {
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let limits = NodeLimits { max_bytes: [0, 60, 200][(seed % 3) as usize], max_entries: (seed % 5) as usize };
        let mut s = Stream::new();
        let mut model: BTreeMap<StreamId, Fields> = BTreeMap::new();
        let mut last = StreamId::MIN;
        for step in 0..400 {
            match rng.below(10) {
                0..=4 => {
                    let n = 1 + rng.below(3) as usize;
                    let mut flat = Vec::new();
                    for k in 0..n {
                        let field = if rng.below(3) == 0 { format!("g{k}") } else { format!("f{k}") };
                        let value = if rng.below(2) == 0 {
                            rng.below(100000).to_string()
                        } else {
                            format!("v{}", rng.below(50))
                        };
                        flat.push(field.into_bytes());
                        flat.push(value.into_bytes());
                    }
                    let id = match rng.below(3) {
                        0 => None,
                        1 => Some(XaddId { id: StreamId::new(last.ms + rng.below(3), 0), seq_given: false }),
                        _ => explicit(last.ms + rng.below(2), rng.below(4)),
                    };
                    let now = last.ms + rng.below(2);
                    match s.append(&flat, id, now, limits) {
                        Ok(new) => {
                            assert!(new > last);
                            last = new;
                            model.insert(new, flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect());
                        }
                        Err(e) => assert_eq!(e, AppendError::NotGreater, "seed {seed} step {step}"),
                    }
                }
                5 | 6 => {
                    let keys: Vec<StreamId> = model.keys().copied().collect();
                    if let Some(&id) = keys.get(rng.below(keys.len() as u64 + 1) as usize) {
                        assert_eq!(s.delete_ids(&[id]), 1);
                        model.remove(&id);
                    }
                }
                7 => {
                    let approx = rng.below(2) == 0;
                    let strategy = if rng.below(2) == 0 {
                        TrimStrategy::MaxLen(rng.below(model.len() as u64 + 2))
                    } else {
                        TrimStrategy::MinId(StreamId::new(rng.below(last.ms + 2), rng.below(3)))
                    };
                    let before = model.len() as u64;
                    let removed = s.trim(TrimArgs { strategy, approx, limit: 0 });
                    let kept: Vec<StreamId> = ids(&s, false);
                    // What remains is a suffix of the model.
                    assert!(removed <= before);
                    let expect_kept: Vec<StreamId> = model.keys().copied().skip(removed as usize).collect();
                    assert_eq!(kept, expect_kept, "seed {seed} step {step}");
                    if !approx {
                        let exact: Vec<StreamId> = match strategy {
                            TrimStrategy::MaxLen(n) => {
                                model.keys().copied().skip(model.len().saturating_sub(n as usize)).collect()
                            }
                            TrimStrategy::MinId(min) => model.keys().copied().filter(|k| *k >= min).collect(),
                        };
                        assert_eq!(kept, exact, "seed {seed} step {step}");
                    }
                    model = model.into_iter().skip(removed as usize).collect();
                }
                _ => {
                    let a = StreamId::new(rng.below(last.ms + 2), rng.below(4));
                    let b = StreamId::new(rng.below(last.ms + 2), rng.below(4));
                    let rev = rng.below(2) == 0;
                    let got: Vec<Entry> = s.range(a, b, rev).collect();
                    let mut want: Vec<Entry> = if a <= b {
                        model.range(a..=b).map(|(id, f)| Entry { id: *id, fields: f.clone() }).collect()
                    } else {
                        Vec::new()
                    };
                    if rev {
                        want.reverse();
                    }
                    assert_eq!(got, want, "seed {seed} step {step}");
                }
            }
            assert_eq!(s.len(), model.len() as u64, "seed {seed} step {step}");
            assert_eq!(s.first_id(), model.keys().next().copied().unwrap_or(StreamId::MIN), "seed {seed} step {step}");
            assert_eq!(s.last_id(), last);
            let mut live = 0;
            for (master_id, lp) in s.nodes() {
                assert!(listpack::decode(lp).is_ok());
                let m = node::master(lp).unwrap();
                assert_eq!(node::validate(lp, master_id).map(|c| c.live as i64), Ok(m.live));
                live += m.live;
                assert!(master_id <= node::last_id(lp, master_id).unwrap());
            }
            assert_eq!(live as u64, s.len());
        }
        let all: Vec<Entry> = s.range(StreamId::MIN, StreamId::MAX, false).collect();
        let want: Vec<Entry> = model.iter().map(|(id, f)| Entry { id: *id, fields: f.clone() }).collect();
        assert_eq!(all, want);
    }
}

#[test]
fn validation_refuses_malformed_nodes() {
    let mut s = Stream::new();
    for i in 1..=3 {
        s.append(&pairs(&["f", "v"]), explicit(i, 0), 0, NodeLimits::default()).unwrap();
    }
    s.delete_ids(&[StreamId::new(2, 0)]);
    let (master, lp) = s.nodes().next().map(|(k, v)| (k, v.to_vec())).unwrap();
    assert_eq!(node::validate(&lp, master), Ok(node::Checked { live: 2, deleted: 1, last_id: StreamId::new(3, 0) }));
    let rebuilt = |elements: &[&str]| {
        let mut b = listpack::Builder::new();
        for e in elements {
            b.push(e.as_bytes());
        }
        b.finish()
    };
    let good = ["1", "0", "1", "f", "0", "2", "0", "0", "v", "4"];
    assert!(node::validate(&rebuilt(&good), StreamId::new(1, 0)).is_ok());
    let err = |elements: &[&str]| node::validate(&rebuilt(elements), StreamId::new(1, 0)).unwrap_err();
    assert!(err(&[]).contains("Empty listpack"));
    assert!(err(&["1", "0", "1", "f", "0", "2", "1", "0", "v", "4"]).contains("not the master ID"));
    assert!(err(&["1", "0", "1", "f", "0", "2", "0", "0", "v", "5"]).contains("lp-count"));
    assert!(err(&["1", "0", "1", "f", "7", "2", "0", "0", "v", "4"]).contains("does not end with 0"));
    assert!(err(&["2", "0", "1", "f", "0", "2", "0", "0", "v", "4"]).contains("missing"));
    assert!(err(&["1", "0", "1", "f", "0", "2", "0", "0", "v", "4", "9"]).contains("after the last entry"));
    assert!(err(&["1", "0", "1", "f", "0", "x", "0", "0", "v", "4"]).contains("not an integer"));
    let two = ["2", "0", "1", "f", "0", "2", "0", "0", "v", "4", "2", "0", "0", "w", "4"];
    assert!(err(&two).contains("not increasing"));
    let flagged = ["2", "0", "1", "f", "0", "2", "0", "0", "v", "4", "3", "1", "0", "w", "4"];
    assert!(err(&flagged).contains("counts do not match"));
    // A node whose entries are all tombstones exists in Redis (a MINID trim up to a tombstone).
    let all_deleted = ["0", "2", "1", "f", "0", "3", "0", "0", "v", "4", "3", "1", "0", "w", "4"];
    assert!(node::validate(&rebuilt(&all_deleted), StreamId::new(1, 0)).is_ok());
}

#[test]
fn a_minid_trim_up_to_a_tombstone_leaves_a_node_of_tombstones() {
    let mut s = Stream::new();
    for i in 1..=3 {
        s.append(&pairs(&["f", "v"]), explicit(i, 0), 0, NodeLimits::default()).unwrap();
    }
    s.append(&pairs(&["f", "v"]), explicit(4, 0), 0, NodeLimits { max_bytes: 0, max_entries: 3 }).unwrap();
    s.delete_ids(&[StreamId::new(3, 0)]);
    let removed = s.trim(TrimArgs { strategy: TrimStrategy::MinId(StreamId::new(3, 0)), approx: false, limit: 0 });
    assert_eq!(removed, 2);
    assert_eq!(s.node_count(), 2);
    assert_eq!((s.len(), s.first_id()), (1, StreamId::new(4, 0)));
    assert_eq!(ids(&s, true), vec![StreamId::new(4, 0)]);
    assert_eq!(s.trim(TrimArgs { strategy: TrimStrategy::MaxLen(0), approx: false, limit: 0 }), 1);
    assert_eq!((s.len(), s.node_count()), (0, 0));
}
