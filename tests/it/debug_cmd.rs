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

#[test]
fn protocol_error_and_listpack_are_reals() {
    let duo = Duo::start(OPTIONS);
    duo.in_both_protocols(|p| {
        let resp3 = p.label == "RESP3";
        for t in [
            "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "true", "false",
            "verbatim", "nosuch", "STRING",
        ] {
            p.check(&["DEBUG", "PROTOCOL", t]);
        }
        if resp3 {
            p.check_n(&["DEBUG", "PROTOCOL", "push"], 2);
        } else {
            p.check(&["DEBUG", "PROTOCOL", "push"]);
        }
        check_all(
            p,
            &[
                &["DEBUG", "PROTOCOL"],
                &["CONFIG", "RESETSTAT"],
                &["DEBUG", "ERROR", "CUSTOM my error"],
                &["DEBUG", "ERROR", "two\r\nlines\n"],
                &["DEBUG", "ERROR", ""],
                &["DEBUG", "ERROR"],
                &["INFO", "errorstats"],
                &["HSET", "h", "f", "v"],
                &["ZADD", "z", "1", "m"],
                &["RPUSH", "l", "x"],
                &["SADD", "s", "1"],
                &["HSET", "big", "f", &"v".repeat(100)],
                &["DEBUG", "LISTPACK", "h"],
                &["DEBUG", "LISTPACK", "z"],
                &["DEBUG", "LISTPACK", "l"],
                &["DEBUG", "LISTPACK", "s"],
                &["DEBUG", "LISTPACK", "big"],
                &["DEBUG", "LISTPACK", "nosuch"],
                &["DEBUG", "QUICKLIST", "l"],
                &["DEBUG", "QUICKLIST", "l", "1"],
                &["DEBUG", "QUICKLIST", "h"],
                &["DEBUG", "QUICKLIST", "nosuch"],
                &["DEBUG", "QUICKLIST", "l", "1", "x"],
                &["DEBUG", "NOSUCH"],
                &["DEBUG", "STRINGMATCH-TEST", "extra"],
                &["DEBUG", "CONFIG-REWRITE-FORCE-ALL"],
            ],
        );
    });
}

/// Each line of our DEBUG HELP is Redis's, in Redis's order (we have fewer subcommands).
#[test]
fn help_lines_are_reals() {
    let duo = Duo::start(OPTIONS);
    let mut p = duo.pair();
    let lines = |c: &mut crate::common::Client| crate::common::Reply::parse(&c.cmd(&["DEBUG", "HELP"])).texts();
    let (ours, real) = (lines(&mut p.ours), lines(&mut p.real));
    let mut rest = real.iter();
    for line in &ours {
        assert!(rest.any(|r| r == line), "{line:?} is not in Redis's DEBUG HELP (or out of order):\n{real:#?}");
    }
    for sub in [
        "DIGEST",
        "POPULATE <count> [<prefix>] [<size>]",
        "PROTOCOL <type>",
        "LOADAOF",
        "ERROR <string>",
        "ASSERT",
        "CRASH-AND-RECOVER [<milliseconds>]",
        "LEAK <string>",
        "MALLCTL <key> [<val>]",
        "MALLCTL-STR <key> [<val>]",
        "OOM",
        "PANIC",
        "RESTART [<milliseconds>]",
        "SDSLEN <key>",
        "SEGFAULT",
    ] {
        assert!(ours.iter().any(|l| l == sub), "{sub} missing from our DEBUG HELP");
    }
}

#[test]
fn skip_checksum_validation_and_change_repl_id() {
    let duo = Duo::start(OPTIONS);
    let mut p = duo.pair();
    p.check(&["SET", "k", "v"]);
    let good = crate::common::Reply::parse(&p.real.cmd(&["DUMP", "k"])).bulk().expect("a payload").to_vec();
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xFF;
    let restore = |p: &mut Pair, key: &[u8], payload: &[u8]| {
        let (o, r) =
            (p.ours.cmd_bytes(&[b"RESTORE", key, b"0", payload]), p.real.cmd_bytes(&[b"RESTORE", key, b"0", payload]));
        p.compare("RESTORE with a wrong checksum", &o, &r);
    };
    restore(&mut p, b"a", &bad);
    p.check(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
    restore(&mut p, b"a", &bad);
    p.check(&["GET", "a"]);
    p.check(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]);
    restore(&mut p, b"b", &bad);
    p.check(&["EXISTS", "b"]);
    let replid = |c: &mut crate::common::Client, field: &str| {
        let info = String::from_utf8_lossy(&c.cmd(&["INFO", "replication"])).into_owned();
        info.lines().find_map(|l| l.strip_prefix(field).map(str::to_string)).expect("replid in INFO")
    };
    for c in [&mut p.ours, &mut p.real] {
        let before = replid(c, "master_replid:");
        assert_eq!(c.cmd(&["DEBUG", "CHANGE-REPL-ID"]), b"+OK\r\n");
        assert_ne!(replid(c, "master_replid:"), before);
        assert_eq!(replid(c, "master_replid2:"), "0".repeat(40));
    }
    // STRINGMATCH-TEST itself takes seconds in Redis too: its fuzzing is a unit test of ours.
}

