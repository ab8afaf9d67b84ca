//! List behaviour that a byte-for-byte comparison with real Redis does not cover on its own: the
//! exact keyspace events a subscriber receives, OBJECT ENCODING, and lists large enough to
//! exercise growth, trimming, memory release and counts clamped to the list's size.

use crate::common::{Client, Reply, Server};

fn int(reply: &[u8]) -> i64 {
    Reply::parse(reply).int()
}

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

/// Pushes `n` elements `e0`, `e1`, ... onto `key`, a thousand per RPUSH, pipelined.
fn fill(c: &mut Client, key: &str, n: usize) {
    let mut batch = Vec::new();
    let mut sent = 0;
    for start in (0..n).step_by(1000) {
        let elements: Vec<String> = (start..(start + 1000).min(n)).map(|i| format!("e{i}")).collect();
        let mut args: Vec<&[u8]> = vec![b"RPUSH", key.as_bytes()];
        args.extend(elements.iter().map(|e| e.as_bytes()));
        batch.extend(crate::common::encode(&args));
        sent += 1;
    }
    c.send_raw(&batch);
    let mut last = 0;
    for _ in 0..sent {
        last = int(&c.read_reply());
    }
    assert_eq!(last, n as i64);
}

#[test]
fn object_encoding_is_always_quicklist() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.cmd(&["RPUSH", "small", "a", "1"]);
    c.cmd(&["RPUSH", "long", &"x".repeat(10_000)]);
    fill(&mut c, "big", 5_000);
    for key in ["small", "long", "big"] {
        assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", key]), bulk("quicklist"), "{key}");
    }
    c.cmd(&["LTRIM", "big", "0", "0"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "big"]), bulk("quicklist"));
    assert_eq!(c.cmd_str(&["TYPE", "big"]), "+list\r\n");
}

/// Reads pmessages until the reply to a PING sent after the command, returning (event, key) pairs
/// from `__keyevent@0__:<event>` channels.
fn events_until_pong(sub: &mut Client) -> Vec<(String, String)> {
    sub.send_raw(&crate::common::encode(&[b"PING"]));
    let mut out = Vec::new();
    loop {
        let r = Reply::parse(&sub.read_reply());
        let parts = r.texts();
        if parts[0] == "pong" {
            return out;
        }
        // pmessage, pattern, channel, key
        let (channel, key) = (parts[2].as_str(), &parts[3]);
        let event = channel.strip_prefix("__keyevent@0__:").unwrap_or_else(|| panic!("channel {channel}"));
        out.push((event.to_string(), key.to_string()));
    }
}

/// (event, key) of a `__keyevent@0__:<event>` message.
type Event = (&'static str, &'static str);

#[test]
fn keyspace_events_of_every_list_command() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), "+OK\r\n");
    let mut sub = server.client();
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let cases: &[(&[&str], &[Event])] = &[
        (&["RPUSH", "l", "a", "b", "c"], &[("rpush", "l")]),
        (&["LPUSH", "l", "x", "y"], &[("lpush", "l")]),
        (&["LPUSHX", "nope", "x"], &[]),
        (&["RPUSHX", "l", "d"], &[("rpush", "l")]),
        (&["LPOP", "l"], &[("lpop", "l")]),
        (&["RPOP", "l", "2"], &[("rpop", "l")]),
        (&["LPOP", "l", "0"], &[]),
        (&["LSET", "l", "0", "z"], &[("lset", "l")]),
        (&["LSET", "l", "99", "z"], &[]),
        (&["LINSERT", "l", "before", "z", "w"], &[("linsert", "l")]),
        (&["LINSERT", "l", "before", "nope", "w"], &[]),
        (&["LREM", "l", "0", "nope"], &[]),
        (&["LREM", "l", "1", "w"], &[("lrem", "l")]),
        (&["LTRIM", "l", "0", "-1"], &[("ltrim", "l")]),
        // LMOVE: the push on the destination is notified before the pop on the source.
        (&["LMOVE", "l", "m", "LEFT", "RIGHT"], &[("rpush", "m"), ("lpop", "l")]),
        (&["RPOPLPUSH", "l", "m"], &[("lpush", "m"), ("rpop", "l")]),
        (&["RPOPLPUSH", "l", "m"], &[("lpush", "m"), ("rpop", "l"), ("del", "l")]),
        (&["RPOPLPUSH", "m", "m"], &[("lpush", "m"), ("rpop", "m")]),
        (&["LMPOP", "2", "l", "m", "RIGHT", "COUNT", "10"], &[("rpop", "m"), ("del", "m")]),
        (&["LMPOP", "1", "m", "LEFT"], &[]),
        (&["RPUSH", "q", "1", "2", "3", "4"], &[("rpush", "q")]),
        (&["BLPOP", "none", "q", "0"], &[("lpop", "q")]),
        (&["BRPOP", "q", "0"], &[("rpop", "q")]),
        (&["BLMOVE", "q", "r", "RIGHT", "LEFT", "0"], &[("lpush", "r"), ("rpop", "q")]),
        (&["BRPOPLPUSH", "q", "r", "0"], &[("lpush", "r"), ("rpop", "q"), ("del", "q")]),
        (&["BLMPOP", "0", "1", "r", "LEFT", "COUNT", "1"], &[("lpop", "r")]),
        (&["LTRIM", "r", "1", "0"], &[("ltrim", "r"), ("del", "r")]),
        (&["RPUSH", "t", "x", "x"], &[("rpush", "t")]),
        (&["LREM", "t", "0", "x"], &[("lrem", "t"), ("del", "t")]),
    ];
    for (cmd, expected) in cases {
        let reply = c.cmd(cmd);
        // Only a command that changes nothing (LSET out of range) may fail here.
        let failed = reply.starts_with(b"-");
        assert!(!failed || expected.is_empty(), "{cmd:?}: {}", String::from_utf8_lossy(&reply));
        let got = events_until_pong(&mut sub);
        let want: Vec<(String, String)> = expected.iter().map(|(e, k)| (e.to_string(), k.to_string())).collect();
        assert_eq!(got, want, "events of {cmd:?}");
    }
}

