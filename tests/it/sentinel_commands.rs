//! SENTINEL subcommands against Debian's real redis-sentinel 7.0.15: a real master, a real
//! replica and two real sentinels; our `Sentinel` state is built to the same situation (from
//! the real instances' own INFO), and each reply of ours, rendered in RESP2 and RESP3, must be
//! the real one byte for byte, except values that legitimately differ (times, offsets).

use std::time::Duration;

use crate::common::{
    free_port, show_bytes, wait_for, Client, Reply, SentinelProcess, Server, OUR_SENTINEL, REAL_SENTINEL,
};
use redis_rs::sentinel::commands::{self, Context, Dispatch, LinkStatus};
use redis_rs::sentinel::instance::{parse_info, Kind};
use redis_rs::sentinel::state::Sentinel;
use redis_rs::sentinel::timing::Timings;
use redis_rs::sentinel::{KnownReplica, KnownSentinel, MasterConfig, SentinelConfig};

/// Debian's sentinel monitoring `mymaster` on `master_port`, quorum 2.
fn real_sentinel(master_port: u16) -> SentinelProcess {
    launch(REAL_SENTINEL, master_port, 2)
}

/// `bin` (Debian's, or ours for the end-to-end cases) monitoring `mymaster` on `master_port`.
fn launch(bin: &str, master_port: u16, quorum: u32) -> SentinelProcess {
    launch_with(
        bin,
        &format!(
            "sentinel monitor mymaster 127.0.0.1 {master_port} {quorum}\n\
             sentinel down-after-milliseconds mymaster 5000\n"
        ),
    )
}

/// `bin` on a free port of 127.0.0.1 with the rest of its sentinel.conf given.
fn launch_with(bin: &str, config: &str) -> SentinelProcess {
    SentinelProcess::start(bin, |port, _| {
        let args = ["--daemonize", "no", "--logfile", "sentinel.log"].map(String::from).to_vec();
        (format!("port {port}\nbind 127.0.0.1\n{config}"), args)
    })
}

/// Values that differ between two sentinels watching the same instances at different moments.
const VOLATILE: [&str; 9] = [
    "last-ping-sent",
    "last-ok-ping-reply",
    "last-ping-reply",
    "info-refresh",
    "role-reported-time",
    "last-hello-message",
    "slave-repl-offset",
    "link-pending-commands",
    "s-down-time",
];

fn volatile(key: &Reply) -> bool {
    matches!(key, Reply::Bulk(k) if VOLATILE.iter().any(|v| v.as_bytes() == k.as_slice()))
}

/// Replaces the value after each volatile key (in maps and RESP2's flat key/value arrays).
fn mask(v: &mut Reply) {
    match v {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            for i in (0..items.len().saturating_sub(1)).step_by(2) {
                if volatile(&items[i]) {
                    items[i + 1] = Reply::bulk_of("#");
                }
            }
            items.iter_mut().for_each(mask);
        }
        Reply::Map(kv) => {
            for (k, v) in kv.iter_mut() {
                if volatile(k) {
                    *v = Reply::bulk_of("#");
                }
                mask(k);
                mask(v);
            }
        }
        _ => {}
    }
}

fn masked(b: &[u8]) -> String {
    let mut v = Reply::parse(b);
    mask(&mut v);
    show_bytes(&v.encode(), 100_000)
}

/// Three real servers and two real sentinels, settled: sentinel A knows the replica and B.
struct Setup {
    master: Server,
    replica: Server,
    a: SentinelProcess,
    b: SentinelProcess,
}

fn setup() -> Setup {
    let master = Server::start_real(&[]);
    let mport = master.port.to_string();
    let replica = Server::start_real(&["--replicaof", "127.0.0.1", &mport]);
    let a = real_sentinel(master.port);
    let b = real_sentinel(master.port);
    for s in [&a, &b] {
        // Discovery within a second rather than ten.
        assert_eq!(s.client(2).cmd(&["SENTINEL", "DEBUG", "info-period", "300"]), b"+OK\r\n");
    }
    let mut c = a.client(2);
    wait_for("sentinel A to know the replica, linked, and sentinel B", Duration::from_secs(30), || {
        let m = String::from_utf8_lossy(&c.cmd(&["SENTINEL", "MASTER", "mymaster"])).into_owned();
        let r = String::from_utf8_lossy(&c.cmd(&["SENTINEL", "REPLICAS", "mymaster"])).into_owned();
        m.contains("num-slaves\r\n$1\r\n1\r\n")
            && m.contains("num-other-sentinels\r\n$1\r\n1\r\n")
            && r.contains("master-link-status\r\n$2\r\nok\r\n")
            && !m.contains("disconnected")
            && !r.contains("disconnected")
    });
    Setup { master, replica, a, b }
}

