//! TLS (tls-port, tls-* directives, tls-replication) against Debian's redis-server and redis-cli
//! 7.0.15, with certificates each test makes with the openssl command: client authentication
//! modes through `redis-cli --tls`, reloading by CONFIG SET without dropping a connected client,
//! Redis's errors and log lines for bad certificates, a plain and a TLS port side by side, and
//! replication over TLS both ways with real Redis.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslStream, SslVerifyMode};

use crate::common::{encode, free_port, wait_for, wait_for_or, Server, OURS, REAL_REDIS};

/// A CA and the server and client certificates it signed, in a temp dir.
pub(crate) struct Certs {
    pub(crate) dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Certs {
    /// CA `ca`, and `server` and `client` signed by it; `server.enc.key` is server.key under the
    /// passphrase "s3cret".
    pub(crate) fn new() -> Certs {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        openssl(d, &["genrsa", "-out", "ca.key", "2048"]);
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-sha256",
                "-key",
                "ca.key",
                "-days",
                "30",
                "-subj",
                "/CN=Test CA",
                "-out",
                "ca.crt",
            ],
        );
        let certs = Certs { dir };
        certs.sign("server", "ca");
        certs.sign("client", "ca");
        openssl(
            certs.dir.path(),
            &["rsa", "-in", "server.key", "-aes256", "-passout", "pass:s3cret", "-out", "server.enc.key"],
        );
        certs
    }

    /// A key and a certificate for `name`, signed by the CA `ca`.
    pub(crate) fn sign(&self, name: &str, ca: &str) {
        let d = self.dir.path();
        openssl(d, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
        openssl(
            d,
            &[
                "req",
                "-new",
                "-sha256",
                "-key",
                &format!("{name}.key"),
                "-subj",
                &format!("/CN={name}"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-sha256",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.crt"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "30",
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }

    /// A second CA, `ca2`, unrelated to the first.
    pub(crate) fn new_ca(&self, name: &str) {
        let d = self.dir.path();
        openssl(d, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-sha256",
                "-key",
                &format!("{name}.key"),
                "-days",
                "30",
                "-subj",
                &format!("/CN={name}"),
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }

    pub(crate) fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }

    /// The server's TLS directives as command-line options.
    fn server_args(&self) -> Vec<String> {
        vec![
            "--tls-cert-file".into(),
            self.path("server.crt"),
            "--tls-key-file".into(),
            self.path("server.key"),
            "--tls-ca-cert-file".into(),
            self.path("ca.crt"),
        ]
    }
}

fn start(bin: &str, certs: &Certs, tls_port: u16, extra: &[&str]) -> Server {
    let port = tls_port.to_string();
    let mut args: Vec<String> = vec!["--tls-port".into(), port];
    args.extend(certs.server_args());
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if bin == OURS {
        Server::start(&args)
    } else {
        Server::start_real(&args)
    }
}

/// `redis-cli --tls` with the CA, and the client certificate when `client` names one; its output
/// (trimmed) or the error it printed.
fn cli(certs: &Certs, port: u16, client: Option<&str>, cmd: &[&str]) -> String {
    let mut c = Command::new("redis-cli");
    c.args(["-h", "127.0.0.1", "-p", &port.to_string(), "--tls", "--cacert", &certs.path("ca.crt")]);
    if let Some(name) = client {
        c.args(["--cert", &certs.path(&format!("{name}.crt")), "--key", &certs.path(&format!("{name}.key"))]);
    }
    c.args(cmd);
    let out = c.output().expect("run redis-cli");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text.is_empty() {
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    } else {
        text
    }
}

/// A TLS client that stays connected (for "clients are not dropped").
pub(crate) struct TlsClient(SslStream<TcpStream>);

impl TlsClient {
    pub(crate) fn connect(certs: &Certs, ca: &str, port: u16) -> Result<TlsClient, String> {
        let mut b = SslConnector::builder(SslMethod::tls()).map_err(|e| e.to_string())?;
        b.set_ca_file(certs.path(ca)).map_err(|e| e.to_string())?;
        b.set_certificate_file(certs.path("client.crt"), SslFiletype::PEM).map_err(|e| e.to_string())?;
        b.set_private_key_file(certs.path("client.key"), SslFiletype::PEM).map_err(|e| e.to_string())?;
        b.set_verify(SslVerifyMode::PEER);
        let connector = b.build();
        let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(20))).map_err(|e| e.to_string())?;
        let mut config = connector.configure().map_err(|e| e.to_string())?;
        config.set_verify_hostname(false);
        let s = config.connect("localhost", tcp).map_err(|e| e.to_string())?;
        Ok(TlsClient(s))
    }

    /// One command, and its reply's first line (these tests need no more).
    pub(crate) fn cmd(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.0.write_all(&encode(&a)).expect("write");
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            let n = self.0.read(&mut byte).expect("read");
            assert!(n > 0, "the server closed the TLS connection");
            line.push(byte[0]);
        }
        String::from_utf8_lossy(&line[..line.len() - 2]).into_owned()
    }
}

