from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Accounts and departments")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .history import scope_historical_models
        from .middleware import session_started

        scope_historical_models()

        # Session bookkeeping, not a business rule: the clocks of the idle and absolute timeouts
        # start with the sign-in, written with the session the sign-in saves anyway.
        user_logged_in.connect(session_started, dispatch_uid="wangge-session-started")

        # django-axes names its admin section after its label ("Axes") and ships no Chinese; its
        # models' names are in ``vendor_strings``.
        apps.get_app_config("axes").verbose_name = _("Sign-in security")
