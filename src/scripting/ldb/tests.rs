//! The debugger against a scripted client. The expected bytes are real Redis 7.0.15's (captured
//! with SCRIPT DEBUG SYNC; tests/it/scripting_ldb.rs compares live).

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;

use super::*;
use crate::scripting::tests::MapHost;
use crate::scripting::{EvalVm, Rand48, RunOptions};

/// A debugging client: what it sends, one read at a time, and what it got.
#[derive(Default)]
pub(crate) struct ScriptedClient {
    pub(crate) input: VecDeque<Vec<u8>>,
    pub(crate) output: Vec<u8>,
}

impl LdbIo for ScriptedClient {
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

fn resp(cmd: &str) -> Vec<u8> {
    let args: Vec<&str> = cmd.split(' ').collect();
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Runs `body` debugged with the commands (each one read; "RAW:" sends bytes as they are) and
/// returns what the client received and EVAL's reply.
fn debug_with(body: &str, host: &mut MapHost, commands: &[&str]) -> (String, Reply) {
    let mut client = ScriptedClient::default();
    for c in commands {
        client.input.push_back(match c.strip_prefix("RAW:") {
            Some(raw) => raw.as_bytes().to_vec(),
            None => resp(c),
        });
    }
    let mut vm = EvalVm::new(Arc::new(Mutex::new(Rand48::default()))).expect("vm");
    let reply = {
        let mut session = LdbSession::start(body.as_bytes(), 0, &mut client);
        let reply = match vm.compile(body.as_bytes()) {
            Ok(script) => {
                vm.run_debugged(&script.sha, &[b"k1", b"k2"], &[b"a1"], host, RunOptions::default(), &mut session)
            }
            Err(e) => e,
        };
        session.end();
        reply
    };
    (String::from_utf8_lossy(&client.output).into_owned(), reply)
}

fn debug(body: &str, commands: &[&str]) -> (String, Reply) {
    debug_with(body, &mut MapHost::default(), commands)
}

/// A log reply: the array of status lines.
fn arr(lines: &[&str]) -> String {
    let mut out = format!("*{}\r\n", lines.len());
    for l in lines {
        out.push('+');
        out.push_str(l);
        out.push_str("\r\n");
    }
    out
}

fn stop(line: usize, reason: &str, text: &str, bp: bool) -> String {
    arr(&[
        &format!("* Stopped at {line}, stop reason = {reason}"),
        &format!("->{}{line:<3} {text}", if bp { "#" } else { " " }),
    ])
}

const S1: &str = "local a = {1,2,3}\nlocal b = {x=1, y={z='hi\\n'}}\nredis.debug('x', a, b, nil, 1.5)\n\
redis.call('set','k','v')\nlocal c = redis.call('get','k')\nredis.breakpoint()\nlocal d = redis.pcall('nosuch')\n\
return c\n";

const S1_LINES: [&str; 8] = [
    "local a = {1,2,3}",
    "local b = {x=1, y={z='hi\\n'}}",
    "redis.debug('x', a, b, nil, 1.5)",
    "redis.call('set','k','v')",
    "local c = redis.call('get','k')",
    "redis.breakpoint()",
    "local d = redis.pcall('nosuch')",
    "return c",
];

fn listing(lines: &[usize], current: usize, bps: &[usize]) -> Vec<String> {
    lines
        .iter()
        .map(|&n| {
            let prefix = match (n == current, bps.contains(&n)) {
                (true, true) => "->#",
                (true, false) => "-> ",
                (false, true) => "  #",
                (false, false) => "   ",
            };
            format!("{prefix}{n:<3} {}", S1_LINES[n - 1])
        })
        .collect()
}

fn arr_owned(lines: &[String]) -> String {
    arr(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn stepping_printing_and_redis_logs() {
    let (out, reply) = debug(S1, &["s", "s", "p", "p b", "p KEYS", "p nope", "s", "s", "c", "c"]);
    let mut want = stop(1, "step over", S1_LINES[0], false);
    want += &stop(2, "step over", S1_LINES[1], false);
    want += &stop(3, "step over", S1_LINES[2], false);
    want += &arr(&["<value> a = {1; 2; 3}", "<value> b = {[\"y\"]={[\"z\"]=\"hi\\n\"}; [\"x\"]=1}"]);
    want += &arr(&["<value> {[\"y\"]={[\"z\"]=\"hi\\n\"}; [\"x\"]=1}"]);
    want += &arr(&["<value> {\"k1\"; \"k2\"}"]);
    want += &arr(&["No such variable."]);
    want += &arr(&[
        "<debug> line 3: \"x\", {1; 2; 3}, {[\"y\"]={[\"z\"]=\"hi\\n\"}; [\"x\"]=1}, nil, 1.5",
        "* Stopped at 4, stop reason = step over",
        "-> 4   redis.call('set','k','v')",
    ]);
    want += &arr(&[
        "<redis> set k v",
        "<reply> \"+OK\"",
        "* Stopped at 5, stop reason = step over",
        "-> 5   local c = redis.call('get','k')",
    ]);
    want += &stop(7, "redis.breakpoint() called", S1_LINES[6], false);
    want += &arr(&["<endsession>"]);
    assert_eq!(out, want);
    assert_eq!(reply, Reply::Bulk(b"v".to_vec()));
}

#[test]
fn list_whole_and_breakpoints() {
    let cmds = ["s", "s", "s", "s", "l", "w", "l 3 1", "b", "b 7", "b 7", "b -7", "b 0", "b 99 x 2", "b", "c"];
    let (out, _) = debug(S1, &cmds);
    let all: Vec<usize> = (1..=8).collect();
    // Only the part after the fifth stop is checked here: the stops are covered above.
    let after = out.split_once("+-> 5   local c = redis.call('get','k')\r\n").expect("fifth stop").1;
    let mut want = arr_owned(&listing(&all, 5, &[]));
    want += &arr_owned(&listing(&all, 5, &[]));
    want += &arr_owned(&listing(&[2, 3, 4], 5, &[]));
    want += &arr(&["No breakpoints set. Use 'b <line>' to add one."]);
    want += &arr_owned(&listing(&[6, 7, 8], 5, &[7]));
    want += &arr(&["Wrong line number."]);
    want += &arr(&["Breakpoint removed."]);
    want += &arr(&["All breakpoints removed."]);
    let mut mixed = vec!["Wrong line number.".to_string(), "Invalid argument:'x'".to_string()];
    mixed.extend(listing(&[1, 2, 3], 5, &[2]));
    want += &arr_owned(&mixed);
    let mut shown = vec!["1 breakpoints set:".to_string()];
    shown.extend(listing(&[2], 5, &[2]));
    want += &arr_owned(&shown);
    // The redis.breakpoint() on line 6 stops at 7.
    want += &stop(7, "redis.breakpoint() called", S1_LINES[6], false);
    want += &arr(&["<endsession>"]);
    assert_eq!(after, want);
}

#[test]
fn breakpoint_stops_and_removal_keeps_redis_memmove() {
    let (out, _) = debug(S1, &["b 2", "b 4", "b 5", "b -2", "b", "c", "c"]);
    let after = out.split_once("+-> 1   local a = {1,2,3}\r\n").expect("first stop").1;
    let mut want = arr_owned(&listing(&[1, 2, 3], 1, &[2]));
    want += &arr_owned(&listing(&[3, 4, 5], 1, &[2, 4]));
    want += &arr_owned(&listing(&[4, 5, 6], 1, &[2, 4, 5]));
    want += &arr(&["Breakpoint removed."]);
    // memmove of 2 bytes: [2,4,5] becomes [4,4] and 5 is lost.
    let mut shown = vec!["2 breakpoints set:".to_string()];
    shown.extend(listing(&[4, 4], 1, &[4]));
    want += &arr_owned(&shown);
    // redis.debug logs whenever a session is on, stepping or not.
    want += &arr(&[
        "<debug> line 3: \"x\", {1; 2; 3}, {[\"y\"]={[\"z\"]=\"hi\\n\"}; [\"x\"]=1}, nil, 1.5",
        "* Stopped at 4, stop reason = break point",
        "->#4   redis.call('set','k','v')",
    ]);
    want += &stop(7, "redis.breakpoint() called", S1_LINES[6], false);
    want += &arr(&["<endsession>"]);
    assert_eq!(after, want);
}

#[test]
fn trace_eval_redis_and_maxlen() {
    let mut host = MapHost::default();
    host.data.insert(b"k".to_vec(), b"v".to_vec());
    host.data.insert(b"big".to_vec(), vec![b'x'; 300]);
    let cmds = [
        "t",
        "e 1+1",
        "e x(",
        "e error('z')",
        "r get k",
        "r nosuch",
        "r incr k",
        "r",
        "m",
        "m 10",
        "r get big",
        "m 0",
        "r get big",
        "m -5",
        "foo",
        "a",
    ];
    let (out, reply) = debug_with("return 1\n", &mut host, &cmds);
    let mut want = arr(&["* Stopped at 1, stop reason = step over", "-> 1   return 1"]);
    want += &arr(&["In top level:", "-> 1   return 1"]);
    want += &arr(&["<retval> 2"]);
    want += &arr(&["<error> ldb_eval:1: unexpected symbol near '<eof>'"]);
    want += &arr(&["<error> ldb_eval:1: z"]);
    want += &arr(&["<redis> get k", "<reply> \"v\""]);
    want += &arr(&["<redis> nosuch", "<error> Unknown Redis command called from script"]);
    want += &arr(&[
        "<redis> incr k",
        "<error> -ERR value is not an integer or out of range",
        "<reply> \"-ERR value is not an integer or out of range\"",
    ]);
    want += &arr(&["<error> Unknown Redis Lua debugger command or wrong number of arguments."]);
    want += &arr(&["<value> replies are truncated at 256 bytes."]);
    want += &arr(&["<value> replies are truncated at 60 bytes."]);
    let cut = format!("<reply> \"{} ...", "x".repeat(51));
    want += &arr(&["<redis> get big", &cut]);
    want += &arr(&["<value> replies are unlimited."]);
    let whole = format!("<reply> \"{}\"", "x".repeat(300));
    want += &arr(&["<redis> get big", &whole]);
    want += &arr(&["<value> replies are truncated at 60 bytes."]);
    want += &arr(&["<error> Unknown Redis Lua debugger command or wrong number of arguments."]);
    want += &arr(&["<endsession>"]);
    assert_eq!(out, want);
    let sha = crate::scripting::sha1_hex(b"return 1\n");
    assert_eq!(reply, Reply::error(format!("ERR script aborted for user request script: {sha}, on @user_script:1.")));
}

#[test]
fn help_lists_every_command() {
    let (out, _) = debug("return 1", &["h", "c"]);
    let help = out.split("\r\n*").nth(1).expect("help reply");
    assert!(help.starts_with("30\r\n+Redis Lua debugger help:\r\n"), "{help}");
    assert!(help.contains("+[a]bort              Stop the execution of the script. In sync\r\n"));
    assert!(help.ends_with("+                     next line of code."), "{help}");
}

#[test]
fn values_as_redis_prints_them() {
    let body = "local s = 'a\\0b\\1\\255\"\\\\\\r\\t'\nlocal n = {1e20, 0.1, -0, 1/0, -1/0, 0/0, 123456789012}\n\
local t = {} t[1] = t\nlocal m = {1, 2, nil, 4}\nlocal long = string.rep('x', 300)\nlocal e = {}\nreturn 1\n";
    let (out, _) = debug(body, &["b 7", "c", "p", "p t", "c"]);
    let after = out.split_once("+->#7   return 1\r\n").expect("stop at 7").1;
    let long = format!("<value> long = \"{} ...", "x".repeat(256 - 16));
    let want = arr(&[
        "<value> s = \"a\\x00b\\x01\\xff\\\"\\\\\\r\\t\"",
        "<value> n = {1e+20; 0.1; -0; -inf; inf; -nan; 1.23457e+11}",
        "<value> t = {{{{{{{{{{<max recursion level reached! Nested table?>}}}}}}}}}}",
        "<value> m = {[1]=1; [2]=2; [4]=4}",
        &long,
        "<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.",
        "<value> e = {}",
    ]) + &arr(&["<value> {{{{{{{{{{<max recursion level reached! Nested table?>}}}}}}}}}}"])
        + &arr(&["<endsession>"]);
    assert_eq!(after, want);
    let (out, _) = debug("local f = redis.call\nreturn 1\n", &["s", "p", "c"]);
    assert!(out.contains("+<value> f = \"function@0x"), "{out}");
}

#[test]
fn protocol_errors_abort_the_script() {
    for (raw, line) in [("RAW:*0\r\n", 1), ("RAW:x\r\n", 1), ("RAW:*1\r\n$0\r\n\r\n", 1)] {
        let (out, reply) = debug("return 1\n", &[raw]);
        assert_eq!(out, stop(1, "step over", "return 1", false) + &arr(&["<endsession>"]));
        let sha = crate::scripting::sha1_hex(b"return 1\n");
        let want = format!("ERR protocol error script: {sha}, on @user_script:{line}.");
        assert_eq!(reply, Reply::error(want));
    }
}

#[test]
fn split_and_pipelined_commands() {
    // A pipelined second command is dropped; a command split over reads is waited for.
    let body = "local a = 1\nlocal b = 2\nlocal c = 3\nreturn 1\n";
    let (out, _) = debug(body, &["RAW:*1\r\n$1\r\ns\r\n*1\r\n$1\r\ns\r\n", "RAW:*1\r\n$1\r\n", "RAW:s\r\n", "c"]);
    let want = stop(1, "step over", "local a = 1", false)
        + &stop(2, "step over", "local b = 2", false)
        + &stop(3, "step over", "local c = 3", false)
        + &arr(&["<endsession>"]);
    assert_eq!(out, want);
}

#[test]
fn client_gone_lets_the_script_finish() {
    let body = "redis.call('set','k','v')\nredis.breakpoint()\nlocal x = 1\nreturn redis.call('get','k')\n";
    let (out, reply) = debug(body, &[]);
    // Breakpoints and stepping are off once the client is gone, but redis.breakpoint() still
    // stops (and finds the client gone again), as in Redis.
    let want = stop(1, "step over", "redis.call('set','k','v')", false)
        + &stop(3, "redis.breakpoint() called", "local x = 1", false)
        + &arr(&["<endsession>"]);
    assert_eq!(out, want);
    assert_eq!(reply, Reply::Bulk(b"v".to_vec()));
}

#[test]
fn outside_a_session_breakpoint_and_debug_do_nothing() {
    let mut vm = EvalVm::new(Arc::new(Mutex::new(Rand48::default()))).expect("vm");
    let reply =
        vm.eval_for_test(b"redis.debug('x') return {tostring(redis.breakpoint())}", &[], &[], &mut MapHost::default());
    assert_eq!(reply, Reply::Array(vec![Reply::bulk("false")]));
}

#[test]
fn compile_errors_end_the_session_first() {
    let (out, reply) = debug("return (", &["c"]);
    assert_eq!(out, arr(&["<endsession>"]));
    assert!(reply.is_error());
}

#[test]
fn refusals_are_told_from_command_errors() {
    assert_eq!(
        refusal_text("ERR Unknown Redis command called from script").as_deref(),
        Some(&b"Unknown Redis command called from script"[..])
    );
    assert_eq!(
        refusal_text("ERR The user executing the script can't run this command or subcommand").as_deref(),
        Some(&b"The user executing the script can't run this command or subcommand"[..])
    );
    assert_eq!(
        refusal_text("READONLY You can't write against a read only replica.").as_deref(),
        Some(&b"-READONLY You can't write against a read only replica.\r\n"[..])
    );
    assert_eq!(refusal_text("ERR value is not an integer or out of range"), None);
    assert_eq!(refusal_text("WRONGTYPE Operation against a key holding the wrong kind of value"), None);
}

#[test]
fn max_client_buffer_aborts_the_script() {
    // One command never complete: 1024 arguments of 1024 bytes, cut just past 1 MiB.
    let mut big = b"*1024\r\n".to_vec();
    while big.len() < (1 << 20) + 1 {
        big.extend_from_slice(b"$1024\r\n");
        big.extend_from_slice(&[b'x'; 1024]);
        big.extend_from_slice(b"\r\n");
    }
    big.truncate((1 << 20) + 1);
    let raw = String::from_utf8(big).expect("ascii");
    let (out, reply) = debug("return 1\n", &[&format!("RAW:{raw}")]);
    assert_eq!(out, stop(1, "step over", "return 1", false) + &arr(&["<endsession>"]));
    let sha = crate::scripting::sha1_hex(b"return 1\n");
    assert_eq!(reply, Reply::error(format!("ERR max client buffer reached script: {sha}, on @user_script:1.")));
}

#[test]
fn timeout_with_the_client_gone_kills_the_script() {
    let body = "local i = 0\nwhile true do i = i + 1 end\n";
    let mut client = ScriptedClient::default();
    client.input.push_back(resp("c"));
    let mut vm = EvalVm::new(Arc::new(Mutex::new(Rand48::default()))).expect("vm");
    let script = vm.compile(body.as_bytes()).expect("compiles");
    let reply = {
        let mut session = LdbSession::start(body.as_bytes(), 1, &mut client);
        let reply =
            vm.run_debugged(&script.sha, &[], &[], &mut MapHost::default(), RunOptions::default(), &mut session);
        session.end();
        reply
    };
    let out = String::from_utf8_lossy(&client.output).into_owned();
    let want = stop(1, "step over", "local i = 0", false)
        + &stop(2, "timeout reached, infinite loop?", "while true do i = i + 1 end", false)
        + &arr(&["<endsession>"]);
    assert_eq!(out, want);
    let want = format!(
        "ERR timeout during Lua debugging with client closing connection script: {}, on @user_script:2.",
        script.sha
    );
    assert_eq!(reply, Reply::error(want));
}

#[test]
fn eval_of_a_failing_redis_call_shows_its_error() {
    // Redis 7.0.15 crashes here (it formats the error table as a NULL string).
    let (out, _) = debug("return 1\n", &["e redis.call('nosuch')", "e error({})", "c"]);
    let after = out.split_once("+-> 1   return 1\r\n").expect("stop").1;
    assert_eq!(
        after,
        arr(&["<error> ERR Unknown Redis command called from script"]) + &arr(&["<error> "]) + &arr(&["<endsession>"])
    );
}
