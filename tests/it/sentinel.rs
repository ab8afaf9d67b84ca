//! Sentinel end to end on loopback: our sentinels (redis-sentinel-rs) alone and mixed with
//! Debian's redis-sentinel 7.0, failing over a master whose replicas are ours or real.

use std::time::Duration;

use crate::common::fake_server::{self, FakeServer};
use crate::replication_support::*;

pub(crate) const DEADLINE: Duration = Duration::from_secs(60);

/// A sentinel process (ours or Debian's) monitoring `mymaster`, with what these tests ask of it.
pub(crate) struct SentinelProc {
    pub(crate) process: crate::common::SentinelProcess,
    pub(crate) port: u16,
    pub(crate) ours: bool,
    /// Its `requirepass`, if the config has one: `call` authenticates with it.
    password: Option<String>,
}

impl SentinelProc {
    pub(crate) fn start(ours: bool, master_port: u16, quorum: u32) -> SentinelProc {
        SentinelProc::start_monitoring(ours, &[("mymaster", master_port, quorum)])
    }

    /// A sentinel monitoring each (name, port, quorum) master on 127.0.0.1.
    fn start_monitoring(ours: bool, masters: &[(&str, u16, u32)]) -> SentinelProc {
        SentinelProc::launch(ours, masters, "")
    }

    /// A sentinel monitoring `mymaster` with `extra` lines at the end of its config.
    pub(crate) fn start_with(ours: bool, master_port: u16, quorum: u32, extra: &str) -> SentinelProc {
        SentinelProc::launch(ours, &[("mymaster", master_port, quorum)], extra)
    }

    fn launch(ours: bool, masters: &[(&str, u16, u32)], extra: &str) -> SentinelProc {
        let bin = if ours { crate::common::OUR_SENTINEL } else { crate::common::REAL_SENTINEL };
        let process = crate::common::SentinelProcess::start(bin, |port, dir| {
            let mut text = format!(
                "# the admin's comment\nport {port}\nbind 127.0.0.1\ndir {}\nlogfile sentinel.log\n",
                dir.display()
            );
            // down-after-milliseconds 2000, as Redis's own sentinel tests use: a sentinel that
            // switches to the promoted replica resets the link's ping clock but reconnects at most
            // once a second, so with 1000 its first PONG can come too late, the new master is seen
            // down, and a second failover (a valid one) replaces the master the test follows.
            for (name, master_port, quorum) in masters {
                text += &format!(
                    "sentinel monitor {name} 127.0.0.1 {master_port} {quorum}\n\
                     sentinel down-after-milliseconds {name} 2000\nsentinel failover-timeout {name} 10000\n"
                );
                // Ours run the scripts: each appends its arguments to a log next to it.
                if ours {
                    text += &format!(
                        "sentinel notification-script {name} {0}/notify.sh\nsentinel client-reconfig-script {name} {0}/reconfig.sh\n",
                        dir.display()
                    );
                }
            }
            if ours {
                for script in ["notify", "reconfig"] {
                    let path = dir.join(format!("{script}.sh"));
                    let log = dir.join(format!("{script}.log"));
                    std::fs::write(&path, format!("#!/bin/sh\necho \"$@\" >> {}\n", log.display())).expect("script");
                    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                        .expect("chmod");
                }
            }
            (text + extra, Vec::new())
        });
        let password = extra.lines().find_map(|l| l.strip_prefix("requirepass ")).map(str::to_string);
        SentinelProc { port: process.port, process, ours, password }
    }

    /// What a script of ours logged (its runs' arguments, one line each).
    fn script_log(&self, name: &str) -> String {
        self.process.file(&format!("{name}.log"))
    }

    pub(crate) fn call(&self, args: &[&str]) -> Option<Reply> {
        let Some(password) = &self.password else {
            return self.process.call(args).map(|raw| Reply::parse(&raw));
        };
        let mut c = crate::common::Client::try_connect(self.port).ok()?;
        c.send_raw(&crate::common::encode(&[b"AUTH", password.as_bytes()]));
        c.try_read_reply().ok()?;
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        c.send_raw(&crate::common::encode(&args));
        Some(Reply::parse(&c.try_read_reply().ok()?))
    }

