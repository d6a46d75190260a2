"""Benchmark: the admin's spreadsheet import of households and residents, against a PostgreSQL COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_h1 .venv/bin/python -m bench.import_households

Works in its own database on that server (``wangge_bench_import``, or BENCH_DATABASE_NAME), created
and migrated at the start and dropped at the end (``--keep`` keeps it). SQLite is refused.

1. Creates a street, a grid and 500 buildings, and writes a CSV of 50,000 households and 150,000
   residents (one row per resident, the admin's format, valid ID-card numbers and phones).
2. Imports it through ``grids.importers.HouseholdResidentResource.import_data`` with the arguments
   the admin's confirm step passes (dry run off), timed from reading the file to the commit; then
   imports it again and checks every row is skipped and nothing changed; then empties the tables
   and imports once more (the importer's figure is the better of the two imports).
3. Reads back the rows the import stored (households, and residents with the ciphertext and hash as
   stored), empties the two tables, and times a COPY of exactly those rows into them, committed;
   three times, keeping the fastest. The COPY input is prepared before the clock starts: it
   measures the database's bulk path, not Python's.
4. Prints rows per second for both and the ratio importer / COPY (target ≥ 0.1); exits 1 below it.
"""

import argparse
import cProfile
import csv
import os
import pstats
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    bench_database_url,
    drop_database,
    print_rows,
    rate,
    ratio_line,
    recreate_database,
    timed,
)

