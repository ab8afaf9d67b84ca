//! maxmemory and the eight maxmemory-policy values. Every scenario runs on our server and on
//! Debian's real Redis 7.0.15 with the same assertions, so what they expect is what Redis does.
//! The limit is set below each server's own used_memory (their allocators differ), and which keys
//! went is checked against the policy: what survives, what never goes, the OOM refusal, the
//! evicted_keys count and the `evicted` events (each key published once, and gone).

use std::collections::HashSet;
use std::time::Duration;

use crate::common::*;
use crate::differential_support::*;

const OOM: &[u8] = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n";
/// Bytes per value: 2,000 keys make about 2.5 MB.
const VALUE_LEN: usize = 1000;

fn int(reply: &[u8]) -> i64 {
    Reply::parse(reply).int()
}

/// Runs `cmds` as one pipeline and checks every reply.
fn pipeline(c: &mut Client, cmds: &[Vec<String>], expect: &[u8]) {
    for chunk in cmds.chunks(500) {
        let mut batch = Vec::new();
        for args in chunk {
            let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
            batch.extend(encode(&a));
        }
        c.send_raw(&batch);
        for args in chunk {
            assert_eq!(c.read_reply(), expect, "{args:?}");
        }
    }
}

/// Sets `prefix0..prefixN` to 1 KB values, with `EX ttl(i)` when given.
fn fill(c: &mut Client, prefix: &str, n: usize, ttl: Option<&dyn Fn(usize) -> u64>) {
    let value = "x".repeat(VALUE_LEN);
    let cmds: Vec<Vec<String>> = (0..n)
        .map(|i| {
            let mut args = vec!["SET".to_string(), format!("{prefix}{i}"), value.clone()];
            if let Some(ttl) = ttl {
                args.extend(["EX".to_string(), ttl(i).to_string()]);
            }
            args
        })
        .collect();
    pipeline(c, &cmds, b"+OK\r\n");
}

/// Reads every key of `keys` `times` times (GET), in pipelines.
fn read_keys(c: &mut Client, keys: &[String], times: usize) {
    let value = "x".repeat(VALUE_LEN);
    let expect = format!("${VALUE_LEN}\r\n{value}\r\n").into_bytes();
    let cmds: Vec<Vec<String>> =
        (0..times).flat_map(|_| keys.iter().map(|k| vec!["GET".to_string(), k.clone()])).collect();
    pipeline(c, &cmds, &expect);
}

