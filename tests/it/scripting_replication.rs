//! What scripts send to replicas and to the AOF, our master against Debian's real Redis 7.0, byte
//! for byte. Redis 7.0 replicates a script by its effects: the write commands it ran, wrapped in
//! MULTI/EXEC when there is more than one, with SELECT where the script changed database, none of
//! what redis.set_repl kept from that target, and the DEL of every expired key the script touched.
//!
//! Each master gets a raw "replica" (a socket that does the PSYNC handshake, skips the RDB and then
//! reads the stream) and writes an AOF of plain commands; after each step of a scenario a marker
//! write (`SET __step__ <n>`) is sent, and everything the stream and the AOF carried up to the
//! marker is recorded. The transcripts of both masters must be equal.
//!
//! Then real replicas of our master and our replicas of a real master are fed a workload of
//! scripts and functions and must end with the same dataset (and the same functions) as their
//! master.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::common::reply::ParseError;
use crate::common::{encode, show_bytes, wait_for, Client, Reply, Server};
use crate::differential_support::sort_all;
use crate::replication_support::{self as support, now_ms, Impl, Node};

/// A command as the stream and the AOF carry it: its arguments.
type Op = Vec<Vec<u8>>;

const DEADLINE: Duration = Duration::from_secs(20);

/// Both masters: an AOF of plain commands written before each reply, never rewritten during the
/// test, no pings in the stream (a replica's liveness is not what is compared), DEBUG allowed
/// (the active expiry cycle is stopped so that keys expire only when a script touches them), and
/// a full sync that starts at once.
const MASTER_OPTIONS: &[&str] = &[
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
    "--repl-ping-replica-period",
    "3600",
    "--repl-diskless-sync-delay",
    "0",
];

fn show_op(op: &Op) -> String {
    op.iter().map(|a| show_bytes(a, usize::MAX)).collect::<Vec<_>>().join(" ")
}

fn show_ops(ops: &[Op]) -> String {
    if ops.is_empty() {
        return "(nothing)".into();
    }
    ops.iter().map(show_op).collect::<Vec<_>>().join(" | ")
}

/// The command at the start of `buf`, and its length; None if it is not complete yet.
fn parse_op(buf: &[u8]) -> Option<(Op, usize)> {
    match Reply::parse_prefix(buf) {
        Err(ParseError::Incomplete) => None,
        Ok((Reply::Array(args), used)) => {
            let arg = |a: &Reply| a.bulk().map(<[u8]>::to_vec).unwrap_or_else(|| panic!("a bulk argument, not {a:?}"));
            Some((args.iter().map(arg).collect(), used))
        }
        other => panic!("not a command: {other:?} in {}", show_bytes(&buf[..buf.len().min(60)], usize::MAX)),
    }
}

fn is_marker(op: &Op, step: u32) -> bool {
    op.len() == 3 && op[1] == b"__step__" && op[2] == step.to_string().as_bytes()
}

// ---------------------------------------------------------------------------------------------
// A raw replica: the handshake, the RDB skipped, then the stream command by command
// ---------------------------------------------------------------------------------------------

