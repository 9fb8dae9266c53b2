# A throwaway PostgreSQL cluster (sourced, not run): initdb + pg_ctl in a temp dir on a free
# loopback port, removed by `pg_cluster_stop`. Extra server options in $PG_CLUSTER_OPTS
# (scripts/test.sh turns fsync off; the benchmark keeps the defaults). Sets: pg_bin,
# pg_tmp, pg_port, pg_url (a database named $1, created).
pg_cluster_start() {
    local db=$1
    pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
        echo "PostgreSQL server binaries not found: apt-get install postgresql (or set PG_BIN)" >&2
        return 1
    fi
    pg_tmp=$(mktemp -d /tmp/kindling-pg.XXXXXX)
    pg_as=()
    if [ "$(id -u)" = 0 ]; then
        # initdb refuses to run as root; the Debian package's postgres user owns the cluster.
        chown postgres "$pg_tmp"
        pg_as=(runuser -u postgres --)
    fi
    pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_tmp/data" -U kindling --auth=trust -E UTF8 --no-sync >"$pg_tmp/initdb.log" 2>&1 \
        || { cat "$pg_tmp/initdb.log" >&2; return 1; }
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_tmp/data" -l "$pg_tmp/postgres.log" -w start \
        -o "-p $pg_port -k $pg_tmp -c listen_addresses=127.0.0.1 ${PG_CLUSTER_OPTS:-}" >/dev/null \
        || { cat "$pg_tmp/postgres.log" >&2; return 1; }
    "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U kindling "$db"
    pg_url="postgres://kindling@127.0.0.1:$pg_port/$db"
}

pg_cluster_stop() {
    [ -n "${pg_tmp:-}" ] || return 0
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_tmp"
    pg_tmp=
}
