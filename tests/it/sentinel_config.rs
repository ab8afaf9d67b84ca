//! sentinel.conf against Debian's real redis-sentinel 7.0.15: the same statements are refused
//! with the same line and message, the same files give the expected state, our rewrite keeps the
//! admin's lines and is read back by the real Sentinel as the state we wrote.

use crate::common::*;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use redis_rs::config::document::ConfigDocument;
use redis_rs::config::Config;
use redis_rs::sentinel::config::{parse_text, rewrite};
use redis_rs::sentinel::{CommandRename, KnownReplica, KnownSentinel, MasterConfig, SentinelConfig};

const REAL_SENTINEL: &str = "/usr/bin/redis-sentinel";
const STOCK: &str = "/etc/redis/sentinel.conf";
const M: &str = "sentinel monitor mymaster 127.0.0.1 6379 2\n";
const ID_A: &str = "4cb6430ba8fce5f67cb140ffd009e135989b6c42";
const ID_B: &str = "63329de1aba3143671cb886325b4a52e7bf808bd";
const MYID: &str = "38e93c2aae7c867d4ad1d71587ffdf70a316dd1c";

fn stock() -> String {
    std::fs::read_to_string(STOCK)
        .unwrap_or_else(|e| panic!("{STOCK}: {e} (install Debian's redis-sentinel; the tests run as root)"))
}

fn real_sentinel_installed() {
    assert!(Path::new(REAL_SENTINEL).exists(), "{REAL_SENTINEL} is missing: install Debian's redis-sentinel");
}

/// What a Sentinel makes of a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Refused { line_no: usize, line: String, reason: String },
}

/// Our verdict: the server's loader for the regular lines first, then the sentinel statements,
/// as Redis applies them after reading the whole file.
fn our_verdict(text: &str) -> (Verdict, Option<String>) {
    let result = Config::validate(text).and_then(|_| parse_text(text));
    match result {
        Ok(_) => (Verdict::Accepted, None),
        Err(e) => (
            Verdict::Refused { line_no: e.line_no, line: e.line.clone(), reason: e.reason.clone() },
            Some(e.to_string()),
        ),
    }
}

