//! Differential testing: the same commands go to our server and to Debian's real Redis 7.0, and the
//! replies are compared byte for byte. Only values that differ legitimately between two servers
//! (client ids, ports, addresses, times, hash order) are normalised, each case explicitly.
#![allow(dead_code)]

use std::time::Duration;

use crate::common::{show_bytes, Client, Reply, Server};

/// Set to `real`, this environment variable makes the differential harnesses run Debian's
/// redis-server where they would run ours. A new differential test is proved with it: against
/// real Redis on both sides it must pass (what it compares is the same between two runs of Redis,
/// once its normalisations are applied), before ours implements what it tests.
pub const OURS_STAND_IN: &str = "REDIS_RS_DIFF_OURS";

/// Whether `REDIS_RS_DIFF_OURS=real` stands real Redis in for ours.
pub fn ours_is_real() -> bool {
    std::env::var(OURS_STAND_IN).is_ok_and(|v| v == "real")
}

/// Starts the server under test: ours, or real Redis when `REDIS_RS_DIFF_OURS=real`.
pub fn start_ours(args: &[&str]) -> Server {
    if ours_is_real() {
        Server::start_real(args)
    } else {
        Server::start(args)
    }
}

/// Our server and the real one, started with the same options.
pub struct Duo {
    pub ours: Server,
    pub real: Server,
}

impl Duo {
    pub fn start(args: &[&str]) -> Duo {
        Duo { ours: start_ours(args), real: Server::start_real(args) }
    }

    /// Runs `scenario` on a fresh pair in RESP2, then on another in RESP3, each after FLUSHALL.
    pub fn in_both_protocols(&self, scenario: impl Fn(&mut Pair)) {
        for resp in ["2", "3"] {
            let mut p = self.pair_named(&format!("RESP{resp}"));
            p.both(&["HELLO", resp]);
            p.both(&["FLUSHALL"]);
            scenario(&mut p);
            p.assert_clean();
        }
    }

    /// One connection to each server.
    pub fn pair(&self) -> Pair {
        Pair { ours: self.ours.client(), real: self.real.client(), label: String::new(), mismatches: Vec::new() }
    }

    /// A labelled connection pair; the label prefixes its mismatch reports.
    pub fn pair_named(&self, label: &str) -> Pair {
        let mut p = self.pair();
        p.label = label.to_string();
        p
    }
}

/// A connection to each server. Every comparison that fails is recorded; the pair panics with
/// the full list when dropped (or on `assert_clean`), so one run reports every mismatch.
pub struct Pair {
    pub ours: Client,
    pub real: Client,
    pub label: String,
    pub mismatches: Vec<String>,
}

impl Pair {
    fn record(&mut self, what: &str, ours: &[u8], real: &[u8]) {
        self.mismatches.push(format!(
            "{}{what}\n      real: \"{}\"\n      ours: \"{}\"",
            if self.label.is_empty() { String::new() } else { format!("[{}] ", self.label) },
            show_bytes(real, usize::MAX),
            show_bytes(ours, usize::MAX)
        ));
    }

    /// Runs the command on both servers without comparing (setup whose reply is checked elsewhere).
    pub fn both(&mut self, args: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let (o, r) = (self.ours.cmd(args), self.real.cmd(args));
        // Both refusing DEBUG would compare equal and test nothing: the scenario forgot the option.
        assert!(
            !r.starts_with(b"-ERR DEBUG command not allowed"),
            "{args:?} needs the servers started with --enable-debug-command yes"
        );
        (o, r)
    }

    /// Runs the command on both and requires identical replies. Returns the real server's reply.
    pub fn check(&mut self, args: &[&str]) -> Vec<u8> {
        self.check_with(args, |b| b.to_vec())
    }

    /// Like `check`, comparing after `norm` was applied to both replies.
    pub fn check_with(&mut self, args: &[&str], norm: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
        let (o, r) = self.both(args);
        if norm(&o) != norm(&r) {
            self.record(&format!("{args:?}"), &o, &r);
        }
        r
    }

