//! ACL compared with Redis 7.0: seeded random users (rule lists with selectors) and random
//! command lines give the same SETUSER replies, the same allow/deny decisions and replies, the
//! same ACL LOG, GETUSER and LIST; and hand-written cases for MULTI, scripts and logins.
//!
//! Redis describes the single-command rules (`+get -set`) in its command dict's hash order,
//! which is random per process: `norm_rules` sorts those runs (categories keep their order).

use crate::common::*;
use crate::differential_support::{Duo, Pair, Rng};

/// Sorts each run of single-command rules (`+get`, `-config|set`, `+select|0`) inside every bulk
/// string, per selector; everything else keeps its place.
fn norm_rules_text(s: &str) -> String {
    let single = |t: &str| {
        let t = t.trim_start_matches('(').trim_end_matches(')');
        (t.starts_with('+') || t.starts_with('-')) && !t[1..].starts_with('@')
    };
    let tokens: Vec<&str> = s.split(' ').collect();
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, out: &mut Vec<String>| {
        run.sort_by_key(|t| t.trim_start_matches(['+', '-']).to_string());
        out.extend(run.drain(..).map(String::from));
    };
    for t in tokens {
        let opens = t.starts_with('(');
        let closes = t.ends_with(')');
        if opens {
            flush(&mut run, &mut out);
        }
        if single(t) && !opens && !closes {
            run.push(t);
        } else if single(t) && closes && !opens {
            run.push(t.trim_end_matches(')'));
            flush(&mut run, &mut out);
            if let Some(last) = out.last_mut() {
                last.push(')');
            }
        } else {
            flush(&mut run, &mut out);
            out.push(t.to_string());
        }
    }
    flush(&mut run, &mut out);
    out.join(" ")
}

fn norm_reply(r: &mut Reply) {
    match r {
        Reply::Bulk(b) => {
            if let Ok(s) = std::str::from_utf8(b) {
                *b = norm_rules_text(s).into_bytes();
            }
        }
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => items.iter_mut().for_each(norm_reply),
        Reply::Map(kv) => kv.iter_mut().for_each(|(k, v)| {
            norm_reply(k);
            norm_reply(v)
        }),
        _ => {}
    }
}

fn norm_rules(b: &[u8]) -> Vec<u8> {
    let mut r = Reply::parse(b);
    norm_reply(&mut r);
    r.encode()
}

/// ACL LOG with what differs between two servers masked: the age, and of the client line all
/// but its cmd= and user= fields.
fn norm_log(b: &[u8]) -> Vec<u8> {
    let mut r = Reply::parse(b);
    fn go(r: &mut Reply) {
        match r {
            Reply::Array(items) => {
                let mut i = 0;
                while i + 1 < items.len() {
                    let key = match &items[i] {
                        Reply::Bulk(k) => Some(k.clone()),
                        _ => None,
                    };
                    match key.as_deref() {
                        Some(b"age-seconds") => items[i + 1] = Reply::status("<age>"),
                        Some(b"client-info") => {
                            let line = items[i + 1].text();
                            let kept: Vec<&str> =
                                line.split(' ').filter(|f| f.starts_with("cmd=") || f.starts_with("user=")).collect();
                            items[i + 1] = Reply::status(&kept.join(" "));
                        }
                        _ => go(&mut items[i]),
                    }
                    i += 1;
                }
                if let Some(last) = items.last_mut() {
                    go(last);
                }
            }
            Reply::Map(kv) => {
                for (k, v) in kv.iter_mut() {
                    let key = match &*k {
                        Reply::Bulk(k) => Some(k.clone()),
                        _ => None,
                    };
                    match key.as_deref() {
                        Some(b"age-seconds") => *v = Reply::status("<age>"),
                        Some(b"client-info") => {
                            let line = v.text();
                            let kept: Vec<&str> =
                                line.split(' ').filter(|f| f.starts_with("cmd=") || f.starts_with("user=")).collect();
                            *v = Reply::status(&kept.join(" "));
                        }
                        _ => go(v),
                    }
                }
            }
            _ => {}
        }
    }
    go(&mut r);
    r.encode()
}

