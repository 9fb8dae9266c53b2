#!/usr/bin/env bash
# CTM show (`GET /ctm/members/{site_id}/{credential}` with a basket) under load, from the
# release build with default settings: req/s, p50 and p99 from wrk on loopback at 64
# connections (the issue's p99 ≤ 5 ms target), client and server sharing this machine.
# The basket has 20 lines; the code carries the guide's "Buy a Burger, Get Free Medium
# Fries" offer (item sets, so the engine allocates), and the account has 50 more approved
# offers. Show writes nothing, so every request evaluates the same ticket afresh.
# Usage: scripts/bench-pos.sh [sqlite|postgres]. BENCH_DURATION (10s), BENCH_CONNECTIONS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-sqlite}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
server_env=""
source scripts/lib/bench-server.sh
bench_database "$store"
kindling_start "$url"

merchant=$(api -XPOST -d '{"merchant":{"name":"Q Burger"}}' "$base/v1.0/merchants" | id_of merchant)
api -XPOST -d '{"store":{"name":"Downtown","number":"7","site_id":"SITE-1"}}' "$base/v1.0/merchants/$merchant/stores" >/dev/null
burger=$(api -XPOST -d '{"item":{"name":"Burger","code":"BURGER"}}' "$base/v1.0/merchants/$merchant/items" | id_of item)
fries=$(api -XPOST -d '{"item":{"name":"Fries","code":"FRIES"}}' "$base/v1.0/merchants/$merchant/items" | id_of item)
burgers=$(api -XPOST -d "{\"item_set\":{\"name\":\"Burgers\",\"item_ids\":[$burger]}}" "$base/v1.0/merchants/$merchant/item_sets" | id_of item_set)
sides=$(api -XPOST -d "{\"item_set\":{\"name\":\"Fries\",\"item_ids\":[$fries]}}" "$base/v1.0/merchants/$merchant/item_sets" | id_of item_set)
for i in $(seq 50); do
    other=$(api -XPOST -d "{\"offer\":{\"name\":\"Other $i\",\"offer_type\":5,\"criteria\":{\"percent\":5}}}" "$base/v1.0/offers" | id_of offer)
    api -XPUT "$base/v1.0/offers/$other/actions/approve" >/dev/null
done
offer_on_channel "{\"name\":\"Buy a Burger, Get Free Medium Fries\",\"required_item_set_id\":$burgers,\"redemption_item_set_id\":$sides}"
member=$(api -XPOST -d '{"member":{"identifier":"bench-pos"}}' "$base/v1.0/members" | id_of member)
code=$(api -XPOST "$base/v1.0/credentials?member_id=$member&offer_id=$offer&channel_id=$channel" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["credential"]["identifier"])')
body=$(python3 -c '
import json
items = [{"ln": "1", "ic": "BURGER", "qw": 1, "price": 899}, {"ln": "2", "ic": "FRIES", "qw": 2, "price": 698}]
items += [{"ln": str(i), "ic": "SKU%d" % i, "qw": 1 + i % 3, "price": 100 * i} for i in range(3, 21)]
print(json.dumps({"items": items}))')
cat >"$tmp/show.lua" <<LUA
wrk.method = "GET"
wrk.path = "/ctm/members/SITE-1/$code"
wrk.body = '$body'
wrk.headers["X-Auth-Token"] = "$token"
wrk.headers["term_id"] = "T1"
wrk.headers["tran_id"] = "bench"
LUA
check=$(curl -fs -X GET -H "X-Auth-Token: $token" -H "term_id: T1" -H "tran_id: bench" -d "$body" "$base/ctm/members/SITE-1/$code" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["transaction"]["add_offers"][0]["ammount"])')
[ "$check" = 349 ] || { echo "show gave $check, not 349" >&2; exit 1; }

echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; wrk -t2 -c$connections -d$duration; $store, default settings"
wrk_run "$tmp/wrk.out" -d"$duration" -s "$tmp/show.lua" "$base"
read -r rps p50 p99 non2xx < <(wrk_figures "$tmp/wrk.out")
printf '%-28s %10s %10s %10s\n' row req/s p50 p99
printf '%-28s %10s %10s %10s\n' "CTM show, 20 lines" "$rps" "$p50" "$p99"
echo "kindling RSS at the end: $(rss_mb "$kindling_pid") MB"
