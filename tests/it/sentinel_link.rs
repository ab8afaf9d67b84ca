//! Sentinel's network links (src/sentinel/link.rs) against Debian's redis-server 7.0 and ours:
//! handshake (with and without a password, ACL users), pipelining, transactions in one batch,
//! pub/sub, and every way a link dies (refused, server killed, garbage, close, drop). Plus the
//! shared RESP reply parser (src/client.rs) on hostile input.

use std::time::Duration;

use crate::common::{free_port, wait_for, Server};
use redis_rs::client::{read_value, Value};
use redis_rs::sentinel::link::{Link, LinkConfig, LinkEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

type Start = fn(&[&str]) -> Server;
type Events = UnboundedReceiver<LinkEvent<u32>>;

const WAIT: Duration = Duration::from_secs(20);

fn config(host: &str, port: u16, name: &str) -> LinkConfig {
    LinkConfig {
        host: host.to_string(),
        port,
        auth: None,
        client_name: name.to_string(),
        subscribe: None,
        renames: Vec::new(),
        connect_timeout: Duration::from_secs(5),
        tls: None,
    }
}

fn args(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

fn status(s: &str) -> Value {
    Value::Status(s.to_string())
}

async fn next_event(events: &mut Events) -> LinkEvent<u32> {
    tokio::time::timeout(WAIT, events.recv()).await.expect("an event in time").expect("the link's events")
}

async fn expect_connected(events: &mut Events, id: u64) {
    match next_event(events).await {
        LinkEvent::Connected { id: got } => assert_eq!(got, id),
        other => panic!("expected Connected, got {other:?}"),
    }
}

async fn expect_reply(events: &mut Events, tag: u32) -> Value {
    match next_event(events).await {
        LinkEvent::Reply { tag: got, value, .. } => {
            assert_eq!(got, tag, "replies come in order");
            value
        }
        other => panic!("expected the reply tagged {tag}, got {other:?}"),
    }
}

async fn expect_closed(events: &mut Events) -> String {
    loop {
        match next_event(events).await {
            LinkEvent::Closed { reason, .. } => return reason,
            LinkEvent::Connected { .. } => {}
            other => panic!("expected Closed, got {other:?}"),
        }
    }
}

/// A connected cmd link with its events.
async fn connected_link(cfg: LinkConfig, id: u64) -> (Link<u32>, Events) {
    let (tx, mut events) = unbounded_channel();
    let link = Link::start(id, cfg, tx);
    expect_connected(&mut events, id).await;
    (link, events)
}

fn client_list(server: &Server, password: Option<&str>) -> String {
    let mut c = server.client();
    if let Some(p) = password {
        assert_eq!(c.cmd_str(&["AUTH", p]), "+OK\r\n");
    }
    c.cmd_str(&["CLIENT", "LIST"])
}

/// The CLIENT LIST line of the connection named `name`, once the server has seen its SETNAME.
fn wait_client_line(server: &Server, password: Option<&str>, name: &str) -> String {
    let needle = format!(" name={name} ");
    wait_for("the link's CLIENT SETNAME", WAIT, || client_list(server, password).contains(&needle));
    client_list(server, password).lines().find(|l| l.contains(&needle)).expect("the named client").to_string()
}

async fn handshake_names_the_client(start: Start) {
    let server = start(&[]);
    let (link, mut events) = connected_link(config("127.0.0.1", server.port, "sentinel-abcdefgh-cmd"), 7).await;
    assert!(link.is_connected());
    assert!(link.connected_at().is_some());
    assert!(link.send(args(&["PING"]), 1));
    assert_eq!(expect_reply(&mut events, 1).await, status("PONG"));
    let line = wait_client_line(&server, None, "sentinel-abcdefgh-cmd");
    let local = link.local_addr().expect("the local address");
    assert!(line.contains(&format!("addr={local} ")), "{line} is from {local}");
    assert_eq!(link.pending(), 0);
}

async fn handshake_authenticates(start: Start) {
    let server = start(&["--requirepass", "s3cret"]);
    let mut cfg = config("127.0.0.1", server.port, "sentinel-pass-cmd");
    cfg.auth = Some((None, "s3cret".to_string()));
    let (link, mut events) = connected_link(cfg, 1).await;
    link.send(args(&["PING"]), 1);
    assert_eq!(expect_reply(&mut events, 1).await, status("PONG"));
    let line = wait_client_line(&server, Some("s3cret"), "sentinel-pass-cmd");
    assert!(line.contains(" user=default "), "{line}");

    // The two-argument form, with the default user (ours has no other users).
    let mut cfg = config("127.0.0.1", server.port, "sentinel-user-cmd");
    cfg.auth = Some((Some("default".to_string()), "s3cret".to_string()));
    let (link, mut events) = connected_link(cfg, 2).await;
    link.send(args(&["PING"]), 2);
    assert_eq!(expect_reply(&mut events, 2).await, status("PONG"));
    let line = wait_client_line(&server, Some("s3cret"), "sentinel-user-cmd");
    assert!(line.contains(" user=default "), "{line}");

    // A refused AUTH is ignored like every handshake reply: the link is up, commands get NOAUTH.
    let mut cfg = config("127.0.0.1", server.port, "sentinel-wrong-cmd");
    cfg.auth = Some((None, "wrong".to_string()));
    let (link, mut events) = connected_link(cfg, 3).await;
    link.send(args(&["PING"]), 3);
    match expect_reply(&mut events, 3).await {
        Value::Error(e) => assert!(e.starts_with("NOAUTH"), "{e}"),
        other => panic!("expected NOAUTH, got {other:?}"),
    }
    assert!(link.is_connected());
}

/// 1000 INCRs queued before the connection is up: written after the handshake, answered in order.
async fn pipelined_replies_in_order(start: Start) {
    let server = start(&[]);
    let (tx, mut events) = unbounded_channel();
    let link = Link::start(1, config("127.0.0.1", server.port, "sentinel-pipe-cmd"), tx);
    for i in 0..1000u32 {
        assert!(link.send(args(&["INCR", "counter"]), i));
    }
    assert!(link.pending() <= 1000);
    expect_connected(&mut events, 1).await;
    for i in 0..1000u32 {
        assert_eq!(expect_reply(&mut events, i).await, Value::Int(i as i64 + 1));
    }
    assert_eq!(link.pending(), 0);
}

/// A transaction in one batch, with nested arrays, nulls and errors in its replies.
async fn batch_transaction(start: Start) {
    let server = start(&[]);
    let (link, mut events) = connected_link(config("127.0.0.1", server.port, "sentinel-multi-cmd"), 1).await;
    let batch = vec![
        (args(&["MULTI"]), 0),
        (args(&["SET", "k", "v\r\nwith crlf"]), 1),
        (args(&["GET", "k"]), 2),
        (args(&["GET", "missing"]), 3),
        (args(&["RPUSH", "l", "a", "b"]), 4),
        (args(&["LRANGE", "l", "0", "-1"]), 5),
        (args(&["INCR", "k"]), 6),
        (args(&["EXEC"]), 7),
    ];
    assert!(link.send_batch(batch));
    assert_eq!(expect_reply(&mut events, 0).await, status("OK"));
    for tag in 1..7 {
        assert_eq!(expect_reply(&mut events, tag).await, status("QUEUED"));
    }
    let Value::Array(items) = expect_reply(&mut events, 7).await else { panic!("EXEC's array") };
    assert_eq!(items.len(), 6);
    assert_eq!(
        items[..5],
        [status("OK"), bulk("v\r\nwith crlf"), Value::Nil, Value::Int(2), Value::Array(vec![bulk("a"), bulk("b")])]
    );
    assert!(matches!(&items[5], Value::Error(e) if e.starts_with("ERR value is not an integer")), "{:?}", items[5]);

    // A null array (RESP2 *-1) and an empty one.
    link.send(args(&["BLPOP", "nolist", "0.01"]), 8);
    link.send(args(&["LRANGE", "nolist", "0", "-1"]), 9);
    assert_eq!(expect_reply(&mut events, 8).await, Value::Nil);
    assert_eq!(expect_reply(&mut events, 9).await, Value::Array(vec![]));
}

async fn pubsub_link_receives_messages(start: Start) {
    let server = start(&[]);
    let channel = "__sentinel__:hello";
    let mut cfg = config("127.0.0.1", server.port, "sentinel-abcdefgh-pubsub");
    cfg.subscribe = Some(channel.to_string());
    let (pubsub, mut messages) = connected_link(cfg, 2).await;
    let (cmd, mut replies) = connected_link(config("127.0.0.1", server.port, "sentinel-abcdefgh-cmd"), 1).await;
    let mut observer = server.client();
    wait_for("the pub/sub link's subscription", WAIT, || {
        observer.cmd(&["PUBSUB", "NUMSUB", channel]).ends_with(b":1\r\n")
    });

    // Its own publish, from its cmd link, comes back on its pub/sub link.
    cmd.send(args(&["PUBLISH", channel, "from-cmd-link"]), 1);
    assert_eq!(expect_reply(&mut replies, 1).await, Value::Int(1));
    assert_eq!(observer.cmd_str(&["PUBLISH", channel, "from-elsewhere"]), ":1\r\n");
    for expected in ["from-cmd-link", "from-elsewhere"] {
        match next_event(&mut messages).await {
            LinkEvent::Message { id, channel: got, payload } => {
                assert_eq!(id, 2);
                assert_eq!(got, channel.as_bytes());
                assert_eq!(payload, expected.as_bytes());
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
    // In subscribed mode a command's reply is still a reply, not a message.
    pubsub.send(args(&["PING"]), 5);
    assert_eq!(expect_reply(&mut messages, 5).await, Value::Array(vec![bulk("pong"), bulk("")]));
    wait_client_line(&server, None, "sentinel-abcdefgh-pubsub");
}

async fn server_killed_closes(start: Start) {
    let server = start(&[]);
    let (link, mut events) = connected_link(config("127.0.0.1", server.port, "sentinel-kill-cmd"), 1).await;
    link.send(args(&["PING"]), 1);
    assert_eq!(expect_reply(&mut events, 1).await, status("PONG"));
    drop(server); // SIGKILL and reap
    let reason = expect_closed(&mut events).await;
    assert!(!reason.is_empty());
    assert!(!link.is_connected());
    assert!(!link.send(args(&["PING"]), 2), "a dead link refuses commands");
}

async fn drop_and_close_disconnect(start: Start) {
    let server = start(&[]);
    let (link, mut events) = connected_link(config("127.0.0.1", server.port, "sentinel-drop-cmd"), 1).await;
    wait_client_line(&server, None, "sentinel-drop-cmd");
    drop(link);
    wait_for("the server to see the dropped link go", WAIT, || {
        !client_list(&server, None).contains(" name=sentinel-drop-cmd ")
    });
    let after = tokio::time::timeout(WAIT, events.recv()).await.expect("the task to end");
    assert!(after.is_none(), "a dropped link reports nothing: {after:?}");

    let (link, mut events) = connected_link(config("127.0.0.1", server.port, "sentinel-close-cmd"), 2).await;
    wait_client_line(&server, None, "sentinel-close-cmd");
    link.close();
    assert!(!link.is_connected());
    assert!(!link.send(args(&["PING"]), 1));
    assert_eq!(expect_closed(&mut events).await, "closed by its owner");
    wait_for("the server to see the closed link go", WAIT, || {
        !client_list(&server, None).contains(" name=sentinel-close-cmd ")
    });
}

async fn ipv6_host(start: Start) {
    let server = start(&["--bind", "127.0.0.1", "::1"]);
    let (link, mut events) = connected_link(config("::1", server.port, "sentinel-six-cmd"), 1).await;
    link.send(args(&["PING"]), 1);
    assert_eq!(expect_reply(&mut events, 1).await, status("PONG"));
    assert!(link.local_addr().expect("local address").is_ipv6());
    let line = wait_client_line(&server, None, "sentinel-six-cmd");
    assert!(line.contains("addr=[::1]:") || line.contains("addr=::1:"), "{line}");
}

macro_rules! both {
    ($scenario:ident, $ours:ident, $real:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $ours() {
            $scenario(Server::start).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $real() {
            $scenario(Server::start_real).await
        }
    };
}

both!(handshake_names_the_client, handshake_names_the_client_ours, handshake_names_the_client_real);
both!(handshake_authenticates, handshake_authenticates_ours, handshake_authenticates_real);
/// `AUTH user pass` as an ACL user other than default: real Redis only (ours has only default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_authenticates_acl_user_real() {
    let server = Server::start_real(&["--requirepass", "s3cret"]);
    let mut admin = server.client();
    assert_eq!(admin.cmd_str(&["AUTH", "s3cret"]), "+OK\r\n");
    assert_eq!(admin.cmd_str(&["ACL", "SETUSER", "watcher", "on", ">wpass", "~*", "&*", "+@all"]), "+OK\r\n");
    let mut cfg = config("127.0.0.1", server.port, "sentinel-watcher-cmd");
    cfg.auth = Some((Some("watcher".to_string()), "wpass".to_string()));
    let (link, mut events) = connected_link(cfg, 1).await;
    link.send(args(&["PING"]), 1);
    assert_eq!(expect_reply(&mut events, 1).await, status("PONG"));
    let line = wait_client_line(&server, Some("s3cret"), "sentinel-watcher-cmd");
    assert!(line.contains(" user=watcher "), "{line}");
}

/// A pub/sub link whose SUBSCRIBE is refused (-NOAUTH: no password or a wrong one) closes, as
/// hiredis closes Sentinel's: the instance must show disconnected, not sit on a deaf link. A cmd
/// link with the same wrong password stays up (its commands get the errors).
async fn refused_subscribe_closes_the_pubsub_link(start: Start) {
    let server = start(&["--requirepass", "s3cret"]);
    for auth in [None, Some((None, "wrong".to_string()))] {
        let mut cfg = config("127.0.0.1", server.port, "sentinel-abcdefgh-pubsub");
        cfg.subscribe = Some("__sentinel__:hello".to_string());
        cfg.auth = auth.clone();
        let (tx, mut events) = unbounded_channel();
        let link: Link<u32> = Link::start(1, cfg, tx);
        let reason = expect_closed(&mut events).await;
        assert!(reason.starts_with("NOAUTH"), "{auth:?}: {reason}");
        assert!(!link.is_open());
    }
    let mut cfg = config("127.0.0.1", server.port, "sentinel-abcdefgh-cmd");
    cfg.auth = Some((None, "wrong".to_string()));
    let (cmd, mut replies) = connected_link(cfg, 2).await;
    cmd.send(args(&["PING"]), 1);
    assert!(matches!(expect_reply(&mut replies, 1).await, Value::Error(e) if e.starts_with("NOAUTH")));
    assert!(cmd.is_open());
}

both!(
    refused_subscribe_closes_the_pubsub_link,
    refused_subscribe_closes_the_pubsub_link_ours,
    refused_subscribe_closes_the_pubsub_link_real
);
both!(pipelined_replies_in_order, pipelined_replies_in_order_ours, pipelined_replies_in_order_real);
both!(batch_transaction, batch_transaction_ours, batch_transaction_real);
both!(pubsub_link_receives_messages, pubsub_link_receives_messages_ours, pubsub_link_receives_messages_real);
both!(server_killed_closes, server_killed_closes_ours, server_killed_closes_real);
both!(drop_and_close_disconnect, drop_and_close_disconnect_ours, drop_and_close_disconnect_real);
both!(ipv6_host, ipv6_host_ours, ipv6_host_real);

#[tokio::test]
async fn closed_port_reports_closed() {
    let port = free_port(); // bound then released: nothing listens there
    let (tx, mut events) = unbounded_channel();
    let link = Link::start(9, config("127.0.0.1", port, "sentinel-none-cmd"), tx);
    match next_event(&mut events).await {
        LinkEvent::Closed { id, reason } => {
            assert_eq!(id, 9);
            assert!(reason.contains("refused"), "{reason}");
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(!link.is_connected());
    assert!(!link.send(args(&["PING"]), 1));
    assert_eq!(link.pending(), 0);
}

/// A TCP server that reads what the link sends and answers `answer`, then stays open; returns its
/// port and a receiver of what it read.
async fn fake_server(answer: &'static [u8]) -> (u16, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (seen_tx, seen) = unbounded_channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 4096];
        let mut answered = false;
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let _ = seen_tx.send(buf[..n].to_vec());
                    if !answered && !answer.is_empty() {
                        answered = true;
                        if socket.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    });
    (port, seen)
}

#[tokio::test]
async fn garbage_from_the_peer_closes_the_link() {
    let mut deep = Vec::new();
    for _ in 0..10_000 {
        deep.extend_from_slice(b"*1\r\n");
    }
    let deep: &'static [u8] = deep.leak();
    let cases: [(&'static [u8], &str); 5] = [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "unexpected reply type"),
        (b"$99999999999\r\n", "512 MB"),
        (b"$5\r\nabcdefgh\r\n", "CRLF"),
        (b"+OK\r\n+OK\r\n", "no command pending"),
        (deep, "nested too deeply"),
    ];
    for (answer, expected) in cases {
        let (port, _seen) = fake_server(answer).await;
        let (tx, mut events) = unbounded_channel();
        let link = Link::start(1, config("127.0.0.1", port, "sentinel-junk-cmd"), tx);
        let reason = expect_closed(&mut events).await;
        assert!(reason.contains(expected), "answer {:?}: {reason}", crate::common::show_bytes(answer, 40));
        assert!(!link.is_connected());
    }
}

/// Pending counts commands written and not answered; a silent server keeps them pending.
#[tokio::test]
async fn pending_counts_unanswered_commands() {
    let (port, mut seen) = fake_server(b"").await;
    let (tx, mut events) = unbounded_channel();
    let mut cfg = config("127.0.0.1", port, "sentinel-quiet-cmd");
    cfg.auth = Some((Some("u".to_string()), "p".to_string()));
    let link = Link::start(1, cfg, tx);
    assert!(link.send(args(&["PING"]), 1));
    assert!(link.send_batch(vec![(args(&["MULTI"]), 2), (args(&["EXEC"]), 3)]));
    assert_eq!(link.pending(), 3);
    expect_connected(&mut events, 1).await;
    let expected = [
        crate::common::encode(&[b"AUTH", b"u", b"p"]),
        crate::common::encode(&[b"CLIENT", b"SETNAME", b"sentinel-quiet-cmd"]),
        crate::common::encode(&[b"PING"]),
        crate::common::encode(&[b"MULTI"]),
        crate::common::encode(&[b"EXEC"]),
    ]
    .concat();
    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.extend(tokio::time::timeout(WAIT, seen.recv()).await.expect("bytes in time").expect("the server"));
    }
    assert_eq!(crate::common::show_bytes(&got, 500), crate::common::show_bytes(&expected, 500));
    assert_eq!(link.pending(), 3);
    link.close();
    assert_eq!(expect_closed(&mut events).await, "closed by its owner");
    assert_eq!(link.pending(), 0);
}

async fn parse(bytes: &[u8]) -> std::io::Result<Value> {
    let mut reader = bytes;
    read_value(&mut reader).await
}

#[tokio::test]
async fn reply_parser_reads_every_resp2_type() {
    let value = parse(b"*5\r\n+OK\r\n-ERR no\r\n:-3\r\n$-1\r\n*2\r\n*-1\r\n$3\r\na\r\n\r\n").await.expect("a reply");
    assert_eq!(
        value,
        Value::Array(vec![
            status("OK"),
            Value::Error("ERR no".to_string()),
            Value::Int(-3),
            Value::Nil,
            Value::Array(vec![Value::Nil, bulk("a\r\n")]),
        ])
    );
    let e = parse(b"").await.expect_err("nothing to read");
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    for bad in [&b"$10\r\nshort\r\n"[..], b"*2\r\n:1\r\n", b":1\n", b":x\r\n", b"$536870913\r\n"] {
        let e = parse(bad).await.expect_err("malformed");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{:?}: {e}", crate::common::show_bytes(bad, 40));
    }
}