fn names(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// A server under test: a client that runs commands, and one subscribed to `evicted` events.
struct Evicting {
    c: Client,
    sub: Client,
    label: &'static str,
    seen: HashSet<String>,
}

impl Evicting {
    fn new(server: &Server, label: &'static str, policy: &str) -> Evicting {
        let mut c = server.client();
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]), b"+OK\r\n");
        assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]), b"+OK\r\n");
        let mut sub = server.client();
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
        Evicting { c, sub, label, seen: HashSet::new() }
    }

    /// Lowers maxmemory so that about `bytes` must go, waits until the server is back under it,
    /// then lifts the limit: memory hovers at the limit once there, and any command could make a
    /// few more keys go while the test looks at what went.
    fn evict_about(&mut self, bytes: u64) {
        let used = self.c.info_u64("memory", "used_memory");
        let limit = used.saturating_sub(bytes).to_string();
        assert_eq!(self.c.cmd(&["CONFIG", "SET", "maxmemory", &limit]), b"+OK\r\n", "{}", self.label);
        self.wait_under_limit();
        assert_eq!(self.c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), b"+OK\r\n", "{}", self.label);
    }

    /// Eviction may go on in the background after a command (as in Redis): waits for it to end.
    fn wait_under_limit(&mut self) {
        let c = &mut self.c;
        wait_for(&format!("{}: used_memory under maxmemory", self.label), Duration::from_secs(30), || {
            let max = c.info_u64("memory", "maxmemory");
            c.info_u64("memory", "used_memory") <= max && c.info_u64("stats", "current_eviction_exceeded_time") == 0
        });
    }

    fn evicted_keys(&mut self) -> u64 {
        self.c.info_u64("stats", "evicted_keys")
    }

    /// Reads the `evicted` events published since the last call: one per evicted_keys, each a
    /// key published once, that no longer exists. Returns their names.
    fn evicted_events(&mut self) -> HashSet<String> {
        let count = self.evicted_keys() as usize - self.seen.len();
        let mut keys = HashSet::new();
        for _ in 0..count {
            let m = self.sub.read_reply();
            let (Reply::Array(items) | Reply::Push(items)) = Reply::parse(&m) else {
                panic!("{}: event {}", self.label, show_bytes(&m, usize::MAX))
            };
            assert_eq!(items[1], Reply::bulk_of("__keyevent@0__:evicted"), "{}", self.label);
            let Reply::Bulk(key) = &items[2] else { panic!("{}: event {}", self.label, show_bytes(&m, usize::MAX)) };
            let key = String::from_utf8(key.clone()).unwrap();
            assert!(self.seen.insert(key.clone()), "{}: {key} evicted twice", self.label);
            keys.insert(key);
        }
        // Nothing more than counted: the next thing the subscriber gets is the PING's reply.
        assert_eq!(self.sub.cmd(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n", "{}: extra events", self.label);
        for k in &keys {
            assert_eq!(self.c.cmd(&["EXISTS", k]), b":0\r\n", "{}: evicted {k} still exists", self.label);
        }
        keys
    }

    fn dbsize(&mut self) -> usize {
        int(&self.c.cmd(&["DBSIZE"])) as usize
    }
}

fn both_servers(args: &[&str]) -> [(Server, &'static str); 2] {
    [(Server::start(args), "ours"), (Server::start_real(args), "real Redis")]
}

/// The LRU clock counts seconds: keys read after this pause look recent next to the others.
fn let_keys_age() {
    std::thread::sleep(Duration::from_millis(2200));
}

#[test]
fn noeviction_refuses_writes_with_the_oom_error_and_serves_the_rest() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let mut other = duo.pair_named("transaction started before the limit");
    p.check(&["SET", "k", "v"]);
    p.check(&["SET", "gone", "v"]);
    other.check(&["WATCH", "k"]);
    other.check(&["MULTI"]);
    other.check(&["SET", "t", "v"]);
    let mut readonly_tx = duo.pair_named("read-only transaction");
    readonly_tx.check(&["MULTI"]);
    readonly_tx.check(&["GET", "k"]);
    p.check(&["CONFIG", "SET", "maxmemory", "1"]);
    p.check_sorted(&["CONFIG", "GET", "maxmemory*"]);
    let oom = p.check(&["SET", "k", "v2"]);
    assert_eq!(oom, OOM);
    p.check(&["APPEND", "k", "x"]);
    p.check(&["INCR", "n"]);
    p.check(&["MSET", "a", "1", "b", "2"]);
    p.check(&["SETBIT", "k", "1", "1"]);
    p.check(&["COPY", "k", "k2"]);
    // Reads, deletions and commands that cannot grow memory still run.
    p.check(&["GET", "k"]);
    p.check(&["EXISTS", "k"]);
    p.check(&["EXPIRE", "k", "100"]);
    p.check(&["PERSIST", "k"]);
    p.check(&["DEL", "gone"]);
    p.check(&["PING"]);
    p.check(&["DBSIZE"]);
    // Inside MULTI nothing may be queued; the transaction then fails.
    p.check(&["MULTI"]);
    p.check(&["GET", "k"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    p.check(&["MULTI"]);
    p.check(&["DISCARD"]);
    // EXEC of a transaction that queued a DENYOOM command is refused; one that did not runs.
    other.check(&["EXEC"]);
    other.check(&["EXEC"]);
    readonly_tx.check(&["EXEC"]);
    p.check(&["CONFIG", "SET", "maxmemory", "0"]);
    p.check(&["SET", "k", "v3"]);
    p.check_with(&["INFO", "stats"], |b| {
        let text = String::from_utf8_lossy(b).into_owned();
        text.split("\r\n").filter(|l| l.starts_with("evicted_keys:")).collect::<Vec<_>>().join("|").into_bytes()
    });
    p.check(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    p.check_with(&["INFO", "memory"], |b| {
        let text = String::from_utf8_lossy(b).into_owned();
        let want = ["maxmemory:", "maxmemory_human:", "maxmemory_policy:", "mem_not_counted_for_evict:"];
        text.split("\r\n").filter(|l| want.iter().any(|w| l.starts_with(w))).collect::<Vec<_>>().join("|").into_bytes()
    });
}

/// A big pipelined reply's room is given back once it is written, as Redis frees its reply list's
/// blocks: used_memory read right after it (what maxmemory is measured against) does not count
/// it. Kept until the next cron, it made eviction free half what it should (seen under load).
#[test]
fn a_written_reply_is_not_counted_in_used_memory() {
    for (server, label) in both_servers(&[]) {
        let mut c = server.client();
        fill(&mut c, "k", 10, None);
        let before = c.info_u64("memory", "used_memory");
        let keys = names("k", 0..10);
        // 600 KB of replies in one pipeline, read in full before INFO is sent.
        read_keys(&mut c, &keys, 60);
        let after = c.info_u64("memory", "used_memory");
        assert!(after < before + 100 * 1024, "{label}: used_memory {before} before the replies, {after} after");
    }
}

#[test]
fn allkeys_random_evicts_until_under_the_limit() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "allkeys-random");
        fill(&mut s.c, "k", 2000, None);
        s.evict_about(800 * 1024);
        let evicted = s.evicted_events();
        assert!(evicted.len() >= 500, "{label}: only {} evicted", evicted.len());
        assert_eq!(s.dbsize(), 2000 - evicted.len(), "{label}");
        // Writes go on under the limit: each new key makes room for itself.
        let used = s.c.info_u64("memory", "used_memory").to_string();
        assert_eq!(s.c.cmd(&["CONFIG", "SET", "maxmemory", &used]), b"+OK\r\n");
        fill(&mut s.c, "new", 300, None);
        s.wait_under_limit();
        assert_eq!(s.c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), b"+OK\r\n");
        let evicted = s.evicted_events();
        assert!(evicted.len() >= 200, "{label}: only {} evicted for 300 new keys", evicted.len());
    }
}

