//! Values stored under keys, and the string encodings Redis reports.

/// Strings up to this length are `embstr` in Redis (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
const EMBSTR_MAX: usize = 44;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is a canonical integer (Redis's `int` encoding).
    Int(i64),
    /// Any other string. `raw` marks one modified in place (APPEND, SETRANGE, SETBIT), which Redis
    /// reports as `raw` even when short.
    Str { bytes: Vec<u8>, raw: bool },
}

impl Value {
    /// A string value in the encoding Redis would choose for it (tryObjectEncoding).
    pub fn string(bytes: Vec<u8>) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = crate::util::numbers::parse_i64(&bytes) {
                return Value::Int(n);
            }
        }
        Value::Str { bytes, raw: false }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str { .. } => "string",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str { bytes, raw } => {
                if *raw || bytes.len() > EMBSTR_MAX {
                    "raw"
                } else {
                    "embstr"
                }
            }
        }
    }

    /// The string bytes, or None for a non-string type.
    pub fn as_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::Int(n) => Some(std::borrow::Cow::Owned(n.to_string().into_bytes())),
            Value::Str { bytes, .. } => Some(std::borrow::Cow::Borrowed(bytes)),
        }
    }

    /// Mutable string bytes for in-place edits; converts an `int` to `raw`.
    pub fn bytes_mut(&mut self) -> Option<&mut Vec<u8>> {
        if let Value::Int(n) = self {
            *self = Value::Str { bytes: n.to_string().into_bytes(), raw: true };
        }
        match self {
            Value::Str { bytes, raw } => {
                *raw = true;
                Some(bytes)
            }
            Value::Int(_) => None,
        }
    }

    /// Bytes of memory the value occupies beyond the entry itself (for MEMORY USAGE and INFO).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str { bytes, .. } => bytes.capacity(),
        }
    }
}
