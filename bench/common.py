"""Small helpers shared by the benchmarks: timing, percentiles, rates and ratios, a database of their own.

A benchmark runs as ``DATABASE_URL=postgres://… python -m bench.<name>``. It takes the server from
DATABASE_URL but works in a database of its own (``bench_database_url``), which it may drop and
create (``recreate_database``) and drops when done (``drop_database``); SQLite is refused.
"""

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

BENCH_PREFIX = "wangge_bench"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``pct`` per cent at or below it."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed(label: str | None = None) -> Iterator[Timer]:
    """Time a block; with a label, print ``label ... 1.2 s`` around it."""
    timer = Timer()
    if label:
        print(f"  {label} ...", end="", flush=True)
    start = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - start
        if label:
            print(f" {timer.seconds:.1f} s", flush=True)


def rate(count: int, seconds: float) -> float:
    """Items per second."""
    return count / seconds if seconds > 0 else float("inf")


def print_rows(rows: list[tuple[str, str]]) -> None:
    """Two aligned columns: what, and how much."""
    width = max(len(label) for label, _value in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")


def ratio_line(label: str, numerator: float, denominator: float, target: float) -> tuple[str, bool]:
    """``label = 0.123 (target ≥ 0.1): met`` and whether the target is met."""
    ratio = numerator / denominator if denominator else float("inf")
    met = ratio >= target
    return f"{label} = {ratio:.3f} (target ≥ {target:g}): {'met' if met else 'NOT met'}", met


def bench_database_url(name: str, *, purpose: str) -> str:
    """DATABASE_URL with the database name replaced by the benchmark's own; exits on SQLite or nothing."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            f"This benchmark needs PostgreSQL ({purpose}); DATABASE_URL is "
            f"{'not set' if not url else repr(parts.scheme + '://…')}. "
            "Set DATABASE_URL=postgres://user@host:5432/any_database: the benchmark works in "
            f"its own database, {name}, on that server."
        )
    if not name.startswith(BENCH_PREFIX):
        raise ValueError(f"a benchmark database name starts with {BENCH_PREFIX}")
    return urlunsplit(parts._replace(path=f"/{name}"))


def _server_admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith(BENCH_PREFIX):
        sys.exit(f"refusing to touch database {name!r}: a benchmark's database name starts with {BENCH_PREFIX}")
    return urlunsplit(parts._replace(path="/postgres", scheme="postgresql")), name


def recreate_database(url: str) -> None:
    """Drop and create the benchmark's own database."""
    import psycopg
    from psycopg import sql

    admin_url, name = _server_admin(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    """Drop the benchmark's own database (close Django's connections to it first)."""
    import psycopg
    from psycopg import sql

    admin_url, name = _server_admin(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
