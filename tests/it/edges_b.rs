//! Differential tests against Debian's real Redis 7.0 for edges of issue 19: CONFIG SET of several
//! parameters at once (checks, order, rollback), CONFIG GET and hidden configs, and the
//! redaction of secrets in MONITOR and SLOWLOG.

use std::net::TcpListener;

use crate::common::wait_for;
use crate::differential_support::*;

/// CONFIG GET answers in Redis's hash order: compared as a set of name/value pairs (in RESP3,
/// where the reply is a map, the pairs stay whole).
fn check_config_get(p: &mut Pair, args: &[&str]) {
    p.check_sorted(args);
}

#[test]
fn config_set_checks_every_name_before_any_value() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        check_all(
            p,
            &[
                // An odd count of arguments is a syntax error once the arity (-4) is met.
                &["CONFIG", "SET", "maxmemory", "1", "hz"],
                &["CONFIG", "SET", "maxmemory"],
                // Names first: the unknown one is reported although an earlier value is bad.
                &["CONFIG", "SET", "maxmemory", "x", "nosuch", "1"],
                &["CONFIG", "SET", "nosuch", "1", "daemonize", "yes"],
                &["CONFIG", "SET", "daemonize", "yes", "nosuch", "1"],
                // Errors about the name quote it as typed.
                &["CONFIG", "SET", "Daemonize", "yes"],
                &["CONFIG", "SET", "maxmemory", "3gb", "MAXMEMORY", "4gb"],
                &["CONFIG", "SET", "DIR", "/tmp"],
                &["CONFIG", "SET", "SLAVEOF", "no one"],
                // Errors about the value name the directive as Redis spells it.
                &["CONFIG", "SET", "MAXMEMORY", "x"],
                &["CONFIG", "SET", "HASH-MAX-ZIPLIST-ENTRIES", "x"],
                &["CONFIG", "SET", "hash-max-listpack-entries", "1kb"],
                &["CONFIG", "SET", "set-max-intset-entries", "1kb"],
                &["CONFIG", "SET", "zset-max-listpack-entries", "1kb"],
                &["CONFIG", "SET", "tracking-table-max-keys", "1kb"],
                &["CONFIG", "SET", "hash-max-listpack-value", "1kb"],
                &["CONFIG", "GET", "hash-max-listpack-value"],
                &["CONFIG", "SET", "hash-max-listpack-value", "64"],
                // memtoull refuses a sign: a memory config is never negative.
                &["CONFIG", "SET", "maxmemory", "-1"],
                &["CONFIG", "SET", "maxmemory", "-1mb"],
                &["CONFIG", "SET", "maxmemory", "-0"],
                &["CONFIG", "SET", "proto-max-bulk-len", "-1"],
                &["CONFIG", "SET", "client-output-buffer-limit", "normal -1 0 0"],
                &["CONFIG", "GET", "maxmemory"],
                // maxmemory-clients also takes a percentage.
                &["CONFIG", "SET", "maxmemory-clients", "50%"],
                &["CONFIG", "GET", "maxmemory-clients"],
                &["CONFIG", "SET", "maxmemory-clients", "101%"],
                &["CONFIG", "SET", "maxmemory-clients", "-1%"],
                &["CONFIG", "SET", "maxmemory-clients", "%"],
                &["CONFIG", "SET", "maxmemory-clients", "-1"],
                &["CONFIG", "SET", "maxmemory-clients", "1mb"],
                &["CONFIG", "GET", "maxmemory-clients"],
                &["CONFIG", "SET", "maxmemory-clients", "0"],
            ],
        );
    });
}

