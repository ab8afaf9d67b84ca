//! The monitoring loop (Redis's sentinelTimer and reply callbacks): links to every instance,
//! the periodic PING, INFO and hello, what their replies teach, and failure detection (SDOWN,
//! ODOWN, asking the other sentinels). The failover state machine builds on this.
//!
//! Everything runs on one task that owns the [`Runtime`]: ticks every 50–100 ms (the jitter
//! keeps sentinels from acting in lock-step) and link events as they come.
//!
//! This file holds the [`Runtime`] and its links (ids, sharing between records, release); the
//! loop's work is in parts, each an `impl Runtime` block:
//! * `timer`: one timer pass: TILT, reconnecting links, PING and INFO when due;
//! * `replies`: link events and replies, routed to the parts below;
//! * `info`: what an INFO reply teaches;
//! * `hello`: the hello messages, sent and received: fellow sentinels, epochs, configurations;
//! * `switch_master`: pointing a master record at a new address;
//! * `down`: failure detection: SDOWN, ODOWN, asking and hearing the other sentinels;
//! * `requests`: the SENTINEL command and the INFO section, served from the loop's state.

mod down;
mod hello;
mod info;
mod replies;
mod requests;
mod switch_master;
mod timer;

use hashbrown::HashMap;
use tokio::sync::mpsc::UnboundedSender;

use super::instance::InstanceId;
use super::link::{Link, LinkEvent};
use super::state::{Record, Sentinel};

pub use super::timing::Timings;

pub const HELLO_CHANNEL: &str = "__sentinel__:hello";

/// What a command sent on a link was, for its reply. A link to a sentinel may be shared by its
/// records under several masters, so the replies that belong to one record name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    Ping,
    Info,
    Publish(InstanceId),
    IsMasterDown(InstanceId),
    /// Replies Sentinel does not look at (the SLAVEOF transaction's).
    Ignored,
}

/// The two connections Sentinel keeps to a master or replica (only `cmd` to a sentinel).
pub(super) struct Links {
    pub(super) cmd: Option<Link<Tag>>,
    pub(super) pubsub: Option<Link<Tag>>,
    last_attempt_ms: u64,
    /// A master or replica has both links; a sentinel only `cmd`.
    wants_pubsub: bool,
    /// How many records use these links (Redis's link-refcount): a peer sentinel that watches
    /// several of the same masters has one record per master and one link.
    refcount: usize,
}

impl Links {
    fn new(wants_pubsub: bool) -> Links {
        Links { cmd: None, pubsub: None, last_attempt_ms: 0, wants_pubsub, refcount: 1 }
    }
}

/// Link ids: the instance id, and which of its two links.
fn link_id(instance: InstanceId, pubsub: bool) -> u64 {
    (instance << 1) | u64::from(pubsub)
}

fn instance_of(link: u64) -> (InstanceId, bool) {
    (link >> 1, link & 1 == 1)
}

pub struct Runtime {
    pub sentinel: Sentinel,
    pub timings: Timings,
    pub(super) links: HashMap<InstanceId, Links>,
    /// Records that use another record's links (sentinelTryConnectionSharing): record -> the
    /// key of the links in `links`.
    shared: HashMap<InstanceId, InstanceId>,
    events: UnboundedSender<LinkEvent<Tag>>,
    /// The port hellos announce when `announce-port` is not set.
    pub port: u16,
    pub tilt: bool,
    pub tilt_start_ms: u64,
    previous_tick_ms: u64,
    pub simulate_failure: super::simulate::SimulateFailure,
    /// This server's requirepass (kept current by the runner): what other sentinels are sent as
    /// AUTH when sentinel-pass is not set.
    pub requirepass: Option<bytes::Bytes>,
    /// With `tls-replication yes`, the TLS contexts (kept current by the runner): links to
    /// masters, replicas and peer sentinels are made over TLS (sentinelReconnectInstance).
    pub tls: Option<std::sync::Arc<crate::tls::Contexts>>,
}

pub use super::commands::LinkStatus;

impl Runtime {
    pub fn new(sentinel: Sentinel, port: u16, events: UnboundedSender<LinkEvent<Tag>>, now_ms: u64) -> Runtime {
        Runtime {
            sentinel,
            timings: Timings::default(),
            links: HashMap::new(),
            shared: HashMap::new(),
            events,
            port,
            tilt: false,
            tilt_start_ms: 0,
            previous_tick_ms: now_ms,
            simulate_failure: Default::default(),
            requirepass: None,
            tls: None,
        }
    }

    pub fn link_status(&self, id: InstanceId) -> LinkStatus {
        link_status_of(&self.links, &self.shared, id)
    }

    /// The key of the links record `id` uses (its own id unless it shares another's).
    fn link_key(&self, id: InstanceId) -> InstanceId {
        self.shared.get(&id).copied().unwrap_or(id)
    }

    /// A sentinel record about to open links uses the links of the same sentinel (run id and
    /// address) under another master instead, if there are some (sentinelTryConnectionSharing).
    fn share_sentinel_link(&mut self, m: usize, id: InstanceId) -> Option<InstanceId> {
        let record = self.sentinel.masters[m].find(id)?;
        let run_id = record.run_id.as_deref()?;
        let key = self
            .sentinel
            .masters
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != m)
            .flat_map(|(_, master)| &master.sentinels)
            .filter(|s| s.run_id.as_deref() == Some(run_id) && s.host == record.host && s.port == record.port)
            .map(|s| self.link_key(s.id))
            .find(|key| self.links.contains_key(key))?;
        self.shared.insert(id, key);
        if let Some(links) = self.links.get_mut(&key) {
            links.refcount += 1;
        }
        Some(key)
    }

    /// The records (master index, record id) that use the links under `key`.
    fn records_on_link(&self, key: InstanceId) -> Vec<(usize, InstanceId)> {
        let mut out = Vec::new();
        for (m, master) in self.sentinel.masters.iter().enumerate() {
            for id in master.instance_ids() {
                if self.link_key(id) == key {
                    out.push((m, id));
                }
            }
        }
        out
    }

    /// A record removed (or reset) lets go of its links; they close when no record uses them.
    pub fn forget_links(&mut self, id: InstanceId) {
        let key = self.shared.remove(&id).unwrap_or(id);
        if let Some(links) = self.links.get_mut(&key) {
            links.refcount = links.refcount.saturating_sub(1);
            if links.refcount == 0 {
                self.links.remove(&key);
            }
        }
    }

    fn find_mut(&mut self, id: InstanceId) -> Option<&mut Record> {
        self.sentinel.masters.iter_mut().find_map(|m| m.find_mut(id))
    }

    fn locate(&self, id: InstanceId) -> Option<usize> {
        self.sentinel.masters.iter().position(|m| m.find(id).is_some())
    }
}

fn link_status_of(
    links: &HashMap<InstanceId, Links>,
    shared: &HashMap<InstanceId, InstanceId>,
    id: InstanceId,
) -> LinkStatus {
    match links.get(shared.get(&id).unwrap_or(&id)) {
        // Redis's link->disconnected: set when either connection of a master or replica (the
        // one of a sentinel) is missing, cleared as soon as both are started again. A pub/sub
        // link that an -NOAUTH closed leaves its instance disconnected until it is reopened.
        Some(l) => LinkStatus {
            connected: l.cmd.as_ref().is_some_and(Link::is_open)
                && (!l.wants_pubsub || l.pubsub.as_ref().is_some_and(Link::is_open)),
            pending: l.cmd.as_ref().map_or(0, Link::pending),
            refcount: l.refcount,
        },
        None => LinkStatus { connected: false, pending: 0, refcount: 1 },
    }
}
