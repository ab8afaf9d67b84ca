//! The set commands: SADD, SREM, SINTER/SUNION/SDIFF, SPOP, SRANDMEMBER, SSCAN.

use super::table::CommandSpec;

pub static TABLE: &[CommandSpec] = &[];
