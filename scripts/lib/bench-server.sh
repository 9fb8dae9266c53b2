# Shared by the benchmark scripts (sourced, not run). Builds the release binaries, makes
# $tmp, and on exit stops every server started here (and a cluster from scripts/pg-cluster.sh).
#   bench_database STORE sets url for STORE: sqlite (a file in $tmp) or postgres
#                        ($KINDLING_BENCH_DATABASE_URL, else a throwaway cluster from
#                        scripts/pg-cluster.sh restarted with PostgreSQL's default fsync on).
#   kindling_start URL   `kindling serve` on URL with default settings plus $server_env;
#                        creates an account and logs in. Sets kindling_pid, base, token,
#                        account (its id).
#   kindling_stop        stops it.
#   kindling_another URL a second `kindling serve` on URL (same accounts, so $token works).
#                        Sets another_pid, another_base.
#   reference_start      the bare axum server (crates/reference). Sets reference_pid, reference_base.
#   rss_mb PID           resident memory of PID in MB.
#   wrk_run OUT ARGS...  wrk -t2 -c$connections --latency ARGS into file OUT; fails on
#                        non-2xx answers unless $allow_non2xx is set.
#   wrk_figures OUT      "req/s p50 p99 non-2xx" from a wrk output file.
#   wrk_exactly N SCRIPT OUT  wrk -t2 with SCRIPT until exactly N answers have come (each
#                        thread stops after its half); wrk's output into OUT. Sets took
#                        (seconds, from start to the last answer) and ok (2xx answers).
#   api ARGS...          curl with the started Kindling's token (fails on an HTTP error).
#   id_of KEY            the `id` of the `KEY` object in the JSON on stdin.
#   offer_on_channel BODY  an offer with the JSON object BODY, approved and linked to a new
#                        channel; sets channel, offer and xid (its landing page / campaign xid).
#   issuance_lua FILE    writes to FILE a wrk script of `POST /v1.0/members/offer_states/issue`
#                        for campaign $xid (from offer_on_channel), each request naming a
#                        member identifier never seen before (bench-<thread>-<n>).
#   credentials_setup    a member, channel and approved offer (BENCH_OFFER, a JSON object;
#                        {"name":"bench"}, no limit, by default) on the started Kindling, one
#                        credential issued; sets issue_path (its POST /v1.0/credentials
#                        with the query string) and writes $tmp/issue.lua (that POST)
#                        and $tmp/redeem.lua (redeems credentials issued after that one,
#                        each once: wrk thread t of `-- OFFSET STRIDE` takes the ids
#                        first+1+OFFSET+t, then every STRIDE; default 0 2 for -t2).
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p kindling -p kindling-reference
# BENCH_BIN: another kindling binary to measure (say, a copy of an earlier build, to compare
# two builds on one machine in one hour); the release build by default.
bin=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/kindling}
reference_bin=${CARGO_TARGET_DIR:-target}/release/kindling-reference
tmp=$(mktemp -d)
bench_pids=()
bench_cleanup() {
    for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if declare -F pg_cluster_stop >/dev/null; then pg_cluster_stop; fi
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"
}
trap bench_cleanup EXIT

bench_database() {
    case $1 in
        sqlite) url="sqlite://$tmp/bench.db" ;;
        postgres)
            if [ -n "${KINDLING_BENCH_DATABASE_URL:-}" ]; then
                url=$KINDLING_BENCH_DATABASE_URL
            else
                source scripts/pg-cluster.sh
                pg_cluster_start kindling_bench >/dev/null
                # The throwaway cluster starts with fsync off; PostgreSQL's defaults instead.
                "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_cluster_dir/data" -w restart \
                    -o "-p $pg_port -k $pg_cluster_dir -c listen_addresses=127.0.0.1" >/dev/null
                url=$pg_url
            fi
            ;;
        *) echo "unknown store $1 (sqlite or postgres)" >&2; exit 1 ;;
    esac
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

kindling_start() {
    local url=$1 port created identity key
    port=$(free_port)
    base="http://127.0.0.1:$port"
    created=$("$bin" account create --name bench --database-url "$url" 2>/dev/null)
    identity=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["identity"])' "$created")
    key=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$created")
    account=$identity
    # Logs at the default level (info, one line per request) unless KINDLING_LOG is set.
    env ${server_env:-} "$bin" serve --listen "127.0.0.1:$port" --database-url "$url" 2>"$tmp/server.log" &
    kindling_pid=$!
    bench_pids+=("$kindling_pid")
    for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
    token=$(curl -fs -D - -o /dev/null -H "X-Auth-Identity: $identity" -H "X-Auth-Key: $key" "$base/auth" \
        | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')
}

kindling_stop() {
    kill "$kindling_pid" 2>/dev/null || true
    wait "$kindling_pid" 2>/dev/null || true
}

kindling_another() {
    local port
    port=$(free_port)
    another_base="http://127.0.0.1:$port"
    env ${server_env:-} "$bin" serve --listen "127.0.0.1:$port" --database-url "$1" 2>"$tmp/another.log" &
    another_pid=$!
    bench_pids+=("$another_pid")
    for _ in $(seq 100); do curl -fs "$another_base/readyz" >/dev/null && break; sleep 0.1; done
}

