//! Giving up every capability once start-up is over, in every thread of the process.
//!
//! Linux keeps capabilities per thread: capset(2) changes only the calling thread's sets, and the
//! runtime's workers (which run every client's commands), the blocking pool and the server's own
//! threads were all started while the process still held them. So each thread must drop its own:
//! this one directly, the others from a signal handler, as glibc does for setuid(2) and Go's
//! runtime for AllThreadsSyscall. Threads that block every signal (jemalloc's purging threads)
//! are stopped for the drop and started again from this thread, whose sets they inherit.
//!
//! The `caps` crate's calls allocate, which a signal handler must not, so the drop is the raw
//! prctl(2) and capset(2) calls here, the same in every thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// struct __user_cap_header_struct
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// struct __user_cap_data_struct
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Whether the handler is installed (once per process; it stays, so that a late delivery finds it).
static HANDLER: AtomicBool = AtomicBool::new(false);

/// How long the other threads get to drop theirs before the server says which did not.
const WAIT: Duration = Duration::from_secs(2);

/// Drops the calling thread's ambient, bounding, effective, permitted and inheritable sets with
/// system calls only (async-signal-safe). The bounding set shrinks only while CAP_SETPCAP is still
/// effective, so it goes first; capabilities this kernel lacks answer EINVAL, ignored.
fn drop_own() -> bool {
    // SAFETY: prctl and capset are given valid arguments (the header and two data words live for
    // the call) and change only this thread's credentials.
    unsafe {
        libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for cap in 0..64 {
            libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
        }
        let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
        let data = [CapData::default(); 2];
        libc::syscall(libc::SYS_capset, &mut header as *mut CapHeader, data.as_ptr()) == 0
    }
}

extern "C" fn on_signal(_: libc::c_int) {
    // SAFETY: errno is this thread's; it is put back so that the interrupted code sees its own.
    unsafe {
        let errno = libc::__errno_location();
        let saved = *errno;
        drop_own();
        *errno = saved;
    }
}

fn install_handler(signal: libc::c_int) -> std::io::Result<()> {
    if HANDLER.swap(true, Ordering::AcqRel) {
        return Ok(());
    }
    // nix's sigaction takes its Signal enum, which has no real-time signals.
    // SAFETY: a zeroed sigaction is valid; the handler only makes async-signal-safe system calls.
    // SA_RESTART restarts what the signal interrupts where the kernel can.
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut())
    };
    if rc != 0 {
        HANDLER.store(false, Ordering::Release);
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Whether a thread's /proc status shows any of its effective, permitted, inheritable or ambient
/// sets not empty.
fn holds_any(status: &str) -> bool {
    ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"].iter().any(|name| {
        let value = status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
        value.is_some_and(|v| v.chars().any(|c| c != '0'))
    })
}

/// The threads of this process that still hold a capability, with their names.
fn holders() -> Vec<(libc::pid_t, String)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    let mut found = Vec::new();
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|s| s.parse::<libc::pid_t>().ok()) else { continue };
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else { continue };
        if holds_any(&status) {
            let name = status.lines().find_map(|l| l.strip_prefix("Name:")).unwrap_or_default().trim().to_string();
            found.push((tid, name));
        }
    }
    found
}

/// Gives up every capability in every thread; even a server started as root then holds none
/// (CapEff 0 in each /proc/PID/task/TID/status). Under the packaged unit nothing is held and
/// nothing is called: capset(2) is outside its syscall filter, and a call would kill the process.
pub fn drop_in_every_thread() {
    let mut holding = holders();
    if holding.is_empty() {
        return;
    }
    let purging = crate::alloc::stop_background_purging();
    if !drop_own() {
        tracing::warn!("Could not drop capabilities: {}", std::io::Error::last_os_error());
    }
    let signal = libc::SIGRTMIN();
    match install_handler(signal) {
        Ok(()) => {
            // SAFETY: getpid and gettid cannot fail.
            let (pid, me) = unsafe { (libc::getpid(), libc::gettid()) };
            let deadline = Instant::now() + WAIT;
            // Threads started meanwhile by one that had not dropped its sets yet show up on the
            // next look.
            loop {
                holding = holders();
                holding.retain(|(tid, _)| *tid != me);
                if holding.is_empty() || Instant::now() >= deadline {
                    break;
                }
                for (tid, _) in &holding {
                    // SAFETY: tgkill only sends the signal; a thread that has exited is ESRCH.
                    unsafe { libc::syscall(libc::SYS_tgkill, pid, *tid, signal) };
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Err(e) => tracing::warn!("Could not drop the other threads' capabilities: {e}"),
    }
    if purging {
        if let Err(e) = crate::alloc::start_background_purging() {
            tracing::warn!("Could not start the allocator's background threads: {e}");
        }
    }
    let holding = holders();
    if !holding.is_empty() {
        let names: Vec<String> = holding.iter().map(|(tid, name)| format!("{name} ({tid})")).collect();
        tracing::warn!("These threads still hold capabilities: {}", names.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_holds_capabilities_when_any_set_is_not_empty() {
        let none = "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n";
        assert!(!holds_any(none));
        assert!(holds_any(&none.replace("CapEff:\t0000000000000000", "CapEff:\t0000000000000400")));
        assert!(holds_any(&none.replace("CapAmb:\t0000000000000000", "CapAmb:\t0000000000000001")));
    }
}
