//! The command lines group changes are replayed as on replicas and in the AOF
//! (streamPropagateXCLAIM, streamPropagateGroupID, streamPropagateConsumerCreation): each one
//! idempotent, so that replaying it sets the state rather than repeating an action.

use bytes::Bytes;

use crate::commands::streams::id_bulk;
use crate::types::stream::{ConsumerGroup, Nack};

fn int(n: impl ToString) -> Bytes {
    Bytes::from(n.to_string())
}

/// XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID group-last-id: the
/// pending entry `id` (as the client spelt it) as `nack` has it now, or, when the entry is gone
/// from the stream, the removal of its pending entry.
pub(crate) fn xclaim_line(
    key: &Bytes,
    group_name: &Bytes,
    id: Bytes,
    nack: &Nack,
    group: &ConsumerGroup,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group_name.clone(),
        Bytes::from(nack.consumer.clone()),
        Bytes::from_static(b"0"),
        id,
        Bytes::from_static(b"TIME"),
        int(nack.delivery_time),
        Bytes::from_static(b"RETRYCOUNT"),
        int(nack.delivery_count),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        id_bulk(group.last_id),
    ]
}

/// XGROUP SETID key group last-id ENTRIESREAD n (-1 when unknown).
pub(crate) fn setid_line(key: &Bytes, group_name: &Bytes, group: &ConsumerGroup) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group_name.clone(),
        id_bulk(group.last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        int(group.entries_read.map_or(-1, |n| n as i64)),
    ]
}
