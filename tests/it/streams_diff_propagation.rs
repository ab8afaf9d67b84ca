//! What the AOF (the write stream a replica is fed too) receives for the stream group commands,
//! and the keyspace notifications they send, compared with Debian's real Redis 7.0 (issue 18).
//! Proved against real Redis on both sides with `REDIS_RS_DIFF_OURS=real` (see differential_support).

use crate::differential_propagation::Differ;
use crate::differential_support::*;

/// What the AOF (the stream a replica is fed) receives for the group commands: XREADGROUP as
/// XCLAIMs plus XGROUP SETID (and XGROUP CREATECONSUMER for a consumer it creates), XCLAIM and
/// XAUTOCLAIM as XCLAIMs (with the delivery TIME compared within a tolerance) or XDELs of what
/// they found deleted, the XGROUP subcommands as themselves.
#[test]
fn stream_group_commands_propagate_as_real_redis() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "xadd s 1-1 f v1",
        "xadd s 2-1 f v2",
        "xadd s 3-1 f v3",
        "xadd s 4-1 f v4",
        "xadd s 5-1 f v5",
        "xgroup create s g 0",
        "xgroup create s g $",
        "xgroup create s h $ mkstream",
        "xgroup create fresh g 0 mkstream entriesread 0",
        "xgroup create missing g 0",
        "xgroup createconsumer s g alice",
        "xgroup createconsumer s g alice",
        "xreadgroup group g alice count 2 streams s >",
        "xreadgroup group g bob noack count 1 streams s >",
        "xreadgroup group g alice streams s 0",
        "xreadgroup group g carol streams s >",
        "xreadgroup group g dave streams s >",
        "xreadgroup group nogroup erin streams s >",
        "xadd t 1-1 f v",
        "xgroup create t g 0",
        "xreadgroup group g alice streams s t > >",
        "xack s g 1-1",
        "xack s g 1-1 99-1",
        "xack s nogroup 2-1",
        "xclaim s g bob 0 2-1",
        "xclaim s g bob 0 2-1 justid",
        "xclaim s g bob 0 2-1 idle 5000000 retrycount 3",
        "xclaim s g bob 0 2-1 time 1000 justid",
        "xclaim s g dave 0 1-1 force lastid 10-0",
        "xclaim s g dave 100000000 2-1",
        "xclaim s g dave 0 99-1",
        "xadd s 6-1 f v6",
        "xautoclaim s g erin 0 0 count 2",
        "xdel s 2-1",
        "xautoclaim s g erin 0 0 justid",
        "xautoclaim s g erin 100000000 0",
        "xclaim s g frank 0 2-1 3-1",
        "xgroup setid s g 0 entriesread 0",
        "xgroup setid s g $",
        "xgroup setid s nogroup 0",
        "xgroup delconsumer s g bob",
        "xgroup delconsumer s g nobody",
        "xgroup destroy s h",
        "xgroup destroy s h",
        "multi",
        "xreadgroup group g alice streams s >",
        "xadd s 7-1 f v7",
        "xreadgroup group g alice streams s >",
        "exec",
    ]);
    d.served(&["xreadgroup group g blocked block 0 streams s >"], "xadd s 8-1 f v8");
    d.finish();
}

/// A subscriber on each server sees the same keyspace notifications for the group commands
/// (xgroup-create, xgroup-createconsumer from XREADGROUP and XCLAIM too, xgroup-setid, ...).
#[test]
fn stream_group_notifications_as_real_redis() {
    let duo = Duo::start(&["--notify-keyspace-events", "KEA"]);
    let mut p = duo.pair();
    let mut sub = duo.pair_named("subscriber");
    sub.check(&["PSUBSCRIBE", "__key*__:*"]);
    let commands: &[&[&str]] = &[
        &["XADD", "s", "1-1", "f", "v"],
        &["XADD", "s", "2-1", "f", "v"],
        &["XADD", "s", "3-1", "f", "v"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
        &["XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "m", ">"],
        &["XACK", "s", "g", "1-1"],
        &["XCLAIM", "s", "g", "erin", "0", "2-1"],
        &["XCLAIM", "s", "g", "erin", "0", "99-1"],
        &["XAUTOCLAIM", "s", "g", "frank", "0", "0"],
        &["XAUTOCLAIM", "s", "g", "grace", "100000000", "0"],
        &["XGROUP", "SETID", "s", "g", "0"],
        &["XGROUP", "DELCONSUMER", "s", "g", "bob"],
        &["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["XDEL", "s", "1-1"],
        &["XTRIM", "s", "MAXLEN", "0"],
        &["XSETID", "s", "10-0"],
    ];
    let mut seen = String::new();
    for c in commands {
        p.check(c);
        let real = sub.check_published(&format!("notifications of {c:?}"));
        seen.push_str(&String::from_utf8_lossy(&real));
    }
    for event in
        ["xgroup-create", "xgroup-createconsumer", "xgroup-setid", "xgroup-delconsumer", "xgroup-destroy", "xsetid"]
    {
        assert!(
            seen.contains(&format!("\r\n{event}\r\n")),
            "real Redis sent no {event} (the scenario went wrong):\n{seen}"
        );
    }
}
