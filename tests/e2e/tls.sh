#!/usr/bin/env bash
# End to end: a TLS-only deployment under real systemd, configured only with redisctl.
#
# One booted Debian 12 container (tests/e2e/lib.sh, --private-network) installs the .deb with apt.
# Certificates made here with openssl (a CA, a server certificate for 127.0.0.1/localhost, a client
# certificate) are copied into /etc/redis/tls, owned by redis, the key 0600. Then, as an admin
# following the docs would:
#   - the server: `redisctl tls --port 6379 --replication`, the TLS socket unit enabled (README),
#     `redisctl --apply set port 0`: TLS on 6379 held by redis-server-rs-tls.socket, no plain TCP;
#   - a replica, redis-server-rs@replica, TLS-only on 6380, `redisctl replicaof` over TLS;
#   - Sentinel: `redisctl tls --sentinel --port 26379 --replication`, `redisctl set port 0
#     --sentinel`, enabled: TLS-only on 26379, reaching the master and replica over TLS.
# Checks: redis-cli --tls gets PONG where plain TCP gets none; the replica is connected and gets a
# write; Sentinel answers over TLS and sees the replica; no TLS error in the journal; nothing of
# the key in redisctl's output or the journal.
#
# Usage: tests/e2e/tls.sh PATH/TO/redis-rs_VERSION_ARCH.deb   (as root)
set -euo pipefail

deb=$(realpath "$1")
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
root=$(e2e_root bookworm-base "")
repo=$(e2e_repo "$root")
work=$(mktemp -d /var/tmp/redis-rs-e2e-tls.XXXXXX)
started=$SECONDS

