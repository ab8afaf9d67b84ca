//! The stream type's basic commands (XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID) against
//! Debian's real Redis 7.0, byte for byte in RESP2 and RESP3: hand-written edge cases, a seeded
//! random workload over small nodes (node splits, trims across node boundaries), saved bytes
//! (the node listpacks are Redis's own bytes), keyspace notifications, dirty counts, and what each
//! command appends to the AOF. Node bytes are compared through SAVE (the keys part of the RDB).

use crate::common::Client;
use crate::differential_propagation::AofTail;
use crate::differential_support::*;

fn xadd_cases(p: &mut Pair) {
    check_all(
        p,
        &[
            &["XADD", "s", "1-1", "a", "1", "b", "2"],
            &["XADD", "s", "1-1", "a", "1"],
            &["XADD", "s", "1-0", "a", "1"],
            &["XADD", "s", "0-0", "a", "1"],
            &["XADD", "new", "0-0", "a", "1"],
            &["EXISTS", "new"],
            &["XADD", "s", "1-*", "a", "3", "b", "4"],
            &["XADD", "s", "1", "a", "x"],
            &["XADD", "s", "2", "c", "x"],
            &["XADD", "s", "2-*", "c", "y"],
            &["XADD", "s", "3-*", "a", "1", "b", "2"],
            &["XADD", "s", "0-*", "a", "1"],
            &["XADD", "s", "5-18446744073709551615", "f", "v"],
            &["XADD", "s", "5-*", "f", "v"],
            &["XADD", "s", "18446744073709551615-18446744073709551615", "f", "v"],
            &["XADD", "s", "*", "f", "v"],
            &["XADD", "s", "18446744073709551615-*", "f", "v"],
            &["XLEN", "s"],
            &["XADD", "s"],
            &["XADD", "s", "1-1"],
            &["XADD", "s", "9-1", "f"],
            &["XADD", "s", "9-1", "f", "v", "g"],
            &["XADD", "s", "abc", "f", "v"],
            &["XADD", "s", "-", "f", "v"],
            &["XADD", "s", "+", "f", "v"],
            &["XADD", "s", "1-2-3", "f", "v"],
            &["XADD", "s", "01-1", "f", "v"],
            &["XADD", "t", "NOMKSTREAM", "1-1", "f", "v"],
            &["EXISTS", "t"],
            &["XADD", "t", "NOMKSTREAM", "*", "f", "v"],
            &["XADD", "t", "MAXLEN", "-1", "1-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "x", "1-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "1", "MINID", "1", "1-1", "f", "v"],
            &["XADD", "t", "LIMIT", "10", "1-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "1", "LIMIT", "10", "1-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "~", "1", "LIMIT", "-1", "1-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "~", "1", "LIMIT", "x", "1-1", "f", "v"],
            &["XADD", "t", "MINID", "-", "1-1", "f", "v"],
            &["XADD", "t", "MINID", "=", "abc", "1-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "=", "1", "1-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "~", "0", "LIMIT", "0", "2-1", "f", "v"],
            &["XADD", "t", "maxlen\0x", "0", "3-1", "f", "v"],
            &["XADD", "t", "MAXLEN", "0"],
            &["XADD", "t", "MAXLEN"],
            &["XLEN", "t"],
            &["XRANGE", "t", "-", "+"],
            &["SET", "str", "x"],
            &["XADD", "str", "1-1", "f", "v"],
            &["XADD", "str", "NOMKSTREAM", "1-1", "f", "v"],
            &["XADD", "bin", "1-1", "f\0\r\n", "", "", "v\0"],
            &["XADD", "bin", "1-2", "12345678901234567890", "-9223372036854775808", "9223372036854775807", "1.5"],
            &["XRANGE", "bin", "-", "+"],
        ],
    );
}

#[test]
fn xadd_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(xadd_cases);
}

