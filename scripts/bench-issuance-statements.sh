#!/usr/bin/env bash
# What each SQL statement of an offer-state issuance costs PostgreSQL: bench-issuance.sh's
# `new` row (`POST /v1.0/members/offer_states/issue`, a new member each) against a
# throwaway cluster with PostgreSQL's default settings plus `pg_stat_statements` (preloaded,
# `track = all`, so the foreign-key checks show as statements of their own), then the
# statements by total time with their buffer and WAL figures, and the cluster's WAL and
# checkpoint counters over the run. Times are wall time of backends sharing the two cores
# with Kindling and wrk: proportions, not CPU (bench-issuance-cpu.sh measures CPU).
# Usage: scripts/bench-issuance-statements.sh. BENCH_DURATION (20, seconds),
# BENCH_CONNECTIONS (256), BENCH_SERVER_ENV and BENCH_BIN as in bench-issuance.sh. Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-20}
connections=${BENCH_CONNECTIONS:-256}
server_env=${BENCH_SERVER_ENV:-}
source scripts/lib/bench-server.sh
source scripts/pg-cluster.sh
pg_cluster_start kindling_bench >/dev/null
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_cluster_dir/data" -w restart -o "-p $pg_port -k $pg_cluster_dir \
    -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" \
    >/dev/null
psql() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U kindling kindling_bench "$@"; }
psql -qc 'CREATE EXTENSION pg_stat_statements'
kindling_start "$pg_url"
offer_on_channel '{"name":"bench"}'
issuance_lua "$tmp/new.lua"
psql -qAt -c 'SELECT pg_stat_statements_reset()' -c "SELECT pg_stat_reset_shared('bgwriter')" \
    -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
wrk_run "$tmp/wrk.out" -d"${duration}s" -s "$tmp/new.lua" "$base"
issued=$(awk '/requests in/{print $1}' "$tmp/wrk.out")
echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; wrk -t2 -c$connections -d${duration}s; $issued issuances"
psql -c "SELECT calls, rows, round((total_exec_time * 1000 / $issued)::numeric, 1) AS us_an_issuance,
    round((shared_blks_hit::numeric / $issued), 1) AS hits_an_issuance, wal_records, wal_fpi,
    pg_size_pretty(wal_bytes) AS wal, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
  FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 20"
psql -c "SELECT wal_records, wal_fpi, pg_size_pretty(wal_bytes) AS wal, wal_write, wal_sync FROM pg_stat_wal"
psql -c "SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint, buffers_clean, buffers_backend
  FROM pg_stat_bgwriter"
