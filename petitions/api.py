"""The petitions app's endpoints of the API v1: petitions and the steps of the loop, categories, dashboard.

Views parse JSON, call the same selectors and services as the pages, and render. Scope is each
model's declared scope (``governance.access``), every rule from ``services``/``workflow``; their
refusals become status codes in ``governance.api.errors.exception_handler``. The per-step endpoints
are generated from ``steps.STEPS``, as the pages' action forms are.
"""

import re
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from governance.access import restrict
from governance.api.errors import Unprocessable, error_responses, validation_error_serializer
from governance.api.fields import (
    MAX_ID,
    QuerySerializer,
    StrictBooleanField,
    StrictCharField,
    StrictPrimaryKeyRelatedField,
    StrictSlugRelatedField,
)
from governance.api.pagination import Pagination
from governance.api.throttling import WriteRateThrottle
from governance.api.views import LIST_ERRORS, ScopedListView
from governance.models import Department, User
from grids.identity import mask_name, mask_phone
from grids.models import Grid, Household
from parties.models import Kind

from . import idempotency, services, steps
from .filters import PetitionFilterSet
from .metrics import COUNTS, PRESETS, RATES, WEEKLY_COUNTS, dashboard_for, period
from .models import (
    Category,
    Channel,
    CoordinateSystem,
    Petition,
    PetitionEvent,
    Priority,
    Satisfaction,
    ServiceArea,
    Status,
)
from .selectors import petition_detail_for, petition_list_for, reporter_phone_visible
from .steps import NOTE_MAX, STEPS

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX}}}")

# --------------------------------------------------------------------------------------- answers


@extend_schema_field(OpenApiTypes.STR)
class ReporterPhoneField(serializers.Field):
    """The resident's phone: whole only where the serializer's context says so (PIPL), else masked."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, petition: Petition) -> str:
        whole = self.context.get("phone_whole")
        shown = whole(petition) if callable(whole) else bool(whole)
        return petition.reporter_phone if shown else mask_phone(petition.reporter_phone)


@extend_schema_field(OpenApiTypes.STR)
class ReporterNameField(serializers.Field):
    """The resident's name: whole exactly where the phone is (the same context), else 张**."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, petition: Petition) -> str:
        whole = self.context.get("phone_whole")
        shown = whole(petition) if callable(whole) else bool(whole)
        return petition.reporter_name if shown else mask_name(petition.reporter_name)


