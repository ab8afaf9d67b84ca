//! RESP2/RESP3: request parsing and reply encoding.

pub mod errors;
pub mod parser;
pub mod reply;

pub use reply::Reply;
