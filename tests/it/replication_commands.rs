//! The replication commands and settings, as clients see them (issue 7): WAIT, min-replicas-to-write,
//! read-only and stale replicas, REPLICAOF, FAILOVER, SHUTDOWN waiting for replicas, PUBLISH
//! through the stream, a chain of three nodes, rdb-del-sync-files, and a replica's INFO and ROLE
//! during a full sync.
//!
//! Most scenarios run twice at once, on Debian's real Redis 7.0 and on ours, and record every
//! reply byte for byte (or, where ports and ids differ between runs, in a normalised form) in a
//! transcript; the two transcripts must be equal, and the real one must show what Redis is known
//! to answer, so that a scenario that went wrong on both sides still fails.

use crate::common::{encode, show_bytes, Client};
use crate::replication_support::*;
use Impl::{Ours, Real};

// -------------------------------------------------------------------------------------------------
// Transcripts
// -------------------------------------------------------------------------------------------------

/// What one implementation answered in a scenario: (step, answer) pairs in order.
#[derive(Default)]
struct Transcript {
    steps: Vec<(String, String)>,
    /// Text replaced in every step name and answer (a port number differs between the two runs).
    hidden: Vec<(String, String)>,
}

impl Transcript {
    /// Records an answer under a step name.
    fn note(&mut self, step: &str, answer: impl Into<String>) {
        let (mut step, mut answer) = (step.to_string(), answer.into());
        for (text, placeholder) in &self.hidden {
            step = step.replace(text.as_str(), placeholder);
            answer = answer.replace(text.as_str(), placeholder);
        }
        self.steps.push((step, answer));
    }

    /// From now on `text` shows as `placeholder` in the answers.
    fn hide(&mut self, text: impl Into<String>, placeholder: &str) {
        self.hidden.push((text.into(), placeholder.to_string()));
    }

    /// Sends a command and records its raw reply (byte for byte) under the command line.
    fn cmd(&mut self, c: &mut Client, args: &[&str]) -> Vec<u8> {
        self.step(&args.join(" "), c, args)
    }

    /// Like `cmd`, under a step name of its own.
    fn step(&mut self, step: &str, c: &mut Client, args: &[&str]) -> Vec<u8> {
        let reply = c.cmd(args);
        self.note(step, show_bytes(&reply, usize::MAX));
        reply
    }

    /// Records a reply in a normalised form: its structure with the text of every element,
    /// through `hide` (for replies whose bulk lengths depend on hidden text).
    fn parsed(&mut self, step: &str, c: &mut Client, args: &[&str]) -> Reply {
        let reply = Reply::parse(&c.cmd(args));
        self.note(step, format!("{reply:?}"));
        reply
    }

    /// The answer recorded for a step (the first one of that name).
    fn get(&self, step: &str) -> &str {
        let found = self.steps.iter().find(|(s, _)| s == step);
        found.map(|(_, a)| a.as_str()).unwrap_or_else(|| panic!("no step {step:?} in the transcript"))
    }

    /// Asserts that the real run answered `step` with `expected`: the scenario did what it meant to.
    fn expect(&self, step: &str, expected: &str) {
        assert_eq!(self.get(step), expected, "real Redis's answer to {step:?} (the scenario went wrong)");
    }
}

/// Runs a scenario on real Redis and on ours at the same time; returns (real, ours).
fn both<T: Send>(scenario: impl Fn(Impl) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let real = s.spawn(|| scenario(Real));
        let ours = scenario(Ours);
        (real.join().expect("the real-Redis run panicked (its message is above)"), ours)
    })
}

/// Asserts the two runs answered alike, listing every step where they did not.
fn assert_same_answers(real: &Transcript, ours: &Transcript) {
    let mut diffs = Vec::new();
    for i in 0..real.steps.len().max(ours.steps.len()) {
        let (r, o) = (real.steps.get(i), ours.steps.get(i));
        if r != o {
            let show = |x: Option<&(String, String)>| x.map_or("(none)".to_string(), |(s, a)| format!("{s}  =>  {a}"));
            diffs.push(format!("  step {i}:\n    real: {}\n    ours: {}", show(r), show(o)));
        }
    }
    assert!(diffs.is_empty(), "ours answers differently from real Redis 7.0:\n{}", diffs.join("\n"));
}

fn other(imp: Impl) -> Impl {
    match imp {
        Ours => Real,
        Real => Ours,
    }
}

/// A node's server.log line that a SHUTDOWN waiting for its replicas writes (both implementations).
const SHUTDOWN_WAITING: &str = "Waiting for replicas before shutting down.";

/// The master's INFO replication field, as the transcripts record it.
fn info_field(node: &Node, name: &str) -> String {
    node.info("replication").get(name).map_or("(absent)".to_string(), str::to_string)
}

// -------------------------------------------------------------------------------------------------
// 1. WAIT
// -------------------------------------------------------------------------------------------------

fn wait_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let master = Node::start("master", imp, &[]);
    let mut c = master.client();
    t.step("WAIT 0 0 without replicas", &mut c, &["WAIT", "0", "0"]);
    t.step("WAIT 1 50 without replicas", &mut c, &["WAIT", "1", "50"]);
    for args in [["WAIT", "1", "-1"], ["WAIT", "1", "abc"], ["WAIT", "abc", "10"], ["WAIT", "abc", "-1"]] {
        t.cmd(&mut c, &args);
    }
    for args in [["WAIT", "1", "1.5"], ["WAIT", "-1", "0"], ["WAIT", "1", "99999999999999999999"]] {
        t.cmd(&mut c, &args);
    }
    t.cmd(&mut c, &["WAIT", "1"]);

    // Two replicas, one of each implementation: acknowledgements of both kinds count.
    let same = start_replica("replica", imp, &master, &[]);
    let different = start_replica("other-replica", other(imp), &master, &[]);
    wait_in_sync(&master, &same);
    wait_in_sync(&master, &different);
    t.cmd(&mut c, &["SET", "k", "v"]);
    // A generous timeout: both acknowledge at once when asked.
    t.step("WAIT 2 after a write", &mut c, &["WAIT", "2", "30000"]);
    t.step("WAIT 3 200 with two replicas", &mut c, &["WAIT", "3", "200"]);
    // WAIT waits for the caller's own writes: with one replica frozen, the writer's WAIT counts one
    // replica, a client that wrote nothing is answered at once with both.
    same.signal(libc::SIGSTOP);
    t.cmd(&mut c, &["SET", "k2", "v"]);
    t.step("WAIT 2 after a write, one replica frozen", &mut c, &["WAIT", "2", "100"]);
    t.step("WAIT 2 from a client that wrote nothing", &mut master.client(), &["WAIT", "2", "100"]);
    same.signal(libc::SIGCONT);
    wait_in_sync(&master, &same);
    t.step("WAIT on a replica", &mut same.client(), &["WAIT", "0", "0"]);
    t.step("WAIT abc 0 on a replica", &mut same.client(), &["WAIT", "abc", "0"]);
    t
}

