//! The operating system, in one place: what it tells about itself and this process (page size,
//! resident set, error texts, THP, uname, CPU times), forking children, signal dispositions, local
//! time and address resolution. Through nix where it wraps the call safely; the few calls nix lacks
//! (`_exit`, `localtime_r`/`strftime`, `getaddrinfo`) are raw libc here, each behind a safe function
//! with its SAFETY note, so that no other module (the allocator aside) touches libc.

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nix::sys::signal::SigHandler;
pub use nix::sys::signal::Signal;
pub use nix::sys::wait::WaitStatus;
pub use nix::unistd::Pid;
use nix::unistd::{sysconf, SysconfVar};

/// The memory page size, from sysconf(_SC_PAGESIZE): 4 KiB on x86-64, but 16 or 64 KiB on some
/// arm64 and ppc64 kernels, which would make RSS figures four to sixteen times too small.
pub fn page_size() -> u64 {
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(n)) if n > 0 => n as u64,
        _ => 4096,
    }
}

/// This process's resident set size in bytes (the second field of /proc/self/statm, in pages).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map_or(0, |pages| pages * page_size())
}

/// The C library's text for an I/O error (strerror), as Redis prints it in logs and replies:
/// Rust's own text adds " (os error N)", which no Redis message has.
pub fn error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// prctl(PR_SET_THP_DISABLE): transparent huge pages off for this process and its children (the
/// snapshot child included), whatever the system setting; Redis's `disable-thp yes`.
pub fn disable_thp() -> Result<(), String> {
    nix::sys::prctl::set_thp_disable(true).map_err(|e| e.desc().to_string())
}

/// Whether THP is disabled for this process (PR_GET_THP_DISABLE).
pub fn thp_disabled() -> bool {
    nix::sys::prctl::get_thp_disable().unwrap_or(false)
}

/// `uname -s -r -m`: the kernel's name, release and machine, as Redis reports `os`.
pub fn os_name() -> Option<String> {
    let u = nix::sys::utsname::uname().ok()?;
    Some(format!(
        "{} {} {}",
        u.sysname().to_string_lossy(),
        u.release().to_string_lossy(),
        u.machine().to_string_lossy()
    ))
}

/// CPU time used, in seconds (system, user): by this process, or by its reaped children.
pub fn cpu_times(children: bool) -> Option<(f64, f64)> {
    use nix::sys::resource::{getrusage, UsageWho};
    let who = if children { UsageWho::RUSAGE_CHILDREN } else { UsageWho::RUSAGE_SELF };
    let ru = getrusage(who).ok()?;
    let secs = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    Some((secs(ru.system_time()), secs(ru.user_time())))
}

/// Whether this process may execute the file at `path` (access(X_OK)), as Sentinel checks scripts.
pub fn is_executable(path: &str) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
}

/// The device and inode of standard output (to recognise the journal's stream).
pub fn stdout_device_and_inode() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    let st = nix::sys::stat::fstat(std::io::stdout().as_fd()).ok()?;
    Some((st.st_dev, st.st_ino))
}

/// The default action for `sig` (for SIGPIPE: end quietly when the reader of our output goes away).
pub fn default_signal_action(sig: Signal) -> nix::Result<()> {
    // SAFETY: SIG_DFL installs no handler of ours, so no code of this process can run inside a
    // signal handler; what makes signal() unsafe in nix is a handler that is not async-signal-safe.
    unsafe { nix::sys::signal::signal(sig, SigHandler::SigDfl) }.map(drop)
}

/// Ignores `sig` (SIG_IGN), e.g. SIGXFSZ so that a write over RLIMIT_FSIZE fails with EFBIG.
pub fn ignore_signal(sig: Signal) -> nix::Result<()> {
    // SAFETY: SIG_IGN installs no handler; as above, nothing of ours runs in signal context.
    unsafe { nix::sys::signal::signal(sig, SigHandler::SigIgn) }.map(drop)
}

