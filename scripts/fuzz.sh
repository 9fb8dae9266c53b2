#!/usr/bin/env bash
# Schemathesis against a release `kindling serve`, once on SQLite and once on a throwaway
# PostgreSQL cluster: the Sparkfly spec's examples, coverage, fuzzing and stateful phases,
# checking that no response is a 5xx and that every response matches the spec's schema.
# Each store gets a fresh database seeded with one of each resource (scripts/fuzz-seed.py)
# so path ids resolve, and a time budget. Findings that come from the spec's own notation are
# accepted by the rules in scripts/fuzz-baseline.yaml; any other finding fails the script.
#
# Environment: KINDLING_SPEC_DIR (default ../shared/spec), KINDLING_FUZZ_SECONDS (budget per
# store, default 300), KINDLING_FUZZ_STORES (default "sqlite postgres"), KINDLING_FUZZ_SEED,
# KINDLING_FUZZ_WORKERS (default 1), KINDLING_FUZZ_KEEP=1 keeps the reports and server logs.
# On a fresh Debian machine, run as root: it installs python3-venv and postgresql if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

schemathesis_version=4.32.5
spec=${KINDLING_SPEC_DIR:-../shared/spec}/sparkfly-v1.0.23.openapi.yaml
if [ ! -f "$spec" ]; then
    # CI sets KINDLING_REQUIRE_SPEC: there a missing spec is a failure, not a skip.
    if [ -n "${KINDLING_REQUIRE_SPEC:-}" ]; then echo "fuzzing: $spec not found" >&2; exit 1; fi
    echo "SKIPPED: fuzzing ($spec not found; set KINDLING_SPEC_DIR)"
    exit 0
fi
budget=${KINDLING_FUZZ_SECONDS:-300}
stores=${KINDLING_FUZZ_STORES:-sqlite postgres}
target=${CARGO_TARGET_DIR:-target}

# System packages: a venv needs ensurepip (python3-venv on Debian), the second store a cluster.
packages=()
command -v python3 >/dev/null || packages+=(python3)
python3 -c 'import ensurepip' 2>/dev/null || packages+=(python3-venv)
case " $stores " in *" postgres "*) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql) ;; esac
if [ ${#packages[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "missing packages: ${packages[*]} (run as root or install them)" >&2; exit 1; }
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}"
fi

venv=$target/fuzz-venv
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $schemathesis_version" ]; then
    python3 -m venv --clear "$venv"
    "$venv/bin/pip" install -q "schemathesis==$schemathesis_version"
fi

cargo build --release -p kindling
bin=$(cd "$target/release" && pwd)/kindling
spec=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")

. scripts/pg-cluster.sh
tmp=$(mktemp -d /tmp/kindling-fuzz.XXXXXX)
server=
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    pg_cluster_stop
    if [ -n "${KINDLING_FUZZ_KEEP:-}" ]; then echo "reports and logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json_field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# fuzz_store NAME DATABASE_URL: serve, seed, run Schemathesis, triage; the exit status says.
# (Called in an `||` list, where `set -e` does not apply: each step checks its own status.)
fuzz_store() {
    local name=$1 url=$2 dir=$tmp/$1 port base account started status=0
    mkdir -p "$dir"
    account=$("$bin" account create --name fuzz --database-url "$url" 2>"$dir/account.log") \
        || { cat "$dir/account.log" >&2; return 1; }
    port=$(free_port)
    base="http://127.0.0.1:$port"
    # The fuzzer sets callback URLs to anything: nothing may leave this machine.
    KINDLING_CALLBACK_DELIVERY=off KINDLING_LOG=${KINDLING_LOG:-warn} "$bin" serve --listen "127.0.0.1:$port" --database-url "$url" \
        2>"$dir/server.log" &
    server=$!
    python3 -c 'import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1] + "/readyz"); break
    except Exception: time.sleep(0.1)
else: sys.exit("server did not become ready")' "$base" || { cat "$dir/server.log" >&2; return 1; }
    python3 scripts/fuzz-seed.py "$base" "$(json_field "$account" identity)" "$(json_field "$account" key)" \
        "$dir/schemathesis.toml" >"$dir/seeded.json" || return 1

    echo "== $name: Schemathesis $schemathesis_version for ${budget}s against $base"
    started=$(date +%s)
    # Its exit status only says "some check failed"; the triage below decides.
    (cd "$dir" && "$venv/bin/schemathesis" --config-file "$dir/schemathesis.toml" run "$spec" --url "$base" \
        --phases examples,coverage,fuzzing,stateful \
        --checks not_a_server_error,response_schema_conformance \
        --max-time "$budget" --continue-on-failure --workers "${KINDLING_FUZZ_WORKERS:-1}" \
        ${KINDLING_FUZZ_SEED:+--seed "$KINDLING_FUZZ_SEED"} \
        --generation-database none --no-color --report json,ndjson --report-dir "$dir/report" \
        >"$dir/schemathesis.log" 2>&1) || true
    echo "== $name: ran $(($(date +%s) - started))s"
    tail -n 25 "$dir/schemathesis.log"
    if ! kill -0 "$server" 2>/dev/null; then
        echo "[$name] FAILED: the server exited during the run" >&2
        status=1
    fi
    "$venv/bin/python" scripts/fuzz-triage.py "$dir/report" scripts/fuzz-baseline.yaml "$name" >"$dir/triage.log" \
        || status=1
    cat "$dir/triage.log"
    if [ $status != 0 ] && grep -qiE 'error|panic' "$dir/server.log"; then
        echo "[$name] server log errors:"
        grep -iE 'error|panic' "$dir/server.log" | tail -n 20
    fi
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
    return $status
}

failed=()
for store in $stores; do
    case $store in
        sqlite) fuzz_store sqlite "sqlite://$tmp/fuzz.db" || failed+=(sqlite) ;;
        postgres)
            pg_cluster_start kindling_fuzz
            fuzz_store postgres "$pg_url" || failed+=(postgres)
            pg_cluster_stop
            ;;
        *) echo "unknown store $store (sqlite or postgres)" >&2; exit 1 ;;
    esac
done

echo
grep -h "test cases generated" "$tmp"/*/triage.log 2>/dev/null || true
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: new findings on ${failed[*]} (see above; KINDLING_FUZZ_KEEP=1 keeps the full reports)"
    exit 1
fi
echo "OK: no findings outside scripts/fuzz-baseline.yaml on: $stores"
