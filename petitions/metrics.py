"""Dashboard metrics (DESIGN.md, "Metrics") over a subtree of the chain and a period: the one module.

The page, its exports, the petition list's "figure" filters and the API all read the figures and
their definitions from here.

Steps are counted from the append-only event log (``PetitionEvent``), each in the period in which it
happened, and measured against the deadline the event recorded: a later reopen, which clears the
petition row's timestamps and sets new deadlines, never changes a period that has ended.

- response rate 响应率: dispatches (and re-dispatches on reopening) in the period whose next step was
  an acceptance by the accept deadline ÷ dispatches in the period whose outcome is known (accepted,
  returned, or past the deadline). One still awaiting acceptance within its deadline is neither a
  success nor a failure yet; it is counted in ``awaiting_acceptance`` and left out of the rate.
- on-time rate 按期办结率 and handled-on-the-grid rate 网格内解决率: over resolutions in the period.
- resolution rate 解决率 and satisfaction rate 满意率: over follow-ups made in the period that reached
  the resident (``FollowUp`` rows are append-only too).
- overdue now 超期: open petitions past the deadline of their current stage, at the moment asked.

The period is a range of dates on the district's calendar (``TIME_ZONE``), both ends included. A rate
whose denominator is zero is ``None``: no figure, rather than a misleading 0 %. Rates are exact
fractions; they are rounded once, where they are shown (``percent``).

The number of queries is constant whatever the number of petitions, grids or child nodes: every
figure comes from a grouped, conditional aggregate; steps are grouped by grid and those rows are
rolled up to the child nodes in Python by their tree position.
"""

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncWeek
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.access import Viewer, get_visible_or_404, restrict, subtree_q
from governance.models import Department, User
from grids.models import Grid
from parties.models import Kind, Organization

from .models import (
    OPEN_STATUSES,
    SATISFIED_LEVELS,
    AreaDailyFigure,
    Category,
    Channel,
    DailyFigure,
    DailyFigureRefresh,
    FollowUp,
    OverdueFigure,
    Petition,
    PetitionEvent,
    RegistrationFigure,
    Status,
    WorkerDailyFigure,
    overdue_q,
)

STEP_COUNTS = (
    "registered",
    "dispatched",
    "awaiting_acceptance",
    "accepted_on_time",
    "resolved",
    "resolved_on_time",
    "resolved_on_grid",
)
PETITION_COUNTS = (*STEP_COUNTS, "overdue")
FOLLOW_UP_COUNTS = ("follow_up_calls", "reached", "solved", "satisfied")
# Added for the assessment (考评): departments' returns, re-handles and approved extensions (延期). New
# keys at the end: the API's contract only grows.
ASSESSMENT_COUNTS = ("returned", "rehandled", "extended")
COUNTS = PETITION_COUNTS + FOLLOW_UP_COUNTS + ASSESSMENT_COUNTS
# "Overdue now" is a snapshot, not something that happened in a week.
WEEKLY_COUNTS = tuple(c for c in COUNTS if c != "overdue")
RATES = ("response_rate", "on_time_rate", "resolution_rate", "satisfaction_rate", "on_grid_rate")
RATES_LABELS = {
    "response_rate": gettext_lazy("response rate"),
    "on_time_rate": gettext_lazy("on-time rate"),
    "resolution_rate": gettext_lazy("resolution rate"),
    "satisfaction_rate": gettext_lazy("satisfaction rate"),
    "on_grid_rate": gettext_lazy("handled on the grid"),
}

# Nodes whose children are nodes that still lead or contain grids; below them the drill-down lists
# grids themselves (a joint branch shows each of its grids).
NODE_CHILDREN_KINDS = frozenset({Kind.STREET, Kind.TOWN})

# Red and black lists (红黑榜): best first by these rates; a row without a figure comes last. A row
# needs at least STANDING_MIN_RESOLVED resolutions in the period to be listed on either.
STANDING = ("on_time_rate", "response_rate", "satisfaction_rate")
STANDING_MIN_RESOLVED = 5
STANDING_LIST_SIZE = 3

# Overdue petitions listed on the dashboard, longest overdue first.
OVERDUE_SHOWN = 20

Counts = dict[str, int]

# The period when none is asked for: the last 30 days.
DEFAULT_DAYS = 30
# A dashboard spans weeks, months or a few years; beyond that the weekly series is useless. Dates far
# outside any petition's lifetime are refused before date arithmetic runs into the calendar's ends.
MAX_PERIOD_DAYS = 366 * 5
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

PRESETS = {
    "week": gettext_lazy("this week"),
    "month": gettext_lazy("this month"),
    "quarter": gettext_lazy("this quarter"),
    "year": gettext_lazy("this year"),
}

# The step filters of the petition list that each figure links to (``petitions_behind``).
STAGES = {
    "registered": gettext_lazy("registered in the period"),
    "dispatched": gettext_lazy("dispatched in the period"),
    "resolved": gettext_lazy("resolved in the period"),
    "followed_up": gettext_lazy("followed up in the period"),
}