TARGET_RATIO = 0.1
IMPORT_RUNS = 2
COPY_RUNS = 3
HOUSEHOLD_COLUMNS = "id, building_id, room, kind, linked_node_id"
RESIDENT_COLUMNS = "id, household_id, name, id_card, id_card_hash, phone"
DEFAULT_DB = "wangge_bench_import"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华国红梅志玉海燕文博涵欣怡宇轩浩然梓萱一诺思远雨桐俊"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--residents-per-household", type=int, default=3)
    parser.add_argument("--buildings", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--profile", action="store_true", help="print where the import spends its time")
    args = parser.parse_args()

    url = bench_database_url(
        os.environ.get("BENCH_DATABASE_NAME", DEFAULT_DB), purpose="it compares against PostgreSQL's COPY"
    )
    print(f"bench.import_households: database {url.rsplit('/', 1)[-1]} (created for this run)")
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    try:
        with timed("migrate"):
            call_command("migrate", verbosity=0)
        run(args)
    finally:
        connections.close_all()
        if not args.keep:
            drop_database(url)


def id_cards(count: int) -> list[str]:
    """``count`` distinct valid ID-card numbers (a birth date per thousand, a sequence number)."""
    import datetime as dt

    from grids.identity import id_card_check_digit

    start = dt.date(1940, 1, 1)
    out = []
    for n in range(count):
        born = start + dt.timedelta(days=n // 1000)
        first = f"360602{born:%Y%m%d}{n % 1000:03d}"
        out.append(first + id_card_check_digit(first))
    return out


def write_csv(path: Path, building_codes: list[str], households: int, per_household: int) -> int:
    from grids.importers import COLUMNS, KIND_LABELS

    rng = random.Random(20241125)
    cards = id_cards(households * per_household)
    rooms_per_building = -(-households // len(building_codes))
    labels = [labels[0] for labels in KIND_LABELS.values()]
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for h in range(households):
            building, index = divmod(h, rooms_per_building)
            floor, unit = divmod(index, 4)
            room = f"{floor + 1}{unit + 1:02d}"
            kind = labels[0] if h % 50 else labels[1 + (h // 50) % 2]
            for r in range(per_household):
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                phone = f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}" if r < 2 else ""
                writer.writerow([building_codes[building], room, kind, name, cards[rows], phone])
                rows += 1
    return rows


def setup_buildings(count: int) -> tuple[list[str], Any]:
    from governance.models import User
    from grids.models import Building, Grid
    from parties import services as party_services
    from parties.models import Kind

    street = party_services.organization_create(kind=Kind.STREET, name="基准街道", code="bench-s")
    community = party_services.organization_create(kind=Kind.COMMUNITY, name="基准社区", code="bench-c", parent=street)
    branch = party_services.organization_create(
        kind=Kind.GRID_BRANCH, name="基准网格党支部", code="bench-g", parent=community
    )
    grid = Grid.objects.create(code="bench-grid", name="基准网格", branch=branch)
    Building.objects.bulk_create(
        Building(grid=grid, code=f"bench-b{n:04d}", name=f"{n + 1}栋") for n in range(count)
    )
    admin = User.objects.create(username="bench-admin", is_superuser=True, is_staff=True, role=User.Role.LEADER)
    return [f"bench-b{n:04d}" for n in range(count)], admin


def table_rows() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The household and resident rows as stored (the ID-card column as its ciphertext)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {HOUSEHOLD_COLUMNS} FROM grids_household ORDER BY id")
        households = cursor.fetchall()
        cursor.execute(f"SELECT {RESIDENT_COLUMNS} FROM grids_resident ORDER BY id")
        residents = cursor.fetchall()
    return households, residents


def copy_text(rows: list[tuple[Any, ...]]) -> bytes:
    """COPY's text format for ``rows`` (no value here holds a tab, newline or backslash)."""
    return "".join("\t".join(r"\N" if v is None else str(v) for v in row) + "\n" for row in rows).encode()


def empty_tables() -> None:
    """Empty the household and resident tables; by DELETE and VACUUM, as TRUNCATE would cascade."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM grids_resident")
        cursor.execute("DELETE FROM grids_household")
        cursor.execute("VACUUM ANALYZE grids_resident, grids_household")


def import_file(path: Path, admin: Any, label: str, profiler: cProfile.Profile | None = None) -> tuple[Any, float]:
    """Import ``path`` as the admin's confirm step does: read the stored upload, build the dataset, import."""
    from import_export.formats.base_formats import CSV

    from grids.importers import HouseholdResidentResource

    with timed(label) as clock:
        if profiler:
            profiler.enable()
        dataset = CSV(encoding="utf-8-sig").create_dataset(path.read_text(encoding="utf-8-sig"))
        result = HouseholdResidentResource().import_data(
            dataset,
            dry_run=False,
            raise_errors=False,
            file_name=path.name,
            user=admin,
            retain_instance_in_row_result=True,
        )
        if profiler:
            profiler.disable()
    if result.has_errors() or result.has_validation_errors():
        first = result.invalid_rows[:3] or result.base_errors[:3] or result.row_errors()[:3]
        sys.exit(f"the import reported errors: {first}")
    return result, clock.seconds


def run(args: argparse.Namespace) -> None:
    from django.db import connection, transaction

    from grids.models import Household, Resident

    load = os.getloadavg()
    with timed("buildings"):
        codes, admin = setup_buildings(args.buildings)
    workdir = Path(tempfile.mkdtemp(prefix="wangge-bench-import-"))
    path = workdir / "households.csv"
    with timed(f"write {args.households:,} households x {args.residents_per_household} residents to CSV"):
        rows = write_csv(path, codes, args.households, args.residents_per_household)
    print(f"  CSV: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")

    # Best of two imports into empty tables, as the COPY below is best of three: on a machine
    # others share, each side gets its quietest moment.
    profiler = cProfile.Profile() if args.profile else None
    import_seconds = []
    for attempt in range(1, IMPORT_RUNS + 1):
        if attempt > 1:
            empty_tables()
        result, seconds = import_file(path, admin, f"import ({attempt}/{IMPORT_RUNS}), dry run off", profiler)
        import_seconds.append(seconds)
        totals = {k: v for k, v in result.totals.items() if v}
        counts = (Household.objects.count(), Resident.objects.count())
        if counts != (args.households, rows) or totals != {"new": rows}:
            sys.exit(f"unexpected outcome: {counts[0]} households, {counts[1]} residents, totals {totals}")
        if attempt == 1:
            # The same file again: every row unchanged, nothing written.
            before = table_rows()
            again, reimport_seconds = import_file(path, admin, "import of the same file again")
            again_totals = {k: v for k, v in again.totals.items() if v}
            if again_totals != {"skip": rows} or table_rows() != before:
                sys.exit(f"the re-import changed something: totals {again_totals}")
    path.unlink()
    workdir.rmdir()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    # The same final rows, by COPY into the same (emptied) tables with the same indexes.
    households, residents = table_rows()
    household_copy, resident_copy = copy_text(households), copy_text(residents)
    copy_seconds = []
    for attempt in range(1, COPY_RUNS + 1):
        empty_tables()
        label = f"COPY of the same household and resident rows ({attempt}/{COPY_RUNS})"
        with timed(label) as copied, transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(f"COPY grids_household ({HOUSEHOLD_COLUMNS}) FROM STDIN") as copy:
                copy.write(household_copy)
            with cursor.copy(f"COPY grids_resident ({RESIDENT_COLUMNS}) FROM STDIN") as copy:
                copy.write(resident_copy)
        copy_seconds.append(copied.seconds)
        if table_rows() != (households, residents):
            sys.exit("the COPY did not reproduce the imported rows")

    best_import, best_copy = min(import_seconds), min(copy_seconds)
    import_rate, copy_rate = rate(rows, best_import), rate(rows, best_copy)
    line, met = ratio_line("importer_rate / copy_rate", import_rate, copy_rate, TARGET_RATIO)
    print()
    print_rows(
        [
            ("rows (one per resident)", f"{rows:,} ({args.households:,} households)"),
            ("importer, best of " + str(IMPORT_RUNS), f"{best_import:.1f} s = {import_rate:,.0f} rows/s"),
            ("  all runs", ", ".join(f"{s:.1f} s" for s in import_seconds)),
            ("COPY, best of " + str(COPY_RUNS), f"{best_copy:.2f} s = {copy_rate:,.0f} rows/s"),
            ("  all runs", ", ".join(f"{s:.2f} s" for s in copy_seconds)),
            ("re-import, all skipped", f"{reimport_seconds:.1f} s = {rate(rows, reimport_seconds):,.0f} rows/s"),
            ("load average (1, 5, 15 min)", f"{' '.join(f'{x:.1f}' for x in load)} at the start, "
             f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end, {os.cpu_count()} CPUs"),
        ]
    )
    print(f"  {line}")
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
