"""The party organisation chain (党组织链条): one django-mptt tree per street or town."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet
from simple_history.models import HistoricalRecords

from governance.access import Scope, ScopedQuerySet
from governance.masking import mask_name
from governance.models import SATISFIED_LEVELS, Satisfaction


class Kind(models.TextChoices):
    # urban chain
    STREET = "street", _("street Party working committee")
    COMMUNITY = "community", _("community Party committee")
    GRID_BRANCH = "grid_branch", _("grid Party branch")
    BUILDING_GROUP = "building_group", _("building Party group")
    MEMBER_HOUSEHOLD = "member_household", _("Party member central household")
    # rural chain
    TOWN = "town", _("town Party committee")
    VILLAGE = "village", _("village Party branch")
    GRID_GROUP = "grid_group", _("grid Party group")
    CONTACT_HOUSEHOLD = "contact_household", _("Party member contact household")


# The single source of truth for what may hang under what. ``None`` means "may be a root".
ALLOWED_PARENT_KINDS: dict[str, frozenset[str | None]] = {
    Kind.STREET: frozenset({None}),
    Kind.COMMUNITY: frozenset({Kind.STREET}),
    Kind.GRID_BRANCH: frozenset({Kind.COMMUNITY}),
    Kind.BUILDING_GROUP: frozenset({Kind.GRID_BRANCH}),
    Kind.MEMBER_HOUSEHOLD: frozenset({Kind.BUILDING_GROUP}),
    Kind.TOWN: frozenset({None}),
    Kind.VILLAGE: frozenset({Kind.TOWN}),
    Kind.GRID_GROUP: frozenset({Kind.VILLAGE}),
    Kind.CONTACT_HOUSEHOLD: frozenset({Kind.GRID_GROUP}),
}

# Nodes that lead grids (支部建在网格上).
GRID_LEVEL_KINDS: frozenset[str] = frozenset({Kind.GRID_BRANCH, Kind.GRID_GROUP})
# Nodes that link the households around them (一户联十户).
HOUSEHOLD_KINDS: frozenset[str] = frozenset({Kind.MEMBER_HOUSEHOLD, Kind.CONTACT_HOUSEHOLD})


def kind_rule_error(kind: str, parent_kind: str | None) -> str | None:
    """Why ``kind`` may not hang under ``parent_kind``, or None when it may."""
    allowed = ALLOWED_PARENT_KINDS.get(kind, frozenset())
    if parent_kind in allowed:
        return None
    label = Kind(kind).label
    if parent_kind is None:
        return str(_("A %(kind)s cannot be a top-level node.") % {"kind": label})
    names = "、".join(str(Kind(k).label) for k in sorted(k for k in allowed if k))
    return str(
        _("A %(kind)s cannot be placed under a %(parent)s; it belongs under: %(allowed)s.")
        % {"kind": label, "parent": Kind(parent_kind).label, "allowed": names or "—"}
    )


class OrganizationQuerySet(TreeQuerySet, ScopedQuerySet):
    pass


class Organization(MPTTModel):
    """A node of the chain: the place it leads, its kind, its secretary and its members."""

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    # Unique through a constraint, not ``unique=True``: on PostgreSQL that would add a second
    # (varchar_pattern_ops) index, and every index is rewritten for each renumbered row when the
    # tree shifts (bench.chain: 15–30 % of an insert's cost on a 25,000-node street).
    code = models.SlugField(_("code"), max_length=40, db_index=False)
    parent = TreeForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    secretary = models.ForeignKey(
        "parties.Member",
        verbose_name=_("secretary"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # No index: it is only read through the node, and every index costs a rewrite per shifted row.
        db_index=False,
    )

    class MPTTMeta:
        order_insertion_by: list[str] = []

    # Declared here only to drop mptt's separate index on tree_id: mptt's own (tree_id, lft)
    # index serves subtree ranges and tree look-ups alike.
    tree_id = models.PositiveIntegerField(editable=False)

    objects = TreeManager.from_queryset(OrganizationQuerySet)()
    # A worker or official sees the subtree of their own node.
    scope = Scope(node="")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords(excluded_fields=["lft", "rght", "level", "tree_id"])  # mptt adds these late

    class Meta:
        verbose_name = _("chain node")
        verbose_name_plural = _("chain nodes")
        constraints = [models.UniqueConstraint(fields=["code"], name="organization_code_unique")]
        # Subtrees are ranges of lft within a tree: (tree_id, lft) serves them (mptt finds this
        # index and adds no copy of its own).
        indexes = [models.Index(fields=["tree_id", "lft"], name="org_tree_lft")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        parent = self.parent
        if parent is not None and self.pk and (
            parent.pk == self.pk
            or (
                parent.tree_id == self.tree_id
                and self.lft is not None
                and self.lft <= parent.lft <= self.rght
            )
        ):
            raise ValidationError({"parent": _("A node cannot be placed under itself or its own descendant.")})
        error = kind_rule_error(self.kind, parent.kind if parent else None)
        if error:
            raise ValidationError({"parent": error})

    def path_label(self) -> str:
        """The node's name with its ancestors, e.g. 交通街道 / 磷肥厂社区."""
        names = [a.name for a in self.get_ancestors()] + [self.name]
        return " / ".join(names)