def period(
    since: dt.date | None = None, until: dt.date | None = None, *, preset: str | None = None
) -> tuple[dt.date, dt.date]:
    """The dashboard's period, both ends included, for the page, the exports and the API alike.

    ``preset`` (week, month, quarter, year: the current one, up to today) wins over the dates.
    Defaults: until today, since ``DEFAULT_DAYS`` before ``until``. Raises ``ValidationError``
    naming the field: an unknown preset, a day outside 1900–2999, an end before the start, a
    period over five years.
    """
    if preset:
        if preset not in PRESETS:
            raise ValidationError({"period": _("Choose this week, month, quarter or year.")})
        today = timezone.localdate()
        return _preset_start(preset, today), today
    errors: dict[str, str] = {}
    for name, value in (("since", since), ("until", until)):
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            errors[name] = _("Give a day from %(first)s to %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY}
    if errors:
        raise ValidationError(errors)
    until = until or timezone.localdate()
    since = since or until - dt.timedelta(days=DEFAULT_DAYS)
    if until < since:
        raise ValidationError({"until": _("The end of the period is before its start.")})
    if (until - since).days > MAX_PERIOD_DAYS:
        raise ValidationError({"since": _("A dashboard covers at most %(days)d days.") % {"days": MAX_PERIOD_DAYS}})
    return since, until


def _preset_start(preset: str, day: dt.date) -> dt.date:
    if preset == "week":
        return day - dt.timedelta(days=day.weekday())
    if preset == "month":
        return day.replace(day=1)
    if preset == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def previous_period(since: dt.date, until: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before: the figures each one is compared with.

    A whole calendar month, quarter or year (or the part of one up to today) is compared with the
    same days of the one before, so "this month" is set against last month's first days alike.
    """
    if since.day == 1 and (since.month - 1) % 3 == 0 and until.year == since.year:
        months = 12 if since.month == 1 and until.month > 3 else 3 if until.month > since.month else 1
    elif since.day == 1 and until.year == since.year and until.month == since.month:
        months = 1
    else:
        months = 0
    if months:
        start = _shift_months(since, -months)
        day_before = since - dt.timedelta(days=1)
        if (until + dt.timedelta(days=1)).day == 1:  # up to a month's end: the whole period before
            return start, day_before
        return start, min(_shift_months(until, -months), day_before)
    length = until - since + dt.timedelta(days=1)
    return since - length, until - length


def _shift_months(day: dt.date, months: int) -> dt.date:
    month0 = day.year * 12 + day.month - 1 + months
    year, month = divmod(month0, 12)
    for d in range(day.day, 0, -1):
        try:
            return dt.date(year, month + 1, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 1 always exists


def percent(value: float | None) -> str:
    """A rate as people read it (92.7 %), rounded once, here; no figure is "—"."""
    return "—" if value is None else f"{value * 100:.1f}%"


# ------------------------------------------------------------------------------------- definitions

# What the step after a dispatch says about the response: accepted by the accept deadline, or not.
ON_TIME, LATE = 1, 0


def _next_step_outcome() -> Subquery:
    following = PetitionEvent.objects.filter(petition_id=OuterRef("petition_id"), id__gt=OuterRef("id")).order_by("id")
    outcome = Case(
        When(action="accept", due__isnull=False, at__lte=F("due"), then=Value(ON_TIME)),
        default=Value(LATE),
        output_field=IntegerField(),
    )
    return Subquery(following.annotate(outcome=outcome).values("outcome")[:1], output_field=IntegerField())


REGISTERED_Q = Q(action="register")
DISPATCHED_Q = Q(to_status=Status.DISPATCHED)
RESOLVED_Q = Q(action__in=("resolve", "resolve_on_grid"))
RESOLVED_ON_TIME_Q = RESOLVED_Q & Q(due__isnull=False, at__lte=F("due"))
RETURNED_Q = Q(action="return")
REHANDLED_Q = Q(action__in=("reopen", "reopen_on_grid"))
# An extension approved (the street moved the department's resolve deadline), in the period it was approved.
EXTENDED_Q = Q(action="approve_extension")
STEP_Q = REGISTERED_Q | DISPATCHED_Q | RESOLVED_Q | RETURNED_Q | REHANDLED_Q | EXTENDED_Q


def _step_counts(now: dt.datetime) -> dict[str, Count]:
    return {
        "registered": Count("pk", filter=REGISTERED_Q),
        "dispatched": Count("pk", filter=DISPATCHED_Q),
        "awaiting_acceptance": Count(
            "pk", filter=DISPATCHED_Q & Q(outcome__isnull=True, petition__current_due__gte=now)
        ),
        "accepted_on_time": Count("pk", filter=DISPATCHED_Q & Q(outcome=ON_TIME)),
        "resolved": Count("pk", filter=RESOLVED_Q),
        "resolved_on_time": Count("pk", filter=RESOLVED_ON_TIME_Q),
        "resolved_on_grid": Count("pk", filter=Q(action="resolve_on_grid")),
        "returned": Count("pk", filter=RETURNED_Q),
        "rehandled": Count("pk", filter=REHANDLED_Q),
        "extended": Count("pk", filter=EXTENDED_Q),
    }


REACHED_Q = Q(reached=True)
SOLVED_Q = REACHED_Q & Q(solved=True)
SATISFIED_Q = REACHED_Q & Q(satisfaction__in=SATISFIED_LEVELS)
# Named apart from the fields they count (an annotation named ``reached`` would shadow the field).
FOLLOW_UP_AGGREGATES = {
    "follow_up_calls": Count("pk"),
    "reached_calls": Count("pk", filter=REACHED_Q),
    "solved_calls": Count("pk", filter=SOLVED_Q),
    "satisfied_calls": Count("pk", filter=SATISFIED_Q),
}
_FOLLOW_UP_KEYS = {"reached_calls": "reached", "solved_calls": "solved", "satisfied_calls": "satisfied"}


def _bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def petitions_behind(
    *,
    stage: str,
    since: dt.date,
    until: dt.date,
    outcome: str | None = None,
    satisfied: bool | None = None,
    department: str | None = None,
) -> Q:
    """A filter on ``Petition`` for the petitions behind a figure: the list's figure filters.

    ``stage`` is one of ``STAGES``; ``outcome`` ``on_time`` or ``late`` (for dispatches: the response,
    for resolutions: the resolve deadline); ``satisfied`` narrows follow-ups that reached the
    resident; ``department`` (a code) is the department the step concerned, as the figure counts it.
    """
    start, end = _bounds(since, until)
    if stage == "followed_up":
        calls = FollowUp.objects.filter(at__gte=start, at__lt=end)
        if satisfied is not None:
            calls = calls.filter(SATISFIED_Q if satisfied else REACHED_Q & ~Q(satisfaction__in=SATISFIED_LEVELS))
        if department:
            calls = calls.filter(petition__department__code=department)
        return Q(pk__in=calls.values("petition_id"))
    events = PetitionEvent.objects.filter(at__gte=start, at__lt=end)
    if stage == "registered":
        events = events.filter(REGISTERED_Q)
    elif stage == "dispatched":
        events = events.filter(DISPATCHED_Q)
        if outcome:
            events = events.annotate(outcome=_next_step_outcome()).filter(
                outcome=ON_TIME if outcome == "on_time" else LATE
            )
    else:
        events = events.filter(RESOLVED_Q)
        if outcome:
            events = events.filter(RESOLVED_ON_TIME_Q) if outcome == "on_time" else events.exclude(RESOLVED_ON_TIME_Q)
    if department:
        events = events.filter(department__code=department)
    return Q(pk__in=events.values("petition_id"))


# --------------------------------------------------------------------------------------- the answer


@dataclass(frozen=True)
class _Place:
    """Where the dashboard looks: a chain node, a single grid, or the whole district (both None)."""

    node: Organization | None
    grid: Grid | None
    # The ids of the grids under the place, or None for the whole district (and department staff).
    grid_ids: list[int] | None = None
    # Where each of those grids sits in the chain (its branch's tree and lft), read with the ids.
    grid_positions: dict[int, tuple[int, int]] | None = None
    # The chain nodes one level down, for the district (its streets and towns) and a street or town;
    # None where the drill-down lists grids (``_child_nodes``).
    child_nodes: list[Organization] | None = None


def dashboard_for(
    user: Viewer,
    *,
    node: Organization | int | str | None = None,
    grid: Grid | int | str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    """The dashboard figures for ``node``'s subtree or one ``grid`` (default: the user's scope).

    Department staff see their department's petitions across the district; district leadership
    and superusers see the whole district, its children being the streets and towns. A node or grid
    outside the user's scope raises ``Http404``, like a missing one; a bad period raises
    ``ValidationError`` naming the field.

    Returns JSON-serialisable data with the keys ``node``, ``since``, ``until``, ``totals``,
    ``rates``, ``children``, ``departments``, ``categories``, ``weekly`` and, added later,
    ``previous`` (the period before, its totals and rates), ``trail`` (the breadcrumb up to the
    scope), ``grid``, ``status_by_area``, ``channels``, ``overdue_list``, ``warnings`` and ``workers``.
    """
    since, until = period(since, until)
    if not isinstance(user, User) or not user.is_active:
        raise Http404
    place = _dashboard_place(user, node, grid)
    now = timezone.now()
    start, end = _bounds(since, until)

    petitions = _petitions(user, place)
    events = _events(user, place)
    follow_ups = _follow_ups(user, place)

    previous_since, previous_until = previous_period(since, until)
    p_start, p_end = _bounds(previous_since, previous_until)
    as_of = None if user.is_department_staff else _daily_figures_as_of(now)
    if as_of is not None:
        by_grid, by_department, by_category, by_week, previous_rows = _from_daily_figures(
            user, place, petitions, (since, until), (previous_since, previous_until), now
        )
    else:
        by_grid, by_department, by_category, by_week, previous_rows = _from_events(
            events, follow_ups, (start, end), (p_start, p_end), now
        )
    overdue = _overdue_now(place, petitions, now, fast=as_of is not None)
    by_grid += overdue.by_grid
    registrations = _registrations(place, petitions, (since, until), fast=as_of is not None)

    totals = _sum(by_grid, COUNTS)
    previous_totals = _sum(previous_rows, WEEKLY_COUNTS)
    return {
        "node": _node_label(user, place),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": totals,
        "rates": _rates(totals),
        # Department staff: a row only where their department has petitions, not every street of the district.
        "children": _children(place, by_grid, only_with_petitions=user.is_department_staff),
        "departments": _departments(
            by_department, overdue.by_department, user.department_id if user.is_department_staff else None
        ),
        "categories": _categories(by_category, overdue.by_category),
        "weekly": _weekly(since, until, by_week),
        "previous": {
            "since": previous_since.isoformat(),
            "until": previous_until.isoformat(),
            "totals": previous_totals,
            "rates": _rates({**previous_totals, "overdue": 0}),
        },
        "grid": _grid_label(place.grid),
        "trail": _trail(user, place),
        "status_by_area": _status_by_area(registrations),
        "channels": _by_channel(registrations, overdue.by_channel),
        "overdue_list": _overdue_list(petitions, now),
        "warnings": _warnings(petitions, now),
        "workers": _workers(user, place, events, follow_ups, overdue.by_registrar, start, end, fast=as_of is not None),
        # The steps' figures as of this moment (the daily figures, at most a minute old), or null when
        # they were counted live from the event log.
        "as_of": as_of.isoformat() if as_of else None,
    }


Rows = list[dict[str, Any]]
Ranges = tuple[dt.datetime, dt.datetime]

_GRID_KEYS = ("petition__grid_id", "petition__grid__branch__tree_id", "petition__grid__branch__lft")
_DEPARTMENT_KEYS = ("department_id", "department__code", "department__name")
_CATEGORY_KEYS = (
    "petition__category_id",
    "petition__category__code",
    "petition__category__name",
    "petition__category__service_area",
)


def _from_events(
    events: QuerySet[PetitionEvent],
    follow_ups: QuerySet[FollowUp],
    period_: Ranges,
    previous: Ranges,
    now: dt.datetime,
) -> tuple[Rows, Rows, Rows, Rows, Rows]:
    """The plain aggregate: the steps and follow-ups of the period, straight from the event log."""
    start, end = period_
    step_counts = _step_counts(now)
    steps = events.filter(STEP_Q, at__gte=start, at__lt=end).annotate(outcome=_next_step_outcome())
    calls = follow_ups.filter(at__gte=start, at__lt=end)
    by_grid = _grouped(steps, _GRID_KEYS, step_counts) + _grouped(calls, _GRID_KEYS, FOLLOW_UP_AGGREGATES)
    by_department = _grouped(steps, _DEPARTMENT_KEYS, step_counts) + _grouped(
        calls,
        ("petition__department_id", "petition__department__code", "petition__department__name"),
        FOLLOW_UP_AGGREGATES,
        rename={
            "petition__department_id": "department_id",
            "petition__department__code": "department__code",
            "petition__department__name": "department__name",
        },
    )
    by_category = _grouped(steps, _CATEGORY_KEYS, step_counts) + _grouped(calls, _CATEGORY_KEYS, FOLLOW_UP_AGGREGATES)
    week = TruncWeek("at", tzinfo=timezone.get_default_timezone(), output_field=DateField())
    by_week = _grouped(steps.annotate(week=week), ("week",), step_counts) + _grouped(
        calls.annotate(week=week), ("week",), FOLLOW_UP_AGGREGATES
    )
    p_start, p_end = previous
    previous_rows: Rows = [
        events.filter(STEP_Q, at__gte=p_start, at__lt=p_end)
        .annotate(outcome=_next_step_outcome())
        .aggregate(**step_counts),
        {
            _FOLLOW_UP_KEYS.get(k, k): v
            for k, v in follow_ups.filter(at__gte=p_start, at__lt=p_end).aggregate(**FOLLOW_UP_AGGREGATES).items()
        },
    ]
    return by_grid, by_department, by_category, by_week, previous_rows


# ------------------------------------------------------------------------------------- the fast path

# The daily figures are used while refreshed within this many seconds (beat refreshes them more often,
# ``DASHBOARD_REFRESH_SECONDS``); otherwise the dashboard falls back to the plain aggregate.
FRESH_SECONDS = 60
# Steps are written inside short transactions with the time they began: a refresh looks this far back
# for steps that committed after the previous refresh had looked.
REFRESH_SLACK = dt.timedelta(minutes=10)
DAILY_COUNTS = (
    "registered",
    "dispatched",
    "accepted_on_time",
    "resolved",
    "resolved_on_time",
    "resolved_on_grid",
    "returned",
    "rehandled",
    "extended",
)
DAILY_CALLS = ("follow_up_calls", "reached_calls", "solved_calls", "satisfied_calls")
_ROLLUP_LOCK = 1_300_013  # pg_advisory_xact_lock key: one refresh at a time


def _daily_figures_as_of(now: dt.datetime) -> dt.datetime | None:
    """When the daily figures were refreshed, if that is recent enough to use them; else None.

    Never on the embedded default (SQLite): the rollups' SQL (grouping sets, ``= ANY``) is PostgreSQL's,
    and a demo district is small enough to count directly.
    """
    if connection.vendor != "postgresql":
        return None
    refreshed = DailyFigureRefresh.objects.order_by("-refreshed_at").values_list("refreshed_at", flat=True).first()
    if refreshed is not None and (now - refreshed).total_seconds() <= FRESH_SECONDS:
        return refreshed
    return None


def _from_daily_figures(
    user: User,
    place: _Place,
    petitions: QuerySet[Petition],
    period_: tuple[dt.date, dt.date],
    previous: tuple[dt.date, dt.date],
    now: dt.datetime,
) -> tuple[Rows, Rows, Rows, Rows, Rows]:
    """The same figures as ``_from_events``, summed from the daily figures; the one figure that depends on
    the moment asked (awaiting acceptance) is counted live from the petitions.

    The district, a street or town and a community read their area's rows (``AreaDailyFigure``: a few
    rows a day whatever the number of grids); below that, the grids' rows."""
    sums = {k: Sum(k) for k in _DAILY_COLUMNS}
    grid_names = {
        "grid_id": "petition__grid_id",
        "grid__branch__tree_id": "petition__grid__branch__tree_id",
        "grid__branch__lft": "petition__grid__branch__lft",
    }
    category_names = {k.removeprefix("petition__"): k for k in _CATEGORY_KEYS}
    day_rows: Rows
    if _has_area_rows(place):
        by_grid, by_department, by_category, day_rows, previous_rows = _area_figures(place, period_, previous, sums)
    else:
        rows = _in_place(user, DailyFigure.objects.all(), place, "")
        in_period = rows.filter(day__gte=period_[0], day__lte=period_[1])
        by_grid = _per_grid(place, in_period, sums)
        by_department = _grouped(in_period, _DEPARTMENT_KEYS, sums)
        by_category = _grouped(in_period, category_names, sums, rename=category_names)
        day_rows = _grouped(in_period, ("day",), sums)
        previous_rows = [
            {
                _FOLLOW_UP_KEYS.get(k, k): v
                for k, v in rows.filter(day__gte=previous[0], day__lte=previous[1]).aggregate(**sums).items()
            }
        ]
    # A week row's day is its Monday: it falls in its week like each of its days.
    by_week = [{**row, "week": row["day"] - dt.timedelta(days=row["day"].weekday())} for row in day_rows]
    # Awaiting acceptance: a dispatch whose petition is still dispatched (so it is the petition's latest
    # step, at ``dispatched_at``) within its accept deadline — the plain aggregate's definition.
    first, last = _bounds(min(period_[0], previous[0]), max(period_[1], previous[1]))
    tz = timezone.get_default_timezone()
    awaiting: Rows = cast(
        Any,
        petitions.filter(
            status=Status.DISPATCHED, current_due__gte=now, dispatched_at__gte=first, dispatched_at__lt=last
        )
        .annotate(day=TruncDate("dispatched_at", tzinfo=tz))
        .values("grid_id", "grid__branch__tree_id", "grid__branch__lft", "department_id", "category_id", "day")
        .annotate(n=Count("pk")),
    )
    for row in awaiting:
        figure = {"awaiting_acceptance": row["n"]}
        if period_[0] <= row["day"] <= period_[1]:
            by_grid.append({**figure, **{grid_names[k]: row[k] for k in grid_names}})
            by_department.append({**figure, "department_id": row["department_id"], "department__code": None})
            by_category.append({**figure, "petition__category_id": row["category_id"]})
            by_week.append({**figure, "week": row["day"] - dt.timedelta(days=row["day"].weekday())})
        if previous[0] <= row["day"] <= previous[1]:
            previous_rows.append(figure)
    return by_grid, by_department, by_category, by_week, previous_rows


