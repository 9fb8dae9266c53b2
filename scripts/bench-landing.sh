#!/usr/bin/env bash
# Landing page (`GET /{xid}`) under load, from the release build with default settings on
# SQLite: req/s, p50 and p99 from wrk on loopback, and the server's own time per page (the
# X-Runtime header's p50/p99 over a sample of single requests). Three rows:
#   returning  one visitor cookie: the same code again (a read, one impression written)
#   new        no cookie: every view makes a member and issues a code (three rows written)
#   mobile     as new, with ?printable=false (the QR picture instead of the barcode)
# The offer's merchant supports barcodes, so every page draws its picture.
# Usage: scripts/bench-landing.sh. BENCH_DURATION (10s), BENCH_CONNECTIONS (16). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-16}
server_env=""
source scripts/lib/bench-server.sh
kindling_start "sqlite://$tmp/bench.db"

merchant=$(api -XPOST -d '{"merchant":{"name":"Bench Burgers","supports_barcode":true}}' "$base/v1.0/merchants" | id_of merchant)
offer_on_channel "{\"name\":\"Free fries\",\"merchant_id\":$merchant,\"description\":\"With any burger\",\"terms_and_conditions\":\"One per visit.\"}"
api -XPUT -d '{"offer":{"formatting":{"bg_color":"#FF00AA","bg_image":"https://cdn.example.com/banner.png","instructions":"Show this page"}}}' "$base/v1.0/offers/$offer" >/dev/null
cookie=$(curl -fs -D - -o /dev/null "$base/$xid" | tr -d '\r' | awk -F': ' 'tolower($1)=="set-cookie"{split($2, c, ";"); print c[1]}')

# Server time: X-Runtime (seconds, measured by the server around the handler) of 200 requests.
server_time() {
    for _ in $(seq 200); do
        curl -fs -D - -o /dev/null "$@" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-runtime"{print $2 * 1000}'
    done | sort -n | awk '{v[NR]=$1} END {printf "%.2fms %.2fms\n", v[int(NR*0.5)], v[int(NR*0.99)]}'
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; wrk -t2 -c$connections -d$duration; SQLite, default settings"
printf '%-10s %10s %10s %10s %18s %18s\n' page req/s p50 p99 "server p50" "server p99"
row() {
    local name=$1 rps p50 p99 non2xx
    shift
    wrk_run "$tmp/wrk.out" -d"$duration" "$@"
    read -r rps p50 p99 non2xx < <(wrk_figures "$tmp/wrk.out")
    read -r s50 s99 < <(server_time "${server_args[@]}")
    printf '%-10s %10s %10s %10s %18s %18s\n' "$name" "$rps" "$p50" "$p99" "$s50" "$s99"
}
server_args=(-H "Cookie: $cookie" "$base/$xid")
row returning -H "Cookie: $cookie" "$base/$xid"
server_args=("$base/$xid")
row new "$base/$xid"
server_args=("$base/$xid?printable=false")
row mobile "$base/$xid?printable=false"
echo "kindling RSS at the end: $(rss_mb "$kindling_pid") MB"
