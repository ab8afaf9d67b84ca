# Shared by the end-to-end scripts (sourced, not run): booted Debian 12 containers with systemd-nspawn
# on overlays of a cached debootstrapped root (the cache stays clean), commands inside them, polling
# with a deadline, and a cleanup that powers every container off and removes its mounts and files.
#
# The sourcing script defines `fail MESSAGE` (print diagnostics, exit 1) and sets `work` to a
# directory of its own before booting.

e2e_cache=${REDIS_RS_E2E_CACHE:-/var/cache/redis-rs-e2e}
declare -A e2e_nspawn_pid=() e2e_init_pid=()

log() { printf '[e2e] %s\n' "$*"; }

# e2e_root NAME EXTRA_PACKAGES: the cached root (debootstrapped once), e.g. `e2e_root bookworm ""`.
e2e_root() {
    local root="$e2e_cache/$1" extra=$2
    if [ ! -d "$root/usr" ]; then
        log "debootstrapping Debian 12 into $root (once; cached)" >&2
        mkdir -p "$e2e_cache"
        debootstrap --variant=minbase --include="systemd,systemd-sysv,dbus,iproute2,procps,adduser,redis-tools$extra" \
            bookworm "$root.tmp" >/dev/null
        mv "$root.tmp" "$root"
    fi
    echo "$root"
}

# e2e_boot NAME ROOT NSPAWN_ARGS...: boots a container on an overlay of ROOT and waits for its
# systemd to be up. NAME is this script's name for it (`in_container NAME ...`).
e2e_boot() {
    local name=$1 root=$2
    shift 2
    local merged="$work/$name/merged"
    mkdir -p "$work/$name/upper" "$work/$name/work" "$merged"
    mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/$name/upper,workdir=$work/$name/work" "$merged"
    systemd-nspawn -D "$merged" --boot --register=no --keep-unit --console=pipe --hostname="$name" "$@" \
        >"$work/$name/console.log" 2>&1 </dev/null &
    e2e_nspawn_pid[$name]=$!
    local init=""
    for _ in $(seq 1 200); do
        # nspawn first runs a short-lived helper child; the container's init is the child named systemd.
        init=$(pgrep -P "${e2e_nspawn_pid[$name]}" -x systemd | head -n 1 || true)
        [ -n "$init" ] && break
        sleep 0.05
    done
    [ -n "$init" ] || fail "the container $name did not start: $(cat "$work/$name/console.log")"
    e2e_init_pid[$name]=$init
    wait_for "systemd in the container $name" booted "$name"
}

# The directory holding container NAME's root, to copy files in.
e2e_rootfs() { echo "$work/$1/merged"; }

in_container() {
    local name=$1
    shift
    nsenter -t "${e2e_init_pid[$name]}" -a -- "$@"
}

# Booted: running, or degraded when some unrelated unit of the minimal root failed.
booted() {
    local state
    state=$(in_container "$1" systemctl is-system-running --wait 2>/dev/null || true)
    [ "$state" = running ] || [ "$state" = degraded ]
}

# wait_for WHAT COMMAND...: polls until COMMAND succeeds, with a generous deadline (default 30 s;
# E2E_WAIT sets it in seconds).
wait_for() {
    local what=$1
    shift
    local deadline=$((SECONDS + ${E2E_WAIT:-30}))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "timed out waiting for $what"
        sleep 0.1
    done
}

e2e_cleanup() {
    local name pid
    for name in "${!e2e_nspawn_pid[@]}"; do
        pid=${e2e_nspawn_pid[$name]}
        kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
    done
    for name in "${!e2e_nspawn_pid[@]}"; do
        pid=${e2e_nspawn_pid[$name]}
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        if mountpoint -q "$work/$name/merged"; then umount -l "$work/$name/merged" || true; fi
    done
    rm -rf "$work"
}