#[test]
fn config_set_of_several_parameters_is_all_or_nothing() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        check_all(
            p,
            &[
                &["CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lru", "hz", "20"],
                &["CONFIG", "GET", "maxmemory"],
                &["CONFIG", "GET", "maxmemory-policy"],
                &["CONFIG", "GET", "hz"],
                // A bad value later in the list: nothing changes.
                &["CONFIG", "SET", "maxmemory", "2gb", "hz", "30", "maxmemory-policy", "nosuch"],
                &["CONFIG", "GET", "maxmemory"],
                &["CONFIG", "GET", "hz"],
                &["CONFIG", "GET", "maxmemory-policy"],
                // A name and its alias are two entries: not duplicates, the later wins.
                &["CONFIG", "SET", "hash-max-listpack-entries", "10", "hash-max-ziplist-entries", "20"],
                &["CONFIG", "GET", "hash-max-listpack-entries"],
                &["CONFIG", "SET", "hash-max-ziplist-entries", "30", "hash-max-listpack-entries", "x"],
                &["CONFIG", "GET", "hash-max-listpack-entries"],
                &["CONFIG", "SET", "hash-max-listpack-entries", "512"],
                // Values accumulate in order within one call.
                &["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2mb 3", "maxmemory", "5mb"],
                &["CONFIG", "GET", "client-output-buffer-limit"],
                &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2 3", "maxmemory", "bad"],
                &["CONFIG", "GET", "client-output-buffer-limit"],
                &["CONFIG", "GET", "maxmemory"],
                &["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60", "maxmemory", "0"],
                &["CONFIG", "SET", "maxmemory-policy", "noeviction", "hz", "10"],
            ],
        );
    });
}

/// A change that cannot take effect (the port is taken) restores every value of the call and the
/// listener, with Redis's error text and log line.
#[test]
fn config_set_rolls_back_when_a_change_cannot_take_effect() {
    let duo = Duo::start(&[]);
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port to take");
    let port = taken.local_addr().expect("local addr").port().to_string();
    let mut p = duo.pair();
    check_all(
        &mut p,
        &[
            &["CONFIG", "SET", "maxmemory", "7mb", "port", &port, "hz", "33"],
            &["CONFIG", "GET", "maxmemory"],
            &["CONFIG", "GET", "hz"],
            // bind named first: its apply step runs first and names it.
            &["CONFIG", "SET", "bind", "127.0.0.1 -::1", "port", &port, "maxmemory", "8mb"],
            &["CONFIG", "GET", "bind"],
            &["CONFIG", "GET", "maxmemory"],
        ],
    );
    // Naming its current port with a bad bind: only the bind changed, so only it is applied and
    // named (each server is given its own port).
    let set = |port: u16| ["CONFIG", "SET", "port", &port.to_string(), "bind", "192.0.2.1"].map(String::from);
    let (o, r) = (set(duo.ours.port), set(duo.real.port));
    let (o, r) = (p.ours.cmd(&o.each_ref().map(String::as_str)), p.real.cmd(&r.each_ref().map(String::as_str)));
    p.compare("CONFIG SET port <its own> bind 192.0.2.1", &o, &r);
    p.check(&["CONFIG", "GET", "bind"]);
    p.assert_clean();
    drop(p);
    for (who, server) in [("ours", &duo.ours), ("real", &duo.real)] {
        let mut c = server.client();
        assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n", "{who} still listens on its port after the rollback");
        wait_for(&format!("{who} logs the rollback"), std::time::Duration::from_secs(10), || {
            server.log_text().contains(
                "Failed applying new configuration. Possibly related to new port setting. Restoring previous settings.",
            )
        });
    }
}

