//! Differential transcripts of the scripting commands against Debian's redis-server 7.0.15, byte
//! for byte, in RESP2 and RESP3: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO and
//! FUNCTION, their errors, script flags, what scripts may call, transactions, and what scripts
//! leave behind (keyspace notifications, MONITOR lines, SLOWLOG entries, INFO counters). Only what
//! legitimately differs between two servers is normalised, each case where it is done.

use crate::common::{free_port, Client, Reply};
use crate::differential_support::*;

/// Runs `family` on a fresh pair of connections to a fresh pair of servers, once in RESP2 and once
/// after HELLO 3.
fn in_both_protocols(server_args: &[&str], family: impl Fn(&mut Pair, &Duo)) {
    let duo = Duo::start(server_args);
    for resp3 in [false, true] {
        let mut p = duo.pair_named(if resp3 { "RESP3" } else { "RESP2" });
        if resp3 {
            p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
        }
        reset(&mut p);
        family(&mut p, &duo);
        p.assert_clean();
    }
}

/// Empties both servers of keys, scripts, functions and statistics.
fn reset(p: &mut Pair) {
    for cmd in [&["FLUSHALL"][..], &["SCRIPT", "FLUSH"], &["FUNCTION", "FLUSH"], &["CONFIG", "RESETSTAT"]] {
        p.check(cmd);
    }
}

/// A second connection to each server, in the protocol `resp3` says.
fn other_pair(duo: &Duo, label: &str, resp3: bool) -> Pair {
    let mut p = duo.pair_named(label);
    if resp3 {
        p.both(&["HELLO", "3"]);
    }
    p
}

/// The SHA1 the real server computes for `body` (redis.sha1hex), as scripts are cached under it.
fn sha1_of(p: &mut Pair, body: &str) -> String {
    let reply = Reply::parse(&p.check(&["EVAL", "return redis.sha1hex(ARGV[1])", "0", body]));
    let sha = String::from_utf8_lossy(reply.bulk().unwrap_or_default()).into_owned();
    assert_eq!(sha.len(), 40, "redis.sha1hex's reply: {sha:?}");
    sha
}

fn is_resp3(p: &Pair) -> bool {
    p.label == "RESP3"
}

#[test]
fn eval_numkeys_arity_and_reply_conversions() {
    in_both_protocols(&[], |p, _| {
        for cmd in ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"] {
            p.check(&[cmd]);
            p.check(&[cmd, "x"]);
        }
        p.check(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('f', function(k, a) return {k, a} end)",
        ]);
        let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"; // sha1("return 1")
        for (cmd, body) in [("EVAL", "return {KEYS, ARGV}"), ("EVALSHA", sha), ("FCALL", "f"), ("FCALL_RO", "f")] {
            for numkeys in ["-1", "3", "1.5", "abc", "", "99999999999999999999", "-99999999999999999999", " 1"] {
                p.check(&[cmd, body, numkeys, "a", "b"]);
            }
            p.check(&[cmd, body, "2", "a", "b"]);
            p.check(&[cmd, body, "0", "a", "b"]);
            p.check(&[cmd, body, "1", "a"]);
        }
        p.check(&["EVAL", "return 1", "0"]);
        for script in [
            "return {1, 2, {3, 'x', {}}, 'four'}",
            "return 3.99",
            "return -0.5",
            "return true",
            "return false",
            "return nil",
            "return {1, nil, 3}",
            "return {err = 'MYERR custom'}",
            "return {err = 'no code'}",
            "return {ok = 'FINE'}",
            "return {ok = 'x', err = 'E both'}",
            "return redis.error_reply('E1 made')",
            "return redis.error_reply('-E2 dash')",
            "return redis.error_reply('')",
            "return redis.status_reply('S')",
            "return {double = 3.5}",
            "return {double = '2.25'}",
            "return {map = {a = 1}}",
            "return {set = {a = true}}",
            "return {big_number = '123456789012345678901234567890'}",
            "return {verbatim_string = {format = 'txt', string = 'hello'}}",
            "return {'a', {double = 1.5}, {map = {k = {set = {m = true}}}}}",
            "return 'a\\0b'",
            "return 9007199254740993",
            "return 1e300",
            "return 0/0",
            "return {1/0}",
            "return math.huge",
            "return redis.setresp(3)",
            "return redis.setresp(2)",
            "return redis.setresp(4)",
            "return redis.setresp()",
            "redis.setresp(3); return redis.call('HGETALL', 'h')",
            "redis.setresp(3); redis.call('HSET', 'h', 'f', 'v'); return redis.call('HGETALL', 'h')",
            "redis.setresp(3); return redis.call('SMEMBERS', 'nosuch')",
            "redis.setresp(3); redis.call('ZADD', 'z', 1.5, 'm'); return redis.call('ZSCORE', 'z', 'm')",
            "redis.setresp(3); return redis.call('GET', 'nosuch')",
            "redis.setresp(3); return {redis.call('EXISTS', 'h') == 1, redis.call('DEBUG', 'PROTOCOL', 'true')}",
            "redis.setresp(3); return redis.call('DEBUG', 'PROTOCOL', 'double')",
            "redis.setresp(3); return redis.call('DEBUG', 'PROTOCOL', 'bignum')",
            "redis.setresp(3); return redis.call('DEBUG', 'PROTOCOL', 'verbatim')",
            "redis.setresp(3); return redis.call('DEBUG', 'PROTOCOL', 'null')",
            "local t = redis.call('HGETALL', 'h'); return type(t) .. #t",
            "return (",
            "return 1 +",
            "error('boom')",
            "error({err = 'TABLEERR raised'})",
            // error({}) is left out: Debian's 7.0.15 dies of it (SIGSEGV in sdscatfmt from
            // luaCallFunction, formatting the missing err field), so there is nothing to compare.
            "error(42)",
            "error()",
            "x = 1",
            "return undefined_global",
            "return redis.sha1hex('')",
            "return redis.sha1hex()",
            "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}",
            "return redis.breakpoint()",
            "return redis.debug('x')",
            "return redis.replicate_commands()",
            "return redis.set_repl(redis.REPL_ALL)",
            "return redis.set_repl(99)",
            "redis.log(redis.LOG_WARNING, 'from a test'); return 'logged'",
            "return redis.log(99, 'x')",
            "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
            "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
            "return type(loadstring)",
            "return type(os) .. type(io) .. type(require) .. type(dofile)",
            "return string.rep('x', 3) .. bit.tohex(255) .. struct.pack('>I2', 258)",
            "return #KEYS + #ARGV",
        ] {
            p.check(&["EVAL", script, "0"]);
        }
        p.check(&["EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2"]);
        p.check(&["EVAL", "return ARGV[1]", "0", "bin\x01\u{ff}ary"]);
    });
}

