//! Client-side caching (CLIENT TRACKING), a core service as Redis's tracking.c: which clients may
//! hold which keys, and the invalidation messages a change of a key sends them. In the default
//! mode the keys a client read are remembered (per key, the ids of its readers); in BCAST mode
//! every change of a key under one of the client's prefixes is broadcast once per command batch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use hashbrown::HashMap;

use super::state::{ClientId, State};
use crate::protocol::Reply;

/// The channel a RESP2 redirect target receives invalidations on.
pub const INVALIDATE_CHANNEL: &str = "__redis__:invalidate";

/// A client's tracking options (its CLIENT_TRACKING_* flags).
#[derive(Debug, Clone, Default)]
pub struct ClientTracking {
    /// The client that receives this one's invalidations; 0: itself.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING was given for the next command (or transaction).
    pub caching: bool,
    /// The redirect client went away (flag R in CLIENT LIST).
    pub broken_redirect: bool,
    /// BCAST prefixes, in Redis's (byte) order.
    pub prefixes: BTreeSet<Bytes>,
}

/// The keys a broadcast prefix collects between two broadcasts, and its clients.
#[derive(Default)]
struct Prefix {
    /// Each changed key, with the client that changed it last (NOLOOP clients skip their own).
    keys: BTreeMap<Bytes, Option<ClientId>>,
    clients: BTreeSet<ClientId>,
}

#[derive(Default)]
pub struct Tracking {
    /// Key -> the ids of the clients that read it since it last changed.
    table: HashMap<Bytes, BTreeSet<ClientId>>,
    total_items: u64,
    prefixes: BTreeMap<Bytes, Prefix>,
    /// Clients with tracking on (INFO tracking_clients).
    pub clients: usize,
    /// The client whose command runs (Redis's current_client): its own invalidations wait until
    /// after its reply, and NOLOOP spares it.
    pub current: Option<ClientId>,
    /// Depth of command execution (Redis's fixed_time_expire): while above 0 the current
    /// client's invalidations are held in `pending`.
    pub in_call: u32,
    /// The keys a running script declared (EVAL's KEYS, FCALL's): what a read of the script
    /// makes its caller track, as Redis remembers the keys of the caller's command.
    pub script_keys: Option<Vec<Bytes>>,
    /// The current client's invalidations held back (None: a flush's null invalidation).
    pending: Vec<Option<Bytes>>,
    /// Rounds in a row the table stayed over tracking-table-max-keys (the eviction effort).
    over_limit_rounds: u32,
}

/// What an invalidation names: one key, several (a broadcast) or everything (a flush).
enum Keys {
    One(Bytes),
    Many(Vec<Bytes>),
    All,
}

impl Keys {
    /// The keys part of the message. A flush's null is in the tracking client's protocol even
    /// when a redirect client of the other protocol receives it (Redis builds it beforehand).
    fn reply(&self, tracker_resp: u8) -> Reply {
        match self {
            Keys::One(k) => Reply::Array(vec![Reply::bulk(k)]),
            Keys::Many(ks) => Reply::Array(ks.iter().map(Reply::bulk).collect()),
            Keys::All => Reply::Encoded(if tracker_resp > 2 { b"_\r\n".to_vec() } else { b"$-1\r\n".to_vec() }),
        }
    }

    fn size(&self) -> usize {
        match self {
            Keys::One(k) => k.len() + 16,
            Keys::Many(ks) => ks.iter().map(|k| k.len() + 16).sum(),
            Keys::All => 8,
        }
    }
}

impl Tracking {
    /// Whether a key change can concern anyone (TrackingTable/PrefixTable non-empty).
    pub fn active(&self) -> bool {
        !self.table.is_empty() || !self.prefixes.is_empty()
    }

    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    pub fn total_items(&self) -> u64 {
        self.total_items
    }

    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }
}

/// The first prefix of `new` that overlaps (one is a prefix of the other) with one the client
/// has or with a later one of `new`, as Redis's error text (checkPrefixCollisionsOrReply).
pub fn prefix_collision(existing: &BTreeSet<Bytes>, new: &[Bytes]) -> Option<String> {
    let overlaps = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlaps(e, p)) {
            return Some(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(e)
            ));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlaps(p, q)) {
            return Some(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(q)
            ));
        }
    }
    None
}

/// CLIENT TRACKING ON with checked options (enableTracking): the flags are replaced, CACHING
/// kept, BCAST prefixes added to those the client has.
pub fn enable(st: &mut State, id: ClientId, redirect: u64, opts: ClientTracking, prefixes: &[Bytes]) {
    let Some(ci) = st.clients.get_mut(&id) else { return };
    let t = ci.tracking.get_or_insert_with(|| {
        st.tracking.clients += 1;
        Box::default()
    });
    t.redirect = redirect;
    t.broken_redirect = false;
    t.bcast = opts.bcast;
    t.optin = opts.optin;
    t.optout = opts.optout;
    t.noloop = opts.noloop;
    if opts.bcast {
        let wanted: Vec<Bytes> = if prefixes.is_empty() { vec![Bytes::new()] } else { prefixes.to_vec() };
        for p in wanted {
            let entry = st.tracking.prefixes.entry(p.clone()).or_default();
            if entry.clients.insert(id) {
                t.prefixes.insert(p);
            }
        }
    }
}