/// tls-auth-clients yes, optional and no, each with and without a client certificate, through
/// redis-cli --tls: ours answers exactly when real Redis does. The server key is the encrypted
/// one, opened with tls-key-file-pass.
#[test]
fn client_authentication_modes_match_real_redis() {
    let certs = Certs::new();
    for bin in [OURS, REAL_REDIS] {
        let tls_port = free_port();
        let key = certs.path("server.enc.key");
        let s = start(bin, &certs, tls_port, &["--tls-key-file", &key, "--tls-key-file-pass", "s3cret"]);
        let mut plain = s.client();
        let mut seen = Vec::new();
        for mode in ["yes", "optional", "no"] {
            assert_eq!(plain.cmd_str(&["CONFIG", "SET", "tls-auth-clients", mode]), "+OK\r\n");
            for client in [Some("client"), None] {
                let pong = cli(&certs, tls_port, client, &["PING"]) == "PONG";
                seen.push((mode, client.is_some(), pong));
            }
        }
        assert_eq!(
            seen,
            vec![
                ("yes", true, true),
                ("yes", false, false),
                ("optional", true, true),
                ("optional", false, true),
                ("no", true, true),
                ("no", false, true),
            ],
            "{bin}"
        );
    }
}

/// A plain port and a TLS port serve the same data; INFO reports the plain port; CONFIG SET
/// tls-port moves the TLS port and leaves the plain one alone.
#[test]
fn plain_and_tls_ports_side_by_side() {
    let certs = Certs::new();
    let tls_port = free_port();
    let s = start(OURS, &certs, tls_port, &[]);
    let mut plain = s.client();
    assert_eq!(plain.cmd_str(&["SET", "k", "plain"]), "+OK\r\n");
    assert_eq!(cli(&certs, tls_port, Some("client"), &["GET", "k"]), "plain");
    assert_eq!(cli(&certs, tls_port, Some("client"), &["SET", "k", "tls"]), "OK");
    assert_eq!(plain.cmd_str(&["GET", "k"]), "$3\r\ntls\r\n");
    let info = plain.cmd_str(&["INFO", "server"]);
    assert!(info.contains(&format!("tcp_port:{}\r\n", s.port)), "{info}");
    // The Lua debugger takes the raw socket over: refused on TLS connections, not on plain ones.
    let refused = cli(&certs, tls_port, Some("client"), &["SCRIPT", "DEBUG", "YES"]);
    assert_eq!(refused, "ERR SCRIPT DEBUG is not available on TLS connections");
    assert_eq!(plain.cmd_str(&["SCRIPT", "DEBUG", "NO"]), "+OK\r\n");
    let moved = free_port();
    assert_eq!(plain.cmd_str(&["CONFIG", "SET", "tls-port", &moved.to_string()]), "+OK\r\n");
    assert_eq!(cli(&certs, moved, Some("client"), &["GET", "k"]), "tls");
    assert!(TcpStream::connect(("127.0.0.1", tls_port)).is_err(), "the old TLS port still listens");
    assert_eq!(plain.cmd_str(&["PING"]), "+PONG\r\n");
}

