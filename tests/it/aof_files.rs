//! The AOF file layer against Debian's real Redis 7.0.15: we read the manifest and files it
//! writes (byte-identical manifest, the exact commands of its incr file, its RDB base), it loads
//! a directory we create, and both treat a truncated directory the same way.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{wait_for, Client, Server, REAL_REDIS};
use redis_rs::keyspace::Value;
use redis_rs::persistence::aof::{self, encode_command, IncrFile, Manifest, ReplayReport};
use redis_rs::persistence::rdb::{self, Event, WriteOptions, Writer};
use redis_rs::types::EncodingLimits;

const APPENDFILENAME: &str = "appendonly.aof";

fn ok(c: &mut Client, args: &[&str]) {
    let reply = c.cmd(args);
    assert!(
        reply.starts_with(b"+OK")
            || reply.starts_with(b":")
            || reply.starts_with(b"+QUEUED")
            || reply.starts_with(b"*"),
        "{args:?}: {}",
        String::from_utf8_lossy(&reply)
    );
}

fn get(c: &mut Client, key: &str) -> String {
    String::from_utf8(c.cmd(&["GET", key])).unwrap()
}

/// A replay's result, the keys (db, name) of its RDB base, and its commands.
type Replayed = (Result<ReplayReport, String>, Vec<(usize, String)>, Vec<Vec<String>>);

/// Replays `dir`, collecting the keys (db, name) of an RDB base and every command.
fn replay_collect(dir: &Path, manifest: &Manifest, load_truncated: bool) -> Replayed {
    let mut keys = Vec::new();
    let mut commands = Vec::new();
    let result = aof::replay(
        dir,
        manifest,
        load_truncated,
        |path| {
            let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
            rdb::load(file, &EncodingLimits::default(), |ev| {
                if let Event::Key(k) = ev {
                    keys.push((k.db, String::from_utf8(k.key).unwrap()));
                }
                Ok(())
            })
            .map_err(|e| e.to_string())
        },
        |argv| {
            commands.push(argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect());
            Ok(())
        },
    );
    keys.sort();
    (result, keys, commands)
}

fn strs(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect()
}

fn shutdown(server: &mut Server) {
    let mut c = server.client();
    c.send_raw(&crate::common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0), "redis did not shut down");
}

#[test]
fn we_read_what_real_redis_writes() {
    let mut server = Server::start_real(&["--appendonly", "yes"]);
    let aof_dir = server.dir.path().join("appendonlydir");
    let mut c = server.client();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["SELECT", "2"]);
    ok(&mut c, &["SET", "b", "2"]);
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["INCR", "x"]);
    ok(&mut c, &["RPUSH", "l", "p", "q"]);
    ok(&mut c, &["EXEC"]);
    let reply = c.cmd_str(&["BGREWRITEAOF"]);
    assert!(reply.contains("rewriting started"), "{reply}");
    wait_for("the AOF rewrite", Duration::from_secs(10), || {
        let info = c.cmd_str(&["INFO", "persistence"]);
        info.contains("aof_rewrite_in_progress:0")
            && info.contains("aof_rewrite_scheduled:0")
            && std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest"))
                .is_ok_and(|m| m.contains("seq 2 type b") && !m.contains("type h"))
    });
    ok(&mut c, &["SET", "c", "3"]);
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "d", "4"]);
    ok(&mut c, &["INCR", "x"]);
    ok(&mut c, &["EXEC"]);
    ok(&mut c, &["SELECT", "0"]);
    ok(&mut c, &["SET", "e", "a b\r\nc"]);
    shutdown(&mut server);

    let text = std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).unwrap();
    let manifest = Manifest::load(&aof_dir, APPENDFILENAME).unwrap().expect("a manifest");
    assert_eq!(manifest.render(), text);
    assert_eq!(manifest.base.as_ref().unwrap().name, "appendonly.aof.2.base.rdb");
    assert_eq!(manifest.incrs.len(), 1);

    let (result, keys, commands) = replay_collect(&aof_dir, &manifest, false);
    let report = result.unwrap();
    assert_eq!(keys, vec![(0, "a".to_string()), (2, "b".to_string()), (2, "l".to_string()), (2, "x".to_string())]);
    assert_eq!(
        commands,
        strs(&[
            &["SELECT", "2"],
            &["SET", "c", "3"],
            &["MULTI"],
            &["SET", "d", "4"],
            &["INCR", "x"],
            &["EXEC"],
            &["SELECT", "0"],
            &["SET", "e", "a b\r\nc"],
        ])
    );
    assert_eq!(report.commands, 8);
    assert_eq!(report.truncated_at, None);

    // What Redis wrote is exactly what encode_command writes for the same commands.
    let mut encoded = Vec::new();
    for cmd in &commands {
        encode_command(&mut encoded, cmd);
    }
    assert_eq!(std::fs::read(aof_dir.join(&manifest.incrs[0].name)).unwrap(), encoded);
}

