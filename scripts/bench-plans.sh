#!/usr/bin/env bash
# What SQLite's planner statistics (migration 29) are worth at size: issues N offer states to
# new members (`POST /v1.0/members/offer_states/issue`, wrk at 256 connections; each a member,
# a credential, its offer link, an activity and a state), then times one member's lists, the
# median of 21 requests each, with the statistics and again after deleting them (the server
# restarted on the same file, so its connections load the planner's statistics anew).
# Usage: scripts/bench-plans.sh. BENCH_ISSUES (300000). Needs wrk and the sqlite3 CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-server.sh
command -v sqlite3 >/dev/null || { echo "sqlite3 not found: apt-get install sqlite3" >&2; exit 1; }
bench_database sqlite
kindling_start "$url"
offer_on_channel '{"name":"bench"}'
issuance_lua "$tmp/new.lua"
connections=256 wrk_exactly "${BENCH_ISSUES:-300000}" "$tmp/new.lua" "$tmp/count.out"
echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; $ok offer states issued in ${took} s"
# The thousandth member, by id.
member=$(curl -fs -H "X-Auth-Token: $token" "$base/v1.0/members?per_page=1&page=1000" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["members"][0]["member"]["id"])')
paths=("/v1.0/credentials?member_id=$member" "/v1.0/activities/offers?member_id=$member" "/v1.0/members?page=100")
measure() {
    local at=$1 path
    for path in "${paths[@]}"; do
        curl -fs -o /dev/null -H "X-Auth-Token: $token" "$at$path"
        for _ in $(seq 21); do
            curl -fs -o /dev/null -w '%{time_total}\n' -H "X-Auth-Token: $token" "$at$path"
        done | sort -n | awk -v p="GET $path" '{t[NR] = $1} END {printf "  %-48s %8.2f ms\n", p, t[11] * 1000}'
    done
}
echo "with the statistics (member $member):"
measure "$base"
kindling_stop
sqlite3 "$tmp/bench.db" "DELETE FROM sqlite_stat1"
kindling_another "$url"
echo "without them (sqlite_stat1 emptied, server restarted):"
measure "$another_base"