/// CLIENT TRACKING OFF, RESET, disconnection (disableTracking).
pub fn disable(st: &mut State, id: ClientId) {
    let Some(t) = st.clients.get_mut(&id).and_then(|ci| ci.tracking.take()) else { return };
    forget(st, id, &t);
}

/// Drops what the tracking tables hold for a client that is gone or stopped tracking. Its ids
/// in the key table stay until those keys change, as in Redis (they count in total_items).
pub fn forget(st: &mut State, id: ClientId, t: &ClientTracking) {
    for p in &t.prefixes {
        if let Some(entry) = st.tracking.prefixes.get_mut(p) {
            entry.clients.remove(&id);
            if entry.clients.is_empty() {
                st.tracking.prefixes.remove(p);
            }
        }
    }
    st.tracking.clients = st.tracking.clients.saturating_sub(1);
}

/// After a read command: the keys the caller read, remembered for its invalidations in the
/// default mode, unless OPTIN without CACHING YES or OPTOUT with CACHING NO (trackingRememberKeys).
pub fn remember_keys(st: &mut State, caller: ClientId, keys: impl Iterator<Item = Bytes>) {
    let Some(t) = st.clients.get(&caller).and_then(|ci| ci.tracking.as_deref()) else { return };
    if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
        return;
    }
    for key in keys {
        let readers = match st.tracking.table.get_mut(&key[..]) {
            Some(readers) => readers,
            // A copy: the key may be a slice of the client's read buffer, which it would pin.
            None => st.tracking.table.entry(Bytes::copy_from_slice(&key)).or_default(),
        };
        if readers.insert(caller) {
            st.tracking.total_items += 1;
        }
    }
}

/// Whether the client tracks keys in the default mode (its reads are to be remembered).
pub fn remembers_reads(st: &State, id: ClientId) -> bool {
    st.clients.get(&id).and_then(|ci| ci.tracking.as_deref()).is_some_and(|t| !t.bcast)
}

/// Ends the effect of CLIENT CACHING (after a command outside MULTI other than CLIENT's).
pub fn clear_caching(st: &mut State, id: ClientId) {
    if let Some(t) = st.clients.get_mut(&id).and_then(|ci| ci.tracking.as_deref_mut()) {
        t.caching = false;
    }
}

/// A key changed (trackingInvalidateKey): its readers are told, and the BCAST prefixes it falls
/// under collect it. `by` is the client that changed it, if one did (for BCAST's NOLOOP).
pub fn invalidate_key(st: &mut State, by: Option<ClientId>, key: &[u8], bcast: bool) {
    if bcast && !st.tracking.prefixes.is_empty() {
        for (p, entry) in st.tracking.prefixes.iter_mut() {
            if key.starts_with(p) {
                entry.keys.insert(Bytes::copy_from_slice(key), by);
            }
        }
    }
    let Some(ids) = st.tracking.table.remove(key) else { return };
    st.tracking.total_items -= ids.len() as u64;
    let key = Bytes::copy_from_slice(key);
    for id in ids {
        // Clients gone, no longer tracking, or switched to BCAST since they read it.
        let Some(t) = st.clients.get(&id).and_then(|ci| ci.tracking.as_deref()) else { continue };
        if t.bcast {
            continue;
        }
        let is_current = st.tracking.current == Some(id);
        if t.noloop && is_current {
            continue;
        }
        // The current client's invalidations follow its reply (trackingHandlePendingKeyInvalidations).
        if is_current && st.tracking.in_call > 0 {
            st.tracking.pending.push(Some(key.clone()));
        } else {
            send(st, id, &Keys::One(key.clone()), None);
        }
    }
}

/// FLUSHDB, FLUSHALL, SWAPDB...: every tracking client gets a null invalidation (the current one
/// after its reply), and the key table is emptied (trackingInvalidateKeysOnFlush).
pub fn invalidate_all(st: &mut State) {
    if st.tracking.clients > 0 {
        let ids: Vec<ClientId> = st.clients.values().filter(|c| c.tracking.is_some()).map(|c| c.id).collect();
        for id in ids {
            if st.tracking.current == Some(id) && st.tracking.in_call > 0 {
                st.tracking.pending.push(None);
            } else {
                send(st, id, &Keys::All, None);
            }
        }
    }
    st.tracking.table.clear();
    st.tracking.total_items = 0;
}