fn range_cases(p: &mut Pair) {
    for i in 1..=12 {
        let id = format!("{}-{}", i / 3, i % 3);
        let fields: &[&str] = if i % 4 == 0 { &["other", "x"] } else { &["a", "1", "b", "2"] };
        let mut c = vec!["XADD", "s", id.as_str()];
        c.extend_from_slice(fields);
        p.check(&c);
    }
    check_all(
        p,
        &[
            &["XRANGE", "s", "-", "+"],
            &["XREVRANGE", "s", "+", "-"],
            &["XRANGE", "s", "1", "2"],
            &["XRANGE", "s", "(1-1", "(3-1"],
            &["XRANGE", "s", "(1", "(3"],
            &["XREVRANGE", "s", "(3-1", "(1-1"],
            &["XRANGE", "s", "(-", "+"],
            &["XRANGE", "s", "-", "(+"],
            &["XRANGE", "s", "(", "+"],
            &["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"],
            &["XRANGE", "s", "-", "(0-0"],
            &["XRANGE", "s", "-", "(0"],
            &["XRANGE", "s", "3", "1"],
            &["XRANGE", "s", "-", "+", "COUNT", "3"],
            &["XREVRANGE", "s", "+", "-", "COUNT", "3"],
            &["XRANGE", "s", "-", "+", "COUNT", "0"],
            &["XRANGE", "s", "-", "+", "COUNT", "-5"],
            &["XRANGE", "missing", "-", "+", "COUNT", "0"],
            &["XRANGE", "s", "-", "+", "COUNT"],
            &["XRANGE", "s", "-", "+", "COUNT", "x"],
            &["XRANGE", "s", "-", "+", "LIMIT", "1"],
            &["XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "2"],
            &["XRANGE", "s", "x", "+"],
            &["XRANGE", "s", "-", "x"],
            &["XRANGE", "s", "1-1"],
            &["XRANGE", "missing", "-", "+"],
            &["XREVRANGE", "missing", "+", "-"],
            &["XLEN", "missing"],
            &["XLEN", "s"],
            &["SET", "str", "x"],
            &["XRANGE", "str", "-", "+"],
            &["XRANGE", "str", "x", "+"],
            &["XLEN", "str"],
        ],
    );
}

#[test]
fn ranges_in_both_protocols() {
    Duo::start(&["--stream-node-max-entries", "4"]).in_both_protocols(range_cases);
}

fn delete_trim_setid_cases(p: &mut Pair) {
    for i in 1..=20 {
        p.check(&["XADD", "s", &format!("{i}-1"), "f", &i.to_string()]);
    }
    check_all(
        p,
        &[
            &["XDEL", "s", "1-1", "1-1", "2-1", "99-1"],
            &["XDEL", "s", "3-1", "abc"],
            &["XDEL", "s", "-"],
            &["XDEL", "missing", "1-1"],
            &["XDEL", "missing", "abc"],
            &["XDEL", "s", "5"],
            &["XLEN", "s"],
            &["XRANGE", "s", "-", "+", "COUNT", "2"],
            &["XTRIM", "s", "MAXLEN", "~", "10"],
            &["XLEN", "s"],
            &["XTRIM", "s", "MAXLEN", "15"],
            &["XTRIM", "s", "MAXLEN", "=", "15"],
            &["XLEN", "s"],
            &["XTRIM", "s", "MINID", "~", "12"],
            &["XTRIM", "s", "MINID", "12-1"],
            &["XRANGE", "s", "-", "+", "COUNT", "1"],
            &["XTRIM", "s", "MAXLEN", "~", "2", "LIMIT", "2"],
            &["XTRIM", "s", "MAXLEN", "~", "2", "LIMIT", "0"],
            &["XLEN", "s"],
            &["XTRIM", "s"],
            &["XTRIM", "s", "LIMIT", "1"],
            &["XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"],
            &["XTRIM", "s", "FOO", "1"],
            &["XTRIM", "s", "MAXLEN", "-1"],
            &["XTRIM", "s", "MINID", "+"],
            &["XTRIM", "missing", "MAXLEN", "0"],
            &["XTRIM", "missing", "MAXLEN", "x"],
            &["XSETID", "s", "1-1"],
            &["XSETID", "s", "100-1"],
            &["XADD", "s", "100-1", "f", "v"],
            &["XSETID", "s", "200-0", "ENTRIESADDED", "1"],
            &["XSETID", "s", "200-0", "ENTRIESADDED", "-1"],
            &["XSETID", "s", "200-0", "ENTRIESADDED", "x"],
            &["XSETID", "s", "200-0", "MAXDELETEDID", "300-0"],
            &["XSETID", "s", "200-0", "MAXDELETEDID", "+"],
            &["XSETID", "s", "200-0", "ENTRIESADDED", "50", "MAXDELETEDID", "150-0"],
            &["XSETID", "s", "200-0", "FOO", "1"],
            &["XSETID", "s", "200-0", "ENTRIESADDED"],
            &["XSETID", "s", "+"],
            &["XSETID", "missing", "1-1"],
            &["XSETID", "missing", "x"],
            &["XTRIM", "s", "MAXLEN", "0"],
            &["XLEN", "s"],
            &["EXISTS", "s"],
            &["XSETID", "s", "1-0"],
            &["XADD", "s", "1-5", "f", "v"],
            &["XADD", "s", "MAXLEN", "0", "300-0", "f", "v"],
            &["SET", "str", "x"],
            &["XDEL", "str", "1-1"],
            &["XTRIM", "str", "MAXLEN", "0"],
            &["XSETID", "str", "1-1"],
        ],
    );
}

#[test]
fn delete_trim_and_setid_in_both_protocols() {
    Duo::start(&["--stream-node-max-entries", "4"]).in_both_protocols(delete_trim_setid_cases);
}

fn generic_cases(p: &mut Pair) {
    check_all(
        p,
        &[
            &["XADD", "s", "1-1", "f", "v"],
            &["TYPE", "s"],
            &["OBJECT", "ENCODING", "s"],
            &["SCAN", "0", "TYPE", "stream"],
            &["SCAN", "0", "TYPE", "list"],
            &["COPY", "s", "c"],
            &["XRANGE", "c", "-", "+"],
            &["XADD", "c", "2-1", "g", "w"],
            &["XLEN", "s"],
            &["RENAME", "c", "r"],
            &["XLEN", "r"],
            &["MOVE", "r", "1"],
            &["SELECT", "1"],
            &["XRANGE", "r", "-", "+"],
            &["SELECT", "0"],
            &["LPUSH", "s", "x"],
            &["SORT", "s"],
            &["DEL", "s"],
            &["XADD", "u", "1-1", "f", "v"],
            &["UNLINK", "u"],
            &["DBSIZE"],
            &["COMMAND", "INFO", "xadd", "xrange", "xrevrange", "xlen", "xdel", "xtrim", "xsetid"],
            &["COMMAND", "DOCS", "xadd", "xtrim", "xsetid"],
            &["COMMAND", "GETKEYS", "XADD", "k", "*", "f", "v"],
        ],
    );
}

#[test]
fn streams_under_generic_commands_in_both_protocols() {
    Duo::start(&[]).in_both_protocols(generic_cases);
}

/// The keys part of an RDB file (from the first SELECTDB to the checksum): the aux fields
/// before it name each server, what follows is the data as written.
fn rdb_keys_section(c: &mut Client, dir: &std::path::Path) -> Vec<u8> {
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    let file = std::fs::read(dir.join("dump.rdb")).expect("dump.rdb");
    let mut at = 9;
    while file[at] == 0xFA {
        at = skip_rdb_string(&file, skip_rdb_string(&file, at + 1));
    }
    file[at..file.len() - 8].to_vec()
}

/// Where the RDB string at `at` ends (a length, an integer encoding or an LZF block).
fn skip_rdb_string(f: &[u8], at: usize) -> usize {
    let (len, after) = rdb_length(f, at);
    match len {
        Ok(n) => after + n,
        Err(0) => after + 1,
        Err(1) => after + 2,
        Err(2) => after + 4,
        Err(3) => {
            let (packed, next) = rdb_length(f, after);
            let (_, data) = rdb_length(f, next);
            data + packed.expect("an LZF length")
        }
        Err(e) => panic!("unknown string encoding {e}"),
    }
}

/// A length (Ok) or a special encoding (Err), and where what follows starts.
fn rdb_length(f: &[u8], at: usize) -> (Result<usize, u8>, usize) {
    let b = f[at];
    match b >> 6 {
        0 => (Ok((b & 0x3F) as usize), at + 1),
        1 => (Ok((((b & 0x3F) as usize) << 8) | f[at + 1] as usize), at + 2),
        3 => (Err(b & 0x3F), at + 1),
        _ if b == 0x80 => (Ok(u32::from_be_bytes(f[at + 1..at + 5].try_into().unwrap()) as usize), at + 5),
        _ => (Ok(u64::from_be_bytes(f[at + 1..at + 9].try_into().unwrap()) as usize), at + 9),
    }
}

/// Both servers save the same bytes for the same streams: the node listpacks (with SAMEFIELDS,
/// tombstones, deltas and back links), the counters and the order of everything.
fn check_saved_bytes(p: &mut Pair, duo: &Duo, what: &str) {
    let ours = rdb_keys_section(&mut p.ours, duo.ours.dir.path());
    let real = rdb_keys_section(&mut p.real, duo.real.dir.path());
    p.compare(&format!("saved bytes {what}"), &ours, &real);
}

const BYTES_OPTS: &[&str] = &["--rdbcompression", "no", "--stream-node-max-entries", "3"];

/// Streams shaped by every kind of change save to the same bytes, one stream per database
/// (so that key order within a database plays no part).
#[test]
fn saved_streams_are_byte_identical() {
    let duo = Duo::start(BYTES_OPTS);
    let mut p = duo.pair();
    for i in 1..=10 {
        p.check(&["XADD", "s", &format!("{i}-0"), "a", "1", if i % 2 == 0 { "b" } else { "c" }, "2"]);
    }
    check_saved_bytes(&mut p, &duo, "after appends");
    p.check(&["XDEL", "s", "2-0", "5-0", "4-0"]);
    check_saved_bytes(&mut p, &duo, "after XDEL");
    p.check(&["XTRIM", "s", "MINID", "7-0"]);
    check_saved_bytes(&mut p, &duo, "after XTRIM MINID");
    p.check(&["XSETID", "s", "99-0", "ENTRIESADDED", "500", "MAXDELETEDID", "50-0"]);
    p.check(&["SELECT", "1"]);
    p.check(&["XADD", "e", "5-5", "x", "y"]);
    p.check(&["XDEL", "e", "5-5"]);
    p.check(&["SELECT", "2"]);
    p.check(&["XADD", "bin", "1-1", "f\0\r\n", "", "", "v\0"]);
    p.check(&["XADD", "bin", "1-2", "12345678901234567890", "-9223372036854775808", "9223372036854775807", "1.5"]);
    p.check(&["XADD", "bin", "1-3", "40000", "-1", "1000", "x"]);
    p.check(&["XADD", "bin", "2-0", "long", &"L".repeat(5000)]);
    check_saved_bytes(&mut p, &duo, "with an emptied stream and binary fields");
    p.check(&["CONFIG", "SET", "stream-node-max-bytes", "60"]);
    p.check(&["SELECT", "3"]);
    for i in 1..=12 {
        p.check(&["XADD", "b", &format!("{i}-0"), "field", &"v".repeat(i * 3)]);
    }
    check_saved_bytes(&mut p, &duo, "with nodes closed by stream-node-max-bytes");
}

/// A small deterministic generator, so that a failing seed replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Random XADD/XDEL/XTRIM/XRANGE/XREVRANGE/XSETID/XLEN over a few keys with four entries per
/// node, every reply compared, and the saved bytes of every key (its nodes) at intervals.
#[test]
fn random_workload_with_small_nodes() {
    let duo = Duo::start(&["--rdbcompression", "no"]);
    let mut p = duo.pair();
    p.check(&["CONFIG", "SET", "stream-node-max-entries", "4"]);
    p.check(&["CONFIG", "SET", "stream-node-max-bytes", "120"]);
    // One key per database, so that saved files list them in one order on both servers.
    let keys = ["s0", "s1", "s2"];
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut ms = [1u64; 3];
    for step in 0..1500 {
        let k = rng.below(3) as usize;
        let key = keys[k];
        p.check(&["SELECT", &k.to_string()]);
        let near = |rng: &mut Rng, ms: u64| format!("{}-{}", rng.below(ms + 2), rng.below(3));
        let cmd: Vec<String> = match rng.below(12) {
            0..=4 => {
                ms[k] += rng.below(2);
                let id = match rng.below(4) {
                    0 => format!("{}-*", ms[k]),
                    1 => near(&mut rng, ms[k]),
                    _ => format!("{}-{}", ms[k], rng.below(5)),
                };
                let mut c = vec!["XADD".to_string(), key.to_string()];
                match rng.below(6) {
                    0 => c.extend(["MAXLEN".into(), "~".into(), rng.below(40).to_string()]),
                    1 => c.extend(["MINID".into(), "=".into(), near(&mut rng, ms[k])]),
                    2 => c.extend(["MAXLEN".into(), (20 + rng.below(40)).to_string()]),
                    _ => {}
                }
                c.push(id);
                let n = 1 + rng.below(3);
                for j in 0..n {
                    let field = if rng.below(3) == 0 { format!("x{j}") } else { format!("f{j}") };
                    c.push(field);
                    c.push(if rng.below(2) == 0 { rng.below(70000).to_string() } else { format!("v{}", rng.below(9)) });
                }
                c
            }
            5 | 6 => {
                let mut c = vec!["XDEL".to_string(), key.to_string()];
                for _ in 0..1 + rng.below(3) {
                    c.push(near(&mut rng, ms[k]));
                }
                c
            }
            7 => {
                let mut c = vec!["XTRIM".to_string(), key.to_string()];
                if rng.below(2) == 0 {
                    c.extend([
                        "MAXLEN".into(),
                        ["~", "="][rng.below(2) as usize].into(),
                        (10 + rng.below(40)).to_string(),
                    ]);
                } else {
                    c.extend(["MINID".into(), ["~", "="][rng.below(2) as usize].into(), near(&mut rng, ms[k])]);
                }
                if c[3] == "~" && rng.below(3) == 0 {
                    c.extend(["LIMIT".into(), rng.below(10).to_string()]);
                }
                c
            }
            8 => vec![
                "XRANGE".into(),
                key.into(),
                near(&mut rng, ms[k]),
                "+".into(),
                "COUNT".into(),
                rng.below(6).to_string(),
            ],
            9 => {
                let (a, b) = (near(&mut rng, ms[k]), near(&mut rng, ms[k]));
                vec!["XREVRANGE".into(), key.into(), format!("({a}"), b]
            }
            10 => {
                let mut c =
                    vec!["XSETID".to_string(), key.to_string(), format!("{}-{}", ms[k] + rng.below(2), rng.below(9))];
                if rng.below(2) == 0 {
                    c.extend(["ENTRIESADDED".into(), rng.below(60).to_string()]);
                }
                if rng.below(3) == 0 {
                    c.extend(["MAXDELETEDID".into(), near(&mut rng, ms[k])]);
                }
                c
            }
            _ => vec!["XLEN".into(), key.into()],
        };
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        p.check(&args);
        if step % 100 == 99 {
            p.check(&["XRANGE", key, "-", "+"]);
            check_saved_bytes(&mut p, &duo, &format!("at step {step}"));
        }
        if !p.mismatches.is_empty() {
            break;
        }
    }
    // The workload must have built something worth comparing.
    let mut total = 0;
    for (k, key) in keys.iter().enumerate() {
        p.check(&["SELECT", &k.to_string()]);
        let len = p.check(&["XLEN", key]);
        total += String::from_utf8_lossy(&len[1..len.len() - 2]).parse::<i64>().unwrap_or(0);
    }
    assert!(total > 20, "only {total} entries left");
    p.assert_clean();
}

/// The same notifications, in the same order, and the same dirty counts.
#[test]
fn notifications_and_dirty_counts_match() {
    let duo = Duo::start(&["--notify-keyspace-events", "KEA"]);
    let mut p = duo.pair();
    let mut sub = duo.pair_named("subscriber");
    sub.check(&["PSUBSCRIBE", "__key*__:*"]);
    let commands: &[&[&str]] = &[
        &["XADD", "s", "1-1", "f", "v"],
        &["XADD", "s", "MAXLEN", "1", "2-1", "f", "v"],
        &["XADD", "s", "MAXLEN", "5", "3-1", "f", "v"],
        &["XADD", "s", "1-1", "f", "v"],
        &["XADD", "n", "NOMKSTREAM", "1-1", "f", "v"],
        &["XDEL", "s", "2-1", "9-9"],
        &["XDEL", "s", "9-9"],
        &["XTRIM", "s", "MAXLEN", "0"],
        &["XTRIM", "s", "MAXLEN", "0"],
        &["XSETID", "s", "10-0"],
        &["XSETID", "s", "1-0"],
        &["XADD", "s", "MINID", "11", "11-0", "f", "v"],
        &["DEL", "s"],
    ];
    for c in commands {
        let before = (dirty(&mut p.ours), dirty(&mut p.real));
        p.check(c);
        let after = (dirty(&mut p.ours), dirty(&mut p.real));
        p.compare(
            &format!("dirty of {c:?}"),
            (after.0 - before.0).to_string().as_bytes(),
            (after.1 - before.1).to_string().as_bytes(),
        );
        sub.check_published(&format!("notifications of {c:?}"));
    }
}

/// What each command appends to the AOF: XADD with `*` or `ms-*` carries the ID it made, an
/// approximate trim goes out exact (`=` and the length or first ID left), failures add nothing.
#[test]
fn propagation_matches() {
    let opts = [
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--appendfsync",
        "always",
        "--stream-node-max-entries",
        "3",
    ];
    let duo = Duo::start(&opts);
    let mut p = duo.pair();
    let mut tails = (AofTail::open(duo.ours.dir.path()), AofTail::open(duo.real.dir.path()));
    tails.0.take_new();
    tails.1.take_new();
    let commands: &[&[&str]] = &[
        &["xadd", "s", "1-1", "f", "v"],
        &["xadd", "s", "1-*", "f", "v"],
        &["xadd", "s", "maxlen", "~", "2", "5-0", "f", "v"],
        &["xadd", "s", "minid", "~", "3", "6-*", "f", "v"],
        &["xadd", "s", "1-1", "f", "v"],
        &["xadd", "s", "nomkstream", "7-0", "f", "v"],
        &["xadd", "s", "maxlen", "=", "100", "8-0", "f", "v"],
        &["xtrim", "s", "maxlen", "~", "1"],
        &["xtrim", "s", "minid", "~", "7"],
        &["xtrim", "s", "maxlen", "2"],
        &["xtrim", "s", "maxlen", "~", "0", "limit", "1"],
        &["xdel", "s", "8-0", "99-0"],
        &["xdel", "s", "99-0"],
        &["xsetid", "s", "50-0", "entriesadded", "100", "maxdeletedid", "9-0"],
        &["xadd", "t", "*", "f", "v"],
    ];
    for c in commands {
        if c[2] == "*" {
            // The time-made ID differs between the servers: ours must propagate the one it replied.
            let reply = p.ours.cmd(c);
            p.real.cmd(c);
            let id = crate::common::Reply::parse(&reply).bulk().expect("an ID").to_vec();
            let (ours, _) = (tails.0.take_new(), tails.1.take_new());
            assert_eq!(ours, vec![vec![b"xadd".to_vec(), b"t".to_vec(), id, b"f".to_vec(), b"v".to_vec()]]);
            continue;
        }
        p.check(c);
        let (ours, real) = (tails.0.take_new(), tails.1.take_new());
        p.compare(&format!("AOF of {c:?}"), format!("{ours:?}").as_bytes(), format!("{real:?}").as_bytes());
    }
}
