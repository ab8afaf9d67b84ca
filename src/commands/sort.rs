//! SORT and SORT_RO (sort.c): sort a list, set or sorted set numerically or lexicographically,
//! by the element itself or by other keys (BY), return or store the elements or other keys'
//! values (GET), with LIMIT.

use std::cmp::Ordering;

use bytes::Bytes;

use super::{errors, notify, Ctx};
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::types::List;

pub static TABLE: &[CommandSpec] = &[
    CommandSpec {
        keys_fn: Some(sort_keys),
        write_keys: Some((0, 0, 0)),
        acl: &["set", "sortedset", "list", "dangerous"],
        ..crate::cmd!("sort", -2, WRITE | DENYOOM, (1, 1, 1), "generic", "1.0.0", "Sort the elements in a list, set or sorted set", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", sort)
    },
    CommandSpec {
        keys_fn: Some(|_| vec![1]),
        acl: &["set", "sortedset", "list", "dangerous"],
        ..crate::cmd!("sort_ro", -2, READONLY, (1, 1, 1), "generic", "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", sort_ro)
    },
];

/// The key to sort, and STORE's destination (sortGetKeys). STORE's own write signals WATCH and
/// waiting clients itself (`write_keys` is empty), since the sorted key is not written.
fn sort_keys(args: &[Bytes]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut i = 2;
    while i < args.len() {
        let skip = match args[i].to_ascii_lowercase().as_slice() {
            b"limit" => 2,
            b"get" | b"by" => 1,
            b"store" => {
                if i + 1 < args.len() {
                    // The last STORE wins, as in the command itself.
                    keys.truncate(1);
                    keys.push(i + 1);
                }
                1
            }
            _ => 0,
        };
        i += 1 + skip;
    }
    keys
}

fn sort(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, true)
}

#[derive(Default)]
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<&'a Bytes>,
    by: Option<&'a Bytes>,
    /// BY a pattern without '*': nothing to sort by, the elements keep their order.
    dont_sort: bool,
    gets: Vec<&'a Bytes>,
}

/// SORT's SQL-like options, with Redis's errors (a bad LIMIT number is reported as such).
fn parse_options(args: &[Bytes], readonly: bool) -> Result<Options<'_>, Reply> {
    let mut o = Options::default();
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let word = args[j].to_ascii_lowercase();
        match word.as_slice() {
            b"asc" => o.desc = false,
            b"desc" => o.desc = true,
            b"alpha" => o.alpha = true,
            b"limit" if left >= 2 => {
                let start = super::int_arg(&args[j + 1])?;
                let count = super::int_arg(&args[j + 2])?;
                o.limit = Some((start, count));
                j += 2;
            }
            b"store" if !readonly && left >= 1 => {
                o.store = Some(&args[j + 1]);
                j += 1;
            }
            b"by" if left >= 1 => {
                o.by = Some(&args[j + 1]);
                o.dont_sort = !args[j + 1].contains(&b'*');
                j += 1;
            }
            b"get" if left >= 1 => {
                o.gets.push(&args[j + 1]);
                j += 1;
            }
            _ => return Err(Reply::error(errors::SYNTAX)),
        }
        j += 1;
    }
    Ok(o)
}

/// One element being sorted, with what it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the BY key's value (None when it is missing).
    cmp: Option<Vec<u8>>,
}

