//! Streams in RDB files across servers: a file Debian's real Redis 7.0 saved (streams with
//! consumer groups, pending entries, consumers without any, tombstones, XSETID counters) loads
//! in ours, which saves it back byte for byte; a file ours saved loads in the real server with
//! the same `XINFO STREAM key FULL`; DEBUG RELOAD keeps streams; a corrupt or truncated stream
//! refuses to load and leaves the file as it was.

use std::path::Path;
use std::time::Duration;

use crate::common::{Client, DataDirServer, OURS, REAL_REDIS};

/// The keys part of a saved RDB file (after the header and aux fields, before the checksum).
fn keys_section(file: &[u8]) -> Vec<u8> {
    let mut at = 9;
    while file[at] == 0xFA {
        at = skip_string(file, skip_string(file, at + 1));
    }
    file[at..file.len() - 8].to_vec()
}

fn skip_string(f: &[u8], at: usize) -> usize {
    let b = f[at];
    match b >> 6 {
        0 => at + 1 + (b & 0x3F) as usize,
        1 => at + 2 + ((((b & 0x3F) as usize) << 8) | f[at + 1] as usize),
        3 => match b & 0x3F {
            0 => at + 2,
            1 => at + 3,
            2 => at + 5,
            e => panic!("an aux field with string encoding {e}"),
        },
        _ => at + 5 + u32::from_be_bytes(f[at + 1..at + 5].try_into().expect("4 bytes")) as usize,
    }
}

fn ok(c: &mut Client, args: &[&str]) {
    let r = c.cmd(args);
    assert!(!r.starts_with(b"-"), "{args:?}: {}", String::from_utf8_lossy(&r));
}

/// Builds, on the real server, one stream per database (so key order plays no part).
fn build_streams(c: &mut Client) {
    ok(c, &["SELECT", "0"]);
    for i in 1..=9 {
        ok(c, &["XADD", "s", &format!("{i}-0"), "a", &i.to_string(), "b", "x"]);
    }
    ok(c, &["XDEL", "s", "3-0"]);
    ok(c, &["XGROUP", "CREATE", "s", "g1", "0"]);
    ok(c, &["XGROUP", "CREATE", "s", "g2", "$"]);
    ok(c, &["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s", ">"]);
    ok(c, &["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "s", ">"]);
    ok(c, &["XACK", "s", "g1", "4-0"]);
    ok(c, &["XGROUP", "CREATECONSUMER", "s", "g1", "carol"]);
    ok(c, &["XCLAIM", "s", "g1", "carol", "0", "5-0"]);
    ok(c, &["XGROUP", "CREATECONSUMER", "s", "g2", "dave"]);
    ok(c, &["SELECT", "1"]);
    ok(c, &["XADD", "e", "5-5", "f", "v"]);
    ok(c, &["XDEL", "e", "5-5"]);
    ok(c, &["XGROUP", "CREATE", "e", "g", "$"]);
    ok(c, &["SELECT", "2"]);
    ok(c, &["XADD", "t", "1-1", "f", "v"]);
    ok(c, &["XSETID", "t", "100-0", "ENTRIESADDED", "40", "MAXDELETEDID", "90-0"]);
    ok(c, &["SELECT", "3"]);
    for i in 1..=300 {
        ok(c, &["XADD", "big", &format!("{i}-{}", i % 7), "field", &"v".repeat(i % 50), "n", &i.to_string()]);
    }
    ok(c, &["XTRIM", "big", "MINID", "50-0"]);
    ok(c, &["SELECT", "0"]);
}

const KEYS: [(&str, &str); 4] = [("0", "s"), ("1", "e"), ("2", "t"), ("3", "big")];

fn ranges(c: &mut Client) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (db, key) in KEYS {
        ok(c, &["SELECT", db]);
        out.push(c.cmd(&["XRANGE", key, "-", "+"]));
        out.push(c.cmd(&["XREVRANGE", key, "+", "-", "COUNT", "3"]));
        out.push(c.cmd(&["XLEN", key]));
    }
    ok(c, &["SELECT", "0"]);
    out
}

fn xinfo_full(c: &mut Client) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (db, key) in KEYS {
        ok(c, &["SELECT", db]);
        out.push(c.cmd(&["XINFO", "STREAM", key, "FULL"]));
    }
    ok(c, &["SELECT", "0"]);
    out
}

fn save(c: &mut Client, dir: &Path) -> Vec<u8> {
    assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
    std::fs::read(dir.join("dump.rdb")).expect("dump.rdb")
}

