//! DEBUG CLIENT-EVICTION: the memory usage buckets of maxmemory-clients, one line each, as
//! debug.c prints them (bucket range, the usage summed in it, how many clients it holds).

use std::fmt::Write;

use crate::commands::Ctx;
use crate::protocol::Reply;
use crate::server::client_eviction::BUCKETS;

/// CLIENT_MEM_USAGE_BUCKET_MIN_LOG
const MIN_LOG: usize = 15;

pub fn client_eviction(ctx: &mut Ctx) -> Reply {
    let Some(buckets) = ctx.state.client_mem.buckets() else {
        return Reply::error("ERR maxmemory-clients is disabled.");
    };
    let mut out = String::new();
    for (j, b) in buckets.iter().enumerate() {
        match j {
            0 => out.push_str("bucket          0"),
            _ => {
                let _ = write!(out, "bucket {:>10}", 1usize << (j - 1 + MIN_LOG));
            }
        }
        if j == BUCKETS - 1 {
            out.push_str("+            : ");
        } else {
            let _ = write!(out, " - {:>10}: ", (1usize << (j + MIN_LOG)) - 1);
        }
        let _ = writeln!(out, "tot-mem: {:>10}, clients: {}", b.sum, b.clients);
    }
    Reply::Verbatim("txt", out.into_bytes())
}