    pub(crate) fn master_port(&self) -> Option<u16> {
        match self.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"])? {
            Reply::Array(v) if v.len() == 2 => match &v[1] {
                Reply::Bulk(p) => String::from_utf8_lossy(p).parse().ok(),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn count(&self, what: &str) -> usize {
        match self.call(&["SENTINEL", what, "mymaster"]) {
            Some(Reply::Array(list)) => list.len(),
            _ => 0,
        }
    }

    /// A field of the replica on `port` in SENTINEL REPLICAS.
    pub(crate) fn replica_field(&self, port: u16, field: &str) -> Option<String> {
        let replicas = self.call(&["SENTINEL", "REPLICAS", "mymaster"])?;
        replicas.array().iter().find_map(|r| {
            let fields: Vec<String> = r.array().iter().map(Reply::text).collect();
            let get = |name: &str| fields.chunks(2).find(|kv| kv[0] == name).map(|kv| kv[1].clone());
            (get("port") == Some(port.to_string())).then(|| get(field)).flatten()
        })
    }

    pub(crate) fn config(&self) -> String {
        self.process.file("sentinel.conf")
    }

    /// A field of the first (here: the only) other sentinel in SENTINEL SENTINELS `master`.
    pub(crate) fn peer_field(&self, master: &str, field: &str) -> Option<String> {
        let peers = self.call(&["SENTINEL", "SENTINELS", master])?;
        let fields: Vec<String> = peers.array().first()?.array().iter().map(Reply::text).collect();
        fields.chunks(2).find(|kv| kv[0] == field).map(|kv| kv[1].clone())
    }
}

/// One scenario at a time: a dozen servers and sentinels per scenario, run side by side on a loaded
/// 2-core machine, can stall a sentinel's timer past 2 s, which puts it in TILT for 30 s.
pub(crate) fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Master and two replicas of `servers`; sentinels as `ours` says (quorum 2); the master dies,
/// one replica is promoted, the other follows it, every sentinel answers the new address, and
/// the old master, restarted as it was, is turned into a replica.
fn failover(servers: Impl, ours: &[bool]) {
    let _turn = one_at_a_time();
    let master = Node::start("master", servers, &[]);
    let a = start_replica("replica-A", servers, &master, &[]);
    let b = start_replica("replica-B", servers, &master, &[]);
    wait_in_sync(&master, &a);
    wait_in_sync(&master, &b);
    master.ok(&["SET", "before", "failover"]);
    let sentinels: Vec<SentinelProc> = ours.iter().map(|o| SentinelProc::start(*o, master.port, 2)).collect();
    for s in &sentinels {
        crate::common::wait_for("each sentinel to know both replicas and the other sentinels", DEADLINE, || {
            s.count("REPLICAS") == 2 && s.count("SENTINELS") == sentinels.len() - 1
        });
    }

    // What clients see: redis-py (Debian's python3-redis) asks the sentinels for the master, and
    // a subscriber gets +switch-master's five fields (Jedis splits them on single spaces).
    let sentinel_ports: Vec<u16> = sentinels.iter().map(|s| s.port).collect();
    assert_eq!(redis_py_master(&sentinel_ports), Some(master.port), "redis-py before the failover");
    let mut subscriber = crate::common::Client::connect(sentinels[0].port);
    subscriber.send_raw(&crate::common::encode(&[b"SUBSCRIBE", b"+switch-master"]));
    let confirmed = subscriber.read_reply();
    assert!(confirmed.starts_with(b"*3\r\n$9\r\nsubscribe\r\n"), "{}", crate::common::show_bytes(&confirmed, 200));

    master.kill();
    let mut promoted = 0;
    crate::common::wait_for("every sentinel to answer the new master", DEADLINE, || {
        let ports: Vec<Option<u16>> = sentinels.iter().map(SentinelProc::master_port).collect();
        promoted = ports[0].unwrap_or(0);
        promoted != master.port && ports.iter().all(|p| *p == Some(promoted))
    });
    let (new_master, other) = if promoted == a.port { (&a, &b) } else { (&b, &a) };
    assert_eq!(promoted, new_master.port, "promoted an unknown node");
    // The leader publishes +switch-master when its failover ends (the other replica reconfigured,
    // or failover-timeout), which can come after every sentinel answers the new address: it gets
    // as long as the rest, and a failure shows the sentinels' logs.
    subscriber.writer_clone().set_read_timeout(Some(DEADLINE)).expect("read timeout");
    let raw = subscriber
        .try_read_reply()
        .unwrap_or_else(|e| panic!("no +switch-master from the first sentinel: {e}\n{}", sentinel_logs(&sentinels)));
    let message = Reply::parse(&raw);
    let expected = format!("mymaster 127.0.0.1 {} 127.0.0.1 {}", master.port, promoted);
    assert_eq!(
        message,
        Reply::Array(vec![
            Reply::Bulk(b"message".to_vec()),
            Reply::Bulk(b"+switch-master".to_vec()),
            Reply::Bulk(expected.into_bytes())
        ])
    );
    assert_eq!(redis_py_master(&sentinel_ports), Some(promoted), "redis-py after the failover");
    wait_info(new_master, "role", "master");
    crate::common::wait_for("the other replica to follow the new master", DEADLINE, || {
        other.info("replication").get("master_port") == Some(new_master.port.to_string().as_str())
    });
    for s in &sentinels {
        let conf = s.config();
        assert!(conf.starts_with("# the admin's comment\n"), "{conf}");
        crate::common::wait_for("sentinel.conf to name the new master", DEADLINE, || {
            s.config().contains(&format!("sentinel monitor mymaster 127.0.0.1 {} 2", new_master.port))
        });
    }
    // notification-script hears the WARNING events about an instance; client-reconfig-script the
    // switch, as leader or observer.
    for s in sentinels.iter().filter(|s| s.ours) {
        crate::common::wait_for("the scripts to run", DEADLINE, || {
            s.script_log("notify").contains(&format!("+sdown master mymaster 127.0.0.1 {}", master.port))
                && s.script_log("reconfig").contains(&format!("start 127.0.0.1 {} 127.0.0.1 {promoted}", master.port))
        });
        let line = s.script_log("reconfig");
        assert!(line.starts_with("mymaster leader start") || line.starts_with("mymaster observer start"), "{line}");
    }
    new_master.ok(&["SET", "after", "failover"]);
    wait_in_sync(new_master, other);
    assert_nodes_same(new_master, other);

    master.restart();
    crate::common::wait_for_or(
        "the old master to rejoin as a replica",
        2 * DEADLINE,
        || master.info("replication").get("master_port") == Some(new_master.port.to_string().as_str()),
        || format!("{}\n{}", master.describe(), sentinel_logs(&sentinels)),
    );
    wait_in_sync(new_master, &master);
    assert_nodes_same(new_master, &master);
}

/// Every sentinel's log, for a failure's message.
fn sentinel_logs(sentinels: &[SentinelProc]) -> String {
    let logs: Vec<String> = sentinels
        .iter()
        .map(|s| format!("--- sentinel on {} (ours: {}):\n{}", s.port, s.ours, s.process.file("sentinel.log")))
        .collect();
    logs.join("\n")
}

/// The master redis-py's `redis.sentinel.Sentinel` discovers (SENTINEL MASTERS, flags, quorum of
/// other sentinels), through Debian's python3-redis.
fn redis_py_master(sentinel_ports: &[u16]) -> Option<u16> {
    let addrs: Vec<String> = sentinel_ports.iter().map(|p| format!("('127.0.0.1', {p})")).collect();
    let script = format!(
        "from redis.sentinel import Sentinel\n\
         s = Sentinel([{}], socket_timeout=2)\n\
         print(s.discover_master('mymaster')[1])\n",
        addrs.join(", ")
    );
    let out = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run /usr/bin/python3 (the README's test command installs python3-redis)");
    assert!(out.status.success(), "redis-py: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

#[test]
fn three_of_our_sentinels_fail_over_our_servers() {
    failover(Impl::Ours, &[true, true, true]);
}

#[test]
fn two_of_ours_and_a_real_sentinel_fail_over_real_servers() {
    failover(Impl::Real, &[true, true, false]);
}

#[test]
fn one_of_ours_and_two_real_sentinels_fail_over_our_servers() {
    failover(Impl::Ours, &[true, false, false]);
}

/// Debian's sentinels alone manage our servers (what a real Sentinel sends them: INFO, PING,
/// hellos, the SLAVEOF transaction).
#[test]
fn real_sentinels_fail_over_our_servers() {
    failover(Impl::Ours, &[false, false, false]);
}

/// SENTINEL FAILOVER on a healthy master, asked of our sentinel with a real one beside it: the
/// replica with replica-priority 0 is never promoted, the old master becomes a replica, both
/// sentinels follow; with no replica left to promote both answer -NOGOODSLAVE.
#[test]
fn manual_failover_never_promotes_a_replica_with_priority_0() {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Ours, &[]);
    let never = start_replica("replica-priority-0", Impl::Ours, &master, &["--replica-priority", "0"]);
    let b = start_replica("replica-B", Impl::Ours, &master, &[]);
    wait_in_sync(&master, &never);
    wait_in_sync(&master, &b);
    let ours = SentinelProc::start(true, master.port, 2);
    let real = SentinelProc::start(false, master.port, 2);
    let sentinels = [&ours, &real];
    for s in sentinels {
        crate::common::wait_for("each sentinel to know both replicas and the other sentinel", DEADLINE, || {
            s.count("REPLICAS") == 2 && s.count("SENTINELS") == 1
        });
    }
    let all_answer = |port: u16| sentinels.iter().all(|s| s.master_port() == Some(port));

    // The only candidate is B.
    assert_eq!(ours.call(&["SENTINEL", "FAILOVER", "mymaster"]), Some(Reply::Status("OK".into())));
    crate::common::wait_for("both sentinels to answer replica-B", DEADLINE, || all_answer(b.port));
    wait_info(&b, "role", "master");
    for node in [&never, &master] {
        crate::common::wait_for("the others to replicate replica-B", DEADLINE, || {
            node.info("replication").get("master_port") == Some(b.port.to_string().as_str())
        });
    }

    // Back: the old master is the only candidate now (priority 100); the priority-0 one stays.
    crate::common::wait_for("our sentinel to see the old master as a replica", DEADLINE, || {
        ours.replica_field(master.port, "role-reported").as_deref() == Some("slave")
    });
    crate::common::wait_for("the failover back to be accepted", DEADLINE, || {
        ours.call(&["SENTINEL", "FAILOVER", "mymaster"]) == Some(Reply::Status("OK".into()))
    });
    crate::common::wait_for("both sentinels to answer the old master", DEADLINE, || all_answer(master.port));
    wait_info(&master, "role", "master");
    assert_eq!(never.info("replication").get("role"), Some("slave"), "the priority-0 replica was promoted");

    // Nobody left to promote: B gets priority 0 too.
    crate::common::wait_for("B to follow the old master again", DEADLINE, || {
        b.info("replication").get("master_port") == Some(master.port.to_string().as_str())
    });
    b.ok(&["CONFIG", "SET", "replica-priority", "0"]);
    for s in sentinels {
        crate::common::wait_for("each sentinel to see B's priority 0 (INFO every 10 s)", DEADLINE, || {
            s.replica_field(b.port, "slave-priority").as_deref() == Some("0")
        });
        assert_eq!(
            s.call(&["SENTINEL", "FAILOVER", "mymaster"]),
            Some(Reply::Error("NOGOODSLAVE No suitable replica to promote".into()))
        );
    }
    assert_eq!(master.info("replication").get("role"), Some("master"));
}

/// A peer sentinel watching two of the same masters is one connection with two records (Redis's
/// link sharing): SENTINEL SENTINELS shows link-refcount 2 under each master, and the peer sees a
/// single command connection from it. Ours beside ours, and real beside real for the reference.
#[test]
fn a_peer_watching_two_masters_shares_one_link() {
    let _turn = one_at_a_time();
    let masters = [Node::start("master-1", Impl::Real, &[]), Node::start("master-2", Impl::Real, &[])];
    let monitors = [("m1", masters[0].port, 2), ("m2", masters[1].port, 2)];
    for ours in [true, false] {
        let a = SentinelProc::start_monitoring(ours, &monitors);
        let b = SentinelProc::start_monitoring(ours, &monitors);
        for s in [&a, &b] {
            for (name, _, _) in monitors {
                crate::common::wait_for("each sentinel to find the other under both masters", DEADLINE, || {
                    s.peer_field(name, "link-refcount").as_deref() == Some("2")
                });
            }
        }
        let a_id = a.call(&["SENTINEL", "MYID"]).expect("MYID").text();
        let a_cmd = format!("name=sentinel-{}-cmd", &a_id[..8]);
        // The records can exist a timer pass before their link connects.
        let cmd_links = || b.call(&["CLIENT", "LIST"]).expect("CLIENT LIST").text().matches(&a_cmd).count();
        crate::common::wait_for("the peer's command link", DEADLINE, || cmd_links() >= 1);
        assert_eq!(cmd_links(), 1, "ours: {ours}");
    }
}

/// `calls=` of `command` (e.g. `config|rewrite`) in a server's INFO commandstats; 0 if never.
fn calls(node: &Node, command: &str) -> u64 {
    let stats = node.info("commandstats");
    let line = stats.get(&format!("cmdstat_{command}")).unwrap_or("");
    line.split(',').find_map(|kv| kv.strip_prefix("calls=")).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// A field of SENTINEL MASTER mymaster.
pub(crate) fn master_field(s: &SentinelProc, field: &str) -> Option<String> {
    let fields: Vec<String> = s.call(&["SENTINEL", "MASTER", "mymaster"])?.array().iter().map(Reply::text).collect();
    fields.chunks(2).find(|kv| kv[0] == field).map(|kv| kv[1].clone())
}

/// `sentinel rename-command`: everything a sentinel sends the master and its replicas goes under
/// the new name (Redis maps each command through the master's table): INFO, the hellos' PUBLISH
/// and SUBSCRIBE, CLIENT SETNAME, and the failover's transaction (PING is the next test's:
/// replicas need it to sync). Servers that renamed all of these are monitored and failed over,
/// and never hear an old name. A real sentinel on real servers is the reference, without the
/// SUBSCRIBE rename: redis-sentinel 7.0.15 aborts in hiredis on the first hello message then.
#[test]
fn a_sentinel_sends_renamed_commands_under_their_new_names() {
    let _turn = one_at_a_time();
    for (servers, ours) in [(Impl::Real, false), (Impl::Real, true), (Impl::Ours, true)] {
        let context = format!("servers {}, our sentinel: {ours}", servers.label());
        let mut renamed = vec!["INFO", "PUBLISH", "CLIENT", "CONFIG", "SLAVEOF", "MULTI", "EXEC"];
        if ours {
            renamed.push("SUBSCRIBE");
        }
        let server_config: String = renamed.iter().map(|c| format!("rename-command {c} {c}-X\n")).collect();
        let sentinel_config: String =
            renamed.iter().map(|c| format!("sentinel rename-command mymaster {c} {c}-X\n")).collect();
        let master = Node::start_with_config("master", servers, &server_config, &[]);
        let replica = Node::start_with_config("replica", servers, &server_config, &strs(&master.replicaof_args()));
        wait_in_sync(&master, &replica);
        // Alone with quorum 1, it fails over by itself.
        let sentinel = SentinelProc::start_with(ours, master.port, 1, &sentinel_config);
        crate::common::wait_for(
            &format!("{context}: the sentinel to find the replica and say hello"),
            DEADLINE,
            || sentinel.count("REPLICAS") == 1 && calls(&master, "publish") >= 1,
        );
        for command in ["info", "subscribe", "client|setname"] {
            assert!(calls(&master, command) >= 1, "{context}: no {command} on the master");
        }
        assert_eq!(master.info("errorstats").get("errorstat_ERR"), None, "{context}: an old name reached the master");
        assert_eq!(master_field(&sentinel, "flags").as_deref(), Some("master"), "{context}");

        master.kill();
        crate::common::wait_for("the sentinel to answer the replica", DEADLINE, || {
            sentinel.master_port() == Some(replica.port)
        });
        wait_info(&replica, "role", "master");
        for command in ["multi", "slaveof", "config|rewrite", "client|kill", "exec"] {
            assert!(calls(&replica, command) >= 1, "{context}: no {command} on the promoted replica");
        }
        assert_eq!(replica.info("errorstats").get("errorstat_ERR"), None, "{context}: an old name reached the replica");
    }
}

/// A master stuck in a script answers PING with -BUSY. Once it is SDOWN the sentinel sends it
/// SCRIPT KILL, once, and the master is back. PING and SCRIPT go under the master's names for
/// them. A real sentinel is the reference; the master is Debian's (ours has no scripting).
#[test]
fn a_master_busy_in_a_script_gets_script_kill_once_it_is_down() {
    let _turn = one_at_a_time();
    for ours in [false, true] {
        let master = Node::start_with_config(
            "master",
            Impl::Real,
            "busy-reply-threshold 100\nrename-command SCRIPT SCRIPT-X\nrename-command PING PING-X\n",
            &[],
        );
        // Quorum 2 with one sentinel: SDOWN, never a failover.
        let renames =
            "sentinel rename-command mymaster SCRIPT SCRIPT-X\nsentinel rename-command mymaster PING PING-X\n";
        let sentinel = SentinelProc::start_with(ours, master.port, 2, renames);
        crate::common::wait_for("the sentinel to see the master", DEADLINE, || {
            master_field(&sentinel, "role-reported").as_deref() == Some("master") && calls(&master, "ping") >= 1
        });
        let mut busy = master.client();
        busy.send_raw(&crate::common::encode(&[b"EVAL", b"while true do end", b"0"]));
        let reply = String::from_utf8_lossy(&busy.read_reply()).into_owned();
        assert!(reply.contains("Script killed by user with SCRIPT KILL"), "our sentinel: {ours}: {reply}");
        crate::common::wait_for("the master to be up again", DEADLINE, || {
            master_field(&sentinel, "flags").as_deref() == Some("master")
        });
        assert_eq!(calls(&master, "script|kill"), 1, "our sentinel: {ours}");
    }
}

/// The next event on the sentinel's channels `sub` is subscribed to whose text starts with
/// `prefix` (e.g. "+sdown master"), as (channel, text); None if none comes within `within`.
fn next_event(sub: &mut crate::common::Client, prefix: &str, within: Duration) -> Option<(String, String)> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        sub.writer_clone().set_read_timeout(Some(left.max(Duration::from_millis(1)))).expect("timeout");
        let message = Reply::parse(&sub.try_read_reply().ok()?);
        let fields: Vec<String> = message.array().iter().map(Reply::text).collect();
        if fields.len() == 3 && fields[0] == "message" {
            let text = format!("{} {}", fields[1], fields[2]);
            if text.starts_with(prefix) {
                return Some((fields[1].clone(), fields[2].clone()));
            }
        }
    }
}

/// master-reboot-down-after-period: a master seen restarted (INFO shows a new run id) that gives
/// no PONG for that long is SDOWN, even though down-after-milliseconds (20 s here) has not
/// passed; a PONG brings it back. The restarted master answers PING with an error (PING renamed
/// away), then is restarted once more as it was. A real sentinel is the reference.
#[test]
fn a_restarted_master_without_pong_is_down_after_master_reboot_down_after_period() {
    let _turn = one_at_a_time();
    for ours in [false, true] {
        let mut master = Node::start_with_config("master", Impl::Real, "", &[]);
        let settings = "sentinel down-after-milliseconds mymaster 20000\n\
                        sentinel master-reboot-down-after-period mymaster 1000\n";
        let sentinel = SentinelProc::start_with(ours, master.port, 2, settings);
        let debug = sentinel.call(&["SENTINEL", "DEBUG", "info-period", "200"]);
        assert_eq!(debug, Some(Reply::Status("OK".into())), "our sentinel: {ours}");
        // The run id comes with the first INFO (role-reported reads "master" before it): a restart
        // before that would be a first sighting, not a reboot.
        crate::common::wait_for("the sentinel to know the master's run id", DEADLINE, || {
            master_field(&sentinel, "runid").is_some_and(|id| !id.is_empty())
        });
        let mut sub = crate::common::Client::connect(sentinel.port);
        sub.send_raw(&crate::common::encode(&[b"SUBSCRIBE", b"+reboot", b"+sdown", b"-sdown"]));
        for _ in 0..3 {
            sub.read_reply();
        }

        master.restart_with_config("rename-command PING PING-OFF\n");
        let port = master.port;
        let master_event = |what: &str| format!("{what} master mymaster 127.0.0.1 {port}");
        // Noticing the restart takes a reconnection and an INFO, which a loaded machine can
        // delay: a generous deadline. Once noticed, +sdown must come within 10 s, well before
        // down-after-milliseconds' 20 s.
        let generous = Duration::from_secs(60);
        let within = Duration::from_secs(10);
        let reboot = next_event(&mut sub, &master_event("+reboot"), generous);
        assert!(reboot.is_some(), "our sentinel: {ours}: no +reboot");
        let sdown = next_event(&mut sub, &master_event("+sdown"), within);
        assert!(sdown.is_some(), "our sentinel: {ours}: no +sdown within {within:?} of +reboot");

        master.restart_with_config("");
        assert!(next_event(&mut sub, &master_event("-sdown"), generous).is_some(), "our sentinel: {ours}: no -sdown");
    }
}

/// Sentinels that share a requirepass and have no sentinel-pass authenticate to each other with
/// it (older configs rely on this): two of them, quorum 2, see each other up and fail over. Two
/// real sentinels are the reference.
#[test]
fn sentinels_sharing_a_requirepass_authenticate_to_each_other_with_it() {
    let _turn = one_at_a_time();
    for ours in [false, true] {
        let master = Node::start("master", Impl::Real, &[]);
        let replica = start_replica("replica", Impl::Real, &master, &[]);
        wait_in_sync(&master, &replica);
        let sentinels: Vec<SentinelProc> =
            (0..2).map(|_| SentinelProc::start_with(ours, master.port, 2, "requirepass s3cret\n")).collect();
        for s in &sentinels {
            crate::common::wait_for("each sentinel to find the other", DEADLINE, || s.count("SENTINELS") == 1);
        }
        master.kill();
        crate::common::wait_for(&format!("our sentinels: {ours}: both to answer the replica"), DEADLINE, || {
            sentinels.iter().all(|s| s.master_port() == Some(replica.port))
        });
        for s in &sentinels {
            let flags = s.peer_field("mymaster", "flags").unwrap_or_default();
            assert!(!flags.contains("s_down"), "our sentinels: {ours}: the peer answers PING: {flags}");
        }
    }
}

/// SENTINEL is-master-down-by-addr asks the other sentinels about the master's own address for
/// as long as it is down, also once a failover has promoted a replica and is reconfiguring the
/// others (here: forever, as that replica ignores SLAVEOF). A real sentinel is the reference.
#[test]
fn other_sentinels_are_asked_about_the_old_master_during_a_failover() {
    let _turn = one_at_a_time();
    for ours in [false, true] {
        let master = Node::start("master", Impl::Real, &[]);
        let promoted = start_replica("replica", Impl::Real, &master, &[]);
        let stuck = Node::start_with_config(
            "stuck-replica",
            Impl::Real,
            "rename-command SLAVEOF SLAVEOF-OFF\nreplica-priority 0\n",
            &strs(&master.replicaof_args()),
        );
        wait_in_sync(&master, &promoted);
        wait_in_sync(&master, &stuck);
        let peer = FakeServer::start(|args| fake_server::sentinel_peer(args, fake_server::vote_for_asker));
        let asked = || peer.got("SENTINEL");
        let peer_line = format!(
            "sentinel known-sentinel mymaster 127.0.0.1 {} 1234567890123456789012345678901234567890\n",
            peer.port
        );
        let sentinel = SentinelProc::start_with(ours, master.port, 1, &peer_line);
        crate::common::wait_for("the sentinel to find both replicas", DEADLINE, || sentinel.count("REPLICAS") == 2);

        master.kill();
        crate::common::wait_for(&format!("our sentinel: {ours}: the promotion"), DEADLINE, || {
            sentinel.master_port() == Some(promoted.port)
        });
        let before = asked().len();
        crate::common::wait_for("two more questions to the peer", DEADLINE, || asked().len() >= before + 2);
        let asked = asked();
        let ports: Vec<&str> = asked.iter().map(|(_, args)| args[3].as_str()).collect();
        let master_port = master.port.to_string();
        assert!(
            ports.iter().all(|p| *p == master_port),
            "our sentinel: {ours}: asked about {ports:?}, not {master_port}"
        );
    }
}

/// A master that takes PUBLISH but never delivers messages to subscribers: the pub/sub link
/// hears nothing for 3 publish periods and is closed and opened again (sentinelCheckAndReconnect
/// counts only traffic on that link; the hellos' PUBLISH replies come on the other). Periods
/// shortened with SENTINEL DEBUG. A real sentinel is the reference.
#[test]
fn a_pubsub_link_that_hears_nothing_is_reopened() {
    fn silent_master(args: &[String]) -> String {
        match args.first().map(|a| a.to_ascii_uppercase()).as_deref() {
            Some("PING") => "+PONG\r\n".into(),
            Some("PUBLISH") => ":1\r\n".into(),
            Some("SUBSCRIBE") => "*3\r\n$9\r\nsubscribe\r\n$18\r\n__sentinel__:hello\r\n:1\r\n".into(),
            Some("INFO") => {
                let info = "# Server\r\nrun_id:0123456789012345678901234567890123456789\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n";
                format!("${}\r\n{info}\r\n", info.len())
            }
            _ => "+OK\r\n".into(),
        }
    }
    for ours in [false, true] {
        let master = FakeServer::start(silent_master);
        let sentinel = SentinelProc::start(ours, master.port, 2);
        for (param, ms) in [("min-link-reconnect-period", "300"), ("publish-period", "200")] {
            let set = sentinel.call(&["SENTINEL", "DEBUG", param, ms]);
            assert_eq!(set, Some(Reply::Status("OK".into())), "{param}");
        }
        let pubsub_links = || master.got("SUBSCRIBE").len();
        crate::common::wait_for(&format!("our sentinel: {ours}: the pub/sub link reopened twice"), DEADLINE, || {
            pubsub_links() >= 3
        });
        assert!(!master.got("PUBLISH").is_empty(), "hellos were published");
    }
}

/// Without resolve-hostnames, a replica that announces a host name (replica-announce-ip) cannot be
/// used, so Sentinel leaves it out (Redis's createSentinelAddr refuses it and logs "Failed to
/// resolve hostname"); the other replica is found. A real sentinel is the reference.
#[test]
fn a_replica_announcing_a_host_name_is_left_out_without_resolve_hostnames() {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let plain = start_replica("replica", Impl::Real, &master, &[]);
    let named = start_replica("named-replica", Impl::Real, &master, &["--replica-announce-ip", "localhost"]);
    wait_in_sync(&master, &plain);
    wait_in_sync(&master, &named);
    for ours in [false, true] {
        let sentinel = SentinelProc::start(ours, master.port, 2);
        crate::common::wait_for("the sentinel to find a replica", DEADLINE, || sentinel.count("REPLICAS") >= 1);
        assert_eq!(sentinel.count("REPLICAS"), 1, "our sentinel: {ours}");
        assert_eq!(sentinel.replica_field(plain.port, "ip").as_deref(), Some("127.0.0.1"), "our sentinel: {ours}");
        crate::common::wait_for("the refusal in the log", DEADLINE, || {
            sentinel.process.file("sentinel.log").contains("Failed to resolve hostname 'localhost'")
        });
    }
}

/// A sentinel that moves (a new announce-port here) under one master is moved under the other
/// masters it watches too, at once: one +sentinel-address-switch and a +sentinel-address-update
/// for the others (sentinelUpdateSentinelAddressInAllMasters). A real sentinel is the reference.
#[test]
fn a_sentinel_that_moves_is_moved_under_every_master() {
    let _turn = one_at_a_time();
    let masters = [Node::start("master-1", Impl::Real, &[]), Node::start("master-2", Impl::Real, &[])];
    let monitors = [("m1", masters[0].port, 2), ("m2", masters[1].port, 2)];
    for ours in [false, true] {
        let a = SentinelProc::start_monitoring(ours, &monitors);
        let b = SentinelProc::start_monitoring(ours, &monitors);
        for (name, _, _) in monitors {
            crate::common::wait_for("a to know b under both masters", DEADLINE, || {
                a.call(&["SENTINEL", "SENTINELS", name]).is_some_and(|r| r.array().len() == 1)
            });
        }
        let mut sub = crate::common::Client::connect(a.port);
        sub.send_raw(&crate::common::encode(&[b"SUBSCRIBE", b"+sentinel-address-update"]));
        sub.read_reply();

        let new_port = crate::common::free_port().to_string();
        let set = b.call(&["SENTINEL", "CONFIG", "SET", "announce-port", &new_port]);
        assert_eq!(set, Some(Reply::Status("OK".into())), "our sentinels: {ours}");
        let update = next_event(&mut sub, "+sentinel-address-update", DEADLINE);
        let (_, text) = update.unwrap_or_else(|| panic!("our sentinels: {ours}: no +sentinel-address-update"));
        assert!(text.ends_with(" 1 additional matching instances"), "our sentinels: {ours}: {text}");
        assert!(text.contains(&format!(" {new_port} @ ")), "our sentinels: {ours}: {text}");
        for (name, _, _) in monitors {
            let port = a.peer_field(name, "port");
            assert_eq!(port.as_deref(), Some(new_port.as_str()), "our sentinels: {ours}: under {name}");
        }
    }
}

/// A full disk: the commands that change the configuration answer that it could not be saved,
/// in 7.0's words (SET included); a vote asked with IS-MASTER-DOWN-BY-ADDR is still answered.
/// A real sentinel is the reference.
#[test]
fn a_sentinel_on_a_full_disk_says_so_for_changes_and_still_votes() {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    for ours in [false, true] {
        let disk = crate::common::SmallDisk::mount("256k");
        let bin = if ours { crate::common::OUR_SENTINEL } else { crate::common::REAL_SENTINEL };
        let sentinel = crate::common::SentinelProcess::start_in(disk.path(), bin, |port, dir| {
            let text = format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {} 2\n",
                dir.display(),
                master.port
            );
            (text, Vec::new())
        });
        // Fill what is left of the disk.
        let filler = disk.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        while std::io::Write::write_all(&mut file, &[0u8; 4096]).is_ok() {}
        drop(file);

        let vote = sentinel.call(&[
            "SENTINEL",
            "IS-MASTER-DOWN-BY-ADDR",
            "127.0.0.1",
            &master.port.to_string(),
            "1",
            "0123456789012345678901234567890123456789",
        ]);
        let vote = vote.map(|raw| Reply::parse(&raw));
        let expected = Reply::Array(vec![
            Reply::Int(0),
            Reply::Bulk(b"0123456789012345678901234567890123456789".to_vec()),
            Reply::Int(1),
        ]);
        assert_eq!(vote, Some(expected), "our sentinel: {ours}");
        let failed = b"-ERR Failed to save config file. Check server logs.\r\n".to_vec();
        for change in [
            &["SENTINEL", "SET", "mymaster", "quorum", "1"][..],
            &["SENTINEL", "CONFIG", "SET", "resolve-hostnames", "yes"],
            &["SENTINEL", "FLUSHCONFIG"],
            &["SENTINEL", "REMOVE", "mymaster"],
        ] {
            assert_eq!(sentinel.call(change), Some(failed.clone()), "our sentinel: {ours}: {change:?}");
        }
        drop(sentinel);
    }
}
