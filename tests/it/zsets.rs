//! Sorted sets beyond single replies: whole ZSCAN iterations of a big set, ranks over 100k members
//! against a model, and side effects compared with real Redis 7.0 (keyspace notifications, dirty
//! counts, keyspace hits and misses, WATCH).

use std::collections::{BTreeMap, HashMap};

use crate::common::{show_bytes, Reply};
use crate::common::{Client, Server};
use crate::differential_support::*;

/// Sends many commands in one write and reads all the replies (for loading data quickly).
fn pipeline(c: &mut Client, cmds: &[Vec<String>]) -> Vec<Vec<u8>> {
    let mut batch = Vec::new();
    for cmd in cmds {
        let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        batch.extend(crate::common::encode(&a));
    }
    c.send_raw(&batch);
    cmds.iter().map(|_| c.read_reply()).collect()
}

fn strings(b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    fn go(v: &Reply, out: &mut Vec<String>) {
        match v {
            Reply::Bulk(_) | Reply::Int(_) | Reply::Double(_) => out.push(v.text()),
            v if v.is_aggregate() => v.items().iter().for_each(|i| go(i, out)),
            _ => {}
        }
    }
    go(&Reply::parse(b), &mut out);
    out
}

fn int(b: &[u8]) -> i64 {
    match Reply::parse(b) {
        Reply::Int(n) => n,
        other => panic!("not an integer reply: {other:?}"),
    }
}

/// A whole ZSCAN iteration: member -> score text, and how many calls it took.
fn zscan_all(
    c: &mut Client,
    key: &str,
    extra: &[&str],
    mut between: impl FnMut(&mut Client),
) -> (HashMap<String, String>, usize) {
    let mut seen = HashMap::new();
    let mut cursor = "0".to_string();
    for calls in 1..100_000 {
        let mut args = vec!["ZSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let reply = c.cmd(&args);
        let Reply::Array(items) = Reply::parse(&reply) else {
            panic!("ZSCAN reply {}", show_bytes(&reply, usize::MAX))
        };
        let Reply::Bulk(next) = &items[0] else { panic!("ZSCAN cursor {}", show_bytes(&reply, usize::MAX)) };
        let mut flat = Vec::new();
        if let Reply::Array(found) = &items[1] {
            for f in found {
                if let Reply::Bulk(s) = f {
                    flat.push(String::from_utf8_lossy(s).into_owned());
                }
            }
        }
        assert_eq!(flat.len() % 2, 0, "members come with scores");
        for pair in flat.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            return (seen, calls);
        }
        between(c);
    }
    panic!("ZSCAN {key} did not terminate");
}

#[test]
fn zscan_iterates_a_big_set_completely() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let n = 20_000;
    let cmds: Vec<Vec<String>> = (0..n / 500)
        .map(|chunk| {
            let mut cmd = vec!["ZADD".to_string(), "big".to_string()];
            for i in chunk * 500..(chunk + 1) * 500 {
                cmd.push(format!("{}.5", i % 1000));
                cmd.push(format!("m{i}"));
            }
            cmd
        })
        .collect();
    pipeline(&mut c, &cmds);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "big"]), "$8\r\nskiplist\r\n");
    let (seen, calls) = zscan_all(&mut c, "big", &["COUNT", "100"], |_| {});
    assert_eq!(seen.len(), n);
    assert!(calls > n / 200, "a skiplist is scanned in steps, not at once ({calls} calls)");
    for i in 0..n {
        assert_eq!(seen.get(&format!("m{i}")).map(String::as_str), Some(format!("{}.5", i % 1000).as_str()), "m{i}");
    }
    // MATCH filters members (and their scores) out.
    let (matched, _) = zscan_all(&mut c, "big", &["MATCH", "m1?", "COUNT", "1000"], |_| {});
    let mut names: Vec<&String> = matched.keys().collect();
    names.sort();
    assert_eq!(names, (10..20).map(|i| format!("m{i}")).collect::<Vec<_>>().iter().collect::<Vec<_>>());
    // Members present for the whole iteration are returned even while others come and go.
    let mut round = 0;
    let (seen, _) = zscan_all(&mut c, "big", &["COUNT", "50"], |c| {
        c.cmd(&["ZREM", "big", &format!("m{}", n - 1 - round)]);
        c.cmd(&["ZADD", "big", "7", &format!("new{round}")]);
        round += 1;
    });
    for i in 0..n - round {
        assert!(seen.contains_key(&format!("m{i}")), "m{i} missed during churn");
    }
    // A listpack answers everything in one call with cursor 0.
    c.cmd(&["ZADD", "small", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        c.cmd(&["ZSCAN", "small", "0", "COUNT", "1"]),
        b"*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n".to_vec()
    );
}

