#!/usr/bin/env python3
"""A bounded soak: a master and a replica of redis-server-rs under a mixed workload for MINUTES.

    scripts/soak.py [--minutes 30] [--server target/release/redis-server-rs] [--warmup 5]

The workload, on a bounded keyspace: strings with and without TTLs (expiry), counters, lists fed
and drained by blocking pops, hashes, sorted sets, capped streams, pub/sub (channels and
patterns), MULTI/EXEC, a BGSAVE a minute, and connections opened and closed all along. Every 30 s
it prints each server's RSS, open fds, used_memory and clients. At the end it checks:

  - RSS after the warm-up stays flat (the last sample within 15 % of the warm-up's, or 8 MB);
  - the fds other than client connections do not grow (the last count at most the warm-up's + 3);
  - the replica has the master's dataset (same DBSIZE and DEBUG DIGEST once writes stop);
  - both servers still answer, and shut down cleanly.

Exits non-zero when a check fails (a server's exit status included). Needs redis-py (Debian's
python3-redis).

Under LeakSanitizer, which reports what is left allocated when a server exits (and then exits 23):

    RUSTFLAGS=-Zsanitizer=leak cargo +nightly build --release --features system-alloc \
        --target x86_64-unknown-linux-gnu --target-dir target/lsan --bin redis-server-rs
    scripts/soak.py --leak-check --server target/lsan/x86_64-unknown-linux-gnu/release/redis-server-rs

--leak-check also fails the soak unless each server's log shows that the check ran to its end:
LeakSanitizer exits 0 without a word when it cannot suspend the other threads (ptrace EPERM, as
when a thread holds capabilities the others dropped), which would pass for "no leak".
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

KEYS = 20_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, port, workdir, extra, leak_check=False):
    log = open(os.path.join(workdir, f"{port}.log"), "w")
    env = dict(os.environ)
    if leak_check:
        # verbosity=1 logs "checking for leaks" and any failure to suspend a thread.
        env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"), "verbosity=1", "exitcode=23"]))
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--dbfilename", f"{port}.rdb",
            "--save", "", "--enable-debug-command", "yes"] + extra
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if redis.Redis(port=port).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Workload:
    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.errors = []
        self.ops = 0
        self.messages = 0

    def guard(self, fn):
        def run():
            try:
                fn()
            except Exception as e:  # a failure is reported, and the soak fails
                if not self.stop.is_set():
                    self.errors.append(f"{fn.__name__}: {e!r}")
        return threading.Thread(target=run, daemon=True)

    def writer(self):
        r = redis.Redis(port=self.port)
        rnd = random.Random(1)
        while not self.stop.is_set():
            p = r.pipeline(transaction=False)
            for _ in range(50):
                k = rnd.randrange(KEYS)
                op = rnd.randrange(10)
                if op == 0:
                    p.set(f"s:{k}", "v" * rnd.randrange(1, 300), ex=rnd.randrange(1, 20))
                elif op == 1:
                    p.set(f"s:{k}", "x" * rnd.randrange(1, 300))
                elif op == 2:
                    p.incr(f"n:{k % 100}")
                elif op == 3:
                    p.hset(f"h:{k % 500}", f"f{k}", k)
                elif op == 4:
                    p.zadd(f"z:{k % 200}", {f"m{k}": rnd.random()})
                elif op == 5:
                    p.xadd(f"x:{k % 20}", {"f": k, "g": "payload"}, maxlen=1000, approximate=True)
                elif op == 6:
                    p.delete(f"s:{k}", f"h:{k % 500}")
                elif op == 7:
                    p.get(f"s:{k}")
                elif op == 8:
                    p.pexpire(f"z:{k % 200}", rnd.randrange(100, 5000))
                else:
                    p.zremrangebyrank(f"z:{k % 200}", 0, -100)
            p.execute()
            with r.pipeline(transaction=True) as t:
                t.incr("tx:counter").lpush("tx:list", "a").ltrim("tx:list", 0, 99).execute()
            self.ops += 52

    def producer(self):
        r = redis.Redis(port=self.port)
        i = 0
        while not self.stop.is_set():
            r.lpush(f"q:{i % 4}", f"job-{i}")
            r.publish(f"chan:{i % 8}", f"message-{i}")
            i += 1
            # At most about 500 messages a second, and never far ahead of the subscriber: a
            # subscriber slower than its publisher is dropped at the pubsub output limit, as Redis
            # drops it (correct, and tested elsewhere; here it would end the soak). Each publish
            # reaches the subscriber once through its pattern, and 2 in 8 once more by name.
            if i % 5 == 0:
                time.sleep(0.01)
            while not self.stop.is_set() and i * 5 // 4 - self.messages > 5000:
                time.sleep(0.01)

    def consumer(self):
        r = redis.Redis(port=self.port)
        n = 0
        while not self.stop.is_set():
            # Every queue drained in turn, so that none grows (BLMPOP takes from the first
            # non-empty key it is given).
            keys = [f"q:{(n + j) % 4}" for j in range(4)]
            n += 1
            r.execute_command("BLMPOP", 1, 4, *keys, "LEFT", "COUNT", 50)
            r.rpoplpush(keys[0], "q:done")
            r.ltrim("q:done", 0, 999)

    def subscriber(self):
        r = redis.Redis(port=self.port)
        ps = r.pubsub()
        ps.subscribe("chan:1", "chan:2")
        ps.psubscribe("chan:*")
        while not self.stop.is_set():
            m = ps.get_message(timeout=1)
            if m and m["type"] in ("message", "pmessage"):
                self.messages += 1
        ps.close()

    def churn(self):
        rnd = random.Random(2)
        while not self.stop.is_set():
            clients = [redis.Redis(port=self.port) for _ in range(rnd.randrange(1, 20))]
            for c in clients:
                c.client_setname("churn")
                c.get(f"s:{rnd.randrange(KEYS)}")
            for c in clients:
                c.close()
            # A client that leaves in the middle of a blocking pop.
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$7\r\nq:never\r\n$1\r\n0\r\n")
            time.sleep(0.05)
            s.close()
            time.sleep(0.2)

    def saver(self):
        r = redis.Redis(port=self.port)
        while not self.stop.wait(60):
            try:
                r.bgsave()
            except redis.ResponseError:
                pass  # one still running

    def threads(self):
        return [self.guard(f) for f in (self.writer, self.producer, self.consumer, self.subscriber, self.churn,
                                        self.saver)]


def leak_check_failures(log_path, port):
    """What the server's log says against LeakSanitizer having checked it to the end."""
    with open(log_path, errors="replace") as f:
        text = f.read()
    failures = []
    if "LeakSanitizer: checking for leaks" not in text:
        failures.append(f"server on {port}: LeakSanitizer did not check (is it a LeakSanitizer build?)")
    for sign in ("Could not attach", "LeakSanitizer has encountered a fatal error", "ERROR: LeakSanitizer"):
        if sign in text:
            failures.append(f"server on {port}: {sign} (see {log_path})")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5, help="minutes before the reference sample")
    ap.add_argument("--server", default="target/release/redis-server-rs")
    ap.add_argument("--leak-check", action="store_true", help="the server is a LeakSanitizer build")
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="soak.")
    mport, rport = free_port(), free_port()
    master = start(a.server, mport, workdir, [], a.leak_check)
    replica = start(a.server, rport, workdir, ["--replicaof", "127.0.0.1", str(mport)], a.leak_check)
    w = Workload(mport)
    ts = w.threads()
    for t in ts:
        t.start()
    start_t = time.time()
    samples = []
    print("min    role     rss_kb  fds* used_memory clients   ops  messages   (*: not counting clients)", flush=True)
    warm = None
    while time.time() - start_t < a.minutes * 60:
        time.sleep(30)
        minute = (time.time() - start_t) / 60
        row = {}
        for role, proc, port in (("master", master, mport), ("replica", replica, rport)):
            info = redis.Redis(port=port).info()
            # The fds that are not client connections (those come and go with the churn).
            row[role] = (rss_kb(proc.pid), fds(proc.pid) - info["connected_clients"])
            print(f"{minute:5.1f}  {role:7} {row[role][0]:8} {row[role][1]:4} {info['used_memory']:12} "
                  f"{info['connected_clients']:7} {w.ops:6} {w.messages:8}", flush=True)
        samples.append(row)
        if warm is None and minute >= a.warmup:
            warm = row
        if w.errors:
            break
    w.stop.set()
    for t in ts:
        t.join(timeout=10)
    failures = list(w.errors)
    if warm is None:
        failures.append("the soak ended before its warm-up")
    else:
        last = samples[-1]
        for role in ("master", "replica"):
            (r0, f0), (r1, f1) = warm[role], last[role]
            if r1 > max(r0 * 1.15, r0 + 8 * 1024):
                failures.append(f"{role}: RSS grew from {r0} kB after the warm-up to {r1} kB")
            if f1 > f0 + 3:
                failures.append(f"{role}: fds other than clients grew from {f0} after the warm-up to {f1}")
    m, r = redis.Redis(port=mport), redis.Redis(port=rport)
    deadline = time.time() + 60
    while time.time() < deadline:
        mo = m.info("replication")["master_repl_offset"]
        ro = r.info("replication").get("master_repl_offset", -1)
        if mo == ro and m.dbsize() == r.dbsize() and m.execute_command("DEBUG", "DIGEST") == r.execute_command(
                "DEBUG", "DIGEST"):
            break
        time.sleep(0.5)
    else:
        failures.append(f"the replica differs: dbsize {m.dbsize()} / {r.dbsize()}")
    for proc, port in ((replica, rport), (master, mport)):
        try:
            redis.Redis(port=port).shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        if proc.wait(timeout=30) != 0:
            failures.append(f"server on {port} exited with {proc.returncode}")
        if a.leak_check:
            failures += leak_check_failures(os.path.join(workdir, f"{port}.log"), port)
    print(f"ops {w.ops}, messages {w.messages}, log files in {workdir}")
    for f in failures:
        print("FAILED:", f)
    print("soak: ok" if not failures else "soak: FAILED")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
