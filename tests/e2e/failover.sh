#!/usr/bin/env bash
# Multi-host end to end: the replication and Sentinel guide on three hosts, under real systemd.
#
# Three booted Debian 12 containers (tests/e2e/lib.sh) on one Ethernet segment: each has its own
# network namespace with one interface, eth0, plugged into a bridge that lives in a namespace of
# its own (so nothing touches the machine's network or firewall). Each host installs the .deb with
# apt, enables Sentinel (installed disabled) and is configured only with redisctl, as an admin
# would: bind, requirepass and masterauth for the server, replicaof on the two replicas, sentinel
# monitor / set (auth-pass too) / quorum for the sentinels. Then:
#   1. the master host's link goes down: the two others fail over (one promoted, the other
#      re-pointed, CONFIG REWRITE persisted, +switch-master in the journal of both sentinels);
#   2. the link comes back: the old master re-joins as a replica of the new one, and its sentinel
#      learns the new master.
#
# Usage: tests/e2e/failover.sh PATH/TO/redis-rs_VERSION_ARCH.deb   (as root)
set -euo pipefail

deb=$(realpath "$1")
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
root=$(e2e_root bookworm-base "")
repo=$(e2e_repo "$root")
work=$(mktemp -d /var/tmp/redis-rs-e2e-failover.XXXXXX)
hosts=(h1 h2 h3)
declare -A addr=([h1]=10.77.0.11 [h2]=10.77.0.12 [h3]=10.77.0.13)
# Namespace names carry this run's PID, so runs side by side (or a crashed run's leftovers) never clash.
switch_ns="rrs-sw-$$"
ns_of() { echo "rrs-$1-$$"; }

# Every server asks for a password (requirepass), replicas give it (masterauth, set on every host
# since any of them may become a replica), and the sentinels give it too (auth-pass).
password="e2e-$RANDOM-$RANDOM"
# redis-cli to HOST's server, with the password (REDISCLI_AUTH keeps it off the command line).
data_cli() {
    local h=$1
    shift
    in_container "$h" env REDISCLI_AUTH="$password" redis-cli -p 6379 "$@"
}

fail() {
    printf '[e2e] FAIL: %s\n' "$*"
    local h
    for h in "${hosts[@]}"; do
        [ -n "${e2e_init_pid[$h]:-}" ] || continue
        echo "--- $h: role, sentinel's view"
        data_cli "$h" role 2>&1 | tr '\n' ' ' || true
        echo
        in_container "$h" redis-cli -p 26379 sentinel get-master-addr-by-name mymaster 2>&1 | tr '\n' ' ' || true
        echo
        echo "--- $h: journalctl -u redis-sentinel-rs -u redis-server-rs"
        in_container "$h" journalctl -u redis-sentinel-rs -u redis-server-rs --no-pager -o short-precise 2>&1 \
            | tail -n 40 || true
        echo "--- $h: the journal's fields of +switch-master"
        in_container "$h" journalctl -u redis-sentinel-rs -o export --no-pager 2>&1 \
            | grep -a -B 30 'MESSAGE=+switch-master' | grep -a -E '^(SENTINEL_|MASTER_|MESSAGE=)' || true
    done
    exit 1
}