const RULES: &[&str] = &[
    "on",
    "off",
    "nopass",
    "resetpass",
    ">pw1",
    ">pw2",
    "<pw2",
    "<nosuch",
    "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "#abc",
    "~k*",
    "~*",
    "%R~r*",
    "%W~w*",
    "%RW~x*",
    "%X~bad",
    "allkeys",
    "resetkeys",
    "&ch*",
    "&*",
    "allchannels",
    "resetchannels",
    "+@read",
    "-@read",
    "+@write",
    "+@string",
    "-@string",
    "+@list",
    "+@keyspace",
    "-@slow",
    "+@pubsub",
    "-@dangerous",
    "+@hash",
    "+@all",
    "-@all",
    "allcommands",
    "nocommands",
    "+get",
    "-get",
    "+set",
    "+mget",
    "+lmove",
    "+config|get",
    "-config|set",
    "+config",
    "+select|0",
    "+client",
    "-client|kill",
    "+publish",
    "+nosuch",
    "+@nosuch",
    "+config|get|x",
    "(~s* +get +set)",
    "(%R~* +@read)",
    "(&ch1 +publish)",
    "(~w* +@write -del)",
    "(+nosuch)",
    "clearselectors",
    "reset",
    "sanitize-payload",
    "skip-sanitize-payload",
];

const LINES: &[&[&str]] = &[
    &["GET", "k1"],
    &["GET", "r1"],
    &["GET", "s1"],
    &["SET", "w1", "v"],
    &["SET", "k1", "v"],
    &["SET", "s1", "v"],
    &["MGET", "k1", "r1", "w1"],
    &["LMOVE", "r1", "w1", "LEFT", "RIGHT"],
    &["LMOVE", "w1", "r1", "LEFT", "RIGHT"],
    &["DEL", "w1"],
    &["DEL", "x1"],
    &["HSET", "x1", "f", "v"],
    &["PUBLISH", "ch1", "m"],
    &["PUBLISH", "zz", "m"],
    &["CONFIG", "GET", "maxmemory"],
    &["CONFIG", "SET", "maxmemory", "0"],
    &["SELECT", "0"],
    &["SELECT", "1"],
    &["CLIENT", "GETNAME"],
    &["ACL", "WHOAMI"],
    &["PING"],
    &["SORT", "r1", "STORE", "w1"],
    &["ACL", "DRYRUN", "u0", "SUBSCRIBE", "ch1", "zz"],
    &["ACL", "DRYRUN", "u1", "PSUBSCRIBE", "ch*"],
    &["ACL", "DRYRUN", "u2", "PSUBSCRIBE", "ch1"],
    &["ACL", "DRYRUN", "u0", "SPUBLISH", "ch2", "m"],
    &["ACL", "DRYRUN", "u1", "EVAL", "return 1", "1", "k1"],
    &["ACL", "DRYRUN", "u2", "BITFIELD", "r1", "GET", "u8", "0"],
    &["ACL", "DRYRUN", "u0", "BITFIELD", "r1", "SET", "u8", "0", "1"],
];

#[test]
fn random_users_and_commands_match_redis() {
    let duo = Duo::start(&[]);
    let mut admin = duo.pair_named("admin");
    let mut rng = Rng(0xac1_2024);
    for round in 0..60 {
        let name = format!("u{}", rng.below(3));
        let mut setuser = vec!["ACL".to_string(), "SETUSER".to_string(), name.clone()];
        for _ in 0..1 + rng.below(5) {
            setuser.push(rng.pick(RULES).to_string());
        }
        let args: Vec<&str> = setuser.iter().map(String::as_str).collect();
        admin.check(&args);
        let mut user = duo.pair_named(&format!("round {round} as {name}"));
        user.check(&["AUTH", &name, "pw1"]);
        for _ in 0..6 {
            let line = LINES[rng.below(LINES.len())];
            user.check(line);
        }
        admin.check_with(&["ACL", "GETUSER", &name], norm_rules);
        admin.check_with(&["ACL", "LIST"], norm_rules);
        admin.check_with(&["ACL", "LOG", "5"], norm_log);
        user.assert_clean();
        if round % 20 == 19 {
            admin.check(&["ACL", "LOG", "RESET"]);
        }
    }
    admin.check_with(&["HELLO", "3"], |b| crate::differential_support::mask_field(b, "id"));
    admin.check_with(&["ACL", "GETUSER", "u0"], norm_rules);
    admin.check_with(&["ACL", "LOG"], norm_log);
    admin.assert_clean();
}