/// Forks a child that runs `child` and ends with its return value as exit status, by `_exit`: it
/// never returns into the parent's code, runs no atexit handler and flushes no stdio buffer it
/// shares with the parent. Returns the child's pid to the parent.
///
/// # Safety
/// The server is multi-threaded (tokio's workers, a progress-report thread), and a forked child
/// has only the calling thread: whatever lock another thread held at the fork stays locked in the
/// child forever, and data that thread was changing stays half-changed. So `child` may touch only:
/// - memory that no other thread can be changing at the fork: data the calling thread owns or has
///   locked itself (the keyspace under the state lock it holds), now the child's private copy;
/// - the allocator: jemalloc takes all its locks around fork (its atfork handlers), so allocation
///   works in the child (the counting allocator adds only atomics); the child runs without
///   jemalloc's background threads, which is harmless for a child that exits when done;
/// - plain system calls on descriptors and files of its own (open, write, fsync, rename, close).
///
/// It must not log (the tracing subscriber and its writer lock), use the tokio runtime (its
/// threads are gone), take a mutex another thread may hold, or unwind: a panic is caught here
/// and ends the child with status 1.
pub unsafe fn fork_child(child: impl FnOnce() -> i32) -> nix::Result<Pid> {
    // SAFETY: the caller keeps the child to what is listed above.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(child),
        nix::unistd::ForkResult::Child => {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(1);
            // SAFETY: _exit is async-signal-safe and ends the child at once; nix has no wrapper.
            unsafe { libc::_exit(code) }
        }
    }
}

/// Like Redis's daemonize(): fork, the parent exits at once, the child starts a new session with
/// standard input, output and error on /dev/null (left as they are if it cannot be opened); the
/// working directory stays. glibc's daemon() would fail without /dev/null, which Redis does not.
///
/// # Safety
/// No other thread may exist yet: the child goes on to run the whole server. jemalloc's
/// background threads are started after this (`alloc::start_background_purging`).
pub unsafe fn daemonize() -> nix::Result<()> {
    // SAFETY: single-threaded (the caller's contract), so the child has every lock and thread
    // the parent had.
    if let nix::unistd::ForkResult::Parent { .. } = unsafe { nix::unistd::fork() }? {
        // SAFETY: _exit ends the parent without running destructors or atexit handlers that
        // belong to the child now; nix has no wrapper.
        unsafe { libc::_exit(0) }
    }
    let _ = nix::unistd::setsid();
    // Without O_CLOEXEC, as Redis opens it: it may become a standard descriptor itself.
    let null = nix::fcntl::open("/dev/null", nix::fcntl::OFlag::O_RDWR, nix::sys::stat::Mode::empty());
    if let Ok(null) = null {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
        if std::os::fd::AsRawFd::as_raw_fd(&null) <= 2 {
            // It took the place of a closed standard descriptor: that one must stay open.
            let _ = std::os::fd::IntoRawFd::into_raw_fd(null);
        }
    }
    Ok(())
}

/// Sends `sig` to our child `pid` and waits for it to end (killRDBChild).
pub fn kill_and_reap(pid: Pid, sig: Signal) {
    let _ = nix::sys::signal::kill(pid, sig);
    let _ = nix::sys::wait::waitpid(pid, None);
}

/// How a child we forked ended, without waiting: `None` while it runs. An error (the child is gone
/// or cannot be waited for) is reported as `Err`, which callers treat as a failed child.
pub fn try_reap(pid: Pid) -> Option<nix::Result<WaitStatus>> {
    match nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => None,
        other => Some(other),
    }
}

/// Unix time `secs` in local time, formatted by strftime with `format` (the C library's names
/// and time zone, as Redis prints log lines and ctime()). `None` when the time is out of range.
pub fn local_strftime(secs: i64, format: &CStr) -> Option<String> {
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: an all-zero `tm` is a valid value of a plain C struct; localtime_r fills it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r is the reentrant form: it writes only into `tm`, which we own.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return None;
    }
    let mut buf = [0u8; 128];
    // SAFETY: strftime writes at most `buf.len()` bytes into `buf` and reads the NUL-terminated
    // format and the `tm` filled above; it returns the length written (0 when it did not fit).
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), format.as_ptr(), &tm) };
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Redis's `anetResolve`: the first address getaddrinfo gives for `host` (any family, stream
/// sockets). With `numeric_only`, AI_NUMERICHOST: only address forms as glibc reads them (`127.1`
/// and `fe80::1%lo` are addresses) and no lookup. std's resolver cannot refuse names, so this
/// calls getaddrinfo itself; nix has no wrapper.
pub fn resolve_first(host: &str, numeric_only: bool) -> Option<IpAddr> {
    let c_host = std::ffi::CString::new(host).ok()?;
    // SAFETY: an all-zero addrinfo is the documented "no hints" value; fields are set below.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    if numeric_only {
        hints.ai_flags = libc::AI_NUMERICHOST;
    }
    let mut found: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated host and hints; on success `found` is a list we free below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut found) };
    if rc != 0 || found.is_null() {
        return None;
    }
    // SAFETY: `found` is the non-null head of the list getaddrinfo returned, freed only after.
    let ip = unsafe { address_of(&*found) };
    // SAFETY: freeing the list getaddrinfo allocated, once.
    unsafe { libc::freeaddrinfo(found) };
    ip
}