/// `port 0`: TLS only, and INFO's tcp_port and the start-up line show the TLS port, as in Redis.
#[test]
fn tls_only_server_reports_its_tls_port() {
    let certs = Certs::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let tls_port = free_port();
    let mut args = vec!["--port".to_string(), "0".into(), "--bind".into(), "127.0.0.1".into()];
    args.extend(["--tls-port".to_string(), tls_port.to_string(), "--save".into(), String::new()]);
    args.extend(["--dir".to_string(), dir.path().display().to_string()]);
    let log = dir.path().join("log");
    args.extend(["--logfile".to_string(), log.display().to_string()]);
    args.extend(certs.server_args());
    let mut cmd = Command::new(OURS);
    cmd.args(&args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child = crate::common::die_with_parent(&mut cmd).spawn().expect("spawn");
    wait_for("the TLS port", Duration::from_secs(15), || cli(&certs, tls_port, Some("client"), &["PING"]) == "PONG");
    let info = cli(&certs, tls_port, Some("client"), &["INFO", "server"]);
    assert!(info.contains(&format!("tcp_port:{tls_port}")), "{info}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains(&format!("Running mode=standalone, port={tls_port}.")), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

/// CONFIG SET of new certificates (another CA): a client connected before keeps its connection,
/// new connections get the new certificate, and the old CA no longer verifies it.
#[test]
fn config_set_reloads_certificates_without_dropping_clients() {
    let certs = Certs::new();
    certs.new_ca("ca2");
    certs.sign("server2", "ca2");
    let tls_port = free_port();
    let s = start(OURS, &certs, tls_port, &["--tls-auth-clients", "no"]);
    let mut before = TlsClient::connect(&certs, "ca.crt", tls_port).expect("connect with the first CA");
    assert_eq!(before.cmd(&["SET", "k", "v"]), "+OK");
    let mut plain = s.client();
    let reply = plain.cmd_str(&[
        "CONFIG",
        "SET",
        "tls-cert-file",
        &certs.path("server2.crt"),
        "tls-key-file",
        &certs.path("server2.key"),
    ]);
    assert_eq!(reply, "+OK\r\n");
    assert_eq!(before.cmd(&["GET", "k"]), "$1", "the client connected before the reload");
    assert!(TlsClient::connect(&certs, "ca.crt", tls_port).is_err(), "the old CA verified the new certificate");
    let mut after = TlsClient::connect(&certs, "ca2.crt", tls_port).expect("connect with the new CA");
    assert_eq!(after.cmd(&["PING"]), "+PONG");
}

/// A certificate renewed at the same path: CONFIG SET of the path already set reads the files
/// again (Redis's VOLATILE_CONFIG), as `redisctl tls --apply` relies on; the same on both servers.
#[test]
fn config_set_of_the_same_path_reads_a_renewed_certificate() {
    for bin in [REAL_REDIS, OURS] {
        let certs = Certs::new();
        certs.new_ca("ca2");
        certs.sign("server2", "ca2");
        let tls_port = free_port();
        let s = start(bin, &certs, tls_port, &["--tls-auth-clients", "no"]);
        TlsClient::connect(&certs, "ca.crt", tls_port).expect("connect with the first CA");
        // The renewal: new files under the old names.
        for ext in ["crt", "key"] {
            std::fs::copy(certs.path(&format!("server2.{ext}")), certs.path(&format!("server.{ext}"))).expect("copy");
        }
        let reply = s.client().cmd_str(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &certs.path("server.crt"),
            "tls-key-file",
            &certs.path("server.key"),
        ]);
        assert_eq!(reply, "+OK\r\n", "{bin}");
        assert!(
            TlsClient::connect(&certs, "ca2.crt", tls_port).is_ok(),
            "{bin}: the renewed certificate is not served"
        );
        assert!(TlsClient::connect(&certs, "ca.crt", tls_port).is_err(), "{bin}: the old certificate is still served");
    }
}

/// A bad certificate in CONFIG SET: Redis's reply and log line, the old value and context kept.
#[test]
fn bad_certificate_in_config_set_keeps_the_old_context() {
    let certs = Certs::new();
    let mut replies = Vec::new();
    let mut logs = Vec::new();
    for bin in [OURS, REAL_REDIS] {
        let tls_port = free_port();
        let s = start(bin, &certs, tls_port, &[]);
        let mut plain = s.client();
        let missing = s.dir.path().join("missing.crt").display().to_string();
        replies.push(plain.cmd_str(&["CONFIG", "SET", "tls-cert-file", &missing]));
        let garbage = s.dir.path().join("garbage.crt");
        std::fs::write(&garbage, "not a certificate\n").expect("write");
        replies.push(plain.cmd_str(&["CONFIG", "SET", "tls-cert-file", &garbage.display().to_string()]));
        replies.push(plain.cmd_str(&["CONFIG", "SET", "tls-protocols", "SSLv3"]));
        replies.push(plain.cmd_str(&["CONFIG", "SET", "tls-ciphers", "NO-SUCH-CIPHER"]));
        replies.push(plain.cmd_str(&["CONFIG", "SET", "tls-ciphersuites", "TLS_NO_SUCH_SUITE"]));
        let dh = s.dir.path().join("dh.pem").display().to_string();
        replies.push(plain.cmd_str(&["CONFIG", "SET", "tls-dh-params-file", &dh]));
        std::fs::write(&dh, "garbage\n").expect("write");
        replies.push(plain.cmd_str(&["CONFIG", "SET", "tls-dh-params-file", &dh]));
        replies.push(plain.cmd_str(&["CONFIG", "GET", "tls-cert-file"]));
        assert_eq!(cli(&certs, tls_port, Some("client"), &["PING"]), "PONG", "{bin}: the old context");
        let log = s.log_text();
        let lines: Vec<String> = log
            .lines()
            .filter(|l| l.contains("Failed to") || l.contains("Invalid tls-protocols") || l.contains("DH params"))
            .map(|l| l.split_once(" # ").map_or(l, |(_, t)| t).replace(&s.dir.path().display().to_string(), "DIR"))
            .collect();
        logs.push(lines);
    }
    let n = replies.len() / 2;
    assert_eq!(replies[..n], replies[n..], "CONFIG SET replies, ours then Redis's");
    assert!(replies[0].starts_with("-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs."), "{}", replies[0]);
    assert_eq!(logs[0], logs[1], "log lines, ours then Redis's");
    assert_eq!(logs[0].len(), 7, "{:?}", logs[0]);
}

/// A bad certificate at start-up: Redis's log lines and exit code 1.
#[test]
fn bad_certificate_at_startup_exits_1_with_redis_log_lines() {
    let mut logs = Vec::new();
    for bin in [OURS, REAL_REDIS] {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("log");
        let missing = dir.path().join("nope.crt");
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &free_port().to_string(), "--tls-port", &free_port().to_string(), "--bind", "127.0.0.1"]);
        cmd.args(["--tls-cert-file", &missing.display().to_string(), "--tls-key-file", "/nonexistent.key"]);
        cmd.args(["--tls-auth-clients", "no", "--logfile", &log.display().to_string()]);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        let status = crate::common::die_with_parent(&mut cmd).status().expect("run");
        assert_eq!(status.code(), Some(1), "{bin}");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.contains("TLS") || l.contains("certificate"))
            .map(|l| l.split_once(" # ").map_or(l, |(_, t)| t).replace(&dir.path().display().to_string(), "DIR"))
            .collect();
        logs.push(lines);
    }
    assert_eq!(logs[0], logs[1], "ours, then Redis's");
    assert_eq!(
        logs[0],
        vec![
            "Failed to load certificate: DIR/nope.crt: error:80000002:system library::No such file or directory",
            "Failed to configure TLS. Check logs for more info.",
        ]
    );
}