/// The model: (score, member) in Redis's order.
fn model_order(model: &BTreeMap<String, i64>) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = model.iter().map(|(m, &s)| (s, m.clone())).collect();
    v.sort();
    v
}

#[test]
fn ranks_over_100k_members_agree_with_a_model() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let mut rng = fastrand::Rng::with_seed(5);
    let mut model: BTreeMap<String, i64> = BTreeMap::new();
    let n = 100_000;
    let cmds: Vec<Vec<String>> = (0..n / 1000)
        .map(|chunk| {
            let mut cmd = vec!["ZADD".to_string(), "r".to_string()];
            for i in chunk * 1000..(chunk + 1) * 1000 {
                // Few distinct scores: ties are ordered by member.
                let score = rng.i64(-5000..5000);
                let m = format!("k{:06}", (i * 7919) % n);
                model.insert(m.clone(), score);
                cmd.push(score.to_string());
                cmd.push(m);
            }
            cmd
        })
        .collect();
    pipeline(&mut c, &cmds);
    let check = |c: &mut Client, model: &BTreeMap<String, i64>, rng: &mut fastrand::Rng| {
        let order = model_order(model);
        assert_eq!(int(&c.cmd(&["ZCARD", "r"])), order.len() as i64);
        let probes: Vec<usize> = (0..400).map(|_| rng.usize(..order.len())).collect();
        let rank_cmds: Vec<Vec<String>> = probes
            .iter()
            .flat_map(|&r| {
                let m = order[r].1.clone();
                [vec!["ZRANK".into(), "r".into(), m.clone()], vec!["ZREVRANK".into(), "r".into(), m]]
            })
            .collect();
        let replies = pipeline(c, &rank_cmds);
        for (k, &r) in probes.iter().enumerate() {
            assert_eq!(int(&replies[2 * k]), r as i64, "ZRANK of {}", order[r].1);
            assert_eq!(int(&replies[2 * k + 1]), (order.len() - 1 - r) as i64, "ZREVRANK of {}", order[r].1);
        }
        for &r in probes.iter().take(60) {
            let got = strings(&c.cmd(&["ZRANGE", "r", &r.to_string(), &(r + 9).to_string(), "WITHSCORES"]));
            let want: Vec<String> =
                order[r..(r + 10).min(order.len())].iter().flat_map(|(s, m)| [m.clone(), s.to_string()]).collect();
            assert_eq!(got, want, "ZRANGE {r} {}", r + 9);
            let back = strings(&c.cmd(&["ZRANGE", "r", &r.to_string(), &(r + 4).to_string(), "REV"]));
            let want: Vec<String> = order.iter().rev().skip(r).take(5).map(|(_, m)| m.clone()).collect();
            assert_eq!(back, want, "ZRANGE {r} REV");
        }
        for _ in 0..60 {
            let lo = rng.i64(-5100..5100);
            let hi = lo + rng.i64(0..50);
            let count = order.iter().filter(|(s, _)| (lo..=hi).contains(s)).count();
            assert_eq!(int(&c.cmd(&["ZCOUNT", "r", &lo.to_string(), &hi.to_string()])), count as i64);
            let offset = rng.usize(..5);
            let got = strings(&c.cmd(&[
                "ZRANGE",
                "r",
                &format!("({lo}"),
                &hi.to_string(),
                "BYSCORE",
                "LIMIT",
                &offset.to_string(),
                "3",
            ]));
            let want: Vec<String> = order
                .iter()
                .filter(|(s, _)| *s > lo && *s <= hi)
                .skip(offset)
                .take(3)
                .map(|(_, m)| m.clone())
                .collect();
            assert_eq!(got, want, "BYSCORE ({lo} {hi} LIMIT {offset} 3");
        }
    };
    check(&mut c, &model, &mut rng);
    // Remove a fifth at random, move some scores, cut ranges: ranks still agree.
    let doomed: Vec<String> = model.keys().filter(|_| rng.u8(..5) == 0).cloned().collect();
    let cmds: Vec<Vec<String>> = doomed
        .chunks(500)
        .map(|ch| {
            std::iter::once("ZREM".to_string())
                .chain(std::iter::once("r".to_string()))
                .chain(ch.iter().cloned())
                .collect()
        })
        .collect();
    pipeline(&mut c, &cmds);
    for m in &doomed {
        model.remove(m);
    }
    let movers: Vec<String> = model.keys().filter(|_| rng.u8(..20) == 0).cloned().collect();
    let cmds: Vec<Vec<String>> = movers
        .iter()
        .map(|m| {
            let by = rng.i64(-300..300);
            *model.get_mut(m).unwrap() += by;
            vec!["ZINCRBY".into(), "r".into(), by.to_string(), m.clone()]
        })
        .collect();
    pipeline(&mut c, &cmds);
    let order = model_order(&model);
    assert_eq!(int(&c.cmd(&["ZREMRANGEBYRANK", "r", "1000", "1999"])), 1000);
    for (_, m) in &order[1000..2000] {
        model.remove(m);
    }
    check(&mut c, &model, &mut rng);
    let popped = strings(&c.cmd(&["ZPOPMAX", "r", "3"]));
    let order = model_order(&model);
    let want: Vec<String> = order.iter().rev().take(3).flat_map(|(s, m)| [m.clone(), s.to_string()]).collect();
    assert_eq!(popped, want);
}

