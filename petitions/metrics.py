"""Dashboard metrics (DESIGN.md, "Metrics") over a subtree of the chain and a period.

Petitions count by the time of the step the metric is about, within the period:

- response rate 响应率: petitions dispatched in the period and accepted by their accept deadline ÷
  those dispatched in the period whose outcome is known (accepted, or past the deadline). One still
  awaiting acceptance within its deadline is neither a success nor a failure yet; it is counted
  in ``awaiting_acceptance`` and left out of the rate.
- on-time rate 按期办结率 and handled-on-the-grid rate 网格内解决率: over petitions resolved in the
  period.
- resolution rate 解决率 and satisfaction rate 满意率: over follow-ups made in the period that
  reached the resident.
- overdue now 超期: open petitions past the deadline of their current stage, at the moment asked.

The period is a range of dates on the district's calendar (``TIME_ZONE``), both ends included. A rate
whose denominator is zero is ``None``: no figure, rather than a misleading 0 %.

The number of queries is constant whatever the number of petitions, grids or child nodes: every
figure comes from a grouped, conditional aggregate; petitions are grouped by their grid's leading
node and those (few) rows are rolled up to the child nodes in Python by their tree position.
"""

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import Count, DateField, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import Viewer, get_visible_or_404, restrict, subtree_q
from governance.models import User
from parties.models import Kind, Organization

from .models import SATISFIED_LEVELS, Petition, overdue_q

PETITION_COUNTS = (
    "registered",
    "dispatched",
    "awaiting_acceptance",
    "accepted_on_time",
    "resolved",
    "resolved_on_time",
    "resolved_on_grid",
    "overdue",
)
FOLLOW_UP_COUNTS = ("follow_up_calls", "reached", "solved", "satisfied")
COUNTS = PETITION_COUNTS + FOLLOW_UP_COUNTS
# "Overdue now" is a snapshot, not something that happened in a week.
WEEKLY_COUNTS = tuple(c for c in COUNTS if c != "overdue")
RATES = ("response_rate", "on_time_rate", "resolution_rate", "satisfaction_rate", "on_grid_rate")

# Nodes whose children still lead or contain grids. Below a grid-level node (building groups,
# member households) there are no grids, so there is nothing to drill down into.
DRILLABLE_KINDS = frozenset({Kind.STREET, Kind.COMMUNITY, Kind.TOWN, Kind.VILLAGE})

# Red and black lists (红黑榜): best first by these rates; a department without a figure comes last.
STANDING = ("on_time_rate", "response_rate", "satisfaction_rate")

Counts = dict[str, int]

