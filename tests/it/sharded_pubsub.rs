//! Sharded pub/sub outside a cluster (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS and
//! SHARDNUMSUB) compared byte for byte with Debian's real Redis 7.0, in RESP2 and RESP3: the
//! replies and pushes, the namespace kept apart from PUBLISH's, the subscribed context, CLIENT
//! LIST's ssub= and SPUBLISH's replication. Also what CLIENT REPLY OFF and SKIP leave of pub/sub:
//! every push (confirmations, messages, a RESP3 client's messages to itself) still goes out.

use crate::common::Client;
use crate::differential_support::*;

/// The fields of the CLIENT LIST line of the client named `name` that pub/sub moves.
fn subscription_fields(c: &mut Client, name: &str) -> Vec<u8> {
    let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).into_owned();
    let line = list.lines().find(|l| l.contains(&format!(" name={name} "))).unwrap_or_default().to_string();
    let keep = ["flags=", "sub=", "psub=", "ssub="];
    let fields: Vec<&str> = line.split(' ').filter(|f| keep.iter().any(|k| f.starts_with(k))).collect();
    fields.join(" ").into_bytes()
}

fn compare_subscription_fields(observer: &mut Pair, name: &str) {
    let o = subscription_fields(&mut observer.ours, name);
    let r = subscription_fields(&mut observer.real, name);
    observer.compare(&format!("CLIENT LIST fields of {name}"), &o, &r);
}

fn info_field(c: &mut Client, field: &str) -> Vec<u8> {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "stats"])).into_owned();
    info.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap_or_default().as_bytes().to_vec()
}

#[test]
fn shard_channels_deliver_count_and_list_apart_from_channels() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let mut publ = duo.pair_named("publisher");
        p.both(&["CLIENT", "SETNAME", "subscriber"]);
        p.check(&["SUNSUBSCRIBE"]);
        p.check_n(&["SSUBSCRIBE", "news", "sport", "news"], 3);
        compare_subscription_fields(&mut publ, "subscriber");
        publ.check(&["SPUBLISH", "news", "hello"]);
        p.check_read("smessage on news");
        // PUBLISH and SPUBLISH are two namespaces; patterns never see shard messages.
        publ.check(&["PUBLISH", "news", "plain"]);
        publ.check(&["SPUBLISH", "nobody", "x"]);
        publ.check_sorted(&["PUBSUB", "SHARDCHANNELS"]);
        publ.check(&["PUBSUB", "SHARDCHANNELS", "n*"]);
        publ.check(&["PUBSUB", "SHARDCHANNELS", "n*", "extra"]);
        publ.check(&["PUBSUB", "SHARDNUMSUB", "news", "sport", "nobody"]);
        publ.check(&["PUBSUB", "SHARDNUMSUB"]);
        publ.check(&["PUBSUB", "NUMSUB", "news"]);
        publ.check(&["PUBSUB", "CHANNELS"]);
        let (o, r) =
            (info_field(&mut publ.ours, "pubsubshard_channels"), info_field(&mut publ.real, "pubsubshard_channels"));
        publ.compare("INFO pubsubshard_channels", &o, &r);
        // Channels and patterns count apart from shard channels in the replies.
        p.check_n(&["SUBSCRIBE", "news"], 1);
        p.check_n(&["PSUBSCRIBE", "n*"], 1);
        compare_subscription_fields(&mut publ, "subscriber");
        publ.check(&["SPUBLISH", "news", "second"]);
        p.check_read("smessage, no pmessage");
        publ.check(&["PUBLISH", "news", "third"]);
        p.check_read_unordered("message and pmessage", 2);
        p.check_n(&["SUNSUBSCRIBE", "sport", "nosuch"], 2);
        p.check_n(&["SUNSUBSCRIBE"], 1);
        p.check(&["SUNSUBSCRIBE"]);
        compare_subscription_fields(&mut publ, "subscriber");
        publ.check(&["PUBSUB", "SHARDCHANNELS"]);
        publ.check(&["SPUBLISH", "news", "gone"]);
        p.check_n(&["UNSUBSCRIBE"], 1);
        p.check_n(&["PUNSUBSCRIBE"], 1);
        p.check(&["PING"]);
    });
}

#[test]
fn the_subscribed_context_counts_shard_channels() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check_n(&["SSUBSCRIBE", "ch"], 1);
        // RESP2: only the subscribe family; RESP3: anything.
        p.check(&["GET", "k"]);
        p.check(&["PING"]);
        // RESP3: the smessage to itself comes before the count.
        let replies = if p.label == "RESP3" { 2 } else { 1 };
        p.check_n(&["SPUBLISH", "ch", "to myself"], replies);
        p.check(&["PING", "after"]);
        // RESET leaves every shard channel.
        p.check(&["RESET"]);
        let mut other = duo.pair_named("observer");
        other.check(&["PUBSUB", "SHARDNUMSUB", "ch"]);
        other.check(&["SPUBLISH", "ch", "nobody"]);
        p.check(&["GET", "k"]);
    });
}

