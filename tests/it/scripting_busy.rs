//! A script running past busy-reply-threshold (lua-time-limit), on Debian's real Redis 7.0 and on
//! ours at once: what other clients are answered while it runs (-BUSY, except the few commands
//! Redis lets through), SCRIPT KILL and FUNCTION KILL, UNKILLABLE after a write, SHUTDOWN NOSAVE,
//! and the server afterwards. Every reply is recorded byte for byte in a transcript; the two
//! transcripts must be equal, and the real one must show what Redis is known to answer, so that a
//! scenario that went wrong on both sides still fails. Waits poll (PING until -BUSY), never sleep.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use crate::common::{encode, show_bytes, wait_for, Client, Reply, Server};
use crate::differential_support::mask_field;

const BUSY_EVAL: &str = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const BUSY_FCALL: &str =
    "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";
const NOTBUSY: &str = "-NOTBUSY No scripts in execution right now.\r\n";
const UNKILLABLE: &str = "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can \
                          either wait the script termination or kill the server in a hard way using the SHUTDOWN \
                          NOSAVE command.\r\n";

/// Functions that never end: one pure, one after a write.
const LIBRARY: &str = "#!lua name=busylib\n\
                       redis.register_function('spin', function() while true do end end)\n\
                       redis.register_function('spin_after_write', function(keys)\n\
                       redis.call('set', keys[1], 'written')\n\
                       while true do end\n\
                       end)";

/// What one implementation answered, step by step.
#[derive(Default)]
struct Transcript {
    steps: Vec<(String, String)>,
}

impl Transcript {
    fn note(&mut self, step: &str, answer: impl Into<String>) {
        self.steps.push((step.to_string(), answer.into()));
    }

    /// Sends a command on `c` and records its raw reply under `who: command line`.
    fn cmd(&mut self, who: &str, c: &mut Client, args: &[&str]) -> Vec<u8> {
        self.cmd_as(&format!("{who}: {}", args.join(" ")), c, args)
    }

    /// The same under a step name of its own (for long arguments).
    fn cmd_as(&mut self, step: &str, c: &mut Client, args: &[&str]) -> Vec<u8> {
        let reply = c.cmd(args);
        self.note(step, show(&reply));
        reply
    }

    /// Records the next reply on `c` (the answer to a command sent earlier), or how it ended.
    fn read(&mut self, step: &str, c: &mut Client) {
        let answer = match c.try_read_reply() {
            Ok(reply) => show(&reply),
            Err(e) => ended(e.kind()),
        };
        self.note(step, answer);
    }

    /// The answers recorded under `step`, in order.
    fn all(&self, step: &str) -> Vec<&str> {
        let found: Vec<&str> = self.steps.iter().filter(|(s, _)| s == step).map(|(_, a)| a.as_str()).collect();
        assert!(!found.is_empty(), "no step {step:?} in the transcript");
        found
    }

    /// The answer to the last step of that name.
    fn get(&self, step: &str) -> &str {
        self.all(step).last().copied().unwrap_or_default()
    }

    /// Asserts that real Redis answered the last `step` with `expected`: the scenario did what it
    /// meant to.
    fn expect(&self, step: &str, expected: &str) {
        assert_eq!(self.get(step), show(expected.as_bytes()), "real Redis's answer to {step:?}");
    }

    /// The same for the first step of that name.
    fn expect_first(&self, step: &str, expected: &str) {
        assert_eq!(self.all(step)[0], show(expected.as_bytes()), "real Redis's first answer to {step:?}");
    }
}

fn show(reply: &[u8]) -> String {
    show_bytes(reply, usize::MAX)
}

/// A connection that ended instead of answering: closed (what SHUTDOWN NOSAVE does) or silent.
fn ended(kind: ErrorKind) -> String {
    match kind {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => "<no reply within the read timeout>".into(),
        _ => "<connection closed without a reply>".into(),
    }
}