/// Replication over TLS: the replica reaches its master's TLS port with tls-replication, its
/// client certificate checked by the master (tls-auth-clients yes), and follows the stream.
fn replicate_over_tls(master_bin: &str, replica_bin: &str) {
    let certs = Certs::new();
    let (m_tls, r_tls) = (free_port(), free_port());
    let common = ["--tls-replication", "yes", "--repl-diskless-sync-delay", "0"];
    let master = start(master_bin, &certs, m_tls, &common);
    let mut m = master.client();
    assert_eq!(m.cmd_str(&["RPUSH", "list", "a", "b", "c"]), ":3\r\n");
    let replica = start(replica_bin, &certs, r_tls, &common);
    let mut r = replica.client();
    assert_eq!(r.cmd_str(&["REPLICAOF", "127.0.0.1", &m_tls.to_string()]), "+OK\r\n");
    let logs = || format!("master:\n{}\nreplica:\n{}", master.log_text(), replica.log_text());
    wait_for_or(
        "the replica's link over TLS",
        Duration::from_secs(30),
        || r.cmd_str(&["INFO", "replication"]).contains("master_link_status:up"),
        logs,
    );
    assert_eq!(r.cmd_str(&["LLEN", "list"]), ":3\r\n");
    assert_eq!(m.cmd_str(&["SET", "after", "sync"]), "+OK\r\n");
    wait_for("the stream over TLS", Duration::from_secs(30), || r.cmd_str(&["GET", "after"]) == "$4\r\nsync\r\n");
    // The replica announced its TLS port (tls-replication), and the master sees it online.
    let info = m.cmd_str(&["INFO", "replication"]);
    assert!(info.contains(&format!("port={r_tls},state=online")), "{info}");
}