#[test]
fn config_get_hides_hidden_configs_from_patterns() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        for args in [
            &["CONFIG", "GET", "key-load-delay"][..],
            &["CONFIG", "GET", "KEY-LOAD-DELAY"],
            &["CONFIG", "GET", "*load-delay*"],
            &["CONFIG", "GET", "rdb-key-save-delay"],
            &["CONFIG", "GET", "*key-save*"],
            &["CONFIG", "GET", "watchdog-period"],
            &["CONFIG", "GET", "watchdog*"],
            &["CONFIG", "GET", "use-exit-on-panic"],
            &["CONFIG", "GET", "use-exit*"],
            // A name is answered as asked, once however often it is asked.
            &["CONFIG", "GET", "MAXMEMORY"],
            &["CONFIG", "GET", "maxmemory", "MAXMEMORY", "max*"],
            &["CONFIG", "GET", "max*", "MAXMEMORY"],
            &["CONFIG", "GET", "hash-max-*-entries"],
            &["CONFIG", "GET", "HASH-MAX-ZIPLIST-ENTRIES", "hash-max-listpack-entries"],
            &["CONFIG", "GET", "nosuch"],
            &["CONFIG", "GET", "slave*", "replica*"],
        ] {
            check_config_get(p, args);
        }
        check_all(
            p,
            &[
                &["CONFIG", "SET", "key-load-delay", "5"],
                &["CONFIG", "GET", "key-load-delay"],
                &["CONFIG", "SET", "key-load-delay", "0"],
                &["CONFIG", "SET", "use-exit-on-panic", "yes"],
                &["CONFIG", "GET", "use-exit-on-panic"],
                &["CONFIG", "SET", "use-exit-on-panic", "no"],
            ],
        );
    });
}

/// How `sample_args` fills a command's argument list from its COMMAND DOCS.
#[derive(Clone, Copy)]
enum Sample {
    /// The required arguments only, each once.
    Fewest,
    /// Every optional argument too, repeated ones twice, the first of each choice.
    AllFirst,
    /// Like `AllFirst` with the last of each choice.
    AllLast,
}

impl Sample {
    fn repeats(self) -> usize {
        match self {
            Sample::Fewest => 1,
            _ => 2,
        }
    }
}

