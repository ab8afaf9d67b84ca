//! Pub/Sub compared byte for byte with Debian's real Redis 7.0: subscribe replies, delivery, PUBSUB
//! introspection, the RESP2 subscribed context and RESP3 push frames.

use crate::differential_support::*;

fn hello3(p: &mut Pair) {
    p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
}

#[test]
fn subscribe_and_unsubscribe_replies() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    // Unsubscribing with no subscriptions answers one reply with a nil name.
    p.check(&["UNSUBSCRIBE"]);
    p.check(&["PUNSUBSCRIBE"]);
    p.check_n(&["UNSUBSCRIBE", "x", "y"], 2);
    p.check_n(&["SUBSCRIBE", "a", "b", "a"], 3);
    p.check_n(&["PSUBSCRIBE", "p*", "q?", "p*"], 3);
    p.check_n(&["SUBSCRIBE", "c"], 1);
    p.check_n(&["UNSUBSCRIBE", "b", "nosuch"], 2);
    p.check_n(&["PUNSUBSCRIBE", "q?", "nosuch"], 2);
    p.check_n(&["UNSUBSCRIBE", "A"], 1);
    // What remains: channels a, c and pattern p*. UNSUBSCRIBE without arguments: one reply each.
    let mut q = duo.pair_named("observer");
    q.check_sorted(&["PUBSUB", "CHANNELS"]);
    q.check(&["PUBSUB", "NUMPAT"]);
    p.check_n_hash_order(&["UNSUBSCRIBE"], 2);
    p.check(&["PING"]);
    p.check(&["PUNSUBSCRIBE"]);
    p.check(&["PING"]);
    p.check(&["PUNSUBSCRIBE"]);
    q.check(&["PUBSUB", "CHANNELS"]);
    q.check(&["PUBSUB", "NUMPAT"]);
}

#[test]
fn unsubscribe_all_reply_order() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check_n(&["SUBSCRIBE", "one", "two", "three"], 3);
    p.check_n_hash_order(&["UNSUBSCRIBE"], 3);
    p.check_n(&["PSUBSCRIBE", "a*", "b*", "c*", "d*"], 4);
    p.check_n(&["SUBSCRIBE", "x"], 1);
    p.check_n_hash_order(&["PUNSUBSCRIBE"], 4);
    p.check(&["PING"]);
}

#[test]
fn delivery_and_publish_counts() {
    let duo = Duo::start(&[]);
    let mut sub = duo.pair_named("subscriber");
    let mut psub = duo.pair_named("pattern subscriber");
    let mut publ = duo.pair_named("publisher");
    publ.check(&["PUBLISH", "news", "nobody"]);
    sub.check_n(&["SUBSCRIBE", "news", "other"], 2);
    psub.check_n(&["PSUBSCRIBE", "n*", "*s", "x"], 3);
    publ.check(&["PUBLISH", "news", "hello"]);
    sub.check_read("message on news");
    psub.check_read_unordered("pmessages n* and *s", 2);
    publ.check(&["PUBLISH", "other", ""]);
    sub.check_read("message on other");
    publ.check(&["PUBLISH", "nope", "bin\r\n\0data"]);
    psub.check_read("pmessage n* on nope");
    publ.check(&["PUBLISH", "x", "exact pattern"]);
    psub.check_read("pmessage x");
    // A client subscribed to a channel and a pattern matching it gets both.
    sub.check_n(&["PSUBSCRIBE", "new?"], 1);
    publ.check(&["PUBLISH", "news", "twice"]);
    // The channel's subscribers are served before the patterns'.
    sub.check_read("message");
    sub.check_read("pmessage");
    psub.check_read_unordered("pmessages n* and *s", 2);
    // Introspection from the publisher.
    publ.check_sorted(&["PUBSUB", "CHANNELS"]);
    publ.check_sorted(&["PUBSUB", "CHANNELS", "n*"]);
    publ.check(&["PUBSUB", "CHANNELS", "zzz*"]);
    publ.check(&["PUBSUB", "NUMSUB"]);
    publ.check(&["PUBSUB", "NUMSUB", "news", "other", "nope", "news"]);
    publ.check(&["PUBSUB", "NUMPAT"]);
    publ.check(&["PUBSUB", "CHANNELS", "a", "b"]);
    publ.check(&["PUBSUB", "NUMPAT", "x"]);
    publ.check(&["PUBSUB", "HELP"]);
    publ.check(&["PUBSUB", "help", "x"]);
    publ.check(&["PUBSUB", "NOSUCH"]);
    publ.check(&["PUBSUB"]);
    hello3(&mut publ);
    publ.check(&["PUBSUB", "NUMSUB", "news", "nope"]);
    publ.check(&["PUBSUB", "NUMSUB"]);
    publ.check(&["PUBSUB", "CHANNELS", "o*"]);
    publ.check(&["PUBSUB", "NUMPAT"]);
    // Disconnecting drops the subscriptions.
    drop(sub);
    drop(psub);
    crate::common::wait_for("subscribers to be gone (ours)", std::time::Duration::from_secs(5), || {
        publ.ours.cmd(&["PUBSUB", "NUMPAT"]) == b":0\r\n"
    });
    crate::common::wait_for("subscribers to be gone (real)", std::time::Duration::from_secs(5), || {
        publ.real.cmd(&["PUBSUB", "NUMPAT"]) == b":0\r\n"
    });
    publ.check(&["PUBSUB", "CHANNELS"]);
    publ.check(&["PUBLISH", "news", "gone"]);
}