#[test]
fn wait_answers_as_real_redis() {
    let (real, ours) = both(wait_scenario);
    real.expect("WAIT 0 0 without replicas", ":0\\r\\n");
    real.expect("WAIT 1 50 without replicas", ":0\\r\\n");
    real.expect("WAIT 2 after a write", ":2\\r\\n");
    real.expect("WAIT 3 200 with two replicas", ":2\\r\\n");
    real.expect("WAIT 2 after a write, one replica frozen", ":1\\r\\n");
    real.expect("WAIT 2 from a client that wrote nothing", ":2\\r\\n");
    real.expect("WAIT 1 -1", "-ERR timeout is negative\\r\\n");
    real.expect("WAIT abc -1", "-ERR value is not an integer or out of range\\r\\n");
    real.expect(
        "WAIT on a replica",
        "-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is \
         configured to be writable (which is not the default) writes to replicas are just local and are not \
         propagated.\\r\\n",
    );
    assert_same_answers(&real, &ours);
}

// -------------------------------------------------------------------------------------------------
// 2. min-replicas-to-write / min-replicas-max-lag
// -------------------------------------------------------------------------------------------------

fn min_replicas_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let master = Node::start("master", imp, &["--min-replicas-to-write", "1"]);
    let mut c = master.client();
    t.step("SET without replicas", &mut c, &["SET", "k", "v"]);
    t.cmd(&mut c, &["GET", "k"]);
    t.cmd(&mut c, &["DEL", "k"]);
    t.cmd(&mut c, &["MULTI"]);
    t.step("SET queued without replicas", &mut c, &["SET", "k", "v"]);
    t.step("EXEC without replicas", &mut c, &["EXEC"]);
    t.cmd(&mut c, &["PUBLISH", "ch", "m"]);
    t.note("min_slaves_good_slaves without replicas", info_field(&master, "min_slaves_good_slaves"));
    // A pause holds back only what would run: a write refused for want of replicas is refused at
    // once, during a pause that would otherwise last longer than the test.
    t.cmd(&mut master.client(), &["CLIENT", "PAUSE", "300000", "WRITE"]);
    t.step("SET during a long write pause without replicas", &mut c, &["SET", "k", "v"]);
    t.cmd(&mut master.client(), &["CLIENT", "UNPAUSE"]);

    let replica = start_replica("replica", imp, &master, &[]);
    wait_in_sync(&master, &replica);
    t.step("SET with a replica", &mut c, &["SET", "k", "v"]);
    t.note("min_slaves_good_slaves with a replica", info_field(&master, "min_slaves_good_slaves"));

    // A replica that stops acknowledging for longer than min-replicas-max-lag no longer counts,
    // though still connected; once it acknowledges again it does.
    t.cmd(&mut c, &["CONFIG", "SET", "min-replicas-max-lag", "1"]);
    replica.signal(libc::SIGSTOP);
    let refused = b"-NOREPLICAS Not enough good replicas to write.\r\n";
    crate::common::wait_for("writes refused while the replica lags", SYNC_DEADLINE, || {
        c.cmd(&["SET", "k", "v"]) == refused
    });
    t.note("min_slaves_good_slaves with a lagging replica", info_field(&master, "min_slaves_good_slaves"));
    t.note("connected_slaves with a lagging replica", info_field(&master, "connected_slaves"));
    replica.signal(libc::SIGCONT);
    crate::common::wait_for("writes accepted once it caught up", SYNC_DEADLINE, || {
        c.cmd(&["SET", "k", "v"]) == b"+OK\r\n"
    });
    t.note("min_slaves_good_slaves after it caught up", info_field(&master, "min_slaves_good_slaves"));

    replica.kill();
    crate::common::wait_for("the master to drop its replica", SYNC_DEADLINE, || {
        master.info("replication").num("connected_slaves") == 0
    });
    t.step("SET after the replica left", &mut c, &["SET", "k", "v2"]);
    // A max lag of 0 turns the check off.
    t.cmd(&mut c, &["CONFIG", "SET", "min-replicas-max-lag", "0"]);
    t.step("SET with min-replicas-max-lag 0", &mut c, &["SET", "k", "v3"]);
    t.note("min_slaves_good_slaves with min-replicas-max-lag 0", info_field(&master, "min_slaves_good_slaves"));
    t
}

#[test]
fn min_replicas_to_write_as_real_redis() {
    let (real, ours) = both(min_replicas_scenario);
    real.expect(
        "SET during a long write pause without replicas",
        "-NOREPLICAS Not enough good replicas to write.\\r\\n",
    );
    real.expect("SET without replicas", "-NOREPLICAS Not enough good replicas to write.\\r\\n");
    real.expect("min_slaves_good_slaves without replicas", "0");
    real.expect("SET with a replica", "+OK\\r\\n");
    real.expect("min_slaves_good_slaves with a replica", "1");
    real.expect("min_slaves_good_slaves with a lagging replica", "0");
    real.expect("connected_slaves with a lagging replica", "1");
    real.expect("min_slaves_good_slaves after it caught up", "1");
    real.expect("SET after the replica left", "-NOREPLICAS Not enough good replicas to write.\\r\\n");
    real.expect("SET with min-replicas-max-lag 0", "+OK\\r\\n");
    assert_same_answers(&real, &ours);
}

// -------------------------------------------------------------------------------------------------
// 3. Read-only and stale replicas
// -------------------------------------------------------------------------------------------------

fn read_only_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let master = Node::start("master", imp, &[]);
    let replica = start_replica("replica", imp, &master, &[]);
    master.ok(&["SET", "k", "v"]);
    wait_in_sync(&master, &replica);
    let mut c = replica.client();
    for args in [&["SET", "k", "x"][..], &["GET", "k"], &["INCR", "n"], &["DEL", "k"], &["EXPIRE", "k", "100"]] {
        t.cmd(&mut c, args);
    }
    t.cmd(&mut c, &["FLUSHALL"]);
    t.cmd(&mut c, &["PUBLISH", "ch", "m"]);
    for args in [&["MULTI"][..], &["SET", "k", "x"], &["GET", "k"], &["EXEC"]] {
        t.cmd(&mut c, args);
    }
    for args in [&["MULTI"][..], &["GET", "k"], &["EXEC"]] {
        t.cmd(&mut c, args);
    }
    t.cmd(&mut c, &["SELECT", "1"]);
    t.step("SET in db 1", &mut c, &["SET", "k", "x"]);
    t.cmd(&mut c, &["SELECT", "0"]);
    // HELLO's id varies: its role is what matters.
    let hello = Reply::parse(&c.cmd(&["HELLO", "2"]));
    let role = hello.array().chunks(2).find(|kv| kv[0].text() == "role").map(|kv| kv[1].text());
    t.note("HELLO's role on a replica", role.unwrap_or_else(|| "(absent)".into()));
    t.note("slave_read_only", info_field(&replica, "slave_read_only"));

    // A writable replica takes local writes, which go nowhere.
    t.cmd(&mut c, &["CONFIG", "SET", "replica-read-only", "no"]);
    t.note("slave_read_only after replica-read-only no", info_field(&replica, "slave_read_only"));
    t.step("SET on a writable replica", &mut c, &["SET", "local", "1"]);
    t.step("GET the local write", &mut c, &["GET", "local"]);
    t.cmd(&mut c, &["SET", "k", "mine"]);
    t.step("the local write on the master", &mut master.client(), &["EXISTS", "local"]);
    // The master's next write of the key wins.
    master.ok(&["SET", "k", "v2"]);
    wait_in_sync(&master, &replica);
    t.step("GET k after the master wrote it", &mut c, &["GET", "k"]);
    t
}

