#!/usr/bin/env bash
# Serve the embedded default: gunicorn in the foreground, a Celery worker with embedded beat beside it.
set -euo pipefail
host=$1 port=$2 password=$3
cd "$(dirname "$0")/.."
var=${WANGGE_VAR_DIR:-var}  # as governance/settings.py reads it
mkdir -p "$var/celery/queue" "$var/celery/processed" "$var/celery/control" "$var/log"
.venv/bin/celery -A governance worker -B --concurrency 1 --loglevel INFO \
  --schedule "$var/celerybeat-schedule" >"$var/log/celery.log" 2>&1 &
worker=$!
stop_worker() { kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true; }
trap stop_worker EXIT
# Ctrl-C reaches every process in the terminal's group: gunicorn and the worker stop themselves. A
# stop asked for is a success, so make does not report "Error"; a server that fails on its own
# (the port in use) still does.
interrupted=0
trap 'interrupted=1' INT TERM
cat <<TXT

  Wangge is running:  http://$host:$port/      (admin: http://$host:$port/admin/)
  Demo accounts (password: $password):
    admin     — the whole district, Django admin
    official  — a street official (交通街道)
    worker    — a grid worker in that street
    dept      — staff of 区住房和城乡建设局
  Celery worker + beat log: $var/log/celery.log        Stop with Ctrl-C.

TXT
status=0
.venv/bin/gunicorn governance.wsgi --bind "$host:$port" --workers 2 --access-logfile - --log-level warning \
  || status=$?
if [ "$interrupted" = 1 ]; then
  echo "Wangge stopped."
  exit 0
fi
exit "$status"
