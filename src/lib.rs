//! redis-rs: a Redis 7.0-compatible server.

pub mod alloc;
pub mod client;
pub mod commands;
pub mod config;
pub mod ctl;
pub mod keyspace;
pub mod logging;
pub mod persistence;
pub mod protocol;
pub mod replication;
pub mod sentinel;
pub mod server;
pub mod startup;
pub mod systemd;
pub mod types;
pub mod util;

/// The Redis version we are compatible with and report (INFO, HELLO), so clients enable 7.0 features.
pub const REDIS_VERSION: &str = "7.0.15";
