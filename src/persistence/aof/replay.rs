//! Replaying an AOF directory as Redis 7.0's loadAppendOnlyFiles / loadSingleAppendOnlyFile do:
//! the base, then every incr file in manifest order. A file that starts with "REDIS" is an RDB
//! (the RDB base of aof-use-rdb-preamble, or an old single-file AOF with an RDB preamble).
//!
//! The command reader keeps Redis's tolerance and its strictness: lines are read as its fgets
//! with a 1024-byte buffer reads them, `#` lines are annotations, a command must start with `*`
//! and each argument with `$`, and the two bytes after an argument are skipped unchecked. A file
//! that ends inside a command (or inside MULTI ... EXEC) is "truncated"; anything else wrong is a
//! format error.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use bytes::Bytes;

use super::{AofFile, Manifest};

/// AOF_ANNOTATION_LINE_MAX_LEN: the fgets buffer of the loader.
const LINE_BUFFER: usize = 1024;
/// Arguments are read in pieces of this size, so that a corrupt length cannot allocate more
/// memory than the file really holds.
const READ_CHUNK: u64 = 64 * 1024;

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplayReport {
    /// Commands handed to `on_command` (MULTI and EXEC included).
    pub commands: u64,
    /// The file that was truncated (aof-load-truncated) and the size it was cut to.
    pub truncated_at: Option<(String, u64)>,
    /// Size of the base file (aof_rewrite_base_size after start-up).
    pub base_bytes: u64,
    /// Size of the base and incr files before any truncation (aof_current_size).
    pub total_bytes: u64,
}

/// Replays `dir` as `manifest` describes it. The base, when it is an RDB, goes to `on_rdb`
/// (with its path); every command of the AOF parts goes to `on_command` as its arguments. A
/// MULTI and the commands after it are handed over only once its EXEC has been read, so a
/// transaction cut off by the end of the file is never half applied.
///
/// With `load_truncated`, the last file ending inside a command is cut back to the end of its
/// last complete command (before an unfinished MULTI) and loading succeeds, as Redis's
/// aof-load-truncated does; otherwise that is an error. A missing file, a format error, a
/// truncated file that is not the last one, or an error from a callback stops the replay.
pub fn replay(
    dir: &Path,
    manifest: &Manifest,
    load_truncated: bool,
    mut on_rdb: impl FnMut(&Path) -> Result<(), String>,
    mut on_command: impl FnMut(Vec<Bytes>) -> Result<(), String>,
) -> Result<ReplayReport, String> {
    let files: Vec<&AofFile> = manifest.base.iter().chain(&manifest.incrs).collect();
    let mut report = ReplayReport::default();
    for f in &files {
        let size = file_size(dir, &f.name)?;
        report.total_bytes += size;
        if manifest.base.as_ref().is_some_and(|b| b.name == f.name) {
            report.base_bytes = size;
        }
    }
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let start = std::time::Instant::now();
        let path = dir.join(&f.name);
        let outcome = replay_file(&path, &f.name, load_truncated, &mut on_rdb, &mut on_command)?;
        report.commands += outcome.commands;
        if let Some(offset) = outcome.truncated_at {
            if !last {
                return Err(format!(
                    "AOF {} was truncated but is not the last file of the manifest: it cannot be loaded",
                    f.name
                ));
            }
            report.truncated_at = Some((f.name.clone(), offset));
        }
        let kind = if i == 0 && manifest.base.is_some() { "base" } else { "incr" };
        tracing::info!("DB loaded from {kind} file {}: {:.3} seconds", f.name, start.elapsed().as_secs_f64());
    }
    Ok(report)
}

fn file_size(dir: &Path, name: &str) -> Result<u64, String> {
    std::fs::metadata(dir.join(name)).map(|m| m.len()).map_err(|e| {
        format!("Unable to obtain the AOF file {name} length. stat: {e}", e = crate::util::sys::error_text(&e))
    })
}

/// What replaying one file did.
#[derive(Debug, Default)]
struct FileOutcome {
    commands: u64,
    truncated_at: Option<u64>,
}

/// How reading one command ended badly.
enum Bad {
    /// The file ends inside a command.
    Eof,
    /// Not what the format allows, at this offset.
    Format(u64),
    /// An I/O error other than the end of the file.
    Io(std::io::Error),
}

