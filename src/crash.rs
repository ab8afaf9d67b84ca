//! The crash reporter: Redis's bug report (debug.c) when the process dies of a fatal signal
//! (sigsegvHandler), a failed assertion (_serverAssert), a panic (_serverPanic, and a Rust panic
//! of the main thread that escapes every guard) or an allocation that cannot be served
//! (redisOutOfMemoryHandler). A Rust panic in a task of the runtime (a connection, the cron) is
//! logged with its trace and ends that task only: a connection must never take the server down.
//!
//! It writes, in Redis's words and order: the START banner, the cause, the stack trace, then what
//! the server registered with [`set_reporter`] (INFO, CLIENT LIST, the current client, the config
//! values Redis prints; this layer knows nothing of the server), the END banner, and ends the
//! process the way Redis does: the fatal signal re-raised with its default action (the same exit
//! status and core dump as without a handler), or abort() after an assertion or panic.
//!
//! # What runs inside a signal handler
//!
//! Like Redis's own handler, this one is not async-signal-safe, on purpose: it formats and
//! allocates, writes log lines through the logger, symbolizes a backtrace (std::backtrace, which
//! takes a lock of its own), and calls the registered reporter. The process is going to die
//! anyway, and the report is worth the risk; what would make it hang is avoided instead:
//! - the server's state is only ever taken with try_lock (the crashing thread may hold it; see
//!   the reporter), never waited for;
//! - a log line that re-enters the logger on the thread that was in it is dropped by tracing
//!   (its dispatcher refuses re-entry) rather than deadlocking;
//! - the handlers are installed with SA_RESETHAND and SA_NODEFER, as Redis's are: a second
//!   fault inside the report (a corrupt heap, a lock jemalloc held when the fault came) kills the
//!   process with the default action at once instead of looping.
//!
//! A fault inside jemalloc while it holds one of its locks can still hang the report on its
//! first allocation; Redis's report (zmalloc, fopen, sds) has the same exposure.

use std::cell::Cell;
use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// The signals Redis reports (setupSignalHandlers, when crash-log-enabled).
const FATAL: [Signal; 5] = [Signal::SIGSEGV, Signal::SIGBUS, Signal::SIGFPE, Signal::SIGILL, Signal::SIGABRT];

/// A piece of the server's part of a report.
pub enum Part {
    /// Written as it is (Redis's LL_RAW): section headers, INFO, CLIENT LIST.
    Raw(String),
    /// A log line at WARNING, with the usual header.
    Warning(String),
}

/// What the server adds to a report: every section after the stack trace. Called on the
/// crashing thread; it must not block (try_lock only).
pub type Reporter = Box<dyn Fn() -> Vec<Part> + Send + Sync>;

static REPORTER: OnceLock<Reporter> = OnceLock::new();
/// crash-log-enabled: the handlers are installed, and assertions and panics print the stack
/// trace and the server's sections.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// use-exit-on-panic: an assertion or panic ends with _exit(1) instead of abort().
static EXIT_ON_PANIC: AtomicBool = AtomicBool::new(false);
/// The pid file bugReportEnd removes: set only for a daemonized, unsupervised server, as Redis.
static PIDFILE: Mutex<Option<PathBuf>> = Mutex::new(None);
/// The process the report is for: a forked child (a BGSAVE) that panics is not the server.
static SERVER_PID: AtomicU32 = AtomicU32::new(0);
/// The START banner is written once, even when a report crashes into another.
static STARTED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// How many guards (catch_unwind around a command) this thread is inside: a panic there is
    /// caught and answered as an error, not reported.
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

/// Registers the server's part of every report (set once, at start-up).
pub fn set_reporter(reporter: Reporter) {
    let _ = REPORTER.set(reporter);
}

/// The pid file to remove when the process dies of a crash: Redis removes it only when it
/// daemonized itself and is not supervised.
pub fn set_pidfile_to_remove(path: Option<PathBuf>) {
    if let Ok(mut p) = PIDFILE.lock() {
        *p = path;
    }
}

