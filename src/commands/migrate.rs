//! MIGRATE (cluster.c's migrateCommand): keys sent to another server as RESTORE commands over a
//! cached connection, then deleted here unless COPY, the deletion replayed as DEL. The server
//! waits for the target's replies (within the timeout), as Redis does.

use std::time::Duration;

use bytes::Bytes;

use super::{errors, notify, Ctx};
use crate::client::encode_command;
use crate::persistence::rdb;
use crate::protocol::Reply;
use crate::server::busy::blocking;
use crate::server::command::*;
use crate::server::migrate_sockets::is_timeout;

pub static TABLE: &[CommandSpec] = &[CommandSpec {
    keys_fn: Some(migrate_keys),
    acl: &["dangerous"],
    ..crate::cmd!("migrate", -6, WRITE, (3, 3, 1), "generic", "2.6.0", "Atomically transfer a key from a Redis instance to another one.", "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.", migrate)
}];

/// migrateGetKeys: the key argument, or with KEYS (when the key argument is empty) the keys
/// after it; AUTH and AUTH2's values are skipped while looking for KEYS.
fn migrate_keys(args: &[Bytes]) -> Vec<usize> {
    let mut i = 6;
    while i < args.len() {
        let word = args[i].to_ascii_lowercase();
        if word == b"keys" {
            return if args[3].is_empty() { (i + 1..args.len()).collect() } else { Vec::new() };
        }
        i += match word.as_slice() {
            b"auth" => 2,
            b"auth2" => 3,
            _ => 1,
        };
    }
    vec![3]
}

/// The arguments MIGRATE hides from SLOWLOG and MONITOR: AUTH's password, AUTH2's user and
/// password, as the options are read.
pub fn redacted_positions(args: &[Bytes]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        match args[j].to_ascii_lowercase().as_slice() {
            b"copy" | b"replace" => {}
            b"auth" if more >= 1 => {
                out.push(j + 1);
                j += 1;
            }
            b"auth2" if more >= 2 => {
                out.extend([j + 1, j + 2]);
                j += 2;
            }
            _ => break,
        }
        j += 1;
    }
    out
}

struct Options<'a> {
    copy: bool,
    replace: bool,
    user: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    first_key: usize,
}

fn parse_options(args: &[Bytes]) -> Result<Options<'_>, Reply> {
    let mut o = Options { copy: false, replace: false, user: None, password: None, first_key: 3 };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        match args[j].to_ascii_lowercase().as_slice() {
            b"copy" => o.copy = true,
            b"replace" => o.replace = true,
            b"auth" => {
                if more < 1 {
                    return Err(Reply::error(errors::SYNTAX));
                }
                o.password = Some(&args[j + 1]);
                j += 1;
            }
            b"auth2" => {
                if more < 2 {
                    return Err(Reply::error(errors::SYNTAX));
                }
                o.user = Some(&args[j + 1]);
                o.password = Some(&args[j + 2]);
                j += 2;
            }
            b"keys" => {
                if !args[3].is_empty() {
                    return Err(Reply::error(
                        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                    ));
                }
                o.first_key = j + 1;
                break;
            }
            _ => return Err(Reply::error(errors::SYNTAX)),
        }
        j += 1;
    }
    Ok(o)
}

/// getLongFromObjectOrReply.
fn long_arg(b: &[u8]) -> Result<i64, Reply> {
    crate::util::numbers::parse_i64(b).ok_or_else(|| Reply::error(errors::NOT_INTEGER))
}

fn migrate(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let opts = tri!(parse_options(args));
    let timeout_ms = tri!(long_arg(&args[5]));
    let db = tri!(long_arg(&args[4]));
    let timeout = Duration::from_millis(if timeout_ms <= 0 { 1000 } else { timeout_ms as u64 });
    let keys: Vec<Bytes> = if opts.first_key == 3 { vec![args[3].clone()] } else { args[opts.first_key..].to_vec() };
    let mut present = Vec::new();
    for k in keys {
        if ctx.lookup_read(&k).is_some() {
            present.push(k);
        }
    }
    if present.is_empty() {
        return Reply::status("NOKEY");
    }
    let (host, port) = (&args[1], &args[2]);
    // A cached connection the target closed fails at once: one retry on a new connection, unless
    // the time ran out or the target may have acted on what it got.
    let mut may_retry = true;
    loop {
        match attempt(ctx, &opts, (host, port), db, timeout, &present) {
            Ok(reply) => return reply,
            Err(failure) => {
                ctx.state.migrate_sockets.close(host, port);
                if failure.retry && may_retry {
                    may_retry = false;
                    continue;
                }
                let what = if failure.writing { "writing" } else { "reading" };
                return Reply::error(format!("IOERR error or timeout {what} to target instance"));
            }
        }
    }
}

/// A connection failure while talking to the target.
struct SocketFailure {
    writing: bool,
    retry: bool,
}

impl SocketFailure {
    fn of(e: &std::io::Error, writing: bool) -> SocketFailure {
        SocketFailure { writing, retry: !is_timeout(e) }
    }
}