#[test]
fn read_only_replica_as_real_redis() {
    let (real, ours) = both(read_only_scenario);
    real.expect("SET k x", "-READONLY You can't write against a read only replica.\\r\\n");
    real.expect("GET k", "$1\\r\\nv\\r\\n");
    real.expect("EXEC", "-EXECABORT Transaction discarded because of previous errors.\\r\\n");
    real.expect("HELLO's role on a replica", "replica");
    real.expect("SET on a writable replica", "+OK\\r\\n");
    real.expect("the local write on the master", ":0\\r\\n");
    real.expect("GET k after the master wrote it", "$2\\r\\nv2\\r\\n");
    assert_same_answers(&real, &ours);
}

/// replica-serve-stale-data no with the master gone: only commands flagged "stale" run.
fn stale_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let master = Node::start("master", imp, &[]);
    let replica = start_replica("replica", imp, &master, &["--replica-serve-stale-data", "no"]);
    t.hide(master.port.to_string(), "<master-port>");
    master.ok(&["SET", "k", "v"]);
    wait_in_sync(&master, &replica);
    let mut c = replica.client();
    t.step("GET with the link up", &mut c, &["GET", "k"]);

    master.kill();
    wait_info(&replica, "master_link_status", "down");
    let commands: &[&[&str]] = &[
        &["GET", "k"],
        &["SET", "k", "x"],
        &["PING"],
        &["ECHO", "x"],
        &["DBSIZE"],
        &["EXISTS", "k"],
        &["CONFIG", "GET", "maxmemory"],
        &["PUBLISH", "ch", "m"],
        &["SELECT", "1"],
        &["MULTI"],
        &["GET", "k"],
        &["EXEC"],
        &["SELECT", "0"],
        &["WAIT", "0", "0"],
        &["CLIENT", "SETNAME", "x"],
        &["FAILOVER"],
    ];
    for args in commands {
        t.cmd(&mut c, args);
    }
    let info = Reply::parse(&c.cmd(&["INFO", "replication"]));
    t.note("INFO replication", if matches!(info, Reply::Bulk(_)) { "a bulk" } else { "not a bulk" });
    let role = Reply::parse(&c.cmd(&["ROLE"]));
    t.note("ROLE", format!("{} {}", role.shape(), role.array()[0].text()));
    let mut sub = replica.client();
    t.cmd(&mut sub, &["SUBSCRIBE", "ch"]);
    t.cmd(&mut sub, &["UNSUBSCRIBE", "ch"]);
    t.step("REPLICAOF NO ONE", &mut c, &["REPLICAOF", "NO", "ONE"]);
    t.step("GET as a master", &mut c, &["GET", "k"]);
    t
}

#[test]
fn stale_replica_as_real_redis() {
    let (real, ours) = both(stale_scenario);
    real.expect("GET with the link up", "$1\\r\\nv\\r\\n");
    let down = "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\\r\\n";
    real.expect("GET k", down);
    real.expect("PING", down);
    real.expect("INFO replication", "a bulk");
    real.expect("REPLICAOF NO ONE", "+OK\\r\\n");
    real.expect("GET as a master", "$1\\r\\nv\\r\\n");
    assert_same_answers(&real, &ours);
}

// -------------------------------------------------------------------------------------------------
// 4. REPLICAOF
// -------------------------------------------------------------------------------------------------

/// The replicaof lines of a node's config file.
fn replicaof_lines(node: &Node) -> String {
    let text = std::fs::read_to_string(node.dir.path().join("redis.conf")).expect("the node's redis.conf");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("replicaof") || l.starts_with("slaveof")).collect();
    if lines.is_empty() {
        "(none)".into()
    } else {
        lines.join(" | ")
    }
}

fn replicaof_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let master = Node::start("master", imp, &[]);
    master.ok(&["SET", "a", "1"]);
    master.ok(&["SET", "b", "2"]);
    let node = Node::start_with_config("node", imp, "# the test's config\nreplica-priority 50\n", &[]);
    let port = master.port.to_string();
    t.hide(&port, "<master-port>");
    let mut c = node.client();
    for bad in ["notaport", "70000", "-1", " 5", "1.5"] {
        t.cmd(&mut c, &["REPLICAOF", "127.0.0.1", bad]);
    }
    t.step("REPLICAOF NO ONE on a master", &mut c, &["REPLICAOF", "NO", "ONE"]);
    t.parsed("CONFIG GET replicaof of a master", &mut c, &["CONFIG", "GET", "replicaof"]);

    t.step("REPLICAOF the master", &mut c, &["REPLICAOF", "127.0.0.1", &port]);
    t.step("REPLICAOF the same master again", &mut c, &["REPLICAOF", "127.0.0.1", &port]);
    t.step("SLAVEOF the same master", &mut c, &["SLAVEOF", "127.0.0.1", &port]);
    t.parsed("CONFIG GET replicaof of a replica", &mut c, &["CONFIG", "GET", "replicaof"]);
    t.parsed("CONFIG GET slaveof of a replica", &mut c, &["CONFIG", "GET", "slaveof"]);
    wait_in_sync(&master, &node);
    t.step("CONFIG REWRITE of a replica", &mut c, &["CONFIG", "REWRITE"]);
    t.note("replicaof line written", replicaof_lines(&node));

    // Promoted, it keeps the data and the master's history as its second id, valid up to the
    // offset it reached.
    let master_replid = info_field(&master, "master_replid");
    let reached = node.info("replication").num("master_repl_offset");
    t.step("REPLICAOF NO ONE on a replica", &mut c, &["REPLICAOF", "NO", "ONE"]);
    let info = node.info("replication");
    t.note("role after NO ONE", info.get("role").unwrap_or("(absent)"));
    t.note("master_replid2 is the old master's id", (info.get("master_replid2") == Some(&master_replid)).to_string());
    t.note("master_replid is new", (info.get("master_replid") != Some(&master_replid)).to_string());
    t.note("second_repl_offset - offset reached", (info.num("second_repl_offset") - reached).to_string());
    t.note("master_repl_offset - offset reached", (info.num("master_repl_offset") - reached).to_string());
    t.cmd(&mut c, &["DBSIZE"]);
    t.parsed("CONFIG GET replicaof after NO ONE", &mut c, &["CONFIG", "GET", "replicaof"]);
    t.step("CONFIG REWRITE after NO ONE", &mut c, &["CONFIG", "REWRITE"]);
    t.note("replicaof line after NO ONE", replicaof_lines(&node));
    t.step("a write after NO ONE", &mut c, &["SET", "c", "3"]);
    t
}