#[test]
fn allkeys_lru_keeps_the_keys_read_recently() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "allkeys-lru");
        fill(&mut s.c, "k", 2000, None);
        let_keys_age();
        let hot = names("k", 0..200);
        read_keys(&mut s.c, &hot, 1);
        s.evict_about(900 * 1024);
        let evicted = s.evicted_events();
        assert!(evicted.len() >= 600, "{label}: only {} evicted", evicted.len());
        let hot_lost = hot.iter().filter(|k| evicted.contains(*k)).count();
        assert!(hot_lost <= 2, "{label}: {hot_lost} of the 200 recently read keys were evicted");
    }
}

#[test]
fn allkeys_lfu_keeps_the_keys_read_often() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "allkeys-lfu");
        fill(&mut s.c, "k", 2000, None);
        let hot = names("k", 1800..2000);
        read_keys(&mut s.c, &hot, 30);
        s.evict_about(900 * 1024);
        let evicted = s.evicted_events();
        assert!(evicted.len() >= 600, "{label}: only {} evicted", evicted.len());
        let hot_lost = hot.iter().filter(|k| evicted.contains(*k)).count();
        assert!(hot_lost <= 2, "{label}: {hot_lost} of the 200 often read keys were evicted");
    }
}

/// The counter of OBJECT FREQ follows lfu-log-factor (0: every access counts) and lfu-decay-time.
#[test]
fn lfu_settings_take_effect() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["SET", "k", "v"]);
    p.check(&["OBJECT", "FREQ", "k"]);
    p.check(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    p.check(&["CONFIG", "SET", "lfu-log-factor", "0"]);
    p.check(&["CONFIG", "SET", "lfu-decay-time", "0"]);
    p.check(&["SET", "k", "v"]);
    p.check(&["SET", "fresh", "v"]);
    p.check(&["OBJECT", "FREQ", "fresh"]);
    for _ in 0..20 {
        p.check(&["GET", "fresh"]);
    }
    p.check(&["OBJECT", "FREQ", "fresh"]);
    p.check(&["OBJECT", "IDLETIME", "fresh"]);
    p.check_sorted(&["CONFIG", "GET", "lfu-*"]);
}

