//! Differential test of the write stream (what the AOF and replicas are fed): the same scripted
//! write commands run on Debian's real Redis 7.0 and on ours, both with an AOF of plain commands
//! (`--appendonly yes --aof-use-rdb-preamble no`, fsync always so every write is in the file
//! before its reply), and after each command the lines it appended to each server's INCR file are
//! compared, command by command. What legitimately differs is normalised, each case explicitly:
//! absolute expiry times computed from relative ones (PXAT, PEXPIREAT) within a tolerance, members
//! picked at random (SPOP with a count), and the order of keys expired or evicted in a cycle.
//! Commands are sent in lower case so that a command replayed as itself (Redis keeps the client's
//! spelling) is told apart from a rewritten one (Redis's shared upper-case names).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::reply::ParseError;
use crate::common::{encode, show_bytes, wait_for, Client, Reply, Server};

/// Both servers run with these options: an AOF of commands only, written before each reply, never
/// rewritten behind the test's back, and DEBUG allowed: the active expiry cycle is stopped
/// (DEBUG SET-ACTIVE-EXPIRE 0) so that keys expire only when touched, unless a scenario runs it.
const OPTIONS: &[&str] = &[
    "--appendonly",
    "yes",
    "--aof-use-rdb-preamble",
    "no",
    "--appendfsync",
    "always",
    "--auto-aof-rewrite-percentage",
    "0",
    "--enable-debug-command",
    "yes",
];

/// Two absolute times computed by each server from the same relative one (EX 100 run a moment
/// apart on each) differ by the time between the two runs: this much at most.
const TIME_TOLERANCE_MS: i64 = 5000;

pub(crate) type Op = Vec<Vec<u8>>;

/// Reads what a server appends to its AOF INCR file (found through the manifest).
pub(crate) struct AofTail {
    file: PathBuf,
    consumed: usize,
}

impl AofTail {
    pub(crate) fn open(data_dir: &Path) -> AofTail {
        let dir = data_dir.join("appendonlydir");
        let manifest = std::fs::read_to_string(dir.join("appendonly.aof.manifest")).expect("AOF manifest");
        let incr = manifest
            .lines()
            .find(|l| l.split_whitespace().collect::<Vec<_>>().windows(2).any(|w| w == ["type", "i"]))
            .and_then(|l| l.split_whitespace().skip_while(|w| *w != "file").nth(1))
            .unwrap_or_else(|| panic!("no INCR file in the manifest:\n{manifest}"));
        AofTail { file: dir.join(incr), consumed: 0 }
    }

    /// The complete commands appended since the last call.
    pub(crate) fn take_new(&mut self) -> Vec<Op> {
        let bytes = std::fs::read(&self.file).expect("read the INCR file");
        let (ops, used) = parse_commands(&bytes[self.consumed..]);
        self.consumed += used;
        ops
    }
}

/// Parses the complete RESP commands at the start of `buf` (an AOF: arrays of bulk strings, and
/// `#TS:` annotation lines, skipped). Returns them and how many bytes they took.
fn parse_commands(buf: &[u8]) -> (Vec<Op>, usize) {
    let mut ops = Vec::new();
    let mut pos = 0;
    while let Some((op, next)) = parse_command(buf, pos) {
        if let Some(op) = op {
            ops.push(op);
        }
        pos = next;
    }
    (ops, pos)
}

/// One command (or annotation, as None) at `pos`, and where the next starts; None if incomplete.
fn parse_command(buf: &[u8], pos: usize) -> Option<(Option<Op>, usize)> {
    // `#TS:` lines are the AOF's own, not RESP (where `#` is a boolean).
    if buf.get(pos) == Some(&b'#') {
        let end = pos + buf[pos..].windows(2).position(|w| w == b"\r\n")?;
        return Some((None, end + 2));
    }
    let bulk = |a: &Reply| match a {
        Reply::Bulk(b) => b.clone(),
        other => panic!("a bulk string in the AOF at byte {pos}, not {other:?}"),
    };
    match Reply::parse_prefix(&buf[pos..]) {
        Err(ParseError::Incomplete) => None,
        Ok((Reply::Array(args), used)) => Some((Some(args.iter().map(bulk).collect()), pos + used)),
        other => panic!(
            "not a command in the AOF at byte {pos}: {other:?} in {}",
            show_bytes(&buf[pos..buf.len().min(pos + 40)], usize::MAX)
        ),
    }
}

fn show_op(op: &Op) -> String {
    op.iter()
        .map(|a| if a.is_empty() { "\"\"".to_string() } else { show_bytes(a, usize::MAX) })
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_ops(ops: &[Op]) -> String {
    if ops.is_empty() {
        return "(nothing)".into();
    }
    ops.iter().map(show_op).collect::<Vec<_>>().join(" | ")
}

/// Whether argument `i` of `op` is an absolute time in ms that a server computed from a relative
/// one or from its clock: SET's PXAT time, PEXPIREAT's time, the delivery TIME of the XCLAIM a
/// stream read or claim propagates.
fn is_computed_time(op: &Op, i: usize) -> bool {
    let name = op[0].to_ascii_uppercase();
    (name == b"SET" && i >= 4 && op[i - 1].eq_ignore_ascii_case(b"PXAT"))
        || (name == b"PEXPIREAT" && i == 2)
        || ((name == b"RESTORE" || name == b"RESTORE-ASKING")
            && i == 2
            && op.last().is_some_and(|a| a.eq_ignore_ascii_case(b"ABSTTL")))
        || (name == b"XCLAIM" && i >= 6 && op[i - 1].eq_ignore_ascii_case(b"TIME"))
}

fn same_op(real: &Op, ours: &Op) -> bool {
    real.len() == ours.len()
        && real.iter().zip(ours).enumerate().all(|(i, (r, o))| {
            r == o
                || (is_computed_time(real, i) && {
                    let t = |b: &[u8]| std::str::from_utf8(b).ok().and_then(|s| s.parse::<i64>().ok());
                    matches!((t(r), t(o)), (Some(r), Some(o)) if (r - o).abs() <= TIME_TOLERANCE_MS)
                })
        })
}

fn same_ops(real: &[Op], ours: &[Op]) -> bool {
    real.len() == ours.len() && real.iter().zip(ours).all(|(r, o)| same_op(r, o))
}

/// How a step's propagated commands are compared.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    /// In order, argument by argument (times within the tolerance).
    Exact,
    /// As a multiset: keys expired or evicted in one cycle come in the server's hash order.
    Unordered,
    /// SPOP with a count smaller than the set: the members are Redis's random pick, so each
    /// server's SREMs must remove exactly the members it answered with, and the rest of the
    /// commands must match with the members masked.
    RandomMembers,
}

