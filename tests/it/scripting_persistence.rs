//! Function libraries beyond one process, against Debian's redis-server 7.0: in RDB files (either
//! server loads what the other wrote), in FUNCTION DUMP payloads (either restores what the other
//! dumped, with the same replies for every policy, collision and corrupt payload), through
//! replication (full sync and stream, both directions), in the AOF (the propagated commands and
//! the rewritten base), and a library that fails to load stops start-up without touching the file.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{self, show_bytes, Client, Reply};
use crate::replication_support::{start_replica, wait_in_sync, Impl, Node, SyncMode};

const LIB_A: &str = "#!lua name=liba\nredis.register_function{function_name='fa', callback=function(keys, args) return 'a' end, flags={'no-writes'}}";
const LIB_B: &str = "#!lua name=libb\nredis.register_function{function_name='fb', callback=function(keys, args) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads a key'}";
/// Its function's name collides with liba's (function names are case-insensitive).
const LIB_CLASH: &str = "#!lua name=libc\nredis.register_function('FA', function() return 'c' end)";

/// Long and repetitive: LZF-compressed in RDB files and dumps.
fn lib_big() -> String {
    format!(
        "#!lua name=libbig\n{}redis.register_function{{function_name='fbig', callback=function(keys, args) return #args end, flags={{'no-writes'}}}}",
        "local padding = 'padding padding padding padding'\n".repeat(20)
    )
}