/// Shared by the volatile policies: keys without a TTL never go, and once no key has one, writes
/// are refused with the OOM error (and a WATCH on an evicted key fails the transaction).
fn volatile_keys_only(server: &Server, s: &mut Evicting, persistent: usize, volatile: usize) {
    let label = s.label;
    let watched = (0..volatile).map(|i| format!("v{i}")).find(|k| s.c.cmd(&["EXISTS", k]) == b":1\r\n");
    let watched = watched.unwrap_or_else(|| panic!("{label}: no volatile key left"));
    let mut watcher = server.client();
    assert_eq!(watcher.cmd(&["WATCH", &watched]), b"+OK\r\n");
    assert_eq!(watcher.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(watcher.cmd(&["PING"]), b"+QUEUED\r\n");
    assert_eq!(s.c.cmd(&["CONFIG", "SET", "maxmemory", "1"]), b"+OK\r\n");
    let c = &mut s.c;
    wait_for(&format!("{label}: every volatile key evicted"), Duration::from_secs(30), || {
        int(&c.cmd(&["DBSIZE"])) as usize == persistent
    });
    let evicted = s.evicted_events();
    assert!(evicted.iter().all(|k| k.starts_with('v')), "{label}: a key without a TTL was evicted");
    assert_eq!(s.seen.len(), volatile, "{label}: evicted_keys");
    assert_eq!(s.c.cmd(&["SET", "p0", "x"]), OOM, "{label}");
    assert_eq!(s.c.cmd(&["SET", "more", "x", "EX", "100"]), OOM, "{label}");
    assert_eq!(s.c.cmd(&["GET", "p1"]), format!("${VALUE_LEN}\r\n{}\r\n", "x".repeat(VALUE_LEN)).into_bytes());
    assert_eq!(s.c.cmd(&["DEL", "p1"]), b":1\r\n", "{label}");
    assert_eq!(watcher.cmd(&["EXEC"]), b"*-1\r\n", "{label}: the watched key was evicted");
    assert_eq!(s.evicted_keys(), volatile as u64, "{label}");
}

#[test]
fn volatile_lru_evicts_only_keys_with_a_ttl_least_recently_used_first() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "volatile-lru");
        fill(&mut s.c, "p", 500, None);
        fill(&mut s.c, "v", 1500, Some(&|_| 100_000));
        let_keys_age();
        let hot = names("v", 1300..1500);
        read_keys(&mut s.c, &hot, 1);
        s.evict_about(700 * 1024);
        let evicted = s.evicted_events();
        // How many depends on what else in the process shrank meanwhile (idle clients' buffers
        // trimmed by the cron), never the policy's choice of keys.
        assert!(evicted.len() >= 150, "{label}: only {} evicted", evicted.len());
        assert!(evicted.iter().all(|k| k.starts_with('v')), "{label}: a key without a TTL was evicted");
        let hot_lost = hot.iter().filter(|k| evicted.contains(*k)).count();
        assert!(hot_lost <= 2, "{label}: {hot_lost} of the 200 recently read keys were evicted");
        volatile_keys_only(&server, &mut s, 500, 1500);
    }
}

#[test]
fn volatile_lfu_evicts_only_keys_with_a_ttl_least_frequently_used_first() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "volatile-lfu");
        fill(&mut s.c, "p", 500, None);
        fill(&mut s.c, "v", 1500, Some(&|_| 100_000));
        let hot = names("v", 0..200);
        read_keys(&mut s.c, &hot, 30);
        s.evict_about(700 * 1024);
        let evicted = s.evicted_events();
        // How many depends on what else in the process shrank meanwhile (idle clients' buffers
        // trimmed by the cron), never the policy's choice of keys.
        assert!(evicted.len() >= 150, "{label}: only {} evicted", evicted.len());
        assert!(evicted.iter().all(|k| k.starts_with('v')), "{label}: a key without a TTL was evicted");
        let hot_lost = hot.iter().filter(|k| evicted.contains(*k)).count();
        assert!(hot_lost <= 2, "{label}: {hot_lost} of the 200 often read keys were evicted");
        volatile_keys_only(&server, &mut s, 500, 1500);
    }
}

