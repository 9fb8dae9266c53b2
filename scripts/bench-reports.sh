#!/usr/bin/env bash
# Report queries over many redemptions (issue #11: a report query's p50 over 1,000,000
# redemptions), from the release build with default settings.
# Seeds through HTTP: at least BENCH_REDEMPTIONS (1,000,000) codes issued (POST
# /v1.0/credentials) and then redeemed (PUT /v1.0/credentials/{id}/redeem) by wrk at 64
# connections, all of one member, offer and channel. Then, with wrk at BENCH_CONNECTIONS (4) for BENCH_DURATION (10s):
#   account_level, 100       GET /v1.0/reports/account_level?from=A&to=B, a window holding
#                            only BENCH_FEW (100) redemptions made after the flood
#   redemptions, 100         GET /v1.0/reports/redemptions for the same window
#   account_level, 1 s       account_level for the middle second of the flood (thousands)
# Both reports list every redemption of their window (about 1 KB of JSON each), so a small
# window measures finding its rows among all the others; the second shows a full one.
# Usage: scripts/bench-reports.sh [sqlite|postgres]. Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
n=${BENCH_REDEMPTIONS:-1000000}
duration=${BENCH_DURATION:-10s}
source scripts/lib/bench-server.sh
bench_database "$backend"
kindling_start "$url"
credentials_setup

echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; $backend, default settings; seeding $n redemptions"
connections=64
# 1 % more codes than redemptions: ids left unused by redrawn codes (colliding draws) answer
# the redeem with a 404, about 0.5 % of them at a million 8-digit codes.
codes=$(( n + n / 100 ))
wrk_exactly "$codes" "$tmp/issue.lua" "$tmp/seed.out"
echo "issued:   $ok codes in ${took} s"
first=$(date +%s)
wrk_exactly "$codes" "$tmp/redeem.lua" "$tmp/seed.out"
last=$(date +%s)
redeemed=$ok
echo "redeemed: $redeemed codes in ${took} s (a few ids are holes left by redrawn codes: 404)"

mid=$(( (first + last) / 2 ))

# A quiet window among them: BENCH_FEW (100) more codes issued, then redeemed from the start
# of a fresh second on, after the flood has ended: the window [few_from, few_to] holds these.
few=${BENCH_FEW:-100}
ids=()
for _ in $(seq "$few"); do
    ids+=("$(api -XPOST "$base$issue_path" | id_of credential)")
done
few_from=$(date +%s)
until [ "$(date +%s)" -gt "$few_from" ]; do sleep 0.01; done
few_from=$(date +%s)
for id in "${ids[@]}"; do api -XPUT "$base/v1.0/credentials/$id/redeem" >/dev/null; done
few_to=$(date +%s)
iso() { date -u -d "@$1" '+%Y-%m-%dT%H:%M:%SZ'; }
connections=${BENCH_CONNECTIONS:-4}
printf '%-26s %10s %10s %10s\n' query req/s p50 p99
report_row() {
    local name=$1 path=$2 rps p50 p99
    cat >"$tmp/report.lua" <<LUA
wrk.headers["X-Auth-Token"] = "$token"
wrk.path = "$path"
LUA
    wrk_run "$tmp/report.out" -d"$duration" -s "$tmp/report.lua" "$base"
    read -r rps p50 p99 _ < <(wrk_figures "$tmp/report.out")
    printf '%-26s %10s %10s %10s\n' "$name" "$rps" "$p50" "$p99"
}
report_row "account_level, $few" "/v1.0/reports/account_level?from=$few_from&to=$few_to"
report_row "redemptions, $few" \
    "/v1.0/reports/redemptions?from_redemption_datetime=$(iso "$few_from")&to_redemption_datetime=$(iso $((few_to + 1)))"
report_row "account_level, 1 s" "/v1.0/reports/account_level?from=$mid&to=$mid"
total_in() {
    api "$base/v1.0/reports/account_level?from=$1&to=$2" \
        | python3 -c 'import json,sys; print(sum(r["total_redemptions"] for r in json.load(sys.stdin)["data"]))'
}
in_few=$(total_in "$few_from" "$few_to")
echo "redemptions in the windows: $few: $in_few; 1 s: $(total_in "$mid" "$mid")"
[ "$in_few" = "$few" ] || { echo "the small window's report counts $in_few redemptions, not $few" >&2; exit 1; }
echo "kindling RSS at the end: $(rss_mb "$kindling_pid") MB"
