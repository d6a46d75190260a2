"""Exit 0 when both the PostgreSQL URL and the Redis URL given answer, else 1."""

import sys

import psycopg
import redis

try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=2).close()
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=2).ping()
except Exception:
    sys.exit(1)
