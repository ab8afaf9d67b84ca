//! What other parts of the server ask of a connection's task: to close (CLIENT KILL, the output
//! buffer limits, a lost replication link) or to tend its buffers (the cron's clientsCron
//! visit: shrink or grow the query and reply buffers as Redis does). The task notices at its
//! next wait, or at once if it is waiting.
//!
//! Checked on every request, so it costs atomic loads and a waker registration (no lock):
//! exactly one task waits on a connection's signals, the one that serves it.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

#[derive(Default)]
pub struct ClientSignals {
    killed: AtomicBool,
    tend: AtomicBool,
    waker: AtomicWaker,
}

/// What a waiting task was woken for.
#[derive(Debug, PartialEq, Eq)]
pub enum Signal {
    Killed,
    Tend,
}

impl ClientSignals {
    /// Marks the connection to be closed and wakes its task. Stays set: a later wait ends at once.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Asks the task to tend its buffers when it next waits for its client.
    pub fn tend(&self) {
        if !self.tend.swap(true, Ordering::AcqRel) {
            self.waker.wake();
        }
    }

    /// Ready once killed; otherwise the task is woken when it is.
    pub fn poll_killed(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_killed() {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // Killed between the check and the registration: its wake-up may have found no waker.
        if self.is_killed() {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// A kill, or else a tend request (taken); otherwise the task is woken at the next of either.
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<Signal> {
        if self.poll_killed(cx).is_ready() {
            return Poll::Ready(Signal::Killed);
        }
        // The waker is registered: a tend request after this load wakes the task.
        if self.tend.load(Ordering::Acquire) && self.tend.swap(false, Ordering::AcqRel) {
            return Poll::Ready(Signal::Tend);
        }
        Poll::Pending
    }

    pub async fn killed(&self) {
        poll_fn(|cx| self.poll_killed(cx)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_kill_wakes_the_waiter_and_later_waits_end_at_once() {
        let k = Arc::new(ClientSignals::default());
        let waiter = tokio::spawn({
            let k = k.clone();
            async move { k.killed().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        k.kill();
        tokio::time::timeout(std::time::Duration::from_secs(10), waiter).await.unwrap().unwrap();
        assert!(k.is_killed());
        tokio::time::timeout(std::time::Duration::from_secs(10), k.killed()).await.unwrap();
    }

    #[tokio::test]
    async fn a_tend_request_is_taken_once_and_a_kill_comes_first() {
        let k = Arc::new(ClientSignals::default());
        let waiter = tokio::spawn({
            let k = k.clone();
            async move { poll_fn(|cx| k.poll(cx)).await }
        });
        k.tend();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), waiter).await.unwrap().unwrap();
        assert_eq!(got, Signal::Tend);
        // Taken: a new wait does not see it again.
        let noop = std::task::Waker::noop();
        let mut cx = Context::from_waker(noop);
        assert_eq!(k.poll(&mut cx), Poll::Pending);
        k.tend();
        k.kill();
        assert_eq!(k.poll(&mut cx), Poll::Ready(Signal::Killed));
    }
}
