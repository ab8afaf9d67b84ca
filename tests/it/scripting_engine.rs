//! The scripting engine alone against Debian's redis-server 7.0.15: each script runs through
//! EVAL on the real server and through `EvalVm` directly, with a host that answers the few
//! commands the scripts call from a HashMap, and the RESP bytes must be identical. Covers the
//! conversions both ways (RESP2 and RESP3), the sandbox and error texts, the `redis` API,
//! math.random's sequence, and Redis's cjson, cmsgpack, struct and bit libraries.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use redis_rs::protocol::Reply;
use redis_rs::scripting::{parse_library_metadata, EvalVm, FunctionVm, Rand48, ReplFlags, RunOptions, ScriptHost};

use crate::common::{show_bytes, Client, Server};

/// A hash's (field, value) pairs in insertion order.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// SET, GET, INCR, DEL, HSET (one field), HGETALL, PING on a map, Redis's texts for the rest.
#[derive(Default)]
pub(crate) struct MapHost {
    strings: HashMap<Vec<u8>, Vec<u8>>,
    hashes: HashMap<Vec<u8>, Fields>,
}

impl ScriptHost for MapHost {
    fn call(&mut self, argv: Vec<Vec<u8>>, _resp: u8) -> Reply {
        let name = argv[0].to_ascii_lowercase();
        match (name.as_slice(), argv.len()) {
            (b"set", 3) => {
                self.strings.insert(argv[1].clone(), argv[2].clone());
                Reply::OK
            }
            (b"get", 2) => self.strings.get(&argv[1]).map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
            (b"del", 2) => Reply::Int(i64::from(self.strings.remove(&argv[1]).is_some())),
            (b"incr", 2) => {
                let current = match self.strings.get(&argv[1]) {
                    None => Some(0),
                    Some(v) => std::str::from_utf8(v).ok().and_then(|s| s.parse::<i64>().ok()),
                };
                match current {
                    Some(n) => {
                        self.strings.insert(argv[1].clone(), (n + 1).to_string().into_bytes());
                        Reply::Int(n + 1)
                    }
                    None => Reply::error("ERR value is not an integer or out of range"),
                }
            }
            (b"hset", 4) => {
                let fields = self.hashes.entry(argv[1].clone()).or_default();
                fields.retain(|(f, _)| f != &argv[2]);
                fields.push((argv[2].clone(), argv[3].clone()));
                Reply::Int(1)
            }
            (b"hgetall", 2) => Reply::Map(
                self.hashes
                    .get(&argv[1])
                    .map(|f| f.iter().map(|(k, v)| (Reply::Bulk(k.clone()), Reply::Bulk(v.clone()))).collect())
                    .unwrap_or_default(),
            ),
            (b"ping", 1) => Reply::status("PONG"),
            (b"set" | b"get" | b"del" | b"incr" | b"hset" | b"hgetall" | b"ping", _) => {
                Reply::error("ERR Wrong number of args calling Redis command from script")
            }
            _ => Reply::error("ERR Unknown Redis command called from script"),
        }
    }

    fn acl_check(&mut self, argv: &[Vec<u8>]) -> Option<bool> {
        match argv[0].to_ascii_lowercase().as_slice() {
            b"set" | b"get" | b"del" | b"incr" | b"hset" | b"hgetall" | b"ping" => Some(true),
            _ => None,
        }
    }

    fn set_repl(&mut self, _flags: ReplFlags) {}
}

