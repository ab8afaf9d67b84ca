//! `redisctl user add|set|del|list`: users in redis.conf's `user` lines or in the aclfile, the
//! password only from standard input and stored as its SHA-256, never shown; --apply through ACL
//! SETUSER/DELUSER or ACL LOAD on a running server; the files written load in Debian's
//! redis-server as they do in ours.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{Client, Server};

const CTL: &str = env!("CARGO_BIN_EXE_redisctl");
const PASSWORD: &str = "correct-horse-battery";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn redisctl(config: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(CTL);
    cmd.arg("--config").arg(config).args(args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run redisctl");
    if let Some(mut input) = child.stdin.take() {
        std::io::Write::write_all(&mut input, stdin.unwrap_or("").as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("redisctl output");
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD),
        "the password appeared in redisctl's output: {} {}",
        out.stdout,
        out.stderr
    );
    out
}

fn ok(out: Out) -> Out {
    assert_eq!(out.code, 0, "redisctl failed: {}{}", out.stdout, out.stderr);
    out
}

fn auth(port: u16, user: &str, password: &str) -> String {
    Client::connect(port).cmd_str(&["AUTH", user, password])
}

fn hash() -> String {
    redis_rs::util::sha256::hex(PASSWORD.as_bytes())
}

/// A running server whose redis.conf has `user` lines: each change edits the file in place and,
/// with --apply, reaches the running server; the file then starts Debian's redis-server with
/// the same users.
#[test]
fn user_lines_of_redis_conf_edited_and_applied() {
    let server = Server::start_with_config("# the admin's users\nuser alice on nopass ~* &* +@all\n", &[]);
    let conf = server.dir.path().join("redis.conf");
    // redisctl finds the running server from the file's port.
    let mut text = std::fs::read_to_string(&conf).expect("read");
    text += &format!("port {}\nbind 127.0.0.1\n", server.port);
    std::fs::write(&conf, &text).expect("write");

    let out = ok(redisctl(
        &conf,
        &["--apply", "user", "add", "bob", "on", "~app:*", "-@all", "+@read", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    ));
    assert!(out.stdout.contains("applied to the running server"), "{}", out.stdout);
    let text = std::fs::read_to_string(&conf).expect("read");
    let line = format!("user bob on #{} ~app:* resetchannels -@all +@read", hash());
    assert!(text.contains(&format!("user alice on nopass ~* &* +@all\n{line}\n")), "{text}");
    assert!(text.starts_with("# the admin's users\n"), "{text}");
    assert_eq!(auth(server.port, "bob", PASSWORD), "+OK\r\n");
    let mut c = Client::connect(server.port);
    c.cmd_str(&["AUTH", "bob", PASSWORD]);
    assert!(c.cmd_str(&["SET", "app:1", "x"]).starts_with("-NOPERM"));

    ok(redisctl(&conf, &["--apply", "user", "set", "bob", "+set"], None));
    let mut c = Client::connect(server.port);
    c.cmd_str(&["AUTH", "bob", PASSWORD]);
    assert_eq!(c.cmd_str(&["SET", "app:1", "x"]), "+OK\r\n");
    let text = std::fs::read_to_string(&conf).expect("read");
    assert!(text.contains(&format!("{line} +set\n")), "{text}");

    // The same file starts Debian's redis-server with the same users.
    let real = Server::start_real_with_config(&text.replace(&format!("port {}\n", server.port), ""), &[]);
    assert_eq!(auth(real.port, "bob", PASSWORD), "+OK\r\n");
    let users = |port| Client::connect(port).cmd_str(&["ACL", "LIST"]);
    assert_eq!(users(real.port), users(server.port));

    let listed = ok(redisctl(&conf, &["--json", "user", "list"], None));
    let json: serde_json::Value = serde_json::from_str(&listed.stdout).expect("JSON");
    let names: Vec<&str> = json["users"].as_array().expect("users").iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);

    let out = ok(redisctl(&conf, &["--apply", "--json", "user", "del", "bob"], None));
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(report["changed"], true);
    assert!(report["applied"].as_str().is_some_and(|a| a.contains("ACL DELUSER bob")), "{report}");
    assert!(auth(server.port, "bob", PASSWORD).starts_with("-WRONGPASS"));
    let text = std::fs::read_to_string(&conf).expect("read");
    assert!(!text.contains("user bob"), "{text}");
}

/// With `aclfile`, the users go in that file (redis.conf is left alone), and --apply is ACL LOAD.
#[test]
fn the_aclfile_is_edited_when_the_config_names_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let acl = dir.path().join("users.acl");
    std::fs::write(&acl, "user default on nopass ~* &* +@all\n").expect("write acl");
    let server = Server::start_with_config(&format!("aclfile {}\n", acl.display()), &[]);
    let conf = server.dir.path().join("redis.conf");
    let mut text = std::fs::read_to_string(&conf).expect("read");
    text += &format!("port {}\n", server.port);
    std::fs::write(&conf, &text).expect("write");

    let out = ok(redisctl(
        &conf,
        &["--apply", "user", "add", "app", "on", "+@all", "~*", "--password-stdin"],
        Some(PASSWORD),
    ));
    assert!(out.stdout.contains("ACL LOAD"), "{}", out.stdout);
    assert_eq!(std::fs::read_to_string(&conf).expect("read"), text, "redis.conf is not touched");
    let users = std::fs::read_to_string(&acl).expect("read acl");
    assert_eq!(users, format!("user default on nopass ~* &* +@all\nuser app on #{} ~* resetchannels +@all\n", hash()));
    assert_eq!(auth(server.port, "app", PASSWORD), "+OK\r\n");

    // Debian's redis-server loads the file as it is.
    let real = Server::start_real_with_config(&format!("aclfile {}\n", acl.display()), &[]);
    assert_eq!(auth(real.port, "app", PASSWORD), "+OK\r\n");

    ok(redisctl(&conf, &["--apply", "user", "del", "app"], None));
    assert_eq!(std::fs::read_to_string(&acl).expect("read acl"), "user default on nopass ~* &* +@all\n");
    assert!(auth(server.port, "app", PASSWORD).starts_with("-WRONGPASS"));
}

