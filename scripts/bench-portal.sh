#!/usr/bin/env bash
# Admin Portal page times at size (issue #13: "every page renders in under 50 ms server time
# with 10,000 offers and 100,000 codes in the account"). Builds the release binary, starts
# `kindling serve` with default settings on a fresh database, loads one account through the
# API with BENCH_OFFERS offers (10,000; the first BENCH_LIVE_OFFERS (100) approved on a
# channel) and BENCH_CODES credentials (100,000, spread over the approved offers and
# BENCH_MEMBERS (1,000) members) of which BENCH_REDEEMED (10,000) are redeemed, then signs in
# to the portal as an owner and asks every page BENCH_REPEAT (20) times, one request at a
# time. The figure is the server's own time for the request (its `X-Runtime` header: from
# the request's arrival to the response head, the same span as the request log's
# elapsed_us). Prints p50, p95 and max per page in ms, and fails if any page's max is 50 ms
# or more; the CSV downloads (every row of a report's window) are timed and shown apart.
# Usage: scripts/bench-portal.sh [sqlite|postgres]   (default sqlite). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-sqlite}
offers=${BENCH_OFFERS:-10000}
live=${BENCH_LIVE_OFFERS:-100}
codes=${BENCH_CODES:-100000}
members=${BENCH_MEMBERS:-1000}
redeemed=${BENCH_REDEEMED:-10000}
repeat=${BENCH_REPEAT:-20}
connections=16
source scripts/lib/bench-server.sh
bench_database "$store"
kindling_start "$url"
started=$(date +%s)

# wrk that stops once `count` requests of `script` (split between its two threads) are
# sent. Once a thread has sent its share it sends fillers (DELETE /readyz, a 405); after 200
# fillers every connection of the thread has had its last real answer. Any other answer of
# 300 or more stops the script, except a 404 when `allow_404` is set (redeem: an id skipped
# when a drawn code collided and was redrawn). wrk runs for its whole duration even when its
# threads stop, so the thread that finishes second (each appends a line to a file) ends the
# process. The counts printed are the database's.
filler='return wrk.format("DELETE", "/readyz")'
wrk_count() {
    local count=$1 script=$2
    : >"$tmp/finished"
    cat >"$tmp/count.lua" <<LUA
$lua_thread_ids
function init(args)
  -- One more each: a thread's share sometimes comes up one short.
  quota = math.floor($count / 2) + (tid == 0 and $count % 2 or 0) + 1
  sent, fillers, finished = 0, 0, false
end
$(cat "$script")
function response(status, headers, body)
  if status >= 300 and status ~= 405 and not (status == 404 and ${allow_404:-false}) then
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
    os.exit(1)
  end
  if status == 405 then fillers = fillers + 1 end
  if fillers >= 200 and not finished then
    finished = true
    local f = io.open("$tmp/finished", "a")
    f:write(tid, "\n")
    f:close()
    local lines = 0
    for _ in io.lines("$tmp/finished") do lines = lines + 1 end
    if lines >= 2 then os.exit(0) end
  end
end
LUA
    wrk -t2 -c"$connections" -d600s -s "$tmp/count.lua" "$base" >/dev/null
}

channel=$(api -XPOST -d '{"channel":{"name":"portal bench"}}' "$base/v1.0/channels" | id_of channel)
merchant=$(api -XPOST -d '{"merchant":{"name":"Portal Bench Merchant"}}' "$base/v1.0/merchants" | id_of merchant)

# The offers: "Bench offer <thread>-<n>", all of the merchant, pending.
cat >"$tmp/offers.lua" <<LUA
function request()
  sent = sent + 1
  if sent > quota then $filler end
  local body = '{"offer":{"name":"Bench offer ' .. tid .. '-' .. sent .. '","merchant_id":$merchant,"offer_type":1,"reward_item_value":100}}'
  return wrk.format("POST", "/v1.0/offers", { ["X-Auth-Token"] = "$token" }, body)
