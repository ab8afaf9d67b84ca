//! Client-side caching (CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO) compared byte for byte
//! with Debian's real Redis 7.0: every option and error in Redis's check order, the default mode's
//! remembered reads and their invalidation (RESP3 pushes; RESP2 through a redirect client's
//! `__redis__:invalidate` messages), BCAST with prefixes, OPTIN/OPTOUT, NOLOOP, invalidation by
//! writes, expiry, FLUSHALL/FLUSHDB and tracking-table-max-keys, a broken redirect, CLIENT LIST's
//! flags and redir=, and INFO's tracking fields.

use std::time::Duration;

use crate::common::{wait_for, Client};
use crate::differential_support::*;

fn hello3(p: &mut Pair) {
    p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
}

fn client_id(c: &mut Client) -> String {
    let r = c.cmd(&["CLIENT", "ID"]);
    String::from_utf8_lossy(&r[1..r.len() - 2]).into_owned()
}

/// Runs a command whose arguments name a client id: each server gets its own client's id.
fn check_with_ids(p: &mut Pair, before: &[&str], ids: (&str, &str), after: &[&str]) -> Vec<u8> {
    let line = |id: &str| -> Vec<String> {
        before
            .iter()
            .map(|s| s.to_string())
            .chain([id.to_string()])
            .chain(after.iter().map(|s| s.to_string()))
            .collect()
    };
    let (o, r) = (line(ids.0), line(ids.1));
    let o_reply = p.ours.cmd(&o.iter().map(String::as_str).collect::<Vec<_>>());
    let r_reply = p.real.cmd(&r.iter().map(String::as_str).collect::<Vec<_>>());
    p.compare(&format!("{r:?} (with each server's client id)"), &mask_ints(&o_reply), &mask_ints(&r_reply));
    r_reply
}

/// INFO's tracking fields.
fn tracking_info(c: &mut Client) -> Vec<u8> {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "all"])).into_owned();
    let keep: Vec<&str> = info.lines().filter(|l| l.starts_with("tracking_")).collect();
    keep.join(" ").into_bytes()
}

fn compare_tracking_info(p: &mut Pair, when: &str) {
    let (o, r) = (tracking_info(&mut p.ours), tracking_info(&mut p.real));
    p.compare(&format!("INFO tracking fields {when}"), &o, &r);
}

/// CLIENT LIST's flags= of the client named `name`, and whether its redir= is `redir`.
fn list_fields(c: &mut Client, name: &str, redir: &str) -> Vec<u8> {
    let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).into_owned();
    let line = list.lines().find(|l| l.contains(&format!(" name={name} "))).unwrap_or_default().to_string();
    let flags = line.split(' ').find(|f| f.starts_with("flags=")).unwrap_or_default().to_string();
    let r = line.split(' ').find_map(|f| f.strip_prefix("redir=")).unwrap_or_default();
    let r = if r == redir { "<expected>" } else { r };
    format!("{flags} redir={r}").into_bytes()
}

fn compare_list_fields(p: &mut Pair, name: &str, redirs: (&str, &str)) {
    let (o, r) = (list_fields(&mut p.ours, name, redirs.0), list_fields(&mut p.real, name, redirs.1));
    p.compare(&format!("CLIENT LIST fields of {name}"), &o, &r);
}