def _moment(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(read_only=True, **kwargs)


class NullIfBlankChoiceField(serializers.ChoiceField):
    def to_representation(self, value: Any) -> Any:
        return None if value == "" else super().to_representation(value)


class PetitionSerializer(serializers.Serializer):
    """A petition: what was reported, where it stands, and its deadlines.

    Declared field by field rather than derived from the model: a ModelSerializer rebuilds its
    fields from the model's metadata for every instance, which is most of an intake's CPU time.
    """

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    grid = serializers.CharField(source="grid.code", read_only=True, help_text="The grid's code.")
    category = serializers.CharField(source="category.code", read_only=True, help_text="The category's code.")
    department = serializers.CharField(
        source="department.code", read_only=True, allow_null=True, help_text="The department's code, once dispatched."
    )
    household = serializers.IntegerField(
        source="household_id", read_only=True, allow_null=True, help_text="The household's id, if about one."
    )
    reporter_name = ReporterNameField(
        help_text="Masked (张**) where the phone is masked: in lists, and for users whose chain scope "
        "does not cover the petition."
    )
    reporter_phone = ReporterPhoneField(
        help_text="Masked (138****5678), except in the answer to its registration and in the petition's "
        "detail for users whose chain scope covers it (each such viewing is recorded)."
    )
    registered_at = _moment()
    dispatched_at = _moment(allow_null=True)
    accepted_at = _moment(allow_null=True)
    resolved_at = _moment(allow_null=True)
    closed_at = _moment(allow_null=True)
    accept_due = _moment(allow_null=True, help_text="Accept (签收) by; set on dispatch.")
    resolve_due = _moment(allow_null=True, help_text="Resolve (办结) by.")
    follow_up_due = _moment(allow_null=True, help_text="Follow up (回访) by; set on resolution.")
    current_due = _moment(allow_null=True, help_text="The deadline of the current stage; null once closed.")
    overdue = serializers.SerializerMethodField(help_text="Open and past the deadline of its current stage.")
    resolved_on_grid = serializers.BooleanField(read_only=True)
    result = serializers.CharField(read_only=True)
    rehandle_count = serializers.IntegerField(
        read_only=True, help_text="Times reopened after a dissatisfied follow-up."
    )
    escalated = serializers.BooleanField(read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True, help_text="How it reached the grid.")
    place = serializers.CharField(read_only=True, help_text="Where, in words.")
    latitude = serializers.FloatField(read_only=True, allow_null=True, help_text="As it came, in coordinate_system.")
    longitude = serializers.FloatField(read_only=True, allow_null=True, help_text="As it came, in coordinate_system.")
    coordinate_system = NullIfBlankChoiceField(
        choices=CoordinateSystem.choices, read_only=True, allow_null=True, help_text="null without a point."
    )

    def get_overdue(self, petition: Petition) -> bool:
        return petition.is_overdue


class PetitionEventSerializer(serializers.ModelSerializer[PetitionEvent]):
    from_status = NullIfBlankChoiceField(
        choices=Status.choices, allow_null=True, read_only=True, help_text="null for the registration."
    )
    action = serializers.CharField(
        read_only=True,
        help_text="register, dispatch, accept, return, resolve, resolve_on_grid, follow_up, "
        "follow_up_unreached, reopen, reopen_on_grid, cancel (more may come).",
    )
    actor: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = PetitionEvent
        fields = ["action", "from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields


class PetitionDetailSerializer(PetitionSerializer):
    """A petition with its timeline, oldest step first."""

    events = PetitionEventSerializer(many=True, read_only=True)


# -------------------------------------------------------------------------------------- requests


def _note(**kwargs: Any) -> StrictCharField:
    return StrictCharField(max_length=NOTE_MAX, allow_blank=True, trim_whitespace=False, **kwargs)


class PetitionCreateSerializer(serializers.Serializer):
    """What a hotline or a worker reports. Rules (scope, phone format, household) are the service's."""

    grid = StrictSlugRelatedField(
        slug_field="code",
        queryset=Grid.objects.all(),
        help_text="The grid's code (GET /api/v1/grids/).",
        error_messages={"does_not_exist": gettext_lazy("No grid has the code {value}.")},
    )
    category = StrictSlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        help_text="The category's code (GET /api/v1/categories/).",
        error_messages={"does_not_exist": gettext_lazy("No category has the code {value}.")},
    )
    title = StrictCharField(max_length=Petition._meta.get_field("title").max_length)
    description = StrictCharField(max_length=Petition._meta.get_field("description").max_length)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    reporter_name = StrictCharField(
        max_length=Petition._meta.get_field("reporter_name").max_length, required=False, allow_blank=True
    )
    # The service checks the format and says what a valid number looks like.
    reporter_phone = StrictCharField(max_length=20, required=False, allow_blank=True)
    household = StrictPrimaryKeyRelatedField(
        queryset=Household.objects.select_related("building"),
        required=False,
        allow_null=True,
        help_text="The household's id, if the request is about one household of the grid.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.VISIT)
    place = StrictCharField(max_length=Petition._meta.get_field("place").max_length, required=False, allow_blank=True)
    # Both or neither, with the system they came in (GCJ-02 from Chinese map apps); checked by the service.
    latitude = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-90, max_value=90)
    longitude = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-180, max_value=180
    )
    coordinate_system = serializers.ChoiceField(choices=CoordinateSystem.choices, required=False, allow_blank=True)


def _step_field(field: steps.Field) -> serializers.Field:
    help_text: dict[str, Any] = {"help_text": field.help_text} if field.help_text else {}
    optional: dict[str, Any]
    if field.kind == "text":
        optional = {} if field.required else {"required": False, "default": ""}
        return _note(**optional, **help_text)
    if field.kind == "department":
        return StrictSlugRelatedField(
            slug_field="code",
            queryset=Department.objects.all(),
            error_messages={"does_not_exist": gettext_lazy("No department has the code {value}.")},
            **help_text,
        )
    if field.kind == "date":
        return serializers.DateField(**help_text)
    if field.kind == "yes_no":
        optional = {} if field.required else {"required": False, "allow_null": True, "default": None}
        return StrictBooleanField(**optional, **help_text)
    return serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_blank=True, default="", **help_text
    )


