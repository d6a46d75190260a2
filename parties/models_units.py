"""双报到 and 红细胞积分: co-building units, members' reports, services, and the points ledger.

Imported at the end of ``parties.models`` (Django finds models there); the rules and writes are
``parties.units`` (services, the service records' transition table) and ``parties.points``.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.access import Scope, ScopedQuerySet

from .models import COMMUNITY_KINDS, Member, Organization, Wish


class UnitKind(models.TextChoices):
    ORGAN = "organ", _("government organ")
    INSTITUTION = "institution", _("public institution")
    ENTERPRISE = "enterprise", _("enterprise")
    SCHOOL = "school", _("school")
    OTHER = "other", _("other unit")


class CoUnit(models.Model):
    """A co-building unit (驻区单位 / 共建单位): an organ, an enterprise, a school, with its Party organisation.

    It sits somewhere in the district (``located_in``: a street or community, which gives its scope)
    and is paired with one or more communities (结对共建, ``Pairing``). Its accounts (``accounts``)
    are how a unit's own staff sign in and see their members.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices, default=UnitKind.ORGAN)
    party_organisation = models.CharField(
        _("Party organisation"), max_length=100,
        help_text=_("The unit's Party committee or branch, e.g. 区教育局机关党委."),
    )
    party_node = models.ForeignKey(
        Organization, verbose_name=_("chain node"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("Its Party organisation's node on the chain, when it has one."),
    )
    located_in = models.ForeignKey(
        Organization, verbose_name=_("located in"), on_delete=models.PROTECT, related_name="units_located",
        help_text=_("The street or community where the unit sits (驻区)."),
    )
    communities = models.ManyToManyField(
        Organization, verbose_name=_("paired communities"), through="Pairing", related_name="paired_units",
        blank=True,
    )
    accounts = models.ManyToManyField(
        "governance.User", verbose_name=_("unit accounts"), blank=True, related_name="co_units",
        help_text=_("Sign-ins of the unit's own staff: they see this unit's members, rates and flags."),
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(node="located_in")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("co-building unit")
        verbose_name_plural = _("co-building units")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("units:unit", args=[self.pk])


class Pairing(models.Model):
    """结对共建: a unit paired with a community for a time; the unit reports to it (单位报到)."""

    unit = models.ForeignKey(CoUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="pairings")
    community = models.ForeignKey(
        Organization, verbose_name=_("community"), on_delete=models.PROTECT, related_name="pairings",
        limit_choices_to={"kind__in": sorted(COMMUNITY_KINDS)},
    )
    started_on = models.DateField(_("paired since"))
    ended_on = models.DateField(_("paired until"), null=True, blank=True)
    unit_reported_on = models.DateField(
        _("unit reported on"), null=True, blank=True, help_text=_("When the unit reported to the community (单位报到).")
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(node="community")

    class Meta:
        ordering = ["community_id", "unit_id"]
        verbose_name = _("co-building pairing")
        verbose_name_plural = _("co-building pairings")
        constraints = [
            models.UniqueConstraint(fields=["unit", "community", "started_on"], name="pairing_unique"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")), name="pairing_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.community}"


class MemberReport(models.Model):
    """An in-service member reports (报到) to the community where they live; the community confirms it."""

    member = models.ForeignKey(Member, verbose_name=_("Party member"), on_delete=models.CASCADE,
                               related_name="reports")
    community = models.ForeignKey(
        Organization, verbose_name=_("community"), on_delete=models.PROTECT, related_name="member_reports",
        limit_choices_to={"kind__in": sorted(COMMUNITY_KINDS)},
    )
    reported_on = models.DateField(_("reported on"))
    confirmed_by = models.ForeignKey(
        "governance.User", verbose_name=_("confirmed by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", editable=False,
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(node="community")

    class Meta:
        ordering = ["community_id", "member_id"]
        verbose_name = _("member's report")
        verbose_name_plural = _("members' reports")
        constraints = [models.UniqueConstraint(fields=["member", "community"], name="member_report_unique")]

    def __str__(self) -> str:
        return f"{self.member} → {self.community}"


class ServiceKind(models.TextChoices):
    ACTIVITY = "activity", _("service activity")
    WISH = "wish", _("micro-wish")
    PATROL = "patrol", _("patrol duty")


class ServiceActivity(models.Model):
    """A service the community posts (服务活动): an activity, a patrol duty, or a fulfilled micro-wish."""

    community = models.ForeignKey(
        Organization, verbose_name=_("community"), on_delete=models.PROTECT, related_name="service_activities",
        limit_choices_to={"kind__in": sorted(COMMUNITY_KINDS)},
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ServiceKind.choices, default=ServiceKind.ACTIVITY)
    title = models.CharField(_("title"), max_length=100)
    held_on = models.DateField(_("date"), db_index=True)
    place = models.CharField(_("place"), max_length=100, blank=True)
    wish = models.OneToOneField(
        Wish, verbose_name=_("micro-wish"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="service", editable=False,
    )
    posted_by = models.ForeignKey(
        "governance.User", verbose_name=_("posted by"), on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted at"))

    objects = ScopedQuerySet.as_manager()
    scope = Scope(node="community")

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("service activity")
        verbose_name_plural = _("service activities")

    def __str__(self) -> str:
        return self.title


class ServiceStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("signed up")
    ATTENDED = "attended", _("attended (confirmed)")
    ABSENT = "absent", _("absent")
    CANCELLED = "cancelled", _("cancelled")


class ServiceRecord(models.Model):
    """A member's part in a service: signed up → attended (confirmed by the community) or absent.

    Its status changes only through ``parties.units`` (the transition table).
    """

    activity = models.ForeignKey(
        ServiceActivity, verbose_name=_("service activity"), on_delete=models.PROTECT, related_name="records"
    )
    member = models.ForeignKey(Member, verbose_name=_("Party member"), on_delete=models.PROTECT,
                               related_name="service_records")
    status = models.CharField(
        _("status"), max_length=12, choices=ServiceStatus.choices, default=ServiceStatus.SIGNED_UP, editable=False
    )
    signed_up_at = models.DateTimeField(_("signed up at"), editable=False)
    decided_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        "governance.User", verbose_name=_("confirmed by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", editable=False,
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="activity")

    class Meta:
        ordering = ["activity_id", "id"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        constraints = [models.UniqueConstraint(fields=["activity", "member"], name="service_record_unique")]
        indexes = [models.Index(fields=["member", "status"], name="service_member_status")]

    def __str__(self) -> str:
        return f"{self.member} · {self.activity}"


# ---------------------------------------------------------------------------------------- points


class PointsRule(models.Model):
    """How many points a confirmed service of a kind earns (红细胞积分), maintained in admin."""

    kind = models.CharField(_("kind of service"), max_length=12, choices=ServiceKind.choices, unique=True)
    points = models.PositiveIntegerField(_("points"))
    is_active = models.BooleanField(_("active"), default=True)

    # Reference data: every signed-in user reads the rules.
    scope = Scope(public=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.points}"


class EntryKind(models.TextChoices):
    SERVICE = "service", _("confirmed service")
    MANUAL = "manual", _("award by the community")
    REVERSAL = "reversal", _("reversal")


class AwardStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class PointsAward(models.Model):
    """A manual award proposed by one of the community's staff and approved by another (two people)."""

    member = models.ForeignKey(Member, verbose_name=_("Party member"), on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Organization, verbose_name=_("community"), on_delete=models.PROTECT,
                                  related_name="+")
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=AwardStatus.choices,
                              default=AwardStatus.PROPOSED, editable=False)
    proposed_by = models.ForeignKey("governance.User", verbose_name=_("proposed by"), on_delete=models.PROTECT,
                                    related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey("governance.User", verbose_name=_("approver"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(node="community")

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("points award")
        verbose_name_plural = _("points awards")

    def __str__(self) -> str:
        return f"{self.member} {self.points:+d} {self.reason}"


class PointsEntry(models.Model):
    """One line of a member's points ledger (红细胞积分). Never edited or deleted: a mistake is undone
    by a reversal, a new entry of the opposite sign that references it.

    The source is a typed link (a confirmed service, an approved award, the entry reversed), so the
    database keeps each source to one entry per member and kind.
    """

    member = models.ForeignKey(Member, verbose_name=_("Party member"), on_delete=models.PROTECT,
                               related_name="points_entries")
    community = models.ForeignKey(
        Organization, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+",
        help_text=_("The community whose ledger it is in."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    on = models.DateField(_("date"), db_index=True)
    service = models.ForeignKey(ServiceRecord, verbose_name=_("service record"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="points_entries")
    award = models.OneToOneField(PointsAward, verbose_name=_("points award"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="entry")
    reverses = models.OneToOneField("self", verbose_name=_("reverses"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="reversed_by")
    granted_by = models.ForeignKey("governance.User", verbose_name=_("granted by"), on_delete=models.PROTECT,
                                   related_name="+")
    approved_by = models.ForeignKey("governance.User", verbose_name=_("approver"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded at"))

    objects = ScopedQuerySet.as_manager()
    scope = Scope(node="community")

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        constraints = [
            # Confirming attendance twice (a retry, two clicks) awards once.
            models.UniqueConstraint(fields=["service", "member", "kind"], name="points_once_per_source"),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.MANUAL)
                | (Q(approved_by__isnull=False) & ~Q(approved_by=models.F("granted_by"))),
                name="points_manual_two_people",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.REVERSAL) | Q(reverses__isnull=False), name="points_reversal_source"
            ),
        ]
        indexes = [models.Index(fields=["community", "on"], name="points_community_on")]

    def __str__(self) -> str:
        return f"{self.member} {self.points:+d} {self.reason}"