    /// Like `check` for replies that carry times (idle times, delivery and seen times): `mark`
    /// replaces each time in a parsed reply with `<time>` and collects it. The replies must be equal
    /// with the times masked, and each time of ours must be within `TIME_TOLERANCE_MS` of the real
    /// one (the two servers measure a moment apart).
    pub fn check_timed(&mut self, args: &[&str], mark: impl Fn(&mut Reply, &mut Vec<i64>)) -> Vec<u8> {
        let (o, r) = self.both(args);
        let (o_masked, o_times) = extract_times(&o, &mark);
        let (r_masked, r_times) = extract_times(&r, &mark);
        let close = o_times.len() == r_times.len()
            && o_times.iter().zip(&r_times).all(|(a, b)| (a - b).abs() <= TIME_TOLERANCE_MS);
        if o_masked != r_masked || !close {
            self.record(&format!("{args:?} (times within {TIME_TOLERANCE_MS} ms)"), &o, &r);
        }
        r
    }

    /// Like `check` for replies whose element order is the server's hash order.
    pub fn check_sorted(&mut self, args: &[&str]) -> Vec<u8> {
        self.check_with(args, sort_all)
    }

    /// Runs a command that answers with `n` replies (SUBSCRIBE a b c) and compares each.
    pub fn check_n(&mut self, args: &[&str], n: usize) {
        self.send_cmds(&[args]);
        for i in 0..n {
            self.check_read(&format!("{args:?} reply {}/{n}", i + 1));
        }
    }

    /// Like `check_n` for (UN)SUBSCRIBE-all replies, which name the channels in the server's hash
    /// order while the counts still go down in order: compares the counts in order and the rest of
    /// each reply as a set.
    pub fn check_n_hash_order(&mut self, args: &[&str], n: usize) {
        self.send_cmds(&[args]);
        let shape = |replies: Vec<Vec<u8>>| {
            let mut counts = Vec::new();
            let mut rest = Vec::new();
            for r in replies {
                let cut = r[..r.len() - 2].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
                counts.extend_from_slice(&r[cut..]);
                rest.push(r[..cut].to_vec());
            }
            rest.sort();
            [counts, b" / ".to_vec(), rest.concat()].concat()
        };
        let o = shape((0..n).map(|_| self.ours.read_reply()).collect());
        let r = shape((0..n).map(|_| self.real.read_reply()).collect());
        self.compare(&format!("{args:?} ({n} replies: counts in order, the rest as a set)"), &o, &r);
    }

    /// Sends raw bytes to both, without reading.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.ours.send_raw(bytes);
        self.real.send_raw(bytes);
    }

    /// Sends several commands to both in one write (a pipeline), without reading.
    pub fn send_cmds(&mut self, cmds: &[&[&str]]) {
        let mut batch = Vec::new();
        for args in cmds {
            let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
            batch.extend(crate::common::encode(&a));
        }
        self.send_raw(&batch);
    }

    /// For a subscriber pair: what each was published since the last call, up to the PONG of a
    /// PING sent now (a subscriber's PING is answered after everything published before it),
    /// compared. Returns real Redis's.
    pub fn check_published(&mut self, what: &str) -> Vec<u8> {
        self.send_cmds(&[&["PING"]]);
        let ours = read_until_pong(&mut self.ours);
        let real = read_until_pong(&mut self.real);
        self.compare(what, &ours, &real);
        real
    }

    /// Reads one reply from each and compares them.
    pub fn check_read(&mut self, what: &str) -> Vec<u8> {
        let (o, r) = (self.ours.read_reply(), self.real.read_reply());
        if o != r {
            self.record(what, &o, &r);
        }
        r
    }

    /// Reads `n` replies from each, in an order that depends on hashing (pmessages of several
    /// patterns), and compares them as sets.
    pub fn check_read_unordered(&mut self, what: &str, n: usize) {
        let mut o: Vec<Vec<u8>> = (0..n).map(|_| self.ours.read_reply()).collect();
        let mut r: Vec<Vec<u8>> = (0..n).map(|_| self.real.read_reply()).collect();
        o.sort();
        r.sort();
        self.compare(&format!("{what} ({n} replies, sorted)"), &o.concat(), &r.concat());
    }

    /// Compares two values produced by the test itself (derived from both servers' replies).
    pub fn compare(&mut self, what: &str, ours: &[u8], real: &[u8]) {
        if ours != real {
            self.record(what, ours, real);
        }
    }

    pub fn assert_clean(&mut self) {
        let m = std::mem::take(&mut self.mismatches);
        assert!(m.is_empty(), "{} mismatch(es) with real Redis:\n  {}", m.len(), m.join("\n  "));
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_clean();
        }
    }
}

/// How far apart a time in our reply and the same time in real Redis's may be.
pub const TIME_TOLERANCE_MS: i64 = 5000;

