//! MIGRATE against Debian's real Redis 7.0: the same MIGRATE commands run from our server and
//! from real Redis, each to its own target (real Redis), and the replies, what is left at the
//! source and what arrived at the target compared; real Redis migrating to ours; the cached
//! connection (reused, retried when the target closed it, closed after 10 s unused); what
//! MIGRATE is replayed as.

use crate::common::{Client, Server};
use crate::differential_support::*;

const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

/// A source pair (ours and real) and a target for each.
struct Setup {
    duo: Duo,
    target_ours: Server,
    target_real: Server,
}

impl Setup {
    fn start(target_args: &[&str]) -> Setup {
        Setup::with_sources(&[], target_args)
    }

    fn with_sources(source_args: &[&str], target_args: &[&str]) -> Setup {
        let sources: Vec<&str> = DEBUG.iter().chain(source_args).copied().collect();
        let targets: Vec<&str> = DEBUG.iter().chain(target_args).copied().collect();
        Setup {
            duo: Duo::start(&sources),
            target_ours: Server::start_real(&targets),
            target_real: Server::start_real(&targets),
        }
    }

    /// A pair of clients to the two targets (the one ours migrates to, the one real Redis does).
    fn targets(&self) -> Pair {
        Pair {
            ours: self.target_ours.client(),
            real: self.target_real.client(),
            label: "target".into(),
            mismatches: Vec::new(),
        }
    }

    /// Runs MIGRATE on both sources, each to its target; `rest` follows the port.
    fn migrate(&self, p: &mut Pair, rest: &[&str]) -> Vec<u8> {
        let line = |port: u16| -> Vec<String> {
            ["MIGRATE", "127.0.0.1", &port.to_string()]
                .iter()
                .map(|s| s.to_string())
                .chain(rest.iter().map(|s| s.to_string()))
                .collect()
        };
        let run = |c: &mut Client, l: Vec<String>| {
            let refs: Vec<&str> = l.iter().map(String::as_str).collect();
            c.cmd(&refs)
        };
        let o = run(&mut p.ours, line(self.target_ours.port));
        let r = run(&mut p.real, line(self.target_real.port));
        p.compare(&format!("MIGRATE <target> {rest:?}"), &o, &r);
        r
    }
}

fn info_field(c: &mut Client, name: &str) -> i64 {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "all"])).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .unwrap_or_else(|| panic!("{name} in INFO"))
        .trim()
        .parse()
        .expect("a number")
}

#[test]
fn migrate_is_reals() {
    let s = Setup::start(&[]);
    let mut p = s.duo.pair();
    let mut t = s.targets();
    check_all(
        &mut p,
        &[
            &["SET", "str", "value"],
            &["SET", "volatile", "v", "PX", "100000"],
            &["RPUSH", "list", "a", "b", "c"],
            &["HSET", "hash", "f", "v"],
            &["SADD", "set", "1", "2", "3"],
            &["ZADD", "zset", "1", "m", "2", "n"],
            &["XADD", "stream", "1-1", "f", "v"],
            &["SET", "busy", "here"],
            &["SET", "copied", "c"],
        ],
    );
    t.check(&["SET", "busy", "there"]);
    for rest in [
        &["str", "0", "5000"][..],
        &["nosuch", "0", "5000"],
        &["volatile", "0", "5000"],
        &["busy", "0", "5000"],
        &["busy", "0", "5000", "REPLACE"],
        &["copied", "0", "5000", "COPY"],
        &["", "0", "5000", "KEYS", "list", "nosuch", "hash"],
        &["", "3", "5000", "COPY", "REPLACE", "KEYS", "set", "zset", "stream"],
        &["", "0", "5000", "KEYS", "nosuch1", "nosuch2"],
        &["set", "0", "5000", "KEYS", "zset"],
        &["set", "0", "5000", "BOGUS"],
        &["set", "0", "5000", "AUTH"],
        &["set", "0", "5000", "AUTH2", "u"],
        &["set", "x", "5000"],
        &["set", "0", "x"],
        &["set", "0", "0", "COPY"],
    ] {
        s.migrate(&mut p, rest);
    }
    for key in ["str", "volatile", "busy", "copied", "list", "hash", "set", "zset", "stream"] {
        p.check(&["EXISTS", key]);
        p.check(&["DEBUG", "DIGEST-VALUE", key]);
        t.check(&["DEBUG", "DIGEST-VALUE", key]);
    }
    t.check_timed(&["PTTL", "volatile"], take_time);
    t.check(&["DEBUG", "DIGEST"]);
    t.check(&["SELECT", "3"]);
    t.check(&["DEBUG", "DIGEST"]);
    p.check(&["DEBUG", "DIGEST"]);
    // Both sources keep one connection to their target.
    let (o, r) = (info_field(&mut p.ours, "migrate_cached_sockets"), info_field(&mut p.real, "migrate_cached_sockets"));
    p.compare("migrate_cached_sockets", o.to_string().as_bytes(), r.to_string().as_bytes());
    p.check(&["DBSIZE"]);
}

