//! DEBUG RESTART and CRASH-AND-RECOVER: Redis's restartServer. The process executes its own
//! program again with the same arguments (execve: the same pid, so systemd's Type=notify unit
//! and the pid file stay right), after a graceful shutdown's save and a config rewrite
//! (RESTART) or nothing at all (CRASH-AND-RECOVER, which loses what was not saved).
//!
//! Differences from Redis, on purpose:
//! - Descriptors are marked close-on-exec rather than closed: other threads (the runtime's
//!   poller, the allocator's) still run until execve, and a descriptor closed under them could
//!   be reused by another file before they notice. The kernel closes them all at execve. So
//!   during the delay the TCP listeners still accept into their backlog (those connections are
//!   reset at execve) where Redis's are closed and refuse.
//! - The pid file is kept (the new program writes the same pid into it) rather than removed and
//!   written again.
//! - systemd is not told STOPPING=1: the unit's main process does not end, and the new program
//!   sends READY=1 again once it serves.
//! - The config file argument is passed as the absolute path the server read, since `dir` may
//!   have changed the working directory a relative path was given from.
//! - Sockets passed by systemd (socket activation) are passed on to the new program as systemd
//!   passed them: kept open, with LISTEN_FDS, LISTEN_PID (ours, which execve keeps) and
//!   LISTEN_FDNAMES in its environment.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use super::super::Ctx;
use crate::protocol::Reply;

const FAILED: &str = "ERR failed to restart the server. Check server logs.";

/// restartServer(flags, delay). Returns only on failure (Redis's error reply); on success the
/// process is replaced and the client's connection closes without a reply.
pub fn restart(ctx: &mut Ctx, graceful: bool, delay_ms: u64) -> Reply {
    let exe = executable();
    if !crate::util::sys::is_executable(&exe) {
        tracing::warn!("Can't restart: this process has no permissions to execute {exe}");
        return Reply::error(FAILED);
    }
    if graceful {
        if let Some(path) = ctx.server.config_file.clone() {
            if let Err(e) = super::super::config_cmd::rewrite_file(ctx, &path, false) {
                tracing::warn!(
                    "Can't restart: configuration rewrite process failed: {}",
                    crate::util::sys::error_text(&e)
                );
                return Reply::error(FAILED);
            }
        }
        if prepare_for_shutdown(ctx).is_err() {
            tracing::warn!("Can't restart: error preparing for shutdown");
            return Reply::error(FAILED);
        }
    }
    let (argv, envp) = match command_line(ctx, &exe) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("Can't restart: {e}");
            return Reply::error(FAILED);
        }
    };
    let passed = crate::systemd::passed_sockets();
    let kept = kept_sockets(passed);
    close_on_exec_all(kept);
    if delay_ms > 0 {
        // The whole server waits, as Redis's does: this thread holds the state.
        std::thread::sleep(Duration::from_millis(delay_ms));
    }
    let Ok(path) = CString::new(exe.as_bytes()) else { return Reply::error(FAILED) };
    let error = nix::unistd::execve(&path, &argv, &envp).err();
    // Nothing of the server is left to go on with (descriptors are set to close, the data may
    // be half shut down): as Redis, exit.
    tracing::warn!("Can't restart: execve of {exe} failed: {}", error.map_or(String::new(), |e| e.desc().to_string()));
    // SAFETY: _exit ends the process at once, which is all that is left to do.
    unsafe { libc::_exit(1) }
}

/// Redis's server.executable: this process's program, by its absolute path. After a package
/// upgrade replaced the file, the kernel reports the old one as "(deleted)": the new program at
/// the same path is the one to start.
fn executable() -> String {
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    exe.strip_suffix(" (deleted)").map(str::to_string).unwrap_or(exe)
}

/// The arguments and environment of the new program: this process's own, with the program's
/// absolute path first, the config file by the absolute path the server read it from, and
/// LISTEN_* for the sockets systemd passed, when there are any.
fn command_line(ctx: &Ctx, exe: &str) -> Result<(Vec<CString>, Vec<CString>), String> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.is_empty() {
        args.push(OsString::new());
    }
    args[0] = OsString::from(exe);
    if let (Some(file), Some(first)) = (ctx.server.config_file.as_ref(), args.get_mut(1)) {
        // The config file is the first argument when it does not start with '-' (startup.rs).
        if !first.as_bytes().starts_with(b"-") {
            *first = file.clone().into_os_string();
        }
    }
    let to_c = |s: &[u8]| CString::new(s).map_err(|_| "an argument holds a NUL byte".to_string());
    let argv = args.iter().map(|a| to_c(a.as_bytes())).collect::<Result<Vec<_>, _>>()?;
    let names: Vec<&str> = kept_sockets(crate::systemd::passed_sockets()).iter().map(|(_, n)| n.as_str()).collect();
    let listen = if names.is_empty() { Vec::new() } else { crate::systemd::listen_env(&names) };
    let mut envp = Vec::new();
    for (k, v) in std::env::vars_os() {
        if k.as_bytes().starts_with(b"LISTEN_") && !listen.is_empty() {
            continue;
        }
        let mut pair = k.as_bytes().to_vec();
        pair.push(b'=');
        pair.extend_from_slice(v.as_bytes());
        envp.push(to_c(&pair)?);
    }
    for (k, v) in listen {
        envp.push(to_c(format!("{k}={v}").as_bytes())?);
    }
    Ok((argv, envp))
}

