//! Placeholder until the ZSet type lands (issue 5).

#[derive(Debug, Clone, Default)]
pub struct ZSet {
    len: usize,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// OBJECT ENCODING's name for the current representation.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        0
    }
}