/// One server under test: its process, a client, and the tail of its AOF.
struct Side {
    server: Server,
    client: Client,
    tail: AofTail,
}

impl Side {
    fn start(real: bool, extra: &[&str]) -> Side {
        let args: Vec<&str> = OPTIONS.iter().chain(extra).copied().collect();
        let server = if real { Server::start_real(&args) } else { crate::differential_support::start_ours(&args) };
        let mut client = server.client();
        assert_eq!(client.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), b"+OK\r\n");
        let tail = AofTail::open(server.dir.path());
        Side { server, client, tail }
    }

    /// A further connection, in database `db`.
    fn connection(&self, db: usize) -> Client {
        let mut c = self.server.client();
        if db != 0 {
            assert_eq!(c.cmd(&["SELECT", &db.to_string()]), b"+OK\r\n");
        }
        c
    }

    fn info_field(&mut self, name: &str) -> i64 {
        let info = String::from_utf8_lossy(&self.client.cmd(&["INFO", "all"])).into_owned();
        info.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
            .unwrap_or_else(|| panic!("{name} in INFO"))
            .trim()
            .parse()
            .expect("a number")
    }
}

/// Splits a scripted command line on spaces; `""` stands for an empty argument.
fn words(line: &str) -> Vec<Vec<u8>> {
    line.split_whitespace().map(|w| if w == "\"\"" { Vec::new() } else { w.as_bytes().to_vec() }).collect()
}

/// The members of a flat array reply of bulk strings (SPOP with a count), sorted.
fn bulk_members(reply: &[u8]) -> Vec<Vec<u8>> {
    let reply = Reply::parse(reply);
    let items = if reply.is_aggregate() { reply.items() } else { Vec::new() };
    let mut out: Vec<Vec<u8>> = items.iter().filter_map(|m| m.bulk().map(<[u8]>::to_vec)).collect();
    out.sort();
    out
}

/// Real Redis and ours, fed the same script; every difference is recorded and reported at the end.
pub(crate) struct Differ {
    real: Side,
    ours: Side,
    /// The main connections' database (further connections open in it).
    db: usize,
    mismatches: Vec<String>,
    steps: usize,
}

impl Differ {
    pub(crate) fn start(extra: &[&str]) -> Differ {
        let real = Side::start(true, extra);
        let ours = Side::start(false, extra);
        Differ { real, ours, db: 0, mismatches: Vec::new(), steps: 0 }
    }

    /// Runs a command line on both and compares what each propagated.
    pub(crate) fn run(&mut self, line: &str) {
        self.run_args(&words(line), Compare::Exact);
    }

    /// Runs a command line with binary arguments (a DUMP payload) and compares what each
    /// propagated.
    pub(crate) fn run_bytes(&mut self, args: &[Vec<u8>]) {
        self.run_args(args, Compare::Exact);
    }

    /// Runs each line in turn.
    pub(crate) fn script(&mut self, lines: &[&str]) {
        for line in lines {
            self.run(line);
        }
    }

    fn run_args(&mut self, args: &[Vec<u8>], how: Compare) {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let real_reply = self.real.client.cmd_bytes(&refs);
        let ours_reply = self.ours.client.cmd_bytes(&refs);
        if args[0].eq_ignore_ascii_case(b"select") && real_reply == b"+OK\r\n" {
            self.db = std::str::from_utf8(&args[1]).expect("utf-8").parse().expect("a db number");
        }
        let what = show_op(&args.to_vec());
        if how != Compare::RandomMembers && real_reply != ours_reply {
            self.mismatches.push(format!(
                "{what}\n      reply real: {}\n      reply ours: {}",
                show_bytes(&real_reply, usize::MAX),
                show_bytes(&ours_reply, usize::MAX)
            ));
        }
        let (real_ops, ours_ops) = (self.real.tail.take_new(), self.ours.tail.take_new());
        match how {
            Compare::RandomMembers => {
                let real_ops = self.masked_random_pick(&what, "real", &real_reply, real_ops);
                let ours_ops = self.masked_random_pick(&what, "ours", &ours_reply, ours_ops);
                self.compare_ops(&what, &real_ops, &ours_ops, Compare::Exact);
            }
            _ => self.compare_ops(&what, &real_ops, &ours_ops, how),
        }
    }