fn bulk_text(reply: &[u8]) -> String {
    match Reply::parse(reply) {
        Reply::Bulk(b) => String::from_utf8(b).expect("utf-8"),
        other => panic!("not a bulk string: {other:?}"),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as u64
}

/// Our state for the same situation as sentinel A: its id, the master and replica as their
/// INFO describes them, and sentinel B.
fn our_state(st: &Setup) -> Sentinel {
    let now = now_ms();
    let mut a = st.a.client(2);
    let myid = bulk_text(&a.cmd(&["SENTINEL", "MYID"]));
    let b_id = bulk_text(&st.b.client(2).cmd(&["SENTINEL", "MYID"]));
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", st.master.port, 2);
    m.down_after_ms = 5000;
    m.known_replicas.push(KnownReplica { host: "127.0.0.1".into(), port: st.replica.port });
    m.known_sentinels.push(KnownSentinel { host: "127.0.0.1".into(), port: st.b.port, run_id: b_id });
    let cfg = SentinelConfig { myid: Some(myid), masters: vec![m], ..Default::default() };
    let mut s = Sentinel::from_config(cfg, now);
    let master_info = bulk_text(&st.master.client().cmd(&["INFO"]));
    let replica_info = bulk_text(&st.replica.client().cmd(&["INFO"]));
    let m = &mut s.masters[0];
    for (rec, text) in [(&mut m.record, master_info), (&mut m.replicas[0], replica_info)] {
        rec.info = parse_info(&text);
        rec.run_id = rec.info.run_id.clone();
        rec.role_reported = rec.info.role.unwrap_or(Kind::Master);
        rec.info_ms = now;
        rec.info_text = Some(text);
        rec.act_ping_ms = 0;
    }
    s.masters[0].sentinels[0].act_ping_ms = 0;
    s.masters[0].sentinels[0].last_hello_ms = now;
    s
}

fn connected(_: u64) -> LinkStatus {
    LinkStatus { connected: true, pending: 0, refcount: 1 }
}

fn ctx(links: &dyn Fn(u64) -> LinkStatus) -> Context<'_> {
    Context {
        now_ms: now_ms(),
        links,
        tilt_since_ms: None,
        running_scripts: 0,
        queued_scripts: 0,
        simulate_failure_flags: 0,
    }
}

/// Our reply to `args`, rendered in `resp`.
fn ours(s: &mut Sentinel, timings: &mut Timings, args: &[&str], resp: u8) -> Vec<u8> {
    let links = connected;
    match commands::command(s, args, &ctx(&links), timings) {
        Dispatch::Done(outcome) => {
            let mut out = Vec::new();
            outcome.reply.encode(resp, &mut out);
            out
        }
        Dispatch::NotHere => panic!("{args:?} left to the caller"),
    }
}

/// Sends each command to the real sentinel and to our state, in both protocols, and compares.
fn compare(st: &Setup, s: &mut Sentinel, timings: &mut Timings, cases: &[&[&str]]) {
    for resp in [2u8, 3] {
        let mut real = st.a.client(resp);
        for args in cases {
            let theirs = real.cmd(args);
            let mine = ours(s, timings, args, resp);
            assert_eq!(masked(&mine), masked(&theirs), "RESP{resp} {args:?}");
        }
    }
}