#[test]
fn rdb_files_with_streams_cross_between_servers() {
    let real_dir = tempfile::tempdir().expect("temp dir");
    let real = DataDirServer::start(REAL_REDIS, real_dir.path(), &["--rdbcompression", "no"]);
    let mut rc = real.client();
    build_streams(&mut rc);
    let real_file = save(&mut rc, real_dir.path());
    let real_ranges = ranges(&mut rc);
    let real_info = xinfo_full(&mut rc);

    // Ours loads the real server's file and saves the same bytes.
    let ours_dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(real_dir.path().join("dump.rdb"), ours_dir.path().join("dump.rdb")).expect("copy");
    let ours =
        DataDirServer::start(OURS, ours_dir.path(), &["--rdbcompression", "no", "--enable-debug-command", "yes"]);
    let mut oc = ours.client();
    assert_eq!(ranges(&mut oc), real_ranges);
    let ours_file = save(&mut oc, ours_dir.path());
    assert!(keys_section(&ours_file) == keys_section(&real_file), "our saved streams differ from the real server's");

    // DEBUG RELOAD keeps them, byte for byte.
    assert_eq!(oc.cmd(&["DEBUG", "RELOAD"]), b"+OK\r\n");
    assert_eq!(ranges(&mut oc), real_ranges);
    assert!(keys_section(&save(&mut oc, ours_dir.path())) == keys_section(&real_file), "changed by DEBUG RELOAD");
    ours.shutdown();

    // The real server loads what ours saved, and describes the streams as the original did.
    let again_dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(again_dir.path().join("dump.rdb"), &ours_file).expect("write");
    let again = DataDirServer::start(REAL_REDIS, again_dir.path(), &[]);
    let mut ac = again.client();
    assert_eq!(ranges(&mut ac), real_ranges);
    assert_eq!(xinfo_full(&mut ac), real_info);
    again.shutdown();
    real.shutdown();
}

