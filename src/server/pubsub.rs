//! Pub/sub delivery, a core service: who is subscribed to what, and PUBLISH's delivery to
//! subscribers within their output buffer limits. The commands, keyspace notifications and
//! Sentinel's announcements all publish through it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use hashbrown::HashMap;

use super::state::{ClientId, Push, State};
use crate::protocol::Reply;
use crate::util::glob::string_match;

#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Bytes, Vec<ClientId>>,
    pub patterns: HashMap<Bytes, Vec<ClientId>>,
    /// Each client's channels and patterns.
    pub by_client: HashMap<ClientId, (Vec<Bytes>, Vec<Bytes>)>,
    /// Shard channels (SSUBSCRIBE): a namespace of their own, never matched by patterns.
    pub shard_channels: HashMap<Bytes, Vec<ClientId>>,
    /// Each client's shard channels, in subscription order.
    pub shard_by_client: HashMap<ClientId, Vec<Bytes>>,
}

/// Subscribes a client to a shard channel. False if it already was.
pub fn add_shard_subscription(st: &mut State, id: ClientId, name: &Bytes) -> bool {
    let ps = &mut st.pubsub;
    let mine = ps.shard_by_client.entry(id).or_default();
    if mine.contains(name) {
        return false;
    }
    mine.push(name.clone());
    ps.shard_channels.entry(name.clone()).or_default().push(id);
    true
}

/// Unsubscribes a client from a shard channel. False if it was not subscribed.
pub fn remove_shard_subscription(st: &mut State, id: ClientId, name: &Bytes) -> bool {
    let ps = &mut st.pubsub;
    let Some(mine) = ps.shard_by_client.get_mut(&id) else { return false };
    let Some(at) = mine.iter().position(|n| n == name) else { return false };
    mine.remove(at);
    if mine.is_empty() {
        ps.shard_by_client.remove(&id);
    }
    if let Some(subs) = ps.shard_channels.get_mut(name) {
        subs.retain(|c| *c != id);
        if subs.is_empty() {
            ps.shard_channels.remove(name);
        }
    }
    true
}

/// How many shard channels a client is subscribed to.
pub fn shard_count(st: &State, id: ClientId) -> usize {
    st.pubsub.shard_by_client.get(&id).map_or(0, Vec::len)
}

pub fn remove_subscription(st: &mut State, id: ClientId, name: &Bytes, pattern: bool) {
    let ps = &mut st.pubsub;
    if let Some(mine) = ps.by_client.get_mut(&id) {
        let list = if pattern { &mut mine.1 } else { &mut mine.0 };
        list.retain(|n| n != name);
    }
    let map = if pattern { &mut ps.patterns } else { &mut ps.channels };
    if let Some(subs) = map.get_mut(name) {
        subs.retain(|c| *c != id);
        if subs.is_empty() {
            map.remove(name);
        }
    }
}

/// Drops every subscription of a client (disconnect, RESET), shard channels included.
pub fn unsubscribe_all(st: &mut State, id: ClientId) {
    for name in st.pubsub.shard_by_client.get(&id).cloned().unwrap_or_default() {
        remove_shard_subscription(st, id, &name);
    }
    if let Some((chans, pats)) = st.pubsub.by_client.remove(&id) {
        for c in chans {
            if let Some(v) = st.pubsub.channels.get_mut(&c) {
                v.retain(|x| *x != id);
                if v.is_empty() {
                    st.pubsub.channels.remove(&c);
                }
            }
        }
        for p in pats {
            if let Some(v) = st.pubsub.patterns.get_mut(&p) {
                v.retain(|x| *x != id);
                if v.is_empty() {
                    st.pubsub.patterns.remove(&p);
                }
            }
        }
    }
}

/// Delivers a message to the channel's subscribers and matching patterns. Returns the receiver count.
pub fn publish(st: &mut State, channel: &Bytes, message: &Bytes) -> usize {
    publish_from(st, channel, message, None).0
}

