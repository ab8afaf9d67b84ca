//! RESTORE's payload check and decoding, and FUNCTION RESTORE's records, on arbitrary payloads.
//!
//! Properties: no panic, no allocation beyond what the payload holds; and a value RESTORE accepts
//! can be dumped again and that payload restored.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_rs::persistence::rdb::FunctionRecords;

include!("common_limits.rs");

include!("common_alloc.rs");

fuzz_target!(|data: &[u8]| {
    let Some((&control, payload)) = data.split_first() else { return };
    // DEBUG SET-SKIP-CHECKSUM-VALIDATION 1 lets any payload through, as the fuzzer needs: most
    // inputs would fail the CRC otherwise.
    if verify_payload(payload, control & 1 == 0).is_none() {
        return;
    }
    let limits = limits(control & 2 != 0);
    if let Ok(value) = payload_value(payload, &limits) {
        dumps_and_loads_again(&value, &limits, control & 4 != 0);
    }
    for record in FunctionRecords::new(payload) {
        if record.is_err() {
            break;
        }
    }
});