#[test]
fn tracking_options_errors_and_introspection() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.both(&["CLIENT", "SETNAME", "me"]);
        let mut other = duo.pair_named("other");
        let ids = (client_id(&mut other.ours), client_id(&mut other.real));
        let ids = (ids.0.as_str(), ids.1.as_str());
        check_all(
            p,
            &[
                &["CLIENT", "TRACKING"],
                &["CLIENT", "TRACKING", "maybe"],
                &["CLIENT", "TRACKING", "on", "foo"],
                &["CLIENT", "TRACKING", "on", "REDIRECT"],
                &["CLIENT", "TRACKING", "on", "REDIRECT", "abc"],
                &["CLIENT", "TRACKING", "on", "REDIRECT", "0"],
                &["CLIENT", "TRACKING", "on", "REDIRECT", "-5"],
                &["CLIENT", "TRACKING", "on", "REDIRECT", "987654"],
                &["CLIENT", "TRACKING", "off", "REDIRECT", "987654"],
                &["CLIENT", "TRACKING", "off", "bogus"],
                &["CLIENT", "TRACKING", "on", "PREFIX"],
                &["CLIENT", "TRACKING", "on", "PREFIX", "a"],
                &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
                &["CLIENT", "TRACKING", "on", "BCAST", "OPTOUT"],
                &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
                &["CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "ab"],
                &["CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "GETREDIR"],
                &["CLIENT", "CACHING", "yes"],
                &["CLIENT", "CACHING"],
                &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a", "NOLOOP"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "abc"],
                &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c", "PREFIX", ""],
                &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "TRACKING", "on"],
                &["CLIENT", "CACHING", "yes"],
                &["CLIENT", "TRACKING", "off"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "TRACKING", "on", "OPTIN"],
                &["CLIENT", "TRACKING", "on", "OPTOUT"],
                &["CLIENT", "TRACKING", "on", "BCAST"],
                &["CLIENT", "CACHING", "no"],
                &["CLIENT", "CACHING", "maybe"],
                &["CLIENT", "CACHING", "yes"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "TRACKING", "off"],
                &["CLIENT", "TRACKING", "on", "OPTOUT"],
                &["CLIENT", "CACHING", "yes"],
                &["CLIENT", "CACHING", "no"],
                &["CLIENT", "TRACKINGINFO"],
                &["CLIENT", "TRACKING", "off"],
                &["CLIENT", "CACHING", "no"],
                &["CLIENT", "GETREDIR"],
            ],
        );
        compare_list_fields(p, "me", ("-1", "-1"));
        check_with_ids(p, &["CLIENT", "TRACKING", "on", "REDIRECT"], ids, &["REDIRECT", "1"]);
        check_with_ids(p, &["CLIENT", "TRACKING", "on", "REDIRECT"], ids, &[]);
        compare_list_fields(p, "me", ids);
        check_with_ids(p, &["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT"], ids, &[]);
        compare_list_fields(p, "me", ids);
        let redirect = p.check_with(&["CLIENT", "GETREDIR"], |_| Vec::new());
        let ours = p.ours.cmd(&["CLIENT", "GETREDIR"]);
        p.compare("CLIENT GETREDIR is the redirect client", &ours[1..ours.len() - 2], ids.0.as_bytes());
        p.compare("real CLIENT GETREDIR", &redirect[1..redirect.len() - 2], ids.1.as_bytes());
        p.check_with(&["CLIENT", "TRACKINGINFO"], mask_ints);
        compare_tracking_info(p, "with one tracking client");
        p.check(&["CLIENT", "TRACKING", "off"]);
        compare_list_fields(p, "me", ("-1", "-1"));
        compare_tracking_info(p, "after tracking off");
        p.check(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x"]);
        compare_list_fields(p, "me", ("0", "0"));
        compare_tracking_info(p, "with a BCAST client");
        p.check(&["RESET"]);
        compare_tracking_info(p, "after RESET");
    });
}