/// Runs the real redis-sentinel on `text` without letting it listen (`--port 0`): it reads the
/// whole config, then either prints the fatal error block or says it has nowhere to listen.
fn real_verdict(text: &str) -> (Verdict, String) {
    real_sentinel_installed();
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("sentinel.conf");
    std::fs::write(&conf, text).expect("write config");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let mut cmd = Command::new(REAL_SENTINEL);
    cmd.arg(&conf)
        .args(["--port", "0", "--daemonize", "no", "--logfile", "", "--pidfile", ""])
        .arg("--dir")
        .arg(dir.path())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    let mut child = die_with_parent(&mut cmd).spawn().expect("start redis-sentinel");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("redis-sentinel did not exit on {text:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let stdout = std::fs::read_to_string(&out_path).expect("read stdout");
    let stderr = std::fs::read_to_string(&err_path).expect("read stderr");
    (parse_real_output(text, &stdout, &stderr), stderr)
}

fn parse_real_output(text: &str, stdout: &str, stderr: &str) -> Verdict {
    const HEAD: &str = "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n";
    let Some(at) = stderr.find(HEAD) else {
        assert!(
            stdout.contains("Configured to not listen anywhere"),
            "redis-sentinel neither refused nor accepted {text:?}: {stdout}{stderr}"
        );
        return Verdict::Accepted;
    };
    let mut lines = stderr[at + HEAD.len()..].split('\n');
    let line_no = lines
        .next()
        .and_then(|l| l.strip_prefix("Reading the configuration file, at line "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line number in {stderr}"));
    let line = lines
        .next()
        .and_then(|l| l.strip_prefix(">>> '"))
        .and_then(|l| l.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no quoted line in {stderr}"));
    let reason = lines.next().unwrap_or_else(|| panic!("no reason in {stderr}"));
    Verdict::Refused { line_no, line: line.to_string(), reason: reason.to_string() }
}

/// A temp dir holding an executable script and a file that is not executable.
struct Scripts {
    _dir: tempfile::TempDir,
    exec: String,
    noexec: String,
}

impl Scripts {
    fn new() -> Scripts {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let exec = dir.path().join("notify.sh");
        let noexec = dir.path().join("plain.txt");
        std::fs::write(&exec, "#!/bin/sh\nexit 0\n").expect("write script");
        std::fs::write(&noexec, "not a script\n").expect("write file");
        std::fs::set_permissions(&exec, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let show = |p: PathBuf| p.display().to_string();
        Scripts { exec: show(exec), noexec: show(noexec), _dir: dir }
    }
}

fn refused_cases(s: &Scripts) -> Vec<String> {
    let stock = stock();
    let long_id = "a".repeat(41);
    let mut cases: Vec<String> = [
        "sentinel monitor x\n",
        "sentinel monitor m 127.0.0.1 6379 0\n",
        "sentinel monitor m 127.0.0.1 6379 abc\n",
        "sentinel monitor m 127.0.0.1 6379 -99999999999999999999\n",
        "sentinel monitor m 127.0.0.1 70000 2\n",
        "sentinel monitor m 127.0.0.1 99999999999 2\n",
        "sentinel monitor m 127.0.0.1 -1 2\n",
        "sentinel monitor m localhost 6379 2\n",
        "sentinel monitor m 1.2.3.4.5 6379 2\n",
        "sentinel monitor m \"\" 6379 2\n",
        "sentinel monitor m \" 127.0.0.1\" 6379 2\n",
        "sentinel monitor m 127.0.0.1 6379 2 extra\n",
        "sentinel monitor m '127.0.0.1 6379 2\n",
        "  sentinel   monitor m 127.0.0.1  6379 0  \r\n",
        "# comment\n\nport 26379\nsentinel monitor m 127.0.0.1 6379 2\r\nsentinel myid x\r\n",
        // The passes: a global statement's error comes first, then a monitor line's.
        "sentinel known-replica m 127.0.0.1 6380\nsentinel myid abc\nsentinel monitor m 127.0.0.1 6379 0\n",
        "sentinel known-replica m 127.0.0.1 6380\nsentinel monitor m 127.0.0.1 6379 0\n",
        "sentinel known-replica m 127.0.0.1 6380\nsentinel monitor m 127.0.0.1 6379 2\nsentinel monitor m 127.0.0.1 6379 2\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for tail in [
        "sentinel monitor mymaster 127.0.0.2 6379 2\n".to_string(),
        "sentinel down-after-milliseconds mymaster 0\n".into(),
        "sentinel down-after-milliseconds mymaster abc\n".into(),
        "sentinel down-after-milliseconds mymaster -5\n".into(),
        "sentinel down-after-milliseconds other 1000\n".into(),
        "SENTINEL Down-After-Milliseconds MyMaster 1000\n".into(),
        "sentinel failover-timeout mymaster -1\n".into(),
        "sentinel failover-timeout mymaster 0\n".into(),
        "sentinel master-reboot-down-after-period mymaster -1\n".into(),
        "sentinel notification-script mymaster /nonexistent/notify.sh\n".into(),
        format!("sentinel notification-script mymaster {}\n", s.noexec),
        format!("sentinel client-reconfig-script mymaster {}\n", s.noexec),
        format!("sentinel client-reconfig-script other {}\n", s.exec),
        "sentinel myid abc\n".into(),
        format!("sentinel myid {long_id}\n"),
        "sentinel deny-scripts-reconfig maybe\n".into(),
        "sentinel resolve-hostnames 1\n".into(),
        "sentinel announce-hostnames maybe\n".into(),
        "sentinel known-replica mymaster 127.0.0.1 6380\nsentinel known-replica mymaster 127.0.0.1 6380\n".into(),
        "sentinel known-replica mymaster 127.0.0.1 6380\nsentinel known-slave mymaster 127.0.0.1 6380\n".into(),
        "sentinel known-slave mymaster localhost 6380\n".into(),
        "sentinel known-replica mymaster 127.0.0.1 65536\n".into(),
        "sentinel known-replica nosuch 127.0.0.1 6380\n".into(),
        format!(
            "sentinel known-sentinel mymaster 127.0.0.1 26380 {ID_A}\nsentinel known-sentinel mymaster 127.0.0.2 26381 {ID_A}\n"
        ),
        "sentinel known-sentinel mymaster 127.0.0.1 99999 x\n".into(),
        "sentinel known-sentinel mymaster localhost 26380 x\n".into(),
        "sentinel known-sentinel nosuch 127.0.0.1 26380 x\n".into(),
        "sentinel rename-command mymaster CONFIG c1\nsentinel rename-command mymaster config c2\n".into(),
        "sentinel rename-command nosuch CONFIG c1\n".into(),
        "sentinel frobnicate mymaster 1\n".into(),
        "sentinel frobnicate\n".into(),
        "sentinel current-epoch\n".into(),
        "sentinel auth-pass mymaster\n".into(),
        "sentinel announce-ip a b\n".into(),
        "sentinel known-replica mymaster 127.0.0.1\n".into(),
        "sentinel resolve-hostnames yes\nsentinel known-replica mymaster localhost 6380\nsentinel known-replica mymaster 127.0.0.1 6380\n".into(),
    ] {
        cases.push(format!("{M}{tail}"));
    }
    // Debian's file with one bad line added.
    for bad in [
        "sentinel monitor other 127.0.0.1 6379 0",
        "sentinel down-after-milliseconds mymaster abc",
        "sentinel monitor x",
        "sentinel frobnicate mymaster 1",
    ] {
        cases.push(format!("{stock}{bad}\n"));
    }
    cases
}

fn accepted_cases(s: &Scripts) -> Vec<String> {
    let mut cases: Vec<String> = [
        "sentinel\n",
        "sentinel monitor m 127.0.0.1 6379 4294967297\n",
        "sentinel monitor m 127.0.0.1 abc 2\n",
        "sentinel monitor m 127.1 6379 2\n",
        "sentinel monitor m 0x7f.1 6379 2\n",
        "sentinel monitor m ::1 6379 2\n",
        "sentinel monitor m fe80::1%lo 6379 2\n",
        "sentinel monitor \"\" 127.0.0.1 6379 2\n",
        "sentinel down-after-milliseconds m 100\nsentinel monitor m 127.0.0.1 6379 2\n",
        "sentinel current-epoch -1\nsentinel announce-port -7\nsentinel announce-ip \"\"\nsentinel sentinel-user \"\"\n",
        "sentinel resolve-hostnames yes\nsentinel monitor m no-such-host.invalid 6379 2\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for tail in [
        "sentinel monitor MyMaster 127.0.0.1 6379 2\n".to_string(),
        "sentinel parallel-syncs mymaster -5\nsentinel parallel-syncs mymaster abc\n".into(),
        "sentinel known-replica mymaster 127.0.0.1 6379\n".into(),
        "sentinel known-replica mymaster 127.0.0.1 6380\nsentinel known-replica mymaster 127.0.0.2 6380\n".into(),
        "sentinel known-sentinel mymaster 127.0.0.1 26380\nsentinel known-sentinel nosuch 127.0.0.1 26380\n".into(),
        "sentinel known-sentinel mymaster 127.0.0.1 26380 abc\nsentinel known-sentinel mymaster 127.0.0.1 26380 abd\n"
            .into(),
        format!("sentinel known-sentinel mymaster 127.0.0.1 26380 {MYID}\nsentinel myid {MYID}\n"),
        "sentinel resolve-hostnames yes\nsentinel announce-hostnames yes\nsentinel known-replica mymaster localhost 6380\nsentinel known-replica mymaster 127.0.0.1 6380\n".into(),
        format!("sentinel notification-script mymaster {}\nsentinel client-reconfig-script mymaster {}\n", s.exec, s.exec),
        "sentinel rename-command mymaster CONFIG c1\nsentinel rename-command mymaster SET s1\n".into(),
        "sentinel deny-scripts-reconfig NO\nsentinel resolve-hostnames Yes\n".into(),
        "sentinel master-reboot-down-after-period mymaster 0\nsentinel config-epoch mymaster 99999999999999999999\n".into(),
        "sentinel auth-pass mymaster \"a b\"\nsentinel auth-user mymaster u\nsentinel auth-pass mymaster c\n".into(),
    ] {
        cases.push(format!("{M}{tail}"));
    }
    cases.push(stock());
    cases.push(AFTER_FAILOVERS.to_string());
    cases
}

#[test]
fn refuses_what_redis_sentinel_refuses_with_the_same_line_and_message() {
    let scripts = Scripts::new();
    for text in refused_cases(&scripts) {
        let (real, real_stderr) = real_verdict(&text);
        assert!(matches!(real, Verdict::Refused { .. }), "the real Sentinel accepts {text:?}: not a refusal case");
        let (ours, block) = our_verdict(&text);
        assert_eq!(ours, real, "{text:?}");
        // The whole block, byte for byte, as Redis prints it.
        let block = block.expect("error block");
        assert!(real_stderr.contains(&format!("{block}\n")), "ours:\n{block}\nreal:\n{real_stderr}");
    }
}

#[test]
fn accepts_what_redis_sentinel_accepts() {
    let scripts = Scripts::new();
    for text in accepted_cases(&scripts) {
        let (real, _) = real_verdict(&text);
        assert_eq!(real, Verdict::Accepted, "the real Sentinel refuses {text:?}: not an acceptance case");
        assert_eq!(our_verdict(&text).0, Verdict::Accepted, "{text:?}");
    }
}

#[test]
fn debian_stock_file_gives_the_default_state() {
    let cfg = parse_text(&stock()).expect("Debian's sentinel.conf");
    let expected = SentinelConfig {
        masters: vec![MasterConfig::new("mymaster", "127.0.0.1", 6379, 2)],
        ..SentinelConfig::default()
    };
    assert_eq!(cfg, expected);
}

/// A file as Sentinel leaves it after three failovers (spec §2.3's example, observed on 7.0.15).
const AFTER_FAILOVERS: &str = "\
port 26380
sentinel monitor mymaster 127.0.0.1 16381 2
sentinel down-after-milliseconds mymaster 3000
sentinel failover-timeout mymaster 15000

# Generated by CONFIG REWRITE
protected-mode no
sentinel myid 38e93c2aae7c867d4ad1d71587ffdf70a316dd1c
sentinel config-epoch mymaster 3
sentinel leader-epoch mymaster 3
sentinel current-epoch 3
sentinel known-replica mymaster 127.0.0.1 16380
sentinel known-replica mymaster 127.0.0.1 16379
sentinel known-sentinel mymaster 127.0.0.1 26382 4cb6430ba8fce5f67cb140ffd009e135989b6c42
sentinel known-sentinel mymaster 127.0.0.1 26381 63329de1aba3143671cb886325b4a52e7bf808bd
";

fn after_failovers_state() -> SentinelConfig {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", 16381, 2);
    m.down_after_ms = 3000;
    m.failover_timeout_ms = 15000;
    m.config_epoch = 3;
    m.leader_epoch = 3;
    m.known_replicas = vec![replica("127.0.0.1", 16380), replica("127.0.0.1", 16379)];
    m.known_sentinels = vec![sentinel("127.0.0.1", 26382, ID_A), sentinel("127.0.0.1", 26381, ID_B)];
    SentinelConfig { myid: Some(MYID.into()), current_epoch: 3, masters: vec![m], ..SentinelConfig::default() }
}

fn replica(host: &str, port: u16) -> KnownReplica {
    KnownReplica { host: host.into(), port }
}

fn sentinel(host: &str, port: u16, run_id: &str) -> KnownSentinel {
    KnownSentinel { host: host.into(), port, run_id: run_id.into() }
}

#[test]
fn a_file_after_failovers_gives_its_state_and_rewrites_to_itself() {
    assert_eq!(parse_text(AFTER_FAILOVERS).expect("parse"), after_failovers_state());
    let mut doc = ConfigDocument::parse("sentinel.conf", AFTER_FAILOVERS);
    assert!(!rewrite(&mut doc, &after_failovers_state()), "{}", doc.render());
    assert_eq!(doc.render(), AFTER_FAILOVERS);
}

/// What a rewrite adds to Debian's file: exactly the sentinel lines the real Sentinel adds at its
/// first start (which also drops the lines holding defaults; we keep them, see the module docs
/// of redis_rs::sentinel::config).
#[test]
fn rewrite_of_debian_file_adds_what_redis_sentinel_adds_and_nothing_else() {
    let stock = stock();
    let written_by_redis = run_real_once_on(&stock);
    let redis_added: Vec<&str> = written_by_redis
        .split_once("# Generated by CONFIG REWRITE\n")
        .expect("Redis appended lines")
        .1
        .lines()
        .filter(|l| l.starts_with("sentinel "))
        .collect();
    let myid = redis_added[0].strip_prefix("sentinel myid ").expect("Redis added its myid first");

    let mut cfg = parse_text(&stock).expect("parse");
    cfg.myid = Some(myid.to_string());
    let mut doc = ConfigDocument::parse("sentinel.conf", &stock);
    assert!(rewrite(&mut doc, &cfg));
    let ours = doc.render();
    let added = ours.strip_prefix(stock.as_str()).expect("only appended lines");
    let expected: String = redis_added.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(added, format!("# Generated by CONFIG REWRITE\n{expected}"));

    // Without an id (Redis generates one before it writes), nothing but the epochs is added.
    cfg.myid = None;
    let mut doc = ConfigDocument::parse("sentinel.conf", &stock);
    rewrite(&mut doc, &cfg);
    let expected: String = redis_added[1..].iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(doc.render(), format!("{stock}# Generated by CONFIG REWRITE\n{expected}"));
}

/// Starts the real Sentinel on `text` until it has generated its id and flushed, and returns
/// the file it wrote.
fn run_real_once_on(text: &str) -> String {
    // Ready means it has saved its id.
    real_sentinel(text).file("sentinel.conf")
}

/// Lines that are not Sentinel state, in order: what a rewrite must never touch.
fn admin_lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .filter(|l| {
            let t = l.trim_start().to_ascii_lowercase();
            !(t.starts_with("sentinel ") && t.len() > "sentinel ".len()) && l.trim() != "# Generated by CONFIG REWRITE"
        })
        .collect()
}

const ADMIN_FILE: &str = "\
# Sentinel for the shop's caches.   \t
#   (trailing blanks above are kept)

port 26379
\tdir /var/lib/redis


# The main cache.
sentinel monitor cache 10.0.0.1 6379 2
SENTINEL down-after-milliseconds cache 5000   
# Sessions.
sentinel monitor sessions 10.0.1.1 6379 2
sentinel known-slave sessions 10.0.1.2 6379
sentinel monitor old 10.0.2.1 6379 2
sentinel auth-pass old secret
# end of masters
logfile \"\"
";

#[test]
fn rewrite_keeps_the_admins_lines_and_each_masters_lines_in_place() {
    let mut cfg = parse_text(ADMIN_FILE).expect("parse");
    // A failover of `cache`, a replica found for it, `old` removed, `new` added.
    cfg.myid = Some(MYID.into());
    cfg.current_epoch = 1;
    let cache = cfg.master_mut("cache").expect("cache");
    cache.host = "10.0.0.2".into();
    cache.config_epoch = 1;
    cache.leader_epoch = 1;
    cache.known_replicas.push(replica("10.0.0.1", 6379));
    cfg.masters.retain(|m| m.name != "old");
    let mut new = MasterConfig::new("new", "10.0.3.1", 6380, 1);
    new.rename_commands.push(CommandRename { command: "CONFIG".into(), renamed: "my config".into() });
    cfg.masters.push(new);

    let mut doc = ConfigDocument::parse("sentinel.conf", ADMIN_FILE);
    assert!(rewrite(&mut doc, &cfg));
    let text = doc.render();
    assert_eq!(admin_lines(&text), admin_lines(ADMIN_FILE), "{text}");
    let expected = ADMIN_FILE
        .replace("sentinel monitor cache 10.0.0.1 6379 2", "sentinel monitor cache 10.0.0.2 6379 2")
        .replace("sentinel known-slave sessions", "sentinel known-replica sessions")
        .replace("sentinel monitor old 10.0.2.1 6379 2\nsentinel auth-pass old secret\n", "")
        + "# Generated by CONFIG REWRITE\n\
           sentinel myid 38e93c2aae7c867d4ad1d71587ffdf70a316dd1c\n\
           sentinel config-epoch cache 1\n\
           sentinel leader-epoch cache 1\n\
           sentinel known-replica cache 10.0.0.1 6379\n\
           sentinel config-epoch sessions 0\n\
           sentinel leader-epoch sessions 0\n\
           sentinel monitor new 10.0.3.1 6380 1\n\
           sentinel config-epoch new 0\n\
           sentinel leader-epoch new 0\n\
           sentinel rename-command new CONFIG \"my config\"\n\
           sentinel current-epoch 1\n";
    assert_eq!(text, expected);
    assert_eq!(parse_text(&text).expect("reads back"), cfg);

    // The same state again: nothing changes.
    assert!(!rewrite(&mut doc, &cfg));
    assert_eq!(doc.render(), expected);
}

/// Debian's redis-sentinel on `text`, listening on a free port of 127.0.0.1 (given on the
/// command line, as are its log and dir, so the file is the text as given).
fn real_sentinel(text: &str) -> SentinelProcess {
    SentinelProcess::start(REAL_SENTINEL, |port, dir| {
        let dir = dir.display().to_string();
        let args = ["--port", &port.to_string(), "--bind", "127.0.0.1", "--daemonize", "no", "--pidfile", ""]
            .into_iter()
            .chain(["--logfile", &format!("{dir}/sentinel.log"), "--dir", &dir])
            .map(String::from)
            .collect();
        (text.to_string(), args)
    })
}

/// One command on a fresh connection to `sentinel`, parsed; an error reply fails the test.
fn query(sentinel: &SentinelProcess, args: &[&str]) -> Reply {
    let reply = Reply::parse(&Client::connect(sentinel.port).cmd(args));
    assert!(!reply.is_error(), "{args:?}: {reply:?}");
    reply
}

/// A flat list of field/value pairs (SENTINEL MASTER, CONFIG GET) as a map.
fn fields(reply: &Reply) -> HashMap<String, String> {
    reply.pairs().into_iter().map(|(k, v)| (k.text(), v.text())).collect()
}

/// The state a real Sentinel runs with, as far as its commands show it.
fn check_real_sentinel_runs_with(real: &SentinelProcess, cfg: &SentinelConfig) {
    assert_eq!(query(real, &["SENTINEL", "MYID"]).text(), cfg.myid.clone().expect("myid"));
    let globals = fields(&query(real, &["SENTINEL", "CONFIG", "GET", "*"]));
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    assert_eq!(globals["resolve-hostnames"], yes_no(cfg.resolve_hostnames));
    assert_eq!(globals["announce-hostnames"], yes_no(cfg.announce_hostnames));
    assert_eq!(globals["announce-ip"], cfg.announce_ip.clone().unwrap_or_default());
    assert_eq!(globals["announce-port"], cfg.announce_port.to_string());
    assert_eq!(globals["sentinel-user"], cfg.sentinel_user.clone().unwrap_or_default());
    let masters = query(real, &["SENTINEL", "MASTERS"]);
    assert_eq!(masters.array().len(), cfg.masters.len(), "{masters:?}");
    for m in &cfg.masters {
        let f = fields(&query(real, &["SENTINEL", "MASTER", &m.name]));
        let show = |k: &str| f.get(k).cloned().unwrap_or_else(|| panic!("SENTINEL MASTER lacks {k}: {f:?}"));
        assert_eq!(show("ip"), m.host);
        assert_eq!(show("port"), m.port.to_string());
        assert_eq!(show("quorum"), m.quorum.to_string());
        assert_eq!(show("down-after-milliseconds"), m.down_after_ms.to_string());
        assert_eq!(show("failover-timeout"), m.failover_timeout_ms.to_string());
        assert_eq!(show("parallel-syncs"), m.parallel_syncs.to_string());
        assert_eq!(show("config-epoch"), m.config_epoch.to_string());
        assert_eq!(f.get("notification-script"), m.notification_script.as_ref());
        assert_eq!(f.get("client-reconfig-script"), m.client_reconfig_script.as_ref());

        let mut replicas: Vec<(String, String)> = query(real, &["SENTINEL", "REPLICAS", &m.name])
            .array()
            .iter()
            .map(|r| {
                let f = fields(r);
                (f["ip"].clone(), f["port"].clone())
            })
            .collect();
        let mut expected: Vec<(String, String)> =
            m.known_replicas.iter().map(|r| (r.host.clone(), r.port.to_string())).collect();
        replicas.sort();
        expected.sort();
        assert_eq!(replicas, expected, "replicas of {}", m.name);

        let mut sentinels: Vec<(String, String, String)> = query(real, &["SENTINEL", "SENTINELS", &m.name])
            .array()
            .iter()
            .map(|s| {
                let f = fields(s);
                (f["ip"].clone(), f["port"].clone(), f["runid"].clone())
            })
            .collect();
        let mut expected: Vec<(String, String, String)> =
            m.known_sentinels.iter().map(|s| (s.host.clone(), s.port.to_string(), s.run_id.clone())).collect();
        sentinels.sort();
        expected.sort();
        assert_eq!(sentinels, expected, "sentinels of {}", m.name);
    }
}

/// The state with its unordered parts sorted: Redis keeps replicas, sentinels and renames in
/// hash tables, so the order it writes them in is its own.
fn normalized(mut cfg: SentinelConfig) -> SentinelConfig {
    cfg.masters.sort_by(|a, b| a.name.cmp(&b.name));
    for m in &mut cfg.masters {
        m.known_replicas.sort_by(|a, b| (&a.host, a.port).cmp(&(&b.host, b.port)));
        m.known_sentinels.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        m.rename_commands.sort_by(|a, b| a.command.cmp(&b.command));
    }
    cfg
}

/// Debian's file, then the state of a sentinel that has seen failovers and has every setting
/// changed; the addresses are TEST-NET ones that nothing answers on.
fn rich_state(scripts: &Scripts) -> SentinelConfig {
    let mut cfg = parse_text(&stock()).expect("parse");
    cfg.myid = Some(MYID.into());
    cfg.current_epoch = 9;
    cfg.deny_scripts_reconfig = false;
    cfg.announce_ip = Some("10.1.2.3".into());
    cfg.announce_port = 26999;
    cfg.sentinel_user = Some("sentinel-peer".into());
    cfg.sentinel_pass = Some("peer-secret".into());
    let m = &mut cfg.masters[0];
    m.host = "192.0.2.10".into();
    m.port = 16381;
    m.quorum = 3;
    m.down_after_ms = 60_000;
    m.failover_timeout_ms = 15_000;
    m.parallel_syncs = 2;
    m.notification_script = Some(scripts.exec.clone());
    m.client_reconfig_script = Some(scripts.exec.clone());
    m.auth_pass = Some("master-secret".into());
    m.auth_user = Some("sentinel".into());
    m.master_reboot_down_after_period_ms = 5000;
    m.config_epoch = 5;
    m.leader_epoch = 9;
    m.known_replicas = vec![replica("192.0.2.11", 16379), replica("192.0.2.12", 16380), replica("::1", 6390)];
    m.known_sentinels = vec![sentinel("192.0.2.21", 26381, ID_A), sentinel("192.0.2.22", 26382, ID_B)];
    m.rename_commands = vec![
        CommandRename { command: "CONFIG".into(), renamed: "cfg-9f3".into() },
        CommandRename { command: "SLAVEOF".into(), renamed: "so-12".into() },
    ];
    let mut second = MasterConfig::new("second", "192.0.2.30", 6379, 2);
    second.config_epoch = 2;
    second.known_replicas.push(replica("192.0.2.31", 6379));
    cfg.masters.push(second);
    cfg
}

#[test]
fn the_real_sentinel_reads_our_rewrite_as_the_state_we_wrote() {
    let scripts = Scripts::new();
    let cfg = rich_state(&scripts);
    let stock = stock();
    let mut doc = ConfigDocument::parse("sentinel.conf", &stock);
    assert!(rewrite(&mut doc, &cfg));
    let ours = doc.render();
    assert_eq!(admin_lines(&ours), admin_lines(&stock), "comments and other lines kept");
    assert_eq!(parse_text(&ours).expect("we read it back"), cfg);

    let real = real_sentinel(&ours);
    check_real_sentinel_runs_with(&real, &cfg);
    // What it writes back (everything, epochs and secrets included) is the same state.
    assert_eq!(query(&real, &["SENTINEL", "FLUSHCONFIG"]), Reply::status("OK"));
    let written = real.file("sentinel.conf");
    assert_eq!(normalized(parse_text(&written).expect("we read Redis's rewrite")), normalized(cfg), "{written}");
}

const REDISCTL: &str = env!("CARGO_BIN_EXE_redisctl");

/// `redisctl check` on a sentinel.conf that includes `local`: (exit code, stdout, stderr).
fn redisctl_check(dir: &Path, sentinel_conf: &str, local: &str) -> (i32, String, String) {
    let redis_conf = dir.join("redis.conf");
    std::fs::write(&redis_conf, "port 6379\n").expect("write redis.conf");
    std::fs::write(dir.join("sentinel.conf"), sentinel_conf).expect("write sentinel.conf");
    std::fs::write(dir.join("local.conf"), local).expect("write local.conf");
    let out = Command::new(REDISCTL)
        .arg("--config")
        .arg(&redis_conf)
        .arg("--sentinel-config")
        .arg(dir.join("sentinel.conf"))
        .arg("check")
        .output()
        .expect("run redisctl");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().expect("exit code"), text(&out.stdout), text(&out.stderr))
}

#[test]
fn redisctl_check_reads_statements_across_includes_in_sentinels_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("local.conf");
    let main = format!(
        "port 26379\nsentinel monitor m 127.0.0.1 6379 2\ninclude {}\nsentinel known-replica m 127.0.0.1 6380\n",
        local.display()
    );
    let main_path = dir.path().join("sentinel.conf").display().to_string();
    let local_path = local.display().to_string();

    // The included replica is read first, so the main file's line 4 is the duplicate.
    let local_text = "# local additions\nsentinel known-replica m 127.0.0.1 6380\n";
    let (code, _, stderr) = redisctl_check(dir.path(), &main, local_text);
    std::fs::write(&local, local_text).expect("write local.conf");
    let (real, _) = real_verdict(&main);
    let line = "sentinel known-replica m 127.0.0.1 6380";
    let reason = "Duplicate hostname and port for replica.";
    assert_eq!(real, Verdict::Refused { line_no: 4, line: line.into(), reason: reason.into() });
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("{main_path}:4: '{line}': {reason}")), "{stderr}");

    // A bad statement in the included file names that file.
    let local_text = "# local additions\nsentinel down-after-milliseconds m 0\n";
    let (code, stdout, stderr) = redisctl_check(dir.path(), &main.replace("6380", "6381"), local_text);
    assert_eq!(code, 1, "{stderr}");
    let line = "sentinel down-after-milliseconds m 0";
    assert!(stderr.contains(&format!("{local_path}:2: '{line}': negative or zero time parameter.")), "{stderr}");
    assert!(stdout.contains(&format!("{main_path}: OK")), "{stdout}");

    // Statements of both files together are fine.
    let (code, stdout, stderr) =
        redisctl_check(dir.path(), &main, "sentinel known-replica m 127.0.0.1 6381\nsentinel parallel-syncs m 3\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&format!("{local_path}: OK")), "{stdout}");
}

#[test]
fn flush_rereads_the_file_and_replaces_it_atomically_keeping_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sentinel.conf");
    std::fs::write(&path, AFTER_FAILOVERS).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let mut cfg = parse_text(AFTER_FAILOVERS).expect("parse");
    // The admin adds a comment while the sentinel runs; then a vote raises the epochs.
    let edited = AFTER_FAILOVERS.replace("port 26380\n", "port 26380\n# added by the admin\n");
    std::fs::write(&path, &edited).expect("write");
    cfg.current_epoch = 4;
    cfg.masters[0].leader_epoch = 4;
    redis_rs::sentinel::config::flush(&path, &cfg, &[]).expect("flush");
    let expected = edited
        .replace("sentinel leader-epoch mymaster 3", "sentinel leader-epoch mymaster 4")
        .replace("sentinel current-epoch 3", "sentinel current-epoch 4");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), expected);
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names, ["sentinel.conf"], "no temp file left behind");

    // A file that went missing is written anew with the whole state.
    std::fs::remove_file(&path).expect("rm");
    redis_rs::sentinel::config::flush(&path, &cfg, &[]).expect("flush");
    assert_eq!(parse_text(&std::fs::read_to_string(&path).expect("read")).expect("parse"), cfg);
}
