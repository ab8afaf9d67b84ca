//! The Lua scripting engine of EVAL and FUNCTION: Redis 7.0.15's own Lua 5.1 (deps/lua-src), set
//! up as Redis sets up its VM, with the `redis` API, Redis's cjson, cmsgpack, struct and bit
//! libraries, and the conversions between replies and Lua values. It knows nothing of the
//! server: the commands layer hands each run a [`ScriptHost`] that executes `redis.call`.
//!
//! How the commands layer drives it:
//! - one `Arc<Mutex<Rand48>>` shared by an [`EvalVm`] and a [`FunctionVm`] (Redis has one
//!   math.random generator per process);
//! - EVAL: [`EvalVm::compile`] (shebang flags, or the exact error reply) then [`EvalVm::run`]
//!   with the keys, args, a [`ScriptHost`] and [`RunOptions`] (the caller's protocol, whether
//!   the kill hook polls); EVALSHA: `run` alone (NOSCRIPT if not compiled). The commands layer
//!   keeps the script cache (SHA1 -> body and flags, for SCRIPT EXISTS, replication and INFO);
//!   SCRIPT FLUSH replaces the EvalVm;
//! - FUNCTION LOAD: [`parse_library_metadata`], then [`FunctionVm::load_library`] returns the
//!   registered functions (name, description, flags, handle); FCALL: [`FunctionVm::call`];
//!   FUNCTION DELETE/FLUSH: [`FunctionVm::free_function`] per function;
//! - SCRIPT DEBUG YES|SYNC: the next EVAL runs inside an [`LdbSession`] (the debugger, see
//!   [`ldb`] for the sequence: start the session, do EVAL with [`EvalVm::run_debugged`], end
//!   the session, then write EVAL's reply and close the connection);
//! - INFO: `memory()` of each VM.

mod api;
mod convert;
mod ffi;
pub mod flags;
pub mod function_vm;
pub mod ldb;
mod lua_alloc;
pub mod rand;
mod sandbox;
pub mod vm;

use parking_lot::Mutex;

pub use api::{REDIS_VERSION, REDIS_VERSION_NUM};
pub use convert::c_double_to_long_long;
pub use flags::{parse_shebang, ScriptFlags};
pub use function_vm::{parse_library_metadata, FunctionHandle, FunctionVm, LibraryMetadata, RegisteredFunction};
pub use ldb::{LdbIo, LdbSession, StreamIo};
pub use rand::Rand48;
pub use vm::{sha1_hex, CompiledScript, EvalVm, RunOptions};

use crate::protocol::Reply;

/// Which of AOF and replicas get the script's effects (redis.set_repl).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplFlags {
    pub aof: bool,
    pub replicas: bool,
}

/// What a running script needs from the server.
pub trait ScriptHost {
    /// Runs one command of redis.call / redis.pcall and returns its reply as a client speaking
    /// `resp` (the script's redis.setresp, 2 by default) would get it. Refusals (unknown
    /// command, not allowed from scripts, write in a read-only script, ACL, ...) are
    /// [`Reply::Error`]s with their code, e.g. "ERR Unknown Redis command called from script".
    fn call(&mut self, argv: Vec<Vec<u8>>, resp: u8) -> Reply;

    /// redis.acl_check_cmd: whether the script's user may run `argv`; None for an unknown
    /// command.
    fn acl_check(&mut self, argv: &[Vec<u8>]) -> Option<bool>;

    /// redis.set_repl
    fn set_repl(&mut self, flags: ReplFlags);

    /// Polled every 100,000 Lua instructions of a killable run: true aborts the script with
    /// "Script killed by user with SCRIPT KILL..." (SCRIPT KILL, FUNCTION KILL, SHUTDOWN
    /// NOSAVE); the host answers other clients (BUSY) from here.
    fn should_kill(&mut self) -> bool {
        false
    }
}

/// The state of one script run, reachable from the C functions through the registry.
pub(crate) struct RunCtx<'a> {
    host: &'a mut dyn ScriptHost,
    /// The script's protocol, changed by redis.setresp.
    resp: u8,
    rand: &'a Mutex<Rand48>,
    killed: bool,
    /// The debugging session, when the run is debugged (SCRIPT DEBUG).
    ldb: Option<ldb::LdbLink<'a>>,
}

#[cfg(test)]
pub(crate) mod tests;