fn replay_file(
    path: &Path,
    name: &str,
    load_truncated: bool,
    on_rdb: &mut impl FnMut(&Path) -> Result<(), String>,
    on_command: &mut impl FnMut(Vec<Bytes>) -> Result<(), String>,
) -> Result<FileOutcome, String> {
    let open_err = |e: std::io::Error| {
        format!(
            "Fatal error: can't open the append log file {name} for reading: {e}",
            e = crate::util::sys::error_text(&e)
        )
    };
    let mut file = File::open(path).map_err(open_err)?;
    let mut magic = [0u8; 5];
    let is_rdb = file.read_exact(&mut magic).is_ok() && &magic == b"REDIS";
    let mut start = 0;
    if is_rdb {
        tracing::info!("Reading RDB base file on AOF loading...");
        on_rdb(path).map_err(|e| format!("Error reading the RDB base file {name}, AOF loading aborted: {e}"))?;
        // A base written as an RDB holds nothing else; an old-style AOF may continue after its
        // RDB preamble with commands, so its RDB's length is needed to find them.
        if name.ends_with(".rdb") {
            return Ok(FileOutcome::default());
        }
        start = rdb_length(path).map_err(|e| format!("Error reading the RDB preamble of the AOF file {name}: {e}"))?;
        tracing::info!("Reading the remaining AOF tail...");
    }
    let file = File::open(path).map_err(open_err)?;
    let mut reader = Reader { inner: BufReader::with_capacity(1 << 16, file), offset: 0 };
    std::io::copy(&mut (&mut reader.inner).take(start), &mut std::io::sink()).map_err(open_err)?;
    reader.offset = start;
    let mut outcome = FileOutcome::default();
    match read_commands(&mut reader, name, start, on_command, &mut outcome.commands)? {
        Ok(()) => Ok(outcome),
        Err((Bad::Eof, valid_up_to)) => {
            outcome.truncated_at = Some(truncate(path, name, load_truncated, valid_up_to)?);
            Ok(outcome)
        }
        Err((Bad::Format(at), _)) => Err(format!(
            "Bad file format reading the append only file {name} at offset {at}: make a backup of your AOF file, \
             then use ./redis-check-aof --fix <filename.manifest>"
        )),
        Err((Bad::Io(e), _)) => Err(format!("Unrecoverable error reading the append only file {name}: {e}")),
    }
}

/// aof-load-truncated: cuts the file back to the end of its last complete command and warns
/// as Redis does; without it, the error Redis logs.
fn truncate(path: &Path, name: &str, load_truncated: bool, valid_up_to: u64) -> Result<u64, String> {
    if load_truncated {
        tracing::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
        tracing::warn!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!");
        match std::fs::OpenOptions::new().write(true).open(path).and_then(|f| f.set_len(valid_up_to)) {
            Ok(()) => {
                tracing::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
                return Ok(valid_up_to);
            }
            Err(e) => tracing::warn!("Error truncating the AOF file {name}: {e}"),
        }
    }
    Err(format!(
        "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, \
         then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the \
         'aof-load-truncated' configuration option to yes and restart the server."
    ))
}

/// The length of the RDB at the start of `path`: parsed again, through a reader that hands the
/// RDB reader one byte at a time so that the bytes it consumed are exactly the bytes counted.
fn rdb_length(path: &Path) -> Result<u64, String> {
    struct OneByte {
        inner: BufReader<File>,
        read: u64,
    }
    impl Read for OneByte {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let available = self.inner.fill_buf()?;
            if available.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = available[0];
            self.inner.consume(1);
            self.read += 1;
            Ok(1)
        }
    }
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut input = OneByte { inner: BufReader::with_capacity(1 << 16, file), read: 0 };
    let limits = crate::types::EncodingLimits::default();
    crate::persistence::rdb::load(&mut input, &limits, |_| Ok(())).map_err(|e| e.to_string())?;
    Ok(input.read)
}

struct Reader {
    inner: BufReader<File>,
    offset: u64,
}