reference_start() {
    local port
    port=$(free_port)
    reference_base="http://127.0.0.1:$port"
    "$reference_bin" "127.0.0.1:$port" &
    reference_pid=$!
    bench_pids+=("$reference_pid")
    for _ in $(seq 100); do curl -fs "$reference_base/v1.0/members/1" >/dev/null && break; sleep 0.1; done
}

rss_mb() {
    awk '/^VmRSS/{printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

wrk_run() {
    local out=$1
    shift
    wrk -t2 -c"${connections:-64}" --latency "$@" >"$out"
    if [ -z "${allow_non2xx:-}" ] && grep -q "Non-2xx" "$out"; then
        echo "non-2xx responses from wrk $*" >&2
        cat "$out" >&2
        return 1
    fi
}

wrk_figures() {
    local non2xx
    non2xx=$(awk '/Non-2xx/{print $5}' "$1")
    echo "$(awk '/Requests\/sec/{print $2}' "$1") $(awk '$1=="50%"{print $2}' "$1") $(awk '$1=="99%"{print $2}' "$1") ${non2xx:-0}"
}

wrk_exactly() {
    local n=$1 script=$2 out=$3 start end wrk_pid
    rm -f "$tmp/answered-0" "$tmp/answered-1"
    cat "$script" >"$tmp/exactly.lua"
    cat >>"$tmp/exactly.lua" <<LUA
local base_setup, base_init, numbered = setup, init, 0
function setup(thread)
  if base_setup then base_setup(thread) end
  thread:set("wid", numbered)
  numbered = numbered + 1
end
function init(args)
  if base_init then base_init(args) end
  answered, ok = 0, 0
  share = math.floor($n / 2) + (wid == 0 and $n % 2 or 0)
end
function response(status, headers, body)
  answered = answered + 1
  if status < 300 then ok = ok + 1 end
  if answered == share then
    local f = io.open("$tmp/answered-" .. wid, "w")
    f:write(ok)
    f:close()
    wrk.thread:stop()
  end
end
LUA
    # wrk runs for its whole -d whatever its threads do: it is interrupted once both are done.
    start=$(date +%s.%N)
    wrk -t2 -c"${connections:-64}" -d3600s --latency -s "$tmp/exactly.lua" "$base" >"$out" &
    wrk_pid=$!
    until [ -e "$tmp/answered-0" ] && [ -e "$tmp/answered-1" ]; do
        kill -0 "$wrk_pid" 2>/dev/null || { echo "wrk ended early" >&2; cat "$out" >&2; return 1; }
        sleep 0.05
    done
    end=$(date +%s.%N)
    kill -INT "$wrk_pid"
    wait "$wrk_pid" || true
    took=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')
    ok=$(( $(cat "$tmp/answered-0") + $(cat "$tmp/answered-1") ))
}

api() { curl -fs -H "X-Auth-Token: $token" "$@"; }
id_of() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]]["id"])' "$1"; }

offer_on_channel() {
    channel=$(api -XPOST -d '{"channel":{"name":"bench"}}' "$base/v1.0/channels" | id_of channel)
    offer=$(api -XPOST -d "{\"offer\":$1}" "$base/v1.0/offers" | id_of offer)
    api -XPUT "$base/v1.0/offers/$offer/actions/approve" >/dev/null
    api -XPOST -d "{\"offer\":{\"channel_ids\":[$channel]}}" "$base/v1.0/offers/$offer/channels" >/dev/null
    xid=$(api "$base/v1.0/offers/$offer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["offer"]["channels"][0]["channel"]["xid"])')
}

# The start of a wrk script whose threads each know their number, `tid` (0, 1, ...).
lua_thread_ids='local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end'

issuance_lua() {
    # Each wrk thread numbers its own identifiers: bench-<thread>-<n>, distinct across the run.
    cat >"$1" <<LUA
$lua_thread_ids
function init(args)
  n = 0
end
function request()
  n = n + 1
  local body = '{"offer_state":{"campaign_id":"$xid","member_identifier":"bench-' .. tid .. '-' .. n .. '"}}'
  return wrk.format("POST", "/v1.0/members/offer_states/issue",
    { ["X-Auth-Token"] = "$token", ["Content-Type"] = "application/json" }, body)
end
LUA
}

credentials_setup() {
    local member first body='{"name":"bench"}'
    [ -z "${BENCH_OFFER:-}" ] || body=$BENCH_OFFER
    member=$(api -XPOST -d '{"member":{"identifier":"bench-credentials"}}' "$base/v1.0/members" | id_of member)
    offer_on_channel "$body"
    issue_path="/v1.0/credentials?member_id=$member&offer_id=$offer&channel_id=$channel"
    first=$(api -XPOST "$base$issue_path" | id_of credential)
    cat >"$tmp/issue.lua" <<LUA
wrk.method = "POST"
wrk.headers["X-Auth-Token"] = "$token"
wrk.path = "$issue_path"
LUA
    # A handful of 404s is expected: an id is skipped when a drawn code collided and was redrawn.
    cat >"$tmp/redeem.lua" <<LUA
$lua_thread_ids
function init(args)
  next_id = $first + 1 + (tonumber(args[1]) or 0) + tid
  stride = tonumber(args[2]) or 2
end
function request()
  local path = "/v1.0/credentials/" .. next_id .. "/redeem"
  next_id = next_id + stride
  return wrk.format("PUT", path, { ["X-Auth-Token"] = "$token" })
end
LUA
}
