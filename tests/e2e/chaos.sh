#!/usr/bin/env bash
# Failover chaos on three hosts, for redis-rs and for Debian's redis-server/redis-sentinel, side by side.
#
# Three booted Debian 12 containers (tests/e2e/lib.sh) on one bridge, each running a data server and a
# Sentinel: h1 the master, h2 and h3 its replicas, quorum 2, `min-replicas-to-write 1` everywhere.
# A client on the bridge (tests/e2e/chaos_client.py, redis-py's Sentinel support) writes all the
# time and counts a write as confirmed when `WAIT 1` says a replica has it. Each round takes the
# current master down under that load, alternately by SIGKILL (the unit masked so systemd does not
# restart it before the failover) and by a partition (its port on the bridge down). After each round:
# the Sentinels on every host name one new master, the old master is back as its replica, the
# client writes again through the Sentinels, and every confirmed write is on the master.
#
# Usage: tests/e2e/chaos.sh PATH/TO/redis-rs_VERSION_ARCH.deb [ROUNDS] [ours|redis|both]   (as root)
# ROUNDS defaults to 50; the last argument to both. Prints one result line per implementation.
set -euo pipefail

deb=$(realpath "$1")
rounds=${2:-50}
which=${3:-both}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
root=$(e2e_root bookworm-base "")

# Debian's redis-server and redis-sentinel with what they need; redis-tools' closure, which our
# package needs, is part of it.
repo=$(e2e_repo "$root" redis-server redis-sentinel redis-tools)

hosts=(h1 h2 h3)
declare -A addr=([h1]=10.78.0.11 [h2]=10.78.0.12 [h3]=10.78.0.13)
client_addr=10.78.0.1
switch_ns="rrs-chaos-sw-$$"
ns_of() { echo "rrs-chaos-$1-$$"; }
results=()
work=""
writer_pid=""

fail() {
    printf '[e2e] FAIL: %s\n' "$*"
    [ -s "$work/writer.log" ] && { echo "--- the writer's log"; tail -n 20 "$work/writer.log"; }
    local h
    for h in "${hosts[@]}"; do
        [ -n "${e2e_init_pid[$h]:-}" ] || continue
        echo "--- $h: role; its sentinel's master"
        in_container "$h" redis-cli -p 6379 role 2>&1 | head -n 4 | tr '\n' ' ' || true
        echo
        in_container "$h" redis-cli -p 26379 sentinel get-master-addr-by-name mymaster 2>&1 | tr '\n' ' ' || true
        echo
        echo "--- $h: the journal of the server and the sentinel"
        in_container "$h" journalctl -u "$server_unit" -u "$sentinel_unit" --no-pager -o short-precise 2>&1 | tail -n 30 || true
        in_container "$h" tail -n 30 /var/log/redis/redis-sentinel.log /var/log/redis/redis-server.log 2>/dev/null || true
    done
    exit 1
}