#[test]
fn replicaof_as_real_redis() {
    let (real, ours) = both(replicaof_scenario);
    real.expect("REPLICAOF 127.0.0.1 notaport", "-ERR Invalid master port\\r\\n");
    real.expect("REPLICAOF NO ONE on a master", "+OK\\r\\n");
    real.expect("REPLICAOF the same master again", "+OK Already connected to specified master\\r\\n");
    real.expect("CONFIG GET replicaof of a replica", "[\"replicaof\", \"127.0.0.1 <master-port>\"]");
    real.expect("replicaof line written", "replicaof 127.0.0.1 <master-port>");
    real.expect("master_replid2 is the old master's id", "true");
    real.expect("second_repl_offset - offset reached", "1");
    real.expect("DBSIZE", ":2\\r\\n");
    real.expect("replicaof line after NO ONE", "(none)");
    assert_same_answers(&real, &ours);
}

/// What a replica says when handshaking: REPLCONF's options and errors, and the SYNC/PSYNC refusals.
fn replconf_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let master = Node::start("master", imp, &[]);
    let mut c = master.client();
    let long_host = "h".repeat(255);
    let too_long_host = "h".repeat(256);
    let calls: &[&[&str]] = &[
        &["REPLCONF"],
        &["REPLCONF", "foo"],
        &["REPLCONF", "foo", "bar"],
        &["REPLCONF", "listening-port", "abc"],
        &["REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "psync2", "capa", "foo"],
        &["REPLCONF", "ip-address", &long_host],
        &["REPLCONF", "ip-address", &too_long_host],
        &["REPLCONF", "rdb-only", "1"],
        &["REPLCONF", "rdb-only", "2"],
        &["REPLCONF", "rdb-only", "x"],
        &["MULTI"],
        &["PSYNC", "?", "-1"],
        &["SYNC"],
        &["DISCARD"],
        &["PSYNC"],
        &["PSYNC", "?", "x"],
    ];
    for args in calls {
        t.cmd(&mut c, args);
    }
    // A filtered RDB is only ever streamed (diskless): a replica that cannot take that is refused.
    let mut filtered = master.client();
    for filter in ["\"", "functions x", "functions"] {
        t.cmd(&mut filtered, &["REPLCONF", "rdb-filter-only", filter]);
    }
    t.step("SYNC of a filtered replica without capa eof", &mut filtered, &["SYNC"]);

    let replica = Node::start("replica", imp, &["--replicaof", "127.0.0.1", "1"]);
    let mut c = replica.client();
    t.step("PSYNC to a replica whose link is down", &mut c, &["PSYNC", "?", "-1"]);
    t.step("SYNC to a replica whose link is down", &mut c, &["SYNC"]);
    t
}

#[test]
fn replconf_and_sync_errors_as_real_redis() {
    let (real, ours) = both(replconf_scenario);
    real.expect("REPLCONF rdb-only 2", "-ERR value is out of range, value must between 0 and 1\\r\\n");
    real.expect("REPLCONF rdb-filter-only functions x", "-ERR Unsupported rdb-filter-only option: x\\r\\n");
    real.expect("SYNC of a filtered replica without capa eof", "-ERR Filtered replica requires EOF capability\\r\\n");
    real.expect(
        "PSYNC to a replica whose link is down",
        "-NOMASTERLINK Can't SYNC while not connected with my master\\r\\n",
    );
    assert_same_answers(&real, &ours);
}

/// `redis-cli --rdb` (REPLCONF rdb-only 1, then SYNC) dumps a master's dataset; the file loads
/// into real Redis with every key.
fn redis_cli_rdb_loads_in_real_redis(imp: Impl) {
    let cli = "/usr/bin/redis-cli";
    assert!(std::path::Path::new(cli).exists(), "{cli} is missing: install Debian's redis-tools");
    let master = Node::start("master", imp, &[]);
    preload(&master, 91, 20);
    let source = dataset(&master);
    let reader = Node::start("reader", Real, &[]);
    reader.kill();
    let file = reader.dir.path().join("dump.rdb");
    let out = std::process::Command::new(cli)
        .args(["-p", &master.port.to_string(), "--rdb", file.to_str().expect("utf-8 path")])
        .output()
        .expect("run redis-cli --rdb");
    assert!(out.status.success(), "redis-cli --rdb against {}: {}", master.name, String::from_utf8_lossy(&out.stderr));
    reader.restart();
    assert_same_dataset(&source, &dataset(&reader));
    crate::common::wait_for("the master to forget the rdb-only replica", SYNC_DEADLINE, || {
        master.info("replication").num("connected_slaves") == 0
    });
}

#[test]
fn redis_cli_rdb_of_real_and_ours() {
    both(redis_cli_rdb_loads_in_real_redis);
}

// -------------------------------------------------------------------------------------------------
// 5. FAILOVER
// -------------------------------------------------------------------------------------------------

