//! Values stored under keys, in a 24-byte representation: integers and short strings inline,
//! longer strings behind a thin pointer, collections boxed.

use thin_vec::ThinVec;

use crate::types::stream::Stream;
use crate::types::{Hash, List, Set, ZSet};

/// Strings up to this length are `embstr` in Redis (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
const EMBSTR_MAX: usize = 44;
/// Strings up to this length live inside the value itself.
pub const SMALL_MAX: usize = 22;

/// A short string stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SmallStr {
    len: u8,
    data: [u8; SMALL_MAX],
}

impl SmallStr {
    pub fn new(b: &[u8]) -> Option<SmallStr> {
        if b.len() > SMALL_MAX {
            return None;
        }
        let mut data = [0u8; SMALL_MAX];
        data[..b.len()].copy_from_slice(b);
        Some(SmallStr { len: b.len() as u8, data })
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.data[..self.len as usize]
    }
}

impl std::fmt::Debug for SmallStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    /// A string that is a canonical integer (Redis's `int` encoding).
    Int(i64),
    /// A short string, inline.
    Small(SmallStr),
    /// Any other string. `raw` marks one modified in place (APPEND, SETRANGE, SETBIT), which Redis
    /// reports as `raw` even when short.
    Str {
        bytes: ThinVec<u8>,
        raw: bool,
    },
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

/// Strings compare by content whatever their representation; collections only to themselves
/// (tests compare strings; nothing compares collections by value).
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self.as_bytes(), other.as_bytes()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => std::ptr::eq(self, other),
            _ => false,
        }
    }
}

impl Value {
    /// A string value in the representation Redis would choose for it (tryObjectEncoding).
    pub fn string(bytes: impl AsRef<[u8]>) -> Value {
        let bytes = bytes.as_ref();
        if bytes.len() <= 20 {
            if let Some(n) = crate::util::numbers::parse_i64(bytes) {
                return Value::Int(n);
            }
        }
        match SmallStr::new(bytes) {
            Some(s) => Value::Small(s),
            None => Value::Str { bytes: ThinVec::from(bytes), raw: false },
        }
    }

    /// A string kept exactly as given, marked as modified in place (Redis's `raw`).
    pub fn raw_string(bytes: impl AsRef<[u8]>) -> Value {
        Value::Str { bytes: ThinVec::from(bytes.as_ref()), raw: true }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Small(_) | Value::Str { .. } => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Small(_) => "embstr",
            Value::Str { bytes, raw } => {
                if *raw || bytes.len() > EMBSTR_MAX {
                    "raw"
                } else {
                    "embstr"
                }
            }
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// The string bytes, or None for a non-string type.
    pub fn as_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::Int(n) => Some(std::borrow::Cow::Owned(n.to_string().into_bytes())),
            Value::Small(s) => Some(std::borrow::Cow::Borrowed(s.as_slice())),
            Value::Str { bytes, .. } => Some(std::borrow::Cow::Borrowed(bytes)),
            _ => None,
        }
    }

    /// Mutable string bytes for in-place edits; the value becomes `raw`.
    pub fn bytes_mut(&mut self) -> Option<&mut ThinVec<u8>> {
        match self {
            Value::Int(n) => *self = Value::raw_string(n.to_string()),
            Value::Small(s) => *self = Value::raw_string(s.as_slice()),
            Value::Str { .. } => {}
            _ => return None,
        }
        match self {
            Value::Str { bytes, raw } => {
                *raw = true;
                Some(bytes)
            }
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_list_mut(&mut self) -> Option<&mut List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_hash(&self) -> Option<&Hash> {
        match self {
            Value::Hash(h) => Some(h),
            _ => None,
        }
    }

    pub fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        match self {
            Value::Hash(h) => Some(h),
            _ => None,
        }
    }

    pub fn as_set(&self) -> Option<&Set> {
        match self {
            Value::Set(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_set_mut(&mut self) -> Option<&mut Set> {
        match self {
            Value::Set(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_zset(&self) -> Option<&ZSet> {
        match self {
            Value::ZSet(z) => Some(z),
            _ => None,
        }
    }

    pub fn as_zset_mut(&mut self) -> Option<&mut ZSet> {
        match self {
            Value::ZSet(z) => Some(z),
            _ => None,
        }
    }

    pub fn as_stream(&self) -> Option<&Stream> {
        match self {
            Value::Stream(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_stream_mut(&mut self) -> Option<&mut Stream> {
        match self {
            Value::Stream(s) => Some(s),
            _ => None,
        }
    }

    /// Heap bytes the value owns beyond its 24 inline bytes (MEMORY USAGE, INFO).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) | Value::Small(_) => 0,
            Value::Str { bytes, .. } => 16 + bytes.capacity(),
            Value::List(l) => std::mem::size_of::<List>() + l.heap_size(),
            Value::Hash(h) => std::mem::size_of::<Hash>() + h.heap_size(),
            Value::Set(s) => std::mem::size_of::<Set>() + s.heap_size(),
            Value::ZSet(z) => std::mem::size_of::<ZSet>() + z.heap_size(),
            Value::Stream(s) => std::mem::size_of::<Stream>() + s.heap_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_24_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn representations() {
        assert_eq!(Value::string("123"), Value::Int(123));
        assert_eq!(Value::string("0123").encoding(), "embstr");
        assert_eq!(Value::string(vec![b'a'; 30]).encoding(), "embstr");
        assert_eq!(Value::string(vec![b'a'; 45]).encoding(), "raw");
        let mut v = Value::string("abc");
        v.bytes_mut().unwrap().extend_from_slice(b"def");
        assert_eq!(v.as_bytes().unwrap().as_ref(), b"abcdef");
        assert_eq!(v.encoding(), "raw");
    }
}
