//! The consumer-group commands of t_stream.c: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and
//! XINFO. (XREADGROUP reads through a group too, but lives with XREAD.) Replies, errors and
//! their order, notifications and propagation follow Redis 7.0.

mod claim;
mod pending;
pub(crate) mod propagate;
mod xgroup;
mod xinfo;

use bytes::Bytes;

use crate::commands::Ctx;
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::types::stream::Stream;
use crate::{cmd, container, subcmd};

pub static GROUP_TABLE: &[CommandSpec] = &[
    container!("xgroup", "stream", "5.0.0", "A container for consumer groups commands", XGROUP_SUBS),
    container!("xinfo", "stream", "5.0.0", "A container for stream introspection commands", XINFO_SUBS),
    cmd!("xack", -4, WRITE | FAST, (1, 1, 1), "stream", "5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", "O(1) for each message ID processed.", pending::xack),
    cmd!("xpending", -3, READONLY, (1, 1, 1), "stream", "5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.", pending::xpending),
    cmd!("xclaim", -6, WRITE | FAST, (1, 1, 1), "stream", "5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", "O(log N) with N being the number of messages in the PEL of the consumer group.", claim::xclaim),
    cmd!("xautoclaim", -6, WRITE | FAST, (1, 1, 1), "stream", "6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", "O(1) if COUNT is small.", claim::xautoclaim),
];

static XGROUP_SUBS: &[CommandSpec] = &[
    subcmd!(
        "create",
        -5,
        WRITE | DENYOOM,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "Create a consumer group.",
        "O(1)",
        xgroup::xgroup
    ),
    subcmd!(
        "createconsumer",
        5,
        WRITE | DENYOOM,
        (2, 2, 1),
        "stream",
        "6.2.0",
        "Create a consumer in a consumer group.",
        "O(1)",
        xgroup::xgroup
    ),
    subcmd!(
        "delconsumer",
        5,
        WRITE,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "Delete a consumer from a consumer group.",
        "O(1)",
        xgroup::xgroup
    ),
    subcmd!(
        "destroy",
        4,
        WRITE,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "Destroy a consumer group.",
        "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        xgroup::xgroup
    ),
    subcmd!(
        "setid",
        -5,
        WRITE,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "Set a consumer group to an arbitrary last delivered ID value.",
        "O(1)",
        xgroup::xgroup
    ),
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        xgroup::xgroup
    ),
];

static XINFO_SUBS: &[CommandSpec] = &[
    subcmd!(
        "consumers",
        4,
        READONLY,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "List the consumers in a consumer group",
        "O(1)",
        xinfo::xinfo
    ),
    subcmd!(
        "groups",
        3,
        READONLY,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "List the consumer groups of a stream",
        "O(1)",
        xinfo::xinfo
    ),
    subcmd!(
        "stream",
        -3,
        READONLY,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "Get information about a stream",
        "O(1)",
        xinfo::xinfo
    ),
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        xinfo::xinfo
    ),
];

/// lookupKeyRead and checkType, then streamLookupCG: whether the key holds a stream with that
/// group (WRONGTYPE when it holds something else).
fn has_group(ctx: &mut Ctx, key: &[u8], group: &[u8]) -> Result<bool, Reply> {
    Ok(ctx.read_typed(key, Value::as_stream)?.is_some_and(|s| s.group(group).is_some()))
}

/// The stream at `key`, for the change a command has checked it may make.
fn stream_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Stream> {
    ctx.db().get_mut(key).and_then(|e| e.value_mut().as_stream_mut())
}

/// The NOGROUP error of the commands that name the key and the group together.
fn no_key_or_group(key: &Bytes, group: &Bytes) -> Reply {
    Reply::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(crate::commands::streams::c_str(key)),
        String::from_utf8_lossy(crate::commands::streams::c_str(group))
    ))
}
