//! The list commands: LPUSH, LPOP, LRANGE, LMOVE and the blocking BLPOP, BRPOP, BLMOVE, BLMPOP.

use super::table::CommandSpec;

pub static TABLE: &[CommandSpec] = &[];