/// Passwords on the command line, bad rules and users that do not exist are refused, and
/// nothing is written.
#[test]
fn refusals_write_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("redis.conf");
    let text = "port 0\nuser alice on nopass ~* +@all\n";
    std::fs::write(&conf, text).expect("write");
    let refused = |args: &[&str], code: i32, says: &str| {
        let out = redisctl(&conf, args, None);
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert_eq!(std::fs::read_to_string(&conf).expect("read"), text, "{args:?} wrote the file");
    };
    refused(&["user", "add", "bob", "on", &format!(">{PASSWORD}")], 2, "never taken on the command line");
    refused(&["user", "set", "alice", &format!("<{PASSWORD}")], 2, "never taken on the command line");
    refused(&["user", "add", "bob", "+nosuchcommand"], 2, "Unknown command");
    refused(&["user", "add", "alice", "on"], 1, "already exists");
    refused(&["user", "set", "carol", "on"], 1, "no user carol");
    refused(&["user", "del", "carol"], 1, "no user carol");
    refused(&["user", "add", "bob", "--password-stdin"], 1, "no password on standard input");
}

/// `check` loads the users as the server does at start-up: a rule the server refuses, or an
/// aclfile it cannot read, is reported (with the server's words) instead of "OK".
#[test]
fn check_reports_users_the_server_would_refuse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sentinel = dir.path().join("absent-sentinel.conf");
    let sentinel = sentinel.display().to_string();
    for (text, says) in [
        ("port 6399\nuser bob on +nosuchcommand\n", "Error loading ACL rule '+nosuchcommand' for the user named 'bob'"),
        ("port 6399\naclfile /nonexistent/users.acl\n", "Error loading ACLs, opening file '/nonexistent/users.acl'"),
    ] {
        let conf = dir.path().join("redis.conf");
        std::fs::write(&conf, text).expect("write");
        let out = redisctl(&conf, &["--sentinel-config", &sentinel, "check"], None);
        assert_eq!(out.code, 1, "{text}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(says), "{text}: {}", out.stderr);
    }
}
