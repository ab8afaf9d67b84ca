//! DEBUG DIGEST and DEBUG DIGEST-VALUE (debug.c's computeDatasetDigest and xorObjectDigest):
//! SHA1 digests of the data, equal to Redis's for the same data. What has no order (keys,
//! set members, hash fields, zset members) is combined by xor; what has one (a list's elements,
//! a stream's entries, the parts of one item) by feeding the digest back into SHA1.

use sha1_smol::Sha1;

use super::{Db, Value};

pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    Sha1::from(data).digest().bytes()
}

/// xorDigest: order-independent addition of `data`.
fn xor(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// mixDigest: SHA1(digest xor SHA1(data)), so that order matters.
fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    *d = sha1(d);
}

/// Redis's OBJ_* type number, which starts each value's digest (and names a type in DEBUG's
/// reports).
pub fn type_number(v: &Value) -> u32 {
    match v {
        Value::Int(_) | Value::Small(_) | Value::Str { .. } => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// xorObjectDigest: mixes the value (and whether it expires) into `d`.
pub fn add_value(d: &mut Digest, v: &Value, expires: bool) {
    mix(d, &type_number(v).to_be_bytes());
    match v {
        Value::Int(_) | Value::Small(_) | Value::Str { .. } => mix(d, &v.as_bytes().unwrap_or_default()),
        Value::List(l) => l.iter().for_each(|e| mix(d, e)),
        Value::Set(s) => s.iter().for_each(|m| m.with_bytes(|b| xor(d, b))),
        Value::ZSet(z) => {
            for (member, score) in z.iter() {
                let mut element = [0; 20];
                mix(&mut element, member);
                mix(&mut element, crate::util::numbers::format_f64_17g(score).as_bytes());
                xor(d, &element);
            }
        }
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut element = [0; 20];
                mix(&mut element, field);
                mix(&mut element, value);
                xor(d, &element);
            }
        }
        Value::Stream(s) => {
            use crate::types::stream::StreamId;
            for entry in s.range(StreamId::MIN, StreamId::MAX, false) {
                mix(d, format!("{}.{}", entry.id.ms, entry.id.seq).as_bytes());
                for (field, value) in &entry.fields {
                    mix(d, field);
                    mix(d, value);
                }
            }
        }
    }
    if expires {
        xor(d, b"!!expire!!");
    }
}

/// One key's digest as DEBUG DIGEST-VALUE gives it.
pub fn value_digest(v: &Value, expires: bool) -> Digest {
    let mut d = [0; 20];
    add_value(&mut d, v, expires);
    d
}

/// computeDatasetDigest: per non-empty database its number, then the xor of each key's digest
/// (its name mixed with its value's). All zeros for an empty dataset.
pub fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut all = [0; 20];
    for (n, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut all, &(n as u32).to_be_bytes());
        for e in db.iter() {
            let mut d = [0; 20];
            mix(&mut d, e.key());
            add_value(&mut d, e.value(), e.expire_at().is_some());
            xor(&mut all, &d);
        }
    }
    all
}

pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_dataset_is_zeros() {
        assert_eq!(hex(&dataset_digest(&[Db::new(), Db::new()])), "0".repeat(40));
    }

    #[test]
    fn order_matters_only_where_redis_keeps_one() {
        let list = |items: &[&str]| Value::List(Box::new(items.iter().map(|s| s.as_bytes()).collect()));
        assert_ne!(value_digest(&list(&["a", "b"]), false), value_digest(&list(&["b", "a"]), false));
        assert_ne!(value_digest(&list(&["a"]), false), value_digest(&list(&["a"]), true));
        let set = |items: &[&str]| {
            Value::Set(Box::new(crate::types::Set::from_members(items.iter().map(|s| s.as_bytes().to_vec()), 512)))
        };
        assert_eq!(value_digest(&set(&["x", "y"]), false), value_digest(&set(&["y", "x"]), false));
    }
}
