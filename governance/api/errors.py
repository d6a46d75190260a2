"""How the API's errors look: one handler maps the services' refusals to status codes.

400 names the offending fields, 401 without credentials, 403 when the role may not, 404 for what is
missing or outside the scope (the same answer), 409 for a step the current state does not allow, 422
for an Idempotency-Key reused with another body, 429 when throttled or locked out (with Retry-After).
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from governance.exceptions import TransitionNotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This step is not possible now.")
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("The request cannot be processed.")
    default_code = "unprocessable"


def field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ``ValidationError`` as DRF field errors: ``{"field": ["message", ...]}``."""
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in exc.messages]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the refusals the services raise: ValidationError → 400, not allowed now → 409.

    ``Http404`` → 404 and ``PermissionDenied`` → 403 are DRF's own mapping.
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(field_errors(exc))
    elif isinstance(exc, TransitionNotAllowed):
        exc = Conflict(str(exc))
    return drf_exception_handler(exc, context)


class ErrorSerializer(serializers.Serializer):
    """Every error except 400: one human-readable message in the user's language."""

    detail = serializers.CharField()


_validation_error_serializers: dict[str, OpenApiResponse] = {}


def validation_error_serializer(name: str, fields: list[str]) -> OpenApiResponse:
    """The 400 body of an endpoint: each offending field with its messages (``detail`` if unparsable)."""
    if name in _validation_error_serializers:  # one component per name, however many endpoints use it
        return _validation_error_serializers[name]
    declared: dict[str, serializers.Field] = {
        field: serializers.ListField(child=serializers.CharField(), required=False) for field in fields
    }
    declared[api_settings.NON_FIELD_ERRORS_KEY] = serializers.ListField(child=serializers.CharField(), required=False)
    declared["detail"] = serializers.CharField(required=False, help_text="Set when the body is not valid JSON.")
    response = _validation_error_serializers[name] = OpenApiResponse(
        inline_serializer(name=name, fields=declared), description="The offending fields, each with its messages."
    )
    return response


_ERROR_DESCRIPTIONS = {
    401: "No credentials, or an unknown, revoked or deactivated token.",
    403: "The user's role may not take this step.",
    404: "Missing, or outside the user's scope (the same answer for both).",
    409: "The petition's current status does not allow this step; nothing was changed.",
    422: "The Idempotency-Key was used before with a different body.",
    429: "Too many requests; see the Retry-After header (seconds).",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error answers ``codes`` (all but 400 have the ``detail`` shape)."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in codes}




def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL no view matched: JSON ``{"detail": …}`` under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)
