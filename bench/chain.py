"""Benchmark: writes to a large chain tree through parties.services (the admin's locked path).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_bench_chain .venv/bin/python -m bench.chain

Takes the PostgreSQL server from DATABASE_URL but always works in its own database
(``wangge_bench_chain``, or another BENCH_DATABASE_NAME starting with ``wangge_bench``), created
afresh and migrated at the start and dropped at the end (``--keep`` leaves it for a look), so it
never touches test or production data. SQLite is refused.

Builds street A of at least 25,000 nodes (street -> communities -> grid branches -> building
groups -> member households) and a smaller street B, then times, each through
``parties.services``: inserting a member household under the first (leftmost: every node after it
is renumbered) and under the last (rightmost) building group, moving a community with its subtree
to street B and back, and reading the whole subtree of street A and of one community.

Writes are timed in two regimes. ``isolated``: the table is vacuumed (untimed) before each sample,
as autovacuum does between edits that come minutes apart. ``burst``: ten samples back to back
between vacuums, so each write also pays for the dead rows the previous ones left (an admin
dragging node after node; autovacuum catches up within its one-minute nap).
Baselines from the same run: the same insert into a 4-node tree, and a plain single-row INSERT.
Ends with ``chain_differences()`` (what ``check_chain`` runs); exits non-zero if it is not clean
or a write misses the 300 ms p95 target.
"""

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.common import bench_database_url, drop_database, percentile, recreate_database, timed

if TYPE_CHECKING:
    from parties.models import Organization

TARGET_P95_MS = 300.0
DEFAULT_DB = "wangge_bench_chain"
# Vacuum before every Nth write: each write on a clean table, or ten back to back (a busy admin's
# minute: autovacuum runs at most a minute after a big renumbering of this table).
MODES = {"isolated": 1, "burst": 10}


# --- results ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    samples_ms: list[float] = field(default_factory=list)
    write: bool = False

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)


def time_ms(fn: Callable[[], object]) -> float:
    with timed() as timer:
        fn()
    return timer.seconds * 1000


def print_table(results: list[Result]) -> None:
    width = max(len(r.name) for r in results)
    print(f"\n{'operation':<{width}}  {'n':>4}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}")
    print("-" * (width + 38))
    for r in results:
        print(f"{r.name:<{width}}  {len(r.samples_ms):>4}  {r.p50:>8.1f}  {r.p95:>8.1f}  {max(r.samples_ms):>8.1f}")


def print_load(when: str) -> None:
    """The machine's load: timings on a shared machine mean little without it."""
    one, five, fifteen = os.getloadavg()
    print(f"load average at the {when}: {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs")


# --- database set-up ---------------------------------------------------------------------------


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE parties_organization")


# --- the tree ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    communities: int
    branches: int
    groups: int
    households: int

    @property
    def nodes(self) -> int:
        c, b, g, h = self.communities, self.branches, self.groups, self.households
        return 1 + c + c * b + c * b * g + c * b * g * h


