//! Script features of a real client library, Debian's python3-redis 4.3.4, against our server and
//! Debian's redis-server 7.0.15: its `Lock` (whose release, extend and reacquire are Lua scripts),
//! `register_script` with its NOSCRIPT fallback, the FUNCTION API, and two Lua workloads (a token
//! bucket and a job queue through cjson and cmsgpack). Each Python program prints a transcript of
//! what the library saw; both servers must produce the same transcript, and the real one must show
//! the behaviour the program exercises (so a program that broke on both would not pass).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::Server;

/// Runs `program` with /usr/bin/python3 (Debian's, which has python3-redis) against the server on
/// `port`; the program reads the port from argv[1] and prints its transcript on stdout.
pub(crate) fn run_python(program: &str, port: u16) -> String {
    let mut child = Command::new("/usr/bin/python3")
        .args(["-", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run /usr/bin/python3 (scripts/test.sh installs python3-redis)");
    child.stdin.take().expect("python stdin").write_all(program.as_bytes()).expect("write the program");
    let out = child.wait_with_output().expect("python output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python against port {port} failed:\n{}\ntranscript so far:\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The transcript of `program` on our server (or its stand-in, see differential_support) and on
/// the real one, required identical; returns the real one for the caller's checks of what it must contain.
pub(crate) fn same_transcript(program: &str, server_args: &[&str]) -> String {
    let ours = crate::differential_support::start_ours(server_args);
    let real = Server::start_real(server_args);
    let t_real = run_python(program, real.port);
    let t_ours = run_python(program, ours.port);
    if t_ours != t_real {
        let diff: Vec<String> = t_real
            .lines()
            .zip(t_ours.lines().chain(std::iter::repeat("<missing>")))
            .filter(|(r, o)| r != o)
            .map(|(r, o)| format!("  real: {r}\n  ours: {o}"))
            .collect();
        panic!(
            "transcripts differ ({} vs {} lines); first differences:\n{}\nfull real:\n{t_real}\nfull ours:\n{t_ours}",
            t_real.lines().count(),
            t_ours.lines().count(),
            diff.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
    t_real
}

pub(crate) fn assert_has(transcript: &str, line: &str) {
    assert!(transcript.lines().any(|l| l == line), "the real transcript lacks {line:?}:\n{transcript}");
}

/// Common head of every program: a client, `p` to print, `err` to print an exception's class and text.
pub(crate) const PRELUDE: &str = r##"
import sys, time, random
import redis
from redis.exceptions import LockError, LockNotOwnedError, ResponseError
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
def p(*a):
    print(*a, flush=True)
def err(label, f):
    try:
        p(label, 'ok', repr(f()))
    except Exception as e:
        p(label, type(e).__name__, str(e))
def wait_until(what, cond, within=10.0):
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError('timed out waiting for ' + what)
        time.sleep(0.01)
r.flushall()
r.function_flush()
"##;

const LOCK_PROGRAM: &str = r##"
lock = r.lock('res', timeout=10)
p('acquire', lock.acquire(blocking=False))
p('locked', lock.locked(), 'owned', lock.owned())
other = r.lock('res', timeout=10, sleep=0.02)
p('other non-blocking', other.acquire(blocking=False), 'owned', other.owned())
t0 = time.monotonic()
p('other blocking 0.3s', other.acquire(blocking=True, blocking_timeout=0.3))
p('waited the timeout', time.monotonic() - t0 >= 0.25)
p('extend 5s', lock.extend(5))
ttl = r.pttl('res')
p('ttl after extend in (10s, 15s]', 10000 < ttl <= 15000)
p('extend replace 3s', lock.extend(3, replace_ttl=True))
ttl = r.pttl('res')
p('ttl replaced in (0, 3s]', 0 < ttl <= 3000)
p('reacquire', lock.reacquire())
ttl = r.pttl('res')
p('ttl reacquired in (3s, 10s]', 3000 < ttl <= 10000)
# A lock object holding a token that is not the owner's: every script refuses it.
other.local.token = b'not-the-owner'
err('other extend', lambda: other.extend(1))
err('other reacquire', lambda: other.reacquire())
other.local.token = b'not-the-owner'
err('other release', lambda: other.release())
p('still held by the owner', r.get('res') == lock.local.token)
lock.release()
p('after release exists', r.exists('res'))
err('release again', lambda: lock.release())
err('extend unlocked', lambda: lock.extend(1))
# Expiry: a short lock disappears by itself, then its owner no longer owns it.
short = r.lock('short', timeout=0.2)
p('short acquire', short.acquire(blocking=False))
wait_until('the short lock to expire', lambda: r.exists('short') == 0)
p('short owned after expiry', short.owned())
err('short release after expiry', lambda: short.release())
# A blocking acquire succeeds once the holder's lock expires.
holder = r.lock('handoff', timeout=0.3)
p('holder acquire', holder.acquire(blocking=False))
waiter = r.lock('handoff', timeout=5, sleep=0.02)
p('waiter blocking acquire', waiter.acquire(blocking=True, blocking_timeout=10))
p('waiter owns', waiter.owned(), 'holder owns', holder.owned())
err('holder extend', lambda: holder.extend(1))
waiter.release()
with r.lock('ctx', timeout=5) as l:
    p('context manager owns', l.owned(), r.exists('ctx'))
p('context manager released', r.exists('ctx'))
p('scripts cached', r.script_exists(lock.lua_release.sha, lock.lua_extend.sha, lock.lua_reacquire.sha))
"##;

#[test]
fn redis_py_lock_acquires_extends_and_releases_through_lua() {
    let t = same_transcript(&format!("{PRELUDE}{LOCK_PROGRAM}"), &[]);
    assert_has(&t, "other blocking 0.3s False");
    assert_has(&t, "other release LockNotOwnedError Cannot release a lock that's no longer owned");
    assert_has(&t, "other extend LockNotOwnedError Cannot extend a lock that's no longer owned");
    assert_has(&t, "short release after expiry LockNotOwnedError Cannot release a lock that's no longer owned");
    assert_has(&t, "waiter blocking acquire True");
    assert_has(&t, "scripts cached [True, True, True]");
}

const REGISTER_SCRIPT_PROGRAM: &str = r##"
s = r.register_script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
p('sha', s.sha)
p('first call', s(keys=['cnt'], args=['a']))
p('exists', r.script_exists(s.sha))
p('flush', r.script_flush())
p('exists after flush', r.script_exists(s.sha))
p('call after flush', s(keys=['cnt'], args=['b']))
p('exists again', r.script_exists(s.sha))
p('flush async', r.script_flush('ASYNC'))
pipe = r.pipeline()
s(keys=['cnt'], args=['c'], client=pipe)
pipe.get('cnt')
p('pipeline after flush', pipe.execute())
p('flush sync', r.script_flush('SYNC'))
pipe = r.pipeline(transaction=False)
s(keys=['cnt'], args=['d'], client=pipe)
s(keys=['other'], args=['e'], client=pipe)
p('non-transactional pipeline', pipe.execute())
bad = r.register_script("return redis.call('NOPE', KEYS[1])")
err('unknown command', lambda: bad(keys=['x']))
wrong = r.register_script("return redis.call('INCR', KEYS[1])")
r.set('text', 'abc')
err('wrong value', lambda: wrong(keys=['text']))
raised = r.register_script("return redis.error_reply('MYERR custom failure')")
err('error_reply', lambda: raised())
status = r.register_script("return redis.status_reply('FINE')")
p('status_reply', status())
types = r.register_script("return {1, 'two', 3.9, true, false, {'nested', 5}, nil, 'after nil'}")
p('conversions', types())
ro = r.register_script("return redis.call('SET', KEYS[1], 'v')")
err('evalsha_ro of a write', lambda: r.evalsha_ro(ro.sha, 1, 'k') if r.script_load(ro.script) else None)
p('eval_ro read', r.eval_ro("return redis.call('GET', KEYS[1])", 1, 'cnt'))
"##;

#[test]
fn redis_py_register_script_falls_back_to_load_after_noscript() {
    let t = same_transcript(&format!("{PRELUDE}{REGISTER_SCRIPT_PROGRAM}"), &[]);
    assert_has(&t, "exists after flush [False]");
    assert_has(&t, "call after flush [b'cnt', b'b', 2]");
    assert_has(&t, "pipeline after flush [[b'cnt', b'c', 3], b'3']");
}

const FUNCTION_PROGRAM: &str = r##"
lib = """#!lua name=mylib
local function set_it(keys, args)
  return redis.call('SET', keys[1], args[1])
end
redis.register_function('myset', set_it)
redis.register_function{function_name='myget', callback=function(keys, args) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads a key'}
"""
p('load', r.function_load(lib))
err('load again', lambda: r.function_load(lib))
p('load replace', r.function_load(lib, replace=True))
other = "#!lua name=otherlib\nredis.register_function('other_fn', function() return 'other' end)"
p('load other', r.function_load(other))
err('colliding function', lambda: r.function_load("#!lua name=third\nredis.register_function('myset', function() return 1 end)"))
def sorted_listing(listing):
    # Libraries and their functions come out in dictionary (hash) order: sort both by name.
    out = []
    for libinfo in listing:
        d = dict(zip(libinfo[::2], libinfo[1::2]))
        d[b'functions'] = sorted([list(f) for f in d[b'functions']], key=lambda f: f[1])
        out.append(sorted(d.items()))
    return sorted(out, key=lambda l: dict(l)[b'library_name'])
p('list', sorted_listing(r.function_list()))
p('list my* withcode', sorted_listing(r.function_list(library='my*', withcode=True)))
p('list nothing', r.function_list(library='nothing*'))
p('fcall myset', r.fcall('myset', 1, 'k', 'v'))
p('fcall_ro myget', r.fcall_ro('myget', 1, 'k'))
p('fcall other', r.fcall('other_fn', 0))
err('fcall_ro of a writer', lambda: r.fcall_ro('myset', 1, 'k', 'v2'))
err('fcall unknown', lambda: r.fcall('nope', 0))
err('fcall bad numkeys', lambda: r.fcall('myget', 5, 'k'))
stats = r.function_stats()
p('stats', stats)
p('delete', r.function_delete('mylib'))
err('fcall deleted', lambda: r.fcall('myget', 1, 'k'))
err('delete again', lambda: r.function_delete('mylib'))
p('list after delete', sorted_listing(r.function_list()))
p('flush', r.function_flush())
p('list after flush', r.function_list())
"##;

#[test]
fn redis_py_function_load_list_fcall_and_delete() {
    let t = same_transcript(&format!("{PRELUDE}{FUNCTION_PROGRAM}"), &[]);
    assert_has(&t, "load b'mylib'");
    assert_has(&t, "load again ResponseError Library 'mylib' already exists");
    assert_has(&t, "fcall_ro myget b'v'");
    assert_has(&t, "fcall_ro of a writer ResponseError Can not execute a script with write flag using *_ro command.");
    assert_has(&t, "delete again ResponseError Library not found");
}

const TOKEN_BUCKET_PROGRAM: &str = r##"
bucket = r.register_script("""
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], 600000)
redis.call('INCRBY', KEYS[2], allowed)
return {allowed, tostring(tokens), tokens}
""")
rng = random.Random(20261206)
now = 1000.0
decisions = []
for i in range(300):
    now += rng.choice([0, 0, 0.05, 0.1, 0.37, 1.5])
    user = 'bucket:' + rng.choice(['ann', 'bob', 'cyd'])
    cost = rng.choice([1, 1, 1, 2, 5])
    rate = {'bucket:ann': 2.5, 'bucket:bob': 0.75, 'bucket:cyd': 10}[user]
    allowed, text, truncated = bucket(keys=[user, 'allowed:total'], args=[rate, 8, repr(now), cost])
    decisions.append('%s %s %d %s %d' % (user, cost, allowed, text.decode(), truncated))
for d in decisions:
    p(d)
p('allowed total', r.get('allowed:total'))
for user in ['bucket:ann', 'bucket:bob', 'bucket:cyd']:
    p(user, sorted(r.hgetall(user).items()), 0 < r.pttl(user) <= 600000)
"##;

#[test]
fn lua_token_bucket_allows_and_denies_the_same_requests() {
    let t = same_transcript(&format!("{PRELUDE}{TOKEN_BUCKET_PROGRAM}"), &[]);
    let allowed = t.lines().filter(|l| l.starts_with("bucket:") && l.split(' ').nth(2) == Some("1")).count();
    let denied = t.lines().filter(|l| l.starts_with("bucket:") && l.split(' ').nth(2) == Some("0")).count();
    assert!(allowed > 20 && denied > 20, "the sequence must both allow and deny: {allowed} / {denied}\n{t}");
}

const JOB_QUEUE_PROGRAM: &str = r##"
enqueue = r.register_script("""
local id = redis.call('INCR', KEYS[2])
local job = {id = id, kind = ARGV[1], payload = cjson.decode(ARGV[2]), attempts = 0, tags = {'new', ARGV[1]}}
local encoded = cjson.encode(job)
redis.call('LPUSH', KEYS[1], encoded)
return encoded
""")
dequeue = r.register_script("""
local raw = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if not raw then return false end
local job = cjson.decode(raw)
job.attempts = job.attempts + 1
local packed = cmsgpack.pack(job)
redis.call('HSET', KEYS[3], job.id, packed)
return {job.id, packed}
""")
ack = r.register_script("""
local packed = redis.call('HGET', KEYS[1], ARGV[1])
if not packed then return redis.error_reply('NOJOB ' .. ARGV[1]) end
local ok, result = pcall(function()
  local job = cmsgpack.unpack(packed)
  if job.payload.fail then
    error('job ' .. job.id .. ' failed: ' .. job.payload.fail)
  end
  if job.kind == 'sum' then
    local total = 0
    for _, v in ipairs(job.payload.values) do total = total + v end
    return cjson.encode({id = job.id, total = total})
  end
  if job.kind == 'wrongtype' then
    return redis.call('LPUSH', KEYS[3], 'x')
  end
  return cjson.encode({id = job.id, echo = job.payload})
end)
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('LREM', KEYS[4], 1, redis.call('LINDEX', KEYS[4], -1))
if ok then
  redis.call('RPUSH', KEYS[2], result)
  return {'done', result}
end
local reason = result
if type(result) == 'table' then reason = result.err end
redis.call('RPUSH', KEYS[5], cmsgpack.pack({packed, reason}))
return {'dead', reason}
""")
broken = r.register_script("return cmsgpack.unpack(ARGV[1])")
r.set('not-a-list', 'v')
jobs = [
    ('sum', '{"values":[1,2,3.5,-4]}'),
    ('echo', '{"name":"caf\\u00e9","nested":{"a":[true,false,null]},"n":1e3}'),
    ('sum', '{"values":[],"fail":"empty input"}'),
    ('wrongtype', '{"x":1}'),
    ('echo', '{"big":12345678901234,"neg":-0.5,"s":"tab\\tquote\\"slash/"}'),
]
for kind, payload in jobs:
    p('enqueue', enqueue(keys=['q', 'q:id'], args=[kind, payload]))
while True:
    got = dequeue(keys=['q', 'q:processing', 'q:inflight'])
    if got is None:
        break
    jid, packed = got
    p('dequeue', jid, packed.hex())
    p('ack', ack(keys=['q:inflight', 'q:done', 'not-a-list', 'q:processing', 'q:dead'], args=[jid]))
err('ack unknown', lambda: ack(keys=['q:inflight', 'q:done', 'not-a-list', 'q:processing', 'q:dead'], args=[99]))
err('cmsgpack garbage', lambda: broken(args=[b'\xc1\xc1']))
err('cjson garbage', lambda: r.eval("return cjson.decode(ARGV[1])", 0, '{"unterminated'))
p('done', r.lrange('q:done', 0, -1))
p('dead', [x.hex() for x in r.lrange('q:dead', 0, -1)])
p('processing', r.lrange('q:processing', 0, -1), 'inflight', r.hgetall('q:inflight'))
"##;

#[test]
fn job_queue_moves_json_and_msgpack_payloads_through_scripts() {
    let t = same_transcript(&format!("{PRELUDE}{JOB_QUEUE_PROGRAM}"), &[]);
    assert!(t.contains("ack [b'dead', b'"), "the failing jobs must reach the dead-letter path:\n{t}");
    assert!(t.contains("WRONGTYPE"), "redis.call's error must be caught by pcall:\n{t}");
    assert_has(&t, "processing [] inflight {}");
}