impl Reader {
    /// C's fgets with Redis's 1024-byte buffer: up to and including a newline, at most 1023
    /// bytes; None at the end of the file.
    fn fgets(&mut self, line: &mut Vec<u8>) -> std::io::Result<Option<()>> {
        line.clear();
        while line.len() < LINE_BUFFER - 1 {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                break;
            }
            let room = LINE_BUFFER - 1 - line.len();
            let take = &available[..available.len().min(room)];
            let (n, done) = match take.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (take.len(), false),
            };
            line.extend_from_slice(&take[..n]);
            self.inner.consume(n);
            self.offset += n as u64;
            if done {
                break;
            }
        }
        Ok(if line.is_empty() { None } else { Some(()) })
    }

    /// Exactly `len` bytes, or None when the file ends first.
    fn read_exact_len(&mut self, len: u64) -> std::io::Result<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(len.min(READ_CHUNK) as usize);
        let got = (&mut self.inner).take(len).read_to_end(&mut out)?;
        self.offset += got as u64;
        Ok((got as u64 == len).then_some(out))
    }
}

type ReadResult = Result<(), (Bad, u64)>;

/// Reads commands until the end of the file. The outer error is a callback's; the inner one says
/// how reading went wrong and the offset after the last command that may be kept.
fn read_commands(
    r: &mut Reader,
    name: &str,
    start: u64,
    on_command: &mut impl FnMut(Vec<Bytes>) -> Result<(), String>,
    count: &mut u64,
) -> Result<ReadResult, String> {
    let mut valid_up_to = start;
    // A MULTI and what followed it, held back until its EXEC.
    let mut transaction: Option<(u64, Vec<Vec<Bytes>>)> = None;
    let mut line = Vec::new();
    loop {
        let argv = match read_command(r, &mut line) {
            Ok(Some(argv)) => argv,
            Ok(None) => break,
            Err(bad) => {
                let keep = transaction.as_ref().map_or(valid_up_to, |(before, _)| *before);
                return Ok(Err((bad, keep)));
            }
        };
        let cmd = argv[0].as_ref();
        if cmd.eq_ignore_ascii_case(b"multi") && transaction.is_none() {
            transaction = Some((valid_up_to, vec![argv]));
        } else if let Some((before_multi, queued)) = transaction.as_mut() {
            // A MULTI inside a transaction is queued (and fails at EXEC), but Redis still moves
            // the point a cut goes back to.
            if cmd.eq_ignore_ascii_case(b"multi") {
                *before_multi = valid_up_to;
            }
            let is_exec = cmd.eq_ignore_ascii_case(b"exec");
            queued.push(argv);
            if is_exec {
                for cmd in transaction.take().map(|(_, q)| q).unwrap_or_default() {
                    on_command(cmd)?;
                    *count += 1;
                }
            }
        } else {
            on_command(argv)?;
            *count += 1;
        }
        valid_up_to = r.offset;
    }
    if let Some((before_multi, _)) = transaction {
        // Well formed, but the transaction never ended: Redis treats it as a short read.
        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
        return Ok(Err((Bad::Eof, before_multi)));
    }
    Ok(Ok(()))
}