#[test]
fn evalsha_and_script_subcommands() {
    in_both_protocols(&[], |p, _| {
        let body = "return 'cached'";
        let sha = sha1_of(p, body);
        p.check(&["SCRIPT", "LOAD", body]);
        p.check(&["EVALSHA", &sha, "0"]);
        p.check(&["EVALSHA", &sha.to_uppercase(), "0"]);
        p.check(&["EVALSHA_RO", &sha, "0"]);
        p.check(&["EVALSHA", &sha[..39], "0"]);
        p.check(&["EVALSHA", &format!("{sha}0"), "0"]);
        p.check(&["EVALSHA", "", "0"]);
        p.check(&["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]);
        p.check(&["EVALSHA", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "0"]);
        p.check(&["SCRIPT", "EXISTS", &sha, &sha.to_uppercase(), "nope", "ffffffffffffffffffffffffffffffffffffffff"]);
        p.check(&["SCRIPT", "EXISTS"]);
        p.check(&["SCRIPT", "LOAD"]);
        p.check(&["SCRIPT", "LOAD", "a", "b"]);
        p.check(&["SCRIPT", "LOAD", "return ("]);
        p.check(&["SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 1"]);
        p.check(&["SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1"]);
        p.check(&["SCRIPT", "LOAD", "#!lua name=x\nreturn 1"]);
        p.check(&["SCRIPT", "LOAD", "#!py\nreturn 1"]);
        p.check(&["SCRIPT", "LOAD", body]);
        // EVAL caches what it runs: EVALSHA finds it afterwards.
        p.check(&["EVAL", "return 'by eval'", "0"]);
        let by_eval = sha1_of(p, "return 'by eval'");
        p.check(&["SCRIPT", "EXISTS", &by_eval]);
        p.check(&["EVALSHA", &by_eval, "0", "y"]);
        for args in [
            &["SCRIPT", "FLUSH", "SYNC"][..],
            &["SCRIPT", "FLUSH", "ASYNC"],
            &["SCRIPT", "FLUSH", "sync"],
            &["SCRIPT", "FLUSH", "bogus"],
            &["SCRIPT", "FLUSH", "SYNC", "ASYNC"],
            &["SCRIPT", "FLUSH"],
        ] {
            p.check(&["SCRIPT", "LOAD", body]);
            p.check(args);
            p.check(&["SCRIPT", "EXISTS", &sha]);
            p.check(&["EVALSHA", &sha, "0"]);
        }
        p.check(&["SCRIPT", "KILL"]);
        p.check(&["SCRIPT", "KILL", "x"]);
        p.check(&["SCRIPT", "HELP"]);
        p.check(&["SCRIPT", "help"]);
        p.check(&["SCRIPT", "HELP", "x"]);
        p.check(&["SCRIPT", "NOPE"]);
        p.check(&["SCRIPT"]);
    });
}

#[test]
fn function_load_errors() {
    in_both_protocols(&[], |p, _| {
        let ok = "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)";
        for code in [
            "return 1",
            "#!lua",
            "#!lua name=",
            "#!lua name=a-b\nredis.register_function('f', function() return 1 end)",
            "#!lua name=a\u{e9}\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x name=y\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x foo=bar\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x flags\nredis.register_function('f', function() return 1 end)",
            "#!lua  name=x\nredis.register_function('f', function() return 1 end)",
            "#!py name=x\nredis.register_function('f', function() return 1 end)",
            "#!LUA name=x\nredis.register_function('f', function() return 1 end)",
            "#! name=x\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x\nreturn 1",
            "#!lua name=x\n",
            "#!lua name=x\nreturn (",
            "#!lua name=x\nerror('at load')",
            "#!lua name=x\nredis.register_function('f')",
            "#!lua name=x\nredis.register_function('f', 'notafunction')",
            "#!lua name=x\nredis.register_function('f', function() return 1 end, 'extra')",
            "#!lua name=x\nredis.register_function()",
            "#!lua name=x\nredis.register_function('bad-name', function() return 1 end)",
            "#!lua name=x\nredis.register_function('', function() return 1 end)",
            "#!lua name=x\nredis.register_function{function_name='f'}",
            "#!lua name=x\nredis.register_function{callback=function() return 1 end}",
            "#!lua name=x\nredis.register_function{function_name='f', callback=function() return 1 end, flags={'bogus'}}",
            "#!lua name=x\nredis.register_function{function_name='f', callback=function() return 1 end, flags='no-writes'}",
            "#!lua name=x\nredis.register_function{function_name='f', callback=function() return 1 end, other=1}",
            "#!lua name=x\nredis.register_function{function_name='f', callback=function() return 1 end, description=5}",
            "#!lua name=x\nredis.register_function('f', function() return 1 end)\nredis.register_function('f', function() return 2 end)",
            "#!lua name=x\nredis.call('SET', 'k', 'v')\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x\nredis.log(redis.LOG_NOTICE, 'loading')\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x\nlocal t = redis.setresp\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x\ny = 1\nredis.register_function('f', function() return 1 end)",
            "#!lua name=x\nreturn z",
            ok,
        ] {
            p.check(&["FUNCTION", "LOAD", code]);
        }
        p.check(&["FUNCTION", "LOAD", ok]);
        p.check(&["FUNCTION", "LOAD", "REPLACE", ok]);
        p.check(&[
            "FUNCTION",
            "LOAD",
            "replace",
            "#!lua name=lib1\nredis.register_function('f1b', function() return 'b' end)",
        ]);
        p.check(&["FCALL", "f1", "0"]);
        p.check(&["FCALL", "f1b", "0"]);
        // A function name another library holds: refused with and without REPLACE.
        p.check(&["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f1b', function() return 2 end)"]);
        p.check(&[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=lib2\nredis.register_function('f1b', function() return 2 end)",
        ]);
        p.check(&["FUNCTION", "LOAD"]);
        p.check(&["FUNCTION", "LOAD", "REPLACE"]);
        p.check(&["FUNCTION", "LOAD", "BOGUS", ok]);
        p.check(&["FUNCTION", "LOAD", "REPLACE", "REPLACE", ok]);
        p.check(&["FUNCTION", "LOAD", ok, "extra"]);
        // An endless library: FUNCTION LOAD stops it after its load timeout (500 ms on both).
        p.check(&["FUNCTION", "LOAD", "#!lua name=endless\nwhile true do end"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=endless\nlocal i = 0\nwhile true do i = i + 1 end"]);
        p.check(&["PING"]);
        p.check(&["FUNCTION", "LIST", "LIBRARYNAME", "endless"]);
    });
}

/// FUNCTION LIST lists libraries, and each library's functions, in dictionary order, which is hash
/// order on both servers (and not the same): sorts the libraries and every library's functions by
/// name before comparing. Everything else, including each library's field order, stays as sent.
fn sort_libraries(b: &[u8]) -> Vec<u8> {
    fn functions_of(lib: &mut Reply) -> Option<&mut Vec<Reply>> {
        let key = Reply::bulk_of("functions");
        match lib {
            Reply::Array(items) => {
                let at = items.iter().position(|i| *i == key)?;
                match items.get_mut(at + 1)? {
                    Reply::Array(fs) => Some(fs),
                    _ => None,
                }
            }
            Reply::Map(kv) => kv.iter_mut().find(|(k, _)| *k == key).and_then(|(_, v)| match v {
                Reply::Array(fs) => Some(fs),
                _ => None,
            }),
            _ => None,
        }
    }
    let mut v = Reply::parse(b);
    if let Reply::Array(libs) = &mut v {
        for lib in libs.iter_mut() {
            if let Some(fs) = functions_of(lib) {
                fs.sort();
            }
        }
        libs.sort();
    }
    v.encode()
}

#[test]
fn function_list_stats_delete_and_flush() {
    in_both_protocols(&[], |p, _| {
        p.check(&["FUNCTION", "LIST"]);
        p.check(&["FUNCTION", "STATS"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=alpha\nredis.register_function('a1', function() return 1 end)\nredis.register_function{function_name='a2', callback=function() return 2 end, flags={'no-writes', 'allow-stale', 'allow-oom', 'no-cluster', 'allow-cross-slot-keys'}, description='the second'}\nredis.register_function('a3', function() return 3 end)"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=beta\nredis.register_function{function_name='b1', callback=function() return 'b' end, description='beta one'}"]);
        p.check(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=alphabet\nredis.register_function('ab1', function() return 'ab' end)",
        ]);
        for args in [
            &["FUNCTION", "LIST"][..],
            &["FUNCTION", "LIST", "WITHCODE"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "alpha*"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "alpha"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "ALPHA"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "?eta"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "[ab]*"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "none*"],
            &["FUNCTION", "LIST", "libraryname", "b*", "withcode"],
            &["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "beta"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "alpha*", "LIBRARYNAME", "beta"],
            &["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
            &["FUNCTION", "LIST", "LIBRARYNAME"],
            &["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME"],
            &["FUNCTION", "LIST", "BOGUS"],
            &["FUNCTION", "LIST", "LIBRARYNAME", "x", "BOGUS"],
        ] {
            p.check_with(args, sort_libraries);
        }
        p.check(&["FUNCTION", "STATS"]);
        p.check(&["FUNCTION", "STATS", "x"]);
        p.check(&["FUNCTION", "DELETE"]);
        p.check(&["FUNCTION", "DELETE", "alpha", "beta"]);
        p.check(&["FUNCTION", "DELETE", "nosuch"]);
        p.check(&["FUNCTION", "DELETE", "ALPHA"]);
        p.check(&["FUNCTION", "DELETE", "alpha"]);
        p.check(&["FCALL", "a1", "0"]);
        p.check(&["FCALL", "ab1", "0"]);
        p.check_with(&["FUNCTION", "LIST"], sort_libraries);
        p.check(&["FUNCTION", "STATS"]);
        p.check(&["FUNCTION", "FLUSH", "bogus"]);
        p.check(&["FUNCTION", "FLUSH", "SYNC", "ASYNC"]);
        p.check(&["FUNCTION", "FLUSH", "async"]);
        p.check(&["FUNCTION", "LIST"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=gamma\nredis.register_function('g', function() return 1 end)"]);
        p.check(&["FUNCTION", "FLUSH", "SYNC"]);
        p.check(&["FUNCTION", "LIST"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=gamma\nredis.register_function('g', function() return 1 end)"]);
        p.check(&["FUNCTION", "FLUSH"]);
        p.check(&["FUNCTION", "STATS"]);
        p.check(&["FUNCTION", "KILL"]);
        p.check(&["FUNCTION", "KILL", "x"]);
        p.check(&["FUNCTION", "HELP"]);
        p.check(&["FUNCTION", "HELP", "x"]);
        p.check(&["FUNCTION", "NOPE"]);
        p.check(&["FUNCTION"]);
    });
}

const FLAGGED_LIBRARY: &str = "#!lua name=flagged
redis.register_function('writer', function(keys, args) return redis.call('SET', keys[1], args[1]) end)
redis.register_function{function_name='reader', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}
redis.register_function{function_name='sneaky', callback=function(keys) return redis.call('SET', keys[1], 'x') end, flags={'no-writes'}}
redis.register_function{function_name='oom_writer', callback=function(keys, args) return redis.call('SET', keys[1], args[1]) end, flags={'allow-oom'}}
redis.register_function{function_name='stale_reader', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes', 'allow-stale'}}
redis.register_function{function_name='stale_pure', callback=function() return 'fresh enough' end, flags={'no-writes', 'allow-stale'}}
redis.register_function{function_name='stale_info', callback=function() return redis.call('ECHO', 'hi') end, flags={'no-writes', 'allow-stale'}}
";

#[test]
fn fcall_and_eval_flags_no_writes_and_read_only_variants() {
    in_both_protocols(&[], |p, _| {
        p.check(&["FUNCTION", "LOAD", FLAGGED_LIBRARY]);
        p.check(&["FCALL", "writer", "1", "k", "v"]);
        p.check(&["FCALL", "reader", "1", "k"]);
        p.check(&["FCALL_RO", "reader", "1", "k"]);
        p.check(&["FCALL_RO", "writer", "1", "k", "v2"]);
        p.check(&["FCALL", "sneaky", "1", "k"]);
        p.check(&["FCALL_RO", "sneaky", "1", "k"]);
        p.check(&["FCALL", "READER", "1", "k"]);
        p.check(&["EVAL_RO", "return redis.call('SET', KEYS[1], 'v')", "1", "k"]);
        p.check(&["EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL_RO", "return redis.pcall('DEL', KEYS[1])", "1", "k"]);
        p.check(&["EVAL_RO", "#!lua\nreturn redis.call('SET', KEYS[1], 'v')", "1", "k"]);
        p.check(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'v')", "1", "k"]);
        p.check(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"]);
        p.check(&["EVAL", "#!lua flags=bogus\nreturn 1", "0"]);
        p.check(&["EVAL", "#!lua flags=no-writes,\nreturn 1", "0"]);
        p.check(&["EVAL", "#!lua name=x\nreturn 1", "0"]);
        p.check(&["EVAL", "#!lua\nreturn 'no flags'", "0"]);
        p.check(&["EVAL", "#!lua flags=\nreturn 'empty flags'", "0"]);
        p.check(&["EVAL", "#!notlua\nreturn 1", "0"]);
        p.check(&["EVAL", "#!lua", "0"]);
        p.check(&["EVAL", "#!lua\nreturn redis.call('SET', 'undeclared', 'v')", "0"]);
        p.check(&["EVAL", "return redis.call('SET', 'undeclared', 'v')", "0"]);
        p.check(&["EVAL", "#!lua flags=allow-cross-slot-keys,no-cluster\nreturn 'ok'", "0"]);
        let writer = "return redis.call('SET', KEYS[1], 'v')";
        let sha = sha1_of(p, writer);
        p.check(&["SCRIPT", "LOAD", writer]);
        p.check(&["EVALSHA_RO", &sha, "1", "k"]);
        p.check(&["EVALSHA", &sha, "1", "k"]);
    });
}

#[test]
fn allow_oom_under_maxmemory() {
    in_both_protocols(&[], |p, _| {
        p.check(&["FUNCTION", "LOAD", FLAGGED_LIBRARY]);
        p.check(&["SET", "k", "before"]);
        p.check(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
        p.check(&["CONFIG", "SET", "maxmemory", "1"]);
        p.check(&["SET", "k", "v"]);
        p.check(&["FCALL", "writer", "1", "k", "v"]);
        p.check(&["FCALL", "oom_writer", "1", "k", "oom"]);
        p.check(&["FCALL", "reader", "1", "k"]);
        p.check(&["FCALL_RO", "reader", "1", "k"]);
        p.check(&["EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", "k"]);
        p.check(&["EVAL", "return redis.pcall('SET', KEYS[1], 'v')", "1", "k"]);
        p.check(&["EVAL", "return redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL", "return redis.call('DEL', 'nosuch')", "0"]);
        p.check(&["EVAL", "#!lua\nreturn redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL", "#!lua flags=allow-oom\nreturn redis.call('SET', KEYS[1], 'eval-oom')", "1", "k"]);
        p.check(&["EVAL", "#!lua flags=allow-oom\nreturn redis.call('INCR', 'n')", "0"]);
        p.check(&["GET", "k"]);
        p.check(&["CONFIG", "SET", "maxmemory", "0"]);
        p.check(&["FCALL", "writer", "1", "k", "after"]);
    });
}

#[test]
fn allow_stale_on_a_replica_that_does_not_serve_stale_data() {
    in_both_protocols(&[], |p, _| {
        p.check(&["FUNCTION", "LOAD", FLAGGED_LIBRARY]);
        p.check(&["SET", "k", "v"]);
        p.check(&["CONFIG", "SET", "replica-serve-stale-data", "no"]);
        // A master that is not there: the link stays down, the replica keeps its data and functions.
        let gone = free_port().to_string();
        p.check(&["REPLICAOF", "127.0.0.1", &gone]);
        p.check(&["GET", "k"]);
        p.check(&["FCALL", "reader", "1", "k"]);
        p.check(&["FCALL_RO", "reader", "1", "k"]);
        p.check(&["FCALL", "stale_reader", "1", "k"]);
        p.check(&["FCALL_RO", "stale_reader", "1", "k"]);
        p.check(&["FCALL_RO", "stale_pure", "0"]);
        p.check(&["FCALL", "stale_info", "0"]);
        p.check(&["FCALL", "writer", "1", "k", "v"]);
        p.check(&["EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('ECHO', 'e')", "0"]);
        p.check(&["EVAL", "#!lua flags=no-writes,allow-stale\nreturn 'pure'", "0"]);
        p.check(&["EVAL", "#!lua flags=no-writes\nreturn 'pure'", "0"]);
        p.check(&["EVAL", "return 'no shebang'", "0"]);
        p.check(&["EVAL", "return redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "k"]);
        p.check(&["EVAL", "return redis.call('SET', KEYS[1], 'w')", "1", "k"]);
        p.check(&["SCRIPT", "LOAD", "return 1"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=onreplica\nredis.register_function('r', function() return 1 end)"]);
        p.check(&["CONFIG", "SET", "replica-serve-stale-data", "yes"]);
        p.check(&["FCALL", "reader", "1", "k"]);
        p.check(&["EVAL", "return redis.call('SET', KEYS[1], 'w')", "1", "k"]);
        p.check(&["REPLICAOF", "NO", "ONE"]);
    });
}

#[test]
fn scripts_calling_commands_they_may_not_and_blocking_ones() {
    in_both_protocols(&[], |p, _| {
        p.check(&["SET", "text", "abc"]);
        p.check(&["RPUSH", "list", "a", "b"]);
        for script in [
            "return redis.call('EVAL', 'return 1', 0)",
            "return redis.call('EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 0)",
            "return redis.call('FCALL', 'f', 0)",
            "return redis.call('MULTI')",
            "return redis.call('EXEC')",
            "return redis.call('WATCH', 'k')",
            "return redis.call('SUBSCRIBE', 'c')",
            "return redis.call('PSUBSCRIBE', 'c')",
            "return redis.call('SCRIPT', 'FLUSH')",
            "return redis.call('FUNCTION', 'FLUSH')",
            "return redis.call('MONITOR')",
            "return redis.call('CLIENT', 'KILL', 'ID', '999999')",
            "return redis.call('AUTH', 'x')",
            "return redis.call('HELLO')",
            "return redis.call('SAVE')",
            "return redis.call('WAIT', 0, 0)",
            "return redis.call('BLPOP', 'empty', 0)",
            "return redis.call('BLPOP', 'empty', 5)",
            "return redis.call('BLPOP', 'list', 0)",
            "return redis.call('BRPOPLPUSH', 'empty', 'dst', 0)",
            "return redis.call('BLMOVE', 'empty', 'dst', 'LEFT', 'RIGHT', 0)",
            "return redis.call('BZPOPMIN', 'empty', 0)",
            "return redis.call('BLMPOP', 0, 1, 'empty', 'LEFT')",
            "return redis.call('PING')",
            "return redis.call('ECHO', 'e')",
            "return redis.call('NOPE')",
            "return redis.pcall('NOPE')",
            "return redis.call()",
            "return redis.pcall()",
            "return redis.call('GET')",
            "return redis.call('SET', 'k', {})",
            "return redis.call('SET', 'k', nil)",
            "return redis.call('SET', 'k', 1.5)",
            "return redis.call('SET', 'k', true)",
            "return redis.call(1)",
            "return redis.call('INCR', 'text')",
            "return redis.pcall('INCR', 'text')",
            "local r = redis.pcall('INCR', 'text'); return {type(r), r.err}",
            "local r = redis.pcall('LPUSH', 'text', 'x'); return r['err']",
            "local ok, e = pcall(redis.call, 'INCR', 'text'); return {tostring(ok), type(e), e.err}",
            "local ok, e = pcall(error, 'plain'); return {tostring(ok), e}",
            "local ok, e = pcall(function() error('inside', 0) end); return e",
            "local ok, e = pcall(function() local x = nil; return x.y end); return e",
            "return redis.error_reply(redis.call('GET', 'text'))",
            "return {redis.error_reply('E x'), 'after'}",
            "return {redis.status_reply('S'), redis.call('GET', 'text')}",
            "redis.call('DEL', 'text'); return redis.call('EXISTS', 'text')",
        ] {
            p.check(&["EVAL", script, "0"]);
        }
        p.check(&["LRANGE", "dst", "0", "-1"]);
        // SELECT inside a script changes the script's database, not the caller's.
        p.check(&["SET", "k", "db0"]);
        p.check(&[
            "EVAL",
            "redis.call('SELECT', 1); redis.call('SET', 'k', 'db1'); return redis.call('GET', 'k')",
            "0",
        ]);
        p.check(&["GET", "k"]);
        p.check(&["EVAL", "return redis.call('GET', 'k')", "0"]);
        p.check(&["SELECT", "1"]);
        p.check(&["GET", "k"]);
        p.check(&["EVAL", "redis.call('SELECT', 0); return redis.call('GET', 'k')", "0"]);
        p.check(&["GET", "k"]);
        p.check(&["EVAL", "return redis.call('SELECT', 99)", "0"]);
        p.check(&["SELECT", "0"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=sel\nredis.register_function('sel', function() redis.call('SELECT', 2); redis.call('SET', 'k', 'db2'); return redis.call('GET', 'k') end)"]);
        p.check(&["FCALL", "sel", "0"]);
        p.check(&["GET", "k"]);
    });
}

#[test]
fn scripts_inside_transactions_and_watched_keys() {
    in_both_protocols(&[], |p, duo| {
        let mut other = other_pair(duo, "other", is_resp3(p));
        for cmd in [
            &["MULTI"][..],
            &["EVAL", "return redis.call('INCR', KEYS[1])", "1", "n"],
            &["EVAL", "return 1", "5"],
            &["EVAL", "return redis.call('INCR', 'text')", "0"],
            &["SCRIPT", "LOAD", "return 'in multi'"],
            &["FCALL", "nosuch", "0"],
            &["EXEC"],
        ] {
            p.check(cmd);
        }
        p.check(&["GET", "n"]);
        p.check(&["MULTI"]);
        p.check(&["EVAL", "return 1", "0"]);
        p.check(&["EVALX"]);
        p.check(&["EXEC"]);
        // Another client's script writes the watched key: EXEC aborts.
        p.check(&["SET", "w", "0"]);
        p.check(&["WATCH", "w"]);
        other.check(&["EVAL", "return redis.call('SET', KEYS[1], 'by script')", "1", "w"]);
        p.check(&["MULTI"]);
        p.check(&["GET", "w"]);
        p.check(&["EXEC"]);
        // A script that only reads the watched key, or writes another: EXEC runs.
        p.check(&["WATCH", "w"]);
        other.check(&["EVAL", "redis.call('SET', 'unrelated', 1); return redis.call('GET', KEYS[1])", "1", "w"]);
        p.check(&["MULTI"]);
        p.check(&["GET", "w"]);
        p.check(&["EXEC"]);
        // A read-only script that fails writes nothing: EXEC runs.
        p.check(&["WATCH", "w"]);
        other.check(&["EVAL", "redis.call('GET', KEYS[1]); return redis.call('INCR', KEYS[1])", "1", "w"]);
        p.check(&["MULTI"]);
        p.check(&["GET", "w"]);
        p.check(&["EXEC"]);
        // The watching client's own script writing the key aborts its EXEC too.
        p.check(&["WATCH", "w"]);
        p.check(&[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=t\nredis.register_function('setw', function(k) return redis.call('SET', k[1], 'fn') end)",
        ]);
        p.check(&["FCALL", "setw", "1", "w"]);
        p.check(&["MULTI"]);
        p.check(&["GET", "w"]);
        p.check(&["EXEC"]);
        p.check(&["WATCH", "w"]);
        p.check(&["MULTI"]);
        p.check(&["FCALL", "setw", "1", "w"]);
        p.check(&["EXEC"]);
        p.check(&["GET", "w"]);
        p.check(&["MULTI"]);
        p.check(&["WATCH", "w"]);
        p.check(&["DISCARD"]);
        // WATCH inside a script is refused before anything else happens.
        p.check(&["EVAL", "return redis.call('WATCH', 'w')", "0"]);
        other.assert_clean();
    });
}

/// Reads push messages from both subscribers until the one on channel `end` arrives, and compares
/// the sequences.
fn compare_until_end(sub: &mut Pair, what: &str) -> usize {
    let read_all = |c: &mut Client| {
        let mut got = Vec::new();
        loop {
            let m = c.read_reply();
            let done = Reply::parse(&m).array().get(1).and_then(|r| r.bulk()) == Some(b"end".as_slice());
            got.push(m);
            if done || got.len() > 200 {
                return got;
            }
        }
    };
    let o = read_all(&mut sub.ours);
    let r = read_all(&mut sub.real);
    for (i, (om, rm)) in o.iter().zip(r.iter()).enumerate() {
        sub.compare(&format!("{what}: message {i}"), om, rm);
    }
    sub.compare(&format!("{what}: message count"), o.len().to_string().as_bytes(), r.len().to_string().as_bytes());
    r.len()
}

#[test]
fn keyspace_notifications_from_inside_scripts() {
    in_both_protocols(&[], |p, duo| {
        let mut sub = other_pair(duo, &format!("{} subscriber", p.label), is_resp3(p));
        p.check(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        sub.check_n(&["PSUBSCRIBE", "__key*__:*"], 1);
        sub.check_n(&["SUBSCRIBE", "end"], 1);
        p.check(&["FUNCTION", "LOAD", "#!lua name=n\nredis.register_function('touch', function(k) redis.call('HSET', k[1], 'f', 1); redis.call('HINCRBY', k[1], 'f', 2); return redis.call('HDEL', k[1], 'f') end)"]);
        p.check(&[
            "EVAL",
            "redis.call('SET', KEYS[1], 1); redis.call('INCR', KEYS[1]); redis.call('EXPIRE', KEYS[1], 100); \
             redis.call('LPUSH', KEYS[2], 'a', 'b'); redis.call('RPOP', KEYS[2]); redis.call('DEL', KEYS[1]); \
             redis.pcall('INCR', KEYS[2]); redis.call('SELECT', 3); redis.call('SET', KEYS[1], 'db3'); return 'done'",
            "2",
            "s",
            "l",
        ]);
        p.check(&["FCALL", "touch", "1", "h"]);
        p.check(&["EVAL", "redis.call('SET', 'pre', 1); return redis.call('INCR', 'l')", "0"]);
        p.check(&["PUBLISH", "end", "x"]);
        let n = compare_until_end(&mut sub, "notifications");
        assert!(n > 20, "the real server sent {n} messages");
        sub.assert_clean();
    });
}

/// A MONITOR line with its timestamp and client address replaced: `+<ts> [db <addr>] ...`. Lines
/// of commands a script ran keep `[db lua]`.
fn normalise_monitor(line: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(line).into_owned();
    let Some(rest) = text.strip_prefix('+') else { return line.to_vec() };
    let Some((_ts, rest)) = rest.split_once(' ') else { return line.to_vec() };
    let Some((who, command)) = rest.split_once("] ") else { return line.to_vec() };
    let who = match who.split_once(' ') {
        Some((db, addr)) if addr != "lua" && addr.starts_with("127.0.0.1:") => format!("{db} <addr>"),
        _ => who.to_string(),
    };
    format!("+<ts> {who}] {command}").into_bytes()
}

#[test]
fn monitor_shows_scripts_and_the_commands_they_run() {
    in_both_protocols(&[], |p, duo| {
        let mut mon = other_pair(duo, &format!("{} monitor", p.label), is_resp3(p));
        p.check(&["FUNCTION", "LOAD", "#!lua name=m\nredis.register_function('mf', function(k, a) redis.call('SET', k[1], a[1]); return redis.pcall('INCR', k[1]) end)"]);
        let getter = "return redis.call('GET', KEYS[1])";
        let sha = sha1_of(p, getter);
        p.check(&["SCRIPT", "LOAD", getter]);
        mon.check(&["MONITOR"]);
        let commands: &[&[&str]] = &[
            &[
                "EVAL",
                "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SELECT', 5); return redis.call('GET', KEYS[1])",
                "1",
                "k",
                "v",
            ],
            &["EVALSHA", &sha, "1", "k"],
            &["EVAL_RO", "return redis.call('EXISTS', KEYS[1])", "1", "k"],
            &["FCALL", "mf", "1", "k", "text"],
            &["FCALL_RO", "mf", "1", "k", "text"],
            &["EVAL", "return redis.call('NOPE')", "0"],
            &["EVAL", "return 1", "9"],
            &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
            &["SCRIPT", "EXISTS", &sha],
            &["FUNCTION", "STATS"],
            &["PING", "end"],
        ];
        for cmd in commands {
            p.check(cmd);
        }
        let read_lines = |c: &mut Client| {
            let mut lines = Vec::new();
            loop {
                let l = c.read_reply();
                let done = l.to_ascii_lowercase().ends_with(b"\"ping\" \"end\"\r\n") || lines.len() > 100;
                lines.push(normalise_monitor(&l));
                if done {
                    return lines;
                }
            }
        };
        let o = read_lines(&mut mon.ours);
        let r = read_lines(&mut mon.real);
        mon.compare("MONITOR lines", &o.concat(), &r.concat());
        assert!(r.iter().any(|l| l.starts_with(b"+<ts> [0 lua] \"SET\"")), "real MONITOR shows script commands");
        mon.assert_clean();
    });
}

/// SLOWLOG GET with each entry's id, time and duration masked, and a connection's address (the
/// test's own 127.0.0.1:port); the arguments, the client name and the address a script's own
/// commands are logged with stay.
fn normalise_slowlog(b: &[u8]) -> Vec<u8> {
    let mut v = Reply::parse(b);
    if let Reply::Array(entries) = &mut v {
        for e in entries.iter_mut() {
            if let Reply::Array(fields) = e {
                for (i, mask) in [(0, "<id>"), (1, "<time>"), (2, "<usec>")] {
                    if let Some(f) = fields.get_mut(i) {
                        *f = Reply::status(mask);
                    }
                }
                if let Some(addr) = fields.get_mut(4) {
                    if addr.bulk().is_some_and(|a| a.starts_with(b"127.0.0.1:")) {
                        *addr = Reply::status("<addr>");
                    }
                }
            }
        }
    }
    v.encode()
}

/// SLOWLOG entries of a script and of its commands: the script's own client shows as `?:0`
/// (getClientPeerId of a client without a connection), while MONITOR says `[0 lua]`.
#[test]
fn slowlog_records_scripts() {
    in_both_protocols(&[], |p, _| {
        p.check(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=s\nredis.register_function('sf', function(k) return redis.call('INCR', k[1]) end)",
        ]);
        p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        p.check(&["CLIENT", "SETNAME", "scripter"]);
        p.check(&["SLOWLOG", "RESET"]);
        p.check(&["EVAL", "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])", "1", "k", "v"]);
        p.check(&["FCALL", "sf", "1", "n"]);
        p.check(&["EVAL", "return redis.call('NOPE')", "0"]);
        p.check(&["EVAL", "return 1", "3"]);
        p.check(&["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]);
        p.check(&["EVAL", &format!("return '{}'", "x".repeat(200)), "0", "a", "b"]);
        p.check(&["SCRIPT", "LOAD", "return 2"]);
        p.check(&[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=s\nredis.register_function('sf', function(k) return redis.call('INCR', k[1]) end)",
        ]);
        // Negative stops logging, so SLOWLOG LEN and GET below are not entries themselves.
        p.check(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        p.check(&["SLOWLOG", "LEN"]);
        p.check_with(&["SLOWLOG", "GET", "20"], normalise_slowlog);
        p.check(&["CLIENT", "SETNAME", ""]);
    });
}

/// The INFO lines of `section` whose names are in `keep`, with `usec` and `usec_per_call` masked.
fn info_lines(c: &mut Client, section: &str, keep: impl Fn(&str) -> bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(&c.cmd(&["INFO", section])).into_owned();
    let mut lines = Vec::new();
    for line in text.lines().skip(1) {
        let line = line.trim_end_matches('\r');
        let Some((name, value)) = line.split_once(':') else { continue };
        if !keep(name) {
            continue;
        }
        let fields: Vec<String> = value
            .split(',')
            .map(|kv| match kv.split_once('=') {
                Some((k @ ("usec" | "usec_per_call"), _)) => format!("{k}=<masked>"),
                _ => kv.to_string(),
            })
            .collect();
        lines.push(format!("{name}:{}\n", fields.join(",")));
    }
    // commandstats lists commands in the command table's hash order: compare them sorted.
    lines.sort();
    lines.concat().into_bytes()
}

/// Statistics of scripts, each from a fresh CONFIG RESETSTAT: an error of a script's command is
/// counted once, when the command fails, not again when the script returns it
/// (ignore_error_stats_update); a command refused inside a script is a rejected call of that
/// command; a script whose reply is an error is a failed call of EVAL/FCALL.
#[test]
fn info_commandstats_and_errorstats_after_scripts() {
    in_both_protocols(&[], |p, _| {
        p.check(&["SET", "text", "abc"]);
        p.check(&["FUNCTION", "LOAD", "#!lua name=c\nredis.register_function('cf', function(k) return redis.call('INCR', k[1]) end)\nredis.register_function{function_name='cro', callback=function(k) return redis.call('GET', k[1]) end, flags={'no-writes'}}"]);
        p.check(&["CONFIG", "RESETSTAT"]);
        for cmd in [
            &["EVAL", "redis.call('SET', KEYS[1], 1); return redis.call('INCR', KEYS[1])", "1", "k"][..],
            &["EVAL", "return redis.call('INCR', 'text')", "0"],
            &["EVAL", "return redis.pcall('INCR', 'text')", "0"],
            &["EVAL", "local r = redis.pcall('INCR', 'text'); return 'swallowed'", "0"],
            &["EVAL", "return redis.call('NOPE')", "0"],
            &["EVAL", "return redis.call('GET')", "0"],
            &["EVAL", "return redis.error_reply('MYERR mine')", "0"],
            &["EVAL", "error('raw')", "0"],
            &["EVAL", "return (", "0"],
            &["EVAL", "return 1", "4"],
            &["EVAL", "return 1"],
            &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
            &["EVAL_RO", "return redis.call('SET', 'k', 'v')", "0"],
            &["EVAL_RO", "return redis.call('GET', 'k')", "0"],
            &["FCALL", "cf", "1", "k"],
            &["FCALL", "cf", "1", "text"],
            &["FCALL_RO", "cf", "1", "k"],
            &["FCALL_RO", "cro", "1", "k"],
            &["FCALL", "nosuch", "0"],
            &["SCRIPT", "LOAD", "return ("],
            &["SCRIPT", "EXISTS"],
            &["FUNCTION", "LOAD", "return 1"],
            &["EVAL", "return redis.call('EVAL', 'return 1', 0)", "0"],
            &["EVAL", "return redis.call('SELECT', 99)", "0"],
        ] {
            p.check(cmd);
        }
        let commands = |name: &str| {
            [
                "eval",
                "evalsha",
                "eval_ro",
                "fcall",
                "fcall_ro",
                "set",
                "get",
                "incr",
                "select",
                "script|load",
                "script|exists",
                "function|load",
            ]
            .iter()
            .any(|c| name == format!("cmdstat_{c}"))
        };
        let (o, r) =
            (info_lines(&mut p.ours, "commandstats", commands), info_lines(&mut p.real, "commandstats", commands));
        p.compare("INFO commandstats (script-related lines)", &o, &r);
        let (o, r) = (info_lines(&mut p.ours, "errorstats", |_| true), info_lines(&mut p.real, "errorstats", |_| true));
        p.compare("INFO errorstats", &o, &r);
        let counters = |name: &str| name == "total_error_replies" || name == "unexpected_error_replies";
        let (o, r) = (info_lines(&mut p.ours, "stats", counters), info_lines(&mut p.real, "stats", counters));
        p.compare("INFO stats error counters", &o, &r);
    });
}

/// Functions at run time (no registering, their KEYS/ARGV, their errors) and what the Lua sandbox
/// lets a script reach: globals, loadstring, metatables, the libraries Redis bundles, commands
/// with random or server-dependent replies (which scripts may call since 7.0), and math.random's
/// fixed seed.
#[test]
fn functions_at_run_time_and_the_lua_sandbox() {
    in_both_protocols(&[], |p, _| {
        let commands: &[&[&str]] = &[
            &[
                "FUNCTION",
                "LOAD",
                r#"#!lua name=rt
redis.register_function('reg', function() return redis.register_function('x', function() end) end)
redis.register_function('glob', function() return tostring(rawget(_G, 'KEYS')) end)
redis.register_function('keys', function(k, a) return {#k, #a, k[1], a[1]} end)
redis.register_function('setresp', function() redis.setresp(3); return redis.call('HGETALL', 'nosuch') end)
redis.register_function('err', function() return redis.call('INCR', 'text') end)
redis.register_function('raise', function() error('fn boom') end)
redis.register_function('tbl', function() error({err='FNERR x'}) end)
redis.register_function('math', function() return {math.random(100), math.random(100)} end)
redis.register_function('time', function() return type(redis.call('TIME')) end)"#,
            ],
            &["SET", "text", "abc"],
            &["FCALL", "reg", "0"],
            &["FCALL", "glob", "0"],
            &["FCALL", "keys", "2", "a", "b", "c"],
            &["FCALL", "setresp", "0"],
            &["FCALL", "err", "0"],
            &["FCALL", "raise", "0"],
            &["FCALL", "tbl", "0"],
            &["FCALL", "math", "0"],
            &["FCALL", "time", "0"],
            &["EVAL", "return redis.register_function", "0"],
            &["EVAL", "return {math.random(100), math.random(100)}", "0"],
            &["EVAL", "math.randomseed(7); return {math.random(1000), math.random()}", "0"],
            &["EVAL", "return redis.call('TIME')[1] ~= nil", "0"],
            &["EVAL", "return redis.call('SPOP','nosuch')", "0"],
            &["EVAL", "return cjson.encode({1,2,3})", "0"],
            &["EVAL", r#"return cjson.encode(cjson.decode('[1,{"a":null}]'))"#, "0"],
            &["EVAL", "return cmsgpack.unpack(cmsgpack.pack({1,'a',{b=2}}))", "0"],
            &["EVAL", "return redis.call('OBJECT','ENCODING','text')", "0"],
            &["EVAL", "return redis.call('CONFIG','GET','maxmemory')", "0"],
            &["EVAL", "return redis.call('CLIENT','LIST')", "0"],
            &["EVAL", "return redis.call('INFO','nothing')", "0"],
            &["EVAL", "return redis.call('PUBLISH','ch','x')", "0"],
            &["EVAL", "return redis.call('SHUTDOWN')", "0"],
            &["EVAL", "return redis.call('FLUSHALL')", "0"],
            &["EVAL", "return redis.call('DEBUG','SLEEP','0')", "0"],
            &["EVAL", "return redis.call('SCRIPT','EXISTS','x')", "0"],
            &["EVAL", "local t = {} ; for i=1,100 do t[i]=i end; return #t", "0"],
            &["EVAL", r#"return string.format('%q', 'a\nb')"#, "0"],
            &["EVAL", "return tonumber('0x10')", "0"],
            &["EVAL", "return {tostring(1e15), tostring(1e16), tostring(0.1), 2^53}", "0"],
            &["EVAL", "return redis.call('INCRBYFLOAT','f','0.1')", "0"],
            &["EVAL", "return setmetatable({}, {})", "0"],
            &["EVAL", "return coroutine.create(function() end) ~= nil", "0"],
            &["EVAL", "return getmetatable('').__index == string", "0"],
            &["EVAL", "_G.x = 1", "0"],
            &["EVAL", "rawset(_G, 'x', 1)", "0"],
            &["EVAL", "return print", "0"],
            &["EVAL", "return string.dump(function() end) ~= nil", "0"],
            &["EVAL", "local f = loadstring('return 5'); return f()", "0"],
            &["EVAL", "return pcall(redis.call, 'NOPE')", "0"],
            &["EVAL", "return select('#', pcall(error))", "0"],
            &["EVAL", "return redis.pcall('EVAL','return 1',0)['err']", "0"],
        ];
        for cmd in commands {
            p.check(cmd);
        }
    });
}

/// INFO memory's script and function counters follow the cache and the libraries as on real
/// Redis; the byte figures (each server's own allocator and VM) grow with them and go back when
/// they are flushed.
#[test]
fn info_counts_scripts_and_functions() {
    let real = crate::common::Server::start_real(&[]);
    let ours = crate::common::Server::start(&[]);
    let field = |c: &mut Client, name: &str| -> u64 {
        let info = String::from_utf8_lossy(&c.cmd(&["INFO", "memory"])).into_owned();
        let line =
            info.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap_or_else(|| panic!("{name} missing"));
        line[name.len() + 1..].trim().parse().unwrap_or_else(|_| panic!("{line}"))
    };
    let counters = ["number_of_cached_scripts", "number_of_functions", "number_of_libraries"];
    let mut seen = Vec::new();
    for server in [&real, &ours] {
        let mut c = server.client();
        let mut steps = Vec::new();
        let lua_before = field(&mut c, "used_memory_lua");
        for i in 0..3 {
            c.cmd(&["SCRIPT", "LOAD", &format!("return {i}")]);
        }
        c.cmd(&["EVAL", "return redis.call('PING')", "0"]);
        c.cmd(&["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f1', function() return 1 end)\nredis.register_function('f2', function() return 2 end)"]);
        steps.push(counters.map(|n| field(&mut c, n)));
        assert!(field(&mut c, "used_memory_scripts_eval") > 0, "{}", server.port);
        assert!(field(&mut c, "used_memory_lua") > lua_before, "{}", server.port);
        c.cmd(&["SCRIPT", "FLUSH"]);
        c.cmd(&["FUNCTION", "FLUSH"]);
        steps.push(counters.map(|n| field(&mut c, n)));
        assert_eq!(field(&mut c, "used_memory_scripts_eval"), 0, "{}", server.port);
        seen.push(steps);
    }
    assert_eq!(seen[0], vec![[4, 2, 1], [0, 0, 0]], "real Redis counted otherwise");
    assert_eq!(seen[1], seen[0]);
}
