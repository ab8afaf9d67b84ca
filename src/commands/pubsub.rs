//! Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB, and the shard
//! channels (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH), which outside a cluster are one more namespace.

use bytes::Bytes;

use super::Ctx;
use crate::cmd;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::server::pubsub::{self as core, publish_from, remove_subscription};
use crate::server::state::ClientKind;
use crate::subcmd;
use crate::util::glob::string_match;

pub static TABLE: &[CommandSpec] = &[
    cmd!("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL, (0, 0, 0), "pubsub", "2.0.0", "Listen for messages published to the given channels", "O(N) where N is the number of channels to subscribe to.", subscribe),
    cmd!("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL, (0, 0, 0), "pubsub", "2.0.0", "Stop listening for messages posted to the given channels", "O(N) where N is the number of clients already subscribed to a channel.", unsubscribe),
    cmd!("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL, (0, 0, 0), "pubsub", "2.0.0", "Listen for messages published to channels matching the given patterns", "O(N) where N is the number of patterns the client is already subscribed to.", psubscribe),
    cmd!("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL, (0, 0, 0), "pubsub", "2.0.0", "Stop listening for messages posted to channels matching the given patterns", "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).", punsubscribe),
    cmd!("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL, (0, 0, 0), "pubsub", "2.0.0", "Post a message to a channel", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", publish_cmd),
    cmd!("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, (1, -1, 1), "pubsub", "7.0.0", "Listen for messages published to the given shard channels", "O(N) where N is the number of shard channels to subscribe to.", ssubscribe),
    cmd!("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, (1, -1, 1), "pubsub", "7.0.0", "Stop listening for messages posted to the given shard channels", "O(N) where N is the number of clients already subscribed to a shard channel.", sunsubscribe),
    cmd!("spublish", 3, PUBSUB | LOADING | STALE | FAST, (1, 1, 1), "pubsub", "7.0.0", "Post a message to a shard channel", "O(N) where N is the number of clients subscribed to the receiving shard channel.", spublish),
    crate::container!("pubsub", "pubsub", "2.8.0", "A container for Pub/Sub commands", PUBSUB_SUBS),
];

static PUBSUB_SUBS: &[CommandSpec] = &[
    subcmd!("channels", -2, PUBSUB | LOADING | STALE, (0, 0, 0), "pubsub", "2.8.0", "List active channels", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", pubsub_channels),
    subcmd!("numsub", -2, PUBSUB | LOADING | STALE, (0, 0, 0), "pubsub", "2.8.0", "Get the count of subscribers for channels", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", pubsub_numsub),
    subcmd!("numpat", 2, PUBSUB | LOADING | STALE, (0, 0, 0), "pubsub", "2.8.0", "Get the count of unique patterns pattern subscriptions", "O(1)", pubsub_numpat),
    subcmd!("shardchannels", -2, PUBSUB | LOADING | STALE, (0, 0, 0), "pubsub", "7.0.0", "List active shard channels", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", pubsub_shardchannels),
    subcmd!("shardnumsub", -2, PUBSUB | LOADING | STALE, (0, 0, 0), "pubsub", "7.0.0", "Get the count of subscribers for shard channels", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", pubsub_shardnumsub),
    subcmd!("help", 2, LOADING | STALE, (0, 0, 0), "pubsub", "6.2.0", "Show helpful text about the different subcommands", "O(1)", pubsub_help),
];

fn push(kind: &'static str, name: Option<&Bytes>, count: usize) -> Reply {
    Reply::Push(vec![Reply::bulk(kind), name.map(Reply::bulk).unwrap_or(Reply::Nil), Reply::Int(count as i64)])
}

fn update_counts(ctx: &mut Ctx) {
    let id = ctx.session.id;
    let (subs, psubs) = ctx.state.pubsub.by_client.get(&id).map(|(c, p)| (c.len(), p.len())).unwrap_or((0, 0));
    let ssubs = core::shard_count(ctx.state, id);
    ctx.session.subs = subs;
    ctx.session.psubs = psubs;
    ctx.session.ssubs = ssubs;
    if let Some(ci) = ctx.state.clients.get_mut(&id) {
        ci.subs = subs;
        ci.psubs = psubs;
        ci.ssubs = ssubs;
        if ci.kind == ClientKind::Normal && ci.subscriptions() > 0 {
            ci.kind = ClientKind::Pubsub;
        } else if ci.kind == ClientKind::Pubsub && ci.subscriptions() == 0 {
            ci.kind = ClientKind::Normal;
        }
    }
}

fn subscribe_generic(ctx: &mut Ctx, args: &[Bytes], pattern: bool) -> Reply {
    let id = ctx.session.id;
    let mut replies = Vec::new();
    for name in &args[1..] {
        let ps = &mut ctx.state.pubsub;
        let mine = ps.by_client.entry(id).or_default();
        let list = if pattern { &mut mine.1 } else { &mut mine.0 };
        if !list.contains(name) {
            // A copy: a slice would keep the read buffer it came in alive with the subscription.
            let name = Bytes::copy_from_slice(name);
            list.push(name.clone());
            let map = if pattern { &mut ps.patterns } else { &mut ps.channels };
            map.entry(name).or_default().push(id);
        }
        let total = mine.0.len() + mine.1.len();
        replies.push(push(if pattern { "psubscribe" } else { "subscribe" }, Some(name), total));
    }
    update_counts(ctx);
    Reply::Many(replies)
}

fn unsubscribe_generic(ctx: &mut Ctx, args: &[Bytes], pattern: bool) -> Reply {
    let id = ctx.session.id;
    let kind = if pattern { "punsubscribe" } else { "unsubscribe" };
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        ctx.state
            .pubsub
            .by_client
            .get(&id)
            .map(|(c, p)| if pattern { p.clone() } else { c.clone() })
            .unwrap_or_default()
    };
    let mut replies = Vec::new();
    for name in &names {
        remove_subscription(ctx.state, id, name, pattern);
        let total = ctx.state.pubsub.by_client.get(&id).map(|(c, p)| c.len() + p.len()).unwrap_or(0);
        replies.push(push(kind, Some(name), total));
    }
    if names.is_empty() {
        let total = ctx.state.pubsub.by_client.get(&id).map(|(c, p)| c.len() + p.len()).unwrap_or(0);
        replies.push(push(kind, None, total));
    }
    if ctx.state.pubsub.by_client.get(&id).is_some_and(|(c, p)| c.is_empty() && p.is_empty()) {
        ctx.state.pubsub.by_client.remove(&id);
    }
    update_counts(ctx);
    Reply::Many(replies)
}

// Redis refuses (P)SUBSCRIBE only to DENY BLOCKING clients that are not in MULTI, i.e. scripts;
// a transaction may subscribe.
fn subscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    subscribe_generic(ctx, args, false)
}

fn psubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    subscribe_generic(ctx, args, true)
}

fn unsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    unsubscribe_generic(ctx, args, false)
}

fn punsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    unsubscribe_generic(ctx, args, true)
}

fn publish_cmd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.server.sentinel_mode {
        // A sentinel takes only hellos, and processes them itself (not relayed to subscribers).
        if args[1].as_ref() != crate::sentinel::monitor::HELLO_CHANNEL.as_bytes() {
            return Reply::error("ERR Only HELLO messages are accepted by Sentinel instances.");
        }
        if let Some(rt) = ctx.state.sentinel.as_mut() {
            rt.process_hello(&args[2], ctx.now_ms);
        }
        crate::server::sentinel_events::announce(ctx.state);
        return Reply::Int(1);
    }
    let (n, mut mine) = publish_from(ctx.state, &args[1], &args[2], Some(ctx.session.id));
    // Replicas publish it to their own subscribers (forceCommandPropagation with PROPAGATE_REPL).
    if ctx.state.repl.backlog.is_some() {
        ctx.state.propagation.push_to_replicas(ctx.session.db, args.to_vec());
    }
    if mine.is_empty() {
        return Reply::Int(n as i64);
    }
    mine.push(Reply::Int(n as i64));
    Reply::Many(mine)
}

// Unlike SUBSCRIBE, refused inside a transaction too: Redis checks CLIENT_DENY_BLOCKING alone.
fn ssubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.session.in_exec {
        return Reply::error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    }
    let id = ctx.session.id;
    let mut replies = Vec::new();
    for name in &args[1..] {
        core::add_shard_subscription(ctx.state, id, name);
        replies.push(push("ssubscribe", Some(name), core::shard_count(ctx.state, id)));
    }
    update_counts(ctx);
    Reply::Many(replies)
}

fn sunsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let id = ctx.session.id;
    let all = args.len() == 1;
    let names: Vec<Bytes> =
        if all { ctx.state.pubsub.shard_by_client.get(&id).cloned().unwrap_or_default() } else { args[1..].to_vec() };
    let mut replies = Vec::new();
    for name in &names {
        core::remove_shard_subscription(ctx.state, id, name);
        replies.push(push("sunsubscribe", Some(name), core::shard_count(ctx.state, id)));
    }
    if all && names.is_empty() {
        replies.push(push("sunsubscribe", None, 0));
    }
    update_counts(ctx);
    Reply::Many(replies)
}

fn spublish(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (n, mut mine) = core::publish_shard(ctx.state, &args[1], &args[2], ctx.session.id);
    // Outside a cluster Redis replicates it like PUBLISH (forceCommandPropagation, PROPAGATE_REPL).
    if ctx.state.repl.backlog.is_some() {
        ctx.state.propagation.push_to_replicas(ctx.session.db, args.to_vec());
    }
    if mine.is_empty() {
        return Reply::Int(n as i64);
    }
    mine.push(Reply::Int(n as i64));
    Reply::Many(mine)
}

/// `PUBSUB <sub> ...` with a bad argument count that the table's arity let through.
fn subcommand_syntax_error(args: &[Bytes]) -> Reply {
    Reply::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        String::from_utf8_lossy(&args[1])
    ))
}

