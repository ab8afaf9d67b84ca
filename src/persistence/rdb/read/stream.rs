//! STREAM_LISTPACKS (15, Redis 5 and 6) and STREAM_LISTPACKS_2 (19, Redis 7.0) as rdbLoadObject
//! reads them: the nodes (master ID, listpack) as they are, the counters, then the consumer
//! groups with their PELs and consumers. Every node is validated before it is used.

use std::io::Read;

use super::{code, Input, LoadError};
use crate::keyspace::Value;
use crate::types::stream::{node, Stream, StreamId, StreamMeta};

pub(super) fn read_stream<R: Read>(r: &mut Input<R>, value_type: u8) -> Result<Value, LoadError> {
    let v2 = value_type == code::STREAM_LISTPACKS_2;
    let count = r.length()?;
    let mut nodes = crate::types::stream::NodeMap::new();
    let mut live_total: u64 = 0;
    let mut prev_last: Option<StreamId> = None;
    for _ in 0..count {
        let key_at = r.offset;
        let key = r.string()?;
        let master_id = StreamId::from_be_bytes(&key)
            .ok_or_else(|| r.error_at(key_at, "Stream node key entry is not the size of a stream ID"))?;
        let lp_at = r.offset;
        let lp = r.string()?;
        let checked = node::validate(&lp, master_id)
            .map_err(|e| r.error_at(lp_at, format!("Stream listpack integrity check failed: {e}")))?;
        if prev_last.is_some_and(|p| master_id <= p) {
            let message = if nodes.contains(master_id) {
                "Listpack re-added with existing key"
            } else {
                "Stream nodes out of order or overlapping"
            };
            return Err(r.error_at(key_at, message));
        }
        prev_last = Some(checked.last_id);
        live_total += checked.live;
        nodes.push(master_id, lp);
    }
    let meta_at = r.offset;
    let mut meta = StreamMeta { length: r.length()?, ..StreamMeta::default() };
    meta.last_id = id(r)?;
    if v2 {
        meta.first_id = id(r)?;
        meta.max_deleted_entry_id = id(r)?;
        meta.entries_added = r.length()?;
    } else {
        meta.entries_added = meta.length;
    }
    if meta.length > 0 && nodes.is_empty() {
        return Err(r.error_at(meta_at, "Stream length inconsistent with rax entries"));
    }
    if meta.length != live_total {
        return Err(
            r.error_at(meta_at, format!("Stream length {} but its nodes hold {live_total} entries", meta.length))
        );
    }
    if prev_last.is_some_and(|last| last > meta.last_id) {
        return Err(r.error_at(meta_at, "Stream last ID below its last entry"));
    }
    let mut s = Stream::from_parts(nodes, meta);
    if !v2 {
        let first = s.edge_id(true, true);
        s.set_first_id(if s.is_empty() { StreamId::MIN } else { first });
    }

    let groups = r.length()?;
    for _ in 0..groups {
        let name_at = r.offset;
        let name = r.string()?;
        let last_id = id(r)?;
        let entries_read = if v2 {
            // -1 (SCG_INVALID_ENTRIES_READ) is written as a 64-bit length.
            let n = r.length()?;
            (n != u64::MAX).then_some(n)
        } else {
            s.estimate_distance_from_first_ever_entry(last_id)
        };
        if s.create_group(&name, last_id, entries_read).is_none() {
            return Err(
                r.error_at(name_at, format!("Duplicated consumer group name {}", String::from_utf8_lossy(&name)))
            );
        }
        let pel = r.length()?;
        let mut group_pel = Vec::new();
        for _ in 0..pel {
            let id_at = r.offset;
            let raw: [u8; 16] = r.array()?;
            let time = i64::from_le_bytes(r.array()?);
            let count = r.length()?;
            group_pel.push((id_at, StreamId::from_be_bytes(&raw).unwrap_or_default(), time, count));
        }
        let group = s.group_mut(&name).ok_or_else(|| r.error_at(name_at, "consumer group vanished"))?;
        for (id_at, id, time, count) in group_pel {
            if !group.insert_pending(id, time, count) {
                return Err(r.error_at(id_at, "Duplicated global PEL entry loading stream consumer group"));
            }
        }
        let consumers = r.length()?;
        for _ in 0..consumers {
            let cname_at = r.offset;
            let cname = r.string()?;
            let seen = i64::from_le_bytes(r.array()?);
            let group = s.group_mut(&name).ok_or_else(|| r.error_at(name_at, "consumer group vanished"))?;
            if !group.create_consumer(&cname, seen) {
                return Err(r.error_at(cname_at, "Duplicate stream consumer detected."));
            }
            let owned = r.length()?;
            for _ in 0..owned {
                let id_at = r.offset;
                let raw: [u8; 16] = r.array()?;
                let id = StreamId::from_be_bytes(&raw).unwrap_or_default();
                let group = s.group_mut(&name).ok_or_else(|| r.error_at(name_at, "consumer group vanished"))?;
                match group.pel.get(&id) {
                    None => return Err(r.error_at(id_at, "Consumer entry not found in group global PEL")),
                    Some(n) if !n.consumer.is_empty() => {
                        return Err(r.error_at(id_at, "Stream consumer PEL entry already has a consumer assigned"))
                    }
                    Some(_) => {}
                }
                group.attach(&cname, id);
            }
        }
        let group = s.group(&name).ok_or_else(|| r.error_at(name_at, "consumer group vanished"))?;
        if group.orphans() > 0 {
            return Err(r.error_at(name_at, "Stream CG PEL entry without consumer"));
        }
    }
    Ok(Value::Stream(Box::new(s)))
}

/// An ID as two lengths (ms, seq).
fn id<R: Read>(r: &mut Input<R>) -> Result<StreamId, LoadError> {
    let ms = r.length()?;
    Ok(StreamId::new(ms, r.length()?))
}