cleanup() {
    e2e_cleanup
    local h
    for h in "${hosts[@]}"; do ip netns delete "$(ns_of "$h")" 2>/dev/null || true; done
    ip netns delete "$switch_ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

log "the network: three hosts on one bridge (10.77.0.0/24)"
e2e_switch "$switch_ns"
for h in "${hosts[@]}"; do e2e_plug "$switch_ns" "$h" "$(ns_of "$h")" "${addr[$h]}"; done

for h in "${hosts[@]}"; do
    log "booting $h (${addr[$h]})"
    e2e_boot "$h" "$root" --network-namespace-path="/run/netns/$(ns_of "$h")"
    cp "$deb" "$(e2e_rootfs "$h")/root/redis-rs.deb"
done

for h in "${hosts[@]}"; do
    log "$h: installing the package, enabling Sentinel"
    e2e_apt_install "$h" "$repo" /root/redis-rs.deb
    wait_for "the server on $h" in_container "$h" systemctl is-active --quiet redis-server-rs.service
    in_container "$h" systemctl enable --now redis-sentinel-rs >"$work/enable-$h.log" 2>&1 \
        || fail "systemctl enable --now redis-sentinel-rs on $h: $(cat "$work/enable-$h.log")"
    wait_for "the sentinel on $h" in_container "$h" systemctl is-active --quiet redis-sentinel-rs.service
done

# The guide, step by step, with redisctl only. The sentinel is running: every sentinel change goes
# through it (--apply), and it rewrites sentinel.conf itself.
ctl() {
    local h=$1
    shift
    in_container "$h" redisctl "$@" </dev/null >"$work/ctl.log" 2>&1 || fail "redisctl $* on $h: $(cat "$work/ctl.log")"
}
ctl_secret() {
    local h=$1
    shift
    printf '%s\n' "$password" | in_container "$h" redisctl "$@" >"$work/ctl.log" 2>&1 \
        || fail "redisctl $* on $h: $(cat "$work/ctl.log")"
}
for h in "${hosts[@]}"; do
    ctl "$h" --apply bind "${addr[$h]}" 127.0.0.1
    ctl_secret "$h" --apply requirepass --stdin
    ctl_secret "$h" --apply masterauth --stdin
    [ "$h" = h1 ] || ctl "$h" --apply replicaof "${addr[h1]}" 6379
    ctl "$h" --apply sentinel monitor mymaster "${addr[h1]}" 6379 2
    ctl_secret "$h" --apply sentinel set mymaster auth-pass --stdin
    ctl "$h" --apply sentinel set mymaster down-after-milliseconds 2000
    ctl "$h" --apply sentinel set mymaster failover-timeout 20000
    ctl "$h" --apply quorum 2
    wait_for "the server on $h after redisctl bind" in_container "$h" systemctl is-active --quiet redis-server-rs.service
done
grep -q "^replicaof ${addr[h1]} 6379$" <(in_container h2 cat /etc/redis/redis.conf) || fail "redisctl replicaof did not edit h2's redis.conf"
grep -q "^sentinel monitor mymaster ${addr[h1]} 6379 2$" <(in_container h3 cat /etc/redis/sentinel.conf) \
    || fail "h3's sentinel.conf does not monitor h1"
# The minimal root has no ping: a TCP connect to h1's server shows the bridge carries traffic.
for h in h2 h3; do
    in_container "$h" timeout 5 bash -c ">/dev/tcp/${addr[h1]}/6379" || fail "$h cannot reach h1 over the bridge"
done

[ "$(in_container h2 redis-cli -h "${addr[h1]}" -p 6379 ping)" = "NOAUTH Authentication required." ] \
    || fail "h1's server answers h2 without the password"

# sentinel_field HOST FIELD: a field of SENTINEL MASTER mymaster as HOST's sentinel sees it.
sentinel_field() {
    in_container "$1" redis-cli -p 26379 sentinel master mymaster | awk -v f="$2" 'prev == f { print; exit } { prev = $0 }'
}
knows_everyone() { [ "$(sentinel_field "$1" num-slaves)" = 2 ] && [ "$(sentinel_field "$1" num-other-sentinels)" = 2 ]; }
has_key() { [ "$(data_cli "$1" get guide-key)" = "$2" ]; }
role_line() { data_cli "$1" role | head -n 1; }
replica_of() {
    local h=$1 master=$2
    [ "$(data_cli "$h" role | head -n 4 | tr '\n' ' ')" = "slave $master 6379 connected " ]
}
E2E_WAIT=60
for h in "${hosts[@]}"; do
    wait_for "$h's sentinel to find both replicas and both other sentinels" knows_everyone "$h"
done
[ "$(data_cli h1 set guide-key before)" = OK ] || fail "SET on the master"
for h in h2 h3; do
    wait_for "$h to replicate h1" replica_of "$h" "${addr[h1]}"
    wait_for "guide-key on $h" has_key "$h" before
done
log "h1 is the master, h2 and h3 replicate it; three sentinels know each other and both replicas"

# The cable is pulled at the switch: h1 keeps running, alone (its own sentinel still sees it).
log "cutting h1 off the network (its link goes down)"
ip -n "$switch_ns" link set port-h1 down
E2E_WAIT=90
new_master=""
promoted() {
    local a2 a3
    a2=$(in_container h2 redis-cli -p 26379 sentinel get-master-addr-by-name mymaster | head -n 1)
    a3=$(in_container h3 redis-cli -p 26379 sentinel get-master-addr-by-name mymaster | head -n 1)
    [ "$a2" = "$a3" ] && [ "$a2" != "${addr[h1]}" ] && [ -n "$a2" ]
}
wait_for "h2's and h3's sentinels to agree on a new master" promoted
new_addr=$(in_container h2 redis-cli -p 26379 sentinel get-master-addr-by-name mymaster | head -n 1)
for h in h2 h3; do [ "${addr[$h]}" = "$new_addr" ] && new_master=$h; done
[ -n "$new_master" ] || fail "the sentinels name $new_addr, which is neither h2 nor h3"
other=h2
[ "$new_master" = h2 ] && other=h3
log "the sentinels promoted $new_master ($new_addr)"

is_master() { [ "$(role_line "$1")" = master ]; }
wait_for "$new_master to be a master" is_master "$new_master"
wait_for "$other to replicate $new_master" replica_of "$other" "$new_addr"
[ "$(data_cli "$new_master" set guide-key after)" = OK ] || fail "SET on the new master"
wait_for "the write on $new_master to reach $other" has_key "$other" after
# Sentinel persisted the new roles with CONFIG REWRITE through the hardened units.
if grep -q '^replicaof ' <(in_container "$new_master" cat /etc/redis/redis.conf); then
    fail "the promoted $new_master still has a replicaof line in redis.conf"
fi
grep -q "^replicaof $new_addr 6379$" <(in_container "$other" cat /etc/redis/redis.conf) \
    || fail "$other's redis.conf does not name the new master"
# journald stores a message a moment after the sentinel sent it.
switch_in_journal() {
    in_container "$1" journalctl -u redis-sentinel-rs.service SENTINEL_EVENT=+switch-master MASTER_NAME=mymaster \
        MASTER_IP="${addr[h1]}" MASTER_PORT=6379 INSTANCE_TYPE=master INSTANCE_IP="$new_addr" --no-pager -o cat | grep -q "+switch-master mymaster ${addr[h1]} 6379 $new_addr 6379"
}
for h in h2 h3; do
    wait_for "SENTINEL_EVENT=+switch-master in $h's journal" switch_in_journal "$h"
    grep -q "^sentinel monitor mymaster $new_addr 6379 2$" <(in_container "$h" cat /etc/redis/sentinel.conf) \
        || fail "$h's sentinel.conf does not name the new master"
done
log "$new_master is the master, $other follows it, redis.conf and sentinel.conf rewritten, +switch-master in the journals"

log "bringing h1 back"
ip -n "$switch_ns" link set port-h1 up
wait_for "the old master h1 to re-join as a replica of $new_master" replica_of h1 "$new_addr"
wait_for "the new master's data on h1" has_key h1 after
h1_follows() { [ "$(in_container h1 redis-cli -p 26379 sentinel get-master-addr-by-name mymaster | head -n 1)" = "$new_addr" ]; }
wait_for "h1's sentinel to learn the new master" h1_follows
grep -q "^replicaof $new_addr 6379$" <(in_container h1 cat /etc/redis/redis.conf) \
    || fail "h1's redis.conf does not name the new master"
wait_for "SENTINEL_EVENT=+switch-master in h1's journal" switch_in_journal h1
[ "$(data_cli h1 set x 1)" = "READONLY You can't write against a read only replica." ] \
    || fail "the old master accepts writes"
log "h1 re-joined as a replica of $new_master, its sentinel follows, its redis.conf rewritten"
echo "e2e failover: 1 passed, 0 failed"
