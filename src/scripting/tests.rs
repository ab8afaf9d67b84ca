//! The engine alone, against a host answering a few commands from a HashMap. The exact texts
//! here are real Redis 7.0.15's (tests/it/scripting_engine.rs compares them live).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::*;

#[derive(Default)]
pub struct MapHost {
    pub data: HashMap<Vec<u8>, Vec<u8>>,
    pub repl: Option<ReplFlags>,
    pub kill_after: Option<u32>,
}

impl ScriptHost for MapHost {
    fn call(&mut self, argv: Vec<Vec<u8>>, resp: u8) -> Reply {
        let name = argv[0].to_ascii_lowercase();
        match (name.as_slice(), argv.len()) {
            (b"set", 3) => {
                self.data.insert(argv[1].clone(), argv[2].clone());
                Reply::OK
            }
            (b"get", 2) => self.data.get(&argv[1]).map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
            (b"incr", 2) => {
                let cur = self.data.get(&argv[1]).map_or(Some(0), |v| std::str::from_utf8(v).ok()?.parse::<i64>().ok());
                match cur {
                    Some(n) => {
                        self.data.insert(argv[1].clone(), (n + 1).to_string().into_bytes());
                        Reply::Int(n + 1)
                    }
                    None => Reply::error("ERR value is not an integer or out of range"),
                }
            }
            (b"hello3", _) => {
                Reply::Map(vec![(Reply::bulk("a"), Reply::Double(1.5)), (Reply::bulk("b"), Reply::Bool(true))])
            }
            (b"ping", 1) => Reply::status("PONG"),
            (b"resp", 1) => Reply::Int(resp as i64),
            (b"get" | b"set" | b"incr", _) => {
                Reply::error(format!("ERR wrong number of arguments for '{}' command", String::from_utf8_lossy(&name)))
            }
            _ => Reply::error("ERR Unknown Redis command called from script"),
        }
    }

    fn acl_check(&mut self, argv: &[Vec<u8>]) -> Option<bool> {
        match argv[0].to_ascii_lowercase().as_slice() {
            b"get" | b"set" => Some(true),
            b"flushall" => Some(false),
            _ => None,
        }
    }

    fn set_repl(&mut self, flags: ReplFlags) {
        self.repl = Some(flags);
    }

    fn should_kill(&mut self) -> bool {
        match &mut self.kill_after {
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        }
    }
}

pub fn vm() -> EvalVm {
    EvalVm::new(Arc::new(Mutex::new(Rand48::default()))).unwrap()
}

pub fn eval(vm: &mut EvalVm, body: &str) -> Vec<u8> {
    eval_resp(vm, body, 2)
}

pub fn eval_resp(vm: &mut EvalVm, body: &str, caller_resp: u8) -> Vec<u8> {
    let mut host = MapHost::default();
    let reply = vm.eval_with(
        body.as_bytes(),
        &[b"k1"],
        &[b"a1", b"a2"],
        &mut host,
        RunOptions { caller_resp, killable: false },
    );
    let mut out = Vec::new();
    reply.encode(caller_resp, &mut out);
    out
}