/// FAILOVER calls that a lone master and a replica refuse (none of them starts a failover there).
const FAILOVER_CALLS: &[&[&str]] = &[
    &["FAILOVER"],
    &["FAILOVER", "TO", "127.0.0.1", "1"],
    &["FAILOVER", "FORCE"],
    &["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
    &["FAILOVER", "TIMEOUT", "10", "FORCE"],
    &["FAILOVER", "ABORT"],
    &["FAILOVER", "TIMEOUT", "0"],
    &["FAILOVER", "TIMEOUT", "-1"],
    &["FAILOVER", "TIMEOUT", "abc"],
    &["FAILOVER", "TO", "host", "abc"],
    &["FAILOVER", "TO", "host"],
    &["FAILOVER", "TO", "127.0.0.1", "99999"],
    &["FAILOVER", "ABORT", "TIMEOUT", "10"],
    &["FAILOVER", "ABORT", "FORCE"],
    &["FAILOVER", "TIMEOUT", "5", "TIMEOUT", "6"],
    &["FAILOVER", "TO", "a", "1", "TO", "b", "2"],
    &["FAILOVER", "foo"],
];

fn failover_errors_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let lone = Node::start("lone master", imp, &[]);
    let mut c = lone.client();
    for args in FAILOVER_CALLS {
        t.step(&format!("lone master: {}", args.join(" ")), &mut c, args);
    }
    let master = Node::start("master", imp, &[]);
    let replica = start_replica("replica", imp, &master, &[]);
    wait_in_sync(&master, &replica);
    let mut c = replica.client();
    for args in FAILOVER_CALLS {
        t.step(&format!("replica: {}", args.join(" ")), &mut c, args);
    }

    let mut c = master.client();
    let replica_port = replica.port.to_string();
    t.hide(&replica_port, "<replica-port>");
    for args in [
        &["FAILOVER", "TO", "127.0.0.1", "1"][..],
        &["FAILOVER", "TO", "127.0.0.1", "99999"],
        &["FAILOVER", "TO", "127.0.0.1", &replica_port, "FORCE"],
        &["FAILOVER", "ABORT"],
        &["FAILOVER", "ABORT", "TIMEOUT", "10"],
    ] {
        t.cmd(&mut c, args);
    }
    t.note("master_failover_state", info_field(&master, "master_failover_state"));

    // A failover that cannot finish: the replica is frozen before a write it must acknowledge.
    replica.signal(libc::SIGSTOP);
    t.cmd(&mut c, &["SET", "x", "1"]);
    t.step("FAILOVER to a frozen replica", &mut c, &["FAILOVER", "TIMEOUT", "60000"]);
    t.note("master_failover_state while waiting", info_field(&master, "master_failover_state"));
    t.step("FAILOVER while one is in progress", &mut c, &["FAILOVER"]);
    t.step("REPLICAOF NO ONE while failing over", &mut c, &["REPLICAOF", "NO", "ONE"]);
    t.step("REPLICAOF while failing over", &mut c, &["REPLICAOF", "127.0.0.1", "1"]);
    t.step("a read while failing over", &mut c, &["GET", "x"]);
    t.step("PSYNC while failing over", &mut master.client(), &["PSYNC", "?", "-1"]);
    t.step("FAILOVER ABORT in progress", &mut c, &["FAILOVER", "ABORT"]);
    t.note("master_failover_state after ABORT", info_field(&master, "master_failover_state"));
    t.step("FAILOVER ABORT again", &mut c, &["FAILOVER", "ABORT"]);
    t.step("a write after ABORT", &mut c, &["SET", "y", "2"]);

    // Without FORCE, a timeout gives up and the master stays one.
    t.step("FAILOVER TIMEOUT 300", &mut c, &["FAILOVER", "TIMEOUT", "300"]);
    crate::common::wait_for("the failover to time out", SYNC_DEADLINE, || {
        master.info("replication").get("master_failover_state") == Some("no-failover")
    });
    t.note("role after the timeout", info_field(&master, "role"));
    t.step("a write after the timeout", &mut c, &["SET", "z", "3"]);

    // With FORCE, the timeout hands over anyway: the master becomes the frozen replica's replica
    // and stays "in progress" while its PSYNC FAILOVER goes unanswered.
    let replid = info_field(&master, "master_replid");
    let forced = ["FAILOVER", "TO", "127.0.0.1", &replica_port, "FORCE", "TIMEOUT", "200"];
    t.step("FAILOVER FORCE to a frozen replica", &mut c, &forced);
    crate::common::wait_for("the forced failover to begin", SYNC_DEADLINE, || {
        master.info("replication").get("master_failover_state") == Some("failover-in-progress")
    });
    t.note("role while in progress", info_field(&master, "role"));
    t.note("connected_slaves while in progress", info_field(&master, "connected_slaves"));
    t.parsed("ROLE while in progress", &mut c, &["ROLE"]);
    t.step("a read while in progress", &mut c, &["GET", "x"]);
    t.step("FAILOVER while in progress", &mut c, &["FAILOVER"]);
    t.step("REPLICAOF NO ONE while in progress", &mut c, &["REPLICAOF", "NO", "ONE"]);
    t.step("PSYNC while in progress", &mut master.client(), &["PSYNC", "?", "-1"]);
    t.step("FAILOVER ABORT while in progress", &mut c, &["FAILOVER", "ABORT"]);
    let info = master.info("replication");
    t.note("role after aborting the switch", info.get("role").unwrap_or("(absent)"));
    t.note("master_failover_state after aborting the switch", info.get("master_failover_state").unwrap_or("?"));
    t.note("the old id is kept as replid2", (info.get("master_replid2") == Some(&replid)).to_string());
    t.note(
        "second_repl_offset - master_repl_offset",
        (info.num("second_repl_offset") - info.num("master_repl_offset")).to_string(),
    );
    t.step("a write after aborting the switch", &mut c, &["SET", "w", "4"]);
    replica.signal(libc::SIGCONT);
    t
}

#[test]
fn failover_errors_and_states_as_real_redis() {
    let (real, ours) = both(failover_errors_scenario);
    real.expect("lone master: FAILOVER", "-ERR FAILOVER requires connected replicas.\\r\\n");
    real.expect("lone master: FAILOVER ABORT", "-ERR No failover in progress.\\r\\n");
    real.expect("lone master: FAILOVER ABORT TIMEOUT 10", "-ERR syntax error\\r\\n");
    real.expect("replica: FAILOVER", "-ERR FAILOVER is not valid when server is a replica.\\r\\n");
    real.expect("FAILOVER TO 127.0.0.1 1", "-ERR FAILOVER target HOST and PORT is not a replica.\\r\\n");
    real.expect(
        "FAILOVER TO 127.0.0.1 <replica-port> FORCE",
        "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\\r\\n",
    );
    real.expect("master_failover_state", "no-failover");
    real.expect("FAILOVER to a frozen replica", "+OK\\r\\n");
    real.expect("master_failover_state while waiting", "waiting-for-sync");
    real.expect("FAILOVER while one is in progress", "-ERR FAILOVER already in progress.\\r\\n");
    real.expect("REPLICAOF while failing over", "-ERR REPLICAOF not allowed while failing over.\\r\\n");
    real.expect("PSYNC while failing over", "-NOMASTERLINK Can't SYNC while failing over\\r\\n");
    real.expect("FAILOVER ABORT in progress", "+OK\\r\\n");
    real.expect("a write after ABORT", "+OK\\r\\n");
    real.expect("role after the timeout", "master");
    real.expect("role while in progress", "slave");
    real.expect(
        "ROLE while in progress",
        "[\"slave\", \"127.0.0.1\", (integer) <replica-port>, \"handshake\", (integer) -1]",
    );
    real.expect("PSYNC while in progress", "-NOMASTERLINK Can't SYNC while failing over\\r\\n");
    real.expect("role after aborting the switch", "master");
    real.expect("the old id is kept as replid2", "true");
    real.expect("a write after aborting the switch", "+OK\\r\\n");
    assert_same_answers(&real, &ours);
}

