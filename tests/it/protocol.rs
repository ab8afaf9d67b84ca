//! The wire protocol: RESP2/RESP3, inline commands, pipelining, protocol errors.

use crate::common::*;

#[test]
fn inline_and_multibulk_and_pipelining() {
    let s = Server::start(&[]);
    let mut c = s.client();
    c.send_raw(b"PING\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    c.send_raw(b"echo \"hello world\"\n");
    assert_eq!(c.read_reply(), b"$11\r\nhello world\r\n");
    let mut batch = Vec::new();
    for i in 0..100 {
        batch.extend(encode(&[b"ECHO", i.to_string().as_bytes()]));
    }
    c.send_raw(&batch);
    for i in 0..100 {
        let want = format!("${}\r\n{}\r\n", i.to_string().len(), i);
        assert_eq!(c.read_reply(), want.as_bytes());
    }
}

#[test]
fn protocol_errors_close_the_connection_with_redis_text() {
    let s = Server::start(&[]);
    for (input, want) in [
        (&b"*1\r\n+foo\r\n"[..], "-ERR Protocol error: expected '$', got '+'\r\n"),
        (b"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"set \"a\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
    ] {
        let mut c = s.client();
        c.send_raw(input);
        assert_eq!(String::from_utf8_lossy(&c.read_reply()), want);
        assert!(c.closed(), "connection stays open after {want}");
    }
    // The server keeps serving.
    assert_eq!(s.client().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn hello_switches_protocol() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let r = c.cmd_str(&["HELLO", "3"]);
    assert!(r.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), "{r}");
    assert_eq!(c.cmd(&["GET", "missing"]), b"_\r\n");
    assert_eq!(c.cmd_str(&["HELLO", "4"]), "-NOPROTO unsupported protocol version\r\n");
    let r = c.cmd_str(&["HELLO", "2"]);
    assert!(r.starts_with("*14\r\n"), "{r}");
    assert_eq!(c.cmd(&["GET", "missing"]), b"$-1\r\n");
}

#[test]
fn large_pipelined_replies_arrive_complete_and_in_order() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let big = vec![b'x'; 300 * 1024];
    assert_eq!(c.cmd_bytes(&[b"SET", b"big", &big]), b"+OK\r\n");
    let mut batch = Vec::new();
    for i in 0..40 {
        batch.extend(encode(&[b"GET", b"big"]));
        batch.extend(encode(&[b"ECHO", i.to_string().as_bytes()]));
    }
    // Written from another thread: the server may answer before it has read everything.
    let mut w = c.writer_clone();
    let t = std::thread::spawn(move || std::io::Write::write_all(&mut w, &batch).unwrap());
    for i in 0..40 {
        let r = c.read_reply();
        assert_eq!(r.len(), big.len() + format!("${}\r\n\r\n", big.len()).len());
        let want = format!("${}\r\n{}\r\n", i.to_string().len(), i);
        assert_eq!(c.read_reply(), want.as_bytes());
    }
    t.join().unwrap();
}

#[test]
fn normal_client_output_limit_closes_the_client() {
    let s = Server::start(&["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let mut c = s.client();
    let big = vec![b'x'; 400 * 1024];
    assert_eq!(c.cmd_bytes(&[b"SET", b"big", &big]), b"+OK\r\n");
    let mut batch = Vec::new();
    for _ in 0..4 {
        batch.extend(encode(&[b"GET", b"big"]));
    }
    c.send_raw(&batch);
    assert!(c.closed());
    assert_eq!(s.client().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn huge_arguments_are_served_or_refused_cleanly() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let big = vec![b'v'; 64 * 1024 * 1024];
    assert_eq!(c.cmd_bytes(&[b"SET", b"big", &big]), b"+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "big"]), b":67108864\r\n");
    assert_eq!(
        c.cmd(&["SETRANGE", "big", "536870912", "x"]),
        b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]), b"+OK\r\n");
    // Over the limit: Redis's protocol error, then the connection is closed; the data is intact.
    let mut d = s.client();
    d.send_raw(format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", 2 * 1024 * 1024).as_bytes());
    assert_eq!(d.read_reply(), b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(d.closed());
    assert_eq!(c.cmd(&["STRLEN", "big"]), b":67108864\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), b":0\r\n");
}
