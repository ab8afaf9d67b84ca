//! redis-rs: a Redis 7.0-compatible server and Redis Sentinel, with `redisctl`.
//!
//! # Layers
//!
//! The modules form layers, and imports point down only: a module may name its own layer and the
//! ones below it, never one above. A lower layer that must reach up takes a function (AOF replay
//! and a replica's apply get the command executor injected) or emits an event the layer above
//! dispatches. From the bottom:
//!
//! | layer | modules |
//! |---|---|
//! | util | `util` (numbers, glob, splitargs, time, sys), `alloc`, `logging`, `systemd` |
//! | protocol and config | `protocol` (RESP), `config` (directive table, parsing, the config-file document), `client` (the one RESP client) |
//! | types | `types`: collections and their encodings |
//! | keyspace | `keyspace`: databases, entries, expiry, eviction policy over `&[Db]` |
//! | persistence codecs | `persistence::rdb`, `persistence::aof`: bytes in, values out |
//! | core services | `server::state`, `server::propagation`, `server::blocking`, `server::eviction` |
//! | runtimes | `persistence` (snapshots, AOF writing, loading), `replication`, `sentinel` |
//! | commands | `commands`: one file per family, the command table |
//! | network runtime | `server` (listeners, connections, cron, shutdown) |
//! | programs | `startup`, `ctl` (redisctl), the thin mains in `src/bin` |
//!
//! `tests/it/layers.rs` reads every `crate::` path in `src/` and fails on one that points up. The
//! imports that still do (listed there) are being removed; the list only shrinks.

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
