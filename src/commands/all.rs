//! The command table, assembled from each family's rows. Dispatch, COMMAND and MULTI all read it.

use crate::server::command::CommandSpec;

pub static COMMANDS: &[&[CommandSpec]] = &[
    super::connection::TABLE,
    super::strings::TABLE,
    super::bitmaps::TABLE,
    super::hyperloglog::TABLE,
    super::keys::TABLE,
    super::server_cmd::TABLE,
    super::debug::TABLE,
    super::dump_restore::TABLE,
    super::migrate::TABLE,
    super::slowlog::TABLE,
    super::latency::TABLE,
    super::memory::TABLE,
    super::module_cmd::TABLE,
    super::command_cmd::TABLE,
    super::client::TABLE,
    super::config_cmd::TABLE,
    super::info::TABLE,
    super::pubsub::TABLE,
    super::transactions::TABLE,
    super::acl::TABLE,
    super::lists::TABLE,
    super::hashes::TABLE,
    super::sets::TABLE,
    super::zsets::TABLE,
    super::geo::TABLE,
    super::lolwut::TABLE,
    super::streams::TABLE,
    super::streams::READ_TABLE,
    super::streams::GROUP_TABLE,
    super::sort::TABLE,
    super::persist::TABLE,
    super::replication::TABLE,
    super::sentinel::TABLE,
    super::scripting::TABLE,
];

/// Every top-level command.
pub fn iter() -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS.iter().flat_map(|t| t.iter())
}