/// The reply with the times `mark` selects masked as `<time>`, and those times in order.
pub fn extract_times(b: &[u8], mark: impl Fn(&mut Reply, &mut Vec<i64>)) -> (Vec<u8>, Vec<i64>) {
    let mut v = Reply::parse(b);
    let mut times = Vec::new();
    mark(&mut v, &mut times);
    (v.encode(), times)
}

/// Masks `slot` as `<time>` and collects it, if it is an integer (anything else is left to show
/// up in the comparison).
pub fn take_time(slot: &mut Reply, times: &mut Vec<i64>) {
    if let Reply::Int(t) = slot {
        times.push(*t);
        *slot = Reply::status("<time>");
    }
}

/// SplitMix64: a small deterministic generator, so a failing seed can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Sorts the elements of every array and set (and the pairs of every map), recursively: for replies
/// in hash order (KEYS, SCAN, PUBSUB CHANNELS).
pub fn sort_all(b: &[u8]) -> Vec<u8> {
    fn go(v: &mut Reply) {
        match v {
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
                items.iter_mut().for_each(go);
                items.sort();
            }
            Reply::Map(kv) => {
                kv.iter_mut().for_each(|(k, v)| {
                    go(k);
                    go(v)
                });
                kv.sort();
            }
            _ => {}
        }
    }
    let mut v = Reply::parse(b);
    go(&mut v);
    v.encode()
}

/// Replaces the value that follows the bulk string `field` in a map (or flat array) reply with
/// the status `<field>`: for HELLO's `id`.
pub fn mask_field(b: &[u8], field: &str) -> Vec<u8> {
    let key = Reply::bulk_of(field);
    let masked = Reply::status(&format!("<{field}>"));
    let mut v = Reply::parse(b);
    match &mut v {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            for i in 0..items.len().saturating_sub(1) {
                if items[i] == key {
                    items[i + 1] = masked.clone();
                }
            }
        }
        Reply::Map(kv) => kv.iter_mut().filter(|(k, _)| *k == key).for_each(|(_, v)| *v = masked.clone()),
        _ => {}
    }
    v.encode()
}

/// Replaces every integer reply with the status `<int>`: for client ids and similar.
pub fn mask_ints(b: &[u8]) -> Vec<u8> {
    fn go(v: &mut Reply) {
        match v {
            Reply::Int(_) => *v = Reply::status("<int>"),
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => items.iter_mut().for_each(go),
            Reply::Map(kv) => kv.iter_mut().for_each(|(k, v)| {
                go(k);
                go(v)
            }),
            _ => {}
        }
    }
    let mut v = Reply::parse(b);
    go(&mut v);
    v.encode()
}

/// What a RESP2 subscriber received before the reply to the PING it just sent (a subscriber's
/// PING is answered after everything published before it): the notifications of the commands
/// run in between, byte for byte.
pub fn read_until_pong(c: &mut Client) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let r = c.read_reply();
        if r.starts_with(b"*2\r\n$4\r\npong\r\n") {
            return all;
        }
        all.extend_from_slice(&r);
    }
}

/// Checks each command on both servers.
pub fn check_all(p: &mut Pair, cases: &[&[&str]]) {
    for c in cases {
        p.check(c);
    }
}

/// INFO's rdb_changes_since_last_save.
pub fn dirty(c: &mut Client) -> i64 {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "persistence"])).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save in INFO")
}

/// Polls until `cond` holds on both servers, with a deadline.
pub fn wait_both(what: &str, pair: &mut Pair, mut cond: impl FnMut(&mut Client) -> bool) {
    crate::common::wait_for(&format!("{what} (ours)"), Duration::from_secs(5), || cond(&mut pair.ours));
    crate::common::wait_for(&format!("{what} (real)"), Duration::from_secs(5), || cond(&mut pair.real));
}

/// A master and a replica of it, linked and synced: both ours (or real Redis's stand-in for ours,
/// see `start_ours`), or both real Redis.
pub fn synced_master_and_replica(real: bool) -> (Server, Server) {
    let start = |args: &[&str]| if real { Server::start_real(args) } else { start_ours(args) };
    let master = start(&[]);
    let replica = start(&[]);
    let mut r = replica.client();
    r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    crate::common::wait_for("the replica to sync", Duration::from_secs(20), || {
        r.cmd_str(&["INFO", "replication"]).contains("master_link_status:up")
    });
    (master, replica)
}
