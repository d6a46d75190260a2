"""Benchmark: the overdue scan and reminder delivery at 1,000,000 petitions with 100,000 overdue.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python -m bench.reminders [--petitions 1000000] [--overdue 100000] \\
        [--deliveries 100000] [--workers 2]

Works in a database of its own, ``wangge_bench_reminders``, kept between runs (the district and the
petitions are built once, by ``bench.petition_lists``' ``prepare``: ``seed_demo --size large`` and
``bench.generate_petitions``); the Celery broker is REDIS_URL (use a db index of your own).

Each run:

1. resets the reminders and makes ``--overdue`` open petitions overdue, each by 0–48 hours (about
   1.5 reminders each with the default ladder: the holder at once, the street after a day);
2. baseline: a raw SQL select of the same overdue rows (what the scan cannot do with less);
3. the first scan: records every due reminder and queues every delivery (on the real broker);
   target ≤ 3 × the raw select. The broker connection is opened first, as in the worker that runs
   the scan every minute (its first scan pays the imports and the connection once);
3a. the write floor: the raw select plus writing exactly the rows the scan wrote, each with one
   set-based statement (the reminders with one INSERT … FROM unnest into a copy of the table with
   its unique key, index and foreign key checked at once; the schedule with one UPDATE), in the same
   run. No scan that records these reminders can take less; ``scan ÷ floor`` is what the scan's own
   work costs on top;
4. a second scan right after: creates nothing; target ≤ 0.1 × the first;
5. ``--deliveries`` deliveries by ``--workers`` Celery worker processes (``-Q reminders``), with the
   department robots' webhook faked on loopback: reminders per second.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .common import print_rows, rate, timed

DB_NAME = "wangge_bench_reminders"
ROOT = Path(__file__).resolve().parent.parent


class _Robot(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"errcode": 0}).encode())

    def log_message(self, *args: Any) -> None:
        pass


def _database_url() -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"bench.reminders needs PostgreSQL: set DATABASE_URL (it works in {DB_NAME}). SQLite is refused.")
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench.reminders needs REDIS_URL (the broker the scan queues on); use a db index of your own")
    return urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def make_overdue(count: int) -> int:
    """Reset the reminders; ``count`` open petitions overdue by 0–48 h, every other open one not."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE petitions_notification, petitions_reminder")
        # Enough open petitions: reopen the most recent closed ones as accepted if needed (raw SQL:
        # this is test data, not a workflow step).
        cursor.execute(
            "SELECT count(*) FROM petitions_petition "
            "WHERE status IN ('registered','dispatched','accepted','resolved')"
        )
        open_count = cursor.fetchone()[0]
        if open_count < count:
            cursor.execute(
                """UPDATE petitions_petition SET status = 'accepted', closed_at = NULL, resolved_at = NULL
                   WHERE id IN (SELECT id FROM petitions_petition WHERE status = 'closed'
                                ORDER BY id DESC LIMIT %s)""",
                [count - open_count],
            )
        cursor.execute(
            """WITH open AS (
                   SELECT id, row_number() OVER (ORDER BY id) AS n FROM petitions_petition
                   WHERE status IN ('registered','dispatched','accepted','resolved'))
               UPDATE petitions_petition p SET
                   current_due = CASE WHEN open.n <= %s
                       THEN now() - (open.n %% 2880) * interval '1 minute'
                       ELSE now() + interval '30 days' END
               FROM open WHERE p.id = open.id""",
            [count],
        )
        cursor.execute("UPDATE petitions_petition SET current_due = NULL "
                       "WHERE status IN ('closed', 'cancelled') AND current_due IS NOT NULL")
        # The overdue scan's schedule, as the workflow writes it: the stage deadline is the next
        # reminder of every open petition (the warnings are not set here), nothing for closed ones.
        cursor.execute("TRUNCATE petitions_reminderschedule")
        cursor.execute(
            "INSERT INTO petitions_reminderschedule (petition_id, next_reminder_at) "
            "SELECT id, current_due FROM petitions_petition WHERE current_due IS NOT NULL"
        )
        cursor.execute("VACUUM ANALYZE petitions_petition")
        cursor.execute("VACUUM ANALYZE petitions_reminderschedule")
        cursor.execute("SELECT count(*) FROM petitions_petition WHERE status IN "
                       "('registered','dispatched','accepted','resolved') AND current_due < now()")
        return int(cursor.fetchone()[0])


