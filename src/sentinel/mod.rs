//! Redis Sentinel 7.0 (issue 8), being built in steps. So far: the state a sentinel persists in
//! `sentinel.conf` and the reading and rewriting of that file, which `redisctl check` uses to
//! refuse the statements Redis Sentinel refuses. Nothing here starts Sentinel mode yet.
//!
//! * [`model`]: [`SentinelConfig`] and [`MasterConfig`], plain data, what the file holds.
//! * [`instance`]: what a sentinel learns of an instance: INFO as Sentinel reads it, the hello
//!   message, and how events name instances.
//! * [`state`]: the running state (masters, replicas, fellow sentinels, epochs, votes, events)
//!   and Sentinel's decisions on it: voting, counting a leader, ODOWN, choosing the replica to
//!   promote.
//! * [`commands`]: the SENTINEL command's subcommands and the `# Sentinel` INFO section.
//! * [`timing`]: the time parameters (SENTINEL DEBUG).
//! * [`config`]: [`config::parse`] the `sentinel` statements exactly like Redis (the three
//!   passes, the checks and their messages), [`config::rewrite`] a config document with the
//!   state, and [`config::flush`] it to disk atomically.

pub mod commands;
pub mod config;
pub mod instance;
pub mod model;
pub mod state;
pub mod timing;

pub use model::{CommandRename, KnownReplica, KnownSentinel, MasterConfig, SentinelConfig};
