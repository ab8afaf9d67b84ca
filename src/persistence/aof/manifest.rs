//! The manifest of a multi-part AOF (aof.c's aofInfoFormat, getAofManifestAsString,
//! aofLoadManifestFromFile, writeAofManifestFile): one line per file,
//! `file <name> seq <n> type <b|h|i>`, the base first, then history files, then incr files.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::{AofFile, FileKind, Manifest};
use crate::util::splitargs::{repr, split_args};

/// fgets in aofLoadManifestFromFile reads into a buffer of MANIFEST_MAX_LINE+1 bytes, so a
/// "line" is at most this many bytes; a longer line is an error.
const MANIFEST_MAX_LINE: usize = 1024;

const INVALID_FORMAT: &str = "Invalid AOF manifest file format";

impl FileKind {
    /// The type letter of the manifest (AOF_FILE_TYPE_BASE/HIST/INCR).
    pub fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }
}

impl Manifest {
    /// Parses a manifest as Redis 7.0's aofLoadManifestFromFile does: `#` lines are comments,
    /// keys are case-insensitive and unknown keys are ignored (forward compatibility), names
    /// may be quoted as sdssplitargs reads them. An error names the line, like Redis's log.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse_detailed(text).map_err(String::from)
    }

    /// `parse`, with the error's parts kept apart for Redis's log of it.
    pub fn parse_detailed(text: &str) -> Result<Manifest, ManifestError> {
        let mut manifest = Manifest { base: None, incrs: Vec::new(), history: Vec::new() };
        let mut rest = text.as_bytes();
        let mut linenum = 0usize;
        if rest.is_empty() {
            return Err(ManifestError { err: "Found an empty AOF manifest".into(), line: None });
        }
        while !rest.is_empty() {
            let chunk = fgets_chunk(rest, MANIFEST_MAX_LINE);
            rest = &rest[chunk.len()..];
            linenum += 1;
            if chunk.first() == Some(&b'#') {
                continue;
            }
            let line = trim(chunk);
            let fail = |err: &str| {
                Err(ManifestError {
                    err: err.into(),
                    line: Some((linenum, String::from_utf8_lossy(line).into_owned())),
                })
            };
            if !chunk.contains(&b'\n') {
                // Redis has not taken the line yet: its log shows no line.
                let err = "The AOF manifest file contains too long line";
                return Err(ManifestError { err: err.into(), line: None });
            }
            if line.is_empty() {
                return fail(INVALID_FORMAT);
            }
            let file = match parse_line(line) {
                Ok(f) => f,
                Err(e) => return fail(e),
            };
            if let Err(e) = manifest.add(file) {
                return fail(e);
            }
        }
        Ok(manifest)
    }

    /// Adds a parsed line, with Redis's checks: one base, incr sequence numbers increasing.
    fn add(&mut self, file: AofFile) -> Result<(), &'static str> {
        match file.kind {
            FileKind::Base => {
                if self.base.is_some() {
                    return Err("Found duplicate base file information");
                }
                self.base = Some(file);
            }
            FileKind::History => self.history.push(file),
            FileKind::Incr => {
                if self.incrs.last().is_some_and(|last| file.seq <= last.seq) {
                    return Err("Found a non-monotonic sequence number");
                }
                self.incrs.push(file);
            }
        }
        Ok(())
    }

    /// Names the base of a rewrite (getNewBaseFileNameAndMarkPreAsHistory): the current base,
    /// if any, becomes the first history file, and the new base takes the next base sequence
    /// number (`<appendfilename>.<seq>.base.rdb`, or `.base.aof` without the RDB preamble).
    pub fn new_base(&mut self, appendfilename: &str, rdb: bool) -> &AofFile {
        let seq = self.base.as_ref().map_or(0, |b| b.seq) + 1;
        if let Some(mut old) = self.base.take() {
            old.kind = FileKind::History;
            self.history.insert(0, old);
        }
        self.base.insert(AofFile { name: super::base_name(appendfilename, seq, rdb), seq, kind: FileKind::Base })
    }

    /// Names a new incr file after the last one (getNewIncrAofName) and adds it at the end.
    pub fn new_incr(&mut self, appendfilename: &str) -> &AofFile {
        let seq = self.incrs.last().map_or(0, |f| f.seq) + 1;
        self.incrs.push(AofFile { name: super::incr_name(appendfilename, seq), seq, kind: FileKind::Incr });
        &self.incrs[self.incrs.len() - 1]
    }

    /// After a successful rewrite (markRewrittenIncrAofAsHistory): the incr files the new base
    /// covers become history, ahead of the existing history files, in their order. With
    /// `keep_last` (AOF on) the last incr file, the one being written, stays an incr file.
    pub fn mark_incrs_as_history(&mut self, keep_last: bool) {
        let keep = usize::from(keep_last && !self.incrs.is_empty());
        let rewritten: Vec<AofFile> = self
            .incrs
            .drain(..self.incrs.len() - keep)
            .map(|mut f| {
                f.kind = FileKind::History;
                f
            })
            .collect();
        self.history.splice(0..0, rewritten);
    }

    /// The manifest's text as Redis writes it: base, then history, then incr files.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incrs) {
            out.push_str("file ");
            if needs_repr(f.name.as_bytes()) {
                out.push_str(&repr(f.name.as_bytes()));
            } else {
                out.push_str(&f.name);
            }
            out.push_str(&format!(" seq {} type {}\n", f.seq, f.kind.letter()));
        }
        out
    }

    /// Reads `<dir>/<appendfilename>.manifest`; `None` when there is no such file (or no
    /// directory), which Redis treats as "no multi-part AOF yet".
    pub fn load(dir: &Path, appendfilename: &str) -> Result<Option<Manifest>, ManifestError> {
        let path = dir.join(manifest_name(appendfilename));
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                let err = format!(
                    "Fatal error: can't open the AOF manifest file {} for reading: {}",
                    path.display(),
                    crate::util::sys::error_text(&e)
                );
                return Err(ManifestError { err, line: None });
            }
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| ManifestError { err: format!("{INVALID_FORMAT} (not UTF-8)"), line: None })?;
        Manifest::parse_detailed(&text).map(Some)
    }

    /// Writes the manifest atomically, as writeAofManifestFile: `temp-<name>.manifest`, fsync,
    /// rename over the manifest, fsync of the directory (new AOF files may have been added).
    pub fn save(&self, dir: &Path, appendfilename: &str) -> std::io::Result<()> {
        let path = dir.join(manifest_name(appendfilename));
        let tmp = dir.join(format!("temp-{}", manifest_name(appendfilename)));
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(self.render().as_bytes())?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&tmp, &path)?;
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Why a manifest could not be read, and the line (number, text) where, if one was read.
#[derive(Debug)]
pub struct ManifestError {
    pub err: String,
    pub line: Option<(usize, String)>,
}

