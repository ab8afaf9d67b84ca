//! Sentinel over TLS, as redis-sentinel 7.0.15 does it: a TLS-only deployment (port 0, tls-port,
//! tls-replication yes, certificates from a test CA) of a master, a replica and three Sentinels,
//! ours in a mixed quorum with Debian's redis-sentinel. The Sentinels find each other through
//! hellos that announce their TLS ports; our Sentinel fails over on SENTINEL FAILOVER (no
//! election: it alone promotes and reconfigures), then all agree that the killed new master is
//! down and fail over again, all over TLS; `redis-cli --tls` asks our Sentinel throughout.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{die_with_parent, free_port, wait_for_or, OURS, OUR_SENTINEL, REAL_REDIS, REAL_SENTINEL};
use crate::tls::Certs;

const WAIT: Duration = Duration::from_secs(60);

/// A server or Sentinel that listens on its TLS port only, in a temp dir of its own.
struct TlsProcess {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    name: String,
}

impl TlsProcess {
    /// Starts `bin` on the config `conf(tls_port, dir)`, written to `<dir>/NAME.conf`; ready once
    /// `redis-cli --tls` gets PONG (and, for a Sentinel, its ID is saved). A port another process
    /// took first is retried on another.
    fn start(name: &str, bin: &str, certs: &Certs, conf: impl Fn(u16, &Path) -> String) -> TlsProcess {
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let path = dir.path().join(format!("{name}.conf"));
            std::fs::write(&path, conf(port, dir.path())).expect("write config");
            let mut cmd = Command::new(bin);
            cmd.arg(&path).current_dir(dir.path());
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            let child = die_with_parent(&mut cmd).spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
            let mut p = TlsProcess { child, port, dir, name: name.to_string() };
            if p.wait_ready(certs, &path) {
                return p;
            }
        }
        panic!("{bin} did not start on a TLS port");
    }

    fn wait_ready(&mut self, certs: &Certs, conf: &Path) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if cli(certs, self.port, &["PING"]) == "PONG" {
                let text = std::fs::read_to_string(conf).unwrap_or_default();
                return !text.contains("sentinel monitor") || text.contains("\nsentinel myid ");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        format!("--- {} (TLS port {}):\n{log}", self.name, self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TlsProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `redis-cli --tls` with the CA and the client certificate: its output (trimmed), or what it
/// printed on stderr.
fn cli(certs: &Certs, port: u16, cmd: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--tls", "--cacert", &certs.path("ca.crt")])
        .args(["--cert", &certs.path("client.crt"), "--key", &certs.path("client.key")])
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text.is_empty() {
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    } else {
        text
    }
}

/// The TLS directives of every process: no plain port, TLS links to masters and peers.
fn tls_conf(certs: &Certs, tls_port: u16, dir: &Path) -> String {
    format!(
        "port 0\ntls-port {tls_port}\nbind 127.0.0.1\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\n\
         tls-replication yes\nlogfile {}\n",
        certs.path("server.crt"),
        certs.path("server.key"),
        certs.path("ca.crt"),
        dir.join("log").display()
    )
}

fn server(name: &str, bin: &str, certs: &Certs, replica_of: Option<u16>) -> TlsProcess {
    TlsProcess::start(name, bin, certs, |port, dir| {
        let mut text = tls_conf(certs, port, dir);
        text.push_str(&format!("dir {}\nsave \"\"\nrepl-diskless-sync-delay 0\n", dir.display()));
        if let Some(master) = replica_of {
            text.push_str(&format!("replicaof 127.0.0.1 {master}\n"));
        }
        text
    })
}

fn sentinel(name: &str, bin: &str, certs: &Certs, master: u16) -> TlsProcess {
    TlsProcess::start(name, bin, certs, |port, dir| {
        let mut text = tls_conf(certs, port, dir);
        text.push_str(&format!(
            "sentinel monitor mymaster 127.0.0.1 {master} 2\nsentinel down-after-milliseconds mymaster 2000\n\
             sentinel failover-timeout mymaster 20000\n"
        ));
        text
    })
}

/// One field of a `redis-cli` SENTINEL MASTER reply (names and values on alternate lines).
fn field(reply: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = reply.lines().collect();
    lines.chunks(2).find(|kv| kv[0] == name).and_then(|kv| kv.get(1)).map(|v| v.to_string())
}

/// The ports of the other Sentinels `port` lists for mymaster (SENTINEL SENTINELS).
fn peer_ports(certs: &Certs, port: u16) -> Vec<String> {
    let reply = cli(certs, port, &["SENTINEL", "SENTINELS", "mymaster"]);
    let lines: Vec<&str> = reply.lines().collect();
    let mut ports: Vec<String> = lines.windows(2).filter(|kv| kv[0] == "port").map(|kv| kv[1].to_string()).collect();
    ports.sort();
    ports
}

fn failover_over_tls(server_bin: &str) {
    let certs = Certs::new();
    let master = server("master", server_bin, &certs, None);
    let replica = server("replica", server_bin, &certs, Some(master.port));
    let mut all = vec![master, replica];
    let logs = |all: &[TlsProcess]| all.iter().map(TlsProcess::log).collect::<Vec<_>>().join("\n");
    wait_for_or(
        "the replica's link over TLS",
        WAIT,
        || cli(&certs, all[1].port, &["INFO", "replication"]).contains("master_link_status:up"),
        || logs(&all),
    );
    let (master_port, replica_port) = (all[0].port, all[1].port);
    all.push(sentinel("ours-1", OUR_SENTINEL, &certs, master_port));
    all.push(sentinel("real", REAL_SENTINEL, &certs, master_port));
    all.push(sentinel("ours-2", OUR_SENTINEL, &certs, master_port));
    let sentinels: Vec<u16> = all[2..].iter().map(|s| s.port).collect();

    // Each Sentinel reached the master and its replica over TLS, and found the two others
    // through hellos that announce their TLS ports (port is 0).
    for (i, &port) in sentinels.iter().enumerate() {
        let mut others: Vec<String> = sentinels.iter().filter(|&&p| p != port).map(|p| p.to_string()).collect();
        others.sort();
        wait_for_or(
            &format!("sentinel {i}: the replica and the two other sentinels at their TLS ports"),
            WAIT,
            || {
                let m = cli(&certs, port, &["SENTINEL", "MASTER", "mymaster"]);
                field(&m, "flags").as_deref() == Some("master")
                    && field(&m, "num-slaves").as_deref() == Some("1")
                    && peer_ports(&certs, port) == others
            },
            || format!("{}\n{}", cli(&certs, port, &["SENTINEL", "MASTER", "mymaster"]), logs(&all)),
        );
    }
    assert_eq!(
        cli(&certs, sentinels[0], &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]),
        format!("127.0.0.1\n{master_port}")
    );

    // Our Sentinel fails over by itself (SENTINEL FAILOVER needs no election): it promotes the
    // replica and makes the old master its replica, both over TLS.
    wait_for_or(
        "SENTINEL FAILOVER accepted by our sentinel",
        WAIT,
        || cli(&certs, sentinels[0], &["SENTINEL", "FAILOVER", "mymaster"]) == "OK",
        || logs(&all),
    );
    let master_is = |port: u16, what: &str, all: &[TlsProcess]| {
        for (i, &s) in sentinels.iter().enumerate() {
            wait_for_or(
                &format!("sentinel {i}: {what}"),
                WAIT,
                || cli(&certs, s, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]) == format!("127.0.0.1\n{port}"),
                || logs(all),
            );
        }
    };
    master_is(replica_port, "the replica promoted by our sentinel", &all);
    wait_for_or(
        "the old master replicating from the promoted replica over TLS",
        WAIT,
        || {
            let info = cli(&certs, master_port, &["INFO", "replication"]);
            info.contains(&format!("master_port:{replica_port}")) && info.contains("master_link_status:up")
        },
        || logs(&all),
    );
    // Every Sentinel sees the old master as a healthy replica, so it can be promoted back.
    for (i, &port) in sentinels.iter().enumerate() {
        wait_for_or(
            &format!("sentinel {i}: the old master listed as a replica"),
            WAIT,
            || {
                let r = cli(&certs, port, &["SENTINEL", "REPLICAS", "mymaster"]);
                field(&r, "port").as_deref() == Some(&master_port.to_string())
                    && field(&r, "flags").as_deref() == Some("slave")
                    && field(&r, "master-link-status").as_deref() == Some("ok")
            },
            || logs(&all),
        );
    }

    // The new master dies: the Sentinels agree it is down, elect a leader and promote the old
    // master back.
    all[1].kill();
    master_is(master_port, "the old master promoted after the kill", &all);
    wait_for_or(
        "the promoted server's role",
        WAIT,
        || cli(&certs, master_port, &["ROLE"]).starts_with("master"),
        || logs(&all),
    );
}

/// A real redis-server master and replica, our two Sentinels and Debian's.
#[test]
fn mixed_quorum_fails_over_a_real_master_over_tls() {
    failover_over_tls(REAL_REDIS);
}

/// The same deployment with our server as master and replica.
#[test]
fn mixed_quorum_fails_over_our_master_over_tls() {
    failover_over_tls(OURS);
}
