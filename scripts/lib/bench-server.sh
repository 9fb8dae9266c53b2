# Shared by the benchmark scripts (sourced, not run): builds the release binary, starts
# `kindling serve` on a fresh SQLite file or $KINDLING_BENCH_DATABASE_URL, creates an
# account and logs in. Sets: bin, tmp, url, base, server, token. Needs $backend and extra
# server environment in $server_env (may be empty).
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/kindling
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"' EXIT
case "$backend" in
    sqlite) url="sqlite://$tmp/bench.db" ;;
    postgres) url=${KINDLING_BENCH_DATABASE_URL:?set KINDLING_BENCH_DATABASE_URL=postgres://...} ;;
    *) echo "unknown backend $backend" >&2; exit 1 ;;
esac
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
account=$("$bin" account create --name bench --database-url "$url" 2>/dev/null)
identity=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["identity"])' "$account")
key=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$account")
env ${server_env:-} KINDLING_LOG=${KINDLING_LOG:-warn} "$bin" serve --listen "127.0.0.1:$port" --database-url "$url" 2>"$tmp/server.log" &
server=$!
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
token=$(curl -fs -D - -o /dev/null -H "X-Auth-Identity: $identity" -H "X-Auth-Key: $key" "$base/auth" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')
