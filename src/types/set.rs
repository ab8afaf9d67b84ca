//! Placeholder until the Set type lands (issue 5).

#[derive(Debug, Clone, Default)]
pub struct Set {
    len: usize,
}

impl Set {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The members, as byte strings (the sorted set operations read sets through this).
    pub fn iter(&self) -> std::iter::Empty<&[u8]> {
        std::iter::empty()
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