fn setup(p: &mut Pair) {
    p.check(&["ACL", "SETUSER", "alice", "on", ">pw", "~k*", "&ch*", "+@all", "-get", "-config|set"]);
}

#[test]
fn multi_scripts_and_logins_match_redis() {
    let duo = Duo::start(&[]);
    let mut admin = duo.pair_named("admin");
    setup(&mut admin);
    let mut p = duo.pair_named("alice");
    p.check(&["AUTH", "alice", "pw"]);
    // Refused at queueing time: the transaction is flagged and EXEC aborts.
    p.check(&["MULTI"]);
    p.check(&["GET", "k1"]);
    p.check(&["SET", "other", "1"]);
    p.check(&["SET", "k1", "1"]);
    p.check(&["EXEC"]);
    // Allowed when queued, refused at EXEC because the rules changed meanwhile.
    p.check(&["MULTI"]);
    p.check(&["SET", "k1", "1"]);
    p.check(&["INCR", "k1"]);
    admin.check(&["ACL", "SETUSER", "alice", "-incr"]);
    p.check(&["EXEC"]);
    // Scripts: the script's commands are checked as the caller's user.
    p.check(&["EVAL", "return redis.call('get','k1')", "0"]);
    p.check(&["EVAL", "return redis.call('set','zz','1')", "0"]);
    p.check(&["EVAL", "return redis.pcall('publish','zz','1')", "0"]);
    p.check(&["EVAL", "return redis.acl_check_cmd('set','zz','1')", "0"]);
    p.check(&["EVAL", "return redis.acl_check_cmd('set','k2','1')", "0"]);
    admin.check_with(&["ACL", "LOG"], norm_log);
    // Logins: AUTH and HELLO AUTH failures are logged (reason auth).
    p.check(&["AUTH", "alice", "bad"]);
    p.check(&["AUTH", "nobody", "bad"]);
    p.check(&["AUTH", "bad"]);
    p.check(&["HELLO", "2", "AUTH", "alice", "bad"]);
    p.check(&["HELLO", "2", "AUTH", "alice"]);
    p.check(&["ACL", "WHOAMI"]);
    admin.check(&["ACL", "SETUSER", "bob", "off", ">pw", "+@all"]);
    p.check(&["AUTH", "bob", "pw"]);
    admin.check_with(&["ACL", "LOG"], norm_log);
    admin.check(&["ACL", "LOG", "RESET"]);
    // The same refusal within a minute is one entry with a count.
    p.check(&["GET", "k1"]);
    p.check(&["GET", "k1"]);
    p.check(&["GET", "k2"]);
    admin.check_with(&["ACL", "LOG"], norm_log);
    admin.check_with(&["ACL", "LOG", "1"], norm_log);
    admin.check(&["ACL", "LOG", "-1"]);
    admin.check(&["ACL", "LOG", "x"]);
    admin.check(&["ACL", "LOG", "1", "2"]);
    admin.check(&["CONFIG", "SET", "acllog-max-len", "1"]);
    p.check(&["GET", "k3"]);
    admin.check_with(&["ACL", "LOG"], norm_log);
    // The default user: requirepass is its password.
    admin.check(&["CONFIG", "SET", "requirepass", "secret"]);
    admin.check_with(&["ACL", "LIST"], norm_rules);
    admin.check(&["ACL", "GETUSER", "default"]);
    let mut fresh = duo.pair_named("fresh");
    fresh.check(&["GET", "k1"]);
    fresh.check(&["HELLO", "3"]);
    fresh.check(&["AUTH", "wrong"]);
    fresh.check(&["AUTH", "secret"]);
    fresh.check(&["ACL", "WHOAMI"]);
    admin.check(&["CONFIG", "SET", "requirepass", ""]);
    admin.check_with(&["ACL", "LIST"], norm_rules);
    fresh.check(&["AUTH", "x"]);
    p.assert_clean();
    fresh.assert_clean();
    admin.assert_clean();
}