#[test]
fn sentinel_replies_match_redis_sentinel() {
    let st = setup();
    let mut s = our_state(&st);
    // Ours starts with the DEBUG setting the setup gave the real one.
    let mut timings = Timings { info_period: 300, ..Timings::default() };
    let mport = st.master.port.to_string();
    let cases: &[&[&str]] = &[
        &["SENTINEL", "MASTERS"],
        &["SENTINEL", "MASTER", "mymaster"],
        &["SENTINEL", "master", "nope"],
        &["SENTINEL", "REPLICAS", "mymaster"],
        &["SENTINEL", "SLAVES", "mymaster"],
        &["SENTINEL", "SENTINELS", "mymaster"],
        &["SENTINEL", "REPLICAS", "nope"],
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"],
        &["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", &mport, "0", "*"],
        &["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*"],
        &["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", &mport, "1x", "*"],
        &["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "10.9.9.9", "1", "5", "abc"],
        &["SENTINEL", "CKQUORUM", "mymaster"],
        &["SENTINEL", "CKQUORUM", "nope"],
        &["SENTINEL", "MYID"],
        &["SENTINEL", "HELP"],
        &["SENTINEL", "DEBUG"],
        &["SENTINEL", "DEBUG", "info-period"],
        &["SENTINEL", "DEBUG", "nope", "1"],
        &["SENTINEL", "DEBUG", "ping-period", "0"],
        &["SENTINEL", "DEBUG", "ping-period", "x"],
        &["SENTINEL", "CONFIG", "GET", "*"],
        &["SENTINEL", "CONFIG", "GET", "ANNOUNCE-*"],
        &["SENTINEL", "CONFIG", "GET", "nope"],
        &["SENTINEL", "CONFIG", "SET", "nope", "1"],
        &["SENTINEL", "CONFIG", "SET", "announce-port", "65536"],
        &["SENTINEL", "CONFIG", "SET", "resolve-hostnames", "maybe"],
        &["SENTINEL", "CONFIG", "GET"],
        &["SENTINEL", "CONFIG", "SET", "announce-ip"],
        &["SENTINEL", "CONFIG", "foo", "bar"],
        &["SENTINEL", "INFO-CACHE", "nope"],
        &["SENTINEL", "INFO-CACHE"],
        &["SENTINEL", "MASTERS", "x"],
        &["SENTINEL", "slaves"],
        &["SENTINEL", "MYID", "x"],
        &["SENTINEL", "SET", "mymaster", "quorum"],
        &["SENTINEL", "NOPE"],
        &["SENTINEL"],
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "x", "2"],
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "x", "x"],
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "6379", "0"],
        &["SENTINEL", "MONITOR", "m2", "localhost", "6379", "1"],
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "70000", "1"],
        &["SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "70000", "1"],
        &["SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "6379", "1"],
        &["SENTINEL", "SET", "nope", "quorum", "1"],
        &["SENTINEL", "SET", "mymaster", "quorum", "0"],
        &["SENTINEL", "SET", "mymaster", "parallel-syncs", "x"],
        &["SENTINEL", "SET", "mymaster", "master-reboot-down-after-period", "-1"],
        &["SENTINEL", "SET", "mymaster", "notification-script", "/bin/sh"],
        &["SENTINEL", "SET", "mymaster", "rename-command", "CONFIG"],
        &["SENTINEL", "SET", "mymaster", "nope", "1"],
        &["SENTINEL", "REMOVE", "nope"],
        &["SENTINEL", "RESET", "nothing-matches*"],
    ];
    compare(&st, &mut s, &mut timings, cases);
    assert!(s.events.is_empty(), "no event from refused commands: {:?}", s.events);
}

#[test]
fn info_sentinel_section_matches() {
    let st = setup();
    let s = our_state(&st);
    let links = connected;
    let mut real = st.a.client(3);
    let theirs = bulk_text(&real.cmd(&["INFO", "sentinel"]));
    let mine = commands::info_sentinel_section(&s, &ctx(&links));
    assert_eq!(mine, theirs);
}

/// The real sentinel's next events of the given kinds (others, such as discoveries, skipped).
fn real_events(sub: &mut Client, kinds: &[&str], count: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while out.len() < count {
        let (Reply::Array(items) | Reply::Push(items)) = Reply::parse(&sub.read_reply()) else { continue };
        let texts: Vec<String> = items
            .iter()
            .map(|i| match i {
                Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            })
            .collect();
        if texts.len() == 4 && texts[0] == "pmessage" && kinds.contains(&texts[2].as_str()) {
            out.push((texts[2].clone(), texts[3].clone()));
        }
    }
    out
}

