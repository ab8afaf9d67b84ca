//! `redisctl tls`: the TLS directives written after their template comments in Debian's stock
//! redis.conf with every other line kept, refused (the file untouched, the key never shown) for a
//! key that is not the certificate's or a file the redis user cannot read, and --apply reloading
//! a running server so that `redis-cli --tls` connects with the new certificate while a client
//! connected before stays connected.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{free_port, wait_for, Client, Server};
use crate::tls::{Certs, TlsClient};

const CTL: &str = env!("CARGO_BIN_EXE_redisctl");
const STOCK: &str = include_str!("../../etc/redis.conf");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs redisctl; no key's contents may appear in what it prints.
fn redisctl(certs: &Certs, config: &Path, args: &[&str]) -> Out {
    let out =
        Command::new(CTL).arg("--config").arg(config).args(args).stdin(Stdio::null()).output().expect("run redisctl");
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for entry in std::fs::read_dir(certs.dir.path()).expect("cert dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".key") {
            continue;
        }
        let pem = std::fs::read_to_string(entry.path()).expect("read key");
        // A line from the middle of the key's base64.
        let secret = pem.lines().nth(5).expect("a PEM key has lines");
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret) && !out.stderr.contains("PRIVATE KEY-----"),
            "{name}'s contents appeared in redisctl's output"
        );
    }
    out
}

/// Certificates the redis user can read, as an admin would install them: the directory and
/// certificates world-readable, each key owned by redis with mode 600.
fn readable_certs() -> Certs {
    let certs = Certs::new();
    set_mode(certs.dir.path(), 0o755);
    let redis =
        nix::unistd::User::from_name("redis").expect("getpwnam").expect("the redis user (Debian's redis-server)");
    for entry in std::fs::read_dir(certs.dir.path()).expect("cert dir").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "key") {
            nix::unistd::chown(&path, Some(redis.uid), Some(redis.gid)).expect("chown the key to redis");
            set_mode(&path, 0o600);
        } else {
            set_mode(&path, 0o644);
        }
    }
    certs
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn stock_config() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("redis.conf");
    std::fs::write(&conf, STOCK).expect("write redis.conf");
    (dir, conf)
}

/// The new lines go right after their templates; every line of the stock file is still there,
/// in order; the same command again changes nothing.
#[test]
fn tls_lines_go_after_their_templates_keeping_every_comment() {
    let certs = readable_certs();
    let (_dir, conf) = stock_config();
    let (cert, key, ca) = (certs.path("server.crt"), certs.path("server.key"), certs.path("ca.crt"));
    let args = ["--json", "tls", "--cert", &cert, "--key", &key, "--ca", &ca, "--port", "6380", "--replication"];
    let out = redisctl(&certs, &conf, &args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("\"changed\":true"), "{}", out.stdout);
    let text = std::fs::read_to_string(&conf).expect("read");
    for (template, line) in [
        ("# tls-port 6379\n", "tls-port 6380\n".to_string()),
        ("# tls-cert-file redis.crt\n", format!("tls-cert-file {cert}\n")),
        ("# tls-key-file redis.key\n", format!("tls-key-file {key}\n")),
        ("# tls-ca-cert-file ca.crt\n", format!("tls-ca-cert-file {ca}\n")),
        ("# tls-replication yes\n", "tls-replication yes\n".to_string()),
    ] {
        assert!(text.contains(&format!("{template}{line}")), "{line:?} is not right after {template:?}");
    }
    let added = ["tls-port ", "tls-cert-file ", "tls-key-file ", "tls-ca-cert-file ", "tls-replication "];
    let kept: Vec<&str> = text.lines().filter(|l| !added.iter().any(|a| l.starts_with(a))).collect();
    assert_eq!(kept, STOCK.lines().collect::<Vec<_>>(), "a line of the stock file changed");

    let again = redisctl(&certs, &conf, &args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("\"changed\":false"), "{}", again.stdout);
    assert_eq!(std::fs::read_to_string(&conf).expect("read"), text);
}

/// A key that is not the certificate's: refused, nothing written.
#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let certs = readable_certs();
    let (_dir, conf) = stock_config();
    let (cert, key, ca) = (certs.path("server.crt"), certs.path("client.key"), certs.path("ca.crt"));
    let out = redisctl(&certs, &conf, &["tls", "--cert", &cert, "--key", &key, "--ca", &ca, "--port", "6380"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!("the private key in {key} does not match the certificate in {cert}")),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&conf).expect("read"), STOCK);
}

/// A key only root can read, and a CA file in a directory the redis user cannot enter: each is
/// named, nothing written.
#[test]
fn a_file_the_redis_user_cannot_read_is_refused() {
    let certs = readable_certs();
    let (_dir, conf) = stock_config();
    let (cert, key, ca) = (certs.path("server.crt"), certs.path("server.key"), certs.path("ca.crt"));
    nix::unistd::chown(Path::new(&key), Some(nix::unistd::Uid::from_raw(0)), None).expect("chown the key to root");
    let out = redisctl(&certs, &conf, &["tls", "--cert", &cert, "--key", &key, "--ca", &ca, "--port", "6380"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!("the user redis, which the server runs as, cannot read {key}")),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&conf).expect("read"), STOCK);

    // Readable by its own bits, but behind a directory only root may enter.
    let private = certs.dir.path().join("private");
    std::fs::create_dir(&private).expect("mkdir");
    set_mode(&private, 0o700);
    let hidden = private.join("ca.crt");
    std::fs::copy(&ca, &hidden).expect("copy");
    set_mode(&hidden, 0o644);
    let key = certs.path("client.key");
    let (cert, hidden) = (certs.path("client.crt"), hidden.display().to_string());
    let out = redisctl(&certs, &conf, &["tls", "--cert", &cert, "--key", &key, "--ca", &hidden, "--port", "6380"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(&format!("cannot read {hidden}")), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&conf).expect("read"), STOCK);
}