#[test]
fn target_errors_auth_and_io_errors() {
    let s = Setup::start(&["--requirepass", "secret"]);
    let mut p = s.duo.pair();
    p.check(&["SET", "k", "v"]);
    for rest in [
        &["k", "0", "5000"][..],
        &["k", "0", "5000", "AUTH", "wrong"],
        &["k", "0", "5000", "AUTH2", "default", "wrong"],
        &["k", "0", "5000", "COPY", "AUTH", "secret"],
        &["k", "99", "5000", "COPY", "AUTH", "secret"],
        &["k", "1", "5000", "AUTH2", "default", "secret"],
    ] {
        s.migrate(&mut p, rest);
    }
    p.check(&["EXISTS", "k"]);
    // Nothing listens: the connection fails.
    let closed = crate::common::free_port().to_string();
    p.check(&["SET", "k", "v"]);
    p.check(&["MIGRATE", "127.0.0.1", &closed, "k", "0", "500"]);
    // A target that does not answer in time: paused for writes longer than the timeout.
    let mut t = s.targets();
    t.both(&["AUTH", "secret"]);
    t.both(&["CLIENT", "PAUSE", "1500", "WRITE"]);
    s.migrate(&mut p, &["k", "0", "300", "AUTH", "secret"]);
    p.check(&["EXISTS", "k"]);
    // The timed-out connection was closed; a new one works once the pause is over.
    t.both(&["CLIENT", "UNPAUSE"]);
    s.migrate(&mut p, &["k", "0", "5000", "AUTH", "secret"]);
    p.check(&["EXISTS", "k"]);
    // AUTH's password is hidden in SLOWLOG as in Redis.
    p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    p.check(&["SLOWLOG", "RESET"]);
    p.both(&["MIGRATE", "127.0.0.1", &closed, "", "0", "10", "AUTH2", "user", "pw", "KEYS", "k"]);
    let entry = |c: &mut Client| {
        let r = crate::common::Reply::parse(&c.cmd(&["SLOWLOG", "GET", "1"]));
        r.items()[0].items()[3].encode()
    };
    let (o, r) = (entry(&mut p.ours), entry(&mut p.real));
    p.compare("SLOWLOG's MIGRATE arguments", &o, &r);
}