fn s(out: Vec<u8>) -> String {
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn return_values_convert_as_redis() {
    let mut vm = vm();
    assert_eq!(s(eval(&mut vm, "return 1")), ":1\r\n");
    assert_eq!(s(eval(&mut vm, "return 3.99")), ":3\r\n");
    assert_eq!(s(eval(&mut vm, "return -3.99")), ":-3\r\n");
    assert_eq!(s(eval(&mut vm, "return 'x'")), "$1\r\nx\r\n");
    assert_eq!(s(eval(&mut vm, "return true")), ":1\r\n");
    assert_eq!(s(eval(&mut vm, "return false")), "$-1\r\n");
    assert_eq!(s(eval(&mut vm, "return nil")), "$-1\r\n");
    assert_eq!(s(eval(&mut vm, "return {1,2,nil,4}")), "*2\r\n:1\r\n:2\r\n");
    assert_eq!(s(eval(&mut vm, "return {ok='fine'}")), "+fine\r\n");
    assert_eq!(s(eval(&mut vm, "return {err='My Error'}")), "-My Error\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.error_reply('boom')")), "-ERR boom\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.error_reply('-X y')")), "-X y\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.status_reply('S')")), "+S\r\n");
    assert_eq!(s(eval(&mut vm, "return {KEYS[1], ARGV[1], ARGV[2]}")), "*3\r\n$2\r\nk1\r\n$2\r\na1\r\n$2\r\na2\r\n");
    assert_eq!(s(eval(&mut vm, "return 0/0")), ":-9223372036854775808\r\n");
    assert_eq!(s(eval_resp(&mut vm, "return {double=1.5}", 3)), ",1.5\r\n");
    assert_eq!(s(eval_resp(&mut vm, "return {double=1.5}", 2)), "$3\r\n1.5\r\n");
    assert_eq!(s(eval_resp(&mut vm, "return {big_number='123'}", 3)), "(123\r\n");
    assert_eq!(s(eval_resp(&mut vm, "redis.setresp(3) return false", 3)), "#f\r\n");
    assert_eq!(s(eval_resp(&mut vm, "return {map={a=1}}", 3)), "%1\r\n$1\r\na\r\n:1\r\n");
    assert_eq!(s(eval_resp(&mut vm, "return {set={a=true}}", 3)), "~1\r\n$1\r\na\r\n");
    assert_eq!(s(eval_resp(&mut vm, "return {verbatim_string={format='txt', string='hi'}}", 3)), "=6\r\ntxt:hi\r\n");
    assert_eq!(s(eval_resp(&mut vm, "return {verbatim_string={format='x', string='hi'}}", 3)), "=6\r\nx  :hi\r\n");
}

#[test]
fn redis_call_and_pcall() {
    let mut vm = vm();
    assert_eq!(s(eval(&mut vm, "redis.call('set', KEYS[1], 5) return redis.call('incr', KEYS[1])")), ":6\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.call('get', 'nokey')")), "$-1\r\n");
    assert_eq!(s(eval(&mut vm, "return type(redis.call('get', 'nokey'))")), "$7\r\nboolean\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.call('ping')")), "+PONG\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.pcall('nosuch')")), "-ERR Unknown Redis command called from script\r\n");
    let body = "return redis.call('nosuch')";
    let sha = sha1_hex(body.as_bytes());
    assert_eq!(
        s(eval(&mut vm, body)),
        format!("-ERR Unknown Redis command called from script script: {sha}, on @user_script:1.\r\n")
    );
    assert_eq!(
        s(eval(&mut vm, "return redis.call()")),
        format!(
            "-ERR Please specify at least one argument for this redis lib call script: {}, on @user_script:1.\r\n",
            sha1_hex(b"return redis.call()")
        )
    );
    assert_eq!(
        s(eval(&mut vm, "return redis.pcall('get', {})")),
        "-ERR Lua redis lib command arguments must be strings or integers\r\n"
    );
    // pcall gives the error message string of an error table.
    assert_eq!(
        s(eval(&mut vm, "local ok, e = pcall(redis.call, 'nosuch') return e")),
        "$44\r\nERR Unknown Redis command called from script\r\n"
    );
    assert_eq!(s(eval(&mut vm, "redis.setresp(3) return redis.call('resp')")), ":3\r\n");
    assert_eq!(
        s(eval(&mut vm, "redis.setresp(3) return redis.call('hello3')")),
        "*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n:1\r\n"
    );
    assert_eq!(
        s(eval_resp(&mut vm, "redis.setresp(3) return redis.call('hello3')", 3)),
        "%2\r\n$1\r\na\r\n,1.5\r\n$1\r\nb\r\n#t\r\n"
    );
    assert_eq!(s(eval(&mut vm, "return redis.call('hello3')")), "*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n:1\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.acl_check_cmd('get','x')")), ":1\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.acl_check_cmd('flushall')")), "$-1\r\n");
    assert_eq!(s(eval(&mut vm, "return redis.sha1hex('')")), "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n");
}

