#!/usr/bin/env bash
# Side-by-side benchmark: Debian's redis-server 7.0 vs. our redis-server-rs.
#
# Usage: bench/run.sh [--quick]
#
#   --quick   short smoke run (small request counts, 1 round, 100k keys);
#             finishes in well under a minute.
#
# Environment:
#   REDIS_RS_BIN      our server binary; if unset, it is built with
#                     `cargo build --release --bin redis-server-rs`
#   REDIS_REF_BIN     reference server (default /usr/bin/redis-server)
#   BENCH_REQUESTS    requests per redis-benchmark run (default 200000 for
#                     -P 1 and 1000000 for -P 16)
#   BENCH_ROUNDS      rounds per test and server; best is kept (default 2)
#   BENCH_CLIENTS     parallel connections (default 50)
#   BENCH_TESTS       comma-separated redis-benchmark tests (default
#                     set,get,incr,mset,ping_mbulk,lpush,lpop,sadd,hset,zadd,lrange_100)
#   BENCH_PIPELINES   space-separated pipeline depths (default "1 16")
#   BENCH_KEYS        keys for the memory-per-key test, and elements of the
#                     hash, set and sorted set of the memory-per-element test
#                     (default 1000000)
#   BENCH_TIMEOUT     seconds before one redis-benchmark run is abandoned
#                     (default 600)
#   BENCH_SENTINEL_ROUNDS  rounds of the Sentinel failover test per
#                     implementation; the median is kept (default 3)
#   BENCH_ONLY        "sentinel" runs the Sentinel failover test alone;
#                     "scripting" the scripting test alone (EVALSHA and FCALL
#                     of a one-INCR script, memory per cached script);
#                     "streams" the streams test alone (XADD, XRANGE, the
#                     XREADGROUP/XACK loop, memory of a 1M-entry stream);
#                     "scripting-callgrind" (never part of a full run) counts
#                     instructions per request of INCR, EVALSHA and FCALL
#                     under valgrind's callgrind, at -P 1 and 16;
#                     "streams-callgrind" the same for XADD, XRANGE,
#                     XREADGROUP and XACK
#   BENCH_SCRIPTS     scripts loaded by the memory-per-script test (default
#                     10000)
#   BENCH_CALLGRIND_REQUESTS  requests per callgrind measurement (default 50000)
#   BENCH_CALLGRIND_CLIENTS   connections of a callgrind measurement (default 50,
#                     as the throughput runs and the targets; 1 shows the cost of
#                     a wake-up per request)
#
# The throughput table goes to stdout; progress goes to stderr.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "run.sh: unknown argument: $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

if ((quick)); then
    default_rounds=1
    default_keys=100000
    default_n_p1=20000
    default_n_pipe=100000
else
    default_rounds=2
    default_keys=1000000
    default_n_p1=200000
    default_n_pipe=1000000
fi
rounds="${BENCH_ROUNDS:-$default_rounds}"
nkeys="${BENCH_KEYS:-$default_keys}"
clients="${BENCH_CLIENTS:-50}"
bench_timeout="${BENCH_TIMEOUT:-600}"
IFS=',' read -r -a tests <<<"${BENCH_TESTS:-set,get,incr,mset,ping_mbulk,lpush,lpop,sadd,hset,zadd,lrange_100}"
read -r -a pipelines <<<"${BENCH_PIPELINES:-1 16}"
ref_bin="${REDIS_REF_BIN:-/usr/bin/redis-server}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
    printf '[bench] error: %s\n' "$*" >&2
    exit 1
}

for v in rounds nkeys clients bench_timeout; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
case "${BENCH_ONLY:-}" in
    "" | sentinel | scripting | scripting-callgrind | streams | streams-callgrind) ;;
    *) die "BENCH_ONLY must be empty, 'sentinel', 'scripting', 'scripting-callgrind', 'streams' or 'streams-callgrind' (got '$BENCH_ONLY')" ;;
esac
if [[ -n "${BENCH_REQUESTS:-}" && ! "$BENCH_REQUESTS" =~ ^[1-9][0-9]*$ ]]; then
    die "BENCH_REQUESTS must be a positive integer (got '$BENCH_REQUESTS')"
fi

# ---------------------------------------------------------------- tools ----
need_install=0
for tool in redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null 2>&1 || need_install=1
done
[[ -x "$ref_bin" ]] || need_install=1
if ((need_install)); then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing redis-server and redis-tools with apt-get"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools >&2; then
            apt-get update >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools >&2
        fi
    else
        die "redis-server, redis-benchmark and redis-cli are required (Debian packages redis-server and redis-tools)"
    fi
fi
for tool in redis-benchmark redis-cli timeout awk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[[ -x "$ref_bin" ]] || die "reference server $ref_bin not found"

if [[ -n "${REDIS_RS_BIN:-}" ]]; then
    ours_bin="$REDIS_RS_BIN"
