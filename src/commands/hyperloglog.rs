//! The HyperLogLog family: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST over string values
//! holding Redis's sketch format (types/hyperloglog.rs). Replies, error texts, the order of the
//! checks, dirty counts and events follow Redis 7.0's hyperloglog.c.

use bytes::Bytes;
use thin_vec::ThinVec;

use super::strings::{cstr, is_word, write_entry, wrongtype};
use super::{notify, Ctx};
use crate::cmd;
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::types::hyperloglog::{self as hll, Encoding, REGISTERS};

const INVALID_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

pub static TABLE: &[CommandSpec] = &[
    cmd!(
        "pfadd",
        -2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hyperloglog",
        "2.8.9",
        "Adds the specified elements to the specified HyperLogLog.",
        "O(1) to add every element.",
        pfadd
    ),
    cmd!(
        "pfcount",
        -2,
        // MAY_REPLICATE, as in Redis (not shown by COMMAND INFO): it may write the cache and be
        // replicated, so read-only scripts refuse it and CLIENT PAUSE WRITE holds it.
        READONLY | MAY_REPLICATE,
        (1, -1, 1),
        "hyperloglog",
        "2.8.9",
        "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        pfcount
    ),
    CommandSpec {
        write_keys: Some((1, 1, 1)),
        ..cmd!(
            "pfmerge",
            -2,
            WRITE | DENYOOM,
            (1, -1, 1),
            "hyperloglog",
            "2.8.9",
            "Merge N different HyperLogLogs into a single one.",
            "O(N) to merge N HyperLogLogs, but with high constant times.",
            pfmerge
        )
    },
    cmd!(
        "pfdebug",
        3,
        WRITE | DENYOOM | ADMIN,
        (2, 2, 1),
        "hyperloglog",
        "2.8.9",
        "Internal commands for debugging HyperLogLog values",
        "N/A",
        pfdebug
    ),
    cmd!(
        "pfselftest",
        1,
        ADMIN,
        (0, 0, 0),
        "hyperloglog",
        "2.8.9",
        "An internal command for testing HyperLogLog values",
        "N/A",
        pfselftest
    ),
];

/// hll-sparse-max-bytes: the size past which a sparse sketch turns dense.
fn sparse_max_bytes(ctx: &Ctx) -> u64 {
    ctx.state.config.int(crate::ckey!("hll-sparse-max-bytes")).max(0) as u64
}

/// isHLLObjectOrReply for a value found under a key: WRONGTYPE's usual text for a non-string,
/// its HyperLogLog text for a string that is not a sketch (an integer-encoded one included).
fn check_hll(v: &Value) -> Result<(), Reply> {
    match v.as_bytes() {
        None => Err(wrongtype()),
        Some(b) if hll::is_valid(&b) => Ok(()),
        Some(_) => Err(Reply::error(INVALID_HLL)),
    }
}

/// The sketch under `key` (already checked) for changing in place. Like dbUnshareStringValue it
/// turns the value into a `raw` string, even when nothing is then written.
fn sketch_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut ThinVec<u8>, Reply> {
    ctx.db().get_mut(key).and_then(|e| e.value_mut().bytes_mut()).ok_or_else(wrongtype)
}

/// Creates an empty sparse sketch under `key` (which does not exist), as createHLLObject + dbAdd.
fn create(ctx: &mut Ctx, key: &[u8]) {
    ctx.db().set(key, Value::Str { bytes: hll::new_sparse(), raw: true }, Ttl::Clear);
}

fn pfadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let max_bytes = sparse_max_bytes(ctx);
    // The new key counts as an update, so PFADD with no elements creates it and answers 1.
    let mut updated = 0u64;
    match tri!(write_entry(ctx, key)) {
        None => {
            create(ctx, key);
            updated += 1;
        }
        Some(e) => tri!(check_hll(e.value())),
    }
    let sketch = tri!(sketch_mut(ctx, key));
    for ele in &args[2..] {
        match hll::add(sketch, ele, max_bytes) {
            Ok(changed) => updated += changed as u64,
            // What was added before stays, unannounced and not counted, as in Redis.
            Err(hll::Corrupt) => return Reply::error(CORRUPT),
        }
    }
    if updated > 0 {
        hll::invalidate_cache(sketch);
        ctx.notify(notify::STRING, "pfadd", key);
        ctx.dirty(updated);
    }
    Reply::Int((updated > 0) as i64)
}

