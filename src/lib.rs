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
//! | util | `util` (numbers, glob, splitargs, time, sys), `alloc`, `logging`, `crash` (the bug report of a crash), `systemd`, `capabilities` |
//! | protocol and config | `protocol` (RESP), `config` (directive table, parsing, the config-file document), `client` (the one RESP client), `tls` (OpenSSL contexts from the tls-* directives, handshakes) |
//! | types | `types`: collections and their encodings |
//! | keyspace | `keyspace`: databases, entries, expiry, eviction policy over `&[Db]` |
//! | codecs and engines | `persistence::rdb`, `persistence::aof` (bytes in, values out); `acl` (users, rules, the permission check and log, from a catalog of commands it is given); `sentinel` (Sentinel's monitoring, failover and config, knowing nothing of the data server); `scripting` (the Lua engine of EVAL and FUNCTION, driven through `ScriptHost`) |
//! | core | `server`: the shared handle, the state its lock protects, the command model (session, context, table types), and the core services (pub/sub, keyspace notifications, blocking, propagation, eviction, shutdown flags, Sentinel's announcements) |
//! | runtimes | `persistence` (snapshots, AOF writing, loading), `replication` |
//! | commands | `commands`: one file per family, the command table |
//! | network runtime | `net`: listeners, connections, the cron, start-up and the end of the process, Sentinel's loop |
//! | programs | `startup`, `ctl` (redisctl), the thin mains in `src/bin` |

pub mod acl;
pub mod alloc;
pub mod capabilities;
pub mod client;
pub mod commands;
pub mod config;
pub mod crash;
pub mod ctl;
pub mod keyspace;
pub mod logging;
pub mod net;
pub mod persistence;
pub mod protocol;
pub mod replication;
pub mod scripting;
pub mod sentinel;
pub mod server;
pub mod startup;
pub mod systemd;
pub mod tls;
pub mod types;
pub mod util;

/// The Redis version we are compatible with and report (INFO, HELLO), so clients enable 7.0 features.
pub const REDIS_VERSION: &str = "7.0.15";
