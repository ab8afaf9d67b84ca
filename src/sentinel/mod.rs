//! Redis Sentinel 7.0 (issue 8), being built in steps. So far: the state a sentinel persists in
//! `sentinel.conf` and the reading and rewriting of that file, which `redisctl check` uses to
//! refuse the statements Redis Sentinel refuses. Nothing here starts Sentinel mode yet.
//!
//! * [`model`]: [`SentinelConfig`] and [`MasterConfig`], plain data, what the file holds.
//! * [`config`]: [`config::parse`] the `sentinel` statements exactly like Redis (the three
//!   passes, the checks and their messages), [`config::rewrite`] a config document with the
//!   state, and [`config::flush`] it to disk atomically.

pub mod config;
pub mod link;
pub mod model;

pub use model::{CommandRename, KnownReplica, KnownSentinel, MasterConfig, SentinelConfig};