def _per_grid(place: _Place, figures: QuerySet[Any], sums: Mapping[str, Any]) -> Rows:
    """The grids' daily figures summed per grid, placed in the chain by the place's grid positions (read
    with its grids): joined to the chain instead, the planner hashed all of its 32,000 nodes."""
    positions = _positions_in(place)
    rows = _grouped(figures, ("grid_id",), sums, rename={"grid_id": "petition__grid_id"})
    for row in rows:
        row["petition__grid__branch__tree_id"], row["petition__grid__branch__lft"] = positions.get(
            row["petition__grid_id"], (None, None)
        )
    return rows


def _has_area_rows(place: _Place) -> bool:
    return place.grid is None and (place.node is None or place.node.level <= AREA_LEVELS)


# The areas' figures of a period, in one statement: the place's rows in the period (each covering row
# once, ``_covering_ranges``) summed per department, per category and per day (the totals and the weeks),
# the previous period's total, and each child area's total. Through the ORM these were six aggregates of
# thirteen sums each, and building them cost a district's view 15 ms of Python.
_AREA_FIGURES_SQL = """
WITH f AS MATERIALIZED (
    SELECT * FROM {area} f WHERE {node} AND {period}
)
SELECT 'department', f.department_id, d.code, d.name, NULL, NULL::date, {sums}
FROM f JOIN {department} d ON d.id = f.department_id
GROUP BY f.department_id, d.code, d.name
UNION ALL
SELECT 'category', f.category_id, c.code, c.name, c.service_area, NULL, {sums}
FROM f JOIN {category} c ON c.id = f.category_id
GROUP BY f.category_id, c.code, c.name, c.service_area
UNION ALL
SELECT 'day', NULL, NULL, NULL, NULL, f.day, {sums}
FROM f WHERE f.department_id IS NULL AND f.category_id IS NULL
GROUP BY f.day
UNION ALL
SELECT 'previous', NULL, NULL, NULL, NULL, NULL, {sums}
FROM {area} f WHERE {node} AND f.department_id IS NULL AND f.category_id IS NULL AND {previous}
UNION ALL
SELECT 'child', f.node_id, NULL, NULL, NULL, NULL, {sums}
FROM {area} f WHERE f.node_id = ANY(%s) AND f.department_id IS NULL AND f.category_id IS NULL AND {period}
GROUP BY f.node_id
"""
def _area_figures(
    place: _Place, period_: tuple[dt.date, dt.date], previous: tuple[dt.date, dt.date], sums: Mapping[str, Any]
) -> tuple[Rows, Rows, Rows, Rows, Rows]:
    """The fast path's figures of the district, a street or town, or a community, from the areas' rows.

    ``by_grid`` as ``_children`` reads it: one row per child area (a street or town of the district, a
    community of a street) placed at the child's tree position, or one per grid of a community; and
    whatever of the place's total lies in no child (grids led by the street itself), at the place's own
    position, which no child claims."""
    node = place.node
    names = tuple(_FOLLOW_UP_KEYS.get(k, k) for k in _DAILY_COLUMNS)
    node_sql, node_params = ("f.node_id IS NULL", []) if node is None else ("f.node_id = %s", [node.pk])
    period_sql, period_params = _covering_sql(*period_, "f")
    previous_sql, previous_params = _covering_sql(*previous, "f")
    children = {n.pk: n for n in place.child_nodes or []}
    query = _AREA_FIGURES_SQL.format(
        area=_table(AreaDailyFigure),
        department=_table(Department),
        category=_table(Category),
        node=node_sql,
        period=period_sql,
        previous=previous_sql,
        sums=", ".join(f"SUM(f.{c})" for c in _DAILY_COLUMNS),
    )
    params = [
        *node_params,
        *period_params,
        *node_params,
        *previous_params,
        list(children),
        *period_params,
    ]
    by_grid: Rows = []
    by_department: Rows = []
    by_category: Rows = []
    day_rows: Rows = []
    previous_rows: Rows = []
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for part, key, code, name, service_area, day, *figures in cursor.fetchall():
            row = dict(zip(names, figures, strict=True))
            if part == "department":
                by_department.append({"department_id": key, "department__code": code, "department__name": name, **row})
            elif part == "category":
                by_category.append(
                    {
                        "petition__category_id": key,
                        "petition__category__code": code,
                        "petition__category__name": name,
                        "petition__category__service_area": service_area,
                        **row,
                    }
                )
            elif part == "day":
                day_rows.append({"day": day, **row})
            elif part == "previous":
                previous_rows.append(row)
            else:
                child = children[key]
                by_grid.append(
                    {
                        "petition__grid_id": None,
                        "petition__grid__branch__tree_id": child.tree_id,
                        "petition__grid__branch__lft": child.lft,
                        **row,
                    }
                )
    if node is not None and node.kind not in NODE_CHILDREN_KINDS:  # a community: its grids, summed per grid
        grids = DailyFigure.objects.order_by().filter(
            grid_id__in=place.grid_ids or [], day__gte=period_[0], day__lte=period_[1]
        )
        by_grid = _per_grid(place, grids, sums)
    whole = _sum(day_rows, names)
    rest = {k: v - sum(row.get(k) or 0 for row in by_grid) for k, v in whole.items()}
    if any(rest.values()):
        by_grid.append(
            {
                **rest,
                "petition__grid_id": None,
                "petition__grid__branch__tree_id": node.tree_id if node is not None else None,
                "petition__grid__branch__lft": node.lft if node is not None else None,
            }
        )
    return by_grid, by_department, by_category, day_rows, previous_rows


def _areas_holding(grids: list[int]) -> list[int]:
    """The areas with rows of their own (levels 0 and 1) whose subtree holds one of ``grids``."""
    holding = Grid.objects.filter(
        pk__in=grids,
        branch__tree_id=OuterRef("tree_id"),
        branch__lft__gte=OuterRef("lft"),
        branch__lft__lte=OuterRef("rght"),
    )
    return list(
        Organization.objects.filter(Exists(holding), level__lte=AREA_LEVELS).order_by().values_list("pk", flat=True)
    )


