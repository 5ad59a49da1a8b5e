#!/usr/bin/env bash
# Make sure the local PostgreSQL and Redis answer; install (Debian) and start them if not.
# Usage: scripts/ensure-services.sh [redis] [postgres]   (both when no argument)
set -euo pipefail
want="${*:-redis postgres}"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if [[ " $want " == *" redis "* ]]; then
  if ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1); then
    command -v redis-server >/dev/null || apt_install redis-server
    $SUDO mkdir -p /var/lib/redis /var/log/redis
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/notifyme.log
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  redis-cli -h 127.0.0.1 ping >/dev/null && echo "redis: up on 127.0.0.1:6379"
fi

if [[ " $want " == *" postgres "* ]]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 >/dev/null && echo "postgres: up on 127.0.0.1:5432"
  # The suite connects as postgres over TCP; trust auth is the machine's default, a password
  # can be given through DATABASE_URL instead.
fi
