//! The RESP reply parser Sentinel's links and `redisctl --apply` read replies with
//! (`client::read_value`), on arbitrary bytes from a peer.
//!
//! Properties: no panic, no allocation beyond what the bytes hold (a declared length or count is
//! never allocated up front: libFuzzer's -malloc_limit_mb catches that), and since the input is
//! all there, every read completes (never Pending).
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use redis_rs::client::{encode_command, read_value, Value};

include!("common_alloc.rs");

fuzz_target!(|data: &[u8]| {
    let mut reader: &[u8] = data;
    let mut cx = Context::from_waker(Waker::noop());
    // Every reply in the input, as a pipelined stream of them is read.
    while !reader.is_empty() {
        let before = reader.len();
        let value = match pin!(read_value(&mut reader)).poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("read_value waited on a reader that has everything"),
        };
        match value {
            Ok(v) => {
                assert!(reader.len() < before, "a reply was read from no bytes");
                check(&v);
            }
            Err(_) => break,
        }
    }
});

/// What the callers do with a reply: texts, and arrays of bulks as a command again.
fn check(v: &Value) {
    let _ = v.text();
    if let Value::Array(items) = v {
        let bulks: Vec<&[u8]> =
            items.iter().filter_map(|i| if let Value::Bulk(b) = i { Some(&b[..]) } else { None }).collect();
        let _ = encode_command(&bulks);
        items.iter().for_each(check);
    }
}
