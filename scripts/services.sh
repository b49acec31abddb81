#!/usr/bin/env bash
# services.sh makes sure the PostgreSQL and Redis that the tests use answer on
# 127.0.0.1:5432 and 127.0.0.1:6379: it starts them when they are installed
# but down, and installs them with apt-get when they are missing and we are
# root. It also makes sure /usr/bin/chromium (Debian package chromium) is
# there for the playground's browser test, and that the mailpit program is
# installed for the email tests (internal/mailtest starts its own instances),
# and that pgbouncer is installed for the scaling test (cmd/clientiq starts
# its own instance; no system pgbouncer is started).
# Idempotent and quick when all is already in place. Used by `make test` and
# .ci/run.
set -euo pipefail

log() { echo "services: $*" >&2; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_updated=""
apt_install() {
  is_root || { log "$* is missing and we are not root: install it (apt-get install $*)"; exit 1; }
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

wait_for() { # port name
  for _ in $(seq 1 60); do answers "$1" && return 0; sleep 0.5; done
  log "$2 did not come up on 127.0.0.1:$1"; exit 1
}

ensure_postgres() {
  answers 5432 && return 0
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local fresh=""
  if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    local ver; ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
    log "creating cluster $ver/main"
    pg_createcluster "$ver" main >&2
    fresh=1
  fi
  local ver; ver=$(pg_lsclusters -h | awk 'NR==1{print $1}')
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  # Tests and `make run` connect as postgres over TCP without a password;
  # allow that on loopback only (idempotent).
  if [ -f "$hba" ] && ! grep -q "clientiq-loopback-trust" "$hba"; then
    log "allowing trust auth on loopback in $hba"
    { echo "host all all 127.0.0.1/32 trust # clientiq-loopback-trust"
      echo "host all all ::1/128 trust # clientiq-loopback-trust"
      cat "$hba"; } > "$hba.new" && mv "$hba.new" "$hba"
    chown postgres:postgres "$hba" 2>/dev/null || true
  fi
  log "starting PostgreSQL $ver/main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >&2 || true
  wait_for 5432 PostgreSQL
  [ -n "$fresh" ] && log "PostgreSQL $ver ready" || true
}

ensure_redis() {
  answers 6379 && return 0
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2
  wait_for 6379 Redis
}

# The browser test in internal/playground drives /usr/bin/chromium headless;
# it is a program, not a service, so there is nothing to start.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  apt_install chromium
  [ -x /usr/bin/chromium ] || { log "chromium installed but /usr/bin/chromium is missing"; exit 1; }
}

# The email tests start their own Mailpit processes on free ports
# (internal/mailtest); like Chromium it is a program to install, not a
# service to start. mailtest looks on PATH, then in GOBIN or GOPATH/bin,
# where go install puts it.
MAILPIT_VERSION=v1.33.1
ensure_mailpit() {
  command -v mailpit >/dev/null && return 0
  command -v go >/dev/null || { log "go is not on PATH: cannot install mailpit"; exit 1; }
  local bin; bin=$(go env GOBIN)
  [ -n "$bin" ] || bin="$(go env GOPATH | cut -d: -f1)/bin"
  [ -x "$bin/mailpit" ] && return 0
  log "installing mailpit $MAILPIT_VERSION into $bin"
  GOFLAGS= GOBIN="$bin" go install "github.com/axllent/mailpit@$MAILPIT_VERSION" >&2
  [ -x "$bin/mailpit" ] || { log "go install left no $bin/mailpit"; exit 1; }
}

# The scaling test (cmd/clientiq/scale_test.go) runs three servers through
# a PgBouncer in transaction pooling mode that it starts itself, with its own
# ini file on a free port; like Mailpit it is a program to install, not a
# service to start. Debian's package would start a system instance on 6432
# and enable it at boot: a policy-rc.d answering 101 (the Debian way to say
# "do not start services") keeps the postinst from starting it, and when we
# installed it we also disable it at boot.
ensure_pgbouncer() {
  [ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null && return 0
  is_root || { log "pgbouncer is missing and we are not root: install it (apt-get install pgbouncer)"; exit 1; }
  local policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install pgbouncer
  [ -x /usr/sbin/pgbouncer ] || { log "pgbouncer installed but /usr/sbin/pgbouncer is missing"; exit 1; }
  update-rc.d pgbouncer disable >/dev/null 2>&1 || true
  deb-systemd-helper disable pgbouncer.service >/dev/null 2>&1 || true
}

case "${1:-all}" in
  postgres) ensure_postgres ;;
  redis) ensure_redis ;;
  chromium) ensure_chromium ;;
  mailpit) ensure_mailpit ;;
  pgbouncer) ensure_pgbouncer ;;
  all) ensure_postgres; ensure_redis; ensure_chromium; ensure_mailpit; ensure_pgbouncer ;;
  *) echo "usage: $0 [all|postgres|redis|chromium|mailpit|pgbouncer]" >&2; exit 2 ;;
esac
