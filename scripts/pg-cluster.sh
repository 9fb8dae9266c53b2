# A throwaway PostgreSQL cluster (sourced, not run; by scripts/test.sh and scripts/fuzz.sh).
# `pg_cluster_start NAME` runs initdb in a temp dir and pg_ctl on a free loopback port, creates
# database NAME, and sets pg_url and pg_port; `pg_cluster_stop` removes it all (call it from
# the caller's EXIT trap, set before the start). Never touches a running system service.
# Needs the PostgreSQL server binaries (or $PG_BIN).

pg_cluster_dir=
pg_url=

pg_cluster_start() {
    local db=$1
    pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
        echo "PostgreSQL server binaries not found: apt-get install postgresql (or set PG_BIN)" >&2
        exit 1
    fi
    pg_cluster_dir=$(mktemp -d /tmp/kindling-pg.XXXXXX)
    pg_as=()
    if [ "$(id -u)" = 0 ]; then
        # initdb refuses to run as root; the Debian package's postgres user owns the cluster.
        chown postgres "$pg_cluster_dir"
        pg_as=(runuser -u postgres --)
    fi

    # A natural-language collation (ICU's root locale, where "a" < "B" < "c"), as production
    # databases usually have, rather than the C locale these machines default to: a sort
    # that relies on the database's collation shows up as a test that differs by store.
    local collation=()
    if "$pg_bin/initdb" --help | grep -q -- --icu-locale; then
        collation=(--locale-provider=icu --icu-locale=und)
    fi
    pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_cluster_dir/data" -U kindling --auth=trust -E UTF8 --no-sync "${collation[@]}" \
        >"$pg_cluster_dir/initdb.log" 2>&1 || { cat "$pg_cluster_dir/initdb.log" >&2; exit 1; }
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_cluster_dir/data" -l "$pg_cluster_dir/postgres.log" -w start \
        -o "-p $pg_port -k $pg_cluster_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >/dev/null \
        || { cat "$pg_cluster_dir/postgres.log" >&2; exit 1; }
    "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U kindling "$db"
    pg_url="postgres://kindling@127.0.0.1:$pg_port/$db"
}

pg_cluster_stop() {
    [ -n "$pg_cluster_dir" ] || return 0
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_cluster_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_cluster_dir"
    pg_cluster_dir=
}
