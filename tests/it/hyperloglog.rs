//! Differential tests of the HyperLogLog commands against Debian's real Redis 7.0: PFADD, PFCOUNT,
//! PFMERGE, PFDEBUG and PFSELFTEST. The sketches are strings, so besides the replies the values
//! themselves (GET) must be byte-identical after the same commands: the sparse opcodes, the dense
//! registers and the cached cardinality. Values built by one server are SET into the other, and
//! corrupted ones (SETRANGE, hand-made opcodes) must be refused with the same errors.

use crate::common::show_bytes;
use crate::differential_propagation::Differ;
use crate::differential_support::*;

/// Runs a command given as byte strings on both servers and compares the replies.
fn check_bytes(p: &mut Pair, args: &[Vec<u8>]) -> Vec<u8> {
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let (o, r) = (p.ours.cmd_bytes(&refs), p.real.cmd_bytes(&refs));
    if o != r {
        let what = format!(
            "{} {} ... ({} arguments)",
            String::from_utf8_lossy(&args[0]),
            show_bytes(args.get(1).map_or(&[][..], |a| a), 40),
            args.len()
        );
        p.compare(&what, &o, &r);
    }
    r
}

/// Compares the value of `key` on both servers; a difference is reported by its first offset,
/// not as two 12 KB dumps.
fn same_value(p: &mut Pair, key: &str) -> Vec<u8> {
    let (o, r) = p.both(&["GET", key]);
    if o != r {
        let at = o.iter().zip(&r).position(|(a, b)| a != b).unwrap_or(o.len().min(r.len()));
        let around = |b: &[u8]| show_bytes(&b[at.saturating_sub(8)..(at + 24).min(b.len())], 200);
        let summary = |b: &[u8]| format!("{} bytes, from offset {}: {}", b.len(), at.saturating_sub(8), around(b));
        p.compare(&format!("GET {key} (first difference at {at})"), summary(&o).as_bytes(), summary(&r).as_bytes());
    }
    r
}

/// The payload of a bulk reply.
fn bulk(reply: &[u8]) -> Vec<u8> {
    let start = reply.iter().position(|&c| c == b'\n').map_or(0, |i| i + 1);
    reply[start..reply.len().saturating_sub(2)].to_vec()
}

/// The `n`-th element of a pool: numbers, prefixed names and short binary strings, so that
/// drawing from the pool repeats elements and the true cardinality is below the count added.
fn element(n: u64) -> Vec<u8> {
    match n % 3 {
        0 => n.to_string().into_bytes(),
        1 => format!("element:{n}").into_bytes(),
        _ => n.to_le_bytes()[..(n % 8 + 1) as usize].to_vec(),
    }
}

/// PFADDs `count` elements drawn from a pool of `pool` into `key`, in batches, comparing each
/// reply.
fn add_random(p: &mut Pair, rng: &mut Rng, key: &str, count: usize, pool: u64) {
    let mut left = count;
    while left > 0 {
        let n = left.min(1 + rng.below(700));
        let mut args = vec![b"PFADD".to_vec(), key.as_bytes().to_vec()];
        args.extend((0..n).map(|_| element(rng.next() % pool)));
        check_bytes(p, &args);
        left -= n;
    }
}