/// Ours saves a stream with rdbchecksum off (so that the checksum does not catch the damage
/// first), the file is damaged inside the stream, and our server refuses it without touching it.
#[test]
fn corrupt_or_truncated_streams_refuse_to_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = DataDirServer::start(OURS, dir.path(), &["--rdbcompression", "no", "--rdbchecksum", "no"]);
    let mut c = s.client();
    for i in 1..=5 {
        ok(&mut c, &["XADD", "s", &format!("{i}-0"), "field", "value"]);
    }
    let good = save(&mut c, dir.path());
    s.shutdown();
    // The node's master-entry count "5" sits after the stream's key and node key; find the node
    // listpack by its header (total bytes, element count) following the 16-byte master ID.
    let id_at = good.windows(16).position(|w| w == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]).expect("node key");
    // The listpack's length prefix: one byte (6-bit length) or two (14-bit).
    let lp_at = id_at + 16 + if good[id_at + 16] >> 6 == 0 { 1 } else { 2 };
    assert_eq!(&good[lp_at + 4..lp_at + 6], &[1 + 1 + 1 + 1 + 1 + 5 * 5, 0], "the node's element count");
    let damages: Vec<(&str, &str, Vec<u8>)> = vec![
        // A file cut short is reported in Redis's words for a short read.
        ("truncated in a node", "Unexpected EOF reading RDB file", good[..lp_at + 20].to_vec()),
        ("wrong live count", "Stream listpack integrity check failed", {
            let mut f = good.clone();
            f[lp_at + 6] = 4; // the first element: the live count, as a 7-bit integer
            f
        }),
        ("first entry off the master ID", "the first entry is not the master ID", {
            let mut f = good.clone();
            // master entry: count, deleted, num-fields, "field", 0 (2+2+2+7+2 bytes), then
            // flags (2 bytes): the ms delta of the first entry.
            f[lp_at + 6 + 15 + 2] = 1;
            f
        }),
    ];
    for (what, reason, bytes) in damages {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("dump.rdb");
        std::fs::write(&path, &bytes).expect("write");
        let port = crate::common::free_port();
        let mut child = std::process::Command::new(OURS)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir", dir.path().to_str().expect("utf-8")])
            .args(["--save", "", "--logfile", "server.log"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let exited = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let exited = exited.unwrap_or_else(|| panic!("{what}: the server is still running"));
        assert!(!exited.success(), "{what}: the server started");
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
        let refused = log.contains("Fatal error loading the DB") || log.contains("Short read or OOM loading DB");
        assert!(refused && log.contains(reason), "{what}: {log}");
        assert_eq!(std::fs::read(&path).expect("read"), bytes, "{what}: the file changed");
    }
}

/// The AOF rewrite of streams (rewriteStreamObject: XADD per entry, `XADD key MAXLEN 0 0-1 x y`
/// for an empty stream, XSETID with the counters) replays into the same streams on both servers:
/// after a rewrite and a restart each saves the same bytes.
#[test]
fn aof_rewrite_rebuilds_streams_like_redis() {
    const AOF: &[&str] = &[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--rdbcompression",
        "no",
        "--stream-node-max-entries",
        "3",
    ];
    let mut sections = Vec::new();
    for bin in [OURS, REAL_REDIS] {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = DataDirServer::start(bin, dir.path(), AOF);
        let mut c = s.client();
        for i in 1..=10 {
            ok(
                &mut c,
                &["XADD", "s", &format!("{i}-{i}"), "a", &i.to_string(), if i % 3 == 0 { "c" } else { "b" }, "x"],
            );
        }
        ok(&mut c, &["XDEL", "s", "4-4", "10-10"]);
        ok(&mut c, &["XSETID", "s", "20-0", "ENTRIESADDED", "30", "MAXDELETEDID", "15-0"]);
        ok(&mut c, &["SELECT", "1"]);
        ok(&mut c, &["XADD", "e", "7-7", "f", "v"]);
        ok(&mut c, &["XDEL", "e", "7-7"]);
        assert_eq!(c.cmd_str(&["BGREWRITEAOF"]), "+Background append only file rewriting started\r\n");
        crate::common::wait_for("the rewrite", Duration::from_secs(30), || {
            c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrite_in_progress:0\r\n")
        });
        s.shutdown();
        let s = DataDirServer::start(bin, dir.path(), AOF);
        let mut c = s.client();
        sections.push((c.cmd(&["XRANGE", "s", "-", "+"]), keys_section(&save(&mut c, dir.path()))));
        s.shutdown();
    }
    assert_eq!(sections[0].0, sections[1].0);
    assert!(sections[0].1 == sections[1].1, "the replayed streams saved different bytes");
}

/// XINFO STREAM FULL with the consumers' seen-times masked: a replay sets them to its own clock.
fn xinfo_full_masked(c: &mut Client, key: &str) -> String {
    let raw = c.cmd_str(&["XINFO", "STREAM", key, "FULL"]);
    let mut out = String::new();
    let mut rest = raw.as_str();
    const TAG: &str = "seen-time\r\n:";
    while let Some(at) = rest.find(TAG) {
        out.push_str(&rest[..at + TAG.len()]);
        rest = &rest[at + TAG.len()..];
        let end = rest.find("\r\n").unwrap_or(rest.len());
        out.push('T');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The AOF rewrite of streams with consumer groups (XGROUP CREATE ... ENTRIESREAD, an XCLAIM
/// ... TIME RETRYCOUNT JUSTID FORCE per pending entry, XGROUP CREATECONSUMER for consumers
/// without any) replays into the groups the stream had, as in real Redis, where a pending
/// entry whose stream entry was deleted is not recreated.
#[test]
fn aof_rewrite_rebuilds_stream_groups_like_redis() {
    const AOF: &[&str] = &["--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--stream-node-max-entries", "3"];
    let mut infos = Vec::new();
    for bin in [OURS, REAL_REDIS] {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = DataDirServer::start(bin, dir.path(), AOF);
        let mut c = s.client();
        for i in 1..=8 {
            ok(&mut c, &["XADD", "s", &format!("{i}-1"), "f", &i.to_string()]);
        }
        ok(&mut c, &["XGROUP", "CREATE", "s", "g1", "0", "ENTRIESREAD", "0"]);
        ok(&mut c, &["XGROUP", "CREATE", "s", "g2", "5-1"]);
        ok(&mut c, &["XGROUP", "CREATE", "s", "g3", "$", "ENTRIESREAD", "8"]);
        for (consumer, ids, time, retries) in [
            ("alice", &["1-1", "2-1"][..], "1000", "3"),
            ("bob", &["3-1", "6-1"], "2000", "1"),
            ("carol", &["7-1"], "3000", "9"),
        ] {
            let mut args = vec!["XCLAIM", "s", "g1", consumer, "0"];
            args.extend_from_slice(ids);
            args.extend(["TIME", time, "RETRYCOUNT", retries, "FORCE", "JUSTID"]);
            ok(&mut c, &args);
        }
        ok(&mut c, &["XCLAIM", "s", "g2", "bob", "0", "6-1", "TIME", "4000", "FORCE", "JUSTID", "LASTID", "6-1"]);
        ok(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g1", "dave"]);
        ok(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g3", "erin"]);
        ok(&mut c, &["XACK", "s", "g1", "2-1"]);
        let before = xinfo_full_masked(&mut c, "s");
        // A pending entry whose stream entry is gone: the replay's XCLAIM ... FORCE drops it.
        ok(&mut c, &["XDEL", "s", "7-1"]);
        ok(&mut c, &["SELECT", "1"]);
        ok(&mut c, &["XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"]);
        ok(&mut c, &["XGROUP", "CREATECONSUMER", "empty", "g", "c"]);
        assert_eq!(c.cmd_str(&["BGREWRITEAOF"]), "+Background append only file rewriting started\r\n");
        crate::common::wait_for("the rewrite", Duration::from_secs(30), || {
            c.cmd_str(&["INFO", "persistence"]).contains("aof_rewrite_in_progress:0\r\n")
        });
        s.shutdown();
        let s = DataDirServer::start(bin, dir.path(), AOF);
        let mut c = s.client();
        let after = xinfo_full_masked(&mut c, "s");
        assert!(after.contains("$3\r\nbob\r\n"), "{bin}: the groups were not replayed: {after}");
        assert_ne!(before, after, "{bin}: the deleted entry's pending entry should be gone");
        ok(&mut c, &["SELECT", "1"]);
        let empty = xinfo_full_masked(&mut c, "empty");
        infos.push((before, after, empty, c.cmd(&["XPENDING", "s", "g1"])));
        s.shutdown();
    }
    assert_eq!(infos[0], infos[1], "ours replayed the rewrite differently from real Redis");
}