    /// Checks that the SREMs of `ops` remove exactly the members of `reply`, then masks them.
    fn masked_random_pick(&mut self, what: &str, side: &str, reply: &[u8], ops: Vec<Op>) -> Vec<Op> {
        let mut removed: Vec<Vec<u8>> =
            ops.iter().filter(|op| op[0].eq_ignore_ascii_case(b"SREM")).flat_map(|op| op[2..].to_vec()).collect();
        removed.sort();
        let answered = bulk_members(reply);
        if removed != answered {
            self.mismatches.push(format!(
                "{what}: {side} propagated the removal of {:?} but answered {:?}",
                removed.iter().map(|m| show_bytes(m, usize::MAX)).collect::<Vec<_>>(),
                answered.iter().map(|m| show_bytes(m, usize::MAX)).collect::<Vec<_>>()
            ));
        }
        ops.into_iter()
            .map(|mut op| {
                if op[0].eq_ignore_ascii_case(b"SREM") {
                    op[2..].iter_mut().for_each(|m| *m = b"<member>".to_vec());
                }
                op
            })
            .collect()
    }

    fn compare_ops(&mut self, what: &str, real: &[Op], ours: &[Op], how: Compare) {
        self.steps += 1;
        let (mut real, mut ours) = (real.to_vec(), ours.to_vec());
        if how == Compare::Unordered {
            real.sort();
            ours.sort();
        }
        if !same_ops(&real, &ours) {
            self.mismatches.push(format!(
                "{what}\n      propagated by real: {}\n      propagated by ours: {}",
                show_ops(&real),
                show_ops(&ours)
            ));
        }
    }

    /// Each of `blockers` parks a client on each server (in the current database); `push` then
    /// serves them. What `push` propagated (the push, then the served pops) is compared, then the
    /// replies of the served clients.
    pub(crate) fn served(&mut self, blockers: &[&str], push: &str) {
        self.served_by(self.db, blockers, &[push]);
    }

    /// Like `served`, with the clients parked in database `db` and several command lines to
    /// serve them (a transaction, a command that brings keys from another database).
    fn served_by(&mut self, db: usize, blockers: &[&str], pushes: &[&str]) {
        let mut parked = Vec::new();
        for (i, blocker) in blockers.iter().enumerate() {
            let (mut real, mut ours) = (self.real.connection(db), self.ours.connection(db));
            let args = words(blocker);
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            real.send_raw(&encode(&refs));
            ours.send_raw(&encode(&refs));
            self.wait_blocked(i as i64 + 1);
            parked.push((blocker, real, ours));
        }
        self.script(pushes);
        for (blocker, mut real, mut ours) in parked {
            let (r, o) = (real.read_reply(), ours.read_reply());
            if r != o {
                self.mismatches.push(format!(
                    "{blocker} served by {pushes:?}\n      reply real: {}\n      reply ours: {}",
                    show_bytes(&r, usize::MAX),
                    show_bytes(&o, usize::MAX)
                ));
            }
        }
    }

    fn wait_blocked(&mut self, n: i64) {
        wait_for("a parked client (real)", Duration::from_secs(10), || self.real.info_field("blocked_clients") == n);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.ours.info_field("blocked_clients") != n {
            // The differences so far usually say why (the blocking command refused).
            assert!(
                std::time::Instant::now() < deadline,
                "ours never had {n} parked client(s), real Redis did; differences so far:\n  {}",
                self.mismatches.join("\n  ")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Lets each server's active expiry cycle delete the keys of database `db` (all with a TTL
    /// already past), then compares the DELs it propagated, in any order.
    fn active_expiry(&mut self, db: usize, what: &str) {
        for side in [&mut self.real, &mut self.ours] {
            let mut c = side.connection(db);
            assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), b"+OK\r\n");
            wait_for("the active expiry cycle", Duration::from_secs(20), || c.cmd(&["DBSIZE"]) == b":0\r\n");
            assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), b"+OK\r\n");
        }
        let (real, ours) = (self.real.tail.take_new(), self.ours.tail.take_new());
        self.compare_ops(what, &real, &ours, Compare::Unordered);
    }

    /// Ends the scenario: panics with every difference found.
    pub(crate) fn finish(mut self) {
        // Whatever a last step left unread (nothing expected) is compared too.
        let (real, ours) = (self.real.tail.take_new(), self.ours.tail.take_new());
        self.compare_ops("(end of the script)", &real, &ours, Compare::Exact);
        let m = std::mem::take(&mut self.mismatches);
        assert!(
            m.is_empty(),
            "{} difference(s) with real Redis in {} steps:\n  {}",
            m.len(),
            self.steps,
            m.join("\n  ")
        );
        assert!(self.steps > 0, "no step ran");
    }
}

