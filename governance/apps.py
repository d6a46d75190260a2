from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Accounts and departments")

    def ready(self) -> None:
        # django-axes names its admin section after its label ("Axes") and ships no Chinese; its
        # models' names are in ``vendor_strings``.
        apps.get_app_config("axes").verbose_name = _("Sign-in security")
