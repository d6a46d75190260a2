"""Fixed-window counters in the cache (Redis INCR): the API's write throttle and the public pages' limits.

One counter per key and window, incremented atomically, the same cost at any rate. With the cache
down or hung the caller fails open (``over_limit`` answers None and logs): refusing a resident
because a counter is unreachable would be worse than a burst.
"""

import logging
import math
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"6000/min" → (6000, 60): the number and the window in seconds."""
    number, period = str(rate).split("/")
    return int(number), PERIODS[period[0]]


def count(key: str, duration: int) -> int:
    """Add one to the window's counter ``key`` and return it (raises when the cache is unreachable)."""
    try:
        return int(cache.incr(key))
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=duration + 1):
            return 1
        return int(cache.incr(key))  # another worker started the window a moment ago


def over_limit(name: str, ident: str, rate: str) -> int | None:
    """Count one hit of ``ident`` against ``rate``; the seconds to wait when over it, else None."""
    limit, duration = parse_rate(rate)
    now = time.time()
    window = int(now // duration)
    try:
        hits = count(f"throttle:{name}:{ident}:{window}", duration)
    except Exception as exc:  # redis-py's ConnectionError/TimeoutError, or a file cache's OSError
        logger.warning("rate limit %s unavailable, letting the request through: %r", name, exc)
        return None
    if hits <= limit:
        return None
    return max(1, math.ceil((window + 1) * duration - now))
