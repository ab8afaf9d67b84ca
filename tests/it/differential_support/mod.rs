//! Differential testing: the same commands go to our server and to Debian's real Redis 7.0, and the
//! replies are compared byte for byte. Only values that differ legitimately between two servers
//! (client ids, ports, addresses, times, hash order) are normalised, each case explicitly.
#![allow(dead_code)]

use std::time::Duration;

use crate::common::{Client, Server};

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

/// Printable form of raw reply bytes.
pub fn show(b: &[u8]) -> String {
    crate::common::show_bytes(b, usize::MAX)
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
            show(real),
            show(ours)
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

/// A parsed RESP2/RESP3 reply, for normalising.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum V {
    /// `+ - : _ , # (` lines: type byte and text.
    Line(u8, Vec<u8>),
    /// `$ = !` strings (None: `$-1`).
    Str(u8, Option<Vec<u8>>),
    /// `* ~ > % |` aggregates (None: `*-1`). Maps and attributes hold keys and values flat.
    Agg(u8, Option<Vec<V>>),
}

pub fn parse(b: &[u8]) -> V {
    let (v, rest) = parse_one(b);
    assert!(rest.is_empty(), "trailing bytes after a reply: {}", show(b));
    v
}

/// Parses every reply in `b` (a stream of replies).
pub fn parse_all(mut b: &[u8]) -> Vec<V> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (v, rest) = parse_one(b);
        out.push(v);
        b = rest;
    }
    out
}

fn parse_one(b: &[u8]) -> (V, &[u8]) {
    let end = b.windows(2).position(|w| w == b"\r\n").unwrap_or_else(|| panic!("no CRLF in {}", show(b)));
    let t = b[0];
    let body = b[1..end].to_vec();
    let rest = &b[end + 2..];
    let n = || std::str::from_utf8(&body).ok().and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1);
    match t {
        b'$' | b'=' | b'!' => {
            if n() < 0 {
                return (V::Str(t, None), rest);
            }
            let len = n() as usize;
            (V::Str(t, Some(rest[..len].to_vec())), &rest[len + 2..])
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            if n() < 0 {
                return (V::Agg(t, None), rest);
            }
            let count = if matches!(t, b'%' | b'|') { 2 * n() as usize } else { n() as usize };
            let mut items = Vec::with_capacity(count);
            let mut r = rest;
            for _ in 0..count {
                let (v, r2) = parse_one(r);
                items.push(v);
                r = r2;
            }
            (V::Agg(t, Some(items)), r)
        }
        _ => (V::Line(t, body), rest),
    }
}

pub fn encode_value(v: &V) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(v, &mut out);
    out
}

fn encode_into(v: &V, out: &mut Vec<u8>) {
    match v {
        V::Line(t, body) => {
            out.push(*t);
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        V::Str(t, None) => {
            out.push(*t);
            out.extend_from_slice(b"-1\r\n");
        }
        V::Str(t, Some(s)) => {
            out.push(*t);
            out.extend_from_slice(format!("{}\r\n", s.len()).as_bytes());
            out.extend_from_slice(s);
            out.extend_from_slice(b"\r\n");
        }
        V::Agg(t, None) => {
            out.push(*t);
            out.extend_from_slice(b"-1\r\n");
        }
        V::Agg(t, Some(items)) => {
            let n = if matches!(t, b'%' | b'|') { items.len() / 2 } else { items.len() };
            out.push(*t);
            out.extend_from_slice(format!("{n}\r\n").as_bytes());
            for i in items {
                encode_into(i, out);
            }
        }
    }
}

/// Sorts the elements of every array and set (and the pairs of every map), recursively: for replies
/// in hash order (KEYS, SCAN, PUBSUB CHANNELS).
pub fn sort_all(b: &[u8]) -> Vec<u8> {
    fn go(v: &mut V) {
        if let V::Agg(t, Some(items)) = v {
            items.iter_mut().for_each(go);
            if matches!(t, b'%' | b'|') {
                let mut pairs: Vec<(V, V)> = items.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
                pairs.sort();
                *items = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
            } else {
                items.sort();
            }
        }
    }
    let mut v = parse(b);
    go(&mut v);
    encode_value(&v)
}

/// Replaces the value that follows the bulk string `field` in a map (or flat array) reply with
/// `<field>`: for HELLO's `id`.
pub fn mask_field(b: &[u8], field: &str) -> Vec<u8> {
    let mut v = parse(b);
    if let V::Agg(_, Some(items)) = &mut v {
        for i in 0..items.len().saturating_sub(1) {
            if items[i] == V::Str(b'$', Some(field.as_bytes().to_vec())) {
                items[i + 1] = V::Line(b'+', format!("<{field}>").into_bytes());
            }
        }
    }
    encode_value(&v)
}

/// Replaces every integer reply's value with `N`: for client ids and similar.
pub fn mask_ints(b: &[u8]) -> Vec<u8> {
    fn go(v: &mut V) {
        match v {
            V::Line(b':', n) => *n = b"N".to_vec(),
            V::Agg(_, Some(items)) => items.iter_mut().for_each(go),
            _ => {}
        }
    }
    let mut v = parse(b);
    go(&mut v);
    encode_value(&v)
}

/// Polls until `cond` holds on both servers, with a deadline.
pub fn wait_both(what: &str, pair: &mut Pair, mut cond: impl FnMut(&mut Client) -> bool) {
    crate::common::wait_for(&format!("{what} (ours)"), Duration::from_secs(5), || cond(&mut pair.ours));
    crate::common::wait_for(&format!("{what} (real)"), Duration::from_secs(5), || cond(&mut pair.real));
}