def raw_select() -> tuple[float, int]:
    from django.db import connection

    with connection.cursor() as cursor, timed() as t:
        cursor.execute(
            "SELECT p.id, p.status, p.current_due, p.rehandle_count, c.escalate_street_after_hours, "
            "c.escalate_district_after_hours FROM petitions_petition p "
            "JOIN petitions_category c ON c.id = p.category_id "
            "WHERE p.status IN ('registered','dispatched','accepted','resolved') AND p.current_due < now()"
        )
        rows = len(cursor.fetchall())
    return t.seconds, rows


def write_floor(created: list[int]) -> float:
    """The raw select plus one INSERT of the same reminders and one UPDATE of the same schedule rows, into
    copies with the same keys, indexes and foreign keys (temporary tables, dropped by the rollback)."""
    from django.db import connection, transaction

    from petitions.reminders import _bound_cursor

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT petition_id, stage, level, round FROM petitions_reminder WHERE id = ANY(%s)", [created]
        )
        rows = cursor.fetchall()
    petition_ids, stages, levels, rounds = (list(c) for c in zip(*rows, strict=True))
    due = sorted(set(petition_ids))
    seconds = raw_select()[0]
    try:
        with transaction.atomic(), _bound_cursor() as cursor:
            cursor.execute("CREATE TABLE bench_floor_reminder (LIKE petitions_reminder INCLUDING ALL)")
            cursor.execute("ALTER TABLE bench_floor_reminder ADD FOREIGN KEY (petition_id) "
                           "REFERENCES petitions_petition (id)")
            cursor.execute("CREATE TABLE bench_floor_schedule (LIKE petitions_reminderschedule INCLUDING ALL)")
            cursor.execute("INSERT INTO bench_floor_schedule SELECT * FROM petitions_reminderschedule "
                           "WHERE petition_id = ANY(%b)", [due])
            cursor.execute("ANALYZE bench_floor_schedule")
            with timed() as write:
                cursor.execute(
                    """INSERT INTO bench_floor_reminder (petition_id, stage, level, round, created_at, next_attempt_at,
                                                   delivery, attempts, last_error, given_up)
                       SELECT p, s, l, r, now(), now(), '{}'::jsonb, 0, '', false
                       FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::int[]) AS v(p, s, l, r)
                       ON CONFLICT DO NOTHING RETURNING id""",
                    [petition_ids, stages, levels, rounds],
                )
                cursor.fetchall()
                cursor.execute(
                    """UPDATE bench_floor_schedule s SET next_reminder_at = s.next_reminder_at + interval '1 day'
                       FROM unnest(%b::bigint[]) AS v(id) WHERE s.petition_id = v.id""",
                    [due],
                )
            raise _Rollback(write.seconds)
    except _Rollback as done:
        return seconds + done.seconds