class Member(models.Model):
    """A Party member (党员), belonging to a node. Where they live is ``grids.MemberResidence``."""

    name = models.CharField(_("name"), max_length=50)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="members"
    )
    in_service = models.BooleanField(
        _("in-service member"), default=False, help_text=_("在职党员: works elsewhere, reports to the community")
    )
    workplace = models.CharField(_("workplace unit"), max_length=100, blank=True)
    unit = models.ForeignKey(
        "parties.CoUnit", verbose_name=_("co-building unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="members", help_text=_("双报到: the unit an in-service member works at."),
    )
    account = models.OneToOneField(
        "governance.User",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_member",
        help_text=_("The member's sign-in, to claim micro-wishes on the members' board."),
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(node="organization")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization_id", "name"]
        verbose_name = _("Party member")
        verbose_name_plural = _("Party members")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.in_service and not self.workplace:
            raise ValidationError({"workplace": _("An in-service member needs a workplace unit.")})


# ------------------------------------------------------------------------------------ micro-wishes


class WishStatus(models.TextChoices):
    """群众点单 → 社区派单 → 党员接单 → 完成 → 评价."""

    SUBMITTED = "submitted", _("wish recorded")
    PUBLISHED = "published", _("published by the community")
    CLAIMED = "claimed", _("claimed by a Party member")
    FULFILLED = "fulfilled", _("fulfilled")
    EVALUATED = "evaluated", _("thanked and rated")
    WITHDRAWN = "withdrawn", _("withdrawn")


OPEN_WISH_STATUSES = frozenset({WishStatus.SUBMITTED, WishStatus.PUBLISHED, WishStatus.CLAIMED})
# The communities (urban) and villages (rural) whose members see a wish on their board.
COMMUNITY_KINDS: frozenset[str] = frozenset({Kind.COMMUNITY, Kind.VILLAGE})
# Where a wish is recorded: a community or village, or a grid's Party node under one.
WISH_PLACE_KINDS: frozenset[str] = COMMUNITY_KINDS | GRID_LEVEL_KINDS


class Wish(models.Model):
    """A resident's micro-wish (微心愿), published by the community for a Party member to fulfil.

    Its status changes only through ``parties.wishes`` (the transition table), like a petition's.
    The resident is named by a given name at most (shown masked on the members' board): a wish is
    small help, not a case file.
    """

    place = models.ForeignKey(
        Organization,
        verbose_name=_("where"),
        on_delete=models.PROTECT,
        related_name="wishes",
        limit_choices_to={"kind__in": sorted(WISH_PLACE_KINDS)},
        help_text=_("The community or village, or the grid's Party branch, where the resident lives."),
    )
    title = models.CharField(_("wish"), max_length=100)
    description = models.TextField(_("details"), max_length=1000, blank=True)
    resident_name = models.CharField(_("resident's name"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=WishStatus.choices, default=WishStatus.SUBMITTED, editable=False
    )
    recorded_by = models.ForeignKey(
        "governance.User", verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    claimed_by = models.ForeignKey(
        Member, verbose_name=_("claimed by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="claimed_wishes", editable=False,
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True, editable=False)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True, editable=False)
    fulfilment = models.TextField(_("what was done"), blank=True, editable=False)
    rating = models.CharField(
        _("resident's rating"), max_length=24, choices=Satisfaction.choices, blank=True, editable=False
    )

    objects = ScopedQuerySet.as_manager()
    # The staff whose part of the chain holds its place see it (the grid's worker, the community,
    # the street); members reach it through ``parties.wishes`` (their own community's board).
    scope = Scope(node="place")

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        indexes = [models.Index(fields=["place", "status"], name="wish_place_status")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("parties:wish", args=[self.pk])

    @property
    def masked_resident(self) -> str:
        """The resident as the board shows them: the family name only (王**)."""
        name = self.resident_name.strip()
        return f"{name[0]}{'*' * (len(name) - 1)}" if len(name) > 1 else name


class WishEvent(models.Model):
    """One step of a wish's history; append-only, like a petition's timeline."""

    wish = models.ForeignKey(Wish, verbose_name=_("micro-wish"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16)
    from_status = models.CharField(_("from"), max_length=12, choices=WishStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=WishStatus.choices)
    actor = models.ForeignKey(
        "governance.User", verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    scope = Scope(via="wish")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("micro-wish event")
        verbose_name_plural = _("micro-wish events")

    def __str__(self) -> str:
        return f"{self.wish_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


# ------------------------------------------------------------- 双报到 and points (issue 9)
# Co-building units, members' reports, services, and the points ledger. The rules and writes are
# ``parties.units`` (services, the service records' transition table) and ``parties.points``.


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
    DELIBERATION = "deliberation", _("deliberation meeting")

    @classmethod
    def posted(cls) -> tuple["ServiceKind", ...]:
        """The kinds the community posts for members to sign up to; the others are made by their workflow
        (a fulfilled micro-wish, a 五议 meeting that members took part in)."""
        return (cls.ACTIVITY, cls.PATROL)


class ServiceActivity(models.Model):
    """A service the community posts (服务活动): an activity, a patrol duty; or one its workflow made: a
    fulfilled micro-wish, a deliberation meeting (民主商议) with the Party members who took part."""

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
    deliberation = models.OneToOneField(
        "parties.Deliberation", verbose_name=_("matter for deliberation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="service", editable=False,
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


# ------------------------------------------------------------------------------ deliberation (五议)
# 居民提议 → 两委审议 → 民主商议 → 协同决议 → 公示 → 实施 → 大众评议 (the workflow: parties.deliberations)


class DeliberationStatus(models.TextChoices):
    """Where a matter stands; it moves only through ``parties.deliberations`` (the transition table)."""

    PROPOSED = "proposed", _("proposed by residents")
    ACCEPTED = "accepted", _("accepted by the two committees")
    REJECTED = "rejected", _("not taken up by the two committees")
    DISCUSSED = "discussed", _("discussed in a meeting")
    DECIDED = "decided", _("resolved jointly")
    NOTICED = "noticed", _("resolution on public notice")
    CARRIED_OUT = "carried_out", _("carried out")
    EVALUATED = "evaluated", _("evaluated by residents")


class DeliberationSource(models.TextChoices):
    RESIDENTS = "residents", _("raised by residents")
    PETITION = "petition", _("from recurring petitions")


class Deliberation(models.Model):
    """A matter for deliberation (议题) in a community, with the record of each of its five steps.

    The proposer is a resident: personal data, shown masked in lists. A matter raised from petitions
    is linked to them on the petitions' side (``petitions.PetitionProposal``): the chain knows no petition.
    """

    community = models.ForeignKey(
        Organization,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="deliberations",
        limit_choices_to={"kind__in": sorted(COMMUNITY_KINDS)},
    )
    title = models.CharField(_("matter"), max_length=100)
    description = models.TextField(_("details"), max_length=2000, blank=True)
    source = models.CharField(
        _("raised"), max_length=12, choices=DeliberationSource.choices, default=DeliberationSource.RESIDENTS
    )
    proposer_name = models.CharField(_("proposed by"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=DeliberationStatus.choices, default=DeliberationStatus.PROPOSED,
        editable=False,
    )
    recorded_by = models.ForeignKey(
        "governance.User", verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), db_index=True)
    # 两委审议
    review_note = models.TextField(_("the two committees' opinion"), blank=True, editable=False)
    # 民主商议
    meeting_on = models.DateField(_("meeting date"), null=True, blank=True, editable=False)
    meeting_place = models.CharField(_("meeting place"), max_length=100, blank=True, editable=False)
    attendees = models.PositiveIntegerField(_("attendees"), null=True, blank=True, editable=False)
    minutes = models.TextField(_("minutes"), blank=True, editable=False)
    units = models.TextField(_("units that took part"), blank=True, editable=False)
    members = models.ManyToManyField(
        Member, verbose_name=_("Party members who took part"), blank=True, related_name="deliberations"
    )
    # 协同决议
    resolution = models.TextField(_("resolution"), blank=True, editable=False)
    votes_for = models.PositiveIntegerField(_("votes for"), null=True, blank=True, editable=False)
    votes_against = models.PositiveIntegerField(_("votes against"), null=True, blank=True, editable=False)
    votes_abstain = models.PositiveIntegerField(_("abstentions"), null=True, blank=True, editable=False)
    responsible = models.CharField(_("responsible parties"), max_length=200, blank=True, editable=False)
    deadline = models.DateField(_("to be carried out by"), null=True, blank=True, editable=False)
    # 公示
    notice_starts_at = models.DateTimeField(_("public notice from"), null=True, blank=True, editable=False)
    notice_ends_at = models.DateTimeField(_("public notice until"), null=True, blank=True, editable=False)
    # 实施
    carried_out_note = models.TextField(_("what was done"), blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    # The community's workers and the street above see it; a grid worker below does not.
    scope = Scope(node="community")

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("matter for deliberation")
        verbose_name_plural = _("matters for deliberation")
        indexes = [models.Index(fields=["community", "status"], name="deliberation_community_status")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deliberations:detail", args=[self.pk])

    @property
    def masked_proposer(self) -> str:
        return mask_name(self.proposer_name)

    def notice_running(self, now: dt.datetime | None = None) -> bool:
        """Whether the resolution is on public notice now."""
        now = now or timezone.now()
        return (
            self.status == DeliberationStatus.NOTICED
            and self.notice_starts_at is not None
            and self.notice_ends_at is not None
            and self.notice_starts_at <= now < self.notice_ends_at
        )


class DeliberationEvent(models.Model):
    """One step of a matter's history, with its date and who: append-only, like a petition's timeline."""

    deliberation = models.ForeignKey(
        Deliberation, verbose_name=_("matter for deliberation"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=16)
    from_status = models.CharField(_("from"), max_length=12, choices=DeliberationStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=DeliberationStatus.choices)
    actor = models.ForeignKey(
        "governance.User", verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    scope = Scope(via="deliberation")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("deliberation step")
        verbose_name_plural = _("deliberation steps")

    def __str__(self) -> str:
        return f"{self.deliberation_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class DeliberationEvaluation(models.Model):
    """One resident's evaluation (大众评议) of a matter carried out, on the five-level scale."""

    deliberation = models.ForeignKey(
        Deliberation, verbose_name=_("matter for deliberation"), on_delete=models.CASCADE,
        related_name="evaluations",
    )
    resident_name = models.CharField(_("resident's name"), max_length=50, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=24, choices=Satisfaction.choices)
    comment = models.TextField(_("comment"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        "governance.User", verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))

    scope = Scope(via="deliberation")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("residents' evaluation")
        verbose_name_plural = _("residents' evaluations")

    def __str__(self) -> str:
        return f"{self.deliberation_id} {self.satisfaction}"

    @property
    def masked_resident(self) -> str:
        return mask_name(self.resident_name)

    @property
    def is_satisfied(self) -> bool:
        return self.satisfaction in SATISFIED_LEVELS
