#!/usr/bin/env python3
"""Phase-by-phase trace of a Sentinel failover, Debian's sentinels against ours.

The scenario of bench/run.sh's sentinel section: a real master with two real replicas, three
sentinels (quorum 2, down-after 1000 ms), the master killed with SIGKILL. Every sentinel logs at
`loglevel verbose`; the events' millisecond timestamps are printed relative to the kill, with the
moment each sentinel first answered the new address to SENTINEL GET-MASTER-ADDR-BY-NAME.

Usage: bench/sentinel_trace.py [rounds] [impls]   e.g. `bench/sentinel_trace.py 3 redis,ours`
Environment: REDIS_RS_BIN (default target/release/redis-server-rs), TRACE_LOGLEVEL (the
sentinels' loglevel, default verbose; bench/run.sh's sentinels run at notice).
"""

import datetime
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.environ.get("REDIS_RS_BIN", os.path.join(ROOT, "target/release/redis-server-rs"))
DOWN_AFTER = 1000
# The sentinels' loglevel: verbose shows the role changes too, notice is what bench/run.sh runs
# with (Redis opens and closes its log file for every line, so verbose slows it a little).
SENTINEL_LOGLEVEL = os.environ.get("TRACE_LOGLEVEL", "verbose")

EVENTS = [
    "+sdown",
    "+odown",
    "+new-epoch",
    "+try-failover",
    "+vote-for-leader",
    "+elected-leader",
    "+failover-state-select-slave",
    "+selected-slave",
    "+failover-state-send-slaveof-noone",
    "+failover-state-wait-promotion",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "+config-update-from",
    "+slave-reconf-sent",
    "+slave-reconf-inprog",
    "+slave-reconf-done",
    "+failover-end",
    "+switch-master",
    "-odown",
    "+role-change",
    "-role-change",
    "+tilt",
    "-failover-abort-not-elected",
]


