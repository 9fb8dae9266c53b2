#!/usr/bin/env bash
# Where an offer-state issuance's CPU goes: one run of bench-issuance.sh's `new` row
# (`POST /v1.0/members/offer_states/issue`, a new member each), with the CPU time each
# Kindling thread, the PostgreSQL cluster's processes and wrk used during it, divided by the
# requests answered, and the SQL statements Kindling ran per issuance (from /metrics).
# Usage: scripts/bench-issuance-cpu.sh [sqlite|postgres]. BENCH_DURATION (15, seconds),
# BENCH_CONNECTIONS (64), BENCH_SERVER_ENV as in bench-issuance.sh, BENCH_BIN as in
# scripts/lib/bench-server.sh (another build to compare). The PostgreSQL figure
# needs the throwaway cluster (scripts/pg-cluster.sh), not KINDLING_BENCH_DATABASE_URL.
# Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
duration=${BENCH_DURATION:-15}
connections=${BENCH_CONNECTIONS:-64}
server_env=${BENCH_SERVER_ENV:-}
source scripts/lib/bench-server.sh
bench_database "$backend"
kindling_start "$url"
offer_on_channel '{"name":"bench"}'

issuance_lua "$tmp/new.lua"

# Clock ticks of each Kindling thread, as "tid-name ticks".
threads() {
    for t in /proc/"$kindling_pid"/task/*; do
        echo "$(basename "$t")-$(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
    done | sort
}
# Seconds of CPU of the throwaway cluster's postmaster and its children (the backends, the
# WAL writer, the checkpointer...), or nothing without one.
cluster_cpu() {
    [ -n "${pg_cluster_dir:-}" ] || return 0
    local postmaster
    postmaster=$(head -1 "$pg_cluster_dir/data/postmaster.pid")
    # Clock ticks from /proc (ps's cputimes has whole seconds only, a second's error a process).
    local pids
    pids=$(ps -o pid= -p "$postmaster" --ppid "$postmaster")
    for p in $pids; do cat "/proc/$p/stat" 2>/dev/null; done \
        | awk -v hz="$(getconf CLK_TCK)" '{s += $14 + $15} END {printf "%.2f\n", s / hz}'
}
statements() { curl -fs "$base/metrics" | awk '/^kindling_db_statements_total/{print $2}'; }
# The user+system seconds of this shell's finished children, from a file `times` (a bash
# builtin, run in this shell: in a subshell it would count the subshell's) wrote.
children_cpu() { awk 'NR == 2 {gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4}' "$1"; }

threads >"$tmp/before"
pg_before=$(cluster_cpu)
statements_before=$(statements)
times >"$tmp/times-before"
wrk_run "$tmp/wrk.out" -d"${duration}s" -s "$tmp/new.lua" "$base"
times >"$tmp/times-after"
statements_after=$(statements)
pg_after=$(cluster_cpu)
threads >"$tmp/after"

issued=$(awk '/requests in/{print $1}' "$tmp/wrk.out")
read -r rps p50 p99 _ < <(wrk_figures "$tmp/wrk.out")
ticks=$(getconf CLK_TCK)
echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; wrk -t2 -c$connections -d${duration}s; $backend, settings: ${server_env:-default}"
echo "$issued issuances, $rps/s, p50 $p50, p99 $p99; $(awk -v a="$statements_before" -v b="$statements_after" -v n="$issued" \
    'BEGIN {printf "%.3f", (b - a) / n}') statements an issuance"
printf '%-32s %12s %16s\n' "CPU of" "seconds" "us an issuance"
join "$tmp/before" "$tmp/after" | awk -v n="$issued" -v hz="$ticks" \
    '{s = ($3 - $2) / hz; if (s > 0) printf "%-32s %12.2f %16.1f\n", "kindling " $1, s, s * 1e6 / n}'
if [ -n "$pg_before" ]; then
    awk -v a="$pg_before" -v b="$pg_after" -v n="$issued" \
        'BEGIN {printf "%-32s %12.2f %16.1f\n", "postgresql (all its processes)", b - a, (b - a) * 1e6 / n}'
fi
awk -v a="$(children_cpu "$tmp/times-before")" -v b="$(children_cpu "$tmp/times-after")" -v n="$issued" \
    'BEGIN {printf "%-32s %12.2f %16.1f\n", "wrk", b - a, (b - a) * 1e6 / n}'
