#!/bin/bash
# Memory per sorted set member, ours against Debian's redis-server 7.0: N members "member:<i>"
# with distinct scores go into one key through pipelined ZADDs (100 members each); the figure is
# INFO used_memory after minus before, divided by N. Prints one line per server.
#
#   scripts/zset-memory.sh [our-binary]      (default target/release/redis-server-rs)
#   N=1000000 ORDER=random|sequential PORT_OURS=17101 PORT_REAL=17102
set -euo pipefail

OURS=${1:-target/release/redis-server-rs}
REAL=${REAL:-/usr/bin/redis-server}
N=${N:-1000000}
ORDER=${ORDER:-random}
PORT_OURS=${PORT_OURS:-17101}
PORT_REAL=${PORT_REAL:-17102}

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The ZADD stream, in RESP, generated once for both servers.
if [ "$ORDER" = random ]; then
    seq 0 $((N - 1)) | shuf --random-source=<(yes)
else
    seq 0 $((N - 1))
fi | awk -v batch=100 '
    function flush() {
        if (n == 0) return
        printf "*%d\r\n$4\r\nZADD\r\n$3\r\nbig\r\n", 2 + 2 * n
        for (k = 0; k < n; k++) printf "%s", item[k]
        n = 0
    }
    {
        score = sprintf("%.2f", $1 * 1.5 + 0.25); member = "member:" $1
        item[n++] = sprintf("$%d\r\n%s\r\n$%d\r\n%s\r\n", length(score), score, length(member), member)
        if (n == batch) flush()
    }
    END { flush() }' >"$work/zadd.resp"

used_memory() {
    redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'
}

measure() {
    local name=$1 bin=$2 port=$3
    "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        redis-cli -p "$port" PING >/dev/null 2>&1 && break
        sleep 0.1
    done
    local before after
    before=$(used_memory "$port")
    redis-cli -p "$port" --pipe <"$work/zadd.resp" >/dev/null
    after=$(used_memory "$port")
    printf '%-6s %s members (%s order): used_memory %s -> %s, %s bytes per member, encoding %s\n' \
        "$name" "$(redis-cli -p "$port" ZCARD big)" "$ORDER" "$before" "$after" \
        "$(awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN { printf "%.1f", (a - b) / n }')" \
        "$(redis-cli -p "$port" OBJECT ENCODING big)"
}

measure redis "$REAL" "$PORT_REAL"
measure ours "$OURS" "$PORT_OURS"