/// One command; None at a clean end of the file.
fn read_command(r: &mut Reader, line: &mut Vec<u8>) -> Result<Option<Vec<Bytes>>, Bad> {
    let argc = loop {
        let at = r.offset;
        if r.fgets(line).map_err(Bad::Io)?.is_none() {
            return Ok(None);
        }
        match line[0] {
            b'#' => {
                // An annotation longer than the buffer: Redis's next fgets reads its rest as a
                // line of its own, which is then not a command.
                continue;
            }
            b'*' if line.len() == 1 => return Err(Bad::Eof),
            b'*' => match crate::util::numbers::c_atoll(&line[1..]) {
                n if n >= 1 => break n as u64,
                _ => return Err(Bad::Format(at)),
            },
            _ => return Err(Bad::Format(at)),
        }
    };
    // The count comes from the file: grow as arguments really arrive.
    let mut argv = Vec::with_capacity(argc.min(1024) as usize);
    for _ in 0..argc {
        let at = r.offset;
        if r.fgets(line).map_err(Bad::Io)?.is_none() {
            return Err(Bad::Eof);
        }
        if line[0] != b'$' {
            return Err(Bad::Format(at));
        }
        let len = crate::util::numbers::c_atoll(&line[1..]);
        if len < 0 {
            return Err(Bad::Format(at));
        }
        let arg = r.read_exact_len(len as u64).map_err(Bad::Io)?.ok_or(Bad::Eof)?;
        // The CRLF after the argument: skipped unchecked, as Redis does.
        r.read_exact_len(2).map_err(Bad::Io)?.ok_or(Bad::Eof)?;
        argv.push(Bytes::from(arg));
    }
    Ok(Some(argv))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Value;
    use crate::persistence::aof::{encode_command, FileKind};
    use crate::persistence::rdb::{WriteOptions, Writer};

    fn rdb_bytes(keys: &[(&str, &str)]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), WriteOptions { compression: true, checksum: true }).unwrap();
        w.select_db(0, keys.len() as u64, 0).unwrap();
        for (k, v) in keys {
            w.key(k.as_bytes(), &Value::string(v), None).unwrap();
        }
        w.finish().unwrap()
    }

    fn cmds(list: &[&[&str]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in list {
            encode_command(&mut out, c);
        }
        out
    }

    fn file(name: &str, seq: u64, kind: FileKind) -> AofFile {
        AofFile { name: name.into(), seq, kind }
    }

    /// A directory with a base (when given) and incr files named a.N.incr.aof.
    fn dir_with(base: Option<(&str, Vec<u8>)>, incrs: &[Vec<u8>]) -> (tempfile::TempDir, Manifest) {
        let dir = tempfile::tempdir().unwrap();
        let base = base.map(|(name, bytes)| {
            std::fs::write(dir.path().join(name), bytes).unwrap();
            file(name, 1, FileKind::Base)
        });
        let incrs = incrs
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                let name = format!("a.{}.incr.aof", i + 1);
                std::fs::write(dir.path().join(&name), bytes).unwrap();
                file(&name, i as u64 + 1, FileKind::Incr)
            })
            .collect();
        (dir, Manifest { base, incrs, history: vec![] })
    }

    type Seen = (Vec<String>, Vec<Vec<String>>);

    fn run(dir: &Path, m: &Manifest, load_truncated: bool) -> (Result<ReplayReport, String>, Seen) {
        let mut rdbs = Vec::new();
        let mut commands = Vec::new();
        let result = replay(
            dir,
            m,
            load_truncated,
            |p| {
                let mut keys = Vec::new();
                let file = File::open(p).map_err(|e| e.to_string())?;
                crate::persistence::rdb::load(file, &Default::default(), |ev| {
                    if let crate::persistence::rdb::Event::Key(k) = ev {
                        keys.push(String::from_utf8(k.key).unwrap());
                    }
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
                rdbs.push(keys.join(","));
                Ok(())
            },
            |argv| {
                commands.push(argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect());
                Ok(())
            },
        );
        (result, (rdbs, commands))
    }

    fn strs(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect()
    }

    #[test]
    fn rdb_base_then_incrs_in_order() {
        let base = rdb_bytes(&[("k1", "v1"), ("k2", "v2")]);
        let incr1 = cmds(&[&["SELECT", "0"], &["SET", "x", "1"]]);
        let incr2 = cmds(&[&["DEL", "k1"]]);
        let (dir, m) = dir_with(Some(("a.1.base.rdb", base.clone())), &[incr1.clone(), vec![], incr2.clone()]);
        let (result, (rdbs, commands)) = run(dir.path(), &m, false);
        let report = result.unwrap();
        assert_eq!(rdbs, ["k1,k2"]);
        assert_eq!(commands, strs(&[&["SELECT", "0"], &["SET", "x", "1"], &["DEL", "k1"]]));
        assert_eq!(report.commands, 3);
        assert_eq!(report.truncated_at, None);
        assert_eq!(report.base_bytes, base.len() as u64);
        assert_eq!(report.total_bytes, (base.len() + incr1.len() + incr2.len()) as u64);
    }

    #[test]
    fn aof_base_and_timestamp_annotations() {
        let mut base = b"#TS:1700000000\r\n".to_vec();
        base.extend(cmds(&[&["SET", "a", "x\r\ny"]]));
        let mut incr = cmds(&[&["INCR", "n"]]);
        incr.extend_from_slice(b"#TS:1700000001\r\n");
        incr.extend(cmds(&[&["INCR", "n"]]));
        incr.extend_from_slice(b"#TS:17000");
        let (dir, m) = dir_with(Some(("a.1.base.aof", base)), &[incr]);
        let (result, (rdbs, commands)) = run(dir.path(), &m, false);
        assert_eq!(result.unwrap().commands, 3);
        assert!(rdbs.is_empty());
        assert_eq!(commands, strs(&[&["SET", "a", "x\r\ny"], &["INCR", "n"], &["INCR", "n"]]));
    }

    #[test]
    fn old_style_rdb_preamble_then_commands() {
        let mut base = rdb_bytes(&[("p", "1")]);
        base.extend(cmds(&[&["SET", "tail", "1"]]));
        let (dir, m) = dir_with(Some(("a.aof", base)), &[cmds(&[&["SET", "i", "2"]])]);
        let (result, (rdbs, commands)) = run(dir.path(), &m, false);
        assert_eq!(result.unwrap().commands, 2);
        assert_eq!(rdbs, ["p"]);
        assert_eq!(commands, strs(&[&["SET", "tail", "1"], &["SET", "i", "2"]]));
    }

    #[test]
    fn truncated_tail_is_cut_with_load_truncated() {
        let good = cmds(&[&["SET", "a", "1"], &["SET", "b", "2"]]);
        let full_third = cmds(&[&["SET", "c", "3"]]);
        for cut in 1..full_third.len() {
            let mut bytes = good.clone();
            bytes.extend_from_slice(&full_third[..cut]);
            let (dir, m) = dir_with(None, &[cmds(&[&["SET", "z", "0"]]), bytes]);
            let path = dir.path().join("a.2.incr.aof");

            let (result, _) = run(dir.path(), &m, false);
            let err = result.unwrap_err();
            assert!(err.starts_with("Unexpected end of file reading the append only file a.2.incr.aof."), "{err}");
            assert_eq!(std::fs::metadata(&path).unwrap().len(), (good.len() + cut) as u64, "untouched");

            let (result, (_, commands)) = run(dir.path(), &m, true);
            let report = result.unwrap();
            assert_eq!(report.truncated_at, Some(("a.2.incr.aof".into(), good.len() as u64)), "cut {cut}");
            assert_eq!(commands, strs(&[&["SET", "z", "0"], &["SET", "a", "1"], &["SET", "b", "2"]]));
            assert_eq!(std::fs::read(&path).unwrap(), good);
            // Once cut, the file loads cleanly.
            let (result, _) = run(dir.path(), &m, false);
            assert_eq!(result.unwrap().truncated_at, None);
        }
    }

    #[test]
    fn truncation_in_a_file_that_is_not_the_last_fails() {
        let mut bytes = cmds(&[&["SET", "a", "1"]]);
        bytes.extend_from_slice(b"*2\r\n$3\r\nDEL");
        let (dir, m) = dir_with(None, &[bytes, cmds(&[&["SET", "b", "2"]])]);
        let (result, _) = run(dir.path(), &m, true);
        let err = result.unwrap_err();
        assert!(err.contains("a.1.incr.aof was truncated but is not the last file"), "{err}");
    }

    #[test]
    fn unfinished_multi_is_rolled_back() {
        let mut bytes = cmds(&[&["SET", "a", "1"], &["MULTI"], &["SET", "b", "2"], &["EXEC"], &["INCR", "c"]]);
        let keep = bytes.len();
        bytes.extend(cmds(&[&["MULTI"], &["SET", "d", "4"], &["SET", "e", "5"]]));
        let (dir, m) = dir_with(None, &[bytes.clone()]);
        let (result, _) = run(dir.path(), &m, false);
        assert!(result.unwrap_err().starts_with("Unexpected end of file"));
        let (result, (_, commands)) = run(dir.path(), &m, true);
        assert_eq!(result.unwrap().truncated_at, Some(("a.1.incr.aof".into(), keep as u64)));
        assert_eq!(commands, strs(&[&["SET", "a", "1"], &["MULTI"], &["SET", "b", "2"], &["EXEC"], &["INCR", "c"]]));
        assert_eq!(std::fs::read(dir.path().join("a.1.incr.aof")).unwrap(), &bytes[..keep]);

        // A MULTI inside the transaction moves the cut to before it, as in Redis.
        let mut bytes = cmds(&[&["SET", "a", "1"], &["MULTI"], &["SET", "b", "2"]]);
        let keep = bytes.len();
        bytes.extend(cmds(&[&["MULTI"], &["SET", "c", "3"]]));
        let (dir, m) = dir_with(None, &[bytes.clone()]);
        let (result, (_, commands)) = run(dir.path(), &m, true);
        assert_eq!(commands, strs(&[&["SET", "a", "1"]]));
        assert_eq!(result.unwrap().truncated_at.unwrap().1, keep as u64);

        // Cut inside a command of the transaction: also back to before the MULTI.
        let mut bytes = cmds(&[&["SET", "a", "1"], &["MULTI"], &["SET", "b", "2"]]);
        bytes.extend_from_slice(b"*1\r\n$4\r\nEX");
        let (dir, m) = dir_with(None, &[bytes.clone()]);
        let (result, (_, commands)) = run(dir.path(), &m, true);
        assert_eq!(commands, strs(&[&["SET", "a", "1"]]));
        assert_eq!(result.unwrap().truncated_at.unwrap().1, cmds(&[&["SET", "a", "1"]]).len() as u64);
    }

    #[test]
    fn garbage_is_a_format_error_with_file_and_offset() {
        let good = cmds(&[&["SET", "a", "1"]]);
        for (garbage, offset_in) in [
            (b"hello\r\n".as_slice(), 0),
            (b"*0\r\n", 0),
            (b"*x\r\n", 0),
            (b"*1\r\n?3\r\nfoo\r\n", 4),
            (b"*2\r\n$1\r\nx\r\n$-1\r\n", 11),
        ] {
            let mut bytes = good.clone();
            bytes.extend_from_slice(garbage);
            bytes.extend(cmds(&[&["SET", "b", "2"]]));
            let (dir, m) = dir_with(None, &[bytes.clone()]);
            for load_truncated in [false, true] {
                let (result, _) = run(dir.path(), &m, load_truncated);
                let err = result.unwrap_err();
                let want = format!(
                    "Bad file format reading the append only file a.1.incr.aof at offset {}:",
                    good.len() + offset_in
                );
                assert!(err.starts_with(&want), "{garbage:?}: {err}");
                assert_eq!(std::fs::read(dir.path().join("a.1.incr.aof")).unwrap(), bytes, "never cut");
            }
        }
    }

    #[test]
    fn huge_counts_and_lengths_do_not_allocate_up_front() {
        let (dir, m) = dir_with(None, &[b"*2000000000\r\n$9000000000000\r\nabc".to_vec()]);
        let (result, _) = run(dir.path(), &m, true);
        assert_eq!(result.unwrap().truncated_at.unwrap().1, 0);
        assert_eq!(std::fs::read(dir.path().join("a.1.incr.aof")).unwrap(), b"");
    }

    #[test]
    fn missing_file_and_callback_errors_stop_the_replay() {
        let (dir, mut m) = dir_with(None, &[cmds(&[&["SET", "a", "1"]])]);
        m.incrs.push(file("a.9.incr.aof", 9, FileKind::Incr));
        let err = run(dir.path(), &m, true).0.unwrap_err();
        assert!(err.starts_with("Unable to obtain the AOF file a.9.incr.aof length"), "{err}");
        m.incrs.pop();
        let err = replay(dir.path(), &m, true, |_| Ok(()), |_| Err("Unknown command 'SET'".into())).unwrap_err();
        assert_eq!(err, "Unknown command 'SET'");
        let (dir, m) = dir_with(Some(("a.1.base.rdb", b"REDIS0010garbage".to_vec())), &[]);
        let err = run(dir.path(), &m, true).0.unwrap_err();
        assert!(err.starts_with("Error reading the RDB base file a.1.base.rdb, AOF loading aborted"), "{err}");
    }
}