def refresh_daily_figures(*, full: bool = False) -> int:
    """Bring the daily figures up to date from the event log; returns the number of days recomputed.

    Whole days are recomputed with the plain aggregate's definitions (``_step_counts``,
    ``FOLLOW_UP_AGGREGATES``): the days of the steps and follow-ups since the last refresh (less
    ``REFRESH_SLACK``), the days of the dispatches those steps answered (an acceptance changes its
    dispatch's response figure), and the days of the follow-ups of petitions that moved (their
    department may have changed). ``full`` recomputes everything. One refresh at a time.
    On the embedded default (SQLite) there is nothing to refresh: its dashboards count directly.
    """
    if connection.vendor != "postgresql":
        return 0
    now = timezone.now()
    tz = timezone.get_default_timezone()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ROLLUP_LOCK])
                # The refresh's grouping sets sort on disk within PostgreSQL's default 4 MB: "overdue now"
                # of a million petitions took 0.3 s to sum, 0.15 s hashed in memory. This transaction only.
                cursor.execute("SET LOCAL work_mem = '32MB'")
        state = DailyFigureRefresh.objects.select_for_update().first()
        events = PetitionEvent.objects.order_by()
        calls = FollowUp.objects.order_by()
        # Rows derived later than the daily figures (a deployment adding them) start with a full refresh.
        full = full or (
            DailyFigure.objects.exists()
            and not (AreaDailyFigure.objects.exists() and WorkerDailyFigure.objects.exists())
        )
        # The registration figures are counted from the petitions alone: built in full on their own.
        registrations_full = full or state is None or not RegistrationFigure.objects.exists()
        registration_days: list[dt.date] | None = None
        if full or state is None:
            DailyFigure.objects.all().delete()
            days = None
            ranges = Q()
        else:
            mark = state.refreshed_at - REFRESH_SLACK
            new = events.filter(at__gte=mark)
            before = Subquery(
                PetitionEvent.objects.filter(petition_id=OuterRef("petition_id"), id__lt=OuterRef("id"))
                .order_by("-id")
                .values("at")[:1]
            )
            moments = set(new.values_list("at", flat=True))
            moments |= set(
                new.filter(action__in=("accept", "return")).annotate(before=before).values_list("before", flat=True)
            )
            moments |= set(
                calls.filter(Q(at__gte=mark) | Q(petition_id__in=new.values("petition_id"))).values_list(
                    "at", flat=True
                )
            )
            days = sorted({timezone.localtime(m, tz).date() for m in moments if m is not None})
            # A step is what changes a petition's status: its registration day is counted again.
            registered = Petition.objects.filter(pk__in=new.values("petition_id")).values_list(
                "registered_at", flat=True
            )
            registration_days = sorted({timezone.localtime(m, tz).date() for m in registered})
            # Only the rows the new steps and follow-ups can change are recomputed: on those days, their
            # petitions' grids, the areas holding those grids (and the district), and the people who took
            # them (a resolution can make their earlier follow-ups of it their own). Whole days of every
            # grid, area and worker took 9-19 s a refresh at a million petitions' activity.
            fresh_calls = calls.filter(at__gte=mark)
            moved = Q(pk__in=new.values("petition_id")) | Q(pk__in=fresh_calls.values("petition_id"))
            touched_grids = sorted(set(Petition.objects.filter(moved).values_list("grid_id", flat=True)))
            touched_workers = sorted(
                {
                    *new.exclude(actor=None).values_list("actor_id", flat=True),
                    *fresh_calls.values_list("by_id", flat=True),
                }
            )
            if days:
                DailyFigure.objects.filter(day__in=days, grid_id__in=touched_grids).delete()
            ranges = _on_days(days, "at")
        # "Overdue now" moves with the clock, not with the steps: counted again on every refresh.
        _refresh_overdue(now)
        if days is None:
            _refresh_grids(ranges, now)
            _refresh_areas(None, None)
            _refresh_workers(ranges, None, None)
        elif days:
            _refresh_grids(ranges & Q(petition__grid_id__in=touched_grids), now)
            _refresh_areas(days, _areas_holding(touched_grids))
            _refresh_workers(ranges, days, touched_workers)
        _refresh_registrations(None if registrations_full else registration_days)
        if days is None or registrations_full:
            # Rebuilt tables are unknown to the planner until autovacuum samples them: at a million
            # petitions a community's figures took 217 ms on the stale statistics, 101 ms after this.
            _analyze(*_DAY_TABLES)
        if state is None:
            DailyFigureRefresh.objects.create(refreshed_at=now)
        else:
            DailyFigureRefresh.objects.filter(pk=state.pk).update(refreshed_at=now)
    # The overdue figures are rewritten whole each time (19,000 rows at a million petitions: 10 ms to
    # vacuum); the day tables after a rebuild, else every few minutes (``vacuum_daily_figures``).
    _vacuum(*((*_DAY_TABLES, OverdueFigure) if days is None else (OverdueFigure,)))
    if days is None:
        return DailyFigure.objects.values("day").distinct().count()
    return len(days)


def _on_days(days: Iterable[dt.date], field: str) -> Q:
    """``field`` (a moment) falls on one of ``days`` of the district's calendar: ranges an index can use."""
    ranges = Q()
    for day in days:
        day_start, day_end = _bounds(day, day)
        ranges |= Q(**{f"{field}__gte": day_start, f"{field}__lt": day_end})
    return ranges


# The grids' rows, written by the database in one statement: the step counts and the follow-up counts
# (the plain aggregate's definitions, as SQL from the ORM) per day, grid, department and category,
# summed where both kinds of row fall on the same key.
_DAILY_COLUMNS = (*DAILY_COUNTS, *DAILY_CALLS)
_DAILY_SQL = """
INSERT INTO {daily} (day, grid_id, department_id, category_id, {columns})
SELECT x.day, x.fig_grid, x.fig_department, x.fig_category, {sums}
FROM (
    SELECT s.day, s.fig_grid, s.fig_department, s.fig_category, {step_columns} FROM ({steps}) s
    UNION ALL
    SELECT c.day, c.fig_grid, c.fig_department, c.fig_category, {call_columns} FROM ({calls}) c
) x
GROUP BY x.day, x.fig_grid, x.fig_department, x.fig_category
"""


# The span of a figure row: a day, or the week (Monday to Sunday) it starts (AreaDailyFigure,
# WorkerDailyFigure). A week row is the sum of its days' rows, refreshed with them.
DAY, WEEK = 1, 7


def _covering_ranges(since: dt.date, until: dt.date) -> list[tuple[int, dt.date, dt.date]]:
    """The rows of the areas' and workers' figures that add up to the days ``since``..``until``, each day
    once, as (span, first row's day, last row's day): the weeks wholly inside the period (their rows
    are dated by their Mondays), the days before and after those weeks."""
    first_monday = since + dt.timedelta(days=-since.weekday() % 7)
    last_sunday = until - dt.timedelta(days=(until.weekday() + 1) % 7)
    if last_sunday < first_monday:  # no whole week inside
        return [(DAY, since, until)]
    ranges = [(WEEK, first_monday, last_sunday - dt.timedelta(days=6))]
    if since < first_monday:
        ranges.append((DAY, since, first_monday - dt.timedelta(days=1)))
    if last_sunday < until:
        ranges.append((DAY, last_sunday + dt.timedelta(days=1), until))
    return ranges


def _signed_covering(since: dt.date, until: dt.date, today: dt.date) -> list[tuple[int, int, dt.date, dt.date]]:
    """``_covering_ranges`` with a sign, or where that reads fewer rows, an edge's whole week less its days
    outside the period: from a Tuesday, its week's row less Monday's (two rows a worker, not six). Days
    after ``today`` have no rows yet, so this week's row, which holds its days so far, stands for them
    all: the last 30 days read 6 rows a worker instead of 13. As (sign, span, first row's day, last)."""
    one, week = dt.timedelta(days=1), dt.timedelta(days=6)

    def rows(first: dt.date, last: dt.date) -> int:  # day rows there may be from ``first`` to ``last``
        return max(0, (min(last, today) - first).days + 1)

    first_monday, last_monday = since - since.weekday() * one, until - until.weekday() * one
    parts: list[tuple[int, int, dt.date, dt.date]] = []
    weeks_from, weeks_to = first_monday, last_monday
    if first_monday == last_monday:  # one week: its days, or the week less the days outside
        less = [r for r in ((first_monday, since - one), (until + one, first_monday + week)) if r[0] <= r[1]]
        if 1 + sum(rows(*r) for r in less) >= rows(since, until):
            return [(1, DAY, since, until)]
        return [(1, WEEK, first_monday, first_monday), *((-1, DAY, *r) for r in less)]
    if since > first_monday:
        if 1 + rows(first_monday, since - one) < rows(since, first_monday + week):
            parts.append((-1, DAY, first_monday, since - one))
        else:
            parts.append((1, DAY, since, first_monday + week))
            weeks_from = first_monday + 7 * one
    if until < last_monday + week:
        if 1 + rows(until + one, last_monday + week) < rows(last_monday, until):
            parts.append((-1, DAY, until + one, last_monday + week))
        else:
            parts.append((1, DAY, last_monday, until))
            weeks_to = last_monday - 7 * one
    if weeks_from <= weeks_to:
        parts.insert(0, (1, WEEK, weeks_from, weeks_to))
    return parts


def _covering_sql(since: dt.date, until: dt.date, alias: str) -> tuple[str, list[Any]]:
    """``_covering_ranges`` as an SQL condition on the rows of ``alias``, and its parameters. (The areas'
    rows are few: their OR'ed ranges read as a bitmap cost less than summing a query per range.)"""
    ranges = _covering_ranges(since, until)
    sql = " OR ".join(f"({alias}.span = %s AND {alias}.day BETWEEN %s AND %s)" for _range in ranges)
    return f"({sql})", [value for r in ranges for value in r]


def _refresh_weeks(
    model: Any,
    keys: Iterable[str],
    columns: Iterable[str],
    days: list[dt.date] | None,
    only: tuple[str, list[int]] | None = None,
) -> None:
    """Re-sum the week rows of the weeks holding ``days`` (None: every week) from their day rows, just
    written. ``keys``: the columns a row is per, besides its day. ``only``: a condition on the rows to
    re-sum (its list of ids as ``%(only)s``), the rows a refresh recomputed."""
    mondays = None if days is None else sorted({d - dt.timedelta(days=d.weekday()) for d in days})
    week_days = [m + dt.timedelta(days=i) for m in mondays or [] for i in range(7)]
    per, columns = ", ".join(keys), tuple(columns)
    only_sql, only_ids = only or ("TRUE", [])
    params: dict[str, Any] = {
        "all_days": mondays is None,
        "mondays": mondays or [],
        "days": week_days,
        "only": only_ids,
    }
    delete = f"""
        DELETE FROM {_table(model)}
        WHERE span = {WEEK} AND (%(all_days)s OR day = ANY(%(mondays)s)) AND ({only_sql})
    """
    insert = f"""
        INSERT INTO {_table(model)} (day, span, {per}, {", ".join(columns)})
        SELECT day - (EXTRACT(ISODOW FROM day)::int - 1), {WEEK}, {per}, {", ".join(f"SUM({c})" for c in columns)}
        FROM {_table(model)}
        WHERE span = {DAY} AND (%(all_days)s OR day = ANY(%(days)s)) AND ({only_sql})
        GROUP BY 1, {per}
    """
    with connection.cursor() as cursor:
        cursor.execute(delete, params)
        cursor.execute(insert, params)