#[test]
fn strings() {
    let mut d = Differ::start(&[]);
    d.script(&[
        // Plain writes are replayed as sent.
        "set s:a 1",
        "set s:a 2 keepttl",
        "set s:a 3 xx",
        "set s:a 4 nx",
        "set s:b 1 nx",
        // SET's expiry, relative or absolute, becomes SET key value PXAT <ms>, options dropped.
        "set s:c v ex 10000",
        "set s:c v px 10000000",
        "set s:c v exat 99999999999",
        "set s:c v pxat 99999999999999",
        "set s:c w xx ex 10000",
        "set s:d w nx px 10000000",
        "set s:d w nx px 10000000",
        // SET ... GET: the GET is dropped (and with an expiry the PXAT form wins).
        "set s:e v get",
        "set s:e w get",
        "set s:e x xx get",
        "set s:e y ex 10000 get",
        "set s:e z nx get",
        "set s:f v get xx",
        "set s:f w keepttl get",
        "set s:f x get get",
        "set get get get",
        // SETNX, SETEX, PSETEX.
        "setnx s:g 1",
        "setnx s:g 2",
        "setex s:h 10000 v",
        "psetex s:h 10000000 v",
        // GETSET is replayed as SET; GETDEL as DEL.
        "getset s:i 1",
        "getset s:i 2",
        "getdel s:i",
        "getdel s:i",
        // GETEX: PEXPIREAT, PERSIST, DEL (a time past), nothing (no option, or nothing to do).
        "set s:j v",
        "getex s:j",
        "getex s:j persist",
        "getex s:j ex 10000",
        "getex s:j px 10000000",
        "getex s:j exat 99999999999",
        "getex s:j pxat 99999999999999",
        "getex s:j persist",
        "getex s:j persist",
        "getex s:j exat 1",
        "getex s:j ex 100",
        // MSET, MSETNX.
        "mset s:k 1 s:l 2",
        "msetnx s:k 1 s:m 2",
        "msetnx s:m 1 s:n 2",
        // Counters: INCRBYFLOAT becomes SET key <value> KEEPTTL.
        "incr s:o",
        "incrby s:o 10",
        "decr s:o",
        "decrby s:o 3",
        "incrbyfloat s:p 1.5",
        "incrbyfloat s:p 2e3",
        "incrbyfloat s:p -0.25",
        "incrbyfloat s:p 0.1",
        "incrbyfloat s:p 0.2",
        "incrbyfloat s:z 1e300",
        "incrbyfloat s:z 1e300",
        "incrbyfloat s:z2 5.0e-3",
        "incrbyfloat s:z2 10",
        "set s:q 10 ex 10000",
        "incrbyfloat s:q 0.1",
        "incr s:q",
        // APPEND, SETRANGE (an empty value changes nothing on a missing key).
        "append s:r abc",
        "append s:r \"\"",
        "append s:s \"\"",
        "setrange s:r 1 XY",
        "setrange s:t 0 \"\"",
        "setrange s:r 0 \"\"",
        "setrange s:t 3 z",
        // Bits.
        "setbit s:u 7 1",
        "setbit s:u 7 1",
        "setbit s:u 100 0",
        "bitop and s:v s:u s:r",
        "bitop or s:v s:u",
        "bitop not s:w s:nothing",
        "bitfield s:x set u8 0 255 get u8 0",
        "bitfield s:x get u8 0",
        "bitfield s:x incrby u8 0 10 overflow fail incrby u8 0 250",
        "bitfield s:x overflow fail incrby u8 0 250",
        // Errors and WRONGTYPE write nothing.
        "lpush s:list a",
        "set s:list v xx nx",
        "incr s:list",
        "append s:list x",
        "getex s:list ex 10",
        "incrbyfloat s:r 1",
        "setex s:y -1 v",
        "set s:y v ex 0",
    ]);
    d.finish();
}

#[test]
fn keys() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "mset k:a 1 k:b 2 k:c 3",
        "del k:a k:nothing",
        "del k:nothing",
        "unlink k:b k:nothing",
        "unlink k:nothing",
        // Expiry commands become PEXPIREAT <ms> (options kept), or DEL for a time past.
        "set k:e v",
        "expire k:e 10000",
        "pexpire k:e 10000000",
        "expireat k:e 99999999999",
        "pexpireat k:e 99999999998000",
        "expire k:e 20000 xx",
        "expire k:e 20000 nx",
        "expire k:e 30000 gt",
        "expire k:e 10 lt",
        "pexpire k:e 20000000 gt",
        "expireat k:e 99999999990 lt",
        "pexpireat k:e 99999999980000 lt",
        "persist k:e",
        "persist k:e",
        "expire k:e 10000 nx",
        "expire k:nothing 100",
        "set k:f v",
        "expire k:f -1",
        "set k:f v",
        "pexpire k:f 0",
        "set k:f v",
        "expireat k:f 1",
        "set k:f v",
        "pexpireat k:f 1 xx",
        "set k:f v ex 100",
        "pexpireat k:f 1000 xx",
        // RENAME, RENAMENX.
        "set k:g 1",
        "rename k:g k:h",
        "rename k:h k:h",
        "rename k:nothing k:h",
        "set k:i 2",
        "renamenx k:h k:i",
        "renamenx k:h k:j",
        "renamenx k:j k:j",
        // MOVE, COPY.
        "move k:j 1",
        "move k:j 1",
        "set k:j again",
        "move k:j 1",
        "copy k:i k:k",
        "copy k:i k:k",
        "copy k:i k:k replace",
        "copy k:i k:k db 2",
        "copy k:i k:k db 2 replace",
        "copy k:nothing k:l",
        // TOUCH reads.
        "touch k:i k:k",
    ]);
    d.finish();
}

#[test]
fn databases() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "set d:a 1",
        "select 3",
        "set d:b 1",
        "select 0",
        "set d:c 1",
        "swapdb 0 3",
        "swapdb 1 1",
        "set d:d 1",
        "select 3",
        "flushdb",
        "flushdb",
        "set d:e 1",
        "flushdb async",
        "flushdb sync",
        "select 5",
        "set d:f 1",
        "flushall",
        "flushall",
        "set d:g 1",
        "flushall async",
        "flushall sync",
        "select 0",
        "set d:h 1",
    ]);
    d.finish();
}

