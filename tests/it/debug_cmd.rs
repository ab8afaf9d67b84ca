//! DEBUG's subcommands against Debian's real Redis 7.0: DIGEST and DIGEST-VALUE over a dataset
//! of every type and encoding built by the same commands on both, POPULATE, PROTOCOL in RESP2
//! and RESP3, ERROR, the switches, HELP and the errors.

use crate::differential_support::*;

/// The servers allow DEBUG.
const OPTIONS: &[&str] = &["--enable-debug-command", "yes"];

/// One key of each type and encoding, some volatile, in two databases.
fn dataset(p: &mut Pair) {
    let many: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let scored: Vec<String> = (0..300).flat_map(|i| [format!("{}.5", i % 17), format!("m{i}")]).collect();
    let ints: Vec<String> = (0..600).map(|i| (i * 3).to_string()).collect();
    let words = |head: &[&str], tail: &[String]| -> Vec<String> {
        head.iter().map(|s| s.to_string()).chain(tail.iter().cloned()).collect()
    };
    let mut cmds: Vec<Vec<String>> = vec![
        words(&["SET", "str:int", "-42"], &[]),
        words(&["SET", "str:embstr", "hello"], &[]),
        words(&["SET", "str:raw", &"r".repeat(100)], &[]),
        words(&["SET", "str:volatile", "v", "EX", "1000"], &[]),
        words(&["RPUSH", "list", "a", "1", "b", "-7"], &[]),
        words(&["RPUSH", "list:big"], &many),
        words(&["SADD", "set:intset", "3", "1", "2"], &[]),
        words(&["SADD", "set:ht", "x", "y", "z"], &[]),
        words(&["SADD", "set:big"], &ints),
        words(&["HSET", "hash:lp", "f", "1", "g", "two"], &[]),
        words(&["HSET", "hash:ht", "f", &"v".repeat(100)], &[]),
        words(&["ZADD", "zset:lp", "1", "a", "2.5", "b", "-inf", "c", "1e-300", "d", "3", "10"], &[]),
        words(&["ZADD", "zset:sl"], &scored),
        words(&["XADD", "stream", "1-1", "a", "1"], &[]),
        words(&["XADD", "stream", "2-2", "a", "2", "b", "3"], &[]),
        words(&["XGROUP", "CREATE", "stream", "g", "0"], &[]),
        words(&["PEXPIRE", "zset:lp", "100000000"], &[]),
        words(&["SELECT", "1"], &[]),
        words(&["SET", "str:int", "-42"], &[]),
        words(&["RPUSH", "list", "b", "a"], &[]),
        words(&["SELECT", "0"], &[]),
    ];
    for cmd in cmds.drain(..) {
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        p.check(&refs);
    }
}

const KEYS: &[&str] = &[
    "str:int",
    "str:embstr",
    "str:raw",
    "str:volatile",
    "list",
    "list:big",
    "set:intset",
    "set:ht",
    "set:big",
    "hash:lp",
    "hash:ht",
    "zset:lp",
    "zset:sl",
    "stream",
    "nosuch",
];

#[test]
fn digests_equal_reals() {
    let duo = Duo::start(OPTIONS);
    duo.in_both_protocols(|p| {
        p.check(&["DEBUG", "DIGEST"]);
        dataset(p);
        p.check(&["DEBUG", "DIGEST"]);
        for key in KEYS {
            p.check(&["DEBUG", "DIGEST-VALUE", key]);
        }
        let mut all = vec!["DEBUG", "DIGEST-VALUE"];
        all.extend_from_slice(KEYS);
        p.check(&all);
        p.check(&["DEBUG", "DIGEST-VALUE"]);
        // Changes show: an element's order in a list, a TTL removed, a score.
        p.check(&["LMOVE", "list", "list", "LEFT", "RIGHT"]);
        p.check(&["PERSIST", "str:volatile"]);
        p.check(&["ZINCRBY", "zset:sl", "0.25", "m3"]);
        p.check(&["DEBUG", "DIGEST"]);
        p.check(&["DEBUG", "DIGEST", "extra"]);
    });
}

#[test]
fn populate_is_reals() {
    let duo = Duo::start(OPTIONS);
    duo.in_both_protocols(|p| {
        check_all(
            p,
            &[
                &["SET", "key:3", "mine"],
                &["DEBUG", "POPULATE", "10"],
                &["DBSIZE"],
                &["GET", "key:3"],
                &["GET", "key:9"],
                &["OBJECT", "ENCODING", "key:9"],
                &["DEBUG", "POPULATE", "5", "p"],
                &["GET", "p:4"],
                &["DEBUG", "POPULATE", "3", "sized", "20"],
                &["GET", "sized:2"],
                &["DEBUG", "POPULATE", "3", "short", "3"],
                &["GET", "short:1"],
                &["DEBUG", "POPULATE", "2", "", "0"],
                &["GET", ":1"],
                &["DEBUG", "POPULATE", "0"],
                &["DEBUG", "POPULATE", "-1"],
                &["DEBUG", "POPULATE", "x"],
                &["DEBUG", "POPULATE", "1", "k", "-1"],
                &["DEBUG", "POPULATE", "1", "k", "1", "extra"],
                &["DEBUG", "POPULATE"],
                &["DEBUG", "DIGEST"],
                &["DBSIZE"],
            ],
        );
        let long = "p".repeat(130);
        p.check(&["DEBUG", "POPULATE", "2", &long]);
        p.check(&["KEYS", &format!("{}*", &long[..100])]);
        // Not a change to save.
        let (o, r) = (dirty(&mut p.ours), dirty(&mut p.real));
        p.compare("dirty after POPULATE", o.to_string().as_bytes(), r.to_string().as_bytes());
    });
}