#[test]
fn replication_over_tls_our_master_real_replica() {
    replicate_over_tls(OURS, REAL_REDIS);
}

#[test]
fn replication_over_tls_real_master_our_replica() {
    replicate_over_tls(REAL_REDIS, OURS);
}

/// Our replica loading the RDB straight from a TLS socket (repl-diskless-load), a real master,
/// with a client certificate of its own.
#[test]
fn replication_over_tls_real_master_our_replica_loading_from_the_socket() {
    let certs = Certs::new();
    let (m_tls, r_tls) = (free_port(), free_port());
    let master = start(REAL_REDIS, &certs, m_tls, &["--tls-replication", "yes", "--repl-diskless-sync-delay", "0"]);
    let mut m = master.client();
    for i in 0..200 {
        m.cmd(&["SET", &format!("k{i}"), &"x".repeat(1000)]);
    }
    // The link's own client certificate (tls-client-cert-file), not the server's.
    let (ccert, ckey) = (certs.path("client.crt"), certs.path("client.key"));
    let replica = start(
        OURS,
        &certs,
        r_tls,
        &[
            "--tls-replication",
            "yes",
            "--repl-diskless-load",
            "on-empty-db",
            "--tls-client-cert-file",
            &ccert,
            "--tls-client-key-file",
            &ckey,
        ],
    );
    let mut r = replica.client();
    assert_eq!(r.cmd_str(&["REPLICAOF", "127.0.0.1", &m_tls.to_string()]), "+OK\r\n");
    let logs = || format!("master:\n{}\nreplica:\n{}", master.log_text(), replica.log_text());
    wait_for_or(
        "the replica's link over TLS",
        Duration::from_secs(30),
        || r.cmd_str(&["INFO", "replication"]).contains("master_link_status:up"),
        logs,
    );
    assert_eq!(r.cmd_str(&["DBSIZE"]), ":200\r\n");
    assert!(replica.log_text().contains("Loading DB in memory"), "{}", replica.log_text());
}