struct RawReplica {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl RawReplica {
    fn attach(master: &Server) -> RawReplica {
        let sock = TcpStream::connect(("127.0.0.1", master.port)).expect("connect to the master");
        sock.set_read_timeout(Some(DEADLINE)).expect("read timeout");
        let mut r = RawReplica { sock, buf: Vec::new() };
        let handshake: [&[&str]; 3] =
            [&["PING"], &["REPLCONF", "listening-port", "1"], &["REPLCONF", "capa", "eof", "capa", "psync2"]];
        for args in handshake {
            r.send(args);
            let line = r.line();
            assert!(line == b"+PONG" || line == b"+OK", "{args:?} answered {}", show_bytes(&line, 200));
        }
        r.send(&["PSYNC", "?", "-1"]);
        let reply = r.line_after_keepalives();
        assert!(reply.starts_with(b"+FULLRESYNC "), "PSYNC answered {}", show_bytes(&reply, 200));
        let rdb = r.line_after_keepalives();
        if let Some(mark) = rdb.strip_prefix(b"$EOF:") {
            r.skip_through(mark);
        } else {
            let len: usize = std::str::from_utf8(&rdb[1..]).ok().and_then(|n| n.parse().ok()).expect("an RDB length");
            r.fill_to(len);
            r.buf.drain(..len);
        }
        // After a diskless transfer Redis lists the replica online as soon as the transfer ended,
        // but starts the stream only on an ACK that comes after that (an earlier one is ignored);
        // ours lists it online on the first ACK. So: ack until listed online, then once more.
        let mut c = master.client();
        wait_for("the master to list the raw replica online", DEADLINE, || {
            r.send(&["REPLCONF", "ACK", "0"]);
            String::from_utf8_lossy(&c.cmd(&["INFO", "replication"])).contains("state=online")
        });
        r.send(&["REPLCONF", "ACK", "0"]);
        r
    }

    fn send(&mut self, args: &[&str]) {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.sock.write_all(&encode(&args)).expect("write to the master");
    }