#[test]
fn sandbox_errors() {
    let mut vm = vm();
    let body = "return x";
    assert_eq!(
        s(eval(&mut vm, body)),
        format!(
            "-ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: {}, on @user_script:1.\r\n",
            sha1_hex(body.as_bytes())
        )
    );
    let body = "x = 1";
    assert_eq!(
        s(eval(&mut vm, body)),
        format!(
            "-ERR user_script:1: Attempt to modify a readonly table script: {}, on @user_script:1.\r\n",
            sha1_hex(body.as_bytes())
        )
    );
    for lib in ["os", "io", "loadfile", "dofile", "print", "require", "module", "newproxy", "getfenv"] {
        let body = format!("return type({lib})");
        assert!(s(eval(&mut vm, &body)).contains("nonexistent global variable"), "{lib}");
    }
    for lib in ["cjson", "cmsgpack", "struct", "bit", "string", "table", "math", "redis"] {
        assert_eq!(s(eval(&mut vm, &format!("return type({lib})"))), "$5\r\ntable\r\n", "{lib}");
    }
    assert!(s(eval(&mut vm, "return 'x' x")).starts_with("-ERR Error compiling script (new function): user_script:1:"));
    assert_eq!(s(eval(&mut vm, "#!lua flags=bad\nreturn 1")), "-ERR Unexpected flag in script shebang: bad\r\n");
    assert_eq!(s(eval(&mut vm, "#!lua flags=no-writes\nreturn 1")), ":1\r\n");
    assert!(s(eval(&mut vm, "redis.call = nil")).contains("Attempt to modify a readonly table"));
    assert!(s(eval(&mut vm, "string.len = nil")).contains("Attempt to modify a readonly table"));
}

#[test]
fn libraries_work() {
    let mut vm = vm();
    assert_eq!(s(eval(&mut vm, "return cjson.encode({1,2,3})")), "$7\r\n[1,2,3]\r\n");
    assert_eq!(s(eval(&mut vm, "return cjson.decode('[1,2,{\"a\":5}]')[3].a")), ":5\r\n");
    assert_eq!(s(eval(&mut vm, "return cjson.encode(0.1)")), "$3\r\n0.1\r\n");
    assert_eq!(s(eval(&mut vm, "return cmsgpack.unpack(cmsgpack.pack({1,'a'}))[2]")), "$1\r\na\r\n");
    assert_eq!(s(eval(&mut vm, "return struct.unpack('>I2', struct.pack('>I2', 258))")), ":258\r\n");
    assert_eq!(s(eval(&mut vm, "return bit.band(0xff, 0x0f)")), ":15\r\n");
    assert_eq!(s(eval(&mut vm, "return bit.tohex(255)")), "$8\r\n000000ff\r\n");
}

#[test]
fn random_is_redis_sequence() {
    let mut vm = vm();
    let first = s(eval(&mut vm, "return {math.random(1000), math.random(1000), tostring(math.random())}"));
    let mut other = super::tests::vm();
    assert_eq!(first, s(eval(&mut other, "return {math.random(1000), math.random(1000), tostring(math.random())}")));
    // The generator runs on across scripts, as in Redis 7.0 (no reseed per script).
    let second = s(eval(&mut vm, "return {math.random(1000), math.random(1000), tostring(math.random())}"));
    assert_ne!(first, second);
    assert_eq!(
        s(eval(
            &mut vm,
            "math.randomseed(7) local a = math.random(100) math.randomseed(7) return a == math.random(100)"
        )),
        ":1\r\n"
    );
}