#[test]
fn deleted_users_clients_are_disconnected() {
    let s = crate::differential_support::start_ours(&[]);
    let mut admin = s.client();
    assert_eq!(admin.cmd_str(&["ACL", "SETUSER", "carol", "on", ">pw", "+@all", "~*"]), "+OK\r\n");
    let mut c = s.client();
    assert_eq!(c.cmd_str(&["AUTH", "carol", "pw"]), "+OK\r\n");
    assert!(admin.cmd_str(&["CLIENT", "LIST"]).contains("user=carol"));
    assert_eq!(admin.cmd_str(&["ACL", "DELUSER", "carol", "nosuch"]), ":1\r\n");
    wait_for("carol's client closed", std::time::Duration::from_secs(10), || c.closed());
    assert!(!admin.cmd_str(&["CLIENT", "LIST"]).contains("user=carol"));
    // A user that deletes itself gets its reply, then the connection closes.
    assert_eq!(admin.cmd_str(&["ACL", "SETUSER", "dave", "on", "nopass", "+@all"]), "+OK\r\n");
    let mut d = s.client();
    assert_eq!(d.cmd_str(&["AUTH", "dave", "x"]), "+OK\r\n");
    assert_eq!(d.cmd_str(&["ACL", "DELUSER", "dave"]), ":1\r\n");
    wait_for("dave's client closed", std::time::Duration::from_secs(10), || d.closed());
    // Pub/sub clients lose their connection when their channels are revoked.
    assert_eq!(admin.cmd_str(&["ACL", "SETUSER", "erin", "on", "nopass", "+@all", "&news*"]), "+OK\r\n");
    let mut e = s.client();
    assert_eq!(e.cmd_str(&["AUTH", "erin", "x"]), "+OK\r\n");
    assert!(e.cmd_str(&["SUBSCRIBE", "news1"]).contains("news1"));
    assert_eq!(admin.cmd_str(&["ACL", "SETUSER", "erin", "&other"]), "+OK\r\n");
    assert!(admin.cmd_str(&["CLIENT", "LIST"]).contains("user=erin"), "a superset keeps the client");
    assert_eq!(admin.cmd_str(&["ACL", "SETUSER", "erin", "resetchannels", "&other"]), "+OK\r\n");
    wait_for("erin's client closed", std::time::Duration::from_secs(10), || e.closed());
}

#[test]
fn rule_errors_match_redis() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for rules in [
        &["("][..],
        &["(~a", "foo"],
        &["(~a", "+get)", "(+set"],
        &["+nosuch"],
        &["~x", "allkeys", "~y"],
        &["&*", "&x"],
        &["#abc"],
        &["#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"],
        &["<nopw"],
        &["+config|get|x"],
        &["+get|x", "-get|x"],
        &["+config|"],
        &["%RX~a"],
        &["%~a"],
        &["%R~a b"],
        &["+@nosuch"],
        &["bogus"],
        &["(on)"],
        &["()", "(  )"],
        &["+debug|object", "+select|0", "+select|1", "+SELECT|0"],
    ] {
        let mut args = vec!["ACL", "SETUSER", "eve"];
        args.extend_from_slice(rules);
        p.check(&args);
        p.check_with(&["ACL", "GETUSER", "eve"], norm_rules);
    }
    p.check(&["ACL", "SETUSER", "a b"]);
    p.check(&["ACL", "SETUSER", "a\0b"]);
    p.check(&["ACL", "DELUSER", "default"]);
    p.check(&["ACL", "GETUSER", "nosuch"]);
    p.check(&["ACL", "DRYRUN", "nosuch", "get", "x"]);
    p.check(&["ACL", "DRYRUN", "eve", "nosuch"]);
    p.check(&["ACL", "DRYRUN", "eve", "get"]);
    p.check(&["ACL", "LOAD"]);
    p.check(&["ACL", "SAVE"]);
    p.check(&["ACL", "CAT", "a", "b"]);
    p.check(&["ACL", "GENPASS", "1", "2"]);
    p.assert_clean();
}

/// Replaces each server's own directory in a reply with `<dir>`.
fn without_dir(b: &[u8], dir: &std::path::Path) -> Vec<u8> {
    let text = String::from_utf8_lossy(b).replace(&dir.display().to_string(), "<dir>");
    // The bulk lengths change with the path: re-encode through the parser of the text reply.
    match Reply::parse_prefix(text.as_bytes()) {
        Ok(_) => text.into_bytes(),
        Err(_) => Reply::status(&text).encode(),
    }
}