/// After a command: the current client's held-back invalidations, written after its reply
/// (into `after_reply`, which CLIENT REPLY OFF does not silence).
pub fn send_pending(st: &mut State, after_reply: &mut Vec<Arc<Reply>>) {
    if st.tracking.pending.is_empty() {
        return;
    }
    let Some(me) = st.tracking.current else {
        st.tracking.pending.clear();
        return;
    };
    for key in std::mem::take(&mut st.tracking.pending) {
        let keys = match key {
            Some(k) => Keys::One(k),
            None => Keys::All,
        };
        send(st, me, &keys, Some((me, &mut *after_reply)));
    }
}

/// Sends each BCAST client the keys changed under its prefixes since the last broadcast
/// (trackingBroadcastInvalidationMessages, run by Redis before it sleeps: here after a
/// connection's batch of commands). What is for `mine`'s client is put there instead of sent,
/// for its connection to write after its replies.
pub fn broadcast(st: &mut State, mut mine: Option<(ClientId, &mut Vec<Arc<Reply>>)>) {
    if st.tracking.clients == 0 || st.tracking.prefixes.values().all(|p| p.keys.is_empty()) {
        return;
    }
    let mut messages: Vec<(ClientId, Keys)> = Vec::new();
    for entry in st.tracking.prefixes.values_mut() {
        let keys = std::mem::take(&mut entry.keys);
        if keys.is_empty() {
            continue;
        }
        for &id in &entry.clients {
            let noloop = st.clients.get(&id).and_then(|c| c.tracking.as_deref()).is_some_and(|t| t.noloop);
            let names: Vec<Bytes> =
                keys.iter().filter(|(_, by)| !noloop || **by != Some(id)).map(|(k, _)| k.clone()).collect();
            if !names.is_empty() {
                messages.push((id, Keys::Many(names)));
            }
        }
    }
    for (id, keys) in messages {
        send(st, id, &keys, mine.as_mut().map(|(me, out)| (*me, &mut **out)));
    }
}

/// tracking-table-max-keys: while the key table is over the limit, keys are invalidated (their
/// readers told) until it is not, with an effort that grows with each round it stays over
/// (trackingLimitUsedSlots).
pub fn limit_table(st: &mut State) {
    if st.tracking.clients == 0 && st.tracking.table.is_empty() {
        return;
    }
    let max = st.config.int(crate::ckey!("tracking-table-max-keys")).max(0) as usize;
    if max == 0 || st.tracking.table.len() <= max {
        st.tracking.over_limit_rounds = 0;
        return;
    }
    let effort = 100 * (st.tracking.over_limit_rounds as usize + 1);
    for _ in 0..effort {
        let Some(key) = st.tracking.table.keys().next().cloned() else { break };
        invalidate_key(st, None, &key, false);
        if st.tracking.table.len() <= max {
            st.tracking.over_limit_rounds = 0;
            return;
        }
    }
    st.tracking.over_limit_rounds += 1;
}

/// One invalidation for a tracking client (sendTrackingMessage): to its redirect client when it
/// has one, as a RESP3 `invalidate` push, or as a message on `__redis__:invalidate` to a RESP2
/// redirect client in the subscribed state; a RESP2 client without redirect gets nothing. A
/// redirect client that is gone marks the tracking client broken, and a RESP3 one is told.
fn send(st: &mut State, id: ClientId, keys: &Keys, mine: Option<(ClientId, &mut Vec<Arc<Reply>>)>) {
    let Some(ci) = st.clients.get(&id) else { return };
    let Some(t) = ci.tracking.as_deref() else { return };
    let redirect = t.redirect;
    let tracker_resp = ci.resp;
    let mut receiver = id;
    if redirect != 0 {
        if !st.clients.contains_key(&redirect) {
            let resp = ci.resp;
            if let Some(t) = st.clients.get_mut(&id).and_then(|c| c.tracking.as_deref_mut()) {
                t.broken_redirect = true;
            }
            if resp > 2 {
                let msg =
                    Arc::new(Reply::Push(vec![Reply::bulk("tracking-redir-broken"), Reply::Int(redirect as i64)]));
                deliver(st, id, msg, 40, mine);
            }
            return;
        }
        receiver = redirect;
    }
    let Some(rc) = st.clients.get(&receiver) else { return };
    let msg = if rc.resp > 2 {
        Reply::Push(vec![Reply::bulk("invalidate"), keys.reply(tracker_resp)])
    } else if redirect != 0 && rc.subscriptions() > 0 {
        Reply::Push(vec![Reply::bulk("message"), Reply::bulk(INVALIDATE_CHANNEL), keys.reply(tracker_resp)])
    } else {
        return;
    };
    deliver(st, receiver, Arc::new(msg), keys.size() + 40, mine);
}

/// Queues a message for `to`, or keeps it in `mine` when it is that client's.
fn deliver(st: &mut State, to: ClientId, msg: Arc<Reply>, size: usize, mine: Option<(ClientId, &mut Vec<Arc<Reply>>)>) {
    match mine {
        Some((me, out)) if me == to => out.push(msg),
        _ => super::pubsub::send_push(st, to, &msg, size),
    }
}
