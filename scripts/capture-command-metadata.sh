#!/usr/bin/env bash
# Regenerates Redis 7.0.15's command metadata that src/commands/metadata.rs embeds:
#   src/commands/redis-7.0.15-command-docs.resp   the raw RESP3 reply to COMMAND DOCS
#   src/commands/redis-7.0.15-command-info.resp   the raw RESP3 reply to COMMAND INFO
# It needs Debian's redis-server 7.0.15 (package redis-server, /usr/bin/redis-server): it starts a
# throw-away instance on a local port, asks it, and stops it. Run it from anywhere; it writes into
# the repository. The files are byte-for-byte what the server sent (CLIENT REPLY SKIP hides the
# replies to HELLO and QUIT), so nothing here interprets them.
set -euo pipefail
cd "$(dirname "$0")/.."

redis_server=${REDIS_SERVER:-/usr/bin/redis-server}
version=$("$redis_server" --version)
case "$version" in
    *"v=7.0.15 "*) ;;
    *) echo "need Redis 7.0.15 (Debian's redis-server), found: $version" >&2; exit 1 ;;
esac

port=${PORT:-$((20000 + RANDOM % 20000))}
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$redis_server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/pid" --logfile "$dir/log"

# One reply from a fresh connection: RESP3, the command's reply only, then the server closes.
ask() {
    local cmd=$1 out=$2
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'CLIENT REPLY SKIP\r\nHELLO 3\r\n%s\r\nCLIENT REPLY SKIP\r\nQUIT\r\n' "$cmd" >&3
    cat <&3 >"$out.tmp"
    exec 3<&-
    [ -s "$out.tmp" ] || { echo "no reply to $cmd" >&2; exit 1; }
    mv "$out.tmp" "$out"
}

for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
done
ask "COMMAND DOCS" src/commands/redis-7.0.15-command-docs.resp
ask "COMMAND INFO" src/commands/redis-7.0.15-command-info.resp
echo "wrote src/commands/redis-7.0.15-command-{docs,info}.resp"
