//! Creating a fresh AOF directory and appending to its incr file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::{base_name, incr_name, AofFile, FileKind, Manifest};

/// Creates the directory (if missing) and a fresh AOF in it, as Redis does when it starts with
/// appendonly on and no AOF yet: a base file written by `write_base` (an RDB) named
/// `<appendfilename>.1.base.rdb`, an empty incr file seq 1, and the manifest naming both.
/// The base is written to a temp file first and renamed, so a failure leaves no half base.
pub fn create(
    dir: &Path,
    appendfilename: &str,
    rdb_preamble: bool,
    write_base: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<Manifest> {
    std::fs::create_dir_all(dir)?;
    let base = base_name(appendfilename, 1, rdb_preamble);
    write_atomically(dir, &base, write_base)?;
    let incr = incr_name(appendfilename, 1);
    let incr_file = OpenOptions::new().write(true).create(true).truncate(true).open(dir.join(&incr))?;
    incr_file.sync_all()?;
    let manifest = Manifest {
        base: Some(AofFile { name: base, seq: 1, kind: FileKind::Base }),
        incrs: vec![AofFile { name: incr, seq: 1, kind: FileKind::Incr }],
        history: Vec::new(),
    };
    manifest.save(dir, appendfilename)?;
    Ok(manifest)
}

/// Whether Redis 7.0 would migrate an old single-file AOF, `<workdir>/<appendfilename>`, into
/// the AOF directory at start-up (loadAppendOnlyFiles): the file exists and either there is no
/// directory, or its manifest (`manifest`, None when absent) names no base and no incr file, or
/// it names only that file as its base and the file is not in the directory yet (an upgrade
/// that stopped half-way).
pub fn needs_upgrade(workdir: &Path, aof_dir: &Path, appendfilename: &str, manifest: Option<&Manifest>) -> bool {
    if !workdir.join(appendfilename).is_file() {
        return false;
    }
    if !aof_dir.is_dir() {
        return true;
    }
    match manifest {
        None => true,
        Some(m) => match &m.base {
            None => m.incrs.is_empty(),
            Some(base) => m.incrs.is_empty() && base.name == appendfilename && !aof_dir.join(appendfilename).exists(),
        },
    }
}

/// Migrates an old single-file AOF into the directory, as aofUpgradePrepare: the directory is
/// created, a manifest naming the old file as base seq 1 is saved (history lines kept), then the
/// file is moved in. A crash part-way is retried by the next start (`needs_upgrade`).
pub fn upgrade(
    workdir: &Path,
    aof_dir: &Path,
    appendfilename: &str,
    manifest: Option<Manifest>,
) -> std::io::Result<Manifest> {
    std::fs::create_dir_all(aof_dir)?;
    let mut manifest = manifest.unwrap_or(Manifest { base: None, incrs: Vec::new(), history: Vec::new() });
    manifest.base = Some(AofFile { name: appendfilename.to_string(), seq: 1, kind: FileKind::Base });
    manifest.save(aof_dir, appendfilename)?;
    std::fs::rename(workdir.join(appendfilename), aof_dir.join(appendfilename))?;
    tracing::info!(
        "Successfully migrated an old-style AOF file ({appendfilename}) into the AOF directory ({}).",
        aof_dir.file_name().map_or_else(|| aof_dir.display().to_string(), |n| n.to_string_lossy().into_owned())
    );
    Ok(manifest)
}

/// Writes `dir/name` through `temp-rewriteaof-<pid>.aof` (Redis's temp name for a rewrite):
/// write, fsync, rename. The directory is synced when the manifest is saved.
fn write_atomically(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = dir.join(format!("temp-rewriteaof-{}.aof", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// An incr file open for appending. The file is shared (`sync_handle`) so that an everysec
/// fsync can run on another thread while appends continue.
pub struct IncrFile {
    file: Arc<File>,
    size: u64,
}

impl IncrFile {
    /// Opens (creating if missing) for appending, like Redis's O_WRONLY|O_APPEND|O_CREAT.
    pub fn open(path: &Path) -> std::io::Result<IncrFile> {
        let file = OpenOptions::new().append(true).create(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(IncrFile { file: Arc::new(file), size })
    }

    /// Appends all of `bytes`. On a failed or short write (ENOSPC) the file is truncated back to
    /// its size before this append, as flushAppendOnlyFile does, so the file never ends in half a
    /// command; the error is returned either way.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), AppendError> {
        // aofWrite: write until done or an error, counting what went in before it.
        let mut written = 0;
        let failure = loop {
            if written == bytes.len() {
                break None;
            }
            match (&*self.file).write(&bytes[written..]) {
                Ok(0) => break Some(std::io::Error::from(std::io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Some(e),
            }
        };
        match failure {
            None => {
                self.size += bytes.len() as u64;
                Ok(())
            }
            Some(e) if written == 0 => Err(AppendError { written, error: e }),
            Some(_) => {
                // A short write: Redis cuts it off and reports ENOSPC whatever the error was.
                let e = std::io::Error::from_raw_os_error(libc::ENOSPC);
                if let Err(t) = self.file.set_len(self.size) {
                    tracing::warn!(
                        "Could not remove short write from the append-only file. Redis may refuse to load the AOF \
                         the next time it starts. ftruncate: {t}"
                    );
                    // The partial bytes stay: count them so later appends follow them.
                    if let Ok(meta) = self.file.metadata() {
                        self.size = meta.len();
                    }
                }
                Err(AppendError { written, error: e })
            }
        }
    }

    /// fdatasync, as redis_fsync on Linux.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// The file's size: what was there when opened plus everything appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file, for a background fsync.
    pub fn sync_handle(&self) -> Arc<File> {
        self.file.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_writes_base_incr_and_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("appendonlydir");
        let m = create(&dir, "appendonly.aof", true, |f| f.write_all(b"REDIS0010...")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap(),
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        assert_eq!(m.render(), std::fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap());
        assert_eq!(std::fs::read(dir.join("appendonly.aof.1.base.rdb")).unwrap(), b"REDIS0010...");
        assert_eq!(std::fs::read(dir.join("appendonly.aof.1.incr.aof")).unwrap(), b"");
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
    }

    #[test]
    fn failed_base_leaves_no_files_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let err = create(tmp.path(), "a.aof", true, |_| Err(std::io::Error::other("boom"))).unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn upgrade_conditions_are_redis_s() {
        let root = tempfile::tempdir().unwrap();
        let (work, dir) = (root.path(), root.path().join("appendonlydir"));
        let base = |name: &str| AofFile { name: name.into(), seq: 1, kind: FileKind::Base };
        assert!(!needs_upgrade(work, &dir, "a.aof", None), "no old file");
        std::fs::write(work.join("a.aof"), b"*1\r\n$4\r\nPING\r\n").unwrap();
        assert!(needs_upgrade(work, &dir, "a.aof", None), "no directory");
        std::fs::create_dir(&dir).unwrap();
        assert!(needs_upgrade(work, &dir, "a.aof", None), "no manifest");
        let history = AofFile { name: "x".into(), seq: 1, kind: FileKind::History };
        let empty = Manifest { base: None, incrs: vec![], history: vec![history] };
        assert!(needs_upgrade(work, &dir, "a.aof", Some(&empty)), "no base, no incr");
        let half = Manifest { base: Some(base("a.aof")), incrs: vec![], history: vec![] };
        assert!(needs_upgrade(work, &dir, "a.aof", Some(&half)), "manifest saved, file not moved");
        let other = Manifest { base: Some(base("a.aof.1.base.rdb")), incrs: vec![], history: vec![] };
        assert!(!needs_upgrade(work, &dir, "a.aof", Some(&other)));
        let with_incr = Manifest {
            base: None,
            incrs: vec![AofFile { name: "i".into(), seq: 1, kind: FileKind::Incr }],
            history: vec![],
        };
        assert!(!needs_upgrade(work, &dir, "a.aof", Some(&with_incr)));

        let m = upgrade(work, &dir, "a.aof", Some(empty)).unwrap();
        assert_eq!(m.render(), "file a.aof seq 1 type b\nfile x seq 1 type h\n");
        assert_eq!(std::fs::read_to_string(dir.join("a.aof.manifest")).unwrap(), m.render());
        assert!(dir.join("a.aof").is_file() && !work.join("a.aof").exists());
        assert!(!needs_upgrade(work, &dir, "a.aof", Some(&m)));
    }

    #[test]
    fn appends_and_counts_size() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.1.incr.aof");
        std::fs::write(&path, b"abc").unwrap();
        let mut f = IncrFile::open(&path).unwrap();
        assert_eq!(f.size(), 3);
        f.append(b"defg").unwrap();
        f.sync().unwrap();
        f.sync_handle().sync_data().unwrap();
        assert_eq!(f.size(), 7);
        assert_eq!(std::fs::read(&path).unwrap(), b"abcdefg");
    }

    #[test]
    fn a_short_write_is_truncated_away() {
        // /dev/full refuses every write with ENOSPC; a file with a size limit gives a short one.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.1.incr.aof");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut f = IncrFile::open(&path).unwrap();
        // Run in a child so that the limit and the signal disposition do not leak into other tests.
        // SAFETY: the test harness has other threads; the child only ignores SIGXFSZ (so the write
        // fails with EFBIG instead of killing it), lowers its own RLIMIT_FSIZE, writes through its
        // own copy of `f` and reads the file back: system calls and allocation, no logging, no
        // lock another thread could hold.
        let pid = unsafe {
            crate::util::sys::fork_child(|| {
                use nix::sys::resource::{setrlimit, Resource, RLIM_INFINITY};
                let limited = crate::util::sys::ignore_signal(crate::util::sys::Signal::SIGXFSZ).is_ok()
                    && setrlimit(Resource::RLIMIT_FSIZE, 16, RLIM_INFINITY).is_ok();
                let failed = f.append(b"abcdefghijkl").is_err();
                let ok = limited
                    && failed
                    && f.size() == 10
                    && std::fs::read(&path).map(|b| b == b"0123456789").unwrap_or(false);
                i32::from(!ok)
            })
        }
        .unwrap();
        let status = nix::sys::wait::waitpid(pid, None).unwrap();
        assert_eq!(status, crate::util::sys::WaitStatus::Exited(pid, 0));
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789");
    }
}

/// An append that failed: how much of it had gone in before the error (a short write, which
/// Redis logs in words of its own), and the error.
#[derive(Debug)]
pub struct AppendError {
    pub written: usize,
    pub error: std::io::Error,
}
