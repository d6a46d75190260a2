#!/usr/bin/env bash
# Every check: ruff, mypy, pytest. On PostgreSQL and Redis from DATABASE_URL / REDIS_URL; with neither
# set, the local services on their standard ports if they answer; otherwise SQLite, said plainly.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PYTEST_MARK=()

if [ -z "${DATABASE_URL:-}" ] && [ -z "${REDIS_URL:-}" ]; then
  if $BIN/python scripts/services_answer.py postgres://postgres@127.0.0.1:5432/test redis://127.0.0.1:6379/0; then
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0
    echo "make test: using local PostgreSQL and Redis on their standard ports"
  else
    echo "make test: NO PostgreSQL/Redis answered and none was configured: FELL BACK TO SQLITE."
    echo "make test: tests marked 'postgres' (row locks, concurrency, advisory locks) will NOT run:"
    $BIN/pytest -q --collect-only -m postgres 2>/dev/null | grep '::' | sed 's/^/  not run: /'
    PYTEST_MARK=(-m "not postgres")
  fi
fi
echo "make test: DATABASE_URL=${DATABASE_URL:-sqlite (embedded)} REDIS_URL=${REDIS_URL:-none}"

bash scripts/ensure_system_packages.sh || exit 1

status=0
echo "== ruff"; $BIN/ruff check . || status=1
echo "== mypy"; $BIN/mypy . || status=1
echo "== pytest"; $BIN/pytest "${PYTEST_MARK[@]}" "$@" || status=1
exit $status
