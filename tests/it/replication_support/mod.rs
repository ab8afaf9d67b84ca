//! Replication test support: nodes of either implementation (ours or Debian's real Redis 7.0) that
//! keep their data directory and port across restarts, a canonical dump of a node's whole dataset
//! and a key-by-key comparison of two dumps, waiting until a replica has caught up with its master,
//! and a seeded writer that issues writes of every type (as the replication stream must carry them).
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use crate::common::Reply;
use crate::common::{self, encode, show_bytes, Client};

/// How long a replica may take to (re)connect and catch up. Generous: the machine is shared.
pub const SYNC_DEADLINE: Duration = Duration::from_secs(30);

/// Which binary plays a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Real,
}

impl Impl {
    pub fn bin(self) -> &'static str {
        match self {
            Impl::Ours => common::OURS,
            Impl::Real => {
                assert!(
                    std::path::Path::new(common::REAL_REDIS).exists(),
                    "{} is missing: install Debian's redis-server",
                    common::REAL_REDIS
                );
                common::REAL_REDIS
            }
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Real => "real",
        }
    }
}

/// How a master sends the RDB of a full sync: streamed over the socket with an EOF marker
/// (diskless, Redis 7.0's default) or written to disk first and sent as one `$<len>` bulk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    Diskless,
    Disk,
}

impl SyncMode {
    pub fn master_args(self) -> &'static [&'static str] {
        match self {
            SyncMode::Diskless => &["--repl-diskless-sync", "yes"],
            SyncMode::Disk => &["--repl-diskless-sync", "no"],
        }
    }
}

fn send(c: &mut Client, args: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    c.send_raw(&encode(&refs));
}

