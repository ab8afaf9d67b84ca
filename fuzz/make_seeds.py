#!/usr/bin/env python3
"""Writes the fuzz targets' seeds (fuzz/seeds/<target>/) from real inputs: Debian's stock configs,
RDB, AOF and DUMP payloads written by Redis 7.0.15 and by redis-rs from a small dataset of every
type and encoding (functions included), a sentinel.conf that Redis's Sentinel rewrote, and client
traffic (redis-benchmark pipelines and replies) captured through a relay. Run by make-seeds.sh."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
CAP = 8 * 1024  # bytes kept of a captured stream


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    """A minimal RESP2 client: enough to fill the dataset and read DUMP payloads."""

    def __init__(self, port):
        deadline = time.time() + 20
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.f = self.s.makefile("rb")

    def read(self):
        line = self.f.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def __call__(self, *args):
        self.s.sendall(encode(*args))
        return self.read()

    def wait_ready(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self("PING") == b"PONG":
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server not ready")


def start(binary, workdir, *extra):
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", "",
         "--daemonize", "no", "--logfile", os.path.join(workdir, "log"), *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = Conn(port)
    c.wait_ready()
    return proc, port, c


LIBRARY = b"#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"


def fill(c):
    """Every type in each of its encodings, with expiry, several databases and a function."""
    c("SET", "str:int", "12345")
    c("SET", "str:emb", "hello")
    c("SET", "str:raw", "x" * 100 + "y")
    c("SET", "str:lzf", "a" * 300)
    c("SET", "str:exp", "v")
    c("PEXPIRE", "str:exp", 100000000)
    c("SETBIT", "bitmap", 100, 1)
    c("RPUSH", "list:small", "a", "1", "b", "-2")
    c("RPUSH", "list:big", *["element-%d-%s" % (i, "z" * 70) for i in range(120)])
    c("SADD", "set:int", 1, 2, 3, -5)
    c("SADD", "set:str", "a", "b", "c")
    c("SADD", "set:bigint", *range(520))
    c("ZADD", "zset:small", 1, "a", 2.5, "b", "-inf", "c")
    c("ZADD", "zset:big", *[x for i in range(130) for x in (i, "m%d" % i)])
    c("HSET", "hash:small", "f1", "v1", "f2", "2")
    c("HSET", "hash:big", *[x for i in range(20) for x in ("field%d" % i, "v" * (i * 4))])
    c("PFADD", "hll:sparse", "a", "b", "c")
    c("PFADD", "hll:dense", *["e%d" % i for i in range(1500)])
    c("GEOADD", "geo", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")
    for i in range(5):
        c("XADD", "stream", "*", "field", i, "other", "x" * i)
    c("XADD", "stream:trim", "MAXLEN", "2", "*", "a", "1")
    c("XGROUP", "CREATE", "stream", "group", "0")
    c("XREADGROUP", "GROUP", "group", "consumer", "COUNT", "2", "STREAMS", "stream", ">")
    c("XDEL", "stream", c("XADD", "stream", "*", "gone", "1"))
    c("FUNCTION", "LOAD", LIBRARY)
    c("SELECT", 3)
    c("SET", "db3", "v")
    c("SELECT", 0)


def write(target, name, data, prefix=b""):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(prefix + data)


def wait_for(cond, what):
    deadline = time.time() + 60
    while not cond():
        if time.time() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.05)


def files(binary, tag):
    work = tempfile.mkdtemp()
    proc, port, c = start(binary, work)
    try:
        fill(c)
        for key in c("KEYS", "*"):
            payload = c("DUMP", key)
            # dump_payload's first byte: bit 0 clear = checksum not checked (the payload is intact)
            write("dump_payload", "%s-%s" % (tag, key.decode().replace(":", "-")), payload, b"\x01")
        write("dump_payload", tag + "-functions", c("FUNCTION", "DUMP"), b"\x01")
        c("SAVE")
        with open(os.path.join(work, "dump.rdb"), "rb") as f:
            write("rdb_load", tag + "-dataset.rdb", f.read(), b"\x00")
        # AOF without the RDB preamble: a base of commands, then an incr file.
        c("CONFIG", "SET", "aof-use-rdb-preamble", "no")
        c("CONFIG", "SET", "appendonly", "yes")
        aofdir = os.path.join(work, "appendonlydir")
        wait_for(lambda: b"aof_rewrite_in_progress:0" in c("INFO", "persistence")
                 and os.path.exists(os.path.join(aofdir, "appendonly.aof.manifest")), "the first AOF rewrite")
        c("SET", "after", "rewrite")
        c("MULTI")
        c("INCR", "counter")
        c("LPUSH", "list:small", "new")
        c("EXEC")
        c("PEXPIRE", "after", 100000)
        for name in sorted(os.listdir(aofdir)):
            with open(os.path.join(aofdir, name), "rb") as f:
                data = f.read()
            if name.endswith(".manifest"):
                write("aof_manifest", "%s-%s" % (tag, name), data)
            elif ".incr." in name:
                write("aof_load", "%s-%s" % (tag, name), data, b"\x00")  # an incr file
            else:
                write("aof_load", "%s-%s" % (tag, name), data, b"\x02")  # a base of commands
        c("CONFIG", "SET", "aof-use-rdb-preamble", "yes")
        c("BGREWRITEAOF")
        wait_for(lambda: any(n.endswith(".base.rdb") for n in os.listdir(aofdir)) and
                 b"aof_rewrite_in_progress:0" in c("INFO", "persistence"), "the RDB-preamble rewrite")
        for name in sorted(os.listdir(aofdir)):
            with open(os.path.join(aofdir, name), "rb") as f:
                data = f.read()
            if name.endswith(".manifest"):
                write("aof_manifest", "%s-preamble-%s" % (tag, name), data)
            elif name.endswith(".base.rdb"):
                write("aof_load", "%s-%s" % (tag, name), data, b"\x04")  # an RDB base
        # An old single-file AOF: an RDB preamble followed by commands.
        with open(os.path.join(aofdir, [n for n in os.listdir(aofdir) if n.endswith(".base.rdb")][0]), "rb") as f:
            write("aof_load", tag + "-preamble-and-tail.aof", f.read() + encode("SET", "tail", "1"), b"\x06")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def relay(upstream, client_log, server_log):
    """A one-connection-at-a-time TCP relay that records both directions."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)

    def pump(src, dst, log):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                log.extend(data[:max(0, CAP - len(log))])
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def serve():
        while True:
            try:
                cl, _ = lsock.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", upstream))
            threading.Thread(target=pump, args=(cl, up, client_log), daemon=True).start()
            threading.Thread(target=pump, args=(up, cl, server_log), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return lsock


def traffic(binary):
    work = tempfile.mkdtemp()
    proc, port, c = start(binary, work)
    try:
        fill(c)
        for name, cmd in [
            ("benchmark", ["redis-benchmark", "-c", "1", "-P", "8", "-n", "64", "-r", "50", "-q",
                           "-t", "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset"]),
            ("cli", ["redis-cli"]),
        ]:
            client_log, server_log = bytearray(), bytearray()
            lsock = relay(port, client_log, server_log)
            relay_port = str(lsock.getsockname()[1])
            if name == "cli":
                script = b"HELLO 2\nINFO\nCLIENT LIST\nHGETALL hash:small\nZRANGE zset:small 0 -1 WITHSCORES\n" \
                         b"XRANGE stream - +\nXINFO STREAM stream FULL\nGET nokey\nDEBUG\nCOMMAND INFO get set\n"
                subprocess.run(cmd + ["-p", relay_port], input=script, stdout=subprocess.DEVNULL, check=True)
            else:
                subprocess.run(cmd[:1] + ["-p", relay_port] + cmd[1:], stdout=subprocess.DEVNULL, check=True)
            time.sleep(0.2)
            lsock.close()
            write("request_parser", "captured-" + name, bytes(client_log), b"\xff")
            write("reply_parser", "captured-" + name, bytes(server_log))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def sentinel_conf(server_binary, sentinel_binary, tag):
    """A sentinel.conf as Redis's Sentinel rewrites it: myid, epochs, known replicas and sentinels."""
    work = tempfile.mkdtemp()
    proc, port, c = start(server_binary, work)
    replica, _, rc = start(server_binary, tempfile.mkdtemp(), "--replicaof", "127.0.0.1", str(port))
    sentinels = []
    try:
        for i in range(2):
            path = os.path.join(work, "sentinel%d.conf" % i)
            with open(path, "w") as f:
                f.write("sentinel monitor mymaster 127.0.0.1 %d 2\nsentinel down-after-milliseconds mymaster 5000\n"
                        "sentinel auth-pass mymaster \"a secret\"\nsentinel rename-command mymaster CONFIG CFG\n" % port)
            sp = free_port()
            sentinels.append((subprocess.Popen(
                [sentinel_binary, path, "--port", str(sp), "--bind", "127.0.0.1", "--daemonize", "no",
                 "--logfile", os.path.join(work, "s%d.log" % i)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), path))
        final = sentinels[0][1]
        wait_for(lambda: "known-sentinel" in open(final).read() and "known-replica" in open(final).read(),
                 "Sentinel to write what it learnt")
        with open(final, "rb") as f:
            write("sentinel_conf", "rewritten-by-%s-sentinel.conf" % tag, f.read())
    finally:
        for p, _ in sentinels:
            p.terminate()
            p.wait()
        for p in (replica, proc):
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


def configs():
    # Ours (etc/) are Debian's with a few lines changed: Debian's alone keep the seeds small.
    with open("/etc/redis/redis.conf", "rb") as f:
        # redis_conf's input: key selector, line count, the values line, then the file
        write("redis_conf", "debian-redis.conf", f.read(), b"\x00\x01" + b"6380\n")
    with open("/etc/redis/sentinel.conf", "rb") as f:
        write("sentinel_conf", "debian-sentinel.conf", f.read())
    write("request_parser", "inline", b"PING\r\nSET k \"a b\\x41\" 'c'\r\n\r\n*0\r\nGET k\n", b"\xff")
    write("reply_parser", "types", b"+OK\r\n-ERR x\r\n:42\r\n$-1\r\n*-1\r\n_\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n")


def containers(server_binary):
    """The commands that are containers (COMMAND INFO lists subcommands for them): the commands
    target reads a subcommand after their name."""
    work = tempfile.mkdtemp()
    proc, _, c = start(server_binary, work)
    try:
        return {info[0].lower() for info in c("COMMAND") if len(info) > 9 and info[9]}
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


# What the applications on Redis send: a job queue, a lock, a cache, a rate limiter, a leaderboard,
# an event stream with a consumer group, pub/sub, a transaction, a user of their own.
WORKLOADS = {
    "job-queue": [
        ["LPUSH", "queue:jobs", "job-1", "job-2"], ["BRPOPLPUSH", "queue:jobs", "queue:busy", "1"],
        ["LMOVE", "queue:jobs", "queue:busy", "RIGHT", "LEFT"], ["LREM", "queue:busy", "1", "job-1"],
        ["LLEN", "queue:jobs"], ["BLMPOP", "0.1", "2", "queue:jobs", "queue:busy", "LEFT", "COUNT", "10"],
        ["LRANGE", "queue:busy", "0", "-1"], ["RPOPLPUSH", "queue:busy", "queue:jobs"],
    ],
    "lock-and-cache": [
        ["SET", "lock:order:7", "token-1", "NX", "PX", "30000"], ["GET", "lock:order:7"],
        ["PEXPIRE", "lock:order:7", "10"], ["DEL", "lock:order:7"],
        ["SET", "cache:user:1", "{\"name\":\"ann\"}", "EX", "60"], ["MGET", "cache:user:1", "cache:user:2"],
        ["GETEX", "cache:user:1", "PERSIST"], ["TTL", "cache:user:1"], ["UNLINK", "cache:user:1"],
        ["HSET", "session:9", "user", "1", "seen", "1700000000"], ["HINCRBY", "session:9", "hits", "1"],
        ["HGETALL", "session:9"], ["EXPIRE", "session:9", "1800", "GT"], ["OBJECT", "ENCODING", "session:9"],
    ],
    "rate-limiter": [
        ["INCR", "rate:1.2.3.4:1700000000"], ["EXPIRE", "rate:1.2.3.4:1700000000", "60", "NX"],
        ["ZADD", "rate:z:1", "1700000000123", "req-1"], ["ZREMRANGEBYSCORE", "rate:z:1", "-inf", "1699999999"],
        ["ZCARD", "rate:z:1"], ["ZADD", "board", "GT", "CH", "12", "ann", "7", "bob"],
        ["ZREVRANGE", "board", "0", "9", "WITHSCORES"], ["ZRANK", "board", "bob"], ["ZINCRBY", "board", "3", "bob"],
        ["PFADD", "visitors", "a", "b", "c"], ["PFCOUNT", "visitors"], ["SETBIT", "active", "7", "1"],
        ["BITCOUNT", "active"], ["BITFIELD", "bf", "INCRBY", "u8", "0", "300", "OVERFLOW", "SAT"],
    ],
    "event-stream": [
        ["XADD", "events", "MAXLEN", "~", "1000", "*", "type", "order", "id", "7"],
        ["XGROUP", "CREATE", "events", "workers", "$", "MKSTREAM"], ["XADD", "events", "*", "type", "pay"],
        ["XREADGROUP", "GROUP", "workers", "w1", "COUNT", "10", "STREAMS", "events", ">"],
        ["XPENDING", "events", "workers", "-", "+", "10"], ["XACK", "events", "workers", "0-1"],
        ["XAUTOCLAIM", "events", "workers", "w2", "0", "0-0", "COUNT", "5"], ["XINFO", "GROUPS", "events"],
        ["XCLAIM", "events", "workers", "w2", "0", "0-1", "JUSTID"], ["XTRIM", "events", "MINID", "0-2"],
        ["XRANGE", "events", "-", "+", "COUNT", "2"], ["XREAD", "COUNT", "1", "STREAMS", "events", "0"],
        ["XINFO", "STREAM", "events", "FULL"],
    ],
    "pubsub-and-tx": [
        ["SUBSCRIBE", "news"], ["PSUBSCRIBE", "news.*"], ["UNSUBSCRIBE"], ["PUNSUBSCRIBE"],
        ["PUBLISH", "news", "hello"], ["PUBSUB", "NUMSUB", "news"], ["SPUBLISH", "shard", "x"],
        ["WATCH", "acct:1"], ["MULTI"], ["DECRBY", "acct:1", "5"], ["INCRBY", "acct:2", "5"], ["EXEC"],
        ["MULTI"], ["SET", "a", "1"], ["DISCARD"], ["CLIENT", "SETNAME", "worker"], ["CLIENT", "INFO"],
        ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "cache:"], ["HELLO", "3"], ["GET", "cache:x"],
    ],
    "acl-user": [
        ["ACL", "SETUSER", "app", "on", ">secret", "~app:*", "&*", "+@all", "-@dangerous"],
        ["AUTH", "app", "secret"], ["SET", "app:k", "v"], ["SET", "other:k", "v"], ["ACL", "WHOAMI"],
        ["ACL", "DRYRUN", "app", "GET", "other:k"], ["ACL", "LOG"], ["AUTH", "default", "wrong"],
        ["ACL", "GETUSER", "app"], ["ACL", "DELUSER", "app"], ["ACL", "LIST"],
    ],
}


def command_bytes(argv, containers):
    """One command in the commands target's input: NAMED, the name (and subcommand) as literals,
    the argument count, then each argument as a literal of at most 63 bytes."""
    def literal(b):
        b = b[:63]
        return bytes([len(b)]) + b
    argv = [a if isinstance(a, bytes) else a.encode() for a in argv]
    name, args = argv[0], argv[1:]
    out = b"\xff" + literal(name)
    if name.lower() in containers:
        out += literal(args[0] if args else b"")
        args = args[1:]
    args = args[:12]
    return out + bytes([len(args)]) + b"".join(literal(a) for a in args)


def resp_commands(data):
    """The commands of a captured RESP request stream (multibulk only; what clients send)."""
    commands, i = [], 0
    while data.startswith(b"*", i):
        end = data.index(b"\r\n", i)
        n, i, argv = int(data[i + 1:end]), end + 2, []
        for _ in range(n):
            end = data.index(b"\r\n", i)
            length = int(data[i + 1:end])
            argv.append(data[end + 2:end + 2 + length])
            i = end + 2 + length + 2
        commands.append(argv)
    return commands


def command_seeds(server_binary):
    """The commands target's seeds: the captured client traffic and the workloads above, 48
    commands (the target's most) per seed."""
    names = containers(server_binary)
    sequences = dict(WORKLOADS)
    for name in ("captured-benchmark", "captured-cli"):
        with open(os.path.join(SEEDS, "request_parser", name), "rb") as f:
            data = f.read()[1:]  # after request_parser's control byte
        try:
            sequences[name] = resp_commands(data)
        except (ValueError, IndexError):
            # The capture is cut at CAP bytes: the commands before the cut.
            sequences[name] = resp_commands(data[:data.rindex(b"\r\n*") + 2])
    for name, commands in sequences.items():
        for part in range(0, len(commands), 48):
            data = b"".join(command_bytes(c, names) for c in commands[part:part + 48])
            write("commands", "%s-%d" % (name, part // 48), data)


def main():
    ours, ours_sentinel = sys.argv[1], sys.argv[2]
    shutil.rmtree(SEEDS, ignore_errors=True)
    configs()
    files("/usr/bin/redis-server", "redis")
    files(ours, "ours")
    traffic("/usr/bin/redis-server")
    sentinel_conf("/usr/bin/redis-server", "/usr/bin/redis-sentinel", "redis")
    sentinel_conf(ours, ours_sentinel, "ours")
    command_seeds("/usr/bin/redis-server")



if __name__ == "__main__":
    main()
