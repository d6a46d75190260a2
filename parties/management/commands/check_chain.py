from typing import Any

from django.core.management.base import BaseCommand, CommandError

from parties.services import chain_differences


class Command(BaseCommand):
    help = "Compare the chain's stored lft/rght/level/tree_id with a rebuild; exit non-zero on any difference."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = chain_differences()
        if problems:
            for line in problems[:200]:
                self.stderr.write(line)
            raise CommandError(f"chain corrupted: {len(problems)} node(s) differ from a rebuild")
        self.stdout.write(self.style.SUCCESS("chain OK"))
