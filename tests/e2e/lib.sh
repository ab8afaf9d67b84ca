# Shared by the end-to-end scripts (sourced, not run): booted Debian 12 containers with systemd-nspawn
# on overlays of a cached debootstrapped root (the cache stays clean), commands inside them, polling
# with a deadline, and a cleanup that powers every container off and removes its mounts and files.
#
# The sourcing script defines `fail MESSAGE` (print diagnostics, exit 1) and sets `work` to a
# directory of its own before booting.

e2e_cache=${REDIS_RS_E2E_CACHE:-/var/cache/redis-rs-e2e}
declare -A e2e_nspawn_pid=() e2e_init_pid=()

log() { printf '[e2e] %s\n' "$*"; }

# e2e_root NAME EXTRA_PACKAGES: the cached root (debootstrapped once), e.g. `e2e_root bookworm-base ""`.
# The base root has no redis-tools: installing the package must bring redis-cli in as a dependency.
# NAME must change whenever the packages change, or an old cache would be used.
e2e_root() {
    # Called as $(...), where bash drops errexit: a failed step must not leave a broken cache.
    set -e
    local root="$e2e_cache/$1" extra=$2
    if [ ! -d "$root/usr" ]; then
        log "debootstrapping Debian 12 into $root (once; cached)" >&2
        mkdir -p "$e2e_cache"
        rm -rf "$root.tmp"
        debootstrap --variant=minbase --include="systemd,systemd-sysv,dbus,iproute2,procps,adduser$extra" \
            bookworm "$root.tmp" >/dev/null
        mv "$root.tmp" "$root"
    fi
    echo "$root"
}

# e2e_repo ROOT [PACKAGE...]: a local apt repository (cached) with what installing the packages
# needs from Debian that ROOT lacks, downloaded on this host with apt-get download; by default
# redis-tools and its dependencies, which our package needs. A container booted with
# --private-network has no registry; with this repository as its only source, `apt install
# ./redis-rs.deb` resolves the package's dependencies as on a real machine.
e2e_repo() {
    # Called as $(...), where bash drops errexit: a failed step must not leave a broken cache.
    set -e
    local root=$1
    shift
    local packages=("$@")
    [ ${#packages[@]} -gt 0 ] || packages=(redis-tools)
    local repo="$e2e_cache/repo-$(basename "$root")"
    [ "${packages[*]}" = redis-tools ] || repo="$repo-$(printf '%s-' "${packages[@]}" | md5sum | cut -c1-8)"
    if [ ! -s "$repo/Packages" ]; then
        log "downloading ${packages[*]} and their dependencies into $repo (once; cached)" >&2
        rm -rf "$repo.tmp"
        mkdir -p "$repo.tmp"
        local closure installed wanted
        closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances "${packages[@]}" | grep -v '^ ' | grep -v '^<' | sort -u)
        installed=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${db:Status-Status} ${Package}\n' \
            | awk '$1 == "installed" { print $2 }' | sort -u)
        wanted=$(comm -23 <(echo "$closure") <(echo "$installed"))
        # shellcheck disable=SC2086 # one package name per word
        (cd "$repo.tmp" && apt-get download $wanted >/dev/null)
        (cd "$repo.tmp" && apt-ftparchive packages . >Packages && apt-ftparchive release . >Release)
        grep -q '^Package: redis-tools$' "$repo.tmp/Packages" || grep -qx redis-tools <<<"$installed"
        rm -rf "$repo"
        mv "$repo.tmp" "$repo"
    fi
    echo "$repo"
}

# e2e_switch NS: an Ethernet switch, bridge br0 in a network namespace of its own (so nothing
# touches the machine's network or firewall).
e2e_switch() {
    ip netns add "$1"
    ip -n "$1" link add br0 type bridge
    ip -n "$1" link set br0 up
    ip -n "$1" link set lo up
}

# e2e_plug SWITCH_NS HOST NS ADDR: a host's network namespace NS with one interface, eth0
# (ADDR/24), plugged into the switch's port-HOST (which goes down to pull the cable).
e2e_plug() {
    local switch=$1 host=$2 ns=$3 addr=$4
    ip netns add "$ns"
    ip -n "$switch" link add "port-$host" type veth peer name eth0 netns "$ns"
    ip -n "$switch" link set "port-$host" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
}

# e2e_apt_install NAME REPO DEB_IN_CONTAINER [APT_OPTIONS...]: `apt-get install` of a .deb inside
# container NAME, REPO (from e2e_repo) being its only package source. Output in $work/apt-NAME.log.
e2e_apt_install() {
    local name=$1 repo=$2 deb=$3
    shift 3
    local rootfs
    rootfs=$(e2e_rootfs "$name")
    if [ ! -d "$rootfs/root/repo" ]; then
        cp -r "$repo" "$rootfs/root/repo"
        rm -f "$rootfs/etc/apt/sources.list" "$rootfs"/etc/apt/sources.list.d/*
        echo 'deb [trusted=yes] file:/root/repo ./' >"$rootfs/etc/apt/sources.list"
        in_container "$name" apt-get update -qq >"$work/apt-$name.log" 2>&1 \
            || fail "apt-get update in $name: $(cat "$work/apt-$name.log")"
    fi
    in_container "$name" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" "$deb" \
        >"$work/apt-$name.log" 2>&1 || fail "apt-get install $deb in $name: $(cat "$work/apt-$name.log")"
}

# e2e_bumped_deb DEB SUFFIX: a copy of DEB whose version has SUFFIX appended (an upgrade of DEB),
# written into $work; prints its path.
e2e_bumped_deb() {
    # Called as $(...), where bash drops errexit: a failed step must not leave a broken cache.
    set -e
    local deb=$1 suffix=$2 tree="$work/bump-$2"
    dpkg-deb -R "$deb" "$tree"
    local version
    version=$(sed -n 's/^Version: //p' "$tree/DEBIAN/control")
    sed -i "s/^Version: .*/Version: $version$suffix/" "$tree/DEBIAN/control"
    dpkg-deb -Zgzip -b "$tree" "$work/redis-rs-$version$suffix.deb" >/dev/null
    rm -rf "$tree"
    echo "$work/redis-rs-$version$suffix.deb"
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