/// Installs the panic hook, and the signal handlers when `crash_log_enabled`, for this process.
pub fn install(crash_log_enabled: bool, use_exit_on_panic: bool) {
    SERVER_PID.store(std::process::id(), Ordering::Relaxed);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if GUARDED.with(Cell::get) > 0 || std::process::id() != SERVER_PID.load(Ordering::Relaxed) {
            // Caught by a guard, which logs it and answers an error; or a forked child's,
            // which ends that child only: the usual message on standard error.
            previous(info);
            return;
        }
        let message = panic_message(info.payload());
        let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
        if std::thread::current().name() == Some("main") {
            // Start-up and the end of the process run here: nothing would go on without them.
            server_panic(&message, file, line);
        }
        // A task of the runtime (a connection, the cron, a replication link): the panic ends that
        // task only, as a panic in a connection must never take the server down. It is logged
        // with its trace, so the bug is seen and can be reported.
        let trace = std::backtrace::Backtrace::force_capture();
        tracing::warn!("A task panicked and was ended, the server goes on: {message} at {file}:{line}\n{trace}");
    }));
    configure(crash_log_enabled, use_exit_on_panic);
}

/// Applies crash-log-enabled and use-exit-on-panic (at start-up and on CONFIG SET), as Redis's
/// updateSighandlerEnabled: the handlers are installed or the default actions put back.
/// Does nothing before `install` (unit tests build servers without a crash reporter).
pub fn configure(crash_log_enabled: bool, use_exit_on_panic: bool) {
    if SERVER_PID.load(Ordering::Relaxed) == 0 {
        return;
    }
    EXIT_ON_PANIC.store(use_exit_on_panic, Ordering::Relaxed);
    ENABLED.store(crash_log_enabled, Ordering::Relaxed);
    if crash_log_enabled {
        set_handlers(SigHandler::SigAction(fatal_signal));
    } else {
        remove_handlers();
    }
}

fn set_handlers(handler: SigHandler) {
    let flags = SaFlags::SA_NODEFER | SaFlags::SA_RESETHAND | SaFlags::SA_SIGINFO;
    let action = SigAction::new(handler, flags, SigSet::empty());
    for sig in FATAL {
        // SAFETY: the handler is a plain function that never returns into the faulting code with
        // anything changed (it ends the process); replacing std's SIGSEGV/SIGBUS handler loses
        // only its "stack overflow" message, which the report replaces.
        let _ = unsafe { sigaction(sig, &action) };
    }
}

/// removeSignalHandlers: the default actions back, so that the abort() that ends an assertion or
/// a panic dumps core instead of being reported a second time.
fn remove_handlers() {
    let action = SigAction::new(SigHandler::SigDfl, SaFlags::SA_NODEFER | SaFlags::SA_RESETHAND, SigSet::empty());
    for sig in FATAL {
        // SAFETY: restoring the default action has no handler to be unsafe about.
        let _ = unsafe { sigaction(sig, &action) };
    }
}

/// Runs `f` inside a guard that catches its panic: the panic is not reported as a crash.
pub fn guarded<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    GUARDED.with(|g| g.set(g.get() + 1));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    result
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// bugReportStart.
fn report_start() {
    if !STARTED.swap(true, Ordering::SeqCst) {
        crate::logging::raw("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n");
    }
}

/// logStackTrace: the frames of the calling thread (symbolized from the binary's debug
/// information; `eip` is the faulting instruction, when a signal says).
fn log_stack_trace(eip: Option<usize>) {
    let trace = std::backtrace::Backtrace::force_capture();
    let mut text = String::from("\n------ STACK TRACE ------\n");
    if let Some(eip) = eip {
        let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
        text.push_str(&format!("EIP:\n{exe}[{eip:#x}]\n"));
    }
    text.push_str(&format!("\nBacktrace:\n{trace}\n"));
    crate::logging::raw(&text);
}

/// printCrashReport: what the server registered (INFO, clients, config).
fn print_crash_report() {
    let Some(reporter) = REPORTER.get() else { return };
    for part in reporter() {
        match part {
            Part::Raw(text) => crate::logging::raw(&text),
            Part::Warning(line) => tracing::warn!("{line}"),
        }
    }
}