#[test]
fn cardinalities_and_values_over_many_sizes() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let resp2 = p.label == "RESP2";
        let mut rng = Rng(if resp2 { 0x4859_4c4c } else { 0x5345_4544 });
        let sizes: &[usize] = if resp2 {
            &[1, 2, 3, 5, 10, 40, 100, 300, 1000, 3000, 10_000, 30_000, 200_000]
        } else {
            &[1, 7, 60, 900, 5000, 20_000]
        };
        for &n in sizes {
            let key = format!("h:{n}");
            // Pools a little larger than the count: some elements repeat.
            add_random(p, &mut rng, &key, n, n as u64 + n as u64 / 3 + 1);
            // The stale cache (its top bit set) is part of the value too.
            same_value(p, &key);
            p.check(&["PFCOUNT", &key]);
            // The cached cardinality is now in the value, and answered from there.
            same_value(p, &key);
            p.check(&["PFCOUNT", &key]);
            p.check(&["PFDEBUG", "ENCODING", &key]);
            p.check(&["STRLEN", &key]);
            p.check(&["OBJECT", "ENCODING", &key]);
        }
        // Unions, counted (never stored) and merged (stored), over mixes of sparse and dense.
        for round in 0..12 {
            let k = 1 + rng.below(4);
            let mut keys: Vec<String> = (0..k).map(|_| format!("h:{}", sizes[rng.below(sizes.len())])).collect();
            if round % 3 == 0 {
                keys.push("h:missing".into());
            }
            let mut count = vec!["PFCOUNT"];
            count.extend(keys.iter().map(String::as_str));
            p.check(&count);
            let dest = if round % 2 == 0 { format!("m:{round}") } else { keys[0].clone() };
            let mut merge = vec!["PFMERGE", dest.as_str()];
            merge.extend(keys.iter().map(String::as_str));
            p.check(&merge);
            same_value(p, &dest);
            p.check(&["PFDEBUG", "ENCODING", &dest]);
            p.check(&["PFCOUNT", &dest]);
        }
        // A merge into an existing sparse destination from sparse sources stays sparse.
        add_random(p, &mut rng, "s:1", 30, 1000);
        add_random(p, &mut rng, "s:2", 30, 1000);
        p.check(&["PFMERGE", "s:1", "s:2"]);
        p.check(&["PFDEBUG", "DECODE", "s:1"]);
        same_value(p, "s:1");
        p.check(&["PFMERGE", "s:3"]);
        same_value(p, "s:3");
        p.check(&["PFMERGE", "s:4", "nothing"]);
        same_value(p, "s:4");
    });
}

/// The sparse encoding's size limit: past hll-sparse-max-bytes the sketch turns dense.
#[test]
fn sparse_limit_and_promotion() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let mut rng = Rng(7);
        check_all(
            p,
            &[
                &["CONFIG", "GET", "hll-sparse-max-bytes"],
                &["CONFIG", "SET", "hll-sparse-max-bytes", "abc"],
                &["CONFIG", "SET", "hll-sparse-max-bytes", "1kb"],
                &["CONFIG", "GET", "hll-sparse-max-bytes"],
                &["CONFIG", "SET", "hll-sparse-max-bytes", "200"],
            ],
        );
        // One element at a time, the length after each: the sketch must turn dense on the very
        // PFADD that would take it past the limit (reaching the limit exactly is still sparse).
        for limit in ["150", "200", "201", "202", "203"] {
            p.check(&["CONFIG", "SET", "hll-sparse-max-bytes", limit]);
            let key = format!("h:{limit}");
            for _ in 0..400 {
                add_random(p, &mut rng, &key, 1, 1 << 40);
                let len = p.check(&["STRLEN", &key]);
                if len.starts_with(b":12304") {
                    break;
                }
            }
            p.check(&["PFDEBUG", "ENCODING", &key]);
            same_value(p, &key);
        }
        p.check(&["CONFIG", "SET", "hll-sparse-max-bytes", "0"]);
        p.check(&["PFADD", "z", "a"]);
        p.check(&["PFDEBUG", "ENCODING", "z"]);
        same_value(p, "z");
        // A sparse merge result past the limit is converted during the merge.
        p.check(&["CONFIG", "SET", "hll-sparse-max-bytes", "20000"]);
        add_random(p, &mut rng, "big", 4000, 100_000);
        p.check(&["PFDEBUG", "ENCODING", "big"]);
        p.check(&["CONFIG", "SET", "hll-sparse-max-bytes", "300"]);
        p.check(&["PFMERGE", "fromsparse", "big"]);
        p.check(&["PFDEBUG", "ENCODING", "fromsparse"]);
        same_value(p, "fromsparse");
        p.check(&["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
    });
}

/// The counters a command moves: dirty (INFO's rdb_changes_since_last_save), keyspace hits and
/// misses.
fn counters(c: &mut crate::common::Client) -> [i64; 3] {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "all"])).into_owned();
    let field = |name: &str| -> i64 {
        let line = info.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')));
        line.unwrap_or_else(|| panic!("{name} in INFO")).trim().parse().expect("a number")
    };
    [field("rdb_changes_since_last_save"), field("keyspace_hits"), field("keyspace_misses")]
}