#[test]
fn rewrite_bookkeeping_matches_real_redis() {
    let mut server = Server::start_real(&["--appendonly", "yes", "--aof-disable-auto-gc", "yes"]);
    let aof_dir = server.dir.path().join("appendonlydir");
    let mut c = server.client();
    let mut ours = Manifest { base: None, incrs: vec![], history: vec![] };
    ours.new_base(APPENDFILENAME, true);
    ours.new_incr(APPENDFILENAME);
    for round in 2..=3 {
        ok(&mut c, &["SET", "a", &round.to_string()]);
        let reply = c.cmd_str(&["BGREWRITEAOF"]);
        assert!(reply.contains("rewriting started"), "{reply}");
        wait_for("the AOF rewrite", Duration::from_secs(10), || {
            std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest"))
                .is_ok_and(|m| m.contains(&format!("seq {round} type b")))
        });
        ours.new_incr(APPENDFILENAME);
        ours.new_base(APPENDFILENAME, true);
        ours.mark_incrs_as_history(true);
    }
    shutdown(&mut server);
    let theirs = std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).unwrap();
    assert_eq!(ours.render(), theirs);
    assert_eq!(Manifest::parse(&theirs).unwrap(), ours);
}

/// Creates `<root>/appendonlydir` with `create` (an RDB base with k1, k2 and a list) and appends
/// `commands` to its incr file, plus `tail` raw bytes.
fn build_dir(root: &Path, commands: &[&[&str]], tail: &[u8]) -> (PathBuf, Manifest) {
    let aof_dir = root.join("appendonlydir");
    let manifest = aof::create(&aof_dir, APPENDFILENAME, true, |file| {
        let mut w = Writer::new(&mut *file, WriteOptions { compression: true, checksum: true })?;
        w.aux("redis-ver", b"7.0.15")?;
        w.aux("aof-base", b"1")?;
        w.select_db(0, 3, 0)?;
        w.key(b"k1", &Value::string("v1"), None)?;
        w.key(b"k2", &Value::string("12345"), None)?;
        let mut list = redis_rs::types::List::new();
        list.push_back(b"x");
        list.push_back(b"y");
        w.key(b"biglist", &Value::List(Box::new(list)), None)?;
        w.finish().map(|_| ())
    })
    .unwrap();
    let mut incr = IncrFile::open(&aof_dir.join(&manifest.incrs[0].name)).unwrap();
    let mut bytes = Vec::new();
    for cmd in commands {
        encode_command(&mut bytes, cmd);
    }
    bytes.extend_from_slice(tail);
    incr.append(&bytes).unwrap();
    incr.sync().unwrap();
    assert_eq!(incr.size(), bytes.len() as u64);
    (aof_dir, manifest)
}

const INCR_COMMANDS: &[&[&str]] = &[
    &["SELECT", "0"],
    &["SET", "k3", "v3"],
    &["RPUSH", "biglist", "z"],
    &["SELECT", "1"],
    &["SET", "other", "x"],
    &["MULTI"],
    &["INCR", "n"],
    &["INCR", "n"],
    &["EXEC"],
];

