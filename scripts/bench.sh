#!/usr/bin/env bash
# GET /v1.0/members/{id} on Kindling (release build, default settings: logs at info, metrics
# on) against the reference server (crates/reference: bare axum, same route and JSON from
# memory), alternately A B A B in one run, on each store; then credential issue and redeem
# (one offer; on PostgreSQL also with two `kindling serve` processes sharing the load) on
# Kindling, compared with the same reference figure. Prints req/s, p50, p99
# per run, the means and their ratio, and Kindling's RSS idle and at the end. On SQLite a
# second Kindling process on the same file with KINDLING_LOG=warn takes turns too (A B C A C
# B: the two swap places every round), which prices request logging within the run.
# On SQLite, last: GET member at random ids of an account with 10,000 members and of one with
# BENCH_MEMBERS (1,000,000; 0 skips it) members, each loaded by `kindling import members`
# (timed) into its own file and served by its own process, in turns; the row is the ratio of
# their p50s. The same with the read cache off (KINDLING_SQLITE_READ_CACHE=off, a second
# process on each file): every 10,000 members fit in the cache, so with it on the ratio
# compares cache hits with database reads. Each of the four is warmed for 3 s first.
# Usage: scripts/bench.sh [sqlite] [postgres]   (default both). PostgreSQL is a throwaway
# cluster (scripts/pg-cluster.sh) with fsync turned back on, or $KINDLING_BENCH_DATABASE_URL.
# BENCH_DURATION (10s), BENCH_REDEEM_DURATION (5s, shorter than issuing so every redeem
# finds a credential; on PostgreSQL more codes are issued for BENCH_TOPUP_DURATION, 20s,
# unmeasured, before the redeem runs), BENCH_CONNECTIONS (64), BENCH_ROUNDS (4),
# BENCH_MEMBERS, BENCH_OFFER (the credentials' offer as JSON, e.g. '{"name":"hot",
# "max_redemptions":100000000}' to count every issue and redeem on its row). A row whose runs had over 1 % non-2xx answers is marked INVALID in the
# summary (a few are 404s for ids skipped by code draws, see the summary's note).
# Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
stores=("$@")
[ ${#stores[@]} -gt 0 ] || stores=(sqlite postgres)
duration=${BENCH_DURATION:-10s}
redeem_duration=${BENCH_REDEEM_DURATION:-5s}
topup_duration=${BENCH_TOPUP_DURATION:-20s}
connections=${BENCH_CONNECTIONS:-64}
rounds=${BENCH_ROUNDS:-4}
many_members=${BENCH_MEMBERS:-1000000}
server_env=""
source scripts/pg-cluster.sh
source scripts/lib/bench-server.sh
results="$tmp/results"
: >"$results"

# Every figure of one wrk run, appended to $results as: store server round req/s p50 p99 non-2xx.
measure() {
    local store=$1 server=$2 round=$3 length=$4 url=$5
    shift 5
    wrk_run "$tmp/wrk.out" -d"$length" "$url" "$@"
    echo "$store $server $round $(wrk_figures "$tmp/wrk.out") $(awk '/requests in/{print $1}' "$tmp/wrk.out")" >>"$results"
}

# Redeems through both Kindling processes at once, half the connections each; one line per
# process (rounds a and b), which the summary adds up. Ids: one process took those = 0, 1
# (mod 4); these two take 2, 3 and 6, 7 (mod 8).
measure_two_processes() {
    local store=$1
    allow_non2xx=1 wrk_run "$tmp/wrk-a.out" -c$((connections / 2)) -d"$redeem_duration" "$base" -s "$tmp/redeem.lua" -- 2 8 &
    local a=$!
    allow_non2xx=1 wrk_run "$tmp/wrk-b.out" -c$((connections / 2)) -d"$redeem_duration" "$another_base" -s "$tmp/redeem.lua" -- 6 8 &
    wait "$a" "$!"
    echo "$store redeem2 a $(wrk_figures "$tmp/wrk-a.out") $(awk '/requests in/{print $1}' "$tmp/wrk-a.out")" >>"$results"
    echo "$store redeem2 b $(wrk_figures "$tmp/wrk-b.out") $(awk '/requests in/{print $1}' "$tmp/wrk-b.out")" >>"$results"
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores; wrk -t2 -c$connections -d$duration; $rounds rounds, reference then Kindling"
reference_start
for store in "${stores[@]}"; do
    case "$store" in
        sqlite) url="sqlite://$tmp/bench.db" ;;
        postgres)
            if [ -n "${KINDLING_BENCH_DATABASE_URL:-}" ]; then
                url=$KINDLING_BENCH_DATABASE_URL
            else
                pg_cluster_start kindling_bench >/dev/null
                # The test cluster runs with fsync off; restarted without it (PostgreSQL's
                # defaults), an acknowledged write here is on disk.
                "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_cluster_dir/data" -w restart \
                    -o "-p $pg_port -k $pg_cluster_dir -c listen_addresses=127.0.0.1" >/dev/null
                fsync=$("$pg_bin/psql" -Atq -h 127.0.0.1 -p "$pg_port" -U kindling -d kindling_bench -c "SHOW fsync")
                [ "$fsync" = on ] || { echo "PostgreSQL fsync is $fsync" >&2; exit 1; }
                url=$pg_url
            fi
            ;;
        *) echo "unknown store $store (sqlite or postgres)" >&2; exit 1 ;;
    esac
    kindling_start "$url"
    member=$(curl -fs -H "X-Auth-Token: $token" -XPOST -d '{"member":{"identifier":"bench-member"}}' "$base/v1.0/members" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["member"]["id"])')
    # The comparison only holds if both answer the same document shape.
    python3 - "$(curl -fs -H "X-Auth-Token: $token" "$base/v1.0/members/$member")" \
        "$(curl -fs "$reference_base/v1.0/members/$member")" <<'PY'
