#!/usr/bin/env bash
# The whole test suite, on SQLite and on a throwaway PostgreSQL cluster that this script
# creates in a temp dir (initdb + pg_ctl on a free loopback port) and removes afterwards.
# Extra arguments go to `cargo test` (after `--`, to the test binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "PostgreSQL server binaries not found: apt-get install postgresql (or set PG_BIN)" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/kindling-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root; the Debian package's postgres user owns the cluster.
    chown postgres "$tmp"
    as_pg=(runuser -u postgres --)
fi
cleanup() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/initdb" -D "$tmp/data" -U kindling --auth=trust -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1 \
    || { cat "$tmp/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/postgres.log" -w start \
    -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >/dev/null \
    || { cat "$tmp/postgres.log" >&2; exit 1; }
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U kindling kindling_test

spec_dir=${KINDLING_SPEC_DIR:-../shared/spec}
if [ ! -f "$spec_dir/sparkfly-v1.0.23.openapi.yaml" ]; then
    echo "SKIPPED: spec schema checks ($spec_dir/sparkfly-v1.0.23.openapi.yaml not found); every other test runs" >&2
fi

export KINDLING_TEST_DATABASE_URL="postgres://kindling@127.0.0.1:$port/kindling_test"
echo "PostgreSQL test cluster on 127.0.0.1:$port"
# PostgreSQL tests are #[ignore]d so that a bare `cargo test` reports them as not run;
# here they run, after any test-binary arguments the caller gave (after `--`).
cargo_args=() harness_args=() seen_separator=
for arg in "$@"; do
    if [ -z "$seen_separator" ] && [ "$arg" = "--" ]; then seen_separator=1; continue; fi
    if [ -n "$seen_separator" ]; then harness_args+=("$arg"); else cargo_args+=("$arg"); fi
done
cargo test --workspace "${cargo_args[@]}" -- --include-ignored "${harness_args[@]}"