#[test]
fn lists() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "rpush l:a a b c d e f g",
        "lpush l:a z",
        "lpushx l:a y",
        "rpushx l:a x",
        "lpushx l:nothing a",
        "rpushx l:nothing a",
        // Pops are replayed as sent, whatever the count.
        "lpop l:a",
        "rpop l:a",
        "lpop l:a 2",
        "rpop l:a 1",
        "lpop l:a 0",
        "lpop l:nothing",
        "lpop l:nothing 2",
        "rpush l:b a b",
        "rpop l:b 10",
        // LMPOP becomes LPOP/RPOP of the key popped, with the count popped.
        "rpush l:c a b c",
        "lmpop 2 l:nothing l:c left",
        "lmpop 1 l:c right count 1",
        "lmpop 2 l:c l:nothing left count 10",
        "lmpop 1 l:c left",
        // Blocking pops that find elements are replayed as plain pops.
        "rpush l:d a b c d e f g h",
        "blpop l:nothing l:d 0",
        "brpop l:d 0",
        "blmpop 0 2 l:nothing l:d left count 2",
        "blmpop 0 1 l:d right",
        "blmove l:d l:e left right 0",
        "brpoplpush l:d l:e 0",
        "blpop l:nothing 0.01",
        "blmove l:nothing l:e left right 0.01",
        // Moves.
        "rpush l:f a b c",
        "lmove l:f l:g left left",
        "lmove l:f l:f left right",
        "rpoplpush l:f l:g",
        "rpoplpush l:nothing l:g",
        "lmove l:f l:g right right",
        // Edits.
        "rpush l:h a b a c a",
        "lset l:h 0 q",
        "lset l:h 0 q",
        "linsert l:h before b p",
        "linsert l:h after nothing p",
        "linsert l:nothing before a b",
        "lrem l:h 1 a",
        "lrem l:h 0 zz",
        "lrem l:h -2 a",
        "ltrim l:h 0 -1",
        "ltrim l:h 1 2",
        "ltrim l:h 5 10",
        "ltrim l:nothing 0 1",
        "set l:string v",
        "lpush l:string a",
        "lmove l:h l:string left left",
    ]);
    d.finish();
}

#[test]
fn hashes() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "hset h:a f 1 g 2",
        "hset h:a f 1",
        "hset h:a f 3",
        "hsetnx h:a f 4",
        "hsetnx h:a h 5",
        "hmset h:a i 6 j 7",
        "hdel h:a nothing",
        "hdel h:a f g",
        "hincrby h:a n 5",
        "hincrby h:a n -2",
        // HINCRBYFLOAT becomes HSET key field <value>.
        "hincrbyfloat h:a x 1.5",
        "hincrbyfloat h:a x 2e2",
        "hincrbyfloat h:a n 0.5",
        "hincrbyfloat h:a x abc",
        "hincrbyfloat h:a y 0.1",
        "hincrbyfloat h:a y 0.2",
        "hincrbyfloat h:a y 1e300",
        "hincrbyfloat h:a z 3.0e2",
        "hdel h:a h i j n x",
        "hdel h:a nothing",
    ]);
    d.finish();
}

#[test]
fn sets() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "sadd t:a m1 m2 m3",
        "sadd t:a m1",
        "srem t:a nothing",
        "srem t:a m1 m2",
        // SPOP becomes SREM of the member; popping the whole set becomes DEL.
        "spop t:a",
        "spop t:a",
        "sadd t:b 1",
        "spop t:b 1",
        "sadd t:b 1 2 3",
        "spop t:b 3",
        "sadd t:b 7 8",
        "spop t:b 5",
        "sadd t:b x",
        "spop t:b 0",
        "spop t:nothing 2",
        "spop t:nothing",
        // SRANDMEMBER writes nothing.
        "srandmember t:b",
        "srandmember t:b -5",
        // SMOVE.
        "sadd t:c a b",
        "smove t:c t:d a",
        "smove t:c t:d nothing",
        "smove t:c t:c b",
        "smove t:c t:d b",
        // Stores: an empty result deletes the destination (written only if it existed).
        "sadd t:e 1 2 3",
        "sadd t:f 2 3 4",
        "sinterstore t:g t:e t:f",
        "sunionstore t:g t:e t:f",
        "sdiffstore t:g t:e t:f",
        "sinterstore t:g t:e t:nothing",
        "sinterstore t:g t:e t:nothing",
        "sunionstore t:g t:nothing",
        "sdiffstore t:g t:e t:e",
    ]);
    // SPOP with a count smaller than the set: one SREM per member, in a transaction.
    d.run("sadd t:h a b c d e f g h");
    d.run_args(&words("spop t:h 3"), Compare::RandomMembers);
    d.run_args(&words("spop t:h 4"), Compare::RandomMembers);
    d.run("scard t:h");
    d.run("sadd t:i 1 2 3 4 5 6 7 8 9 10");
    d.run_args(&words("spop t:i 2"), Compare::RandomMembers);
    d.run_args(&words("spop t:i 7"), Compare::RandomMembers);
    d.run("scard t:i");
    // Most of the set popped (Redis builds a new set of what stays): still one SREM per member.
    d.run("sadd t:j a b c d e f g h i j k l");
    d.run_args(&words("spop t:j 11"), Compare::RandomMembers);
    d.run("scard t:j");
    d.finish();
}