impl ManifestError {
    /// aofLoadManifestFromFile's log before it exits: a banner, the line, the reason, each
    /// message ending in a newline as Redis writes them. A manifest that cannot be opened is
    /// one plain line.
    pub fn log_fatal(&self) {
        if self.err.starts_with("Fatal error: can't open") {
            tracing::warn!("{}", self.err);
            return;
        }
        tracing::warn!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
        if let Some((linenum, line)) = &self.line {
            tracing::warn!("Reading the manifest file, at line {linenum}\n");
            tracing::warn!(">>> '{line}'\n");
        }
        tracing::warn!("{}\n", self.err);
    }
}

impl From<ManifestError> for String {
    fn from(e: ManifestError) -> String {
        match e.line {
            Some((linenum, line)) => format!("{} (line {linenum}: '{line}')", e.err),
            None => e.err,
        }
    }
}

pub fn manifest_name(appendfilename: &str) -> String {
    format!("{appendfilename}.manifest")
}

/// What one fgets call with a buffer of `max + 1` bytes returns: up to and including the next
/// newline, at most `max` bytes.
pub(super) fn fgets_chunk(input: &[u8], max: usize) -> &[u8] {
    let limit = input.len().min(max);
    match input[..limit].iter().position(|&b| b == b'\n') {
        Some(i) => &input[..=i],
        None => &input[..limit],
    }
}

