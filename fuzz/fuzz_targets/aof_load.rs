//! The AOF loader (Redis's loadAppendOnlyFiles): a base or incr file of arbitrary bytes, as a
//! command stream, an RDB base, or an old single-file AOF with an RDB preamble.
//!
//! Properties: no panic, no hang, no allocation beyond what the file holds; and with
//! aof-load-truncated a file cut back by the loader then loads cleanly, to the same commands.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use redis_rs::persistence::aof::{replay, AofFile, FileKind, Manifest};
use redis_rs::types::EncodingLimits;

include!("common_alloc.rs");

/// The fuzzer's AOF directory (on /dev/shm when there is one: one file write per input).
fn dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let made = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
        match made {
            Ok(d) => d,
            Err(e) => panic!("no temporary directory: {e}"),
        }
    })
    .path()
}

fn load_rdb(path: &Path) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    redis_rs::persistence::rdb::load(file, &EncodingLimits::default(), |_| Ok(())).map_err(|e| e.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, content)) = data.split_first() else { return };
    let (name, kind) = match (control >> 1) % 4 {
        0 => ("appendonly.aof.1.incr.aof", FileKind::Incr),
        1 => ("appendonly.aof.1.base.aof", FileKind::Base),
        2 => ("appendonly.aof.1.base.rdb", FileKind::Base),
        // An AOF from before multi-part AOF, which may start with an RDB preamble.
        _ => ("appendonly.aof", FileKind::Base),
    };
    let file = AofFile { name: name.to_string(), seq: 1, kind };
    let manifest = match kind {
        FileKind::Incr => Manifest { base: None, incrs: vec![file], history: vec![] },
        _ => Manifest { base: Some(file), incrs: vec![], history: vec![] },
    };
    if let Err(e) = std::fs::write(dir().join(name), content) {
        panic!("cannot write the AOF: {e}");
    }
    let load_truncated = control & 1 != 0;
    let report = replay(dir(), &manifest, load_truncated, load_rdb, |argv| {
        assert!(!argv.is_empty(), "an empty command was replayed");
        Ok(())
    });
    if let Ok(report) = report {
        if report.truncated_at.is_some() {
            let again = replay(dir(), &manifest, false, load_rdb, |_| Ok(()));
            match again {
                Ok(r) => {
                    assert_eq!(r.truncated_at, None, "a truncated AOF is still truncated");
                    assert_eq!(r.commands, report.commands, "the truncated AOF replays other commands");
                }
                Err(e) => panic!("the AOF cut back by aof-load-truncated does not load: {e}"),
            }
        }
    }
});