/// LOADAOF empties the dataset and replays the AOF: the same data, nothing counted as changed.
#[test]
fn loadaof_replays_the_aof() {
    let duo = Duo::start(&["--enable-debug-command", "yes", "--appendonly", "yes", "--appendfsync", "always"]);
    let mut p = duo.pair();
    check_all(
        &mut p,
        &[
            &["SET", "a", "1"],
            &["RPUSH", "l", "x", "y"],
            &["HSET", "h", "f", "v"],
            &["EXPIRE", "a", "1000"],
            &["SELECT", "2"],
            &["SADD", "s", "m"],
            &["SELECT", "0"],
        ],
    );
    let before = p.check(&["DEBUG", "DIGEST"]);
    p.check(&["DEBUG", "LOADAOF"]);
    let after = p.check(&["DEBUG", "DIGEST"]);
    assert_eq!(before, after, "the dataset came back");
    p.check(&["TTL", "a"]);
    let (o, r) = (dirty(&mut p.ours), dirty(&mut p.real));
    p.compare("dirty after LOADAOF", o.to_string().as_bytes(), r.to_string().as_bytes());
    // Nothing replayed went to the AOF again: a second reload gives the same data.
    p.check(&["DEBUG", "LOADAOF"]);
    p.check(&["DEBUG", "DIGEST"]);
    p.check(&["DBSIZE"]);
}

/// PAUSE-CRON 1 stops the periodic work (here the active expiry); 0 resumes it.
#[test]
fn pause_cron_stops_active_expiry() {
    let duo = Duo::start(OPTIONS);
    let mut p = duo.pair();
    p.check(&["DEBUG", "PAUSE-CRON", "1"]);
    p.check(&["SET", "k", "v", "PX", "20"]);
    // What must not happen is given a while to happen: 30 cron periods at hz 10 would be 3 s;
    // 300 ms is three periods, plenty for the expiry cycle to have run were it not paused.
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.check(&["DBSIZE"]);
    p.check(&["DEBUG", "PAUSE-CRON", "0"]);
    wait_both("the active expiry resumed", &mut p, |c| c.cmd(&["DBSIZE"]) == b":0\r\n");
}

