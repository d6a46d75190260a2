import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand

from petitions.idempotency import KEEP, purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than --hours (at least 24): beat also runs it daily at 03:17."

    def add_arguments(self, parser: Any) -> None:
        default = int(KEEP.total_seconds() // 3600)
        parser.add_argument("--hours", type=int, default=default, help=f"keep this many hours (min {default})")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired(older_than=dt.timedelta(hours=options["hours"]))
        self.stdout.write(f"deleted {deleted} idempotency keys")
