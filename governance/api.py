"""The REST API v1 shared parts and its reference endpoints (DESIGN.md, "The API contract (v1)").

Here: how errors look (one exception handler maps the services' refusals to status codes), the
write throttle, pagination, the token sign-in (through django-axes), and the read-only lists of the
chain, grids, categories and departments, plus the dashboard. The petition endpoints are in
``petitions.api``. Every queryset starts from ``governance.access.restrict``, as the pages do.

Status codes: 400 names the offending fields, 401 without credentials, 403 when the role may not,
404 for what is missing or outside the scope (the same answer), 409 for a transition the current
status does not allow, 422 for an Idempotency-Key reused with another body, 429 when throttled or
when sign-ins are locked out (with ``Retry-After``).
"""

import datetime as dt
import math
import time
from typing import Any

from django.contrib.auth import authenticate, user_logged_in
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from grids.models import Grid
from parties.models import Kind, Organization
from petitions.metrics import COUNTS, RATES, WEEKLY_COUNTS, dashboard_for
from petitions.models import Category, ServiceArea
from petitions.workflow import TransitionNotAllowed

from .access import restrict
from .models import Department

# Ids are PostgreSQL bigints: a larger number names nothing, and is refused before it reaches SQL.
MAX_ID = 2**63 - 1

# ------------------------------------------------------------------------------------------ errors


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
    """DRF's handler, plus the refusals the services raise: ValidationError → 400, not allowed → 409.

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


# ------------------------------------------------------------------------------ strict JSON fields
# DRF's fields coerce: 12 becomes "12" for a text field, "yes" or 1 becomes true. "JSON in" means the
# types of the schema: a client sending a number where text belongs has a bug we should tell it about.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": gettext_lazy("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSlugRelatedField(serializers.SlugRelatedField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        # What the database cannot even compare (NUL, lone surrogates) matches nothing.
        try:
            ProhibitNullCharactersValidator()(data)
            ProhibitSurrogateCharactersValidator()(data)
        except (DjangoValidationError, serializers.ValidationError):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.encode("unicode_escape").decode())
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


# -------------------------------------------------------------------------------------- throttling


class WriteRateThrottle(BaseThrottle):
    """Writes per user (per token) and fixed window: ``DEFAULT_THROTTLE_RATES[scope]``, e.g. "6000/min".

    DRF's SimpleRateThrottle keeps a list of every request's timestamp in the cache and rewrites it
    on each request: at the thousands a minute a hotline may push, that list is the cost of the
    request, and concurrent workers overwrite each other's lists. A counter per window, incremented
    atomically in the cache (Redis INCR), costs the same at any rate. The rate is read when the
    request comes, not when the class is imported (so ``override_settings`` works).
    """

    scope = "petition_write"

    def _rate(self) -> tuple[int, int]:
        try:
            rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No throttle rate set for {self.scope!r}") from exc
        number, period = str(rate).split("/")
        return int(number), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]

    def allow_request(self, request: Request, view: APIView) -> bool:
        limit, self.duration = self._rate()
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        now = time.time()
        window = int(now // self.duration)
        self.remaining = (window + 1) * self.duration - now
        key = f"throttle:{self.scope}:{ident}:{window}"
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first request
            if cache.add(key, 1, timeout=self.duration + 1):
                return True
            count = cache.incr(key)  # another worker started the window a moment ago
        return count <= limit

    def wait(self) -> float:
        return max(1, math.ceil(self.remaining))


# -------------------------------------------------------------------------------------- pagination


def _is_count(value: str) -> bool:
    return value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID


class Pagination(PageNumberPagination):
    """``count``, ``next``, ``previous``, ``results``; ``page_size`` from 1 to 1,000 (default 20).

    DRF ignores a ``page_size`` it cannot read; here it is a 400 naming the parameter, like any
    other bad input.
    """

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int | None:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not _is_count(value) or int(value) > self.max_page_size:
            message = _("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return int(value)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        # DRF reads ``?page=`` as page 1 and ``?page=x`` as a page that does not exist (404).
        value = request.query_params.get(self.page_query_param)
        if value is not None and value not in self.last_page_strings and not _is_count(value):
            raise exceptions.ValidationError({self.page_query_param: [_("Enter a page number from 1.")]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            elif parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


# ------------------------------------------------------------------------------------------ sign-in


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


# ------------------------------------------------------------------------------- reference lists

_LIST_ERRORS = {
    400: validation_error_serializer("ListQueryValidationError", ["page", "page_size"]),
    **error_responses(401, 404),
}


class ScopedListView(generics.ListAPIView):
    """A paginated list of what the user may see (``access.restrict``)."""

    pagination_class = Pagination
    filter_backends: list[Any] = []
    base_queryset: QuerySet[Any]

    def get_queryset(self) -> QuerySet[Any]:
        return restrict(self.request.user, self.base_queryset.all())


class QuerySerializer(serializers.Serializer):
    """Query parameters. One given empty (``?until=``) is an error, not a parameter left out."""

    def to_internal_value(self, data: Any) -> Any:
        names = [str(field.field_name) for field in self.fields.values()]
        empty = {name: [_("Give a value or leave the parameter out.")] for name in names if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class ChainNodeSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "code", "name", "kind", "parent"]


class ChainQuerySerializer(QuerySerializer):
    # DRF takes declared fields off the class, so this does not hide Field.parent at runtime.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        required=False, min_value=1, max_value=MAX_ID, help_text="Only the children of this node (its id)."
    )


@extend_schema(
    parameters=[ChainQuerySerializer],
    responses={
        200: ChainNodeSerializer(many=True),
        **_LIST_ERRORS,
        400: validation_error_serializer("ChainQueryValidationError", ["parent", "page", "page_size"]),
    },
    tags=["reference"],
)
class ChainListView(ScopedListView):
    """The nodes of the chain in the user's scope, in tree order; ``?parent=`` gives one node's children."""

    serializer_class = ChainNodeSerializer
    base_queryset = Organization.objects.order_by("tree_id", "lft")

    def get_queryset(self) -> QuerySet[Any]:
        query = ChainQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        queryset = super().get_queryset()
        if "parent" in query.validated_data:
            queryset = queryset.filter(parent_id=query.validated_data["parent"])
        return queryset


class GridSerializer(serializers.ModelSerializer[Grid]):
    class Meta:
        model = Grid
        fields = ["code", "name", "kind", "branch"]


@extend_schema(responses={200: GridSerializer(many=True), **_LIST_ERRORS}, tags=["reference"])
class GridListView(ScopedListView):
    """The grids in the user's scope (``branch``: the id of the chain node that leads the grid)."""

    serializer_class = GridSerializer
    base_queryset = Grid.objects.order_by("code")