/// The IP in one getaddrinfo result.
///
/// # Safety
/// `info.ai_addr` must point to a socket address of `info.ai_family`, as getaddrinfo returns.
unsafe fn address_of(info: &libc::addrinfo) -> Option<IpAddr> {
    match info.ai_family {
        libc::AF_INET => {
            // SAFETY: an AF_INET result's address is a sockaddr_in (the caller's contract).
            let sa = unsafe { &*(info.ai_addr as *const libc::sockaddr_in) };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr))))
        }
        libc::AF_INET6 => {
            // SAFETY: an AF_INET6 result's address is a sockaddr_in6 (the caller's contract).
            let sa = unsafe { &*(info.ai_addr as *const libc::sockaddr_in6) };
            Some(IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_the_systems() {
        let p = page_size();
        assert!(p >= 4096 && p.is_power_of_two(), "{p}");
    }

    #[test]
    fn error_text_has_no_rust_suffix() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(error_text(&e), "No such file or directory");
        let e = std::io::Error::from_raw_os_error(28);
        assert_eq!(error_text(&e), "No space left on device");
    }

    #[test]
    fn os_name_is_unames() {
        let os = os_name().unwrap();
        assert!(os.starts_with("Linux ") && os.split(' ').count() == 3, "{os}");
    }

    #[test]
    fn cpu_times_are_counted() {
        let (sys, user) = cpu_times(false).unwrap();
        assert!(sys >= 0.0 && user >= 0.0 && sys + user < 1e6, "{sys} {user}");
        assert!(cpu_times(true).is_some());
    }

    #[test]
    fn executables_are_told_apart() {
        assert!(is_executable("/bin/sh"));
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"#!/bin/sh\n").unwrap();
        assert!(!is_executable(plain.to_str().unwrap()), "no execute bit, even for root");
        assert!(!is_executable("/no/such/file"));
        assert!(!is_executable("/bin/sh\0x"));
    }

    #[test]
    fn numeric_resolution_reads_addresses_as_glibc_does() {
        assert_eq!(resolve_first("127.1", true), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))));
        assert_eq!(resolve_first("::1", true), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(resolve_first("localhost", true), None);
        assert_eq!(resolve_first("a\0b", false), None);
    }

    #[test]
    fn local_time_is_formatted_by_strftime() {
        let text = local_strftime(0, c"%Y").unwrap();
        assert!(text == "1970" || text == "1969", "{text}");
        assert_eq!(local_strftime(86_400 * 365, c"%%").unwrap(), "%");
    }

    #[test]
    fn a_forked_child_ends_with_its_code() {
        // SAFETY: the child only returns a constant: no lock, no allocation, no logging.
        let pid = unsafe { fork_child(|| 3) }.unwrap();
        let status = loop {
            if let Some(s) = try_reap(pid) {
                break s.unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert_eq!(status, WaitStatus::Exited(pid, 3));
        assert!(try_reap(pid).is_some_and(|r| r.is_err()), "reaped once");
    }

    #[test]
    fn rss_is_counted_in_real_pages() {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        // Read again: the RSS may move a little between the two reads, never by a page-size factor.
        let rss = rss_bytes();
        assert!(rss >= pages * page_size() / 2 && rss <= pages * page_size() * 2, "{rss} vs {pages} pages");
    }
}