import json, sys
shape = lambda v: {k: shape(x) for k, x in v.items()} if isinstance(v, dict) else type(v).__name__
a, b = (shape(json.loads(s)) for s in sys.argv[1:])
sys.exit(0 if a == b else f"JSON shapes differ:\n kindling  {a}\n reference {b}")
PY
    rss_idle=$(rss_mb "$kindling_pid")
    [ "$store" != sqlite ] || KINDLING_LOG=warn kindling_another "$url"
    for round in $(seq "$rounds"); do
        measure "$store" reference "$round" "$duration" "$reference_base/v1.0/members/$member"
        # The two SQLite processes swap places every round: a run right after another
        # measured up to 15 % apart from the same run in the other place (two identical
        # processes, 2026-12-01), which would otherwise be counted as logging's cost.
        if [ "$store" = sqlite ] && [ $((round % 2)) = 0 ]; then
            measure "$store" member-warn "$round" "$duration" "$another_base/v1.0/members/$member" -H "X-Auth-Token: $token"
        fi
        measure "$store" member "$round" "$duration" "$base/v1.0/members/$member" -H "X-Auth-Token: $token"
        if [ "$store" = sqlite ] && [ $((round % 2)) = 1 ]; then
            measure "$store" member-warn "$round" "$duration" "$another_base/v1.0/members/$member" -H "X-Auth-Token: $token"
        fi
    done
    if [ "$store" = sqlite ]; then
        kill "$another_pid"
        wait "$another_pid" 2>/dev/null || true
    fi
    credentials_setup
    allow_non2xx=1 measure "$store" issue 1 "$duration" "$base" -s "$tmp/issue.lua"
    if [ "$store" = postgres ]; then
        # PostgreSQL issues slower than it redeems: more codes first (not measured), so that
        # no redeem run below runs out of them (each takes half of the codes).
        wrk_run "$tmp/wrk-topup.out" -d"$topup_duration" "$base" -s "$tmp/issue.lua"
        allow_non2xx=1 measure "$store" redeem 1 "$redeem_duration" "$base" -s "$tmp/redeem.lua" -- 0 4
        kindling_another "$url"
        measure_two_processes "$store"
        kill "$another_pid"
        wait "$another_pid" 2>/dev/null || true
    else
        allow_non2xx=1 measure "$store" redeem 1 "$redeem_duration" "$base" -s "$tmp/redeem.lua"
    fi
    echo "$store rss $(rss_mb "$kindling_pid") $rss_idle" >>"$results"
    kindling_stop
    rm -f "$tmp/server.log"