def _step_serializer(body: steps.Body) -> type[serializers.Serializer]:
    declared = {field.name: _step_field(field) for field in body.fields}
    return type(f"{body.name}Serializer", (serializers.Serializer,), declared)


# One serializer per body (return and cancel share ``Reason``), as the schema names them.
STEP_BODIES: dict[str, type[serializers.Serializer]] = {
    step.body.name: _step_serializer(step.body) for step in STEPS.values()
}


# ----------------------------------------------------------------------------------------- views

_READ_ERRORS = error_responses(401, 404)
_STEP_ERRORS = error_responses(401, 403, 404, 409, 429)
def _step_action_name(step: steps.Step) -> str:
    # Not ``dispatch``: that is the view's own request dispatcher.
    return f"step_{step.name.replace('-', '_')}"


WRITE_ACTIONS = frozenset({"create", *(_step_action_name(step) for step in STEPS.values())})


def _phone_whole(user: Any) -> Callable[[Petition], bool]:
    # One PIPL rule for the page and the API (selectors.reporter_phone_visible), asked once per
    # petition for the name and the phone together: one viewing, one log row.
    answers: dict[int, bool] = {}

    def whole(petition: Petition) -> bool:
        if petition.pk not in answers:
            answers[petition.pk] = reporter_phone_visible(user, petition)
        return answers[petition.pk]

    return whole


