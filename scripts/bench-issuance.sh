#!/usr/bin/env bash
# Offer-state issuance (`POST /v1.0/members/offer_states/issue`) under load, from the release
# build with default settings: req/s, p50, p99 from wrk on loopback and the time 1,000,000
# issuances would take at that rate (issue #11's target: 30 s on SQLite, 60 s on PostgreSQL).
# Two rows: every request names a member identifier never seen before (the member is created,
# then the state and its credential are written), and every request names one existing
# member by id. Every answer must be a 201 (wrk_run fails otherwise).
# Usage: scripts/bench-issuance.sh [sqlite|postgres]. BENCH_DURATION (20s),
# BENCH_CONNECTIONS (64), BENCH_SERVER_ENV (server settings, e.g. "KINDLING_LOG=warn"; none by
# default). BENCH_ISSUES=N adds a timed run of exactly N requests issuing to new members
# (`wrk_exactly`; the 201s among the answers are counted), e.g. BENCH_ISSUES=1000000 for issue
# #11's target. postgres uses KINDLING_BENCH_DATABASE_URL or a throwaway cluster
# (scripts/pg-cluster.sh, restarted with fsync on). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
duration=${BENCH_DURATION:-20s}
connections=${BENCH_CONNECTIONS:-64}
server_env=${BENCH_SERVER_ENV:-}
source scripts/lib/bench-server.sh
bench_database "$backend"
kindling_start "$url"

member=$(api -XPOST -d '{"member":{"identifier":"bench-issuance"}}' "$base/v1.0/members" | id_of member)
offer_on_channel '{"name":"bench"}'
# A sample answer, so a broken setup stops here rather than as a wall of non-2xx.
api -XPOST -d "{\"offer_state\":{\"campaign_id\":\"$xid\",\"member_id\":$member}}" "$base/v1.0/members/offer_states/issue" >/dev/null

issuance_lua "$tmp/new.lua"
cat >"$tmp/known.lua" <<LUA
wrk.method = "POST"
wrk.path = "/v1.0/members/offer_states/issue"
wrk.headers["X-Auth-Token"] = "$token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"offer_state":{"campaign_id":"$xid","member_id":$member}}'
LUA

echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; wrk -t2 -c$connections -d$duration; $backend, settings: ${server_env:-default}"
printf '%-28s %10s %10s %10s %14s\n' members req/s p50 p99 "1M would take"
row() {
    local name=$1 rps p50 p99 non2xx
    wrk_run "$tmp/wrk.out" -d"$duration" -s "$2" "$base"
    read -r rps p50 p99 non2xx < <(wrk_figures "$tmp/wrk.out")
    printf '%-28s %10s %10s %10s %13ss\n' "$name" "$rps" "$p50" "$p99" "$(awk -v r="$rps" 'BEGIN {printf "%.0f", 1000000 / r}')"
}
row "new (member_identifier)" "$tmp/new.lua"
if [ -n "${BENCH_ISSUES:-}" ]; then
    # The same requests with identifiers of their own (bench-n<thread>-<n>).
    sed 's/bench-/bench-n/' "$tmp/new.lua" >"$tmp/count.lua"
    wrk_exactly "$BENCH_ISSUES" "$tmp/count.lua" "$tmp/count.out"
    read -r _ p50 p99 _ < <(wrk_figures "$tmp/count.out")
    printf '%-28s %10s %10s %10s %13ss  (%s of the answers 201)\n' "new, exactly $BENCH_ISSUES" \
        "$(awk -v n="$BENCH_ISSUES" -v t="$took" 'BEGIN {printf "%.2f", n / t}')" "$p50" "$p99" "$took" "$ok"
fi
row "one (member_id)" "$tmp/known.lua"
states=$(api "$base/v1.0/members/$member/offer_states?channel_id=$channel&per_page=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_entries"])')
echo "states of the one member afterwards: $states; kindling RSS at the end: $(rss_mb "$kindling_pid") MB"
