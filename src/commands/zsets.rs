//! The zset commands: ZADD, ZRANGE, ZRANK, the set operations, ZPOP and BZPOP.

use super::table::CommandSpec;

pub static TABLE: &[CommandSpec] = &[];
