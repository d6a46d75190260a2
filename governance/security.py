"""Sign-in protection and session hygiene hooks that settings name: client address, lockout limits,
API tokens revoked when a password changes.
"""

import datetime as dt
import ipaddress
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.TRUSTED_PROXIES:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for django-axes (``AXES_CLIENT_IP_CALLABLE``).

    The connection's address, unless it is one of ``TRUSTED_PROXIES``: then the address that proxy
    put in its header (``AXES_IPWARE_META_PRECEDENCE_ORDER``, X-Real-IP), read by django-ipware. A
    client that connects directly cannot choose its address by sending the header itself.
    """
    remote = request.META.get("REMOTE_ADDR")
    headers = settings.AXES_IPWARE_META_PRECEDENCE_ORDER
    if not remote or not _trusted(remote) or not any(request.META.get(h) for h in headers):
        return remote
    from ipware import get_client_ip

    forwarded, _routable = get_client_ip(
        request, proxy_count=settings.AXES_IPWARE_PROXY_COUNT, request_header_order=headers
    )
    return forwarded or remote


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """django-axes' ``AXES_FAILURE_LIMIT``: failures allowed for this (username, address) pair.

    ``SIGNIN_FAILURES_PER_ACCOUNT`` per pair; and once the address has failed
    ``SIGNIN_FAILURES_PER_ADDRESS`` times across every username within the cool-off, none (the
    address is locked out for every account, a spray across usernames included).
    """
    from axes.helpers import get_client_ip_address, get_cool_off
    from axes.models import AccessAttempt

    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    attempts = AccessAttempt.objects.filter(ip_address=address)
    cool_off = get_cool_off(request)
    if isinstance(cool_off, dt.timedelta):
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    failed = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
    if failed >= settings.SIGNIN_FAILURES_PER_ADDRESS:
        return 0
    return int(settings.SIGNIN_FAILURES_PER_ACCOUNT)


class RevokeTokensOnPasswordChange:
    """Not a rule on passwords: Django calls ``password_changed`` on each ``AUTH_PASSWORD_VALIDATORS``
    entry whenever a user's password is saved (admin, password change, ``changepassword``). A
    changed password ends every API token at once; Django's session hash ends the sessions.
    """

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        from rest_framework.authtoken.models import Token

        Token.objects.filter(user=user).delete()

    def get_help_text(self) -> str:
        return ""
