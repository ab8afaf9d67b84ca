//! Persistence: the RDB file format (rdb/), snapshots of the running server (snapshot.rs) and
//! loading (load.rs).

pub mod aof;
pub mod appendonly;
pub mod load;
pub mod rdb;
pub mod snapshot;
pub mod state;