/// Like `publish`; the messages for `me` (a RESP3 client publishing to its own channel) are returned
/// instead of queued, so the caller writes them right where Redis does: just before PUBLISH's own
/// reply, inside EXEC's array when in a transaction.
pub fn publish_from(st: &mut State, channel: &Bytes, message: &Bytes, me: Option<ClientId>) -> (usize, Vec<Reply>) {
    let mut receivers = 0;
    let mut mine = Vec::new();
    let now = crate::util::time::unix_ms();
    // Disjoint borrows: the subscriber lists are read while the receivers' clients are updated.
    let State { pubsub, clients, stats, hot, .. } = st;
    let mut out = Outboxes::new(clients, hot, now);
    if let Some(ids) = pubsub.channels.get(channel) {
        let msg = Arc::new(Reply::Push(vec![Reply::bulk("message"), Reply::bulk(channel), Reply::bulk(message)]));
        let size = channel.len() + message.len() + 40;
        for &id in ids {
            if Some(id) == me {
                mine.push((*msg).clone());
            } else {
                out.deliver(id, &msg, size);
            }
            receivers += 1;
        }
    }
    for (pat, ids) in pubsub.patterns.iter().filter(|(p, _)| string_match(p, channel, false)) {
        let msg = Arc::new(Reply::Push(vec![
            Reply::bulk("pmessage"),
            Reply::bulk(pat),
            Reply::bulk(channel),
            Reply::bulk(message),
        ]));
        let size = pat.len() + channel.len() + message.len() + 50;
        for &id in ids {
            if Some(id) == me {
                mine.push((*msg).clone());
            } else {
                out.deliver(id, &msg, size);
            }
            receivers += 1;
        }
    }
    stats.client_outbuf_limit_disconnections += out.dropped;
    stats.pubsub_channels_msgs += 1;
    let reached = out.reached;
    super::client_eviction::measure_receivers(st, &reached);
    (receivers, mine)
}

/// SPUBLISH: delivers `smessage` to the shard channel's subscribers (patterns never see it).
/// Like `publish_from`, what is for `me` is returned instead of queued.
pub fn publish_shard(st: &mut State, channel: &Bytes, message: &Bytes, me: ClientId) -> (usize, Vec<Reply>) {
    let mut mine = Vec::new();
    let now = crate::util::time::unix_ms();
    let State { pubsub, clients, stats, hot, .. } = st;
    let mut out = Outboxes::new(clients, hot, now);
    let ids = pubsub.shard_channels.get(channel).map(Vec::as_slice).unwrap_or_default();
    if !ids.is_empty() {
        let msg = Arc::new(Reply::Push(vec![Reply::bulk("smessage"), Reply::bulk(channel), Reply::bulk(message)]));
        let size = channel.len() + message.len() + 40;
        for &id in ids {
            if id == me {
                mine.push((*msg).clone());
            } else {
                out.deliver(id, &msg, size);
            }
        }
    }
    stats.client_outbuf_limit_disconnections += out.dropped;
    let (receivers, reached) = (ids.len(), out.reached);
    super::client_eviction::measure_receivers(st, &reached);
    (receivers, mine)
}

/// Queues a push for another client (an invalidation message), within its output buffer limits.
pub fn send_push(st: &mut State, id: ClientId, msg: &Arc<Reply>, size: usize) {
    let now = crate::util::time::unix_ms();
    let State { clients, stats, hot, .. } = st;
    let mut out = Outboxes::new(clients, hot, now);
    out.deliver(id, msg, size);
    stats.client_outbuf_limit_disconnections += out.dropped;
    let reached = out.reached;
    super::client_eviction::measure_receivers(st, &reached);
}

/// The receiving side of a PUBLISH: clients' queues and their output buffer limits.
struct Outboxes<'a> {
    clients: &'a mut hashbrown::HashMap<ClientId, crate::server::state::ClientInfo>,
    limits: [(u64, u64, u64); 3],
    dropped: u64,
    now: u64,
    /// Under maxmemory-clients, the clients a message was queued for: their usage grew (Redis
    /// measures each receiver as it adds the message).
    reached: Vec<ClientId>,
    measuring: bool,
}

impl<'a> Outboxes<'a> {
    fn new(
        clients: &'a mut hashbrown::HashMap<ClientId, crate::server::state::ClientInfo>,
        hot: &crate::server::state::HotConfig,
        now: u64,
    ) -> Outboxes<'a> {
        let measuring = hot.maxmemory_clients != 0;
        Outboxes { clients, limits: hot.output_limits, dropped: 0, now, reached: Vec::new(), measuring }
    }

    /// Queues a message for a client, enforcing client-output-buffer-limit for its class.
    fn deliver(&mut self, id: ClientId, msg: &Arc<Reply>, size: usize) {
        let Some(c) = self.clients.get_mut(&id) else { return };
        if c.signals.is_killed() {
            return;
        }
        let pending = c.pending.fetch_add(size, Ordering::Relaxed) + size + c.unwritten.load(Ordering::Relaxed);
        if c.output_limit_reached(&self.limits, pending as u64, self.now) {
            let info = crate::server::state::client_info_line(c, self.now);
            tracing::warn!("Client {info} scheduled to be closed ASAP for overcoming of output buffer limits.");
            c.signals.kill();
            self.dropped += 1;
            return;
        }
        let _ = c.tx.send(Push::Reply(msg.clone()));
        if self.measuring {
            self.reached.push(id);
        }
    }
}