/// `redis-cli --tls` with a CA and a client certificate: PONG, or what went wrong.
fn ping(certs: &Certs, port: u16, ca: &str, client: &str) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--tls", "--cacert", &certs.path(ca)])
        .args(["--cert", &certs.path(&format!("{client}.crt")), "--key", &certs.path(&format!("{client}.key"))])
        .arg("PING")
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli");
    format!("{}{}", String::from_utf8_lossy(&out.stdout).trim(), String::from_utf8_lossy(&out.stderr).trim())
}

/// A running server with the first CA's certificate; --apply installs one from another CA: new
/// TLS clients need the new CA from then on, and clients connected before (plain and TLS) are
/// still served.
#[test]
fn apply_reloads_the_certificates_of_a_running_server() {
    let certs = readable_certs();
    certs.new_ca("ca2");
    certs.sign("server2", "ca2");
    certs.sign("client2", "ca2");
    // The new files readable by redis too.
    for f in ["ca2.crt", "server2.crt", "client2.crt", "server2.key", "client2.key"] {
        set_mode(Path::new(&certs.path(f)), 0o644);
    }
    let tls_port = free_port();
    let tls_port_s = tls_port.to_string();
    let (cert, key, ca) = (certs.path("server.crt"), certs.path("server.key"), certs.path("ca.crt"));
    let server = Server::start_with_config(
        "",
        &["--tls-port", &tls_port_s, "--tls-cert-file", &cert, "--tls-key-file", &key, "--tls-ca-cert-file", &ca],
    );
    let conf = server.dir.path().join("redis.conf");
    // redisctl finds the running server from the file's port.
    std::fs::write(&conf, format!("port {}\nbind 127.0.0.1\n", server.port)).expect("write");
    assert_eq!(ping(&certs, tls_port, "ca.crt", "client"), "PONG");
    let mut before = Client::connect(server.port);
    assert_eq!(before.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
    let mut tls_before = TlsClient::connect(&certs, "ca.crt", tls_port).expect("a TLS client with the first CA");
    assert_eq!(tls_before.cmd(&["PING"]), "+PONG");

    let (cert2, key2, ca2) = (certs.path("server2.crt"), certs.path("server2.key"), certs.path("ca2.crt"));
    let out = redisctl(
        &certs,
        &conf,
        &["--apply", "tls", "--cert", &cert2, "--key", &key2, "--ca", &ca2, "--port", &tls_port_s],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("applied to the running server"), "{}", out.stdout);
    wait_for("the new certificate served", Duration::from_secs(20), || {
        ping(&certs, tls_port, "ca2.crt", "client2") == "PONG"
    });
    assert_ne!(ping(&certs, tls_port, "ca.crt", "client"), "PONG", "the old CA still works");
    assert_eq!(before.cmd_str(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(tls_before.cmd(&["GET", "k"]), "$1", "the TLS client connected before the reload was dropped");
    let mut c = Client::connect(server.port);
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "tls-cert-file"]),
        format!("*2\r\n$13\r\ntls-cert-file\r\n${}\r\n{cert2}\r\n", cert2.len())
    );
}

/// `--sentinel` writes Debian's stock sentinel.conf (made TLS-only with `port 0`), and our
/// Sentinel started on it serves `redis-cli --tls` on the TLS port.
#[test]
fn sentinel_conf_gets_tls_and_the_sentinel_serves_it() {
    let certs = readable_certs();
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("sentinel.conf");
    let stock = include_str!("../../etc/sentinel.conf")
        .replace("\nport 26379\n", "\nport 0\nbind 127.0.0.1\n")
        .replace("\nsupervised systemd\n", "\nsupervised no\n")
        .replace("\ndir /var/lib/redis\n", &format!("\ndir {}\n", dir.path().display()));
    std::fs::write(&conf, &stock).expect("write sentinel.conf");
    let tls_port = free_port().to_string();
    let (cert, key, ca) = (certs.path("server.crt"), certs.path("server.key"), certs.path("ca.crt"));
    let mut args = vec!["--sentinel-config", conf.to_str().expect("utf-8 path"), "tls", "--sentinel"];
    args.extend(["--cert", &cert, "--key", &key, "--ca", &ca, "--port", &tls_port, "--replication"]);
    let out = redisctl(&certs, Path::new("/nonexistent/redis.conf"), &args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&conf).expect("read");
    for line in [format!("tls-port {tls_port}"), format!("tls-cert-file {cert}"), "tls-replication yes".into()] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
    }
    let mut cmd = Command::new(crate::common::OUR_SENTINEL);
    cmd.arg(&conf).current_dir(dir.path()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let child = crate::common::die_with_parent(&mut cmd).spawn().expect("start our sentinel");
    let mut sentinel = Killed(child);
    let ask = || {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &tls_port, "--tls", "--cacert", &ca])
            .args(["--cert", &certs.path("client.crt"), "--key", &certs.path("client.key")])
            .args(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"])
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    wait_for("our Sentinel on its TLS port", Duration::from_secs(20), || {
        assert!(matches!(sentinel.0.try_wait(), Ok(None)), "our Sentinel exited on the edited sentinel.conf");
        !ask().is_empty()
    });
    assert_eq!(ask(), "127.0.0.1\n6379");
}

/// A child process killed when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
