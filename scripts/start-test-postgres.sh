#!/usr/bin/env bash
# Starts a private Postgres cluster for the tests, listening on 127.0.0.1 only, and prints its connection URL
# on stdout, so that a caller can run:
#
#   export PER_USER_DB_TEST_POSTGRES_URL=$(scripts/start-test-postgres.sh)
#
# Status messages go to stderr. The URL contains a random password for the cluster's superuser, so do not
# echo it into logs. Running the script again while the cluster is up prints the same URL.
#
# Environment:
#   TEST_POSTGRES_DIR   folder of the cluster's data, socket, log and password; default /tmp/per-user-db-test-postgres
#   TEST_POSTGRES_PORT  TCP port on 127.0.0.1; default 55432
#
# Needs the Postgres server binaries (Debian: apt-get install postgresql). As root, the cluster runs as the
# `postgres` user, because initdb and postgres refuse to run as root. Stop it with:
#   pg_ctl -D "$TEST_POSTGRES_DIR/data" stop   (as root: runuser -u postgres -- pg_ctl ...)
set -euo pipefail

state_dir=${TEST_POSTGRES_DIR:-/tmp/per-user-db-test-postgres}
port=${TEST_POSTGRES_PORT:-55432}
superuser=postgres

log() { printf '%s\n' "$*" >&2; }

# Debian installs the server binaries outside PATH, one folder per major version; take the newest.
bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bin_dir" ]]; then
  bin_dir=$(dirname "$(command -v initdb || true)")
fi
if [[ ! -x "$bin_dir/initdb" || ! -x "$bin_dir/pg_ctl" ]]; then
  log "initdb and pg_ctl not found. Install the Postgres server first, for example: apt-get install -y postgresql"
  exit 1
fi

# Runs a command as the cluster's owner: `postgres` when this script runs as root, otherwise the current user.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

data_dir="$state_dir/data"
password_file="$state_dir/password"

if [[ ! -f "$data_dir/PG_VERSION" ]]; then
  log "Creating a Postgres cluster in $data_dir"
  mkdir -p "$state_dir"
  chmod 700 "$state_dir"
  # 24 random bytes, hex-encoded, so the password needs no escaping in a URL.
  od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$password_file"
  chmod 600 "$password_file"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres: "$state_dir"
  fi

  # Password authentication for TCP connections, so the tests can check a wrong password. Local socket
  # connections use peer authentication.
  as_owner "$bin_dir/initdb" --pgdata="$data_dir" --username="$superuser" --pwfile="$password_file" \
    --auth-host=scram-sha-256 --auth-local=peer --encoding=UTF8 --locale=C.UTF-8 >&2
fi

if as_owner "$bin_dir/pg_ctl" --pgdata="$data_dir" status >/dev/null 2>&1; then
  log "Postgres is already running in $data_dir"
else
  log "Starting Postgres on 127.0.0.1:$port"
  # The socket goes into the state folder, because /var/run/postgresql may not exist or be writable.
  as_owner "$bin_dir/pg_ctl" --pgdata="$data_dir" --log="$state_dir/server.log" --wait --timeout=60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $state_dir -c max_connections=200" start >&2
fi

printf 'postgres://%s:%s@127.0.0.1:%s/postgres\n' "$superuser" "$(cat "$password_file")" "$port"