# The period when none is asked for: the last 30 days.
DEFAULT_DAYS = 30
# A dashboard spans weeks, months or a few years; beyond that the weekly series is useless. Dates far
# outside any petition's lifetime are refused before date arithmetic runs into the calendar's ends.
MAX_PERIOD_DAYS = 366 * 5
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def period(since: dt.date | None = None, until: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The dashboard's period, both ends included, for the page and the API alike.

    Defaults: until today, since ``DEFAULT_DAYS`` before ``until``. Raises ``ValidationError``
    naming the field: a day outside 1900–2999, an end before the start, a period over five years.
    """
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


@dataclass(frozen=True)
class _Stage:
    """One step a metric is about: which rows it concerns, when it happened, what to count."""

    where: Q
    at: str
    counts: dict[str, Count]


def dashboard_for(
    user: Viewer,
    *,
    node: Organization | int | str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    """The dashboard figures for ``node``'s subtree (default: the user's scope) over ``since``..``until``.

    Department staff see their department's petitions across the district; district leadership
    and superusers see the whole district, its children being the streets and towns. A node outside
    the user's scope raises ``Http404``, like a missing one; a bad period raises ``ValidationError``
    naming the field (``period``).

    Returns JSON-serialisable data with the keys ``node``, ``since``, ``until``, ``totals``,
    ``rates``, ``children``, ``departments``, ``categories`` and ``weekly``.
    """
    since, until = period(since, until)
    if not isinstance(user, User) or not user.is_active:
        raise Http404
    root = _dashboard_node(user, node)
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    stages = _stages(start, end, timezone.now())
    follow_ups = stages.pop("follow_ups")

    petitions = restrict(user, Petition.objects.all())
    if root is not None:
        petitions = petitions.filter(subtree_q(root, "grid__branch"))
    petitions = petitions.order_by()
    any_stage = Q()
    petition_counts: dict[str, Count] = {}
    for stage in stages.values():
        any_stage |= stage.where
        petition_counts.update(stage.counts)

    def grouped(by: Iterable[str], stage_where: Q, counts: Mapping[str, Count]) -> list[dict[str, Any]]:
        return list(petitions.filter(stage_where).values(*by).annotate(**counts))

    branch = ("grid__branch__tree_id", "grid__branch__lft")
    by_branch = grouped(branch, any_stage, petition_counts) + grouped(
        branch, follow_ups.where, follow_ups.counts
    )
    department = ("department_id", "department__code", "department__name")
    by_department = grouped(department, any_stage, petition_counts) + grouped(
        department, follow_ups.where, follow_ups.counts
    )
    category = ("category_id", "category__code", "category__name", "category__service_area")
    by_category = grouped(category, any_stage, petition_counts) + grouped(
        category, follow_ups.where, follow_ups.counts
    )
    by_week: list[dict[str, Any]] = []
    for stage in (*stages.values(), follow_ups):
        if stage.at:
            weekly = (
                petitions.filter(stage.where)
                .annotate(week=TruncWeek(stage.at, tzinfo=tz, output_field=DateField()))
                .values("week")
                .annotate(**stage.counts)
            )
            by_week += cast("Iterable[dict[str, Any]]", weekly)

    totals = _sum(by_branch, COUNTS)
    return {
        "node": _node_label(user, root),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": totals,
        "rates": _rates(totals),
        # Department staff: a row only where their department has petitions, not every street of the district.
        "children": _children(root, by_branch, only_with_petitions=user.is_department_staff),
        "departments": _departments(by_department),
        "categories": _categories(by_category),
        "weekly": _weekly(since, until, by_week),
    }


def _dashboard_node(user: User, node: Organization | int | str | None) -> Organization | None:
    """The chain node the dashboard is about, checked against the scope; None for the district."""
    if node is not None:
        pk = node.pk if isinstance(node, Organization) else node
        return get_visible_or_404(user, Organization.objects.all(), pk=pk)
    if user.sees_everything or user.is_department_staff:
        return None
    if user.scope_node_id is None:
        raise Http404
    return get_visible_or_404(user, Organization.objects.all(), pk=user.scope_node_id)


def _stages(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict[str, _Stage]:
    registered = Q(registered_at__gte=start, registered_at__lt=end)
    dispatched = Q(dispatched_at__gte=start, dispatched_at__lt=end)
    resolved = Q(resolved_at__gte=start, resolved_at__lt=end)
    overdue = overdue_q(now)
    followed_up = Q(follow_ups__at__gte=start, follow_ups__at__lt=end)
    reached = followed_up & Q(follow_ups__reached=True)
    return {
        "registered": _Stage(registered, "registered_at", {"registered": Count("pk", filter=registered)}),
        "dispatched": _Stage(
            dispatched,
            "dispatched_at",
            {
                "dispatched": Count("pk", filter=dispatched),
                "awaiting_acceptance": Count(
                    "pk", filter=dispatched & Q(accepted_at__isnull=True, accept_due__gte=now)
                ),
                "accepted_on_time": Count("pk", filter=dispatched & Q(accepted_at__lte=F("accept_due"))),
            },
        ),
        "resolved": _Stage(
            resolved,
            "resolved_at",
            {
                "resolved": Count("pk", filter=resolved),
                "resolved_on_time": Count("pk", filter=resolved & Q(resolved_at__lte=F("resolve_due"))),
                "resolved_on_grid": Count("pk", filter=resolved & Q(resolved_on_grid=True)),
            },
        ),
        "overdue": _Stage(overdue, "", {"overdue": Count("pk", filter=overdue)}),
        "follow_ups": _Stage(
            followed_up,
            "follow_ups__at",
            {
                "follow_up_calls": Count("follow_ups", filter=followed_up),
                "reached": Count("follow_ups", filter=reached),
                "solved": Count("follow_ups", filter=reached & Q(follow_ups__solved=True)),
                "satisfied": Count(
                    "follow_ups", filter=reached & Q(follow_ups__satisfaction__in=SATISFIED_LEVELS)
                ),
            },
        ),
    }


def _sum(rows: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> Counts:
    keys = tuple(keys)
    total = dict.fromkeys(keys, 0)
    for row in rows:
        for key in keys:
            total[key] += row.get(key, 0)
    return total


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


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


def _node_label(user: User, root: Organization | None) -> dict[str, Any]:
    if root is not None:
        return {"id": root.pk, "code": root.code, "name": root.name, "kind": root.kind}
    return {"id": None, "code": None, "name": user.scope_label(), "kind": None}


def _children(
    root: Organization | None, by_branch: list[dict[str, Any]], *, only_with_petitions: bool = False
) -> list[dict[str, Any]]:
    """One row per child node, its figures rolled up from the grid-leading nodes below it."""
    children: QuerySet[Organization]
    if root is None:
        children = Organization.objects.filter(parent=None).order_by("tree_id")
    elif root.kind in DRILLABLE_KINDS:
        children = Organization.objects.filter(parent=root).order_by("lft")
    else:
        return []
    nodes = list(children.only("id", "code", "name", "kind", "tree_id", "lft", "rght"))
    rows: list[list[Mapping[str, Any]]] = [[] for _ in nodes]
    if root is None:
        # Each street or town is the root of its own tree.
        index = {n.tree_id: i for i, n in enumerate(nodes)}
        for row in by_branch:
            i = index.get(row["grid__branch__tree_id"])
            if i is not None:
                rows[i].append(row)
    else:
        lfts = [n.lft for n in nodes]
        for row in by_branch:
            i = bisect_right(lfts, row["grid__branch__lft"]) - 1
            if i >= 0 and row["grid__branch__lft"] <= nodes[i].rght:
                rows[i].append(row)
    return [
        {"id": n.pk, "code": n.code, "name": n.name, "kind": n.kind, **_figures(r)}
        for n, r in zip(nodes, rows, strict=True)
        if r or not only_with_petitions
    ]


def _departments(by_department: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per department, best first (the red list on top, the black list at the bottom)."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in by_department:
        if row["department_id"] is not None:  # not with a department: registered or handled on the grid
            groups.setdefault(row["department_id"], []).append(row)
    result = [
        {"id": pk, "code": rows[0]["department__code"], "name": rows[0]["department__name"], **_figures(rows)}
        for pk, rows in groups.items()
    ]

    def standing(row: dict[str, Any]) -> tuple[Any, ...]:
        rates = row["rates"]
        return (*((rates[k] is None, -(rates[k] or 0)) for k in STANDING), row["code"])

    return sorted(result, key=standing)


def _categories(by_category: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in by_category:
        groups.setdefault(row["category_id"], []).append(row)
    result = [
        {
            "id": pk,
            "code": rows[0]["category__code"],
            "name": rows[0]["category__name"],
            "service_area": rows[0]["category__service_area"],
            **_figures(rows),
        }
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