done

# A fresh SQLite file served by its own process, with N members (ids 1..N) imported into its
# account: sets members_pid, members_base, members_token; appends the import's seconds.
members_server() {
    local n=$1 started finished
    kindling_start "sqlite://$tmp/members-$n.db"
    python3 - "$n" "$tmp/members-$n.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("identifier,notification_mode\n")
    f.writelines(f"member-{i:08d},app\n" for i in range(n))
PY
    started=$(date +%s.%N)
    "$bin" import members "$tmp/members-$n.csv" --account "$account" --database-url "sqlite://$tmp/members-$n.db" >/dev/null
    finished=$(date +%s.%N)
    rm -f "$tmp/members-$n.csv"
    curl -fs -o /dev/null -H "X-Auth-Token: $token" "$base/v1.0/members/$n" || { echo "member $n not found" >&2; exit 1; }
    echo "sqlite import $n $(python3 -c "print($finished - $started)")" >>"$results"
    members_pid=$kindling_pid members_base=$base members_token=$token
}

if [ "$many_members" -gt 0 ] && [[ " ${stores[*]} " == *" sqlite "* ]]; then
    # Random ids over the whole table: with many members most reads miss SQLite's page cache.
    cat >"$tmp/random-member.lua" <<'LUA'
function init(args)
  last = tonumber(args[1])
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 1000)
end
function request()
  return wrk.format("GET", "/v1.0/members/" .. math.random(1, last))
end
LUA
    members_server 10000
    few_pid=$members_pid few_base=$members_base few_token=$members_token
    members_server "$many_members"
    # The same two files served again with the read cache off: all 10,000 members fit in the
    # cache, so with it on the ratio compares cache hits with database reads; off, it
    # compares the database reads themselves.
    saved_env=$server_env server_env="KINDLING_SQLITE_READ_CACHE=off"
    kindling_another "sqlite://$tmp/members-10000.db"
    few_uncached_pid=$another_pid few_uncached_base=$another_base
    kindling_another "sqlite://$tmp/members-$many_members.db"
    server_env=$saved_env
    # Unmeasured: the first reads after an import fault the file's pages into each reader's map.
    for warm in "$few_base $few_token 10000" "$members_base $members_token $many_members" \
        "$few_uncached_base $few_token 10000" "$another_base $members_token $many_members"; do
        set -- $warm
        wrk_run "$tmp/wrk-warm.out" -d3s "$1" -H "X-Auth-Token: $2" -s "$tmp/random-member.lua" -- "$3"
    done
    for round in $(seq "$rounds"); do
        measure sqlite members-10k "$round" "$duration" "$few_base" -H "X-Auth-Token: $few_token" \
            -s "$tmp/random-member.lua" -- 10000
        measure sqlite members-many "$round" "$duration" "$members_base" -H "X-Auth-Token: $members_token" \
            -s "$tmp/random-member.lua" -- "$many_members"
        measure sqlite members-10k-uncached "$round" "$duration" "$few_uncached_base" -H "X-Auth-Token: $few_token" \
            -s "$tmp/random-member.lua" -- 10000
        measure sqlite members-many-uncached "$round" "$duration" "$another_base" -H "X-Auth-Token: $members_token" \
            -s "$tmp/random-member.lua" -- "$many_members"
    done
    kill "$few_pid" "$members_pid" "$few_uncached_pid" "$another_pid"
    wait "$few_pid" "$members_pid" "$few_uncached_pid" "$another_pid" 2>/dev/null || true
fi

