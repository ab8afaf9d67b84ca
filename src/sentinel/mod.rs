//! Redis Sentinel 7.0 (issue 8): `redis-server-rs --sentinel` and `redis-sentinel-rs`.
//!
//! * [`model`]: [`SentinelConfig`] and [`MasterConfig`], plain data, what the file holds.
//! * [`instance`]: what a sentinel learns of an instance: INFO as Sentinel reads it, the hello
//!   message, and how events name instances.
//! * [`state`]: the running state (masters, replicas, fellow sentinels, epochs, votes, events)
//!   and Sentinel's decisions on it: voting, counting a leader, ODOWN, choosing the replica to
//!   promote.
//! * [`link`]: a connection to an instance (cmd or pub/sub) that pipelines commands and reports
//!   replies, hello messages and its end to the event loop.
//! * [`failover`]: the failover state machine and the reconfiguration of misplaced instances.
//! * [`monitor`]: the monitoring loop: links, PING/INFO/hello, discovery, SDOWN/ODOWN, asking
//!   the other sentinels.
//! * [`commands`]: the SENTINEL command's subcommands and the `# Sentinel` INFO section.
//! * [`simulate`]: SENTINEL SIMULATE-FAILURE's crash points.
//! * [`timing`]: the time parameters (SENTINEL DEBUG).
//! * [`scripts`]: notification-script and client-reconfig-script runs.
//! * [`config`]: [`config::parse`] the `sentinel` statements exactly like Redis (the three
//!   passes, the checks and their messages), [`config::rewrite`] a config document with the
//!   state, and [`config::flush`] it to disk atomically.

pub mod commands;
pub mod config;
pub mod failover;
pub mod instance;
pub mod link;
pub mod model;
pub mod monitor;
pub mod scripts;
pub mod simulate;
pub mod state;
pub mod timing;

pub use model::{CommandRename, KnownReplica, KnownSentinel, MasterConfig, SentinelConfig};