fn pfcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 2 {
        // The union's estimate, from a merge that is never stored.
        let mut max = Box::new([0u8; REGISTERS]);
        for key in &args[1..] {
            let Some(e) = ctx.lookup_read(key) else {
                continue;
            };
            tri!(check_hll(e.value()));
            let merged = e.value().as_bytes().map(|b| hll::merge_into(&mut max, &b));
            if merged != Some(Ok(())) {
                return Reply::error(CORRUPT);
            }
        }
        return Reply::Int(hll::count_registers(&max) as i64);
    }
    let key = &args[1];
    match ctx.lookup_read(key) {
        None => return Reply::Int(0),
        Some(e) => tri!(check_hll(e.value())),
    }
    let sketch = tri!(sketch_mut(ctx, key));
    if let Some(card) = hll::cached_card(sketch) {
        return Reply::Int(card as i64);
    }
    let Ok(card) = hll::count(sketch) else {
        return Reply::error(CORRUPT);
    };
    hll::set_cached_card(sketch, card);
    // The cache is part of the string: a read-only command that changed the value, so WATCH
    // fails and the command is replicated, as Redis's call() replicates whatever made dirty.
    ctx.dirty(1);
    ctx.force_propagation();
    Reply::Int(card as i64)
}

fn pfmerge(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut max = Box::new([0u8; REGISTERS]);
    // A dense source makes the destination dense from the start, as Redis.
    let mut use_dense = false;
    for key in &args[1..] {
        let Some(e) = ctx.lookup_read(key) else {
            continue;
        };
        tri!(check_hll(e.value()));
        let merged = e.value().as_bytes().map(|b| {
            use_dense |= hll::encoding(&b) == Encoding::Dense;
            hll::merge_into(&mut max, &b)
        });
        if merged != Some(Ok(())) {
            return Reply::error(CORRUPT);
        }
    }
    let dest = &args[1];
    let max_bytes = sparse_max_bytes(ctx);
    // The destination was checked with the sources (it is the first of them).
    if ctx.lookup_write(dest).is_none() {
        create(ctx, dest);
    }
    let sketch = tri!(sketch_mut(ctx, dest));
    if use_dense && hll::to_dense(sketch).is_err() {
        return Reply::error(CORRUPT);
    }
    for (i, &m) in max.iter().enumerate() {
        // The destination was validated by the merge, so raising its registers cannot fail.
        if m != 0 && hll::raise(sketch, i, m, max_bytes).is_err() {
            return Reply::error(CORRUPT);
        }
    }
    hll::invalidate_cache(sketch);
    // Redis announces a merge as a mass PFADD.
    ctx.notify(notify::STRING, "pfadd", dest);
    ctx.dirty(1);
    Reply::OK
}

fn pfdebug(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (sub, key) = (&args[1], &args[2]);
    match tri!(write_entry(ctx, key)) {
        None => return Reply::error("ERR The specified key does not exist"),
        Some(e) => tri!(check_hll(e.value())),
    }
    let sketch = tri!(sketch_mut(ctx, key));
    let sparse = hll::encoding(sketch) == Encoding::Sparse;
    if is_word(sub, "getreg") {
        if sparse {
            if hll::to_dense(sketch).is_err() {
                return Reply::error(CORRUPT);
            }
            // Replicas convert too: the command is propagated (WATCH is not told, as in Redis).
            ctx.dirty(1);
            ctx.keys_not_signalled();
        }
        let sketch = tri!(sketch_mut(ctx, key));
        registers_reply(&sketch[hll::HDR_SIZE..])
    } else if is_word(sub, "decode") {
        if !sparse {
            return Reply::error("ERR HLL encoding is not sparse");
        }
        Reply::Bulk(hll::decode_sparse(sketch).into_bytes())
    } else if is_word(sub, "encoding") {
        Reply::status(hll::encoding(sketch).name())
    } else if is_word(sub, "todense") {
        if !sparse {
            return Reply::Int(0);
        }
        if hll::to_dense(sketch).is_err() {
            return Reply::error(CORRUPT);
        }
        ctx.dirty(1);
        ctx.keys_not_signalled();
        Reply::Int(1)
    } else {
        let name = String::from_utf8_lossy(cstr(sub)).replace(['\r', '\n'], " ");
        Reply::error(format!("ERR Unknown PFDEBUG subcommand '{name}'"))
    }
}

/// GETREG's 16384 integers, encoded at once (they read the same in RESP2 and RESP3): one reply
/// value per register made the reply tens of times slower to build than Redis's.
fn registers_reply(regs: &[u8]) -> Reply {
    let mut out = Vec::with_capacity(8 + REGISTERS * 5);
    out.extend_from_slice(format!("*{REGISTERS}\r\n").as_bytes());
    for i in 0..REGISTERS {
        let v = hll::dense_get(regs, i);
        out.push(b':');
        if v >= 10 {
            out.push(b'0' + v / 10);
        }
        out.push(b'0' + v % 10);
        out.extend_from_slice(b"\r\n");
    }
    Reply::Encoded(out)
}

fn pfselftest(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let max_bytes = sparse_max_bytes(ctx);
    // One generator for the 16 million draws, not the thread-local one behind each call.
    let mut rng = fastrand::Rng::new();
    match hll::selftest(max_bytes, || rng.u32(..) >> 1) {
        Ok(()) => Reply::OK,
        Err(e) => Reply::error(e),
    }
}