/// FAILOVER from a master to its replica: the roles swap, the old master follows the new one
/// with a PARTIAL resync, nothing is lost, and writes go on at the new master.
fn failover_swaps_roles(master_imp: Impl, replica_imp: Impl, targeted: bool) {
    let master = Node::start("master", master_imp, &[]);
    preload(&master, 71, 30);
    let replica = start_replica("replica", replica_imp, &master, &[]);
    Writer::new(&master, 72).run(300);
    wait_in_sync(&master, &replica);
    let before = dataset(&master);
    assert!(before.len() > 500, "too few keys to compare: {}", before.summary());

    let port = replica.port.to_string();
    match targeted {
        true => master.ok(&["FAILOVER", "TO", "127.0.0.1", &port]),
        false => master.ok(&["FAILOVER"]),
    }
    wait_info(&replica, "role", "master");
    wait_in_sync(&replica, &master);
    assert_eq!(
        sync_counts(&replica),
        SyncCounts { full: 0, partial_ok: 1 },
        "the old master continues from its offset\n{}{}",
        master.describe(),
        replica.describe()
    );
    for node in [&master, &replica] {
        assert_eq!(info_field(node, "master_failover_state"), "no-failover", "on {}", node.name);
    }
    assert_same_dataset(&before, &dataset(&replica));
    assert_same_dataset(&before, &dataset(&master));
    assert_eq!(
        master.client().cmd(&["SET", "k", "v"]),
        b"-READONLY You can't write against a read only replica.\r\n",
        "a write on the old master"
    );

    Writer::new(&replica, 73).run(300);
    wait_in_sync(&replica, &master);
    assert_nodes_same(&replica, &master);
}

#[test]
fn failover_real_to_real() {
    failover_swaps_roles(Real, Real, false);
}

#[test]
fn failover_our_master_to_real_replica() {
    failover_swaps_roles(Ours, Real, true);
}

#[test]
fn failover_real_master_to_our_replica() {
    failover_swaps_roles(Real, Ours, false);
}

#[test]
fn failover_our_master_to_our_replica() {
    failover_swaps_roles(Ours, Ours, true);
}

// -------------------------------------------------------------------------------------------------
// 6. SHUTDOWN waiting for a lagging replica
// -------------------------------------------------------------------------------------------------

/// A master with one replica in sync; the replica is then frozen (SIGSTOP), so that it cannot
/// acknowledge what follows.
fn master_with_frozen_replica(master_imp: Impl, replica_imp: Impl) -> (Node, Node) {
    let master = Node::start("master", master_imp, &[]);
    let replica = start_replica("replica", replica_imp, &master, &[]);
    master.ok(&["SET", "k0", "v"]);
    wait_in_sync(&master, &replica);
    replica.signal(libc::SIGSTOP);
    (master, replica)
}

/// Sends SHUTDOWN on a connection of its own and waits until the master says it waits for its
/// replicas; returns the connection (its reply, if any, is still to be read).
fn shutdown_waiting(master: &Node) -> Client {
    let mut shutdown = master.client();
    shutdown.send_raw(&encode(&[b"SHUTDOWN"]));
    crate::common::wait_for("the SHUTDOWN to wait for the replica", SYNC_DEADLINE, || master.logged(SHUTDOWN_WAITING));
    shutdown
}

/// What a connection gets next: a reply, or the server closing it.
fn next_reply(c: &mut Client) -> String {
    match c.try_read_reply() {
        Ok(reply) => show_bytes(&reply, usize::MAX),
        Err(_) => "(closed without a reply)".into(),
    }
}

fn shutdown_waits_scenario(master_imp: Impl, replica_imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let (master, replica) = master_with_frozen_replica(master_imp, replica_imp);
    let pairs: Vec<String> = (1..=100).flat_map(|i| [format!("k{i}"), format!("v{i}")]).collect();
    let mut mset = vec!["MSET"];
    mset.extend(pairs.iter().map(String::as_str));
    t.step("MSET while the replica is frozen", &mut master.client(), &mset);

    let mut shutdown = shutdown_waiting(&master);
    t.step("a read while the SHUTDOWN waits", &mut master.client(), &["GET", "k1"]);
    // Writes are paused: this one never runs (the server exits first).
    let mut paused = master.client();
    paused.send_raw(&encode(&[b"SET", b"paused", b"x"]));

    replica.signal(libc::SIGCONT);
    crate::common::wait_for("the master to exit once its replica caught up", SYNC_DEADLINE, || !master.alive());
    t.note("the SHUTDOWN connection", next_reply(&mut shutdown));
    t.note("the paused write", next_reply(&mut paused));
    let mut c = replica.client();
    t.step("DBSIZE on the replica", &mut c, &["DBSIZE"]);
    t.step("the last write on the replica", &mut c, &["GET", "k100"]);
    t.step("the paused write on the replica", &mut c, &["EXISTS", "paused"]);
    t
}

#[test]
fn shutdown_waits_for_a_lagging_replica_as_real_redis() {
    let (real, ours) = both(|imp| shutdown_waits_scenario(imp, imp));
    real.expect("a read while the SHUTDOWN waits", "$2\\r\\nv1\\r\\n");
    real.expect("the SHUTDOWN connection", "(closed without a reply)");
    real.expect("the paused write", "(closed without a reply)");
    real.expect("DBSIZE on the replica", ":101\\r\\n");
    real.expect("the paused write on the replica", ":0\\r\\n");
    assert_same_answers(&real, &ours);
    // And across implementations: our master waits for a real replica's acknowledgement.
    let mixed = shutdown_waits_scenario(Ours, Real);
    assert_same_answers(&real, &mixed);
}

fn shutdown_abort_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let (master, replica) = master_with_frozen_replica(imp, imp);
    t.cmd(&mut master.client(), &["SET", "k1", "v"]);
    let mut shutdown = shutdown_waiting(&master);
    let mut paused = master.client();
    paused.send_raw(&encode(&[b"SET", b"paused", b"x"]));
    let mut c = master.client();
    t.step("SHUTDOWN ABORT while waiting", &mut c, &["SHUTDOWN", "ABORT"]);
    t.note("the SHUTDOWN's reply", next_reply(&mut shutdown));
    t.note("the paused write's reply", next_reply(&mut paused));
    t.step("SHUTDOWN ABORT again", &mut c, &["SHUTDOWN", "ABORT"]);
    t.note("the master runs", master.alive().to_string());
    t.step("a write after the abort", &mut c, &["SET", "k2", "v"]);
    replica.signal(libc::SIGCONT);
    wait_in_sync(&master, &replica);
    t.step("DBSIZE on the replica", &mut replica.client(), &["DBSIZE"]);
    t
}

