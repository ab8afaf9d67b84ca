//! The consumer-group commands of t_stream.c: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and
//! XINFO. (XREADGROUP reads through a group too, but lives with XREAD.) Replies, errors and
//! their order, notifications and propagation follow Redis 7.0.

mod xgroup;

use crate::server::command::*;
use crate::{container, subcmd};

pub static GROUP_TABLE: &[CommandSpec] =
    &[container!("xgroup", "stream", "5.0.0", "A container for consumer groups commands", XGROUP_SUBS)];

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
