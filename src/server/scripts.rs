//! Scripting's server state: EVAL's script cache and Lua VM, the function libraries and their
//! VM (functions.c's library context), and the script running now, which SCRIPT KILL,
//! FUNCTION KILL, FUNCTION STATS and a busy server's replies look at.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::Mutex;

use crate::protocol::Reply;
use crate::scripting::{parse_library_metadata, EvalVm, FunctionHandle, FunctionVm, Rand48, ScriptFlags};

/// How long a library's top-level code may run in FUNCTION LOAD (functions.c's load timeout).
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// A script of EVAL's cache: its body (for replication of EVALSHA's effects nothing else is
/// needed) and its shebang flags. The body is a copy of its own: the argument it came in may
/// share (and would keep alive) the whole buffer the client's input was read into.
pub struct CachedScript {
    pub body: Box<[u8]>,
    pub flags: ScriptFlags,
}

/// A cached script's SHA1 as the cache keys it: the 20 bytes, not the 40 hex digits (a third
/// of what a cached `return 1` costs otherwise).
pub type ShaKey = [u8; 20];

/// The key of a SHA1 given in hex (any case); None if it is not 40 hex digits, which no
/// cached script has.
pub fn sha_key(hex: &[u8]) -> Option<ShaKey> {
    // Each byte's value as a hex digit, 0xff for a byte that is none: EVALSHA decodes its
    // argument twice per call (dispatch's flags, then the run), so this is on its hot path.
    const NIBBLE: [u8; 256] = {
        let mut t = [0xffu8; 256];
        let mut c = 0;
        while c < 256 {
            t[c] = match c as u8 {
                b'0'..=b'9' => c as u8 - b'0',
                b'a'..=b'f' => c as u8 - b'a' + 10,
                b'A'..=b'F' => c as u8 - b'A' + 10,
                _ => 0xff,
            };
            c += 1;
        }
        t
    };
    let hex: &[u8; 40] = hex.try_into().ok()?;
    let mut key = [0u8; 20];
    let mut bad = 0u8;
    for (k, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
        bad |= hi | lo;
        *k = (hi << 4) | (lo & 0x0f);
    }
    // Only an invalid byte sets the high bits.
    (bad & 0xf0 == 0).then_some(key)
}

pub struct Scripts {
    /// math.random's generator, one per process as in Redis, shared by both VMs.
    rand: Arc<Mutex<Rand48>>,
    eval_vm: Option<EvalVm>,
    /// SHA1 -> script: what EVAL compiled and SCRIPT LOAD loaded.
    cache: HashMap<ShaKey, CachedScript>,
    /// The last SHA1 `cached` decoded, as given and as a key.
    last_decoded: std::cell::Cell<Option<([u8; 40], ShaKey)>>,
    /// The bytes the cache holds (used_memory_scripts_eval).
    pub cache_bytes: u64,
    function_vm: Option<FunctionVm>,
    pub libraries: Libraries,
    /// The script running now, if any.
    pub running: Option<Running>,
    /// Forked debugging sessions (SCRIPT DEBUG YES) still running.
    pub debug_children: Vec<nix::unistd::Pid>,
    /// The scripts' own client, kept between runs (taken while a script runs).
    pub client: Option<Box<super::session::Session>>,
}

/// The script being run: what FUNCTION STATS shows and SCRIPT/FUNCTION KILL decide on.
pub struct Running {
    /// EVAL (SCRIPT KILL applies) or FCALL (FUNCTION KILL applies).
    pub eval: bool,
    /// The SHA1 of the script or the name of the function.
    pub name: String,
    /// The caller's command line, copied when the script turns busy: only other clients read it
    /// (FUNCTION STATS), and only a busy script lets them run.
    pub command: Vec<Bytes>,
    pub started: Instant,
    /// It has written: killing it would leave half its effects (UNKILLABLE).
    pub wrote: bool,
    /// Sent by this replica's master: never killed.
    pub from_master: bool,
    /// SCRIPT KILL / FUNCTION KILL asked for its end.
    pub kill: bool,
    /// SHUTDOWN NOSAVE came meanwhile: the server stops when the script has ended.
    pub shutdown_nosave: bool,
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts {
            rand: Arc::new(Mutex::new(Rand48::default())),
            eval_vm: None,
            cache: HashMap::new(),
            last_decoded: std::cell::Cell::new(None),
            cache_bytes: 0,
            function_vm: None,
            libraries: Libraries::default(),
            running: None,
            debug_children: Vec::new(),
            client: None,
        }
    }
}

