//! Loading an RDB file: at start-up while clients are told `-LOADING` (the file is parsed without
//! the keyspace lock and keys go in in batches), and for DEBUG RELOAD (under the lock). Keys that
//! have already expired are skipped, as a master does.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::rdb::{self, Event, LoadError, LoadedKey};
pub use super::state::Loading;
use crate::keyspace::{Db, Ttl};
use crate::server::scripts::Libraries;
use crate::server::state::State;
use crate::server::Server;
use crate::types::EncodingLimits;

/// Keys handed over per hold of the keyspace lock while loading at start-up.
const BATCH: usize = 1024;

/// How often a load reports its progress to systemd, and how much more start-up time each report
/// asks for (EXTEND_TIMEOUT_USEC): a load that keeps making progress is never timed out.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
const PROGRESS_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Counts the bytes read, for the progress figures.
struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What a load found: keys loaded and keys skipped as expired.
type Counts = (u64, u64);

/// The replication history an RDB file records (aux fields repl-id, repl-offset, repl-stream-db).
#[derive(Default, Debug, Clone)]
pub struct ReplInfo {
    pub id: Option<String>,
    pub offset: Option<i64>,
    pub stream_db: Option<i64>,
}

impl ReplInfo {
    /// (id, offset) when the file has a complete one (rsi_is_valid).
    pub fn valid(&self) -> Option<(String, u64)> {
        match (&self.id, self.offset, self.stream_db) {
            (Some(id), Some(off), Some(db)) if id.len() == 40 && off >= 0 && db >= 0 => Some((id.clone(), off as u64)),
            _ => None,
        }
    }

    fn record(&mut self, key: &[u8], value: &[u8]) {
        let text = String::from_utf8_lossy(value);
        match key {
            b"repl-id" => self.id = Some(text.into_owned()),
            b"repl-offset" => self.offset = text.parse().ok(),
            b"repl-stream-db" => self.stream_db = text.parse().ok(),
            _ => {}
        }
    }
}

/// What becomes of the function libraries a file holds. They are compiled into a set of their
/// own as they are read and take their place once the whole file has loaded, so that a load that
/// fails leaves the current libraries as they were.
#[derive(Clone, Copy)]
enum Functions {
    /// They join the current ones (start-up, an AOF's preamble, DEBUG RELOAD); with `replace` a
    /// library of the file replaces the current one of the same name (DEBUG RELOAD MERGE, as
    /// Redis's RDBFLAGS_ALLOW_DUP).
    Join { replace: bool },
    /// They replace the current ones (a replica's full sync: the master's libraries).
    Replace,
}

/// Parses `path`, handing live keys to `insert` in batches.
fn parse(
    path: &Path,
    limits: &EncodingLimits,
    databases: usize,
    key_delay_us: u64,
    keep_expired: bool,
    read: Arc<AtomicU64>,
    insert: impl FnMut(Batch) -> Result<(), LoadError>,
) -> Result<(Counts, ReplInfo), LoadFailure> {
    let file = File::open(path).map_err(|e| LoadFailure {
        text: format!("{}: {}", path.display(), crate::util::sys::error_text(&e)),
        truncated: false,
    })?;
    let input = std::io::BufReader::with_capacity(1 << 16, file);
    let opts = ParseOptions { limits, databases, key_delay_us, keep_expired };
    parse_input(input, &path.display().to_string(), opts, read, insert)
}

/// Why a load failed: the text to report, and whether the file simply ended too soon (which
/// Redis reports in words of its own at start-up).
#[derive(Debug)]
pub struct LoadFailure {
    pub text: String,
    pub truncated: bool,
}

impl From<String> for LoadFailure {
    fn from(text: String) -> LoadFailure {
        LoadFailure { text, truncated: false }
    }
}

impl From<LoadFailure> for String {
    fn from(f: LoadFailure) -> String {
        f.text
    }
}

/// How a load treats what it reads.
#[derive(Clone, Copy)]
struct ParseOptions<'a> {
    limits: &'a EncodingLimits,
    databases: usize,
    key_delay_us: u64,
    keep_expired: bool,
}

