"""``GET /healthz``: is the installation working, for monitoring, and nothing else.

Each part answers ``ok`` or ``fail``: the database, the cache, the Celery broker, and beat's
freshness (a heartbeat task that beat sends every ``HEARTBEAT_SECONDS`` and a worker runs has
stamped the cache recently). 200 when every part is ok, 503 otherwise. No version, host name,
error text or count: the answer is safe to expose to the monitoring network.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEARTBEAT_KEY = "wangge:beat:heartbeat"


def record_heartbeat() -> None:
    """Stamp the cache with now: beat sent, and a worker ran, the heartbeat task."""
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def _database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _cache() -> bool:
    probe = "wangge:healthz:probe"
    cache.set(probe, "1", timeout=30)
    return cache.get(probe) == "1"


def _broker() -> bool:
    from governance.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return True


def _beat() -> bool:
    stamp = cache.get(HEARTBEAT_KEY)
    return stamp is not None and time.time() - float(stamp) <= settings.HEARTBEAT_MAX_AGE_SECONDS


def _check(probe: "object") -> str:
    try:
        return "ok" if probe() else "fail"  # type: ignore[operator]
    except Exception:
        return "fail"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check(_database), "cache": _check(_cache), "broker": _check(_broker), "beat": _check(_beat)}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