else
    command -v cargo >/dev/null 2>&1 || die "cargo not found (or set REDIS_RS_BIN)"
    log "building redis-server-rs (cargo build --release)"
    (cd "$repo_root" && cargo build --release --bin redis-server-rs >&2)
    ours_bin="${CARGO_TARGET_DIR:-$repo_root/target}/release/redis-server-rs"
    [[ "$ours_bin" == /* ]] || ours_bin="$repo_root/$ours_bin"
fi
[[ -x "$ours_bin" ]] || die "our server binary $ours_bin is not executable"

# -------------------------------------------------------------- servers ----
# Server state, keyed by role: "redis" (Debian's) and "ours".
declare -A srv_bin=([redis]="$ref_bin" [ours]="$ours_bin")
# srv_wrap: a command the server is started under (valgrind for the callgrind test).
declare -A srv_pid=() srv_port=() srv_dir=() srv_args=() srv_wrap=()
used_ports=" "

stop_server() {
    local role="$1" pid i
    pid="${srv_pid[$role]:-}"
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [[ -n "${srv_dir[$role]:-}" ]]; then
        rm -rf -- "${srv_dir[$role]}"
    fi
    unset 'srv_pid[$role]' 'srv_dir[$role]' 'srv_port[$role]'
}

cleanup() {
    local role
    for role in "${!srv_pid[@]}"; do
        stop_server "$role"
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() {
    local port="$1"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        return 0
    fi
    if command -v ss >/dev/null 2>&1 &&
        [[ -n "$(ss -Htan "sport = :$port" 2>/dev/null)" ]]; then
        return 0
    fi
    return 1
}

# Prints a currently free loopback port from the kernel's ephemeral range.
pick_port() {
    local lo=32768 hi=60999 port tries
    if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
        read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
    fi
    for ((tries = 0; tries < 200; tries++)); do
        port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        ((port == 6379)) && continue
        [[ "$used_ports" == *" $port "* ]] && continue
        port_in_use "$port" && continue
        echo "$port"
        return 0
    done
    return 1
}

cli() {
    local role="$1"
    shift
    redis-cli -h 127.0.0.1 -p "${srv_port[$role]}" "$@"
}

# info_field ROLE SECTION FIELD
info_field() {
    cli "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2; exit }'
}

# start_server ROLE: start on a fresh free port in a fresh temp dir and wait
# until it answers PING. Retries with another port if it dies at startup
# (e.g. the port was grabbed between the check and the bind).
start_server() {
    local role="$1" bin attempt port dir pid deadline reported limit=30
    bin="${srv_bin[$role]}"
    # Under valgrind start-up takes many times longer.
    [[ -n "${srv_wrap[$role]:-}" ]] && limit=300
    for ((attempt = 1; attempt <= 5; attempt++)); do
        port="$(pick_port)" || die "no free loopback port found"
        dir="$(mktemp -d "${TMPDIR:-/tmp}/redis-bench-$role.XXXXXX")"
        # exec, so that $! is the server's own PID (used for /proc/PID/status).
        # shellcheck disable=SC2086  # srv_args and srv_wrap hold several words on purpose
        (cd "$dir" && exec ${srv_wrap[$role]:-} "$bin" --port "$port" --bind 127.0.0.1 \
            --save "" --appendonly no --loglevel warning ${srv_args[$role]:-} >"$dir/server.log" 2>&1) &
        pid=$!
        srv_pid[$role]=$pid
        srv_port[$role]=$port
        srv_dir[$role]=$dir
        used_ports+="$port "
        deadline=$((SECONDS + limit))
        while ((SECONDS < deadline)); do
            kill -0 "$pid" 2>/dev/null || break
            if [[ "$(cli "$role" ping 2>/dev/null)" == PONG ]]; then
                # Make sure the PONG came from our process, not a stranger.
                reported="$(info_field "$role" server process_id 2>/dev/null || true)"
                if [[ -n "$reported" && "$reported" != "$pid" ]]; then
                    die "port $port answered with process_id $reported, expected $pid"
                fi
                log "$role: $bin pid $pid on 127.0.0.1:$port ($dir)"
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            cat "$dir/server.log" >&2 || true
            die "$role server did not answer PING within ${limit}s"
        fi
        log "$role server exited at startup (attempt $attempt, port $port):"
        sed 's/^/    /' "$dir/server.log" >&2 || true
        stop_server "$role"
    done
    die "could not start $role server ($bin)"
}

# ------------------------------------------------------------ throughput ----
# cpu_ticks PID: the user + system time of all the process's threads, in clock ticks
# (fields 14 and 15 of /proc/PID/stat; the command name in field 2 has no spaces here).
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
clk_tck="$(getconf CLK_TCK)"

# run_bench ROLE TEST DEPTH N: prints "rps p50 p99 cpu", cpu being the server's CPU time per
# request in µs (what a throughput ratio cannot show when the client shares the cores), or
# nothing on failure.
run_bench() {
    local role="$1" test="$2" depth="$3" n="$4"
    run_bench_args "$role" "$depth" "$n" -t "$test"
}

# run_bench_args ROLE DEPTH N ARGS...: as run_bench, for redis-benchmark's -t TEST or a command
# of its own (e.g. EVALSHA <sha> 1 key:__rand_int__) given as ARGS.
run_bench_args() {
    local role="$1" depth="$2" n="$3" out before after
    shift 3
    before="$(cpu_ticks "${srv_pid[$role]}")"
    if ! out="$(timeout "$bench_timeout" redis-benchmark -h 127.0.0.1 -p "${srv_port[$role]}" \
        -c "$clients" -n "$n" -P "$depth" --csv "$@" 2>"${srv_dir[$role]}/bench.err")"; then
        log "warning: redis-benchmark -P $depth $* failed against $role:"
        sed 's/^/    /' "${srv_dir[$role]}/bench.err" >&2 || true
        return 0
    fi
    after="$(cpu_ticks "${srv_pid[$role]}")"
    # Locate columns by header name; the test name ("MSET (10 keys)") has no commas. The last row
    # is the test itself: lrange_* first runs an LPUSH to fill the list, reported on its own row.
    awk -F, -v before="$before" -v after="$after" -v tck="$clk_tck" -v n="$n" '
        { gsub(/"/, "") }
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        ("rps" in col) && ("p50_latency_ms" in col) && ("p99_latency_ms" in col) {
            last = $col["rps"] " " $col["p50_latency_ms"] " " $col["p99_latency_ms"]
        }
        END { if (last != "") printf "%s %.2f\n", last, (after - before) * 1e6 / tck / n }' <<<"$out"
}

# The best of a test's rounds, per role: the highest ops/s and the least CPU per request.
declare -A round_rps=() round_cpu=()

# note_round KIND DEPTH ROUND ROLE RESULT: logs one run (run_bench_args's line) and keeps its
# figures where they are the best so far.
note_round() {
    local kind="$1" depth="$2" round="$3" role="$4" res="$5" rps cpu
    if [[ -z "$res" ]]; then
        log "$kind -P $depth round $round $role: no result"
        return 0
    fi
    read -r rps _ _ cpu <<<"$res"
    log "$kind -P $depth round $round $role: $rps ops/s, $cpu µs CPU/request"
    if [[ -z "${round_cpu[$role]:-}" ]] ||
        awk -v a="$cpu" -v b="${round_cpu[$role]}" 'BEGIN { exit !(a + 0 < b + 0) }'; then
        round_cpu[$role]=$cpu
    fi
    if [[ -z "${round_rps[$role]:-}" ]] ||
        awk -v a="$rps" -v b="${round_rps[$role]}" 'BEGIN { exit !(a + 0 > b + 0) }'; then
        round_rps[$role]=$rps
    fi
}

# best_row KIND DEPTH: the table row of the rounds noted since the arrays were last emptied
# (each test empties them before its rounds: this runs in a subshell and cannot).
best_row() {
    local rr="${round_rps[redis]:-}" ro="${round_rps[ours]:-}" cr="${round_cpu[redis]:-}" co="${round_cpu[ours]:-}"
    echo "$1|$2|${rr:-n/a}|${ro:-n/a}|$(fmt_ratio "$ro" "$rr")|${cr:-n/a}|${co:-n/a}|$(fmt_ratio "$co" "$cr")"
}

fmt_ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'
}

now_ms() { date +%s%3N; }
repl_fmt='%-22s %14s %14s %10s\n'

# Everything up to the sentinel section is skipped with BENCH_ONLY=sentinel (not indented, to
# keep the sections as they were).
if [[ -z "${BENCH_ONLY:-}" ]]; then
start_server redis
start_server ours
log "redis-benchmark: $(redis-benchmark --version 2>/dev/null || echo '?'), $clients clients, $rounds round(s)"

rows=()
declare -A best_rps=() best_p50=() best_p99=() best_cpu=()
for depth in "${pipelines[@]}"; do
    if [[ -n "${BENCH_REQUESTS:-}" ]]; then
        n="$BENCH_REQUESTS"
    elif ((depth == 1)); then
        n="$default_n_p1"
    else
        n="$default_n_pipe"
    fi
    for test in "${tests[@]}"; do
        best_rps=([redis]="" [ours]="")
        best_p50=()
        best_p99=()
        best_cpu=([redis]="" [ours]="")
        for ((round = 1; round <= rounds; round++)); do
            for role in redis ours; do
                res="$(run_bench "$role" "$test" "$depth" "$n")"
                if [[ -z "$res" ]]; then
                    log "$test -P $depth round $round $role: no result"
                    continue
                fi
                read -r rps p50 p99 cpu <<<"$res"
                log "$test -P $depth round $round $role: $rps ops/s p50 $p50 ms p99 $p99 ms, $cpu µs CPU/request"
                # The least CPU per request over the rounds: interference only ever adds to it.
                if [[ -z "${best_cpu[$role]}" ]] ||
                    awk -v a="$cpu" -v b="${best_cpu[$role]}" 'BEGIN { exit !(a + 0 < b + 0) }'; then
                    best_cpu[$role]=$cpu
                fi
                if [[ -z "${best_rps[$role]}" ]] ||
                    awk -v a="$rps" -v b="${best_rps[$role]}" 'BEGIN { exit !(a + 0 > b + 0) }'; then
                    best_rps[$role]=$rps
                    best_p50[$role]=$p50
                    best_p99[$role]=$p99
                fi
            done
        done
        rows+=("$(printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s' "$test" "$depth" \
            "${best_rps[redis]:-n/a}" "${best_rps[ours]:-n/a}" \
            "$(fmt_ratio "${best_rps[ours]}" "${best_rps[redis]}")" \
            "${best_p50[redis]:-n/a}" "${best_p50[ours]:-n/a}" \
            "${best_p99[redis]:-n/a}" "${best_p99[ours]:-n/a}" \
            "${best_cpu[redis]:-n/a}" "${best_cpu[ours]:-n/a}" \
            "$(fmt_ratio "${best_cpu[ours]}" "${best_cpu[redis]}")")")
    done
done

echo
echo "Throughput: $clients clients, best of $rounds round(s); latencies in ms from the best round;"
echo "server CPU (user + system, all threads) per request in µs, the least of the rounds"
echo "  redis = $ref_bin"
echo "  ours  = $ours_bin"
echo
table_fmt='%-11s %8s %13s %13s %10s %9s %9s %9s %9s %9s %9s %9s\n'
# shellcheck disable=SC2059  # the format string is ours
printf "$table_fmt" test pipeline "redis ops/s" "ours ops/s" ours/redis \
    "redis p50" "ours p50" "redis p99" "ours p99" "redis cpu" "ours cpu" "cpu o/r"
for row in "${rows[@]}"; do
    IFS='|' read -r -a f <<<"$row"
    # shellcheck disable=SC2059
    printf "$table_fmt" "${f[@]}"
done

# ---------------------------------------------------------------- memory ----
# Restart both servers so the empty baselines are not skewed by allocator
# state left over from the throughput runs, then fill exactly $nkeys keys of
# the redis-benchmark shape ("key:" + 12 digits) with 3-byte values.
log "memory test: restarting servers, filling $nkeys keys each"
stop_server redis
stop_server ours
start_server redis
start_server ours

vmrss_kb() {
    awk '$1 == "VmRSS:" { print $2; exit }' "/proc/$1/status"
}

declare -A mem_base=() rss_base=() mem_full=() rss_full=()
for role in redis ours; do
    cli "$role" flushall >/dev/null
    sleep 0.5
    mem_base[$role]="$(info_field "$role" memory used_memory)"
    rss_base[$role]="$(vmrss_kb "${srv_pid[$role]}")"
done
for role in redis ours; do
    pipe_out="$(awk -v n="$nkeys" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i
    }' | cli "$role" --pipe 2>&1)" || die "redis-cli --pipe failed against $role: $pipe_out"
    log "$role: $(tr '\n' ' ' <<<"$pipe_out")"
    keys="$(cli "$role" dbsize | tr -d '\r')"
    [[ "$keys" == "$nkeys" ]] || die "$role has $keys keys after filling, expected $nkeys"
    sleep 0.5
    mem_full[$role]="$(info_field "$role" memory used_memory)"
    rss_full[$role]="$(vmrss_kb "${srv_pid[$role]}")"
done

per_key() { # per_key FULL BASE SCALE: (FULL - BASE) * SCALE / nkeys
    awk -v a="$1" -v b="$2" -v s="$3" -v n="$nkeys" 'BEGIN {
        if (a == "" || b == "") print ""; else printf "%.1f\n", (a - b) * s / n }'
}
um_redis="$(per_key "${mem_full[redis]}" "${mem_base[redis]}" 1)"
um_ours="$(per_key "${mem_full[ours]}" "${mem_base[ours]}" 1)"
rss_redis="$(per_key "${rss_full[redis]}" "${rss_base[redis]}" 1024)"
rss_ours="$(per_key "${rss_full[ours]}" "${rss_base[ours]}" 1024)"

echo
echo "Memory per key: $nkeys keys 'key:' + 12 digits, 3-byte values; minus empty-server baseline"
mem_fmt='%-12s %14s %14s %10s\n'
# shellcheck disable=SC2059
printf "$mem_fmt" metric "redis B/key" "ours B/key" ours/redis
# shellcheck disable=SC2059
printf "$mem_fmt" used_memory "${um_redis:-n/a}" "${um_ours:-n/a}" "$(fmt_ratio "$um_ours" "$um_redis")"
# shellcheck disable=SC2059
printf "$mem_fmt" VmRSS "${rss_redis:-n/a}" "${rss_ours:-n/a}" "$(fmt_ratio "$rss_ours" "$rss_redis")"
echo "  (used_memory baseline: redis ${mem_base[redis]:-?} B, ours ${mem_base[ours]:-?} B;" \
    "VmRSS baseline: redis ${rss_base[redis]:-?} kB, ours ${rss_base[ours]:-?} kB)"

# ------------------------------------------------------------ persistence ----
# With the $nkeys keys of the memory test still loaded: SAVE's time and file size, then the time
# from start until the first PONG when each server is restarted on its own dump.
declare -A save_ms=() rdb_bytes=() load_ms=() fork_us=()
for role in redis ours; do
    # BGSAVE's fork is the stall clients see; the save itself runs in the child.
    [[ "$(cli "$role" bgsave | tr -d '\r')" == "Background saving started" ]] || die "BGSAVE failed on $role"
    until [[ "$(info_field "$role" persistence rdb_bgsave_in_progress)" == 0 ]]; do sleep 0.1; done
    fork_us[$role]="$(info_field "$role" stats latest_fork_usec)"
    t0=$(now_ms)
    [[ "$(cli "$role" save | tr -d '\r')" == OK ]] || die "SAVE failed on $role"
    save_ms[$role]=$(($(now_ms) - t0))
    rdb_bytes[$role]=$(stat -c %s "${srv_dir[$role]}/dump.rdb")
    pid="${srv_pid[$role]}"
    port="${srv_port[$role]}"
    dir="${srv_dir[$role]}"
    cli "$role" shutdown nosave >/dev/null 2>&1 || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    t0=$(now_ms)
    (cd "$dir" && exec "${srv_bin[$role]}" --port "$port" --bind 127.0.0.1 \
        --save "" --appendonly no --loglevel warning >"$dir/server.log" 2>&1) &
    srv_pid[$role]=$!
    deadline=$((SECONDS + 120))
    until [[ "$(cli "$role" ping 2>/dev/null)" == PONG ]]; do
        ((SECONDS < deadline)) || die "$role did not come back after loading its dump"
        sleep 0.01
    done
    load_ms[$role]=$(($(now_ms) - t0))
    keys="$(cli "$role" dbsize | tr -d '\r')"
    [[ "$keys" == "$nkeys" ]] || die "$role loaded $keys keys from its dump, expected $nkeys"
done
echo
echo "RDB of $nkeys keys: BGSAVE fork stall, SAVE time, file size, restart time until the first PONG"
rdb_fmt='%-14s %12s %12s %10s\n'
# shellcheck disable=SC2059
printf "$rdb_fmt" metric redis ours ours/redis
# shellcheck disable=SC2059
printf "$rdb_fmt" "save ms" "${save_ms[redis]}" "${save_ms[ours]}" "$(fmt_ratio "${save_ms[ours]}" "${save_ms[redis]}")"
# shellcheck disable=SC2059
printf "$rdb_fmt" "file bytes" "${rdb_bytes[redis]}" "${rdb_bytes[ours]}" "$(fmt_ratio "${rdb_bytes[ours]}" "${rdb_bytes[redis]}")"
# shellcheck disable=SC2059
printf "$rdb_fmt" "load ms" "${load_ms[redis]}" "${load_ms[ours]}" "$(fmt_ratio "${load_ms[ours]}" "${load_ms[redis]}")"
# shellcheck disable=SC2059
printf "$rdb_fmt" "fork us" "${fork_us[redis]}" "${fork_us[ours]}" "$(fmt_ratio "${fork_us[ours]}" "${fork_us[redis]}")"

# ------------------------------------------------------- collection memory ----
# One hash, one set and one sorted set of $nkeys elements each, on freshly restarted servers:
# bytes per element of used_memory and VmRSS, minus the empty server.
# shellcheck disable=SC2016  # awk programs: awk expands them
declare -A coll_fill=(
    [hash]='printf "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$%d\r\nfield:%d\r\n$%d\r\nv%d\r\n", 6 + length(i), i, 1 + length(i), i'
    [set]='printf "*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$%d\r\nmember:%d\r\n", 7 + length(i), i'
    [zset]='printf "*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$%d\r\n%d\r\n$%d\r\nmember:%d\r\n", length(i), i, 7 + length(i), i'
)
coll_rows=()
for kind in hash set zset; do
    log "memory test: one $kind of $nkeys elements"
    declare -A c_base=() c_rbase=() c_full=() c_rfull=()
    for role in redis ours; do
        stop_server "$role"
        start_server "$role"
        sleep 0.5
        c_base[$role]="$(info_field "$role" memory used_memory)"
        c_rbase[$role]="$(vmrss_kb "${srv_pid[$role]}")"
        pipe_out="$(awk -v n="$nkeys" "BEGIN { for (i = 1; i <= n; i++) ${coll_fill[$kind]} }" |
            cli "$role" --pipe 2>&1)" || die "redis-cli --pipe failed against $role: $pipe_out"
        sleep 0.5
        c_full[$role]="$(info_field "$role" memory used_memory)"
        c_rfull[$role]="$(vmrss_kb "${srv_pid[$role]}")"
    done
    cu_redis="$(per_key "${c_full[redis]}" "${c_base[redis]}" 1)"
    cu_ours="$(per_key "${c_full[ours]}" "${c_base[ours]}" 1)"
    cr_redis="$(per_key "${c_rfull[redis]}" "${c_rbase[redis]}" 1024)"
    cr_ours="$(per_key "${c_rfull[ours]}" "${c_rbase[ours]}" 1024)"
    coll_rows+=("$kind used_memory|${cu_redis:-n/a}|${cu_ours:-n/a}|$(fmt_ratio "$cu_ours" "$cu_redis")")
    coll_rows+=("$kind VmRSS|${cr_redis:-n/a}|${cr_ours:-n/a}|$(fmt_ratio "$cr_ours" "$cr_redis")")
    unset c_base c_rbase c_full c_rfull
done
echo
echo "Memory per element: one key of $nkeys elements (hash: field:N -> vN, set: member:N, zset: member:N score N)"
coll_fmt='%-18s %14s %14s %10s\n'
# shellcheck disable=SC2059
printf "$coll_fmt" metric "redis B/elem" "ours B/elem" ours/redis
for row in "${coll_rows[@]}"; do
    IFS='|' read -r -a f <<<"$row"
    # shellcheck disable=SC2059
    printf "$coll_fmt" "${f[@]}"
done

# ---------------------------------------------------------------- growth ----
# While writers add $growth_keys new keys as fast as they can, a probe PINGs every millisecond:
# its slowest round trips show any stall from the keyspace growing (e.g. a table rehashed at once).
growth_keys="${BENCH_GROWTH_KEYS:-$(if ((quick)); then echo 1000000; else echo 10000000; fi)}"
log "growth test: building the probe, filling $growth_keys keys each"
(cd "$repo_root" && cargo build --release --example growth_probe >/dev/null 2>&1) \
    || die "could not build the growth probe (cargo build --release --example growth_probe)"
probe_bin="$repo_root/target/release/examples/growth_probe"
declare -A growth=()
for role in redis ours; do
    cli "$role" flushall >/dev/null
    growth[$role]="$("$probe_bin" "${srv_port[$role]}" "$growth_keys")" || die "growth probe failed against $role"
    cli "$role" flushall >/dev/null
done
echo
echo "Keyspace growth to $growth_keys keys (4 pipelined writers), PING probe every 1 ms:"
echo "  redis: ${growth[redis]}"
echo "  ours:  ${growth[ours]}"

# ----------------------------------------------------------- replication ----
# Full sync: $nkeys keys on a master, a fresh replica of the same implementation started, time
# until its link is up with every key. Then SET -P 16 on the master alone and with two replicas
# attached (redis-benchmark's keys), and the share of throughput the replicas cost.
repl_n="${BENCH_REPL_REQUESTS:-$default_n_pipe}"
declare -A sync_ms=() alone_rps=() with_rps=() aof_rps=()
for role in redis ours; do
    log "replication test: $role master, $nkeys keys, full sync then -P 16 with 2 replicas"
    stop_server "$role"
    start_server "$role"
    cli "$role" config set repl-diskless-sync-delay 0 >/dev/null
    pipe_out="$(awk -v n="$nkeys" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i
    }' | cli "$role" --pipe 2>&1)" || die "redis-cli --pipe failed against $role: $pipe_out"
    res="$(run_bench "$role" set 16 "$repl_n")"
    alone_rps[$role]="${res%% *}"
    for r in 1 2; do
        srv_bin[$role-r$r]="${srv_bin[$role]}"
        srv_args[$role-r$r]="--replicaof 127.0.0.1 ${srv_port[$role]}"
    done
    t0=$(now_ms)
    start_server "$role-r1"
    deadline=$((SECONDS + 300))
    until [[ "$(info_field "$role-r1" replication master_link_status)" == up &&
        "$(cli "$role-r1" dbsize | tr -d '\r')" -ge "$nkeys" ]]; do
        ((SECONDS < deadline)) || die "$role replica did not sync $nkeys keys within 300 s"
        sleep 0.01
    done
    sync_ms[$role]=$(($(now_ms) - t0))
    start_server "$role-r2"
    until [[ "$(info_field "$role-r2" replication master_link_status)" == up ]]; do
        ((SECONDS < deadline)) || die "$role second replica did not sync within 300 s"
        sleep 0.05
    done
    res="$(run_bench "$role" set 16 "$repl_n")"
    with_rps[$role]="${res%% *}"
    stop_server "$role-r1"
    stop_server "$role-r2"
    # The same with the AOF on (appendfsync everysec), once CONFIG SET has written its base.
    cli "$role" config set appendonly yes >/dev/null
    until [[ "$(info_field "$role" persistence aof_enabled)" == 1 &&
        "$(info_field "$role" persistence aof_rewrite_in_progress)" == 0 ]]; do
        ((SECONDS < deadline)) || die "$role did not turn its AOF on within 300 s"
        sleep 0.05
    done
    res="$(run_bench "$role" set 16 "$repl_n")"
    aof_rps[$role]="${res%% *}"
    cli "$role" config set appendonly no >/dev/null
done
loss() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.1f%%\n", (1 - a / b) * 100 }'; }
echo
echo "Replication: full sync of $nkeys keys to a new replica (start until link up with every key);"
echo "SET -P 16 on the master alone, with 2 replicas attached, and alone with appendonly yes (everysec)"
# shellcheck disable=SC2059
printf "$repl_fmt" metric redis ours ours/redis
# shellcheck disable=SC2059
printf "$repl_fmt" "full sync ms" "${sync_ms[redis]}" "${sync_ms[ours]}" "$(fmt_ratio "${sync_ms[ours]}" "${sync_ms[redis]}")"
# shellcheck disable=SC2059
printf "$repl_fmt" "SET -P16 alone ops/s" "${alone_rps[redis]:-n/a}" "${alone_rps[ours]:-n/a}" "$(fmt_ratio "${alone_rps[ours]}" "${alone_rps[redis]}")"
# shellcheck disable=SC2059
printf "$repl_fmt" "SET -P16 +2 replicas" "${with_rps[redis]:-n/a}" "${with_rps[ours]:-n/a}" "$(fmt_ratio "${with_rps[ours]}" "${with_rps[redis]}")"
# shellcheck disable=SC2059
printf "$repl_fmt" "throughput lost" "$(loss "${with_rps[redis]}" "${alone_rps[redis]}")" "$(loss "${with_rps[ours]}" "${alone_rps[ours]}")" ""
# shellcheck disable=SC2059
printf "$repl_fmt" "SET -P16 appendonly" "${aof_rps[redis]:-n/a}" "${aof_rps[ours]:-n/a}" "$(fmt_ratio "${aof_rps[ours]}" "${aof_rps[redis]}")"
fi # BENCH_ONLY

# ------------------------------------------------------------- sentinel ----
# Three sentinels (Debian's redis-sentinel, then ours: redis-server-rs --sentinel), quorum 2,
# down-after-milliseconds 1000, watch a real master with two real replicas. The master is killed;
# the time until every sentinel answers the new master's address is measured.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == sentinel ]]; then
sentinel_down_after=1000
sentinel_rounds="${BENCH_SENTINEL_ROUNDS:-3}"
declare -A failover_ms=() failover_all=()
declare -a sentinel_pids=()
sentinel_cleanup() {
    local p
    for p in "${sentinel_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    sentinel_pids=()
}
trap 'sentinel_cleanup; cleanup' EXIT
for round_impl in $(for ((r = 1; r <= sentinel_rounds; r++)); do echo redis ours; done); do
    impl="$round_impl"
    log "sentinel failover test: $impl sentinels"
    for role in sm sr1 sr2; do stop_server "$role"; done
    srv_bin[sm]="$ref_bin"; srv_args[sm]=""
    start_server sm
    for r in sr1 sr2; do
        srv_bin[$r]="$ref_bin"
        srv_args[$r]="--replicaof 127.0.0.1 ${srv_port[sm]}"
        start_server "$r"
    done
    sports=()
    for i in 1 2 3; do
        port="$(pick_port)" || die "no free port for a sentinel"
        used_ports+="$port "
        sdir="${srv_dir[sm]}/sentinel$i"
        mkdir -p "$sdir"
        printf 'port %s\nbind 127.0.0.1\ndir %s\nlogfile %s/sentinel.log\nsentinel monitor mymaster 127.0.0.1 %s 2\nsentinel down-after-milliseconds mymaster %s\nsentinel failover-timeout mymaster 10000\n' \
            "$port" "$sdir" "$sdir" "${srv_port[sm]}" "$sentinel_down_after" >"$sdir/sentinel.conf"
        if [[ "$impl" == redis ]]; then
            /usr/bin/redis-sentinel "$sdir/sentinel.conf" >/dev/null 2>&1 &
        else
            "$ours_bin" "$sdir/sentinel.conf" --sentinel >/dev/null 2>&1 &
        fi
        sentinel_pids+=("$!")
        sports+=("$port")
    done
    # Ready when every sentinel knows both replicas and the two other sentinels.
    deadline=$((SECONDS + 60))
    for p in "${sports[@]}"; do
        until [[ "$(redis-cli -p "$p" sentinel master mymaster 2>/dev/null | awk 'prev == "num-slaves" || prev == "num-other-sentinels" { print } { prev = $0 }' | tr '\n' ' ')" == "2 2 " ]]; do
            ((SECONDS < deadline)) || die "$impl sentinels did not discover each other and the replicas"
            sleep 0.1
        done
    done
    old_port="${srv_port[sm]}"
    kill -9 "${srv_pid[sm]}"
    t0=$(now_ms)
    deadline=$((SECONDS + 60))
    while :; do
        moved=0
        for p in "${sports[@]}"; do
            addr="$(redis-cli -p "$p" sentinel get-master-addr-by-name mymaster 2>/dev/null | tail -n 1)"
            [[ -n "$addr" && "$addr" != "$old_port" ]] && moved=$((moved + 1))
        done
        ((moved == 3)) && break
        ((SECONDS < deadline)) || die "$impl sentinels did not fail over within 60 s"
        sleep 0.01
    done
    failover_all[$impl]+="$(($(now_ms) - t0)) "
    sentinel_cleanup
    unset 'srv_pid[sm]'
    for role in sm sr1 sr2; do stop_server "$role"; done
done
# The median of the rounds: each failover starts after a random 0-999 ms, as Redis's does.
for impl in redis ours; do
    failover_ms[$impl]="$(tr ' ' '\n' <<<"${failover_all[$impl]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
done
echo
echo "Sentinel failover: master killed -> all 3 sentinels answer the new master (quorum 2, down-after ${sentinel_down_after} ms),"
echo "median of $sentinel_rounds rounds (redis: ${failover_all[redis]}ms; ours: ${failover_all[ours]}ms)"
# shellcheck disable=SC2059
printf "$repl_fmt" metric redis ours ours/redis
# shellcheck disable=SC2059
printf "$repl_fmt" "failover ms" "${failover_ms[redis]}" "${failover_ms[ours]}" "$(fmt_ratio "${failover_ms[ours]}" "${failover_ms[redis]}")"
echo "  target: ours <= redis and <= $((sentinel_down_after + 1500)) ms"
fi # sentinel

# ------------------------------------------------------------ scripting ----
# EVALSHA of a script that makes one call and FCALL of the same function, side by side at each
# pipeline depth (the SHA1 is the body's, the same on both servers); then what a cached script
# costs: 10,000 distinct scripts loaded with SCRIPT LOAD. Every key is the literal
# "key:__rand_int__", as in the throughput table (no -r).
incr_script="return redis.call('INCR', KEYS[1])"
incr_library="#!lua name=benchlib
redis.register_function('incr', function(keys, args) return redis.call('INCR', keys[1]) end)"

# load_incr ROLE: SCRIPT LOAD and FUNCTION LOAD of the INCR script, both checked to count;
# prints the script's SHA1.
load_incr() {
    local role="$1" sha lib first second
    sha="$(cli "$role" script load "$incr_script" | tr -d '\r')"
    [[ "$sha" =~ ^[0-9a-f]{40}$ ]] || die "SCRIPT LOAD failed on $role: $sha"
    lib="$(cli "$role" function load replace "$incr_library" | tr -d '\r')"
    [[ "$lib" == benchlib ]] || die "FUNCTION LOAD failed on $role: $lib"
    first="$(cli "$role" evalsha "$sha" 1 bench:check | tr -d '\r')"
    second="$(cli "$role" fcall incr 1 bench:check | tr -d '\r')"
    [[ "$first $second" == "1 2" ]] || die "$role: EVALSHA and FCALL of INCR gave '$first' and '$second', expected 1 and 2"
    cli "$role" del bench:check >/dev/null
    echo "$sha"
}

# script_cmd KIND SHA: the redis-benchmark command line of EVALSHA or FCALL.
script_cmd() {
    case "$1" in
        evalsha) echo "EVALSHA $2 1 key:__rand_int__" ;;
        fcall) echo "FCALL incr 1 key:__rand_int__" ;;
        incr) echo "INCR key:__rand_int__" ;;
    esac
}

if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == scripting ]]; then
log "scripting test: EVALSHA and FCALL of one INCR"
for role in redis ours; do
    stop_server "$role"
    start_server "$role"
done
sha="$(load_incr redis)"
[[ "$(load_incr ours)" == "$sha" ]] || die "the two servers name the INCR script differently"

script_rows=()
for depth in "${pipelines[@]}"; do
    if [[ -n "${BENCH_REQUESTS:-}" ]]; then
        n="$BENCH_REQUESTS"
    elif ((depth == 1)); then
        n="$default_n_p1"
    else
        n="$default_n_pipe"
    fi
    for kind in evalsha fcall; do
        round_rps=() round_cpu=()
        for ((round = 1; round <= rounds; round++)); do
            for role in redis ours; do
                # shellcheck disable=SC2046  # the command's words are split on purpose
                note_round "$kind" "$depth" "$round" "$role" \
                    "$(run_bench_args "$role" "$depth" "$n" $(script_cmd "$kind" "$sha"))"
            done
        done
        script_rows+=("$(best_row "$kind" "$depth")")
    done
done
echo
echo "Scripting: EVALSHA $sha (\"$incr_script\") and FCALL of the same function,"
echo "$clients clients, best of $rounds round(s); server CPU per request in µs, the least of the rounds"
script_fmt='%-8s %8s %13s %13s %10s %10s %10s %9s\n'
# shellcheck disable=SC2059
printf "$script_fmt" command pipeline "redis ops/s" "ours ops/s" ours/redis "redis cpu" "ours cpu" "cpu o/r"
for row in "${script_rows[@]}"; do
    IFS='|' read -r -a f <<<"$row"
    # shellcheck disable=SC2059
    printf "$script_fmt" "${f[@]}"
done

# The memory of cached scripts, on fresh servers: one script is loaded before the baseline, so
# that a VM created on first use (ours) is not counted as the scripts' cost.
nscripts="${BENCH_SCRIPTS:-10000}"
[[ "$nscripts" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCRIPTS must be a positive integer (got '$nscripts')"
log "scripting memory test: SCRIPT LOAD of $nscripts distinct scripts"
script_mem_fields=(used_memory used_memory_lua used_memory_scripts_eval number_of_cached_scripts)
declare -A sm_before=() sm_after=()
proc_rss_kb() {
    awk '$1 == "VmRSS:" { print $2; exit }' "/proc/$1/status"
}
for role in redis ours; do
    stop_server "$role"
    start_server "$role"
    [[ "$(cli "$role" script load "return 'baseline'" | tr -d '\r')" =~ ^[0-9a-f]{40}$ ]] ||
        die "SCRIPT LOAD failed on $role"
    sleep 0.5
    for field in "${script_mem_fields[@]}"; do
        sm_before[$role.$field]="$(info_field "$role" memory "$field")"
    done
    sm_before[$role.rss]="$(($(proc_rss_kb "${srv_pid[$role]}") * 1024))"
    pipe_out="$(awk -v n="$nscripts" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$%d\r\nreturn %d\r\n", 7 + length(i), i
    }' | cli "$role" --pipe 2>&1)" || die "redis-cli --pipe failed against $role: $pipe_out"
    [[ "$pipe_out" == *"errors: 0, replies: $nscripts"* ]] ||
        die "SCRIPT LOAD of $nscripts scripts on $role: $pipe_out"
    sleep 0.5
    for field in "${script_mem_fields[@]}"; do
        sm_after[$role.$field]="$(info_field "$role" memory "$field")"
    done
    sm_after[$role.rss]="$(($(proc_rss_kb "${srv_pid[$role]}") * 1024))"
done
per_script() { # per_script ROLE FIELD: the field's growth per script loaded
    awk -v a="${sm_after[$1.$2]:-}" -v b="${sm_before[$1.$2]:-}" -v n="$nscripts" 'BEGIN {
        if (a == "" || b == "") print ""; else printf "%.1f\n", (a - b) / n }'
}
echo
echo "Memory per cached script: SCRIPT LOAD of $nscripts scripts 'return <i>', growth per script in bytes"
echo "(used_memory leaves out Lua's own heap in both, which used_memory_lua reports; VmRSS is the whole cost)"
sm_fmt='%-26s %14s %14s %10s\n'
# shellcheck disable=SC2059
printf "$sm_fmt" metric "redis B/script" "ours B/script" ours/redis
for field in used_memory used_memory_lua used_memory_scripts_eval rss; do
    a="$(per_script redis "$field")"
    b="$(per_script ours "$field")"
    # shellcheck disable=SC2059
    printf "$sm_fmt" "$([[ $field == rss ]] && echo VmRSS || echo "$field")" "${a:-n/a}" "${b:-n/a}" "$(fmt_ratio "$b" "$a")"
done
for role in redis ours; do
    line="  $role INFO after:"
    for field in "${script_mem_fields[@]}"; do
        line+=" $field:${sm_after[$role.$field]:-?}"
    done
    echo "$line"
done
fi # scripting

# -------------------------------------------------------------- streams ----
# XADD of a 4-field entry, XRANGE of 10 entries, and a consumer group's read-and-acknowledge
# loop, side by side at each pipeline depth; then the memory of a stream of 1M 4-field entries.
# redis-benchmark cannot feed XACK the IDs an XREADGROUP returned, so the loop is measured as its
# two halves over the same entries: XREADGROUP ... > (each call delivers the next entry), then
# XACK of delivered IDs, which are known in advance because the stream is filled with explicit
# IDs <k>-1 (redis-benchmark's __rand_int__ is a zero-padded k, which both servers parse).
stream_fields="f1 value-1 f2 value-2 f3 value-3 f4 value-4"

# fill_stream ROLE KEY N: XADD KEY <k>-1 (k = 0..N-1) with the four fields, through --pipe.
fill_stream() {
    local role="$1" key="$2" n="$3" out
    out="$(awk -v n="$n" -v key="$key" 'BEGIN {
        for (k = 0; k < n; k++) {
            id = k "-1"
            printf "*11\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(key), key, length(id), id
            for (f = 1; f <= 4; f++) printf "$2\r\nf%d\r\n$7\r\nvalue-%d\r\n", f, f
        }
    }' | cli "$role" --pipe 2>&1)" || die "redis-cli --pipe failed against $role: $out"
    [[ "$out" == *"errors: 0, replies: $n"* ]] || die "filling $key on $role: $out"
}

if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == streams ]]; then
log "streams test: XADD, XRANGE COUNT 10, XREADGROUP and XACK"
stream_fmt='%-10s %8s %13s %13s %10s %10s %10s %9s\n'
xm_fmt='%-14s %14s %14s %10s\n'
rss_bytes() {
    awk '$1 == "VmRSS:" { print $2 * 1024; exit }' "/proc/$1/status"
}
for role in redis ours; do
    stop_server "$role"
    start_server "$role"
done
stream_rows=()
for depth in "${pipelines[@]}"; do
    if [[ -n "${BENCH_REQUESTS:-}" ]]; then
        n="$BENCH_REQUESTS"
    elif ((depth == 1)); then
        n="$default_n_p1"
    else
        n="$default_n_pipe"
    fi
    for kind in xadd xrange xreadgroup xack; do
        round_rps=() round_cpu=()
        for ((round = 1; round <= rounds; round++)); do
            for role in redis ours; do
                # Each XREADGROUP/XACK round starts from a fresh group over a stream of n entries.
                if [[ "$kind" == xreadgroup ]]; then
                    cli "$role" del bench:group >/dev/null
                    fill_stream "$role" bench:group "$n"
                    [[ "$(cli "$role" xgroup create bench:group g 0 | tr -d '\r')" == OK ]] ||
                        die "XGROUP CREATE failed on $role"
                elif [[ "$kind" == xrange ]] && [[ "$(cli "$role" xlen bench:range | tr -d '\r')" != 1000 ]]; then
                    fill_stream "$role" bench:range 1000
                fi
                case "$kind" in
                    # shellcheck disable=SC2206  # the fields are split on purpose
                    xadd) args=(XADD bench:add '*' $stream_fields) ;;
                    xrange) args=(XRANGE bench:range - + COUNT 10) ;;
                    xreadgroup) args=(XREADGROUP GROUP g c COUNT 1 STREAMS bench:group '>') ;;
                    xack) args=(-r "$n" XACK bench:group g __rand_int__-1) ;;
                esac
                note_round "$kind" "$depth" "$round" "$role" "$(run_bench_args "$role" "$depth" "$n" "${args[@]}")"
            done
        done
        stream_rows+=("$(best_row "$kind" "$depth")")
    done
    for role in redis ours; do
        cli "$role" del bench:add bench:group >/dev/null
    done
done
echo
echo "Streams: XADD of 4 fields, XRANGE - + COUNT 10 (1000 entries), XREADGROUP COUNT 1 '>' then XACK"
echo "of delivered IDs (the consumer loop's two halves), $clients clients, best of $rounds round(s);"
echo "server CPU per request in µs, the least of the rounds"
# shellcheck disable=SC2059
printf "$stream_fmt" command pipeline "redis ops/s" "ours ops/s" ours/redis "redis cpu" "ours cpu" "cpu o/r"
for row in "${stream_rows[@]}"; do
    IFS='|' read -r -a f <<<"$row"
    # shellcheck disable=SC2059
    printf "$stream_fmt" "${f[@]}"
done

# Memory of one stream of 1M 4-field entries (explicit IDs, default node limits), on fresh servers.
nentries="${BENCH_STREAM_ENTRIES:-1000000}"
[[ "$nentries" =~ ^[1-9][0-9]*$ ]] || die "BENCH_STREAM_ENTRIES must be a positive integer (got '$nentries')"
log "streams memory test: one stream of $nentries entries"
declare -A xm_before=() xm_after=()
for role in redis ours; do
    stop_server "$role"
    start_server "$role"
    sleep 0.5
    xm_before[$role.used]="$(info_field "$role" memory used_memory)"
    xm_before[$role.rss]="$(rss_bytes "${srv_pid[$role]}")"
    fill_stream "$role" bench:memory "$nentries"
    sleep 0.5
    xm_after[$role.used]="$(info_field "$role" memory used_memory)"
    xm_after[$role.rss]="$(rss_bytes "${srv_pid[$role]}")"
done
per_entry() { # per_entry ROLE FIELD: growth per entry in bytes
    awk -v a="${xm_after[$1.$2]:-}" -v b="${xm_before[$1.$2]:-}" -v n="$nentries" 'BEGIN {
        if (a == "" || b == "") print ""; else printf "%.1f\n", (a - b) / n }'
}
echo
echo "Memory of one stream of $nentries entries of 4 fields, growth per entry in bytes"
# shellcheck disable=SC2059
printf "$xm_fmt" metric "redis B/entry" "ours B/entry" ours/redis
for field in used rss; do
    a="$(per_entry redis "$field")"
    b="$(per_entry ours "$field")"
    # shellcheck disable=SC2059
    printf "$xm_fmt" "$([[ $field == rss ]] && echo VmRSS || echo used_memory)" "${a:-n/a}" "${b:-n/a}" "$(fmt_ratio "$b" "$a")"
done
fi # streams

# ---------------------------------------------------- scripting callgrind ----
# Opt-in (BENCH_ONLY=scripting-callgrind or streams-callgrind): instructions per request, the
# repeatable figure on a shared machine. Each server runs under callgrind with instrumentation
# off until loaded; per command and pipeline depth a warm-up, counters zeroed, $cg_n requests from
# $cg_c clients (BENCH_CALLGRIND_CLIENTS), a dump. The window also holds the servers' timers (cron) for its duration, a small
# share. The dumps are kept for callgrind_annotate.
# cg_cmd KIND SHA: the command line redis-benchmark sends.
cg_cmd() {
    case "$1" in
        xadd) echo "XADD bench:add * $stream_fields" ;;
        xrange) echo "XRANGE bench:range - + COUNT 10" ;;
        xreadgroup) echo "XREADGROUP GROUP g c COUNT 1 STREAMS bench:group >" ;;
        # The IDs delivered so far are <k>-1 for k below the entries read (fill_stream's IDs).
        xack) echo "-r $cg_group_n XACK bench:group g __rand_int__-1" ;;
        *) script_cmd "$1" "$2" ;;
    esac
}
if [[ "${BENCH_ONLY:-}" == *-callgrind ]]; then
# The command lines are split into words unquoted: XADD's `*` must not be a glob.
set -f
for tool in valgrind callgrind_control; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian package valgrind)"
done
cg_n="${BENCH_CALLGRIND_REQUESTS:-50000}"
[[ "$cg_n" =~ ^[1-9][0-9]*$ ]] || die "BENCH_CALLGRIND_REQUESTS must be a positive integer (got '$cg_n')"
cg_c="${BENCH_CALLGRIND_CLIENTS:-50}"
[[ "$cg_c" =~ ^[1-9][0-9]*$ ]] || die "BENCH_CALLGRIND_CLIENTS must be a positive integer (got '$cg_c')"
cg_keep="$(mktemp -d "${TMPDIR:-/tmp}/redis-bench-callgrind.XXXXXX")"
if [[ "$BENCH_ONLY" == scripting-callgrind ]]; then
    cg_kinds=(incr evalsha fcall)
else
    cg_kinds=(xadd xrange xreadgroup xack)
fi
cg_depths=(1 16)
# XREADGROUP's warm-ups and measured runs at each depth each take entries of their own.
cg_group_n=$(((cg_n + 2000) * ${#cg_depths[@]}))
declare -A cg_ir=()
for role in redis ours; do
    stop_server "$role"
    srv_wrap[$role]="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=callgrind.out"
    start_server "$role"
    pid="${srv_pid[$role]}"
    sha="$(load_incr "$role")"
    if [[ "$BENCH_ONLY" == streams-callgrind ]]; then
        fill_stream "$role" bench:range 1000
        fill_stream "$role" bench:group "$cg_group_n"
        [[ "$(cli "$role" xgroup create bench:group g 0 | tr -d '\r')" == OK ]] || die "XGROUP CREATE failed on $role"
    fi
    dumps=0
    callgrind_control -i on "$pid" >/dev/null || die "callgrind_control could not reach $role (pid $pid)"
    for depth in "${cg_depths[@]}"; do
        for kind in "${cg_kinds[@]}"; do
            # shellcheck disable=SC2046  # the command's words are split on purpose
            redis-benchmark -h 127.0.0.1 -p "${srv_port[$role]}" -c 1 -n 2000 -P "$depth" -q \
                $(cg_cmd "$kind" "$sha") >/dev/null || die "warm-up of $kind failed on $role"
            callgrind_control -z "$pid" >/dev/null || die "callgrind_control -z failed on $role"
            # shellcheck disable=SC2046
            redis-benchmark -h 127.0.0.1 -p "${srv_port[$role]}" -c "$cg_c" -n "$cg_n" -P "$depth" -q \
                $(cg_cmd "$kind" "$sha") >/dev/null || die "$kind failed on $role"
            callgrind_control -d "$kind-P$depth" "$pid" >/dev/null || die "callgrind_control -d failed on $role"
            # Callgrind numbers its dumps from 1.
            dumps=$((dumps + 1))
            dump="${srv_dir[$role]}/callgrind.out.$dumps"
            [[ -s "$dump" ]] || die "no callgrind dump of $kind from $role ($dump)"
            ir="$(awk '$1 == "summary:" { print $2; exit }' "$dump")"
            [[ "$ir" =~ ^[0-9]+$ ]] || die "no instruction total in $dump"
            cg_ir[$role.$kind.$depth]="$(awk -v a="$ir" -v n="$cg_n" 'BEGIN { printf "%.0f\n", a / n }')"
            cp "$dump" "$cg_keep/$role.$kind.P$depth.callgrind.out"
            log "$role $kind -P $depth: $ir instructions, ${cg_ir[$role.$kind.$depth]} per request"
        done
    done
    stop_server "$role"
    unset 'srv_wrap[$role]'
done
echo
echo "Callgrind: instructions per request (Ir), $cg_c clients, $cg_n requests after a warm-up"
cg_fmt='%-11s %8s %14s %14s %10s\n'
# shellcheck disable=SC2059
printf "$cg_fmt" command pipeline "redis Ir/req" "ours Ir/req" ours/redis
for depth in "${cg_depths[@]}"; do
    for kind in "${cg_kinds[@]}"; do
        # shellcheck disable=SC2059
        printf "$cg_fmt" "$kind" "$depth" "${cg_ir[redis.$kind.$depth]}" "${cg_ir[ours.$kind.$depth]}" \
            "$(fmt_ratio "${cg_ir[ours.$kind.$depth]}" "${cg_ir[redis.$kind.$depth]}")"
    done
done
echo "  dumps (callgrind_annotate FILE): $cg_keep"
set +f
fi # *-callgrind
