"""The grid worker's field work: patrols (巡查) and household visits (入户走访).

Services (``patrol_record``, ``visit_record``, ``household_set_key_populations``) are the only writes;
selectors (``patrols_for``, ``visits_for``, ``late_households``) every page, panel and API list reads.

A household in key-population classes (重点人群) is due for a visit the shortest interval of its
active classes after its last visit, or after it was first put in a class if it was never visited;
past that it is late. ``late_households`` answers that in one annotated query.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    DateTimeField,
    F,
    Func,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import Viewer, restrict
from governance.models import User

from .models import Grid, Household, HouseholdKeyPopulation, KeyPopulation, Patrol, Visit

# A patrol is a walk of a few hours; one recorded as lasting longer is a typing mistake.
PATROL_MAX_HOURS = 24


def may_do_fieldwork(user: Viewer) -> bool:
    """Whether ``user`` records patrols and visits: grid staff and officials, not department staff."""
    return isinstance(user, User) and user.is_active and not user.is_department_staff


def _text(
    model: type[Patrol | Visit], value: str, field: str, errors: dict[str, str], *, required: bool, label: str
) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = _("Please fill in %(field)s.") % {"field": label}
    limit = getattr(model._meta.get_field(field), "max_length", None)
    # A TextField's max_length is not checked by full_clean(); without this a 100 KB text is stored.
    if limit is not None and len(value) > limit:
        errors[field] = _("At most %(limit)d characters.") % {"limit": limit}
    return value


def _refuse_department_staff(actor: User) -> None:
    if not may_do_fieldwork(actor):
        raise PermissionDenied(_("Department staff do not record patrols or visits."))


def patrol_record(
    *,
    actor: User,
    grid: Grid,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    route: str,
    findings: str = "",
    problem_found: bool = False,
    problem_place: str = "",
) -> Patrol:
    """Record a patrol of a grid in the actor's scope. A problem found needs a word on what it is."""
    _refuse_department_staff(actor)
    errors: dict[str, str] = {}
    if not restrict(actor, Grid.objects.filter(pk=grid.pk)).exists():
        errors["grid"] = _("This grid is not in your area.")
    route = _text(Patrol, route, "route", errors, required=True, label=_("the route or places checked"))
    findings = _text(Patrol, findings, "findings", errors, required=problem_found, label=_("what was found"))
    problem_place = _text(Patrol, problem_place, "problem_place", errors, required=False, label="")
    if ended_at < started_at:
        errors["ended_at"] = _("The patrol ends before it starts.")
    elif ended_at - started_at > dt.timedelta(hours=PATROL_MAX_HOURS):
        errors["ended_at"] = _("A patrol lasts at most %(n)d hours.") % {"n": PATROL_MAX_HOURS}
    if started_at > timezone.now() + dt.timedelta(minutes=5):
        errors["started_at"] = _("A patrol is recorded once it has started, not ahead.")
    if errors:
        raise ValidationError(errors)
    return Patrol.objects.create(
        grid=grid,
        recorded_by=actor,
        started_at=started_at,
        ended_at=ended_at,
        route=route,
        findings=findings,
        problem_found=problem_found,
        problem_place=problem_place,
    )


def visit_record(
    *,
    actor: User,
    household: Household,
    visited_at: dt.datetime,
    learned: str,
    key_population: KeyPopulation | None = None,
    purpose: str = "",
    follow_up_needed: bool = False,
    follow_up: str = "",
) -> Visit:
    """Record a visit to a household in the actor's scope; it restarts the household's visit clock."""
    _refuse_department_staff(actor)
    errors: dict[str, str] = {}
    if not restrict(actor, Household.objects.filter(pk=household.pk)).exists():
        errors["household"] = _("This household is not in your area.")
    learned = _text(Visit, learned, "learned", errors, required=True, label=_("what was learned"))
    purpose = _text(Visit, purpose, "purpose", errors, required=False, label="")
    follow_up = _text(Visit, follow_up, "follow_up", errors, required=follow_up_needed, label=_("the follow-up needed"))
    if key_population is not None and not key_population.is_active:
        errors["key_population"] = _("This class is no longer in use.")
    if visited_at > timezone.now() + dt.timedelta(minutes=5):
        errors["visited_at"] = _("A visit is recorded once it has taken place, not ahead.")
    if errors:
        raise ValidationError(errors)
    return Visit.objects.create(
        household=household,
        visited_by=actor,
        visited_at=visited_at,
        key_population=key_population,
        purpose=purpose,
        learned=learned,
        follow_up_needed=follow_up_needed,
        follow_up=follow_up if follow_up_needed else "",
    )