def _refresh_grids(ranges: Q, now: dt.datetime) -> None:
    """Write the grids' daily figures of the days in ``ranges`` (already deleted) from the event log.

    Set-based, in the database: at a million petitions building every day took 36 minutes when the rows
    went through Python and a few minutes this way."""
    tz = timezone.get_default_timezone()
    local_day = TruncDate("at", tzinfo=tz)
    counts = {k: v for k, v in _step_counts(now).items() if k in DAILY_COUNTS}
    steps = (
        PetitionEvent.objects.order_by()
        .filter(ranges, STEP_Q)
        .annotate(
            outcome=_next_step_outcome(),
            day=local_day,
            fig_grid=F("petition__grid_id"),
            fig_department=F("department_id"),
            fig_category=F("petition__category_id"),
        )
        .values("day", "fig_grid", "fig_department", "fig_category")
        .annotate(**counts)
    )
    calls = (
        FollowUp.objects.order_by()
        .filter(ranges)
        .annotate(
            day=local_day,
            fig_grid=F("petition__grid_id"),
            fig_department=F("petition__department_id"),
            fig_category=F("petition__category_id"),
        )
        .values("day", "fig_grid", "fig_department", "fig_category")
        .annotate(**FOLLOW_UP_AGGREGATES)
    )
    steps_sql, steps_params = steps.query.sql_with_params()
    calls_sql, calls_params = calls.query.sql_with_params()
    query = _DAILY_SQL.format(
        daily=_table(DailyFigure),
        columns=", ".join(_DAILY_COLUMNS),
        sums=", ".join(f"SUM(x.{c})" for c in _DAILY_COLUMNS),
        step_columns=", ".join(f"s.{c}" if c in DAILY_COUNTS else f"0 AS {c}" for c in _DAILY_COLUMNS),
        call_columns=", ".join(f"c.{c}" if c in DAILY_CALLS else f"0 AS {c}" for c in _DAILY_COLUMNS),
        steps=steps_sql,
        calls=calls_sql,
    )
    with connection.cursor() as cursor:
        cursor.execute(query, (*steps_params, *calls_params))


# The areas with rows of their own (``AreaDailyFigure``): the streets and towns (the roots of the
# chain's trees, level 0) and the nodes just below them (level 1: communities). Deeper nodes and single
# grids sum their grids' daily figures, which are few.
AREA_LEVELS = 1
_AREA_SUMS = ", ".join(f"SUM(f.{c}) AS {c}" for c in _DAILY_COLUMNS)
_AREA_COLUMNS = ", ".join(_DAILY_COLUMNS)
_AREA_SQL = """
INSERT INTO {area} (day, node_id, department_id, category_id, {columns})
SELECT day, node_id, department_id, category_id, {columns} FROM (
    SELECT f.day, a.id AS node_id, f.department_id, f.category_id, GROUPING(f.department_id) AS by_all_departments,
           {sums}
    FROM {daily} f
    JOIN {grid} g ON g.id = f.grid_id
    JOIN {org} b ON b.id = g.branch_id
    JOIN {org} a ON a.tree_id = b.tree_id AND a.lft <= b.lft AND b.rght <= a.rght AND a.level <= %(levels)s
    WHERE (%(all_days)s OR f.day = ANY(%(days)s)) AND (%(all_areas)s OR a.id = ANY(%(areas)s))
    GROUP BY GROUPING SETS ((f.day, a.id), (f.day, a.id, f.department_id), (f.day, a.id, f.category_id))
    UNION ALL
    SELECT f.day, NULL, f.department_id, f.category_id, GROUPING(f.department_id), {sums}
    FROM {daily} f
    WHERE %(all_days)s OR f.day = ANY(%(days)s)
    GROUP BY GROUPING SETS ((f.day), (f.day, f.department_id), (f.day, f.category_id))
) per_area
WHERE NOT (by_all_departments = 0 AND department_id IS NULL)
"""


def _refresh_areas(days: list[dt.date] | None, areas: list[int] | None) -> None:
    """Re-sum the areas' rows of ``days`` (None: every day) from the daily figures just written: the
    district's, and those of ``areas`` (None: every area).

    One statement, grouping sets: per area and day the total, per department (steps that concerned
    none, such as registering, are in no department's row) and per category.
    """
    rows = AreaDailyFigure.objects.all()
    if days is not None:
        rows = rows.filter(span=DAY, day__in=days)
    if areas is not None:
        rows = rows.filter(Q(node=None) | Q(node_id__in=areas))
    rows.delete()
    query = _AREA_SQL.format(
        area=_table(AreaDailyFigure),
        daily=_table(DailyFigure),
        grid=_table(Grid),
        org=_table(Organization),
        columns=_AREA_COLUMNS,
        sums=_AREA_SUMS,
    )
    params: dict[str, Any] = {
        "levels": AREA_LEVELS,
        "all_days": days is None,
        "days": days or [],
        "all_areas": areas is None,
        "areas": areas or [],
    }
    with connection.cursor() as cursor:
        cursor.execute(query, params)
    only = None if areas is None else ("node_id IS NULL OR node_id = ANY(%(only)s)", areas)
    _refresh_weeks(AreaDailyFigure, ("node_id", "department_id", "category_id"), _DAILY_COLUMNS, days, only)


# "Overdue now" per area (``OverdueFigure``), as of the refresh. Each grid's places (``m``): in the
# district, the street or town whose tree holds it; in each area above its branch, the area's child
# holding it, or for an area listing grids, the grid itself. The overdue petitions, counted per grid and
# the other keys (``o``), are counted in each of their grid's places, then summed one way at a time.
# Placing the 3,000 grids rather than the 26,000 petitions: 0.2 s a refresh at a million, where placing
# each petition took 0.6-1.8 s.
# GROUPING() sets a bit per column left out of a row's set, the first column highest: it tells which
# way the row counts.
_OVERDUE_BY = {
    0b01111: OverdueFigure.By.PLACE,
    0b10111: OverdueFigure.By.DEPARTMENT,
    0b11011: OverdueFigure.By.CATEGORY,
    0b11101: OverdueFigure.By.CHANNEL,
}
_OVERDUE_FIGURE_SQL = """
INSERT INTO {table} (node_id, by, child_id, grid_id, department_id, category_id, channel, registered_by_id, petitions)
WITH o AS MATERIALIZED ({overdue}),
m AS MATERIALIZED (
    SELECT g.id AS grid_id, a.id AS node_id,
           CASE WHEN a.kind = ANY(%s) THEN c.id END AS child_id,
           CASE WHEN a.kind = ANY(%s) THEN NULL ELSE g.id END AS place_grid
    FROM {grid} g
    JOIN {org} b ON b.id = g.branch_id
    JOIN {org} a ON a.tree_id = b.tree_id AND a.lft <= b.lft AND b.lft <= a.rght AND a.level <= %s
    LEFT JOIN {org} c ON c.parent_id = a.id AND c.lft <= b.lft AND b.lft <= c.rght
    UNION ALL
    SELECT g.id, NULL, r.id, NULL
    FROM {grid} g
    JOIN {org} b ON b.id = g.branch_id
    JOIN {org} r ON r.tree_id = b.tree_id AND r.parent_id IS NULL
)
SELECT m.node_id,
       CASE GROUPING(m.child_id, o.department_id, o.category_id, o.channel, o.registered_by_id)
            {by_cases} ELSE {registrar} END,
       m.child_id, m.place_grid, o.department_id, o.category_id, COALESCE(o.channel, ''), o.registered_by_id,
       SUM(o.n)
FROM o
JOIN m ON m.grid_id = o.grid_id
GROUP BY GROUPING SETS (
    (m.node_id, m.child_id, m.place_grid), (m.node_id, o.department_id), (m.node_id, o.category_id),
    (m.node_id, o.channel), (m.node_id, o.registered_by_id)
)
"""


def _refresh_overdue(now: dt.datetime) -> None:
    """Rewrite the areas' "overdue now" (``OverdueFigure``) as of ``now``, from the open petitions' index."""
    OverdueFigure.objects.all().delete()
    overdue = (
        Petition.objects.order_by()
        .filter(overdue_q(now))
        .values(*_OVERDUE_KEYS)
        .annotate(n=Count("pk"))
    )
    sql, params = overdue.query.sql_with_params()
    query = _OVERDUE_FIGURE_SQL.format(
        table=_table(OverdueFigure),
        overdue=sql,
        grid=_table(Grid),
        org=_table(Organization),
        by_cases=" ".join(f"WHEN {bits} THEN {int(by)}" for bits, by in _OVERDUE_BY.items()),
        registrar=int(OverdueFigure.By.REGISTRAR),
    )
    kinds = sorted(NODE_CHILDREN_KINDS)
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, kinds, kinds, AREA_LEVELS))