def now_ms():
    return time.time() * 1000.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(port, *args, timeout=0.5):
    """One command over a fresh connection; the reply as Python values (None on any failure)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            f = s.makefile("rb")
            return read_reply(f)
    except OSError:
        return None


def read_reply(f):
    line = f.readline()
    if not line:
        raise OSError("closed")
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b"-"):
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise OSError("bad reply")


def wait(cond, what, deadline_s=60):
    end = time.time() + deadline_s
    while not cond():
        if time.time() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def log_time(line):
    # "pid:X 21 Nov 2025 13:37:05.123 # message"
    m = re.match(r"\d+:\w (\d+ \w+ \d+ \d+:\d+:\d+\.\d+) . (.*)", line)
    if not m:
        return None, None
    t = datetime.datetime.strptime(m.group(1), "%d %b %Y %H:%M:%S.%f").timestamp() * 1000.0
    return t, m.group(2)


def run_round(impl, workdir):
    procs = []
    try:
        ports = {}
        for role in ("m", "r1", "r2"):
            ports[role] = free_port()
            d = os.path.join(workdir, role)
            os.makedirs(d)
            args = ["/usr/bin/redis-server", "--port", str(ports[role]), "--bind", "127.0.0.1", "--dir", d,
                    "--save", "", "--appendonly", "no", "--logfile", os.path.join(d, "log"),
                    "--loglevel", "verbose"]
            if role != "m":
                args += ["--replicaof", "127.0.0.1", str(ports["m"])]
            procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        master_pid = procs[0].pid
        # As in bench/run.sh, the sentinels start as soon as the servers answer: the replicas are
        # still syncing (diskless, after repl-diskless-sync-delay), so their INFO shows the link
        # down and sentinels poll them every second from the start.
        for role in ("m", "r1", "r2"):
            wait(lambda: command(ports[role], "PING") == "PONG", f"{role} up")
        sports = []
        for i in range(3):
            port = free_port()
            d = os.path.join(workdir, f"s{i}")
            os.makedirs(d)
            conf = os.path.join(d, "sentinel.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\ndir {d}\nlogfile {d}/log\nloglevel {SENTINEL_LOGLEVEL}\n"
                        f"sentinel monitor mymaster 127.0.0.1 {ports['m']} 2\n"
                        f"sentinel down-after-milliseconds mymaster {DOWN_AFTER}\n"
                        f"sentinel failover-timeout mymaster 10000\n")
            if impl == "redis":
                args = ["/usr/bin/redis-sentinel", conf]
            else:
                args = [OURS, conf, "--sentinel"]
            procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            sports.append(port)

        def ready(p):
            r = command(p, "SENTINEL", "MASTER", "mymaster")
            if not isinstance(r, list):
                return False
            kv = dict(zip(r[::2], r[1::2]))
            return kv.get("num-slaves") == "2" and kv.get("num-other-sentinels") == "2"

        for p in sports:
            wait(lambda: ready(p), "sentinels ready")
        old = str(ports["m"])
        os.kill(master_pid, signal.SIGKILL)
        t0 = now_ms()
        answered = {}
        end = time.time() + 60
        while len(answered) < 3 and time.time() < end:
            for i, p in enumerate(sports):
                if i in answered:
                    continue
                r = command(p, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
                if isinstance(r, list) and len(r) == 2 and r[1] != old:
                    answered[i] = now_ms() - t0
            time.sleep(0.01)
        time.sleep(1.5)  # let the leader finish for the log
        return t0, answered, ports
    finally:
        for p in procs:
            try:
                p.kill()
                p.wait()
            except OSError:
                pass


def trace(impl, workdir, t0, answered, ports):
    rows = {}
    for i in range(3):
        events = []
        with open(os.path.join(workdir, f"s{i}", "log")) as f:
            for line in f:
                t, msg = log_time(line)
                if t is None or t < t0 - 50:
                    continue
                word = msg.split(" ", 1)[0]
                if word in EVENTS or "voted for" in msg:
                    events.append((t - t0, msg))
        rows[i] = events
    print(f"--- {impl}: all answered at {max(answered.values()):.0f} ms "
          f"({', '.join(f's{i}={v:.0f}' for i, v in sorted(answered.items()))})")
    for i in range(3):
        for t, msg in rows[i]:
            print(f"  s{i} {t:7.0f} {msg[:110]}")
    for role in ("r1", "r2"):
        with open(os.path.join(workdir, role, "log")) as f:
            for line in f:
                t, msg = log_time(line)
                if t is None or t < t0 - 50:
                    continue
                if any(k in msg for k in ("MASTER MODE", "Connecting to MASTER", "REPLICAOF", "Finished with success",
                                          "Connection with master lost", "Error condition on socket")):
                    print(f"  {role} {t - t0:7.0f} {msg[:110]}")
    return rows


def phase(rows, word, first=True):
    ts = [t for ev in rows.values() for t, msg in ev if msg.split(" ", 1)[0] == word]
    if not ts:
        return None
    return min(ts) if first else max(ts)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    impls = (sys.argv[2] if len(sys.argv) > 2 else "redis,ours").split(",")
    summary = {impl: [] for impl in impls}
    for r in range(rounds):
        for impl in impls:
            workdir = tempfile.mkdtemp(prefix=f"strace-{impl}-")
            try:
                t0, answered, ports = run_round(impl, workdir)
                if len(answered) < 3:
                    print(f"--- {impl}: did not fail over")
                    continue
                rows = trace(impl, workdir, t0, answered, ports)
                summary[impl].append({
                    "sdown": phase(rows, "+sdown"),
                    "odown": phase(rows, "+odown"),
                    "try": phase(rows, "+try-failover"),
                    "elected": phase(rows, "+elected-leader"),
                    "wait-prom": phase(rows, "+failover-state-wait-promotion"),
                    "promoted": phase(rows, "+promoted-slave"),
                    "switch1": phase(rows, "+switch-master"),
                    "switch3": phase(rows, "+switch-master", first=False),
                    "all": max(answered.values()),
                })
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    keys = ["sdown", "odown", "try", "elected", "wait-prom", "promoted", "switch1", "switch3", "all"]
    print()
    print("impl  " + "".join(f"{k:>10}" for k in keys))
    for impl in impls:
        for s in summary[impl]:
            print(f"{impl:6}" + "".join(f"{(s[k] if s[k] is not None else -1):10.0f}" for k in keys))
        meds = []
        for k in keys:
            vals = [s[k] for s in summary[impl] if s[k] is not None]
            meds.append(statistics.median(vals) if vals else -1)
        print(f"{'  med':6}" + "".join(f"{v:10.0f}" for v in meds))


if __name__ == "__main__":
    main()
