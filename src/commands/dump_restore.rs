//! DUMP, RESTORE and RESTORE-ASKING (cluster.c's dumpCommand and restoreCommand): a value as
//! an RDB payload with a version and checksum footer, and a key created from one.

use bytes::Bytes;

use super::{errors, int_arg, notify, Ctx};
use crate::keyspace::{access, Ttl};
use crate::persistence::rdb;
use crate::protocol::Reply;
use crate::server::command::*;

pub static TABLE: &[CommandSpec] = &[
    crate::cmd!("dump", 2, READONLY, (1, 1, 1), "generic", "2.6.0", "Return a serialized version of the value stored at the specified key.", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", dump),
    CommandSpec {
        acl: &["dangerous"],
        ..crate::cmd!("restore", -4, WRITE | DENYOOM, (1, 1, 1), "generic", "2.6.0", "Create a key using the provided serialized value, previously obtained using DUMP.", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", restore)
    },
    // The cluster's RESTORE (MIGRATE sends it to a cluster node): the same command, allowed on
    // a slot being imported. Without cluster mode there is no difference.
    CommandSpec {
        acl: &["keyspace", "dangerous"],
        ..crate::cmd!("restore-asking", -4, WRITE | DENYOOM | ASKING, (1, 1, 1), "server", "3.0.0", "An internal command for migrating keys in a cluster", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", restore)
    },
];

fn dump(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let compression = ctx.state.config.bool(crate::ckey!("rdbcompression"));
    let fill = ctx.state.hot.encoding.list_max_listpack_size;
    let Some(e) = ctx.lookup_read(&args[1]) else { return Reply::Nil };
    match rdb::value_payload(e.value(), compression, fill) {
        Ok(payload) => Reply::Bulk(payload),
        Err(e) => Reply::error(format!("ERR {e}")),
    }
}

/// RESTORE's options after the payload.
#[derive(Default)]
struct Options {
    replace: bool,
    absttl: bool,
    idle_secs: Option<i64>,
    freq: Option<u8>,
}

/// Parses the options as Redis does, in order: IDLETIME and FREQ exclude each other (the second
/// one is a syntax error), and each value is checked as it is met.
fn parse_options(args: &[Bytes]) -> Result<Options, Reply> {
    let mut o = Options::default();
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        match args[j].to_ascii_lowercase().as_slice() {
            b"replace" => o.replace = true,
            b"absttl" => o.absttl = true,
            b"idletime" if more && o.freq.is_none() => {
                let idle = int_arg(&args[j + 1])?;
                if idle < 0 {
                    return Err(Reply::error("ERR Invalid IDLETIME value, must be >= 0"));
                }
                o.idle_secs = Some(idle);
                j += 1;
            }
            b"freq" if more && o.idle_secs.is_none() => {
                let freq = int_arg(&args[j + 1])?;
                let Ok(freq) = u8::try_from(freq) else {
                    return Err(Reply::error("ERR Invalid FREQ value, must be >= 0 and <= 255"));
                };
                o.freq = Some(freq);
                j += 1;
            }
            _ => return Err(Reply::error(errors::SYNTAX)),
        }
        j += 1;
    }
    Ok(o)
}

fn restore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = tri!(parse_options(args));
    // The LRU clock is read when the options are, as Redis does.
    let lru_clock = access::lru_clock();
    let key = &args[1];
    if !opts.replace && ctx.lookup_write(key).is_some() {
        return Reply::error("BUSYKEY Target key name already exists.");
    }
    let mut ttl = tri!(int_arg(&args[2]));
    if ttl < 0 {
        return Reply::error("ERR Invalid TTL value, must be >= 0");
    }
    let payload = &args[3];
    if rdb::verify_payload(payload, ctx.state.skip_checksum_validation).is_none() {
        return Reply::error("ERR DUMP payload version or checksum are wrong");
    }
    let Ok(value) = rdb::payload_value(payload, &ctx.state.hot.encoding) else {
        return Reply::error("ERR Bad data format");
    };
    let db = ctx.session.db;
    let deleted = opts.replace && crate::server::lazyfree::server_delete(ctx.state, db, key);
    if ttl != 0 && !opts.absttl {
        ttl = ttl.saturating_add(ctx.now_ms as i64);
    }
    if ttl != 0 && ctx.already_expired(ttl) {
        if deleted {
            ctx.key_modified_in(db, key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.propagate_as(|| vec![Bytes::from_static(b"DEL"), key.clone()]);
            ctx.dirty(1);
        }
        return Reply::OK;
    }
    let expire = if ttl != 0 { Ttl::At(ttl as u64) } else { Ttl::Clear };
    ctx.state.dbs[db].set(key, value, expire);
    if let Some(a) = access::restored(opts.freq, opts.idle_secs, lru_clock) {
        if let Some(e) = ctx.state.dbs[db].get_mut(key) {
            e.set_access(a);
        }
    }
    // A relative TTL is replayed as the absolute time it became, so a replay never moves it.
    if ttl != 0 && !opts.absttl {
        ctx.propagate_as(|| {
            let mut line = args.to_vec();
            line[2] = Bytes::from(ttl.to_string());
            line.push(Bytes::from_static(b"ABSTTL"));
            line
        });
    }
    ctx.key_modified_in(db, key);
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.dirty(1);
    Reply::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<Bytes> {
        a.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    fn error_of(a: &[&str]) -> String {
        match parse_options(&args(a)) {
            Err(Reply::Error(e)) => e.to_string(),
            Err(other) => panic!("{other:?}"),
            Ok(_) => "ok".into(),
        }
    }

    #[test]
    fn options_are_checked_in_order() {
        let base = ["restore", "k", "0", "p"];
        let with = |rest: &[&str]| error_of(&[&base[..], rest].concat());
        assert_eq!(with(&["replace", "absttl", "idletime", "5"]), "ok");
        assert_eq!(with(&["idletime", "-1"]), "ERR Invalid IDLETIME value, must be >= 0");
        assert_eq!(with(&["freq", "256"]), "ERR Invalid FREQ value, must be >= 0 and <= 255");
        assert_eq!(with(&["freq", "x"]), errors::NOT_INTEGER);
        assert_eq!(with(&["idletime", "1", "freq", "1"]), errors::SYNTAX);
        assert_eq!(with(&["freq", "1", "idletime", "1"]), errors::SYNTAX);
        assert_eq!(with(&["idletime"]), errors::SYNTAX);
        assert_eq!(with(&["nosuch"]), errors::SYNTAX);
    }
}
