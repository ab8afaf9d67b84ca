//! A script running past busy-reply-threshold, while the rest of the server keeps answering.
//!
//! Redis runs its event loop from inside the script's instruction hook
//! (processEventsWhileBlocked) and answers -BUSY to all but a few commands. Here the script's
//! thread holds the state lock, so connections hand their commands to it instead: the script's
//! hook runs them with the lock it holds and sends the replies back. Everything else that wants
//! the lock meanwhile waits on a thread of its own (`Server::lock`), so that the async runtime
//! keeps serving connections.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use tokio::sync::oneshot;

use super::session::Session;
use super::state::State;
use crate::protocol::Reply;

/// Work for the busy script's hook, which holds the state lock.
pub enum BusyJob {
    /// A connection's command: the session and the command travel with it and come back with
    /// the reply, or with None when the script ended first (the command then runs as usual).
    Command { session: Box<Session>, args: Vec<Bytes>, done: oneshot::Sender<BusyDone> },
    /// Anything else that needs the state meanwhile (a new connection's registration): run
    /// by the hook, or at the script's end.
    Task(Box<dyn FnOnce(&mut State) + Send>),
}

pub struct BusyDone {
    pub session: Box<Session>,
    pub args: Vec<Bytes>,
    pub reply: Option<Reply>,
}

#[derive(Default)]
pub struct Busy {
    /// Set while a script runs past the threshold; read without the state lock.
    active: AtomicBool,
    /// Set and cleared under this lock too, so a job is either queued while the script can
    /// still take it, or refused.
    jobs: Mutex<VecDeque<BusyJob>>,
}

impl Busy {
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// The script has run past the threshold: from now on commands come to its hook (which
    /// also keeps the async runtime on other threads: `hand_off_runtime`).
    pub fn begin(&self) {
        self.jobs.lock().clear();
        self.active.store(true, Ordering::Release);
    }

    /// The script has ended: the jobs it did not take are returned to run as usual.
    pub fn end(&self) -> Vec<BusyJob> {
        let mut jobs = self.jobs.lock();
        self.active.store(false, Ordering::Release);
        jobs.drain(..).collect()
    }

    /// Queues a command for the script's hook; gives it back if no script is busy any more.
    pub fn submit(&self, job: BusyJob) -> Result<(), BusyJob> {
        let mut jobs = self.jobs.lock();
        if !self.active.load(Ordering::Acquire) {
            return Err(job);
        }
        jobs.push_back(job);
        Ok(())
    }

    pub fn take_jobs(&self) -> Vec<BusyJob> {
        self.jobs.lock().drain(..).collect()
    }
}

/// Runs `f`, which blocks, without holding up the async runtime: on a worker thread of the
/// multi-threaded runtime its other tasks move to another thread first (block_in_place).
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Gives this worker thread's tasks to another thread while the script goes on here: waits
/// (briefly) until a task spawned now has run elsewhere. Called on every look of a busy
/// script's hook: when a task that blocked meanwhile passed the runtime on, this thread may
/// have taken it back (tokio's block_in_place reclaims a core nobody picked up yet), and this
/// hands it over again; when the runtime is elsewhere it costs one task's round trip.
pub fn hand_off_runtime() {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        return;
    }
    tokio::task::block_in_place(|| {
        let ran = std::sync::Arc::new(AtomicBool::new(false));
        let probe = ran.clone();
        handle.spawn(async move { probe.store(true, Ordering::Release) });
        let deadline = std::time::Instant::now() + Duration::from_millis(20);
        while !ran.load(Ordering::Acquire) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(50));
        }
    });
}

/// Runs `f` with the state: under the lock, or, while a script is busy, in the script's hook.
/// For what must not wait for the script to end (accepting and registering connections).
pub async fn with_state<R: Send + 'static>(
    state: &Mutex<State>,
    busy: &Busy,
    f: impl FnOnce(&mut State) -> R + Send + 'static,
) -> R {
    if let Some(mut g) = lock_unless_busy(state, busy) {
        return f(&mut g);
    }
    let (tx, rx) = oneshot::channel();
    let job = BusyJob::Task(Box::new(move |st: &mut State| {
        let _ = tx.send(f(st));
    }));
    if let Err(BusyJob::Task(task)) = busy.submit(job) {
        // The script ended meanwhile: the lock is (about to be) free.
        task(&mut lock(state, busy));
    }
    match rx.await {
        Ok(r) => r,
        // A task always runs, in the hook or at the script's end: only a panic there loses it,
        // and then this caller cannot go on.
        Err(_) => std::future::pending().await,
    }
}

/// The state lock, for everything but a connection's commands: while a script is busy the
/// wait happens off the async runtime's threads.
pub fn lock<'a>(state: &'a Mutex<State>, busy: &Busy) -> MutexGuard<'a, State> {
    if let Some(g) = state.try_lock() {
        return g;
    }
    loop {
        if busy.is_active() {
            return blocking(|| state.lock());
        }
        if let Some(g) = state.try_lock_for(Duration::from_millis(5)) {
            return g;
        }
    }
}

/// The state lock for a connection's commands, or None while a script is busy (the commands
/// then go to the script's hook).
pub fn lock_unless_busy<'a>(state: &'a Mutex<State>, busy: &Busy) -> Option<MutexGuard<'a, State>> {
    loop {
        if busy.is_active() {
            return None;
        }
        if let Some(g) = state.try_lock_for(Duration::from_millis(2)) {
            return Some(g);
        }
    }
}