end
LUA
wrk_count "$offers" "$tmp/offers.lua"
# The first `live` offers go live on the channel.
live_ids=$(api "$base/v1.0/offers?per_page=$live&page=1" | python3 -c '
import json, sys
print(" ".join(str(o["offer"]["id"]) for o in json.load(sys.stdin)["offers"]))')
for id in $live_ids; do
    api -XPUT "$base/v1.0/offers/$id/actions/approve" >/dev/null
    api -XPOST -d "{\"offer\":{\"channel_ids\":[$channel]}}" "$base/v1.0/offers/$id/channels" >/dev/null
done
{ echo identifier; seq "$members" | sed 's/^/portal-bench-/'; } >"$tmp/members.csv"
"$bin" import members "$tmp/members.csv" --account "$account" --database-url "$url" >/dev/null
first_member=$(api "$base/v1.0/members/search?identifier=portal-bench-1" | id_of member)

# The codes: round robin over the live offers and the members.
lua_offers=$(echo "$live_ids" | tr ' ' ',')
cat >"$tmp/codes.lua" <<LUA
local offers = { $lua_offers }
function request()
  sent = sent + 1
  if sent > quota then $filler end
  local n = sent * 2 + tid
  local path = "/v1.0/credentials?member_id=" .. ($first_member + n % $members) ..
    "&offer_id=" .. offers[n % #offers + 1] .. "&channel_id=$channel"
  return wrk.format("POST", path, { ["X-Auth-Token"] = "$token" })
end
LUA
wrk_count "$codes" "$tmp/codes.lua"
issued=$(api "$base/v1.0/credentials?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_entries"])')
last_code=$(api "$base/v1.0/credentials?per_page=1&page=$issued" | python3 -c '
import json, sys
c = json.load(sys.stdin)["credentials"][0]["credential"]
print(c["id"], c["identifier"])')
last_id=${last_code% *}
code=${last_code#* }

# Redeem the newest `redeemed` codes, each once.
cat >"$tmp/redeem.lua" <<LUA
function request()
  sent = sent + 1
  if sent > quota then $filler end
  local id = $last_id - (sent - 1) * 2 - tid
  return wrk.format("PUT", "/v1.0/credentials/" .. id .. "/redeem", { ["X-Auth-Token"] = "$token" })
end
LUA
allow_404=true wrk_count "$redeemed" "$tmp/redeem.lua"
loaded=$(($(date +%s) - started))
total() { api "$base/v1.0/$1?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_entries"])'; }
offers=$(total offers)
codes=$(total credentials)

# An owner signs in (the double-submit login form, then the session cookie).
password=portal-bench-password
echo "$password" | "$bin" user create --account "$account" --email bench@example.com --role owner \
    --password-stdin --database-url "$url" >/dev/null
login=$(curl -fs -D "$tmp/login.h" "$base/admin/login")
login_cookie=$(tr -d '\r' <"$tmp/login.h" | sed -n 's/^[Ss]et-[Cc]ookie: kindling_admin_login=\([^;]*\).*/\1/p')
login_csrf=$(echo "$login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -o /dev/null -D "$tmp/session.h" -H "Cookie: kindling_admin_login=$login_cookie" \
    --data-urlencode "email=bench@example.com" --data-urlencode "password=$password" \
    --data-urlencode "csrf=$login_csrf" "$base/admin/login"
session=$(tr -d '\r' <"$tmp/session.h" | sed -n 's/^[Ss]et-[Cc]ookie: kindling_admin=\([^;]*\).*/\1/p')
[ -n "$session" ] || { echo "portal sign-in failed" >&2; exit 1; }

offer=${live_ids%% *}
pages=(
    "/admin"
    "/admin/offers"
    "/admin/offers?page=$((offers / 50))"
    "/admin/offers?q=offer%201-4999"
    "/admin/offers?status=approved"
    "/admin/offers/new"
    "/admin/offers/$offer"
    "/admin/offers/$offer/edit"
    "/admin/merchants"
    "/admin/merchants/$merchant"
    "/admin/codes"
    "/admin/codes?code=$code"
    "/admin/stores"
    "/admin/store_lists"
    "/admin/manufacturers"
    "/admin/items"
    "/admin/item_sets"
    "/admin/channels"
    "/admin/channels/$channel"
    "/admin/campaigns"
    "/admin/member_lists"
    "/admin/members?q=portal-bench-1"
    "/admin/members/$first_member"
    "/admin/reports"
    "/admin/account"
)
# CSV downloads: every row of the window (10,000 redemptions; 110,000 activities), so their
# time grows with the data; timed and shown, not held to the pages' budget.
downloads=(
    "/admin/reports/redemptions.csv"
    "/admin/reports/activity.csv"
)
# Pages added by later slices, when this build has them.
for extra in ${BENCH_EXTRA_PAGES:-}; do pages+=("$extra"); done

echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; $store; $offers offers, $codes codes (about $redeemed redeemed), $members members, loaded in ${loaded}s through the API"
printf '%-44s %8s %8s %8s %6s\n' page "p50 ms" "p95 ms" "max ms" status
worst=0
time_page() {
    local page=$1
    : >"$tmp/times"
    status=""
    for _ in $(seq "$repeat"); do
        status=$(curl -s -o /dev/null -D "$tmp/page.h" -w '%{http_code}' -H "Cookie: kindling_admin=$session" "$base$page")
        tr -d '\r' <"$tmp/page.h" | awk -F': ' 'tolower($1)=="x-runtime"{print $2 * 1000}' >>"$tmp/times"
    done
    [ "$status" = 200 ] || { echo "$page answered $status" >&2; exit 1; }
    read -r p50 p95 max < <(sort -n "$tmp/times" | awk '{v[NR]=$1} END {
        printf "%.2f %.2f %.2f\n", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.999)], v[NR] }')
    printf '%-44s %8s %8s %8s %6s\n' "$page" "$p50" "$p95" "$max" "$status"
}
for page in "${pages[@]}"; do
    time_page "$page"
    worst=$(python3 -c "print(max($worst, $max))")
done
echo "downloads"
for page in "${downloads[@]}"; do time_page "$page"; done
echo "slowest page request: ${worst} ms (target: under 50 ms)"
python3 -c "import sys; sys.exit(0 if $worst < 50 else 1)"
