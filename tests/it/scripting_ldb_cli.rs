//! `redis-cli --ldb` and `--ldb-sync-mode` sessions, driven as a user types them on a terminal
//! (redis-cli runs on a pty made by util-linux's `script`, as a dumb terminal), against our server and Debian's
//! redis-server 7.0.15: the whole terminal output must be the same, and so must what the
//! session leaves in the data (rolled back by --ldb's forked session, kept by the sync one).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::Server;

const SCRIPT: &str = "local total = 0\n\
for i = 1, #ARGV do\n\
  total = total + tonumber(ARGV[i])\n\
end\n\
redis.call('SET', KEYS[1], total)\n\
local t = {name = 'job', items = {1, 2, 3}}\n\
redis.breakpoint()\n\
return {total, redis.call('GET', KEYS[1])}\n";

/// What the user types, one line each.
const TYPED: &[&str] = &[
    "help",
    "step",
    "print",
    "break 5 8",
    "break",
    "continue",
    "print total",
    "eval redis.call('INCR', 'counter')",
    "redis GET counter",
    "redis NOSUCH",
    "maxlen 10",
    "list",
    "continue",
    "print t",
    "whole",
    "break -8",
    "break 0",
    "continue",
    // Back at redis-cli's own prompt once the session has ended.
    "quit",
];

/// Runs one redis-cli debugging session on a pty; returns its output as the terminal shows it.
fn session(port: u16, mode: &str, script: &std::path::Path) -> String {
    let cli = format!("redis-cli -p {port} {mode} --eval {} total , 1 2 3", script.to_str().expect("utf-8 path"));
    // TERM=dumb: linenoise then reads plain lines instead of asking the terminal (which a pty
    // without an emulator never answers) for its cursor position.
    let mut child = Command::new("script")
        .args(["-qfec", &cli, "/dev/null"])
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script(1) with redis-cli");
    // The pty echoes what is typed: typing only once the debugger's first prompt is shown puts
    // the echo at the same place in every run.
    let mut stdout = child.stdout.take().expect("stdout");
    let shown = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                if n == 0 {
                    break;
                }
                shown.lock().expect("output").extend_from_slice(&buf[..n]);
            }
        })
    };
    // One line at a time, each once the debugger (or redis-cli, after the session) prompts for
    // it, as a user types: what the terminal shows is then the same in every run.
    let prompts = |shown: &std::sync::Mutex<Vec<u8>>| {
        let text = String::from_utf8_lossy(&shown.lock().expect("output")).into_owned();
        text.matches("lua debugger> ").count() + text.matches(&format!(":{port}> ")).count()
    };
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for (i, line) in TYPED.iter().enumerate() {
            crate::common::wait_for("redis-cli's prompt", std::time::Duration::from_secs(30), || prompts(&shown) > i);
            stdin.write_all(line.as_bytes()).expect("type a line");
            stdin.write_all(b"\n").expect("type a line");
            stdin.flush().expect("type a line");
        }
    }
    child.wait().expect("redis-cli session");
    reader.join().expect("the output reader");
    let out = shown.lock().expect("output").clone();
    String::from_utf8_lossy(&out).into_owned()
}

/// Lua prints tables by address: the addresses differ between processes.
fn normalise(out: &str) -> String {
    let mut s = String::with_capacity(out.len());
    let mut rest = out;
    while let Some(i) = rest.find("0x") {
        s.push_str(&rest[..i]);
        s.push_str("0x?");
        rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    s.push_str(rest);
    s
}

fn run_both(mode: &str) -> (String, String, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("job.lua");
    std::fs::write(&script, SCRIPT).expect("write the script");
    let real = Server::start_real(&[]);
    let ours = Server::start(&[]);
    let mut results = Vec::new();
    for server in [&real, &ours] {
        // redis-cli's prompt names the port.
        let out = normalise(&session(server.port, mode, &script)).replace(&format!(":{}>", server.port), ":PORT>");
        let mut c = server.client();
        let data = [c.cmd(&["GET", "total"]), c.cmd(&["GET", "counter"]), c.cmd(&["PING"])].concat();
        results.push((out, data));
    }
    let (ours_out, ours_data) = results.pop().expect("ours");
    let (real_out, real_data) = results.pop().expect("real");
    (real_out, ours_out, real_data, ours_data)
}

#[test]
fn redis_cli_ldb_forked_session_as_real_redis() {
    let (real, ours, real_data, ours_data) = run_both("--ldb");
    assert!(
        real.contains("Stopped at 5") && real.contains("<redis> GET counter"),
        "the session went wrong on real Redis:\n{real}"
    );
    assert!(real.contains("dataset changes rolled back"), "{real}");
    assert_eq!(ours, real, "redis-cli --ldb shows something else with our server");
    // The forked session worked on a copy: nothing it wrote is left.
    assert_eq!(String::from_utf8_lossy(&real_data), "$-1\r\n$-1\r\n+PONG\r\n");
    assert_eq!(ours_data, real_data);
}

#[test]
fn redis_cli_ldb_sync_session_as_real_redis() {
    let (real, ours, real_data, ours_data) = run_both("--ldb-sync-mode");
    assert!(
        real.contains("Stopped at 5") && real.contains("<reply> \"1\""),
        "the session went wrong on real Redis:\n{real}"
    );
    assert_eq!(ours, real, "redis-cli --ldb-sync-mode shows something else with our server");
    // A synchronous session runs on the data itself: its writes stay.
    assert_eq!(String::from_utf8_lossy(&real_data), "$1\r\n6\r\n$1\r\n1\r\n+PONG\r\n");
    assert_eq!(ours_data, real_data);
}

/// SCRIPT DEBUG refuses to start with replies still pending on the connection: after other
/// commands of a pipeline, and inside EXEC (whose reply has begun), as Redis does.
#[test]
fn script_debug_outside_a_pipeline_only() {
    let real = Server::start_real(&[]);
    let ours = Server::start(&[]);
    let cases: &[&[&[&str]]] = &[
        &[&["PING"], &["SCRIPT", "DEBUG", "YES"], &["PING"]],
        &[&["SCRIPT", "DEBUG", "YES"], &["PING"], &["SCRIPT", "DEBUG", "NO"]],
        &[&["MULTI"], &["SCRIPT", "DEBUG", "SYNC"], &["EXEC"]],
        &[&["SCRIPT", "DEBUG", "MAYBE"], &["SCRIPT", "DEBUG"]],
    ];
    let mut seen = Vec::new();
    for server in [&real, &ours] {
        let mut out = Vec::new();
        for pipeline in cases {
            let mut c = server.client();
            let bytes: Vec<u8> = pipeline
                .iter()
                .flat_map(|args| crate::common::encode(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>()))
                .collect();
            c.send_raw(&bytes);
            for _ in 0..pipeline.len() {
                out.push(String::from_utf8_lossy(&c.read_reply()).into_owned());
            }
        }
        seen.push(out);
    }
    assert!(seen[0][1].contains("must be called outside a pipeline"), "{:?}", seen[0]);
    assert_eq!(seen[1], seen[0]);
}
