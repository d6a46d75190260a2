"""Petitions (诉求) and their closed loop: categories, the append-only event log, follow-ups, reminders."""

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from governance.access import Scope, ScopedQuerySet
from governance.models import SATISFIED_LEVELS, Satisfaction  # noqa: F401  (the scale, read from here by this app)
from grids.identity import mask_name, mask_phone


class ServiceArea(models.TextChoices):
    """The seven service areas of a grid (网格服务七类事项)."""

    INFORMATION = "information", _("information collection")
    SURVEY = "survey", _("opinion survey")
    PUBLICITY = "publicity", _("policy publicity")
    KEY_POPULATION = "key_population", _("key-population service")
    ERRANDS = "errands", _("errands on behalf of residents")
    SAFETY = "safety", _("safety hazard")
    DISPUTE = "dispute", _("dispute mediation")


class Category(models.Model):
    """A kind of matter (事项类别): its default department and its deadlines."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    service_area = models.CharField(_("service area"), max_length=20, choices=ServiceArea.choices)
    default_department = models.ForeignKey(
        "governance.Department",
        verbose_name=_("default department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accept_hours = models.PositiveIntegerField(_("accept within (hours)"), default=2)
    resolve_working_days = models.PositiveIntegerField(_("resolve within (working days)"), default=5)
    follow_up_working_days = models.PositiveIntegerField(_("follow up within (working days)"), default=1)
    # How long the street has to dispatch what a grid reported up (吹哨), on the working-day calendar.
    dispatch_working_days = models.PositiveIntegerField(
        _("dispatch a reported petition within (working days)"), default=1
    )
    urgent_accept_hours = models.PositiveIntegerField(_("urgent: accept within (hours)"), default=1)
    urgent_resolve_working_days = models.PositiveIntegerField(_("urgent: resolve within (working days)"), default=1)
    # The accept clock (签收) runs on working hours unless the category says around the clock;
    # urgent petitions always run around the clock (see deadlines.accept_deadline).
    # The escalation ladder after the stage deadline: the holder at once, then the street, then the district.
    escalate_street_after_hours = models.PositiveIntegerField(_("escalate to the street after (hours)"), default=24)
    escalate_district_after_hours = models.PositiveIntegerField(
        _("escalate to the district after (hours)"), default=72
    )
    # Pausing the clock while waiting on the resident (挂起): at most this many days in all.
    max_pause_days = models.PositiveIntegerField(_("pause the clock at most (days)"), default=10)
    accept_on_working_hours = models.BooleanField(_("accept clock runs on working hours"), default=True)
    work_starts = models.TimeField(_("working hours start"), default=dt.time(8, 30))
    work_ends = models.TimeField(_("working hours end"), default=dt.time(17, 30))
    is_active = models.BooleanField(_("active"), default=True)

    # Reference data: every signed-in user reads the categories.
    scope = Scope(public=True)
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        ordering = ["service_area", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    REGISTERED = "registered", _("registered")
    # The grid blew the whistle (吹哨): it waits for the street to dispatch it.
    REPORTED = "reported", _("reported to the street")
    DISPATCHED = "dispatched", _("dispatched")
    ACCEPTED = "accepted", _("accepted")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATUSES = frozenset({Status.REGISTERED, Status.REPORTED, Status.DISPATCHED, Status.ACCEPTED, Status.RESOLVED})

# The deadline that runs in each status (the field holding it); closed and cancelled run none.
STAGE_DUE: dict[str, str] = {
    Status.REGISTERED: "resolve_due",
    Status.REPORTED: "dispatch_due",
    Status.DISPATCHED: "accept_due",
    Status.ACCEPTED: "resolve_due",
    Status.RESOLVED: "follow_up_due",
}


# Where each stage's clock started (the warnings are shares of the time from there to the deadline).
STAGE_START: dict[str, str] = {
    Status.REGISTERED: "resolve_started_at",
    Status.DISPATCHED: "dispatched_at",
    Status.ACCEPTED: "resolve_started_at",
    Status.RESOLVED: "resolved_at",
}


def overdue_q(now: dt.datetime) -> Q:
    """Open and past the deadline of its current stage (超期): the one definition of "overdue now"."""
    return Q(status__in=OPEN_STATUSES, current_due__lt=now)


class PetitionQuerySet(ScopedQuerySet["Petition"]):
    def overdue(self, now: dt.datetime | None = None) -> "PetitionQuerySet":
        return self.filter(overdue_q(now or timezone.now()))

    def not_overdue(self, now: dt.datetime | None = None) -> "PetitionQuerySet":
        return self.exclude(overdue_q(now or timezone.now()))


class _ProtectedStatus(DeferredAttribute):
    """``petition.status = …`` is refused once loaded: only ``workflow`` moves a petition on.

    Loading from the database (or creating an instance) sets it once; the workflow writes through
    ``Petition._move_to``. A queryset's ``update(status=…)`` bypasses this, and nothing here does that.
    """

    def __set__(self, instance: "Petition", value: str) -> None:
        current = instance.__dict__.get(self.field.attname)
        if current is not None and current != value:  # full_clean() sets it again, unchanged
            raise AttributeError("Petition.status changes only through petitions.workflow")
        instance.__dict__[self.field.attname] = value


class StatusField(models.CharField):
    descriptor_class = _ProtectedStatus


class Priority(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


# YYYYMMDD-id, the id zero-padded to six digits; twelve at most keeps it inside a bigint.
_NUMBER = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{6,12})")


class Channel(models.TextChoices):
    """How a petition reached the grid (受理渠道): filterable, counted on the dashboard."""

    VISIT = "visit", _("grid worker's visit")
    PHONE = "phone", _("telephone")
    HOTLINE = "hotline", _("12345 hotline")
    PATROL = "patrol", _("found on patrol")
    CARD = "card", _("service card scan")
    OTHER = "other", _("other")


class CoordinateSystem(models.TextChoices):
    """The datum a point came in: Chinese phones and maps report GCJ-02; kept as it came, named."""

    GCJ02 = "gcj02", _("GCJ-02 (Chinese maps)")
    WGS84 = "wgs84", _("WGS-84 (GPS)")
    BD09 = "bd09", _("BD-09 (Baidu)")


class Petition(models.Model):
    """A resident's request or a problem found on patrol. Its status changes only in ``workflow``."""

    # Kept beside the composite indexes in Meta that start with them: a list's COUNT reads the
    # single-column index about three times faster (the busiest department: 10 ms against 29).
    grid = models.ForeignKey("grids.Grid", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="petitions")
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=4000)
    household = models.ForeignKey(
        "grids.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="petitions",
    )
    reporter_name = models.CharField(_("resident's name"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("resident's phone"), max_length=11, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.VISIT)
    # Where: a free-text place and, optionally, a point as the phone reported it (with its datum).
    place = models.CharField(_("place"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    coordinate_system = models.CharField(
        _("coordinate system"), max_length=6, choices=CoordinateSystem.choices, blank=True
    )
    # The patrol (巡查) on which the problem was found, for petitions that came by that channel.
    patrol = models.ForeignKey(
        "grids.Patrol",
        verbose_name=_("found on patrol"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="petitions",
        editable=False,
    )

    status = StatusField(_("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED, editable=False)
    department = models.ForeignKey(
        "governance.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="petitions",
        editable=False,
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"), db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    dispatch_due = models.DateTimeField(_("dispatch by"), null=True, blank=True, editable=False)
    accept_due = models.DateTimeField(_("accept by"), null=True, blank=True, editable=False)
    resolve_due = models.DateTimeField(_("resolve by"), null=True, blank=True, editable=False)
    follow_up_due = models.DateTimeField(_("follow up by"), null=True, blank=True, editable=False)
    # The deadline of the stage the petition is in now (``stage_due``, kept by the workflow); NULL once
    # closed or cancelled. Indexed for the overdue scan and the "overdue" filter.
    current_due = models.DateTimeField(_("current deadline"), null=True, blank=True, editable=False)
    resolved_on_grid = models.BooleanField(_("resolved on the grid"), default=False, editable=False)
    result = models.TextField(_("result"), blank=True, editable=False)
    rehandle_count = models.PositiveSmallIntegerField(_("re-handled"), default=0, editable=False)
    escalated = models.BooleanField(_("escalated"), default=False, editable=False)
    # A deadline counted on a guessed calendar (a year neither chinesecalendar nor the district's
    # working calendar covers yet): recomputed once the schedule is entered (recompute_deadlines).
    due_provisional = models.BooleanField(_("deadline provisional"), default=False, editable=False)
    # The resolve clock's start: registration, or the moment it was reopened (重办).
    resolve_started_at = models.DateTimeField(_("resolve clock started"), null=True, blank=True, editable=False)
    # Yellow and red warnings: when the share of the stage's time in DEADLINE_WARNINGS is used.
    warn_yellow_at = models.DateTimeField(_("yellow warning at"), null=True, blank=True, editable=False)
    warn_red_at = models.DateTimeField(_("red warning at"), null=True, blank=True, editable=False)
    # Approved extensions (延期): resolve_due is then the extended deadline, which on-time counts against.
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0, editable=False)
    # The clock paused while waiting on the resident (挂起): since when, until when at most, and how
    # long it has been paused before (the category's max_pause_days bounds the total).
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True, editable=False)
    pause_until = models.DateTimeField(_("paused at most until"), null=True, blank=True, editable=False)
    paused_total = models.DurationField(_("paused in all"), default=dt.timedelta(0), editable=False)

    objects = PetitionQuerySet.as_manager()
    # On a grid in the user's part of the chain; for department staff, dispatched to their department.
    scope = Scope(via="grid", department="department")

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        indexes = [
            models.Index(fields=["grid", "-registered_at", "-id"], name="petition_grid_recent"),
            models.Index(fields=["department", "-registered_at", "-id"], name="petition_dept_recent"),
            models.Index(fields=["status", "current_due"], name="petition_status_due"),
            models.Index(fields=["-registered_at", "-id"], name="petition_recent"),
            # Dashboards count by the dispatch and resolution time in a period.
            models.Index(fields=["dispatched_at"], name="petition_dispatched"),
            models.Index(fields=["resolved_at"], name="petition_resolved"),
            # The dashboard's "now" figures (overdue by grid, department, category, channel and registrar, the
            # overdue list longest first, the warnings) read the open petitions from this index alone
            # (index-only): at a million petitions most of the open ones are overdue, scattered over
            # the table, and fetching each row cost 0.8 s (bench.dashboards).
            models.Index(
                fields=["current_due", "id"],
                include=["grid", "department", "category", "registered_by", "channel", "warn_yellow_at", "warn_red_at"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="petition_open_due",
            ),
            # The same figures for a street, a community or a grid: their open petitions by grid. Without
            # it the planner AND-ed the district's 26,000 overdue petitions into each grid's few.
            models.Index(
                fields=["grid", "current_due"],
                include=["department", "category", "registered_by", "channel", "warn_yellow_at", "warn_red_at"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="petition_open_grid",
            ),
        ]

    # When the overdue scan next has something to record (set by ``set_clock``; stored in the scan's
    # own narrow table, ``ReminderSchedule``, by ``save_reminder_schedule``).
    next_reminder_at: dt.datetime | None = None

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("petitions:detail", args=[self.pk])

    @property
    def number(self) -> str:
        """The number people quote (20261125-000123): the local day it was registered, and its id.

        Derived, not stored: it says nothing the row does not, and storing it cost an UPDATE right
        after every INSERT and two more indexes on the busiest table.
        """
        if self.pk is None:
            return ""
        return f"{timezone.localtime(self.registered_at):%Y%m%d}-{self.pk:06d}"

    @staticmethod
    def number_q(text: str) -> Q | None:
        """A filter for the petition a typed ``number`` names; None when the text is not a number."""
        match = _NUMBER.fullmatch(text.strip())
        if match is None:
            return None
        year, month, day, digits = match.groups()
        pk = int(digits)
        if f"{pk:06d}" != digits:  # only the number as it is shown
            return None
        try:
            registered_on = dt.date(int(year), int(month), int(day))
        except ValueError:
            return None
        return Q(pk=pk, registered_at__date=registered_on)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.reporter_phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.reporter_name)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Open and past the deadline of its current stage, now (see ``overdue_q``)."""
        return self.is_open and self.current_due is not None and self.current_due < timezone.now()

    @property
    def deadline_flag(self) -> str:
        """"overdue", "red", "yellow" or "" now: what lists and cards show beside the deadline."""
        if not self.is_open or self.current_due is None:
            return ""
        now = timezone.now()
        if self.current_due < now:
            return "overdue"
        if self.warn_red_at is not None and self.warn_red_at <= now:
            return "red"
        if self.warn_yellow_at is not None and self.warn_yellow_at <= now:
            return "yellow"
        return ""

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def stage_due(self) -> dt.datetime | None:
        """The deadline of the stage the petition is in (what ``current_due`` holds).

        While the clock is paused, the deadline it would have if the pause ran to its limit.
        """
        field = STAGE_DUE.get(self.status)
        due: dt.datetime | None = getattr(self, field) if field else None
        if due is not None and self.paused_at is not None and self.pause_until is not None:
            due += self.pause_until - self.paused_at
        return due

    def set_clock(self) -> None:
        """The one place the current deadline, its warnings and the next reminder are derived."""
        from django.conf import settings

        self.current_due = self.stage_due()
        field = STAGE_START.get(self.status)
        start: dt.datetime | None = getattr(self, field) if field else None
        self.warn_yellow_at = self.warn_red_at = None
        if self.current_due is not None and start is not None and start < self.current_due and not self.is_paused:
            span = self.current_due - start
            yellow, red = settings.DEADLINE_WARNINGS
            self.warn_yellow_at, self.warn_red_at = start + span * yellow, start + span * red
        # The first rung of the ladder (escalations come after the deadline, so they never are).
        self.next_reminder_at = next_reminder_at(
            reminder_ladder(self.current_due, self.warn_yellow_at, self.warn_red_at, escalations=None)
        )

    def save_reminder_schedule(self) -> None:
        """Store ``next_reminder_at`` (after ``set_clock`` and ``save``) where the overdue scan reads it.

        One upsert on the narrow schedule table, not a column of this row: the scan advances the
        schedule of 100,000 petitions at a time, and an UPDATE here would rewrite every one of this
        table's indexes for each of them.
        """
        ReminderSchedule.objects.bulk_create(
            [ReminderSchedule(petition_id=self.pk, next_reminder_at=self.next_reminder_at)],
            update_conflicts=True,
            unique_fields=["petition"],
            update_fields=["next_reminder_at"],
        )

    def refresh_from_db(self, *args: object, **kwargs: object) -> None:
        fields = kwargs.get("fields")
        if fields is None or "status" in fields:  # type: ignore[operator]
            self.__dict__.pop("status", None)
        super().refresh_from_db(*args, **kwargs)  # type: ignore[arg-type]

    def _move_to(self, status: str) -> None:
        """Only ``workflow.apply`` calls this (see ``_ProtectedStatus``)."""
        self.__dict__["status"] = status
        self.set_clock()


class PetitionEvent(models.Model):
    """One step of a petition's history. Append-only: rows are added, never edited (可追溯)."""

    petition = models.ForeignKey(Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    department = models.ForeignKey(
        "governance.Department", verbose_name=_("department"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    # The deadline of the stage this step ended, as it stood when the step was taken (the accept
    # deadline for an acceptance, the resolve deadline for a resolution). A reopen later sets new
    # deadlines on the petition row; the event keeps the one this step was measured against, so a
    # period's on-time figures never change once it has ended.
    due = models.DateTimeField(_("deadline"), null=True, blank=True)

    scope = Scope(via="petition")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("petition event")
        verbose_name_plural = _("petition events")
        # Dashboards count the steps taken in a period.
        indexes = [models.Index(fields=["at"], name="petition_event_at")]

    def __str__(self) -> str:
        # In the district's time, like every time on screen (admin titles and history included).
        return f"{self.petition_id} {self.action} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"


class FollowUp(models.Model):
    """A call back to the resident after resolution (回访)."""

    petition = models.ForeignKey(
        Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    reached = models.BooleanField(_("resident reached"))
    solved = models.BooleanField(_("problem solved"), null=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=24, choices=Satisfaction.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))

    scope = Scope(via="petition")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"{self.petition_id} {timezone.localtime(self.at):%Y-%m-%d}"


class DailyFigure(models.Model):
    """The dashboard's step and follow-up counts for one day, grid, department and category (the fast path).

    Derived, never edited by hand: ``metrics.refresh_daily_figures`` recomputes whole days from the
    event log with the very definitions of the plain aggregate, and beat runs it every
    ``DASHBOARD_REFRESH_SECONDS``; dashboards read these rows only while they are fresh.
    """

    day = models.DateField(_("day"))
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("grid"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        "governance.Department", verbose_name=_("department"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="+")
    registered = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    accepted_on_time = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolved_on_time = models.PositiveIntegerField(default=0)
    resolved_on_grid = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    rehandled = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    follow_up_calls = models.PositiveIntegerField(default=0)
    reached_calls = models.PositiveIntegerField(default=0)
    solved_calls = models.PositiveIntegerField(default=0)
    satisfied_calls = models.PositiveIntegerField(default=0)

    scope = Scope(via="grid", department="department")

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        indexes = [
            models.Index(fields=["day", "grid"], name="daily_figure_day_grid"),
            # A community's or a grid's period: its grids' rows of those days (the grid alone matched a
            # year of rows, the day alone every grid's: the planner AND-ed 540,000 entries in).
            models.Index(fields=["grid", "day"], name="daily_figure_grid_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id}"


class AreaDailyFigure(models.Model):
    """The daily figures summed per area and day: the whole district (``node`` NULL), each street or town,
    and each node just below one (a community); per area a total row (no department, no category), one
    row per department and one per category. The fast path of the wide scopes.

    Derived, never edited by hand: ``metrics.refresh_daily_figures`` re-sums the days it recomputed from
    the ``DailyFigure`` rows of those days, in the same transaction, so both always agree.
    """

    day = models.DateField(_("day"))
    node = models.ForeignKey(
        "parties.Organization", verbose_name=_("area"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        "governance.Department", verbose_name=_("department"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    # 1: the day; 7: the week (Monday to Sunday) starting on ``day``, the sum of its days' rows, kept with
    # them: a long period reads its whole weeks (a year: 52 rows an area or a worker, not 365).
    span = models.PositiveSmallIntegerField(_("days"), db_default=1)
    registered = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    accepted_on_time = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolved_on_time = models.PositiveIntegerField(default=0)
    resolved_on_grid = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    rehandled = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    follow_up_calls = models.PositiveIntegerField(default=0)
    reached_calls = models.PositiveIntegerField(default=0)
    solved_calls = models.PositiveIntegerField(default=0)
    satisfied_calls = models.PositiveIntegerField(default=0)

    # The district's rows (no node) are for those who see the whole district.
    scope = Scope(node="node")

    class Meta:
        verbose_name = _("area daily figure")
        verbose_name_plural = _("area daily figures")
        indexes = [
            models.Index(fields=["node", "span", "day"], name="area_figure_node_day"),
            # The refresh's: the days it recomputes and the weeks it re-sums (a whole scan took 0.6 s).
            models.Index(fields=["day"], name="area_figure_day"),
            # The areas' totals, which every wide dashboard sums: without it the planner AND-ed the whole
            # table's "no category" rows (850,000 at a million petitions) into each read.
            models.Index(
                fields=["node", "span", "day"], name="area_figure_totals", condition=Q(department=None, category=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.node_id}"


class WorkerDailyFigure(models.Model):
    """The grid workers' assessment (考评) per day, area and person who acted: petitions registered,
    resolved on the grid, follow-ups made and those on cases they had resolved themselves (背对背). Areas
    as ``AreaDailyFigure``: the whole district (``node`` NULL), each street or town, each community.

    Derived, never edited by hand: ``metrics.refresh_daily_figures`` recomputes it for the same days
    as the daily figures, in the same transaction, with the plain aggregate's definitions.
    """

    day = models.DateField(_("day"))
    node = models.ForeignKey(
        "parties.Organization", verbose_name=_("area"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("grid worker"), on_delete=models.CASCADE, related_name="+"
    )
    # 1: the day; 7: the week (Monday to Sunday) starting on ``day``, the sum of its days' rows, kept with
    # them: a long period reads its whole weeks (a year: 52 rows an area or a worker, not 365).
    span = models.PositiveSmallIntegerField(_("days"), db_default=1)
    registered = models.PositiveIntegerField(default=0)
    resolved_on_grid = models.PositiveIntegerField(default=0)
    follow_ups = models.PositiveIntegerField(default=0)
    own_follow_ups = models.PositiveIntegerField(default=0)

    # The district's rows (no node) are for those who see the whole district.
    scope = Scope(node="node")

    class Meta:
        verbose_name = _("grid worker's daily figure")
        verbose_name_plural = _("grid workers' daily figures")
        # Covering: the assessment sums a district's 3,000 workers over a period from the index alone.
        indexes = [
            models.Index(
                fields=["node", "span", "day"],
                name="worker_figure_node_day",
                include=["worker", "registered", "resolved_on_grid", "follow_ups", "own_follow_ups"],
            ),
            models.Index(fields=["day"], name="worker_figure_day"),  # the refresh's, as the areas'
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.node_id} {self.worker_id}"


class RegistrationFigure(models.Model):
    """Petitions registered on a day in an area, by service area, channel (受理渠道) and the status they are
    in now: the dashboard's "status by service area" and "by channel" tables for the wide scopes. Areas as
    ``AreaDailyFigure``: the whole district (``node`` NULL), each street or town, each community.

    Derived, never edited by hand: ``metrics.refresh_daily_figures`` recomputes the registration days of
    every petition that took a step since the last refresh (a step is what changes a status), in the same
    transaction as the daily figures.
    """

    day = models.DateField(_("day registered"))
    node = models.ForeignKey(
        "parties.Organization", verbose_name=_("area"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    service_area = models.CharField(_("service area"), max_length=20, choices=ServiceArea.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    petitions = models.PositiveIntegerField(_("petitions"), default=0)

    # The district's rows (no node) are for those who see the whole district.
    scope = Scope(node="node")

    class Meta:
        verbose_name = _("registration figure")
        verbose_name_plural = _("registration figures")
        indexes = [models.Index(fields=["node", "day"], name="registration_figure_node_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.node_id} {self.service_area} {self.channel} {self.status}"


def _derived_reference(to: Any, verbose_name: Any, *, db_index: bool = False) -> Any:
    """A reference from rows rewritten whole by every refresh from the live tables, within its
    transaction (``OverdueFigure``): no foreign key to check row by row at each commit (19,000 rows: a
    quarter of a second), nothing to cascade, no index unless the rows are looked up by it."""
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=db_index,
    )


class OverdueFigure(models.Model):
    """Open petitions past the deadline of their current stage (超期, ``overdue_q``) as of the last refresh,
    counted per area (the whole district, ``node`` NULL; each street or town; each community) one way at
    a time (``by``): where they are (the area's ``child`` one level down, or below a street's level their
    ``grid``), their department, category, channel, and who registered them. The wide scopes' "overdue
    now", which counted live reads a district's 26,000 overdue petitions on every view.

    Derived, never edited by hand: ``metrics.refresh_daily_figures`` rewrites it whole on every refresh,
    in the same transaction as the daily figures, so it is as old as they are (under a minute when a
    dashboard reads it).
    """

    class By(models.IntegerChoices):
        PLACE = 0, _("place")
        DEPARTMENT = 1, _("department")
        CATEGORY = 2, _("category")
        CHANNEL = 3, _("channel")
        REGISTRAR = 4, _("registered by")

    node = _derived_reference("parties.Organization", _("area"), db_index=True)
    by = models.PositiveSmallIntegerField(_("counted by"), choices=By.choices)
    # The place: the node one level down from the area that holds the petitions' grid (a street or town
    # of the district, a community of a street), or none (a grid the street leads itself); for an area
    # whose drill-down lists grids, the grid.
    child = _derived_reference("parties.Organization", _("child node"))
    grid = _derived_reference("grids.Grid", _("grid"))
    department = _derived_reference("governance.Department", _("department"))
    category = _derived_reference(Category, _("category"))
    channel = models.CharField(_("channel"), max_length=8, blank=True, choices=Channel.choices)
    registered_by = _derived_reference(settings.AUTH_USER_MODEL, _("registered by"))
    petitions = models.PositiveIntegerField(_("petitions"), default=0)

    # The district's rows (no node) are for those who see the whole district.
    scope = Scope(node="node")

    class Meta:
        verbose_name = _("overdue figure")
        verbose_name_plural = _("overdue figures")

    def __str__(self) -> str:
        return f"{self.node_id} {self.get_by_display()} {self.petitions}"


class DailyFigureRefresh(models.Model):
    """When the daily figures were last brought up to date (one row): dashboards use them while fresh."""

    refreshed_at = models.DateTimeField(_("refreshed at"))

    # Bookkeeping without personal data: anyone may know when the figures were refreshed.
    scope = Scope(public=True)

    def __str__(self) -> str:
        return f"{self.refreshed_at:%Y-%m-%d %H:%M:%S}"


class Reminder(models.Model):
    """An overdue reminder or escalation, recorded once per petition, stage, level and round."""

    class Level(models.TextChoices):
        YELLOW = "yellow", _("yellow warning: half the time used")
        RED = "red", _("red warning: three quarters of the time used")
        REMIND = "remind", _("reminder to the department")
        STREET = "street", _("escalated to the street")
        DISTRICT = "district", _("escalated to the district")

    # reminder_once (petition, ...) serves the petition's lookups: no index of its own to write.
    petition = models.ForeignKey(
        Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Status.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    created_at = models.DateTimeField(_("created at"))
    # NULL while any channel has not recorded success: the row is pending, and the sweep re-queues it.
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Per channel: {"inapp": {...}, "email": {...}, "webhook": {...}}, each with ok, at, attempts, error.
    delivery = models.JSONField(_("delivery"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the sweep should queue it (again): a lease while a worker delivers it, a backoff after a failure.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    given_up = models.BooleanField(_("given up"), default=False)
    # A worker is delivering it until then; after that another may (the first one died).
    lease_until = models.DateTimeField(_("leased until"), null=True, blank=True)

    scope = Scope(via="petition")

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["petition", "stage", "level", "round"], name="reminder_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="reminder_pending",
                condition=Q(sent_at__isnull=True, given_up=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.stage} {self.level}"


Rung = tuple[str, dt.datetime]


def reminder_ladder(
    due: dt.datetime | None,
    yellow_at: dt.datetime | None,
    red_at: dt.datetime | None,
    *,
    escalations: tuple[int, int] | None,
    now: dt.datetime | None = None,
) -> list[Rung]:
    """The one rule for what a stage's clock brings, and when: (level, at) for each reminder.

    The yellow and red warnings (only while the deadline is still ahead of ``now``), the reminder at
    the deadline, then, ``escalations`` (street, district) hours after it, the street and the district
    (None: leave them out, for a caller that only wants the first rung).
    """
    if due is None:
        return []
    rungs: list[tuple[str, dt.datetime | None]] = []
    if now is None or now < due:
        rungs += [(Reminder.Level.YELLOW, yellow_at), (Reminder.Level.RED, red_at)]
    rungs.append((Reminder.Level.REMIND, due))
    if escalations is not None:
        street_hours, district_hours = escalations
        rungs += [
            (Reminder.Level.STREET, due + dt.timedelta(hours=street_hours)),
            (Reminder.Level.DISTRICT, due + dt.timedelta(hours=district_hours)),
        ]
    return [(level, at) for level, at in rungs if at is not None]


def next_reminder_at(ladder: list[Rung], now: dt.datetime | None = None) -> dt.datetime | None:
    """When the scan next has something to record on ``ladder``: its first rung after ``now``."""
    return min((at for _level, at in ladder if now is None or at > now), default=None)


class ReminderSchedule(models.Model):
    """When the overdue scan next has something to record for a petition; NULL when nothing is pending.

    A narrow table of its own (two indexes), kept by the workflow (``Petition.save_reminder_schedule``)
    and advanced by the scan in one set-based UPDATE per batch, so a scan reads only what is newly due
    (partial index) and never rewrites the petition row and its many indexes.
    """

    petition = models.OneToOneField(
        Petition,
        verbose_name=_("petition"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="reminder_schedule",
    )
    next_reminder_at = models.DateTimeField(_("next reminder at"), null=True, blank=True)

    scope = Scope(via="petition")

    class Meta:
        verbose_name = _("reminder schedule")
        verbose_name_plural = _("reminder schedules")
        indexes = [
            models.Index(
                fields=["next_reminder_at"], name="reminder_schedule_due", condition=Q(next_reminder_at__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.next_reminder_at}"


class Notification(models.Model):
    """An in-app notification (站内提醒): one per reminder and recipient.

    Or a notice to a user about no petition (the working calendar missing), with a ``key`` that is
    unique per user, so the same notice written twice (two beats) is one row, and a ``url`` to act on.
    """

    # notification_unread (user, ...) and notification_once (reminder, ...) serve these lookups: no
    # index of their own to write with each of the scan's many notifications.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications",
        db_index=False,
    )
    reminder = models.ForeignKey(
        Reminder, verbose_name=_("reminder"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="notifications", db_index=False,
    )
    petition = models.ForeignKey(
        Petition, verbose_name=_("petition"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("key"), max_length=64, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    text = models.CharField(_("text"), max_length=200)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    scope = Scope(owner="user")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["reminder", "user"], name="notification_once"),
            models.UniqueConstraint(fields=["user", "key"], name="notification_key_once", condition=~Q(key="")),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text

    def get_absolute_url(self) -> str:
        return self.petition.get_absolute_url() if self.petition is not None else self.url


class IdempotencyKey(models.Model):
    """The first answer to a create request carrying an ``Idempotency-Key``, kept per user."""

    # idempotency_key_once (user, key) serves the user's key too.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(db_index=True)

    scope = Scope(owner="user")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once")]

    def __str__(self) -> str:
        return self.key


class CalendarDay(models.Model):
    """A day of the district's working calendar (工作日历) that overrides the maintained package.

    A statutory holiday, a make-up working day (调休), or a local holiday (e.g. Corban in Xinjiang).
    Entries marked ``official`` carry the State Council's schedule: a year with any of them counts as
    published, so deadlines in it are no longer provisional.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday")
        WORKDAY = "workday", _("make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60)
    source = models.CharField(_("source"), max_length=200, blank=True)
    official = models.BooleanField(_("State Council schedule"), default=True)

    # Reference data: every signed-in user reads the calendar; only admins edit it.
    scope = Scope(public=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("working-calendar day")
        verbose_name_plural = _("working calendar")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class Extension(models.Model):
    """A department's request for more time (延期申请), and the street's decision on it."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    petition = models.ForeignKey(
        Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="extensions"
    )
    reason = models.TextField(_("reason"))
    proposed_due = models.DateField(_("proposed deadline"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    previous_due = models.DateTimeField(_("deadline before"), null=True, blank=True)

    scope = Scope(via="petition")

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["petition"], condition=Q(decision="pending"), name="extension_one_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} → {self.proposed_due:%Y-%m-%d}"


# ------------------------------------------------------------------------------- photos (issue 8)


def _photo_name(instance: "PetitionPhoto", filename: str) -> str:
    """An unguessable name: the storage never says whose photo it is, and no URL serves it."""
    import secrets

    return f"photos/{timezone.now():%Y/%m}/{secrets.token_urlsafe(24)}.jpg"


class PetitionPhoto(models.Model):
    """A photo of the problem (on registration) or of the work done (on resolution).

    Re-encoded as JPEG without EXIF (petitions.photos), stored through Django's storage API under a
    random name and served only through a view that checks the viewer's scope covers the petition.
    """

    class Kind(models.TextChoices):
        PROBLEM = "problem", _("the problem")
        WORK_DONE = "work_done", _("the work done")

    petition = models.ForeignKey(Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    image = models.FileField(_("photo"), upload_to=_photo_name, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to=_photo_name, max_length=200)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))

    scope = Scope(via="petition")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("petition photo")
        verbose_name_plural = _("petition photos")

    def __str__(self) -> str:
        return f"{self.petition_id} {self.get_kind_display()} #{self.pk}"


# ------------------------------------------------------------ service card and public page (issue 8)


def _card_token() -> str:
    import secrets

    return secrets.token_urlsafe(12)


class ServiceCard(models.Model):
    """A grid's 网格连心服务卡: the random token of its public report page (``/r/<token>/``), not its id.

    Made the first time the card is shown; a new token (admin action) retires the printed cards.
    """

    grid = models.OneToOneField(
        "grids.Grid", verbose_name=_("grid"), on_delete=models.CASCADE, related_name="service_card"
    )
    token = models.CharField(_("public page token"), max_length=40, unique=True, default=_card_token)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    scope = Scope(via="grid")

    class Meta:
        verbose_name = _("service card")
        verbose_name_plural = _("service cards")

    def __str__(self) -> str:
        return str(self.grid_id)


class PublicReport(models.Model):
    """A petition a resident sent from the public report page, and its private status link.

    Only a SHA-256 of the link's token is kept: the database alone does not give anyone the link.
    """

    petition = models.OneToOneField(
        Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="public_report"
    )
    token_hash = models.CharField(_("status link hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))

    scope = Scope(via="petition")

    class Meta:
        verbose_name = _("public report")
        verbose_name_plural = _("public reports")

    def __str__(self) -> str:
        return str(self.petition_id)


class PetitionProposal(models.Model):
    """A petition turned into a matter for deliberation (五议): the link is the petitions' to keep.

    Recurring petitions about the same thing may point at one matter; a petition at one matter at most.
    """

    petition = models.OneToOneField(
        Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="proposal"
    )
    deliberation = models.ForeignKey(
        "parties.Deliberation", verbose_name=_("matter for deliberation"), on_delete=models.PROTECT,
        related_name="+",
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("linked by"), on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(_("linked at"))

    scope = Scope(via="petition")

    class Meta:
        ordering = ["linked_at", "id"]
        verbose_name = _("petition turned into a proposal")
        verbose_name_plural = _("petitions turned into proposals")

    def __str__(self) -> str:
        return f"{self.petition_id} → {self.deliberation_id}"