/// (body, keys, args)
type Case = (&'static str, &'static [&'static str], &'static [&'static str]);

const CONVERSIONS: &[Case] = &[
    ("return 1", &[], &[]),
    ("return -1.9", &[], &[]),
    ("return 3.99", &[], &[]),
    ("return 1e20", &[], &[]),
    ("return -1e20", &[], &[]),
    ("return 0/0", &[], &[]),
    ("return 1/0", &[], &[]),
    ("return 'a\\0b'", &[], &[]),
    ("return ''", &[], &[]),
    ("return true", &[], &[]),
    ("return false", &[], &[]),
    ("return nil", &[], &[]),
    ("return print", &[], &[]),
    ("return {}", &[], &[]),
    ("return {1,'two',{3,{4,{}}}}", &[], &[]),
    ("return {1,nil,3}", &[], &[]),
    ("return {1,false,3}", &[], &[]),
    ("return {a=1}", &[], &[]),
    ("return {ok='fine'}", &[], &[]),
    ("return {ok='a\\r\\nb'}", &[], &[]),
    ("return {ok=1}", &[], &[]),
    ("return {err='My Error'}", &[], &[]),
    ("return {err='trailing\\n'}", &[], &[]),
    ("return {err='in\\r\\nside'}", &[], &[]),
    ("return {err=1}", &[], &[]),
    ("return {err='x', ok='y'}", &[], &[]),
    ("return {1, {err='nested'}, {ok='st'}}", &[], &[]),
    ("return redis.error_reply('boom')", &[], &[]),
    ("return redis.error_reply('-CODE boom')", &[], &[]),
    ("return redis.error_reply('-NOSPACE')", &[], &[]),
    ("return redis.error_reply(1)", &[], &[]),
    ("return redis.status_reply('OK')", &[], &[]),
    ("return redis.status_reply()", &[], &[]),
    ("return {double=3.14}", &[], &[]),
    ("return {double=1/0}", &[], &[]),
    ("return {double=-1/0}", &[], &[]),
    ("return {double=0.1}", &[], &[]),
    ("return {double='x'}", &[], &[]),
    ("return {big_number='12345678901234567890'}", &[], &[]),
    ("return {big_number='1\\r\\n2'}", &[], &[]),
    ("return {verbatim_string={format='txt',string='abc'}}", &[], &[]),
    ("return {verbatim_string={format='mkd',string='abc'}}", &[], &[]),
    ("return {verbatim_string={format='x',string='abc'}}", &[], &[]),
    ("return {verbatim_string={format='txt'}}", &[], &[]),
    ("return {map={x=1}}", &[], &[]),
    ("return {map={}}", &[], &[]),
    ("return {set={a=true}}", &[], &[]),
    ("return {set={}}", &[], &[]),
    ("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", &["k1", "k2"], &["a1", "a2"]),
    ("return redis.call('set', KEYS[1], ARGV[1])", &["k"], &["v"]),
    ("redis.call('set', 'k', 5) return redis.call('incr', 'k')", &[], &[]),
    ("redis.call('set', 'k', 1.5) return redis.call('get', 'k')", &[], &[]),
    ("redis.call('set', 'k', 0.1) return redis.call('get', 'k')", &[], &[]),
    ("redis.call('set', 'k', 1e100) return redis.call('get', 'k')", &[], &[]),
    ("redis.call('set', 'k', -0.0) return redis.call('get', 'k')", &[], &[]),
    ("return redis.call('get', 'nokey')", &[], &[]),
    ("return type(redis.call('get', 'nokey'))", &[], &[]),
    ("return redis.call('ping')", &[], &[]),
    ("return type(redis.call('ping'))", &[], &[]),
    ("redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')", &[], &[]),
    ("redis.setresp(3) redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')", &[], &[]),
    ("redis.setresp(3) redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h').map.f", &[], &[]),
    ("redis.setresp(3) return redis.call('get', 'nokey')", &[], &[]),
    ("redis.setresp(3) return type(redis.call('get', 'nokey'))", &[], &[]),
    ("redis.setresp(3) return true", &[], &[]),
    ("redis.setresp(3) return false", &[], &[]),
    ("redis.setresp(3) return {double=2.5}", &[], &[]),
    ("redis.setresp(3) return {map={a=1}}", &[], &[]),
    ("redis.setresp(2) return false", &[], &[]),
    ("local t = {} t[1] = t return t", &[], &[]),
    ("local t = {} t[1] = t return {map={a=t}}", &[], &[]),
];

const ERRORS_AND_API: &[Case] = &[
    ("return x", &[], &[]),
    ("x = 1", &[], &[]),
    ("KEYS = 1", &[], &[]),
    ("redis.call = nil", &[], &[]),
    ("string.len = nil", &[], &[]),
    ("setmetatable(_G, nil)", &[], &[]),
    ("getmetatable('').__index = {}", &[], &[]),
    ("return redis.call('nosuch')", &[], &[]),
    ("return redis.pcall('nosuch')", &[], &[]),
    ("return redis.call('incr')", &[], &[]),
    ("redis.call('set', 'k', 'x') return redis.call('incr', 'k')", &[], &[]),
    ("redis.call('set', 'k', 'x') return redis.pcall('incr', 'k')", &[], &[]),
    ("redis.call('set', 'k', 'x') local ok, e = pcall(redis.call, 'incr', 'k') return {tostring(ok), e}", &[], &[]),
    ("local t = redis.pcall('nosuch') return {t.err, tostring(t.ignore_error_stats_update)}", &[], &[]),
    ("return redis.call()", &[], &[]),
    ("return redis.pcall()", &[], &[]),
    ("return redis.call('get', {})", &[], &[]),
    ("return redis.pcall('get', nil)", &[], &[]),
    ("error('boom')", &[], &[]),
    ("error('boom', 0)", &[], &[]),
    ("error({err='CUSTOM my error'})", &[], &[]),
    ("error({err='CUSTOM my error', source='s', line=7})", &[], &[]),
    ("error(redis.error_reply('X y'))", &[], &[]),
    ("local function f() error('deep') end f()", &[], &[]),
    ("\n\nreturn nosuchvar", &[], &[]),
    ("return 'x' x", &[], &[]),
    ("return (", &[], &[]),
    ("#!lua flags=bad\nreturn 1", &[], &[]),
    ("#!lua\nreturn 1", &[], &[]),
    ("#!lua x=1\nreturn 1", &[], &[]),
    ("#!nope\nreturn 1", &[], &[]),
    ("#!lua", &[], &[]),
    ("#!lua flags=no-writes,allow-oom\nreturn 1", &[], &[]),
    ("#!lua flags=\nreturn nosuch", &[], &[]),
    ("return redis.sha1hex('abc')", &[], &[]),
    ("return redis.sha1hex('')", &[], &[]),
    ("return redis.sha1hex()", &[], &[]),
    ("return redis.REDIS_VERSION", &[], &[]),
    ("return redis.REDIS_VERSION_NUM", &[], &[]),
    ("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", &[], &[]),
    ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", &[], &[]),
    ("redis.setresp(4)", &[], &[]),
    ("redis.setresp()", &[], &[]),
    ("redis.set_repl(99)", &[], &[]),
    ("redis.set_repl()", &[], &[]),
    ("redis.set_repl(redis.REPL_ALL) return 1", &[], &[]),
    ("redis.log(redis.LOG_DEBUG, 'from a test') return 1", &[], &[]),
    ("redis.log(9, 'x')", &[], &[]),
    ("redis.log('x', 'y')", &[], &[]),
    ("redis.log(1)", &[], &[]),
    ("return redis.breakpoint()", &[], &[]),
    ("return redis.debug('x')", &[], &[]),
    ("return redis.replicate_commands()", &[], &[]),
    ("return redis.acl_check_cmd('get', 'x')", &[], &[]),
    ("return redis.acl_check_cmd('nosuch')", &[], &[]),
    ("return redis.acl_check_cmd()", &[], &[]),
    ("return type(os)", &[], &[]),
    ("return type(io)", &[], &[]),
    ("return type(require)", &[], &[]),
    ("return type(loadfile)", &[], &[]),
    ("return dofile", &[], &[]),
    ("return type(getfenv)", &[], &[]),
    ("return type(newproxy)", &[], &[]),
    ("return type(debug)", &[], &[]),
    ("return type(coroutine)", &[], &[]),
    ("return _VERSION", &[], &[]),
    ("return loadstring('return 1')()", &[], &[]),
    ("return loadstring(string.dump(function() return 1 end))", &[], &[]),
    ("return {pcall(loadstring, string.dump(function() return 1 end))}", &[], &[]),
    ("return type(cjson_safe)", &[], &[]),
    ("return type(cmsgpack_safe)", &[], &[]),
    ("return unpack({1,2,3})", &[], &[]),
    ("return select('#', 1, 2, 3)", &[], &[]),
    ("return tostring(1e15)", &[], &[]),
    ("return tostring(0.1)", &[], &[]),
    ("return string.format('%5.2f', 3.14159)", &[], &[]),
    ("return string.rep('ab', 3)", &[], &[]),
    ("return table.concat({1,2,3}, ',')", &[], &[]),
    ("local i = 0 for k in pairs(_G) do i = i + 1 end return i", &[], &[]),
    ("local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t", &[], &[]),
    ("local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t", &[], &[]),
];

const RANDOM: &[Case] = &[
    ("return tostring(math.random())", &[], &[]),
    ("return {math.random(10), math.random(5, 9), math.random(1000000)}", &[], &[]),
    ("local t = {} for i = 1, 20 do t[i] = math.random(100) end return t", &[], &[]),
    ("math.randomseed(123) return {tostring(math.random()), math.random(50)}", &[], &[]),
    ("math.randomseed(-5) return {tostring(math.random()), math.random(50)}", &[], &[]),
    ("return math.random(0)", &[], &[]),
    ("return math.random(3, 1)", &[], &[]),
    ("return math.random(1, 2, 3)", &[], &[]),
    ("return math.random('x')", &[], &[]),
    ("return tostring(math.random())", &[], &[]),
];

const CJSON: &[Case] = &[
    ("return cjson.encode({})", &[], &[]),
    ("return cjson.encode({1,2,3})", &[], &[]),
    ("return cjson.encode({1,nil,3})", &[], &[]),
    ("return cjson.encode({[1]=1,[5]=5})", &[], &[]),
    ("return cjson.encode({[1]=1,[20]=5})", &[], &[]),
    ("return cjson.encode({[0]=1})", &[], &[]),
    ("return cjson.encode({a=1})", &[], &[]),
    ("return cjson.encode({a={b={c={1,2,{d='e'}}}}})", &[], &[]),
    ("return cjson.encode({1, 'a', true, false, cjson.null})", &[], &[]),
    ("return cjson.encode(1/3)", &[], &[]),
    ("return cjson.encode(0.1)", &[], &[]),
    ("return cjson.encode(1e300)", &[], &[]),
    ("return cjson.encode(123456789012345678)", &[], &[]),
    ("return cjson.encode(-0.0)", &[], &[]),
    ("return cjson.encode(1/0)", &[], &[]),
    ("return cjson.encode(0/0)", &[], &[]),
    ("return cjson.encode('quote\" back\\\\ slash/ nl\\n tab\\t ctl\\1 hi\\127 utf\\195\\169')", &[], &[]),
    ("return cjson.encode(print)", &[], &[]),
    ("return cjson.encode({[true]=1})", &[], &[]),
    ("local t = {} local c = t for i = 1, 1001 do c[1] = {} c = c[1] end return cjson.encode(t)", &[], &[]),
    ("local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)", &[], &[]),
    ("return cjson.decode('[1,2,3]')[2]", &[], &[]),
    ("return cjson.decode('{\"a\":[1,{\"b\":null}]}').a[2].b == cjson.null", &[], &[]),
    ("return cjson.decode('[1,2')", &[], &[]),
    ("return cjson.decode('')", &[], &[]),
    ("return cjson.decode('{\"a\":}')", &[], &[]),
    ("return cjson.decode('[1,2,3] x')", &[], &[]),
    ("return tostring(cjson.decode('1e2'))", &[], &[]),
    ("return tostring(cjson.decode('0.1'))", &[], &[]),
    ("return cjson.decode('\"\\\\u00e9\\\\n\\\\ud83d\\\\ude00\"')", &[], &[]),
    ("return cjson.decode('\"\\\\uZZZZ\"')", &[], &[]),
    ("return cjson.decode('NaN')", &[], &[]),
    ("return tostring(cjson.decode('Infinity'))", &[], &[]),
    ("return cjson.decode('0x10')", &[], &[]),
    ("return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))", &[], &[]),
    ("return #cjson.decode(string.rep('[', 999) .. string.rep(']', 999))", &[], &[]),
    ("return cjson.encode(cjson.decode('{\"a\":1,\"b\":[true,false,null]}'))", &[], &[]),
    ("return cjson.encode_keep_buffer", &[], &[]),
    ("return {cjson.encode_max_depth(), cjson.decode_max_depth()}", &[], &[]),
    ("return {cjson.encode_sparse_array()}", &[], &[]),
    ("return {cjson.encode_number_precision()}", &[], &[]),
    ("return cjson.encode_number_precision(20)", &[], &[]),
    ("cjson.encode_number_precision(3) return cjson.encode(1/3)", &[], &[]),
    ("return cjson.decode(1)", &[], &[]),
    ("return cjson.decode()", &[], &[]),
    ("return cjson.encode()", &[], &[]),
];

const CMSGPACK: &[Case] = &[
    ("return cmsgpack.pack({1,2,3})", &[], &[]),
    ("return cmsgpack.pack('abc', 1.5, -1, 2^40, true, false)", &[], &[]),
    ("return cmsgpack.pack({a=1})", &[], &[]),
    ("return cmsgpack.pack(string.rep('x', 40))", &[], &[]),
    ("return cmsgpack.pack(string.rep('x', 300))", &[], &[]),
    ("return cmsgpack.pack(-33, -129, -32769, 128, 256, 65536, 2^32, -2^33, 0.25, 1e300)", &[], &[]),
    ("return cmsgpack.pack({})", &[], &[]),
    ("return cmsgpack.pack(nil)", &[], &[]),
    ("return cmsgpack.pack()", &[], &[]),
    ("return {cmsgpack.unpack(cmsgpack.pack(1, 2, 3))}", &[], &[]),
    ("return cmsgpack.unpack(cmsgpack.pack({a=1, b={1,2}}))['b'][2]", &[], &[]),
    ("return cmsgpack.unpack(cmsgpack.pack({1,{2,{3,'x'}}}))[2][2][2]", &[], &[]),
    ("return tostring(cmsgpack.unpack(cmsgpack.pack(0.1)))", &[], &[]),
    ("local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)", &[], &[]),
    ("return cmsgpack.unpack('')", &[], &[]),
    ("return cmsgpack.unpack('\\193')", &[], &[]),
    ("return cmsgpack.unpack('\\146\\1')", &[], &[]),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}", &[], &[]),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", &[], &[]),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 2)}", &[], &[]),
    ("return cmsgpack.pack(print)", &[], &[]),
];