#[test]
fn changes_reply_and_announce_like_redis_sentinel() {
    let st = setup();
    let mut s = our_state(&st);
    let mut timings = Timings { info_period: 300, ..Timings::default() };
    let mut sub = st.a.client(2);
    sub.cmd(&["PSUBSCRIBE", "*"]);
    // A master nobody listens on, so that the real sentinel's links to it stay down.
    let dead = free_port().to_string();
    let cases: &[&[&str]] = &[
        &["SENTINEL", "MONITOR", "m3", "127.0.0.1", &dead, "1"],
        &["SENTINEL", "MONITOR", "m3", "127.0.0.1", &dead, "1"],
        &["SENTINEL", "SET", "m3", "quorum", "3", "down-after-milliseconds", "6000", "auth-pass", "secret"],
        &[
            "SENTINEL",
            "SET",
            "m3",
            "auth-user",
            "bob",
            "rename-command",
            "CONFIG",
            "XCONFIG",
            "failover-timeout",
            "1000",
        ],
        &["SENTINEL", "SET", "m3", "parallel-syncs", "2", "master-reboot-down-after-period", "0", "foo", "1"],
        &["SENTINEL", "SET", "m3", "quorum", "2", "quorum", "0"],
        &["SENTINEL", "SET", "m3", "auth-pass", "", "auth-user", "", "rename-command", "config", "CONFIG"],
        &["SENTINEL", "RESET", "m?"],
        &["SENTINEL", "CONFIG", "SET", "announce-port", "1234"],
        &["SENTINEL", "CONFIG", "GET", "announce-port"],
        &["SENTINEL", "FLUSHCONFIG"],
        &["SENTINEL", "REMOVE", "m3"],
        &["SENTINEL", "MASTER", "m3"],
    ];
    let mut real = st.a.client(2);
    let links = |id: u64| {
        // Our m3 is down like the real one's.
        LinkStatus { connected: id < 100, pending: 0, refcount: 1 }
    };
    for args in cases {
        let theirs = real.cmd(args);
        let Dispatch::Done(outcome) = commands::command(&mut s, args, &ctx(&links), &mut timings) else {
            panic!("{args:?} left to the caller")
        };
        let mut mine = Vec::new();
        outcome.reply.encode(2, &mut mine);
        assert_eq!(masked(&mine), masked(&theirs), "{args:?}");
    }
    let kinds = ["+monitor", "-monitor", "+set", "+reset-master"];
    let ours: Vec<(String, String)> = s.events.iter().map(|e| (e.kind.clone(), e.message.clone())).collect();
    assert_eq!(ours.len(), 15, "{ours:?}");
    assert_eq!(real_events(&mut sub, &kinds, ours.len()), ours);
    assert!(s.flush_needed);
    assert_eq!(s.settings.announce_port, 1234);
}

/// The `sentinel_simulate_failure_flags:` line of a sentinel's INFO.
fn simulate_failure_flags_line(c: &mut Client) -> String {
    let info = bulk_text(&c.cmd(&["INFO", "sentinel"]));
    let line = info.lines().find(|l| l.starts_with("sentinel_simulate_failure_flags:"));
    line.unwrap_or_else(|| panic!("no flags line in {info}")).to_string()
}

/// SENTINEL SIMULATE-FAILURE through our sentinel process and Debian's, both protocols: every
/// reply byte for byte, and INFO's flags after each.
#[test]
fn simulate_failure_replies_match_redis_sentinel() {
    // Nothing listens on the master's port: only the command and INFO matter here.
    let dead = free_port();
    let real = launch(REAL_SENTINEL, dead, 1);
    let ours = launch(OUR_SENTINEL, dead, 1);
    // The dead master must not go down (and be failed over, which would crash a sentinel set to
    // crash-after-election) while the test runs, however slow the machine.
    for s in [&real, &ours] {
        let set = ["SENTINEL", "SET", "mymaster", "down-after-milliseconds", "3600000"];
        assert_eq!(s.client(2).cmd(&set), b"+OK\r\n");
    }
    let cases: &[&[&str]] = &[
        &["SENTINEL", "SIMULATE-FAILURE"],
        &["SENTINEL", "simulate-failure", "help"],
        &["SENTINEL", "SIMULATE-FAILURE", "CRASH-after-Election"],
        &["SENTINEL", "SIMULATE-FAILURE", "crash-after-promotion", "crash-after-election"],
        &["SENTINEL", "SIMULATE-FAILURE", "crash-after-promotion", "nope"],
        &["SENTINEL", "SIMULATE-FAILURE", "crash-after-election", "HELP", "nope"],
        &["SENTINEL", "SIMULATE-FAILURE", "nope", "crash-after-election"],
        &["SENTINEL", "SIMULATE-FAILURE", "crash-after-election", "crash-after-election"],
        // Cleared, so that nothing crashes.
        &["SENTINEL", "SIMULATE-FAILURE", "x"],
    ];
    for resp in [2u8, 3] {
        let (mut theirs, mut mine) = (real.client(resp), ours.client(resp));
        assert_eq!(simulate_failure_flags_line(&mut mine), simulate_failure_flags_line(&mut theirs));
        for args in cases {
            assert_eq!(show_bytes(&mine.cmd(args), 1000), show_bytes(&theirs.cmd(args), 1000), "RESP{resp} {args:?}");
            assert_eq!(
                simulate_failure_flags_line(&mut mine),
                simulate_failure_flags_line(&mut theirs),
                "RESP{resp} INFO after {args:?}"
            );
        }
    }
}

