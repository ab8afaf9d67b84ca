//! A connection's kill switch: CLIENT KILL, the output buffer limits, a lost replication link and
//! the like flip it; the connection's task notices at its next wait, or at once if it is waiting.
//!
//! Checked on every request, so it costs an atomic load and a waker registration (no lock):
//! exactly one task waits on a switch, the one that serves the connection.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

#[derive(Default)]
pub struct KillSwitch {
    killed: AtomicBool,
    waker: AtomicWaker,
}

impl KillSwitch {
    /// Marks the connection to be closed and wakes its task. Stays set: a later wait ends at once.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
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
        let k = Arc::new(KillSwitch::default());
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
}