python3 - "$results" <<'PY'
import sys
from collections import defaultdict

def ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(text)

runs, rss, imports = defaultdict(list), {}, {}
for line in open(sys.argv[1]):
    store, server, *rest = line.split()
    if server == "rss":
        rss[store] = (float(rest[1]), float(rest[0]))
    elif server == "import":
        imports[int(rest[0])] = float(rest[1])
    else:
        runs[store, server].append((rest[0], float(rest[1]), ms(rest[2]), ms(rest[3]), int(rest[4]), int(rest[5])))

row = "{:<8} {:<10} {:>5} {:>10} {:>9} {:>9} {:>8}"
print(row.format("store", "run", "round", "req/s", "p50 ms", "p99 ms", "non-2xx"))
for (store, server), figures in runs.items():
    for r, rps, p50, p99, bad, _ in figures:
        print(row.format(store, server, r, f"{rps:,.0f}", f"{p50:.2f}", f"{p99:.2f}", bad))

names = {
    "member": "GET /v1.0/members/{id}",
    "member-warn": "same, KINDLING_LOG=warn",
    "issue": "POST /v1.0/credentials",
    "redeem": "PUT .../redeem, one offer",
    "redeem2": "redeem, two processes",
}
print()
print("Kindling / reference (GET /v1.0/members/{id} from memory), means of the rounds")
summary = "{:<8} {:<26} {:>10} {:>10} {:>9} {:>9} {:>7}"
print(summary.format("store", "row", "ref req/s", "req/s", "p50 ms", "p99 ms", "ratio"))
for store in dict.fromkeys(s for s, _ in runs):
    mean = lambda server, i: sum(f[i] for f in runs[store, server]) / len(runs[store, server])
    ref = mean("reference", 1)
    for server, name in names.items():
        if (store, server) in runs:
            rps, p50, p99 = mean(server, 1), mean(server, 2), mean(server, 3)
            if server == "redeem2":  # two processes at once: their sum, and the worse p99
                rps, p99 = sum(f[1] for f in runs[store, server]), max(f[3] for f in runs[store, server])
            bad, asked = sum(f[4] for f in runs[store, server]), sum(f[5] for f in runs[store, server])
            # A redeem of an id that no credential took is a 404: a drawn code that another
            # open code already held takes an id before it is drawn again (short numeric
            # codes collide now and then). Past 1 % the run ran out of codes.
            flag = ""
            if bad > asked / 100:
                flag = f"  INVALID: {bad:,} of {asked:,} answers not 2xx"
            elif bad:
                flag = f"  ({bad:,} of {asked:,} not 2xx: ids skipped by code draws)"
            print(summary.format(store, name, f"{ref:,.0f}", f"{rps:,.0f}", f"{p50:.2f}", f"{p99:.2f}",
                                 f"{rps / ref:.3f}") + flag)
    if (store, "member-warn") in runs:
        cost = 1 - mean("member", 1) / mean("member-warn", 1)
        print(f"{store:<8} request logging at info costs {cost:.1%} of GET member throughput (vs warn, same run)")
    if store in rss:
        print("{:<8} Kindling RSS: {:.1f} MB idle, {:.1f} MB at the end".format(store, *rss[store]))

if ("sqlite", "members-many") in runs:
    many = max(imports)
    p50 = lambda server: sum(f[2] for f in runs["sqlite", server]) / len(runs["sqlite", server])
    print()
    print(f"GET /v1.0/members/{{random id}} on SQLite, p50 with {many:,} members / with 10,000 members")
    for suffix, how in (("", "default settings (read cache on)"), ("-uncached", "KINDLING_SQLITE_READ_CACHE=off")):
        a, b = p50("members-many" + suffix), p50("members-10k" + suffix)
        print(f"sqlite   {a:.2f} ms / {b:.2f} ms = {a / b:.2f}   {how}")
    for n, seconds in sorted(imports.items()):
        print(f"sqlite   kindling import members: {n:,} members in {seconds:.1f} s ({n / seconds:,.0f}/s)")
PY