def build_street(code: str, name: str, shape: Shape) -> "Organization":
    """Bulk-insert a whole street level by level, numbered in memory before the insert.

    The numbering is the nested-set walk mptt's rebuild does; done here on the objects being built,
    because ``partial_rebuild`` spends about half a millisecond per node composing its bulk UPDATE.
    """
    from django.db import transaction
    from django.db.models import Max

    from parties.models import Kind, Organization

    with transaction.atomic(), Organization.objects.disable_mptt_updates():
        tree_id = (Organization.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
        root = Organization(kind=Kind.STREET, name=name, code=code, tree_id=tree_id, level=0)
        levels: list[list[Organization]] = [[root]]
        children: dict[str, list[Organization]] = {}
        plan = [
            (Kind.COMMUNITY, "社区", "c", shape.communities),
            (Kind.GRID_BRANCH, "网格党支部", "g", shape.branches),
            (Kind.BUILDING_GROUP, "楼栋党小组", "b", shape.groups),
            (Kind.MEMBER_HOUSEHOLD, "党员中心户", "h", shape.households),
        ]
        for depth, (kind, label, letter, per_parent) in enumerate(plan, start=1):
            level = []
            for parent in levels[-1]:
                kids = [
                    Organization(
                        kind=kind,
                        name=f"{parent.name}{i + 1}{label}",
                        code=f"{parent.code}{letter}{i + 1}",
                        parent=parent,
                        tree_id=tree_id,
                        level=depth,
                    )
                    for i in range(per_parent)
                ]
                children[parent.code] = kids
                level += kids
            levels.append(level)
        from parties.services import nested_set_numbers

        for node, lft, rght, _level in nested_set_numbers(root, lambda n: children.get(n.code, [])):
            node.lft, node.rght = lft, rght
        for level in levels:
            for node in level:
                node.parent_id = node.parent.pk if node.parent else None
            Organization.objects.bulk_create(level, batch_size=5000)
    root.refresh_from_db()
    return root


def tiny_street(code: str) -> None:
    """street -> community -> grid branch -> building group, through the services."""
    from parties import services
    from parties.models import Kind

    street = services.organization_create(kind=Kind.STREET, name="小街道", code=code, parent=None)
    community = services.organization_create(kind=Kind.COMMUNITY, name="小社区", code=f"{code}c", parent=street)
    branch = services.organization_create(kind=Kind.GRID_BRANCH, name="小支部", code=f"{code}g", parent=community)
    services.organization_create(kind=Kind.BUILDING_GROUP, name="小党小组", code=f"{code}b", parent=branch)


# --- measurements ------------------------------------------------------------------------------


class Codes:
    def __init__(self) -> None:
        self.n = 0

    def next(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def sample(result: Result, action: Callable[[], Callable[[], object]], *, every: int) -> None:
    """Prepare (untimed: load the objects, as a request would), vacuum every ``every`` samples, time."""
    run = action()
    if len(result.samples_ms) % every == 0:
        vacuum()
    result.samples_ms.append(time_ms(run))


def in_street_a(kind: str, *, last: bool) -> "Organization":
    """The first or last node of ``kind`` in street A as it is now (moves reorder the street)."""
    from parties.models import Organization

    street = Organization.objects.get(code="sa")
    nodes = Organization.objects.filter(tree_id=street.tree_id, kind=kind)
    found = nodes.order_by("-lft" if last else "lft").first()
    assert found is not None
    return found


def insert_under(pick: Callable[[], "Organization"], codes: Codes) -> Callable[[], Callable[[], object]]:
    from parties import services
    from parties.models import Kind

    def prepare() -> Callable[[], object]:
        # A fresh (possibly stale) copy each time, as an admin's request loads it; the service re-reads it.
        parent = pick()
        code = codes.next("new-h")
        return lambda: services.organization_create(
            kind=Kind.MEMBER_HOUSEHOLD, name=f"新党员中心户{code}", code=code, parent=parent
        )

    return prepare


def move_to(node_code: str, target_code: str) -> Callable[[], object]:
    from parties import services
    from parties.models import Organization

    node = Organization.objects.get(code=node_code)
    target = Organization.objects.get(code=target_code)
    return lambda: services.organization_move(node=node, target=target)


def plain_insert(tree_id: int, i: int) -> Callable[[], object]:
    """One row into the same table with no tree bookkeeping, in its own transaction: a write's floor."""
    from django.db import transaction

    from parties.models import Kind, Organization

    def run() -> None:
        with transaction.atomic():
            Organization.objects.bulk_create(
                # numbered as a tree of its own, far from the others; deleted before check_chain
                [Organization(kind=Kind.STREET, name="plain", code=f"plain-{i}", tree_id=tree_id,
                              lft=1, rght=2, level=0)]
            )

    return run


def measure_writes(mode: str, args: Any, codes: Codes) -> list[Result]:
    from parties.models import Kind, Organization

    every = MODES[mode]
    left = Result(f"[{mode}] insert member household, leftmost", write=True)
    right = Result(f"[{mode}] insert member household, rightmost", write=True)
    there = Result(f"[{mode}] move community A -> B (first in A)", write=True)
    back = Result(f"[{mode}] move community B -> A (end of A)", write=True)
    tiny = Result(f"[{mode}] baseline: same insert, 4-node tree")
    plain = Result(f"[{mode}] baseline: plain single-row INSERT")
    in_tiny = insert_under(lambda: Organization.objects.get(code="tiny-insb"), codes)
    for _ in range(3):  # warm-up: connection, caches
        sample(Result("warm-up"), in_tiny, every=1)
    # leftmost: under the first building group, so every node after it is renumbered
    for _ in range(args.samples):
        sample(left, insert_under(lambda: in_street_a(Kind.BUILDING_GROUP, last=False), codes), every=every)
    for _ in range(args.samples):
        sample(right, insert_under(lambda: in_street_a(Kind.BUILDING_GROUP, last=True), codes), every=every)
    for _ in range(args.samples):
        sample(tiny, in_tiny, every=every)
    top = 1_000_000
    for i in range(args.samples):
        sample(plain, lambda i=i: plain_insert(top + i, i), every=every)  # type: ignore[misc]
    Organization.objects.filter(code__startswith="plain-").delete()
    # Each move takes the community that is first in street A at the time: the worst case, as every
    # node after it in A is renumbered. Then each comes back to the end of A.
    moved = []
    for _ in range(args.moves):
        code = in_street_a(Kind.COMMUNITY, last=False).code
        moved.append(code)
        sample(there, lambda code=code: move_to(code, "sb"), every=every)  # type: ignore[misc]
    for code in moved:
        sample(back, lambda code=code: move_to(code, "sa"), every=every)  # type: ignore[misc]
    return [left, right, there, back, tiny, plain]


def measure_reads(label: str, code: str, samples: int) -> Result:
    from parties.models import Organization

    node = Organization.objects.get(code=code)
    rows = node.get_descendant_count()
    result = Result(f"read all descendants of {label} ({rows:,} rows)")
    for _ in range(samples):
        result.samples_ms.append(time_ms(lambda: list(node.get_descendants().values_list("id", "name", "kind"))))
    return result


def explain_statements(first_group: str, community_code: str, other_street: str) -> None:
    """EXPLAIN ANALYZE the tree UPDATEs mptt issues for the two costly writes, all rolled back."""
    from django.db import connection, transaction

    from parties import services
    from parties.models import Kind, Organization

    class Rollback(Exception):
        pass

    def show(label: str, action: Callable[[], object]) -> None:
        captured: list[str] = []

        def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            if sql.lstrip().upper().startswith("UPDATE") and "CASE" in sql:
                # EXPLAIN ANALYZE really runs the UPDATE, so it stands in for it.
                with connection.cursor() as c:
                    c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    captured.append("\n".join(r[0] for r in c.fetchall()))
                return None
            return execute(sql, params, many, context)

        vacuum()
        try:
            with transaction.atomic(), connection.execute_wrapper(wrapper):
                action()
                raise Rollback
        except Rollback:
            pass
        print(f"\n--- EXPLAIN (ANALYZE, BUFFERS): {label}")
        for plan in captured:
            print(plan)

    parent = Organization.objects.get(code=first_group)
    show(
        "insert under the first building group (mptt _manage_space)",
        lambda: services.organization_create(kind=Kind.MEMBER_HOUSEHOLD, name="x", code="explain-x", parent=parent),
    )
    community = Organization.objects.get(code=community_code)
    target = Organization.objects.get(code=other_street)
    show(
        "move the first community to the other street (_create_space there, then the inter-tree move)",
        lambda: services.organization_move(node=community, target=target),
    )
    vacuum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communities", type=int, default=30)
    parser.add_argument("--branches", type=int, default=10, help="grid branches per community")
    parser.add_argument("--groups", type=int, default=8, help="building groups per grid branch")
    parser.add_argument("--households", type=int, default=10, help="member households per building group")
    parser.add_argument("--samples", type=int, default=40, help="timed inserts / reads per operation")
    parser.add_argument("--moves", type=int, default=20, help="communities moved (each there and back)")
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the mptt UPDATEs")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark's database when done")
    args = parser.parse_args()

    url = bench_database_url(
        os.environ.get("BENCH_DATABASE_NAME", DEFAULT_DB),
        purpose="the advisory tree locks and the cost of mptt's renumbering are what it measures",
    )
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from parties.models import Organization
    from parties.services import chain_differences

    big = Shape(args.communities, args.branches, args.groups, args.households)
    small = Shape(max(2, args.communities // 3), args.branches, args.groups, args.households)
    args.moves = min(args.moves, big.communities - 1)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]  # type: ignore[index]
    print_load("start")
    print(f"database {connection.settings_dict['NAME']} on {connection.settings_dict['HOST']}, PostgreSQL {version}")
    with timed("migrate a fresh database"):
        call_command("migrate", verbosity=0)
    with timed(f"build street A ({big.nodes:,} nodes)"):
        street_a = build_street("sa", "甲街道", big)
    with timed(f"build street B ({small.nodes:,} nodes)"):
        build_street("sb", "乙街道", small)
    with timed("build the 4-node trees for the baselines"):
        tiny_street("tiny-ins")
    vacuum()
    print(f"  street A: {street_a.get_descendant_count() + 1:,} nodes; all trees: {Organization.objects.count():,}")

    if args.explain:
        explain_statements("sac1g1b1", "sac1", "sb")

    codes = Codes()
    results: list[Result] = []
    for mode in MODES if args.mode == "both" else (args.mode,):
        with timed(f"{mode} writes"):
            results += measure_writes(mode, args, codes)
        vacuum()
    with timed("reads"):
        results.append(measure_reads("street A", "sa", args.samples))
        results.append(measure_reads("one community", f"sac{big.communities}", args.samples))
    print_table(results)
    print_load("end")

    print("\nratios, p50 against the baselines of the same regime:")
    by_mode = {mode: [r for r in results if r.name.startswith(f"[{mode}]")] for mode in MODES}
    for rows in by_mode.values():
        if not rows:
            continue
        tiny, plain = rows[4], rows[5]
        for r in rows[:4]:
            print(
                f"  {r.name}: {r.p50 / tiny.p50:6.1f}x the 4-node-tree insert, "
                f"{r.p50 / plain.p50:6.1f}x a plain INSERT"
            )

    misses = [r for r in results if r.write and r.p95 > TARGET_P95_MS]
    print(f"\ntarget, insert and move p95 <= {TARGET_P95_MS:.0f} ms:")
    for r in results:
        if r.write:
            print(f"  {'MISS' if r in misses else 'pass'}  {r.name}: p95 {r.p95:.0f} ms")

    with timed("check_chain (chain_differences)"):
        problems = chain_differences()
    nodes = Organization.objects.count()
    if not args.keep:
        connection.close()
        drop_database(url)
    if problems:
        print(f"check_chain: {len(problems)} node(s) differ from a rebuild:")
        for line in problems[:20]:
            print("  " + line)
        sys.exit(1)
    print(f"check_chain: clean ({nodes:,} nodes)")
    if misses:
        sys.exit(3)


if __name__ == "__main__":
    main()