#[test]
fn default_mode_invalidates_what_was_read_once() {
    let duo = Duo::start(&[]);
    let mut c = duo.pair_named("tracking");
    let mut w = duo.pair_named("writer");
    hello3(&mut c);
    c.check(&["CLIENT", "TRACKING", "on"]);
    c.check(&["GET", "a"]);
    c.check(&["MGET", "b", "c", "a"]);
    c.check(&["HGET", "h", "f"]);
    compare_tracking_info(&mut w, "after reads");
    w.check(&["SET", "a", "1"]);
    c.check_read("invalidate a");
    // Told once: the key is forgotten until read again.
    w.check(&["SET", "a", "2"]);
    w.check(&["HSET", "h", "f", "v"]);
    c.check_read("invalidate h");
    c.check(&["PING"]);
    // A write that changes nothing invalidates nothing; a failed one neither.
    w.check(&["DEL", "nosuch"]);
    w.check(&["LPUSH", "b", "x", "y"]);
    c.check_read("invalidate b");
    c.check(&["GET", "b"]);
    w.check(&["SET", "c", "1"]);
    c.check_read("invalidate c");
    // Read even by a command that failed (WRONGTYPE), as in Redis.
    w.check(&["RPOP", "b"]);
    c.check_read("invalidate b by RPOP");
    c.check(&["PING"]);
    c.check(&["LRANGE", "b", "0", "-1"]);
    w.check(&["LTRIM", "b", "0", "-1"]);
    c.check_read("invalidate b by an LTRIM that trims nothing");
    // Its own writes: after the reply.
    c.check(&["GET", "own"]);
    c.check(&["SET", "own", "x"]);
    c.check_read("own invalidation after the reply");
    c.check(&["GET", "own"]);
    c.send_cmds(&[&["MULTI"], &["SET", "own", "y"], &["GET", "own"], &["EXEC"]]);
    for what in ["MULTI", "QUEUED", "QUEUED", "EXEC", "invalidation after EXEC"] {
        c.check_read(what);
    }
    c.check(&["PING"]);
    // A script that reads makes its caller track the keys it declared (not those it read).
    c.check(&["EVAL", "return redis.call('get', KEYS[1])", "1", "scripted"]);
    c.check(&["EVAL_RO", "return 1", "1", "notread"]);
    c.check(&["EVAL", "return redis.call('get', 'undeclared')", "1", "declared"]);
    c.check(&["EVAL", "return redis.call('set', 'wrote', 1)", "1", "declared2"]);
    w.check(&["SET", "scripted", "1"]);
    c.check_read("invalidate scripted");
    w.check(&["MSET", "notread", "1", "undeclared", "1", "declared2", "1"]);
    c.check(&["PING"]);
    w.check(&["SET", "declared", "1"]);
    c.check_read("invalidate declared");
    // Other commands' keys: COPY's destination, RENAME's both, expiry.
    c.check(&["MGET", "dst", "r1", "r2"]);
    w.check(&["COPY", "a", "dst"]);
    c.check_read("invalidate dst");
    w.check(&["SET", "r1", "v"]);
    c.check_read("invalidate r1");
    c.check(&["GET", "r1"]);
    w.check(&["RENAME", "r1", "r2"]);
    c.check_read("invalidate r1 (RENAME)");
    c.check_read("invalidate r2 (RENAME)");
    w.check(&["SET", "e", "v", "PX", "30"]);
    c.check(&["GET", "e"]);
    wait_for("e to expire on both", Duration::from_secs(10), || {
        w.ours.cmd(&["EXISTS", "e"]) == b":0\r\n" && w.real.cmd(&["EXISTS", "e"]) == b":0\r\n"
    });
    c.check_read("invalidate e (expired)");
    compare_tracking_info(&mut w, "after the invalidations");
    // FLUSHALL: a null invalidation, the table emptied.
    c.check(&["GET", "a"]);
    w.check(&["FLUSHALL"]);
    c.check_read("null invalidation on FLUSHALL");
    compare_tracking_info(&mut w, "after FLUSHALL");
    c.check(&["FLUSHDB"]);
    c.check_read("own null invalidation after FLUSHDB's reply");
    c.check(&["PING"]);
}