#[test]
fn sorted_sets() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "zadd z:a 1 a 2 b 3 c 4 d 5 e 6 f",
        "zadd z:a 1 a",
        "zadd z:a nx 9 a",
        "zadd z:a xx ch 9 a",
        "zadd z:a incr 1 b",
        "zadd z:a gt 1 b",
        "zincrby z:a 1.5 c",
        "zincrby z:a 2 new",
        "zrem z:a nothing",
        "zrem z:a new",
        // Pops are replayed as sent; ZMPOP becomes ZPOPMIN/ZPOPMAX with the count popped.
        "zpopmin z:a",
        "zpopmax z:a",
        "zpopmin z:a 1",
        "zpopmax z:a 0",
        "zpopmin z:nothing",
        "zadd z:b 1 a 2 b 3 c 4 d",
        "zmpop 2 z:nothing z:b min",
        "zmpop 1 z:b max count 1",
        "zmpop 1 z:b min count 10",
        "zmpop 1 z:b min",
        // Blocking pops that find members: BZPOPMIN/MAX become ZPOPMIN/MAX key, BZMPOP as ZMPOP.
        "zadd z:c 1 a 2 b 3 c 4 d 5 e",
        "bzpopmin z:nothing z:c 0",
        "bzpopmax z:c 0",
        "bzmpop 0 2 z:nothing z:c min count 2",
        "bzmpop 0 1 z:c max",
        "bzpopmin z:nothing 0.01",
        // Range removals and stores.
        "zadd z:d 1 a 2 b 3 c 4 d 5 e 6 f 7 g",
        "zremrangebyscore z:d 0 1",
        "zremrangebyscore z:d 100 200",
        "zremrangebyrank z:d 0 0",
        "zremrangebylex z:d [d [e",
        "zremrangebylex z:d [x [y",
        "zrangestore z:e z:d 0 -1",
        "zrangestore z:e z:d 0 1 rev",
        "zrangestore z:e z:nothing 0 -1",
        "zrangestore z:e z:nothing 0 -1",
        "zadd z:f 1 a 2 b",
        "zadd z:g 3 b 4 c",
        "zunionstore z:h 2 z:f z:g",
        "zinterstore z:h 2 z:f z:g weights 2 3 aggregate max",
        "zdiffstore z:h 2 z:f z:g",
        "zinterstore z:h 2 z:f z:nothing",
        "zinterstore z:h 2 z:f z:nothing",
        "zremrangebyrank z:f 0 -1",
    ]);
    d.finish();
}

#[test]
fn sort() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "rpush o:a 3 1 2",
        "sort o:a",
        "sort_ro o:a",
        "sort o:a store o:b",
        "sort o:a desc limit 0 2 store o:b",
        "sort o:a by nosort store o:b",
        "mset o:w_1 30 o:w_2 10 o:w_3 20",
        "sort o:a by o:w_* get # store o:b",
        "sort o:nothing store o:b",
        "sort o:nothing store o:b",
        "sadd o:c b a c",
        "sort o:c alpha store o:d",
        "zadd o:e 1 x 2 y",
        "sort o:e alpha desc store o:d",
    ]);
    d.finish();
}

#[test]
fn blocked_clients_served_by_a_push() {
    let mut d = Differ::start(&[]);
    // A served BLPOP/BRPOP becomes LPOP/RPOP key, after the push that served it.
    d.served(&["blpop b:a 0"], "rpush b:a x y");
    d.served(&["brpop b:nothing b:b 0"], "lpush b:b x");
    d.served(&["blpop b:c 0", "blpop b:c 0"], "rpush b:c 1 2 3");
    // BLMPOP becomes LPOP/RPOP key <count popped>.
    d.served(&["blmpop 0 2 b:nothing b:d right count 5"], "rpush b:d 1 2 3");
    d.served(&["blmpop 0 1 b:e left"], "rpush b:e 1 2");
    // BLMOVE becomes LMOVE, BRPOPLPUSH RPOPLPUSH; the destination can serve a second client.
    d.served(&["blmove b:f b:g left right 0"], "rpush b:f x");
    d.served(&["brpoplpush b:h b:i 0"], "rpush b:h x");
    d.served(&["blmove b:j b:k right left 0", "blpop b:k 0"], "rpush b:j x");
    // Sorted sets: BZPOPMIN/MAX become ZPOPMIN/MAX key, BZMPOP ZPOPMIN/MAX key <count popped>.
    d.served(&["bzpopmin b:l 0"], "zadd b:l 1 a 2 b");
    d.served(&["bzpopmax b:nothing b:m 0"], "zadd b:m 1 a 2 b");
    d.served(&["bzpopmin b:n 0", "bzpopmin b:n 0"], "zadd b:n 1 a 2 b 3 c");
    d.served(&["bzmpop 0 1 b:o max count 5"], "zadd b:o 1 a 2 b");
    d.served(&["bzmpop 0 1 b:p min"], "zadd b:p 1 a 2 b");
    // Served in another database: the pops are replayed there.
    d.run("select 4");
    d.served(&["blpop b:q 0"], "rpush b:q x");
    d.served(&["bzpopmax b:r 0"], "zadd b:r 1 a");
    d.run("select 0");
    // A push inside a transaction serves the client after EXEC.
    d.served_by(0, &["blpop b:s 0"], &["multi", "rpush b:s 1", "rpush b:s 2", "exec"]);
    // Keys that appear in a database by MOVE, SWAPDB, COPY or SORT ... STORE serve its clients.
    d.run("rpush b:t x");
    d.served_by(6, &["blpop b:t 0"], &["move b:t 6"]);
    d.run("rpush b:u x y");
    d.served_by(8, &["brpop b:u 0"], &["swapdb 0 8"]);
    d.run("swapdb 0 8");
    d.run("rpush b:v 1 2");
    d.served(&["blpop b:w 0"], "copy b:v b:w");
    d.served(&["blpop b:x 0"], "sort b:v desc store b:x");
    d.run("sadd b:v2 1");
    d.served(&["bzpopmin b:y 0"], "zunionstore b:y 1 b:v2");
    d.served(&["blmove b:z b:z2 left left 0"], "lmove b:v b:z left left");
    d.finish();
}

