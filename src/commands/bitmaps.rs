//! The bitmap family: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO, over the
//! string values. Behaviour, replies and error texts follow Redis 7.0 (bitops.c), including the
//! order in which arguments and keys are checked, since that decides which error a client sees.

use bytes::Bytes;

use super::strings::{cstr, is_word, read_string, write_entry, wrongtype, zero_pad};
use super::{errors, int_arg, notify, Ctx};
use crate::cmd;
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::util::numbers::parse_i64;

const BIT_OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

pub static TABLE: &[CommandSpec] = &[
    cmd!(
        "setbit",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "bitmap",
        "2.2.0",
        "Sets or clears the bit at offset in the string value stored at key",
        "O(1)",
        setbit
    ),
    cmd!(
        "getbit",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "bitmap",
        "2.2.0",
        "Returns the bit value at offset in the string value stored at key",
        "O(1)",
        getbit
    ),
    cmd!("bitcount", -2, READONLY, (1, 1, 1), "bitmap", "2.6.0", "Count set bits in a string", "O(N)", bitcount),
    cmd!(
        "bitpos",
        -3,
        READONLY,
        (1, 1, 1),
        "bitmap",
        "2.8.7",
        "Find first bit set or clear in a string",
        "O(N)",
        bitpos
    ),
    CommandSpec {
        write_keys: Some((2, 2, 1)),
        ..cmd!(
            "bitop",
            -4,
            WRITE | DENYOOM,
            (2, -1, 1),
            "bitmap",
            "2.6.0",
            "Perform bitwise operations between strings",
            "O(N)",
            bitop
        )
    },
    cmd!(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        (1, 1, 1),
        "bitmap",
        "3.2.0",
        "Perform arbitrary bitfield integer operations on strings",
        "O(1) for each subcommand specified",
        bitfield
    ),
    cmd!(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        (1, 1, 1),
        "bitmap",
        "6.0.0",
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        "O(1) for each subcommand specified",
        bitfield_ro
    ),
];

/// getBitOffsetFromArgument: a bit offset, or with `#N` (BITFIELD only) N times the field width.
/// Offsets whose byte would reach proto-max-bulk-len are refused.
fn bit_offset(arg: &[u8], hash: bool, bits: u32, max: i64) -> Result<u64, Reply> {
    let use_hash = hash && bits > 0 && arg.first() == Some(&b'#');
    let digits = if use_hash { &arg[1..] } else { arg };
    let Some(mut off) = parse_i64(digits) else {
        return Err(Reply::error(BIT_OFFSET_ERR));
    };
    if use_hash {
        // C multiplies in signed 64-bit; an overflow shows up as a negative offset there too.
        off = off.wrapping_mul(bits as i64);
    }
    if off < 0 || (off >> 3) >= max {
        return Err(Reply::error(BIT_OFFSET_ERR));
    }
    Ok(off as u64)
}

/// lookupStringForBitCommand: the string at `key`, created or zero-padded so that bit `maxbit`
/// exists. Returns the bytes and whether the key was created or grown.
fn bit_target<'a>(ctx: &'a mut Ctx, key: &[u8], maxbit: u64) -> Result<(&'a mut thin_vec::ThinVec<u8>, bool), Reply> {
    let need = (maxbit >> 3) as usize + 1;
    let created = match write_entry(ctx, key) {
        Err(e) => return Err(e),
        Ok(found) => found.is_none(),
    };
    if created {
        ctx.db().set(key, Value::raw_string([]), Ttl::Clear);
    }
    let Some(bytes) = ctx.db().get_mut(key).and_then(|e| e.value_mut().bytes_mut()) else {
        return Err(wrongtype());
    };
    let grown = bytes.len() < need;
    if grown {
        zero_pad(bytes, need);
    }
    Ok((bytes, created || grown))
}

fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    const BIT_ERR: &str = "ERR bit is not an integer or out of range";
    let max = ctx.state.hot.proto_max_bulk_len;
    let offset = tri!(bit_offset(&args[2], false, 0, max));
    let on = match parse_i64(&args[3]) {
        Some(v) if v & !1 == 0 => v as u8,
        _ => return Reply::error(BIT_ERR),
    };
    let (bytes, changed_len) = tri!(bit_target(ctx, &args[1], offset));
    let byte = (offset >> 3) as usize;
    let shift = 7 - (offset & 7) as u8;
    let old = (bytes[byte] >> shift) & 1;
    // Only a real change (or a new/grown string) counts as a write, so WATCH is not triggered by
    // setting a bit to the value it already has.
    if changed_len || old != on {
        bytes[byte] = (bytes[byte] & !(1 << shift)) | (on << shift);
        ctx.notify(notify::STRING, "setbit", &args[1]);
        ctx.dirty(1);
    }
    Reply::Int(old as i64)
}

fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let max = ctx.state.hot.proto_max_bulk_len;
    let offset = tri!(bit_offset(&args[2], false, 0, max));
    let Some(s) = tri!(read_string(ctx, &args[1])) else {
        return Reply::Int(0);
    };
    let byte = (offset >> 3) as usize;
    let bit = s.get(byte).map_or(0, |b| (b >> (7 - (offset & 7))) & 1);
    Reply::Int(bit as i64)
}

/// Parses a BYTE|BIT unit argument.
fn bit_unit(arg: &[u8]) -> Result<bool, Reply> {
    if is_word(arg, "bit") {
        Ok(true)
    } else if is_word(arg, "byte") {
        Ok(false)
    } else {
        Err(Reply::error(errors::SYNTAX))
    }
}

/// Normalizes a start/end range (negative from the end, clamped) over `totlen` units. In bit
/// units it returns byte indexes plus masks of the bits of the first and last byte that fall
/// outside the range.
fn normalize_range(mut start: i64, mut end: i64, totlen: i64, isbit: bool) -> (i64, i64, u8, u8) {
    if start < 0 {
        start += totlen;
    }
    if end < 0 {
        end += totlen;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= totlen {
        end = totlen - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if isbit && start <= end {
        first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    (start, end, first_mask, last_mask)
}

fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // Redis 7.0 looks the key up first: a missing key answers 0 whatever the other arguments are.
    let Some(s) = tri!(read_string(ctx, &args[1])) else {
        return Reply::Int(0);
    };
    let strlen = s.len() as i64;
    let (start, end, first_mask, last_mask) = match args.len() {
        4 | 5 => {
            let start = tri!(int_arg(&args[2]));
            let end = tri!(int_arg(&args[3]));
            // Checked before the unit is parsed, like Redis.
            if start < 0 && end < 0 && start > end {
                return Reply::Int(0);
            }
            let isbit = if args.len() == 5 { tri!(bit_unit(&args[4])) } else { false };
            let totlen = if isbit { strlen << 3 } else { strlen };
            normalize_range(start, end, totlen, isbit)
        }
        2 => (0, strlen - 1, 0, 0),
        _ => return Reply::error(errors::SYNTAX),
    };
    if start > end {
        return Reply::Int(0);
    }
    let (start, end) = (start as usize, end as usize);
    let mut count: i64 = popcount(&s[start..=end]);
    // Bits of the edge bytes outside a BIT range were counted; take them back out.
    count -= (s[start] & first_mask).count_ones() as i64;
    count -= (s[end] & last_mask).count_ones() as i64;
    Reply::Int(count)
}

fn popcount(b: &[u8]) -> i64 {
    let mut chunks = b.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n += chunks.remainder().iter().map(|x| x.count_ones() as u64).sum::<u64>();
    n as i64
}

/// redisBitpos: position of the first bit equal to `bit`; when looking for 0 in all-ones bytes
/// it answers the bit just past the end (the string is seen as zero-padded), for 1 it answers -1.
fn first_bit(b: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    for (i, &byte) in b.iter().enumerate() {
        if byte != skip {
            let lead = if bit { byte.leading_zeros() } else { (!byte).leading_zeros() };
            return i as i64 * 8 + lead as i64;
        }
    }
    if bit {
        -1
    } else {
        b.len() as i64 * 8
    }
}

fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let bit = match tri!(int_arg(&args[2])) {
        0 => false,
        1 => true,
        _ => return Reply::error("ERR The bit argument must be 1 or 0."),
    };
    // A missing key is an infinite run of zeros, whatever the range arguments say.
    let Some(s) = tri!(read_string(ctx, &args[1])) else {
        return Reply::Int(if bit { -1 } else { 0 });
    };
    let p: &[u8] = &s;
    let strlen = p.len() as i64;
    let mut end_given = false;
    let (mut start, end, first_mask, last_mask) = match args.len() {
        4..=6 => {
            let start = tri!(int_arg(&args[3]));
            let isbit = if args.len() == 6 { tri!(bit_unit(&args[5])) } else { false };
            let end = if args.len() >= 5 {
                end_given = true;
                tri!(int_arg(&args[4]))
            } else if isbit {
                (strlen << 3) + 7
            } else {
                strlen - 1
            };
            let totlen = if isbit { strlen << 3 } else { strlen };
            normalize_range(start, end, totlen, isbit)
        }
        3 => (0, strlen - 1, 0, 0),
        _ => return Reply::error(errors::SYNTAX),
    };
    if start > end {
        return Reply::Int(-1);
    }
    // A port of Redis's search: the partial first and last bytes of a BIT range are searched as
    // masked copies (bits outside the range forced to the value not searched for), the middle in
    // place. `bytes` tracks how much of the range is left from `start`.
    let mut bytes = end - start + 1;
    let pos: i64 = 'search: {
        if first_mask != 0 {
            let mut tmp = p[start as usize];
            if bit {
                tmp &= !first_mask;
            } else {
                tmp |= first_mask;
            }
            if last_mask != 0 && bytes == 1 {
                if bit {
                    tmp &= !last_mask;
                } else {
                    tmp |= last_mask;
                }
            }
            let pos = first_bit(&[tmp], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'search pos;
            }
            start += 1;
            bytes -= 1;
        }
        let curbytes = bytes - if last_mask != 0 { 1 } else { 0 };
        if curbytes > 0 {
            let pos = first_bit(&p[start as usize..(start + curbytes) as usize], bit);
            if bytes == curbytes || (pos != -1 && pos != curbytes << 3) {
                break 'search pos;
            }
            start += curbytes;
            bytes -= curbytes;
        }
        let mut tmp = p[end as usize];
        if bit {
            tmp &= !last_mask;
        } else {
            tmp |= last_mask;
        }
        first_bit(&[tmp], bit)
    };
    // With an explicit end, running past the range while looking for a 0 means there is none.
    if end_given && !bit && pos == bytes << 3 {
        return Reply::Int(-1);
    }
    Reply::Int(if pos != -1 { pos + (start << 3) } else { pos })
}

fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match &args[1] {
        o if is_word(o, "and") => Op::And,
        o if is_word(o, "or") => Op::Or,
        o if is_word(o, "xor") => Op::Xor,
        o if is_word(o, "not") => Op::Not,
        _ => return Reply::error(errors::SYNTAX),
    };
    if op == Op::Not && args.len() != 4 {
        return Reply::error("ERR BITOP NOT must be called with a single source key.");
    }
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(args.len() - 3);
    for key in &args[3..] {
        match tri!(read_string(ctx, key)) {
            Some(b) => srcs.push(b.into_owned()),
            None => srcs.push(Vec::new()),
        }
    }
    let maxlen = srcs.iter().map(Vec::len).max().unwrap_or(0);
    let dest = &args[2];
    if maxlen == 0 {
        // An empty result deletes the destination.
        if crate::server::lazyfree::server_delete(ctx.state, ctx.session.db, dest) {
            ctx.notify(notify::GENERIC, "del", dest);
            ctx.dirty(1);
        }
        return Reply::Int(0);
    }
    let res: Vec<u8> = if op == Op::Not {
        srcs[0].iter().map(|b| !b).collect()
    } else {
        let byte_at = |s: &Vec<u8>, i: usize| s.get(i).copied().unwrap_or(0);
        (0..maxlen)
            .map(|i| {
                let mut it = srcs.iter().map(|s| byte_at(s, i));
                let first = it.next().unwrap_or(0);
                match op {
                    Op::And => it.fold(first, |acc, b| acc & b),
                    Op::Or => it.fold(first, |acc, b| acc | b),
                    _ => it.fold(first, |acc, b| acc ^ b),
                }
            })
            .collect()
    };
    ctx.lookup_write(dest);
    crate::server::lazyfree::server_overwrite(ctx.state, ctx.session.db, dest, Value::raw_string(&res), Ttl::Clear);
    ctx.notify(notify::STRING, "set", dest);
    ctx.dirty(1);
    Reply::Int(maxlen as i64)
}

