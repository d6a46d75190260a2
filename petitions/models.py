"""Petitions (诉求) and their closed loop: categories, the append-only event log, follow-ups, reminders."""

import datetime as dt
import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.access import Scope, ScopedQuerySet
from grids.identity import mask_phone


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
    urgent_accept_hours = models.PositiveIntegerField(_("urgent: accept within (hours)"), default=1)
    urgent_resolve_working_days = models.PositiveIntegerField(_("urgent: resolve within (working days)"), default=1)
    is_active = models.BooleanField(_("active"), default=True)

    # Reference data: every signed-in user reads the categories.
    scope = Scope(public=True)

    class Meta:
        ordering = ["service_area", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    REGISTERED = "registered", _("registered")
    DISPATCHED = "dispatched", _("dispatched")
    ACCEPTED = "accepted", _("accepted")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATUSES = frozenset({Status.REGISTERED, Status.DISPATCHED, Status.ACCEPTED, Status.RESOLVED})

# The deadline that runs in each status (the field holding it); closed and cancelled run none.
STAGE_DUE: dict[str, str] = {
    Status.REGISTERED: "resolve_due",
    Status.DISPATCHED: "accept_due",
    Status.ACCEPTED: "resolve_due",
    Status.RESOLVED: "follow_up_due",
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
        ]

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
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Open and past the deadline of its current stage, now (see ``overdue_q``)."""
        return self.is_open and self.current_due is not None and self.current_due < timezone.now()

    def stage_due(self) -> dt.datetime | None:
        """The deadline of the stage the petition is in (what ``current_due`` holds)."""
        field = STAGE_DUE.get(self.status)
        return getattr(self, field) if field else None

    def refresh_from_db(self, *args: object, **kwargs: object) -> None:
        fields = kwargs.get("fields")
        if fields is None or "status" in fields:  # type: ignore[operator]
            self.__dict__.pop("status", None)
        super().refresh_from_db(*args, **kwargs)  # type: ignore[arg-type]

    def _move_to(self, status: str) -> None:
        """Only ``workflow.apply`` calls this (see ``_ProtectedStatus``)."""
        self.__dict__["status"] = status
        self.current_due = self.stage_due()


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
        return f"{self.petition_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class Satisfaction(models.TextChoices):
    """The national five-level scale (好差评, GB/T 39735)."""

    VERY_SATISFIED = "very_satisfied", _("very satisfied")
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")
    VERY_DISSATISFIED = "very_dissatisfied", _("very dissatisfied")


SATISFIED_LEVELS = frozenset({Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})


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
        return f"{self.petition_id} {self.at:%Y-%m-%d}"


class DailyFigure(models.Model):
    """The dashboard's step and follow-up counts for one day, grid, department and category (the fast path).

    Derived, never edited by hand: ``metrics.refresh_daily_figures`` recomputes whole days from the
    event log with the very definitions of the plain aggregate, and beat runs it every
    ``DASHBOARD_REFRESH_SECONDS``; dashboards read these rows only while they are fresh.
    """

    day = models.DateField(_("day"))
    grid = models.ForeignKey("grids.Grid", verbose_name=_("grid"), on_delete=models.CASCADE, related_name="+")
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
    follow_up_calls = models.PositiveIntegerField(default=0)
    reached_calls = models.PositiveIntegerField(default=0)
    solved_calls = models.PositiveIntegerField(default=0)
    satisfied_calls = models.PositiveIntegerField(default=0)

    scope = Scope(via="grid", department="department")

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        indexes = [models.Index(fields=["day", "grid"], name="daily_figure_day_grid")]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id}"


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
        REMIND = "remind", _("reminder to the department")
        STREET = "street", _("escalated to the street")
        DISTRICT = "district", _("escalated to the district")

    petition = models.ForeignKey(
        Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="reminders"
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Status.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivery = models.JSONField(_("delivery"), default=dict, blank=True)

    scope = Scope(via="petition")

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [models.UniqueConstraint(fields=["petition", "stage", "level", "round"], name="reminder_once")]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.stage} {self.level}"


class Notification(models.Model):
    """An in-app notification (站内提醒): one per reminder and recipient."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    reminder = models.ForeignKey(
        Reminder, verbose_name=_("reminder"), on_delete=models.CASCADE, related_name="notifications"
    )
    petition = models.ForeignKey(Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="+")
    text = models.CharField(_("text"), max_length=200)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    scope = Scope(owner="user")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["reminder", "user"], name="notification_once")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text


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