/// Runs a scenario on real Redis and on ours at once and requires equal transcripts; returns the
/// real one for the scenario's own expectations.
fn on_both(args: &[&str], scenario: impl Fn(&mut Server) -> Transcript + Sync) -> Transcript {
    let (real, ours) = std::thread::scope(|s| {
        let real = s.spawn(|| scenario(&mut Server::start_real(args)));
        let ours = s.spawn(|| scenario(&mut Server::start(args)));
        (real.join().expect("the scenario on real Redis"), ours.join().expect("the scenario on ours"))
    });
    let mut diffs = Vec::new();
    for i in 0..real.steps.len().max(ours.steps.len()) {
        let (r, o) = (real.steps.get(i), ours.steps.get(i));
        if r != o {
            diffs.push(format!("step {i}\n      real: {r:?}\n      ours: {o:?}"));
        }
    }
    assert!(diffs.is_empty(), "{} difference(s) from real Redis:\n  {}", diffs.len(), diffs.join("\n  "));
    real
}

/// Polls with PING on `c` until the server answers -BUSY (the script passed the threshold);
/// returns that reply.
fn wait_busy(c: &mut Client) -> Vec<u8> {
    let mut last = Vec::new();
    wait_for("the script to pass busy-reply-threshold", Duration::from_secs(20), || {
        last = c.cmd(&["PING"]);
        last.starts_with(b"-BUSY")
    });
    last
}

/// Sends a command without waiting for its reply (the script that will keep the server busy).
fn start(c: &mut Client, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_raw(&encode(&args));
}

/// FUNCTION STATS with the running script's duration_ms masked (it depends on timing).
fn function_stats(t: &mut Transcript, who: &str, c: &mut Client) {
    let mut stats = Reply::parse(&c.cmd(&["FUNCTION", "STATS"]));
    if let Reply::Array(items) = &mut stats {
        if let Some(Reply::Array(running)) = items.get_mut(1) {
            for i in 0..running.len().saturating_sub(1) {
                if running[i] == Reply::bulk_of("duration_ms") && matches!(running[i + 1], Reply::Int(_)) {
                    running[i + 1] = Reply::status("<duration_ms>");
                }
            }
        }
    }
    t.note(&format!("{who}: FUNCTION STATS"), show(&stats.encode()));
}

