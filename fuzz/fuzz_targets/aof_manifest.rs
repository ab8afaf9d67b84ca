//! The multi-part AOF manifest parser, on arbitrary manifest text.
//!
//! Properties: no panic; a manifest that parses is written back (as a rewrite and a new incr
//! file write it) to text that parses to the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_rs::persistence::aof::Manifest;

include!("common_alloc.rs");

/// Redis's fgets buffer for a manifest line (MANIFEST_MAX_LINE).
const MAX_LINE: usize = 1024;

fn round_trip(m: &Manifest) {
    let text = m.render();
    // A name whose quoted form makes its line longer than Redis reads is written anyway and then
    // refused, by Redis as by us (it can only come from a hand-edited manifest): not checked.
    if text.lines().any(|l| l.len() + 1 > MAX_LINE) {
        return;
    }
    // Likewise an empty name (`file ''`) is read, and written bare as Redis's aofInfoFormat
    // writes it (`file  seq 1 ...`), which then does not read: Redis's behaviour, kept.
    if m.base.iter().chain(&m.history).chain(&m.incrs).any(|f| f.name.is_empty()) {
        return;
    }
    match Manifest::parse(&text) {
        Ok(again) => assert_eq!(&again, m, "the written manifest reads differently:\n{text}"),
        // Redis refuses to read an empty manifest; an empty one is never written.
        Err(_) if m.base.is_none() && m.incrs.is_empty() && m.history.is_empty() => {}
        Err(e) => panic!("the written manifest is refused: {e}\n{text}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut m) = Manifest::parse(text) else { return };
    round_trip(&m);
    // What a rewrite does to it: a new base, the incr files become history, a new incr file.
    // Not past i64::MAX: Redis's sequence is a long long that would overflow there (undefined),
    // and its atoll, as our reader, stops at i64::MAX. Only a hand-edited manifest gets there.
    let top = |f: &Option<redis_rs::persistence::aof::AofFile>| f.as_ref().map_or(0, |f| f.seq);
    if top(&m.base) >= i64::MAX as u64 || m.incrs.last().is_some_and(|f| f.seq >= i64::MAX as u64) {
        return;
    }
    m.new_base("appendonly.aof", true);
    m.mark_incrs_as_history(false);
    m.new_incr("appendonly.aof");
    round_trip(&m);
});