#[test]
fn large_lists() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let n = 200_000;
    fill(&mut c, "big", n);
    assert_eq!(int(&c.cmd(&["LLEN", "big"])), n as i64);
    assert_eq!(c.cmd_str(&["LINDEX", "big", "0"]), bulk("e0"));
    assert_eq!(c.cmd_str(&["LINDEX", "big", "123456"]), bulk("e123456"));
    assert_eq!(c.cmd_str(&["LINDEX", "big", "-1"]), bulk("e199999"));
    assert_eq!(c.cmd_str(&["LRANGE", "big", "-2", "-1"]), format!("*2\r\n{}{}", bulk("e199998"), bulk("e199999")));
    let all = c.cmd(&["LRANGE", "big", "0", "-1"]);
    assert!(all.starts_with(b"*200000\r\n$2\r\ne0\r\n"));
    assert!(all.ends_with(b"$7\r\ne199999\r\n"));

    assert_eq!(c.cmd_str(&["LSET", "big", "100000", "middle"]), "+OK\r\n");
    assert_eq!(int(&c.cmd(&["LPOS", "big", "middle"])), 100_000);
    assert_eq!(int(&c.cmd(&["LPOS", "big", "middle", "RANK", "-1"])), 100_000);
    assert_eq!(c.cmd_str(&["LPOS", "big", "middle", "MAXLEN", "100000"]), "$-1\r\n");
    assert_eq!(int(&c.cmd(&["LINSERT", "big", "AFTER", "e199998", "inserted"])), n as i64 + 1);
    assert_eq!(c.cmd_str(&["LINDEX", "big", "-2"]), bulk("inserted"));
    assert_eq!(int(&c.cmd(&["LREM", "big", "-1", "inserted"])), 1);
    assert_eq!(int(&c.cmd(&["LREM", "big", "0", "middle"])), 1);
    assert_eq!(int(&c.cmd(&["LLEN", "big"])), n as i64 - 1);

    // Trimming gives the memory back.
    let before = int(&c.cmd(&["MEMORY", "USAGE", "big"]));
    assert!(before > 24 * (n as i64 - 1), "MEMORY USAGE of {n} elements: {before}");
    assert_eq!(c.cmd_str(&["LTRIM", "big", "-100", "-1"]), "+OK\r\n");
    assert_eq!(int(&c.cmd(&["LLEN", "big"])), 100);
    let after = int(&c.cmd(&["MEMORY", "USAGE", "big"]));
    assert!(after < 20_000, "MEMORY USAGE after trimming to 100 elements: {after} (was {before})");
    assert_eq!(c.cmd_str(&["LINDEX", "big", "0"]), bulk("e199900"));

    // Huge counts are clamped to the list, without allocating for them.
    let popped = c.cmd(&["RPOP", "big", "9223372036854775807"]);
    assert!(popped.starts_with(b"*100\r\n$7\r\ne199999\r\n"), "{}", String::from_utf8_lossy(&popped[..40]));
    assert_eq!(int(&c.cmd(&["EXISTS", "big"])), 0);

    fill(&mut c, "a", 50_000);
    let moved = c.cmd(&["LMPOP", "1", "a", "LEFT", "COUNT", "9223372036854775807"]);
    assert!(moved.starts_with(b"*2\r\n$1\r\na\r\n*50000\r\n$2\r\ne0\r\n"));
    assert_eq!(int(&c.cmd(&["EXISTS", "a"])), 0);

    // Long elements round trip and count in MEMORY USAGE.
    let long = "y".repeat(100_000);
    c.cmd(&["RPUSH", "long", &long, &long]);
    assert!(int(&c.cmd(&["MEMORY", "USAGE", "long"])) >= 200_000);
    assert_eq!(c.cmd_str(&["LPOP", "long"]), bulk(&long));
}
