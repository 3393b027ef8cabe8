#!/usr/bin/env bash
# Start a local PostgreSQL server for the store tests (CI on Debian 12, run as root, no docker).
#
# Idempotent: installs the server only when missing, creates the default cluster only when there
# is none, starts it only when it is down, and creates or updates the role and database.
# The last line printed to stdout is the export line, so CI can do:
#     eval "$(.ci/postgres.sh | tail -n 1)"
# Progress goes to stderr so that stdout stays just that line.
set -euo pipefail

PG_USER="${BENCHAI_PG_USER:-benchai}"
PG_PASSWORD="${BENCHAI_PG_PASSWORD:-benchai}"
PG_DB="${BENCHAI_PG_DB:-benchai_test}"
PG_PORT="${BENCHAI_PG_PORT:-5432}"
CLUSTER="main"

log() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (it installs packages and starts the server)"
    exit 1
fi

# 1. Install the server (quietly, never prompting).
export DEBIAN_FRONTEND=noninteractive
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing postgresql"
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
fi
PG_VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"

# 2. The package creates the default cluster, but not always (e.g. when installed with
#    create_main_cluster = false, or when its data directory was removed): make sure it exists.
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    log "creating cluster $PG_VERSION/$CLUSTER on port $PG_PORT"
    pg_createcluster "$PG_VERSION" "$CLUSTER" --port "$PG_PORT" >&2
fi
# An existing cluster keeps its own port: read it rather than assume PG_PORT.
PG_PORT="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $3 }')"

# 3. Start it unless it is already running (pg_ctlcluster start fails on a running cluster).
if ! pg_ctlcluster "$PG_VERSION" "$CLUSTER" status >/dev/null 2>&1; then
    log "starting cluster $PG_VERSION/$CLUSTER"
    pg_ctlcluster "$PG_VERSION" "$CLUSTER" start >&2
fi

# 4. Wait until it accepts TCP connections (the tests connect over 127.0.0.1).
for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
        break
    fi
    sleep 1
done
if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
    log "server did not become ready on port $PG_PORT"
    tail -n 20 "/var/log/postgresql/postgresql-$PG_VERSION-$CLUSTER.log" >&2 || true
    exit 1
fi

# 5. Role and database. Running the SQL as the postgres superuser over the local socket
#    (peer auth) needs no password. CREATEDB lets tests make throwaway databases if they want.
psql_admin() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q -p "$PG_PORT" "$@"; }

psql_admin -d postgres >&2 <<SQL
DO \$\$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
        ALTER ROLE "$PG_USER" WITH LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
    ELSE
        CREATE ROLE "$PG_USER" WITH LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
    END IF;
END
\$\$;
SQL

# CREATE DATABASE cannot run inside DO/transaction blocks, hence the separate check.
if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != "1" ]; then
    log "creating database $PG_DB"
    psql_admin -d postgres -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\"" >&2
fi
# PostgreSQL 15 no longer lets every role create in schema public: hand it to the owner.
psql_admin -d "$PG_DB" -c "ALTER SCHEMA public OWNER TO \"$PG_USER\"" >&2

# 6. Prove the password login the tests use works, then print the export line.
PGPASSWORD="$PG_PASSWORD" psql -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -tAc "SELECT 1" >/dev/null
log "ready: PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT, database $PG_DB"
echo "export BENCHAI_TEST_PG_URL=postgresql+psycopg2://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