#[test]
fn noloop_and_reply_off() {
    let duo = Duo::start(&[]);
    let mut c = duo.pair_named("tracking");
    let mut w = duo.pair_named("writer");
    hello3(&mut c);
    c.check(&["CLIENT", "TRACKING", "on", "NOLOOP"]);
    c.check(&["GET", "k"]);
    c.check(&["SET", "k", "mine"]);
    c.check(&["PING"]);
    c.check(&["GET", "k"]);
    w.check(&["SET", "k", "theirs"]);
    c.check_read("invalidate k by another client");
    // Invalidations are pushes: CLIENT REPLY OFF does not silence them.
    c.check(&["CLIENT", "TRACKING", "on"]);
    c.check(&["GET", "k"]);
    c.send_cmds(&[&["CLIENT", "REPLY", "OFF"], &["SET", "k", "x"], &["GET", "k"]]);
    c.check_read("own invalidation with replies off");
    w.check(&["SET", "k", "y"]);
    c.check_read("invalidation with replies off");
    c.send_cmds(&[&["CLIENT", "REPLY", "ON"]]);
    c.check_read("CLIENT REPLY ON");
}

#[test]
fn optin_and_optout() {
    let duo = Duo::start(&[]);
    let mut c = duo.pair_named("tracking");
    let mut w = duo.pair_named("writer");
    hello3(&mut c);
    c.check(&["CLIENT", "TRACKING", "on", "OPTIN"]);
    c.check(&["GET", "not"]);
    c.check(&["CLIENT", "CACHING", "yes"]);
    c.check(&["GET", "yes"]);
    c.check(&["GET", "after"]);
    w.check(&["MSET", "not", "1", "yes", "1", "after", "1"]);
    c.check_read("invalidate the key read after CACHING yes only");
    c.check(&["PING"]);
    // CACHING lasts for a whole transaction.
    c.check(&["CLIENT", "CACHING", "yes"]);
    c.check(&["MULTI"]);
    c.check(&["GET", "t1"]);
    c.check(&["GET", "t2"]);
    c.check(&["EXEC"]);
    c.check(&["CLIENT", "TRACKINGINFO"]);
    w.check(&["SET", "t1", "1"]);
    c.check_read("invalidate t1");
    w.check(&["SET", "t2", "1"]);
    c.check_read("invalidate t2");
    c.check(&["CLIENT", "TRACKING", "off"]);
    c.check(&["CLIENT", "TRACKING", "on", "OPTOUT"]);
    c.check(&["CLIENT", "CACHING", "no"]);
    c.check(&["CLIENT", "TRACKINGINFO"]);
    c.check(&["GET", "skipped"]);
    c.check(&["GET", "tracked"]);
    w.check(&["MSET", "skipped", "1", "tracked", "1"]);
    c.check_read("invalidate tracked only");
    c.check(&["PING"]);
}