/// Replies, errors and counters of each command, PFDEBUG's subcommands, and the cache.
#[test]
fn commands_errors_and_cache() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        check_all(
            p,
            &[
                &["PFADD"],
                &["PFCOUNT"],
                &["PFMERGE"],
                &["PFDEBUG", "GETREG"],
                &["PFSELFTEST", "x"],
                &["PFADD", "h"],
                &["EXISTS", "h"],
                &["PFCOUNT", "h"],
                &["PFADD", "h"],
                &["PFADD", "h", "a", "b", "c"],
                &["PFADD", "h", "a", "b", "c"],
                &["PFADD", "h", ""],
                &["PFCOUNT", "h"],
                &["PFADD", "h", "d"],
                &["PFCOUNT", "h", "h", "nothing"],
                &["PFCOUNT", "nothing"],
                &["PFCOUNT", "nothing", "nothing2"],
                // Wrong types and strings that are not sketches.
                &["SET", "str", "hello"],
                &["SET", "int", "12345"],
                &["SET", "magic", "HYLLxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
                &["SET", "short", "HYLL"],
                &["LPUSH", "list", "a"],
                &["PFADD", "str", "a"],
                &["PFADD", "int", "a"],
                &["PFADD", "magic", "a"],
                &["PFADD", "short", "a"],
                &["PFADD", "list", "a"],
                &["PFCOUNT", "str"],
                &["PFCOUNT", "list"],
                &["PFCOUNT", "h", "str"],
                &["PFCOUNT", "h", "list"],
                &["PFMERGE", "h", "str"],
                &["PFMERGE", "str", "h"],
                &["PFMERGE", "list", "h"],
                &["PFMERGE", "new", "h", "int"],
                &["EXISTS", "new"],
                &["PFDEBUG", "ENCODING", "nothing"],
                &["PFDEBUG", "ENCODING", "str"],
                &["PFDEBUG", "ENCODING", "list"],
                &["PFDEBUG", "NOSUCH", "h"],
                &["PFDEBUG", "NOSUCH", "nothing"],
                &["PFDEBUG", "two\r\nlines", "h"],
                &["PFDEBUG", "nul\0cut", "h"],
                &["PFDEBUG", "encoding\0x", "h"],
                &["PFDEBUG", "decode", "h"],
                &["PFDEBUG", "Encoding", "h"],
                &["PFDEBUG", "GETREG", "h"],
                &["PFDEBUG", "ENCODING", "h"],
                &["PFDEBUG", "DECODE", "h"],
                &["PFDEBUG", "TODENSE", "h"],
                &["PFADD", "h2", "x"],
                &["PFDEBUG", "TODENSE", "h2"],
                &["PFDEBUG", "TODENSE", "h2"],
                &["PFCOUNT", "h2"],
                &["PFMERGE", "h3", "h2", "h"],
                &["PFDEBUG", "ENCODING", "h3"],
                &["PFCOUNT", "h3"],
                &["PFCOUNT", "h3", "h2", "h"],
            ],
        );
        same_value(p, "h");
        same_value(p, "h3");
        // The dirty counter: created key and each changed register count for PFADD, a computed
        // (not a cached) PFCOUNT counts one, and so do PFMERGE and a PFDEBUG conversion.
        let steps: &[&[&str]] = &[
            &["PFADD", "d", "a", "b", "c", "a"],
            &["PFADD", "d", "a"],
            &["PFADD", "d", "x", "y"],
            &["PFCOUNT", "d"],
            &["PFCOUNT", "d"],
            &["PFCOUNT", "d", "h"],
            &["PFMERGE", "d", "h"],
            &["PFMERGE", "d"],
            &["PFDEBUG", "GETREG", "d"],
            &["PFDEBUG", "ENCODING", "d"],
            &["PFADD", "e", "q"],
            &["PFDEBUG", "TODENSE", "e"],
            &["PFDEBUG", "TODENSE", "e"],
            &["PFCOUNT", "e", "nothing", "d"],
            &["PFCOUNT", "nothing"],
            &["PFMERGE", "nothing", "nothing2", "e"],
            &["PFMERGE", "nothing3"],
            &["PFDEBUG", "ENCODING", "nothing4"],
        ];
        for step in steps {
            let before = (counters(&mut p.ours), counters(&mut p.real));
            p.check(step);
            let after = (counters(&mut p.ours), counters(&mut p.real));
            let delta = |a: [i64; 3], b: [i64; 3]| {
                format!("dirty +{} hits +{} misses +{}", a[0] - b[0], a[1] - b[1], a[2] - b[2])
            };
            let (o, r) = (delta(after.0, before.0), delta(after.1, before.1));
            p.compare(&format!("{step:?}: counters"), o.as_bytes(), r.as_bytes());
        }
        // A short sketch SET as a string is embstr; the commands that may change it make it raw.
        p.check(&["PFADD", "tiny"]);
        let tiny = same_value(p, "tiny");
        let tiny = bulk(&tiny);
        for cmd in ["PFCOUNT", "PFADD", "PFDEBUG"] {
            let (o, r) = (p.ours.cmd_bytes(&[b"SET", b"t2", &tiny]), p.real.cmd_bytes(&[b"SET", b"t2", &tiny]));
            p.compare("SET t2 <empty sketch>", &o, &r);
            p.check(&["OBJECT", "ENCODING", "t2"]);
            match cmd {
                "PFDEBUG" => p.check(&["PFDEBUG", "ENCODING", "t2"]),
                other => p.check(&[other, "t2"]),
            };
            p.check(&["OBJECT", "ENCODING", "t2"]);
        }
        // WATCH sees PFCOUNT's cache update (a change of the value), not a cached answer, nor
        // PFDEBUG's encoding conversions (Redis does not signal those).
        p.check(&["PFADD", "w", "a"]);
        for _ in 0..2 {
            check_all(p, &[&["WATCH", "w"], &["PFCOUNT", "w"], &["MULTI"], &["PING"], &["EXEC"]]);
        }
        for sub in ["TODENSE", "GETREG"] {
            p.check(&["DEL", "w"]);
            p.check(&["PFADD", "w", "a"]);
            check_all(p, &[&["WATCH", "w"], &["PFDEBUG", sub, "w"], &["MULTI"], &["PING"], &["EXEC"]]);
        }
        check_all(p, &[&["WATCH", "w"], &["PFADD", "w", "zz"], &["MULTI"], &["PING"], &["EXEC"]]);
        check_all(p, &[&["WATCH", "w"], &["PFMERGE", "w"], &["MULTI"], &["PING"], &["EXEC"]]);
        // PFCOUNT may replicate: read-only scripts refuse it, as they refuse PUBLISH.
        check_all(
            p,
            &[
                &["EVAL_RO", "return redis.call('pfcount', KEYS[1])", "1", "w"],
                &["EVAL_RO", "return redis.call('publish', 'c', 'm')", "0"],
                &["EVAL", "#!lua flags=no-writes\nreturn redis.call('pfcount', KEYS[1])", "1", "w"],
                &["EVAL", "return redis.call('pfcount', KEYS[1])", "1", "w"],
            ],
        );
    });
}