/// sdstrim(line, " \t\r\n").
fn trim(mut s: &[u8]) -> &[u8] {
    let strip = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    while s.first().is_some_and(strip) {
        s = &s[1..];
    }
    while s.last().is_some_and(strip) {
        s = &s[..s.len() - 1];
    }
    s
}

/// One manifest line: key/value pairs; file, seq and type are required, others ignored.
fn parse_line(line: &[u8]) -> Result<AofFile, &'static str> {
    let argv = split_args(line).ok_or(INVALID_FORMAT)?;
    // At least six fields, in pairs ('argc < 6' was kept for forward compatibility).
    if argv.len() < 6 || argv.len() % 2 != 0 {
        return Err(INVALID_FORMAT);
    }
    let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
    for pair in argv.chunks(2) {
        let (key, value) = (&pair[0], &pair[1]);
        if key.eq_ignore_ascii_case(b"file") {
            if value.contains(&b'/') || value.contains(&b'\\') {
                return Err("File can't be a path, just a filename");
            }
            name = Some(value.clone());
        } else if key.eq_ignore_ascii_case(b"seq") {
            seq = crate::util::numbers::c_atoll(value);
        } else if key.eq_ignore_ascii_case(b"type") {
            kind = value.first().copied().unwrap_or(0);
        }
    }
    // Redis only rejects a zero seq; a negative one cannot name a file it writes.
    let (Some(name), true, true) = (name, seq != 0, kind != 0) else { return Err(INVALID_FORMAT) };
    let seq = u64::try_from(seq).map_err(|_| INVALID_FORMAT)?;
    let name = String::from_utf8(name).map_err(|_| INVALID_FORMAT)?;
    let kind = match kind {
        b'b' => FileKind::Base,
        b'h' => FileKind::History,
        b'i' => FileKind::Incr,
        _ => return Err("Unknown AOF file type"),
    };
    Ok(AofFile { name, seq, kind })
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// sdsneedsrepr: whether a name must be written quoted; and a single quote, which Redis writes
/// bare and then cannot read (a bare `'` opens a quoted section: `appendfilename "it's.aof"`
/// leaves Redis a manifest it refuses at the next start). Quoted, both servers read it.
fn needs_repr(s: &[u8]) -> bool {
    s.iter().any(|&c| {
        matches!(c, b'\\' | b'"' | b'\'' | b'\n' | b'\r' | b'\t' | 0x07 | 0x08) || !is_print(c) || is_c_space(c)
    })
}

