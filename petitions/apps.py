from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        # Register the calendar check, the home page panels, the service cards, and the petitions a
        # deliberation came from.
        from . import calendar, cards, home, proposals  # noqa: F401