const STRUCT_AND_BIT: &[Case] = &[
    ("return struct.pack('>i4', 1)", &[], &[]),
    ("return struct.pack('<i4', -2)", &[], &[]),
    ("return {struct.unpack('<hH', struct.pack('<hH', -2, 65535))}", &[], &[]),
    ("return {struct.unpack('>bBlL', struct.pack('>bBlL', -1, 255, -3, 4))}", &[], &[]),
    ("return struct.size('i4d')", &[], &[]),
    ("return struct.size('!4bi')", &[], &[]),
    ("return struct.pack('z', 'abc')", &[], &[]),
    ("return struct.pack('c0', 'abc')", &[], &[]),
    ("return {struct.unpack('c2c1', 'abc')}", &[], &[]),
    ("return {struct.unpack('Bc0', '\\3abcdef')}", &[], &[]),
    ("return {tostring(struct.unpack('d', struct.pack('d', 0.1)))}", &[], &[]),
    ("return {tostring(struct.unpack('f', struct.pack('f', 0.1)))}", &[], &[]),
    ("return struct.pack('q', 1)", &[], &[]),
    ("return struct.pack('i17', 1)", &[], &[]),
    ("return struct.unpack('i4', 'ab')", &[], &[]),
    ("return struct.pack('i', 'x')", &[], &[]),
    ("return struct.unpack('>I4', 'abcd', 2)", &[], &[]),
    ("return bit.tobit(2^32 + 1)", &[], &[]),
    ("return bit.bor(1, 2, 4)", &[], &[]),
    ("return bit.band(0xff, 0x0f, 0x3)", &[], &[]),
    ("return bit.bxor(5, 3)", &[], &[]),
    ("return bit.bnot(0)", &[], &[]),
    ("return bit.lshift(1, 31)", &[], &[]),
    ("return bit.rshift(-1, 28)", &[], &[]),
    ("return bit.arshift(-256, 4)", &[], &[]),
    ("return bit.rol(1, 33)", &[], &[]),
    ("return bit.ror(1, 1)", &[], &[]),
    ("return bit.bswap(0x12345678)", &[], &[]),
    ("return bit.tohex(-1, -4)", &[], &[]),
    ("return bit.tohex(255)", &[], &[]),
    ("return bit.tohex(255, 2)", &[], &[]),
    ("return bit.band('x')", &[], &[]),
    ("return bit.tobit(2^53)", &[], &[]),
];