/// Parses an RDB stream named `name` (for errors), handing live keys to `insert` in batches.
fn parse_input<R: Read>(
    input: R,
    name: &str,
    opts: ParseOptions,
    read: Arc<AtomicU64>,
    mut insert: impl FnMut(Batch) -> Result<(), LoadError>,
) -> Result<(Counts, ReplInfo), LoadFailure> {
    let ParseOptions { limits, databases, key_delay_us, keep_expired } = opts;
    let input = CountingReader { inner: input, read };
    let now = crate::util::time::unix_ms();
    let (mut loaded, mut expired) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(BATCH);
    let mut repl = ReplInfo::default();
    let result = rdb::load(input, limits, |ev| {
        let k = match ev {
            Event::Key(k) => k,
            Event::Aux { key, value } => {
                log_aux(&key, &value);
                repl.record(&key, &value);
                return Ok(());
            }
            // The file says how many keys a database holds: room for them, before they come (up
            // to RESERVE_MAX: the count is only the file's word).
            Event::ResizeDb { db, keys, .. } if db < databases => {
                insert(Batch::Keys(Keys::Reserve(db, keys.min(RESERVE_MAX) as usize)))?;
                return Ok(());
            }
            Event::Function(code) => return insert(Batch::Function(Bytes::from(code))),
            _ => return Ok(()),
        };
        if k.db >= databases {
            return Err(LoadError {
                offset: 0,
                message: format!("the file holds database {} but this server has {databases} databases", k.db),
            });
        }
        if !keep_expired && k.expire_at_ms.is_some_and(|at| at <= now) {
            expired += 1;
            return Ok(());
        }
        loaded += 1;
        batch.push(k);
        if key_delay_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(key_delay_us));
        }
        if batch.len() >= BATCH {
            insert(Batch::Keys(Keys::Loaded(std::mem::take(&mut batch))))?;
        }
        Ok(())
    })
    .and_then(|()| insert(Batch::Keys(Keys::Loaded(batch))));
    result.map_err(|e| LoadFailure { truncated: e.message == rdb::TRUNCATED, text: format!("{name}: {e}") })?;
    Ok(((loaded, expired), repl))
}

/// What rdbLoadRio logs of the auxiliary fields as it reads them (so a file cut short shows those
/// before the cut, as in Redis).
fn log_aux(key: &[u8], value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    // strtol/strtoll: the leading number, 0 without one.
    let number = || -> i64 {
        let t = text.trim_start();
        let end = t.char_indices().find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))));
        t[..end.map_or(t.len(), |(i, _)| i)].parse().unwrap_or(0)
    };
    match key.to_ascii_lowercase().as_slice() {
        b"redis-ver" => tracing::info!("Loading RDB produced by version {text}"),
        b"ctime" => {
            let age = (crate::util::time::unix_secs() - number()).max(0);
            tracing::info!("RDB age {age} seconds");
        }
        b"used-mem" => tracing::info!("RDB memory usage when created {:.2} Mb", number() as f64 / (1024.0 * 1024.0)),
        b"aof-preamble" if number() != 0 => tracing::info!("RDB has an AOF tail"),
        b"aof-base" if number() != 0 => tracing::info!("RDB is base AOF"),
        _ => {}
    }
}

/// The most keys a RESIZEDB record makes room for before they come. Its count is read before any
/// key, so a damaged or hostile file could otherwise make the server reserve a table for 2^64
/// keys (an abort); more keys than this still load, the table growing
/// as they arrive.
const RESERVE_MAX: u64 = 1 << 20;

/// What the parser hands over: keys, or a function library.
enum Batch {
    Keys(Keys),
    Function(Bytes),
}

/// Room to make for a database's keys, or keys to put in place.
enum Keys {
    Reserve(usize, usize),
    Loaded(Vec<LoadedKey>),
}

/// Puts a batch in place: keys into the live databases, a library into `set`. An existing key
/// is an error unless `replace` (at start-up the keyspace is empty, so that is a key the file
/// holds twice: a damaged file).
fn insert_live(st: &mut State, set: &mut Libraries, batch: Batch, replace: bool) -> Result<(), LoadError> {
    match batch {
        Batch::Keys(keys) => insert_into(&mut st.dbs, keys, replace),
        Batch::Function(code) => load_function(st, set, &code, replace),
    }
}

/// rdbFunctionLoad: the library is compiled into `set`; one that fails (or collides with
/// another of the file) fails the load, like any corrupt data.
fn load_function(st: &mut State, set: &mut Libraries, code: &Bytes, replace: bool) -> Result<(), LoadError> {
    match st.scripts.load_into(set, code, replace) {
        Ok(_) => Ok(()),
        Err(e) => Err(LoadError { offset: 0, message: format!("Failed loading library, {e}") }),
    }
}