/// Reads pub/sub messages until the marker message, returning (channel, payload) pairs.
fn messages_until_marker(c: &mut Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        let v = strings(&c.read_reply());
        // pmessage: pattern, channel, payload
        let (chan, payload) = (v[2].clone(), v[3].clone());
        if chan == "__keyevent@0__:marker" {
            return out;
        }
        out.push((chan, payload));
    }
}

/// Per command: its reply, the keyspace notifications it published, and what it added to the
/// dirty counter and to keyspace hits and misses — on both servers.
#[test]
fn notifications_dirty_counts_and_stats_match_redis() {
    let duo = Duo::start(&["--notify-keyspace-events", "KEA"]);
    let mut p = duo.pair();
    // A key of another type, made before subscribing (string commands publish no events here).
    p.check(&["SET", "str", "x"]);
    p.check(&["ZADD", "one", "1", "only"]);
    let mut sub_o = duo.ours.client();
    let mut sub_r = duo.real.client();
    for sub in [&mut sub_o, &mut sub_r] {
        sub.cmd(&["PSUBSCRIBE", "__key*@0__:*"]);
    }
    let script: &[&[&str]] = &[
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "5", "a", "6", "d"],
        &["ZADD", "z", "XX", "1", "nope"],
        &["ZADD", "z", "NX", "9", "a"],
        &["ZADD", "z", "INCR", "2", "a"],
        &["ZADD", "z", "INCR", "0", "a"],
        &["ZADD", "z", "GT", "1", "a"],
        &["ZINCRBY", "z", "1.5", "b"],
        &["ZINCRBY", "z", "1", "new"],
        &["ZADD", "inf", "inf", "x"],
        &["ZINCRBY", "inf", "-inf", "x"],
        &["ZREM", "z", "nope"],
        &["ZREM", "z", "a", "nope"],
        &["ZSCORE", "z", "b"],
        &["ZSCORE", "missing", "b"],
        &["ZMSCORE", "missing", "b"],
        &["ZRANK", "z", "b"],
        &["ZCARD", "missing"],
        &["ZRANGE", "z", "0", "-1"],
        &["ZRANGE", "missing", "0", "-1"],
        &["ZCOUNT", "z", "-inf", "+inf"],
        &["ZREMRANGEBYRANK", "z", "10", "20"],
        &["ZREMRANGEBYRANK", "z", "0", "0"],
        &["ZREMRANGEBYSCORE", "z", "(100", "200"],
        &["ZREMRANGEBYSCORE", "z", "-inf", "3.2"],
        &["ZADD", "lex", "0", "a", "0", "b", "0", "c"],
        &["ZREMRANGEBYLEX", "lex", "[a", "[b"],
        &["ZREMRANGEBYLEX", "lex", "-", "+"],
        &["ZADD", "p", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["ZPOPMIN", "p"],
        &["ZPOPMAX", "p", "2"],
        &["ZPOPMIN", "p", "0"],
        &["ZPOPMIN", "missing"],
        &["ZPOPMAX", "p", "5"],
        &["ZADD", "p", "1", "a", "2", "b", "3", "c"],
        &["ZMPOP", "2", "missing", "p", "MIN", "COUNT", "2"],
        &["BZPOPMAX", "missing", "p", "0"],
        &["ZADD", "p", "1", "a", "2", "b", "3", "c"],
        &["BZMPOP", "0", "1", "p", "MAX", "COUNT", "5"],
        &["ZADD", "s1", "1", "a", "2", "b"],
        &["ZADD", "s2", "3", "b", "4", "c"],
        &["ZUNIONSTORE", "dst", "2", "s1", "s2"],
        &["ZINTERSTORE", "dst", "2", "s1", "s2"],
        &["ZDIFFSTORE", "dst", "2", "s1", "s2"],
        &["ZINTERSTORE", "dst", "2", "s1", "missing"],
        &["ZINTERSTORE", "dst", "2", "s1", "missing"],
        &["ZRANGESTORE", "dst", "s1", "0", "-1"],
        &["ZRANGESTORE", "dst", "s1", "5", "6"],
        &["ZRANGESTORE", "dst", "missing", "0", "-1"],
        &["ZUNION", "3", "s1", "s2", "missing"],
        &["ZINTERCARD", "2", "s1", "s2"],
        &["ZRANDMEMBER", "one"],
        &["ZRANDMEMBER", "missing", "2"],
        &["ZSCAN", "s1", "0"],
        &["ZSCAN", "missing", "0"],
        &["ZADD", "str", "1", "a"],
        &["ZUNIONSTORE", "str", "1", "s1"],
        &["ZUNIONSTORE", "str", "1", "missing"],
    ];
    let counters = |c: &mut Client| {
        (
            c.info_u64("persistence", "rdb_changes_since_last_save") as i64,
            c.info_u64("stats", "keyspace_hits") as i64,
            c.info_u64("stats", "keyspace_misses") as i64,
        )
    };
    let mut before = [counters(&mut p.ours), counters(&mut p.real)];
    for args in script {
        p.check(args);
        let mut deltas = Vec::new();
        for (k, c) in [&mut p.ours, &mut p.real].into_iter().enumerate() {
            let now = counters(c);
            deltas.push(format!("{:?}", (now.0 - before[k].0, now.1 - before[k].1, now.2 - before[k].2)));
            before[k] = now;
        }
        p.compare(&format!("{args:?} (dirty, hits, misses)"), deltas[0].as_bytes(), deltas[1].as_bytes());
    }
    p.both(&["PUBLISH", "__keyevent@0__:marker", "end"]);
    let (o, r) = (messages_until_marker(&mut sub_o), messages_until_marker(&mut sub_r));
    let show_all = |m: &[(String, String)]| m.iter().map(|(c, v)| format!("{c} {v}\n")).collect::<String>();
    p.compare("notifications", show_all(&o).as_bytes(), show_all(&r).as_bytes());
    p.assert_clean();
    // Not vacuous: the events this test is about were published.
    for event in [
        "zadd",
        "zincr",
        "zrem",
        "zremrangebyrank",
        "zremrangebyscore",
        "zremrangebylex",
        "zpopmin",
        "zpopmax",
        "zunionstore",
        "zinterstore",
        "zdiffstore",
        "zrangestore",
        "del",
    ] {
        assert!(o.iter().any(|(c, _)| c == &format!("__keyevent@0__:{event}")), "no {event} event");
    }
}