#[test]
fn transactions() {
    let mut d = Differ::start(&[]);
    d.script(&[
        // A transaction of one write is replayed without MULTI/EXEC in 7.0; of more, wrapped.
        "multi",
        "set x:a 1",
        "exec",
        "multi",
        "set x:a 2",
        "set x:b 2",
        "exec",
        "multi",
        "get x:a",
        "exec",
        "multi",
        "get x:a",
        "incr x:c",
        "get x:c",
        "exec",
        // Rewritten commands inside: expiries, pops, INCRBYFLOAT.
        "multi",
        "expire x:a 10000",
        "incrbyfloat x:d 1.5",
        "set x:e v ex 10000",
        "exec",
        "rpush x:f a b c",
        "zadd x:g 1 a 2 b",
        "multi",
        "blpop x:f 0",
        "bzpopmax x:g 0",
        "lmpop 1 x:f right count 5",
        "exec",
        "multi",
        "blpop x:nothing 0",
        "exec",
        // A failing command does not stop the others.
        "set x:h v",
        "multi",
        "incr x:h",
        "set x:i 1",
        "lpush x:h a",
        "set x:j 1",
        "exec",
        // Databases change inside.
        "multi",
        "set x:k 1",
        "select 2",
        "set x:l 1",
        "exec",
        "set x:m 1",
        "select 0",
        // SPOP popping the whole set inside a transaction.
        "sadd x:n 1 2",
        "multi",
        "spop x:n 2",
        "sadd x:n c",
        "spop x:n",
        "exec",
        // Discarded, aborted, and broken by a WATCH: nothing.
        "multi",
        "set x:o 1",
        "discard",
        "multi",
        "set x:o 1",
        "nosuchcommand",
        "exec",
        "watch x:p",
        "set x:p 1",
        "multi",
        "set x:p 2",
        "exec",
    ]);
    d.finish();
}

#[test]
fn expiry() {
    let mut d = Differ::start(&[]);
    // Keys whose time is already past (stored as is by SET ... PXAT) are deleted when touched,
    // replayed as DEL: by a read alone, or before a write to the same key.
    d.script(&[
        "set e:a v pxat 1",
        "set e:b v exat 1",
        "psetex e:c 100000000 v",
        "pexpireat e:c 1",
        "get e:a",
        "get e:a",
        "exists e:b",
        "set e:d v pxat 1",
        "set e:d w",
        "set e:e 5 pxat 1",
        "incr e:e",
        "rpush e:f a",
        "pexpireat e:f 1",
        "set e:g v pxat 1",
        "lpushx e:g a",
        "set e:h v pxat 1",
        "multi",
        "get e:h",
        "set e:i 1",
        "exec",
        "set e:j v pxat 1",
        "multi",
        "get e:j",
        "exec",
        "set e:k v pxat 1",
        "mget e:k e:nothing",
        "set e:l v pxat 1",
        "getex e:l ex 100",
        // The expired key is deleted even when the command then fails or does nothing.
        "set e:q v pxat 1",
        "rename e:q e:r",
        "set e:s v pxat 1",
        "expire e:s 100",
        "set e:t v pxat 1",
        "setrange e:t 0 \"\"",
        // A write to another key than the expired one.
        "set e:u v",
        "set e:v v pxat 1",
        "rename e:u e:v",
        "set e:w v pxat 1",
        "msetnx e:w 1 e:x 2",
        "set e:y v pxat 1",
        "rpush e:z a",
        "lmpop 2 e:y e:z left",
        // Several expired keys in one command: their DELs replay atomically.
        "set e:a1 v pxat 1",
        "set e:a2 v pxat 1",
        "mget e:a1 e:a2 e:nothing",
        "set e:a3 v pxat 1",
        "del e:a3",
        "set e:a4 v pxat 1",
        "set e:a5 v pxat 1",
        "mset e:a4 1 e:a5 2",
        "set e:a6 v pxat 1",
        "exists e:a6 e:a6",
    ]);
    // The active cycle deletes keys nobody touches.
    d.run("select 7");
    d.script(&["set e:m v pxat 1", "set e:n v pxat 2", "set e:o v pxat 3"]);
    d.active_expiry(7, "active expiry of e:m e:n e:o");
    d.run("select 0");
    d.finish();
}

#[test]
fn lazyfree_lazy_expire_replays_unlink() {
    let mut d = Differ::start(&["--lazyfree-lazy-expire", "yes"]);
    d.script(&[
        "set f:a v",
        "expire f:a 0",
        "set f:b v",
        "getex f:b exat 1",
        "set f:c v pxat 1",
        "get f:c",
        "set f:d v",
        "pexpireat f:d 1",
        "set f:e v",
        "expireat f:e 1",
    ]);
    d.run("select 2");
    d.run("set f:f v pxat 5");
    d.active_expiry(2, "active expiry of f:f");
    d.finish();
}

#[test]
fn evictions() {
    let mut d = Differ::start(&["--maxmemory-policy", "allkeys-random"]);
    d.script(&["set v:a 1", "set v:b 2", "rpush v:c a b", "sadd v:d x"]);
    // With no memory to spare, everything is evicted, each key replayed as DEL (in the order the
    // eviction picked them, random here: compared as a set), before the command that needed room.
    for side in [&mut d.real, &mut d.ours] {
        assert_eq!(side.client.cmd(&["CONFIG", "SET", "maxmemory", "1"]), b"+OK\r\n");
    }
    d.run_args(&words("set v:e 1"), Compare::Unordered);
    for side in [&mut d.real, &mut d.ours] {
        assert_eq!(side.client.cmd(&["CONFIG", "SET", "maxmemory", "0"]), b"+OK\r\n");
    }
    d.run("set v:f 1");
    d.finish();
}