/// Runs the cases in order on a fresh real server (EVAL over a connection speaking `resp`) and a
/// fresh engine, and lists every difference.
fn compare(cases: &[Case], resp: u8) -> Vec<String> {
    let real = Server::start_real(&[]);
    let mut client = Client::connect(real.port);
    if resp == 3 {
        client.cmd(&["HELLO", "3"]);
    }
    let mut vm = EvalVm::new(Arc::new(Mutex::new(Rand48::default()))).expect("engine");
    let mut mismatches = Vec::new();
    for &(body, keys, args) in cases {
        client.cmd(&["FLUSHALL"]);
        let numkeys = keys.len().to_string();
        let mut argv: Vec<&[u8]> = vec![b"EVAL", body.as_bytes(), numkeys.as_bytes()];
        argv.extend(keys.iter().map(|k| k.as_bytes()));
        argv.extend(args.iter().map(|a| a.as_bytes()));
        let expected = client.cmd_bytes(&argv);

        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut host = MapHost::default();
        let reply =
            vm.eval_with(body.as_bytes(), &keys, &args, &mut host, RunOptions { caller_resp: resp, killable: false });
        let mut ours = Vec::new();
        reply.encode(resp, &mut ours);
        if ours != expected {
            mismatches.push(format!(
                "RESP{resp} {body:?}\n      real: \"{}\"\n      ours: \"{}\"",
                show_bytes(&expected, 2000),
                show_bytes(&ours, 2000)
            ));
        }
    }
    mismatches
}

