//! Debian's real redis-cli against our server: interactive (under a pty, so it makes its start-up
//! COMMAND DOCS call) and with --no-raw.

use crate::common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn redis_cli() -> &'static str {
    let p = "/usr/bin/redis-cli";
    assert!(std::path::Path::new(p).exists(), "{p} is missing: install Debian's redis-tools (scripts/test.sh does)");
    p
}

#[test]
fn interactive_session_under_a_pty() {
    let s = Server::start(&[]);
    // `script` gives redis-cli a terminal, so it runs its interactive loop and asks COMMAND DOCS first.
    // Each line is typed only after its prompt shows: the line editor flushes input typed earlier.
    let mut child = Command::new("timeout")
        .args(["-s", "KILL", "60", "script", "-qc"])
        // Wide enough that linenoise shows argument hints whole.
        .arg(format!("stty cols 250 rows 40; {} -p {}", redis_cli(), s.port))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run script(1)");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut screen = String::new();
    let mut stdin = child.stdin.take().unwrap();
    let wait_for_text = |screen: &mut String, text: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
        while !screen.contains(text) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(chunk) => screen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("never saw {text:?}; screen so far: {screen:?}"),
            }
        }
    };
    wait_for_text(&mut screen, &format!("127.0.0.1:{}> ", s.port));
    // While typing, redis-cli shows the remaining arguments in grey (ESC[0;90;49m), built from the
    // `arguments` of our COMMAND DOCS: the same text as against Redis 7.0.15.
    const GREY: &str = "\x1b[0;90;49m";
    stdin.write_all(b"SET greeting").unwrap();
    wait_for_text(
        &mut screen,
        &format!(
            "SET greeting{GREY} value [NX|XX] [GET] \
             [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]\x1b[0m"
        ),
    );
    stdin.write_all(b" hello\r").unwrap();
    // The reply and the next prompt: text typed before the prompt is back is echoed raw, unhinted.
    wait_for_text(&mut screen, &format!("\r\nOK\r\n127.0.0.1:{}> ", s.port));
    // A subcommand's hint comes from the container's `subcommands` docs.
    stdin.write_all(b"CONFIG GET").unwrap();
    wait_for_text(&mut screen, &format!("CONFIG GET{GREY} parameter [parameter ...]\x1b[0m"));
    stdin.write_all(b" maxmemory\r").unwrap();
    // The whole reply and the next prompt: a line typed before the prompt is back is dropped.
    wait_for_text(&mut screen, &format!("2) \"0\"\r\n127.0.0.1:{}> ", s.port));
    stdin.write_all(b"GET greeting\r").unwrap();
    wait_for_text(&mut screen, &format!("\"hello\"\r\n127.0.0.1:{}> ", s.port));
    stdin.write_all(b"QUIT\r").unwrap();
    let _ = child.wait();
    let stats = s.client().cmd_str(&["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_command|docs:calls=1,"), "{stats}");
    assert!(stats.contains("cmdstat_command|docs:calls=1,") && !stats.contains("failed_calls=1"), "{stats}");
}

#[test]
fn no_raw_output_matches_real_redis() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let run = |port: u16, args: &[&str]| {
        let out =
            Command::new(redis_cli()).arg("-p").arg(port.to_string()).arg("--no-raw").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for args in [
        vec!["SET", "k", "v"],
        vec!["GET", "k"],
        vec!["GET", "missing"],
        vec!["MGET", "k", "missing"],
        vec!["INCR", "n"],
        vec!["KEYS", "*"],
        vec!["TTL", "k"],
        vec!["CONFIG", "GET", "maxmemory"],
        vec!["NOSUCHCOMMAND"],
        vec!["TYPE", "k"],
        vec!["EXISTS", "k", "n", "zz"],
    ] {
        let mut a = run(ours.port, &args);
        let mut b = run(real.port, &args);
        if args[0] == "KEYS" {
            // Order of KEYS is unspecified.
            let sort = |s: &str| {
                let mut v: Vec<String> =
                    s.lines().map(|l| l.split_once(") ").map(|x| x.1).unwrap_or(l).to_string()).collect();
                v.sort();
                v.join("\n")
            };
            a = sort(&a);
            b = sort(&b);
        }
        assert_eq!(a, b, "{args:?}");
    }
}
