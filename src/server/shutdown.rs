//! What the core keeps of a shutdown: SHUTDOWN's flags, and a SHUTDOWN waiting for lagging
//! replicas. The shutdown itself (waiting, the final save, the exit) is `commands::shutdown`'s.

use super::state::ClientId;

/// SHUTDOWN's options that decide how it ends.
#[derive(Clone, Copy, Debug)]
pub struct ShutdownFlags {
    pub nosave: bool,
    pub save: bool,
    pub force: bool,
}

/// A SHUTDOWN that waits for its replicas (shutdown-timeout).
pub struct PendingShutdown {
    pub client: ClientId,
    pub how: ShutdownFlags,
    pub deadline_ms: u64,
}
