"""Benchmark: the first page of the petition list at the scale of DESIGN.md (1,000,000 petitions).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.petition_lists \\
        [--petitions 1000000] [--size large] [--runs 50] [--fresh] [--explain]

Takes the PostgreSQL server from DATABASE_URL and works in a database of its own,
``wangge_bench_lists`` (or BENCH_DATABASE_NAME, which must start with ``wangge_bench``), so it never
touches test or production data; SQLite is refused. The database is kept between runs: a district
already seeded and petitions already generated are reused, and only the shortfall is added
(``--fresh`` starts again from an empty database).

1. ``seed_demo --size large`` (23 streets and towns, ~3,000 grids) unless a district is there.
2. ``bench.generate_petitions`` up to ``--petitions`` (COPY, a year of simulated timelines).
3. VACUUM ANALYZE of every table, as autovacuum would have done on a live system.
4. For the grid worker (``worker``), the department (``dept`` and the busiest department), and for
   information the street official and the district admin: the first page of ``/petitions/``
   through the real view (Django test client: middleware, session, template), and the selector
   alone (``petition_list_for`` + the paginator's COUNT + the 20 rows), ``--runs`` times each after
   a warm-up; p50 and p95, and the number of queries of one request.
5. Baselines measured in the same run: a bare ``SELECT 1`` round trip and a primary-key fetch
   through the ORM; each figure is printed with its ratio to the ORM baseline.

Target (worker and department pages): p95 ≤ 100 ms with a constant number of queries. Exits 1 if
missed. ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of each page's queries.
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DB = "wangge_bench_lists"
PREFIX = "wangge_bench"
TARGET_P95_MS = 100.0
WARM_UP = 5


@dataclass
class Result:
    name: str
    samples: list[float] = field(default_factory=list)
    queries: int | None = None
    target: bool = False

    def p(self, pct: float) -> float:
        ordered = sorted(self.samples)
        rank = max(1, -(-len(ordered) * pct // 100))  # nearest rank
        return ordered[int(rank) - 1]


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(
            "bench.petition_lists needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/any_database "
            f"(it works in its own database, {DEFAULT_DB}, on that server). SQLite is refused."
        )
    name = os.environ.get("BENCH_DATABASE_NAME", DEFAULT_DB)
    if not name.startswith(PREFIX):
        sys.exit(f"BENCH_DATABASE_NAME must start with {PREFIX}")
    return urlunsplit(parts._replace(path=f"/{name}"))


def _ensure_database(url: str, *, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    for _ in range(WARM_UP):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _count_queries(fn: Callable[[], object]) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def _explain(sqls: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in sqls:
            if not sql.lstrip().upper().startswith("SELECT") or "django_session" in sql:
                continue
            print("\n  " + sql[:400] + ("…" if len(sql) > 400 else ""))
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            for (line,) in cursor.fetchall():
                print("    " + line)


def prepare(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from parties.models import Organization
    from petitions.models import Petition

    from .generate_petitions import generate, status_mix

    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(parent=None).exists():
        from governance.demo.seed import seed_demo

        print(f"seeding the demo district (--size {args.size}) ...", flush=True)
        start = time.perf_counter()
        counts = seed_demo(password=os.urandom(12).hex(), size=args.size, log=lambda s: None)
        print(f"  {counts['grids']:,} grids, {counts['residents']:,} residents in {time.perf_counter() - start:.0f} s")
    have = Petition.objects.count()
    if have < args.petitions:
        print(f"generating {args.petitions - have:,} petitions (have {have:,}) ...", flush=True)
        generate(args.petitions - have)
    # Every table: the seeded chain and accounts too (unanalysed, the planner took a street's 1,541 nodes
    # for one and looped over its workers' figures 981 times).
    print("VACUUM ANALYZE ...", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"petitions: {Petition.objects.count():,}  by status: {status_mix()}")


def measure(args: argparse.Namespace) -> list[Result]:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from governance.models import User
    from petitions.models import Petition
    from petitions.selectors import petition_list_for

    busiest = (
        Petition.objects.order_by().exclude(department=None).values("department_id")
        .annotate(n=Count("id")).order_by("-n").first()
    )
    people: list[tuple[str, User, bool]] = [
        ("worker (one grid branch)", User.objects.get(username="worker"), True),
        ("dept (housing)", User.objects.get(username="dept"), True),
    ]
    if busiest:
        staff = User.objects.filter(role=User.Role.DEPARTMENT, department_id=busiest["department_id"])
        user = staff.order_by("id").first()
        if user and user.username != "dept" and user.department is not None:
            people.append((f"dept (busiest: {user.department.code}, {busiest['n']:,})", user, True))
    people += [
        ("official (a street) [info]", User.objects.get(username="official"), False),
        ("admin (whole district) [info]", User.objects.get(username="admin"), False),
    ]

    results: list[Result] = []
    with connection.cursor() as cursor:
        results.append(Result("baseline: SELECT 1", _time(lambda: cursor.execute("SELECT 1"), args.runs), 1))
    some_ids = list(Petition.objects.order_by("?").values_list("id", flat=True)[: args.runs + WARM_UP])
    ids = iter(some_ids * 2)
    results.append(
        Result("baseline: ORM pk fetch", _time(lambda: Petition.objects.get(pk=next(ids)), args.runs), 1)
    )

    url = reverse("petitions:list")
    for label, user, target in people:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

        def page(client: Client = client) -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def selector(user: User = user) -> None:
            from django.core.paginator import Paginator

            _filterset, queryset = petition_list_for(user, {"q": ""})
            rows = list(Paginator(queryset, 20).get_page(1).object_list)
            assert rows or not Petition.objects.exists()

        n_page, sqls = _count_queries(page)
        n_sel, _ = _count_queries(selector)
        results.append(Result(f"page     {label}", _time(page, args.runs), n_page, target))
        results.append(Result(f"selector {label}", _time(selector, args.runs), n_sel, target))
        if args.explain:
            print(f"\n== EXPLAIN ANALYZE: {label}")
            _explain(sqls)

    return results


def report(results: list[Result], args: argparse.Namespace) -> bool:
    baseline = next(r for r in results if r.name == "baseline: ORM pk fetch")
    base50, base95 = baseline.p(50), baseline.p(95)
    width = max(len(r.name) for r in results)
    print(f"\n{args.runs} runs each after {WARM_UP} warm-up; ratio = this ÷ the ORM pk fetch (same run)")
    print(f"  {'':{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'queries':>7}  {'×p50':>6}  {'×p95':>6}")
    ok = True
    for r in results:
        p50, p95 = r.p(50), r.p(95)
        verdict = ""
        if r.target:
            met = p95 <= TARGET_P95_MS
            ok &= met
            verdict = f"  target p95 ≤ {TARGET_P95_MS:g} ms: {'met' if met else 'NOT met'}"
        print(
            f"  {r.name:{width}}  {p50:8.2f}  {p95:8.2f}  {r.queries if r.queries is not None else '':>7}"
            f"  {p50 / base50:6.1f}  {p95 / base95:6.1f}{verdict}"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--size", choices=["small", "large"], default="large", help="seed_demo size")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--fresh", action="store_true", help="drop the benchmark database first")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the list's queries")
    args = parser.parse_args()

    url = _database_url()
    _ensure_database(url, fresh=args.fresh)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    prepare(args)
    ok = report(measure(args), args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
