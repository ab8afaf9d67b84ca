//! The sentinel monitoring loop against real servers: it finds the replicas from the master's
//! INFO, fellow sentinels (Debian's redis-sentinel) from their hellos, and sees the master go
//! down (SDOWN, then ODOWN once the other sentinel agrees).

use std::time::{Duration, Instant};

use redis_rs::sentinel::model::{MasterConfig, SentinelConfig};
use redis_rs::sentinel::monitor::Runtime;
use redis_rs::sentinel::state::Sentinel;

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Drives the loop (ticks every 50 ms, link events as they come) until `done` holds.
async fn run_until(
    rt: &mut Runtime,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<
        redis_rs::sentinel::link::LinkEvent<redis_rs::sentinel::monitor::Tag>,
    >,
    within: Duration,
    what: &str,
    mut done: impl FnMut(&Runtime) -> bool,
) {
    let deadline = Instant::now() + within;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    while !done(rt) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; events: {:?}", rt.sentinel.events);
        tokio::select! {
            _ = tick.tick() => rt.tick(now_ms()),
            Some(ev) = events.recv() => rt.handle_event(ev, now_ms()),
        }
    }
}

fn has_event(rt: &Runtime, kind: &str) -> bool {
    rt.sentinel.events.iter().any(|e| e.kind == kind)
}

#[test]
fn discovers_replicas_and_sentinels_and_sees_the_master_down() {
    let master = crate::common::Server::start_real(&[]);
    let replica = crate::common::Server::start_real(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    crate::common::wait_for("the replica to sync", Duration::from_secs(30), || {
        replica.client().cmd_str(&["INFO", "replication"]).contains("master_link_status:up")
    });
    // A real sentinel on the same master, quorum 2: the master is ODOWN only when both agree.
    let sentinel_dir = tempfile::tempdir().expect("temp dir");
    let sentinel_port = crate::common::free_port();
    let conf = sentinel_dir.path().join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {sentinel_port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {} 2\nsentinel down-after-milliseconds mymaster 1000\n",
            sentinel_dir.path().display(),
            master.port
        ),
    )
    .expect("write sentinel.conf");
    let mut cmd = std::process::Command::new("/usr/bin/redis-sentinel");
    cmd.arg(&conf)
        .current_dir(sentinel_dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut real_sentinel = crate::common::die_with_parent(&mut cmd).spawn().expect("start redis-sentinel");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mut cfg = SentinelConfig::default();
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", master.port, 2);
        m.down_after_ms = 1000;
        cfg.masters.push(m);
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let mut rt = Runtime::new(Sentinel::from_config(cfg, now_ms()), crate::common::free_port(), tx, now_ms());

        run_until(&mut rt, &mut events, Duration::from_secs(30), "+slave", |rt| has_event(rt, "+slave")).await;
        let replicas: Vec<u16> = rt.sentinel.masters[0].replicas.iter().map(|r| r.port).collect();
        assert_eq!(replicas, vec![replica.port]);
        run_until(&mut rt, &mut events, Duration::from_secs(30), "+sentinel", |rt| has_event(rt, "+sentinel")).await;
        assert_eq!(rt.sentinel.masters[0].sentinels.len(), 1);
        assert_eq!(rt.sentinel.masters[0].sentinels[0].port, sentinel_port);
        assert!(rt.sentinel.flush_needed, "discoveries are to be saved");

        master.signal(libc::SIGSTOP);
        run_until(&mut rt, &mut events, Duration::from_secs(30), "+sdown", |rt| has_event(rt, "+sdown")).await;
        run_until(&mut rt, &mut events, Duration::from_secs(30), "+odown", |rt| has_event(rt, "+odown")).await;
        let odown =
            rt.sentinel.events.iter().find(|e| e.kind == "+odown").map(|e| e.message.clone()).unwrap_or_default();
        assert!(odown.ends_with("#quorum 2/2"), "{odown}");
        master.signal(libc::SIGCONT);
        run_until(&mut rt, &mut events, Duration::from_secs(30), "-sdown", |rt| has_event(rt, "-sdown")).await;
    });
    let _ = real_sentinel.kill();
    let _ = real_sentinel.wait();
}

/// Alone (quorum 1), our loop fails a dead real master over to one of its two real replicas,
/// re-points the other, and switches its own record to the promoted one.
#[test]
fn fails_over_a_real_master() {
    let master = crate::common::Server::start_real(&[]);
    let a = crate::common::Server::start_real(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let b = crate::common::Server::start_real(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    for r in [&a, &b] {
        crate::common::wait_for("a replica to sync", Duration::from_secs(30), || {
            r.client().cmd_str(&["INFO", "replication"]).contains("master_link_status:up")
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mut cfg = SentinelConfig::default();
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", master.port, 1);
        m.down_after_ms = 1000;
        m.failover_timeout_ms = 10_000;
        cfg.masters.push(m);
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let mut rt = Runtime::new(Sentinel::from_config(cfg, now_ms()), crate::common::free_port(), tx, now_ms());
        run_until(&mut rt, &mut events, Duration::from_secs(30), "both replicas", |rt| {
            rt.sentinel.masters[0].replicas.len() == 2 && rt.sentinel.masters[0].replicas.iter().all(|r| r.info_ms != 0)
        })
        .await;
        master.signal(libc::SIGKILL);
        run_until(&mut rt, &mut events, Duration::from_secs(60), "+switch-master", |rt| {
            has_event(rt, "+switch-master")
        })
        .await;
        let kinds: Vec<&str> = rt
            .sentinel
            .events
            .iter()
            .map(|e| e.kind.as_str())
            .filter(|k| {
                k.starts_with("+failover")
                    || matches!(
                        *k,
                        "+sdown"
                            | "+odown"
                            | "+try-failover"
                            | "+elected-leader"
                            | "+selected-slave"
                            | "+promoted-slave"
                            | "+switch-master"
                    )
            })
            .collect();
        let wanted = [
            "+sdown",
            "+odown",
            "+try-failover",
            "+elected-leader",
            "+failover-state-select-slave",
            "+selected-slave",
            "+failover-state-send-slaveof-noone",
            "+failover-state-wait-promotion",
            "+promoted-slave",
            "+failover-state-reconf-slaves",
            "+failover-end",
            "+switch-master",
        ];
        for w in wanted {
            assert!(kinds.contains(&w), "missing {w} in {kinds:?}");
        }
        let new_port = rt.sentinel.masters[0].settings.port;
        assert!(new_port == a.port || new_port == b.port, "switched to {new_port}");
        let (promoted, other) = if new_port == a.port { (&a, &b) } else { (&b, &a) };
        assert!(promoted.client().cmd_str(&["ROLE"]).contains("master"));
        crate::common::wait_for("the other replica to follow the new master", Duration::from_secs(30), || {
            other.client().cmd_str(&["INFO", "replication"]).contains(&format!("master_port:{new_port}"))
        });
        // The old master is now among the replicas of the record.
        assert!(rt.sentinel.masters[0].replicas.iter().any(|r| r.port == master.port));
    });
}
