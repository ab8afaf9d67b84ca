//! The server's part of a crash report (Redis's printCrashReport): INFO, CLIENT LIST, the
//! current client with its arguments and the object its first key names, the modules (none) and
//! the config values Redis prints; and DEBUG SEGFAULT, PANIC, ASSERT and OOM, which crash.
//!
//! The crash reporter (crate::crash) calls [`report`] on the crashing thread. The server's state
//! is read only where that cannot block: through the command running on this thread (which holds
//! the state's lock: see [`enter`]), else with try_lock, else not at all.

use std::cell::Cell;
use std::sync::Arc;

use bytes::Bytes;

use super::super::Ctx;
use crate::crash::Part;
use crate::protocol::Reply;
use crate::server::session::Session;
use crate::server::Server;

thread_local! {
    /// The command this thread is running (Redis's server.current_client): its context and
    /// arguments, as raw pointers, read only by a crash report on this same thread.
    static CURRENT: Cell<Option<(*mut (), *const [Bytes])>> = const { Cell::new(None) };
}

/// Marks `ctx` as the command this thread runs until the returned guard is dropped.
pub struct Current {
    previous: Option<(*mut (), *const [Bytes])>,
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Called where a command starts (the command guard): a crash while it runs reports it as the
/// current client, and reads the state through it, since its thread holds the state's lock.
pub fn enter(ctx: &mut Ctx, args: &[Bytes]) -> Current {
    let ptr = ctx as *mut Ctx as *mut ();
    Current { previous: CURRENT.with(|c| c.replace(Some((ptr, args as *const [Bytes])))) }
}

/// Registers the report with the crash reporter, for this server.
pub fn install(server: &Arc<Server>) {
    let server = Arc::downgrade(server);
    crate::crash::set_reporter(Box::new(move || match server.upgrade() {
        Some(server) => report(&server),
        None => Vec::new(),
    }));
}

/// The sections after the stack trace, in Redis's order.
fn report(server: &Server) -> Vec<Part> {
    let mut parts = Vec::new();
    if let Some((ctx, args)) = CURRENT.with(Cell::get) {
        // SAFETY: set by `enter` on this thread for a command that is still running (the guard
        // resets it when the command returns), so the context and arguments are alive; this
        // thread is stopped in the crash report, so nothing else uses them while they are read.
        // The command's own &mut borrow is live further up the stack: reading through this
        // pointer is what Redis's report does (it reads server.current_client wherever the
        // crash came), tolerable only because the process ends right after.
        let (ctx, args) = unsafe { (&mut *(ctx as *mut Ctx), &*args) };
        sections(ctx, Some(args), &mut parts);
        return parts;
    }
    match server.state.try_lock() {
        Some(mut st) => {
            let mut session = Session::new(0, String::new());
            let mut ctx = Ctx {
                server,
                state: &mut st,
                session: &mut session,
                now_ms: crate::util::time::unix_ms(),
                clock: std::time::Instant::now(),
            };
            sections(&mut ctx, None, &mut parts);
        }
        None => parts.push(Part::Raw(
            "\n------ INFO OUTPUT ------\n(not available: another thread holds the server's state)\n".into(),
        )),
    }
    parts
}

fn sections(ctx: &mut Ctx, args: Option<&[Bytes]>, parts: &mut Vec<Part>) {
    // logServerInfo: INFO ALL, then CLIENT LIST.
    let info = super::super::info::TABLE[0]
        .handler
        .map(|h| h(ctx, &[Bytes::from_static(b"info"), Bytes::from_static(b"all")]));
    let info = match info {
        Some(Reply::Verbatim(_, text) | Reply::Bulk(text)) => String::from_utf8_lossy(&text).into_owned(),
        _ => String::new(),
    };
    parts.push(Part::Raw(format!("\n------ INFO OUTPUT ------\n{info}")));
    let mut ids: Vec<u64> = ctx.state.clients.keys().copied().collect();
    ids.sort_unstable();
    let mut clients = String::new();
    for id in ids {
        if let Some(line) = super::super::client_info_string(ctx.state, id, ctx.now_ms) {
            clients.push_str(&line);
            clients.push('\n');
        }
    }
    parts.push(Part::Raw(format!("\n------ CLIENT LIST OUTPUT ------\n{clients}")));
    // logCurrentClient.
    if let Some(args) = args {
        current_client(ctx, args, parts);
    }
    parts.push(Part::Raw("\n------ MODULES INFO OUTPUT ------\n".into()));
    // logConfigDebugInfo: the directives Redis flags DEBUG_CONFIG that we have (Redis prints
    // them in its dict's order, which is random; here in a fixed one).
    let mut config = String::from("\n------ CONFIG DEBUG OUTPUT ------\n");
    for name in DEBUG_CONFIG {
        if let Some((idx, _)) = crate::config::table::lookup(name) {
            // As CONFIG REWRITE writes it: memory in units (512mb), as Redis prints these.
            for value in ctx.state.config.rewrite_lines(idx) {
                config.push_str(&format!("{name} {}\n", value.join(" ")));
            }
        }
    }
    parts.push(Part::Raw(config));
}

/// Redis's DEBUG_CONFIG directives (getConfigDebugInfo).
const DEBUG_CONFIG: &[&str] = &[
    "repl-diskless-sync",
    "activedefrag",
    "lazyfree-lazy-eviction",
    "io-threads-do-reads",
    "repl-diskless-load",
    "sanitize-dump-payload",
    "io-threads",
    "replica-read-only",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-expire",
    "list-compress-depth",
    "proto-max-bulk-len",
    "lazyfree-lazy-user-flush",
    "slave-read-only",
    "client-query-buffer-limit",
    "lazyfree-lazy-server-del",
];

/// logCurrentClient: its CLIENT LIST line, its arguments (128 bytes of each), and the object
/// its first argument names in its database, if any.
fn current_client(ctx: &mut Ctx, args: &[Bytes], parts: &mut Vec<Part>) {
    let line = super::super::client_info_string(ctx.state, ctx.session.id, ctx.now_ms).unwrap_or_default();
    let mut text = format!("\n------ CURRENT CLIENT INFO ------\n{line}\n");
    for (j, a) in args.iter().enumerate() {
        text.push_str(&format!("argv[{j}]: '{}'\n", crate::util::splitargs::repr(&a[..a.len().min(128)])));
    }
    parts.push(Part::Raw(text));
    let Some(key) = args.get(1) else { return };
    let Some(e) = ctx.state.dbs.get(ctx.session.db).and_then(|db| db.get_raw(key)) else { return };
    let (kind, encoding) = object_codes(e.value());
    parts.push(Part::Warning(format!(
        "key '{}' found in DB containing the following object:",
        String::from_utf8_lossy(key)
    )));
    parts.extend(object_lines(kind, encoding).into_iter().map(Part::Warning));
}

/// serverLogObjectDebugInfo's lines.
fn object_lines(kind: u8, encoding: u8) -> Vec<String> {
    vec![format!("Object type: {kind}"), format!("Object encoding: {encoding}"), "Object refcount: 1".to_string()]
}

/// A value's OBJ_* type and OBJ_ENCODING_* numbers, as Redis's robj would carry them.
fn object_codes(v: &crate::keyspace::Value) -> (u8, u8) {
    let kind = crate::keyspace::digest::type_number(v) as u8;
    let encoding = match v.encoding() {
        "raw" => 0,
        "int" => 1,
        "hashtable" => 2,
        "linkedlist" => 4,
        "ziplist" => 5,
        "intset" => 6,
        "skiplist" => 7,
        "embstr" => 8,
        "quicklist" => 9,
        "stream" => 10,
        _ => 11, // listpack
    };
    (kind, encoding)
}

/// DEBUG SEGFAULT: a real invalid memory access, as Redis's: a write to a page mapped read-only,
/// so the kernel raises SIGSEGV (si_code SEGV_ACCERR) at the faulting instruction and the
/// handler reports the address and the instruction, as for any bug.
pub fn segfault() -> Reply {
    // SAFETY: mmap of one anonymous private page has no preconditions.
    let page = unsafe {
        libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    };
    if page != libc::MAP_FAILED {
        // SAFETY: deliberately not safe: the page is mapped read-only, so this write faults
        // (SIGSEGV) and the crash handler ends the process. That is DEBUG SEGFAULT's purpose;
        // write_volatile keeps the compiler from removing or reordering the store.
        unsafe { std::ptr::write_volatile(page as *mut u8, b'x') };
    }
    // mmap failed, or the write did not fault: the signal itself, so the command still crashes.
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSEGV);
    Reply::OK
}