#[test]
fn set_repl_and_kill() {
    let mut vm = vm();
    let mut host = MapHost::default();
    vm.eval_for_test(b"redis.set_repl(redis.REPL_AOF)", &[], &[], &mut host);
    assert_eq!(host.repl, Some(ReplFlags { aof: true, replicas: false }));
    let mut host = MapHost { kill_after: Some(2), ..MapHost::default() };
    let reply = vm.eval_with(
        b"local i = 0 while true do pcall(function() i = i + 1 end) end",
        &[],
        &[],
        &mut host,
        RunOptions { caller_resp: 2, killable: true },
    );
    let mut out = Vec::new();
    reply.encode(2, &mut out);
    assert!(s(out).starts_with("-ERR Script killed by user with SCRIPT KILL... script:"));
}

#[test]
fn noscript_and_has_script() {
    let mut vm = vm();
    let mut host = MapHost::default();
    let sha = sha1_hex(b"return 1");
    assert!(!vm.has_script(&sha));
    assert!(
        matches!(vm.run(&sha, &[], &[], &mut host, RunOptions::default()), Reply::Error(e) if e.starts_with("NOSCRIPT"))
    );
    vm.compile(b"return 1").unwrap();
    assert!(vm.has_script(&sha.to_uppercase()));
    assert_eq!(vm.run(&sha, &[], &[], &mut host, RunOptions::default()), Reply::Int(1));
}

#[test]
fn function_libraries_load_and_call() {
    let mut vm = FunctionVm::new(Arc::new(Mutex::new(Rand48::default()))).unwrap();
    let meta = parse_library_metadata(
        b"#!lua name=mylib\nredis.register_function('f', function(keys, args) return {keys[1], args[1]} end)\n\
          redis.register_function{function_name='g', callback=function() return x end, flags={'no-writes', 'ALLOW-OOM'}, description='d'}",
    )
    .unwrap();
    assert_eq!(meta.name, b"mylib");
    assert_eq!(meta.engine, b"lua");
    let functions = vm.load_library(&meta.code, std::time::Duration::from_millis(500)).unwrap();
    assert_eq!(functions.len(), 2);
    assert_eq!(functions[1].description.as_deref(), Some(&b"d"[..]));
    assert!(functions[1].flags.no_writes && functions[1].flags.allow_oom);
    let mut host = MapHost::default();
    let reply = vm.call(functions[0].handle, "f", &[b"k"], &[b"a"], &mut host, RunOptions::default());
    assert_eq!(reply, Reply::Array(vec![Reply::bulk("k"), Reply::bulk("a")]));
    let reply = vm.call(functions[1].handle, "g", &[], &[], &mut host, RunOptions::default());
    assert_eq!(
        reply,
        Reply::error(
            "ERR user_function:3: Script attempted to access nonexistent global variable 'x' script: g, on @user_function:3."
        )
    );
    assert_eq!(
        vm.load_library(b"\nreturn 1", std::time::Duration::from_millis(500)).unwrap_err(),
        "No functions registered"
    );
    assert_eq!(
        vm.load_library(b"\nredis.register_function('a-b', function() end)", std::time::Duration::from_millis(500))
            .unwrap_err(),
        "Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
    );
    assert_eq!(parse_library_metadata(b"return 1").unwrap_err(), "Missing library metadata");
    assert_eq!(parse_library_metadata(b"#!lua\n").unwrap_err(), "Library name was not given");
}

#[test]
fn self_referencing_table_converts_to_lua_stack_limit() {
    // Real Redis nests arrays until Lua's stack is full, then an error (the differential test
    // compares the bytes); here: no overflow of a 2 MB thread stack, converting or encoding.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut vm = vm();
            let mut host = MapHost::default();
            let reply = vm.eval_for_test(b"local t = {} t[1] = t return t", &[], &[], &mut host);
            let mut out = Vec::new();
            reply.encode(2, &mut out);
            assert!(out.ends_with(b"-ERR reached lua stack limit\r\n"));
            assert!(out.len() > 4 * 7000);
        })
        .unwrap()
        .join()
        .unwrap();
}
