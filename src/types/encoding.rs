//! Where the compact encodings end: a property of the collection types, set from the config.

/// When a collection leaves its compact encoding (the *-max-listpack-* and set-max-intset-entries
/// directives). Conversions only go one way, as in Redis.
#[derive(Clone, Copy, Debug)]
pub struct EncodingLimits {
    /// list-max-listpack-size: positive = entries per node, negative = node size class (-1..-5 =
    /// 4..64 KiB).
    pub list_max_listpack_size: i64,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: usize,
}

impl EncodingLimits {
    pub fn stream_nodes(&self) -> crate::types::stream::NodeLimits {
        crate::types::stream::NodeLimits {
            max_bytes: self.stream_node_max_bytes,
            max_entries: self.stream_node_max_entries,
        }
    }
}

impl Default for EncodingLimits {
    /// Redis's defaults.
    fn default() -> EncodingLimits {
        EncodingLimits {
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
        }
    }
}
