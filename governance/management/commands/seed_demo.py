from typing import Any

from django.core.management.base import BaseCommand

from governance.demo import seed


class Command(BaseCommand):
    help = "Build a realistic demo district (idempotent) with the accounts admin, official, worker and dept."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", default="wangge-demo", help="password for the demo accounts")
        parser.add_argument("--size", choices=["small", "large"], default="small")
        parser.add_argument(
            "--no-history", action="store_true", help="leave out the twelve weeks of petitions (a quicker seed)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed.seed_demo(
            password=options["password"], size=options["size"], history=not options["no_history"], log=self.stdout.write
        )
        for name, n in counts.items():
            self.stdout.write(f"{name}: {n}")
