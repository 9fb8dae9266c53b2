#!/usr/bin/env bash
# GET /v1.0/members/{id} (token check + database read) against the same route answered from
# memory by the same server, in one run, with wrk on loopback. Prints req/s, p50/p99 and
# the ratio. Usage: scripts/bench.sh [sqlite|postgres] (postgres needs KINDLING_BENCH_DATABASE_URL).
# Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
server_env="KINDLING_BENCH_ROUTES=1"
source scripts/lib/bench-server.sh
member=$(curl -fs -H "X-Auth-Token: $token" -XPOST -d '{"member":{"identifier":"bench-member"}}' "$base/v1.0/members" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["member"]["id"])')

run() {
    wrk -t2 -c"$connections" -d"$duration" --latency -H "X-Auth-Token: $token" "$1" >"$tmp/wrk.out"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/{print $2}' "$tmp/wrk.out")
    p50=$(awk '$1=="50%"{print $2}' "$tmp/wrk.out")
    p99=$(awk '$1=="99%"{print $2}' "$tmp/wrk.out")
    grep -q "Non-2xx" "$tmp/wrk.out" && { echo "non-2xx responses from $1" >&2; cat "$tmp/wrk.out" >&2; exit 1; }
    echo "$rps $p50 $p99"
}

read -r mem_rps mem_p50 mem_p99 < <(run "$base/bench/members/$member")
read -r db_rps db_p50 db_p99 < <(run "$base/v1.0/members/$member")
echo "backend=$backend connections=$connections duration=$duration"
printf '%-28s %12s %10s %10s\n' route req/s p50 p99
printf '%-28s %12s %10s %10s\n' "in-memory /bench/members" "$mem_rps" "$mem_p50" "$mem_p99"
printf '%-28s %12s %10s %10s\n' "GET /v1.0/members/{id}" "$db_rps" "$db_p50" "$db_p99"
python3 -c 'import sys; print("ratio (members / in-memory): %.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$db_rps" "$mem_rps"
