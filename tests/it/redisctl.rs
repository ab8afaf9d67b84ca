//! redisctl end to end: edits of copies of Debian's stock redis.conf and sentinel.conf (the diff is
//! exactly the intended lines, everything else byte for byte), bad input, included files, `get`,
//! `show`, `check`, completions, `--apply` against our running server, and going through Debian's
//! real redis-sentinel 7.0 while it runs.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{free_port, wait_for, Client, Reply, Server};

const CTL: &str = env!("CARGO_BIN_EXE_redisctl");
const STOCK_REDIS: &str = "/etc/redis/redis.conf";
const STOCK_SENTINEL: &str = "/etc/redis/sentinel.conf";
const SETPRIV: &str = "/usr/bin/setpriv";
/// nobody:nogroup on Debian.
const NOBODY: u32 = 65534;

// ---------------------------------------------------------------------------------------------
// Running redisctl
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs a command with `stdin` (or /dev/null) and collects its output.
fn run_cmd(mut cmd: Command, stdin: Option<&str>) -> Out {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        // redisctl may exit (e.g. on a usage error) before reading its input.
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = child.wait_with_output().expect("wait for redisctl");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn redisctl(args: &[&str], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(CTL);
    cmd.args(args);
    run_cmd(cmd, stdin)
}

/// redisctl as nobody:nogroup without supplementary groups.
fn redisctl_as_nobody(args: &[&str]) -> Out {
    assert!(Path::new(SETPRIV).exists(), "{SETPRIV} is missing: install util-linux");
    let mut cmd = Command::new(SETPRIV);
    cmd.args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into()]);
    cmd.arg(CTL).args(args);
    run_cmd(cmd, None)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn stock(path: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e} (install Debian's redis-server and redis-sentinel; the tests run as root)")
    });
    if path == STOCK_SENTINEL {
        // A Sentinel of the host may run on 26379: redisctl would rightly go through it.
        return replace_line(&text, "port 26379", &[&format!("port {}", idle_sentinel_port())]);
    }
    text
}

/// A port where no Sentinel runs, for the copies of Debian's sentinel.conf (the same for the
/// whole test process, so every copy reads the same).
fn idle_sentinel_port() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(free_port)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A temp dir holding a redis.conf and a sentinel.conf; every redisctl run names both.
struct Files {
    dir: tempfile::TempDir,
    conf: PathBuf,
    sentinel: PathBuf,
}

impl Files {
    /// Copies of Debian's stock files.
    fn stock() -> Files {
        Files::with(&stock(STOCK_REDIS), &stock(STOCK_SENTINEL))
    }

    fn with(redis: &str, sentinel: &str) -> Files {
        let dir = tempfile::tempdir().expect("temp dir");
        // Searchable by the unprivileged user of the permission tests.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
        let conf = dir.path().join("redis.conf");
        let sentinel_path = dir.path().join("sentinel.conf");
        std::fs::write(&conf, redis).expect("write redis.conf");
        std::fs::write(&sentinel_path, sentinel).expect("write sentinel.conf");
        Files { dir, conf, sentinel: sentinel_path }
    }

    fn base_args(&self) -> Vec<String> {
        vec![
            "--config".into(),
            self.conf.display().to_string(),
            "--sentinel-config".into(),
            self.sentinel.display().to_string(),
        ]
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut all = self.base_args();
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        redisctl(&refs, stdin)
    }

    fn run_as_nobody(&self, args: &[&str]) -> Out {
        let mut all = self.base_args();
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        redisctl_as_nobody(&refs)
    }

    fn redis(&self) -> String {
        read(&self.conf)
    }

    fn sentinel_text(&self) -> String {
        read(&self.sentinel)
    }

    fn snap(&self) -> (Snap, Snap) {
        (Snap::of(&self.conf), Snap::of(&self.sentinel))
    }
}

// ---------------------------------------------------------------------------------------------
// Expected texts and diffs
// ---------------------------------------------------------------------------------------------

/// Line terminator of `line` (from `split_inclusive('\n')`): "\r\n", "\n" or "".
fn body_of(line: &str) -> &str {
    line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(line)
}

/// 1-based number of the one line of `text` that reads exactly `line` (without its terminator).
fn line_no(text: &str, line: &str) -> usize {
    let hits: Vec<usize> =
        text.split_inclusive('\n').enumerate().filter(|(_, l)| body_of(l) == line).map(|(i, _)| i + 1).collect();
    assert_eq!(hits.len(), 1, "expected exactly one line {line:?}, found it at {hits:?}");
    hits[0]
}

/// `text` with its one line `old` replaced by `new` (each keeping `old`'s terminator).
fn replace_line(text: &str, old: &str, new: &[&str]) -> String {
    let at = line_no(text, old);
    let mut out = String::new();
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == at {
            let end = &l[body_of(l).len()..];
            for n in new {
                out.push_str(n);
                out.push_str(if end.is_empty() { "\n" } else { end });
            }
        } else {
            out.push_str(l);
        }
    }
    out
}

/// `text` with `new` inserted right after its one line `anchor`, with the same terminator.
fn insert_after(text: &str, anchor: &str, new: &[&str]) -> String {
    let at = line_no(text, anchor);
    let mut out = String::new();
    for (i, l) in text.split_inclusive('\n').enumerate() {
        out.push_str(l);
        if i + 1 == at {
            let mut end = &l[body_of(l).len()..];
            if end.is_empty() {
                out.push('\n');
                end = "\n";
            }
            for n in new {
                out.push_str(n);
                out.push_str(end);
            }
        }
    }
    out
}

/// The changed region between two texts, as `-`/`+` lines (common prefix and suffix trimmed).
fn changed_region(before: &str, after: &str) -> Vec<String> {
    let a: Vec<&str> = before.split_inclusive('\n').collect();
    let b: Vec<&str> = after.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
    let mut out = vec![format!("@ line {}", prefix + 1)];
    out.extend(a[prefix..a.len() - suffix].iter().map(|l| format!("-{l:?}")));
    out.extend(b[prefix..b.len() - suffix].iter().map(|l| format!("+{l:?}")));
    out
}

/// Asserts that `actual` is exactly `expected`, showing the differing region otherwise.
#[track_caller]
fn assert_text(what: &str, actual: &str, expected: &str) {
    if actual != expected {
        panic!(
            "{what}: file differs from the expected text; expected -> actual:\n{}",
            changed_region(expected, actual).join("\n")
        );
    }
}

/// Applies a unified diff to `original`, checking every context and removed line.
fn apply_unified_diff(original: &str, diff: &str) -> String {
    let orig: Vec<&str> = original.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut next = 0usize; // index of the next original line not yet copied
    let mut lines = diff.split_inclusive('\n').peekable();
    let mut headers = 0;
    while let Some(l) = lines.next() {
        if l.starts_with("--- ") || l.starts_with("+++ ") {
            headers += 1;
            continue;
        }
        let Some(spec) = l.strip_prefix("@@ -") else { panic!("unexpected diff line {l:?} in:\n{diff}") };
        let old = spec.split(' ').next().expect("old range");
        let mut parts = old.split(',');
        let start: usize = parts.next().and_then(|s| s.parse().ok()).expect("hunk start");
        let count: usize = parts.next().map(|s| s.parse().expect("hunk count")).unwrap_or(1);
        // A hunk that removes nothing starts after line `start`.
        let first = if count == 0 { start } else { start - 1 };
        assert!(first >= next, "overlapping hunks in:\n{diff}");
        out.extend(orig[next..first].iter().copied());
        next = first;
        while let Some(h) = lines.peek() {
            if h.starts_with("@@") {
                break;
            }
            let h = lines.next().expect("peeked");
            let (tag, text) = h.split_at(h.len().min(1));
            match tag {
                " " | "-" => {
                    assert_eq!(orig.get(next).copied(), Some(text), "diff line {h:?} does not match the original");
                    if tag == " " {
                        out.push_str(text);
                    }
                    next += 1;
                }
                "+" => out.push_str(text),
                _ => panic!("unexpected hunk line {h:?} in:\n{diff}"),
            }
        }
    }
    assert_eq!(headers, 2, "a unified diff starts with ---/+++ headers:\n{diff}");
    out.extend(orig[next..].iter().copied());
    out
}