/// The hyperloglog.tcl corruption cases, then random bytes written over sparse and dense sketches:
/// every command must refuse (or accept) them as Redis does, and leave the same bytes behind.
#[test]
fn corrupted_sketches() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let hll = |p: &mut Pair, key: &str| {
            p.check(&["DEL", key]);
            p.check(&["PFADD", key, "a", "b", "c"]);
        };
        hll(p, "c");
        p.check(&["APPEND", "c", "hello"]);
        check_all(p, &[&["PFCOUNT", "c"], &["PFADD", "c", "zz"], &["PFCOUNT", "c"], &["PFCOUNT", "c", "c"]]);
        check_all(p, &[&["PFMERGE", "x", "c"], &["PFDEBUG", "GETREG", "c"], &["PFDEBUG", "DECODE", "c"]]);
        hll(p, "c");
        check_all(p, &[&["SETRANGE", "c", "0", "0123"], &["PFCOUNT", "c"], &["PFADD", "c", "a"]]);
        hll(p, "c");
        check_all(p, &[&["SETRANGE", "c", "4", "x"], &["PFCOUNT", "c"], &["PFMERGE", "c"]]);
        hll(p, "c");
        check_all(p, &[&["PFDEBUG", "TODENSE", "c"], &["SETRANGE", "c", "4", "\x01"], &["PFCOUNT", "c"]]);
        check_all(p, &[&["PFADD", "c", "x"], &["PFDEBUG", "DECODE", "c"]]);
        same_value(p, "c");
        hll(p, "c");
        check_all(p, &[&["SETRANGE", "c", "4", "\x00"], &["PFCOUNT", "c"], &["PFDEBUG", "GETREG", "c"]]);

        // Hand-made sparse bodies: runs that overshoot, fall short, or end inside an XZERO.
        let header = |card_valid: bool| {
            let mut h = b"HYLL\x01\0\0\0".to_vec();
            h.extend_from_slice(if card_valid { &[5, 0, 0, 0, 0, 0, 0, 0] } else { &[0, 0, 0, 0, 0, 0, 0, 0x80] });
            h
        };
        let bodies: Vec<Vec<u8>> = vec![
            vec![0x7f, 0xff, 0x7f, 0xff],
            vec![0x7f, 0xfe],
            vec![0x7f],
            vec![0x40],
            vec![0x00; 300],
            [vec![0x3f; 256], vec![0x80, 0x84, 0x88]].concat(),
            [vec![0x3f; 255], vec![0x3e, 0x80]].concat(),
            [vec![0x3f; 255], vec![0x3f, 0x40]].concat(),
            [vec![0x7f, 0xfb], vec![0xfc, 0xf8, 0x8c, 0x8c]].concat(),
            // Valid but never written by Redis: ZEROs where it would use XZEROs, unmerged VALs.
            [vec![0x3f; 255], vec![0x3b, 0x80, 0x80, 0x80, 0x80]].concat(),
            [vec![0x3f; 255], vec![0x3c, 0x84, 0x84, 0x80]].concat(),
        ];
        for body in &bodies {
            for card_valid in [false, true] {
                let value = [header(card_valid), body.clone()].concat();
                for cmds in [&["PFCOUNT", "k"][..], &["PFADD", "k", "a", "b", "c", "d", "e"], &["PFCOUNT", "k", "k"]] {
                    let set = [b"SET".to_vec(), b"k".to_vec(), value.clone()];
                    check_bytes(p, &set);
                    let then: [&[&str]; 4] =
                        [cmds, &["PFMERGE", "k2", "k"], &["PFDEBUG", "GETREG", "k"], &["PFDEBUG", "DECODE", "k"]];
                    check_all(p, &then);
                    same_value(p, "k");
                    same_value(p, "k2");
                    p.check(&["DEL", "k2"]);
                }
            }
        }

        // Fuzzing: a few random bytes written into sketches of random sizes and encodings. The
        // replies are integers, errors and arrays of integers, the same in both protocols: once.
        if p.label != "RESP2" {
            return;
        }
        let mut rng = Rng(0xf022);
        for round in 0..150 {
            p.check(&["DEL", "f"]);
            let n = 1 + rng.below(if round % 4 == 0 { 2000 } else { 150 });
            add_random(p, &mut rng, "f", n, 1 << 40);
            if round % 4 == 0 {
                p.check(&["PFDEBUG", "TODENSE", "f"]);
            }
            let len = bulk(&p.real.cmd(&["GET", "f"])).len();
            for _ in 0..1 + rng.below(4) {
                // Mostly the body; now and then the header.
                let pos = if rng.below(5) == 0 { rng.below(16) } else { 16 + rng.below(len.max(17) - 16) };
                let byte = [(rng.next() & 0xff) as u8];
                let (o, r) = (
                    p.ours.cmd_bytes(&[b"SETRANGE", b"f", pos.to_string().as_bytes(), &byte]),
                    p.real.cmd_bytes(&[b"SETRANGE", b"f", pos.to_string().as_bytes(), &byte]),
                );
                p.compare("SETRANGE f", &o, &r);
            }
            let step = match round % 5 {
                0 => vec!["PFCOUNT", "f"],
                1 => vec!["PFADD", "f", "x1", "x2", "x3"],
                2 => vec!["PFCOUNT", "f", "nothing"],
                3 => vec!["PFMERGE", "f2", "f"],
                _ => vec!["PFDEBUG", "GETREG", "f"],
            };
            p.check(&step);
            p.check(&["PFCOUNT", "f"]);
            same_value(p, "f");
        }
    });
}

