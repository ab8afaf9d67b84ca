#!/usr/bin/env bash
# End-to-end test of the .deb under a real, booted systemd: a cached debootstrapped Debian 12 root
# is booted with systemd-nspawn on an overlay (tests/e2e/lib.sh), the package is installed with apt
# (its dependencies from a local repository, tests/e2e/lib.sh e2e_repo), and the service, Sentinel
# off until enabled, upgrades keeping the admin's choices, socket activation, journald fields,
# capabilities, redisctl --apply, a shutdown save longer than the stop timeout, purge, and purging
# redis-tools beneath it are checked. The container is powered off and every mount and directory
# removed, even on failure.
#
# Usage: tests/e2e/systemd.sh PATH/TO/redis-rs_VERSION_ARCH.deb [fresh|migration]   (as root)
#   fresh      a clean Debian 12 (default)
#   migration  Debian's redis-server and redis-sentinel installed, configured and holding data first
set -euo pipefail

deb=$(realpath "$1")
scenario=${2:-fresh}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
case "$scenario" in
    fresh) root=$(e2e_root bookworm-base "") ;;
    migration) root=$(e2e_root bookworm-redis-sentinel ",redis-server,redis-sentinel") ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
repo=$(e2e_repo "$root")
work=$(mktemp -d /var/tmp/redis-rs-e2e.XXXXXX)
started=$SECONDS