fn pubsub_channels(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    channel_list(&ctx.state.pubsub.channels, args)
}

/// The channels of one namespace matching the optional pattern (Redis's channelList).
fn channel_list(channels: &hashbrown::HashMap<Bytes, Vec<u64>>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let pat = args.get(2);
    let names: Vec<Reply> =
        channels.keys().filter(|c| pat.is_none_or(|p| string_match(p, c, false))).map(Reply::bulk).collect();
    Reply::Array(names)
}

/// A flat array of channel, count, ... (an array in RESP3 too, as in Redis 7.0).
fn pubsub_numsub(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut out = Vec::new();
    for c in &args[2..] {
        let n = ctx.state.pubsub.channels.get(c).map(|v| v.len()).unwrap_or(0);
        out.push(Reply::bulk(c));
        out.push(Reply::Int(n as i64));
    }
    Reply::Array(out)
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    channel_list(&ctx.state.pubsub.shard_channels, args)
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let shard = &ctx.state.pubsub.shard_channels;
    Reply::Array(
        args[2..].iter().flat_map(|c| [Reply::bulk(c), Reply::Int(shard.get(c).map_or(0, Vec::len) as i64)]).collect(),
    )
}

fn pubsub_numpat(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.state.pubsub.patterns.len() as i64)
}

