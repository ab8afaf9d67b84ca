#!/usr/bin/env python3
"""The client side of tests/e2e/chaos.sh: a writer that confirms each write with WAIT, and a checker.

    chaos_client.py write CONFIRMED_FILE SENTINEL_ADDR...   runs until killed
    chaos_client.py check CONFIRMED_FILE SENTINEL_ADDR...   prints "confirmed N lost M [first lost ids]"

The writer finds the master through the Sentinels (redis-py's Sentinel support, as applications do),
writes `SET chaos:N N`, then `WAIT 1 1000`; a write at least one replica acknowledged is confirmed,
and its N is appended to CONFIRMED_FILE (flushed at once, so a checker sees it). Any error (the
master gone, READONLY from a demoted master, NOREPLICAS from min-replicas-to-write) moves on to the
next N after a short pause: a write that was not confirmed may or may not be there, and is not
counted. The checker asks the Sentinels for the master and verifies every confirmed key is there.
"""

import sys
import time

import redis
from redis.sentinel import Sentinel


def sentinel(addrs):
    hosts = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in addrs]
    return Sentinel(hosts, socket_timeout=0.5, socket_connect_timeout=0.5)


def write(confirmed_path, addrs):
    master = sentinel(addrs).master_for("mymaster", socket_timeout=1.0, socket_connect_timeout=0.5)
    n = 0
    with open(confirmed_path, "a", buffering=1) as out:
        while True:
            n += 1
            try:
                master.set(f"chaos:{n}", n)
                if master.execute_command("WAIT", 1, 1000) >= 1:
                    out.write(f"{n}\n")
                # About 200 confirmed writes a second: enough to catch a loss, little enough for
                # the check to read them all back each round.
                time.sleep(0.005)
            except (redis.exceptions.RedisError, OSError):
                time.sleep(0.1)


def check(confirmed_path, addrs):
    with open(confirmed_path) as f:
        # The last piece is empty, or a line the writer is still writing.
        ids = f.read().split("\n")[:-1]
    master = sentinel(addrs).master_for("mymaster", socket_timeout=5.0)
    lost = []
    for i in range(0, len(ids), 1000):
        batch = ids[i : i + 1000]
        values = master.mget([f"chaos:{n}" for n in batch])
        lost.extend(n for n, v in zip(batch, values) if v is None or v.decode() != n)
    print(f"confirmed {len(ids)} lost {len(lost)}" + (f" [{' '.join(lost[:10])}]" if lost else ""))


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("write", "check"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    (write if sys.argv[1] == "write" else check)(sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    main()