/// What one cached script costs in used_memory_scripts_eval: the SHA1 key and the body, each
/// with its allocation header as Redis counts sds strings.
fn cached_size(body: &[u8]) -> u64 {
    (40 + 8 + body.len() + 16) as u64
}

impl Scripts {
    /// EVAL's VM, created on first use (Redis creates it at start-up; a Sentinel never needs it).
    pub fn eval_vm(&mut self) -> Result<&mut EvalVm, Reply> {
        if self.eval_vm.is_none() {
            let vm = EvalVm::new(self.rand.clone()).map_err(|e| Reply::error(format!("ERR {e}")))?;
            self.eval_vm = Some(vm);
        }
        self.eval_vm.as_mut().ok_or_else(|| Reply::error("ERR the Lua VM is not available"))
    }

    /// EVAL's VM, out of the state while a script runs in it (the script's commands need the
    /// state); `put_eval_vm` returns it.
    pub fn take_eval_vm(&mut self) -> Result<EvalVm, Reply> {
        self.eval_vm()?;
        self.eval_vm.take().ok_or_else(|| Reply::error("ERR the Lua VM is not available"))
    }

    pub fn put_eval_vm(&mut self, vm: EvalVm) {
        self.eval_vm = Some(vm);
    }

    pub fn take_function_vm(&mut self) -> Result<FunctionVm, String> {
        self.function_vm()?;
        self.function_vm.take().ok_or_else(|| "the Lua VM is not available".to_string())
    }

    pub fn put_function_vm(&mut self, vm: FunctionVm) {
        self.function_vm = Some(vm);
    }

    pub fn function_vm(&mut self) -> Result<&mut FunctionVm, String> {
        if self.function_vm.is_none() {
            self.function_vm = Some(FunctionVm::new(self.rand.clone())?);
        }
        self.function_vm.as_mut().ok_or_else(|| "the Lua VM is not available".to_string())
    }

    /// The cached script of a SHA1 given in hex (any case).
    pub fn cached(&self, sha: &[u8]) -> Option<&CachedScript> {
        // EVALSHA looks its script up twice (dispatch's flags, then the run): the second
        // lookup reuses the first one's decoding.
        let hex: &[u8; 40] = sha.try_into().ok()?;
        let key = match self.last_decoded.get() {
            Some((last, key)) if last == *hex => key,
            _ => {
                let key = sha_key(hex)?;
                self.last_decoded.set(Some((*hex, key)));
                key
            }
        };
        self.cache.get(&key)
    }

    /// How many scripts the cache holds (number_of_cached_scripts).
    pub fn cached_count(&self) -> usize {
        self.cache.len()
    }

    /// luaCreateFunction: compiles `body` into EVAL's VM and caches it; the SHA1, or the error
    /// reply (bad shebang, syntax error).
    pub fn create_eval_script(&mut self, body: &[u8]) -> Result<(String, ScriptFlags), Reply> {
        let compiled = self.eval_vm()?.compile(body)?;
        let key = sha_key(compiled.sha.as_bytes()).ok_or_else(|| Reply::error("ERR a script's SHA1 is not hex"))?;
        if let hashbrown::hash_map::Entry::Vacant(slot) = self.cache.entry(key) {
            self.cache_bytes += cached_size(body);
            slot.insert(CachedScript { body: body.into(), flags: compiled.flags });
        }
        Ok((compiled.sha, compiled.flags))
    }

    /// SCRIPT FLUSH: the cache and EVAL's VM go; the next EVAL starts a fresh VM.
    pub fn flush_eval(&mut self) {
        self.cache = HashMap::new();
        self.cache_bytes = 0;
        self.eval_vm = None;
    }

    /// used_memory_lua / used_memory_vm_eval: what EVAL's VM holds (before its first script,
    /// what Redis reports for its fresh VM).
    pub fn eval_vm_memory(&self) -> u64 {
        self.eval_vm.as_ref().map_or(31744, |vm| vm.memory())
    }

