//! Databases, values and expiry.

pub mod access;
pub mod db;
pub mod digest;
pub mod entry;
pub mod evict;
pub mod value;

pub use db::{Db, Entry, Ttl};
pub use value::Value;