/// Without a CA, tls-replication cannot be configured: Redis's line, and CONFIG SET refused.
#[test]
fn tls_replication_needs_a_ca() {
    let certs = Certs::new();
    let s = Server::start(&["--tls-cert-file", &certs.path("server.crt"), "--tls-key-file", &certs.path("server.key")]);
    let mut c = s.client();
    let reply = c.cmd_str(&["CONFIG", "SET", "tls-replication", "yes"]);
    assert!(reply.contains("Unable to update TLS configuration"), "{reply}");
    assert!(
        s.log_text().contains("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!"),
        "{}",
        s.log_text()
    );
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "tls-replication"]), "*2\r\n$15\r\ntls-replication\r\n$2\r\nno\r\n");
}

/// Socket activation: systemd's sockets named `redis-tls` (the TLS socket unit's
/// FileDescriptorName) are served with TLS, beside the plain ones named `redis`, whatever
/// tls-port says; CONFIG SET tls-port is refused, as the socket unit owns the addresses.
#[test]
fn socket_activation_serves_the_tls_sockets_with_tls() {
    let certs = Certs::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, tls_port) = (free_port(), free_port());
    let log = dir.path().join("log");
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.args(["-l", &format!("127.0.0.1:{port}"), "-l", &format!("127.0.0.1:{tls_port}"), "--fdname=redis:redis-tls"]);
    cmd.arg(OURS).args(["--save", "", "--logfile", &log.display().to_string()]).args(certs.server_args());
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child =
        crate::common::die_with_parent(&mut cmd).spawn().expect("systemd-socket-activate (package systemd)");
    wait_for("the activated server", Duration::from_secs(15), || {
        crate::common::Client::try_connect(port).map(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n").unwrap_or(false)
    });
    assert_eq!(cli(&certs, tls_port, Some("client"), &["PING"]), "PONG");
    let mut c = crate::common::Client::connect(port);
    let reply = c.cmd_str(&["CONFIG", "SET", "tls-port", &free_port().to_string()]);
    assert!(reply.contains("systemd socket activation"), "{reply}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("from systemd socket activation ('redis-tls')"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

/// Socket activation with only plain sockets (a templated instance's unit holds just its unix
/// socket): tls-port is not the socket units', so the server binds it itself and serves TLS there.
#[test]
fn socket_activation_without_tls_sockets_binds_tls_port() {
    let certs = Certs::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, tls_port) = (free_port(), free_port());
    let log = dir.path().join("log");
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.args(["-l", &format!("127.0.0.1:{port}"), "--fdname=redis"]);
    cmd.arg(OURS).args(["--save", "", "--logfile", &log.display().to_string()]);
    cmd.args(["--tls-port", &tls_port.to_string()]).args(certs.server_args());
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child =
        crate::common::die_with_parent(&mut cmd).spawn().expect("systemd-socket-activate (package systemd)");
    wait_for("the activated server", Duration::from_secs(15), || {
        crate::common::Client::try_connect(port).map(|mut c| c.cmd(&["PING"]) == b"+PONG\r\n").unwrap_or(false)
    });
    assert_eq!(cli(&certs, tls_port, Some("client"), &["PING"]), "PONG");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains(&format!("Serving tls-port {tls_port} itself")), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

/// `openssl s_client` to the TLS port: the protocol and cipher it got, or its error.
fn s_client(certs: &Certs, port: u16, version: &str) -> String {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-CAfile",
            &certs.path("ca.crt"),
            version,
            "-brief",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl s_client");
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

/// tls-protocols, tls-ciphers and tls-dh-params-file take effect as OpenSSL reads them: TLS 1.2
/// only, one DHE cipher on the given parameters; CONFIG SET tls-protocols opens TLS 1.3 again.
#[test]
fn protocols_ciphers_and_dh_params_take_effect() {
    let certs = Certs::new();
    openssl(certs.dir.path(), &["dhparam", "-dsaparam", "-out", "dh.pem", "2048"]);
    let tls_port = free_port();
    let dh = certs.path("dh.pem");
    let s = start(
        OURS,
        &certs,
        tls_port,
        &[
            "--tls-auth-clients",
            "no",
            "--tls-protocols",
            "TLSv1.2",
            "--tls-ciphers",
            "DHE-RSA-AES256-GCM-SHA384",
            "--tls-dh-params-file",
            &dh,
        ],
    );
    let v12 = s_client(&certs, tls_port, "-tls1_2");
    assert!(v12.contains("Protocol version: TLSv1.2"), "{v12}");
    assert!(v12.contains("Ciphersuite: DHE-RSA-AES256-GCM-SHA384"), "{v12}");
    let v13 = s_client(&certs, tls_port, "-tls1_3");
    assert!(v13.contains("alert protocol version"), "{v13}");
    let mut c = s.client();
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "tls-protocols", "TLSv1.2 TLSv1.3"]), "+OK\r\n");
    let v13 = s_client(&certs, tls_port, "-tls1_3");
    assert!(v13.contains("Protocol version: TLSv1.3"), "{v13}");
}