def _grouped(
    queryset: QuerySet[Any], by: Iterable[str], counts: Mapping[str, Any], rename: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    names = {**_FOLLOW_UP_KEYS, **(rename or {})}
    return [{names.get(k, k): v for k, v in row.items()} for row in queryset.order_by().values(*by).annotate(**counts)]


def _in_place(user: User, queryset: QuerySet[Any], place: _Place, path: str) -> QuerySet[Any]:
    """``queryset`` narrowed to the place: by its grids' ids, read once (``_Place.grid_ids``).

    The place was checked against the user's scope, and a scope holds whole subtrees, so its grids
    are the user's to see. A list of ids keeps the planner honest: the subtree condition joined
    through the chain made it guess one grid for a street of 140 and loop for seconds. Department
    staff and the whole district keep the scope's own condition.
    """
    if place.grid_ids is None or user.is_department_staff:
        queryset = restrict(user, queryset)
        if place.node is not None:
            queryset = queryset.filter(subtree_q(place.node, f"{path}grid__branch"))
        return queryset.order_by()
    return queryset.filter(**{f"{path}grid_id__in": place.grid_ids}).order_by()


def _petitions(user: User, place: _Place) -> QuerySet[Petition]:
    return _in_place(user, Petition.objects.all(), place, "")


def _events(user: User, place: _Place) -> QuerySet[PetitionEvent]:
    return _in_place(user, PetitionEvent.objects.all(), place, "petition__")


def _follow_ups(user: User, place: _Place) -> QuerySet[FollowUp]:
    return _in_place(user, FollowUp.objects.all(), place, "petition__")


def _dashboard_place(user: User, node: Organization | int | str | None, grid: Grid | int | str | None) -> _Place:
    """The chain node or grid the dashboard is about, checked against the scope; None for the district."""
    if grid is not None:
        pk = grid.pk if isinstance(grid, Grid) else grid
        if user.is_department_staff:
            raise Http404
        found = get_visible_or_404(user, Grid.objects.select_related("branch"), pk=pk)
        return _Place(
            node=found.branch,
            grid=found,
            grid_ids=[found.pk],
            grid_positions={found.pk: (found.branch.tree_id, found.branch.lft)},
        )
    if node is not None:
        pk = node.pk if isinstance(node, Organization) else node
        return _with_grids(_Place(node=get_visible_or_404(user, Organization.objects.all(), pk=pk), grid=None))
    if user.sees_everything or user.is_department_staff:
        return _Place(node=None, grid=None, child_nodes=_child_nodes(None))
    if user.scope_node_id is None:
        raise Http404
    return _with_grids(
        _Place(node=get_visible_or_404(user, Organization.objects.all(), pk=user.scope_node_id), grid=None)
    )


def _with_grids(place: _Place) -> _Place:
    positions = _grid_positions(Grid.objects.filter(subtree_q(place.node, "branch")))
    return _Place(
        node=place.node,
        grid=None,
        grid_ids=list(positions),
        grid_positions=positions,
        child_nodes=_child_nodes(place.node),
    )


def _grid_positions(grids: QuerySet[Grid]) -> dict[int, tuple[int, int]]:
    """Each grid's place in the chain (its branch's tree and lft), as ``_children`` places rows."""
    rows = grids.order_by().values_list("id", "branch__tree_id", "branch__lft")
    return {pk: (tree_id, lft) for pk, tree_id, lft in rows}


def _positions_in(place: _Place) -> dict[int, tuple[int, int]]:
    """The place's grid positions, read with its grids; the whole district's (all 3,000 grids) read here."""
    if place.grid_positions is not None:
        return place.grid_positions
    return _grid_positions(Grid.objects.all())


def _child_nodes(node: Organization | None) -> list[Organization] | None:
    """The nodes one level down from the district (the streets and towns, each the root of its tree) or
    from a street or town, in tree order; None below, where the drill-down lists grids."""
    if node is None:
        children = Organization.objects.filter(parent=None).order_by("tree_id")
    elif node.kind in NODE_CHILDREN_KINDS:
        children = Organization.objects.filter(parent=node).order_by("lft")
    else:
        return None
    return list(children.only("id", "code", "name", "kind", "tree_id", "lft", "rght"))


def _sum(rows: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> Counts:
    total = dict.fromkeys(keys, 0)
    for row in rows:  # a row's own keys: the overdue rows carry one figure of fifteen
        for key, value in row.items():
            if value and key in total:
                total[key] += value
    return total


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rates(c: Mapping[str, int]) -> dict[str, float | None]:
    reached = c["reached"]
    resolved = c["resolved"]
    return {
        "response_rate": _ratio(c["accepted_on_time"], c["dispatched"] - c["awaiting_acceptance"]),
        "on_time_rate": _ratio(c["resolved_on_time"], resolved),
        "resolution_rate": _ratio(c["solved"], reached),
        "satisfaction_rate": _ratio(c["satisfied"], reached),
        "on_grid_rate": _ratio(c["resolved_on_grid"], resolved),
    }


def _figures(rows: Iterable[Mapping[str, Any]], keys: Iterable[str] = COUNTS) -> dict[str, Any]:
    totals = _sum(rows, keys)
    return {"totals": totals, "rates": _rates({**dict.fromkeys(COUNTS, 0), **totals})}


def _node_label(user: User, place: _Place) -> dict[str, Any]:
    root = place.node
    if root is not None:
        return {"id": root.pk, "code": root.code, "name": root.name, "kind": root.kind}
    return {"id": None, "code": None, "name": user.scope_label(), "kind": None}


def _grid_label(grid: Grid | None) -> dict[str, Any] | None:
    if grid is None:
        return None
    return {"id": grid.pk, "code": grid.code, "name": grid.name, "kind": grid.kind}


def _trail(user: User, place: _Place) -> list[dict[str, Any]]:
    """The breadcrumb: the nodes from the top of the user's scope down to this one (one query)."""
    if place.node is None or user.is_department_staff:
        return []
    ancestors = restrict(user, place.node.get_ancestors(include_self=True))
    return [
        {"id": n.pk, "code": n.code, "name": n.name, "kind": n.kind} for n in ancestors.only("code", "name", "kind")
    ]


def _children(
    place: _Place, by_grid: list[dict[str, Any]], *, only_with_petitions: bool = False
) -> list[dict[str, Any]]:
    """One row per child: nodes under a street or town, grids below; figures rolled up from grids."""
    root = place.node
    if place.grid is not None:
        return []
    if root is not None and root.kind not in NODE_CHILDREN_KINDS:
        grids = list(Grid.objects.filter(subtree_q(root, "branch")).select_related("branch").order_by("code"))
        rows_by_grid: dict[int, list[Mapping[str, Any]]] = {}
        for row in by_grid:
            rows_by_grid.setdefault(row["petition__grid_id"], []).append(row)
        return [
            {
                "id": g.pk,
                "code": g.code,
                "name": g.name,
                "kind": g.branch.kind,
                "level": "grid",
                "grid_kind": g.kind,
                **_figures(rows_by_grid.get(g.pk, [])),
            }
            for g in grids
        ]
    nodes = place.child_nodes or []
    rows: list[list[Mapping[str, Any]]] = [[] for _ in nodes]
    if root is None:
        # Each street or town is the root of its own tree.
        index = {n.tree_id: i for i, n in enumerate(nodes)}
        for row in by_grid:
            i = index.get(row["petition__grid__branch__tree_id"])
            if i is not None:
                rows[i].append(row)
    else:
        lfts = [n.lft for n in nodes]
        for row in by_grid:
            i = bisect_right(lfts, row["petition__grid__branch__lft"]) - 1
            if i >= 0 and row["petition__grid__branch__lft"] <= nodes[i].rght:
                rows[i].append(row)
    return [
        {"id": n.pk, "code": n.code, "name": n.name, "kind": n.kind, "level": "node", **_figures(r)}
        for n, r in zip(nodes, rows, strict=True)
        if r or not only_with_petitions
    ]


def standings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark the red and black lists (红黑榜): the best and worst by ``STANDING`` among the rows with at
    least ``STANDING_MIN_RESOLVED`` resolutions; never the same row on both. Rows come best first."""
    ranked = [
        r for r in rows if r["totals"]["resolved"] >= STANDING_MIN_RESOLVED and r["rates"]["on_time_rate"] is not None
    ]
    ranked.sort(key=_standing_key)
    size = min(STANDING_LIST_SIZE, len(ranked) // 2)
    red = {r["code"] for r in ranked[:size]}
    black = {r["code"] for r in ranked[len(ranked) - size :]} if size else set()
    return [{**r, "standing": "red" if r["code"] in red else "black" if r["code"] in black else ""} for r in rows]


def _standing_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    rates = row["rates"]
    return (*((rates[k] is None, -(rates[k] or 0)) for k in STANDING), row["code"])


def _departments(
    by_department: list[dict[str, Any]], overdue: list[dict[str, Any]], only: int | None
) -> list[dict[str, Any]]:
    """Per department, best first (the red list on top, the black list at the bottom); ``only`` for
    department staff, whose petitions may have passed through another department first."""
    groups: dict[int, list[dict[str, Any]]] = {}
    names: dict[int, tuple[str, str]] = {}
    for row in by_department:
        # Steps with no department (registered, handled on the grid) are in no department's row.
        if (
            row["department_id"] is not None
            and (only is None or row["department_id"] == only)
            and "department__name" in row
        ):
            groups.setdefault(row["department_id"], []).append(row)
            names[row["department_id"]] = (row["department__code"], row["department__name"])
    # Figures counted apart (awaiting acceptance on the fast path, overdue now) join the departments listed.
    for row in (*(r for r in by_department if "department__name" not in r), *overdue):
        if row["department_id"] in groups:
            groups[row["department_id"]].append({k: v for k, v in row.items() if k in COUNTS})
    result = [{"id": pk, "code": names[pk][0], "name": names[pk][1], **_figures(rows)} for pk, rows in groups.items()]
    return sorted(result, key=_standing_key)


def _categories(by_category: list[dict[str, Any]], overdue: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    labels: dict[int, tuple[str, str, str]] = {}
    extra = [
        {**r, "category_id": r["petition__category_id"]} for r in by_category if "petition__category__code" not in r
    ]
    for row in by_category:
        if "petition__category__code" not in row:
            continue
        groups.setdefault(row["petition__category_id"], []).append(row)
        labels[row["petition__category_id"]] = (
            row["petition__category__code"],
            row["petition__category__name"],
            row["petition__category__service_area"],
        )
    for row in (*extra, *overdue):
        if row["category_id"] in groups:
            groups[row["category_id"]].append({k: v for k, v in row.items() if k in COUNTS})
    result = [
        {"id": pk, "code": labels[pk][0], "name": labels[pk][1], "service_area": labels[pk][2], **_figures(rows)}
        for pk, rows in groups.items()
    ]
    return sorted(result, key=lambda row: (row["service_area"], row["code"]))


def _weekly(since: dt.date, until: dt.date, by_week: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every ISO week that overlaps the period, including quiet ones (with no figures)."""
    groups: dict[dt.date, list[dict[str, Any]]] = {}
    for row in by_week:
        groups.setdefault(row["week"], []).append(row)
    weeks = []
    monday = since - dt.timedelta(days=since.weekday())
    while monday <= until:
        year, week, _day = monday.isocalendar()
        weeks.append(
            {
                "week": f"{year}-W{week:02d}",
                "start": max(monday, since).isoformat(),
                "end": min(monday + dt.timedelta(days=6), until).isoformat(),
                **_figures(groups.get(monday, []), WEEKLY_COUNTS),
            }
        )
        monday += dt.timedelta(days=7)
    return weeks


@dataclass(frozen=True)
class _Overdue:
    """Open petitions past the deadline of their current stage, at the moment asked, summed per grid (rows
    placed in the chain, as ``_children`` reads them), department, category, channel and registrar."""

    by_grid: Rows
    by_department: Rows
    by_category: Rows
    by_channel: Mapping[str, int]
    by_registrar: Mapping[int, int]


def _overdue_now(place: _Place, petitions: QuerySet[Petition], now: dt.datetime, *, fast: bool = False) -> _Overdue:
    """"Overdue now" summed per place, department, category, channel and registrar, ``by_grid`` rows placed
    in the chain as ``_children`` reads them.

    On the fast path the district, a street or town and a community read their area's rows of the last
    refresh (``OverdueFigure``: a few thousand rows for the district, where counting live read its 26,000
    overdue petitions and placed its 3,000 grids: 25-35 ms a view). Otherwise counted live, once, from the
    open petitions' index alone (``petition_open_due``), summed here in one pass: those 26,000 petitions as
    rows of their own, copied into every table, cost 0.7 s of Python. The grids are placed by the place's
    positions (the district's: all its grids, read whole): asking for the overdue grids by a list of their
    ids cost 0.13 s to plan."""
    sums: tuple[dict[Any, int], ...] = ({}, {}, {}, {}, {})
    # (grid id, tree id, lft): where each count lies in the chain.
    places: dict[tuple[int | None, int | None, int | None], int] = {}
    if fast and _has_area_rows(place):
        node = place.node
        children = {n.pk: (n.tree_id, n.lft) for n in place.child_nodes or []}
        positions = _positions_in(place) if node is not None and node.kind not in NODE_CHILDREN_KINDS else {}
        own = (node.tree_id, node.lft) if node is not None else (None, None)
        figures = OverdueFigure.objects.filter(node=node).values_list(
            "by", "child_id", "grid_id", "department_id", "category_id", "channel", "registered_by_id", "petitions"
        )
        for by, child, grid, *keys, n in figures:
            if by == OverdueFigure.By.PLACE:
                at = (
                    (grid, *positions.get(grid, (None, None)))
                    if grid is not None
                    else (None, *children.get(child, (None, None)))
                    if child is not None
                    else (None, *own)
                )
                places[at] = places.get(at, 0) + n
            else:
                sums[by][keys[by - 1]] = n
    else:
        for column, key, n in _overdue_rows(petitions.filter(overdue_q(now))):
            sums[column][key] = sums[column].get(key, 0) + n
        positions = _positions_in(place) if sums[0] else {}
        places = {(pk, *positions.get(pk, (None, None))): n for pk, n in sums[0].items()}
    _grids, departments, categories, channels, registrars = sums
    return _Overdue(
        by_grid=[
            {
                "petition__grid_id": pk,
                "petition__grid__branch__tree_id": tree_id,
                "petition__grid__branch__lft": lft,
                "overdue": n,
            }
            for (pk, tree_id, lft), n in places.items()
        ],
        by_department=[{"department_id": k, "overdue": n} for k, n in departments.items()],
        by_category=[{"category_id": k, "overdue": n} for k, n in categories.items()],
        by_channel=channels,
        by_registrar={k: n for k, n in registrars.items() if k is not None},
    )


_OVERDUE_KEYS = ("grid_id", "department_id", "category_id", "channel", "registered_by_id")


def _overdue_rows(overdue: QuerySet[Petition], *, grouping_sets: bool | None = None) -> Iterable[tuple[int, Any, int]]:
    """``overdue`` counted by each of ``_OVERDUE_KEYS`` in turn, as (which key, its value, count).

    On PostgreSQL one pass with grouping sets: 6,000 sums for a district's 26,000 overdue petitions,
    where grouping by all five columns at once gave 20,000 rows to add up here. Elsewhere (the embedded
    SQLite) the five-column groups, added up here; ``grouping_sets`` chooses for the test comparing both."""
    if grouping_sets is None:
        grouping_sets = connection.vendor == "postgresql"
    if not grouping_sets:
        for *keys, n in overdue.order_by().values_list(*_OVERDUE_KEYS).annotate(n=Count("pk")):
            for column, key in enumerate(keys):
                yield column, key, n
        return
    inner, params = overdue.order_by().values_list(*_OVERDUE_KEYS).query.sql_with_params()
    columns = ", ".join(_OVERDUE_KEYS)
    sets = ", ".join(f"({c})" for c in _OVERDUE_KEYS)
    sql = f"SELECT GROUPING({columns}), {columns}, COUNT(*) FROM ({inner}) o GROUP BY GROUPING SETS ({sets})"
    # GROUPING() sets a bit for each column left out of the row's set, the first column highest.
    which = {(1 << len(_OVERDUE_KEYS)) - 1 - (1 << (len(_OVERDUE_KEYS) - 1 - i)): i for i in range(len(_OVERDUE_KEYS))}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for grouping, *keys, n in cursor.fetchall():
            column = which[grouping]
            yield column, keys[column], n


def _registrations(
    place: _Place, petitions: QuerySet[Petition], period_: tuple[dt.date, dt.date], *, fast: bool
) -> Rows:
    """Petitions registered in the period by service area, channel and the status they are in now (rows
    with ``service_area``, ``channel``, ``status``, ``n``): from the areas' registration figures on the
    fast path, else counted from the petitions."""
    if fast and _has_area_rows(place):
        figures: Rows = cast(
            Any,
            RegistrationFigure.objects.order_by()
            .filter(node=place.node, day__gte=period_[0], day__lte=period_[1])
            .values("service_area", "channel", "status")
            .annotate(n=Sum("petitions")),
        )
        return list(figures)
    start, end = _bounds(*period_)
    rows = (
        petitions.filter(registered_at__gte=start, registered_at__lt=end)
        .values("category__service_area", "channel", "status")
        .annotate(n=Count("pk"))
    )
    return [
        {"service_area": r["category__service_area"], "channel": r["channel"], "status": r["status"], "n": r["n"]}
        for r in rows
    ]


def _status_by_area(registrations: Rows) -> list[dict[str, Any]]:
    """Petitions registered in the period, by service area and by the status they are in now."""
    areas: dict[str, dict[str, int]] = {}
    for row in registrations:
        counts = areas.setdefault(row["service_area"], dict.fromkeys(Status.values, 0))
        counts[row["status"]] += row["n"]
    return [{"service_area": area, "statuses": counts} for area, counts in sorted(areas.items())]


def _by_channel(registrations: Rows, overdue: Mapping[str, int]) -> list[dict[str, Any]]:
    """Every channel (受理渠道): petitions registered by it in the period, those still open, and overdue now."""
    figures = {code: {"registered": 0, "open": 0, "overdue": 0} for code in Channel.values}
    for row in registrations:
        figures[row["channel"]]["registered"] += row["n"]
        if row["status"] in OPEN_STATUSES:
            figures[row["channel"]]["open"] += row["n"]
    for channel, n in overdue.items():
        figures[channel]["overdue"] += n
    return [{"channel": code, "name": str(label), **figures[code]} for code, label in Channel.choices]


def _overdue_list(petitions: QuerySet[Petition], now: dt.datetime) -> list[dict[str, Any]]:
    """Overdue now, longest overdue first, with who holds each (the department, or the grid)."""
    rows = (
        petitions.filter(overdue_q(now))
        .select_related("grid", "department")
        .only("id", "title", "registered_at", "status", "current_due", "grid__name", "department__name")
        .order_by("current_due", "id")[:OVERDUE_SHOWN]
    )
    return [
        {
            "id": p.pk,
            "number": p.number,
            "title": p.title,
            "status": p.status,
            "due": p.current_due.isoformat() if p.current_due else None,
            "overdue_hours": int((now - p.current_due).total_seconds() // 3600) if p.current_due else 0,
            "holder": p.department.name if p.department_id and p.department else p.grid.name,
        }
        for p in rows
    ]


def _warnings(petitions: QuerySet[Petition], now: dt.datetime) -> dict[str, int]:
    """Open petitions not yet overdue whose yellow (half the stage's time used) or red (three quarters)
    warning has come: the flag their cards and the lists show (``Petition.deadline_flag``), from the
    moments the clock stored on the row (``set_clock``), so one count, no look at each one's history."""
    counts = petitions.filter(status__in=OPEN_STATUSES, current_due__gte=now, warn_yellow_at__lte=now).aggregate(
        warned=Count("pk"), red=Count("pk", filter=Q(warn_red_at__lte=now))
    )
    return {"yellow": counts["warned"] - counts["red"], "red": counts["red"]}


# The grid workers' assessment: what each one did (grouped by who acted), the one definition for the
# plain aggregate and the refresh of ``WorkerDailyFigure``.
WORKER_STEP_Q = Q(action__in=("register", "resolve_on_grid"))
WORKER_STEPS = {
    "registered": Count("pk", filter=REGISTERED_Q),
    "resolved_on_grid": Count("pk", filter=Q(action="resolve_on_grid")),
}
WORKER_CALLS = {"follow_ups": Count("pk"), "own_follow_ups": Count("pk", filter=Q(own=True))}
WORKER_COUNTS = (*WORKER_STEPS, *WORKER_CALLS)


# Each person's steps and follow-ups per day and grid (the plain aggregate's definitions, as SQL from
# the ORM), summed per area: the streets' and communities' (levels 0 and 1), then the district's.
_WORKERS_SQL = """
WITH per_grid AS (
    SELECT s.day, s.grid, s.worker, s.registered, s.resolved_on_grid, 0 AS follow_ups, 0 AS own_follow_ups
    FROM ({steps}) s
    UNION ALL
    SELECT c.day, c.grid, c.worker, 0, 0, c.follow_ups, c.own_follow_ups FROM ({calls}) c
)
INSERT INTO {table} (day, node_id, worker_id, registered, resolved_on_grid, follow_ups, own_follow_ups)
SELECT x.day, a.id, x.worker, SUM(x.registered), SUM(x.resolved_on_grid), SUM(x.follow_ups), SUM(x.own_follow_ups)
FROM per_grid x
JOIN {grid} g ON g.id = x.grid
JOIN {org} b ON b.id = g.branch_id
JOIN {org} a ON a.tree_id = b.tree_id AND a.lft <= b.lft AND b.rght <= a.rght AND a.level <= %s
GROUP BY x.day, a.id, x.worker
UNION ALL
SELECT x.day, NULL, x.worker, SUM(x.registered), SUM(x.resolved_on_grid), SUM(x.follow_ups), SUM(x.own_follow_ups)
FROM per_grid x
GROUP BY x.day, x.worker
"""


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _own_follow_up() -> Exists:
    """背对背: the follow-up was made by someone who had resolved that petition before."""
    return Exists(
        PetitionEvent.objects.filter(
            petition_id=OuterRef("petition_id"), actor_id=OuterRef("by_id"), at__lte=OuterRef("at")
        ).filter(RESOLVED_Q)
    )


def _refresh_workers(ranges: Q, days: list[dt.date] | None, workers: list[int] | None) -> None:
    """Recompute the rows of ``workers`` (None: everyone) on ``days`` (None: every day), per area, from
    the event log."""
    tz = timezone.get_default_timezone()
    local_day = TruncDate("at", tzinfo=tz)
    steps_by = Q() if workers is None else Q(actor_id__in=workers)
    calls_by = Q() if workers is None else Q(by_id__in=workers)
    steps = (
        PetitionEvent.objects.order_by()
        .filter(ranges, steps_by, WORKER_STEP_Q, actor__isnull=False)
        .annotate(day=local_day, grid=F("petition__grid_id"), worker=F("actor_id"))
        .values("day", "grid", "worker")
        .annotate(**WORKER_STEPS)
    )
    calls = (
        FollowUp.objects.order_by()
        .filter(ranges, calls_by)
        .annotate(own=_own_follow_up(), day=local_day, grid=F("petition__grid_id"), worker=F("by_id"))
        .values("day", "grid", "worker")
        .annotate(**WORKER_CALLS)
    )
    steps_sql, steps_params = steps.query.sql_with_params()
    calls_sql, calls_params = calls.query.sql_with_params()
    rows = WorkerDailyFigure.objects.all()
    if days is not None:
        rows = rows.filter(span=DAY, day__in=days)
    if workers is not None:
        rows = rows.filter(worker_id__in=workers)
    rows.delete()
    query = _WORKERS_SQL.format(
        table=_table(WorkerDailyFigure), grid=_table(Grid), org=_table(Organization), steps=steps_sql, calls=calls_sql
    )
    with connection.cursor() as cursor:
        cursor.execute(query, (*steps_params, *calls_params, AREA_LEVELS))
    only = None if workers is None else ("worker_id = ANY(%(only)s)", workers)
    _refresh_weeks(WorkerDailyFigure, ("node_id", "worker_id"), WORKER_COUNTS, days, only)



# Petitions registered per day, grid, service area, channel and status now, summed per area (levels 0
# and 1), then for the district: the same grouping the plain aggregate counts (``_registrations``).
_REGISTRATIONS_SQL = """
WITH per_grid AS ({per_grid})
INSERT INTO {table} (day, node_id, service_area, channel, status, petitions)
SELECT x.day, a.id, x.area, x.channel, x.status, SUM(x.n)
FROM per_grid x
JOIN {grid} g ON g.id = x.fig_grid
JOIN {org} b ON b.id = g.branch_id
JOIN {org} a ON a.tree_id = b.tree_id AND a.lft <= b.lft AND b.rght <= a.rght AND a.level <= %s
GROUP BY x.day, a.id, x.area, x.channel, x.status
UNION ALL
SELECT x.day, NULL, x.area, x.channel, x.status, SUM(x.n) FROM per_grid x GROUP BY x.day, x.area, x.channel, x.status
"""


def _analyze(*models: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(_table(m) for m in models))


# The tables of whole days that refreshes rewrite, vacuumed together.
_DAY_TABLES = (DailyFigure, AreaDailyFigure, WorkerDailyFigure, RegistrationFigure)


def vacuum_daily_figures() -> bool:
    """VACUUM the daily figures' tables (beat, every ``DASHBOARD_VACUUM_SECONDS``); False where there is
    nothing to do (SQLite) or it cannot run (inside a transaction).

    The dashboards read them through covering indexes, which skip the table only for pages the visibility
    map marks all-visible; each refresh deletes and rewrites its days' rows, and autovacuum waits for a
    fifth of a table to change (or is off, as on this project's benchmark server). Never vacuumed, a
    district's figures were read page by page: the grid workers' 35,000 rows took 59 ms, 27 ms vacuumed.
    After every refresh it was too dear: 7 s after a busy refresh at a million petitions, every 20 s."""
    if connection.vendor != "postgresql":
        return False
    return _vacuum(*_DAY_TABLES)


def _vacuum(*models: Any) -> bool:
    """VACUUM ``models``' tables, unless inside a transaction (a caller's, or a test's), where PostgreSQL
    refuses it."""
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("VACUUM " + ", ".join(_table(m) for m in models))
    return True


def _refresh_registrations(days: list[dt.date] | None) -> None:
    """Recompute the registration figures of ``days`` (None: every day), per area, from the petitions."""
    tz = timezone.get_default_timezone()
    if days is None:
        RegistrationFigure.objects.all().delete()
        ranges = Q()
    else:
        if not days:
            return
        RegistrationFigure.objects.filter(day__in=days).delete()
        ranges = _on_days(days, "registered_at")
    per_grid = (
        Petition.objects.order_by()
        .filter(ranges)
        .annotate(day=TruncDate("registered_at", tzinfo=tz), fig_grid=F("grid_id"), area=F("category__service_area"))
        .values("day", "fig_grid", "area", "channel", "status")
        .annotate(n=Count("pk"))
    )
    sql, params = per_grid.query.sql_with_params()
    query = _REGISTRATIONS_SQL.format(
        table=_table(RegistrationFigure), grid=_table(Grid), org=_table(Organization), per_grid=sql
    )
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, AREA_LEVELS))


def _workers_q(place: _Place) -> Q:
    """The grid workers of the place: active, with the worker role, their scope in it."""
    q = Q(role=User.Role.WORKER, is_active=True)
    if place.grid is not None:
        return q & Q(scope_node=place.grid.branch_id)
    if place.node is not None:
        return q & subtree_q(place.node, "scope_node")
    return q


def _workers(
    user: User,
    place: _Place,
    events: QuerySet[PetitionEvent],
    follow_ups: QuerySet[FollowUp],
    late: Mapping[int, int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    fast: bool = False,
) -> list[dict[str, Any]]:
    """The assessment of grid workers (考评) in the scope: registered, resolved on the grid, follow-ups
    done, follow-ups on cases they resolved themselves (背对背: a callback should come from someone
    else), and their registered petitions overdue now. Department staff get none.

    The steps are grouped by who took them within the scope's petitions, and the workers of the scope
    picked from those people last: filtering the steps by a list of every worker in a district first
    made the planner scan for seconds."""
    if user.is_department_staff:
        return []
    workers = User.objects.filter(_workers_q(place)).order_by()
    person = ("id", "username", "first_name", "last_name")
    # Each worker's username and names (read with their figures on the fast path), and their figures in
    # the order of WORKER_COUNTS: registered, resolved on the grid, follow-ups, own follow-ups.
    people: dict[int, tuple[str, str, str]] = {}
    counts: dict[int, tuple[int, int, int, int]] = {}
    if fast and _has_area_rows(place):
        first, last = timezone.localtime(start).date(), timezone.localtime(end).date() - dt.timedelta(days=1)
        compiled = [
            (
                sign,
                WorkerDailyFigure.objects.order_by()
                .filter(span=span, day__gte=first_day, day__lte=last_day, node=place.node)
                .values_list("worker_id", *WORKER_COUNTS)
                .query.sql_with_params(),
            )
            for sign, span, first_day, last_day in _signed_covering(first, last, timezone.localdate())
        ]
        people_sql, people_params = workers.values_list(*person).query.sql_with_params()
        sums = ", ".join(f"SUM({k}) AS {k}" for k in WORKER_COUNTS)
        union = " UNION ALL ".join(
            f"SELECT worker_id, {', '.join(f'{sign} * {k} AS {k}' for k in WORKER_COUNTS)} FROM ({sql}) part"
            for sign, (sql, _params) in compiled
        )
        # Summed first, then joined to the scope's workers: the 3,000 who did something, not all 21,000.
        # Someone whose figures all lie on days a week's row had to be lessened by sums to nothing: left out,
        # as someone with no figure in the period.
        query = f"""
            SELECT p.id, p.username, p.first_name, p.last_name, {", ".join(f"f.{k}" for k in WORKER_COUNTS)}
            FROM (
                SELECT worker_id, {sums} FROM ({union}) x GROUP BY worker_id
                HAVING {" OR ".join(f"SUM({k}) <> 0" for k in WORKER_COUNTS)}
            ) f
            JOIN ({people_sql}) p ON p.id = f.worker_id
        """
        with connection.cursor() as cursor:
            cursor.execute(query, [*(p for _sign, (_sql, params) in compiled for p in params), *people_params])
            for pk, username, first_name, last_name, *figures in cursor.fetchall():
                people[pk] = (username, first_name, last_name)
                counts[pk] = cast(tuple[int, int, int, int], tuple(figures))
    else:
        steps = {
            row[0]: row[1:]
            for row in events.filter(WORKER_STEP_Q, at__gte=start, at__lt=end)
            .values("actor_id")
            .annotate(**WORKER_STEPS)
            .values_list("actor_id", *WORKER_STEPS)
        }
        calls = {
            row[0]: row[1:]
            for row in follow_ups.filter(at__gte=start, at__lt=end)
            .annotate(own=_own_follow_up())
            .values("by_id")
            .annotate(**WORKER_CALLS)
            .values_list("by_id", *WORKER_CALLS)
        }
        for pk in steps.keys() | calls.keys():
            counts[pk] = (*steps.get(pk, (0, 0)), *calls.get(pk, (0, 0)))  # type: ignore[assignment]
    # The rest by their ids: those with only overdue petitions (a few), or, counted from the event log,
    # everyone who acted (the fallback).
    missing = (counts.keys() | late.keys()) - people.keys()
    if missing:
        people.update((row[0], (row[1], row[2], row[3])) for row in workers.filter(pk__in=missing).values_list(*person))
    result = []
    none = (0, 0, 0, 0)
    for pk, (username, first_name, last_name) in sorted(people.items(), key=lambda item: item[1][0]):
        registered, resolved_on_grid, follow_ups_, own_follow_ups = counts.get(pk, none)
        result.append(
            {
                "id": pk,
                "code": username,
                "name": f"{first_name} {last_name}".strip() or username,  # as User.get_full_name
                "registered": registered,
                "resolved_on_grid": resolved_on_grid,
                "follow_ups": follow_ups_,
                "own_follow_ups": own_follow_ups,
                "overdue": late.get(pk, 0),
            }
        )
    return result