#[test]
fn bcast_prefixes() {
    let duo = Duo::start(&[]);
    let mut c = duo.pair_named("bcast");
    let mut w = duo.pair_named("writer");
    hello3(&mut c);
    c.check(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"]);
    compare_tracking_info(&mut w, "with two prefixes");
    // Reads are not remembered in BCAST mode; changes under the prefixes are sent.
    c.check(&["GET", "other"]);
    w.check(&["SET", "other", "1"]);
    w.check(&["SET", "user:1", "x"]);
    c.check_read("invalidate user:1");
    w.check(&["MSET", "obj:1", "a", "user:2", "b", "zzz", "c", "user:3", "d"]);
    c.check_read("obj: keys of MSET");
    c.check_read("user: keys of MSET");
    c.check(&["SET", "user:own", "1"]);
    c.check_read("own change, broadcast after the reply");
    // A pipeline's changes go in one message per prefix, after all its replies.
    w.send_cmds(&[&["SET", "user:p1", "1"], &["SET", "user:p2", "2"], &["SET", "obj:p3", "3"]]);
    for i in 1..=3 {
        w.check_read(&format!("pipelined SET {i}"));
    }
    c.check_read("obj: keys of the pipeline");
    c.check_read("user: keys of the pipeline");
    c.send_cmds(&[&["SET", "user:p4", "1"], &["DEL", "user:p1"]]);
    c.check_read("own pipelined SET");
    c.check_read("own pipelined DEL");
    c.check_read("own pipeline's keys after its replies");
    c.check(&["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"]);
    c.check(&["SET", "user:own", "2"]);
    c.check(&["PING"]);
    c.check(&["CLIENT", "TRACKINGINFO"]);
    // Re-enabled without PREFIX, BCAST added the empty prefix to the two: one message per prefix.
    w.check(&["DEL", "user:own"]);
    c.check_read("another client's change under NOLOOP, prefix ''");
    c.check_read("another client's change under NOLOOP, prefix user:");
    c.check(&["CLIENT", "TRACKING", "off"]);
    c.check(&["CLIENT", "TRACKING", "on", "BCAST"]);
    w.check(&["SET", "anything", "1"]);
    c.check_read("the empty prefix: every key");
    compare_tracking_info(&mut w, "with the empty prefix");
    c.check(&["CLIENT", "TRACKING", "off"]);
    compare_tracking_info(&mut w, "after tracking off");
}

/// RESP2 has no pushes: invalidations go to a redirect client subscribed to
/// `__redis__:invalidate`, as messages; when that client goes away the tracking client is flagged
/// (and told, in RESP3).
#[test]
fn resp2_redirect_and_broken_redirect() {
    let duo = Duo::start(&[]);
    for resp3 in [false, true] {
        let mut c = duo.pair_named(if resp3 { "RESP3 tracking client" } else { "RESP2 tracking client" });
        let mut sub = duo.pair_named("redirect client");
        let mut w = duo.pair_named("writer");
        w.check(&["FLUSHALL"]);
        c.both(&["CLIENT", "SETNAME", "tracker"]);
        if resp3 {
            hello3(&mut c);
        }
        let ids = (client_id(&mut sub.ours), client_id(&mut sub.real));
        check_with_ids(&mut c, &["CLIENT", "TRACKING", "on", "REDIRECT"], (&ids.0, &ids.1), &[]);
        // Not subscribed (RESP2): it cannot be sent anything.
        c.check(&["GET", "a"]);
        w.check(&["SET", "a", "1"]);
        sub.check(&["PING"]);
        sub.check_n(&["SUBSCRIBE", "__redis__:invalidate"], 1);
        c.check(&["MGET", "a", "b"]);
        w.check(&["DEL", "a", "b"]);
        sub.check_read("message for a");
        c.check(&["SET", "b", "own"]);
        sub.check_read("message for b, the tracking client's own write");
        c.check(&["GET", "a"]);
        w.check(&["FLUSHALL"]);
        sub.check_read("null message on FLUSHALL");
        compare_list_fields(&mut c, "tracker", (&ids.0, &ids.1));
        // The redirect client goes: the next invalidation finds it missing.
        sub.both(&["QUIT"]);
        wait_for("the redirect client to be gone", Duration::from_secs(10), || {
            let gone = |c: &mut Client, id: &str| {
                !String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).contains(&format!("id={id} "))
            };
            gone(&mut w.ours, &ids.0) && gone(&mut w.real, &ids.1)
        });
        c.check(&["GET", "a"]);
        w.check(&["SET", "a", "2"]);
        if resp3 {
            let (o, r) = (c.ours.read_reply(), c.real.read_reply());
            c.compare("tracking-redir-broken", &mask_ints(&o), &mask_ints(&r));
        }
        c.check_with(&["CLIENT", "TRACKINGINFO"], mask_ints);
        compare_list_fields(&mut c, "tracker", (&ids.0, &ids.1));
        c.check(&["CLIENT", "TRACKING", "off"]);
        c.check(&["PING"]);
        c.assert_clean();
    }
}

