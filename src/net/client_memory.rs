//! A connection's part in maxmemory-clients: what its client uses, measured from the buffers the
//! connection holds (fresher than what it last published for CLIENT LIST), reported at the points
//! Redis measures a client, and whether the check that follows evicted the client itself.

use std::sync::atomic::Ordering;

use crate::server::client_eviction as eviction;
use crate::server::state::{ClientId, ClientInfo, State};

/// The connection's own buffers: its query buffer's allocation, the output not written yet and
/// the arguments of a command still arriving.
#[derive(Clone, Copy)]
pub struct Held {
    pub query_alloc: usize,
    pub out: usize,
    /// The complete arguments of a command still arriving, with their handles.
    pub argv: usize,
}

/// What the client uses now (getClientMemoryUsage), its output being what the connection holds
/// rather than what it last published.
pub fn usage(ci: &ClientInfo, held: Held) -> usize {
    let published = ci.unwritten.load(Ordering::Relaxed);
    ci.memory_with(held.argv, held.query_alloc).saturating_sub(published) + held.out
}

/// updateClientMemUsageAndBucket for the connection's own client.
pub fn measure(st: &mut State, id: ClientId, held: Held) {
    if let Some(ci) = st.clients.get(&id) {
        let mem = usage(ci, held);
        eviction::update(st, id, mem);
    }
}

/// Measures the client and evicts whoever is over the limit. True: the client itself was
/// evicted.
pub fn evicts_itself(st: &mut State, id: ClientId, held: Held, now_ms: u64) -> bool {
    measure(st, id, held);
    eviction::evict(st, Some(id), now_ms)
}