/// The connection is kept and reused; one the target closed is replaced (one retry); unused for
/// more than 10 seconds it is closed.
#[test]
fn cached_connection() {
    let s = Setup::start(&[]);
    let mut p = s.duo.pair();
    let mut t = s.targets();
    for i in 0..3 {
        p.check(&["SET", &format!("k{i}"), "v"]);
    }
    let received = |t: &mut Pair| {
        (info_field(&mut t.ours, "total_connections_received"), info_field(&mut t.real, "total_connections_received"))
    };
    let before = received(&mut t);
    s.migrate(&mut p, &["k0", "0", "5000"]);
    s.migrate(&mut p, &["k1", "0", "5000"]);
    let after = received(&mut t);
    p.compare(
        "connections the target got for two MIGRATEs",
        (after.0 - before.0).to_string().as_bytes(),
        (after.1 - before.1).to_string().as_bytes(),
    );
    // The target drops every connection but the test's: the next MIGRATE reconnects.
    t.both(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
    s.migrate(&mut p, &["k2", "0", "5000"]);
    t.check(&["DBSIZE"]);
    assert_eq!(info_field(&mut p.ours, "migrate_cached_sockets"), 1, "ours");
    assert_eq!(info_field(&mut p.real, "migrate_cached_sockets"), 1, "real");
    for (side, c) in [("ours", &mut p.ours), ("real", &mut p.real)] {
        let what = format!("{side}'s cached connection closed after 10 s unused");
        crate::common::wait_for(&what, std::time::Duration::from_secs(30), || {
            info_field(c, "migrate_cached_sockets") == 0
        });
    }
}

/// Real Redis migrates to ours: what arrives is the same value.
#[test]
fn real_redis_migrates_to_ours() {
    let real = Server::start_real(DEBUG);
    let ours = start_ours(DEBUG);
    let (mut src, mut dst) = (real.client(), ours.client());
    let setup: &[&[&str]] = &[
        &["SET", "str", "12345"],
        &["RPUSH", "list", "a", "1", "b"],
        &["HSET", "hash", "f", "v", "g", "w"],
        &["SADD", "set", "x", "1", "y"],
        &["ZADD", "zset", "1.5", "a", "-2", "b"],
        &["XADD", "stream", "5-5", "f", "v"],
        &["XGROUP", "CREATE", "stream", "g", "0"],
        &["SET", "volatile", "v", "EX", "1000"],
    ];
    for cmd in setup {
        src.cmd(cmd);
    }
    let keys = ["str", "list", "hash", "set", "zset", "stream", "volatile"];
    let digests = |c: &mut Client| {
        let mut cmd = vec!["DEBUG", "DIGEST-VALUE"];
        cmd.extend_from_slice(&keys);
        c.cmd(&cmd)
    };
    let before = digests(&mut src);
    let port = ours.port.to_string();
    let mut cmd = vec!["MIGRATE", "127.0.0.1", &port, "", "2", "5000", "KEYS"];
    cmd.extend_from_slice(&keys);
    assert_eq!(src.cmd(&cmd), b"+OK\r\n");
    assert_eq!(src.cmd(&["DBSIZE"]), b":0\r\n");
    dst.cmd(&["SELECT", "2"]);
    assert_eq!(digests(&mut dst), before);
    let pttl = String::from_utf8_lossy(&dst.cmd(&["PTTL", "volatile"])).into_owned();
    let pttl: i64 = pttl.trim_start_matches(':').trim().parse().expect("PTTL");
    assert!((990_000..=1_000_000).contains(&pttl), "PTTL {pttl}");
}

/// MIGRATE is replayed as DEL of the keys the target took; with COPY not at all.
#[test]
fn propagation() {
    use crate::differential_propagation::Differ;
    let target = Server::start_real(&[]);
    let port = target.port.to_string();
    let mut d = Differ::start(&[]);
    d.script(&["set a 1", "set b 2", "set c 3", "set e 5"]);
    d.run(&format!("migrate 127.0.0.1 {port} a 0 5000 replace"));
    d.run(&format!("migrate 127.0.0.1 {port} b 0 5000 copy replace"));
    d.run(&format!("migrate 127.0.0.1 {port} \"\" 0 5000 replace keys c nosuch e"));
    d.run(&format!("migrate 127.0.0.1 {port} nosuch 0 5000"));
    d.finish();
}

/// The source announces the keys it deleted (`del`), and only those.
#[test]
fn keyspace_events() {
    let s = Setup::with_sources(&["--notify-keyspace-events", "KEA"], &[]);
    let mut p = s.duo.pair();
    let (mut sub_o, mut sub_r) = (s.duo.ours.client(), s.duo.real.client());
    check_all(&mut p, &[&["SET", "a", "1"], &["SET", "b", "2"], &["SET", "c", "3"]]);
    for sub in [&mut sub_o, &mut sub_r] {
        sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    }
    s.migrate(&mut p, &["", "0", "5000", "KEYS", "a", "nosuch", "b"]);
    s.migrate(&mut p, &["c", "0", "5000", "COPY"]);
    s.migrate(&mut p, &["c", "0", "5000"]);
    for sub in [&mut sub_o, &mut sub_r] {
        sub.send_raw(&crate::common::encode(&[b"PING"]));
    }
    let (o, r) = (read_until_pong(&mut sub_o), read_until_pong(&mut sub_r));
    p.compare("keyspace events of MIGRATE", &o, &r);
}
