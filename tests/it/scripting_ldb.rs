//! The Lua debugger (SCRIPT DEBUG) against Debian's redis-server 7.0.15: each case runs a script
//! under `SCRIPT DEBUG SYNC` on the real server, sending the debugger commands one at a time
//! over a raw socket and keeping every byte that comes back until the server closes the
//! connection; then the same script and commands go through our `LdbSession` with a scripted
//! client, and the bytes (the stops and logs, "<endsession>", EVAL's reply) must be identical.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use redis_rs::scripting::{EvalVm, LdbIo, LdbSession, Rand48, RunOptions};

use crate::common::{encode, show_bytes, Server};
use crate::scripting_engine::MapHost;

/// One debugger input: a command (split on spaces), or raw bytes, or raw bytes sent with the
/// next input without waiting for an answer in between.
enum Input {
    Cmd(&'static str),
    Raw(&'static [u8]),
    RawPart(&'static [u8]),
    RawOwned(Vec<u8>),
}
use Input::{Cmd, Raw, RawOwned, RawPart};

impl Input {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Cmd(c) => encode(&c.split(' ').map(str::as_bytes).collect::<Vec<_>>()),
            Raw(b) | RawPart(b) => b.to_vec(),
            RawOwned(b) => b.clone(),
        }
    }
}

struct Case {
    name: &'static str,
    body: &'static str,
    keys: &'static [&'static str],
    args: &'static [&'static str],
    inputs: Vec<Input>,
}

/// The end of the one RESP array of status lines at the start of `buf`, if it is all there.
fn status_array_end(buf: &[u8]) -> Option<usize> {
    let first = buf.windows(2).position(|w| w == b"\r\n")?;
    if buf.first() != Some(&b'*') {
        return None;
    }
    let n: usize = std::str::from_utf8(&buf[1..first]).ok()?.parse().ok()?;
    let mut pos = first + 2;
    for _ in 0..n {
        pos += buf[pos..].windows(2).position(|w| w == b"\r\n")? + 2;
    }
    Some(pos)
}

/// Runs the case on the real server: everything received after SCRIPT DEBUG's +OK.
fn real_bytes(server: &Server, case: &Case) -> Vec<u8> {
    let mut admin = server.client();
    admin.send_raw(&encode(&[b"FLUSHALL"]));
    admin.read_reply();
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    s.write_all(&encode(&[b"SCRIPT", b"DEBUG", b"SYNC"])).expect("send");
    let mut ok = [0u8; 5];
    s.read_exact(&mut ok).expect("+OK");
    assert_eq!(&ok, b"+OK\r\n");
    let mut eval: Vec<&[u8]> = vec![b"EVAL", case.body.as_bytes()];
    let numkeys = case.keys.len().to_string();
    eval.push(numkeys.as_bytes());
    eval.extend(case.keys.iter().map(|k| k.as_bytes()));
    eval.extend(case.args.iter().map(|a| a.as_bytes()));

    let mut got = Vec::new();
    let mut ended = false;
    // Reads one answer: a status array, or, once the session ends, everything to the close.
    let read_answer = |s: &mut TcpStream, got: &mut Vec<u8>, ended: &mut bool| {
        let start = got.len();
        let mut buf = [0u8; 4096];
        loop {
            if !*ended {
                if let Some(end) = status_array_end(&got[start..]) {
                    if got[start..start + end].ends_with(b"+<endsession>\r\n") {
                        *ended = true;
                    } else if got.len() == start + end {
                        return;
                    }
                }
            }
            match s.read(&mut buf) {
                Ok(0) => {
                    assert!(*ended, "{}: connection closed before <endsession>", case.name);
                    return;
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("{}: read: {e} after {}", case.name, show_bytes(got, 2000)),
            }
        }
    };
    s.write_all(&encode(&eval)).expect("send EVAL");
    read_answer(&mut s, &mut got, &mut ended);
    for input in &case.inputs {
        if ended {
            break;
        }
        s.write_all(&input.bytes()).expect("send");
        if !matches!(input, RawPart(_)) {
            read_answer(&mut s, &mut got, &mut ended);
        }
    }
    assert!(ended, "{}: the script did not end with the inputs given", case.name);
    got
}

/// The debugging client of our side: each input is one read.
struct Scripted {
    input: VecDeque<Vec<u8>>,
    output: Vec<u8>,
}

impl LdbIo for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        let Some(mut chunk) = self.input.pop_front() else { return 0 };
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.input.push_front(chunk.split_off(n));
        }
        n
    }

    fn write(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
}

