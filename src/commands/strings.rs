//! Placeholder until the string family lands (being written in parallel).
use super::table::CommandSpec;
pub static TABLE: &[CommandSpec] = &[];