class CategorySerializer(serializers.ModelSerializer[Category]):
    default_department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Category
        fields = ["code", "name", "service_area", "default_department"]


@extend_schema(responses={200: CategorySerializer(many=True), **_LIST_ERRORS}, tags=["reference"])
class CategoryListView(ScopedListView):
    """The categories in use, with the service area and the department they go to by default."""

    serializer_class = CategorySerializer
    base_queryset = Category.objects.filter(is_active=True).select_related("default_department")


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ["code", "name"]


@extend_schema(responses={200: DepartmentSerializer(many=True), **_LIST_ERRORS}, tags=["reference"])
class DepartmentListView(ScopedListView):
    """The active departments petitions may be dispatched to."""

    serializer_class = DepartmentSerializer
    base_queryset = Department.objects.filter(is_active=True)


# ------------------------------------------------------------------------------------- dashboard

# A dashboard spans weeks, months or a few years; beyond that the weekly series is useless. Dates far
# outside any petition's lifetime are refused before date arithmetic runs into the calendar's ends.
MAX_PERIOD_DAYS = 366 * 5
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


class DashboardQuerySerializer(QuerySerializer):
    node = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A chain node in the user's scope (default: the scope itself).",
    )
    since = serializers.DateField(
        required=False, help_text="First day, included (default: 30 days before `until`); 1900 to 2999."
    )
    until = serializers.DateField(required=False, help_text="Last day, included (default: today); 1900 to 2999.")

    def validate_since(self, value: dt.date) -> dt.date:
        return self._in_range(value)

    def validate_until(self, value: dt.date) -> dt.date:
        return self._in_range(value)

    def _in_range(self, value: dt.date) -> dt.date:
        if not FIRST_DAY <= value <= LAST_DAY:
            raise serializers.ValidationError(
                _("Give a day from %(first)s to %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from petitions.views import DASHBOARD_DAYS

        until = attrs.get("until") or timezone.localdate()
        since = attrs.get("since") or until - dt.timedelta(days=DASHBOARD_DAYS)
        if abs((until - since).days) > MAX_PERIOD_DAYS:
            raise serializers.ValidationError(
                {"since": _("A dashboard covers at most %(days)d days.") % {"days": MAX_PERIOD_DAYS}}
            )
        return {**attrs, "since": since, "until": until}


def _figures_serializer(name: str, counts: tuple[str, ...]) -> dict[str, serializers.Field]:
    return {
        "totals": inline_serializer(
            name=f"{name}Totals", fields={key: serializers.IntegerField() for key in counts}
        ),
        "rates": inline_serializer(
            name=f"{name}Rates",
            fields={key: serializers.FloatField(allow_null=True, min_value=0, max_value=1) for key in RATES},
        ),
    }


def _dashboard_serializer() -> serializers.Serializer:
    figures = _figures_serializer("Dashboard", COUNTS)
    weekly_figures = _figures_serializer("DashboardWeek", WEEKLY_COUNTS)
    place: dict[str, serializers.Field] = {
        "id": serializers.IntegerField(),
        "code": serializers.CharField(),
        "name": serializers.CharField(),
    }
    return inline_serializer(
        name="Dashboard",
        fields={
            "node": inline_serializer(
                name="DashboardNode",
                fields={
                    "id": serializers.IntegerField(allow_null=True),
                    "code": serializers.CharField(allow_null=True),
                    "name": serializers.CharField(),
                    "kind": serializers.ChoiceField(choices=Kind.choices, allow_null=True),
                },
            ),
            "since": serializers.DateField(),
            "until": serializers.DateField(),
            **figures,
            "children": inline_serializer(
                name="DashboardChild",
                many=True,
                fields={**place, "kind": serializers.ChoiceField(choices=Kind.choices), **figures},
            ),
            "departments": inline_serializer(name="DashboardDepartment", many=True, fields={**place, **figures}),
            "categories": inline_serializer(
                name="DashboardCategory",
                many=True,
                fields={**place, "service_area": serializers.ChoiceField(choices=ServiceArea.choices), **figures},
            ),
            "weekly": inline_serializer(
                name="DashboardWeek",
                many=True,
                fields={
                    "week": serializers.CharField(help_text="ISO week, e.g. 2025-W07."),
                    "start": serializers.DateField(),
                    "end": serializers.DateField(),
                    **weekly_figures,
                },
            ),
        },
    )


class DashboardView(APIView):
    """Closure figures for a node's subtree (default: the user's scope) over a period (``petitions.metrics``).

    ``children`` drills down one level (street → communities → grids), ``departments`` is the red and
    black list (best first), ``weekly`` the trend. A rate without a denominator is null.
    """

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={
            200: _dashboard_serializer(),
            400: validation_error_serializer("DashboardQueryValidationError", ["node", "since", "until"]),
            **error_responses(401, 404),
        },
        tags=["dashboard"],
    )
    def get(self, request: Request) -> Response:
        query = DashboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return Response(
            dashboard_for(request.user, node=data.get("node"), since=data["since"], until=data["until"])
        )
