#!/usr/bin/env bash
# Regenerates Redis 7.0.15's command metadata that src/commands/metadata.rs embeds:
#   src/commands/redis-7.0.15-command-docs.resp   the raw RESP3 reply to COMMAND DOCS
#   src/commands/redis-7.0.15-command-info.resp   the raw RESP3 reply to COMMAND INFO
#   src/commands/redis-7.0.15-sentinel-command-{docs,info}.resp   COMMAND DOCS/INFO SENTINEL, from
#       Debian's redis-sentinel (SENTINEL exists only in Sentinel mode)
# It needs Debian's redis-server and redis-sentinel 7.0.15 (/usr/bin/redis-server,
# /usr/bin/redis-sentinel): it starts a throw-away instance of each on a local port, asks it, and
# stops it. Run it from anywhere; it writes into
# the repository. The files are byte-for-byte what the server sent (CLIENT REPLY SKIP hides the
# replies to HELLO and QUIT), so nothing here interprets them. Redis lists commands and subcommands
# in its hash tables' order, which differs from run to run: a new capture reorders the files
# without changing what they say (metadata.rs looks entries up by name).
set -euo pipefail
cd "$(dirname "$0")/.."

redis_server=${REDIS_SERVER:-/usr/bin/redis-server}
version=$("$redis_server" --version)
case "$version" in
    *"v=7.0.15 "*) ;;
    *) echo "need Redis 7.0.15 (Debian's redis-server), found: $version" >&2; exit 1 ;;
esac

# A port nothing listens on (a busy one would answer for the server that failed to start).
port=${PORT:-}
while [ -z "$port" ] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((20000 + RANDOM % 20000))
done
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT

# One reply from a fresh connection: RESP3, the command's reply only, then the server closes it
# (QUIT; a sentinel has no QUIT, but CLIENT KILL SKIPME no closes every connection, this one too).
ask() {
    local cmd=$1 out=$2 close=${3:-QUIT}
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'CLIENT REPLY SKIP\r\nHELLO 3\r\n%s\r\nCLIENT REPLY SKIP\r\n%s\r\n' "$cmd" "$close" >&3
    cat <&3 >"$out.tmp"
    exec 3<&-
    [ -s "$out.tmp" ] || { echo "no reply to $cmd" >&2; exit 1; }
    mv "$out.tmp" "$out"
}

wait_listening() {
    for _ in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
        sleep 0.1
    done
    echo "nothing listens on $port" >&2
    exit 1
}
stop() {
    local pid
    pid=$(cat "$dir/pid")
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

"$redis_server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/pid" --logfile "$dir/log"
wait_listening
ask "COMMAND DOCS" src/commands/redis-7.0.15-command-docs.resp
ask "COMMAND INFO" src/commands/redis-7.0.15-command-info.resp
stop

# A sentinel needs a writable config with a master to monitor; nothing needs to run there.
printf 'port %s\nbind 127.0.0.1\ndaemonize yes\npidfile %s/pid\nlogfile %s/log\nsentinel monitor m 127.0.0.1 1 1\n' \
    "$port" "$dir" "$dir" >"$dir/sentinel.conf"
"${REDIS_SENTINEL:-/usr/bin/redis-sentinel}" "$dir/sentinel.conf"
wait_listening
ask "COMMAND DOCS SENTINEL" src/commands/redis-7.0.15-sentinel-command-docs.resp "CLIENT KILL SKIPME no"
ask "COMMAND INFO SENTINEL" src/commands/redis-7.0.15-sentinel-command-info.resp "CLIENT KILL SKIPME no"
echo "wrote src/commands/redis-7.0.15-command-{docs,info}.resp and redis-7.0.15-sentinel-command-{docs,info}.resp"