fn assert_same(cases: &'static [Case]) {
    // The test client reads a reply recursively, one frame per nesting level, and a script can
    // return a table thousands deep: give the comparison room.
    let run = std::thread::Builder::new().stack_size(256 << 20).spawn(|| {
        let mut mismatches = compare(cases, 2);
        mismatches.extend(compare(cases, 3));
        mismatches
    });
    let mismatches = run.expect("spawn").join().expect("comparison thread");
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

#[test]
fn conversions_match_real_redis() {
    assert_same(CONVERSIONS);
}

#[test]
fn errors_sandbox_and_api_match_real_redis() {
    assert_same(ERRORS_AND_API);
}

#[test]
fn random_sequences_match_real_redis() {
    assert_same(RANDOM);
}

#[test]
fn cjson_matches_real_redis() {
    assert_same(CJSON);
}

#[test]
fn cmsgpack_matches_real_redis() {
    assert_same(CMSGPACK);
}

#[test]
fn struct_and_bit_match_real_redis() {
    assert_same(STRUCT_AND_BIT);
}

/// (library code after its `#!lua name=` line, function to call, keys, args)
type FunctionCase = (&'static str, &'static str, &'static [&'static str], &'static [&'static str]);

const FUNCTIONS: &[FunctionCase] = &[
    ("redis.register_function('f', function(keys, args) return {keys[1], args[1], #keys, #args} end)", "f", &["k"], &["a", "b"]),
    (
        "redis.register_function{function_name='f', callback=function() return 1 end, flags={'no-writes'}, description='d'}",
        "f",
        &[],
        &[],
    ),
    ("redis.register_function('f', function() return x end)", "f", &[], &[]),
    ("redis.register_function('f', function() return KEYS end)", "f", &[], &[]),
    ("redis.register_function('f', function() x = 1 end)", "f", &[], &[]),
    ("redis.register_function('f', function() return redis.call('nosuch') end)", "f", &[], &[]),
    ("redis.register_function('f', function() return redis.pcall('nosuch') end)", "f", &[], &[]),
    ("redis.register_function('f', function() error('boom') end)", "f", &[], &[]),
    ("redis.register_function('f', function() return redis.breakpoint end)", "f", &[], &[]),
    ("redis.register_function('f', function() return type(redis.register_function) end)", "f", &[], &[]),
    ("redis.register_function('f', function() return {redis.REDIS_VERSION, cjson.encode({1})} end)", "f", &[], &[]),
    ("redis.register_function('f', function() return tostring(math.random()) end)", "f", &[], &[]),
    ("redis.register_function('f', function() redis.setresp(3) return {double=1.5} end)", "f", &[], &[]),
    ("local n = 0 redis.register_function('f', function() n = n + 1 return n end)", "f", &[], &[]),
    ("redis.log(redis.LOG_NOTICE, 'loading') redis.register_function('f', function() return 2 end)", "f", &[], &[]),
    ("redis.register_function('F_1', function() return 'ok' end)", "F_1", &[], &[]),
    // Load errors.
    ("return 1", "", &[], &[]),
    ("x = 1", "", &[], &[]),
    ("return 'x' x", "", &[], &[]),
    ("error('at load')", "", &[], &[]),
    ("redis.register_function('f')", "", &[], &[]),
    ("redis.register_function('f', 1)", "", &[], &[]),
    ("redis.register_function(1, function() return 1 end)", "1", &[], &[]),
    ("redis.register_function({}, function() end)", "", &[], &[]),
    ("redis.register_function()", "", &[], &[]),
    ("redis.register_function('a', function() end, 3)", "", &[], &[]),
    ("redis.register_function('a-b', function() end)", "", &[], &[]),
    ("redis.register_function('', function() end)", "", &[], &[]),
    ("redis.register_function('f', function() end) redis.register_function('f', function() end)", "", &[], &[]),
    ("redis.register_function('f')", "", &[], &[]),
    ("redis.register_function{function_name='f'}", "", &[], &[]),
    ("redis.register_function{callback=function() end}", "", &[], &[]),
    ("redis.register_function{function_name='f', callback=function() end, flags={'bad'}}", "", &[], &[]),
    ("redis.register_function{function_name='f', callback=function() end, flags='no-writes'}", "", &[], &[]),
    ("redis.register_function{function_name='f', callback=function() end, other=1}", "", &[], &[]),
    ("redis.register_function{function_name='f', callback=1}", "", &[], &[]),
    ("redis.register_function{function_name={}, callback=function() end}", "", &[], &[]),
    ("redis.register_function{function_name='f', description={}, callback=function() end}", "", &[], &[]),
    ("redis.register_function{[1]=2}", "", &[], &[]),
    ("redis.register_function{}", "", &[], &[]),
    ("return string.len('x')", "", &[], &[]),
    ("redis.call('ping')", "", &[], &[]),
    ("math.random()", "", &[], &[]),
    ("while true do end", "", &[], &[]),
];

