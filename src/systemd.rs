//! systemd integration: `supervised systemd` notifications (READY, STATUS, STOPPING, WATCHDOG) and
//! socket activation (the listening sockets systemd passes in LISTEN_FDS).

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use sd_notify::NotifyState;

static SUPERVISED: AtomicBool = AtomicBool::new(false);

/// Resolves `supervised` like Redis: `systemd`, or `auto` when systemd's NOTIFY_SOCKET is set.
/// Returns whether the server reports to systemd.
pub fn init(mode: &str) -> bool {
    let has_socket = std::env::var_os("NOTIFY_SOCKET").is_some();
    let on = match mode {
        "systemd" => {
            if !has_socket {
                tracing::warn!("systemd supervision error: NOTIFY_SOCKET not found!");
            }
            has_socket
        }
        "auto" => has_socket,
        "upstart" => {
            tracing::warn!("upstart supervision is not supported by redis-rs; running unsupervised");
            false
        }
        _ => false,
    };
    if on {
        tracing::info!("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
    }
    SUPERVISED.store(on, Ordering::Relaxed);
    on
}

pub fn supervised() -> bool {
    SUPERVISED.load(Ordering::Relaxed)
}

fn send(states: &[NotifyState]) {
    if supervised() {
        if let Err(e) = sd_notify::notify(states) {
            tracing::warn!("systemd notification failed: {e}");
        }
    }
}

/// The line `systemctl status` shows.
pub fn status(text: &str) {
    send(&[NotifyState::Status(text)]);
}

/// Long work in progress (loading the dataset at start-up, the final save at shutdown): the status
/// line, and `extend` more time before systemd's start or stop timeout, whichever is running, so
/// a big dataset is not killed while it loads or saves.
pub fn progress(text: &str, extend: std::time::Duration) {
    let usec = u32::try_from(extend.as_micros()).unwrap_or(u32::MAX);
    send(&[NotifyState::Status(text), NotifyState::ExtendTimeoutUsec(usec)]);
}

/// Start-up is complete: listening and data loaded.
pub fn ready() {
    send(&[NotifyState::Status("Ready to accept connections"), NotifyState::Ready]);
}

/// Shutdown has begun (sent first, before the final save): `systemctl status` says so, and from
/// here on `progress` extends the stop timeout rather than the start timeout.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("Shutting down")]);
}

/// How often `report_progress` reports, and how much more time each report that saw progress
/// asks for (EXTEND_TIMEOUT_USEC).
const REPORT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
pub const PROGRESS_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Reports work that holds its own thread (the shutdown's final save) from a thread of its own,
/// once a second, until dropped: the status line `describe` gives, and EXTEND_TIMEOUT_USEC only
/// while its counter moves. So a save that keeps writing keys is never killed by TimeoutStopSec,
/// and one that hangs still is.
pub struct ProgressReport {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts reporting; `describe` returns the status text and a counter of work done.
pub fn report_progress(describe: impl Fn() -> (String, u64) + Send + 'static) -> ProgressReport {
    if !supervised() {
        return ProgressReport { stop: None, thread: None };
    }
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("progress".into())
        .spawn(move || {
            let mut last = None;
            loop {
                let (text, done) = describe();
                if last != Some(done) {
                    progress(&text, PROGRESS_GRACE);
                    last = Some(done);
                } else {
                    status(&text);
                }
                if stopped.recv_timeout(REPORT_EVERY) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    return;
                }
            }
        })
        .ok();
    ProgressReport { stop: Some(stop), thread }
}

impl Drop for ProgressReport {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Pings systemd's watchdog at half its interval when the unit sets WatchdogSec=.
pub fn spawn_watchdog() {
    if !supervised() {
        return;
    }
    let Some(interval) = sd_notify::watchdog_enabled() else { return };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval / 2);
        loop {
            tick.tick().await;
            send(&[NotifyState::Watchdog]);
        }
    });
}

/// A socket passed by systemd, with its FileDescriptorName=.
pub struct Inherited {
    pub fd: OwnedFd,
    pub name: String,
}

/// The sockets systemd passed at start-up (descriptor and name), so that DEBUG RESTART can pass
/// them on to the program it executes, as systemd would.
static PASSED: std::sync::OnceLock<Vec<(RawFd, String)>> = std::sync::OnceLock::new();

/// What socket activation passed this process at start-up.
pub fn passed_sockets() -> &'static [(RawFd, String)] {
    PASSED.get().map_or(&[], Vec::as_slice)
}

/// The environment a process started by this one in its place (execve, same pid) needs to
/// adopt `fds` as systemd's sockets: LISTEN_FDS, LISTEN_PID (this pid, which execve keeps) and
/// LISTEN_FDNAMES. The descriptors must be 3, 4, ... in this order.
pub fn listen_env(names: &[&str]) -> Vec<(String, String)> {
    vec![
        ("LISTEN_FDS".into(), names.len().to_string()),
        ("LISTEN_PID".into(), std::process::id().to_string()),
        ("LISTEN_FDNAMES".into(), names.join(":")),
    ]
}

/// Takes the sockets of socket activation, if any, and clears LISTEN_* so nothing else sees them.
/// Must run before any thread is started.
pub fn take_listen_fds() -> Vec<Inherited> {
    // SAFETY: called from main before the runtime or any other thread exists, as required by
    // the env var removal inside.
    let fds = unsafe { sd_notify::listen_fds_with_names_and_unset_env() };
    match fds {
        Ok(fds) => {
            let fds: Vec<(RawFd, String)> = fds.collect();
            let _ = PASSED.set(fds.clone());
            fds.into_iter()
                .map(|(fd, name)| {
                    // SAFETY: systemd hands these descriptors to this process; nothing else owns them.
                    Inherited { fd: unsafe { OwnedFd::from_raw_fd(fd) }, name }
                })
                .collect()
        }
        Err(e) => {
            tracing::warn!("ignoring LISTEN_FDS: {e}");
            Vec::new()
        }
    }
}

/// Whether standard output is connected to the journal (systemd sets JOURNAL_STREAM to its
/// device and inode).
pub fn stdout_is_journal() -> bool {
    let Some(v) = std::env::var_os("JOURNAL_STREAM") else { return false };
    let v = v.to_string_lossy();
    let Some((dev, ino)) = v.split_once(':') else { return false };
    let Some((st_dev, st_ino)) = crate::util::sys::stdout_device_and_inode() else { return false };
    dev.parse::<u64>().ok() == Some(st_dev) && ino.parse::<u64>().ok() == Some(st_ino)
}