/// WATCHed keys are invalidated by the zset commands that change them, not by those that don't.
#[test]
fn watch_sees_zset_changes_like_redis() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut other = duo.pair();
    let cases: &[&[&str]] = &[
        &["ZADD", "w", "1", "a"],
        &["ZADD", "w", "1", "a"],
        &["ZADD", "w", "XX", "5", "nope"],
        &["ZINCRBY", "w", "1", "a"],
        &["ZREM", "w", "nope"],
        &["ZRANGE", "w", "0", "-1"],
        &["ZUNIONSTORE", "w", "1", "w"],
        &["ZINTERSTORE", "w", "1", "missing"],
        &["ZINTERSTORE", "w", "1", "missing"],
        &["ZADD", "w", "1", "a", "2", "b"],
        &["ZRANGESTORE", "w", "missing", "0", "1"],
        &["ZADD", "w", "1", "a", "2", "b"],
        &["ZPOPMIN", "w"],
        &["ZPOPMIN", "w", "0"],
        &["ZREMRANGEBYSCORE", "w", "10", "20"],
        &["ZREMRANGEBYSCORE", "w", "-inf", "+inf"],
    ];
    for args in cases {
        p.check(&["WATCH", "w"]);
        other.check(args);
        p.check(&["MULTI"]);
        p.check(&["PING"]);
        p.check(&["EXEC"]);
    }
}
