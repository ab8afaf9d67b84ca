//! The collection types stored in values: their data structures and encodings (compact forms for
//! small collections, converted one way to the large forms as Redis does). Commands live in
//! `commands/`; these modules know nothing of the protocol.

pub mod compact;
pub mod dense;
pub mod encoding;
pub mod geohash;
pub mod hash;
pub mod hyperloglog;
pub mod list;
pub mod listpack;
pub mod set;
pub mod stream;
pub mod zset;

pub use compact::CompactBytes;
pub use dense::{Dense, Keyed};
pub use encoding::EncodingLimits;
pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use zset::ZSet;
