#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine, then runs every check and test.
# This is the command README.md tells newcomers to run; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
for p in redis-server redis-sentinel redis-tools systemd; do
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
cargo test --all-targets -- --test-threads="${TEST_THREADS:-4}"