fn sort_generic(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> Reply {
    let mut o = tri!(parse_options(args, readonly));
    let key = &args[1];
    let source = match ctx.lookup_read(key).map(|e| e.value()) {
        None => Source::Empty,
        Some(Value::List(l)) => Source::List(l.iter().map(|e| e.to_vec()).collect()),
        Some(Value::Set(s)) => Source::Set(s.iter_bytes().map(|m| m.into_owned()).collect()),
        Some(Value::ZSet(z)) => Source::ZSet(z.iter().map(|(m, _)| m.to_vec()).collect()),
        Some(_) => return Reply::error(errors::WRONGTYPE),
    };
    // A set has no order of its own: stored results (which replicate) must not depend on it.
    if o.dont_sort && matches!(source, Source::Set(_)) && o.store.is_some() {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let ordered = matches!(source, Source::List(_) | Source::ZSet(_) | Source::Empty);
    let mut elems = source.into_elements();
    let len = elems.len() as i64;
    let (limit_start, limit_count) = o.limit.unwrap_or((0, -1));
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);

    let mut items: Vec<Item>;
    if o.dont_sort && ordered {
        // Native order (reversed for DESC), and only the LIMIT range.
        if o.desc {
            elems.reverse();
        }
        let range = if end >= start { elems.drain(start as usize..=end as usize).collect() } else { Vec::new() };
        items = range.into_iter().map(|elem| Item { elem, score: 0.0, cmp: None }).collect();
        end -= start;
        start = 0;
    } else {
        items = elems.into_iter().map(|elem| Item { elem, score: 0.0, cmp: None }).collect();
    }

    let mut conversion_error = false;
    if !o.dont_sort {
        for it in items.iter_mut() {
            let by_value = match o.by {
                Some(pattern) => match lookup_by_pattern(ctx, pattern, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    it.cmp = Some(by_value);
                }
            } else {
                match c_strtod(&by_value) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let by_pattern = o.by.is_some();
        items.sort_by(|a, b| {
            let c = compare(a, b, o.alpha, by_pattern);
            if o.desc {
                c.reverse()
            } else {
                c
            }
        });
    }

    if conversion_error {
        return Reply::error("ERR One or more scores can't be converted into double");
    }
    let selected: &[Item] = if end >= start { &items[start as usize..=end as usize] } else { &[] };
    let mut out: Vec<Option<Vec<u8>>> = Vec::with_capacity(selected.len() * o.gets.len().max(1));
    for it in selected {
        if o.gets.is_empty() {
            out.push(Some(it.elem.clone()));
        }
        for pattern in &o.gets {
            out.push(lookup_by_pattern(ctx, pattern, &it.elem));
        }
    }
    match o.store {
        None => Reply::Array(out.into_iter().map(|v| v.map(Reply::Bulk).unwrap_or(Reply::Nil)).collect()),
        Some(dest) => store(ctx, dest, out),
    }
}

/// STORE: the result replaces the destination as a list (missing GET values as empty strings);
/// an empty result deletes it.
fn store(ctx: &mut Ctx, dest: &Bytes, out: Vec<Option<Vec<u8>>>) -> Reply {
    let n = out.len();
    if n > 0 {
        let mut list = List::new();
        for v in out {
            list.push_back(&v.unwrap_or_default());
        }
        ctx.expire_if_needed(ctx.session.db, dest);
        crate::server::lazyfree::server_overwrite(
            ctx.state,
            ctx.session.db,
            dest,
            Value::List(Box::new(list)),
            Ttl::Clear,
        );
        ctx.key_modified_in(ctx.session.db, dest);
        ctx.notify(notify::LIST, "sortstore", dest);
        ctx.dirty(n as u64);
    } else {
        let db = ctx.session.db;
        ctx.expire_if_needed(db, dest);
        if crate::server::lazyfree::server_delete(ctx.state, db, dest) {
            ctx.key_modified_in(db, dest);
            ctx.notify(notify::GENERIC, "del", dest);
            ctx.dirty(1);
        }
    }
    Reply::Int(n as i64)
}

enum Source {
    Empty,
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    ZSet(Vec<Vec<u8>>),
}

impl Source {
    fn into_elements(self) -> Vec<Vec<u8>> {
        match self {
            Source::Empty => Vec::new(),
            Source::List(v) | Source::Set(v) | Source::ZSet(v) => v,
        }
    }
}

/// sortCompare: numbers (ties broken by the elements' bytes), or bytes with ALPHA; with ALPHA
/// and BY, a missing BY value sorts first.
fn compare(a: &Item, b: &Item, alpha: bool, by_pattern: bool) -> Ordering {
    if !alpha {
        return match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.elem.cmp(&b.elem),
            Some(o) => o,
        };
    }
    if by_pattern {
        return match (&a.cmp, &b.cmp) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        };
    }
    a.elem.cmp(&b.elem)
}

/// lookupKeyByPattern: `#` is the element itself; otherwise the first '*' of the pattern is
/// replaced by the element and the key read, or, for `key*->field`, a field of the hash there.
/// Only strings (and hash fields) are values; anything else counts as missing.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    // Redis works on C strings here: the pattern ends at its first NUL byte.
    let pattern = match pattern.iter().position(|&c| c == 0) {
        Some(i) => &pattern[..i],
        None => pattern,
    };
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let (postfix, field) = match find(after, b"->") {
        Some(f) if f + 2 < after.len() => (&after[..f], Some(&after[f + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let value = ctx.lookup_read(&key)?.value();
    match field {
        Some(f) => value.as_hash()?.get(f).map(|v| v.to_vec()),
        None => value.as_bytes().map(|b| b.into_owned()),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// C's strtod as SORT uses it: the whole C string must be a number (leading white space
/// allowed, empty is 0), and NaN or a result out of range (ERANGE) is a conversion error.
fn c_strtod(b: &[u8]) -> Option<f64> {
    let v = crate::util::numbers::parse_f64_strtod(b)?;
    let text = String::from_utf8_lossy(b).trim_start().to_ascii_lowercase();
    let unsigned = text.trim_start_matches(['+', '-']);
    // ERANGE: overflow to infinity from finite digits, or underflow of non-zero digits to zero.
    if v.is_infinite() && !unsigned.starts_with("inf") {
        return None;
    }
    let mantissa = if unsigned.starts_with("0x") { unsigned.split('p').next() } else { unsigned.split('e').next() };
    if v == 0.0 && mantissa.is_some_and(|m| m.bytes().any(|c| c.is_ascii_hexdigit() && c != b'0' && c != b'x')) {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_c() {
        assert_eq!(c_strtod(b""), Some(0.0));
        assert_eq!(c_strtod(b"  12"), Some(12.0));
        assert_eq!(c_strtod(b"12 "), None);
        assert_eq!(c_strtod(b"1e5"), Some(1e5));
        assert_eq!(c_strtod(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(c_strtod(b"nan"), None);
        assert_eq!(c_strtod(b"1e400"), None);
        assert_eq!(c_strtod(b"1e-400"), None);
        assert_eq!(c_strtod(b"0x10"), Some(16.0));
        assert_eq!(c_strtod(b"abc"), None);
        assert_eq!(c_strtod(b"0.0"), Some(0.0));
    }

    #[test]
    fn keys_include_the_last_store() {
        let a: Vec<Bytes> = ["sort", "k", "by", "store", "limit", "0", "1", "store", "d"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        assert_eq!(sort_keys(&a), vec![1, 8]);
    }
}