#[test]
fn shutdown_abort_as_real_redis() {
    let (real, ours) = both(shutdown_abort_scenario);
    real.expect("SHUTDOWN ABORT while waiting", "+OK\\r\\n");
    real.expect("the SHUTDOWN's reply", "-ERR Errors trying to SHUTDOWN. Check logs.\\r\\n");
    real.expect("the paused write's reply", "+OK\\r\\n");
    real.expect("SHUTDOWN ABORT again", "-ERR No shutdown in progress.\\r\\n");
    real.expect("the master runs", "true");
    real.expect("DBSIZE on the replica", ":4\\r\\n");
    assert_same_answers(&real, &ours);
}

/// SHUTDOWN NOW does not wait for a lagging replica (with a shutdown-timeout far longer than the
/// test waits); SIGTERM does, like a plain SHUTDOWN.
fn shutdown_now_and_sigterm_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let master = Node::start("master", imp, &["--shutdown-timeout", "120"]);
    let replica = start_replica("replica", imp, &master, &[]);
    wait_in_sync(&master, &replica);
    replica.signal(libc::SIGSTOP);
    t.cmd(&mut master.client(), &["SET", "k", "v"]);
    let mut now = master.client();
    now.send_raw(&encode(&[b"SHUTDOWN", b"NOW"]));
    crate::common::wait_for("SHUTDOWN NOW to exit", SYNC_DEADLINE, || !master.alive());
    t.note("SHUTDOWN NOW's connection", next_reply(&mut now));
    t.note("SHUTDOWN NOW waited for the replica", master.logged(SHUTDOWN_WAITING).to_string());
    replica.signal(libc::SIGCONT);

    let (master, replica) = master_with_frozen_replica(imp, imp);
    t.cmd(&mut master.client(), &["SET", "k1", "v"]);
    master.signal(libc::SIGTERM);
    crate::common::wait_for("SIGTERM to wait for the replica", SYNC_DEADLINE, || master.logged(SHUTDOWN_WAITING));
    replica.signal(libc::SIGCONT);
    crate::common::wait_for("the master to exit once its replica caught up", SYNC_DEADLINE, || !master.alive());
    t.step("the write before SIGTERM on the replica", &mut replica.client(), &["GET", "k1"]);
    t
}

#[test]
fn shutdown_now_and_sigterm_as_real_redis() {
    let (real, ours) = both(shutdown_now_and_sigterm_scenario);
    real.expect("SHUTDOWN NOW waited for the replica", "false");
    real.expect("the write before SIGTERM on the replica", "$1\\r\\nv\\r\\n");
    assert_same_answers(&real, &ours);
}

// -------------------------------------------------------------------------------------------------
// 7. PUBLISH through the replication stream
// -------------------------------------------------------------------------------------------------

fn publish_reaches_replica_subscribers(master_imp: Impl, replica_imp: Impl) {
    let master = Node::start("master", master_imp, &[]);
    let replica = start_replica("replica", replica_imp, &master, &[]);
    wait_in_sync(&master, &replica);
    let mut sub = replica.client();
    assert_eq!(sub.cmd(&["SUBSCRIBE", "news"]), b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    assert_eq!(sub.cmd(&["PSUBSCRIBE", "n*"]), b"*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n");
    // The master has no subscriber of its own.
    assert_eq!(master.call(&["PUBLISH", "news", "hello"]), Reply::Int(0));
    let what = format!("{} -> {}", master.name, replica.name);
    assert_eq!(
        show_bytes(&sub.read_reply(), usize::MAX),
        "*3\\r\\n$7\\r\\nmessage\\r\\n$4\\r\\nnews\\r\\n$5\\r\\nhello\\r\\n",
        "{what}"
    );
    assert_eq!(
        show_bytes(&sub.read_reply(), usize::MAX),
        "*4\\r\\n$8\\r\\npmessage\\r\\n$2\\r\\nn*\\r\\n$4\\r\\nnews\\r\\n$5\\r\\nhello\\r\\n",
        "{what}"
    );
}

#[test]
fn publish_reaches_subscribers_of_replicas() {
    for (m, r) in [(Real, Real), (Ours, Real), (Real, Ours), (Ours, Ours)] {
        publish_reaches_replica_subscribers(m, r);
    }
}

// -------------------------------------------------------------------------------------------------
// 8. A chain of three
// -------------------------------------------------------------------------------------------------

/// INFO replication's field names in order (a slaveN line as its inner keys and state).
fn field_names(info: &Info) -> Vec<String> {
    let name = |(k, v): &(String, String)| match k.starts_with("slave") && v.contains("ip=") {
        true => {
            let keys: Vec<&str> = v.split(',').filter_map(|kv| kv.split('=').next()).collect();
            let state = v.split(',').find_map(|kv| kv.strip_prefix("state=")).unwrap_or("?");
            format!("{k}{{{}}}:{state}", keys.join(","))
        }
        false => k.clone(),
    };
    info.fields.iter().map(name).collect()
}

/// master -> middle -> end, all of one implementation; returns the middle node's INFO fields.
fn chain_of_three(imp: Impl) -> Vec<String> {
    let master = Node::start("master", imp, &[]);
    let middle = start_replica("middle", imp, &master, &[]);
    let end = start_replica("end", imp, &middle, &[]);
    Writer::new(&master, 81).run(800);
    wait_in_sync(&master, &middle);
    wait_in_sync(&middle, &end);
    assert_nodes_same(&master, &middle);
    assert_nodes_same(&middle, &end);
    let info = middle.info("replication");
    assert_eq!(info.get("role"), Some("slave"), "{}", info.text);
    assert_eq!(info.get("master_link_status"), Some("up"), "{}", info.text);
    assert_eq!(info.num("connected_slaves"), 1, "{}", info.text);
    // One offset along the chain.
    let top = master.info("replication").num("master_repl_offset");
    assert_eq!(info.num("master_repl_offset"), top, "{}", info.text);
    assert_eq!(end.info("replication").num("master_repl_offset"), top);
    field_names(&info)
}

#[test]
fn chain_of_three_ours_as_real_redis() {
    let (real, ours) = both(chain_of_three);
    assert!(real.contains(&"slave0{ip,port,state,offset,lag}:online".to_string()), "{real:?}");
    assert_eq!(ours, real, "INFO replication of the middle node: ours vs real Redis");
}

// -------------------------------------------------------------------------------------------------
// 9. rdb-del-sync-files
// -------------------------------------------------------------------------------------------------

fn has_dump(node: &Node) -> bool {
    node.dir.path().join("dump.rdb").exists()
}

fn rdb_del_sync_files_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    let disk = ["--repl-diskless-sync", "no"];
    let deleting = Node::start("master", imp, &[&disk[..], &["--rdb-del-sync-files", "yes"]].concat());
    let keeping = Node::start("control master", imp, &disk);
    for m in [&deleting, &keeping] {
        m.ok(&["SET", "k", "v"]);
    }
    let deleting_replica = start_replica("replica", imp, &deleting, &["--rdb-del-sync-files", "yes"]);
    let keeping_replica = start_replica("control replica", imp, &keeping, &[]);
    wait_in_sync(&deleting, &deleting_replica);
    wait_in_sync(&keeping, &keeping_replica);
    crate::common::wait_for("the master to remove the RDB it synced with", SYNC_DEADLINE, || !has_dump(&deleting));
    t.note("the master with rdb-del-sync-files has a dump.rdb", has_dump(&deleting).to_string());
    t.note("the master without it has a dump.rdb", has_dump(&keeping).to_string());
    t.note("the replica with rdb-del-sync-files has a dump.rdb", has_dump(&deleting_replica).to_string());
    t.note("the replica without it has a dump.rdb", has_dump(&keeping_replica).to_string());
    t.step("GET on the replica", &mut deleting_replica.client(), &["GET", "k"]);
    t
}

