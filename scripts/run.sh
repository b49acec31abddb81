#!/usr/bin/env bash
# run.sh is `make run`: it finds or starts a PostgreSQL, creates and
# migrates the database, seeds the demo tenant once, and serves ClientIQ.
#
# Database, in order: $DATABASE_URL when set; else the PostgreSQL answering
# on 127.0.0.1:5432; else a private cluster under .data/pg (port 54329),
# created with the installed PostgreSQL binaries, which are installed with
# apt-get when missing and we are root. Redis: $REDIS_URL, else the one on
# 127.0.0.1:6379 when it answers, else an in-process cache (the server decides).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "make run: $*" >&2; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

private_cluster() {
  local port=54329 data="$PWD/.data/pg"
  if answers "$port"; then echo "postgres://postgres@127.0.0.1:$port/clientiq?sslmode=disable"; return; fi
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bin" ]; then
    [ "$(id -u)" = 0 ] || { log "no PostgreSQL found: install it (apt-get install postgresql) or set DATABASE_URL"; exit 1; }
    log "installing PostgreSQL with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  # PostgreSQL refuses to run as root: as root, run it as the postgres user.
  local as=()
  if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
  mkdir -p "$data" "$PWD/.data/run"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PWD/.data/pg" "$PWD/.data/run"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating a private PostgreSQL cluster in .data/pg"
    "${as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  log "starting the private PostgreSQL on 127.0.0.1:$port"
  "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $PWD/.data/run" start >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/clientiq?sslmode=disable"
}

if [ -z "${DATABASE_URL:-}" ]; then
  if answers 5432; then
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/clientiq?sslmode=disable"
    log "using the PostgreSQL on 127.0.0.1:5432"
  else
    DATABASE_URL=$(private_cluster)
  fi
fi
export DATABASE_URL
export CLIENTIQ_ENV="${CLIENTIQ_ENV:-local}"
export LOG_FORMAT="${LOG_FORMAT:-text}"

bin=bin/clientiq
./$bin migrate --create-db
if [ "$CLIENTIQ_ENV" = local ]; then ./$bin seed; fi
exec ./$bin serve
