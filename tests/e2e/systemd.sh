#!/usr/bin/env bash
# End-to-end test of the .deb under a real, booted systemd: a cached debootstrapped Debian 12 root
# is booted with systemd-nspawn on an overlay (tests/e2e/lib.sh), the package is installed, and the
# service, socket activation, journald fields, capabilities, redisctl --apply and purge are checked.
# The container is powered off and every mount and directory removed, even on failure.
#
# Usage: tests/e2e/systemd.sh PATH/TO/redis-rs_VERSION_ARCH.deb [fresh|migration]   (as root)
#   fresh      a clean Debian 12 (default)
#   migration  Debian's redis-server installed, configured and holding data first
set -euo pipefail

deb=$(realpath "$1")
scenario=${2:-fresh}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
case "$scenario" in
    fresh) root=$(e2e_root bookworm "") ;;
    migration) root=$(e2e_root bookworm-redis ",redis-server") ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
work=$(mktemp -d /var/tmp/redis-rs-e2e.XXXXXX)

inside() { in_container host "$@"; }
fail() {
    printf '[e2e] FAIL: %s\n' "$*"
    if [ -n "${e2e_init_pid[host]:-}" ]; then
        echo "--- systemctl status (inside the container)"
        inside systemctl status --no-pager redis-server-rs.service redis-server-rs.socket 2>&1 | tail -n 30 || true
        echo "--- journalctl -u redis-server-rs"
        inside journalctl -u redis-server-rs --no-pager 2>&1 | tail -n 30 || true
        echo "--- journalctl -u redis-server-rs@*"
        inside journalctl -u 'redis-server-rs@*' --no-pager 2>&1 | tail -n 30 || true
    fi
    exit 1
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

# The container must not touch the host's redis: its own network namespace, only loopback.
e2e_boot host "$root" --private-network
cp "$deb" "$(e2e_rootfs host)/root/redis-rs.deb"

if [ "$scenario" = migration ]; then
    # The admin's setup with Debian's packages: a changed redis.conf and data on disk.
    wait_for "Debian's redis-server" inside systemctl is-active --quiet redis-server.service
    inside sh -c 'echo "maxmemory 123mb" >> /etc/redis/redis.conf'
    inside systemctl restart redis-server.service
    wait_for "Debian's redis-server after restart" inside redis-cli ping
    inside redis-cli set migrated-key value >/dev/null
    inside redis-cli save >/dev/null
    inside test -s /var/lib/redis/dump.rdb || fail "Debian's redis-server wrote no dump.rdb"
    log "installing the package over Debian's redis-server (the admin keeps their redis.conf)"
    inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confold \
        /root/redis-rs.deb >"$work/dpkg.log" 2>&1 || fail "apt-get install: $(cat "$work/dpkg.log")"
    grep -q '^maxmemory 123mb$' <(inside cat /etc/redis/redis.conf) || fail "the admin's redis.conf was replaced"
    inside test -s /var/lib/redis/dump.rdb || fail "the data in /var/lib/redis is gone"
    wait_for "the service" inside systemctl is-active --quiet redis-server-rs.service
    [ "$(inside redis-cli -p 6379 config get maxmemory | tail -n 1)" = 128974848 ] \
        || fail "redis-server-rs does not run with the admin's redis.conf"
    log "migration keeps the admin's redis.conf and /var/lib/redis; redis-server-rs serves with it"
    echo "e2e migration: 1 passed, 0 failed"
    exit 0
fi

log "installing the package"
inside env DEBIAN_FRONTEND=noninteractive dpkg -i /root/redis-rs.deb >"$work/dpkg.log" 2>&1 \
    || fail "dpkg -i: $(cat "$work/dpkg.log")"

wait_for "the service" inside systemctl is-active --quiet redis-server-rs.service
[ "$(inside systemctl is-enabled redis-server-rs.service)" = enabled ] || fail "service not enabled"
[ "$(inside systemctl is-active redis-server-rs.socket)" = active ] || fail "socket not active"
[ "$(inside redis-cli -p 6379 ping)" = PONG ] || fail "PING over TCP"
[ "$(inside redis-cli -s /run/redis-rs/redis-server.sock ping)" = PONG ] || fail "PING over the unix socket"
log "service active and enabled; PING over TCP and the unix socket"

# Sentinel: enabled and started with the package, watching the local master as Debian's
# sentinel.conf says, saving its ID into the file, its events in the journal.
wait_for "the sentinel" inside systemctl is-active --quiet redis-sentinel-rs.service
[ "$(inside systemctl is-enabled redis-sentinel-rs.service)" = enabled ] || fail "sentinel not enabled"
sentinel_sees_master() { [ "$(inside redis-cli -p 26379 sentinel get-master-addr-by-name mymaster | tr '\n' ' ')" = "127.0.0.1 6379 " ]; }
wait_for "the sentinel to answer the master's address" sentinel_sees_master
grep -q '^sentinel myid [0-9a-f]\{40\}$' <(inside cat /etc/redis/sentinel.conf) || fail "the sentinel did not save its ID"
inside journalctl -u redis-sentinel-rs.service SENTINEL_EVENT=+monitor MASTER_NAME=mymaster MASTER_IP=127.0.0.1 MASTER_PORT=6379 --no-pager -o cat \
    | grep -q '+monitor master mymaster 127.0.0.1 6379 quorum 2' || fail "no SENTINEL_EVENT=+monitor in the journal"
pid=$(inside systemctl show -p MainPID --value redis-sentinel-rs.service)
grep -q '^CapEff:[[:space:]]*0000000000000000$' <(inside cat "/proc/$pid/status") || fail "the sentinel's CapEff is not 0"
log "the sentinel runs (socket-activated, no capabilities), knows the master, saved its ID, logs SENTINEL_EVENT"

status=$(inside systemctl status redis-server-rs.service --no-pager || true)
grep -q 'Status: "Ready to accept connections"' <<<"$status" || fail "no STATUS line in systemctl status: $status"

pid=$(inside systemctl show -p MainPID --value redis-server-rs.service)
[ "$(inside ps -o user= -p "$pid" | tr -d ' ')" = redis ] || fail "the server does not run as redis"
grep -q '^CapEff:[[:space:]]*0000000000000000$' <(inside cat "/proc/$pid/status") || fail "CapEff is not 0"
log "runs as redis with no capabilities; systemctl status shows the STATUS text"

journal=$(inside journalctl -u redis-server-rs -o export --no-pager)
grep -q '^REDIS_PORT=6379$' <<<"$journal" || fail "no REDIS_PORT field in the journal"
grep -q '^REDIS_ROLE=master$' <<<"$journal" || fail "no REDIS_ROLE field in the journal"
grep -q 'Ready to accept connections' <<<"$journal" || fail "start-up lines missing from the journal"
inside journalctl -u redis-server-rs -p warning --no-pager | grep -q 'These directives are accepted' \
    || fail "journalctl -p warning does not find the start-up warning"
log "journald has the start-up lines with REDIS_ROLE and REDIS_PORT, and priorities (-p warning)"

inside systemctl stop redis-server-rs.service
[ "$(inside redis-cli -p 6379 ping)" = PONG ] || fail "socket activation did not start the stopped service"
wait_for "the socket-activated service" inside systemctl is-active --quiet redis-server-rs.service
log "a connection to the socket starts the stopped service"

inside systemctl restart redis-server-rs.service
wait_for "the restarted service" inside systemctl is-active --quiet redis-server-rs.service
[ "$(inside redis-cli -p 6379 ping)" = PONG ] || fail "PING after restart"

# CONFIG REWRITE works under the hardened unit: it renames a temp file into /etc/redis.
[ "$(inside redis-cli -p 6379 config set maxmemory 100mb)" = OK ] || fail "CONFIG SET maxmemory"
[ "$(inside redis-cli -p 6379 config rewrite)" = OK ] || fail "CONFIG REWRITE under the unit"
grep -q '^maxmemory 100mb$' <(inside cat /etc/redis/redis.conf) || fail "CONFIG REWRITE did not update redis.conf"
inside redisctl --apply protected-mode no >/dev/null
# With the socket unit enabled, redisctl bind --apply goes through a drop-in for the socket unit.
inside redisctl --apply bind 127.0.0.1 >"$work/bind.log" 2>&1 || fail "redisctl bind --apply: $(cat "$work/bind.log")"
wait_for "the service after redisctl bind" inside systemctl is-active --quiet redis-server-rs.service
listen=$(inside systemctl show -p Listen redis-server-rs.socket)
grep -q '127.0.0.1:6379' <<<"$listen" || fail "the socket unit does not listen on 127.0.0.1:6379: $listen"
if grep -q '\[::1\]:6379' <<<"$listen"; then fail "the socket unit still listens on [::1]:6379: $listen"; fi
[ "$(inside redis-cli -p 6379 ping)" = PONG ] || fail "PING after redisctl bind --apply"
grep -q '^bind 127.0.0.1$' <(inside cat /etc/redis/redis.conf) || fail "redisctl bind did not edit redis.conf"
[ "$(inside redis-cli -p 6379 config get protected-mode | tail -n 1)" = no ] || fail "redisctl --apply protected-mode"
log "restart works; CONFIG REWRITE works under the unit; redisctl --apply takes effect"

# A second instance (the templated unit) replicates the first one: systemctl status follows the
# master link, and the journal has the replication events with their REDIS_EVENT field.
inside sh -c 'printf "port 6380\nreplicaof 127.0.0.1 6379\ndir /var/lib/redis\ndbfilename replica.rdb\nsupervised systemd\nlogfile \"\"\n" >/etc/redis/redis-replica.conf'
inside chown redis:redis /etc/redis/redis-replica.conf
inside chmod 0640 /etc/redis/redis-replica.conf
[ "$(inside redis-cli -p 6379 set e2e-replicated yes)" = OK ] || fail "SET on the master"
inside systemctl start redis-server-rs@replica.service || fail "starting redis-server-rs@replica"
replica_has_key() { [ "$(inside redis-cli -s /run/redis-rs/redis-server-replica.sock get e2e-replicated)" = yes ]; }
wait_for "the replica to sync" replica_has_key
status=$(inside systemctl status redis-server-rs@replica.service --no-pager || true)
grep -q 'Status: "Ready to accept connections; replica of 127.0.0.1:6379, link up"' <<<"$status" \
    || fail "systemctl status of the replica does not show its master link: $status"
inside journalctl -u redis-server-rs@replica.service REDIS_EVENT=master-link-up --no-pager -o cat \
    | grep -q 'Master accepted, link up' || fail "no REDIS_EVENT=master-link-up in the replica's journal"
inside journalctl -u redis-server-rs.service REDIS_EVENT=replica-synced --no-pager -o cat \
    | grep -q 'Synchronization with replica' || fail "no REDIS_EVENT=replica-synced in the master's journal"
[ "$(inside redis-cli -s /run/redis-rs/redis-server-replica.sock set x 1)" = "READONLY You can't write against a read only replica." ] \
    || fail "the replica accepts writes"
inside systemctl stop redis-server-rs@replica.service redis-server-rs@replica.socket
log "a templated instance replicates the first one: status line, journal events, read-only"

inside env DEBIAN_FRONTEND=noninteractive dpkg --purge redis-rs >"$work/purge.log" 2>&1 || fail "purge: $(cat "$work/purge.log")"
inside test ! -e /etc/redis/redis.conf || fail "purge left /etc/redis/redis.conf"
inside test ! -e /etc/redis/sentinel.conf || fail "purge left /etc/redis/sentinel.conf"
inside test -d /var/lib/redis || fail "purge removed /var/lib/redis (data must stay)"
if inside dpkg-statoverride --list /etc/redis >/dev/null 2>&1; then fail "purge left the statoverride of /etc/redis"; fi
log "purge removes the configuration and the overrides, keeps /var/lib/redis"
echo "e2e: 1 passed, 0 failed"