fn is_print(c: u8) -> bool {
    (0x20..=0x7e).contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, seq: u64, kind: FileKind) -> AofFile {
        AofFile { name: name.into(), seq, kind }
    }

    #[test]
    fn renders_like_redis_and_round_trips() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base, Some(file("appendonly.aof.2.base.rdb", 2, FileKind::Base)));
        assert_eq!(m.incrs, vec![file("appendonly.aof.2.incr.aof", 2, FileKind::Incr)]);
        assert_eq!(m.render(), text);
    }

    #[test]
    fn orders_base_history_incr_whatever_the_input_order() {
        let text = "# a comment\nfile a.1.incr.aof seq 1 type h\nFILE a.3.incr.aof SEQ 3 TYPE i extra x\n\
                    file a.2.base.rdb seq 2 type b\nfile a.1.base.rdb seq 1 type h\nfile a.4.incr.aof seq 4 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(
            m.render(),
            "file a.2.base.rdb seq 2 type b\nfile a.1.incr.aof seq 1 type h\nfile a.1.base.rdb seq 1 type h\n\
             file a.3.incr.aof seq 3 type i\nfile a.4.incr.aof seq 4 type i\n"
        );
        assert_eq!(Manifest::parse(&m.render()).unwrap(), m);
    }

    #[test]
    fn quotes_names_as_sdscatrepr_and_reads_them_back() {
        // A single quote too (found by fuzz/aof_manifest: Redis writes it bare and cannot read it).
        let names = ["my file.1.incr.aof", "q\"uote.aof", "tab\tnl\n\x01\u{7f}é", "it's.aof.1.incr.aof", "apk`_i.'n.i"];
        for (i, name) in names.iter().enumerate() {
            let m = Manifest { base: None, history: vec![], incrs: vec![file(name, i as u64 + 1, FileKind::Incr)] };
            let text = m.render();
            assert_eq!(Manifest::parse(&text).unwrap(), m, "{text}");
        }
        let m = Manifest { base: Some(file("a b\x01é", 1, FileKind::Base)), history: vec![], incrs: vec![] };
        assert_eq!(m.render(), "file \"a b\\x01\\xc3\\xa9\" seq 1 type b\n");
        let m = Manifest::parse("file 'it\\'s x' seq 1 type b\n").unwrap();
        assert_eq!(m.base.unwrap().name, "it's x");
    }

    #[test]
    fn bad_manifests_are_refused_with_redis_messages() {
        let cases: &[(&str, &str)] = &[
            ("", "Found an empty AOF manifest"),
            ("\n", INVALID_FORMAT),
            ("file a seq 1 type b", "The AOF manifest file contains too long line"),
            ("file a seq 1\n", INVALID_FORMAT),
            ("file a seq 1 type b x\n", INVALID_FORMAT),
            ("file a seq 0 type b\n", INVALID_FORMAT),
            ("file a seq x type b\n", INVALID_FORMAT),
            ("file a seq 1 typo b\n", INVALID_FORMAT),
            ("file \"a seq 1 type b\n", INVALID_FORMAT),
            ("file \"a\"b seq 1 type b\n", INVALID_FORMAT),
            ("file dir/a seq 1 type b\n", "File can't be a path, just a filename"),
            ("file \"back\\\\slash\" seq 1 type b\n", "File can't be a path, just a filename"),
            ("file a seq 1 type x\n", "Unknown AOF file type"),
            ("file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"),
            ("file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"),
        ];
        for (text, want) in cases {
            let err = Manifest::parse(text).unwrap_err();
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
        let long = format!("file {} seq 1 type b\n", "x".repeat(1100));
        assert!(Manifest::parse(&long).unwrap_err().starts_with("The AOF manifest file contains too long line"));
        // Only comments: not empty, and no files.
        assert_eq!(Manifest::parse("# nothing\n").unwrap(), Manifest { base: None, incrs: vec![], history: vec![] });
    }

    #[test]
    fn rewrite_bookkeeping_follows_redis() {
        // Start-up with no AOF: base 1 and incr 1.
        let mut m = Manifest { base: None, incrs: vec![], history: vec![] };
        assert_eq!(m.new_base("appendonly.aof", true).name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.new_incr("appendonly.aof").name, "appendonly.aof.1.incr.aof");
        // BGREWRITEAOF: a new incr file opens, then the rewrite completes.
        assert_eq!(m.new_incr("appendonly.aof").seq, 2);
        assert_eq!(m.new_base("appendonly.aof", false).name, "appendonly.aof.2.base.aof");
        m.mark_incrs_as_history(true);
        assert_eq!(
            m.render(),
            "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        // A second rewrite: what Redis 7.0.15 writes with aof-disable-auto-gc yes.
        m.new_incr("appendonly.aof");
        m.new_base("appendonly.aof", true);
        m.mark_incrs_as_history(true);
        assert_eq!(
            m.render().replace("2.base.aof", "2.base.rdb"),
            "file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.2.incr.aof seq 2 type h\n\
             file appendonly.aof.2.base.rdb seq 2 type h\nfile appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
        );
        // With the AOF off, every incr file was covered by the rewrite.
        m.mark_incrs_as_history(false);
        assert!(m.incrs.is_empty());
        assert_eq!(m.history.first().unwrap().name, "appendonly.aof.3.incr.aof");
        assert_eq!(m.history.len(), 5);
        m.mark_incrs_as_history(true);
        assert_eq!(m.history.len(), 5);
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path(), "appendonly.aof").unwrap(), None);
        let m = Manifest {
            base: Some(file("appendonly.aof.1.base.rdb", 1, FileKind::Base)),
            history: vec![],
            incrs: vec![file("appendonly.aof.1.incr.aof", 1, FileKind::Incr)],
        };
        m.save(dir.path(), "appendonly.aof").unwrap();
        assert_eq!(Manifest::load(dir.path(), "appendonly.aof").unwrap(), Some(m.clone()));
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names, vec!["appendonly.aof.manifest".to_string()]);
    }
}
