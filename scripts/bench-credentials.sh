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
api() { curl -fs -H "X-Auth-Token: $token" "$@"; }
id_of() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]]["id"])' "$1"; }
member=$(api -XPOST -d '{"member":{"identifier":"bench"}}' "$base/v1.0/members" | id_of member)
channel=$(api -XPOST -d '{"channel":{"name":"bench"}}' "$base/v1.0/channels" | id_of channel)
offer=$(api -XPOST -d '{"offer":{"name":"bench"}}' "$base/v1.0/offers" | id_of offer)
api -XPUT "$base/v1.0/offers/$offer/actions/approve" >/dev/null
api -XPOST -d "{\"offer\":{\"channel_ids\":[$channel]}}" "$base/v1.0/offers/$offer/channels" >/dev/null
first=$(api -XPOST "$base/v1.0/credentials?member_id=$member&offer_id=$offer&channel_id=$channel" | id_of credential)

report() {
    local name=$1
    local rps p50 p99 non2xx
    rps=$(awk '/Requests\/sec/{print $2}' "$tmp/wrk.out")
    p50=$(awk '$1=="50%"{print $2}' "$tmp/wrk.out")
    p99=$(awk '$1=="99%"{print $2}' "$tmp/wrk.out")
    non2xx=$(awk '/Non-2xx/{print $5}' "$tmp/wrk.out")
    printf '%-22s %12s %10s %10s %10s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

cat >"$tmp/issue.lua" <<LUA
wrk.method = "POST"
wrk.headers["X-Auth-Token"] = "$token"
wrk.path = "/v1.0/credentials?member_id=$member&offer_id=$offer&channel_id=$channel"
LUA
wrk -t2 -c"$connections" -d"$duration" --latency -s "$tmp/issue.lua" "$base" >"$tmp/wrk.out"
echo "backend=$backend connections=$connections issue=$duration redeem=$redeem_duration"
printf '%-22s %12s %10s %10s %10s\n' operation req/s p50 p99 non-2xx
report "issue (POST)"

# Redeem each issued credential once: thread t takes ids first+1+t, first+1+t+threads, ...
# A handful of 404s is expected: an id is skipped when a drawn code collided and was redrawn.
cat >"$tmp/redeem.lua" <<LUA
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  next_id = $first + 1 + tid
end
function request()
  local path = "/v1.0/credentials/" .. next_id .. "/redeem"
  next_id = next_id + 2
  return wrk.format("PUT", path, { ["X-Auth-Token"] = "$token" })
end
LUA
wrk -t2 -c"$connections" -d"$redeem_duration" --latency -s "$tmp/redeem.lua" "$base" >"$tmp/wrk.out"
report "redeem (PUT)"