fn call(c: &mut Client, args: &[&str]) -> Reply {
    Reply::parse(&c.cmd(args))
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

/// One server process of either implementation on its own temp dir and loopback port. Restarts
/// reuse both (so replicas pointed at it find it again, and persisted data is reloaded).
pub struct Node {
    pub name: String,
    pub imp: Impl,
    pub port: u16,
    pub dir: tempfile::TempDir,
    config: Option<String>,
    args: Vec<String>,
    password: Option<String>,
    /// The config's `rename-command` pairs: the harness's own commands use the new names.
    renames: Vec<(String, String)>,
    /// In a RefCell so that every operation takes `&self`: a test holds `&Node`s of a topology
    /// while a background writer borrows the master.
    child: RefCell<Option<Child>>,
}

impl Node {
    /// Starts `imp` with Redis-style options, e.g. `["--replicaof", "127.0.0.1", "1234"]`.
    pub fn start(name: &str, imp: Impl, args: &[&str]) -> Node {
        Node::launch(name, imp, None, args)
    }

    /// Starts `imp` with a config file (written into its dir, passed first, as Redis wants it) and
    /// options. A `requirepass` in either is used by `client()` to authenticate.
    pub fn start_with_config(name: &str, imp: Impl, config: &str, args: &[&str]) -> Node {
        Node::launch(name, imp, Some(config), args)
    }

    fn launch(name: &str, imp: Impl, config: Option<&str>, args: &[&str]) -> Node {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let password = password_in(config, &args);
        let renames = renames_in(config);
        let mut last_log = String::new();
        // A port taken by another process between free_port() and bind is retried on a new port.
        for _ in 0..5 {
            let node = Node {
                name: format!("{name}({})", imp.label()),
                imp,
                port: unused_port(),
                dir: tempfile::tempdir().expect("temp dir"),
                config: config.map(str::to_string),
                args: args.clone(),
                password: password.clone(),
                renames: renames.clone(),
                child: RefCell::new(None),
            };
            node.spawn();
            if node.wait_ready() {
                return node;
            }
            last_log = node.log_tail(30);
        }
        panic!("{name}({}) did not start; its last log lines:\n{last_log}", imp.label());
    }

    fn spawn(&self) {
        let dir = self.dir.path();
        let mut cmd = Command::new(self.imp.bin());
        if let Some(text) = &self.config {
            let path = dir.join("redis.conf");
            std::fs::write(&path, text).expect("write config");
            cmd.arg(path);
        }
        let port = self.port.to_string();
        cmd.args(["--port", &port, "--bind", "127.0.0.1", "--dir", dir.to_str().expect("utf-8 dir")]);
        cmd.args(["--daemonize", "no", "--logfile", "server.log", "--save", ""]);
        // Full syncs start at once instead of waiting 5 s for more replicas (7.0's default).
        cmd.args(["--repl-diskless-sync-delay", "0"]);
        // A backlog large enough for everything a test writes: whether a broken link resumes
        // partially must not depend on how fast a replica applies (ours runs as a debug build
        // under `cargo test`, the real one optimised).
        cmd.args(["--repl-backlog-size", "64mb"]);
        cmd.args(&self.args);
        // The server chdirs to --dir; starting it there too keeps every file out of the checkout.
        cmd.current_dir(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let child = common::die_with_parent(&mut cmd).spawn();
        *self.child.borrow_mut() = Some(child.unwrap_or_else(|e| panic!("spawn {}: {e}", self.imp.bin())));
    }

    /// Waits until the node answers PING with PONG (so it has loaded its data) and INFO shows our
    /// child's pid (not another process's server that got the port first). False if it exited.
    fn wait_ready(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if !self.alive() {
                return false;
            }
            if self.answers_as_our_child().unwrap_or(false) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn answers_as_our_child(&self) -> std::io::Result<bool> {
        let mut c = Client::try_connect(self.port)?;
        if let Some(p) = &self.password {
            c.send_raw(&encode(&[self.command("AUTH").as_bytes(), p.as_bytes()]));
            c.try_read_reply()?;
        }
        c.send_raw(&encode(&[self.command("PING").as_bytes()]));
        if c.try_read_reply()? != b"+PONG\r\n" {
            return Ok(false);
        }
        c.send_raw(&encode(&[self.command("INFO").as_bytes(), b"server"]));
        let info = Info::parse(&String::from_utf8_lossy(&c.try_read_reply()?));
        let pid = self.child.borrow().as_ref().map(Child::id);
        Ok(pid.is_some() && info.get("process_id").and_then(|v| v.parse().ok()) == pid)
    }

    pub fn alive(&self) -> bool {
        self.child.borrow_mut().as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Sends `sig` to the process: SIGSTOP freezes a node (a replica that cannot acknowledge),
    /// SIGCONT thaws it. A frozen node is still killed by `kill` and on drop.
    pub fn signal(&self, sig: i32) {
        if let Some(child) = self.child.borrow().as_ref() {
            common::send_signal(child.id(), sig);
        }
    }

    /// Whether the server's log has a line containing `text`.
    pub fn logged(&self, text: &str) -> bool {
        std::fs::read_to_string(self.dir.path().join("server.log")).is_ok_and(|log| log.contains(text))
    }

    /// Starts the process again on the same dir and port, with the same options.
    pub fn restart(&self) {
        self.kill();
        self.spawn();
        assert!(self.wait_ready(), "{} did not restart; its log:\n{}", self.name, self.log_tail(30));
    }

    /// Starts the process again on the same dir and port with this config file instead (the
    /// options stay), as an administrator edits redis.conf before a restart.
    pub fn restart_with_config(&mut self, config: &str) {
        self.config = Some(config.to_string());
        if let Some(p) = password_in(Some(config), &self.args) {
            self.password = Some(p);
        }
        self.renames = renames_in(Some(config));
        self.restart();
    }

    /// SIGKILL (a crash), and waits for the process to be gone.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.borrow_mut().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends a SHUTDOWN variant and waits for the process to end.
    pub fn shutdown(&self, how: &[&str]) {
        let mut c = self.client();
        let args: Vec<&[u8]> = how.iter().map(|a| a.as_bytes()).collect();
        c.send_raw(&encode(&args));
        let reply = c.try_read_reply();
        let deadline = Instant::now() + SYNC_DEADLINE;
        while self.alive() {
            assert!(Instant::now() < deadline, "{} did not exit after {how:?} (reply {reply:?})", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
        *self.child.borrow_mut() = None;
    }

    /// A connection, authenticated when the node has a requirepass.
    pub fn client(&self) -> Client {
        let mut c = Client::connect(self.port);
        if let Some(p) = &self.password {
            let r = c.cmd_str(&[&self.command("AUTH"), p]);
            assert_eq!(r, "+OK\r\n", "AUTH on {}", self.name);
        }
        c
    }

    /// One command on a fresh connection, parsed. A connection closed before the reply is tried
    /// again on a new one: a Sentinel's reconfiguration of this node ends with CLIENT KILL TYPE
    /// normal, which closes every client connection, this one too if it is open then.
    pub fn call(&self, args: &[&str]) -> Reply {
        let name = args.first().map(|a| self.command(a)).unwrap_or_default();
        let args: Vec<&[u8]> =
            std::iter::once(name.as_bytes()).chain(args.iter().skip(1).map(|a| a.as_bytes())).collect();
        for attempt in 1.. {
            let mut c = self.client();
            c.send_raw(&encode(&args));
            match c.try_read_reply() {
                Ok(bytes) => return Reply::parse(&bytes),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && attempt < 3 => continue,
                Err(e) => panic!("{} on {}: {e}", name, self.name),
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// A command that must answer +OK.
    pub fn ok(&self, args: &[&str]) {
        let r = self.call(args);
        assert_eq!(r, Reply::Status("OK".into()), "{args:?} on {}", self.name);
    }

    pub fn info(&self, section: &str) -> Info {
        Info::parse(&self.call(&["INFO", section]).text())
    }

    /// The last `n` lines of the server's log, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Name, port, INFO replication (when it answers) and the log tail: context for a failure.
    pub fn describe(&self) -> String {
        let state = if self.alive() { "running" } else { "NOT RUNNING" };
        let info = self.try_info_text().unwrap_or_else(|e| format!("(no INFO: {e})"));
        format!(
            "--- {} on port {} ({state})\n  {}\n  log tail:\n{}\n",
            self.name,
            self.port,
            info.replace("\r\n", "\n  "),
            self.log_tail(15)
        )
    }

    /// INFO replication without panicking (for failure messages about a node that may be down).
    fn try_info_text(&self) -> std::io::Result<String> {
        let mut c = Client::try_connect(self.port)?;
        if let Some(p) = &self.password {
            c.send_raw(&encode(&[self.command("AUTH").as_bytes(), p.as_bytes()]));
            c.try_read_reply()?;
        }
        c.send_raw(&encode(&[self.command("INFO").as_bytes(), b"replication"]));
        let raw = c.try_read_reply()?;
        Ok(match Reply::parse(&raw) {
            Reply::Bulk(text) => String::from_utf8_lossy(&text).into_owned(),
            other => format!("{other:?}"),
        })
    }

    /// The name `command` goes by on this node (its config may rename it).
    pub fn command(&self, command: &str) -> String {
        let renamed = self.renames.iter().find(|(old, _)| old.eq_ignore_ascii_case(command));
        renamed.map_or_else(|| command.to_string(), |(_, new)| new.clone())
    }

    /// `--replicaof`-style arguments naming this node as a master.
    pub fn replicaof_args(&self) -> [String; 3] {
        ["--replicaof".into(), "127.0.0.1".into(), self.port.to_string()]
    }

    /// `REPLICAOF 127.0.0.1 <port of master>` on this node.
    pub fn replicaof(&self, master: &Node) {
        self.ok(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port never handed to another node of this test process. Masters die and restart on
/// their port in these tests, while replicas keep reconnecting to it: a port reused by another
/// test's node would let a replica attach to the wrong server.
fn unused_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = common::free_port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

fn password_in(config: Option<&str>, args: &[String]) -> Option<String> {
    let from_args = args.windows(2).rev().find(|w| w[0] == "--requirepass").map(|w| w[1].clone());
    let from_config = config.and_then(|text| {
        text.lines().rev().find_map(|l| l.trim().strip_prefix("requirepass ").map(|v| v.trim().to_string()))
    });
    from_args.or(from_config)
}

fn renames_in(config: Option<&str>) -> Vec<(String, String)> {
    let lines = config.into_iter().flat_map(str::lines);
    lines
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            if words.next() != Some("rename-command") {
                return None;
            }
            Some((words.next()?.to_string(), words.next()?.to_string()))
        })
        .collect()
}

/// Arguments as &str, for the `Node::start` family.
pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Starts a node that replicates `master` from the start (`--replicaof`), with extra options.
pub fn start_replica(name: &str, imp: Impl, master: &Node, extra: &[&str]) -> Node {
    let mut args = master.replicaof_args().to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    Node::start(name, imp, &strs(&args))
}

// ---------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------

/// An INFO reply: its fields in order (section headers and blank lines dropped).
pub struct Info {
    pub text: String,
    pub fields: Vec<(String, String)>,
}

impl Info {
    pub fn parse(text: &str) -> Info {
        let fields = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
            .collect();
        Info { text: text.to_string(), fields }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A numeric field; panics (with the whole section) when missing.
    pub fn num(&self, name: &str) -> i64 {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no numeric {name} in INFO:\n{}", self.text))
    }
}

/// The master's full and partial resync counters (INFO stats `sync_full`, `sync_partial_ok`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncCounts {
    pub full: i64,
    pub partial_ok: i64,
}

pub fn sync_counts(master: &Node) -> SyncCounts {
    let stats = master.info("stats");
    SyncCounts { full: stats.num("sync_full"), partial_ok: stats.num("sync_partial_ok") }
}

/// Waits until `master` has served one more resync than `before` counts, and asserts it was a
/// partial one (PSYNC answered +CONTINUE from the backlog) and no full sync happened.
pub fn expect_partial_resync(master: &Node, replica: &Node, before: SyncCounts) {
    let after = wait_next_resync(master, replica, before);
    assert_eq!(
        after,
        SyncCounts { full: before.full, partial_ok: before.partial_ok + 1 },
        "{} should have served exactly one PARTIAL resync (before {before:?}, after {after:?})\n{}{}",
        master.name,
        master.describe(),
        replica.describe()
    );
}

/// Waits until `master` counts a resync (full or partial) beyond `before`, and returns the counts.
pub fn wait_next_resync(master: &Node, replica: &Node, before: SyncCounts) -> SyncCounts {
    let deadline = Instant::now() + SYNC_DEADLINE;
    loop {
        let now = sync_counts(master);
        if now.full > before.full || now.partial_ok > before.partial_ok {
            return now;
        }
        if Instant::now() > deadline {
            panic!(
                "{} served no resync to {} within {SYNC_DEADLINE:?} (counts still {now:?})\n{}{}",
                master.name,
                replica.name,
                master.describe(),
                replica.describe()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Waiting for replicas
// ---------------------------------------------------------------------------------------------

/// Waits until `replica` replicates `master` with its link up, has processed all of the master's
/// stream (its slave_repl_offset equals the master's master_repl_offset), and the master lists it
/// as online. Writes to the master must have stopped. Panics after SYNC_DEADLINE with both sides' INFO and logs.
pub fn wait_in_sync(master: &Node, replica: &Node) {
    let deadline = Instant::now() + SYNC_DEADLINE;
    let mut last = String::new();
    while Instant::now() < deadline {
        match sync_gap(master, replica) {
            Ok(()) => return,
            Err(why) => last = why,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{} not in sync with {} within {SYNC_DEADLINE:?}: {last}\n{}{}",
        replica.name,
        master.name,
        master.describe(),
        replica.describe()
    );
}

/// Ok when in sync, else why not.
fn sync_gap(master: &Node, replica: &Node) -> Result<(), String> {
    let r = replica.info("replication");
    if r.get("role") != Some("slave") {
        return Err(format!("{} has role {:?}", replica.name, r.get("role")));
    }
    if r.get("master_port") != Some(&master.port.to_string()) {
        return Err(format!("{} replicates port {:?}, not {}", replica.name, r.get("master_port"), master.port));
    }
    if r.get("master_link_status") != Some("up") {
        return Err(format!("{} master_link_status {:?}", replica.name, r.get("master_link_status")));
    }
    let m = master.info("replication");
    let master_offset = m.num("master_repl_offset");
    let replica_offset = r.num("slave_repl_offset");
    if replica_offset != master_offset {
        return Err(format!("slave_repl_offset {replica_offset} != master_repl_offset {master_offset}"));
    }
    // The master's side: it lists the replica (by its listening port) as online, which after a
    // diskless transfer takes the replica's first REPLCONF ACK.
    let port = format!("port={},", replica.port);
    let line = m.fields.iter().find(|(k, v)| k.starts_with("slave") && v.contains(&port)).map(|(_, v)| v.as_str());
    match line {
        Some(l) if l.contains("state=online") => Ok(()),
        Some(l) => Err(format!("{} lists the replica as {l}", master.name)),
        None => Err(format!("{} lists no replica with {port}", master.name)),
    }
}

/// Waits until `node`'s INFO replication field `name` has `value`.
pub fn wait_info(node: &Node, name: &str, value: &str) {
    let deadline = Instant::now() + SYNC_DEADLINE;
    while Instant::now() < deadline {
        if node.alive() && node.info("replication").get(name) == Some(value) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{}: INFO replication {name} never became {value:?}\n{}", node.name, node.describe());
}

// ---------------------------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------------------------

/// A value in canonical form: collections whose order Redis does not define are sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    /// (field, value) pairs sorted by field.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// Members sorted.
    Set(Vec<Vec<u8>>),
    /// (member, score as Redis prints it) in ZRANGE order.
    Zset(Vec<(Vec<u8>, Vec<u8>)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub value: Value,
    /// PEXPIRETIME: the absolute unix time in ms (Redis 7.0 propagates expires as absolute times,
    /// and an RDB carries them so, so master and replica agree to the millisecond).
    pub expire_at_ms: Option<i64>,
}

/// Every key of every database of a node, with the wall-clock span the dump took (to tell a key
/// that expired between two dumps from a lost one).
pub struct Dataset {
    pub node: String,
    pub entries: BTreeMap<(u32, Vec<u8>), Entry>,
    pub started_ms: i64,
    pub finished_ms: i64,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys per database, e.g. "db0=1234 db1=800".
    pub fn summary(&self) -> String {
        let mut per_db: BTreeMap<u32, usize> = BTreeMap::new();
        for (db, _) in self.entries.keys() {
            *per_db.entry(*db).or_default() += 1;
        }
        per_db.iter().map(|(db, n)| format!("db{db}={n}")).collect::<Vec<_>>().join(" ")
    }

    pub fn dbs(&self) -> Vec<u32> {
        let mut dbs: Vec<u32> = self.entries.keys().map(|(db, _)| *db).collect();
        dbs.dedup();
        dbs
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

/// Keys read per pipelined batch.
const DUMP_BATCH: &str = "500";

/// Dumps every key of every database of `node` (SCAN, TYPE, PEXPIRETIME and a type-specific
/// read, pipelined per SCAN batch). Writes must have stopped; a key that vanishes between its
/// TYPE and its read must have had an expire time (it expired meanwhile), else the dump panics.
pub fn dataset(node: &Node) -> Dataset {
    let mut c = node.client();
    let databases = call(&mut c, &["CONFIG", "GET", "databases"]);
    let databases: u32 = databases.array()[1].text().parse().expect("databases is a number");
    let started_ms = now_ms();
    let mut entries = BTreeMap::new();
    for db in 0..databases {
        assert_eq!(call(&mut c, &["SELECT", &db.to_string()]), Reply::Status("OK".into()), "SELECT {db}");
        let mut cursor = "0".to_string();
        loop {
            let reply = call(&mut c, &["SCAN", &cursor, "COUNT", DUMP_BATCH]);
            let parts = reply.array();
            cursor = parts[0].text();
            let keys: Vec<Vec<u8>> = parts[1].array().iter().map(|k| k.bulk().expect("key").to_vec()).collect();
            for (key, entry) in dump_keys(&mut c, &node.name, db, &keys) {
                entries.insert((db, key), entry);
            }
            if cursor == "0" {
                break;
            }
        }
    }
    Dataset { node: node.name.clone(), entries, started_ms, finished_ms: now_ms() }
}

fn dump_keys(c: &mut Client, node: &str, db: u32, keys: &[Vec<u8>]) -> Vec<(Vec<u8>, Entry)> {
    for k in keys {
        send(c, &[b"TYPE".to_vec(), k.clone()]);
        send(c, &[b"PEXPIRETIME".to_vec(), k.clone()]);
    }
    let mut kinds = Vec::with_capacity(keys.len());
    for _ in keys {
        let kind = Reply::parse(&c.read_reply()).text();
        let expire = Reply::parse(&c.read_reply()).int();
        kinds.push((kind, expire));
    }
    for (k, (kind, _)) in keys.iter().zip(&kinds) {
        send(c, &read_command(kind, k));
    }
    let mut out = Vec::with_capacity(keys.len());
    for (k, (kind, expire)) in keys.iter().zip(kinds) {
        let reply = Reply::parse(&c.read_reply());
        let value = canonical(&kind, reply);
        match value {
            Some(value) => out.push((k.clone(), Entry { value, expire_at_ms: (expire >= 0).then_some(expire) })),
            None => assert!(
                expire != -1,
                "{node}: db {db} key {} (type {kind}, no expire) vanished during the dump: were writes still running?",
                show_bytes(k, 200)
            ),
        }
    }
    out
}

/// The command that reads a whole value of `kind`. A key gone meanwhile ("none") is read with
/// GET, whose nil reply marks it gone.
fn read_command(kind: &str, key: &[u8]) -> Vec<Vec<u8>> {
    let args: &[&str] = match kind {
        "string" | "none" => &["GET"],
        "list" => &["LRANGE", "", "0", "-1"],
        "hash" => &["HGETALL"],
        "set" => &["SMEMBERS"],
        "zset" => &["ZRANGE", "", "0", "-1", "WITHSCORES"],
        other => panic!("unexpected key type {other:?} in a replication test (the writer makes none)"),
    };
    let mut cmd: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    if cmd.len() == 1 {
        cmd.push(key.to_vec());
    } else {
        cmd[1] = key.to_vec();
    }
    cmd
}

/// None when the key turned out gone (nil or an empty collection).
fn canonical(kind: &str, reply: Reply) -> Option<Value> {
    if reply.is_error() {
        panic!("reading a {kind}: {reply:?}");
    }
    if reply.is_null() || matches!(&reply, Reply::Array(a) if a.is_empty()) {
        return None;
    }
    let items = || -> Vec<Vec<u8>> { reply.array().iter().map(|r| r.bulk().expect("element").to_vec()).collect() };
    let pairs =
        |v: Vec<Vec<u8>>| -> Vec<(Vec<u8>, Vec<u8>)> { v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect() };
    Some(match kind {
        "string" | "none" => Value::String(reply.bulk()?.to_vec()),
        "list" => Value::List(items()),
        "hash" => {
            let mut p = pairs(items());
            p.sort();
            Value::Hash(p)
        }
        "set" => {
            let mut m = items();
            m.sort();
            Value::Set(m)
        }
        "zset" => Value::Zset(pairs(items())),
        other => panic!("unexpected key type {other:?}"),
    })
}

/// Slack on "expired between the two dumps": a server's expiry check and our clock reading are
/// not the same instant.
const EXPIRY_SLACK_MS: i64 = 50;

/// Asserts two dumps hold the same keys with the same values and expire times. A key on one side
/// only is tolerated when its expire time had passed by the end of the later dump (it expired
/// between the two). Reports the first differing keys and the per-db counts.
pub fn assert_same_dataset(a: &Dataset, b: &Dataset) {
    let expired_by = a.finished_ms.max(b.finished_ms) + EXPIRY_SLACK_MS;
    let mut diffs = Vec::new();
    let mut count = 0;
    let keys: std::collections::BTreeSet<&(u32, Vec<u8>)> = a.entries.keys().chain(b.entries.keys()).collect();
    for key in keys {
        let (ea, eb) = (a.entries.get(key), b.entries.get(key));
        let differs = match (ea, eb) {
            (Some(x), Some(y)) => x != y,
            (Some(only), None) | (None, Some(only)) => only.expire_at_ms.is_none_or(|t| t > expired_by),
            (None, None) => false,
        };
        if differs {
            count += 1;
            if diffs.len() < 10 {
                diffs.push(format!(
                    "  db {} key \"{}\":\n    {}: {}\n    {}: {}",
                    key.0,
                    show_bytes(&key.1, 200),
                    a.node,
                    describe_entry(ea),
                    b.node,
                    describe_entry(eb)
                ));
            }
        }
    }
    assert!(
        count == 0,
        "datasets differ in {count} keys ({}: {} keys [{}], {}: {} keys [{}]); the first:\n{}",
        a.node,
        a.len(),
        a.summary(),
        b.node,
        b.len(),
        b.summary(),
        diffs.join("\n")
    );
}

fn describe_entry(e: Option<&Entry>) -> String {
    let Some(e) = e else { return "<missing>".into() };
    let expire = match e.expire_at_ms {
        Some(t) => format!("expires at {t} ms (in {} ms)", t - now_ms()),
        None => "no expire".into(),
    };
    let value = match &e.value {
        Value::String(s) => format!("string \"{}\"", show_bytes(s, 200)),
        Value::List(v) => format!("list of {} {}", v.len(), preview(v.iter().map(|x| show_bytes(x, 200)))),
        Value::Hash(v) => {
            format!(
                "hash of {} {}",
                v.len(),
                preview(v.iter().map(|(f, x)| format!("{}={}", show_bytes(f, 200), show_bytes(x, 200))))
            )
        }
        Value::Set(v) => format!("set of {} {}", v.len(), preview(v.iter().map(|x| show_bytes(x, 200)))),
        Value::Zset(v) => {
            format!(
                "zset of {} {}",
                v.len(),
                preview(v.iter().map(|(m, s)| format!("{}:{}", show_bytes(m, 200), show_bytes(s, 200))))
            )
        }
    };
    format!("{value}, {expire}")
}

fn preview(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    let head = v.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    if v.len() > 8 {
        format!("[{head}, ...]")
    } else {
        format!("[{head}]")
    }
}

/// Dumps both nodes and compares them.
pub fn assert_nodes_same(a: &Node, b: &Node) {
    let (da, db) = (dataset(a), dataset(b));
    let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| assert_same_dataset(&da, &db)));
    if let Err(e) = compared {
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        panic!("{msg}\n{}{}", a.describe(), b.describe());
    }
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/// Databases the writer and the preload use (SELECT 0..3).
pub const WRITE_DBS: u32 = 4;
/// Keys per type and database the writer picks from; the preload fills the same names.
const KEY_SPACE: u32 = 250;

/// Key families: one type each, so a write never meets a key of the wrong type (a WRONGTYPE
/// error would be a writer bug, and would hide a missing write).
const STRINGS: &str = "s";
const FLOATS: &str = "f";
const LISTS: &str = "l";
const HASHES: &str = "h";
const SETS: &str = "set";
const ZSETS: &str = "z";
/// Strings with TTLs of a few hundred ms: they expire while the test runs, on the master by its
/// expiry (propagated as DEL) and on the replica as read-time invisibility.
const VOLATILE: &str = "tmp";
const FAMILIES: [&str; 7] = [STRINGS, FLOATS, LISTS, HASHES, SETS, ZSETS, VOLATILE];

/// Fills databases 0..WRITE_DBS with `per_type` keys of each type (a few big ones among them, so
/// both compact and large encodings travel in the RDB), some with long expire times.
pub fn preload(node: &Node, seed: u64, per_type: u32) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut c = node.client();
    for db in 0..WRITE_DBS {
        let mut batch: Vec<Vec<Vec<u8>>> = vec![args(&["SELECT", &db.to_string()])];
        for i in 0..per_type {
            let big = i % 25 == 0;
            batch.extend(preload_key(&mut rng, i, big));
            if i % 7 == 0 {
                for family in [STRINGS, LISTS, HASHES, SETS, ZSETS] {
                    let secs = rng.u32(1000..100_000).to_string();
                    batch.push(args(&["EXPIRE", &format!("{family}:{i}"), &secs]));
                }
            }
        }
        run_batch(&mut c, &node.name, &batch);
    }
}

fn preload_key(rng: &mut fastrand::Rng, i: u32, big: bool) -> Vec<Vec<Vec<u8>>> {
    let n = if big { 300 } else { rng.usize(1..8) };
    let mut out = Vec::new();
    let string = if big { vec![b'x'; 20_000] } else { value(rng) };
    out.push(vec![b"SET".to_vec(), format!("{STRINGS}:{i}").into_bytes(), string]);
    out.push(args(&["SET", &format!("{FLOATS}:{i}"), &float(rng)]));
    let mut list = args(&["RPUSH", &format!("{LISTS}:{i}")]);
    list.extend((0..n).map(|_| value(rng)));
    out.push(list);
    let mut hash = args(&["HSET", &format!("{HASHES}:{i}")]);
    for j in 0..n {
        hash.push(format!("f{j}").into_bytes());
        hash.push(value(rng));
    }
    hash.extend(args(&["n0", &float(rng)]));
    out.push(hash);
    let mut set = args(&["SADD", &format!("{SETS}:{i}")]);
    // Even keys hold integers only (an intset when small), odd ones strings.
    set.extend((0..n).map(|_| if i % 2 == 0 { rng.i64(-1000..100_000).to_string().into_bytes() } else { member(rng) }));
    out.push(set);
    let mut zset = args(&["ZADD", &format!("{ZSETS}:{i}")]);
    for _ in 0..n {
        zset.push(score(rng).into_bytes());
        zset.push(member(rng));
    }
    out.push(zset);
    out
}

/// Sends commands pipelined and checks every reply is not an error.
fn run_batch(c: &mut Client, node: &str, batch: &[Vec<Vec<u8>>]) {
    for cmd in batch {
        send(c, cmd);
    }
    for cmd in batch {
        let reply = Reply::parse(&c.read_reply());
        if reply.is_error() {
            panic!("{node}: {} -> {reply:?}", show_cmd(cmd));
        }
    }
}

fn args(a: &[&str]) -> Vec<Vec<u8>> {
    a.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn show_cmd(cmd: &[Vec<u8>]) -> String {
    cmd.iter().map(|a| show_bytes(a, 200)).collect::<Vec<_>>().join(" ")
}

/// A value: mostly short text, sometimes binary (NUL, CR LF, high bytes), an integer, or long.
fn value(rng: &mut fastrand::Rng) -> Vec<u8> {
    match rng.u8(0..10) {
        0 => (0..rng.usize(1..40)).map(|_| rng.u8(..)).collect(),
        1 => rng.i64(..).to_string().into_bytes(),
        2 => "v".repeat(rng.usize(50..3000)).into_bytes(),
        _ => format!("v{}", rng.u32(0..100_000)).into_bytes(),
    }
}

fn member(rng: &mut fastrand::Rng) -> Vec<u8> {
    match rng.u8(0..4) {
        0 => rng.u32(0..50).to_string().into_bytes(),
        _ => format!("m{}", rng.u32(0..50)).into_bytes(),
    }
}

/// A finite score with an exact short decimal form.
fn score(rng: &mut fastrand::Rng) -> String {
    (rng.i32(-4000..4000) as f64 / 8.0).to_string()
}

fn float(rng: &mut fastrand::Rng) -> String {
    format!("{}.{}", rng.i32(-100..100), rng.u32(0..1000))
}

/// Writes of every type, driven by a seeded RNG, on one connection to a master.
pub struct Writer {
    rng: fastrand::Rng,
    client: Client,
    node: String,
    db: u32,
    pub commands: u64,
}

impl Writer {
    pub fn new(node: &Node, seed: u64) -> Writer {
        Writer {
            rng: fastrand::Rng::with_seed(seed),
            client: node.client(),
            node: node.name.clone(),
            db: 0,
            commands: 0,
        }
    }

    /// Issues `n` write steps (a step is one command, or one MULTI/EXEC block).
    pub fn run(&mut self, n: usize) {
        for _ in 0..n {
            self.step();
        }
    }

    /// Sends `first` and then `n` write commands in ONE pipelined buffer, and returns `first`'s
    /// reply. Redis runs what one read of the socket brought before it serves any other client:
    /// with `first` = `CLIENT KILL TYPE replica`, the writes that follow are made while the
    /// replica is certainly disconnected, and can only reach it through the backlog.
    pub fn pipeline_after(&mut self, first: &[&str], n: usize) -> Reply {
        let mut cmds = vec![args(first)];
        cmds.extend((0..n).map(|_| self.command()));
        let mut buf = Vec::new();
        for cmd in &cmds {
            let refs: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
            buf.extend(encode(&refs));
        }
        self.client.send_raw(&buf);
        let first_reply = Reply::parse(&self.client.read_reply());
        for cmd in &cmds[1..] {
            let reply = Reply::parse(&self.client.read_reply());
            self.check(cmd, &reply);
        }
        self.commands += cmds.len() as u64;
        first_reply
    }

    fn step(&mut self) {
        match self.rng.u8(0..40) {
            0 => {
                let db = self.rng.u32(0..WRITE_DBS);
                self.exec(args(&["SELECT", &db.to_string()]));
                self.db = db;
            }
            1 | 2 => self.transaction(),
            _ => {
                let cmd = self.command();
                self.exec(cmd);
            }
        }
    }

    /// MULTI, 2 to 5 writes, EXEC: the block must reach replicas as one unit.
    fn transaction(&mut self) {
        let mut c = vec![args(&["MULTI"])];
        for _ in 0..self.rng.usize(2..6) {
            c.push(self.command());
        }
        c.push(args(&["EXEC"]));
        for cmd in &c {
            send(&mut self.client, cmd);
        }
        for cmd in &c {
            let reply = Reply::parse(&self.client.read_reply());
            match reply {
                Reply::Array(results) => results.iter().for_each(|r| self.check(cmd, r)),
                other => self.check(cmd, &other),
            }
        }
        self.commands += c.len() as u64;
    }

    fn exec(&mut self, cmd: Vec<Vec<u8>>) {
        send(&mut self.client, &cmd);
        let reply = Reply::parse(&self.client.read_reply());
        self.check(&cmd, &reply);
        self.commands += 1;
    }

    /// Every reply but RENAME's "no such key" means a bug in the writer or the server.
    fn check(&self, cmd: &[Vec<u8>], reply: &Reply) {
        if let Reply::Error(e) = reply {
            assert!(e == b"ERR no such key", "{} (db {}): {} -> {reply:?}", self.node, self.db, show_cmd(cmd));
        }
    }

    fn key(&mut self, family: &str) -> String {
        format!("{family}:{}", self.rng.u32(0..KEY_SPACE))
    }

    /// One random write command (never SELECT or MULTI).
    fn command(&mut self) -> Vec<Vec<u8>> {
        match self.rng.u8(0..10) {
            0 | 1 => self.string_command(),
            2 => self.list_command(),
            3 => self.hash_command(),
            4 => self.set_command(),
            5 => self.zset_command(),
            6 | 7 => self.generic_command(),
            8 => self.volatile_command(),
            _ => self.float_command(),
        }
    }

    fn string_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key(STRINGS);
        let v = value(&mut self.rng);
        let mut cmd = match self.rng.u8(0..4) {
            0 => args(&["APPEND", &k]),
            1 => args(&["SETRANGE", &k, &self.rng.u32(0..30).to_string()]),
            2 => args(&["GETSET", &k]),
            _ => args(&["SET", &k]),
        };
        cmd.push(v);
        if cmd[0] == b"SET" {
            match self.rng.u8(0..4) {
                0 => cmd.extend(args(&["EX", &self.rng.u32(100..10_000).to_string()])),
                1 => cmd.extend(args(&["PX", &self.rng.u32(100_000..10_000_000).to_string()])),
                // Keeps the expire time a previous SET EX/PX or EXPIRE gave the key.
                2 => cmd.extend(args(&["KEEPTTL"])),
                _ => {}
            }
        }
        cmd
    }

    fn float_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key(FLOATS);
        let by = float(&mut self.rng);
        args(&["INCRBYFLOAT", &k, &by])
    }

    fn list_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key(LISTS);
        match self.rng.u8(0..5) {
            0 | 1 => {
                let mut cmd = args(&[if self.rng.bool() { "LPUSH" } else { "RPUSH" }, &k]);
                for _ in 0..self.rng.usize(1..5) {
                    cmd.push(value(&mut self.rng));
                }
                cmd
            }
            2 => args(&[if self.rng.bool() { "RPOP" } else { "LPOP" }, &k]),
            3 => {
                let dst = self.key(LISTS);
                let side = |rng: &mut fastrand::Rng| if rng.bool() { "LEFT" } else { "RIGHT" };
                let (from, to) = (side(&mut self.rng), side(&mut self.rng));
                args(&["LMOVE", &k, &dst, from, to])
            }
            _ => args(&["LTRIM", &k, &self.rng.i32(0..3).to_string(), &self.rng.i32(-3..20).to_string()]),
        }
    }

    fn hash_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key(HASHES);
        match self.rng.u8(0..4) {
            0 | 1 => {
                let mut cmd = args(&["HSET", &k]);
                for _ in 0..self.rng.usize(1..4) {
                    cmd.push(format!("f{}", self.rng.u32(0..20)).into_bytes());
                    cmd.push(value(&mut self.rng));
                }
                cmd
            }
            2 => {
                // f* and n* fields alike: HINCRBYFLOAT then starts a fresh n* field.
                let field = format!("{}{}", if self.rng.bool() { "f" } else { "n" }, self.rng.u32(0..20));
                args(&["HDEL", &k, &field])
            }
            _ => args(&["HINCRBYFLOAT", &k, &format!("n{}", self.rng.u32(0..3)), &float(&mut self.rng)]),
        }
    }

    fn set_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key(SETS);
        match self.rng.u8(0..5) {
            0 | 1 => {
                let mut cmd = args(&["SADD", &k]);
                for _ in 0..self.rng.usize(1..5) {
                    cmd.push(member(&mut self.rng));
                }
                cmd
            }
            2 => {
                let m = member(&mut self.rng);
                vec![b"SREM".to_vec(), k.into_bytes(), m]
            }
            // SPOP picks at random: only its effect (SREM) can replicate faithfully.
            3 => match self.rng.bool() {
                true => args(&["SPOP", &k]),
                false => args(&["SPOP", &k, &self.rng.u32(1..4).to_string()]),
            },
            _ => {
                let dst = self.key(SETS);
                let m = member(&mut self.rng);
                vec![b"SMOVE".to_vec(), k.into_bytes(), dst.into_bytes(), m]
            }
        }
    }

    fn zset_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key(ZSETS);
        match self.rng.u8(0..5) {
            0 | 1 => {
                let mut cmd = args(&["ZADD", &k]);
                for _ in 0..self.rng.usize(1..4) {
                    cmd.push(score(&mut self.rng).into_bytes());
                    cmd.push(member(&mut self.rng));
                }
                cmd
            }
            2 => {
                let by = score(&mut self.rng);
                let m = member(&mut self.rng);
                vec![b"ZINCRBY".to_vec(), k.into_bytes(), by.into_bytes(), m]
            }
            3 => args(&["ZPOPMIN", &k, &self.rng.u32(1..3).to_string()]),
            _ => {
                let src = self.key(ZSETS);
                args(&["ZRANGESTORE", &k, &src, "0", &self.rng.u32(0..10).to_string()])
            }
        }
    }

    /// Commands on keys of any type: expires, deletes, renames and copies within a family (so
    /// types never mix), COPY also into another database.
    fn generic_command(&mut self) -> Vec<Vec<u8>> {
        let family = FAMILIES[self.rng.usize(0..FAMILIES.len() - 1)];
        let k = self.key(family);
        match self.rng.u8(0..7) {
            0 => args(&["EXPIRE", &k, &self.rng.u32(100..100_000).to_string()]),
            1 => args(&["PERSIST", &k]),
            2 => args(&["DEL", &k]),
            3 => {
                let dst = self.key(family);
                args(&["RENAME", &k, &dst])
            }
            4 => {
                // COPY onto itself is an error (RENAME onto itself is not).
                let mut dst = self.key(family);
                while dst == k {
                    dst = self.key(family);
                }
                let mut cmd = args(&["COPY", &k, &dst]);
                if self.rng.bool() {
                    cmd.extend(args(&["DB", &self.rng.u32(0..WRITE_DBS).to_string()]));
                }
                if self.rng.bool() {
                    cmd.extend(args(&["REPLACE"]));
                }
                cmd
            }
            // A short expire on a real key: it goes while the test runs.
            5 => args(&["PEXPIRE", &k, &self.rng.u32(1..400).to_string()]),
            _ => args(&["PEXPIREAT", &k, &(now_ms() + self.rng.i64(100_000..1_000_000)).to_string()]),
        }
    }

    fn volatile_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key(VOLATILE);
        let v = value(&mut self.rng);
        let mut cmd = vec![b"SET".to_vec(), k.into_bytes(), v];
        cmd.extend(args(&["PX", &self.rng.u32(1..500).to_string()]));
        cmd
    }
}

/// Progress of a background writer, for the foreground to wait on.
pub struct Progress {
    commands: AtomicU64,
    stop: AtomicBool,
    failed: AtomicBool,
}

impl Progress {
    pub fn commands(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }

    /// Waits until the writer has issued `n` more commands than now.
    pub fn wait_more(&self, n: u64) {
        let target = self.commands() + n;
        let deadline = Instant::now() + SYNC_DEADLINE;
        while self.commands() < target {
            assert!(!self.failed.load(Ordering::Relaxed), "the background writer failed (its panic is above)");
            assert!(Instant::now() < deadline, "the background writer made no progress within {SYNC_DEADLINE:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Sets `failed` if the writer thread unwinds, so the foreground stops waiting for it.
struct FailFlag<'a>(&'a AtomicBool);

impl Drop for FailFlag<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Runs `during` while a writer (seeded with `seed`) writes to `master` in the background; the
/// writer stops when `during` returns, after at least `min_steps` steps. Returns what `during`
/// returned and the number of commands written.
pub fn with_writes<T>(master: &Node, seed: u64, min_steps: u64, during: impl FnOnce(&Progress) -> T) -> (T, u64) {
    let progress =
        Progress { commands: AtomicU64::new(0), stop: AtomicBool::new(false), failed: AtomicBool::new(false) };
    let mut writer = Writer::new(master, seed);
    std::thread::scope(|s| {
        let progress = &progress;
        let handle = s.spawn(move || {
            let _flag = FailFlag(&progress.failed);
            let mut steps = 0;
            while steps < min_steps || !progress.stop.load(Ordering::Relaxed) {
                writer.step();
                steps += 1;
                progress.commands.store(writer.commands, Ordering::Relaxed);
            }
            writer.commands
        });
        // Stops the writer however `during` ends: a panic in it must not leave the scope waiting.
        let _stop = StopOnDrop(&progress.stop);
        let out = during(progress);
        progress.stop.store(true, Ordering::Relaxed);
        let commands = handle.join().expect("the background writer panicked (its message is above)");
        (out, commands)
    })
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