/// Content and the metadata an untouched file keeps.
#[derive(Debug, PartialEq, Eq)]
struct Snap {
    bytes: Vec<u8>,
    mtime: (i64, i64),
    ino: u64,
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Snap {
    fn of(path: &Path) -> Snap {
        let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        Snap {
            bytes: std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ino: meta.ino(),
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }
}

#[track_caller]
fn assert_untouched(path: &Path, before: &Snap) {
    let now = Snap::of(path);
    if now.bytes != before.bytes {
        panic!(
            "{} changed:\n{}",
            path.display(),
            changed_region(&String::from_utf8_lossy(&before.bytes), &String::from_utf8_lossy(&now.bytes)).join("\n")
        );
    }
    assert_eq!(&now, before, "{}: metadata changed (mtime, inode, mode or owner)", path.display());
}

// ---------------------------------------------------------------------------------------------
// Edits of the stock files
// ---------------------------------------------------------------------------------------------

/// Which file an edit changes and the text it must have afterwards.
enum Expect {
    Redis(String),
    Sentinel(String),
}

struct Case {
    args: &'static [&'static str],
    stdin: Option<&'static str>,
    expect: Expect,
}

fn stock_cases(redis: &str, sentinel: &str) -> Vec<Case> {
    let r = |s: String| Expect::Redis(s);
    let s = |s: String| Expect::Sentinel(s);
    vec![
        Case {
            args: &["bind", "10.0.0.1", "-::1"],
            stdin: None,
            expect: r(replace_line(redis, "bind 127.0.0.1 -::1", &["bind 10.0.0.1 -::1"])),
        },
        Case {
            args: &["replicaof", "10.0.0.9", "6380"],
            stdin: None,
            expect: r(insert_after(redis, "# replicaof <masterip> <masterport>", &["replicaof 10.0.0.9 6380"])),
        },
        Case {
            args: &["replicaof", "redis-master.example.com", "6379"],
            stdin: None,
            expect: r(insert_after(
                redis,
                "# replicaof <masterip> <masterport>",
                &["replicaof redis-master.example.com 6379"],
            )),
        },
        Case {
            args: &["protected-mode", "no"],
            stdin: None,
            expect: r(replace_line(redis, "protected-mode yes", &["protected-mode no"])),
        },
        Case { args: &["port", "7000"], stdin: None, expect: r(replace_line(redis, "port 6379", &["port 7000"])) },
        Case {
            args: &["requirepass", "--stdin"],
            stdin: Some("Tr0ub4dor&3-secret\n"),
            expect: r(insert_after(redis, "# requirepass foobared", &["requirepass Tr0ub4dor&3-secret"])),
        },
        Case {
            args: &["masterauth", "--stdin"],
            stdin: Some("Tr0ub4dor&3-secret\n"),
            expect: r(insert_after(redis, "# masterauth <master-password>", &["masterauth Tr0ub4dor&3-secret"])),
        },
        Case {
            args: &["quorum", "3"],
            stdin: None,
            expect: s(replace_line(
                sentinel,
                "sentinel monitor mymaster 127.0.0.1 6379 2",
                &["sentinel monitor mymaster 127.0.0.1 6379 3"],
            )),
        },
        Case {
            args: &["quorum", "mymaster", "1"],
            stdin: None,
            expect: s(replace_line(
                sentinel,
                "sentinel monitor mymaster 127.0.0.1 6379 2",
                &["sentinel monitor mymaster 127.0.0.1 6379 1"],
            )),
        },
        Case {
            args: &["sentinel", "monitor", "other", "10.0.0.2", "6381", "2"],
            stdin: None,
            expect: s(insert_after(
                sentinel,
                "sentinel monitor mymaster 127.0.0.1 6379 2",
                &["sentinel monitor other 10.0.0.2 6381 2"],
            )),
        },
        // Debian's file monitors mymaster on 127.0.0.1: the admin points it at the real master.
        Case {
            args: &["sentinel", "monitor", "mymaster", "10.0.0.1", "6379", "2"],
            stdin: None,
            expect: s(replace_line(
                sentinel,
                "sentinel monitor mymaster 127.0.0.1 6379 2",
                &["sentinel monitor mymaster 10.0.0.1 6379 2"],
            )),
        },
        Case {
            args: &["sentinel", "set", "mymaster", "down-after-milliseconds", "5000"],
            stdin: None,
            expect: s(replace_line(
                sentinel,
                "sentinel down-after-milliseconds mymaster 30000",
                &["sentinel down-after-milliseconds mymaster 5000"],
            )),
        },
        Case {
            args: &["sentinel", "set", "mymaster", "failover-timeout", "60000"],
            stdin: None,
            expect: s(replace_line(
                sentinel,
                "sentinel failover-timeout mymaster 180000",
                &["sentinel failover-timeout mymaster 60000"],
            )),
        },
        Case {
            args: &["sentinel", "set", "mymaster", "parallel-syncs", "3"],
            stdin: None,
            expect: s(replace_line(
                sentinel,
                "sentinel parallel-syncs mymaster 1",
                &["sentinel parallel-syncs mymaster 3"],
            )),
        },
        // An absent per-master setting goes after the master's last line (here the file's last).
        Case {
            args: &["sentinel", "set", "mymaster", "auth-pass", "--stdin"],
            stdin: Some("Tr0ub4dor&3-secret\n"),
            expect: s(insert_after(
                sentinel,
                "SENTINEL master-reboot-down-after-period mymaster 0",
                &["sentinel auth-pass mymaster Tr0ub4dor&3-secret"],
            )),
        },
    ]
}

#[test]
fn each_command_changes_exactly_its_lines_in_the_stock_files() {
    let (redis, sentinel) = (stock(STOCK_REDIS), stock(STOCK_SENTINEL));
    for case in stock_cases(&redis, &sentinel) {
        let files = Files::stock();
        let (redis_before, sentinel_before) = files.snap();
        let out = files.run_stdin(case.args, case.stdin);
        let what = case.args.join(" ");
        assert_eq!(out.code, 0, "{what}: {out:?}");
        assert!(out.stderr.is_empty(), "{what}: {out:?}");
        match &case.expect {
            Expect::Redis(text) => {
                assert_text(&what, &files.redis(), text);
                assert_untouched(&files.sentinel, &sentinel_before);
                assert!(out.stdout.contains(&files.conf.display().to_string()), "{what}: {out:?}");
                assert_ne!(Snap::of(&files.conf).ino, redis_before.ino, "{what}: written by an atomic rename");
            }
            Expect::Sentinel(text) => {
                assert_text(&what, &files.sentinel_text(), text);
                assert_untouched(&files.conf, &redis_before);
                assert!(out.stdout.contains(&files.sentinel.display().to_string()), "{what}: {out:?}");
            }
        }
        if let Some(secret) = case.stdin {
            assert!(!out.all().contains(secret.trim_end()), "{what} printed the secret: {out:?}");
        }
        // No temp file is left behind (the lock file is allowed).
        let mut names: Vec<String> = std::fs::read_dir(files.dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".redisctl.lock")
            .collect();
        names.sort();
        assert_eq!(names, ["redis.conf", "sentinel.conf"], "{what}");
    }
}

#[test]
fn replicaof_then_no_one_restores_the_original_bytes() {
    let files = Files::stock();
    let original = files.redis();
    let out = files.run(&["replicaof", "10.0.0.9", "6380"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_ne!(files.redis(), original);
    let out = files.run(&["replicaof", "no", "one"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(files.redis().as_bytes(), original.as_bytes());

    // "replicaof no one" with nothing to remove changes nothing.
    let before = Snap::of(&files.conf);
    let out = files.run(&["replicaof", "no", "one"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("nothing changed"), "{out:?}");
    assert_untouched(&files.conf, &before);
}

#[test]
fn slaveof_is_replaced_by_replicaof_never_duplicated() {
    let stock_text = stock(STOCK_REDIS);
    let with_slaveof = insert_after(&stock_text, "# replicaof <masterip> <masterport>", &["slaveof 10.0.0.1 6379"]);

    // A new master: the slaveof line becomes a replicaof line where it stands.
    let files = Files::with(&with_slaveof, &stock(STOCK_SENTINEL));
    let out = files.run(&["replicaof", "10.0.0.2", "6380"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_text(
        "replicaof over slaveof",
        &files.redis(),
        &replace_line(&with_slaveof, "slaveof 10.0.0.1 6379", &["replicaof 10.0.0.2 6380"]),
    );

    // The same master as the slaveof line: still rewritten with the canonical name.
    let files = Files::with(&with_slaveof, &stock(STOCK_SENTINEL));
    let out = files.run(&["replicaof", "10.0.0.1", "6379"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_text(
        "replicaof same as slaveof",
        &files.redis(),
        &replace_line(&with_slaveof, "slaveof 10.0.0.1 6379", &["replicaof 10.0.0.1 6379"]),
    );

    // slaveof plus a later replicaof: one line remains, at the first one's place.
    let both = with_slaveof.clone() + "replicaof 10.0.0.3 6381\n";
    let files = Files::with(&both, &stock(STOCK_SENTINEL));
    let out = files.run(&["replicaof", "10.0.0.4", "6382"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_text(
        "slaveof and replicaof",
        &files.redis(),
        &replace_line(&with_slaveof, "slaveof 10.0.0.1 6379", &["replicaof 10.0.0.4 6382"]),
    );

    // "replicaof no one" removes the slaveof line: back to Debian's file.
    let files = Files::with(&with_slaveof, &stock(STOCK_SENTINEL));
    let out = files.run(&["replicaof", "no", "one"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(files.redis(), stock_text);
}

#[test]
fn setting_the_current_value_changes_nothing() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["port", "6379"], None),
        (&["bind", "127.0.0.1", "-::1"], None),
        (&["protected-mode", "yes"], None),
        (&["replicaof", "no", "one"], None),
        (&["quorum", "2"], None),
        (&["quorum", "mymaster", "2"], None),
        (&["sentinel", "set", "mymaster", "down-after-milliseconds", "30000"], None),
        (&["sentinel", "set", "mymaster", "failover-timeout", "180000"], None),
        (&["sentinel", "set", "mymaster", "parallel-syncs", "1"], None),
    ];
    for (args, stdin) in cases {
        let files = Files::stock();
        let (r, s) = files.snap();
        let out = files.run_stdin(args, *stdin);
        let what = args.join(" ");
        assert_eq!(out.code, 0, "{what}: {out:?}");
        assert!(out.stdout.contains("nothing changed"), "{what}: {out:?}");
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }

    // Secrets: the second time with the same value changes nothing.
    let secret_cases: &[&[&str]] = &[
        &["requirepass", "--stdin"],
        &["masterauth", "--stdin"],
        &["sentinel", "set", "mymaster", "auth-pass", "--stdin"],
        &["replicaof", "10.0.0.9", "6380"],
    ];
    for args in secret_cases {
        let files = Files::stock();
        let what = args.join(" ");
        assert_eq!(files.run_stdin(args, Some("same-secret\n")).code, 0, "{what}");
        let (r, s) = files.snap();
        let out = files.run_stdin(args, Some("same-secret\n"));
        assert_eq!(out.code, 0, "{what}: {out:?}");
        assert!(out.stdout.contains("nothing changed"), "{what}: {out:?}");
        assert!(!out.all().contains("same-secret"), "{what}: {out:?}");
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }
}

#[test]
fn dry_run_prints_a_unified_diff_and_writes_nothing() {
    let (redis, sentinel) = (stock(STOCK_REDIS), stock(STOCK_SENTINEL));
    for case in stock_cases(&redis, &sentinel) {
        if case.stdin.is_some() {
            continue; // secrets: see dry_run_does_not_print_secrets
        }
        let files = Files::stock();
        let (r, s) = files.snap();
        let mut args = vec!["--dry-run"];
        args.extend_from_slice(case.args);
        let out = files.run(&args);
        let what = args.join(" ");
        assert_eq!(out.code, 0, "{what}: {out:?}");
        let (original, expected, path) = match &case.expect {
            Expect::Redis(t) => (&redis, t, &files.conf),
            Expect::Sentinel(t) => (&sentinel, t, &files.sentinel),
        };
        let first = out.stdout.lines().next().unwrap_or_default();
        assert!(first.starts_with("--- ") && first.contains(&path.display().to_string()), "{what}: {out:?}");
        assert_text(&format!("{what} (diff applied)"), &apply_unified_diff(original, &out.stdout), expected);
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }

    // A dry run of a change that is already made prints no diff.
    let files = Files::stock();
    let out = files.run(&["--dry-run", "port", "6379"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("@@"), "{out:?}");
}

#[test]
fn dry_run_does_not_print_secrets() {
    let (redis, sentinel) = (stock(STOCK_REDIS), stock(STOCK_SENTINEL));
    for (args, in_redis, key) in [
        (&["--dry-run", "requirepass", "--stdin"][..], true, "requirepass"),
        (&["--dry-run", "masterauth", "--stdin"], true, "masterauth"),
        (&["--dry-run", "sentinel", "set", "mymaster", "auth-pass", "--stdin"], false, "sentinel auth-pass mymaster"),
    ] {
        for secret in ["Dry-Run-Secret-42", "pa ss\"w\u{f6}rd-Xyzzy", "the"] {
            let files = Files::stock();
            let (r, s) = files.snap();
            let out = files.run_stdin(args, Some(&format!("{secret}\n")));
            let what = format!("{} with {secret:?}", args.join(" "));
            assert_eq!(out.code, 0, "{what}: {out:?}");
            let original = if in_redis { &redis } else { &sentinel };
            // Context and removed lines are the file's own (apply_unified_diff checks them), and the
            // one added line is the directive, without the secret.
            let region = changed_region(original, &apply_unified_diff(original, &out.stdout));
            assert_eq!(region.len(), 2, "{what}: one added line: {region:?}");
            assert!(region[1].starts_with(&format!("+\"{key} ")), "{what}: {region:?}");
            for part in [secret, "Xyzzy", "Secret-42"] {
                assert!(!region[1].contains(part), "{what}: the diff shows the secret: {region:?}");
            }
            assert!(!out.all().contains("Xyzzy") && !out.all().contains("Secret-42"), "{what}: {out:?}");
            assert_untouched(&files.conf, &r);
            assert_untouched(&files.sentinel, &s);
        }
    }
}

#[test]
fn secrets_never_appear_in_output_or_on_the_command_line() {
    let secret = "pa ss\"w\u{f6}rd-Xyzzy";
    let files = Files::stock();
    let stdin = format!("{secret}\n");
    for args in [
        &["requirepass", "--stdin"][..],
        &["masterauth", "--stdin"],
        &["sentinel", "set", "mymaster", "auth-pass", "--stdin"],
    ] {
        let out = files.run_stdin(args, Some(&stdin));
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(!out.all().contains("Xyzzy"), "{args:?} printed the secret: {out:?}");
    }
    // Stored quoted, so the server reads back exactly the secret.
    let text = files.redis();
    assert!(text.contains("\nrequirepass \"pa ss\\\"w"), "{text}");
    assert!(text.contains("\nmasterauth \"pa ss\\\"w"), "{text}");
    assert!(files.sentinel_text().contains("\nsentinel auth-pass mymaster \"pa ss\\\"w"));
    for args in [&["get", "requirepass"][..], &["get", "masterauth"], &["show"], &["check"]] {
        let out = files.run(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(!out.all().contains("Xyzzy"), "{args:?} printed the secret: {out:?}");
    }
    let out = files.run(&["get", "requirepass"]);
    assert!(out.stdout.contains("(set)"), "{out:?}");

    // There is no way to give a secret as an argument, and the refusal does not touch the files.
    let (r, s) = files.snap();
    let out = files.run(&["requirepass", "Xyzzy-on-argv"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = files.run(&["masterauth", "Xyzzy-on-argv"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = files.run(&["requirepass"]);
    assert_eq!(out.code, 2, "--stdin is required: {out:?}");
    let out = files.run(&["sentinel", "set", "mymaster", "auth-pass", "Xyzzy-on-argv"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!out.all().contains("Xyzzy"), "{out:?}");
    assert!(out.stderr.contains("--stdin"), "{out:?}");
    // An empty secret is refused.
    let out = files.run_stdin(&["requirepass", "--stdin"], Some(""));
    assert_eq!(out.code, 1, "{out:?}");
    assert_untouched(&files.conf, &r);
    assert_untouched(&files.sentinel, &s);
}

#[test]
fn owner_group_and_mode_are_preserved() {
    if !is_root() {
        eprintln!("skipped: chown needs root");
        return;
    }
    let files = Files::stock();
    for path in [&files.conf, &files.sentinel] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        std::os::unix::fs::chown(path, Some(4321), Some(8765)).expect("chown");
    }
    let edits: &[(&[&str], Option<&str>)] = &[
        (&["port", "7001"], None),
        (&["requirepass", "--stdin"], Some("mode-secret\n")),
        (&["quorum", "3"], None),
        (&["sentinel", "set", "mymaster", "auth-pass", "--stdin"], Some("mode-secret\n")),
    ];
    for (args, stdin) in edits {
        let out = files.run_stdin(args, *stdin);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    }
    assert!(files.redis().contains("\nport 7001\n") && files.sentinel_text().contains(" 6379 3\n"));
    for path in [&files.conf, &files.sentinel] {
        let meta = std::fs::metadata(path).expect("stat");
        assert_eq!(meta.mode() & 0o7777, 0o640, "{}", path.display());
        assert_eq!((meta.uid(), meta.gid()), (4321, 8765), "{}", path.display());
    }
}

#[test]
fn crlf_lines_trailing_blanks_and_odd_layout_survive() {
    // CRLF throughout, trailing blanks, tabs, an indented comment, a duplicate directive and no
    // newline at the end of the file.
    let crlf = "# Redis config written on Windows   \r\n\
                \r\n\
                bind 127.0.0.1   \r\n\
                \t# indented comment\t\r\n\
                port 6379\r\n\
                # replicaof <masterip> <masterport>\r\n\
                protected-mode yes \t \r\n\
                timeout 0\r\n\
                tcp-keepalive 300";
    let files = Files::with(crlf, &stock(STOCK_SENTINEL));
    for args in [
        &["port", "7000"][..],
        &["replicaof", "10.0.0.1", "6379"],
        &["bind", "10.0.0.1", "-::1"],
        &["protected-mode", "no"],
    ] {
        let out = files.run(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    }
    let expected = "# Redis config written on Windows   \r\n\
                    \r\n\
                    bind 10.0.0.1 -::1\r\n\
                    \t# indented comment\t\r\n\
                    port 7000\r\n\
                    # replicaof <masterip> <masterport>\r\n\
                    replicaof 10.0.0.1 6379\r\n\
                    protected-mode no\r\n\
                    timeout 0\r\n\
                    tcp-keepalive 300";
    assert_text("CRLF file", &files.redis(), expected);

    // Stock file with trailing blanks added around the edited lines (sentinel.conf has some of its own).
    let stock_text = stock(STOCK_REDIS);
    let padded = replace_line(&stock_text, "tcp-backlog 511", &["tcp-backlog 511   "]);
    let padded = replace_line(
        &padded,
        "# If port 0 is specified Redis will not listen on a TCP socket.",
        &["# If port 0 is specified Redis will not listen on a TCP socket. \t"],
    );
    let padded =
        replace_line(&padded, "# replicaof <masterip> <masterport>", &["# replicaof <masterip> <masterport>  "]);
    let sentinel_text = stock(STOCK_SENTINEL);
    assert!(sentinel_text.contains(" \n"), "Debian's sentinel.conf has lines with trailing blanks");
    let files = Files::with(&padded, &sentinel_text);
    assert_eq!(files.run(&["port", "7000"]).code, 0);
    assert_eq!(files.run(&["replicaof", "10.0.0.1", "6379"]).code, 0);
    assert_eq!(files.run(&["quorum", "3"]).code, 0);
    let expected = replace_line(&padded, "port 6379", &["port 7000"]);
    let expected = insert_after(&expected, "# replicaof <masterip> <masterport>  ", &["replicaof 10.0.0.1 6379"]);
    assert_text("padded redis.conf", &files.redis(), &expected);
    assert_text(
        "sentinel.conf",
        &files.sentinel_text(),
        &replace_line(
            &sentinel_text,
            "sentinel monitor mymaster 127.0.0.1 6379 2",
            &["sentinel monitor mymaster 127.0.0.1 6379 3"],
        ),
    );
}

// ---------------------------------------------------------------------------------------------
// Included files
// ---------------------------------------------------------------------------------------------

#[test]
fn a_directive_in_an_included_file_is_edited_there() {
    let stock_text = stock(STOCK_REDIS);
    let files = Files::stock();
    let local = files.dir.path().join("local.conf");
    let main_text = format!("{stock_text}include {}\n", local.display());
    let local_text = "# Local overrides\n\nport 6390\nslaveof 10.0.0.1 6379\n# end\n";
    std::fs::write(&files.conf, &main_text).expect("write");
    std::fs::write(&local, local_text).expect("write");

    let out = files.run(&["get", "port"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("6390") && out.stdout.contains(&format!("{}:3", local.display())), "{out:?}");

    let main_before = Snap::of(&files.conf);
    let out = files.run(&["port", "7000"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&local.display().to_string()), "{out:?}");
    let out = files.run(&["replicaof", "10.0.0.2", "6380"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_untouched(&files.conf, &main_before);
    assert_text("local.conf", &read(&local), "# Local overrides\n\nport 7000\nreplicaof 10.0.0.2 6380\n# end\n");
    let out = files.run(&["replicaof", "no", "one"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_untouched(&files.conf, &main_before);
    assert_text("local.conf", &read(&local), "# Local overrides\n\nport 7000\n# end\n");

    // A directive only the main file has is edited in the main file.
    let local_before = Snap::of(&local);
    let out = files.run(&["bind", "10.0.0.5"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_untouched(&local, &local_before);
    assert_text("main", &files.redis(), &replace_line(&main_text, "bind 127.0.0.1 -::1", &["bind 10.0.0.5"]));

    let out = files.run(&["show"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&format!("{}:3", local.display())), "{out:?}");
    let out = files.run(&["check"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&local.display().to_string()), "check covers the included file: {out:?}");
}

#[test]
fn a_syntax_error_in_an_included_file_names_that_file_and_line() {
    let files = Files::stock();
    let local = files.dir.path().join("local.conf");
    std::fs::write(&files.conf, format!("{}include {}\n", stock(STOCK_REDIS), local.display())).expect("write");
    std::fs::write(&local, "# Local overrides\nport abc\n").expect("write");
    let (r, s) = files.snap();
    let local_before = Snap::of(&local);
    let out = files.run(&["protected-mode", "no"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains(&format!("{}:2", local.display())), "names local.conf:2: {out:?}");
    assert!(out.stderr.contains("port abc"), "{out:?}");
    assert!(!out.stderr.contains("redis.conf:"), "does not blame the include line: {out:?}");
    assert_untouched(&files.conf, &r);
    assert_untouched(&files.sentinel, &s);
    assert_untouched(&local, &local_before);
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_arguments_are_refused_and_nothing_is_touched() {
    let files = Files::stock();
    let (r, s) = files.snap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["bind", "10.0.0.256"], 1, "10.0.0.256"),
        (&["bind", "127.0.0.1", "localhost"], 1, "localhost"),
        (&["bind", "1.2.3"], 1, "1.2.3"),
        (&["bind", "--::1"], 1, "--::1"),
        (&["port", "6379x"], 1, "6379x"),
        (&["port", "65536"], 1, "65536"),
        (&["port", "abc"], 1, "abc"),
        (&["replicaof", "10.0.0.300", "6379"], 1, "10.0.0.300"),
        (&["replicaof", "bad host", "6379"], 1, "bad host"),
        (&["replicaof", "10.0.0.1", "0"], 1, "'0'"),
        (&["replicaof", "10.0.0.1", "65536"], 1, "65536"),
        (&["replicaof", "10.0.0.1", "abc"], 1, "abc"),
        (&["quorum", "0"], 1, "quorum"),
        (&["quorum", "mymaster", "0"], 1, "quorum"),
        (&["quorum", "mymaster", "two"], 1, "two"),
        (&["quorum", "nosuch", "2"], 1, "nosuch"),
        (&["sentinel", "set", "nosuch", "parallel-syncs", "2"], 1, "nosuch"),
        (&["sentinel", "set", "mymaster", "parallel-syncs", "0"], 1, "parallel-syncs"),
        (&["sentinel", "set", "mymaster", "down-after-milliseconds", "abc"], 1, "abc"),
        (
            &["sentinel", "monitor", "mymaster", "redis-1.example.com", "6379", "2"],
            1,
            "Can't resolve instance hostname.",
        ),
        (&["sentinel", "monitor", "bad name", "10.0.0.1", "6379", "2"], 1, "bad name"),
        (&["sentinel", "monitor", "other", "10.0.0.1", "0", "2"], 1, "'0'"),
        (&["sentinel", "monitor", "other", "10.0.0.1", "6379", "0"], 1, "quorum"),
        // Sentinel itself would refuse the file: a host name needs `sentinel resolve-hostnames yes`.
        (&["sentinel", "monitor", "other", "redis-1.example.com", "6379", "2"], 1, "Can't resolve instance hostname."),
        // Usage errors.
        (&["protected-mode", "maybe"], 2, "maybe"),
        (&["frobnicate"], 2, "frobnicate"),
        (&["port"], 2, "PORT"),
        (&["replicaof", "10.0.0.1"], 2, "PORT"),
        (&["quorum", "a", "b", "c"], 2, "c"),
        (&["sentinel", "set", "mymaster", "quorum-ish", "2"], 2, "quorum-ish"),
        (&["completions", "powershell-9"], 2, "powershell-9"),
    ];
    for (args, code, needle) in cases {
        let out = files.run(args);
        assert_eq!(out.code, *code, "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: errors go to stderr: {out:?}");
        assert!(out.stderr.contains(needle), "{args:?}: stderr should mention {needle:?}: {out:?}");
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }
}

#[test]
fn sentinel_set_argument_errors_are_usage_errors() {
    let files = Files::stock();
    let (r, s) = files.snap();
    for args in [
        &["sentinel", "set", "mymaster", "parallel-syncs"][..],
        &["sentinel", "set", "mymaster", "auth-pass", "on-argv"],
        &["sentinel", "set", "mymaster", "parallel-syncs", "2", "--stdin"],
    ] {
        let out = files.run_stdin(args, Some("3\n"));
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(!out.stderr.contains("on-argv"), "{out:?}");
    }
    assert_untouched(&files.conf, &r);
    assert_untouched(&files.sentinel, &s);
}

#[test]
fn a_file_with_a_syntax_error_is_reported_and_left_alone() {
    let stock_redis = stock(STOCK_REDIS);
    let stock_sentinel = stock(STOCK_SENTINEL);
    let bad_line_no = stock_redis.lines().count() + 1;
    for bad in ["port abc", "requirepass \"unbalanced", "bind 127.0.0.1 'x"] {
        let files = Files::with(&format!("{stock_redis}{bad}\n"), &stock_sentinel);
        let (r, s) = files.snap();
        for args in [&["port", "7000"][..], &["protected-mode", "no"], &["replicaof", "no", "one"]] {
            let out = files.run(args);
            assert_eq!(out.code, 1, "{bad} / {args:?}: {out:?}");
            let at = format!("{}:{bad_line_no}", files.conf.display());
            assert!(out.stderr.contains(&at), "{bad}: stderr names {at}: {out:?}");
            assert!(out.stderr.contains(bad), "{bad}: stderr quotes the line: {out:?}");
            assert_untouched(&files.conf, &r);
            assert_untouched(&files.sentinel, &s);
        }
        let out = files.run(&["check"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains(&format!("{}:{bad_line_no}", files.conf.display())), "{out:?}");
    }
    let reason = |bad: &str| if bad.contains('"') { "Unbalanced quotes" } else { "integer" };
    // Same for sentinel.conf.
    let bad_line_no = stock_sentinel.lines().count() + 1;
    for bad in ["port abc", "sentinel monitor \"unbalanced"] {
        let files = Files::with(&stock_redis, &format!("{stock_sentinel}{bad}\n"));
        let (r, s) = files.snap();
        for args in [&["quorum", "3"][..], &["sentinel", "set", "mymaster", "parallel-syncs", "2"]] {
            let out = files.run(args);
            assert_eq!(out.code, 1, "{bad} / {args:?}: {out:?}");
            let at = format!("{}:{bad_line_no}", files.sentinel.display());
            assert!(out.stderr.contains(&at), "{bad}: stderr names {at}: {out:?}");
            assert!(out.stderr.contains(reason(bad)), "{bad}: stderr gives the reason: {out:?}");
            assert_untouched(&files.conf, &r);
            assert_untouched(&files.sentinel, &s);
        }
        let out = files.run(&["check"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains(&format!("{}:{bad_line_no}", files.sentinel.display())), "{out:?}");
        assert!(out.stdout.contains(&format!("{}: OK", files.conf.display())), "{out:?}");
    }
}

#[test]
fn check_rejects_what_redis_sentinel_rejects() {
    let stock_sentinel = stock(STOCK_SENTINEL);
    let bad_line_no = stock_sentinel.lines().count() + 1;
    for bad in [
        "sentinel monitor x",
        "sentinel down-after-milliseconds mymaster abc",
        "sentinel frobnicate mymaster 1",
        "sentinel monitor other 127.0.0.1 6379 0",
    ] {
        let files = Files::with(&stock(STOCK_REDIS), &format!("{stock_sentinel}{bad}\n"));
        let out = files.run(&["check"]);
        assert_eq!(out.code, 1, "{bad}: {out:?}");
        assert!(out.stderr.contains(&format!("{}:{bad_line_no}", files.sentinel.display())), "{bad}: {out:?}");
    }
}

#[test]
fn an_unreadable_file_is_reported_and_left_alone() {
    if !is_root() {
        eprintln!("skipped: needs root to switch to an unprivileged user");
        return;
    }
    let files = Files::stock();
    // The directory is the unprivileged user's (so only the file's permissions stop it).
    std::os::unix::fs::chown(files.dir.path(), Some(NOBODY), Some(NOBODY)).expect("chown dir");
    for path in [&files.conf, &files.sentinel] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let (r, s) = files.snap();
    let conf = files.conf.display().to_string();
    let sentinel = files.sentinel.display().to_string();
    for (args, path) in [
        (&["port", "7000"][..], &conf),
        (&["bind", "10.0.0.1"], &conf),
        (&["get", "port"], &conf),
        (&["check"], &conf),
        (&["quorum", "3"], &sentinel),
        (&["sentinel", "set", "mymaster", "parallel-syncs", "2"], &sentinel),
    ] {
        let out = files.run_as_nobody(args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains(path.as_str()), "{args:?}: names the file: {out:?}");
        assert!(out.stderr.contains("permission denied"), "{args:?}: gives the reason: {out:?}");
        assert!(out.stderr.contains("read"), "{args:?}: says reading failed: {out:?}");
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }
}

#[test]
fn a_read_only_directory_is_reported_and_left_alone() {
    if !is_root() {
        eprintln!("skipped: needs root to switch to an unprivileged user");
        return;
    }
    let files = Files::stock();
    // The files are the unprivileged user's and writable by it, but the root-owned 0755 directory
    // is not, so an atomic replace cannot work.
    for path in [&files.conf, &files.sentinel] {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    let (r, s) = files.snap();
    for (args, path) in [
        (&["port", "7000"][..], &files.conf),
        (&["replicaof", "10.0.0.1", "6379"], &files.conf),
        (&["quorum", "3"], &files.sentinel),
        (&["sentinel", "set", "mymaster", "down-after-milliseconds", "5000"], &files.sentinel),
    ] {
        let out = files.run_as_nobody(args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains(&path.display().to_string()), "{args:?}: names the file: {out:?}");
        assert!(out.stderr.contains("permission denied"), "{args:?}: gives the reason: {out:?}");
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }
    // Reading works, and a dry run shows the change.
    let out = files.run_as_nobody(&["get", "port"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = files.run_as_nobody(&["--dry-run", "port", "7000"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("+port 7000"), "{out:?}");
    assert_untouched(&files.conf, &r);
    // Nothing was left in the directory.
    assert_eq!(std::fs::read_dir(files.dir.path()).expect("read dir").count(), 2);
}

// ---------------------------------------------------------------------------------------------
// get, show, check, completions
// ---------------------------------------------------------------------------------------------

#[test]
fn get_prints_the_effective_value_with_file_and_line() {
    let files = Files::stock();
    let redis = files.redis();
    let sentinel = files.sentinel_text();
    let conf = files.conf.display().to_string();
    for (name, value, line) in [
        ("port", "6379", "port 6379"),
        ("bind", "127.0.0.1 -::1", "bind 127.0.0.1 -::1"),
        ("protected-mode", "yes", "protected-mode yes"),
        ("PORT", "6379", "port 6379"),
    ] {
        let out = files.run(&["get", name]);
        assert_eq!(out.code, 0, "{name}: {out:?}");
        assert!(out.stdout.contains(value), "{name}: {out:?}");
        let at = format!("{conf}:{}", line_no(&redis, line));
        assert!(out.stdout.contains(&at), "{name}: expected {at}: {out:?}");
    }
    // Not set: the default, and where it is not set.
    let out = files.run(&["get", "replicaof"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("default") && out.stdout.contains(&conf), "{out:?}");
    // An alias finds the canonical directive.
    assert_eq!(files.run(&["replicaof", "10.0.0.1", "6379"]).code, 0);
    let out = files.run(&["get", "slaveof"]);
    assert_eq!(out.code, 0, "{out:?}");
    let at = format!("{conf}:{}", line_no(&files.redis(), "replicaof 10.0.0.1 6379"));
    assert!(out.stdout.contains("10.0.0.1 6379") && out.stdout.contains(&at), "{out:?}");
    // Sentinel settings come from sentinel.conf.
    let out = files.run(&["get", "sentinel monitor"]);
    assert_eq!(out.code, 0, "{out:?}");
    let at =
        format!("{}:{}", files.sentinel.display(), line_no(&sentinel, "sentinel monitor mymaster 127.0.0.1 6379 2"));
    assert!(out.stdout.contains("mymaster 127.0.0.1 6379 2") && out.stdout.contains(&at), "{out:?}");
    // Unknown directive.
    let out = files.run(&["get", "no-such-directive"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("no-such-directive"), "{out:?}");
}

#[test]
fn show_lists_both_files_and_check_validates_both() {
    let files = Files::stock();
    let out = files.run(&["show"]);
    assert_eq!(out.code, 0, "{out:?}");
    for needle in [
        files.conf.display().to_string(),
        files.sentinel.display().to_string(),
        "127.0.0.1 -::1".into(),
        "6379".into(),
        "protected-mode".into(),
        "replicaof".into(),
        "mymaster".into(),
        "quorum 2".into(),
        "down-after-milliseconds".into(),
        "30000".into(),
        idle_sentinel_port().to_string(),
    ] {
        assert!(out.stdout.contains(&needle), "show lacks {needle:?}: {out:?}");
    }
    let out = files.run(&["check"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&format!("{}: OK", files.conf.display())), "{out:?}");
    assert!(out.stdout.contains(&format!("{}: OK", files.sentinel.display())), "{out:?}");

    // A missing file: a clear message, exit 1.
    let missing = files.dir.path().join("missing.conf");
    let out = redisctl(
        &[
            "--config",
            &missing.display().to_string(),
            "--sentinel-config",
            &files.sentinel.display().to_string(),
            "check",
        ],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains(&missing.display().to_string()), "{out:?}");
    let out = redisctl(&["--config", &missing.display().to_string(), "port", "7000"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!missing.exists(), "a missing config file is not created");
}

#[test]
fn completions_print_scripts() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef redisctl"), ("fish", "complete -c redisctl")] {
        let out = redisctl(&["completions", shell], None);
        assert_eq!(out.code, 0, "{shell}: {out:?}");
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        for sub in ["replicaof", "protected-mode", "requirepass", "quorum", "sentinel"] {
            assert!(out.stdout.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(out.stderr.is_empty(), "{shell}: {out:?}");
    }
    let out = redisctl(&["--help"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("replicaof"), "{out:?}");
}

#[test]
fn bind_accepts_global_flags_after_the_addresses() {
    let files = Files::stock();
    let (r, s) = files.snap();
    let out = files.run(&["bind", "10.0.0.1", "-::1", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("+bind 10.0.0.1 -::1"), "{out:?}");
    assert_untouched(&files.conf, &r);
    let out = files.run(&["bind", "10.0.0.1", "-::1", "--quiet"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_text(
        "bind",
        &files.redis(),
        &replace_line(&stock(STOCK_REDIS), "bind 127.0.0.1 -::1", &["bind 10.0.0.1 -::1"]),
    );
    assert_untouched(&files.sentinel, &s);
}

// ---------------------------------------------------------------------------------------------
// --apply against our running server
// ---------------------------------------------------------------------------------------------

/// Our server, started with a config file that says where it listens; redisctl edits that file.
struct Live {
    server: Server,
    conf: PathBuf,
    sentinel: PathBuf,
}

impl Live {
    fn start() -> Live {
        let server = Server::start_with_config("bind 127.0.0.1\n", &[]);
        let conf = server.dir.path().join("redis.conf");
        // The harness chose the port; the file must say it so redisctl finds the server.
        let text = format!(
            "# redisctl --apply test\nbind 127.0.0.1\nprotected-mode yes\nport {}\n\n\
             # replicaof <masterip> <masterport>\n\n# requirepass foobared\n",
            server.port
        );
        std::fs::write(&conf, text).expect("write config");
        let sentinel = server.dir.path().join("sentinel.conf");
        std::fs::write(&sentinel, stock(STOCK_SENTINEL)).expect("write sentinel.conf");
        Live { server, conf, sentinel }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut all = vec![
            "--config".to_string(),
            self.conf.display().to_string(),
            "--sentinel-config".into(),
            self.sentinel.display().to_string(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        redisctl(&refs, stdin)
    }

    fn text(&self) -> String {
        read(&self.conf)
    }
}

#[test]
fn apply_protected_mode_reaches_the_running_server() {
    let live = Live::start();
    let mut c = live.server.client();
    assert!(c.cmd_str(&["CONFIG", "GET", "protected-mode"]).contains("yes"));
    let out = live.run(&["protected-mode", "no", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("applied"), "{out:?}");
    assert!(live.text().contains("\nprotected-mode no\n"));
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "protected-mode"]), "*2\r\n$14\r\nprotected-mode\r\n$2\r\nno\r\n");
}

#[test]
fn apply_port_moves_the_running_server() {
    let live = Live::start();
    let new_port = free_port();
    let out = live.run(&["port", &new_port.to_string(), "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("applied"), "{out:?}");
    assert!(live.text().contains(&format!("\nport {new_port}\n")));
    wait_for("the server on its new port", Duration::from_secs(5), || {
        Client::try_connect(new_port).map(|mut c| c.cmd_str(&["PING"]) == "+PONG\r\n").unwrap_or(false)
    });
    wait_for("the old port to close", Duration::from_secs(5), || Client::try_connect(live.server.port).is_err());
    // redisctl now finds the server on the new port.
    let out = live.run(&["protected-mode", "no", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&format!(":{new_port}")), "{out:?}");
    let mut c = Client::connect(new_port);
    assert!(c.cmd_str(&["CONFIG", "GET", "protected-mode"]).ends_with("$2\r\nno\r\n"));
}

#[test]
fn apply_requirepass_locks_out_new_clients() {
    let live = Live::start();
    let out = live.run(&["requirepass", "--stdin", "--apply"], Some("Live-Secret-77\n"));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("applied"), "{out:?}");
    assert!(!out.all().contains("Live-Secret-77"), "{out:?}");
    assert!(live.text().contains("\nrequirepass Live-Secret-77\n"));
    let mut c = live.server.client();
    assert!(c.cmd_str(&["GET", "x"]).starts_with("-NOAUTH"), "a new client must authenticate");
    assert_eq!(c.cmd_str(&["AUTH", "Live-Secret-77"]), "+OK\r\n");
    // The next --apply authenticates with the password from the file.
    let out = live.run(&["protected-mode", "no", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(c.cmd_str(&["CONFIG", "GET", "protected-mode"]).ends_with("$2\r\nno\r\n"));
}

#[test]
fn apply_replicaof_makes_the_running_server_a_replica_and_no_one_undoes_it() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    assert_eq!(master.client().cmd_str(&["SET", "from-master", "1"]), "+OK\r\n");
    let live = Live::start();
    let before = live.text();
    let port = master.port.to_string();
    let out = live.run(&["replicaof", "127.0.0.1", &port, "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&format!("REPLICAOF 127.0.0.1 {port}")), "{out:?}");
    assert_text(
        "replicaof --apply",
        &live.text(),
        &insert_after(&before, "# replicaof <masterip> <masterport>", &[&format!("replicaof 127.0.0.1 {port}")]),
    );
    let mut c = live.server.client();
    wait_for("the replica to sync", Duration::from_secs(30), || c.cmd_str(&["GET", "from-master"]) == "$1\r\n1\r\n");
    assert!(c.cmd_str(&["ROLE"]).starts_with("*5\r\n$5\r\nslave\r\n"));
    // And back: the file returns to its original bytes, the server to being a master.
    let out = live.run(&["replicaof", "no", "one", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("REPLICAOF NO ONE"), "{out:?}");
    assert_eq!(live.text(), before);
    assert!(c.cmd_str(&["ROLE"]).starts_with("*3\r\n$6\r\nmaster\r\n"));
    assert_eq!(c.cmd_str(&["GET", "from-master"]), "$1\r\n1\r\n", "REPLICAOF NO ONE keeps the data");
}

#[test]
fn apply_with_no_server_running_still_updates_the_file() {
    let files = Files::with(&format!("bind 127.0.0.1\nport {}\n", free_port()), &stock(STOCK_SENTINEL));
    let out = files.run(&["--apply", "protected-mode", "no"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("no server is running"), "{out:?}");
    assert!(files.redis().ends_with("protected-mode no\n"));
}

#[test]
fn apply_bind_reaches_the_running_server() {
    let live = Live::start();
    let out = live.run(&["--apply", "bind", "127.0.0.1", "-::1"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(live.text().contains("\nbind 127.0.0.1 -::1\n"));
    let mut c = live.server.client();
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "bind"]), "*2\r\n$4\r\nbind\r\n$14\r\n127.0.0.1 -::1\r\n");
    assert_eq!(live.server.client().cmd_str(&["PING"]), "+PONG\r\n");
}

#[test]
fn apply_bind_with_the_flag_after_the_addresses() {
    let live = Live::start();
    let out = live.run(&["bind", "127.0.0.1", "-::1", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let mut c = live.server.client();
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "bind"]), "*2\r\n$4\r\nbind\r\n$14\r\n127.0.0.1 -::1\r\n");
}

// ---------------------------------------------------------------------------------------------
// A running Sentinel: Debian's real redis-sentinel 7.0, or ours (redis-sentinel-rs)
// ---------------------------------------------------------------------------------------------

struct Sentinel {
    process: crate::common::SentinelProcess,
    port: u16,
    master_port: u16,
    conf: PathBuf,
}

impl Sentinel {
    /// Starts Debian's redis-sentinel on its own copy of Debian's sentinel.conf, monitoring
    /// `mymaster` at a port where nothing runs (so no failover logic rewrites the file during the test).
    fn start() -> Sentinel {
        Sentinel::start_binary(crate::common::REAL_SENTINEL)
    }

    /// The same with our redis-sentinel-rs.
    fn start_ours() -> Sentinel {
        Sentinel::start_binary(crate::common::OUR_SENTINEL)
    }

    fn start_binary(bin: &str) -> Sentinel {
        let stock_text = stock(STOCK_SENTINEL);
        let master_port = free_port();
        let process = crate::common::SentinelProcess::start(bin, |port, dir| {
            let d = dir.display().to_string();
            let text = replace_line(&stock_text, &format!("port {}", idle_sentinel_port()), &[&format!("port {port}")]);
            let text = replace_line(&text, "protected-mode no", &["bind 127.0.0.1", "protected-mode no"]);
            let text = replace_line(&text, "daemonize yes", &["daemonize no"]);
            let text = replace_line(
                &text,
                "pidfile /run/sentinel/redis-sentinel.pid",
                &[&format!("pidfile \"{d}/sentinel.pid\"")],
            );
            let text = replace_line(
                &text,
                "logfile /var/log/redis/redis-sentinel.log",
                &[&format!("logfile \"{d}/sentinel.log\"")],
            );
            let text = replace_line(&text, "dir /var/lib/redis", &[&format!("dir \"{d}\"")]);
            let text = replace_line(
                &text,
                "sentinel monitor mymaster 127.0.0.1 6379 2",
                &[&format!("sentinel monitor mymaster 127.0.0.1 {master_port} 2")],
            );
            (text, Vec::new())
        });
        Sentinel { port: process.port, conf: process.conf.clone(), process, master_port }
    }

    fn master_field(&self, field: &str) -> String {
        let reply = Client::connect(self.port).cmd(&["SENTINEL", "MASTER", "mymaster"]);
        let items = Reply::parse(&reply).texts();
        items
            .chunks(2)
            .find(|kv| kv[0] == field)
            .map(|kv| kv[1].clone())
            .unwrap_or_else(|| panic!("no {field} in SENTINEL MASTER: {}", String::from_utf8_lossy(&reply)))
    }

    fn redisctl(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let redis = self.process.dir.path().join("redis.conf");
        if !redis.exists() {
            std::fs::write(&redis, stock(STOCK_REDIS)).expect("write redis.conf");
        }
        let mut all = vec![
            "--config".to_string(),
            redis.display().to_string(),
            "--sentinel-config".into(),
            self.conf.display().to_string(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        redisctl(&refs, stdin)
    }

    /// Waits for the Sentinel to have written `line` to its file.
    fn wait_for_line(&self, line: &str) {
        wait_for(&format!("sentinel.conf to contain {line:?}"), Duration::from_secs(5), || {
            read(&self.conf).lines().any(|l| l == line)
        });
    }

    fn stop(&mut self) {
        self.process.stop();
    }
}

#[test]
fn a_running_sentinel_is_changed_through_sentinel_set_never_behind_its_back() {
    a_running_sentinel_is_changed_through_sentinel_set_never_behind_its_back_with(Sentinel::start);
}

#[test]
fn a_running_sentinel_is_changed_through_sentinel_set_never_behind_its_back_ours() {
    a_running_sentinel_is_changed_through_sentinel_set_never_behind_its_back_with(Sentinel::start_ours);
}

fn a_running_sentinel_is_changed_through_sentinel_set_never_behind_its_back_with(start: fn() -> Sentinel) {
    let sentinel = start();
    let before = Snap::of(&sentinel.conf);

    // Without --apply: refused, the file untouched.
    for args in [
        &["sentinel", "set", "mymaster", "down-after-milliseconds", "5000"][..],
        &["quorum", "mymaster", "1"],
        &["sentinel", "monitor", "other", "127.0.0.1", "6390", "2"],
    ] {
        let out = sentinel.redisctl(args, None);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("Sentinel is running"), "{args:?}: {out:?}");
        assert!(out.stderr.contains("--apply"), "{args:?}: {out:?}");
        assert_untouched(&sentinel.conf, &before);
    }
    let out = sentinel.redisctl(&["--dry-run", "sentinel", "set", "mymaster", "parallel-syncs", "2"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert_untouched(&sentinel.conf, &before);
    assert_eq!(sentinel.master_field("down-after-milliseconds"), "30000");

    // With --apply: through SENTINEL SET; the Sentinel rewrites its own file.
    let out = sentinel.redisctl(&["--apply", "sentinel", "set", "mymaster", "down-after-milliseconds", "5000"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Sentinel"), "{out:?}");
    assert_eq!(sentinel.master_field("down-after-milliseconds"), "5000");
    sentinel.wait_for_line("sentinel down-after-milliseconds mymaster 5000");

    let out = sentinel.redisctl(&["sentinel", "set", "mymaster", "failover-timeout", "60000", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sentinel.master_field("failover-timeout"), "60000");
    sentinel.wait_for_line("sentinel failover-timeout mymaster 60000");

    let out = sentinel.redisctl(&["sentinel", "set", "mymaster", "parallel-syncs", "3", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sentinel.master_field("parallel-syncs"), "3");
    sentinel.wait_for_line("sentinel parallel-syncs mymaster 3");

    // auth-pass through the Sentinel too, and never printed.
    let out =
        sentinel.redisctl(&["--apply", "sentinel", "set", "mymaster", "auth-pass", "--stdin"], Some("Sent-Secret-9\n"));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.all().contains("Sent-Secret-9"), "{out:?}");
    sentinel.wait_for_line("sentinel auth-pass mymaster Sent-Secret-9");

    // A new master through SENTINEL MONITOR.
    let out = sentinel.redisctl(&["--apply", "sentinel", "monitor", "other", "127.0.0.1", "6390", "2"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let masters = Client::connect(sentinel.port).cmd_str(&["SENTINEL", "MASTERS"]);
    assert!(masters.contains("other"), "{masters}");
    sentinel.wait_for_line("sentinel monitor other 127.0.0.1 6390 2");
}

#[test]
fn quorum_goes_through_a_running_sentinel() {
    quorum_goes_through_a_running_sentinel_with(Sentinel::start);
}

#[test]
fn quorum_goes_through_a_running_sentinel_ours() {
    quorum_goes_through_a_running_sentinel_with(Sentinel::start_ours);
}

fn quorum_goes_through_a_running_sentinel_with(start: fn() -> Sentinel) {
    let sentinel = start();
    let out = sentinel.redisctl(&["--apply", "quorum", "mymaster", "3"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sentinel.master_field("quorum"), "3");
    sentinel.wait_for_line(&format!("sentinel monitor mymaster 127.0.0.1 {} 3", sentinel.master_port));
    let out = sentinel.redisctl(&["quorum", "1", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sentinel.master_field("quorum"), "1");
    sentinel.wait_for_line(&format!("sentinel monitor mymaster 127.0.0.1 {} 1", sentinel.master_port));
}

#[test]
fn a_file_rewritten_by_sentinel_can_be_edited_once_it_stops() {
    // Redis's Sentinel dropped the default parallel-syncs line: the edit adds exactly one line.
    let added = vec![format!("+{:?}", "sentinel parallel-syncs mymaster 2\n")];
    a_file_rewritten_by_sentinel_can_be_edited_once_it_stops_with(Sentinel::start, &added);
}

#[test]
fn a_file_rewritten_by_sentinel_can_be_edited_once_it_stops_ours() {
    // Ours keeps the admin's default line where it stands: the edit replaces it.
    let replaced = vec![
        format!("-{:?}", "sentinel parallel-syncs mymaster 1\n"),
        format!("+{:?}", "sentinel parallel-syncs mymaster 2\n"),
    ];
    a_file_rewritten_by_sentinel_can_be_edited_once_it_stops_with(Sentinel::start_ours, &replaced);
}

fn a_file_rewritten_by_sentinel_can_be_edited_once_it_stops_with(start: fn() -> Sentinel, expected: &[String]) {
    let mut sentinel = start();
    sentinel.stop();
    let text = read(&sentinel.conf);
    let out = sentinel.redisctl(&["check"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let out = sentinel.redisctl(&["sentinel", "set", "mymaster", "parallel-syncs", "2"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let region = changed_region(&text, &read(&sentinel.conf));
    assert_eq!(region[1..], *expected, "{region:?}");
    let out = sentinel.redisctl(&["quorum", "3"], None);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn monitoring_another_address_under_the_same_name_forgets_what_sentinel_learnt() {
    // What a Sentinel that watched Debian's default 127.0.0.1 master saved to the file.
    let learnt = "sentinel myid 0123456789012345678901234567890123456789\n\
                  sentinel config-epoch mymaster 3\n\
                  sentinel leader-epoch mymaster 3\n\
                  sentinel known-replica mymaster 127.0.0.1 6380\n\
                  sentinel known-sentinel mymaster 127.0.0.1 26380 1123456789012345678901234567890123456789\n\
                  sentinel current-epoch 3\n";
    let original = stock(STOCK_SENTINEL) + learnt;
    let files = Files::with(&stock(STOCK_REDIS), &original);
    let out = files.run(&["sentinel", "set", "mymaster", "down-after-milliseconds", "5000"]);
    assert_eq!(out.code, 0, "{out:?}");
    let before = files.sentinel_text();
    let out = files.run(&["sentinel", "monitor", "mymaster", "10.0.0.1", "6379", "2"]);
    assert_eq!(out.code, 0, "{out:?}");
    let after = files.sentinel_text();
    // The monitor line changes where it stands; the old master's replicas, sentinels and epochs go;
    // the admin's settings, the ID and the current epoch stay.
    let mut expected = replace_line(
        &before,
        "sentinel monitor mymaster 127.0.0.1 6379 2",
        &["sentinel monitor mymaster 10.0.0.1 6379 2"],
    );
    for gone in [
        "sentinel config-epoch mymaster 3\n",
        "sentinel leader-epoch mymaster 3\n",
        "sentinel known-replica mymaster 127.0.0.1 6380\n",
        "sentinel known-sentinel mymaster 127.0.0.1 26380 1123456789012345678901234567890123456789\n",
    ] {
        expected = expected.replacen(gone, "", 1);
    }
    assert_text("re-pointed sentinel.conf", &after, &expected);
    assert!(after.contains("\nsentinel down-after-milliseconds mymaster 5000\n"), "{after}");
    let out = files.run(&["check"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn monitoring_another_address_goes_through_a_running_sentinel() {
    monitoring_another_address_goes_through_a_running_sentinel_with(Sentinel::start);
}

#[test]
fn monitoring_another_address_goes_through_a_running_sentinel_ours() {
    monitoring_another_address_goes_through_a_running_sentinel_with(Sentinel::start_ours);
}

fn monitoring_another_address_goes_through_a_running_sentinel_with(start: fn() -> Sentinel) {
    let sentinel = start();
    let out = sentinel.redisctl(&["--apply", "sentinel", "set", "mymaster", "down-after-milliseconds", "5000"], None);
    assert_eq!(out.code, 0, "{out:?}");
    sentinel.wait_for_line("sentinel down-after-milliseconds mymaster 5000");
    let new_port = free_port().to_string();
    let before = Snap::of(&sentinel.conf);
    let out = sentinel.redisctl(&["sentinel", "monitor", "mymaster", "127.0.0.2", &new_port, "2"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("--apply"), "{out:?}");
    assert_untouched(&sentinel.conf, &before);

    let out = sentinel.redisctl(&["--apply", "sentinel", "monitor", "mymaster", "127.0.0.2", &new_port, "2"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sentinel.master_field("ip"), "127.0.0.2");
    assert_eq!(sentinel.master_field("port"), new_port);
    assert_eq!(sentinel.master_field("down-after-milliseconds"), "5000", "the admin's setting survives");
    sentinel.wait_for_line(&format!("sentinel monitor mymaster 127.0.0.2 {new_port} 2"));
    sentinel.wait_for_line("sentinel down-after-milliseconds mymaster 5000");
}

/// With the socket unit enabled, bind and port also give it redis.conf's addresses in a drop-in.
#[test]
fn bind_and_port_keep_the_socket_unit_in_step() {
    let files = Files::stock();
    let systemd = tempfile::tempdir().unwrap();
    let wants = systemd.path().join("sockets.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink("/usr/lib/systemd/system/redis-server-rs.socket", wants.join("redis-server-rs.socket"))
        .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(CTL);
        cmd.arg("--config").arg(&files.conf).arg("--sentinel-config").arg(&files.sentinel).args(args);
        cmd.env("REDISCTL_SYSTEMD_DIR", systemd.path());
        run_cmd(cmd, None)
    };
    let out = run(&["bind", "10.0.0.2", "127.0.0.1", "-::1"]);
    assert_eq!(out.code, 0, "{out:?}");
    let dropin = systemd.path().join("redis-server-rs.socket.d/redisctl.conf");
    let text = std::fs::read_to_string(&dropin).unwrap();
    assert!(
        text.ends_with(
            "[Socket]\nListenStream=\nListenStream=10.0.0.2:6379\nListenStream=127.0.0.1:6379\nListenStream=[::1]:6379\nListenStream=/run/redis-rs/redis-server.sock\nFreeBind=yes\n"
        ),
        "{text}"
    );
    let out = run(&["port", "6380"]);
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(&dropin).unwrap();
    assert!(text.contains("ListenStream=127.0.0.1:6380\n") && !text.contains(":6379"), "{text}");
    // Without the socket unit enabled, nothing is written there.
    std::fs::remove_file(wants.join("redis-server-rs.socket")).unwrap();
    std::fs::remove_file(&dropin).unwrap();
    assert_eq!(run(&["port", "6381"]).code, 0);
    assert!(!dropin.exists());
}

// ---------------------------------------------------------------------------------------------
// Edits that would leave a server that does not start
// ---------------------------------------------------------------------------------------------

/// Starts `bin` (Debian's redis-server or ours) on `config` and waits for it to end: Some(log)
/// when it refused to start, None when it was still running after a while (it is then stopped).
fn refuses_to_start(bin: &str, config: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("redis.conf");
    std::fs::write(&path, config).expect("write config");
    let mut cmd = Command::new(bin);
    cmd.arg(&path).args(["--daemonize", "no", "--save", "", "--dir", &dir.path().display().to_string()]);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = crate::common::die_with_parent(&mut cmd).spawn().expect("spawn redis-server");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            return Some(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn bind_that_cannot_listen_is_refused_and_check_says_why() {
    let port = free_port();
    // Both servers refuse to start with these binds.
    for binds in [&["127.0.0.1", "127.0.0.1"][..], &["*", "127.0.0.1"], &["::1", "-::1"]] {
        let config = format!("bind {}\nport {port}\n", binds.join(" "));
        let log =
            refuses_to_start(crate::common::REAL_REDIS, &config).unwrap_or_else(|| panic!("Redis started: {config:?}"));
        assert!(log.contains("Address already in use"), "{log}");
        let log = refuses_to_start(crate::common::OURS, &config).unwrap_or_else(|| panic!("ours started: {config:?}"));
        assert!(log.contains("Address already in use"), "{log}");

        let files = Files::with(&format!("bind 127.0.0.1\nport {port}\n"), &stock(STOCK_SENTINEL));
        let (r, s) = files.snap();
        let mut args = vec!["bind"];
        args.extend_from_slice(binds);
        let out = files.run(&args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("would not start") && out.stderr.contains("Address already in use"), "{out:?}");
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);

        let files = Files::with(&config, &stock(STOCK_SENTINEL));
        let out = files.run(&["check"]);
        assert_eq!(out.code, 1, "check of {config:?}: {out:?}");
        assert!(out.stderr.contains("Address already in use"), "{out:?}");
    }
    // Nowhere to listen: port 0 without a unix socket.
    let files = Files::with("bind 127.0.0.1\nport 7000\n", &stock(STOCK_SENTINEL));
    let (r, _) = files.snap();
    for args in [&["set", "port", "0"][..], &["port", "0"]] {
        let out = files.run(args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("not listen anywhere"), "{args:?}: {out:?}");
        assert_untouched(&files.conf, &r);
    }
    // With a TLS port left to serve, `port 0` makes a TLS-only server.
    let files = Files::with(
        "bind 127.0.0.1
port 7000
tls-port 7001
",
        &stock(STOCK_SENTINEL),
    );
    let out = files.run(&["port", "0"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(std::fs::read_to_string(&files.conf).unwrap().contains("\nport 0\n"), "{out:?}");
}

#[test]
fn a_change_the_running_server_refuses_is_rolled_back_in_the_file() {
    let live = Live::start();
    let before = live.text();
    // Valid in the file, but not an address of this host: CONFIG SET bind fails.
    let out = live.run(&["bind", "127.0.0.1", "192.0.2.7", "--apply"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("refused") && out.stderr.contains("restored"), "{out:?}");
    assert!(!out.all().contains("restart"), "no advice of a restart that would fail: {out:?}");
    assert_eq!(live.text(), before, "the file is as it was");
    let mut c = live.server.client();
    assert_eq!(c.cmd_str(&["CONFIG", "GET", "bind"]), "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n");
}

// ---------------------------------------------------------------------------------------------
// set / unset: every kind of directive
// ---------------------------------------------------------------------------------------------

#[test]
fn set_writes_every_kind_of_directive() {
    let stock_text = stock(STOCK_REDIS);
    let cases: &[(&[&str], &str, &[&str])] = &[
        // bool, in any case, written as Redis writes it
        (&["set", "appendonly", "YES"], "appendonly no", &["appendonly yes"]),
        // enum
        (
            &["set", "maxmemory-policy", "allkeys-lru"],
            "# maxmemory-policy noeviction",
            &["# maxmemory-policy noeviction", "maxmemory-policy allkeys-lru"],
        ),
        // memory, after its template (not after the prose that mentions MAXMEMORY POLICY)
        (&["set", "maxmemory", "1gb"], "# maxmemory <bytes>", &["# maxmemory <bytes>", "maxmemory 1gb"]),
        // a negative integer is a value, not an option
        (&["set", "list-max-listpack-size", "-3"], "list-max-listpack-size -2", &["list-max-listpack-size -3"]),
        // multi-argument
        (
            &["set", "save", "3600", "1", "300", "100"],
            "# save 3600 1 300 100 60 10000",
            &["# save 3600 1 300 100 60 10000", "save 3600 1 300 100"],
        ),
        (
            &["set", "save", "900 1"],
            "# save 3600 1 300 100 60 10000",
            &["# save 3600 1 300 100 60 10000", "save 900 1"],
        ),
        // one class of client-output-buffer-limit, on its own line
        (
            &["set", "client-output-buffer-limit", "replica", "512mb", "128mb", "120"],
            "client-output-buffer-limit replica 256mb 64mb 60",
            &["client-output-buffer-limit replica 512mb 128mb 120"],
        ),
        (
            &["set", "rename-command", "FLUSHALL", ""],
            "# rename-command CONFIG \"\"",
            &["# rename-command CONFIG \"\"", "rename-command FLUSHALL \"\""],
        ),
    ];
    for (args, old, new) in cases {
        let files = Files::stock();
        let (_, s) = files.snap();
        let out = files.run(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert_text(&args.join(" "), &files.redis(), &replace_line(&stock_text, old, new));
        assert_untouched(&files.sentinel, &s);
        assert_eq!(files.run(&["check"]).code, 0, "{args:?}: the result passes check");
        // The same again changes nothing.
        let (r, _) = files.snap();
        let out = files.run(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(out.stdout.contains("nothing changed"), "{args:?}: {out:?}");
        assert_untouched(&files.conf, &r);
    }
    // A sentinel setting, in sentinel.conf's own words.
    let files = Files::stock();
    let out = files.run(&["set", "sentinel", "down-after-milliseconds", "mymaster", "5000"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_text(
        "set sentinel",
        &files.sentinel_text(),
        &replace_line(
            &stock(STOCK_SENTINEL),
            "sentinel down-after-milliseconds mymaster 30000",
            &["sentinel down-after-milliseconds mymaster 5000"],
        ),
    );
    // unset removes the lines: the default applies.
    let files = Files::stock();
    assert_eq!(files.run(&["set", "maxmemory", "1gb"]).code, 0);
    let out = files.run(&["unset", "maxmemory"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(files.redis(), stock_text);
}

/// CONFIG SET's reply from Debian's redis-server, without "ERR ".
fn real_config_set_error(real: &Server, args: &[&str]) -> String {
    let mut all = vec!["CONFIG", "SET"];
    all.extend_from_slice(args);
    let reply = real.client().cmd_str(&all);
    reply.strip_prefix("-ERR ").unwrap_or_else(|| panic!("{args:?}: {reply:?}")).trim_end().to_string()
}

#[test]
fn bad_values_are_refused_with_config_sets_words_and_nothing_changes() {
    let real = Server::start_real(&[]);
    let cases: &[&[&str]] = &[
        &["maxmemory", "1xb"],
        &["maxmemory-policy", "bogus"],
        &["appendonly", "maybe"],
        &["hz", "abc"],
        &["save", "10"],
        &["list-max-listpack-size", "abc"],
        &["latency-tracking-info-percentiles", "200"],
        &["latency-tracking-info-percentiles", "50 abc"],
        &["appendfsync", "sometimes"],
    ];
    // And every enum CONFIG SET takes: the same list of choices, in Redis's order.
    let enums: Vec<[&str; 2]> = redis_rs::config::TABLE
        .iter()
        .filter(|s| matches!(s.kind, redis_rs::config::Kind::Enum(_)) && !s.has(redis_rs::config::table::IMMUTABLE))
        .map(|s| [s.name, "bogus"])
        .collect();
    assert!(enums.len() > 5);
    let files = Files::stock();
    let (r, s) = files.snap();
    for args in cases.iter().copied().chain(enums.iter().map(|e| &e[..])) {
        let expected = real_config_set_error(&real, args);
        let mut cmd = vec!["set"];
        cmd.extend_from_slice(args);
        let out = files.run(&cmd);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert_eq!(out.stderr, format!("redisctl: {expected}\n"), "{args:?}: Redis says {expected:?}");
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }
    let out = files.run(&["set", "no-such-directive", "1"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(real_config_set_error(&real, &["no-such-directive", "1"]), out.stderr["redisctl: ".len()..].trim_end());
    assert_untouched(&files.conf, &r);
}

// ---------------------------------------------------------------------------------------------
// sentinel set: every option SENTINEL SET takes; sentinel remove
// ---------------------------------------------------------------------------------------------

#[test]
fn sentinel_set_takes_every_per_master_option() {
    let stock_sentinel = stock(STOCK_SENTINEL);
    let files = Files::stock();
    let script = files.dir.path().join("notify.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let script = script.display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["quorum", "3"], "sentinel monitor mymaster 127.0.0.1 6379 3"),
        (&["down-after-milliseconds", "5000"], "sentinel down-after-milliseconds mymaster 5000"),
        (&["failover-timeout", "60000"], "sentinel failover-timeout mymaster 60000"),
        (&["parallel-syncs", "2"], "sentinel parallel-syncs mymaster 2"),
        (&["auth-user", "sentinel-user"], "sentinel auth-user mymaster sentinel-user"),
        (&["master-reboot-down-after-period", "1000"], "sentinel master-reboot-down-after-period mymaster 1000"),
        (&["notification-script", &script], &format!("sentinel notification-script mymaster {script}")),
        (&["client-reconfig-script", &script], &format!("sentinel client-reconfig-script mymaster {script}")),
        (&["rename-command", "CONFIG", "GUESSME"], "sentinel rename-command mymaster CONFIG GUESSME"),
    ];
    for (args, line) in cases {
        let mut cmd = vec!["sentinel", "set", "mymaster"];
        cmd.extend_from_slice(args);
        let out = files.run(&cmd);
        assert_eq!(out.code, 0, "{cmd:?}: {out:?}");
        assert!(files.sentinel_text().lines().any(|l| l == *line), "{cmd:?}: no line {line:?}");
    }
    let out = files.run(&["check"]);
    assert_eq!(out.code, 0, "{out:?}");
    // Removing: scripts, the user, a renaming (renamed to itself, as SENTINEL SET does).
    for cmd in [
        &["sentinel", "set", "mymaster", "notification-script", "--remove"][..],
        &["sentinel", "set", "mymaster", "client-reconfig-script", "--remove"],
        &["sentinel", "set", "mymaster", "auth-user", "--remove"],
        &["sentinel", "set", "mymaster", "rename-command", "CONFIG", "CONFIG"],
    ] {
        let out = files.run(cmd);
        assert_eq!(out.code, 0, "{cmd:?}: {out:?}");
    }
    let text = files.sentinel_text();
    for gone in ["notification-script", "client-reconfig-script", "auth-user", "rename-command mymaster"] {
        assert!(!text.lines().any(|l| l.starts_with("sentinel ") && l.contains(gone)), "{gone} left: {text}");
    }
    assert!(text.lines().count() < stock_sentinel.lines().count() + cases.len(), "{text}");
}

#[test]
fn sentinel_set_refuses_what_sentinel_refuses_in_its_words() {
    let sentinel = Sentinel::start();
    let files = Files::stock();
    let (r, s) = files.snap();
    for args in [
        &["down-after-milliseconds", "abc"][..],
        &["failover-timeout", "-5"],
        &["parallel-syncs", "0"],
        &["master-reboot-down-after-period", "-1"],
        &["quorum", "0"],
    ] {
        let mut all = vec!["SENTINEL", "SET", "mymaster"];
        all.extend_from_slice(args);
        let reply = Client::connect(sentinel.port).cmd_str(&all);
        let words = reply.strip_prefix("-ERR ").unwrap_or_else(|| panic!("{all:?}: {reply:?}")).trim_end().to_string();
        let mut cmd = vec!["sentinel", "set", "mymaster"];
        cmd.extend_from_slice(args);
        let out = files.run(&cmd);
        assert_ne!(out.code, 0, "{cmd:?}: {out:?}");
        if out.code == 1 {
            assert_eq!(out.stderr, format!("redisctl: {words}\n"), "{cmd:?}");
        }
        assert_untouched(&files.conf, &r);
        assert_untouched(&files.sentinel, &s);
    }
}

#[test]
fn sentinel_remove_forgets_a_master_in_the_file_and_through_a_running_sentinel() {
    let files = Files::stock();
    let out = files.run(&["sentinel", "remove", "mymaster"]);
    assert_eq!(out.code, 0, "{out:?}");
    let text = files.sentinel_text();
    assert!(!text.lines().any(|l| l.starts_with("sentinel ") && l.contains(" mymaster")), "{text}");
    assert_eq!(files.run(&["check"]).code, 0);
    let out = files.run(&["sentinel", "remove", "mymaster"]);
    assert_eq!(out.code, 1, "{out:?}");

    let sentinel = Sentinel::start_ours();
    let out = sentinel.redisctl(&["sentinel", "remove", "mymaster", "--apply", "--json"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(Client::connect(sentinel.port).cmd_str(&["SENTINEL", "MASTERS"]), "*0\r\n");
    // Sentinel made the change and rewrites its file itself: no diff of ours, what was sent instead.
    let report: EditReport = serde_json::from_str(&out.stdout).expect("json");
    assert!(report.changed && report.diff.is_empty(), "{report:?}");
    assert_eq!(report.file, sentinel.conf.display().to_string());
    assert!(report.applied.as_deref().is_some_and(|a| a.contains("SENTINEL remove mymaster")), "{report:?}");
}

// ---------------------------------------------------------------------------------------------
// Passwords, booleans, get/show/check
// ---------------------------------------------------------------------------------------------

#[test]
fn passwords_can_be_removed_and_are_never_taken_from_argv_or_over_two_lines() {
    let files = Files::stock();
    let stock_text = stock(STOCK_REDIS);
    for name in ["requirepass", "masterauth"] {
        assert_eq!(files.run_stdin(&[name, "--stdin"], Some("pw-1\n")).code, 0);
        assert_ne!(files.redis(), stock_text);
        let out = files.run(&[name, "--remove"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(files.redis(), stock_text, "{name} --remove restores the file");
    }
    let (r, _) = files.snap();
    let out = files.run(&["requirepass", "s3cret"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--stdin") && !out.stderr.contains("unexpected argument"), "{out:?}");
    for input in ["two\nlines\n", "cr\rinside\n"] {
        let out = files.run_stdin(&["requirepass", "--stdin"], Some(input));
        assert_eq!(out.code, 1, "{input:?}: {out:?}");
        assert!(out.stderr.contains("more than one line"), "{out:?}");
    }
    let out = files.run(&["set", "requirepass", "on-argv"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--stdin"), "{out:?}");
    assert_untouched(&files.conf, &r);
    // unset is the same as --remove.
    assert_eq!(files.run_stdin(&["set", "requirepass", "--stdin"], Some("pw-2\n")).code, 0);
    assert_eq!(files.run(&["unset", "requirepass"]).code, 0);
    assert_eq!(files.redis(), stock_text);
}

#[test]
fn protected_mode_takes_yes_and_no_in_any_case() {
    let files = Files::stock();
    let out = files.run(&["protected-mode", "NO"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(files.redis().contains("\nprotected-mode no\n"));
    let out = files.run(&["protected-mode", "YES"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(files.redis(), stock(STOCK_REDIS));
}

#[test]
fn get_prints_every_line_of_multi_line_directives_and_unset_values_like_show() {
    let redis = format!("{}rename-command FLUSHALL \"\"\nrename-command CONFIG MYCONFIG\n", stock(STOCK_REDIS));
    let files = Files::with(&redis, &stock(STOCK_SENTINEL));
    let out = files.run(&["get", "client-output-buffer-limit"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 3, "{out:?}");
    for class in ["normal 0 0 0", "replica 256mb 64mb 60", "pubsub 32mb 8mb 60"] {
        assert!(out.stdout.contains(&format!("client-output-buffer-limit {class}\t")), "{out:?}");
    }
    let out = files.run(&["get", "rename-command"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("rename-command FLUSHALL \"\"\t"), "{out:?}");
    assert!(out.stdout.contains("rename-command CONFIG MYCONFIG\t"), "{out:?}");
    let out = files.run(&["get", "sentinel"]);
    assert_eq!(out.code, 0, "{out:?}");
    for line in [
        "sentinel monitor mymaster 127.0.0.1 6379 2",
        "sentinel down-after-milliseconds mymaster 30000",
        "sentinel failover-timeout mymaster 180000",
    ] {
        assert!(out.stdout.contains(&format!("{line}\t")), "{line}: {out:?}");
    }
    // An unset value reads the same in get and show.
    let get = files.run(&["get", "requirepass"]);
    assert_eq!(get.code, 0, "{get:?}");
    assert!(get.stdout.starts_with("requirepass (none)\t"), "{get:?}");
    let show = files.run(&["show"]);
    let line = show.stdout.lines().find(|l| l.trim_start().starts_with("requirepass")).expect("requirepass in show");
    assert!(line.contains("(none)"), "{line:?}");
}

#[test]
fn check_accepts_a_host_without_sentinel_conf_and_show_fails_on_a_bad_line() {
    let files = Files::stock();
    std::fs::remove_file(&files.sentinel).expect("rm sentinel.conf");
    let out = files.run(&["check"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("absent"), "{out:?}");
    let out = files.run(&["show"]);
    assert_eq!(out.code, 0, "{out:?}");

    let files = Files::with(&format!("{}port abc\n", stock(STOCK_REDIS)), &stock(STOCK_SENTINEL));
    let out = files.run(&["show"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("port abc"), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// --apply: nothing sent when nothing changes; a Unix-socket-only instance
// ---------------------------------------------------------------------------------------------

/// How many CONFIG SET the server has run.
fn config_set_calls(c: &mut Client) -> u64 {
    let info = c.cmd_str(&["INFO", "commandstats"]);
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_config|set:calls="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn apply_of_an_unchanged_value_sends_nothing() {
    let live = Live::start();
    let mut c = live.server.client();
    let out = live.run(&["protected-mode", "no", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(config_set_calls(&mut c), 1);
    let out = live.run(&["protected-mode", "no", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(config_set_calls(&mut c), 1, "the second run sent CONFIG SET again: {out:?}");
    let out = live.run(&["protected-mode", "no", "--apply", "--json"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(config_set_calls(&mut c), 1, "{out:?}");
    let report: EditReport = serde_json::from_str(&out.stdout).expect("json");
    assert!(!report.changed, "{out:?}");
    assert!(report.applied.as_deref().is_some_and(|a| a.contains("nothing sent")), "{out:?}");
    // The same value written another way (memory units) is the same value.
    assert_eq!(live.run(&["set", "maxmemory", "1mb", "--apply"], None).code, 0);
    let calls = config_set_calls(&mut c);
    assert_eq!(live.run(&["set", "maxmemory", "1048576", "--apply"], None).code, 0);
    assert_eq!(config_set_calls(&mut c), calls);
}

/// Our server listening only on a Unix socket (port 0), like a templated @NAME instance.
struct UnixOnly {
    child: std::process::Child,
    dir: tempfile::TempDir,
    sock: PathBuf,
    conf: PathBuf,
}

impl UnixOnly {
    fn start() -> UnixOnly {
        let dir = tempfile::tempdir().expect("temp dir");
        let sock = dir.path().join("redis.sock");
        let conf = dir.path().join("redis-NAME.conf");
        let text = format!(
            "port 0\nunixsocket {}\ndir {}\nsave \"\"\nprotected-mode yes\n# maxmemory <bytes>\n",
            sock.display(),
            dir.path().display()
        );
        std::fs::write(&conf, text).expect("write config");
        let mut cmd = Command::new(crate::common::OURS);
        cmd.arg(&conf).args(["--daemonize", "no"]).stdout(Stdio::null()).stderr(Stdio::null());
        let child = crate::common::die_with_parent(&mut cmd).spawn().expect("spawn");
        wait_for("the Unix socket", Duration::from_secs(15), || std::os::unix::net::UnixStream::connect(&sock).is_ok());
        UnixOnly { child, dir, sock, conf }
    }

    fn cmd(&self, args: &[&str]) -> String {
        use std::io::Read;
        let mut s = std::os::unix::net::UnixStream::connect(&self.sock).expect("connect");
        let parts: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        s.write_all(&crate::common::encode(&parts)).expect("write");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).expect("read");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

impl Drop for UnixOnly {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn apply_reaches_an_instance_that_listens_on_a_unix_socket_only() {
    let server = UnixOnly::start();
    let missing = server.dir.path().join("sentinel-none.conf");
    let base = ["--config", server.conf.to_str().expect("utf8"), "--sentinel-config", missing.to_str().expect("utf8")];
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = base.to_vec();
        all.extend_from_slice(args);
        redisctl(&all, None)
    };
    let out = run(&["set", "maxmemory", "100mb", "--apply"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("applied") && out.stdout.contains(&server.sock.display().to_string()), "{out:?}");
    assert!(!out.all().contains("no server is running"), "{out:?}");
    assert!(server.cmd(&["CONFIG", "GET", "maxmemory"]).ends_with("$9\r\n104857600\r\n"));
    let out = run(&["protected-mode", "no", "--apply"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(server.cmd(&["CONFIG", "GET", "protected-mode"]).ends_with("$2\r\nno\r\n"));
    let out = run(&["status", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let status: StatusReport = serde_json::from_str(&out.stdout).expect("status json");
    assert!(status.server.reachable && status.sentinel.is_none(), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// --json, checked against the schema with serde
// ---------------------------------------------------------------------------------------------

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct EditReport {
    changed: bool,
    file: String,
    diff: String,
    applied: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct GetReport {
    directive: String,
    lines: Vec<GetLine>,
    default: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct GetLine {
    value: String,
    file: String,
    line: usize,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ShowReport {
    server: ShowServer,
    sentinel: ShowSentinel,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ShowServer {
    file: String,
    error: Option<String>,
    settings: Vec<ShowSetting>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ShowSetting {
    name: String,
    value: String,
    default: bool,
    file: Option<String>,
    line: Option<usize>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ShowSentinel {
    file: String,
    present: bool,
    error: Option<String>,
    port: String,
    masters: Vec<ShowMaster>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ShowMaster {
    name: String,
    host: String,
    port: String,
    quorum: String,
    file: String,
    line: usize,
    settings: Vec<(String, String)>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CheckReport {
    ok: bool,
    files: Vec<CheckedFile>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CheckedFile {
    file: String,
    present: bool,
    ok: bool,
    error: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct StatusReport {
    units: Vec<UnitState>,
    server: ServerStatus,
    sentinel: Option<SentinelStatus>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct UnitState {
    unit: String,
    active: String,
    enabled: String,
    note: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ServerStatus {
    address: String,
    reachable: bool,
    error: Option<String>,
    role: Option<String>,
    master_link: Option<MasterLink>,
    replicas: Vec<ReplicaState>,
    persistence: Option<Persistence>,
    memory: Option<Memory>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct MasterLink {
    host: String,
    port: u16,
    status: String,
    last_io_seconds_ago: i64,
    sync_in_progress: bool,
    repl_offset: i64,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ReplicaState {
    address: String,
    state: String,
    offset: i64,
    lag_bytes: i64,
    lag_seconds: i64,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Persistence {
    last_save_time: i64,
    changes_since_last_save: i64,
    bgsave_in_progress: bool,
    last_bgsave_status: String,
    aof_enabled: bool,
    aof_rewrite_in_progress: bool,
    aof_last_write_status: String,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Memory {
    used: i64,
    maxmemory: i64,
    policy: String,
    percent_of_maxmemory: Option<f64>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct SentinelStatus {
    address: String,
    reachable: bool,
    error: Option<String>,
    masters: Vec<WatchedMaster>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct WatchedMaster {
    name: String,
    address: String,
    quorum: i64,
    flags: String,
    replicas: i64,
    other_sentinels: i64,
    quorum_reachable: bool,
    ckquorum: String,
}

#[test]
fn json_reports_follow_their_schema() {
    let files = Files::stock();
    // An edit, then the same edit again: changed, then not.
    let out = files.run(&["--json", "set", "maxmemory", "2gb"]);
    assert_eq!(out.code, 0, "{out:?}");
    let first: EditReport = serde_json::from_str(&out.stdout).expect("edit json");
    assert!(first.changed && first.file == files.conf.display().to_string(), "{first:?}");
    assert!(first.diff.contains("+maxmemory 2gb"), "{first:?}");
    assert_eq!(first.applied, None);
    let out = files.run(&["set", "maxmemory", "2gb", "--json"]);
    let second: EditReport = serde_json::from_str(&out.stdout).expect("edit json");
    assert!(!second.changed && second.diff.is_empty(), "{second:?}");
    // Dry run: what would change, nothing written.
    let (r, _) = files.snap();
    let out = files.run(&["--dry-run", "--json", "port", "7005"]);
    let dry: EditReport = serde_json::from_str(&out.stdout).expect("dry-run json");
    assert!(dry.changed && dry.diff.contains("+port 7005"), "{dry:?}");
    assert_untouched(&files.conf, &r);
    // Secrets stay out of the JSON too.
    let out = files.run_stdin(&["--json", "requirepass", "--stdin"], Some("Json-Secret-1\n"));
    assert!(!out.all().contains("Json-Secret-1"), "{out:?}");
    let secret: EditReport = serde_json::from_str(&out.stdout).expect("json");
    assert!(secret.changed, "{secret:?}");
    // Sentinel edits.
    let out = files.run(&["--json", "sentinel", "set", "mymaster", "parallel-syncs", "3"]);
    let s: EditReport = serde_json::from_str(&out.stdout).expect("json");
    assert!(s.changed && s.file == files.sentinel.display().to_string(), "{s:?}");

    let out = files.run(&["get", "--json", "client-output-buffer-limit"]);
    let get: GetReport = serde_json::from_str(&out.stdout).expect("get json");
    assert_eq!((get.directive.as_str(), get.lines.len(), &get.default), ("client-output-buffer-limit", 3, &None));
    assert!(get.lines.iter().all(|l| l.file == files.conf.display().to_string() && l.line > 0 && !l.value.is_empty()));
    let out = files.run(&["get", "--json", "masterauth"]);
    let get: GetReport = serde_json::from_str(&out.stdout).expect("get json");
    assert!(get.lines.is_empty() && get.default.is_none(), "{get:?}");
    let out = files.run(&["get", "--json", "requirepass"]);
    let get: GetReport = serde_json::from_str(&out.stdout).expect("get json");
    assert_eq!(get.lines[0].value, "(set)");

    let out = files.run(&["show", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let show: ShowReport = serde_json::from_str(&out.stdout).expect("show json");
    assert!(show.server.error.is_none() && show.sentinel.present && show.sentinel.masters.len() == 1, "{show:?}");
    let m = &show.sentinel.masters[0];
    assert_eq!(
        (m.name.as_str(), m.host.as_str(), m.port.as_str(), m.quorum.as_str()),
        ("mymaster", "127.0.0.1", "6379", "2")
    );
    assert!(m.file == files.sentinel.display().to_string() && m.line > 0, "{m:?}");
    assert!(m.settings.iter().any(|(o, v)| o == "parallel-syncs" && v == "3"), "{m:?}");
    let pass = show.server.settings.iter().find(|s| s.name == "requirepass").expect("requirepass");
    assert!(pass.value == "(set)" && !pass.default && pass.line.is_some(), "{pass:?}");
    assert_eq!(show.server.file, files.conf.display().to_string());
    assert_eq!(show.sentinel.file, files.sentinel.display().to_string());
    assert!(show.sentinel.error.is_none() && !show.sentinel.port.is_empty(), "{show:?}");
    assert!(show.server.settings.iter().any(|s| s.default && s.file.is_none()), "{show:?}");

    let out = files.run(&["check", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let check: CheckReport = serde_json::from_str(&out.stdout).expect("check json");
    assert!(check.ok && check.files.len() == 2 && check.files.iter().all(|f| f.ok && f.present && f.error.is_none()));
    assert_eq!(check.files[1].file, files.sentinel.display().to_string());
    std::fs::write(&files.conf, "bind 127.0.0.1 127.0.0.1\n").expect("write");
    let out = files.run(&["check", "--json"]);
    assert_eq!(out.code, 1, "exit codes are the same with --json: {out:?}");
    let check: CheckReport = serde_json::from_str(&out.stdout).expect("check json");
    assert!(!check.ok && check.files[0].error.is_some(), "{check:?}");
}

#[test]
fn status_json_shows_master_replica_and_sentinel() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let live = Live::start();
    let out =
        live.run(&["replicaof", "127.0.0.1", &master.port.to_string(), "--apply", "--wait", "--timeout", "60"], None);
    assert_eq!(out.code, 0, "{out:?}");
    // Without a terminal, a line per step, ending with the link up.
    assert!(out.stdout.lines().last().is_some_and(|l| l.contains("master_link_status:up")), "{out:?}");
    // A Sentinel watching the master, found through the sentinel.conf redisctl reads.
    let sentinel = crate::common::SentinelProcess::start(crate::common::OUR_SENTINEL, |port, dir| {
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir \"{}\"\nsentinel monitor mymaster 127.0.0.1 {} 1\n",
            dir.display(),
            master.port
        );
        (text, Vec::new())
    });
    std::fs::copy(&sentinel.conf, &live.sentinel).expect("copy sentinel.conf");
    let out = live.run(&["status", "--json"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let status: StatusReport = serde_json::from_str(&out.stdout).expect("status json");
    assert_eq!(status.units.len(), 2, "{status:?}");
    assert!(status.units.iter().all(|u| !u.unit.is_empty() && !u.active.is_empty() && !u.enabled.is_empty()));
    // The files are not the packaged ones: their units are not installed here, which is said.
    assert!(status.units.iter().all(|u| u.active != "unknown" || u.note.is_some()), "{status:?}");
    let server = &status.server;
    assert!(server.reachable && server.error.is_none(), "{server:?}");
    assert_eq!(server.address, format!("127.0.0.1:{}", live.server.port));
    assert_eq!(server.role.as_deref(), Some("slave"));
    let link = server.master_link.as_ref().expect("master link");
    assert_eq!((link.host.as_str(), link.port, link.status.as_str()), ("127.0.0.1", master.port, "up"));
    assert!(!link.sync_in_progress && link.last_io_seconds_ago >= 0 && link.repl_offset >= 0, "{link:?}");
    let p = server.persistence.as_ref().expect("persistence");
    assert!(p.last_save_time > 0 && p.changes_since_last_save >= 0 && !p.bgsave_in_progress, "{p:?}");
    assert!(!p.aof_enabled && !p.aof_rewrite_in_progress && p.last_bgsave_status == "ok", "{p:?}");
    assert_eq!(p.aof_last_write_status, "ok");
    let m = server.memory.as_ref().expect("memory");
    assert!(m.used > 0 && m.maxmemory == 0 && m.percent_of_maxmemory.is_none() && m.policy == "noeviction", "{m:?}");
    assert!(server.replicas.is_empty());
    let st = status.sentinel.as_ref().expect("sentinel");
    assert!(st.reachable && st.error.is_none() && st.address == format!("127.0.0.1:{}", sentinel.port), "{st:?}");
    let w = &st.masters[0];
    assert_eq!((w.name.as_str(), w.address.clone(), w.quorum), ("mymaster", format!("127.0.0.1:{}", master.port), 1));
    assert!(w.quorum_reachable && w.ckquorum.starts_with("OK"), "{w:?}");
    assert!(!w.flags.is_empty() && w.other_sentinels == 0 && w.replicas >= 0, "{w:?}");

    // The master's side: its replica, with its offset and lag.
    let files = Files::with(&format!("bind 127.0.0.1\nport {}\n", master.port), "");
    std::fs::remove_file(&files.sentinel).expect("rm");
    let out = files.run(&["status", "--json"]);
    let status: StatusReport = serde_json::from_str(&out.stdout).expect("status json");
    assert_eq!(status.server.role.as_deref(), Some("master"));
    let rep = &status.server.replicas;
    assert_eq!(rep.len(), 1, "{status:?}");
    assert!(rep[0].address.ends_with(&format!(":{}", live.server.port)) && rep[0].state == "online", "{rep:?}");
    assert!(rep[0].offset >= 0 && rep[0].lag_bytes >= 0 && rep[0].lag_seconds >= 0, "{rep:?}");
    // Text form: one screen.
    let out = files.run(&["status"]);
    assert_eq!(out.code, 0, "{out:?}");
    for needle in ["Units:", "redis-server-rs", "redis-sentinel-rs", "role", "replica", "memory", "Sentinel:"] {
        assert!(out.stdout.contains(needle), "{needle}: {out:?}");
    }
    // A server that does not answer: said, exit 1.
    let files = Files::with(&format!("bind 127.0.0.1\nport {}\n", free_port()), &stock(STOCK_SENTINEL));
    let out = files.run(&["status"]);
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn set_takes_sentinels_own_settings_and_directives_of_sentinel_conf() {
    let stock_sentinel = stock(STOCK_SENTINEL);
    let files = Files::stock();
    let out = files.run(&["set", "sentinel", "announce-ip", "10.0.0.5"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = files.run(&["set", "--sentinel", "port", "26390"]);
    assert_eq!(out.code, 0, "{out:?}");
    let port_line = format!("port {}", idle_sentinel_port());
    let expected = insert_after(&stock_sentinel, "# sentinel announce-ip 1.2.3.4", &["sentinel announce-ip 10.0.0.5"]);
    assert_text("sentinel.conf", &files.sentinel_text(), &replace_line(&expected, &port_line, &["port 26390"]));
    assert_eq!(files.redis(), stock(STOCK_REDIS), "redis.conf is left alone");
    assert_eq!(files.run(&["check"]).code, 0);
    // A secret of Sentinel's own comes from standard input only.
    let (_, s) = files.snap();
    let out = files.run(&["set", "sentinel", "sentinel-pass", "on-argv"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_untouched(&files.sentinel, &s);
    let out = files.run_stdin(&["set", "sentinel", "sentinel-pass", "--stdin"], Some("Peer-Secret-3\n"));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.all().contains("Peer-Secret-3"), "{out:?}");
    assert!(files.sentinel_text().lines().any(|l| l == "sentinel sentinel-pass Peer-Secret-3"));

    // Bad values: Sentinel's SENTINEL CONFIG SET words (Debian's redis-sentinel replies them).
    let real = Sentinel::start();
    let (_, s) = files.snap();
    for (option, value) in [("resolve-hostnames", "maybe"), ("announce-port", "99999"), ("announce-hostnames", "2")] {
        let reply = Client::connect(real.port).cmd_str(&["SENTINEL", "CONFIG", "SET", option, value]);
        let words = reply.strip_prefix("-ERR ").unwrap_or_else(|| panic!("{option}: {reply:?}")).trim_end().to_string();
        let out = files.run(&["set", "sentinel", option, value]);
        assert_eq!(out.code, 1, "{option}: {out:?}");
        assert_eq!(out.stderr, format!("redisctl: {words}\n"), "{option}");
        assert_untouched(&files.sentinel, &s);
    }
    // Through a running Sentinel: SENTINEL CONFIG SET, and it rewrites its file itself.
    let ours = Sentinel::start_ours();
    let out = ours.redisctl(&["set", "sentinel", "announce-port", "4321", "--apply"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("SENTINEL config set announce-port 4321"), "{out:?}");
    let reply = Client::connect(ours.port).cmd_str(&["SENTINEL", "CONFIG", "GET", "announce-port"]);
    assert!(reply.ends_with("$4\r\n4321\r\n"), "{reply:?}");
    ours.wait_for_line("sentinel announce-port 4321");
    // A directive Sentinel cannot change live is refused while it runs, with what to do.
    let before = read(&ours.conf);
    let out = ours.redisctl(&["set", "--sentinel", "port", "26391"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("stop it"), "{out:?}");
    assert_eq!(read(&ours.conf), before);
}

#[test]
fn apply_of_a_directive_read_only_at_start_up_says_a_restart_is_needed() {
    let live = Live::start();
    let sock = live.server.dir.path().join("later.sock");
    let out = live.run(&["set", "unixsocket", &sock.display().to_string(), "--apply"], None);
    // Not a packaged unit: redisctl cannot restart it, and says so; the file is valid and kept.
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("unixsocket is read only when the server starts"), "{out:?}");
    assert!(out.stderr.contains("restart the server"), "{out:?}");
    assert!(live.text().contains(&format!("\nunixsocket {}\n", sock.display())));
    assert_eq!(live.server.client().cmd_str(&["PING"]), "+PONG\r\n");
    // With no server running, the file alone changes, which is all there is to do.
    let files = Files::with(&format!("bind 127.0.0.1\nport {}\n", free_port()), &stock(STOCK_SENTINEL));
    let out = files.run(&["set", "databases", "32", "--apply"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("no server is running"), "{out:?}");
}

#[test]
fn replicaof_wait_gives_up_after_its_timeout() {
    let live = Live::start();
    // Nothing listens at the master's address: the link never comes up.
    let port = free_port().to_string();
    let started = std::time::Instant::now();
    let out = live.run(&["replicaof", "127.0.0.1", &port, "--apply", "--wait", "--timeout", "1"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("not in sync after 1s"), "{out:?}");
    assert!(out.stdout.contains("connecting to the master"), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    // The replica keeps trying: the file and the server say replicaof.
    assert!(live.text().contains(&format!("\nreplicaof 127.0.0.1 {port}\n")));
    // --wait without --apply has nothing to follow.
    let out = live.run(&["replicaof", "no", "one", "--wait"], None);
    assert_eq!(out.code, 2, "{out:?}");
}