/// Sketches built by one server, SET into the other, read and extended there.
#[test]
fn values_move_between_servers() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut rng = Rng(99);
    for (i, n) in [0usize, 3, 50, 400, 5000].into_iter().enumerate() {
        let key = format!("x:{i}");
        add_random(&mut p, &mut rng, &key, n.max(1), 1 << 40);
        if i % 2 == 1 {
            p.check(&["PFDEBUG", "TODENSE", &key]);
        }
        // Each server gets the other's value under a second key.
        let from_ours = bulk(&p.ours.cmd(&["GET", &key]));
        let from_real = bulk(&p.real.cmd(&["GET", &key]));
        let copy = format!("copy:{i}");
        let (o, r) = (
            p.ours.cmd_bytes(&[b"SET", copy.as_bytes(), &from_real]),
            p.real.cmd_bytes(&[b"SET", copy.as_bytes(), &from_ours]),
        );
        p.compare("SET of the other server's value", &o, &r);
        check_all(
            &mut p,
            &[
                &["PFCOUNT", &copy],
                &["PFCOUNT", &copy, &key],
                &["PFDEBUG", "ENCODING", &copy],
                &["PFADD", &copy, "new1", "new2", "new3"],
                &["PFCOUNT", &copy],
                &["PFMERGE", &copy, &key],
                &["PFCOUNT", &copy],
            ],
        );
        same_value(&mut p, &copy);
    }
}