class _Rollback(Exception):
    """Not an error: carries the time out of the block it rolls back."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds


def deliver_all(count: int, workers: int, env: dict[str, str]) -> tuple[float, int]:
    """Queue ``count`` pending reminders and time ``workers`` worker processes delivering them."""
    from governance.celery import app
    from petitions.models import Reminder
    from petitions.tasks import queue_deliveries

    app.control.purge()
    ids = list(Reminder.objects.filter(sent_at__isnull=True).order_by("id").values_list("id", flat=True)[:count])
    queue_deliveries(ids)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "governance", "worker", "-Q", "reminders", "--pool", "solo",
             "-n", f"bench{i}@%h", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    start = time.perf_counter()
    try:
        while True:
            sent = Reminder.objects.filter(pk__in=ids, sent_at__isnull=False).count()
            if sent >= len(ids):
                break
            time.sleep(2)
            so_far = time.perf_counter() - start
            print(f"\r  delivered {sent:,}/{len(ids):,} in {so_far:.0f} s ({rate(sent, so_far):.0f}/s)", end="",
                  flush=True)
    finally:
        elapsed = time.perf_counter() - start
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    print()
    return elapsed, len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", choices=["small", "large"], default="large")
    args = parser.parse_args()

    url = _database_url()
    from .petition_lists import _ensure_database, prepare

    _ensure_database(url, fresh=False)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    prepare(argparse.Namespace(petitions=args.petitions, size=args.size))

    from governance.models import Department
    from petitions import reminders
    from petitions.models import Petition, Reminder
    from petitions.tasks import queue_deliveries

    robot = ThreadingHTTPServer(("127.0.0.1", 0), _Robot)
    threading.Thread(target=robot.serve_forever, daemon=True).start()
    Department.objects.update(webhook_url=f"http://127.0.0.1:{robot.server_address[1]}/webhook")

    print(f"making {args.overdue:,} petitions overdue ...", flush=True)
    overdue = make_overdue(args.overdue)
    print(f"petitions: {Petition.objects.count():,}, overdue: {overdue:,}")
    raw_seconds, raw_rows = raw_select()
    raw_seconds = min(raw_seconds, raw_select()[0])  # warm, like the scan's second read

    from petitions.tasks import DELIVERY_QUEUE, deliver_reminders

    deliver_reminders.apply_async(([],), queue=DELIVERY_QUEUE)  # warm: the imports and the connection
    with timed("first scan (record + queue)") as first:
        created = reminders.record_overdue_reminders(queue=queue_deliveries)
    with timed("second scan") as second:
        again = reminders.record_overdue_reminders(queue=queue_deliveries)
    with timed("the write floor"):
        floor = write_floor(created)
    rows = [
        ("raw select of the overdue rows", f"{raw_seconds:.3f} s ({raw_rows:,} rows)"),
        ("first scan: reminders created and queued", f"{first.seconds:.3f} s ({len(created):,} reminders)"),
        ("  ratio to the raw select (target ≤ 3)", f"{first.seconds / raw_seconds:.1f} ×"),
        ("write floor: raw select + one INSERT + one UPDATE", f"{floor:.3f} s"),
        ("  floor ÷ raw select (what no scan can beat)", f"{floor / raw_seconds:.1f} ×"),
        ("  first scan ÷ floor (the scan's own cost)", f"{first.seconds / floor:.1f} ×"),
        ("second scan: created", f"{len(again):,} in {second.seconds:.3f} s"),
        ("  ratio to the first scan (target ≤ 0.1)", f"{second.seconds / first.seconds:.4f} ×"),
    ]
    print()
    print_rows(rows)  # before the deliveries, which take long: the scan's figures stand on their own
    print(flush=True)

    env = {**os.environ, "DATABASE_URL": url, "WANGGE_REMINDER_SWEEP_AFTER_SECONDS": "3600"}
    print(f"delivering {min(args.deliveries, len(created)):,} with {args.workers} workers ...", flush=True)
    delivery_seconds, delivered = deliver_all(args.deliveries, args.workers, env)
    robot.shutdown()
    print()
    print_rows([
        (f"deliveries by {args.workers} workers", f"{delivered:,} in {delivery_seconds:.1f} s = "
                                                   f"{rate(delivered, delivery_seconds):.0f} reminders/s"),
        ("robot messages received", f"{_Robot.received:,}"),
        ("reminders still pending", f"{Reminder.objects.filter(sent_at__isnull=True).count():,}"),
    ])


if __name__ == "__main__":
    main()