    /// used_memory_vm_functions
    pub fn function_vm_memory(&self) -> u64 {
        self.function_vm.as_ref().map_or(32768, |vm| vm.memory())
    }

    /// From the cron: forked debugging sessions that ended are reaped.
    pub fn reap_debug_children(&mut self) {
        self.debug_children.retain(|pid| crate::util::sys::try_reap(*pid).is_none());
    }

    /// At shutdown (ldbKillForkedSessions): forked debugging sessions end with the server.
    pub fn kill_debug_children(&mut self) {
        for pid in self.debug_children.drain(..) {
            tracing::warn!("Killing debugging session {pid}");
            crate::util::sys::kill_and_reap(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }

    /// FUNCTION LOAD [REPLACE]: the library's name, or the error text (after "ERR ").
    pub fn load_library(&mut self, code: &Bytes, replace: bool) -> Result<Bytes, String> {
        self.function_vm()?;
        let Scripts { function_vm: Some(vm), libraries, .. } = self else { return Err("no VM".into()) };
        // The library keeps its code: a copy, not a slice of the read buffer it came in.
        libraries.create(vm, &Bytes::copy_from_slice(code), replace)
    }

    /// Compiles `code` into a set of its own (FUNCTION RESTORE, an RDB's functions), to be
    /// joined to the current libraries afterwards.
    pub fn load_into(&mut self, set: &mut Libraries, code: &Bytes, replace: bool) -> Result<Bytes, String> {
        let vm = self.function_vm()?;
        set.create(vm, code, replace)
    }

    /// FUNCTION DELETE: false if there is no such library.
    pub fn delete_library(&mut self, name: &[u8]) -> bool {
        let Some(lib) = self.libraries.unlink(name) else { return false };
        if let Ok(vm) = self.function_vm() {
            lib.free(vm);
        }
        true
    }

    /// FUNCTION FLUSH, FUNCTION RESTORE FLUSH, a replica's full sync.
    pub fn flush_functions(&mut self) {
        let libraries = std::mem::take(&mut self.libraries);
        self.free_set(libraries);
    }

    /// Releases a set's functions from the VM (a restore that failed, a flushed set).
    pub fn free_set(&mut self, set: Libraries) {
        if let Ok(vm) = self.function_vm() {
            for (_, lib) in set.libraries {
                lib.free(vm);
            }
        }
    }

    /// FUNCTION RESTORE APPEND|REPLACE (libraryJoin): every library of `set` joins the current
    /// ones, or none does.
    pub fn join(&mut self, set: Libraries, replace: bool) -> Result<(), String> {
        let mut replaced = Vec::new();
        for name in set.libraries.keys() {
            if self.libraries.libraries.contains_key(name) {
                if !replace {
                    for lib in replaced {
                        self.libraries.link(lib);
                    }
                    let err = format!("Library {} already exists", String::from_utf8_lossy(name));
                    self.free_set(set);
                    return Err(err);
                }
                if let Some(old) = self.libraries.unlink(name) {
                    replaced.push(old);
                }
            }
        }
        let collision = set
            .libraries
            .values()
            .flat_map(|l| l.functions.iter())
            .find(|f| self.libraries.function(&f.name).is_some());
        if let Some(f) = collision {
            let err = format!("Function {} already exists", String::from_utf8_lossy(&f.name));
            for lib in replaced {
                self.libraries.link(lib);
            }
            self.free_set(set);
            return Err(err);
        }
        for (_, lib) in set.libraries {
            self.libraries.link(lib);
        }
        if let Ok(vm) = self.function_vm() {
            for lib in replaced {
                lib.free(vm);
            }
        }
        Ok(())
    }

    /// used_memory_functions (functionsMemoryOverhead): the libraries' names, codes and
    /// function entries as Redis counts them.
    pub fn functions_overhead(&self) -> u64 {
        let per_lib: u64 = self
            .libraries
            .libraries
            .values()
            .map(|l| {
                (l.name.len() + l.code.len() + 64 + l.functions.iter().map(|f| f.name.len() + 48).sum::<usize>()) as u64
            })
            .sum();
        184 + per_lib
    }
}

/// A library of FUNCTION LOAD: its code as given (with the `#!lua` line) and its functions.
pub struct Library {
    pub name: Bytes,
    pub engine: &'static str,
    pub code: Bytes,
    pub functions: Vec<Function>,
}

#[derive(Clone)]
pub struct Function {
    pub name: Bytes,
    pub description: Option<Bytes>,
    pub flags: ScriptFlags,
    pub handle: FunctionHandle,
}

impl Library {
    fn free(self, vm: &mut FunctionVm) {
        for f in self.functions {
            vm.free_function(f.handle);
        }
    }
}

/// A set of libraries and the index of their functions (functionsLibCtx). Library names are
/// case-sensitive; function names are not (functions.c's dict types).
#[derive(Default)]
pub struct Libraries {
    pub libraries: HashMap<Bytes, Library>,
    /// Lowercased function name -> the function (a copy of its library's entry: FCALL finds
    /// it with one lookup).
    functions: HashMap<Vec<u8>, Function>,
}

impl Libraries {
    pub fn function(&self, name: &[u8]) -> Option<&Function> {
        // FCALL looks its function up twice (dispatch's flags, then the run): short names are
        // lower-cased on the stack.
        let mut buf = [0u8; 64];
        match buf.get_mut(..name.len()) {
            Some(lower) => {
                lower.copy_from_slice(name);
                lower.make_ascii_lowercase();
                self.functions.get(&*lower)
            }
            None => self.functions.get(&name.to_ascii_lowercase()),
        }
    }

    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    fn link(&mut self, lib: Library) {
        for f in &lib.functions {
            self.functions.insert(f.name.to_ascii_lowercase(), f.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &[u8]) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in &lib.functions {
            self.functions.remove(&f.name.to_ascii_lowercase());
        }
        Some(lib)
    }

    /// functionsCreateWithLibraryCtx: parses the metadata line, runs the code so that it
    /// registers its functions, and links the library unless a name collides.
    fn create(&mut self, vm: &mut FunctionVm, code: &Bytes, replace: bool) -> Result<Bytes, String> {
        let meta = parse_library_metadata(code)?;
        if !crate::scripting::function_vm::valid_name(&meta.name) {
            return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
        }
        if !meta.engine.eq_ignore_ascii_case(b"lua") {
            return Err(format!("Engine '{}' not found", String::from_utf8_lossy(&meta.engine)));
        }
        let name = Bytes::from(meta.name);
        let old = match self.libraries.contains_key(&name) {
            true if !replace => return Err(format!("Library '{}' already exists", String::from_utf8_lossy(&name))),
            true => self.unlink(&name),
            false => None,
        };
        let registered = match vm.load_library(&meta.code, LOAD_TIMEOUT) {
            Ok(r) => r,
            Err(e) => {
                if let Some(old) = old {
                    self.link(old);
                }
                return Err(e);
            }
        };
        let functions: Vec<Function> = registered
            .into_iter()
            .map(|f| Function {
                name: Bytes::from(f.name),
                description: f.description.map(Bytes::from),
                flags: f.flags,
                handle: f.handle,
            })
            .collect();
        let lib = Library { name: name.clone(), engine: "LUA", code: code.clone(), functions };
        if let Some(f) = lib.functions.iter().find(|f| self.function(&f.name).is_some()) {
            let err = format!("Function {} already exists", String::from_utf8_lossy(&f.name));
            lib.free(vm);
            if let Some(old) = old {
                self.link(old);
            }
            return Err(err);
        }
        self.link(lib);
        if let Some(old) = old {
            old.free(vm);
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::sha_key;

    #[test]
    fn sha_keys_from_hex_of_any_case_only() {
        let hex = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
        let key = sha_key(hex.as_bytes()).expect("valid");
        assert_eq!(key[0], 0xe0);
        assert_eq!(key[19], 0xdb);
        assert_eq!(sha_key(hex.to_ascii_uppercase().as_bytes()), Some(key));
        for bad in [
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8dg",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8d",
            " e0e1f9fabfc9d4800c877a703b823ac0578ff8d",
        ] {
            assert_eq!(sha_key(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(sha_key(&[0xffu8; 40]), None);
    }
}