    fn more(&mut self) {
        let mut chunk = [0u8; 65536];
        let n = self.sock.read(&mut chunk).expect("read the replication stream");
        assert!(n > 0, "the master closed the replication link");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    fn fill_to(&mut self, len: usize) {
        while self.buf.len() < len {
            self.more();
        }
    }

    /// One line without its end; a keepalive newline gives an empty line.
    fn line(&mut self) -> Vec<u8> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return line;
            }
            self.more();
        }
    }

    fn line_after_keepalives(&mut self) -> Vec<u8> {
        loop {
            let line = self.line();
            if !line.is_empty() {
                return line;
            }
        }
    }

    fn skip_through(&mut self, mark: &[u8]) {
        loop {
            if let Some(i) = self.buf.windows(mark.len()).position(|w| w == mark) {
                self.buf.drain(..i + mark.len());
                return;
            }
            self.more();
        }
    }

    fn next_op(&mut self) -> Op {
        loop {
            if let Some((op, used)) = parse_op(&self.buf) {
                self.buf.drain(..used);
                return op;
            }
            self.more();
        }
    }

    /// The commands up to and including the marker of `step` (pings left out).
    fn until_marker(&mut self, step: u32) -> Vec<Op> {
        let mut ops = Vec::new();
        loop {
            let op = self.next_op();
            let done = is_marker(&op, step);
            if op != [b"PING".to_vec()] {
                ops.push(op);
            }
            if done {
                return ops;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The AOF's INCR file, read as it grows
// ---------------------------------------------------------------------------------------------

/// differential_propagation's reader of the INCR file, with what it read past the last marker.
struct AofTail {
    reader: crate::differential_propagation::AofTail,
    pending: Vec<Op>,
}

impl AofTail {
    fn open(data_dir: &Path) -> AofTail {
        AofTail { reader: crate::differential_propagation::AofTail::open(data_dir), pending: Vec::new() }
    }

    /// The commands appended up to and including the marker of `step`.
    fn until_marker(&mut self, step: u32) -> Vec<Op> {
        wait_for(&format!("marker {step} in the AOF"), DEADLINE, || {
            self.pending.extend(self.reader.take_new());
            self.pending.iter().any(|op| is_marker(op, step))
        });
        let end = self.pending.iter().position(|op| is_marker(op, step)).map_or(0, |i| i + 1);
        self.pending.drain(..end).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// One master under test, with its raw replica and the tail of its AOF.
struct Master {
    /// Held so that the process lives as long as the scenario.
    _process: Server,
    client: Client,
    replica: RawReplica,
    aof: AofTail,
    steps: u32,
    transcript: Vec<(String, String)>,
}

impl Master {
    fn start(imp: Impl) -> Master {
        let server = match imp {
            Impl::Real => Server::start_real(MASTER_OPTIONS),
            Impl::Ours => Server::start(MASTER_OPTIONS),
        };
        let mut client = server.client();
        assert_eq!(client.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), b"+OK\r\n");
        let replica = RawReplica::attach(&server);
        let aof = AofTail::open(server.dir.path());
        Master { _process: server, client, replica, aof, steps: 0, transcript: Vec::new() }
    }

    /// Runs `commands` in order on one connection, then the marker; records every reply, and
    /// what the stream and the AOF carried.
    fn step(&mut self, label: &str, commands: &[&[&str]]) {
        for args in commands {
            let reply = self.client.cmd(args);
            self.transcript.push((format!("{label}: {}", args.join(" ")), show_bytes(&reply, usize::MAX)));
        }
        self.steps += 1;
        let step = self.steps;
        let marker = self.client.cmd(&["SET", "__step__", &step.to_string()]);
        assert_eq!(marker, b"+OK\r\n", "the marker write");
        let stream = show_ops(&self.replica.until_marker(step));
        let aof = show_ops(&self.aof.until_marker(step));
        self.transcript.push((format!("{label}: stream"), stream));
        self.transcript.push((format!("{label}: aof"), aof));
    }

    fn get(&self, step: &str) -> &str {
        let found = self.transcript.iter().find(|(s, _)| s == step);
        found.map(|(_, a)| a.as_str()).unwrap_or_else(|| panic!("no step {step:?}"))
    }
}

fn assert_same_transcripts(real: &Master, ours: &Master) {
    let mut diffs = Vec::new();
    for i in 0..real.transcript.len().max(ours.transcript.len()) {
        let (r, o) = (real.transcript.get(i), ours.transcript.get(i));
        if r != o {
            diffs.push(format!("#{i}\n      real: {r:?}\n      ours: {o:?}"));
        }
    }
    assert!(diffs.is_empty(), "{} difference(s) from real Redis:\n  {}", diffs.len(), diffs.join("\n  "));
}

/// Runs `scenario` on a real master and on ours at once and compares everything recorded; returns
/// the real master for the scenario's own expectations.
fn on_both(scenario: impl Fn(&mut Master) + Sync) -> Master {
    let (real, ours) = std::thread::scope(|s| {
        let run = |imp| {
            let scenario = &scenario;
            move || {
                let mut m = Master::start(imp);
                scenario(&mut m);
                m
            }
        };
        let real = s.spawn(run(Impl::Real));
        let ours = s.spawn(run(Impl::Ours));
        (real.join().expect("the scenario on real Redis"), ours.join().expect("the scenario on ours"))
    });
    assert_same_transcripts(&real, &ours);
    real
}

const WRITER_LIBRARY: &str = "#!lua name=replib\n\
                              redis.register_function('put_and_count', function(keys, args)\n\
                              redis.call('set', keys[1], args[1])\n\
                              return redis.call('incr', 'calls')\n\
                              end)\n\
                              redis.register_function{function_name='peek', callback=function(keys) \
                              return redis.call('get', keys[1]) end, flags={'no-writes'}}";

/// Two writes (sha1 of this text is what EVALSHA names).
const LOADED_SCRIPT: &str = "redis.call('set', 'sha_a', '1') redis.call('set', 'sha_b', '2')";
const LOADED_SHA: &str = "3216bcc778cb4f794eab75293546989549ec94dd";

fn script_effects_scenario(m: &mut Master) {
    m.step("one write", &[&["EVAL", "redis.call('set', KEYS[1], ARGV[1])", "1", "a", "1"]]);
    m.step("two writes", &[&["EVAL", "redis.call('set', 'a', '1') return redis.call('incr', 'a')", "0"]]);
    m.step(
        "SELECT inside",
        &[&[
            "EVAL",
            "redis.call('select', 3) redis.call('set', 'a', '3') redis.call('select', 0) redis.call('set', 'b', '0')",
            "0",
        ]],
    );
    m.step("SELECT inside, ending elsewhere", &[&["EVAL", "redis.call('select', 2) redis.call('set', 'c', '2')", "0"]]);
    m.step("read-only", &[&["EVAL", "return redis.call('get', 'a')", "0"]]);
    m.step("EVAL_RO", &[&["EVAL_RO", "return redis.call('get', 'a')", "0"]]);
    m.step("no-op writes", &[&["EVAL", "redis.call('del', 'nosuch') return redis.call('spop', 'nosuch')", "0"]]);
    m.step(
        "REPL_NONE then REPL_ALL",
        &[&[
            "EVAL",
            "redis.set_repl(redis.REPL_NONE) redis.call('set', 'n', '1') redis.set_repl(redis.REPL_ALL) \
             redis.call('set', 'm', '1')",
            "0",
        ]],
    );
    m.step(
        "REPL_AOF then REPL_REPLICA",
        &[&[
            "EVAL",
            "redis.set_repl(redis.REPL_AOF) redis.call('set', 'n', 'aof') redis.set_repl(redis.REPL_REPLICA) \
             redis.call('set', 'm', 'replica')",
            "0",
        ]],
    );
    m.step(
        "REPL_NONE only",
        &[&["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'n', 'none') redis.call('incr', 'cn')", "0"]],
    );
    m.step("set_repl with a bad target", &[&["EVAL", "redis.set_repl(12345)", "0"]]);
    m.step("replicate_commands", &[&["EVAL", "redis.replicate_commands() redis.call('set', 'rc', '1')", "0"]]);
    m.step("a write then an error", &[&["EVAL", "redis.call('set', 'e', '1') redis.call('nosuchcommand')", "0"]]);
    m.step(
        "a write then a runtime error",
        &[&["EVAL", "redis.call('set', 'e', '2') redis.call('incr', 'e') local x = nil + 1", "0"]],
    );
    m.step("a write then error_reply", &[&["EVAL", "redis.call('set', 'e', '3') return redis.error_reply('x')", "0"]]);
    m.step(
        "a write then a WRONGTYPE pcall",
        &[&["EVAL", "redis.call('set', 'e', '4') return redis.pcall('lpush', 'e', 'x')", "0"]],
    );
    m.step(
        "rewritten effects",
        &[&["EVAL", "redis.call('incrbyfloat', 'f', '1.5') redis.call('set', 'g', '1', 'keepttl')", "0"]],
    );
    m.step("FUNCTION LOAD", &[&["FUNCTION", "LOAD", WRITER_LIBRARY]]);
    m.step("FCALL of a writing function", &[&["FCALL", "put_and_count", "1", "fk", "fv"]]);
    m.step("FCALL_RO", &[&["FCALL_RO", "peek", "1", "fk"]]);
    m.step("SCRIPT LOAD", &[&["SCRIPT", "LOAD", LOADED_SCRIPT]]);
    m.step("EVALSHA", &[&["EVALSHA", LOADED_SHA, "0"]]);
    m.step("EVALSHA_RO of a writer", &[&["EVALSHA_RO", LOADED_SHA, "0"]]);
    m.step("client in db 5", &[&["SELECT", "5"], &["EVAL", "redis.call('set', 'five', '5')", "0"], &["SELECT", "0"]]);
    m.step(
        "EVAL in MULTI",
        &[
            &["MULTI"],
            &["EVAL", "redis.call('set', 'tx', '1') redis.call('set', 'ty', '2')", "0"],
            &["SET", "tz", "3"],
            &["EXEC"],
        ],
    );
    m.step("REPL_AOF only", &[&["EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set', 'n', 'aof only')", "0"]]);
    m.step(
        "REPL_REPLICA only",
        &[&["EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'n', 'replica only')", "0"]],
    );
    m.step("PUBLISH alone", &[&["EVAL", "return redis.call('publish', 'ch', 'msg')", "0"]]);
    m.step("a write and PUBLISH", &[&["EVAL", "redis.call('set', 'p', '1') redis.call('publish', 'ch', 'msg')", "0"]]);
    m.step(
        "FLUSHDB inside",
        &[&["EVAL", "redis.call('select', 4) redis.call('set', 'f4', '1') redis.call('flushdb')", "0"]],
    );
    m.step("a SELECT that is never used", &[&["EVAL", "redis.call('select', 6) return redis.call('get', 'x')", "0"]]);
    m.step("FUNCTION LOAD REPLACE", &[&["FUNCTION", "LOAD", "REPLACE", WRITER_LIBRARY]]);
    m.step("FCALL in db 1", &[&["SELECT", "1"], &["FCALL", "put_and_count", "1", "k1", "v1"], &["SELECT", "0"]]);
    m.step("FUNCTION FLUSH", &[&["FUNCTION", "FLUSH"]]);
    m.step("FUNCTION LOAD again", &[&["FUNCTION", "LOAD", WRITER_LIBRARY]]);
    m.step(
        "a script that writes past busy-reply-threshold",
        &[
            &["CONFIG", "SET", "busy-reply-threshold", "50"],
            &[
                "EVAL",
                "redis.call('set', 'slow1', '1') \
                 local function now() local t = redis.call('time') return t[1] * 1000 + t[2] / 1000 end \
                 local start = now() while now() - start < 200 do end \
                 redis.call('set', 'slow2', '2')",
                "0",
            ],
            &["CONFIG", "SET", "busy-reply-threshold", "5000"],
        ],
    );
    m.step("SCRIPT FLUSH", &[&["SCRIPT", "FLUSH"]]);
    m.step("FUNCTION DELETE", &[&["FUNCTION", "DELETE", "replib"]]);
}

#[test]
fn script_effects_in_the_stream_and_the_aof_as_real_redis() {
    let real = on_both(script_effects_scenario);
    // The scenario did what it meant to on real Redis.
    assert_eq!(real.get("one write: stream"), "SELECT 0 | set a 1 | SET __step__ 1");
    assert_eq!(real.get("two writes: stream"), "MULTI | set a 1 | incr a | EXEC | SET __step__ 2");
    assert_eq!(
        real.get("SELECT inside: stream"),
        "SELECT 3 | MULTI | set a 3 | SELECT 0 | set b 0 | EXEC | SET __step__ 3"
    );
    assert_eq!(real.get("read-only: stream"), "SET __step__ 5");
    assert_eq!(real.get("REPL_AOF then REPL_REPLICA: stream"), "MULTI | set m replica | EXEC | SET __step__ 9");
    assert_eq!(real.get("REPL_AOF then REPL_REPLICA: aof"), "MULTI | set n aof | EXEC | SET __step__ 9");
    assert_eq!(real.get("a write then an error: stream"), "set e 1 | SET __step__ 13");
    assert_eq!(real.get("a write and PUBLISH: stream"), "MULTI | set p 1 | publish ch msg | EXEC | SET __step__ 29");
    assert_eq!(real.get("a write and PUBLISH: aof"), "MULTI | set p 1 | EXEC | SET __step__ 29");
    assert_eq!(real.get(&format!("EVALSHA: EVALSHA {LOADED_SHA} 0")), "$-1\\r\\n");
}

/// Keys that expired before a script touched them: the script's DEL of each, inside the
/// script's MULTI when it also writes. Both keys get the same absolute expire time (given by
/// the test, so both masters propagate the same PEXPIREAT), and the scripts run once it passed.
fn expired_keys_scenario(m: &mut Master, expire_at_ms: i64) {
    let at = expire_at_ms.to_string();
    m.step(
        "keys that will expire",
        &[&["SET", "gone1", "v"], &["PEXPIREAT", "gone1", &at], &["SET", "gone2", "v"], &["PEXPIREAT", "gone2", &at]],
    );
    m.step(
        "a key that will expire in db 9",
        &[&["SELECT", "9"], &["SET", "gone9", "v"], &["PEXPIREAT", "gone9", &at], &["SELECT", "0"]],
    );
    m.step("a key that expires inside the script", &[&["SET", "gone3", "v"], &["PEXPIREAT", "gone3", &at]]);
    wait_for("the keys' expire time to pass", DEADLINE, || now_ms() > expire_at_ms + 10);
    m.step("a read-only script reads an expired key", &[&["EVAL", "return redis.call('get', 'gone1')", "0"]]);
    m.step(
        "a writing script meets an expired key",
        &[&["EVAL", "redis.call('set', 'z', '1') redis.call('exists', 'gone2') redis.call('set', 'y', '1')", "0"]],
    );
    m.step("FCALL", &[&["FUNCTION", "LOAD", WRITER_LIBRARY], &["FCALL", "put_and_count", "1", "gone3", "v"]]);
    m.step(
        "an expired key in another database",
        &[&["EVAL", "redis.call('select', 9) redis.call('get', 'gone9') redis.call('set', 'after9', '1')", "0"]],
    );
}

#[test]
fn expired_keys_touched_by_scripts_as_real_redis() {
    let expire_at_ms = now_ms() + 500;
    let real = on_both(|m| expired_keys_scenario(m, expire_at_ms));
    assert_eq!(real.get("a read-only script reads an expired key: stream"), "DEL gone1 | SET __step__ 4");
    assert_eq!(
        real.get("a writing script meets an expired key: stream"),
        "MULTI | set z 1 | DEL gone2 | set y 1 | EXEC | SET __step__ 5"
    );
    assert!(
        real.get("FCALL: stream").ends_with("MULTI | DEL gone3 | set gone3 v | incr calls | EXEC | SET __step__ 6"),
        "a function overwriting an expired key: {}",
        real.get("FCALL: stream")
    );
}

// ---------------------------------------------------------------------------------------------
// Real replicas of our master, our replicas of a real master
// ---------------------------------------------------------------------------------------------

const WORKLOAD_LIBRARY: &str = "#!lua name=work\n\
    redis.register_function('hbump', function(keys, args)\n\
      redis.call('hincrby', keys[1], args[1], 1)\n\
      redis.call('zincrby', keys[2], 1, args[1])\n\
      return redis.call('hlen', keys[1])\n\
    end)\n\
    redis.register_function('push_trim', function(keys, args)\n\
      redis.call('rpush', keys[1], unpack(args))\n\
      redis.call('ltrim', keys[1], -20, -1)\n\
      return redis.call('llen', keys[1])\n\
    end)\n\
    redis.register_function('stamp', function(keys)\n\
      local t = redis.call('time')\n\
      redis.call('set', keys[1], t[1] .. '.' .. t[2], 'ex', 1000)\n\
      return t[1]\n\
    end)";

/// A script's command line for step `i` of the workload (all deterministic in the test's
/// seed, not in what the scripts themselves do: TIME, SPOP and math.random replicate as effects).
fn workload_command(rng: &mut fastrand::Rng, i: usize) -> Vec<String> {
    let k = |p: &str, rng: &mut fastrand::Rng| format!("{p}{}", rng.u32(0..40));
    let cmd: Vec<String> = match rng.u32(0..12) {
        0 => vec!["FCALL".into(), "hbump".into(), "2".into(), k("h", rng), k("z", rng), k("f", rng)],
        1 => vec!["FCALL".into(), "push_trim".into(), "1".into(), k("l", rng), i.to_string(), k("v", rng)],
        2 => vec!["FCALL".into(), "stamp".into(), "1".into(), k("t", rng)],
        3 => vec![
            "EVAL".into(),
            "redis.call('sadd', KEYS[1], unpack(ARGV)) return redis.call('spop', KEYS[1])".into(),
            "1".into(),
            k("s", rng),
            k("m", rng),
            k("m", rng),
            k("m", rng),
        ],
        4 => vec![
            "EVAL".into(),
            "redis.call('set', KEYS[1], math.random(1000000)) return redis.call('incrbyfloat', KEYS[2], '0.25')".into(),
            "2".into(),
            k("r", rng),
            k("fl", rng),
        ],
        5 => vec![
            "EVAL".into(),
            "redis.call('select', ARGV[1]) redis.call('incr', KEYS[1]) redis.call('select', 0) \
             return redis.call('incr', KEYS[1])"
                .into(),
            "1".into(),
            k("c", rng),
            rng.u32(1..4).to_string(),
        ],
        6 => vec![
            "EVAL".into(),
            "redis.call('set', KEYS[1], ARGV[1], 'px', 150) return redis.call('get', KEYS[2])".into(),
            "2".into(),
            k("v", rng),
            k("v", rng),
            i.to_string(),
        ],
        7 => vec![
            "EVAL".into(),
            "redis.call('hset', KEYS[1], 'n', ARGV[1]) redis.call('nosuchcommand')".into(),
            "1".into(),
            k("e", rng),
            i.to_string(),
        ],
        8 => vec![
            "EVAL".into(),
            "local v = redis.call('srandmember', KEYS[1]) if v then redis.call('srem', KEYS[1], v) \
             redis.call('rpush', KEYS[2], v) end return v"
                .into(),
            "2".into(),
            k("s", rng),
            k("l", rng),
        ],
        9 => vec![
            "EVAL".into(),
            "redis.call('zadd', KEYS[1], ARGV[1], ARGV[2]) redis.call('expire', KEYS[1], 500) \
             return redis.call('zpopmin', KEYS[1])"
                .into(),
            "1".into(),
            k("z", rng),
            rng.u32(0..100).to_string(),
            k("m", rng),
        ],
        10 => vec!["EVALSHA".into(), "SHA".into(), "1".into(), k("cnt", rng)],
        _ => vec!["EVAL".into(), "return redis.call('exists', KEYS[1])".into(), "1".into(), k("v", rng)],
    };
    cmd
}

/// The workload on `master`: the library, a loaded script, then `n` scripts and functions.
fn run_workload(master: &Node, seed: u64, n: usize) {
    let mut c = master.client();
    let loaded = Reply::parse(&c.cmd(&["FUNCTION", "LOAD", WORKLOAD_LIBRARY]));
    assert_eq!(loaded, Reply::bulk_of("work"), "FUNCTION LOAD on {}", master.name);
    let sha = Reply::parse(&c.cmd(&["SCRIPT", "LOAD", "return redis.call('incrby', KEYS[1], 7)"]));
    let sha = sha.bulk().map(|b| String::from_utf8_lossy(b).into_owned()).expect("SCRIPT LOAD's sha1");
    let mut rng = fastrand::Rng::with_seed(seed);
    for i in 0..n {
        let mut cmd = workload_command(&mut rng, i);
        if cmd[1] == "SHA" {
            cmd[1] = sha.clone();
        }
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let reply = Reply::parse(&c.cmd(&args));
        let expected_error = args[1].contains("nosuchcommand");
        assert_eq!(reply.is_error(), expected_error, "{args:?} on {} answered {reply:?}", master.name);
    }
}

/// FUNCTION LIST WITHCODE, libraries in name order.
fn functions(node: &Node) -> Vec<u8> {
    sort_all(&node.client().cmd(&["FUNCTION", "LIST", "WITHCODE"]))
}

fn scripts_keep_replica_identical(master_imp: Impl, replica_imp: Impl) {
    let master = Node::start("master", master_imp, &[]);
    let replica = support::start_replica("replica", replica_imp, &master, &[]);
    support::wait_in_sync(&master, &replica);
    run_workload(&master, 0x5c41_9700 + master_imp as u64, 600);
    support::wait_in_sync(&master, &replica);
    support::assert_nodes_same(&master, &replica);
    assert_eq!(
        show_bytes(&functions(&replica), usize::MAX),
        show_bytes(&functions(&master), usize::MAX),
        "the replica's functions"
    );
    assert!(
        support::dataset(&master).len() > 100,
        "the workload wrote little: {}",
        support::dataset(&master).summary()
    );
}

#[test]
fn scripts_keep_a_real_replica_of_our_master_identical() {
    scripts_keep_replica_identical(Impl::Ours, Impl::Real);
}

#[test]
fn scripts_keep_our_replica_of_a_real_master_identical() {
    scripts_keep_replica_identical(Impl::Real, Impl::Ours);
}