/// FUNCTION LOAD and FCALL on the real server against FunctionVm::load_library and call.
fn compare_functions(resp: u8) -> Vec<String> {
    let real = Server::start_real(&[]);
    let mut client = Client::connect(real.port);
    if resp == 3 {
        client.cmd(&["HELLO", "3"]);
    }
    let mut vm = FunctionVm::new(Arc::new(Mutex::new(Rand48::default()))).expect("engine");
    let mut mismatches = Vec::new();
    for &(code, function, keys, args) in FUNCTIONS {
        client.cmd(&["FUNCTION", "FLUSH"]);
        let payload = format!("#!lua name=lib\n{code}");
        let real_load = client.cmd(&["FUNCTION", "LOAD", &payload]);
        let meta = parse_library_metadata(payload.as_bytes()).expect("metadata");
        let ours_load = match vm.load_library(&meta.code, Duration::from_millis(500)) {
            Ok(functions) => Ok(functions),
            Err(e) => Err(format!("-ERR {e}\r\n").into_bytes()),
        };
        let functions = match (ours_load, real_load.starts_with(b"-")) {
            (Err(ours), true) => {
                if ours != real_load {
                    mismatches.push(format!(
                        "RESP{resp} load {code:?}\n      real: \"{}\"\n      ours: \"{}\"",
                        show_bytes(&real_load, 2000),
                        show_bytes(&ours, 2000)
                    ));
                }
                continue;
            }
            (Ok(functions), false) => functions,
            (ours, _) => {
                mismatches.push(format!(
                    "RESP{resp} load {code:?}: real \"{}\", ours {:?}",
                    show_bytes(&real_load, 2000),
                    ours.map(|f| f.len()).map_err(|e| String::from_utf8_lossy(&e).into_owned())
                ));
                continue;
            }
        };
        let numkeys = keys.len().to_string();
        let mut argv: Vec<&str> = vec!["FCALL", function, &numkeys];
        argv.extend(keys.iter());
        argv.extend(args.iter());
        let expected = client.cmd(&argv);
        let Some(f) = functions.iter().find(|f| f.name == function.as_bytes()) else {
            mismatches.push(format!(
                "RESP{resp} {code:?}: {function} not registered, real FCALL gave \"{}\"",
                show_bytes(&expected, 2000)
            ));
            continue;
        };
        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut host = MapHost::default();
        let reply =
            vm.call(f.handle, function, &keys, &args, &mut host, RunOptions { caller_resp: resp, killable: false });
        let mut ours = Vec::new();
        reply.encode(resp, &mut ours);
        if ours != expected {
            mismatches.push(format!(
                "RESP{resp} fcall {code:?}\n      real: \"{}\"\n      ours: \"{}\"",
                show_bytes(&expected, 2000),
                show_bytes(&ours, 2000)
            ));
        }
        for f in functions {
            vm.free_function(f.handle);
        }
    }
    mismatches
}