#[test]
fn volatile_random_evicts_only_keys_with_a_ttl() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "volatile-random");
        fill(&mut s.c, "p", 500, None);
        fill(&mut s.c, "v", 1500, Some(&|_| 100_000));
        s.evict_about(700 * 1024);
        let evicted = s.evicted_events();
        // How many depends on what else in the process shrank meanwhile (idle clients' buffers
        // trimmed by the cron), never the policy's choice of keys.
        assert!(evicted.len() >= 150, "{label}: only {} evicted", evicted.len());
        assert!(evicted.iter().all(|k| k.starts_with('v')), "{label}: a key without a TTL was evicted");
        volatile_keys_only(&server, &mut s, 500, 1500);
    }
}

#[test]
fn volatile_ttl_evicts_the_shortest_ttls_first() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "volatile-ttl");
        fill(&mut s.c, "p", 500, None);
        // v<i> expires after 10000 + 10 i seconds: the lower i, the sooner.
        fill(&mut s.c, "v", 1500, Some(&|i| 10_000 + 10 * i as u64));
        s.evict_about(700 * 1024);
        let evicted = s.evicted_events();
        // How many depends on what else in the process shrank meanwhile (idle clients' buffers
        // trimmed by the cron), never the policy's choice of keys.
        assert!(evicted.len() >= 150, "{label}: only {} evicted", evicted.len());
        assert!(evicted.iter().all(|k| k.starts_with('v')), "{label}: a key without a TTL was evicted");
        let index = |k: &String| k[1..].parse::<usize>().unwrap();
        let n = evicted.len();
        // The pool approximates: nearly all of the evicted keys are among the n soonest to expire,
        // and the latest to expire all stay.
        let in_front = evicted.iter().filter(|k| index(k) < n + n / 4).count();
        assert!(in_front * 100 >= n * 95, "{label}: only {in_front} of {n} evicted keys had the shortest TTLs");
        assert!(evicted.iter().all(|k| index(k) < 1400), "{label}: a key of the longest TTLs was evicted");
        volatile_keys_only(&server, &mut s, 500, 1500);
    }
}

/// The INFO fields of eviction: evicted_keys (reset by CONFIG RESETSTAT) and the time spent over
/// the limit.
#[test]
fn eviction_stats() {
    for (server, label) in both_servers(&[]) {
        let mut s = Evicting::new(&server, label, "allkeys-random");
        fill(&mut s.c, "k", 1000, None);
        s.evict_about(300 * 1024);
        let evicted = s.evicted_events().len() as u64;
        assert!(evicted > 0, "{label}");
        assert_eq!(s.c.info_u64("stats", "evicted_keys"), evicted, "{label}");
        assert_eq!(s.c.info_u64("stats", "current_eviction_exceeded_time"), 0, "{label}");
        assert!(s.c.info_field("stats", "total_eviction_exceeded_time").parse::<u64>().is_ok());
        assert_eq!(s.c.cmd(&["CONFIG", "RESETSTAT"]), b"+OK\r\n");
        assert_eq!(s.c.info_u64("stats", "evicted_keys"), 0, "{label}");
        assert_eq!(s.c.info_u64("stats", "total_eviction_exceeded_time"), 0, "{label}");
    }
}

/// used_memory follows what the process really holds: the growth of VmRSS while a large keyspace
/// is loaded, within 10%.
#[test]
fn used_memory_tracks_resident_memory() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).expect("proc status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS");
        kb * 1024
    };
    let (rss0, used0) = (rss(), c.info_u64("memory", "used_memory"));
    let small: Vec<Vec<String>> = (0..200_000)
        .map(|i| vec!["SET".into(), format!("key:{i:08}"), format!("value-{i}-{}", "y".repeat(i % 40))])
        .collect();
    pipeline(&mut c, &small, b"+OK\r\n");
    fill(&mut c, "big", 20_000, Some(&|i| 100_000 + i as u64));
    let (rss1, used1) = (rss(), c.info_u64("memory", "used_memory"));
    let (grown_rss, grown_used) = (rss1 - rss0, used1 - used0);
    let off = grown_rss.abs_diff(grown_used);
    assert!(
        off * 10 <= grown_rss,
        "used_memory grew by {grown_used} bytes, VmRSS by {grown_rss}: {}% apart",
        off * 100 / grown_rss
    );
}
