"""The write throttle every app's write endpoints use."""

import logging
import math
import time

from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from governance.ratelimit import count

logger = logging.getLogger(__name__)


class WriteRateThrottle(BaseThrottle):
    """Writes per user (per token) and fixed window: ``DEFAULT_THROTTLE_RATES[scope]``, e.g. "6000/min".

    DRF's SimpleRateThrottle keeps a list of every request's timestamp in the cache and rewrites it
    on each request: at the thousands a minute a hotline may push, that list is the cost of the
    request, and concurrent workers overwrite each other's lists. A counter per window, incremented
    atomically in the cache (Redis INCR), costs the same at any rate. The rate is read when the
    request comes, not when the class is imported (so ``override_settings`` works).

    With the cache down or hung the throttle fails open: the cache's socket timeout (a fraction of a
    second, settings) ends the call, the failure is logged, and the write goes through. Refusing a
    resident's request because a counter is unreachable would be worse than a burst.
    """

    scope = "petition_write"

    def _rate(self) -> tuple[int, int]:
        try:
            rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No throttle rate set for {self.scope!r}") from exc
        number, period = str(rate).split("/")
        return int(number), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]

    def allow_request(self, request: Request, view: APIView) -> bool:
        limit, self.duration = self._rate()
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        now = time.time()
        window = int(now // self.duration)
        self.remaining = (window + 1) * self.duration - now
        key = f"throttle:{self.scope}:{ident}:{window}"
        try:
            return self._count(key) <= limit
        except Exception as exc:  # redis-py's ConnectionError/TimeoutError, or a file cache's OSError
            logger.warning("write throttle unavailable, letting the request through: %r", exc)
            return True

    def _count(self, key: str) -> int:
        return count(key, self.duration)

    def wait(self) -> float:
        return max(1, math.ceil(self.remaining))
