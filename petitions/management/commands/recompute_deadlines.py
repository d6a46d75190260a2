from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import User
from petitions.services import petition_recompute_deadlines


class Command(BaseCommand):
    help = "Recompute provisional deadlines once a year's working calendar has been entered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the acting superuser's username (recorded in the timeline)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            actor = User.objects.get(username=options["user"], is_superuser=True, is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"no active superuser named {options['user']!r}") from exc
        changed = petition_recompute_deadlines(actor=actor)
        self.stdout.write(f"{changed} petitions' deadlines recomputed")
