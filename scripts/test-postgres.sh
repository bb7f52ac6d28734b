#!/usr/bin/env bash
# Run a command (the test suite) against a throwaway PostgreSQL cluster:
#   scripts/test-postgres.sh .venv/bin/python -m pytest
# The cluster lives in a temporary directory, listens on 127.0.0.1 on a free port, and is stopped
# and deleted when the command ends, whatever its outcome. DATABASE_URL points at it.
# - DATABASE_URL already set: the command runs against that database, no cluster is started.
# - No PostgreSQL server binaries, or the cluster does not start: the command runs on SQLite with
#   a notice, except under CI=true, where that is an error.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGUMENT...]" >&2
    exit 2
fi
if [ -n "${DATABASE_URL:-}" ]; then
    echo "test-postgres: using the database in DATABASE_URL"
    exec "$@"
fi

fallback() {
    local reason="$1"
    shift
    if [ "${CI:-}" = "true" ]; then
        echo "test-postgres: $reason; CI requires PostgreSQL" >&2
        exit 1
    fi
    echo "test-postgres: $reason; the tests run on SQLite instead"
    exec "$@"
}

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    fallback "no PostgreSQL server found (apt-get install postgresql)" "$@"
fi

# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user.
if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        fallback "running as root and there is no postgres user" "$@"
    fi
    as_owner() { runuser -u postgres -- "$@"; }
    OWNER=postgres
else
    as_owner() { "$@"; }
    OWNER="$(id -un)"
fi

CLUSTER="$(mktemp -d "${TMPDIR:-/tmp}/bulkadmin-pg.XXXXXX")"
chmod 700 "$CLUSTER"
[ "$(id -u)" = 0 ] && chown "$OWNER" "$CLUSTER"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cleanup() {
    if [ -f "$CLUSTER/data/postmaster.pid" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$CLUSTER/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$CLUSTER"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

start_cluster() {
    as_owner "$PG_BIN/initdb" -D "$CLUSTER/data" -U "$OWNER" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$CLUSTER/initdb.log" 2>&1 || return 1
    # A throwaway cluster: no durability needed, so no fsync.
    as_owner "$PG_BIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$CLUSTER -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null || return 1
    as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$OWNER" bulkadmin || return 1
}

if ! start_cluster; then
    cat "$CLUSTER"/*.log >&2 2>/dev/null || true
    cleanup
    trap - EXIT
    fallback "the PostgreSQL cluster did not start" "$@"
fi

export DATABASE_URL="postgres://$OWNER@127.0.0.1:$PORT/bulkadmin"
echo "test-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') at $DATABASE_URL"
# Not exec: the EXIT trap stops and deletes the cluster when the command ends, however it ends
# (Ctrl-C reaches the command from the terminal; a signal sent to this script alone takes effect
# when the command has ended).
"$@"
