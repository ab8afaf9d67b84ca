//! The RDB loader (start-up, DEBUG RELOAD, a replica's full sync, an AOF's RDB base), on
//! arbitrary files.
//!
//! Properties: no panic, no hang, no allocation beyond what the file holds (a declared length is
//! never allocated up front); and every key it loads can be dumped and restored again. With bit 2
//! of the first byte, the file goes through a server's load instead (a replica's diskless load:
//! keys into the databases, function libraries into the engine).
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_rs::persistence::rdb::{load, Event};

include!("common_limits.rs");
include!("common_server.rs");

include!("common_alloc.rs");

fuzz_target!(|data: &[u8]| {
    let Some((&control, file)) = data.split_first() else { return };
    if control & 4 != 0 {
        let server = new_server();
        let _ = redis_rs::persistence::load::load_from_master_stream(&server, file, None);
        return;
    }
    let limits = limits(control & 1 != 0);
    let _ = load(file, &limits, |event| {
        if let Event::Key(k) = event {
            dumps_and_loads_again(&k.value, &limits, control & 2 != 0);
        }
        Ok(())
    });
});
