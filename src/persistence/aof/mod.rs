//! Redis 7.0's multi-part append-only file: a directory (appenddirname) holding a manifest
//! (`<appendfilename>.manifest`), one base file (`<appendfilename>.<seq>.base.rdb`, or
//! `.base.aof` without the RDB preamble), incr files (`<appendfilename>.<seq>.incr.aof`) that
//! receive the write commands, and history files a rewrite left behind until they are removed.
//!
//! This module is the file layer only: the manifest's format (manifest.rs), creating a fresh
//! directory and appending to an incr file (files.rs), and replaying a directory (replay.rs).
//! What gets appended, when it is synced and how replayed commands run belong to the server.

mod files;
mod manifest;
mod replay;

pub use files::{create, needs_upgrade, upgrade, IncrFile};
pub use manifest::manifest_name;
pub use replay::{replay, ReplayReport};

/// The parsed manifest. `incrs` are in manifest (= replay) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
    pub history: Vec<AofFile>,
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Base,
    Incr,
    History,
}

/// The name Redis gives a base file: `<appendfilename>.<seq>.base.rdb` (or `.base.aof` when
/// aof-use-rdb-preamble is off).
pub fn base_name(appendfilename: &str, seq: u64, rdb: bool) -> String {
    format!("{appendfilename}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

/// The name Redis gives an incr file: `<appendfilename>.<seq>.incr.aof`.
pub fn incr_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}.incr.aof")
}

/// Encodes one command as RESP for appending, as catAppendOnlyGenericCommand writes it: an
/// array header, then every argument as a bulk string.
pub fn encode_command(out: &mut Vec<u8>, argv: &[impl AsRef<[u8]>]) {
    // Exactly: a big argument would otherwise double the buffer for its final CRLF.
    out.reserve(encoded_len(argv));
    push_header(out, b'*', argv.len());
    for arg in argv {
        let arg = arg.as_ref();
        push_header(out, b'$', arg.len());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// How many bytes `encode_command` writes for `argv`.
pub fn encoded_len(argv: &[impl AsRef<[u8]>]) -> usize {
    header_len(argv.len()) + argv.iter().map(|a| header_len(a.as_ref().len()) + a.as_ref().len() + 2).sum::<usize>()
}

fn header_len(n: usize) -> usize {
    1 + itoa::Buffer::new().format(n).len() + 2
}

fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.push(kind);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The `#TS:<unix secs>\r\n` annotation aof-timestamp-enabled writes before commands.
pub fn timestamp_annotation(unix_secs: i64) -> Vec<u8> {
    format!("#TS:{unix_secs}\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_len_is_what_encode_command_writes() {
        for argv in [vec![], vec![b"PING".to_vec()], vec![b"SET".to_vec(), vec![], vec![b'x'; 100_000]]] {
            let mut out = Vec::new();
            encode_command(&mut out, &argv);
            assert_eq!(encoded_len(&argv), out.len());
            // (Vec allocates at least 8 bytes.)
            assert!(out.capacity() <= out.len().max(8), "{} for {}", out.capacity(), out.len());
        }
    }

    #[test]
    fn encodes_commands_as_redis_appends_them() {
        let mut out = Vec::new();
        encode_command(&mut out, &["SELECT", "0"]);
        encode_command(&mut out, &[b"set".as_slice(), b"k", b"a\r\nb", b""]);
        assert_eq!(out, b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$3\r\nset\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$0\r\n\r\n");
        assert_eq!(timestamp_annotation(1700000000), b"#TS:1700000000\r\n");
        assert_eq!(base_name("appendonly.aof", 3, true), "appendonly.aof.3.base.rdb");
        assert_eq!(base_name("x", 1, false), "x.1.base.aof");
        assert_eq!(incr_name("appendonly.aof", 12), "appendonly.aof.12.incr.aof");
    }
}