#[test]
fn function_libraries_match_real_redis() {
    let mut mismatches = compare_functions(2);
    mismatches.extend(compare_functions(3));
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

/// A random Lua value expression: numbers (integral, fractional, huge, negative), strings with
/// binary bytes, booleans, nil holes, nested arrays, and the special single-field tables.
fn random_value(rng: &mut fastrand::Rng, depth: u32) -> String {
    let kind = if depth >= 4 { rng.u32(0..6) } else { rng.u32(0..12) };
    match kind {
        0 => rng.i64(-1_000_000..1_000_000).to_string(),
        1 => format!("{}.{}", rng.i32(-1000..1000), rng.u32(0..100_000)),
        2 => ["1e300", "-1e300", "2^53", "2^63", "-(2^63)", "0.1", "-0.0", "1/3"][rng.usize(0..8)].to_string(),
        3 => {
            let len = rng.usize(0..8);
            let s: String = (0..len).map(|_| format!("\\{}", rng.u8(..))).collect();
            format!("'{s}'")
        }
        4 => ["true", "false", "nil"][rng.usize(0..3)].to_string(),
        5 => format!("'{}'", ["", "a", "hello world", "12", "-7", "1.5"][rng.usize(0..6)]),
        6 => format!("{{ok='{}'}}", ["OK", "a b", "x\\r\\ny"][rng.usize(0..3)]),
        7 => format!("{{err='{}'}}", ["ERR x", "CUSTOM y z", "bare", "-DASH q"][rng.usize(0..4)]),
        8 => format!("{{double={}}}", random_value(rng, 4)),
        9 => format!("{{map={{k1={}, k2={}}}}}", random_value(rng, depth + 1), random_value(rng, depth + 1)),
        10 => format!("{{set={{[{}]=true}}}}", random_value(rng, 4).replace("nil", "1")),
        _ => {
            let n = rng.usize(0..5);
            let items: Vec<String> = (0..n).map(|_| random_value(rng, depth + 1)).collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

#[test]
fn seeded_random_return_values_match_real_redis() {
    let mut rng = fastrand::Rng::with_seed(0x005e_ed1a);
    let bodies: Vec<&'static str> = (0..300)
        .map(|i| {
            let prefix = if i % 3 == 0 { "redis.setresp(3) " } else { "" };
            &*Box::leak(format!("{prefix}return {}", random_value(&mut rng, 0)).into_boxed_str())
        })
        .collect();
    let cases: &'static [Case] =
        Box::leak(bodies.into_iter().map(|b| (b, &[][..], &[][..])).collect::<Vec<Case>>().into_boxed_slice());
    assert_same(cases);
}