/// QUICKLIST-PACKED-THRESHOLD: elements that long are held (and dumped) as PLAIN nodes.
#[test]
fn quicklist_packed_threshold_shapes_the_dump() {
    let duo = Duo::start(OPTIONS);
    let mut p = duo.pair();
    let big = "x".repeat(200);
    let huge = "y".repeat(5000);
    for size in ["5gb", "4294967296", "-1", "abc", "1.5k", "100"] {
        p.check(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", size]);
    }
    check_all(
        &mut p,
        &[
            &["RPUSH", "l", "a", &big, "b", "c", &huge, &big],
            &["LRANGE", "l", "0", "-1"],
            &["DUMP", "l"],
            &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
            &["RPUSH", "m", "a", &big, "b"],
            &["DUMP", "m"],
        ],
    );
    // Redis's PLAIN nodes load back as the same list, and dump alike.
    p.check(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"]);
    let payload = crate::common::Reply::parse(&p.real.cmd(&["DUMP", "l"])).bulk().expect("a payload").to_vec();
    let (o, r) = (
        p.ours.cmd_bytes(&[b"RESTORE", b"copy", b"0", &payload]),
        p.real.cmd_bytes(&[b"RESTORE", b"copy", b"0", &payload]),
    );
    p.compare("RESTORE of PLAIN nodes", &o, &r);
    check_all(
        &mut p,
        &[&["LRANGE", "copy", "0", "-1"], &["DUMP", "copy"], &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"]],
    );
}

/// CONFIG-REWRITE-FORCE-ALL writes every directive, defaults included: each line ours writes is
/// one real Redis writes for the same configuration (real Redis also writes the directives we do
/// not have, TLS and cluster ones).
#[test]
fn config_rewrite_force_all_writes_the_defaults() {
    let config = "enable-debug-command yes\nmaxmemory 10mb\n";
    let ours = if ours_is_real() {
        crate::common::Server::start_real_with_config(config, &[])
    } else {
        crate::common::Server::start_with_config(config, &[])
    };
    let real = crate::common::Server::start_real_with_config(config, &[]);
    let mut p = Pair { ours: ours.client(), real: real.client(), label: String::new(), mismatches: Vec::new() };
    p.check(&["CONFIG", "SET", "hz", "20"]);
    p.check(&["DEBUG", "CONFIG-REWRITE-FORCE-ALL"]);
    let lines = |s: &crate::common::Server| -> Vec<String> {
        let text = std::fs::read_to_string(s.dir.path().join("redis.conf")).expect("the rewritten config");
        // What names the server's own port, files and paths differs between the two; the
        // process title template and "slave" (Redis writes "replica") are CONFIG REWRITE's own
        // differences, not this command's; Redis quotes every string value, we only those that
        // need it.
        let own = [
            "port ",
            "dir ",
            "logfile ",
            "bind ",
            "save ",
            "daemonize ",
            "pidfile ",
            "proc-title-template ",
            "client-output-buffer-limit slave ",
            "client-output-buffer-limit replica ",
        ];
        text.lines()
            .filter(|l| !l.is_empty() && !own.iter().any(|o| l.starts_with(o)))
            .map(|l| l.replace('"', ""))
            .collect()
    };
    let (o, r) = (lines(&ours), lines(&real));
    let missing: Vec<&String> = o.iter().filter(|l| !r.contains(l)).collect();
    assert!(missing.is_empty(), "lines ours wrote that real Redis did not: {missing:#?}");
    assert!(o.len() > 100, "only {} lines: not every directive was written", o.len());
    for must in ["hz 20", "maxmemory 10mb", "databases 16", "appendonly no"] {
        assert!(o.iter().any(|l| l == must), "{must:?} not written");
    }
}

/// AOF-FLUSH-SLEEP makes each write to the AOF wait that long first (a slow disk).
#[test]
fn aof_flush_sleep_delays_writes() {
    let duo = Duo::start(&["--enable-debug-command", "yes", "--appendonly", "yes"]);
    let mut p = duo.pair();
    p.check(&["DEBUG", "AOF-FLUSH-SLEEP", "300000"]);
    for c in [&mut p.ours, &mut p.real] {
        let start = std::time::Instant::now();
        assert_eq!(c.cmd(&["SET", "k", "v"]), b"+OK\r\n");
        assert!(
            start.elapsed() >= std::time::Duration::from_millis(300),
            "the write did not wait: {:?}",
            start.elapsed()
        );
    }
    p.check(&["DEBUG", "AOF-FLUSH-SLEEP", "0"]);
    p.check(&["SET", "k", "w"]);
}

/// REPLICATE sends a command to the replicas only: they diverge from their master.
#[test]
fn replicate_reaches_only_the_replicas() {
    let duo = Duo::start(&["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"]);
    let replica_of = |port: u16| crate::common::Server::start_real(&["--replicaof", "127.0.0.1", &port.to_string()]);
    let (replica_o, replica_r) = (replica_of(duo.ours.port), replica_of(duo.real.port));
    let mut replicas =
        Pair { ours: replica_o.client(), real: replica_r.client(), label: "replicas".into(), mismatches: Vec::new() };
    for c in [&mut replicas.ours, &mut replicas.real] {
        crate::common::wait_for("a replica linked", std::time::Duration::from_secs(30), || {
            String::from_utf8_lossy(&c.cmd(&["INFO", "replication"])).contains("master_link_status:up")
        });
    }
    let mut p = duo.pair();
    p.check(&["SET", "shared", "1"]);
    p.check(&["DEBUG", "REPLICATE", "SET", "diverged", "yes"]);
    p.check(&["DEBUG", "REPLICATE"]);
    wait_both("the replicated command applied", &mut replicas, |c| c.cmd(&["GET", "diverged"]) == b"$3\r\nyes\r\n");
    replicas.check(&["GET", "shared"]);
    p.check(&["EXISTS", "diverged"]);
}

/// DEBUG OBJECT of a list adds its quicklist's shape: node count, average fill, the limits and
/// the nodes' bytes, as Redis holds it.
#[test]
fn debug_object_shows_the_quicklist() {
    let duo = Duo::start(OPTIONS);
    let mut p = duo.pair();
    let fields = |b: &[u8]| -> Vec<u8> {
        let text = String::from_utf8_lossy(b).into_owned();
        let kept: Vec<&str> = text
            .split(' ')
            .filter(|f| !f.starts_with("at:") && !f.starts_with("lru:") && !f.starts_with("lru_seconds_idle:"))
            .collect();
        kept.join(" ").into_bytes()
    };
    let mut rng = Rng(0x0b1e);
    for i in 0..12 {
        let key = format!("l{i}");
        let mut cmd = vec!["RPUSH".to_string(), key.clone()];
        for _ in 0..1 + rng.below(600) {
            let len = if rng.below(8) == 0 { rng.below(2000) } else { rng.below(30) };
            cmd.push("v".repeat(len));
        }
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        p.check(&refs);
        p.check_with(&["DEBUG", "OBJECT", &key], fields);
    }
    // A list created under list-compress-depth (Redis keeps the setting a list was created with;
    // we show the current one).
    p.check(&["CONFIG", "SET", "list-compress-depth", "1"]);
    p.check(&["RPUSH", "compressed", "a", "b"]);
    p.check_with(&["DEBUG", "OBJECT", "compressed"], fields);
}
