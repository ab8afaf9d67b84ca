//! What XREADGROUP does to a group as it answers (streamReplyWithRange with a group, and
//! streamReplyWithRangeFromConsumerPEL): the consumer made if new, new entries delivered (the
//! group's last ID and read counter moved, the PELs filled), or the consumer's history served;
//! and how replicas and the AOF learn it: an XCLAIM per delivered entry, XGROUP SETID after a
//! NOACK read, XGROUP CREATECONSUMER for a consumer a NOACK read made.

use bytes::Bytes;

use super::{entries_reply, entry_reply, id_bulk};
use crate::commands::{notify, Ctx};
use crate::protocol::Reply;
use crate::types::stream::{Nack, Stream, StreamId};

/// One stream read through a group.
pub(super) struct GroupRead<'a> {
    pub key: &'a Bytes,
    pub group: &'a Bytes,
    pub consumer: &'a Bytes,
    pub noack: bool,
}

fn stream_mut<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c mut Stream> {
    let db = ctx.session.db;
    ctx.state.dbs[db].get_mut(key).and_then(|e| e.value_mut().as_stream_mut())
}

/// Looks the consumer up (refreshing its seen-time) or creates it, with its notification
/// (streamLookupConsumer, then streamCreateConsumer).
fn ensure_consumer(ctx: &mut Ctx, r: &GroupRead) {
    let now = ctx.now_ms as i64;
    let Some(g) = stream_mut(ctx, r.key).and_then(|s| s.group_mut(r.group)) else { return };
    if g.lookup_consumer(r.consumer, Some(now)).is_some() {
        return;
    }
    g.create_consumer(r.consumer, now);
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-createconsumer", r.key);
    if r.noack {
        // No XCLAIM will carry the consumer to the replicas: it is created explicitly.
        let line = vec![
            Bytes::from_static(b"XGROUP"),
            Bytes::from_static(b"CREATECONSUMER"),
            r.key.clone(),
            r.group.clone(),
            r.consumer.clone(),
        ];
        ctx.propagate_as(|| line);
    }
}

/// Delivers the entries after `start` (at most `count`, 0 for all) to the consumer.
pub(super) fn new_entries(ctx: &mut Ctx, r: &GroupRead, start: StreamId, count: usize) -> Reply {
    ensure_consumer(ctx, r);
    let now = ctx.now_ms as i64;
    let Some(s) = stream_mut(ctx, r.key) else { return Reply::Array(Vec::new()) };
    let Some(g) = s.group(r.group) else { return Reply::Array(Vec::new()) };
    let limit = if count == 0 { usize::MAX } else { count };
    let mut ids = Vec::new();
    let reply = entries_reply(s.range(start, StreamId::MAX, false), limit, Some(&mut ids));
    // The group's last ID and read counter after each entry, worked out on the stream as it is.
    let (mut last_id, mut entries_read) = (g.last_id, g.entries_read);
    let mut moved = false;
    let mut after = Vec::with_capacity(ids.len());
    for &id in &ids {
        if id > last_id {
            if entries_read.is_some() && !s.range_has_tombstones(Some(id), None) {
                // A valid counter and no tombstone ahead: it counts on.
                entries_read = entries_read.map(|n| n + 1);
            } else if s.entries_added() != 0 {
                entries_read = s.estimate_distance_from_first_ever_entry(id);
            }
            last_id = id;
            moved = true;
        }
        after.push(last_id);
    }
    let Some(g) = s.group_mut(r.group) else { return Reply::Array(Vec::new()) };
    g.last_id = last_id;
    g.entries_read = entries_read;
    let mut claims = Vec::new();
    if !r.noack {
        for (&id, group_last) in ids.iter().zip(&after) {
            // A pending entry (the group's last ID moved back by XGROUP SETID) goes to this
            // consumer as if delivered for the first time.
            if let Some(old) = g.pel.get(&id).map(|n| n.consumer.clone()) {
                if let Some(c) = g.consumers.get_mut(&old) {
                    c.pel.remove(&id);
                }
            }
            let nack = Nack { delivery_time: now, delivery_count: 1, consumer: r.consumer.to_vec() };
            g.pel.insert(id, nack);
            if let Some(c) = g.consumers.get_mut(r.consumer.as_ref()) {
                c.pel.insert(id);
            }
            claims.push(xclaim_line(r, id, now, 1, *group_last));
        }
    }
    for line in claims {
        ctx.propagate_as(|| line);
    }
    if r.noack && moved {
        let line = vec![
            Bytes::from_static(b"XGROUP"),
            Bytes::from_static(b"SETID"),
            r.key.clone(),
            r.group.clone(),
            id_bulk(last_id),
            Bytes::from_static(b"ENTRIESREAD"),
            Bytes::from(entries_read.map_or(-1, |n| n as i64).to_string()),
        ];
        ctx.propagate_as(|| line);
    }
    reply
}

/// The idempotent XCLAIM a delivery replays as (streamPropagateXCLAIM).
fn xclaim_line(r: &GroupRead, id: StreamId, time: i64, count: u64, group_last: StreamId) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        r.key.clone(),
        r.group.clone(),
        r.consumer.clone(),
        Bytes::from_static(b"0"),
        id_bulk(id),
        Bytes::from_static(b"TIME"),
        Bytes::from(time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        id_bulk(group_last),
    ]
}

/// The consumer's own pending entries from `start` (at most `count`, 0 for all): each delivered
/// again (its time and count bumped), or, deleted since, its ID with a null in place of fields.
pub(super) fn history(ctx: &mut Ctx, r: &GroupRead, start: StreamId, count: usize) -> Reply {
    ensure_consumer(ctx, r);
    let now = ctx.now_ms as i64;
    let Some(s) = stream_mut(ctx, r.key) else { return Reply::Array(Vec::new()) };
    let limit = if count == 0 { usize::MAX } else { count };
    let ids: Vec<StreamId> = match s.group(r.group).and_then(|g| g.consumers.get(r.consumer.as_ref())) {
        Some(c) => c.pel.range(start..).take(limit).copied().collect(),
        None => return Reply::Array(Vec::new()),
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut redelivered = Vec::new();
    for id in ids {
        match s.range(id, id, false).next() {
            Some(e) => {
                out.push(entry_reply(e));
                redelivered.push(id);
            }
            None => out.push(Reply::Array(vec![Reply::Bulk(id.to_bytes()), Reply::NilArray])),
        }
    }
    if let Some(g) = s.group_mut(r.group) {
        for id in redelivered {
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        }
    }
    Reply::Array(out)
}
