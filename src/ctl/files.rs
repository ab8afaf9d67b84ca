//! A config file and the files it includes, as redisctl edits them: find where a directive is in
//! effect, change it there, check the result with the server's own parser, and write atomically
//! under a lock (or print the diff).

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::config::document::ConfigDocument;
use crate::config::Config;

/// Where a directive's effective line is.
pub struct Found {
    pub file: PathBuf,
    pub line: usize,
    pub values: Vec<String>,
}

/// The main file and, in include order, every file it includes.
pub struct ConfSet {
    pub docs: Vec<ConfigDocument>,
}

/// An I/O error as the admin reads it: Rust's "(os error N)" suffix left out.
pub fn plain(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

pub fn io_error(path: &Path, e: &std::io::Error, writing: bool) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => format!(
            "cannot {} {}: permission denied (run redisctl as root, e.g. with sudo)",
            if writing { "write" } else { "read" },
            path.display()
        ),
        ErrorKind::NotFound => format!("{}: no such file", path.display()),
        _ => format!("{}: {}", path.display(), plain(e)),
    }
}

impl ConfSet {
    pub fn load(main: &Path) -> Result<ConfSet, String> {
        let mut docs = Vec::new();
        load_into(main, &mut docs, 0)?;
        Ok(ConfSet { docs })
    }

    /// The last active line of `name` (or an alias) across the files, as Redis reads them: later
    /// lines win, and an include's lines count where the include line stands.
    pub fn find(&self, name: &str, aliases: &[&str]) -> Option<Found> {
        let mut found = None;
        self.walk(0, name, aliases, &mut found);
        found
    }

    /// Every active line of `name` (or an alias) across the files, in the order Redis reads them.
    pub fn find_all(&self, name: &str, aliases: &[&str]) -> Vec<Found> {
        let mut found = Vec::new();
        self.walk_all(0, name, aliases, &mut found, 0);
        found
    }

    fn walk(&self, idx: usize, name: &str, aliases: &[&str], found: &mut Option<Found>) {
        let mut all = Vec::new();
        self.walk_all(idx, name, aliases, &mut all, 0);
        *found = all.pop();
    }

    fn walk_all(&self, idx: usize, name: &str, aliases: &[&str], found: &mut Vec<Found>, depth: usize) {
        let doc = &self.docs[idx];
        let mut lines = doc.get_all(name, aliases).into_iter().peekable();
        for (line_no, directive, args) in doc.directives() {
            if directive == "include" {
                // ConfSet loaded each file once, so an include cycle would otherwise never end.
                if let Some(child) = args.first().and_then(|p| self.index_of(Path::new(p))).filter(|_| depth < 16) {
                    self.walk_all(child, name, aliases, found, depth + 1);
                }
                continue;
            }
            if let Some((l, v)) = lines.next_if(|(l, _)| *l == line_no) {
                found.push(Found { file: doc.path().to_path_buf(), line: l, values: v });
            }
        }
    }

    fn index_of(&self, p: &Path) -> Option<usize> {
        self.docs.iter().position(|d| d.path() == p)
    }

    pub fn doc_mut(&mut self, file: &Path) -> Option<&mut ConfigDocument> {
        self.docs.iter_mut().find(|d| d.path() == file)
    }
}

fn load_into(path: &Path, docs: &mut Vec<ConfigDocument>, depth: usize) -> Result<(), String> {
    if depth > 16 {
        return Err(format!("{}: includes nested too deeply", path.display()));
    }
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => return Err(io_error(path, &e, false)),
    };
    let text = String::from_utf8(text).map_err(|_| format!("{}: not a text file (invalid UTF-8)", path.display()))?;
    let doc = ConfigDocument::parse(path, &text);
    let includes: Vec<PathBuf> = doc
        .directives()
        .filter(|(_, d, a)| *d == "include" && !a.is_empty())
        .map(|(_, _, a)| PathBuf::from(&a[0]))
        .collect();
    docs.push(doc);
    for inc in includes {
        if !docs.iter().any(|d| d.path() == inc) {
            load_into(&inc, docs, depth + 1)?;
        }
    }
    Ok(())
}

/// Checks a file's text with the server's own parser; the error names file, line and reason.
pub fn check_text(path: &Path, text: &str) -> Result<(), String> {
    Config::validate(text).map(|_| ()).map_err(|e| {
        if e.line_no == 0 {
            format!("{}: {}", path.display(), e.reason)
        } else {
            format!("{}:{}: '{}': {}", path.display(), e.line_no, e.line, e.reason)
        }
    })
}

/// An exclusive lock serialising redisctl runs that edit files in one directory.
pub struct Lock {
    _file: nix::fcntl::Flock<File>,
}

pub fn lock_dir_of(path: &Path) -> Result<Lock, String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let lock_path = dir.join(".redisctl.lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| {
        let reason = if e.kind() == ErrorKind::PermissionDenied {
            "permission denied (run redisctl as root, e.g. with sudo)".to_string()
        } else {
            plain(&e)
        };
        format!("cannot edit {}: creating the lock file {} failed: {reason}", path.display(), lock_path.display())
    })?;
    // Released when the lock is dropped (and by the kernel when the process ends).
    let file = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, errno)| {
        format!("{}: cannot take the lock: {}", lock_path.display(), plain(&std::io::Error::from(errno)))
    })?;
    Ok(Lock { _file: file })
}

/// A unified diff of one file's edit, for --dry-run.
pub fn unified_diff(path: &Path, before: &str, after: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(before, after).unified_diff().context_radius(3).header(&name, &name).to_string()
}
