"""Token sign-in (``POST /api/v1/auth/token/``) through django-axes, and its lockout answer."""

import math
from typing import Any

from django.contrib.auth import authenticate, user_logged_in
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from .errors import ErrorSerializer, validation_error_serializer


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class SignInLockedOut(exceptions.Throttled):
    default_detail = gettext_lazy("Too many failed sign-ins for this account from this address.")


def _cool_off_seconds() -> int:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off()
    return int(cool_off.total_seconds()) if cool_off else 0


def _lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return _("Too many failed sign-ins for this account from this address. Try again in %(minutes)d minutes.") % {
        "minutes": minutes
    }


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (``AXES_LOCKOUT_CALLABLE``): 429 with Retry-After.

    JSON ``{"detail": …}`` for the API, the same message as plain text for the browser's sign-in form.
    """
    seconds = _cool_off_seconds()
    message = _lockout_message(seconds)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    else:
        response = HttpResponse(message, status=status.HTTP_429_TOO_MANY_REQUESTS, content_type="text/plain")
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


class ObtainTokenView(APIView):
    """Exchange a username and password for the user's API token (revocable in the admin).

    A wrong username or password is a 400 with the message in ``non_field_errors``.

    The password is checked by ``django.contrib.auth.authenticate`` with the request, so django-axes
    counts failures per username and address: after ``AXES_FAILURE_LIMIT`` failures that pair is
    locked for ``AXES_COOLOFF_TIME`` (429 with Retry-After); other users, and this user from other
    addresses, are not.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: validation_error_serializer("TokenValidationError", ["username", "password"]),
            429: OpenApiResponse(
                ErrorSerializer,
                description="Too many failed sign-ins for this username from this address; "
                "try again after Retry-After seconds.",
            ),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # axes reads and marks the Django request (not DRF's wrapper): AxesMiddleware answers with
        # ``lockout_response`` when it is marked locked out.
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            seconds = _cool_off_seconds()
            raise SignInLockedOut(detail=_lockout_message(seconds), wait=seconds)
        if user is None:
            raise exceptions.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("Unable to sign in with this username and password.")]}
            )
        # A successful sign-in: axes resets the failures, Django records last_login.
        user_logged_in.send(sender=type(user), request=django_request, user=user)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
