#!/usr/bin/env bash
# Soak test of the AOF's durability: a writer with appendfsync always while the server is killed
# with SIGKILL again and again; after every restart every acknowledged write must be there.
# The test suite runs 200 cycles; this runs more (default 1000) on a release build.
#
# Usage: scripts/aof-soak.sh [CYCLES]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cycles="${1:-1000}"
[[ "$cycles" =~ ^[1-9][0-9]*$ ]] || { echo "aof-soak.sh: CYCLES must be a positive integer" >&2; exit 2; }
AOF_SOAK_CYCLES="$cycles" cargo test --release --test it aof::sigkill_cycles_lose_no_acknowledged_write -- --nocapture
