//! The hashe commands: HSET, HGET, HINCRBY, HRANDFIELD, HSCAN.

use super::table::CommandSpec;

pub static TABLE: &[CommandSpec] = &[];
