//! Streams through a real client library (issue 18): Debian's python3-redis 4.3.4 (RESP2) drives
//! consumer groups — xadd, xreadgroup (blocking too, from a second thread), xack, xpending,
//! xpending_range, xclaim, xautoclaim, xinfo_stream (and its full form), xinfo_groups,
//! xinfo_consumers, xtrim and the xgroup calls — and prints what the library parsed. The
//! transcript on our server must equal the one on Debian's redis-server 7.0.15, and the real one
//! must show what the program exercises. The times a group keeps (idle, seen and delivery times)
//! are printed as `<time>` once checked to be integers, since two runs never see the same ones.
//!
//! Proved against real Redis on both sides with `REDIS_RS_DIFF_OURS=real` (see differential_support).

use crate::scripting_clients::{assert_has, same_transcript, PRELUDE};

const STREAMS_PROGRAM: &str = r##"
import threading
d = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]), decode_responses=True)
TIME_KEYS = ('idle', 'seen-time', 'time_since_delivered')
def masked(x, key=None):
    if isinstance(x, dict):
        return {k: ('<time>' if k in TIME_KEYS and isinstance(v, int) else masked(v, k)) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        if key == 'pending' and all(isinstance(e, list) for e in x):
            # XINFO STREAM FULL: [id, consumer, delivery time, count] in a group, [id, time, count] in a consumer.
            def m(e):
                i = 2 if len(e) == 4 else 1 if len(e) == 3 else None
                return [('<time>' if j == i and isinstance(v, int) else v) for j, v in enumerate(e)]
            return [m(e) for e in x]
        # redis-py leaves XINFO STREAM FULL's consumers as flat [key, value, ...] lists.
        out = []
        for j, v in enumerate(x):
            prev = x[j - 1] if j > 0 else None
            if prev in TIME_KEYS and isinstance(v, int):
                out.append('<time>')
            else:
                out.append(masked(v, prev if isinstance(prev, str) else None))
        return type(x)(out)
    return x
def show(label, f):
    try:
        p(label, 'ok', repr(masked(f())))
    except Exception as e:
        p(label, type(e).__name__, str(e))

for i in range(1, 9):
    show('xadd %d' % i, lambda: d.xadd('s', {'f': 'v%d' % i, 'n': str(i)}, id='%d-1' % i))
show('xadd maxlen', lambda: d.xadd('t', {'a': '1'}, id='5-0', maxlen=3, approximate=False))
show('xadd nomkstream', lambda: d.xadd('none', {'a': '1'}, nomkstream=True))
show('xadd too small', lambda: d.xadd('s', {'f': 'v'}, id='1-1'))
show('xlen', lambda: d.xlen('s'))
show('xgroup_create', lambda: d.xgroup_create('s', 'g', id='0'))
show('xgroup_create busy', lambda: d.xgroup_create('s', 'g', id='0'))
show('xgroup_create missing', lambda: d.xgroup_create('missing', 'g'))
show('xgroup_create mkstream', lambda: d.xgroup_create('fresh', 'g', id='$', mkstream=True))
show('xgroup_create h', lambda: d.xgroup_create('s', 'h', id='$'))
show('xgroup_createconsumer', lambda: d.xgroup_createconsumer('s', 'g', 'idle-one'))
show('xreadgroup alice', lambda: d.xreadgroup('g', 'alice', {'s': '>'}, count=3))
show('xreadgroup bob', lambda: d.xreadgroup('g', 'bob', {'s': '>'}, count=2))
show('xreadgroup noack', lambda: d.xreadgroup('g', 'carol', {'s': '>'}, count=1, noack=True))
show('xreadgroup history', lambda: d.xreadgroup('g', 'alice', {'s': '0'}))
show('xreadgroup two streams', lambda: d.xreadgroup('g', 'alice', {'s': '>', 'fresh': '>'}, count=1))
show('xreadgroup nogroup', lambda: d.xreadgroup('nogroup', 'alice', {'s': '>'}))
show('xreadgroup timeout', lambda: d.xreadgroup('h', 'alice', {'s': '>'}, block=30))
show('xack', lambda: d.xack('s', 'g', '1-1', '2-1', '99-1'))
show('xack bad id', lambda: d.xack('s', 'g', 'bad'))
show('xpending', lambda: d.xpending('s', 'g'))
show('xpending_range', lambda: d.xpending_range('s', 'g', min='-', max='+', count=10))
show('xpending_range bob', lambda: d.xpending_range('s', 'g', min='-', max='+', count=10, consumername='bob'))
show('xpending_range idle', lambda: d.xpending_range('s', 'g', min='-', max='+', count=10, idle=1000000))
show('xclaim', lambda: d.xclaim('s', 'g', 'dave', 0, ['3-1']))
show('xclaim justid', lambda: d.xclaim('s', 'g', 'dave', 0, ['4-1'], justid=True))
show('xclaim idle', lambda: d.xclaim('s', 'g', 'dave', 0, ['5-1'], idle=5000000, justid=True))
show('xclaim time', lambda: d.xclaim('s', 'g', 'dave', 0, ['3-1'], time=1000, justid=True))
show('xclaim retrycount', lambda: d.xclaim('s', 'g', 'dave', 0, ['4-1'], retrycount=5, justid=True))
show('xclaim force', lambda: d.xclaim('s', 'g', 'dave', 0, ['7-1'], force=True))
show('xclaim not idle enough', lambda: d.xclaim('s', 'g', 'erin', 100000000, ['3-1']))
show('xpending_range after claims', lambda: d.xpending_range('s', 'g', min='-', max='+', count=10))
show('xpending_range idle after claims', lambda: d.xpending_range('s', 'g', min='-', max='+', count=10, idle=1000000))
show('xautoclaim idle', lambda: d.xautoclaim('s', 'g', 'erin', min_idle_time=1000000, start_id='0-0'))
show('xautoclaim count justid', lambda: d.xautoclaim('s', 'g', 'erin', 0, '0-0', count=2, justid=True))
show('xdel', lambda: d.xdel('s', '3-1', '4-1'))
show('xautoclaim deleted', lambda: d.xautoclaim('s', 'g', 'frank', 0))
show('xautoclaim nogroup', lambda: d.xautoclaim('s', 'nogroup', 'frank', 0))
show('xpending after autoclaim', lambda: d.xpending('s', 'g'))
show('xinfo_stream', lambda: d.xinfo_stream('s'))
show('xinfo_stream full', lambda: d.xinfo_stream('s', full=True))
show('xinfo_groups', lambda: d.xinfo_groups('s'))
show('xinfo_consumers', lambda: d.xinfo_consumers('s', 'g'))
show('xinfo_consumers nogroup', lambda: d.xinfo_consumers('s', 'nogroup'))
show('xinfo_stream empty', lambda: d.xinfo_stream('fresh'))

# A blocked xreadgroup in a second thread, served by an xadd once the server shows it blocked.
got = []
def reader():
    c = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]), decode_responses=True)
    for call in (lambda: c.xreadgroup('h', 'waiter', {'s': '>'}, block=0), lambda: c.xread({'s': '$'}, block=0)):
        try:
            got.append(call())
        except Exception as e:
            got.append(type(e).__name__ + ' ' + str(e))