#[test]
fn evictions_with_lazyfree_lazy_eviction() {
    let mut d = Differ::start(&["--maxmemory-policy", "allkeys-lru", "--lazyfree-lazy-eviction", "yes"]);
    d.script(&["set w:a 1", "set w:b 2"]);
    // Evicted keys are replayed as UNLINK with lazyfree-lazy-eviction.
    for side in [&mut d.real, &mut d.ours] {
        assert_eq!(side.client.cmd(&["CONFIG", "SET", "maxmemory", "1"]), b"+OK\r\n");
    }
    d.run_args(&words("set w:c 1"), Compare::Unordered);
    for side in [&mut d.real, &mut d.ours] {
        assert_eq!(side.client.cmd(&["CONFIG", "SET", "maxmemory", "0"]), b"+OK\r\n");
    }
    d.finish();
}

/// TTLs reach the AOF as absolute times whatever sets them — inside transactions and scripts
/// too — and the AOF loaded again (as written, then rewritten) gives every key its TTL back.
#[test]
fn ttls_are_absolute_in_the_aof_and_survive_reloading_it() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "multi",
        "set t:a v ex 10000",
        "setex t:b 10000 v",
        "psetex t:c 10000000 v",
        "getex t:a px 20000000",
        "expire t:b 30000",
        "set t:d v",
        "getex t:d exat 99999999999",
        "getex t:d persist",
        "set t:e v px 40000000",
        "set t:e w keepttl",
        "exec",
        "set t:f v ex 50000",
        "set t:f w keepttl get",
        "incrbyfloat t:f 1",
        "set t:g 1 pxat 99999999999999",
        "incr t:g",
        "getex t:g ex 60000",
        "set t:h v ex 70000",
        "rename t:h t:i",
        "copy t:i t:j",
        "set t:k v ex 100",
        "getex t:k persist",
        "expire t:k 80000 nx",
    ]);
    let scripts: &[&[&str]] = &[
        &[
            "eval",
            "redis.call('set', KEYS[1], 'v', 'ex', 10000) return redis.call('expire', KEYS[1], 5000)",
            "1",
            "t:s",
        ],
        &["eval", "redis.call('setex', KEYS[1], 9000, 'v') return redis.call('getex', KEYS[1], 'persist')", "1", "t:t"],
        &["eval", "return redis.call('getex', KEYS[1], 'pxat', 99999999999999)", "1", "t:s"],
    ];
    for s in scripts {
        let args: Vec<Vec<u8>> = s.iter().map(|a| a.as_bytes().to_vec()).collect();
        d.run_args(&args, Compare::Exact);
    }
    let keys = ["t:a", "t:b", "t:c", "t:d", "t:e", "t:f", "t:g", "t:i", "t:j", "t:k", "t:s", "t:t"];
    for reload in [&["DEBUG", "LOADAOF"][..], &["BGREWRITEAOF"], &["DEBUG", "LOADAOF"]] {
        for side in [&mut d.real, &mut d.ours] {
            side.client.cmd(reload);
            wait_for("no AOF rewrite running", Duration::from_secs(20), || {
                side.info_field("aof_rewrite_in_progress") == 0
            });
        }
        for key in keys {
            let (real, ours) = (d.real.client.cmd(&["PTTL", key]), d.ours.client.cmd(&["PTTL", key]));
            let ms = |b: &[u8]| Reply::parse(b).int();
            let (r, o) = (ms(&real), ms(&ours));
            let close = if r < 0 { r == o } else { (r - o).abs() <= TIME_TOLERANCE_MS };
            if !close || r == -2 {
                d.mismatches.push(format!("PTTL {key} after {reload:?}: real {r}, ours {o}"));
            }
        }
    }
    // BGREWRITEAOF started a new INCR file; nothing more is compared.
    d.real.tail = AofTail::open(d.real.server.dir.path());
    d.ours.tail = AofTail::open(d.ours.server.dir.path());
    d.finish();
}

/// Keys found expired by SCAN and RANDOMKEY are deleted and replayed as plain DELs, not wrapped
/// in MULTI/EXEC (Redis's CMD_TOUCHES_ARBITRARY_KEYS), unless the command ran inside a
/// transaction or a script; KEYS skips expired keys without deleting them.
#[test]
fn lazy_expiry_of_scan_randomkey_and_keys() {
    let mut d = Differ::start(&[]);
    let expired = ["set r:a v pxat 1", "set r:b v pxat 1", "set r:c v pxat 1"];
    d.script(&expired);
    d.run("keys *");
    d.run("keys r:a");
    d.run_args(&words("scan 0 count 100"), Compare::Unordered);
    d.script(&expired);
    d.run_args(&words("scan 0 match r:* count 100"), Compare::Unordered);
    d.script(&expired);
    d.run_args(&words("randomkey"), Compare::Unordered);
    d.script(&expired);
    d.script(&["set r:live v", "multi", "get r:live"]);
    d.run("scan 0 count 100");
    d.run_args(&words("exec"), Compare::Unordered);
    d.script(&expired);
    let script = "return redis.call('scan', 0, 'count', 100)[2][1]";
    d.run_args(&[b"eval".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()], Compare::Unordered);
    d.finish();
}