/// One try: AUTH and SELECT when needed, a RESTORE per key still there, their replies; the keys
/// the target took are deleted here (unless COPY) and replayed as one DEL.
fn attempt(
    ctx: &mut Ctx,
    opts: &Options,
    (host, port): (&[u8], &[u8]),
    db: i64,
    timeout: Duration,
    keys: &[Bytes],
) -> Result<Reply, SocketFailure> {
    let now_secs = crate::util::time::cached_unix_secs();
    let compression = ctx.state.config.bool(crate::ckey!("rdbcompression"));
    let fill = ctx.state.hot.encoding.list_max_listpack_size;
    let sdb = ctx.session.db;
    let state = &mut *ctx.state;
    let sockets = &mut state.migrate_sockets;
    let conn = match blocking(|| sockets.get(host, port, timeout, now_secs)) {
        Ok(c) => c,
        // Redis's non-blocking connect takes a refusal for a connection: writing to it fails.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Err(SocketFailure::of(&e, true)),
        Err(_) => return Ok(Reply::error("IOERR error or timeout connecting to the client")),
    };
    let mut out = Vec::new();
    if let Some(password) = opts.password {
        match opts.user {
            Some(user) => out.extend(encode_command(&[&b"AUTH"[..], user, password])),
            None => out.extend(encode_command(&[&b"AUTH"[..], password])),
        }
    }
    let select = conn.last_db != Some(db);
    if select {
        out.extend(encode_command(&[b"SELECT".to_vec(), db.to_string().into_bytes()]));
    }
    // Each key is looked at again: serialising the ones before may have taken long enough for it
    // to expire, and then it is left out.
    let mut sent = Vec::new();
    for key in keys {
        let now = crate::util::time::unix_ms() as i64;
        let Some(e) = state.dbs[sdb].get_raw(key) else { continue };
        let ttl_ms = match e.expire_at() {
            Some(at) if (at as i64) < now => continue,
            Some(at) => (at as i64 - now).max(1),
            None => 0,
        };
        let payload = match rdb::value_payload(e.value(), compression, fill) {
            Ok(p) => p,
            Err(err) => return Ok(Reply::error(format!("ERR {err}"))),
        };
        let ttl = ttl_ms.to_string();
        let mut line: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), &payload];
        if opts.replace {
            line.push(b"REPLACE");
        }
        out.extend(encode_command(&line));
        sent.push(key.clone());
    }
    blocking(|| conn.write_all(&out, timeout)).map_err(|e| SocketFailure::of(&e, true))?;
    let mut read_if = |needed: bool| match needed {
        true => blocking(|| conn.read_line(timeout)).map(Some).map_err(|e| SocketFailure::of(&e, false)),
        false => Ok(None),
    };
    let auth_reply = read_if(opts.password.is_some())?;
    let select_reply = read_if(select)?;
    let mut target_error: Option<Reply> = None;
    let mut socket_error: Option<std::io::Error> = None;
    let mut acknowledged = Vec::new();
    for key in &sent {
        let reply = match blocking(|| conn.read_line(timeout)) {
            Ok(r) => r,
            Err(e) => {
                socket_error = Some(e);
                break;
            }
        };
        let failed = [auth_reply.as_deref(), select_reply.as_deref(), Some(&reply[..])]
            .into_iter()
            .flatten()
            .find(|r| r.first() == Some(&b'-'));
        match failed {
            Some(err) if target_error.is_none() => {
                conn.last_db = None;
                let text = String::from_utf8_lossy(&err[1..]);
                target_error = Some(Reply::error(format!("ERR Target instance replied with error: {text}")));
            }
            Some(_) => {}
            None => acknowledged.push(key.clone()),
        }
    }
    if let Some(e) = &socket_error {
        // Nothing was acknowledged: as if the connection had failed before.
        if target_error.is_none() && acknowledged.is_empty() && !is_timeout(e) {
            return Err(SocketFailure { writing: false, retry: true });
        }
        sockets.close(host, port);
    } else if target_error.is_none() {
        conn.last_db = Some(db);
    }
    if !opts.copy && !acknowledged.is_empty() {
        for key in &acknowledged {
            ctx.state.dbs[sdb].remove(key);
            ctx.key_modified_in(sdb, key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty(1);
        }
        ctx.propagate_as(|| std::iter::once(Bytes::from_static(b"DEL")).chain(acknowledged.iter().cloned()).collect());
    }
    match (target_error, socket_error) {
        (Some(err), _) => Ok(err),
        (None, Some(_)) => Err(SocketFailure { writing: false, retry: false }),
        (None, None) => Ok(Reply::OK),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<Bytes> {
        a.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn keys_and_secrets_are_found_as_redis_finds_them() {
        assert_eq!(migrate_keys(&args(&["migrate", "h", "1", "k", "0", "5"])), vec![3]);
        let a = args(&["migrate", "h", "1", "", "0", "5", "auth", "keys", "keys", "a", "b"]);
        assert_eq!(migrate_keys(&a), vec![9, 10]);
        assert_eq!(redacted_positions(&a), vec![7]);
        let a = args(&["migrate", "h", "1", "x", "0", "5", "copy", "auth2", "u", "p", "keys", "a"]);
        assert!(migrate_keys(&a).is_empty());
        assert_eq!(redacted_positions(&a), vec![8, 9]);
    }
}