#[test]
fn real_redis_loads_a_directory_we_create() {
    let root = tempfile::tempdir().unwrap();
    let (aof_dir, manifest) = build_dir(root.path(), INCR_COMMANDS, b"#TS:1700000000\r\n");
    let manifest_text = std::fs::read(aof_dir.join("appendonly.aof.manifest")).unwrap();
    let root_s = root.path().display().to_string();
    let server = Server::start_real(&["--appendonly", "yes", "--dir", &root_s]);
    let mut c = server.client();
    assert_eq!(get(&mut c, "k1"), "$2\r\nv1\r\n");
    assert_eq!(get(&mut c, "k2"), "$5\r\n12345\r\n");
    assert_eq!(get(&mut c, "k3"), "$2\r\nv3\r\n");
    assert_eq!(c.cmd_str(&["LRANGE", "biglist", "0", "-1"]), "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n");
    ok(&mut c, &["SELECT", "1"]);
    assert_eq!(get(&mut c, "other"), "$1\r\nx\r\n");
    assert_eq!(get(&mut c, "n"), "$1\r\n2\r\n");
    assert_eq!(c.cmd_str(&["DBSIZE"]), ":2\r\n");
    let log = server.log_text();
    assert!(log.contains("DB loaded from base file appendonly.aof.1.base.rdb"), "{log}");
    assert!(log.contains("DB loaded from incr file appendonly.aof.1.incr.aof"), "{log}");
    // Redis took our manifest as it is, and keeps appending to our incr file.
    assert_eq!(std::fs::read(aof_dir.join("appendonly.aof.manifest")).unwrap(), manifest_text);
    ok(&mut c, &["SET", "after", "1"]);
    drop(server);
    let (result, _, commands) = replay_collect(&aof_dir, &manifest, false);
    result.unwrap();
    assert_eq!(commands.last().unwrap(), &strs(&[&["SET", "after", "1"]])[0]);
}