/// After a load: the file's libraries take their place, or, when it failed, are released.
fn install(st: &mut State, set: Libraries, how: Functions, loaded: bool) -> Result<(), String> {
    if !loaded {
        st.scripts.free_set(set);
        return Ok(());
    }
    let joined = match how {
        Functions::Join { replace } => st.scripts.join(set, replace),
        Functions::Replace => {
            st.scripts.flush_functions();
            st.scripts.join(set, false)
        }
    };
    joined.map_err(|e| format!("Failed loading library, {e}"))
}

fn insert_into(dbs: &mut [Db], keys: Keys, replace: bool) -> Result<(), LoadError> {
    let keys = match keys {
        Keys::Reserve(db, n) => {
            dbs[db].reserve(n);
            return Ok(());
        }
        Keys::Loaded(keys) => keys,
    };
    for k in keys {
        let ttl = k.expire_at_ms.map_or(Ttl::Clear, Ttl::At);
        if dbs[k.db].set(&k.key, k.value, ttl).is_some() && !replace {
            return Err(LoadError {
                offset: 0,
                message: format!("duplicate key '{}'", String::from_utf8_lossy(&k.key)),
            });
        }
    }
    Ok(())
}

fn finished(st: &mut State, counts: Counts) {
    // rdbLoadRio's line, for every load; the time taken is logged by those that show it
    // (loadDataFromDisk's "DB loaded from disk").
    tracing::info!("Done loading RDB, keys loaded: {}, keys expired: {}.", counts.0, counts.1);
    st.snapshots.last_load = counts;
}

/// DEBUG RELOAD's load, under the keyspace lock.
pub fn load_locked(st: &mut State, path: &Path, replace: bool) -> Result<(), String> {
    let (limits, databases) = (st.hot.encoding, st.dbs.len());
    let mut set = Libraries::default();
    let parsed =
        parse(path, &limits, databases, 0, false, Arc::default(), |batch| insert_live(st, &mut set, batch, replace));
    install(st, set, Functions::Join { replace }, parsed.is_ok())?;
    let (counts, _) = parsed?;
    finished(st, counts);
    Ok(())
}

/// The start-up load: clients that connect meanwhile are answered `-LOADING`. A missing file is
/// an empty dataset; a file that fails to load stops start-up, and stays as it is.
pub fn load_at_startup(server: &Arc<Server>, path: &Path) -> Result<(), String> {
    if !path.exists() {
        return Ok(());
    }
    let start = Instant::now();
    let repl = match load_batched(server, path, false, Functions::Join { replace: false }) {
        Ok(repl) => repl,
        // rdbLoadRio's eoferr, then rdbReportReadError (its source line included, as Redis
        // logs it). Redis's offset there is what its progress callback last saw, 0 under 2 MB.
        Err(f) if f.truncated => {
            tracing::warn!("Short read or OOM loading DB. Unrecoverable error, aborting now.");
            return Err(
                "Internal error in RDB reading offset 0, function at rdb.c:3249 -> Unexpected EOF reading RDB file"
                    .into(),
            );
        }
        Err(f) => return Err(format!("Fatal error loading the DB: {}. Exiting.", f.text)),
    };
    tracing::info!("DB loaded from disk: {:.3} seconds", start.elapsed().as_secs_f64());
    if let Some((id, offset)) = repl.valid() {
        crate::replication::restore_history(&mut server.lock(), id, offset);
    }
    Ok(())
}

/// Loads an RDB file (the dump, or an AOF's base) while other clients are served between
/// batches of keys; the caller ends the loading state once its whole dataset is in.
pub fn load_unlocked(server: &Arc<Server>, path: &Path) -> Result<(), String> {
    load_batched(server, path, false, Functions::Join { replace: false }).map(|_| ()).map_err(String::from)
}

/// A replica's load of its master's RDB: keys that have expired are kept, because a replica
/// deletes keys only when its master says so (and until then reports them missing).
pub fn load_from_master(server: &Arc<Server>, path: &Path) -> Result<ReplInfo, String> {
    load_batched(server, path, true, Functions::Replace).map_err(String::from)
}