th = threading.Thread(target=reader)
th.start()
def blocked(cmd):
    return any(c.get('flags') == 'b' and c.get('cmd') == cmd for c in d.client_list())
# (A read answered at once instead is in the transcript: no waiting for it.)
wait_until('a blocked xreadgroup', lambda: blocked('xreadgroup') or len(got) >= 1)
show('xadd serving xreadgroup', lambda: d.xadd('s', {'late': '1'}, id='20-1'))
wait_until('a blocked xread', lambda: blocked('xread') or len(got) >= 2)
show('xadd serving xread', lambda: d.xadd('s', {'later': '2'}, id='21-1'))
th.join(10)
p('thread done', not th.is_alive())
p('blocked reads got', repr(got))

show('xgroup_setid', lambda: d.xgroup_setid('s', 'g', '0'))
show('xgroup_delconsumer', lambda: d.xgroup_delconsumer('s', 'g', 'dave'))
show('xinfo_groups after setid', lambda: d.xinfo_groups('s'))
show('xtrim maxlen', lambda: d.xtrim('s', maxlen=4, approximate=False))
show('xtrim minid', lambda: d.xtrim('s', minid='8-0', approximate=False))
show('xtrim limit', lambda: d.xtrim('s', maxlen=0, approximate=True, limit=10))
show('xrange', lambda: d.xrange('s'))
show('xinfo_stream after trims', lambda: d.xinfo_stream('s'))
show('xinfo_stream full count', lambda: d.xinfo_stream('s', full=True))
show('xgroup_destroy', lambda: d.xgroup_destroy('s', 'h'))
show('xgroup_destroy again', lambda: d.xgroup_destroy('s', 'h'))
d.set('str', 'v')
show('xinfo_stream wrongtype', lambda: d.xinfo_stream('str'))
show('xreadgroup wrongtype', lambda: d.xreadgroup('g', 'c', {'str': '>'}))
show('xinfo_stream missing', lambda: d.xinfo_stream('missing'))
p('done')
"##;

#[test]
fn redis_py_stream_groups_as_real_redis() {
    let program = format!("{PRELUDE}{STREAMS_PROGRAM}");
    let real = same_transcript(&program, &[]);
    // The program did what it means to on real Redis.
    assert_has(&real, "xack ok 2");
    assert_has(&real, "xclaim justid ok ['4-1']");
    assert_has(&real, "xgroup_create busy ResponseError BUSYGROUP Consumer Group name already exists");
    assert_has(&real, "thread done True");
    assert_has(&real, "done");
    assert!(real.contains("xinfo_stream full ok {'length': "), "no full XINFO STREAM in:\n{real}");
    assert!(real.contains("'seen-time', '<time>'"), "no seen-time masked in:\n{real}");
}
