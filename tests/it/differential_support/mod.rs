//! Differential testing: the same commands go to our server and to Debian's real Redis 7.0, and the
//! replies are compared byte for byte. Only values that differ legitimately between two servers
//! (client ids, ports, addresses, times, hash order) are normalised, each case explicitly.
#![allow(dead_code)]

use std::time::Duration;

use crate::common::{show_bytes, Client, Reply, Server};

/// Our server and the real one, started with the same options.
pub struct Duo {
    pub ours: Server,
    pub real: Server,
}

impl Duo {
    pub fn start(args: &[&str]) -> Duo {
        Duo { ours: Server::start(args), real: Server::start_real(args) }
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
        (self.ours.cmd(args), self.real.cmd(args))
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

/// Polls until `cond` holds on both servers, with a deadline.
pub fn wait_both(what: &str, pair: &mut Pair, mut cond: impl FnMut(&mut Client) -> bool) {
    crate::common::wait_for(&format!("{what} (ours)"), Duration::from_secs(5), || cond(&mut pair.ours));
    crate::common::wait_for(&format!("{what} (real)"), Duration::from_secs(5), || cond(&mut pair.real));
}