/// The sockets systemd passed that are still open, from the first (descriptor 3) on, without a
/// gap: LISTEN_FDS counts descriptors from 3. (A socket the server did not serve was closed at
/// start-up; the ones after it cannot be passed on by number.)
fn kept_sockets(passed: &[(i32, String)]) -> &[(i32, String)] {
    let open =
        passed.iter().enumerate().take_while(|(i, (fd, _))| *fd == 3 + *i as i32 && fd_flags(*fd).is_some()).count();
    &passed[..open]
}

/// Every descriptor above standard error set to close at execve, but the sockets passed on,
/// which are set to stay open.
fn close_on_exec_all(kept: &[(i32, String)]) {
    let fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect(),
        // Without /proc: every number up to the descriptor limit, as Redis's loop.
        Err(_) => (3..nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map_or(65536, |(soft, _)| soft.min(1 << 20) as i32))
            .collect(),
    };
    for fd in fds.into_iter().filter(|&fd| fd > 2) {
        let Some(flags) = fd_flags(fd) else { continue };
        let flags =
            if kept.iter().any(|(k, _)| *k == fd) { flags & !libc::FD_CLOEXEC } else { flags | libc::FD_CLOEXEC };
        // SAFETY: F_SETFD changes only the descriptor's close-on-exec flag; on a number that is
        // not open it fails with EBADF and changes nothing.
        unsafe { libc::fcntl(fd, libc::F_SETFD, flags) };
    }
}

/// A descriptor's flags (F_GETFD), None when it is not open. By number, not through an owner:
/// these descriptors belong to other parts of the process, and only their flags are touched.
fn fd_flags(fd: i32) -> Option<i32> {
    // SAFETY: F_GETFD reads the descriptor's flags; on a number that is not open it fails with
    // EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    (flags >= 0).then_some(flags)
}

/// prepareForShutdown(SHUTDOWN_NOW) and finishShutdown, up to the exit: no waiting for lagging
/// replicas; children killed, the AOF flushed and synced, the final save when save points are
/// configured. Err: the save failed (the server keeps running, as Redis's).
fn prepare_for_shutdown(ctx: &mut Ctx) -> Result<(), ()> {
    let st = &mut *ctx.state;
    tracing::warn!("User requested shutdown...");
    let total = st.repl.replicas.len();
    let lagging = st.repl.replicas.values().filter(|r| r.ack_offset != st.repl.master_repl_offset).count();
    if total > 0 {
        tracing::info!("{} of {total} replicas are in sync when shutting down.", total - lagging);
    }
    st.scripts.kill_debug_children();
    if st.snapshots.child.is_some() {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        crate::persistence::snapshot::kill_child(st);
    }
    if let Some(child) = st.aof.as_mut().and_then(|aof| aof.rewrite.take()) {
        // The new program would not know of it. (Its temporary file stays: the persistence
        // runtime does not expose its name; Redis's killAppendOnlyChild removes it.)
        tracing::warn!("There is a child rewriting the AOF. Killing it!");
        crate::util::sys::kill_and_reap(child.pid, nix::sys::signal::Signal::SIGUSR1);
    }
    if st.aof.is_some() {
        tracing::info!("Calling fsync() on the AOF file.");
        crate::persistence::appendonly::shutdown(st);
    }
    let nosave = st.loading.is_some() || ctx.server.sentinel_mode;
    let save = !nosave && crate::persistence::snapshot::save_points_configured(st);
    if save && crate::persistence::snapshot::save_for_shutdown(st).is_err() {
        tracing::warn!("Error trying to save the DB, can't exit.");
        return Err(());
    }
    let unixsocket = st.config.str(crate::ckey!("unixsocket")).to_string();
    if !unixsocket.is_empty() && !ctx.server.socket_activated.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::info!("Removing the unix socket file.");
        let _ = std::fs::remove_file(&unixsocket);
    }
    tracing::warn!("Redis is now ready to exit, bye bye...");
    Ok(())
}