fn our_bytes(case: &Case, busy_reply_threshold_ms: u64) -> Vec<u8> {
    let mut client = Scripted { input: VecDeque::new(), output: Vec::new() };
    let mut pending = Vec::new();
    for input in &case.inputs {
        pending.extend_from_slice(&input.bytes());
        if !matches!(input, RawPart(_)) {
            client.input.push_back(std::mem::take(&mut pending));
        }
    }
    let keys: Vec<&[u8]> = case.keys.iter().map(|k| k.as_bytes()).collect();
    let args: Vec<&[u8]> = case.args.iter().map(|a| a.as_bytes()).collect();
    let mut vm = EvalVm::new(Arc::new(Mutex::new(Rand48::default()))).expect("vm");
    let mut host = MapHost::default();
    let reply = {
        let mut session = LdbSession::start(case.body.as_bytes(), busy_reply_threshold_ms, &mut client);
        let reply = match vm.compile(case.body.as_bytes()) {
            Ok(script) => vm.run_debugged(&script.sha, &keys, &args, &mut host, RunOptions::default(), &mut session),
            Err(e) => e,
        };
        session.end();
        reply
    };
    let mut out = client.output;
    reply.encode(2, &mut out);
    out
}

const STEPPING: &str = "local a = {1,2,3}\nlocal b = {x=1, y={z='hi\\n'}}\nredis.debug('x', a, b, nil, 1.5)\n\
redis.call('set','k','v')\nlocal c = redis.call('get','k')\nredis.breakpoint()\nlocal d = redis.pcall('nosuch')\n\
return c\n";

const VALUES: &str =
    "local s = 'a\\0b\\1\\255\"\\\\\\r\\t'\nlocal n = {1e20, 0.1, -0, 1/0, -1/0, 0/0, 123456789012, -2.5}\n\
local t = {} t[1] = t\nlocal m = {1, 2, nil, 4}\nlocal long = string.rep('x', 300)\nlocal e = {}\n\
local mixed = {1, 2, k='v', [10]=true}\nreturn 1\n";

const ERRORS: &str = "redis.call('set','k','x')\nlocal e1 = redis.pcall('incr','k')\nlocal e2 = redis.pcall('get')\n\
local e3 = redis.pcall('nosuch', 1)\nlocal e4 = redis.pcall()\nlocal e5 = redis.error_reply('My err')\n\
local e6 = redis.pcall('nosuch', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l')\n\
redis.setresp(3)\nredis.call('hset','h','f','v')\nlocal m = redis.call('hgetall','h')\n\
local n = redis.call('get','missing')\nreturn redis.call('incr','k')\n";

