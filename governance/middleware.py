"""Simplified Chinese by default, whatever language the browser announces.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a district office's
English-language browser would get an English interface. Here the language is the one the user
chose with the language switch (its cookie), and otherwise ``LANGUAGE_CODE`` (zh-hans). API clients
choose the same way: the ``django_language`` cookie, or ``Accept-Language`` on ``/api/`` requests
(an integration sets its language explicitly; a browser's default does not count there either way).
"""

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
