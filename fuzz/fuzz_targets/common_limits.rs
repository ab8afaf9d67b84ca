// Shared by the RDB and DUMP targets (included with `include!`): the encoding limits a loaded
// value is converted under, picked by the input, and the check that what was loaded dumps and
// loads again.

use redis_rs::keyspace::Value;
use redis_rs::persistence::rdb::{payload_value, value_payload, verify_payload};
use redis_rs::types::EncodingLimits;

/// Redis's defaults, or tiny limits so that loading converts encodings (listpack to hashtable,
/// intset to hashtable...) on small inputs too.
fn limits(tiny: bool) -> EncodingLimits {
    if tiny {
        EncodingLimits {
            list_max_listpack_size: 2,
            hash_max_listpack_entries: 2,
            hash_max_listpack_value: 4,
            set_max_intset_entries: 2,
            zset_max_listpack_entries: 2,
            zset_max_listpack_value: 4,
            stream_node_max_bytes: 64,
            stream_node_max_entries: 2,
        }
    } else {
        EncodingLimits::default()
    }
}

/// A value this server loaded is one it can DUMP, and RESTORE reads that payload back.
fn dumps_and_loads_again(value: &Value, limits: &EncodingLimits, compression: bool) {
    let payload = match value_payload(value, compression, limits.list_max_listpack_size) {
        Ok(p) => p,
        Err(e) => panic!("a loaded value cannot be dumped: {e}"),
    };
    assert!(verify_payload(&payload, false).is_some(), "our own DUMP payload fails its check");
    if let Err(e) = payload_value(&payload, limits) {
        panic!("our own DUMP payload of a loaded value is refused: {e}");
    }
}