fn load_batched(
    server: &Arc<Server>,
    path: &Path,
    keep_expired: bool,
    how: Functions,
) -> Result<ReplInfo, LoadFailure> {
    let meta = std::fs::metadata(path).map_err(|e| LoadFailure {
        text: format!("{}: {}", path.display(), crate::util::sys::error_text(&e)),
        truncated: false,
    })?;

    let read = Arc::new(AtomicU64::new(0));
    let (limits, databases, key_delay_us) = {
        let mut st = server.lock();
        st.loading = Some(Loading {
            started: crate::util::time::unix_secs(),
            total_bytes: meta.len(),
            read_bytes: read.clone(),
        });
        // key-load-delay: a pause per key, so tests can watch a load in progress.
        (st.hot.encoding, st.dbs.len(), u64::try_from(st.config.int(crate::ckey!("key-load-delay"))).unwrap_or(0))
    };
    let mut reported = Instant::now();
    crate::systemd::progress("Loading the dataset: 0%", PROGRESS_GRACE);
    let mut set = Libraries::default();
    let parsed = parse(path, &limits, databases, key_delay_us, keep_expired, read, |batch| {
        let mut st = server.lock();
        if reported.elapsed() >= PROGRESS_EVERY {
            reported = Instant::now();
            if let Some(l) = &st.loading {
                crate::systemd::progress(&format!("Loading the dataset: {:.0}%", l.percent()), PROGRESS_GRACE);
            }
        }
        insert_live(&mut st, &mut set, batch, false)
    });
    install(&mut server.lock(), set, how, parsed.is_ok())?;
    let (counts, repl) = parsed?;
    finished(&mut server.lock(), counts);
    Ok(repl)
}

/// A replica's diskless load (repl-diskless-load): the master's RDB straight from the socket.
/// Into the live databases (on-empty-db: clients are told -LOADING meanwhile), or, with
/// `detached`, into databases of their own that replace the live ones at the end (swapdb: clients
/// keep reading the old data meanwhile).
pub fn load_from_master_stream<R: Read>(
    server: &Arc<Server>,
    input: R,
    detached: Option<&mut Vec<Db>>,
) -> Result<ReplInfo, String> {
    let read = Arc::new(AtomicU64::new(0));
    let (limits, databases) = {
        let mut st = server.lock();
        if detached.is_none() {
            st.loading =
                Some(Loading { started: crate::util::time::unix_secs(), total_bytes: 0, read_bytes: read.clone() });
        }
        (st.hot.encoding, st.dbs.len())
    };
    let opts = ParseOptions { limits: &limits, databases, key_delay_us: 0, keep_expired: true };
    let mut set = Libraries::default();
    let parsed = match detached {
        // The libraries too are loaded aside, and replace the current ones only at the end.
        Some(dbs) => parse_input(input, "the master's RDB", opts, read, |batch| match batch {
            Batch::Keys(keys) => insert_into(dbs, keys, false),
            Batch::Function(code) => load_function(&mut server.lock(), &mut set, &code, false),
        }),
        None => parse_input(input, "the master's RDB", opts, read, |batch| {
            insert_live(&mut server.lock(), &mut set, batch, false)
        }),
    };
    install(&mut server.lock(), set, Functions::Replace, parsed.is_ok())?;
    let (counts, repl) = parsed?;
    finished(&mut server.lock(), counts);
    Ok(repl)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RESIZEDB 2^40 keys in database 0: the room made is bounded, not an abort.
    #[test]
    fn a_huge_resizedb_count_reserves_a_bounded_table() {
        let mut file = b"REDIS0010".to_vec();
        // SELECTDB 0, RESIZEDB with a 64-bit length (0x81)
        file.extend_from_slice(&[0xFE, 0, 0xFB, 0x81]);
        file.extend_from_slice(&(1u64 << 40).to_be_bytes());
        file.push(0);
        let limits = EncodingLimits::default();
        let opts = ParseOptions { limits: &limits, databases: 16, key_delay_us: 0, keep_expired: true };
        let mut reserved = Vec::new();
        let _ = parse_input(&file[..], "test", opts, Arc::default(), |batch| {
            if let Batch::Keys(Keys::Reserve(db, n)) = batch {
                reserved.push((db, n));
            }
            Ok(())
        });
        assert_eq!(reserved, vec![(0, RESERVE_MAX as usize)]);
    }
}
