#!/usr/bin/env bash
# Credentials issued per second and redemptions per second, from the release build under
# wrk on loopback, with p50/p99. Usage: scripts/bench-credentials.sh [sqlite|postgres]
# (postgres needs KINDLING_BENCH_DATABASE_URL pointing at an empty database). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
duration=${BENCH_DURATION:-10s}
# Shorter than the issue phase, so every redeem finds an issued credential.
redeem_duration=${BENCH_REDEEM_DURATION:-5s}
connections=${BENCH_CONNECTIONS:-64}
server_env=""
source scripts/lib/bench-server.sh
case "$backend" in
    sqlite) kindling_start "sqlite://$tmp/bench.db" ;;
    postgres) kindling_start "${KINDLING_BENCH_DATABASE_URL:?set KINDLING_BENCH_DATABASE_URL=postgres://...}" ;;
    *) echo "unknown backend $backend" >&2; exit 1 ;;
esac
credentials_setup

report() {
    local name=$1 rps p50 p99 non2xx
    read -r rps p50 p99 non2xx < <(wrk_figures "$tmp/wrk.out")
    printf '%-22s %12s %10s %10s %10s\n' "$name" "$rps" "$p50" "$p99" "$non2xx"
}

allow_non2xx=1
wrk_run "$tmp/wrk.out" -d"$duration" -s "$tmp/issue.lua" "$base"
echo "backend=$backend connections=$connections issue=$duration redeem=$redeem_duration"
printf '%-22s %12s %10s %10s %10s\n' operation req/s p50 p99 non-2xx
report "issue (POST)"
wrk_run "$tmp/wrk.out" -d"$redeem_duration" -s "$tmp/redeem.lua" "$base"
report "redeem (PUT)"
