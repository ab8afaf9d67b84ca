//! XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP (xinfoCommand).

use bytes::Bytes;

use super::xgroup::no_group;
use crate::commands::streams::{entry_reply, is_word};
use crate::commands::{errors, help_reply, int_arg, subcommand_syntax_error, Ctx};
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::types::stream::{ConsumerGroup, Stream, StreamId};

const HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::Bulk(name.as_bytes().to_vec()), value)
}

fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

fn entries_read_reply(g: &ConsumerGroup) -> Reply {
    g.entries_read.map_or(Reply::Nil, |n| Reply::Int(n as i64))
}

fn lag_reply(s: &Stream, g: &ConsumerGroup) -> Reply {
    s.group_lag(g).map_or(Reply::Nil, Reply::Int)
}

pub(super) fn xinfo(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if is_word(&args[1], "help") {
        return if args.len() == 2 { help_reply("XINFO", HELP) } else { subcommand_syntax_error(args) };
    }
    if args.len() < 3 {
        return subcommand_syntax_error(args);
    }
    let now = ctx.now_ms as i64;
    let Some(s) = tri!(ctx.read_typed(&args[2], Value::as_stream)) else {
        return Reply::error(errors::NO_SUCH_KEY);
    };
    if is_word(&args[1], "consumers") && args.len() == 4 {
        let Some(g) = s.group(&args[3]) else { return no_group(&args[3], &args[2]) };
        let consumers = g
            .consumers
            .iter()
            .map(|(name, c)| {
                Reply::Map(vec![
                    field("name", Reply::Bulk(name.clone())),
                    field("pending", Reply::Int(c.pel.len() as i64)),
                    field("idle", Reply::Int((now - c.seen_time).max(0))),
                ])
            })
            .collect();
        Reply::Array(consumers)
    } else if is_word(&args[1], "groups") && args.len() == 3 {
        let groups = s
            .groups()
            .iter()
            .map(|(name, g)| {
                Reply::Map(vec![
                    field("name", Reply::Bulk(name.clone())),
                    field("consumers", Reply::Int(g.consumers.len() as i64)),
                    field("pending", Reply::Int(g.pel.len() as i64)),
                    field("last-delivered-id", id_reply(g.last_id)),
                    field("entries-read", entries_read_reply(g)),
                    field("lag", lag_reply(s, g)),
                ])
            })
            .collect();
        Reply::Array(groups)
    } else if is_word(&args[1], "stream") {
        stream_info(s, args)
    } else {
        subcommand_syntax_error(args)
    }
}

/// XINFO STREAM key [FULL [COUNT n]]: FULL lists up to `n` entries and, per group and
/// consumer, up to `n` pending entries (0 for all, 10 by default and for a negative `n`).
fn stream_info(s: &Stream, args: &[Bytes]) -> Reply {
    let opts = &args[3..];
    let mut count: i64 = 10;
    let full = !opts.is_empty();
    if full {
        if (opts.len() != 1 && opts.len() != 3) || !is_word(&opts[0], "full") {
            return subcommand_syntax_error(args);
        }
        if opts.len() == 3 {
            if !is_word(&opts[1], "count") {
                return subcommand_syntax_error(args);
            }
            count = tri!(int_arg(&opts[2]));
            if count < 0 {
                count = 10;
            }
        }
    }
    let mut map = vec![
        field("length", Reply::Int(s.len() as i64)),
        field("radix-tree-keys", Reply::Int(s.node_count() as i64)),
        field("radix-tree-nodes", Reply::Int(s.radix_tree_nodes() as i64)),
        field("last-generated-id", id_reply(s.last_id())),
        field("max-deleted-entry-id", id_reply(s.max_deleted_entry_id())),
        field("entries-added", Reply::Int(s.entries_added() as i64)),
        field("recorded-first-entry-id", id_reply(s.first_id())),
    ];
    if !full {
        let edge = |rev| s.range(StreamId::MIN, StreamId::MAX, rev).next().map_or(Reply::Nil, entry_reply);
        map.push(field("groups", Reply::Int(s.groups().len() as i64)));
        map.push(field("first-entry", edge(false)));
        map.push(field("last-entry", edge(true)));
        return Reply::Map(map);
    }
    let limit = if count == 0 { usize::MAX } else { count as usize };
    let entries = s.range(StreamId::MIN, StreamId::MAX, false).take(limit).map(entry_reply).collect();
    map.push(field("entries", Reply::Array(entries)));
    let groups = s.groups().iter().map(|(name, g)| group_full(s, name, g, limit)).collect();
    map.push(field("groups", Reply::Array(groups)));
    Reply::Map(map)
}

fn group_full(s: &Stream, name: &[u8], g: &ConsumerGroup, limit: usize) -> Reply {
    let pending = g
        .pel
        .iter()
        .take(limit)
        .map(|(id, n)| {
            Reply::Array(vec![
                id_reply(*id),
                Reply::Bulk(n.consumer.clone()),
                Reply::Int(n.delivery_time),
                Reply::Int(n.delivery_count as i64),
            ])
        })
        .collect();
    let consumers = g
        .consumers
        .iter()
        .map(|(cname, c)| {
            let pending = c
                .pel
                .iter()
                .take(limit)
                .filter_map(|id| g.pel.get(id).map(|n| (id, n)))
                .map(|(id, n)| {
                    Reply::Array(vec![id_reply(*id), Reply::Int(n.delivery_time), Reply::Int(n.delivery_count as i64)])
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::Bulk(cname.clone())),
                field("seen-time", Reply::Int(c.seen_time)),
                field("pel-count", Reply::Int(c.pel.len() as i64)),
                field("pending", Reply::Array(pending)),
            ])
        })
        .collect();
    Reply::Map(vec![
        field("name", Reply::Bulk(name.to_vec())),
        field("last-delivered-id", id_reply(g.last_id)),
        field("entries-read", entries_read_reply(g)),
        field("lag", lag_reply(s, g)),
        field("pel-count", Reply::Int(g.pel.len() as i64)),
        field("pending", Reply::Array(pending)),
        field("consumers", Reply::Array(consumers)),
    ])
}
