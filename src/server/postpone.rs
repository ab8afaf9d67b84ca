//! Clients held back by a pause (CLIENT PAUSE, a FAILOVER's or SHUTDOWN's): Redis's
//! postponed_clients list. They count as blocked (INFO's blocked_clients, CLIENT LIST's `b`),
//! and when the pause ends they run again in the order they were held, as Redis unblocks that
//! list in order: each waits for those released before it.

use super::state::{ClientId, State};

/// The queues of held and released clients, and the epoch of the last wake-up.
#[derive(Default)]
pub struct Postponed {
    /// Held by the current pause, in the order they came.
    held: std::collections::VecDeque<ClientId>,
    /// Released by the end of a pause, to run in this order.
    released: std::collections::VecDeque<ClientId>,
    /// Bumped at every wake-up: a connection that saw an older one must not wait for the
    /// notification it may have missed.
    pub epoch: u64,
}

impl Postponed {
    /// How many clients wait, held or for their turn.
    pub fn count(&self) -> usize {
        self.held.len() + self.released.len()
    }

    pub fn contains(&self, id: ClientId) -> bool {
        self.held.contains(&id) || self.released.contains(&id)
    }
}

/// The client's command was held back: it waits for the pause's end (at the back of the line,
/// unless it was already in it).
pub fn hold(st: &mut State, id: ClientId) {
    st.postponed.released.retain(|c| *c != id);
    if !st.postponed.held.contains(&id) {
        st.postponed.held.push_back(id);
    }
}

/// The pause is over: the held clients are released, in order.
pub fn end_pause(st: &mut State) {
    st.pause = None;
    let held: Vec<ClientId> = st.postponed.held.drain(..).collect();
    st.postponed.released.extend(held);
    wake(st);
}

/// Whether the client may run its next command now: not while clients released before it have
/// not run theirs. Its own turn taken, the next one's comes.
pub fn may_run(st: &mut State, id: ClientId) -> bool {
    if st.postponed.released.front() == Some(&id) {
        st.postponed.released.pop_front();
        wake(st);
        return true;
    }
    !st.postponed.released.contains(&id)
}

/// The client is gone: it leaves both lines (letting the next one run if it was first).
pub fn forget(st: &mut State, id: ClientId) {
    if st.postponed.contains(id) {
        st.postponed.held.retain(|c| *c != id);
        st.postponed.released.retain(|c| *c != id);
        wake(st);
    }
}

fn wake(st: &mut State) {
    st.postponed.epoch += 1;
    st.pause_notify.notify_waiters();
}