const FUNCTIONS: &str = "local function inner(x)\n  local y = x * 2\n  return y\nend\n\
local function outer(x)\n  return inner(x) + 1\nend\nlocal r = outer(20)\nreturn r\n";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "stepping, printing, redis.debug, redis.breakpoint",
            body: STEPPING,
            keys: &["k1", "k2"],
            args: &["a1"],
            inputs: vec![
                Cmd("s"),
                Cmd("next"),
                Cmd("p"),
                Cmd("p b"),
                Cmd("print KEYS"),
                Cmd("p ARGV"),
                Cmd("p nope"),
                Cmd("p a b"),
                Cmd("S"),
                Cmd("s"),
                Cmd("c"),
                Cmd("s"),
                Cmd("s"),
            ],
        },
        Case {
            name: "list, whole, break, trace, eval, redis, maxlen, help",
            body: STEPPING,
            keys: &[],
            args: &[],
            inputs: vec![
                Cmd("s"),
                Cmd("s"),
                Cmd("s"),
                Cmd("s"),
                Cmd("l"),
                Cmd("list 0"),
                Cmd("l 3 1"),
                Cmd("l 8 0"),
                Cmd("l 2 -1"),
                Cmd("l x"),
                Cmd("w"),
                Cmd("b"),
                Cmd("b 7"),
                Cmd("b 7"),
                Cmd("b -7"),
                Cmd("b -7"),
                Cmd("b 0"),
                Cmd("b 99 x 2 +3 03"),
                Cmd("break"),
                Cmd("b 3 4 5"),
                Cmd("b -3"),
                Cmd("b"),
                Cmd("t"),
                Cmd("e 1+1"),
                Cmd("eval local x = 5"),
                Cmd("e x("),
                Cmd("e error('z')"),
                Cmd("e {1, 'two', {3}}"),
                Cmd("e a"),
                Cmd("r get k"),
                Cmd("redis set n 1"),
                Cmd("r incr n"),
                Cmd("r nosuch"),
                Cmd("r get"),
                Cmd("r"),
                Cmd("m"),
                Cmd("m 10"),
                Cmd("maxlen 0"),
                Cmd("m 100"),
                Cmd("h"),
                Cmd("help"),
                Cmd("foo"),
                Cmd("c"),
                Cmd("c"),
            ],
        },
        Case {
            name: "the value printer and maxlen",
            body: VALUES,
            keys: &[],
            args: &[],
            inputs: vec![
                Cmd("b 8"),
                Cmd("c"),
                Cmd("p"),
                Cmd("p t"),
                Cmd("p long"),
                Cmd("m 0"),
                Cmd("p long"),
                Cmd("m 70"),
                Cmd("p n"),
                Cmd("e string.rep('y', 200)"),
                Cmd("c"),
            ],
        },
        Case {
            name: "errors and replies logged while stepping, RESP3",
            body: ERRORS,
            keys: &[],
            args: &[],
            inputs: (0..13).map(|_| Cmd("s")).collect(),
        },
        Case {
            name: "errors and replies not logged on continue",
            body: ERRORS,
            keys: &[],
            args: &[],
            inputs: vec![Cmd("c")],
        },
        Case {
            name: "frames: trace and print in a function",
            body: FUNCTIONS,
            keys: &[],
            args: &[],
            inputs: vec![
                Cmd("b 3"),
                Cmd("c"),
                Cmd("t"),
                Cmd("p"),
                Cmd("p x"),
                Cmd("p r"),
                Cmd("s"),
                Cmd("s"),
                Cmd("t"),
                Cmd("c"),
            ],
        },
        Case { name: "abort", body: STEPPING, keys: &[], args: &[], inputs: vec![Cmd("s"), Cmd("s"), Cmd("a")] },
        Case {
            name: "a runtime error ends the session",
            body: "local x = 1\nerror('boom')\n",
            keys: &[],
            args: &[],
            inputs: vec![Cmd("s"), Cmd("s")],
        },
        Case { name: "a compile error", body: "return (", keys: &[], args: &[], inputs: vec![] },
        Case { name: "protocol error: no array", body: STEPPING, keys: &[], args: &[], inputs: vec![Raw(b"PING\r\n")] },
        Case {
            name: "protocol error: empty array",
            body: STEPPING,
            keys: &[],
            args: &[],
            inputs: vec![Raw(b"*0\r\n")],
        },
        Case {
            name: "protocol error: too many arguments",
            body: STEPPING,
            keys: &[],
            args: &[],
            inputs: vec![Raw(b"*1025\r\n")],
        },
        Case {
            name: "protocol error: empty argument",
            body: STEPPING,
            keys: &[],
            args: &[],
            inputs: vec![Raw(b"*1\r\n$0\r\n\r\n")],
        },
        Case {
            name: "protocol error: bad argument end",
            body: STEPPING,
            keys: &[],
            args: &[],
            inputs: vec![Raw(b"*1\r\n$1\r\nsx\r\n")],
        },
        Case {
            name: "split command, garbage skipped, pipelined command dropped",
            body: STEPPING,
            keys: &[],
            args: &[],
            inputs: vec![
                RawPart(b"*1\r\n$1"),
                Raw(b"\r\ns\r\n"),
                Raw(b"junk*1\r\n$1\r\ns\r\n*1\r\n$1\r\ns\r\n"),
                Cmd("c"),
                Cmd("c"),
            ],
        },
        Case {
            name: "the busy threshold stops an endless loop",
            body: "local i = 0\nwhile true do i = i + 1 end\n",
            keys: &[],
            args: &[],
            inputs: vec![Cmd("c"), Cmd("l"), Cmd("a")],
        },
        Case {
            name: "max client buffer",
            body: STEPPING,
            keys: &[],
            args: &[],
            inputs: vec![RawOwned(unfinished_command_past_1mib())],
        },
        Case {
            name: "a shebang line, CRLF line ends",
            body: "#!lua flags=no-writes\r\nlocal x = 1\r\nlocal y = 2\r\nreturn x + y\r\n\r\n",
            keys: &[],
            args: &[],
            inputs: vec![Cmd("l"), Cmd("b 3"), Cmd("c"), Cmd("w"), Cmd("s"), Cmd("s")],
        },
        Case { name: "an empty script", body: "\n\n", keys: &[], args: &[], inputs: vec![Cmd("l"), Cmd("c")] },
    ]
}

/// 1024 arguments of 1024 bytes, cut one byte past 1 MiB: the server reads it all (nothing is
/// left unread to reset the connection) and gives up on the last read.
fn unfinished_command_past_1mib() -> Vec<u8> {
    let mut big = b"*1024\r\n".to_vec();
    while big.len() <= 1 << 20 {
        big.extend_from_slice(b"$1024\r\n");
        big.extend_from_slice(&[b'x'; 1024]);
        big.extend_from_slice(b"\r\n");
    }
    big.truncate((1 << 20) + 1);
    big
}

#[test]
fn debugger_sessions_byte_for_byte_as_real_redis() {
    // A short busy threshold makes the timeout case quick on both sides.
    let server = Server::start_real(&["--busy-reply-threshold", "200"]);
    let mut failures = Vec::new();
    for case in cases() {
        let real = real_bytes(&server, &case);
        let ours = our_bytes(&case, 200);
        let real = mask_pointers(&real);
        let ours = mask_pointers(&ours);
        if real != ours {
            failures.push(format!(
                "{}:\n  real: {}\n  ours: {}",
                case.name,
                show_bytes(&real, 100_000),
                show_bytes(&ours, 100_000)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Addresses ("function@0x55d0...") differ between processes: masked on both sides.
fn mask_pointers(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"@0x") {
            out.extend_from_slice(b"@0x?");
            i += 3;
            while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                i += 1;
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
