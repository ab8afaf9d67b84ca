#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (libFuzzer), each for SECONDS, on its committed seeds
# (fuzz/seeds/<target>) plus what earlier runs found (fuzz/corpus/<target>, not in git), and
# prints a table of target, executions and result. Exits non-zero if any target found a crash,
# a hang or an out-of-memory; the input that did it is in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
#
# FUZZ_RUNS=N also stops a target after N executions, whichever comes first: issue 21's full run
# is FUZZ_RUNS=10000000 scripts/fuzz.sh 3600 (10M executions or an hour per target).
#
# The default build has AddressSanitizer, for the long runs. FUZZ_SMOKE=1 (CI) builds without a
# sanitizer, which builds and runs faster; the memory limits still hold (RSS).
# Needs a nightly toolchain (rustup toolchain install nightly); installs cargo-fuzz if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
if ! cargo +nightly --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
all=$(sed -n 's/^name = "\([a-z_]*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^redis-rs-fuzz$' || true)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    read -r -a targets <<<"$(echo $all)"
fi

# Release builds, as the server ships. FUZZ_FLAGS=-a adds debug assertions and overflow checks
# (a separate, full build).
build_flags=(+nightly fuzz build --fuzz-dir fuzz -O ${FUZZ_FLAGS:-})
run_flags=(+nightly fuzz run --fuzz-dir fuzz -O ${FUZZ_FLAGS:-})
if [ "${FUZZ_SMOKE:-0}" = 1 ]; then
    # A directory of its own: the same profile with other flags would rebuild over the ASan one.
    build_flags+=(-s none --target-dir fuzz/target/smoke)
    run_flags+=(-s none --target-dir fuzz/target/smoke)
fi
t0=$SECONDS
cargo "${build_flags[@]}"
echo "fuzz build: $((SECONDS - t0)) s"

# An input may not make the process hold more than 2 GB, nor ask for more than 256 MB at once
# (every length in these formats is bounded by what the input holds, or by a limit far below):
# either is reported as an out-of-memory. An input that takes over 10 s is a hang.
limits=(-rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10)
if [ -n "${FUZZ_RUNS:-}" ]; then
    limits+=(-runs="$FUZZ_RUNS")
fi
status=0
rows=()
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/seeds/$t"
    log="fuzz/artifacts/$t/last-run.log"
    started=$SECONDS
    set +e
    cargo "${run_flags[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        "${limits[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        status=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        kind=$(grep -o -m1 -E 'panicked at [^ ]+|ERROR: (libFuzzer|AddressSanitizer): [a-z -]+' "$log" || true)
        result="FAILED (${kind:-exit $rc}) ${artifact:-see $log}"
    fi
    rows+=("$(printf '%-16s %12s %7s  %s' "$t" "${execs:-?}" "$((SECONDS - started)) s" "$result")")
done
printf '%-16s %12s %7s  %s\n' target executions time result
printf '%s\n' "${rows[@]}"
exit $status