inside() { in_container host "$@"; }
fail() {
    printf '[e2e] FAIL: %s\n' "$*"
    if [ -n "${e2e_init_pid[host]:-}" ]; then
        echo "--- systemctl status (inside the container)"
        inside systemctl status --no-pager redis-server-rs.service redis-server-rs.socket \
            redis-sentinel-rs.service redis-sentinel-rs.socket 2>&1 | tail -n 40 || true
        echo "--- journalctl -u redis-server-rs -u redis-sentinel-rs"
        inside journalctl -u redis-server-rs -u redis-sentinel-rs --no-pager 2>&1 | tail -n 40 || true
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

# main_pid UNIT: the unit's main PID (0 when it is not running).
main_pid() { inside systemctl show -p MainPID --value "$1"; }
# pidfile_names_unit FILE UNIT: FILE holds UNIT's main PID (a `pidfile` directive did its work).
pidfile_names_unit() { [ "$(inside cat "$1")" = "$(main_pid "$2")" ]; }

if [ "$scenario" = migration ]; then
    # The admin's setup with Debian's packages: a changed redis.conf and data on disk.
    wait_for "Debian's redis-server" inside systemctl is-active --quiet redis-server.service
    inside sh -c 'echo "maxmemory 123mb" >> /etc/redis/redis.conf'
    inside systemctl restart redis-server.service
    wait_for "Debian's redis-server after restart" inside redis-cli ping
    inside redis-cli set migrated-key value >/dev/null
    inside redis-cli save >/dev/null
    inside test -s /var/lib/redis/dump.rdb || fail "Debian's redis-server wrote no dump.rdb"
    # Debian's files keep their pidfile lines, which redis-rs must honour under its hardened units.
    grep -q '^pidfile /run/redis/redis-server.pid$' <(inside cat /etc/redis/redis.conf) \
        || fail "Debian's redis.conf has no pidfile line to migrate"
    # (Debian's Sentinel has rewritten its file by now, quoting the path.)
    grep -Eq '^pidfile "?/run/sentinel/redis-sentinel.pid"?$' <(inside cat /etc/redis/sentinel.conf) \
        || fail "Debian's sentinel.conf has no pidfile line to migrate"
    log "installing the package over Debian's redis-server and redis-sentinel (the admin keeps their files)"
    e2e_apt_install host "$repo" /root/redis-rs.deb -o Dpkg::Options::=--force-confold
    grep -q '^maxmemory 123mb$' <(inside cat /etc/redis/redis.conf) || fail "the admin's redis.conf was replaced"
    inside test -s /var/lib/redis/dump.rdb || fail "the data in /var/lib/redis is gone"
    wait_for "the service" inside systemctl is-active --quiet redis-server-rs.service
    [ "$(inside redis-cli -p 6379 config get maxmemory | tail -n 1)" = 128974848 ] \
        || fail "redis-server-rs does not run with the admin's redis.conf"
    [ "$(inside redis-cli -p 6379 get migrated-key)" = value ] || fail "redis-server-rs did not load Debian's dump.rdb"
    wait_for "the server's pidfile /run/redis/redis-server.pid" pidfile_names_unit /run/redis/redis-server.pid redis-server-rs.service
    inside systemctl enable --now redis-sentinel-rs.service >"$work/enable.log" 2>&1 \
        || fail "systemctl enable --now redis-sentinel-rs: $(cat "$work/enable.log")"
    wait_for "the sentinel" inside systemctl is-active --quiet redis-sentinel-rs.service
    wait_for "the sentinel's pidfile /run/sentinel/redis-sentinel.pid" \
        pidfile_names_unit /run/sentinel/redis-sentinel.pid redis-sentinel-rs.service
    log "migration keeps the admin's files and data; both pidfile lines work under the hardened units"
    echo "e2e migration: 1 passed, 0 failed ($((SECONDS - started)) s)"
    exit 0
fi

log "installing the package with apt (redis-tools and its dependencies from the local repository)"
e2e_apt_install host "$repo" /root/redis-rs.deb

wait_for "the service" inside systemctl is-active --quiet redis-server-rs.service
[ "$(inside systemctl is-enabled redis-server-rs.service)" = enabled ] || fail "service not enabled"
[ "$(inside systemctl is-active redis-server-rs.socket)" = active ] || fail "socket not active"
inside test -x /usr/bin/redis-cli || fail "redis-cli (redis-tools) was not installed with the package"
[ "$(inside redis-cli -p 6379 ping)" = PONG ] || fail "PING over TCP"
[ "$(inside redis-cli -s /run/redis-rs/redis-server.sock ping)" = PONG ] || fail "PING over the unix socket"
log "service active and enabled; redis-cli came with the package; PING over TCP and the unix socket"

# sentinel_is STATE: both Sentinel units are STATE ("disabled inactive" or "enabled active"; the
# socket is pulled in by the service's Requires=, so only the service is enabled).
sentinel_state() {
    echo "$(inside systemctl is-enabled redis-sentinel-rs.service) $(inside systemctl is-active redis-sentinel-rs.service)" \
        "$(inside systemctl is-enabled redis-sentinel-rs.socket) $(inside systemctl is-active redis-sentinel-rs.socket)"
}
[ "$(sentinel_state)" = "disabled inactive disabled inactive" ] \
    || fail "after installation Sentinel's units are not disabled and inactive: $(sentinel_state)"
log "Sentinel is installed disabled and stopped (service and socket)"

# Files the server writes are 0660 (UMask=0007, as Debian's units).
[ "$(inside redis-cli -p 6379 save)" = OK ] || fail "SAVE"
[ "$(inside stat -c %a /var/lib/redis/dump.rdb)" = 660 ] \
    || fail "dump.rdb is $(inside stat -c %a /var/lib/redis/dump.rdb), Debian's units make it 660"
log "dump.rdb is 0660 (UMask=0007)"

# Upgrade 1: Sentinel disabled and stopped, the server enabled but stopped by the admin (its socket
# still listening): both stay as they are.
up1=$(e2e_bumped_deb "$deb" "+e2e1")
cp "$up1" "$(e2e_rootfs host)/root/redis-rs-up1.deb"
inside systemctl stop redis-server-rs.service
e2e_apt_install host "$repo" /root/redis-rs-up1.deb
[ "$(inside dpkg-query -W -f '${Version}' redis-rs)" = "$(dpkg-deb -f "$up1" Version)" ] || fail "upgrade 1 not installed"
[ "$(sentinel_state)" = "disabled inactive disabled inactive" ] \
    || fail "upgrade 1 changed Sentinel's disabled, stopped units: $(sentinel_state)"
[ "$(inside systemctl is-active redis-server-rs.service)" = inactive ] || fail "upgrade 1 started the server the admin stopped"
[ "$(inside systemctl is-enabled redis-server-rs.service)" = enabled ] || fail "upgrade 1 disabled the server"
inside systemctl start redis-server-rs.service
log "upgrade 1 kept Sentinel disabled and stopped, and the stopped server stopped"

# The admin turns Sentinel on, the way the guides say.
inside systemctl enable --now redis-sentinel-rs >"$work/enable.log" 2>&1 \
    || fail "systemctl enable --now redis-sentinel-rs: $(cat "$work/enable.log")"
# Sentinel: watching the local master as Debian's sentinel.conf says, saving its ID into the file,
# its events in the journal.
wait_for "the sentinel" inside systemctl is-active --quiet redis-sentinel-rs.service
[ "$(sentinel_state)" = "enabled active enabled active" ] || fail "systemctl enable --now redis-sentinel-rs: $(sentinel_state)"
# Sentinel: enabled and started with the package, watching the local master as Debian's
# sentinel.conf says, saving its ID into the file, its events in the journal.
sentinel_sees_master() { [ "$(inside redis-cli -p 26379 sentinel get-master-addr-by-name mymaster | tr '\n' ' ')" = "127.0.0.1 6379 " ]; }
wait_for "the sentinel to answer the master's address" sentinel_sees_master
grep -q '^sentinel myid [0-9a-f]\{40\}$' <(inside cat /etc/redis/sentinel.conf) || fail "the sentinel did not save its ID"
inside journalctl -u redis-sentinel-rs.service SENTINEL_EVENT=+monitor MASTER_NAME=mymaster MASTER_IP=127.0.0.1 MASTER_PORT=6379 --no-pager -o cat \
    | grep -q '+monitor master mymaster 127.0.0.1 6379 quorum 2' || fail "no SENTINEL_EVENT=+monitor in the journal"
pid=$(inside systemctl show -p MainPID --value redis-sentinel-rs.service)
grep -q '^CapEff:[[:space:]]*0000000000000000$' <(inside cat "/proc/$pid/status") || fail "the sentinel's CapEff is not 0"
log "the sentinel runs (socket-activated, no capabilities), knows the master, saved its ID, logs SENTINEL_EVENT"

# Both services enabled at once: each owns its names (no alias claimed twice).
inside systemctl enable redis-server-rs.service redis-sentinel-rs.service >"$work/enable.log" 2>&1 \
    || fail "enabling both services: $(cat "$work/enable.log")"
[ "$(inside systemctl show -p Id --value redis-rs.service)" = redis-server-rs.service ] \
    || fail "redis-rs.service is not the server's alias"
log "enabling both services succeeds; redis-rs.service names the server"

# Upgrade 2: both services enabled and running: they stay so, restarted on the new package.
up2=$(e2e_bumped_deb "$deb" "+e2e2")
cp "$up2" "$(e2e_rootfs host)/root/redis-rs-up2.deb"
server_pid=$(main_pid redis-server-rs.service)
sentinel_pid=$(main_pid redis-sentinel-rs.service)
e2e_apt_install host "$repo" /root/redis-rs-up2.deb
[ "$(inside dpkg-query -W -f '${Version}' redis-rs)" = "$(dpkg-deb -f "$up2" Version)" ] || fail "upgrade 2 not installed"
wait_for "the sentinel after upgrade 2" inside systemctl is-active --quiet redis-sentinel-rs.service
wait_for "the server after upgrade 2" inside systemctl is-active --quiet redis-server-rs.service
[ "$(sentinel_state)" = "enabled active enabled active" ] || fail "upgrade 2 changed Sentinel's units: $(sentinel_state)"
[ "$(inside systemctl is-enabled redis-server-rs.service)" = enabled ] || fail "upgrade 2 disabled the server"
[ "$(main_pid redis-server-rs.service)" != "$server_pid" ] || fail "upgrade 2 did not restart the server"
[ "$(main_pid redis-sentinel-rs.service)" != "$sentinel_pid" ] || fail "upgrade 2 did not restart Sentinel"
wait_for "the sentinel to answer after upgrade 2" sentinel_sees_master
log "upgrade 2 kept both services enabled and running, restarted on the new package"

# Turning Sentinel off turns its socket off too: no connection starts it again.
inside systemctl disable --now redis-sentinel-rs >"$work/disable.log" 2>&1 \
    || fail "systemctl disable --now redis-sentinel-rs: $(cat "$work/disable.log")"
[ "$(sentinel_state)" = "disabled inactive disabled inactive" ] \
    || fail "systemctl disable --now redis-sentinel-rs left: $(sentinel_state)"
if inside redis-cli -p 26379 ping >/dev/null 2>&1; then fail "a disabled Sentinel still answers on 26379"; fi
[ "$(inside systemctl is-active redis-sentinel-rs.service)" = inactive ] || fail "a connection started the disabled Sentinel"
inside systemctl enable --now redis-sentinel-rs >"$work/enable.log" 2>&1 \
    || fail "systemctl enable --now redis-sentinel-rs: $(cat "$work/enable.log")"
wait_for "the sentinel enabled again" sentinel_sees_master
log "disable --now turns Sentinel and its socket off; enable --now brings both back"

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

# A shutdown save longer than the stop timeout: the server extends the timeout while the save
# makes progress (EXTEND_TIMEOUT_USEC), so systemd waits for it instead of killing it mid-save.
dropin=/etc/systemd/system/redis-server-rs.service.d/e2e-stop-timeout.conf
inside mkdir -p "$(dirname "$dropin")"
printf '[Service]\nTimeoutStopSec=3\n' >"$(e2e_rootfs host)$dropin"
inside systemctl daemon-reload
[ "$(inside systemctl show -p TimeoutStopUSec --value redis-server-rs.service)" = 3s ] || fail "the drop-in's TimeoutStopSec=3 is not in force"
# 100 keys at 100 ms each (rdb-key-save-delay, in microseconds): a save of about 10 s.
inside sh -c 'for i in $(seq 1 100); do echo "SET slow-save:$i value-$i"; done | redis-cli -p 6379 >/dev/null'
[ "$(inside redis-cli -p 6379 config set rdb-key-save-delay 100000)" = OK ] || fail "CONFIG SET rdb-key-save-delay"
last="written-just-before-stop-$RANDOM"
[ "$(inside redis-cli -p 6379 set last-key "$last")" = OK ] || fail "SET last-key"
cursor=$(inside journalctl --show-cursor -n 0 -q | sed -n 's/^-- cursor: //p')
t0=$SECONDS
inside systemctl stop redis-server-rs.service || fail "systemctl stop during a slow shutdown save"
stop_took=$((SECONDS - t0))
unit_log=$(inside journalctl -u redis-server-rs.service --after-cursor="$cursor" --no-pager -o cat)
if grep -Ei 'SIGKILL|timed out|Killing' <<<"$unit_log"; then fail "systemd killed the server during its shutdown save"; fi
[ "$(inside systemctl show -p Result --value redis-server-rs.service)" = success ] \
    || fail "the stop's result is $(inside systemctl show -p Result --value redis-server-rs.service)"
((stop_took >= 6)) || fail "the shutdown save took ${stop_took} s, not longer than the 3 s stop timeout: the test proves nothing"
inside rm "$dropin"
inside systemctl daemon-reload
inside systemctl start redis-server-rs.service
wait_for "the server after the slow stop" inside redis-cli -p 6379 ping
[ "$(inside redis-cli -p 6379 get last-key)" = "$last" ] || fail "the last key written before the stop is lost"
[ "$(inside redis-cli -p 6379 get slow-save:100)" = value-100 ] || fail "the keys of the slow save are lost"
log "a ${stop_took} s shutdown save under TimeoutStopSec=3 finished: no kill, the last key is kept"

inside env DEBIAN_FRONTEND=noninteractive dpkg --purge redis-rs >"$work/purge.log" 2>&1 || fail "purge: $(cat "$work/purge.log")"
inside test ! -e /etc/redis/redis.conf || fail "purge left /etc/redis/redis.conf"
inside test ! -e /etc/redis/sentinel.conf || fail "purge left /etc/redis/sentinel.conf"
inside test -d /var/lib/redis || fail "purge removed /var/lib/redis (data must stay)"
if inside dpkg-statoverride --list /etc/redis >/dev/null 2>&1; then fail "purge left the statoverride of /etc/redis"; fi
inside test ! -e /var/lib/redis-rs || fail "purge left /var/lib/redis-rs"
log "purge removes the configuration and the overrides, keeps /var/lib/redis"

# Installed again (after a purge, as on a new machine), both services running, then the admin purges
# Debian's redis-tools, whose purge deletes /var/lib/redis, /var/log/redis, /etc/redis and the user:
# apt removes redis-rs first, and nothing of it is left running on deleted files.
e2e_apt_install host "$repo" /root/redis-rs.deb
wait_for "the service after reinstalling" inside systemctl is-active --quiet redis-server-rs.service
inside systemctl enable --now redis-sentinel-rs >"$work/enable.log" 2>&1 \
    || fail "systemctl enable --now redis-sentinel-rs: $(cat "$work/enable.log")"
wait_for "the sentinel after reinstalling" inside systemctl is-active --quiet redis-sentinel-rs.service
[ "$(inside redis-cli -p 6379 set before-purge 1)" = OK ] || fail "SET before purging redis-tools"
inside env DEBIAN_FRONTEND=noninteractive apt-get purge -y redis-tools >"$work/purge-tools.log" 2>&1 \
    || fail "apt-get purge redis-tools: $(cat "$work/purge-tools.log")"
status=$(inside dpkg-query -W -f '${db:Status-Status}' redis-rs 2>/dev/null || echo not-installed)
case "$status" in not-installed | config-files) ;; *) fail "redis-rs is still $status after purging redis-tools" ;; esac
inside test ! -e /var/lib/redis || fail "redis-tools' purge did not delete /var/lib/redis (nothing was tested)"
if inside ps -eo comm= | grep -E '^redis-(server|sentinel)-rs$'; then fail "a redis-rs process survived purging redis-tools"; fi
for unit in redis-server-rs.service redis-server-rs.socket redis-sentinel-rs.service redis-sentinel-rs.socket; do
    [ "$(inside systemctl is-active "$unit")" = inactive ] || fail "$unit is $(inside systemctl is-active "$unit") after purging redis-tools"
done
if inside ss -Hltnx | grep -E ':(6379|26379)\b|/run/redis-rs/'; then fail "something still listens for redis-rs"; fi
if inside sh -c 'ls -l /proc/[0-9]*/cwd /proc/[0-9]*/fd 2>/dev/null' | grep -E -- '-> (/var/lib/redis|/var/log/redis|/etc/redis)'; then
    fail "a process still uses the deleted /var/lib/redis, /var/log/redis or /etc/redis"
fi
log "apt purge redis-tools removes redis-rs first: no process, unit or socket left on the deleted files"
echo "e2e: 1 passed, 0 failed ($((SECONDS - started)) s)"