/// What each command publishes: `pfadd` for PFADD that changed something and for PFMERGE,
/// `new` for a created key, nothing for PFCOUNT or PFDEBUG.
#[test]
fn keyspace_events() {
    let duo = Duo::start(&[]);
    let mut cmd = duo.pair();
    let mut sub = duo.pair();
    cmd.check(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
    sub.check_n(&["PSUBSCRIBE", "__key*__:*"], 1);
    let steps: &[&[&str]] = &[
        &["PFADD", "h", "a"],
        &["PFADD", "h", "a"],
        &["PFADD", "h2"],
        &["PFCOUNT", "h"],
        &["PFCOUNT", "h", "h2"],
        &["PFMERGE", "h3", "h", "h2"],
        &["PFMERGE", "h3"],
        &["PFDEBUG", "TODENSE", "h"],
        &["PFDEBUG", "GETREG", "h2"],
        &["PFADD", "h", "b", "c"],
        &["SET", "s", "x"],
        &["PFADD", "s", "a"],
    ];
    for step in steps {
        cmd.check(step);
        sub.send_cmds(&[&["PING"]]);
        let (o, r) = (read_until_pong(&mut sub.ours), read_until_pong(&mut sub.real));
        sub.compare(&format!("events of {step:?}"), &o, &r);
    }
}

/// What reaches the AOF (and replicas): PFADD and PFMERGE as themselves, PFCOUNT when it stored a
/// computed cardinality, PFDEBUG when it converted the encoding.
#[test]
fn propagation() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "pfadd h a b c",
        "pfadd h a",
        "pfadd h2",
        "pfcount h",
        "pfcount h",
        "pfcount h h2",
        "pfadd h d",
        "pfcount h h2",
        "pfmerge h3 h h2",
        "pfcount h3",
        "pfdebug encoding h3",
        "pfdebug getreg h3",
        "pfdebug getreg h3",
        "pfdebug todense h2",
        "pfdebug todense h2",
        "multi",
        "pfadd h4 x",
        "pfcount h4",
        "pfcount h4",
        "exec",
        // In scripts, as the commands the script ran.
        "eval return(redis.call('pfadd',KEYS[1],'q')) 1 h5",
        "eval return(redis.call('pfcount',KEYS[1])) 1 h5",
        "eval return(redis.call('pfcount',KEYS[1])) 1 h5",
        "pfadd h5 r",
        "eval_ro return(redis.call('pfcount',KEYS[1])) 1 h5",
        "eval_ro return(redis.call('pfcount',KEYS[1],KEYS[2])) 2 h5 h",
    ]);
    d.finish();
}

/// PFSELFTEST's own checks pass (it takes seconds in a debug build: a test of its own).
#[test]
fn selftest() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    assert_eq!(p.check(&["PFSELFTEST"]), b"+OK\r\n");
}