/// Arguments for a command built from its COMMAND DOCS `arguments`: keys are `k1`, `k2`... in
/// order, a `numkeys` integer counts the keys its repetition gives, other values are plain
/// samples of their type.
fn sample_args(args: &[crate::common::Reply], how: Sample, keys: &mut usize, out: &mut Vec<String>) {
    for arg in args {
        let field = |name: &str| arg.get(name).map(|v| v.text());
        let flags: Vec<String> = arg.get("flags").map(|f| f.texts()).unwrap_or_default();
        let optional = flags.iter().any(|f| f == "optional");
        if optional && matches!(how, Sample::Fewest) {
            continue;
        }
        let times = if flags.iter().any(|f| f == "multiple") { how.repeats() } else { 1 };
        let token_each = flags.iter().any(|f| f == "multiple_token");
        let token = field("token");
        let kind = field("type").unwrap_or_default();
        let name = field("name").unwrap_or_default();
        for i in 0..times {
            if let Some(t) = &token {
                if kind != "pure-token" && (i == 0 || token_each) {
                    out.push(t.clone());
                }
            }
            match kind.as_str() {
                "key" => {
                    *keys += 1;
                    out.push(format!("k{keys}"));
                }
                "integer"
                    if name.contains("numkeys") || name == "count" && out.last().is_some_and(|t| t == "STREAMS") =>
                {
                    out.push(how.repeats().to_string())
                }
                "integer" => out.push("1".into()),
                "double" => out.push("1.5".into()),
                "unix-time" => out.push("100".into()),
                "pattern" => out.push("*".into()),
                "pure-token" => out.push(token.clone().unwrap_or_default()),
                "oneof" | "block" => {
                    let subs = arg.get("arguments").map(|a| a.array().to_vec()).unwrap_or_default();
                    if kind == "block" {
                        sample_args(&subs, how, keys, out);
                    } else if let Some(pick) = match how {
                        Sample::AllLast => subs.last(),
                        _ => subs.first(),
                    } {
                        sample_args(std::slice::from_ref(pick), how, keys, out);
                    }
                }
                _ => out.push("s".into()),
            }
        }
    }
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS for every command both servers have, with argument lists
/// built from Redis's COMMAND DOCS (fewest, fullest, other choices), plus hand-written lines for
/// the commands whose keys move (their own key finders).
#[test]
fn command_getkeys_for_every_command() {
    use crate::common::Reply;
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let ours: std::collections::BTreeSet<String> =
        Reply::parse(&p.ours.cmd(&["COMMAND", "LIST"])).texts().into_iter().collect();
    p.both(&["HELLO", "3"]);
    let docs = Reply::parse(&p.real.cmd(&["COMMAND", "DOCS"]));
    let mut lines: Vec<Vec<String>> = Vec::new();
    let add = |full: &str, doc: &Reply, lines: &mut Vec<Vec<String>>| {
        if !ours.contains(full) {
            return;
        }
        let args = doc.get("arguments").map(|a| a.array().to_vec()).unwrap_or_default();
        for how in [Sample::Fewest, Sample::AllFirst, Sample::AllLast] {
            let mut line: Vec<String> = full.split('|').map(str::to_uppercase).collect();
            sample_args(&args, how, &mut 0, &mut line);
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    };
    for (name, doc) in docs.pairs() {
        add(&name.text(), doc, &mut lines);
        if let Some(subs) = doc.get("subcommands") {
            for (sub, sdoc) in subs.pairs() {
                add(&sub.text(), sdoc, &mut lines);
            }
        }
    }
    assert!(lines.len() > 300, "only {} argument lists: is COMMAND DOCS parsed?", lines.len());
    let by_hand: &[&[&str]] = &[
        &["XREAD", "STREAMS", "a", "b", "0", "0"],
        &["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "0"],
        &["XREAD", "STREAMS", "a", "b", "0"],
        &["XREAD", "streams"],
        &["XREAD", "COUNT", "1"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"],
        &["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "a", ">"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a"],
        &["SORT", "k", "BY", "nosort", "STORE", "d", "STORE", "e"],
        &["SORT", "k", "STORE"],
        &["SORT", "k", "LIMIT", "0", "1", "STORE", "d"],
        &["SORT_RO", "k", "STORE", "d"],
        &["ZUNIONSTORE", "d", "3", "a", "b", "c", "WEIGHTS", "1", "2", "3"],
        &["ZUNIONSTORE", "d", "0", "a"],
        &["ZUNIONSTORE", "d", "5", "a"],
        &["ZINTERSTORE", "d", "-1", "a"],
        &["ZDIFFSTORE", "d", "x", "a"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"],
        // A count the key specs refuse goes to Redis's getkeys procs, which read it with atoi
        // and give keys without flags (the destination last).
        &["ZUNIONSTORE", "d", "1x", "a"],
        &["ZUNIONSTORE", "d", " 1", "a"],
        &["ZUNIONSTORE", "d", "+2", "a", "b"],
        &["ZUNIONSTORE", "d", "4294967297", "a"],
        &["ZINTERSTORE", "d", "1.9", "a"],
        &["ZUNION", "1x", "a"],
        &["ZDIFF", "2abc", "a", "b"],
        &["ZINTERCARD", "1 ", "a"],
        &["LMPOP", "1x", "a", "LEFT"],
        &["BLMPOP", "0", "1x", "a", "LEFT"],
        &["ZMPOP", "1x", "a", "MIN"],
        &["BZMPOP", "0", "1x", "a", "MIN"],
        &["SINTERCARD", "1x", "a"],
        &["EVAL", "s", "1x", "a"],
        &["EVAL", "s", "x", "a"],
        &["FCALL", "f", "2y", "a", "b"],
        &["SORT", "k", "STORE", "d", "BY", "x"],
        &["ZUNIONSTORE", "d", "2147483649", "a"],
        &["ZUNIONSTORE", "d", "18446744073709551617", "a"],
        &["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "STORE"],
        &["GEORADIUS", "g", "0", "0", "1", "km", "STOREDIST"],
        &["XREAD", "STREAMS"],
        &["XREAD", "BLOCK", "STREAMS"],
        &["EVAL", "return 1", "0"],
        &["EVAL", "return 1", "2", "a", "b", "c"],
        &["EVAL", "return 1", "3", "a"],
        &["EVAL", "return 1", "-1"],
        &["EVAL_RO", "return 1", "1", "a"],
        &["EVALSHA", "abc", "2", "a", "b"],
        &["EVALSHA_RO", "abc", "1", "a"],
        &["FCALL", "f", "2", "a", "b", "c"],
        &["FCALL_RO", "f", "0"],
        &["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"],
        &["GEORADIUS", "g", "0", "0", "1", "km", "STOREDIST", "e", "STORE", "d"],
        &["GEORADIUS", "g", "0", "0", "1", "km", "STORE"],
        &["GEORADIUS", "g", "0", "0", "1", "km", "WITHDIST"],
        &["GEORADIUSBYMEMBER", "g", "m", "1", "km", "STORE", "d"],
        &["GEORADIUSBYMEMBER", "g", "m", "1", "km", "storedist", "d", "COUNT", "1"],
        &["GEORADIUS_RO", "g", "0", "0", "1", "km", "STORE", "d"],
        &["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
        &["LMPOP", "0", "a", "LEFT"],
        &["LMPOP", "3", "a", "LEFT"],
        &["BLMPOP", "0", "2", "a", "b", "LEFT"],
        &["BZMPOP", "0", "1", "a", "MIN", "COUNT", "2"],
        &["ZMPOP", "2", "a", "b", "MAX"],
        &["SINTERCARD", "-1", "a"],
        &["MSETNX", "a", "1", "b"],
        &["OBJECT", "FREQ", "k"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "5"],
        &["XINFO", "STREAM", "s", "FULL"],
        &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
        &["PFMERGE", "d", "a", "b"],
        &["PFCOUNT", "a", "b"],
        &["BITFIELD", "k", "SET", "u8", "0", "1"],
        &["BITFIELD_RO", "k", "GET", "u8", "0"],
        &["WATCH", "a", "b"],
        &["SUBSCRIBE", "c"],
        &["PUBLISH", "c", "m"],
    ];
    lines.extend(by_hand.iter().map(|l| l.iter().map(|s| s.to_string()).collect()));
    for resp in ["2", "3"] {
        p.both(&["HELLO", resp]);
        for line in &lines {
            for sub in ["GETKEYS", "GETKEYSANDFLAGS"] {
                let args: Vec<&str> = ["COMMAND", sub].into_iter().chain(line.iter().map(String::as_str)).collect();
                p.check(&args);
            }
        }
    }
}

/// Waits until neither server has lazy frees pending, then compares how many objects each has
/// freed in the background.
fn check_lazyfreed(p: &mut Pair, after: &str) {
    wait_both(&format!("lazy frees done after {after}"), p, |c| {
        c.info_field("memory", "lazyfree_pending_objects") == "0"
    });
    let (o, r) = (p.ours.info_field("memory", "lazyfreed_objects"), p.real.info_field("memory", "lazyfreed_objects"));
    p.compare(&format!("lazyfreed_objects after {after}"), o.as_bytes(), r.as_bytes());
}

/// UNLINK, DEL under lazyfree-lazy-user-del, FLUSHALL/FLUSHDB ASYNC (or under
/// lazyfree-lazy-user-flush) and lazy expiry free in the background what Redis does and count
/// it as Redis counts: one per value of more than 64 allocations, one per key of a flushed
/// database.
#[test]
fn lazyfree_counts_what_redis_frees_in_the_background() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    let fill = "for i=1,tonumber(ARGV[2]) do redis.call(ARGV[1], KEYS[1], i .. 'x') end return 1";
    let zfill = "for i=1,tonumber(ARGV[1]) do redis.call('zadd', KEYS[1], i, i .. 'x') end return 1";
    let hfill = "for i=1,tonumber(ARGV[1]) do redis.call('hset', KEYS[1], i .. 'f', 'v') end return 1";
    let big = "x".repeat(100_000);
    let lfill = "for i=1,tonumber(ARGV[1]) do redis.call('rpush', KEYS[1], i .. string.rep('x', 40)) end return 1";
    let steps: &[(&str, &[&[&str]])] = &[
        ("nothing", &[&["CONFIG", "RESETSTAT"]]),
        (
            "UNLINK of sets of 65 and 64 members",
            &[
                &["EVAL", fill, "1", "s65", "sadd", "65"],
                &["EVAL", fill, "1", "s64", "sadd", "64"],
                &["UNLINK", "s65", "s64", "nokey"],
            ],
        ),
        (
            "UNLINK of an intset",
            &[&["EVAL", "for i=1,500 do redis.call('sadd', KEYS[1], i) end", "1", "ints"], &["UNLINK", "ints"]],
        ),
        (
            "UNLINK of hashes (listpack, then hashtable)",
            &[&["EVAL", hfill, "1", "h100", "100"], &["EVAL", hfill, "1", "h200", "200"], &["UNLINK", "h100", "h200"]],
        ),
        (
            "UNLINK of sorted sets",
            &[&["EVAL", zfill, "1", "z100", "100"], &["EVAL", zfill, "1", "z200", "200"], &["UNLINK", "z100", "z200"]],
        ),
        (
            "UNLINK of lists (few and many quicklist nodes)",
            &[
                &["EVAL", lfill, "1", "l1000", "1000"],
                &["EVAL", lfill, "1", "l30000", "30000"],
                &["UNLINK", "l1000", "l30000"],
            ],
        ),
        ("UNLINK of a big string", &[&["SET", "str", &big], &["UNLINK", "str"]]),
        ("DEL", &[&["EVAL", fill, "1", "s", "sadd", "100"], &["DEL", "s"]]),
        (
            "DEL with lazyfree-lazy-user-del",
            &[
                &["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"],
                &["EVAL", fill, "1", "s", "sadd", "100"],
                &["DEL", "s"],
                &["CONFIG", "SET", "lazyfree-lazy-user-del", "no"],
            ],
        ),
        (
            "FLUSHALL ASYNC",
            &[
                &["SET", "a", "1"],
                &["SET", "b", "1"],
                &["SELECT", "2"],
                &["SET", "c", "1"],
                &["SELECT", "0"],
                &["FLUSHALL", "ASYNC"],
            ],
        ),
        ("FLUSHALL ASYNC of nothing", &[&["FLUSHALL", "ASYNC"]]),
        (
            "FLUSHDB ASYNC",
            &[&["SET", "a", "1"], &["SELECT", "3"], &["SET", "c", "1"], &["FLUSHDB", "ASYNC"], &["SELECT", "0"]],
        ),
        ("FLUSHALL and FLUSHDB SYNC", &[&["SET", "a", "1"], &["FLUSHALL"], &["SET", "a", "1"], &["FLUSHDB", "SYNC"]]),
        (
            "FLUSHALL with lazyfree-lazy-user-flush",
            &[
                &["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"],
                &["SET", "a", "1"],
                &["SET", "b", "1"],
                &["FLUSHALL"],
                &["SET", "a", "1"],
                &["FLUSHALL", "SYNC"],
                &["CONFIG", "SET", "lazyfree-lazy-user-flush", "no"],
            ],
        ),
        ("CONFIG RESETSTAT", &[&["CONFIG", "RESETSTAT"]]),
    ];
    for (what, cmds) in steps {
        check_all(&mut p, cmds);
        check_lazyfreed(&mut p, what);
    }
    // Lazy expiry: a big set read after its time frees in the background with
    // lazyfree-lazy-expire, at once without.
    for lazy in ["no", "yes"] {
        check_all(
            &mut p,
            &[
                &["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
                &["CONFIG", "SET", "lazyfree-lazy-expire", lazy],
                &["EVAL", fill, "1", "s", "sadd", "100"],
                &["PEXPIRE", "s", "1"],
            ],
        );
        wait_both("the set's time passes", &mut p, |c| c.cmd(&["PTTL", "s"]) == b":-2\r\n");
        check_lazyfreed(&mut p, &format!("an expiry with lazyfree-lazy-expire {lazy}"));
    }
    p.both(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
}

/// Whether the client named `name` is connected, per CLIENT LIST.
fn connected(c: &mut crate::common::Client, name: &str) -> bool {
    let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).into_owned();
    list.lines().any(|l| l.split(' ').any(|f| f == format!("name={name}")))
}

/// A client that does not read its replies is closed once its output passes the hard limit (when
/// output is added), or the soft one for longer than its seconds (by the cron), for normal and
/// pubsub clients, with Redis's log lines; one under the limits gets everything. Ours used to
/// stop reading a client whose socket was full, so a normal client's limit above 1 MB never
/// applied, and nothing closed a client over its soft limit when no more output came.
#[test]
fn output_buffer_limits_close_clients_that_do_not_read() {
    use crate::common::{encode, Client, Server};
    use std::time::Duration;
    let big = "x".repeat(100_000);
    let closing = "scheduled to be closed ASAP for overcoming of output buffer limits.";
    let closed_by_cron = "user=default redir=-1 resp=2 closed for overcoming of output buffer limits.";
    for (who, server) in [("ours", start_ours(&[])), ("real", Server::start_real(&[]))] {
        let mut ctl = server.client();
        let gone = |ctl: &mut Client, name: &str| {
            wait_for(&format!("{who}: {name} closed"), Duration::from_secs(10), || !connected(ctl, name))
        };
        let victim = |name: &str| {
            let mut c = server.client();
            assert_eq!(c.cmd(&["CLIENT", "SETNAME", name]), b"+OK\r\n");
            c
        };
        assert_eq!(ctl.cmd(&["SET", "big", &big]), b"+OK\r\n");

        // Hard limit of a normal client: 400 replies of 100 kB, none read.
        ctl.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 0 0"]);
        let mut hard = victim("hard");
        hard.send_raw(&encode(&[b"GET", b"big"]).repeat(400));
        gone(&mut ctl, "hard");

        // Soft limit: over it for more than its second, without more output (the cron sees it).
        ctl.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "normal 0 2mb 1"]);
        let mut soft = victim("soft");
        let sent = std::time::Instant::now();
        soft.send_raw(&encode(&[b"GET", b"big"]).repeat(100));
        gone(&mut ctl, "soft");
        assert!(sent.elapsed() >= Duration::from_secs(1), "{who}: closed before the soft limit's second");

        // A subscriber that does not read, past the pubsub hard limit.
        ctl.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 4mb 1mb 60"]);
        let mut sub = victim("sub");
        sub.cmd(&["SUBSCRIBE", "ch"]);
        for _ in 0..200 {
            ctl.cmd(&["PUBLISH", "ch", &big]);
        }
        gone(&mut ctl, "sub");

        // Under the limits, everything arrives.
        let mut reader = victim("reader");
        reader.cmd(&["SUBSCRIBE", "ch"]);
        for _ in 0..5 {
            assert_eq!(ctl.cmd(&["PUBLISH", "ch", &big]), b":1\r\n", "{who}");
        }
        for _ in 0..5 {
            let m = reader.read_reply();
            assert!(m.ends_with(format!("$100000\r\n{big}\r\n").as_bytes()), "{who}: a whole message");
        }
        let log = server.log_text();
        for (name, how) in [("hard", closing), ("soft", closed_by_cron), ("sub", closing)] {
            assert!(
                log.lines().any(|l| l.contains(&format!(" name={name} ")) && l.ends_with(how)),
                "{who}: no log line for {name} in:\n{log}"
            );
        }
        assert!(!log.contains("name=reader"), "{who}: {log}");
    }
}

/// The commands whose secrets MONITOR and SLOWLOG must not show, and their neighbours.
const SECRET_BEARING: &[&[&str]] = &[
    &["AUTH", "foo"],
    &["AUTH", "user", "pass"],
    &["auth", "a", "b", "c"],
    &["HELLO", "3", "AUTH", "default", "xx", "SETNAME", "n"],
    &["HELLO", "2", "AUTH", "default"],
    &["HELLO", "3", "AUTH"],
    &["CONFIG", "SET", "masterauth", "xyz", "hz", "10"],
    &["CONFIG", "SET", "requirepass", ""],
    &["CONFIG", "SET", "nosuch", "1", "masterauth", "abc"],
    &["EVAL", "redis.call('set', 'x', 'y') return redis.pcall('auth', 'x')", "0"],
    &["SET", "a", "b"],
    &["GET"],
    &["NOSUCHCOMMAND", "x"],
    &["EXEC"],
    &["PING"],
];

/// A MONITOR line without its time and client address (the database and `lua` stay).
fn monitor_line(r: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(r);
    let Some(open) = s.find('[') else { return r.to_vec() };
    let (db_and_addr, rest) = s[open + 1..].split_once(']').unwrap_or(("", ""));
    let db = db_and_addr.split(' ').next().unwrap_or("");
    let client = if db_and_addr.ends_with(" lua") { "lua" } else { "client" };
    format!("[{db} {client}]{rest}").into_bytes()
}

/// MONITOR shows AUTH's, HELLO's and the others' secrets as Redis does (redacted where
/// redactClientCommandArgument is called, as typed where the command failed before it), and
/// not the admin commands; SLOWLOG keeps the same arguments, plus CONFIG SET's sensitive values
/// redacted, and leaves out what Redis leaves out (EXEC, rejected and unknown commands).
#[test]
fn monitor_and_slowlog_redact_secrets_as_redis_does() {
    let duo = Duo::start(&[]);
    let mut mon = duo.pair_named("MONITOR");
    mon.check(&["MONITOR"]);
    let mut p = duo.pair();
    p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    p.check(&["SLOWLOG", "RESET"]);
    for args in SECRET_BEARING {
        p.check_with(args, |b| mask_field(b, "id"));
    }
    p.send_cmds(&[&["MULTI"], &["SET", "k", "1"], &["AUTH", "inside"], &["EXEC"]]);
    for what in ["MULTI", "SET", "AUTH", "EXEC"] {
        p.check_read(what);
    }
    p.check(&["SELECT", "3"]);
    p.check(&["ECHO", "last"]);
    // Everything up to ECHO last, in order.
    let mut lines = 0;
    loop {
        let what = format!("MONITOR line {lines}");
        let (o, r) = (mon.ours.read_reply(), mon.real.read_reply());
        mon.compare(&what, &monitor_line(&o), &monitor_line(&r));
        lines += 1;
        if r.ends_with(b"\"ECHO\" \"last\"\r\n") || lines > 100 {
            break;
        }
    }
    // SLOWLOG: each entry's arguments and client name, newest first.
    let entries = |c: &mut crate::common::Client| -> Vec<u8> {
        let log = crate::common::Reply::parse(&c.cmd(&["SLOWLOG", "GET", "-1"]));
        let mut out = Vec::new();
        for e in log.array() {
            let f = e.array();
            out.extend(f[3].encode());
            out.extend(f[5].encode());
            out.push(b'\n');
        }
        out
    };
    let (o, r) = (entries(&mut p.ours), entries(&mut p.real));
    p.compare("SLOWLOG GET -1 (arguments and client names)", &o, &r);
}
