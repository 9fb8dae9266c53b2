#!/usr/bin/env bash
# The whole test suite, on SQLite and on a throwaway PostgreSQL cluster that this script
# creates in a temp dir (initdb + pg_ctl on a free loopback port) and removes afterwards.
# Extra arguments go to `cargo test` (after `--`, to the test binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/pg-cluster.sh
trap pg_cluster_stop EXIT
pg_cluster_start kindling_test

spec_dir=${KINDLING_SPEC_DIR:-../shared/spec}
if [ ! -f "$spec_dir/sparkfly-v1.0.23.openapi.yaml" ]; then
    echo "SKIPPED: spec schema checks ($spec_dir/sparkfly-v1.0.23.openapi.yaml not found); every other test runs" >&2
fi

export KINDLING_TEST_DATABASE_URL=$pg_url
echo "PostgreSQL test cluster on 127.0.0.1:$pg_port"
# PostgreSQL tests are #[ignore]d so that a bare `cargo test` reports them as not run;
# here they run, after any test-binary arguments the caller gave (after `--`).
cargo_args=() harness_args=() seen_separator=
for arg in "$@"; do
    if [ -z "$seen_separator" ] && [ "$arg" = "--" ]; then seen_separator=1; continue; fi
    if [ -n "$seen_separator" ]; then harness_args+=("$arg"); else cargo_args+=("$arg"); fi
done
# Every SQLite statement the tests run is recorded with its query plan, and the plans are
# checked afterwards (scripts/plans.py: no whole-account read of a large table for a few rows).
plan_log=$(mktemp)
trap 'rm -f "$plan_log"; pg_cluster_stop' EXIT
KINDLING_SQLITE_PLAN_LOG=$plan_log cargo test --workspace "${cargo_args[@]}" -- --include-ignored "${harness_args[@]}"
python3 scripts/plans.py "$plan_log"
