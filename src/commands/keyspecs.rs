//! Finding a command line's keys and their access flags from Redis 7.0's key specs (the captured
//! COMMAND INFO metadata), as getKeysUsingKeySpecs does for COMMAND GETKEYS and GETKEYSANDFLAGS.

use bytes::Bytes;

use super::metadata::{self, text};
use crate::protocol::Reply;
use crate::server::command::CommandSpec;

/// A key's position in the command line and its flags (RW, access, update, ...).
pub type FoundKey = (usize, Vec<String>);

fn field<'a>(map: &'a Reply, name: &str) -> Option<&'a Reply> {
    match map {
        Reply::Map(pairs) => pairs.iter().find(|(k, _)| text(k) == name).map(|(_, v)| v),
        _ => None,
    }
}

fn int(map: &Reply, name: &str) -> Option<i64> {
    match field(map, name)? {
        Reply::Int(n) => Some(*n),
        _ => None,
    }
}

fn flags_of(spec: &Reply) -> Vec<String> {
    match field(spec, "flags") {
        Some(Reply::Set(f)) | Some(Reply::Array(f)) => f.iter().map(|r| text(r).to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Where a spec's keys start, or None when its keyword is absent (the spec finds nothing);
/// Err for a spec that cannot be evaluated (an `unknown` begin search).
fn begin(spec: &Reply, args: &[Bytes]) -> Result<Option<usize>, ()> {
    let bs = field(spec, "begin_search").ok_or(())?;
    let how = field(bs, "spec").ok_or(())?;
    match field(bs, "type").map(text) {
        Some("index") => Ok(Some(int(how, "index").ok_or(())? as usize)),
        Some("keyword") => {
            let keyword = field(how, "keyword").map(text).ok_or(())?;
            let from = int(how, "startfrom").ok_or(())?;
            let argc = args.len() as i64;
            // getKeysUsingKeySpecs stops before `end`: a keyword in the last argument (STORE
            // with nothing after it) is not found, rather than naming a key past the end.
            let (start, end) = if from > 0 { (from, argc - 1) } else { (argc + from, 1) };
            let mut i = start;
            while i != end && i >= 1 && i < argc {
                if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                    return Ok(Some(i as usize + 1));
                }
                i += if start <= end { 1 } else { -1 };
            }
            Ok(None)
        }
        _ => Err(()),
    }
}

/// The keys one spec finds; Err when the arguments do not fit it.
fn spec_keys(spec: &Reply, args: &[Bytes]) -> Result<Vec<FoundKey>, ()> {
    let Some(mut first) = begin(spec, args)? else { return Ok(Vec::new()) };
    let argc = args.len();
    let fk = field(spec, "find_keys").ok_or(())?;
    let how = field(fk, "spec").ok_or(())?;
    let (last, step) = match field(fk, "type").map(text) {
        Some("range") => {
            let lastkey = int(how, "lastkey").ok_or(())?;
            let limit = int(how, "limit").ok_or(())?;
            let last = if lastkey >= 0 {
                first as i64 + lastkey
            } else if limit == 0 {
                argc as i64 + lastkey
            } else {
                first as i64 + ((argc - first) as i64 / limit + lastkey)
            };
            (last, int(how, "keystep").ok_or(())?)
        }
        Some("keynum") => {
            let idx = first + int(how, "keynumidx").ok_or(())? as usize;
            let numkeys =
                args.get(idx).and_then(|a| crate::util::numbers::parse_i64(a)).filter(|n| *n >= 0).ok_or(())?;
            first += int(how, "firstkey").ok_or(())? as usize;
            // Redis adds the count as an int: 4294967297 keys is 1.
            (first as i64 + i64::from(numkeys as i32) - 1, int(how, "keystep").ok_or(())?)
        }
        _ => return Err(()),
    };
    if last >= argc as i64 || last < first as i64 || first >= argc {
        return Err(());
    }
    let flags = flags_of(spec);
    let mut out = Vec::new();
    let mut i = first as i64;
    while i <= last {
        out.push((i as usize, flags.clone()));
        i += step.max(1);
    }
    Ok(out)
}

fn flags(list: &[&str]) -> Vec<String> {
    list.iter().map(|f| f.to_string()).collect()
}

/// The two 7.0 commands whose key flags depend on their arguments (setGetKeys, bitfieldGetKeys):
/// the key at 1 is read too when SET has GET, written when BITFIELD has SET or INCRBY.
fn variable_flags(fullname: &str, args: &[Bytes]) -> Vec<FoundKey> {
    let reads = match fullname {
        "set" => args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")),
        _ => {
            let mut read_only = true;
            let mut i = 2;
            while i < args.len() {
                let left = args.len() - i - 1;
                let a = &args[i];
                if a.eq_ignore_ascii_case(b"get") && left >= 2 {
                    i += 3;
                } else if a.eq_ignore_ascii_case(b"overflow") && left >= 1 {
                    i += 2;
                } else {
                    // SET, INCRBY, or a syntax error: assume a write, as Redis does.
                    read_only = false;
                    break;
                }
            }
            return vec![(1, if read_only { flags(&["RO", "access"]) } else { flags(&["RW", "access", "update"]) })];
        }
    };
    vec![(1, if reads { flags(&["RW", "access", "update"]) } else { flags(&["OW", "update"]) })]
}

/// doesCommandHaveKeys: a getkeys procedure, or a key spec that finds keys (one not marked
/// `not_key`, as the shard channels of SPUBLISH and SSUBSCRIBE are).
pub fn has_keys(spec: &CommandSpec, fullname: &str) -> bool {
    if spec.keys_fn.is_some() {
        return true;
    }
    match metadata::get().key_specs(fullname) {
        Some(Reply::Set(s)) | Some(Reply::Array(s)) if !s.is_empty() => {
            s.iter().any(|k| !flags_of(k).iter().any(|f| f == "not_key"))
        }
        _ => spec.keys.0 > 0,
    }
}

/// The keys of a command line with their flags: from Redis's key specs when they can all be
/// evaluated, else from the table's own key positions (SORT's STORE is an `unknown` spec), where
/// for SORT the first key takes the first spec's flags and the others the last spec's, as
/// sortGetKeys gives them.
pub fn find(spec: &CommandSpec, fullname: &str, args: &[Bytes]) -> Vec<FoundKey> {
    let specs: Vec<&Reply> = match metadata::get().key_specs(fullname) {
        Some(Reply::Set(s)) | Some(Reply::Array(s)) => s.iter().collect(),
        _ => Vec::new(),
    };
    let variable = specs.iter().any(|s| flags_of(s).iter().any(|f| f.eq_ignore_ascii_case("variable_flags")));
    if variable {
        return variable_flags(fullname, args);
    }
    // A spec that may miss keys (MIGRATE's KEYS) leaves the keys to the command's own finder, as
    // Redis does; its keys take that spec's flags (migrateGetKeys: RW, access, delete).
    let incomplete = specs.iter().rev().find(|s| flags_of(s).iter().any(|f| f == "incomplete"));
    if let (Some(inc), Some(_)) = (incomplete, spec.keys_fn) {
        let f: Vec<String> = flags_of(inc).into_iter().filter(|f| f != "incomplete").collect();
        return spec.key_positions(args).into_iter().map(|i| (i, f.clone())).collect();
    }
    if !specs.is_empty() {
        let mut keys = Vec::new();
        let evaluated = specs.iter().try_for_each(|s| {
            keys.extend(spec_keys(s, args)?);
            Ok::<(), ()>(())
        });
        if evaluated.is_ok() {
            return keys;
        }
    }
    // Of Redis's getkeys procs only sortGetKeys gives flags; the others (genericGetKeys,
    // xreadGetKeys, georadiusGetKeys) leave them 0.
    let sort = matches!(fullname, "sort" | "sort_ro");
    let first_flags = specs.first().filter(|_| sort).map(|s| flags_of(s)).unwrap_or_default();
    let other_flags = specs.last().filter(|_| sort).map(|s| flags_of(s)).unwrap_or_default();
    spec.key_positions(args)
        .into_iter()
        .enumerate()
        .map(|(n, i)| (i, if n == 0 { first_flags.clone() } else { other_flags.clone() }))
        .collect()
}