#[test]
fn rdb_del_sync_files_as_real_redis() {
    let (real, ours) = both(rdb_del_sync_files_scenario);
    real.expect("the master without it has a dump.rdb", "true");
    real.expect("the replica with rdb-del-sync-files has a dump.rdb", "false");
    real.expect("the replica without it has a dump.rdb", "true");
    assert_same_answers(&real, &ours);
}

// -------------------------------------------------------------------------------------------------
// 10. A replica's INFO and ROLE during a full sync
// -------------------------------------------------------------------------------------------------

/// INFO replication fields whose values depend on time, ports or random ids: only their names
/// are compared.
const VARYING: &[&str] = &["master_port", "master_sync_last_io_seconds_ago", "master_replid"];

fn full_sync_scenario(imp: Impl) -> Transcript {
    let mut t = Transcript::default();
    // 200 keys at 20 ms each: the child takes 4 s over the RDB, which (a few KB) stays in its
    // buffer until the end, so the replica sees a transfer started and no payload byte yet.
    let master = Node::start("master", imp, &["--rdb-key-save-delay", "20000"]);
    let pairs: Vec<String> = (0..200).flat_map(|i| [format!("key:{i}"), format!("value:{i}")]).collect();
    let mut mset = vec!["MSET"];
    mset.extend(pairs.iter().map(String::as_str));
    master.ok(&mset);
    t.hide(master.port.to_string(), "<master-port>");

    let replica = start_replica("replica", imp, &master, &[]);
    wait_info(&replica, "master_sync_in_progress", "1");
    let info = replica.info("replication");
    for (name, value) in &info.fields {
        let value = if VARYING.contains(&name.as_str()) { "(varies)" } else { value.as_str() };
        t.note(&format!("replica {name}"), value);
    }
    let mut c = replica.client();
    t.parsed("ROLE of the replica", &mut c, &["ROLE"]);
    t.step("a read on the syncing replica", &mut c, &["DBSIZE"]);
    let role = master.call(&["ROLE"]);
    t.note("ROLE of the master", format!("{} replicas listed: {}", role.shape(), role.array()[2].array().len()));
    let slave0 = info_field(&master, "slave0");
    t.note("the master's slave0 state", slave0.split(',').find(|kv| kv.starts_with("state=")).unwrap_or("(none)"));
    t.note("rdb_bgsave_in_progress", master.info("persistence").get("rdb_bgsave_in_progress").unwrap_or("(absent)"));
    let to_syncing = ["FAILOVER", "TO", "127.0.0.1", &replica.port.to_string()].map(str::to_string);
    t.step("FAILOVER TO a syncing replica", &mut master.client(), &strs(&to_syncing));

    // The replica goes away: the transfer ends (Redis kills the child when its data finds no
    // replica; here, at the end, as the child writes nothing before).
    replica.kill();
    crate::common::wait_for("the master to stop the transfer", SYNC_DEADLINE, || {
        master.info("persistence").get("rdb_bgsave_in_progress") == Some("0")
    });
    t.note("connected_slaves after the replica left", info_field(&master, "connected_slaves"));
    t
}

#[test]
fn info_and_role_during_a_full_sync_as_real_redis() {
    let (real, ours) = both(full_sync_scenario);
    real.expect("replica master_sync_in_progress", "1");
    real.expect("replica master_sync_total_bytes", "-1");
    real.expect("replica master_sync_perc", "-0.00");
    real.expect("ROLE of the replica", "[\"slave\", \"127.0.0.1\", (integer) <master-port>, \"sync\", (integer) -1]");
    real.expect("the master's slave0 state", "state=wait_bgsave");
    real.expect("rdb_bgsave_in_progress", "1");
    real.expect("FAILOVER TO a syncing replica", "-ERR FAILOVER target replica is not online.\\r\\n");
    assert_same_answers(&real, &ours);
}

/// The pid in the server log's "Background RDB transfer started by pid N" line.
fn transfer_child_pid(master: &Node) -> Option<i32> {
    let log = std::fs::read_to_string(master.dir.path().join("server.log")).ok()?;
    let line = log.lines().rev().find(|l| l.contains("Background RDB transfer started by pid "))?;
    line.rsplit(' ').next()?.parse().ok()
}

/// Whether a process has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// A master that dies in a diskless transfer must not leave its child behind: the child's next
/// write finds no reader and it exits (it must not hold the pipe's reading end itself, or it
/// blocks forever once the pipe is full).
fn transfer_child_exits_with_its_master(imp: Impl) {
    // 4000 keys (some 200 KB of RDB, more than a pipe holds) at 0.5 ms each: 2 s of transfer.
    let master = Node::start("master", imp, &["--rdb-key-save-delay", "500"]);
    let value = "v".repeat(40);
    for chunk in (0..4000).collect::<Vec<u32>>().chunks(500) {
        let pairs: Vec<String> = chunk.iter().flat_map(|i| [format!("key:{i}"), format!("{value}{i}")]).collect();
        let mut mset = vec!["MSET"];
        mset.extend(pairs.iter().map(String::as_str));
        master.ok(&mset);
    }
    let replica = start_replica("replica", imp, &master, &[]);
    wait_info(&replica, "master_sync_in_progress", "1");
    let mut child = None;
    crate::common::wait_for("the transfer's child in the log", SYNC_DEADLINE, || {
        child = transfer_child_pid(&master);
        child.is_some()
    });
    let child = child.expect("a child pid");
    master.kill();
    crate::common::wait_for(
        &format!("the transfer's child {child} to exit after its master died"),
        SYNC_DEADLINE,
        || ended(child),
    );
}

#[test]
fn a_transfer_child_exits_when_its_master_dies() {
    both(transfer_child_exits_with_its_master);
}

#[test]
fn the_transcript_compare_catches_a_difference() {
    // The comparison every test above relies on must fail on a single differing byte.
    let mut a = Transcript::default();
    let mut b = Transcript::default();
    a.note("x", ":1\\r\\n");
    b.note("x", ":2\\r\\n");
    let outcome = std::panic::catch_unwind(|| assert_same_answers(&a, &b));
    assert!(outcome.is_err(), "differing transcripts compared equal");
}
