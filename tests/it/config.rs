//! redis.conf and command-line parsing, CONFIG GET/SET/REWRITE.

use crate::common::*;
use std::process::Command;
use std::time::Duration;

/// Debian's stock /etc/redis/redis.conf from redis-server 7.0.15 must load unchanged.
#[test]
fn debian_stock_redis_conf_loads() {
    let stock = std::fs::read_to_string("/etc/redis/redis.conf")
        .expect("/etc/redis/redis.conf missing: install Debian's redis-server (scripts/test.sh does)");
    // Only what must differ in a test is overridden on the command line (port, files, foreground).
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("pid").display().to_string();
    let s = Server::start_with_config(&stock, &["--daemonize", "no", "--pidfile", &pid]);
    let mut c = s.client();
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "hash-max-listpack-entries"]),
        "*2\r\n$25\r\nhash-max-listpack-entries\r\n$3\r\n512\r\n"
    );
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "client-output-buffer-limit"]), "*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n");
    wait_for("the pid file", Duration::from_secs(5), || std::path::Path::new(&pid).exists());
}

fn run_with_config(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.conf");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(OURS).arg(&path).output().expect("run");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_typo_stops_startup_with_the_fatal_block() {
    let (code, err) = run_with_config("port 6379\nmaxmemroy 1gb\n");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'maxmemroy 1gb'\nBad directive or wrong number of arguments\n"
    );
    // Redis aborts when a module does not load; this server loads none.
    let (code, err) = run_with_config("port 6379\nloadmodule /usr/lib/redis/mod.so a b\n");
    assert_eq!(code, 1);
    assert!(
        err.contains(
            ">>> 'loadmodule /usr/lib/redis/mod.so a b'\nCan't load module from /usr/lib/redis/mod.so: server aborting"
        ),
        "{err}"
    );
    let (code, err) = run_with_config("port 6379\nappendfsync sometimes\n");
    assert_eq!(code, 1);
    assert!(err.ends_with("argument(s) must be one of the following: everysec, always, no\n"), "{err}");
}

#[test]
fn fatal_block_matches_real_redis() {
    for bad in
        ["port abc", "maxmemory 1xb", "save 10", "bind", "requirepass \"a", "databases 0", "protected-mode maybe"]
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.conf");
        std::fs::write(&path, format!("{bad}\n")).unwrap();
        let ours = Command::new(OURS).arg(&path).output().unwrap();
        let real = Command::new(REAL_REDIS).arg(&path).output().unwrap();
        let real_err = String::from_utf8_lossy(&real.stderr);
        if !real_err.contains("FATAL") {
            continue; // e.g. `bind` alone is valid for Redis and fails later for another reason
        }
        assert_eq!(ours.status.code(), Some(1), "{bad}");
        assert_eq!(String::from_utf8_lossy(&ours.stderr), real_err, "{bad}");
    }
}

#[test]
fn command_line_options_override_the_file() {
    let s = Server::start_with_config("maxmemory 100mb\n", &["--maxmemory", "2gb", "--replicaof", "10.0.0.1", "6379"]);
    let mut c = s.client();
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$10\r\n2147483648\r\n");
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "replicaof"]), "*2\r\n$9\r\nreplicaof\r\n$13\r\n10.0.0.1 6379\r\n");
}

#[test]
fn config_set_is_atomic_and_errors_match_redis() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    for args in [
        vec!["CONFIG", "SET", "port", "abc"],
        vec!["CONFIG", "SET", "foo", "1"],
        vec!["CONFIG", "SET", "databases", "3"],
        vec!["CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"],
        vec!["CONFIG", "SET", "maxmemory"],
        vec!["CONFIG", "SET", "save", "10"],
        vec!["CONFIG", "SET", "loglevel", "x"],
        vec!["CONFIG", "SET", "timeout", "5", "hz", "x"],
        vec!["CONFIG", "SET", "dir", "/tmp"],
        vec!["CONFIG", "GET"],
        vec!["CONFIG", "RESETSTAT", "x"],
        vec!["CONFIG", "FOO"],
        vec!["CONFIG", "GET", "timeout"],
        vec!["CONFIG", "SET", "maxmemory", "1gb", "timeout", "7"],
        vec!["CONFIG", "GET", "maxmemory"],
        vec!["CONFIG", "GET", "timeout"],
        vec!["CONFIG", "GET", "slave-read-only"],
        vec!["CONFIG", "SET", "save", ""],
        vec!["CONFIG", "GET", "save"],
        vec!["CONFIG", "SET", "client-output-buffer-limit", "pubsub 64mb 16mb 30"],
        vec!["CONFIG", "GET", "client-output-buffer-limit"],
        vec!["CONFIG", "SET", "notify-keyspace-events", "KEA"],
        vec!["CONFIG", "GET", "notify-keyspace-events"],
        vec!["CONFIG", "REWRITE"],
    ] {
        assert_eq!(ours.client().cmd_str(&args), real.client().cmd_str(&args), "{args:?}");
    }
    // The failed pair in a multi-pair SET changed nothing.
    assert_eq!(ours.client().cmd_str(&["CONFIG", "GET", "timeout"]), "*2\r\n$7\r\ntimeout\r\n$1\r\n7\r\n");
}

#[test]
fn config_rewrite_keeps_comments_and_order() {
    let original = "# My server\nport 6379\n\n# memory\n# maxmemory <bytes>\nloglevel notice\n# end\n";
    let s = Server::start_with_config(original, &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "100mb"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "warning"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    let text = std::fs::read_to_string(s.dir.path().join("redis.conf")).unwrap();
    assert!(text.starts_with("# My server\nport "), "{text}");
    assert!(text.contains("# maxmemory <bytes>\nmaxmemory 100mb\n"), "{text}");
    assert!(text.contains("loglevel warning\n# end\n"), "{text}");
    // No temp files left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn config_set_port_rebinds() {
    let s = Server::start(&[]);
    let new_port = free_port();
    let mut c = s.client();
    assert_eq!(c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]), b"+OK\r\n");
    wait_for("the new port", Duration::from_secs(5), || Client::try_connect(new_port).is_ok());
    assert_eq!(Client::connect(new_port).cmd(&["PING"]), b"+PONG\r\n");
    assert!(Client::try_connect(s.port).is_err(), "old port still listening");
}

#[test]
fn features_not_built_yet_are_reported_once_in_one_warning() {
    let stock = std::fs::read_to_string("/etc/redis/redis.conf").expect("Debian's redis.conf");
    let s = Server::start_with_config(&stock, &["--daemonize", "no", "--pidfile", ""]);
    // The warning follows loading, which may finish after the first PING was answered.
    let warned = || s.log_text().contains("Ready to accept connections");
    wait_for_or("start-up logged", Duration::from_secs(10), warned, || s.log_text());
    let log = s.log_text();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("not implemented in this version yet")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains(" # These directives are accepted") && lines[0].contains("list-compress-depth"), "{log}");
}
