"""Simplified Chinese by default, whatever language the browser announces.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a district office's
English-language browser would get an English interface. Here the language is the one the user
chose with the language switch (its cookie), and otherwise ``LANGUAGE_CODE`` (zh-hans). API clients
choose the same way: the ``django_language`` cookie, or ``Accept-Language`` on ``/api/`` requests
(an integration sets its language explicitly; a browser's default does not count there either way).
"""

import logging
import sys
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.views import defaults

logger = logging.getLogger(__name__)


class ChineseByDefaultLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if not chosen and request.path.startswith("/api/"):
            chosen = translation.get_language_from_request(request)
        try:
            language = translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class SessionTimeoutMiddleware:
    """Ends a signed-in session idle for ``SESSION_IDLE_SECONDS`` or older than ``SESSION_COOKIE_AGE``.

    The absolute limit is the session's expiry, set once at sign-in and never extended; the idle one
    is checked against the last request seen, recorded at most once a minute (not a write per request).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get(STARTED_KEY)
            seen = session.get(SEEN_KEY, now)
            if started is None:
                session[STARTED_KEY] = session[SEEN_KEY] = now
            elif now - seen > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
            elif now - seen >= 60:
                session[SEEN_KEY] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer to a signed-in user, the API and the admin: any of
    them may carry residents' personal data, which no browser or proxy cache should keep."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith(("/api/", "/admin/")):
            patch_cache_control(response, no_store=True, private=True)
        return response


STARTED_KEY = "wangge_started"
SEEN_KEY = "wangge_seen"


def session_started(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """At sign-in: both clocks start (``user_logged_in`` receiver, see ``GovernanceConfig.ready``)."""
    # Only a session sign-in (the API's token sign-in sends the same signal and has no session).
    if request is not None and hasattr(request, "session") and SESSION_KEY in request.session:
        now = int(time.time())
        request.session[STARTED_KEY] = request.session[SEEN_KEY] = now


# How long a client should wait before trying again while the database is away (a restart).
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 while the database is away: JSON with Retry-After under /api/, a short page otherwise.

    Rendered without the request's context (no session, no user): those need the database too.
    """
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": gettext("The service is briefly unavailable. Please try again in a moment.")}, status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """A view that lost the database (PostgreSQL restarting) answers 503, not Django's HTML 500.

    Failures before the view (the session or the user, in other middleware) reach ``server_error``,
    the project's ``handler500``, which gives the same answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.warning("database unavailable: %r", exception)
            return database_unavailable(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the database being away is a 503 like above; anything else Django's 500."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return database_unavailable(request)
    return defaults.server_error(request)
