"""Re-encrypt and re-hash every resident's ID-card number under the current personal-data keys.

Rotation: put the new key first in ``WANGGE_DATA_KEYS`` (and/or ``WANGGE_ID_HASH_KEYS``), keep the
old ones after it, restart, run this command, then drop the old keys. Interrupted, it can simply be
run again (rows already under the current keys are skipped), or continued with ``--after``.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from grids.services import residents_rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt and re-hash residents' ID-card numbers under the first key of each list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--after", type=int, default=0, help="resume after this resident id")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, after: int, batch_size: int, **options: Any) -> None:
        examined = rewritten = 0
        while True:
            try:
                batch = residents_rotate_keys(after_pk=after, batch_size=batch_size)
            except ValidationError as exc:
                raise CommandError(f"{' '.join(exc.messages)} (resume with --after {after})") from exc
            if not batch.examined:
                break
            examined += batch.examined
            rewritten += batch.rewritten
            after = batch.last_pk
            self.stdout.write(f"up to resident {after}: {examined} examined, {rewritten} rewritten")
        self.stdout.write(self.style.SUCCESS(f"done: {examined} residents examined, {rewritten} rewritten"))