def household_set_key_populations(
    *, actor: User, household: Household, key_populations: list[KeyPopulation]
) -> None:
    """Put a household in exactly these classes; a class it stays in keeps its ``since``."""
    _refuse_department_staff(actor)
    if not restrict(actor, Household.objects.filter(pk=household.pk)).exists():
        raise ValidationError({"household": _("This household is not in your area.")})
    wanted = {k.pk for k in key_populations}
    with transaction.atomic():
        links = HouseholdKeyPopulation.objects.select_for_update().filter(household=household)
        have = set(links.values_list("key_population_id", flat=True))
        links.exclude(key_population_id__in=wanted).delete()
        HouseholdKeyPopulation.objects.bulk_create(
            [HouseholdKeyPopulation(household=household, key_population_id=pk) for pk in sorted(wanted - have)]
        )


def patrols_for(user: Viewer) -> QuerySet[Patrol]:
    return restrict(user, Patrol.objects.select_related("grid", "recorded_by"))


def visits_for(user: Viewer) -> QuerySet[Visit]:
    return restrict(user, Visit.objects.select_related("household__building", "visited_by", "key_population"))


class PlusDays(Func):
    """``when`` plus ``days`` whole days, in SQL, on PostgreSQL and on SQLite (the embedded default):
    Django's duration arithmetic cannot multiply a column of days into an interval on SQLite."""

    arity = 2
    output_field = DateTimeField()

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        when, when_params = compiler.compile(self.source_expressions[0])
        days, days_params = compiler.compile(self.source_expressions[1])
        params = (*when_params, *days_params)
        if connection.vendor == "sqlite":
            return f"datetime({when}, '+' || {days} || ' days')", params
        return f"({when} + make_interval(days => {days}))", params


def with_visit_due(households: QuerySet[Household]) -> QuerySet[Household]:
    """Households in an active key-population class, annotated: ``interval_days`` (the shortest),
    ``last_visit_at``, ``visit_due_at``. Correlated subqueries, so one query however many rows."""
    active = HouseholdKeyPopulation.objects.filter(household=OuterRef("pk"), key_population__is_active=True)
    interval = active.order_by().values("household").annotate(m=Min("key_population__visit_interval_days"))
    since = active.order_by().values("household").annotate(m=Min("since"))
    last = Visit.objects.filter(household=OuterRef("pk")).order_by("-visited_at").values("visited_at")[:1]
    # The households in a class first (a semi-join on the links' index), so the per-row subqueries run
    # for those few hundred, not for every household of a street.
    classed = HouseholdKeyPopulation.objects.filter(key_population__is_active=True).values("household_id")
    return (
        households.filter(pk__in=classed)
        .annotate(
            interval_days=Subquery(interval.values("m")[:1]),
            last_visit_at=Subquery(last),
        )
        .annotate(visit_due_at=PlusDays(Coalesce(F("last_visit_at"), Subquery(since.values("m")[:1])),
                                        F("interval_days")))
    )


def late_households(user: Viewer, now: dt.datetime | None = None) -> QuerySet[Household]:
    """The households in ``user``'s scope whose visit is late, the latest first (one query)."""
    now = now or timezone.now()
    households = restrict(user, Household.objects.select_related("building__grid"))
    due: QuerySet[Any] = with_visit_due(households)
    return due.filter(visit_due_at__lt=now).order_by("visit_due_at", "pk")


def days_late(household: Any, now: dt.datetime) -> int:
    """Whole days past the household's ``visit_due_at`` annotation."""
    return max(0, (now - household.visit_due_at).days)