#[test]
fn user_lines_and_acl_files_match_redis() {
    // `user` lines in the config file, and CONFIG REWRITE writing them back.
    let config = "user alice on >pw ~k* +@read (~x* +set)\nuser default on nopass ~* &* +@all -debug\n";
    let ours = Server::start_with_config(config, &[]);
    let real = Server::start_real_with_config(config, &[]);
    let (mut o, mut r) = (ours.client(), real.client());
    assert_eq!(norm_rules(&o.cmd(&["ACL", "LIST"])), norm_rules(&r.cmd(&["ACL", "LIST"])));
    assert_eq!(ours.client().cmd_str(&["AUTH", "alice", "pw"]), "+OK\r\n");
    assert_eq!(o.cmd(&["ACL", "SAVE"]), r.cmd(&["ACL", "SAVE"]));
    assert_eq!(o.cmd_str(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let written = std::fs::read_to_string(ours.dir.path().join("redis.conf")).unwrap();
    assert!(written.contains("user alice on #"), "{written}");
    assert!(written.contains("user default on nopass sanitize-payload ~* &* +@all -debug"), "{written}");
    drop((o, r, ours, real));

    // An ACL file: loaded at start-up, saved and loaded again with ACL SAVE / LOAD.
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for d in &dirs {
        std::fs::write(d.path().join("users.acl"), "user bob on >pw %R~r* &news +@read\n\n  user carol off\n").unwrap();
    }
    let files: Vec<String> = dirs.iter().map(|d| d.path().join("users.acl").display().to_string()).collect();
    let ours = Server::start(&["--aclfile", &files[0]]);
    let real = Server::start_real(&["--aclfile", &files[1]]);
    let (mut o, mut r) = (ours.client(), real.client());
    let same = |o: &mut Client, r: &mut Client, args: &[&str]| {
        let (a, b) = (o.cmd(args), r.cmd(args));
        assert_eq!(without_dir(&a, dirs[0].path()), without_dir(&b, dirs[1].path()), "{args:?}");
    };
    same(&mut o, &mut r, &["ACL", "LIST"]);
    same(&mut o, &mut r, &["ACL", "SETUSER", "dan", "on", "nopass", "~*", "+@all"]);
    same(&mut o, &mut r, &["ACL", "SAVE"]);
    let saved: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    assert_eq!(saved[0], saved[1]);
    // A client of a user is closed by ACL LOAD (all users are replaced), default's are kept.
    let mut bob = ours.client();
    assert_eq!(bob.cmd_str(&["AUTH", "bob", "pw"]), "+OK\r\n");
    same(&mut o, &mut r, &["ACL", "LOAD"]);
    wait_for("bob's client closed by ACL LOAD", std::time::Duration::from_secs(10), || bob.closed());
    // A bad file changes nothing, with every problem in one error.
    for f in &files {
        std::fs::write(f, "user x on +nosuch ~a allkeys ~b\nuser y on\nuser y off\nnotauser\nuser a\u{1}b on\n")
            .unwrap();
    }
    same(&mut o, &mut r, &["ACL", "LOAD"]);
    same(&mut o, &mut r, &["ACL", "LIST"]);
    for f in &files {
        std::fs::remove_file(f).unwrap();
    }
    same(&mut o, &mut r, &["ACL", "LOAD"]);
    same(&mut o, &mut r, &["CONFIG", "SET", "aclfile", "x"]);
}

#[test]
fn users_in_both_places_stop_startup() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("redis.conf");
    let acl = dir.path().join("users.acl");
    std::fs::write(&acl, "user bob on\n").unwrap();
    std::fs::write(&conf, format!("port 0\naclfile {}\nuser alice on\n", acl.display())).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redis-server-rs")).arg(&conf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("please define either an ACL file or declare users directly in your redis.conf"), "{log}");
    // A rule naming an unknown command stops start-up too.
    std::fs::write(&conf, "port 0\nuser alice on +nosuch\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redis-server-rs")).arg(&conf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("Error loading ACL rule '+nosuch' for the user named 'alice'"), "{log}");
}