teardown() {
    [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null || true
    writer_pid=""
    if [ -n "$work" ]; then
        e2e_cleanup
        e2e_nspawn_pid=()
        e2e_init_pid=()
    fi
    local h
    for h in "${hosts[@]}"; do ip netns delete "$(ns_of "$h")" 2>/dev/null || true; done
    ip netns delete "$switch_ns" 2>/dev/null || true
}
trap teardown EXIT
trap 'exit 1' INT TERM

sentinel_addrs() {
    local h
    for h in "${hosts[@]}"; do printf '%s:26379 ' "${addr[$h]}"; done
}
# The master HOST's sentinel names (an address), empty if it cannot say.
named_by() { in_container "$1" redis-cli -p 26379 sentinel get-master-addr-by-name mymaster 2>/dev/null | head -n 1; }
host_of() {
    local h
    for h in "${hosts[@]}"; do
        if [ "${addr[$h]}" = "$1" ]; then echo "$h"; fi
    done
}
all_name() {
    local h want=$1
    shift
    for h in "$@"; do [ "$(named_by "$h")" = "$want" ] || return 1; done
}
named_other_than() {
    local old=$1 h a first=""
    shift
    for h in "$@"; do
        a=$(named_by "$h")
        [ -n "$a" ] && [ "$a" != "$old" ] || return 1
        [ -z "$first" ] && first=$a
        [ "$a" = "$first" ] || return 1
    done
}
is_master() { [ "$(in_container "$1" redis-cli -p 6379 role 2>/dev/null | head -n 1)" = master ]; }
replica_of() { [ "$(in_container "$1" redis-cli -p 6379 role 2>/dev/null | head -n 4 | tr '\n' ' ')" = "slave $2 6379 connected " ]; }
confirmed_count() { wc -l <"$work/confirmed"; }
confirmed_more_than() { [ "$(confirmed_count)" -gt "$1" ]; }

# run IMPL: one whole run (network, hosts, rounds) with IMPL's packages; appends a result line.
run() {
    local impl=$1
    if [ "$impl" = ours ]; then
        server_unit=redis-server-rs sentinel_unit=redis-sentinel-rs
    else
        server_unit=redis-server sentinel_unit=redis-sentinel
    fi
    work=$(mktemp -d "/var/tmp/redis-rs-e2e-chaos-$impl.XXXXXX")
    log "== $impl: the network, three hosts and a client on one bridge (10.78.0.0/24)"
    e2e_switch "$switch_ns"
    # The client sits on the switch itself.
    ip -n "$switch_ns" addr add "$client_addr/24" dev br0
    local h
    for h in "${hosts[@]}"; do e2e_plug "$switch_ns" "$h" "$(ns_of "$h")" "${addr[$h]}"; done
    for h in "${hosts[@]}"; do
        log "$impl: booting $h (${addr[$h]}), installing"
        e2e_boot "$h" "$root" --network-namespace-path="/run/netns/$(ns_of "$h")"
        if [ "$impl" = ours ]; then
            cp "$deb" "$(e2e_rootfs "$h")/root/redis-rs.deb"
            e2e_apt_install "$h" "$repo" /root/redis-rs.deb
        else
            e2e_apt_install "$h" "$repo" redis-server redis-sentinel
        fi
        # Both implementations configured alike, through their config files (Debian's packages
        # have no redisctl): every address, no persistence to come back with, min-replicas-to-write.
        in_container "$h" systemctl stop "$sentinel_unit" 2>/dev/null || true
        {
            # Our package serves its addresses from its socket unit: redisctl bind keeps both in step.
            [ "$impl" = ours ] || printf 'bind %s 127.0.0.1\n' "${addr[$h]}"
            printf 'protected-mode no\nsave ""\nappendonly no\n'
            printf 'min-replicas-to-write 1\nmin-replicas-max-lag 10\n'
            [ "$h" = h1 ] || printf 'replicaof %s 6379\n' "${addr[h1]}"
        } >>"$(e2e_rootfs "$h")/etc/redis/redis.conf"
        sed -i -E '/^sentinel (monitor|down-after-milliseconds|failover-timeout|parallel-syncs|myid|known-|current-epoch|config-epoch|leader-epoch)/d' \
            "$(e2e_rootfs "$h")/etc/redis/sentinel.conf"
        {
            printf 'sentinel monitor mymaster %s 6379 2\n' "${addr[h1]}"
            printf 'sentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 10000\n'
        } >>"$(e2e_rootfs "$h")/etc/redis/sentinel.conf"
        if [ "$impl" = ours ]; then
            in_container "$h" redisctl bind "${addr[$h]}" 127.0.0.1 >"$work/ctl.log" 2>&1 || fail "redisctl bind on $h: $(cat "$work/ctl.log")"
            in_container "$h" systemctl daemon-reload
            in_container "$h" systemctl restart redis-server-rs.socket
        fi
        in_container "$h" systemctl restart "$server_unit" || fail "restarting $server_unit on $h"
        in_container "$h" systemctl enable --now "$sentinel_unit" >/dev/null 2>&1 || fail "starting $sentinel_unit on $h"
    done
    E2E_WAIT=60
    for h in h2 h3; do wait_for "$h to replicate h1" replica_of "$h" "${addr[h1]}"; done
    knows_everyone() {
        local m
        m=$(in_container "$1" redis-cli -p 26379 sentinel master mymaster)
        grep -qx 2 <<<"$(awk 'prev == "num-slaves" { print } { prev = $0 }' <<<"$m")" \
            && grep -qx 2 <<<"$(awk 'prev == "num-other-sentinels" { print } { prev = $0 }' <<<"$m")"
    }
    for h in "${hosts[@]}"; do wait_for "$h's sentinel to know both replicas and both other sentinels" knows_everyone "$h"; done

    : >"$work/confirmed"
    # shellcheck disable=SC2046 # one address per word
    ip netns exec "$switch_ns" /usr/bin/python3 "$here/chaos_client.py" write "$work/confirmed" $(sentinel_addrs) \
        >"$work/writer.log" 2>&1 &
    writer_pid=$!
    wait_for "the first confirmed writes" confirmed_more_than 100

    local round master victim others action t0 failovers=0 worst=0 took check
    for round in $(seq 1 "$rounds"); do
        master=$(named_by h1)
        [ -n "$master" ] || master=$(named_by h2)
        victim=$(host_of "$master")
        [ -n "$victim" ] || fail "round $round: the sentinels name $master, no host of ours"
        others=()
        for h in "${hosts[@]}"; do [ "$h" = "$victim" ] || others+=("$h"); done
        action=kill
        ((round % 2 == 0)) && action=partition
        t0=$SECONDS
        if [ "$action" = kill ]; then
            in_container "$victim" systemctl mask --runtime "$server_unit" >/dev/null 2>&1
            in_container "$victim" systemctl kill --kill-who=main --signal=SIGKILL "$server_unit" \
                || fail "round $round: SIGKILL to $server_unit on $victim"
        else
            ip -n "$switch_ns" link set "port-$victim" down
        fi
        E2E_WAIT=90
        wait_for "round $round ($action $victim): the other sentinels to agree on a new master" named_other_than "$master" "${others[@]}"
        local new new_host
        new=$(named_by "${others[0]}")
        new_host=$(host_of "$new")
        wait_for "round $round: $new_host to be a master" is_master "$new_host"
        took=$((SECONDS - t0))
        ((took > worst)) && worst=$took
        failovers=$((failovers + 1))
        # Heal: the old master comes back (with an empty dataset after a kill: no persistence).
        if [ "$action" = kill ]; then
            in_container "$victim" systemctl unmask --runtime "$server_unit" >/dev/null 2>&1
            in_container "$victim" systemctl start "$server_unit"
        else
            ip -n "$switch_ns" link set "port-$victim" up
        fi
        wait_for "round $round: every sentinel to name $new" all_name "$new" "${hosts[@]}"
        for h in "${hosts[@]}"; do
            [ "$h" = "$new_host" ] || wait_for "round $round: $h to replicate $new_host" replica_of "$h" "$new"
        done
        wait_for "round $round: the client to write through the new master" confirmed_more_than "$(($(confirmed_count) + 50))"
        # shellcheck disable=SC2046 # one address per word
        check=$(ip netns exec "$switch_ns" /usr/bin/python3 "$here/chaos_client.py" check "$work/confirmed" $(sentinel_addrs)) \
            || fail "round $round: the check could not run"
        log "$impl round $round: $action $victim -> $new_host in ${took}s; $check"
        kill -0 "$writer_pid" 2>/dev/null || fail "the writer died: $(tail -n 20 "$work/writer.log")"
    done
    kill "$writer_pid" 2>/dev/null || true
    wait "$writer_pid" 2>/dev/null || true
    writer_pid=""
    # shellcheck disable=SC2046 # one address per word
    check=$(ip netns exec "$switch_ns" /usr/bin/python3 "$here/chaos_client.py" check "$work/confirmed" $(sentinel_addrs))
    results+=("$(printf '%-6s rounds %3d  failovers %3d  slowest %3ds  writes %s' "$impl" "$rounds" "$failovers" "$worst" "$check")")
    teardown
    work=""
}

case $which in
    ours) run ours ;;
    redis) run redis ;;
    both) run ours && run redis ;;
    *) echo "chaos.sh: the third argument is ours, redis or both" >&2; exit 2 ;;
esac
echo "== chaos: every round kills or partitions the master under writes confirmed by WAIT 1"
printf '%s\n' "${results[@]}"
