#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine, then runs every check and test.
# This is the command README.md tells newcomers to run; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
# libssl-dev and pkg-config build the TLS support against the system OpenSSL; the openssl command
# makes the TLS tests' certificates.
for p in libssl-dev pkg-config openssl redis-server redis-sentinel redis-tools python3-redis systemd lintian debootstrap systemd-container iproute2 apt-utils; do
    dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${need_pkgs[*]} (run as root, or apt-get install them)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The packages may start Debian's own redis-server on 6379; tests never use that port.
    apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --all-targets -- --test-threads="${TEST_THREADS:-4}" 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}

# The fuzz smoke: every cargo-fuzz target on its seeds for FUZZ_SECONDS each (10 by default;
# FUZZ_SECONDS=0 skips it), built without a sanitizer, which builds and runs faster: the build
# compiles the server and its dependencies again with coverage instrumentation, about five
# minutes on two cores. The long runs are scripts/fuzz.sh's (with AddressSanitizer). The inputs
# that found bugs are unit tests beside the code, and seeds of their targets.
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
if [ "${FUZZ_SECONDS:-0}" != 0 ]; then
    echo "== fuzz smoke: every cargo-fuzz target for a few seconds, no sanitizer (scripts/fuzz.sh)"
    t0=$SECONDS
    FUZZ_SMOKE=1 ./scripts/fuzz.sh "$FUZZ_SECONDS"
    echo "fuzz smoke: $((SECONDS - t0)) s"
fi

echo "== package: build the .deb and its -dbgsym, check them with lintian and packaging/check-deb.sh"
built=$(./packaging/build-deb.sh -q | tail -n 2)
deb=$(grep '\.deb$' <<<"$built")
ddeb=$(grep '\.ddeb$' <<<"$built")
for pkg in "$deb" "$ddeb"; do
    # lintian's only other output for a clean package is its note about running as root.
    findings=$(lintian "$pkg" 2>&1 | grep -v 'running with root privileges' || true)
    if [ -n "$findings" ]; then
        echo "lintian $pkg:"
        echo "$findings"
        exit 1
    fi
    echo "lintian: $pkg is clean"
done
./packaging/check-deb.sh "$deb" "$ddeb"

echo "== end-to-end: the package under a booted systemd (systemd-nspawn)"
for scenario in fresh migration; do
    t0=$SECONDS
    tests/e2e/systemd.sh "$deb" "$scenario"
    echo "e2e $scenario: $((SECONDS - t0)) s"
done
echo "== end-to-end: Sentinel fails over across three hosts (systemd-nspawn on a bridge)"
t0=$SECONDS
tests/e2e/failover.sh "$deb"
echo "e2e failover: $((SECONDS - t0)) s"
echo "== end-to-end: a TLS-only server, replica and Sentinel configured by redisctl (systemd-nspawn)"
t0=$SECONDS
tests/e2e/tls.sh "$deb"
echo "e2e tls: $((SECONDS - t0)) s"

# One closing line for the whole run (cargo prints one per test binary, the last of which may be a
# binary with no tests of its own).
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
exit "$test_status"
