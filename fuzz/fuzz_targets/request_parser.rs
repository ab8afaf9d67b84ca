//! The request parser (RESP multibulk and inline commands) on arbitrary client bytes.
//!
//! Properties: no panic; and the commands parsed, and the protocol error that ends them, do not
//! depend on how the bytes were split across reads (the first input byte picks the read sizes).
//! That holds while the input is under the inline limit: beyond it, Redis too answers differently
//! depending on how much it read before the newline.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use redis_rs::protocol::parser::{Limits, Parser, ProtocolError, INLINE_MAX};

include!("common_alloc.rs");

/// Commands parsed and how parsing ended (None: waiting for more bytes).
type Outcome = (Vec<Vec<Bytes>>, Option<ProtocolError>);

fn parse(input: &[u8], step: usize, limits: Limits) -> Outcome {
    let mut parser = Parser::default();
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    for chunk in input.chunks(step.max(1)) {
        buf.extend_from_slice(chunk);
        loop {
            match parser.next(&mut buf, limits) {
                Ok(Some(args)) => {
                    assert!(!args.is_empty(), "an empty command is skipped, never returned");
                    commands.push(args);
                }
                Ok(None) => break,
                Err(e) => return (commands, Some(e)),
            }
        }
    }
    (commands, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    let limits = Limits {
        // Small limits too, so "invalid bulk length" is reached without megabytes of input.
        proto_max_bulk_len: if control & 0x80 != 0 { 512 * 1024 * 1024 } else { 64 },
        authenticated: control & 0x40 == 0,
    };
    let whole = parse(input, input.len(), limits);
    let step = usize::from(control & 0x3f) + 1;
    // Each read rescans the unparsed bytes for the line end, as Redis's does, so thousands of
    // tiny reads of one long line are quadratic: a few hundred reads show the splits well enough.
    if input.len() <= INLINE_MAX && input.len() / step <= 256 {
        assert_eq!(parse(input, step, limits), whole, "parsing depends on the read size {step}");
    }
});
