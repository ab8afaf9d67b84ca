#!/usr/bin/env bash
# Regenerates fuzz/seeds/ from real inputs (see make_seeds.py): needs Debian's redis-server,
# redis-sentinel, redis-cli and redis-benchmark, and a debug build of ours
# (cargo build --bins; CARGO_TARGET_DIR is honoured).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
target=${CARGO_TARGET_DIR:-$repo/target}
exec python3 "$here/make_seeds.py" "$target/debug/redis-server-rs" "$target/debug/redis-sentinel-rs"