/// A busy EVAL: everything but the allowed commands gets the EVAL flavour of -BUSY (FUNCTION
/// STATS and FUNCTION KILL too), pipelines get one reply per command, a connection opened
/// meanwhile is served, SCRIPT KILL ends the script with an error for its caller, and the data
/// from before is intact.
fn busy_eval_scenario(server: &mut Server) -> Transcript {
    let mut t = Transcript::default();
    let (mut a, mut b) = (server.client(), server.client());
    t.cmd("b", &mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    t.cmd("b", &mut b, &["SET", "k", "before"]);
    t.cmd("b", &mut b, &["SCRIPT", "KILL"]);
    t.cmd("b", &mut b, &["FUNCTION", "KILL"]);

    start(&mut a, &["EVAL", "while true do end", "0"]);
    t.note("b: PING until -BUSY", show(&wait_busy(&mut b)));
    t.cmd("b", &mut b, &["GET", "k"]);
    t.cmd("b", &mut b, &["SET", "k", "during"]);
    function_stats(&mut t, "b", &mut b);
    t.cmd("b", &mut b, &["FUNCTION", "KILL"]);
    t.cmd("b", &mut b, &["CLIENT", "ID"]);
    t.cmd("b", &mut b, &["SHUTDOWN"]);
    t.cmd("b", &mut b, &["SHUTDOWN", "SAVE"]);

    // A transaction: MULTI is let through, the queued command is refused, EXEC aborts.
    t.cmd("b", &mut b, &["MULTI"]);
    t.cmd("b", &mut b, &["SET", "x", "1"]);
    t.cmd("b", &mut b, &["EXEC"]);
    t.cmd("b", &mut b, &["MULTI"]);
    t.cmd("b", &mut b, &["DISCARD"]);
    t.cmd("b", &mut b, &["WATCH", "k"]);
    t.cmd("b", &mut b, &["UNWATCH"]);
    t.cmd("b", &mut b, &["AUTH", "nopass"]);

    // A pipeline: one reply per command, in order.
    b.send_raw(
        &[encode(&[b"PING"]), encode(&[b"GET", b"k"]), encode(&[b"SET", b"y", b"1"]), encode(&[b"MULTI"])].concat(),
    );
    for step in ["pipeline PING", "pipeline GET k", "pipeline SET y 1", "pipeline MULTI"] {
        t.read(&format!("b: {step}"), &mut b);
    }
    t.cmd("b", &mut b, &["DISCARD"]);

    // A connection opened while the script runs is accepted and answered.
    let mut c = server.client();
    t.cmd("c (new)", &mut c, &["PING"]);
    t.cmd("c (new)", &mut c, &["SCRIPT", "EXISTS", "x"]);

    t.cmd("b", &mut b, &["SCRIPT", "KILL"]);
    t.read("a: EVAL while true do end", &mut a);
    t.cmd("b", &mut b, &["SCRIPT", "KILL"]);
    t.cmd("b", &mut b, &["PING"]);
    t.cmd("a", &mut a, &["PING"]);
    t.cmd("c (new)", &mut c, &["PING"]);
    t.cmd("b", &mut b, &["GET", "k"]);
    t.cmd("b", &mut b, &["EXISTS", "x", "y"]);
    t
}

#[test]
fn busy_eval_as_real_redis() {
    let t = on_both(&[], busy_eval_scenario);
    t.expect_first("b: SCRIPT KILL", NOTBUSY);
    t.expect_first("b: FUNCTION KILL", NOTBUSY);
    t.expect("b: PING until -BUSY", BUSY_EVAL);
    t.expect_first("b: GET k", BUSY_EVAL);
    t.expect("b: FUNCTION STATS", BUSY_EVAL);
    t.expect("b: FUNCTION KILL", BUSY_EVAL);
    t.expect("b: SCRIPT KILL", NOTBUSY);
    t.expect("b: PING", "+PONG\r\n");
    t.expect("b: SHUTDOWN", BUSY_EVAL);
    t.expect("b: EXEC", &format!("-EXECABORT Transaction discarded because of: {}", &BUSY_EVAL[1..]));
    t.expect("b: pipeline SET y 1", BUSY_EVAL);
    t.expect_first("c (new): PING", BUSY_EVAL);
    t.expect("c (new): PING", "+PONG\r\n");
    t.expect(
        "a: EVAL while true do end",
        "-ERR Script killed by user with SCRIPT KILL... script: 694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7, on \
         @user_script:1.\r\n",
    );
    t.expect("b: GET k", "$6\r\nbefore\r\n");
    t.expect("b: EXISTS x y", ":0\r\n");
}

/// A busy FCALL (threshold set through its old name, lua-time-limit): the FUNCTION flavour of
/// -BUSY, FUNCTION STATS lets the caller see the running function, SCRIPT KILL is refused,
/// FUNCTION KILL ends it.
fn busy_fcall_scenario(server: &mut Server) -> Transcript {
    let mut t = Transcript::default();
    let (mut a, mut b) = (server.client(), server.client());
    t.cmd("b", &mut b, &["CONFIG", "SET", "lua-time-limit", "100"]);
    t.cmd("b", &mut b, &["CONFIG", "GET", "busy-reply-threshold"]);
    t.cmd_as("b: FUNCTION LOAD busylib", &mut b, &["FUNCTION", "LOAD", LIBRARY]);
    t.cmd("b", &mut b, &["SET", "k", "before"]);

    start(&mut a, &["FCALL", "spin", "0"]);
    t.note("b: PING until -BUSY", show(&wait_busy(&mut b)));
    function_stats(&mut t, "b", &mut b);
    t.cmd("b", &mut b, &["FCALL", "spin", "0"]);
    t.cmd("b", &mut b, &["EVAL", "return 1", "0"]);
    t.cmd("b", &mut b, &["SCRIPT", "KILL"]);
    t.cmd("b", &mut b, &["MULTI"]);
    t.cmd("b", &mut b, &["GET", "k"]);
    t.cmd("b", &mut b, &["EXEC"]);
    let mut c = server.client();
    t.cmd("c (new)", &mut c, &["PING"]);
    t.cmd("b", &mut b, &["FUNCTION", "KILL"]);
    t.read("a: FCALL spin 0", &mut a);
    t.cmd("b", &mut b, &["FUNCTION", "KILL"]);
    function_stats(&mut t, "b (idle)", &mut b);
    t.cmd("c (new)", &mut c, &["GET", "k"]);
    t.cmd("a", &mut a, &["FUNCTION", "LIST", "LIBRARYNAME", "nosuch"]);
    t
}

#[test]
fn busy_fcall_as_real_redis() {
    let t = on_both(&[], busy_fcall_scenario);
    t.expect("b: CONFIG GET busy-reply-threshold", "*2\r\n$20\r\nbusy-reply-threshold\r\n$3\r\n100\r\n");
    t.expect("b: PING until -BUSY", BUSY_FCALL);
    t.expect("b: SCRIPT KILL", BUSY_FCALL);
    t.expect(
        "b: FUNCTION STATS",
        "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n$4\r\n\
         spin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n+<duration_ms>\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\n\
         libraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n",
    );
    t.expect_first("b: FUNCTION KILL", "+OK\r\n");
    t.expect("b: FUNCTION KILL", NOTBUSY);
    t.expect(
        "a: FCALL spin 0",
        "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n",
    );
    t.expect("c (new): GET k", "$6\r\nbefore\r\n");
}

/// A script that wrote before spinning cannot be killed (by either KILL); SHUTDOWN without
/// NOSAVE is refused; SHUTDOWN NOSAVE ends the server, closing its caller's connection and the
/// script caller's without a reply. `call` is the script's command line.
fn unkillable_scenario(server: &mut Server, call: &[&str]) -> Transcript {
    let mut t = Transcript::default();
    let (mut a, mut b) = (server.client(), server.client());
    t.cmd("b", &mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    t.cmd_as("b: FUNCTION LOAD busylib", &mut b, &["FUNCTION", "LOAD", LIBRARY]);

    start(&mut a, call);
    t.note("b: PING until -BUSY", show(&wait_busy(&mut b)));
    t.cmd("b", &mut b, &["SCRIPT", "KILL"]);
    t.cmd("b", &mut b, &["FUNCTION", "KILL"]);
    t.cmd("b", &mut b, &["SHUTDOWN"]);
    t.cmd("b", &mut b, &["SHUTDOWN", "NOW"]);
    t.note("server alive after the refused SHUTDOWNs", server.alive().to_string());

    start(&mut b, &["SHUTDOWN", "NOSAVE"]);
    t.read("b: SHUTDOWN NOSAVE", &mut b);
    t.read(&format!("a: {}", call.join(" ")), &mut a);
    let exit = server.wait_exit(Duration::from_secs(20));
    t.note("the process exits", format!("{}", exit.is_some()));
    t.note(
        "a new connection after the exit",
        if Client::try_connect(server.port).is_ok() { "accepted" } else { "refused" }.to_string(),
    );
    t
}

fn expect_unkillable(t: &Transcript, busy: &str, call: &str) {
    t.expect("b: PING until -BUSY", busy);
    t.expect("b: SCRIPT KILL", UNKILLABLE);
    t.expect("b: FUNCTION KILL", UNKILLABLE);
    t.expect("b: SHUTDOWN", busy);
    t.expect("server alive after the refused SHUTDOWNs", "true");
    assert_eq!(t.get("b: SHUTDOWN NOSAVE"), "<connection closed without a reply>");
    assert_eq!(t.get(&format!("a: {call}")), "<connection closed without a reply>");
    assert_eq!(t.get("the process exits"), "true");
    assert_eq!(t.get("a new connection after the exit"), "refused");
}

#[test]
fn unkillable_eval_and_shutdown_nosave_as_real_redis() {
    let call = ["EVAL", "redis.call('set', KEYS[1], 'written') while true do end", "1", "w"];
    let t = on_both(&[], |s| unkillable_scenario(s, &call));
    expect_unkillable(&t, BUSY_EVAL, &call.join(" "));
}

#[test]
fn unkillable_fcall_and_shutdown_nosave_as_real_redis() {
    let call = ["FCALL", "spin_after_write", "1", "w"];
    let t = on_both(&[], |s| unkillable_scenario(s, &call));
    expect_unkillable(&t, BUSY_FCALL, &call.join(" "));
}

/// A script that runs past the threshold and ends by itself: others are refused while it runs,
/// and served again afterwards; its caller gets its result. The script spins on the server's
/// clock (TIME) for 3 s, long enough for the other client to see -BUSY on a loaded machine, so
/// the test polls, first for -BUSY, then for the end.
fn script_ends_by_itself_scenario(server: &mut Server) -> Transcript {
    let mut t = Transcript::default();
    let (mut a, mut b) = (server.client(), server.client());
    t.cmd("b", &mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let spin = "local function now() local t = redis.call('time') return t[1] * 1000 + t[2] / 1000 end \
                local start = now() \
                while now() - start < 3000 do end \
                redis.call('set', KEYS[1], 'done') \
                return 'finished'";
    start(&mut a, &["EVAL", spin, "1", "result"]);
    t.note("b: PING until -BUSY", show(&wait_busy(&mut b)));
    let started = Instant::now();
    let mut last = Vec::new();
    wait_for("the script to end by itself", Duration::from_secs(20), || {
        last = b.cmd(&["PING"]);
        !last.starts_with(b"-BUSY")
    });
    t.note("b: PING until no longer -BUSY", show(&last));
    t.note("the script ended within its deadline", (started.elapsed() < Duration::from_secs(15)).to_string());
    t.read("a: EVAL spin", &mut a);
    t.cmd("b", &mut b, &["GET", "result"]);
    t
}

#[test]
fn script_ending_by_itself_as_real_redis() {
    let t = on_both(&[], script_ends_by_itself_scenario);
    t.expect("b: PING until -BUSY", BUSY_EVAL);
    t.expect("b: PING until no longer -BUSY", "+PONG\r\n");
    t.expect("a: EVAL spin", "$8\r\nfinished\r\n");
    t.expect("b: GET result", "$4\r\ndone\r\n");
}

/// A write command that changed nothing (DEL of a missing key) still makes the script
/// unkillable: Redis marks the script dirty when it calls a write command, not when the dataset
/// changes.
#[test]
fn unkillable_after_a_write_that_changed_nothing_as_real_redis() {
    let call = ["EVAL", "redis.call('del', KEYS[1]) while true do end", "1", "nosuch"];
    let t = on_both(&[], |s| unkillable_scenario(s, &call));
    expect_unkillable(&t, BUSY_EVAL, &call.join(" "));
}

/// A script queued in a transaction keeps the server busy from inside EXEC: others get -BUSY,
/// SCRIPT KILL ends it, and EXEC's reply carries the script's error in its place.
fn busy_in_exec_scenario(server: &mut Server) -> Transcript {
    let mut t = Transcript::default();
    let (mut a, mut b) = (server.client(), server.client());
    t.cmd("b", &mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    t.cmd("a", &mut a, &["MULTI"]);
    t.cmd("a", &mut a, &["SET", "before", "1"]);
    t.cmd("a", &mut a, &["EVAL", "while true do end", "0"]);
    t.cmd("a", &mut a, &["SET", "after", "1"]);
    start(&mut a, &["EXEC"]);
    t.note("b: PING until -BUSY", show(&wait_busy(&mut b)));
    t.cmd("b", &mut b, &["SCRIPT", "KILL"]);
    t.read("a: EXEC", &mut a);
    t.cmd("b", &mut b, &["MGET", "before", "after"]);
    t
}

#[test]
fn busy_script_inside_exec_as_real_redis() {
    let t = on_both(&[], busy_in_exec_scenario);
    t.expect("b: PING until -BUSY", BUSY_EVAL);
    t.expect("b: SCRIPT KILL", "+OK\r\n");
    t.expect("b: MGET before after", "*2\r\n$1\r\n1\r\n$1\r\n1\r\n");
}

/// With a password, a connection that has not authenticated is refused for that (NOAUTH) before
/// being refused for the busy script; AUTH, HELLO, RESET and QUIT are let through. A function
/// flagged no-writes that spins can be killed.
fn busy_with_password_scenario(server: &mut Server) -> Transcript {
    let mut t = Transcript::default();
    let (mut a, mut b) = (server.client(), server.client());
    t.cmd("b", &mut b, &["AUTH", "secret"]);
    t.cmd("a", &mut a, &["AUTH", "secret"]);
    t.cmd("b", &mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let library = "#!lua name=ro\n\
                   redis.register_function{function_name='spin_ro', callback=function() while true do end end, \
                   flags={'no-writes'}}";
    t.cmd_as("b: FUNCTION LOAD ro", &mut b, &["FUNCTION", "LOAD", library]);
    start(&mut a, &["FCALL_RO", "spin_ro", "0"]);
    t.note("b: PING until -BUSY", show(&wait_busy(&mut b)));

    let mut c = server.client();
    t.cmd("c (new)", &mut c, &["PING"]);
    t.cmd("c (new)", &mut c, &["AUTH", "wrong"]);
    t.cmd("c (new)", &mut c, &["AUTH", "secret"]);
    t.cmd("c (new)", &mut c, &["PING"]);
    // The client id depends on how many connections each server saw before.
    let hello = mask_field(&c.cmd(&["HELLO", "3", "SETNAME", "x"]), "id");
    t.note("c (new): HELLO 3 SETNAME x", show(&hello));
    t.cmd("c (new)", &mut c, &["RESET"]);
    t.cmd("c (new)", &mut c, &["PING"]);
    t.cmd("c (new)", &mut c, &["QUIT"]);
    t.note("c (new) after QUIT", c.closed().to_string());

    t.cmd("b", &mut b, &["FUNCTION", "KILL"]);
    t.read("a: FCALL_RO spin_ro 0", &mut a);
    t.cmd("b", &mut b, &["PING"]);
    t
}

#[test]
fn busy_with_a_password_as_real_redis() {
    let t = on_both(&["--requirepass", "secret"], busy_with_password_scenario);
    t.expect_first("c (new): PING", "-NOAUTH Authentication required.\r\n");
    t.expect("c (new): PING", "-NOAUTH Authentication required.\r\n");
    t.expect("c (new): QUIT", "+OK\r\n");
    t.expect("b: FUNCTION KILL", "+OK\r\n");
}

/// SCRIPT KILL against a script that catches errors: in Redis 7.0 pcall catches the kill like
/// any error, and the script goes on (and may even write) to its normal end.
fn kill_through_pcall_scenario(server: &mut Server) -> Transcript {
    let mut t = Transcript::default();
    let (mut a, mut b) = (server.client(), server.client());
    t.cmd("b", &mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let spin = "local ok, err = pcall(function() while true do end end) \
                redis.call('set', 'survived', tostring(err)) \
                return 'survived'";
    start(&mut a, &["EVAL", spin, "0"]);
    t.note("b: PING until -BUSY", show(&wait_busy(&mut b)));
    t.cmd("b", &mut b, &["SCRIPT", "KILL"]);
    t.read("a: EVAL pcall spin", &mut a);
    t.cmd("b", &mut b, &["GET", "survived"]);
    t.cmd("a", &mut a, &["EVAL", "return 'after'", "0"]);
    t
}

#[test]
fn kill_through_pcall_as_real_redis() {
    let t = on_both(&[], kill_through_pcall_scenario);
    t.expect("b: PING until -BUSY", BUSY_EVAL);
    t.expect("b: SCRIPT KILL", "+OK\r\n");
    t.expect("a: EVAL pcall spin", "$8\r\nsurvived\r\n");
    assert!(
        t.get("b: GET survived").contains("Script killed by user with SCRIPT KILL..."),
        "{}",
        t.get("b: GET survived")
    );
}