/// A replica whose client certificate the master's CA did not sign is refused by a real master
/// (tls-auth-clients yes): the link stays down, and our replica logs why.
#[test]
fn replica_with_an_untrusted_client_certificate_is_refused() {
    let certs = Certs::new();
    certs.new_ca("ca2");
    certs.sign("stranger", "ca2");
    let (m_tls, r_tls) = (free_port(), free_port());
    let master = start(REAL_REDIS, &certs, m_tls, &["--tls-replication", "yes"]);
    let (cert, key) = (certs.path("stranger.crt"), certs.path("stranger.key"));
    let replica = start(
        OURS,
        &certs,
        r_tls,
        &["--tls-replication", "yes", "--tls-client-cert-file", &cert, "--tls-client-key-file", &key],
    );
    let mut r = replica.client();
    assert_eq!(r.cmd_str(&["REPLICAOF", "127.0.0.1", &m_tls.to_string()]), "+OK\r\n");
    wait_for_or(
        "the replica to log the refused link",
        Duration::from_secs(30),
        || {
            replica
                .log_text()
                .lines()
                .filter(|l| l.contains("MASTER") || l.contains("SYNC"))
                .any(|l| l.contains("alert"))
        },
        || format!("master:\n{}\nreplica:\n{}", master.log_text(), replica.log_text()),
    );
    assert!(r.cmd_str(&["INFO", "replication"]).contains("master_link_status:down"));
}

/// The TLS socket unit names its sockets as the server serves them with TLS, hands them to the
/// server's service, and is shipped in the package (as an asset: installed, not enabled).
#[test]
fn the_tls_socket_unit_names_its_sockets_redis_tls() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::fs::read_to_string(root.join("systemd/redis-server-rs-tls.socket")).expect("the TLS socket unit");
    let options: Vec<&str> = unit.lines().filter(|l| !l.starts_with('#')).collect();
    for must in ["FileDescriptorName=redis-tls", "Service=redis-server-rs.service", "BindIPv6Only=ipv6-only"] {
        assert!(options.contains(&must), "{must} missing from the unit:\n{unit}");
    }
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(cargo.contains(r#"["systemd/redis-server-rs-tls.socket", "usr/lib/systemd/system/", "644"]"#));
    // libssl3 comes from cargo-deb's shared-library scan of the binaries.
    assert!(cargo.contains(r#"depends = "$auto, "#));
}