inside() { in_container host "$@"; }
fail() {
    printf '[e2e] FAIL: %s\n' "$*"
    if [ -n "${e2e_init_pid[host]:-}" ]; then
        echo "--- systemctl status (inside the container)"
        inside systemctl status --no-pager redis-server-rs.service redis-server-rs.socket \
            redis-server-rs-tls.socket redis-server-rs@replica.service redis-sentinel-rs.service \
            redis-sentinel-rs.socket 2>&1 | tail -n 60 || true
        echo "--- journalctl -u redis-server-rs -u redis-server-rs@replica -u redis-sentinel-rs"
        inside journalctl -u redis-server-rs -u redis-server-rs@replica -u redis-sentinel-rs --no-pager 2>&1 \
            | tail -n 60 || true
    fi
    exit 1
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

# The certificates, made on the host. The server certificate has no extended key usage, so the
# server also presents it as its client certificate (replication, Sentinel), as Redis does when
# tls-client-cert-file is not set.
certs=$work/certs
mkdir -p "$certs"
(
    cd "$certs"
    openssl req -x509 -new -noenc -newkey rsa:2048 -keyout ca.key -out ca.crt -days 2 \
        -subj /CN=redis-rs-e2e-ca 2>/dev/null
    for name in server client; do
        openssl req -new -noenc -newkey rsa:2048 -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
    done
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
        -out server.crt 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt 2>/dev/null
) || fail "openssl could not make the certificates"
# The key's base64 lines: none may appear in redisctl's output or the journal.
grep -v -- '-----' "$certs/server.key" >"$certs/key-lines"

e2e_boot host "$root" --private-network
rootfs=$(e2e_rootfs host)
cp "$deb" "$rootfs/root/redis-rs.deb"
log "installing the package with apt"
e2e_apt_install host "$repo" /root/redis-rs.deb
wait_for "the service" inside systemctl is-active --quiet redis-server-rs.service

tls=/etc/redis/tls
inside install -d -o redis -g redis -m 0750 "$tls"
cp "$certs/ca.crt" "$certs/server.crt" "$certs/server.key" "$rootfs$tls/"
inside chown redis:redis "$tls/ca.crt" "$tls/server.crt" "$tls/server.key"
inside chmod 0644 "$tls/ca.crt" "$tls/server.crt"
inside chmod 0600 "$tls/server.key"
mkdir -p "$rootfs/root/client"
cp "$certs/ca.crt" "$certs/client.crt" "$certs/client.key" "$rootfs/root/client/"
tls_files=(--cert "$tls/server.crt" --key "$tls/server.key" --ca "$tls/ca.crt")

# ctl ARGS...: redisctl inside, its output kept (to look for the key in it) and shown on failure.
ctl() {
    inside redisctl "$@" >>"$work/ctl.log" 2>&1 || fail "redisctl $*: $(tail -n 5 "$work/ctl.log")"
}
# tls_cli PORT ARGS...: redis-cli over TLS with the CA and the client certificate.
tls_cli() {
    local port=$1
    shift
    inside redis-cli --tls --cacert /root/client/ca.crt --cert /root/client/client.crt \
        --key /root/client/client.key -h 127.0.0.1 -p "$port" "$@"
}
answers() { [ "$(tls_cli "$1" ping 2>/dev/null)" = PONG ]; }
# no_plain_pong PORT: a plain TCP client to PORT gets no PONG (refused, or TLS's garbage).
no_plain_pong() {
    local out
    out=$(inside timeout 10 redis-cli -h 127.0.0.1 -p "$1" ping 2>&1 || true)
    [ "$out" != PONG ] || fail "a plain TCP client got PONG from port $1"
}

# The server: TLS on 6379 with replication over TLS, its TLS socket unit enabled as the README
# says, then the plain port off; --apply restarts the sockets and the server.
ctl tls "${tls_files[@]}" --port 6379 --replication
inside systemctl enable redis-server-rs-tls.socket >>"$work/ctl.log" 2>&1 || fail "enabling redis-server-rs-tls.socket"
ctl --apply set port 0
wait_for "the server over TLS on 6379" answers 6379
listen=$(inside systemctl show -p Listen redis-server-rs-tls.socket)
grep -q '127.0.0.1:6379' <<<"$listen" || fail "redis-server-rs-tls.socket does not hold 127.0.0.1:6379: $listen"
listen=$(inside systemctl show -p Listen redis-server-rs.socket)
if grep -q ':6379' <<<"$listen"; then fail "redis-server-rs.socket still holds a plain port 6379: $listen"; fi
inside journalctl -u redis-server-rs.service --no-pager -o cat \
    | grep -q "Serving 127.0.0.1:6379 from systemd socket activation ('redis-tls')" \
    || fail "the server does not serve the TLS socket unit's 127.0.0.1:6379"
no_plain_pong 6379
log "the server is TLS-only on 6379 (redis-server-rs-tls.socket), PONG over TLS, none over plain TCP"

# The replica: an instance file made by redisctl alone, TLS-only on 6380, replicating over TLS.
replica=(--config /etc/redis/redis-replica.conf)
inside install -o redis -g redis -m 0640 /dev/null /etc/redis/redis-replica.conf
ctl "${replica[@]}" set dir /var/lib/redis
ctl "${replica[@]}" set dbfilename replica.rdb
ctl "${replica[@]}" tls "${tls_files[@]}" --port 6380 --replication
ctl "${replica[@]}" set port 0
ctl "${replica[@]}" replicaof 127.0.0.1 6379
[ "$(tls_cli 6379 set e2e-before-sync 1)" = OK ] || fail "SET on the master over TLS"
inside systemctl enable --now redis-server-rs@replica.service >>"$work/ctl.log" 2>&1 \
    || fail "systemctl enable --now redis-server-rs@replica"
link_up() { tls_cli 6380 info replication | grep -q '^master_link_status:up'; }
wait_for "the replica's link to the master over TLS" link_up
replica_online() { tls_cli 6379 info replication | grep -q '^slave0:ip=127.0.0.1,port=6380,state=online'; }
wait_for "the master to list the replica online at 6380" replica_online
[ "$(tls_cli 6380 get e2e-before-sync)" = 1 ] || fail "the replica did not get the master's data"
[ "$(tls_cli 6379 set e2e-written yes)" = OK ] || fail "SET on the master over TLS"
replica_has_write() { [ "$(tls_cli 6380 get e2e-written)" = yes ]; }
wait_for "the write to reach the replica" replica_has_write
no_plain_pong 6380
# The main server's socket unit is its own: the instance's edits left its drop-in alone.
listen=$(inside systemctl show -p Listen redis-server-rs.socket)
grep -q '/run/redis-rs/redis-server.sock' <<<"$listen" || fail "redis-server-rs.socket lost its unix socket: $listen"
log "the replica is TLS-only on 6380, connected over TLS, and gets the master's writes"

# Sentinel: TLS-only on 26379, to the master and replica over TLS; configured while stopped.
ctl tls --sentinel "${tls_files[@]}" --port 26379 --replication
ctl set port 0 --sentinel
inside systemctl enable --now redis-sentinel-rs >>"$work/ctl.log" 2>&1 || fail "systemctl enable --now redis-sentinel-rs"
sentinel_knows_master() {
    [ "$(tls_cli 26379 sentinel get-master-addr-by-name mymaster | tr '\n' ' ')" = "127.0.0.1 6379 " ]
}
wait_for "Sentinel over TLS to answer the master's address" sentinel_knows_master
# num-slaves, and the master not flagged down: Sentinel reaches both over TLS.
sentinel_sees_replica() {
    local m
    m=$(tls_cli 26379 sentinel master mymaster | paste - -)
    grep -qP '^num-slaves\t1$' <<<"$m" && grep -qP '^flags\tmaster$' <<<"$m"
}
wait_for "Sentinel to see the replica (num-slaves 1)" sentinel_sees_replica
replica_ok() { tls_cli 26379 sentinel replicas mymaster | paste - - | grep -qP '^flags\tslave$'; }
wait_for "Sentinel's link to the replica" replica_ok
no_plain_pong 26379
log "Sentinel is TLS-only on 26379, knows the master and sees the replica over TLS"

# The journal: no TLS error from any of them, and nothing of the key anywhere.
journal=$(inside journalctl -u redis-server-rs -u redis-server-rs@replica -u redis-sentinel-rs --no-pager -o cat)
if grep -iE 'ssl|tls|handshake|certificate' <<<"$journal" | grep -iE 'error|fail|unable|invalid|refus'; then
    fail "TLS errors in the journal"
fi
if grep -F -f "$certs/key-lines" "$work/ctl.log"; then fail "redisctl's output shows the private key"; fi
if inside journalctl --no-pager -o export | grep -a -F -f "$certs/key-lines"; then
    fail "the journal shows the private key"
fi
log "no TLS errors in the journal; the key appears neither there nor in redisctl's output"
echo "e2e tls: 1 passed, 0 failed ($((SECONDS - started)) s)"