#[test]
fn tracking_table_max_keys_invalidates_to_the_limit() {
    let duo = Duo::start(&[]);
    let mut c = duo.pair_named("tracking");
    let mut w = duo.pair_named("writer");
    hello3(&mut c);
    c.check(&["CLIENT", "TRACKING", "on"]);
    w.check(&["CONFIG", "SET", "tracking-table-max-keys", "2"]);
    c.check(&["MGET", "k1", "k2", "k3", "k4"]);
    compare_tracking_info(&mut w, "over the limit, before the next command");
    // The next command finds the table over the limit: two keys (any two) are invalidated.
    c.send_cmds(&[&["PING"]]);
    for i in 0..3 {
        let (o, r) = (c.ours.read_reply(), c.real.read_reply());
        let shape = |b: &[u8]| {
            let s = String::from_utf8_lossy(b).into_owned();
            s.replace(|ch: char| ch.is_ascii_digit(), "#").into_bytes()
        };
        c.compare(&format!("reply {i} of PING over the limit (keys masked)"), &shape(&o), &shape(&r));
    }
    compare_tracking_info(&mut w, "back at the limit");
    w.check(&["CONFIG", "SET", "tracking-table-max-keys", "0"]);
    c.check(&["MGET", "k1", "k2", "k3", "k4", "k5"]);
    compare_tracking_info(&mut w, "without a limit");
}

/// Eviction changes keys too: a tracked key evicted when maxmemory is lowered is invalidated.
/// RESET ends tracking; a RESP3 redirect client receives `invalidate` pushes.
#[test]
fn eviction_reset_and_a_resp3_redirect_client() {
    let duo = Duo::start(&[]);
    let mut c = duo.pair_named("tracking");
    let mut w = duo.pair_named("writer");
    hello3(&mut c);
    c.check(&["CLIENT", "TRACKING", "on"]);
    w.check(&["SET", "k", "v"]);
    c.check(&["GET", "k"]);
    w.check(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    w.check(&["CONFIG", "SET", "maxmemory", "1"]);
    w.check(&["SET", "other", "v"]);
    w.check(&["CONFIG", "SET", "maxmemory", "0"]);
    c.check_read("invalidate k, evicted");
    c.check(&["DBSIZE"]);
    c.check(&["RESET"]);
    c.check(&["CLIENT", "TRACKINGINFO"]);
    compare_tracking_info(&mut w, "after RESET");
    let mut target = duo.pair_named("RESP3 redirect client");
    hello3(&mut target);
    let ids = (client_id(&mut target.ours), client_id(&mut target.real));
    check_with_ids(&mut c, &["CLIENT", "TRACKING", "on", "REDIRECT"], (&ids.0, &ids.1), &[]);
    c.check(&["GET", "k"]);
    w.check(&["SET", "k", "again"]);
    target.check_read("invalidate k at the redirect client");
    c.check(&["GET", "k"]);
    w.check(&["FLUSHDB"]);
    target.check_read("RESP2 tracking client's null at a RESP3 redirect client");
    target.check(&["PING"]);
    c.check(&["PING"]);
}

/// A replica's clients track keys too: the master's writes, applied from its stream, invalidate
/// them, and reach its BCAST clients.
#[test]
fn a_replica_invalidates_what_its_master_changes() {
    for real in [false, true] {
        let (master, replica) = synced_master_and_replica(real);
        let mut c = replica.client();
        c.cmd(&["HELLO", "3"]);
        assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on"]), b"+OK\r\n");
        let mut b = replica.client();
        b.cmd(&["HELLO", "3"]);
        assert_eq!(b.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "k"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["GET", "k"]), b"_\r\n");
        let mut m = master.client();
        assert_eq!(m.cmd(&["SET", "k", "v"]), b"+OK\r\n");
        let push = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
        assert_eq!(c.read_reply(), push, "real={real}: default mode");
        assert_eq!(b.read_reply(), push, "real={real}: BCAST");
    }
}