static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// A DUMP payload around `body`: the RDB version and the checksum.
fn seal(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = CRC64.checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// An RDB string without compression (lengths below 16384).
fn rdb_string(s: &[u8]) -> Vec<u8> {
    let mut out = if s.len() < 64 { vec![s.len() as u8] } else { vec![0x40 | (s.len() >> 8) as u8, s.len() as u8] };
    out.extend_from_slice(s);
    out
}

/// A record of Redis 7.0's release candidates (RDB_OPCODE_FUNCTION): name, engine, a description
/// and the code without its `#!` line.
fn pre_ga_record() -> Vec<u8> {
    let mut out = vec![0xF6];
    for part in ["pre", "LUA"] {
        out.extend(rdb_string(part.as_bytes()));
    }
    out.push(1);
    out.extend(rdb_string(b"a description"));
    out.extend(rdb_string(b"redis.register_function('fpre', function() return 'pre' end)"));
    out
}

/// A FUNCTION2 record holding `code`.
fn record(code: &str) -> Vec<u8> {
    let mut out = vec![0xF5];
    out.extend(rdb_string(code.as_bytes()));
    out
}

fn cmd(c: &mut Client, args: &[&[u8]]) -> Vec<u8> {
    c.cmd_bytes(args)
}

/// FUNCTION LIST WITHCODE with the libraries in a fixed order (Redis lists them in hash order).
fn libraries(c: &mut Client) -> Vec<String> {
    let r = Reply::parse(&c.cmd(&["FUNCTION", "LIST", "WITHCODE"]));
    let mut libs: Vec<String> = r.array().iter().map(|l| show_bytes(&l.encode(), 100_000)).collect();
    libs.sort();
    libs
}

fn load(c: &mut Client, code: &str) {
    let r = c.cmd(&["FUNCTION", "LOAD", code]);
    assert!(r.starts_with(b"$"), "FUNCTION LOAD: {}", show_bytes(&r, 300));
}

fn dump(c: &mut Client) -> Vec<u8> {
    match Reply::parse(&c.cmd(&["FUNCTION", "DUMP"])) {
        Reply::Bulk(p) => p,
        other => panic!("FUNCTION DUMP: {other:?}"),
    }
}

fn wait_persistence(node: &Node, field: &str) {
    common::wait_for(field, Duration::from_secs(60), || node.call(&["INFO", "persistence"]).text().contains(field));
}

/// The libraries the tests load, and a key FCALL fb reads.
fn load_all(c: &mut Client) {
    for code in [LIB_A.to_string(), LIB_B.to_string(), lib_big()] {
        load(c, &code);
    }
    assert_eq!(c.cmd(&["SET", "k", "v"]), b"+OK\r\n");
}

/// What the loaded libraries answer.
fn assert_functions_work(c: &mut Client, who: &str) {
    assert_eq!(c.cmd_str(&["FCALL", "fa", "0"]), "$1\r\na\r\n", "{who}");
    assert_eq!(c.cmd_str(&["FCALL", "fb", "1", "k"]), "$1\r\nv\r\n", "{who}");
    assert_eq!(c.cmd_str(&["FCALL_RO", "fbig", "0", "x", "y", "z"]), ":3\r\n", "{who}");
}

#[test]
fn an_rdb_with_libraries_loads_in_the_other_server() {
    for (writer, reader) in [(Impl::Real, Impl::Ours), (Impl::Ours, Impl::Real)] {
        for compression in ["yes", "no"] {
            let w = Node::start("writer", writer, &["--rdbcompression", compression]);
            let mut wc = w.client();
            load_all(&mut wc);
            // A background save: our fork child writes the libraries.
            assert_eq!(wc.cmd(&["BGSAVE"]), b"+Background saving started\r\n");
            wait_persistence(&w, "rdb_changes_since_last_save:0\r\n");
            wait_persistence(&w, "rdb_bgsave_in_progress:0\r\n");
            let r = Node::start("reader", reader, &[]);
            std::fs::copy(w.dir.path().join("dump.rdb"), r.dir.path().join("dump.rdb")).expect("copy dump.rdb");
            r.restart();
            let mut rc = r.client();
            let what = format!("{writer:?} -> {reader:?}, rdbcompression {compression}");
            assert_eq!(libraries(&mut rc), libraries(&mut wc), "{what}");
            assert_eq!(libraries(&mut rc).len(), 3, "{what}");
            assert_functions_work(&mut rc, &what);
        }
    }
}

#[test]
fn shutdown_save_flushall_and_debug_reload_keep_libraries_as_real_redis() {
    let transcript = |imp: Impl| {
        let node = Node::start("node", imp, &["--enable-debug-command", "yes"]);
        let mut c = node.client();
        let mut t: Vec<(&str, String)> = Vec::new();
        load(&mut c, LIB_A);
        load(&mut c, LIB_B);
        c.cmd(&["SET", "k", "v"]);
        t.push(("FLUSHALL", c.cmd_str(&["FLUSHALL"])));
        t.push(("after FLUSHALL", libraries(&mut c).join("|")));
        c.cmd(&["SET", "k", "v"]);
        t.push(("DEBUG RELOAD", c.cmd_str(&["DEBUG", "RELOAD"])));
        t.push(("after DEBUG RELOAD", libraries(&mut c).join("|")));
        t.push(("FCALL after reload", c.cmd_str(&["FCALL", "fb", "1", "k"])));
        load(&mut c, &lib_big());
        t.push(("SAVE", c.cmd_str(&["SAVE"])));
        t.push(("DELETE libbig", c.cmd_str(&["FUNCTION", "DELETE", "libbig"])));
        t.push(("RELOAD MERGE", c.cmd_str(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"])));
        t.push(("after MERGE", libraries(&mut c).join("|")));
        t.push(("FUNCTION FLUSH", c.cmd_str(&["FUNCTION", "FLUSH"])));
        t.push(("after FUNCTION FLUSH", libraries(&mut c).join("|")));
        t.push(("keys after FUNCTION FLUSH", c.cmd_str(&["DBSIZE"])));
        load(&mut c, LIB_A);
        drop(c);
        node.shutdown(&["SHUTDOWN", "SAVE"]);
        node.restart();
        let mut c = node.client();
        t.push(("after SHUTDOWN SAVE", libraries(&mut c).join("|")));
        t.push(("FCALL after restart", c.cmd_str(&["FCALL", "fa", "0"])));
        t
    };
    let (real, ours) = (transcript(Impl::Real), transcript(Impl::Ours));
    assert!(real[1].1.contains("liba") && real[8].1.contains("libbig"), "{real:?}");
    for (r, o) in real.iter().zip(&ours) {
        assert_eq!(r, o);
    }
}

/// The FUNCTION DUMP payloads of one node: liba, libb, both, and the big one.
struct Payloads {
    a: Vec<u8>,
    b: Vec<u8>,
    ab: Vec<u8>,
    big: Vec<u8>,
}

fn payloads(c: &mut Client) -> Payloads {
    let mut one = |codes: &[&str]| {
        assert_eq!(c.cmd(&["FUNCTION", "FLUSH"]), b"+OK\r\n");
        for code in codes {
            load(c, code);
        }
        dump(c)
    };
    let big = lib_big();
    Payloads { a: one(&[LIB_A]), b: one(&[LIB_B]), ab: one(&[LIB_A, LIB_B]), big: one(&[&big]) }
}

/// FUNCTION RESTORE's replies for every policy, collision and bad payload, with payloads dumped
/// by the other server, and the libraries after each step.
fn restore_transcript(c: &mut Client, p: &Payloads) -> Vec<(String, String)> {
    let mut t = Vec::new();
    let mut step = |c: &mut Client, name: &str, args: &[&[u8]]| {
        let reply = show_bytes(&cmd(c, args), 500);
        t.push((name.to_string(), format!("{reply} => {}", libraries(c).join("|"))));
    };
    let restore = b"RESTORE".as_slice();
    let f = b"FUNCTION".as_slice();
    step(c, "flush", &[f, b"FLUSH"]);
    step(c, "restore a", &[f, restore, &p.a]);
    step(c, "restore a again", &[f, restore, &p.a]);
    step(c, "restore a APPEND", &[f, restore, &p.a, b"APPEND"]);
    step(c, "restore a replace", &[f, restore, &p.a, b"replace"]);
    step(c, "restore b FLUSH", &[f, restore, &p.b, b"FLUSH"]);
    step(c, "restore ab", &[f, restore, &p.ab]);
    step(c, "restore ab REPLACE", &[f, restore, &p.ab, b"REPLACE"]);
    step(c, "restore big", &[f, restore, &p.big]);
    step(c, "flush for the clash", &[f, b"FLUSH"]);
    step(c, "load the clash", &[f, b"LOAD", LIB_CLASH.as_bytes()]);
    step(c, "restore a over a clashing function", &[f, restore, &p.a]);
    step(c, "restore a REPLACE over a clashing function", &[f, restore, &p.a, b"REPLACE"]);
    step(c, "restore ab FLUSH", &[f, restore, &p.ab, b"FLUSH"]);
    step(c, "bad policy", &[f, restore, &p.a, b"MERGE"]);
    step(c, "too many arguments", &[f, restore, &p.a, b"FLUSH", b"x"]);
    step(c, "no payload", &[f, restore]);
    step(c, "garbage", &[f, restore, b"garbage"]);
    step(c, "empty", &[f, restore, b""]);
    step(c, "cut", &[f, restore, &p.a[..p.a.len() - 1]]);
    let mut flipped = p.a.clone();
    flipped[5] ^= 0x20;
    step(c, "flipped byte", &[f, restore, &flipped]);
    step(c, "newer version", &[f, restore, &seal(&record(LIB_A), 11)]);
    step(
        c,
        "older version",
        &[f, restore, &seal(&record("#!lua name=old\nredis.register_function('fo', function() return 1 end)"), 9)],
    );
    step(c, "a key record", &[f, restore, &seal(&[0, 1, b'k', 1, b'v'], 10)]);
    step(c, "a cut pre-GA record", &[f, restore, &seal(&[0xF6, 1, b'x'], 10)]);
    step(c, "a pre-GA record", &[f, restore, &seal(&pre_ga_record(), 10)]);
    step(c, "a cut record", &[f, restore, &seal(&[0xF5, 60, b'#', b'!'], 10)]);
    step(c, "not lua", &[f, restore, &seal(&record("#!lua name=bad\nthis is not lua"), 10)]);
    step(c, "no functions", &[f, restore, &seal(&record("#!lua name=empty\nlocal x = 1"), 10)]);
    step(c, "no metadata", &[f, restore, &seal(&record("return 1"), 10)]);
    step(c, "unknown engine", &[f, restore, &seal(&record("#!js name=j\nreturn 1"), 10)]);
    let twice = [record(LIB_B), record(LIB_B)].concat();
    step(c, "the same library twice", &[f, restore, &seal(&twice, 10)]);
    let then_bad =
        [record("#!lua name=libz\nredis.register_function('fz', function() return 1 end)"), vec![0]].concat();
    step(c, "a library then a bad record", &[f, restore, &seal(&then_bad, 10)]);
    step(c, "nothing, FLUSH", &[f, restore, &seal(&[], 10), b"FLUSH"]);
    step(c, "restore ab at last", &[f, restore, &p.ab]);
    step(c, "dump with an argument", &[f, b"DUMP", b"x"]);
    t
}

#[test]
fn function_dump_and_restore_as_real_redis_across_servers() {
    let real = Node::start("real", Impl::Real, &[]);
    let ours = Node::start("ours", Impl::Ours, &[]);
    let (mut rc, mut oc) = (real.client(), ours.client());
    let (from_real, from_ours) = (payloads(&mut rc), payloads(&mut oc));
    // One library: the same bytes (the LZF-compressed one too).
    assert_eq!(show_bytes(&from_ours.a, 1000), show_bytes(&from_real.a, 1000));
    assert_eq!(show_bytes(&from_ours.b, 1000), show_bytes(&from_real.b, 1000));
    assert_eq!(show_bytes(&from_ours.big, 2000), show_bytes(&from_real.big, 2000));
    assert_eq!(from_ours.big[1], 0xC3, "libbig is LZF-compressed");
    let on_real = restore_transcript(&mut rc, &from_ours);
    let on_ours = restore_transcript(&mut oc, &from_real);
    for (r, o) in on_real.iter().zip(&on_ours) {
        assert_eq!(o, r);
    }
    assert_eq!(on_real.len(), on_ours.len());
    assert_eq!(oc.cmd_bytes(&[b"FUNCTION", b"RESTORE", &from_real.big]), b"+OK\r\n");
    assert_eq!(oc.cmd(&["SET", "k", "v"]), b"+OK\r\n");
    assert_functions_work(&mut oc, "ours after restoring real's dumps");
    // Without rdbcompression, both write the long library as it is.
    rc.cmd(&["CONFIG", "SET", "rdbcompression", "no"]);
    oc.cmd(&["CONFIG", "SET", "rdbcompression", "no"]);
    let (raw_real, raw_ours) = (payloads(&mut rc).big, payloads(&mut oc).big);
    assert_eq!(show_bytes(&raw_ours, 2000), show_bytes(&raw_real, 2000));
}

/// The AOF's incr file, as bytes.
fn aof_file(node: &Node, kind: &str) -> Vec<u8> {
    let dir = node.dir.path().join("appendonlydir");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("appendonlydir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(kind))
        .collect();
    names.sort();
    let last = names.last().unwrap_or_else(|| panic!("no {kind} file in {}", dir.display()));
    std::fs::read(dir.join(last)).expect("read the AOF file")
}

#[test]
fn function_commands_propagate_and_survive_restarts_with_appendonly_as_real_redis() {
    let payload = seal(&record(LIB_A), 10);
    for preamble in ["yes", "no"] {
        let run = |imp: Impl| {
            let node = Node::start("aof", imp, &["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]);
            let mut c = node.client();
            assert_eq!(c.cmd(&["SET", "k", "v"]), b"+OK\r\n");
            let steps: Vec<Vec<&[u8]>> = vec![
                vec![b"FUNCTION".as_slice(), b"LOAD", LIB_A.as_bytes()],
                vec![b"FUNCTION".as_slice(), b"LOAD", LIB_A.as_bytes()],
                vec![b"FUNCTION".as_slice(), b"LOAD", b"replace", LIB_A.as_bytes()],
                vec![b"FUNCTION".as_slice(), b"DELETE", b"liba"],
                vec![b"FUNCTION".as_slice(), b"DELETE", b"liba"],
                vec![b"FUNCTION".as_slice(), b"RESTORE", &payload],
                vec![b"FUNCTION".as_slice(), b"RESTORE", &payload],
                vec![b"FUNCTION".as_slice(), b"RESTORE", &payload, b"REPLACE"],
                vec![b"FUNCTION".as_slice(), b"FLUSH", b"async"],
                vec![b"FUNCTION".as_slice(), b"FLUSH"],
                vec![b"FUNCTION".as_slice(), b"RESTORE", &payload, b"flush"],
                vec![b"FUNCTION".as_slice(), b"LOAD", LIB_B.as_bytes()],
            ];
            let replies: Vec<String> = steps.iter().map(|args| show_bytes(&cmd(&mut c, args), 300)).collect();
            // With appendfsync everysec Redis may hold its AOF write back (up to 2 s) while the
            // previous fsync is still running, which a loaded machine shows: wait for the last one.
            common::wait_for("the last command in the AOF", Duration::from_secs(30), || {
                aof_file(&node, ".incr.").windows(9).any(|w| w == b"name=libb")
            });
            let incr = aof_file(&node, ".incr.");
            assert_eq!(c.cmd(&["BGREWRITEAOF"]), b"+Background append only file rewriting started\r\n");
            wait_persistence(&node, "aof_rewrite_in_progress:0\r\n");
            wait_persistence(&node, "aof_rewrite_scheduled:0\r\n");
            common::wait_for("the rewrite's base", Duration::from_secs(30), || aof_file(&node, ".base.").len() > 200);
            let base = aof_file(&node, ".base.");
            load(&mut c, &lib_big());
            let before = libraries(&mut c);
            drop(c);
            node.restart();
            let mut c = node.client();
            assert_eq!(libraries(&mut c), before, "{imp:?}, preamble {preamble}: libraries after the restart");
            assert_eq!(before.len(), 3);
            assert_functions_work(&mut c, &format!("{imp:?} after an AOF restart"));
            (replies, incr, base)
        };
        let (real, ours) = (run(Impl::Real), run(Impl::Ours));
        assert_eq!(ours.0, real.0, "replies, preamble {preamble}");
        assert_eq!(show_bytes(&ours.1, 5000), show_bytes(&real.1, 5000), "incr file, preamble {preamble}");
        if preamble == "no" {
            // Two libraries (liba, libb): in either order.
            let (mut o, mut r) = (ours.2.clone(), real.2.clone());
            o.sort_unstable();
            r.sort_unstable();
            assert_eq!(o, r, "base: {} vs {}", show_bytes(&ours.2, 2000), show_bytes(&real.2, 2000));
            assert!(ours.2.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"), "{}", show_bytes(&ours.2, 300));
        } else {
            assert!(ours.2.starts_with(b"REDIS0010"));
        }
    }
}

/// Replicas of either kind get the master's libraries by full sync (their own go) and by the
/// stream.
#[test]
fn replicas_get_the_libraries_by_full_sync_and_by_the_stream() {
    let payload = seal(&record(LIB_A), 10);
    let cases: [(Impl, Impl, SyncMode, &[&str]); 5] = [
        (Impl::Ours, Impl::Real, SyncMode::Disk, &[]),
        (Impl::Ours, Impl::Real, SyncMode::Diskless, &[]),
        (Impl::Real, Impl::Ours, SyncMode::Disk, &[]),
        (Impl::Real, Impl::Ours, SyncMode::Diskless, &["--repl-diskless-load", "swapdb"]),
        (Impl::Real, Impl::Ours, SyncMode::Diskless, &["--repl-diskless-load", "on-empty-db"]),
    ];
    for (master_imp, replica_imp, mode, replica_args) in cases {
        let what = format!("{master_imp:?} master, {replica_imp:?} replica, {mode:?} {replica_args:?}");
        let master = Node::start("master", master_imp, mode.master_args());
        let mut mc = master.client();
        load_all(&mut mc);
        // The replica's own library must go with the full sync.
        let replica = Node::start("replica", replica_imp, replica_args);
        load(&mut replica.client(), "#!lua name=mine\nredis.register_function('fm', function() return 1 end)");
        replica.replicaof(&master);
        wait_in_sync(&master, &replica);
        let mut rc = replica.client();
        assert_eq!(libraries(&mut rc), libraries(&mut mc), "{what}: after the full sync");
        assert_functions_work(&mut rc, &what);
        for step in [
            vec![b"FUNCTION".as_slice(), b"DELETE", b"liba"],
            vec![b"FUNCTION", b"RESTORE", &payload],
            vec![b"FUNCTION", b"LOAD", b"REPLACE", LIB_CLASH.as_bytes()],
            vec![b"FUNCTION", b"RESTORE", &payload, b"REPLACE"],
            vec![b"FUNCTION", b"LOAD", b"REPLACE", LIB_B.as_bytes()],
        ] {
            cmd(&mut mc, &step);
            wait_in_sync(&master, &replica);
            assert_eq!(libraries(&mut rc), libraries(&mut mc), "{what}: after {}", show_bytes(step[1], 20));
        }
        assert_functions_work(&mut rc, &what);
        assert_eq!(mc.cmd(&["FUNCTION", "FLUSH"]), b"+OK\r\n");
        wait_in_sync(&master, &replica);
        assert!(libraries(&mut rc).is_empty(), "{what}: after FUNCTION FLUSH");
        // A start-up replica of a master with libraries.
        load(&mut mc, LIB_B);
        let late = start_replica("late", replica_imp, &master, replica_args);
        wait_in_sync(&master, &late);
        assert_eq!(libraries(&mut late.client()), libraries(&mut mc), "{what}: a replica from its start");
    }
}

/// An RDB file: header, the records, EOF and no checksum.
fn rdb_file(records: &[Vec<u8>]) -> Vec<u8> {
    let mut f = b"REDIS0010".to_vec();
    for r in records {
        f.extend_from_slice(r);
    }
    f.push(0xFF);
    f.extend_from_slice(&[0; 8]);
    f
}

/// Starts `bin` on `dir` and returns its exit code, or None if it is still running after
/// `within` (it is then killed).
fn exit_code(bin: &str, dir: &Path, within: Duration) -> Option<i32> {
    let mut command = Command::new(bin);
    command
        .args(["--port", &common::free_port().to_string(), "--bind", "127.0.0.1"])
        .args(["--dir", dir.to_str().expect("utf-8 dir"), "--daemonize", "no", "--save", "", "--logfile", "server.log"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = common::die_with_parent(&mut command).spawn().expect("spawn");
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn a_library_that_fails_to_load_stops_start_up_and_leaves_the_file() {
    let key = vec![0, 1, b'k', 1, b'v'];
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("not lua", vec![record("#!lua name=bad\nthis is not lua"), key.clone()]),
        ("the same library twice", vec![record(LIB_A), key.clone(), record(LIB_A)]),
        ("two libraries with one function name", vec![record(LIB_A), record(LIB_CLASH)]),
        ("a cut record", vec![vec![0xF5, 60, b'#', b'!']]),
        ("a cut pre-GA record", vec![vec![0xF6, 1, b'x']]),
    ];
    for (what, records) in cases {
        let file = rdb_file(&records);
        for imp in [Impl::Real, Impl::Ours] {
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::write(dir.path().join("dump.rdb"), &file).expect("write dump.rdb");
            let code = exit_code(imp.bin(), dir.path(), Duration::from_secs(30));
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            // Real Redis then runs its RDB check, which exits 0 when the file's structure is
            // sound (it does not compile libraries): it stops either way. Ours fails.
            match imp {
                Impl::Real => assert!(code.is_some(), "{what}: real Redis still runs\n{log}"),
                Impl::Ours => assert!(matches!(code, Some(c) if c != 0), "{what}: exit {code:?}\n{log}"),
            }
            assert_eq!(std::fs::read(dir.path().join("dump.rdb")).expect("dump.rdb"), file, "{imp:?}, {what}");
            if imp == Impl::Ours {
                assert!(log.contains("Failed loading library"), "{what}: {log}");
            }
        }
    }
    // The good file loads in both, as a check of the ones above.
    let file = rdb_file(&[record(LIB_A), pre_ga_record(), record(LIB_B)]);
    let mut seen = Vec::new();
    for imp in [Impl::Real, Impl::Ours] {
        let node = Node::start("good", imp, &[]);
        std::fs::write(node.dir.path().join("dump.rdb"), &file).expect("write dump.rdb");
        node.restart();
        let mut c = node.client();
        assert_eq!(c.cmd_str(&["FCALL", "fpre", "0"]), "$3\r\npre\r\n", "{imp:?}");
        seen.push(libraries(&mut c));
    }
    assert_eq!(seen[0].len(), 3);
    assert_eq!(seen[0], seen[1]);
}
