//! protected-mode, maxclients, timeout, bind, unixsocket, rename-command.

use crate::common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Connects from `src` (a loopback address) to the server and returns what a PING gets.
fn ping_from(src: &str, dst: &str, port: u16) -> Vec<u8> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&format!("{src}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    sock.connect(&format!("{dst}:{port}").parse::<SocketAddr>().unwrap().into()).unwrap();
    let mut s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    if out.is_empty() {
        let _ = s.read(&mut out);
    }
    out
}

#[test]
fn protected_mode_refuses_non_local_peers_like_redis() {
    // Redis 7.0.15 counts only 127.0.0.1 and ::1 (and unix sockets) as local: 127.0.0.2 is refused.
    let args = ["--bind", "127.0.0.1", "127.0.0.2", "--protected-mode", "yes"];
    let ours = Server::start(&args);
    let real = Server::start_real(&args);
    let ours_reply = ping_from("127.0.0.2", "127.0.0.2", ours.port);
    let real_reply = ping_from("127.0.0.2", "127.0.0.2", real.port);
    assert!(real_reply.starts_with(b"-DENIED"), "{}", String::from_utf8_lossy(&real_reply));
    assert_eq!(String::from_utf8_lossy(&ours_reply), String::from_utf8_lossy(&real_reply));
    assert_eq!(ours.client().cmd(&["PING"]), b"+PONG\r\n");
    // With a password, non-local peers are let in (and must authenticate).
    let ours = Server::start(&["--bind", "127.0.0.1", "127.0.0.2", "--requirepass", "secret"]);
    let mut c = Client::try_connect_addr("127.0.0.2", ours.port);
    assert_eq!(c.cmd_str(&["GET", "x"]), "-NOAUTH Authentication required.\r\n");
    // protected-mode no lets everyone in.
    let open = Server::start(&["--bind", "127.0.0.1", "127.0.0.2", "--protected-mode", "no"]);
    let r = ping_from("127.0.0.2", "127.0.0.2", open.port);
    assert!(r.starts_with(b"+PONG"), "{}", String::from_utf8_lossy(&r));
}

#[test]
fn maxclients_refuses_with_redis_error() {
    let s = Server::start(&["--maxclients", "2"]);
    let mut a = s.client();
    // The harness's readiness probe may still be counted until the server sees it close.
    wait_for("the probe connection to go", Duration::from_secs(10), || {
        a.cmd_str(&["CLIENT", "LIST"]).matches("id=").count() == 1
    });
    let mut b = s.client();
    // Both are registered once they have been served.
    assert_eq!(a.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(b.cmd(&["PING"]), b"+PONG\r\n");
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert_eq!(buf, b"-ERR max number of clients reached\r\n");
    assert_eq!(a.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = Server::start(&["--timeout", "1"]);
    let mut idle = s.client();
    let mut c = s.client();
    wait_for("the idle client to be closed", Duration::from_secs(10), || {
        c.cmd_str(&["CLIENT", "LIST"]).matches("id=").count() == 1
    });
    assert!(idle.closed());
}

#[test]
fn optional_bind_addresses_and_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("redis.sock");
    let sock_s = sock.display().to_string();
    // 192.0.2.123 is not an address of this machine: with '-' it is skipped instead of failing.
    let s = Server::start(&["--bind", "127.0.0.1", "-192.0.2.123", "--unixsocket", &sock_s, "--unixsocketperm", "700"]);
    assert_eq!(s.client().cmd(&["PING"]), b"+PONG\r\n");
    let mut u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    u.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    u.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_required_bind_address_that_cannot_be_bound_stops_startup() {
    let out = std::process::Command::new(OURS)
        .args(["--port", &free_port().to_string(), "--bind", "192.0.2.123"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Failed listening on port"));
}

#[test]
fn rename_command_renames_and_disables() {
    let s = Server::start_with_config("rename-command CONFIG myconfig\nrename-command FLUSHALL \"\"\n", &[]);
    let mut c = s.client();
    assert!(c.cmd_str(&["CONFIG", "GET", "port"]).starts_with("-ERR unknown command 'CONFIG'"));
    assert!(c.cmd_str(&["MYCONFIG", "GET", "port"]).starts_with("*2\r\n"));
    assert!(c.cmd_str(&["FLUSHALL"]).starts_with("-ERR unknown command 'FLUSHALL'"));
}

#[test]
fn port_zero_serves_only_the_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("only.sock");
    let log = dir.path().join("log");
    let mut child = std::process::Command::new(OURS)
        .args(["--port", "0", "--unixsocket", &sock.display().to_string(), "--logfile", &log.display().to_string()])
        .spawn()
        .unwrap();
    wait_for("the unix socket", Duration::from_secs(10), || std::os::unix::net::UnixStream::connect(&sock).is_ok());
    let mut u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    u.write_all(b"CONFIG GET port\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = u.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"*2\r\n$4\r\nport\r\n$1\r\n0\r\n");
    let _ = child.kill();
    let _ = child.wait();
    // Without TCP and without a unix socket there is nothing to serve.
    let out = std::process::Command::new(OURS).args(["--port", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Configured to not listen anywhere, exiting."));
}
