from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    name = "parties"
    verbose_name = _("Party organisation chain")

    def ready(self) -> None:
        from . import home  # noqa: F401  (registers the home page panel)
        from .units_home import units_panel  # noqa: F401  (双报到's panel)
