#!/usr/bin/env bash
# What request logging costs, measured with two `kindling serve` processes on one SQLite file
# loaded AT THE SAME TIME (GET /v1.0/members/{id}, `wrk -t1` with half the connections each),
# so that whatever slows the machine during a run slows both. `scripts/bench.sh` prices
# logging with the two processes in turns instead; there one process's runs spread by up to
# 25 % (2026-12-01), more than the cost being measured.
# Each round prints both processes' req/s, their ratio A/B, and each one's CPU time per
# request (user + system of the whole process, from /proc/PID/stat, so its log-writer thread
# and that thread's file writes count; the kernel's later writeback of the file does not).
# The last line: the ratio of the summed req/s and the mean CPU per request of each.
# Usage: scripts/bench-logging.sh [A_FILTER [B_FILTER]]   KINDLING_LOG of each process
# (default info and warn). Both log to files in a temporary directory; BENCH_A_LOG=null
# sends A's to /dev/null instead. BENCH_ROUNDS (10), BENCH_DURATION (8s),
# BENCH_CONNECTIONS (64, half to each). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
a_filter=${1:-info}
b_filter=${2:-warn}
rounds=${BENCH_ROUNDS:-10}
duration=${BENCH_DURATION:-8s}
connections=${BENCH_CONNECTIONS:-64}
source scripts/lib/bench-server.sh
bench_database sqlite
# kindling_start logs to $tmp/server.log; a link to /dev/null sends A's lines there.
[ "${BENCH_A_LOG:-file}" != null ] || ln -s /dev/null "$tmp/server.log"
server_env="KINDLING_LOG=$a_filter" kindling_start "$url"
a_base=$base a_pid=$kindling_pid
server_env="KINDLING_LOG=$b_filter" kindling_another "$url"
b_base=$another_base b_pid=$another_pid
member=$(api -XPOST -d '{"member":{"identifier":"bench-logging"}}' "$base/v1.0/members" | id_of member)
route="/v1.0/members/$member"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { wrk -t1 -c$((connections / 2)) -d"$1" "$2$route" -H "X-Auth-Token: $token"; }

echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; A: KINDLING_LOG=$a_filter (log to ${BENCH_A_LOG:-file}), B: KINDLING_LOG=$b_filter; $rounds rounds of $duration, both loaded at once"
# (`wait` names its jobs: a bare one would wait for the servers too.)
load 2s "$a_base" >/dev/null &
a_load=$!
load 2s "$b_base" >/dev/null &
wait "$a_load" "$!"
: >"$tmp/rounds"
for round in $(seq "$rounds"); do
    a0=$(cpu_ticks "$a_pid") b0=$(cpu_ticks "$b_pid")
    load "$duration" "$a_base" >"$tmp/a.out" &
    a_load=$!
    load "$duration" "$b_base" >"$tmp/b.out" &
    wait "$a_load" "$!"
    a1=$(cpu_ticks "$a_pid") b1=$(cpu_ticks "$b_pid")
    for out in a b; do
        grep -q "Non-2xx" "$tmp/$out.out" && { echo "non-2xx answers from $out" >&2; cat "$tmp/$out.out" >&2; exit 1; }
    done
    echo "$round $(awk '/Requests\/sec/{print $2}' "$tmp/a.out") $(awk '/requests in/{print $1}' "$tmp/a.out") $((a1 - a0)) $(awk '/Requests\/sec/{print $2}' "$tmp/b.out") $(awk '/requests in/{print $1}' "$tmp/b.out") $((b1 - b0))" >>"$tmp/rounds"
done
python3 - "$tmp/rounds" "$(getconf CLK_TCK)" <<'PY'
import sys
hz = int(sys.argv[2])
rows = [line.split() for line in open(sys.argv[1])]
print("round    A req/s    B req/s    A/B   A µs CPU/req   B µs CPU/req")
cpu = lambda ticks, requests: float(ticks) / hz * 1e6 / float(requests)
for r in rows:
    print(f"{r[0]:>5} {float(r[1]):>10,.0f} {float(r[4]):>10,.0f} {float(r[1]) / float(r[4]):>6.3f} {cpu(r[3], r[2]):>14.2f} {cpu(r[6], r[5]):>14.2f}")
a, b = sum(float(r[1]) for r in rows), sum(float(r[4]) for r in rows)
ca = sum(cpu(r[3], r[2]) for r in rows) / len(rows)
cb = sum(cpu(r[6], r[5]) for r in rows) / len(rows)
print(f"A/B {a / b:.3f} ({len(rows)} rounds, {min(float(r[1]) / float(r[4]) for r in rows):.3f} to "
      f"{max(float(r[1]) / float(r[4]) for r in rows):.3f}); CPU per request A {ca:.2f} µs, B {cb:.2f} µs ({ca / cb - 1:+.1%})")
PY