// ---------------------------------------------------------------------------
// BITFIELD
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set,
    Incrby,
}

struct BitfieldOp {
    op: FieldOp,
    offset: u64,
    value: i64,
    signed: bool,
    bits: u32,
    overflow: Overflow,
}

/// getBitfieldTypeFromArgument: `i1`..`i64` or `u1`..`u63`.
fn bitfield_type(arg: &[u8]) -> Result<(bool, u32), Reply> {
    let err = || {
        Reply::error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
    };
    let p = cstr(arg);
    let signed = match p.first() {
        Some(b'i' | b'I') => true,
        Some(b'u' | b'U') => false,
        _ => return Err(err()),
    };
    match parse_i64(&p[1..]) {
        Some(n) if n >= 1 && ((signed && n <= 64) || (!signed && n <= 63)) => Ok((signed, n as u32)),
        _ => Err(err()),
    }
}

/// Reads `bits` bits (MSB first) at bit `offset`; bits past the end read as zero.
fn get_unsigned_field(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for j in 0..bits as u64 {
        let pos = offset + j;
        let byte = p.get((pos >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | ((byte >> (7 - (pos & 7))) & 1) as u64;
    }
    v
}

fn get_signed_field(p: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned_field(p, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

fn set_field(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let pos = offset + j;
        let bit = ((value >> (bits as u64 - 1 - j)) & 1) as u8;
        let shift = 7 - (pos & 7) as u8;
        if let Some(b) = p.get_mut((pos >> 3) as usize) {
            *b = (*b & !(1 << shift)) | (bit << shift);
        }
    }
}

/// checkUnsignedBitfieldOverflow: Some(replacement) on overflow (None for FAIL), with the value
/// wrapped or saturated.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<u64>> {
    let max: u64 = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(0),
            Overflow::Fail => None,
        })
    } else {
        None
    }
}

/// checkSignedBitfieldOverflow, same contract as `unsigned_overflow`.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<i64>> {
    let max: i64 = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        })
    } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        Some(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(min),
            Overflow::Fail => None,
        })
    } else {
        None
    }
}

fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx, args: &[Bytes], ro: bool) -> Reply {
    let max = ctx.state.hot.proto_max_bulk_len;
    let mut ops: Vec<BitfieldOp> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest_write: u64 = 0;
    let mut j = 2;
    while j < args.len() {
        let remargs = args.len() - j - 1;
        let sub = &args[j];
        let op = if is_word(sub, "get") && remargs >= 2 {
            FieldOp::Get
        } else if is_word(sub, "set") && remargs >= 3 {
            FieldOp::Set
        } else if is_word(sub, "incrby") && remargs >= 3 {
            FieldOp::Incrby
        } else if is_word(sub, "overflow") && remargs >= 1 {
            let t = &args[j + 1];
            overflow = if is_word(t, "wrap") {
                Overflow::Wrap
            } else if is_word(t, "sat") {
                Overflow::Sat
            } else if is_word(t, "fail") {
                Overflow::Fail
            } else {
                return Reply::error("ERR Invalid OVERFLOW type specified");
            };
            j += 2;
            continue;
        } else {
            return Reply::error(errors::SYNTAX);
        };
        let (signed, bits) = tri!(bitfield_type(&args[j + 1]));
        let offset = tri!(bit_offset(&args[j + 2], true, bits, max));
        let mut value = 0;
        if op != FieldOp::Get {
            readonly = false;
            highest_write = highest_write.max(offset + bits as u64 - 1);
            value = tri!(int_arg(&args[j + 3]));
        }
        ops.push(BitfieldOp { op, offset, value, signed, bits, overflow });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }

    if readonly {
        let s = tri!(read_string(ctx, &args[1]));
        let p: &[u8] = s.as_deref().unwrap_or(&[]);
        let out = ops
            .iter()
            .map(|o| {
                Reply::Int(if o.signed {
                    get_signed_field(p, o.offset, o.bits)
                } else {
                    get_unsigned_field(p, o.offset, o.bits) as i64
                })
            })
            .collect();
        return Reply::Array(out);
    }
    if ro {
        return Reply::error("ERR BITFIELD_RO only supports the GET subcommand");
    }

    let (p, grown) = tri!(bit_target(ctx, &args[1], highest_write));
    let mut out = Vec::with_capacity(ops.len());
    // Like SETBIT, a write that leaves the bits as they were is not a change (nor a WATCH trigger)
    // unless the string had to be created or grown.
    let mut changes = 0u64;
    for o in &ops {
        match o.op {
            FieldOp::Get => out.push(Reply::Int(if o.signed {
                get_signed_field(p, o.offset, o.bits)
            } else {
                get_unsigned_field(p, o.offset, o.bits) as i64
            })),
            FieldOp::Set | FieldOp::Incrby => {
                let incr = o.op == FieldOp::Incrby;
                if o.signed {
                    let old = get_signed_field(p, o.offset, o.bits);
                    let (check_val, check_incr) = if incr { (old, o.value) } else { (o.value, 0) };
                    let plain = if incr { old.wrapping_add(o.value) } else { o.value };
                    match signed_overflow(check_val, check_incr, o.bits, o.overflow) {
                        Some(None) => out.push(Reply::Nil),
                        res => {
                            let new = res.flatten().unwrap_or(plain);
                            out.push(Reply::Int(if incr { new } else { old }));
                            set_field(p, o.offset, o.bits, new as u64);
                            changes += (grown || new != old) as u64;
                        }
                    }
                } else {
                    let old = get_unsigned_field(p, o.offset, o.bits);
                    let (check_val, check_incr) = if incr { (old, o.value) } else { (o.value as u64, 0) };
                    let plain = if incr { old.wrapping_add(o.value as u64) } else { o.value as u64 };
                    match unsigned_overflow(check_val, check_incr, o.bits, o.overflow) {
                        Some(None) => out.push(Reply::Nil),
                        res => {
                            let new = res.flatten().unwrap_or(plain);
                            out.push(Reply::Int(if incr { new as i64 } else { old as i64 }));
                            set_field(p, o.offset, o.bits, new);
                            changes += (grown || new != old) as u64;
                        }
                    }
                }
            }
        }
    }
    if changes > 0 {
        ctx.notify(notify::STRING, "setbit", &args[1]);
        ctx.dirty(changes);
    } else if ctx.state.hot.notify_flags & notify::NEW != 0 {
        // A key created for writes that all failed (OVERFLOW FAIL) gets its `new` event alone.
        notify::publish_new_keys(ctx.state);
    }
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfield_overflow_rules() {
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(Some(4)));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(Some(255)));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Fail), Some(None));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(Some(0)));
        assert_eq!(unsigned_overflow(5, 10, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Wrap), Some(Some(-126)));
        assert_eq!(signed_overflow(-120, -10, 8, Overflow::Sat), Some(Some(-128)));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), Some(Some(i64::MIN)));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Overflow::Sat), Some(Some(i64::MIN)));
        assert_eq!(signed_overflow(3, 4, 4, Overflow::Wrap), None);
    }

    #[test]
    fn bit_fields_roundtrip() {
        let mut p = vec![0u8; 3];
        set_field(&mut p, 5, 7, 0b1010101);
        assert_eq!(get_unsigned_field(&p, 5, 7), 0b1010101);
        assert_eq!(get_signed_field(&p, 5, 7), 0b1010101 - 128);
        assert_eq!(get_unsigned_field(&p, 20, 16), (p[2] as u64 & 0x0f) << 12);
        assert_eq!(first_bit(&[0xff, 0xff], false), 16);
        assert_eq!(first_bit(&[0, 0], true), -1);
        assert_eq!(first_bit(&[0x00, 0x10], true), 11);
    }
}