/// Runs real Redis on `root` until it has loaded (Ok, then it is stopped) or has exited (Err,
/// with its log).
fn try_start_real(root: &Path, load_truncated: bool) -> Result<(), String> {
    let log = root.join("redis.log");
    let port = crate::common::free_port().to_string();
    let mut child = Command::new(REAL_REDIS)
        .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--daemonize", "no", "--appendonly", "yes"])
        .args(["--aof-load-truncated", if load_truncated { "yes" } else { "no" }])
        .arg("--dir")
        .arg(root)
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("exit {:?}: {text}", status.code()));
        }
        if std::fs::read_to_string(&log).is_ok_and(|t| t.contains("Ready to accept connections")) {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("real redis neither started nor exited");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Builds the same truncated directory twice; real Redis loads one, our replay the other, and
/// both must end with the same files and agree on success or failure.
fn compare_truncation(commands: &[&[&str]], tail: &[u8], load_truncated: bool) -> Result<ReplayReport, String> {
    let theirs = tempfile::tempdir().unwrap();
    let (their_dir, _) = build_dir(theirs.path(), commands, tail);
    let ours = tempfile::tempdir().unwrap();
    let our_dir = ours.path().join("appendonlydir");
    copy_dir(&their_dir, &our_dir);
    let manifest = Manifest::load(&our_dir, APPENDFILENAME).unwrap().unwrap();

    let real = try_start_real(theirs.path(), load_truncated);
    let (result, _, _) = replay_collect(&our_dir, &manifest, load_truncated);
    match (&real, &result) {
        (Ok(_), Ok(_)) => {}
        (Err(log), Err(ours)) => {
            // Ours adds the offset of a format error to Redis's text.
            let first_line = ours.split(". You can").next().unwrap().split(" at offset").next().unwrap();
            assert!(log.contains(first_line), "redis said: {log}\nwe said: {ours}");
        }
        _ => panic!("real redis: {:?}\nours: {result:?}", real.as_ref().err()),
    }
    let incr = &manifest.incrs[0].name;
    let their_bytes = std::fs::read(their_dir.join(incr)).unwrap();
    let our_bytes = std::fs::read(our_dir.join(incr)).unwrap();
    // Redis appends nothing when it only starts: the files must be identical.
    assert_eq!(their_bytes, our_bytes, "incr file after loading");
    result
}

#[test]
fn truncated_directories_behave_as_in_real_redis() {
    let mut full = Vec::new();
    encode_command(&mut full, &["SET", "last", "value"]);
    let clean_len: u64 = {
        let mut v = Vec::new();
        for c in INCR_COMMANDS {
            encode_command(&mut v, c);
        }
        v.len() as u64
    };

    // A command cut in the middle of an argument.
    let tail = &full[..full.len() - 4];
    let report = compare_truncation(INCR_COMMANDS, tail, true).unwrap();
    assert_eq!(report.truncated_at, Some(("appendonly.aof.1.incr.aof".to_string(), clean_len)));
    let err = compare_truncation(INCR_COMMANDS, tail, false).unwrap_err();
    assert!(err.starts_with("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof."));

    // A transaction without its EXEC: rolled back to before its MULTI.
    let mut without_exec = INCR_COMMANDS.to_vec();
    without_exec.extend_from_slice(&[&["MULTI"], &["SET", "t", "1"], &["SET", "u", "2"]]);
    let report = compare_truncation(&without_exec, b"", true).unwrap();
    assert_eq!(report.truncated_at.unwrap().1, clean_len);
    compare_truncation(&without_exec, b"", false).unwrap_err();

    // A truncated file that is not the last one: Redis cuts it (aof-load-truncated) and then
    // refuses to start all the same; so do we.
    for load_truncated in [true, false] {
        let theirs = tempfile::tempdir().unwrap();
        let (their_dir, mut manifest) = build_dir(theirs.path(), INCR_COMMANDS, tail);
        let mut second = Vec::new();
        encode_command(&mut second, &["SET", "second", "1"]);
        std::fs::write(their_dir.join("appendonly.aof.2.incr.aof"), &second).unwrap();
        manifest.incrs.push(aof::AofFile {
            name: "appendonly.aof.2.incr.aof".into(),
            seq: 2,
            kind: aof::FileKind::Incr,
        });
        manifest.save(&their_dir, APPENDFILENAME).unwrap();
        let ours = tempfile::tempdir().unwrap();
        copy_dir(&their_dir, ours.path());
        let log = try_start_real(theirs.path(), load_truncated).unwrap_err();
        assert!(log.starts_with("exit Some(1)"), "{log}");
        let err = replay_collect(ours.path(), &manifest, load_truncated).0.unwrap_err();
        if load_truncated {
            assert!(log.contains("AOF appendonly.aof.1.incr.aof loaded anyway"), "{log}");
            assert!(err.contains("appendonly.aof.1.incr.aof was truncated but is not the last file"), "{err}");
        } else {
            assert!(err.starts_with("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof."));
        }
        for name in ["appendonly.aof.1.incr.aof", "appendonly.aof.2.incr.aof"] {
            let theirs = std::fs::read(their_dir.join(name)).unwrap();
            assert_eq!(
                theirs,
                std::fs::read(ours.path().join(name)).unwrap(),
                "{name} (load_truncated {load_truncated})"
            );
        }
        let first_len = std::fs::metadata(their_dir.join("appendonly.aof.1.incr.aof")).unwrap().len();
        assert_eq!(first_len == clean_len, load_truncated, "cut only with aof-load-truncated");
    }

    // Garbage in the middle: refused by both, with or without aof-load-truncated.
    for load_truncated in [true, false] {
        let err = compare_truncation(INCR_COMMANDS, b"+garbage\r\n*1\r\n$4\r\nPING\r\n", load_truncated).unwrap_err();
        assert!(err.starts_with("Bad file format reading the append only file appendonly.aof.1.incr.aof"), "{err}");
    }
}

#[test]
fn old_single_file_aof_is_migrated_as_real_redis_does() {
    // An old-style AOF: an RDB preamble, then commands.
    let mut old = Vec::new();
    {
        let mut w = Writer::new(&mut old, WriteOptions { compression: true, checksum: true }).unwrap();
        w.aux("aof-preamble", b"1").unwrap();
        w.select_db(0, 1, 0).unwrap();
        w.key(b"pre", &Value::string("amble"), None).unwrap();
        w.finish().unwrap();
    }
    encode_command(&mut old, &["SELECT", "0"]);
    encode_command(&mut old, &["SET", "tail", "1"]);
    let theirs = tempfile::tempdir().unwrap();
    let ours = tempfile::tempdir().unwrap();
    for root in [theirs.path(), ours.path()] {
        std::fs::write(root.join(APPENDFILENAME), &old).unwrap();
    }

    let their_dir = theirs.path().join("appendonlydir");
    let root_s = theirs.path().display().to_string();
    let server = Server::start_real(&["--appendonly", "yes", "--dir", &root_s]);
    let mut c = server.client();
    assert_eq!(get(&mut c, "pre"), "$5\r\namble\r\n");
    assert_eq!(get(&mut c, "tail"), "$1\r\n1\r\n");
    drop(server);

    let our_dir = ours.path().join("appendonlydir");
    assert!(aof::needs_upgrade(ours.path(), &our_dir, APPENDFILENAME, None));
    let mut manifest = aof::upgrade(ours.path(), &our_dir, APPENDFILENAME, None).unwrap();
    assert!(!aof::needs_upgrade(ours.path(), &our_dir, APPENDFILENAME, Some(&manifest)));
    assert!(!ours.path().join(APPENDFILENAME).exists());
    // Start-up then opens a first incr file, as Redis did.
    let incr = manifest.new_incr(APPENDFILENAME).name.clone();
    IncrFile::open(&our_dir.join(incr)).unwrap();
    manifest.save(&our_dir, APPENDFILENAME).unwrap();
    assert_eq!(
        std::fs::read_to_string(our_dir.join("appendonly.aof.manifest")).unwrap(),
        std::fs::read_to_string(their_dir.join("appendonly.aof.manifest")).unwrap()
    );
    let mut names: Vec<String> =
        std::fs::read_dir(&our_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let mut their_names: Vec<String> =
        std::fs::read_dir(&their_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    their_names.sort();
    assert_eq!(names, their_names);

    let (result, keys, commands) = replay_collect(&our_dir, &manifest, false);
    assert_eq!(result.unwrap().commands, 2);
    assert_eq!(keys, vec![(0, "pre".to_string())]);
    assert_eq!(commands, strs(&[&["SELECT", "0"], &["SET", "tail", "1"]]));
}

/// An appendfilename with a single quote: Redis writes its manifest's names bare and cannot read
/// a bare `'` back (its next start fails); ours quotes such a name, and real Redis loads the
/// directory ours left, base and incr file.
#[test]
fn a_name_with_a_single_quote_is_written_so_that_both_servers_read_it() {
    let root = tempfile::tempdir().unwrap();
    let root_s = root.path().display().to_string();
    let args = ["--appendonly", "yes", "--appendfilename", "it's.aof", "--dir", &root_s];
    let mut ours = Server::start(&args);
    let mut c = ours.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert!(c.cmd_str(&["BGREWRITEAOF"]).starts_with("+Background"));
    wait_for("the rewrite", Duration::from_secs(30), || {
        c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrite_in_progress:0")
            && std::fs::read_to_string(root.path().join("appendonlydir/it's.aof.manifest"))
                .is_ok_and(|m| m.contains("type b"))
    });
    ok(&mut c, &["SET", "k2", "v2"]);
    shutdown(&mut ours);
    let manifest = std::fs::read_to_string(root.path().join("appendonlydir/it's.aof.manifest")).unwrap();
    assert!(manifest.starts_with("file \"it's.aof."), "{manifest}");
    let real = Server::start_real(&args);
    let mut c = real.client();
    assert_eq!(get(&mut c, "k"), "$1\r\nv\r\n");
    assert_eq!(get(&mut c, "k2"), "$2\r\nv2\r\n");
}