#[test]
fn resp2_subscribed_context() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check_n(&["SUBSCRIBE", "ch"], 1);
    for args in [
        &["GET", "x"][..],
        &["SET", "x", "1"],
        &["PUBLISH", "ch", "m"],
        &["CLIENT", "ID"],
        &["CLIENT", "nosuch"],
        &["PUBSUB", "NUMPAT"],
        &["MULTI"],
        &["SELECT", "1"],
        &["HELLO", "2"],
        &["NOSUCH"],
        &["GET"],
        &["ECHO", "x"],
    ] {
        p.check(args);
    }
    p.check(&["PING"]);
    p.check(&["PING", "payload"]);
    p.check(&["ping", ""]);
    p.check(&["PING", "a", "b"]);
    p.check_n(&["PSUBSCRIBE", "x*"], 1);
    p.check_n(&["UNSUBSCRIBE"], 1);
    // Still subscribed to a pattern: still in the context.
    p.check(&["GET", "x"]);
    p.check_n(&["PUNSUBSCRIBE"], 1);
    p.check(&["GET", "x"]);
    p.check(&["PING"]);
    // QUIT is allowed and closes.
    p.check_n(&["SUBSCRIBE", "ch"], 1);
    p.check(&["QUIT"]);
    assert!(p.ours.closed() && p.real.closed());
}

#[test]
fn resp3_push_frames() {
    let duo = Duo::start(&[]);
    let mut sub = duo.pair_named("resp3 subscriber");
    let mut publ = duo.pair_named("publisher");
    hello3(&mut sub);
    sub.check(&["UNSUBSCRIBE"]);
    sub.check_n(&["SUBSCRIBE", "a", "b"], 2);
    sub.check_n(&["PSUBSCRIBE", "a*"], 1);
    // Any command works while subscribed in RESP3.
    sub.check(&["GET", "x"]);
    sub.check(&["PING"]);
    sub.check(&["PING", "m"]);
    sub.check(&["SET", "x", "1"]);
    sub.check(&["CLIENT", "GETNAME"]);
    publ.check(&["PUBLISH", "a", "hi"]);
    sub.check_read("push message");
    sub.check_read("push pmessage");
    // Publishing to its own channel: the pushes come before PUBLISH's own reply.
    sub.check_n(&["PUBLISH", "a", "self"], 3);
    sub.check_n(&["PUBLISH", "b", "self"], 2);
    sub.check(&["PUBLISH", "zzz", "nobody"]);
    // In a transaction too.
    sub.check(&["MULTI"]);
    sub.check(&["PUBLISH", "b", "in-multi"]);
    sub.check(&["PING"]);
    sub.check_n(&["EXEC"], 2);
    sub.check_n(&["UNSUBSCRIBE", "a", "b"], 2);
    sub.check_n(&["PUNSUBSCRIBE", "a*"], 1);
    sub.check(&["PUNSUBSCRIBE"]);
    // A RESP2 subscriber switching to RESP3 keeps its subscriptions and gets pushes.
    let mut late = duo.pair_named("RESP2 then RESP3");
    late.check_n(&["SUBSCRIBE", "c"], 1);
    hello3(&mut late);
    late.check(&["GET", "x"]);
    publ.check(&["PUBLISH", "c", "to resp3"]);
    late.check_read("push after HELLO 3");
    late.check_with(&["HELLO", "2"], |b| mask_field(b, "id"));
    late.check(&["GET", "x"]);
    late.check(&["PING"]);
}

#[test]
fn reset_and_client_list_of_subscribers() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check_n(&["SUBSCRIBE", "a"], 1);
    p.check_n(&["PSUBSCRIBE", "b*"], 1);
    p.check(&["RESET"]);
    p.check(&["PING"]);
    let mut q = duo.pair_named("observer");
    q.check(&["PUBSUB", "CHANNELS"]);
    q.check(&["PUBSUB", "NUMPAT"]);
    q.check(&["PUBLISH", "a", "x"]);
    q.check(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    p.check_n(&["SUBSCRIBE", "a"], 1);
    q.check(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert!(p.ours.closed() && p.real.closed());
    q.check(&["PUBSUB", "NUMSUB", "a"]);
}

/// A subscriber that stops reading is disconnected once its pending output passes the pubsub hard
/// limit, and the publisher and everyone else carry on.
#[test]
fn slow_subscriber_is_dropped_at_the_pubsub_output_limit() {
    let s = crate::common::Server::start(&["--client-output-buffer-limit", "pubsub 1mb 0 0"]);
    let mut sub = s.client();
    assert!(sub.cmd_str(&["SUBSCRIBE", "news"]).contains("subscribe"));
    let mut publisher = s.client();
    let big = vec![b'x'; 256 * 1024];
    // The subscriber never reads: the kernel buffers fill, then the server's queue for it grows.
    crate::common::wait_for("the subscriber to be dropped", std::time::Duration::from_secs(30), || {
        publisher.cmd_bytes(&[b"PUBLISH", b"news", &big]);
        !publisher.cmd_str(&["CLIENT", "LIST", "TYPE", "pubsub"]).contains("id=")
    });
    assert_eq!(publisher.cmd(&["PING"]), b"+PONG\r\n");
    assert!(s.log_text().contains("scheduled to be closed ASAP for overcoming of output buffer limits"));
}
