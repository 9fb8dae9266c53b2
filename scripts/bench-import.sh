#!/usr/bin/env bash
# Times `kindling import items` of N generated rows (default 100,000) into a fresh SQLite
# database (or $KINDLING_BENCH_DATABASE_URL) with the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
cargo build --release -q
bin=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/kindling}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
url=${KINDLING_BENCH_DATABASE_URL:-sqlite://$tmp/import.db}
python3 - "$rows" >"$tmp/items.csv" <<'PY'
import sys
print("name,code")
for i in range(int(sys.argv[1])):
    print(f"Item number {i},{i:08d}")
PY
account=$("$bin" account create --name import-bench --database-url "$url" 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["account_id"])')
start=$(date +%s.%N)
"$bin" import items "$tmp/items.csv" --account "$account" --database-url "$url" 2>/dev/null
end=$(date +%s.%N)
python3 -c 'import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f"imported {sys.argv[3]} items in {s:.2f} s ({int(sys.argv[3])/s:,.0f} rows/s)")' "$start" "$end" "$rows"
