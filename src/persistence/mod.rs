//! Persistence file formats.

pub mod rdb;