@extend_schema(tags=["petitions"])
class PetitionViewSet(viewsets.GenericViewSet):
    """Petitions (诉求) and their closed loop. 404 for a petition missing or outside the scope."""

    serializer_class = PetitionSerializer
    pagination_class = Pagination
    # Declared for the schema (the filter parameters); the filtering itself is ``petition_list_for``.
    filter_backends = [DjangoFilterBackend]
    filterset_class = PetitionFilterSet

    def get_queryset(self) -> QuerySet[Petition]:
        return restrict(self.request.user, Petition.objects.all())

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action in WRITE_ACTIONS:
            return [WriteRateThrottle()]
        return super().get_throttles()

    @extend_schema(
        summary="List petitions",
        parameters=[
            OpenApiParameter("node", int, description="Only petitions on grids under this chain node (its id)."),
            OpenApiParameter(
                "overdue", bool, description="true: open and past the current stage's deadline; false: not."
            ),
            OpenApiParameter("grid", str, description="A grid's code."),
            OpenApiParameter("department", str, description="A department's code."),
            OpenApiParameter("category", str, description="A category's code."),
            OpenApiParameter("q", str, description="The petition's number, or words of its title."),
        ],
        responses={
            200: PetitionSerializer(many=True),
            400: validation_error_serializer(
                "PetitionFilterValidationError", [*PetitionFilterSet.base_filters, "page", "page_size"]
            ),
            **_READ_ERRORS,
        },
    )
    def list(self, request: Request) -> Response:
        """The petitions in the user's scope, newest first; the resident's phone is masked in lists."""
        _check_query_types(request.query_params)
        filterset, queryset = petition_list_for(request.user, request.query_params)
        if filterset.is_bound and not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(queryset)
        data = PetitionSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="Register a petition",
        request=PetitionCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="A key of your choice (e.g. a UUID), at most 255 characters. A retry with the "
                "same key and body returns the first answer (same id) and creates nothing; the same key "
                "with another body is refused with 422. Keys are per user and kept at least 24 hours.",
                pattern=f"^{IDEMPOTENCY_KEY.pattern}$",
            )
        ],
        responses={
            201: PetitionSerializer,
            400: validation_error_serializer(
                "PetitionCreateValidationError", [*PetitionCreateSerializer().fields, IDEMPOTENCY_HEADER]
            ),
            **error_responses(401, 403, 422, 429),
        },
    )
    def create(self, request: Request) -> Response:
        """Log a resident's request on a grid in the user's scope (网格吹哨)."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            status_code, body = self._register(request)
            return Response(body, status=status_code)
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise ValidationError(
                {
                    IDEMPOTENCY_HEADER: [
                        _("Use a key of 1 to %(max)d visible ASCII characters, e.g. a UUID.")
                        % {"max": IDEMPOTENCY_KEY_MAX}
                    ]
                }
            )
        try:
            outcome = idempotency.run_once(
                user=request.user,
                key=key,
                fingerprint=idempotency.fingerprint(request.data),
                produce=lambda: self._register(request),
            )
        except idempotency.KeyReused as exc:
            raise Unprocessable(
                _("This Idempotency-Key was already used with a different request body.")
            ) from exc
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(outcome.body, status=outcome.status_code, headers=headers)

    def _register(self, request: Request) -> tuple[int, dict[str, Any]]:
        serializer = PetitionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        petition = services.petition_register(actor=_user(request), **serializer.validated_data)
        # The user just typed the phone in, on a grid in their scope: it is shown back whole.
        return status.HTTP_201_CREATED, dict(PetitionSerializer(petition, context={"phone_whole": True}).data)

    @extend_schema(summary="A petition with its timeline", responses={200: PetitionDetailSerializer, **_READ_ERRORS})
    def retrieve(self, request: Request, pk: str) -> Response:
        """The petition with ``events`` (who did what, when, from which status to which)."""
        petition = petition_detail_for(request.user, _petition_id(pk))
        context = {"phone_whole": _phone_whole(request.user)}
        return Response(PetitionDetailSerializer(petition, context=context).data)

    def _step(self, request: Request, pk: str, step: steps.Step) -> Response:
        serializer = STEP_BODIES[step.body.name](data=request.data)
        serializer.is_valid(raise_exception=True)
        petition = step.run(actor=_user(request), petition_id=_petition_id(pk), data=serializer.validated_data)
        # Masked here: the phone is shown whole (and the viewing recorded) only where it is asked for.
        return Response(PetitionSerializer(petition).data)


def _step_endpoint(step: steps.Step) -> Callable[..., Response]:
    """``POST /api/v1/petitions/{id}/<step>/``: the body of ``step``, its service, the petition back."""
    body = STEP_BODIES[step.body.name]

    def endpoint(self: PetitionViewSet, request: Request, pk: str) -> Response:
        return self._step(request, pk, step)

    endpoint.__name__ = _step_action_name(step)
    endpoint.__doc__ = step.description
    schema = extend_schema(
        summary=step.summary,
        request=body,
        responses={
            200: PetitionSerializer,
            400: validation_error_serializer(f"{step.body.name}ValidationError", list(body().fields)),
            **_STEP_ERRORS,
        },
    )
    return schema(action(detail=True, methods=["post"], url_path=step.name, url_name=step.name)(endpoint))


for _step_spec in STEPS.values():
    setattr(PetitionViewSet, _step_action_name(_step_spec), _step_endpoint(_step_spec))


# How a boolean reads in a query string; django-filter takes anything else as "no filter".
_BOOLEANS = frozenset({"true", "false", "True", "False", "1", "0"})


def _check_query_types(params: Any) -> None:
    """400 for filter values of the wrong type, which the filters would otherwise silently ignore."""
    errors = {}
    overdue = params.get("overdue")
    if overdue is not None and overdue not in _BOOLEANS:
        errors["overdue"] = [_("Enter true or false.")]
    node = params.get("node")
    if node is not None and not re.fullmatch(r"[+-]?[0-9]+", node):
        errors["node"] = [_("Enter the id of a chain node.")]
    satisfied = params.get("satisfied")
    if satisfied is not None and satisfied not in _BOOLEANS:
        errors["satisfied"] = [_("Enter true or false.")]
    for key in ("status", "stage", "outcome", "since", "until", "channel", "queue"):
        if params.get(key) == "":
            errors[key] = [_("Give a value or leave the parameter out.")]
    if errors:
        raise ValidationError(errors)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User), "authenticated by the permission class"
    return user


def _petition_id(pk: str) -> int:
    """The id in the path; anything that is not one is a petition that does not exist (404)."""
    try:
        value = int(pk)
    except ValueError as exc:
        raise Http404 from exc
    if not 0 < value <= MAX_ID:
        raise Http404
    return value


# ------------------------------------------------------------------------------------- categories


class CategorySerializer(serializers.ModelSerializer[Category]):
    default_department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Category
        fields = ["code", "name", "service_area", "default_department"]


@extend_schema(responses={200: CategorySerializer(many=True), **LIST_ERRORS}, tags=["reference"])
class CategoryListView(ScopedListView):
    """The categories in use, with the service area and the department they go to by default."""

    serializer_class = CategorySerializer
    base_queryset = Category.objects.filter(is_active=True).select_related("default_department")


# -------------------------------------------------------------------------------------- dashboard


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
    grid = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A grid in the user's scope (wins over `node`)."
    )
    period = serializers.ChoiceField(
        required=False,
        choices=list(PRESETS),
        help_text="This week, month, quarter or year up to today (wins over `since` and `until`).",
    )


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
                fields={
                    **place,
                    "kind": serializers.ChoiceField(choices=Kind.choices),
                    **figures,
                    "level": serializers.ChoiceField(
                        choices=["node", "grid"], help_text="A chain node, or a grid (then `kind` is its branch's)."
                    ),
                    "grid_kind": serializers.ChoiceField(choices=Grid.Kind.choices, required=False),
                },
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
            "previous": inline_serializer(
                name="DashboardPrevious",
                fields={"since": serializers.DateField(), "until": serializers.DateField(), **weekly_figures},
            ),
            "grid": inline_serializer(
                name="DashboardGrid",
                allow_null=True,
                fields={**place, "kind": serializers.ChoiceField(choices=Grid.Kind.choices)},
            ),
            "trail": inline_serializer(
                name="DashboardTrail",
                many=True,
                fields={**place, "kind": serializers.ChoiceField(choices=Kind.choices)},
            ),
            "status_by_area": inline_serializer(
                name="DashboardStatusByArea",
                many=True,
                fields={
                    "service_area": serializers.ChoiceField(choices=ServiceArea.choices),
                    "statuses": inline_serializer(
                        name="DashboardStatusCounts",
                        fields={status: serializers.IntegerField() for status in Status.values},
                    ),
                },
            ),
            "channels": inline_serializer(
                name="DashboardChannel",
                many=True,
                fields={
                    "channel": serializers.ChoiceField(choices=Channel.choices),
                    "name": serializers.CharField(),
                    "registered": serializers.IntegerField(help_text="Registered in the period."),
                    "open": serializers.IntegerField(help_text="Of those, still open now."),
                    "overdue": serializers.IntegerField(help_text="Overdue now, whenever registered."),
                },
            ),
            "overdue_list": inline_serializer(
                name="DashboardOverdue",
                many=True,
                fields={
                    "id": serializers.IntegerField(),
                    "number": serializers.CharField(),
                    "title": serializers.CharField(),
                    "status": serializers.ChoiceField(choices=Status.choices),
                    "due": serializers.DateTimeField(),
                    "overdue_hours": serializers.IntegerField(),
                    "holder": serializers.CharField(),
                },
            ),
            "warnings": inline_serializer(
                name="DashboardWarnings",
                fields={"yellow": serializers.IntegerField(), "red": serializers.IntegerField()},
            ),
            "workers": inline_serializer(
                name="DashboardWorker",
                many=True,
                fields={
                    **place,
                    **{
                        key: serializers.IntegerField()
                        for key in ("registered", "resolved_on_grid", "follow_ups", "own_follow_ups", "overdue")
                    },
                },
            ),
            "as_of": serializers.DateTimeField(
                allow_null=True,
                help_text="When the step figures were last refreshed (at most a minute old); null: counted live.",
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
            400: validation_error_serializer(
                "DashboardQueryValidationError", ["node", "grid", "since", "until", "period"]
            ),
            **error_responses(401, 404),
        },
        tags=["dashboard"],
    )
    def get(self, request: Request) -> Response:
        query = DashboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        # The period's rules (presets, bounds, order, length) are metrics.period's, as on the page.
        since, until = period(data.get("since"), data.get("until"), preset=data.get("period"))
        return Response(
            dashboard_for(request.user, node=data.get("node"), grid=data.get("grid"), since=since, until=until)
        )