/// A lone sentinel (quorum 1) of `bin` on a real master with one real replica, told to crash
/// at `flag`, runs a forced failover: it must exit with 99 at that point. Returns the sentinel
/// (ended), and the replica to look at.
fn crash_during_failover(bin: &str, flag: &str) -> (SentinelProcess, Server, Server) {
    let master = Server::start_real(&[]);
    let replica = Server::start_real(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    wait_for("the replica to sync", Duration::from_secs(30), || {
        replica.client().cmd_str(&["INFO", "replication"]).contains("master_link_status:up")
    });
    let mut sentinel = launch(bin, master.port, 1);
    let mut c = sentinel.client(2);
    wait_for("the sentinel to know the replica, linked", Duration::from_secs(30), || {
        let r = String::from_utf8_lossy(&c.cmd(&["SENTINEL", "REPLICAS", "mymaster"])).into_owned();
        r.contains("master-link-status\r\n$2\r\nok\r\n") && !r.contains("disconnected")
    });
    assert_eq!(c.cmd(&["SENTINEL", "SIMULATE-FAILURE", flag]), b"+OK\r\n");
    assert_eq!(c.cmd(&["SENTINEL", "FAILOVER", "mymaster"]), b"+OK\r\n", "{bin}");
    let status = sentinel.wait_exit(Duration::from_secs(60));
    assert_eq!(status.and_then(|s| s.code()), Some(99), "{bin} {flag}: {status:?}");
    let log = sentinel.file("sentinel.log");
    assert!(log.contains("Sentinel CRASH because of SENTINEL simulate-failure"), "{bin}: {log}");
    (sentinel, master, replica)
}

#[test]
fn crash_after_election_exits_99_before_promoting_like_redis_sentinel() {
    for bin in [REAL_SENTINEL, OUR_SENTINEL] {
        let (sentinel, _master, replica) = crash_during_failover(bin, "crash-after-election");
        let log = sentinel.file("sentinel.log");
        assert!(log.contains("+elected-leader master mymaster"), "{bin}: {log}");
        assert!(!log.contains("+selected-slave"), "{bin}: {log}");
        // Elected, not promoted: the replica never heard of the failover, and the vote is saved.
        assert!(replica.client().cmd_str(&["INFO", "replication"]).contains("role:slave"), "{bin}");
        assert!(sentinel.file("sentinel.conf").contains("sentinel current-epoch 1"), "{bin}");
    }
}

#[test]
fn crash_after_promotion_exits_99_once_promoted_like_redis_sentinel() {
    for bin in [REAL_SENTINEL, OUR_SENTINEL] {
        let (sentinel, master, replica) = crash_during_failover(bin, "crash-after-promotion");
        let log = sentinel.file("sentinel.log");
        assert!(log.contains("+promoted-slave slave"), "{bin}: {log}");
        assert!(!log.contains("+failover-state-reconf-slaves"), "{bin}: {log}");
        assert!(replica.client().cmd_str(&["INFO", "replication"]).contains("role:master"), "{bin}");
        // Saved before the crash: the promotion's epoch, and the promoted replica as the master
        // (the failover is past the point of no return), the old master as a replica.
        let conf = sentinel.file("sentinel.conf");
        assert!(conf.contains("sentinel config-epoch mymaster 1"), "{bin}: {conf}");
        let monitor = format!("sentinel monitor mymaster 127.0.0.1 {} 1", replica.port);
        assert!(conf.contains(&monitor), "{bin}: {conf}");
        let old_master = format!("sentinel known-replica mymaster 127.0.0.1 {}", master.port);
        assert!(conf.contains(&old_master), "{bin}: {conf}");
    }
}

/// Subcommands one side has and the other not, left out of the metadata comparison: CLIENT
/// TRACKING and the ACL subcommands that manage users are not implemented in this project, and
/// CLIENT NO-TOUCH (Redis 7.2) is carried on purpose (the standalone comparison leaves out the same).
const NOT_COMPARED: [&str; 10] = [
    "client|tracking",
    "client|no-touch",
    "acl|deluser",
    "acl|dryrun",
    "acl|getuser",
    "acl|list",
    "acl|load",
    "acl|log",
    "acl|save",
    "acl|setuser",
];

fn compared(name: &Reply) -> bool {
    !matches!(name, Reply::Bulk(n) if NOT_COMPARED.iter().any(|c| c.as_bytes() == n.as_slice()))
}

/// Key/value pairs (a RESP3 map or RESP2's flat array) sorted by key, the pairs not compared left out.
fn sorted_pairs(v: &Reply) -> Reply {
    let sorted = |pairs: Vec<(&Reply, &Reply)>| {
        let mut pairs: Vec<(Reply, Reply)> =
            pairs.into_iter().filter(|(k, _)| compared(k)).map(|(k, v)| (k.clone(), canonical(v))).collect();
        pairs.sort_by_key(|(k, _)| k.encode());
        pairs
    };
    match v {
        Reply::Map(kv) => Reply::Map(sorted(kv.iter().map(|(k, v)| (k, v)).collect())),
        Reply::Array(items) => Reply::Array(
            sorted(items.chunks(2).map(|p| (&p[0], &p[1])).collect()).into_iter().flat_map(|(k, v)| [k, v]).collect(),
        ),
        other => canonical(other),
    }
}

/// COMMAND INFO entries sorted by name, the ones not compared left out.
fn sorted_entries(items: &[Reply]) -> Vec<Reply> {
    let mut entries: Vec<Reply> = items
        .iter()
        .filter(|e| !matches!(e, Reply::Array(f) if !f.is_empty() && !compared(&f[0])))
        .map(canonical)
        .collect();
    entries.sort_by_key(Reply::encode);
    entries
}

/// A COMMAND INFO or COMMAND DOCS reply with what Redis lists in hash order (subcommands) sorted.
fn canonical(v: &Reply) -> Reply {
    let subcommands = Reply::bulk_of("subcommands");
    match v {
        Reply::Array(items) => {
            let is_info_entry = items.len() == 10 && matches!((&items[0], &items[1]), (Reply::Bulk(_), Reply::Int(_)));
            let mut out: Vec<Reply> = items.iter().map(canonical).collect();
            if is_info_entry {
                if let Reply::Array(subs) = &items[9] {
                    out[9] = Reply::Array(sorted_entries(subs));
                }
            }
            for i in (0..items.len().saturating_sub(1)).step_by(2) {
                if items[i] == subcommands {
                    out[i + 1] = sorted_pairs(&items[i + 1]);
                }
            }
            Reply::Array(out)
        }
        Reply::Map(kv) => Reply::Map(
            kv.iter()
                .map(|(k, v)| (canonical(k), if *k == subcommands { sorted_pairs(v) } else { canonical(v) }))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The whole COMMAND / COMMAND INFO (entries) or COMMAND DOCS (pairs) in a canonical order.
fn canonical_all(b: &[u8], pairs: bool) -> String {
    let v = Reply::parse(b);
    let sorted = match &v {
        Reply::Map(_) | Reply::Array(_) if pairs => sorted_pairs(&v),
        Reply::Array(items) => Reply::Array(sorted_entries(items)),
        _ => return show_bytes(b, 1000),
    };
    show_bytes(&sorted.encode(), 1_000_000)
}

/// COMMAND in Sentinel mode, ours against Debian's redis-sentinel in both protocols: the same
/// fifteen commands with the same metadata (SENTINEL's subcommands included), the same lists,
/// and the same errors for SENTINEL's arity and unknown subcommands.
#[test]
fn command_metadata_matches_redis_sentinel() {
    let dead = free_port();
    let real = launch(REAL_SENTINEL, dead, 1);
    let ours = launch(OUR_SENTINEL, dead, 1);
    let exact: &[&[&str]] = &[
        &["COMMAND", "COUNT"],
        &["COMMAND", "INFO", "sentinel|masters", "sentinel|nope", "SENTINEL|SLAVES", "get"],
        &["COMMAND", "DOCS", "sentinel|simulate-failure", "sentinel|slaves", "get"],
        &["SENTINEL"],
        &["SENTINEL", "MASTERS", "x"],
        &["SENTINEL", "slaves"],
        &["SENTINEL", "SIMULATE-FAILURE"],
        &["SENTINEL", "HELP", "x"],
        &["SENTINEL", "nope"],
    ];
    // Ours, each compared below; COMMAND LIST shows they are the real one's too.
    let names = redis_rs::commands::SENTINEL_COMMANDS;
    for resp in [2u8, 3] {
        let (mut theirs, mut mine) = (real.client(resp), ours.client(resp));
        for args in exact {
            assert_eq!(
                show_bytes(&mine.cmd(args), 10_000),
                show_bytes(&theirs.cmd(args), 10_000),
                "RESP{resp} {args:?}"
            );
        }
        for (args, pairs) in [(&["COMMAND"][..], false), (&["COMMAND", "INFO"], false), (&["COMMAND", "DOCS"], true)] {
            let (m, t) = (mine.cmd(args), theirs.cmd(args));
            assert_eq!(canonical_all(&m, pairs), canonical_all(&t, pairs), "RESP{resp} {args:?}");
        }
        for name in names {
            for (sub, pairs) in [("INFO", false), ("DOCS", true)] {
                let args = ["COMMAND", sub, name];
                let (m, t) = (mine.cmd(&args), theirs.cmd(&args));
                assert_eq!(canonical_all(&m, pairs), canonical_all(&t, pairs), "RESP{resp} {args:?}");
            }
        }
        for args in [&["COMMAND", "LIST"][..], &["COMMAND", "LIST", "FILTERBY", "PATTERN", "sentinel*"]] {
            let list = |c: &mut Client| match Reply::parse(&c.cmd(args)) {
                Reply::Array(items) | Reply::Set(items) => {
                    let mut names: Vec<Reply> = items.into_iter().filter(compared).collect();
                    names.sort_by_key(Reply::encode);
                    names
                }
                other => panic!("{args:?}: {other:?}"),
            };
            assert_eq!(list(&mut mine), list(&mut theirs), "RESP{resp} {args:?}");
        }
    }
}

/// With resolve-hostnames, a master given as `localhost` and a replica announcing itself as
/// `localhost` are kept, shown and saved as 127.0.0.1, unless announce-hostnames keeps the names:
/// the replies and sentinel.conf's lines as Debian's redis-sentinel has them.
#[test]
fn host_names_are_resolved_unless_announced_like_redis_sentinel() {
    let master = Server::start_real(&[]);
    let mp = master.port.to_string();
    let _replica = Server::start_real(&["--replicaof", "localhost", &mp, "--replica-announce-ip", "localhost"]);
    for announce in ["no", "yes"] {
        let seen: Vec<(Vec<u8>, Vec<u8>, Vec<String>)> = [REAL_SENTINEL, OUR_SENTINEL]
            .iter()
            .map(|bin| {
                let s = launch_with(
                    bin,
                    &format!(
                        "sentinel resolve-hostnames yes\nsentinel announce-hostnames {announce}\n\
                         sentinel monitor m localhost {} 1\n",
                        master.port
                    ),
                );
                let mut c = None;
                wait_for("the sentinel to find the replica", Duration::from_secs(30), || {
                    c = c.take().or_else(|| Client::try_connect(s.port).ok());
                    c.as_mut().is_some_and(|c| c.cmd(&["SENTINEL", "REPLICAS", "m"]).starts_with(b"*1\r\n"))
                });
                let mut c = c.expect("connected");
                let addr = c.cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m"]);
                let replicas = c.cmd(&["SENTINEL", "REPLICAS", "m"]);
                // name, ip and port: the first six elements of the replica's map.
                let head: Vec<u8> = replicas.split_inclusive(|b| *b == b'\n').take(14).flatten().copied().collect();
                wait_for("the replica saved", Duration::from_secs(10), || {
                    s.file("sentinel.conf").contains("known-replica")
                });
                let lines = s
                    .file("sentinel.conf")
                    .lines()
                    .filter(|l| l.starts_with("sentinel monitor") || l.starts_with("sentinel known-replica"))
                    .map(str::to_string)
                    .collect();
                (addr, head, lines)
            })
            .collect();
        assert_eq!(seen[1], seen[0], "announce-hostnames {announce}: ours (left) and redis-sentinel (right)");
        let shown = if announce == "no" { "127.0.0.1" } else { "localhost" };
        assert!(seen[0].2.contains(&format!("sentinel monitor m {shown} {mp} 1")), "{:?}", seen[0].2);
    }
}