#[test]
fn ssubscribe_is_refused_in_a_transaction() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(&["MULTI"]);
        p.check(&["SSUBSCRIBE", "ch"]);
        p.check(&["SUNSUBSCRIBE", "ch"]);
        p.check(&["SPUBLISH", "ch", "m"]);
        p.check(&["EXEC"]);
        p.check(&["EVAL", "return redis.call('ssubscribe', 'x')", "0"]);
        p.check(&["EVAL", "return redis.call('spublish', 'x', 'y')", "0"]);
        p.check(&["SPUBLISH", "a"]);
        p.check(&["PUBSUB", "SHARDNUMSUB", "ch"]);
    });
}

/// SPUBLISH on a master reaches the shard subscribers of its replica (Redis replicates it like
/// PUBLISH outside a cluster).
#[test]
fn spublish_is_replicated() {
    for real in [false, true] {
        let (master, replica) = synced_master_and_replica(real);
        let mut sub = replica.client();
        assert_eq!(sub.cmd(&["SSUBSCRIBE", "ch"]), b"*3\r\n$10\r\nssubscribe\r\n$2\r\nch\r\n:1\r\n");
        let mut m = master.client();
        assert_eq!(m.cmd(&["SPUBLISH", "ch", "hello"]), b":0\r\n", "real={real}");
        assert_eq!(sub.read_reply(), b"*3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n", "real={real}");
    }
}

/// CLIENT REPLY OFF silences replies, not pushes (Redis's CLIENT_PUSHING): subscribing answers
/// its confirmations, messages arrive, and a RESP3 client publishing to itself gets its message
/// without the count.
#[test]
fn reply_off_still_delivers_pushes() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        let resp3 = p.label == "RESP3";
        let mut publ = duo.pair_named("publisher");
        p.send_cmds(&[&["CLIENT", "REPLY", "OFF"], &["SET", "k", "v"], &["SUBSCRIBE", "a", "b"]]);
        p.check_read("subscribe a");
        p.check_read("subscribe b");
        p.send_cmds(&[&["PSUBSCRIBE", "a*"], &["SSUBSCRIBE", "s"]]);
        p.check_read("psubscribe");
        p.check_read("ssubscribe");
        publ.check(&["PUBLISH", "a", "one"]);
        p.check_read_unordered("message and pmessage", 2);
        publ.check(&["SPUBLISH", "s", "two"]);
        p.check_read("smessage");
        if resp3 {
            p.send_cmds(&[&["GET", "k"], &["PUBLISH", "b", "to myself"], &["SPUBLISH", "s", "me too"]]);
            p.check_read("message to itself, without PUBLISH's count");
            p.check_read("smessage to itself, without SPUBLISH's count");
        } else {
            p.send_cmds(&[&["GET", "k"]]);
        }
        p.send_cmds(&[&["UNSUBSCRIBE", "b"]]);
        p.check_read("unsubscribe b");
        // Leaving every subscription first: a RESP2 subscriber may not run CLIENT REPLY.
        p.send_cmds(&[&["UNSUBSCRIBE"], &["PUNSUBSCRIBE"], &["SUNSUBSCRIBE"], &["CLIENT", "REPLY", "ON"]]);
        p.check_read("unsubscribe a");
        p.check_read("punsubscribe a*");
        p.check_read("sunsubscribe s");
        p.check_read("CLIENT REPLY ON");
        p.check(&["PING"]);
        // SKIP silences the next command's reply only, and not its pushes either.
        p.send_cmds(&[&["CLIENT", "REPLY", "SKIP"], &["SUBSCRIBE", "c"], &["PING", "x"]]);
        p.check_read("subscribe c under SKIP");
        p.check_read("PING after SKIP");
        p.check_n(&["UNSUBSCRIBE", "c"], 1);
        p.send_cmds(&[&["CLIENT", "REPLY", "SKIP"], &["PING", "skipped"], &["SUNSUBSCRIBE"]]);
        p.check_read("sunsubscribe after a skipped PING");
        p.check(&["PING", "y"]);
        // Inside a transaction: EXEC's array is silenced, the confirmations inside it are not.
        if resp3 {
            p.send_cmds(&[&["CLIENT", "REPLY", "OFF"], &["MULTI"], &["SUBSCRIBE", "d"], &["SET", "k", "w"], &["EXEC"]]);
            p.check_read("subscribe d inside a silenced EXEC");
            p.send_cmds(&[&["CLIENT", "REPLY", "ON"]]);
            p.check_read("CLIENT REPLY ON");
        }
        p.check(&["PING", "end"]);
    });
}