/// A valid sparse sketch of random opcodes (any mix Redis could read, most of which it would not
/// write): clusters of VALs with few distinct values, so that adding splits runs and merging joins
/// equal neighbours, separated by ZERO and XZERO runs.
fn random_sparse(rng: &mut Rng) -> Vec<u8> {
    let mut s = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    let mut left = 16384usize;
    while left > 0 {
        match rng.below(3) {
            0 => {
                for _ in 0..1 + rng.below(12) {
                    let len = (1 + rng.below(4)).min(left);
                    if len == 0 {
                        break;
                    }
                    let few = rng.below(2) == 0;
                    let v = 1 + rng.below(if few { 3 } else { 32 });
                    s.push(0x80 | ((v - 1) << 2) as u8 | (len - 1) as u8);
                    left -= len;
                }
            }
            1 => {
                let len = (1 + rng.below(64)).min(left);
                s.push((len - 1) as u8);
                left -= len;
            }
            _ => {
                let len = (1 + rng.below(1500)).min(left);
                s.extend_from_slice(&[0x40 | ((len - 1) >> 8) as u8, ((len - 1) & 0xff) as u8]);
                left -= len;
            }
        }
    }
    s
}

/// Sparse sketches of unusual layouts, SET on both: PFADD splits and merges their opcodes, PFMERGE
/// rebuilds them register by register into a new sparse sketch, under several size limits.
#[test]
fn crafted_sparse_layouts() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut rng = Rng(0x5ba5);
    for round in 0..40 {
        let limit = ["3000", "400", "20000"][round % 3];
        p.check(&["CONFIG", "SET", "hll-sparse-max-bytes", limit]);
        let value = random_sparse(&mut rng);
        check_bytes(&mut p, &[b"SET".to_vec(), b"src".to_vec(), value]);
        p.check(&["PFDEBUG", "DECODE", "src"]);
        p.check(&["PFCOUNT", "src"]);
        p.check(&["DEL", "dst"]);
        p.check(&["PFMERGE", "dst", "src"]);
        p.check(&["PFDEBUG", "ENCODING", "dst"]);
        same_value(&mut p, "dst");
        let n = 1 + rng.below(300);
        add_random(&mut p, &mut rng, "src", n, 1 << 40);
        p.check(&["PFDEBUG", "ENCODING", "src"]);
        same_value(&mut p, "src");
        p.check(&["PFMERGE", "dst", "src"]);
        same_value(&mut p, "dst");
        p.check(&["PFCOUNT", "dst", "src"]);
    }
}

/// Replicas end up with the master's bytes: PFCOUNT's cache and PFDEBUG's conversions reach them
/// (our master feeding a real replica, and the reverse).
#[test]
fn replicas_get_the_same_sketches() {
    use crate::replication_support::{start_replica, wait_in_sync, Impl, Node};
    for (m, r) in [(Impl::Ours, Impl::Real), (Impl::Real, Impl::Ours)] {
        let master = Node::start("master", m, &[]);
        let replica = start_replica("replica", r, &master, &[]);
        wait_in_sync(&master, &replica);
        let mut c = master.client();
        let mut many = vec!["PFADD".to_string(), "b".to_string()];
        many.extend((0..3000).map(|i| format!("e{i}")));
        let steps: Vec<Vec<String>> = vec![
            ["PFADD", "a", "x", "y", "z"].map(String::from).to_vec(),
            many,
            ["PFCOUNT", "a"].map(String::from).to_vec(),
            ["PFCOUNT", "b"].map(String::from).to_vec(),
            ["PFCOUNT", "a", "b"].map(String::from).to_vec(),
            ["PFMERGE", "m", "a", "b"].map(String::from).to_vec(),
            ["PFADD", "s", "q"].map(String::from).to_vec(),
            ["PFDEBUG", "TODENSE", "a"].map(String::from).to_vec(),
            ["PFDEBUG", "GETREG", "s"].map(String::from).to_vec(),
        ];
        for step in &steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            let reply = c.cmd(&args);
            assert!(!reply.starts_with(b"-"), "{args:?} on {}: {}", m.label(), show_bytes(&reply, 200));
        }
        wait_in_sync(&master, &replica);
        let mut rc = replica.client();
        for key in ["a", "b", "m", "s"] {
            let (on_master, on_replica) = (c.cmd(&["GET", key]), rc.cmd(&["GET", key]));
            assert!(
                on_master == on_replica,
                "{key}: the {} replica's value differs from the {} master's",
                r.label(),
                m.label()
            );
        }
    }
}