fn pubsub_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    )
}

#[cfg(test)]
/// Exact replies, through the in-process harness.
mod replies {
    use crate::commands::testing::Harness;

    #[test]
    fn subscribers_receive_what_is_published_in_their_protocol() {
        let mut h = Harness::new();
        let (mut s2, mut s3) = (h.client(), h.client());
        s2.check(&[
            (
                "SUBSCRIBE news sport",
                "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n",
            ),
            ("PSUBSCRIBE n*", "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n"),
        ]);
        assert!(!s3.run(&["HELLO", "3"]).is_error());
        s3.check(&[("SUBSCRIBE news", ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")]);
        assert_eq!(s2.pushed_resp(), "");
        h.check(&[("PUBLISH news hello", ":3\r\n")]);
        assert_eq!(
            s2.pushed_resp(),
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
        );
        assert_eq!(s3.pushed_resp(), ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
        h.check(&[("PUBLISH nothing x", ":1\r\n"), ("PUBLISH other y", ":0\r\n")]);
        // What waits for a subscriber is written before the reply to its next command.
        s2.check(&[(
            "PING hi",
            "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$7\r\nnothing\r\n$1\r\nx\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n",
        )]);
        assert_eq!(s3.pushed_resp(), "");
    }

    #[test]
    fn the_subscribed_context_and_unsubscribing() {
        let mut h = Harness::new();
        let mut s = h.client();
        s.check(&[
            ("SUBSCRIBE news sport", "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n"),
            ("PSUBSCRIBE n*", "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n"),
            ("GET k", "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"),
            ("PING", "*2\r\n$4\r\npong\r\n$0\r\n\r\n"),
            ("UNSUBSCRIBE nochan", "*3\r\n$11\r\nunsubscribe\r\n$6\r\nnochan\r\n:3\r\n"),
        ]);
        h.check(&[
            ("PUBSUB NUMSUB news x", "*4\r\n$4\r\nnews\r\n:1\r\n$1\r\nx\r\n:0\r\n"),
            ("PUBSUB NUMPAT", ":1\r\n"),
            ("PUBSUB CHANNELS s*", "*1\r\n$5\r\nsport\r\n"),
        ]);
        s.check(&[
            (
                "UNSUBSCRIBE",
                "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$5\r\nsport\r\n:1\r\n",
            ),
            ("PUNSUBSCRIBE", "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n"),
            ("PUNSUBSCRIBE", "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"),
            ("UNSUBSCRIBE", "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"),
            ("GET k", "$-1\r\n"),
        ]);
        h.check(&[("PUBSUB NUMSUB news", "*2\r\n$4\r\nnews\r\n:0\r\n"), ("PUBLISH news x", ":0\r\n")]);
    }

    #[test]
    fn resp3_subscribers_run_any_command() {
        let h = Harness::new();
        let mut s = h.client();
        assert!(!s.run(&["HELLO", "3"]).is_error());
        s.check(&[
            ("SUBSCRIBE news", ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"),
            ("GET k", "_\r\n"),
            ("PING", "+PONG\r\n"),
            (
                "UNSUBSCRIBE news other",
                ">3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n>3\r\n$11\r\nunsubscribe\r\n$5\r\nother\r\n:0\r\n",
            ),
        ]);
    }
}