/// bugReportEnd: the END banner, the pid file removed, and the end of the process: `signal`
/// re-raised with its default action, or abort() (or _exit(1) with use-exit-on-panic).
fn report_end(signal: Option<Signal>) -> ! {
    crate::logging::raw(concat!(
        "\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n",
        "       Please report the crash by opening an issue on github:\n\n",
        "           http://github.com/redis/redis/issues\n\n",
        "  If a Redis module was involved, please open in the module's repo instead.\n\n",
        "  Suspect RAM error? Use redis-server --test-memory to verify it.\n\n",
        "  Some other issues could be detected by redis-server --check-system\n",
    ));
    // A forked child (a BGSAVE) inherits the handlers; the pid file is not its own.
    if std::process::id() == SERVER_PID.load(Ordering::Relaxed) {
        if let Some(path) = PIDFILE.try_lock().ok().and_then(|p| p.clone()) {
            let _ = std::fs::remove_file(path);
        }
    }
    match signal {
        None => {
            if EXIT_ON_PANIC.load(Ordering::Relaxed) {
                // SAFETY: _exit ends the process at once; nothing is left to run or flush (the
                // log is written with a flush per write).
                unsafe { libc::_exit(1) }
            }
            std::process::abort()
        }
        Some(sig) => {
            let action = SigAction::new(
                SigHandler::SigDfl,
                SaFlags::SA_NODEFER | SaFlags::SA_ONSTACK | SaFlags::SA_RESETHAND,
                SigSet::empty(),
            );
            // SAFETY: restoring the default action; then the signal kills the process with it
            // (a core dump where the system keeps them), as it would have without a handler.
            let _ = unsafe { sigaction(sig, &action) };
            let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), sig);
            // The signal is not blocked (SA_NODEFER): it is delivered before kill returns. If it
            // somehow was not, the process still must not go on.
            std::process::abort()
        }
    }
}

/// The lines of a report after its cause: stack trace and server sections when enabled.
fn report_body(eip: Option<usize>) {
    if ENABLED.load(Ordering::Relaxed) {
        log_stack_trace(eip);
        print_crash_report();
    }
}

/// _serverPanic: "Guru Meditation" with the message and where, the report, then abort().
pub fn server_panic(message: &str, file: &str, line: u32) -> ! {
    report_start();
    tracing::warn!("------------------------------------------------");
    tracing::warn!("!!! Software Failure. Press left mouse button to continue");
    tracing::warn!("Guru Meditation: {message} #{file}:{line}");
    report_body(None);
    remove_handlers();
    report_end(None)
}

/// _serverAssertWithInfo: the client context the caller gives (its lines as Redis words them),
/// "ASSERTION FAILED" with the expression and where, the report, then abort().
pub fn assert_failed(client_context: &[String], expr: &str, file: &str, line: u32) -> ! {
    report_start();
    for l in client_context {
        tracing::warn!("{l}");
    }
    tracing::warn!("=== ASSERTION FAILED ===");
    tracing::warn!("==> {file}:{line} '{expr}' is not true");
    report_body(None);
    remove_handlers();
    report_end(None)
}

/// redisOutOfMemoryHandler: the OOM line, then a panic saying so.
pub fn out_of_memory(size: usize) -> ! {
    tracing::warn!("Out Of Memory allocating {size} bytes!");
    server_panic(&format!("Redis aborting for OUT OF MEMORY. Allocating {size} bytes!"), file!(), line!())
}

/// sigsegvHandler.
extern "C" fn fatal_signal(sig: libc::c_int, info: *mut libc::siginfo_t, secret: *mut c_void) {
    report_start();
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let (code, addr, pid, uid) = unsafe {
        let i = &*info;
        (i.si_code, i.si_addr() as usize, i.si_pid(), i.si_uid())
    };
    tracing::warn!("Redis {} crashed by signal: {sig}, si_code: {code}", crate::REDIS_VERSION);
    if sig == libc::SIGSEGV || sig == libc::SIGBUS {
        tracing::warn!("Accessing address: {addr:#x}");
    }
    if code == libc::SI_USER && pid != -1 {
        tracing::warn!("Killed by PID: {pid}, UID: {uid}");
    }
    let eip = instruction_pointer(secret);
    if let Some(eip) = eip {
        tracing::warn!("Crashed running the instruction at: {eip:#x}");
    }
    log_stack_trace(eip);
    print_crash_report();
    report_end(Signal::try_from(sig).ok())
}

/// The faulting instruction, from the signal's saved context (Redis's getAndSetMcontextEip).
#[allow(unused_variables)]
fn instruction_pointer(secret: *mut c_void) -> Option<usize> {
    if secret.is_null() {
        return None;
    }
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        // SAFETY: for an SA_SIGINFO handler the third argument is the thread's ucontext_t.
        let uc = unsafe { &*(secret as *const libc::ucontext_t) };
        return Some(uc.uc_mcontext.gregs[libc::REG_RIP as usize] as usize);
    }
    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    {
        // SAFETY: as above.
        let uc = unsafe { &*(secret as *const libc::ucontext_t) };
        return Some(uc.uc_mcontext.pc as usize);
    }
    #[allow(unreachable_code)]
    None
}