/// DEBUG PANIC: serverPanic's report with Redis's message.
pub fn panic() -> ! {
    let now = crate::util::time::unix_ms() / 1000;
    crate::crash::server_panic(&format!("DEBUG PANIC called at Unix time {now}"), file!(), line!())
}

/// DEBUG ASSERT: serverAssertWithInfo(c, c->argv[0], 1 == 2): the client's context, the
/// object argv[0] (a string), then the failed assertion.
pub fn assert(ctx: &mut Ctx, args: &[Bytes]) -> ! {
    let client = ctx.state.clients.get(&ctx.session.id);
    let unix = client.is_some_and(|c| c.is_unix);
    let fd = client.map_or(-1, |c| c.fd);
    // CLIENT_UNIX_SOCKET and CLIENT_MULTI, the flags a client running DEBUG can have here.
    let flags = if unix { 1u64 << 11 } else { 0 } | if ctx.session.in_exec { 1 << 3 } else { 0 };
    let mut lines = vec![
        "=== ASSERTION FAILED CLIENT CONTEXT ===".to_string(),
        format!("client->flags = {flags}"),
        format!("client->conn = fd={fd}"),
        format!("client->argc = {}", args.len()),
    ];
    for (j, a) in args.iter().enumerate() {
        lines.push(format!("client->argv[{j}] = \"{}\" (refcount: 1)", String::from_utf8_lossy(a)));
    }
    lines.push("=== ASSERTION FAILED OBJECT CONTEXT ===".to_string());
    // argv[0] is a string object: embstr up to 44 bytes, raw beyond, as Redis creates it.
    lines.extend(object_lines(0, if args[0].len() <= 44 { 8 } else { 0 }));
    crate::crash::assert_failed(&lines, "1 == 2", file!(), line!())
}

/// DEBUG OOM: an allocation of SIZE_MAX/2 bytes, which the allocator cannot serve, then what
/// Redis's out-of-memory handler does (the OOM line and a panic).
pub fn oom() -> Reply {
    let size = usize::MAX / 2;
    match std::alloc::Layout::from_size_align(size, 1) {
        Ok(layout) => {
            // SAFETY: the layout has a non-zero size; a non-null block is freed at once.
            // black_box: an allocation that is freed unused may be elided by the optimiser,
            // which then takes it to have succeeded (DEBUG OOM answered OK in one build).
            let p = std::hint::black_box(unsafe { std::alloc::alloc(layout) });
            if p.is_null() {
                crate::crash::out_of_memory(size);
            }
            // SAFETY: allocated above with this layout.
            unsafe { std::alloc::dealloc(p, layout) };
            Reply::OK
        }
        Err(_) => crate::crash::out_of_memory(size),
    }
}
