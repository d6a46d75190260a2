"""Grids (网格) and what they hold: buildings, households, residents, and the staff assigned."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from governance.access import Scope, ScopedQuerySet
from parties.models import GRID_LEVEL_KINDS, HOUSEHOLD_KINDS, Member, Organization

from .fields import PersonalDataField
from .geo import validate_boundary
from .identity import mask_id_card, mask_name, mask_phone


class Grid(models.Model):
    """The unit of service, led by a grid-level node of the chain (单建 or 联建)."""

    class Kind(models.TextChoices):
        URBAN = "urban", _("urban community grid")
        RURAL = "rural", _("rural grid")
        DEDICATED = "dedicated", _("dedicated grid")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.URBAN)
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("leading Party node"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"kind__in": sorted(GRID_LEVEL_KINDS)},
    )
    # Where the grid lies: a GeoJSON Polygon or MultiPolygon ([longitude, latitude]), edited in admin
    # as text; a petition's point inside it suggests this grid (``geo``).
    boundary = models.JSONField(
        _("boundary (GeoJSON)"),
        null=True,
        blank=True,
        validators=[validate_boundary],
        help_text=_('A GeoJSON Polygon or MultiPolygon, positions as [longitude, latitude], e.g. '
                    '{"type": "Polygon", "coordinates": [[[126.01, 45.02], [126.03, 45.02], [126.03, 45.04], '
                    '[126.01, 45.02]]]}'),
    )

    objects = ScopedQuerySet.as_manager()
    # A grid is visible with its leading node; a street has a few hundred, passed on as a list of ids.
    scope = Scope(node="branch", id_list=True)
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.branch_id is not None and self.branch.kind not in GRID_LEVEL_KINDS:
            raise ValidationError({"branch": _("A grid is led by a grid Party branch or a grid Party group.")})

    def household_standard(self) -> int | None:
        """How many households a grid of this kind is sized for, if there is a standard."""
        return settings.GRID_HOUSEHOLD_STANDARD.get(self.kind)

    def sizing_warning(self, household_count: int) -> str | None:
        """A warning (never a block) when the grid is far from its sizing standard (±50 %)."""
        standard = self.household_standard()
        if not standard:
            return None
        if household_count < standard * 0.5:
            return str(_("far below the standard of about %(n)d households") % {"n": standard})
        if household_count > standard * 1.5:
            return str(_("far above the standard of about %(n)d households") % {"n": standard})
        return None


class Building(models.Model):
    """A building (楼栋) in a grid; in a village, a group of houses."""

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="buildings")
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="grid")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """A household (户): a residence, a shop, or a resident unit (驻区单位)."""

    class Kind(models.TextChoices):
        RESIDENCE = "residence", _("residence")
        SHOP = "shop", _("shop")
        UNIT = "unit", _("resident unit")

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="households"
    )
    room = models.CharField(_("room"), max_length=20)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.RESIDENCE)
    linked_node = models.ForeignKey(
        Organization,
        verbose_name=_("linked Party member household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_households",
        limit_choices_to={"kind__in": sorted(HOUSEHOLD_KINDS)},
        help_text=_("一户联十户: the member household that looks after this one"),
    )
    party_members = models.ManyToManyField(
        Member, verbose_name=_("Party members living here"), through="MemberResidence", blank=True,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="building__grid")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        ordering = ["building_id", "room"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [models.UniqueConstraint(fields=["building", "room"], name="household_room_unique")]

    def __str__(self) -> str:
        return f"{self.building} {self.room}"

    def clean(self) -> None:
        if self.linked_node is not None and self.linked_node.kind not in HOUSEHOLD_KINDS:
            raise ValidationError(
                {"linked_node": _("Only a member household or contact household can link households.")}
            )


class Resident(models.Model):
    """A resident. The ID-card number is encrypted; a keyed hash finds duplicates without decrypting."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="residents"
    )
    name = models.CharField(_("name"), max_length=50)
    id_card: "models.CharField[str, str]" = PersonalDataField(_("ID-card number"), max_length=18)
    id_card_hash = models.CharField(
        _("ID-card look-up hash"), max_length=64, blank=True, null=True, unique=True, editable=False
    )
    phone = models.CharField(_("phone"), max_length=11, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="household__building__grid")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords(excluded_fields=["id_card", "id_card_hash"])

    class Meta:
        ordering = ["household_id", "id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_card(self) -> str:
        return mask_id_card(self.id_card)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class GridAssignment(models.Model):
    """A member of staff assigned to a grid with a role."""

    class Role(models.TextChoices):
        LEADER = "leader", _("grid leader")
        FULL_TIME = "full_time", _("full-time grid worker")
        PART_TIME = "part_time", _("part-time grid worker")
        PROFESSIONAL = "professional", _("professional grid worker")
        INSTRUCTOR = "instructor", _("grid instructor")

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff"), on_delete=models.CASCADE, related_name="grid_assignments"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # The number printed on the grid's service card (网格连心服务卡): a work phone, never a private one.
    work_phone = models.CharField(_("work phone"), max_length=20, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="grid")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grid staff assignment")
        verbose_name_plural = _("grid staff assignments")
        constraints = [models.UniqueConstraint(fields=["grid", "user", "role"], name="assignment_unique")]

    def __str__(self) -> str:
        return f"{self.grid} · {self.get_role_display()} · {self.user}"


class MemberResidence(models.Model):
    """Where a Party member lives: one household of a grid (the community they report to, 双报到).

    Kept here, not on ``parties.Member``: the chain does not depend on the grids; grids hang off it.
    """

    member = models.OneToOneField(
        Member, verbose_name=_("Party member"), primary_key=True, on_delete=models.CASCADE, related_name="residence"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="member_residences"
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="household")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("Party member's residence")
        verbose_name_plural = _("Party members' residences")

    def __str__(self) -> str:
        return f"{self.member} · {self.household}"


class KeyPopulation(models.Model):
    """A key-population class (重点人群: 独居老人, 残疾人, 留守儿童 …), kept by admins, with how often
    its households are to be visited (入户走访)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    visit_interval_days = models.PositiveSmallIntegerField(
        _("visit every (days)"), help_text=_("A household of this class not visited for longer is late.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    households = models.ManyToManyField(
        Household, verbose_name=_("households"), through="HouseholdKeyPopulation", blank=True,
        related_name="key_populations",
    )

    objects = ScopedQuerySet.as_manager()
    # Reference data: every signed-in user reads the classes.
    scope = Scope(public=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["visit_interval_days", "code"]
        verbose_name = _("key-population class")
        verbose_name_plural = _("key-population classes")

    def __str__(self) -> str:
        return self.name


class HouseholdKeyPopulation(models.Model):
    """A household put in a key-population class; its visit clock runs from ``since`` until a visit."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="key_population_links"
    )
    key_population = models.ForeignKey(
        KeyPopulation, verbose_name=_("key-population class"), on_delete=models.CASCADE, related_name="links"
    )
    since = models.DateTimeField(_("since"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="household")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household in a key-population class")
        verbose_name_plural = _("households in key-population classes")
        constraints = [
            models.UniqueConstraint(fields=["household", "key_population"], name="household_key_population_unique")
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.key_population}"


class Patrol(models.Model):
    """A grid worker's patrol (巡查) of a grid: when, the route or places checked, what was found.

    A problem found becomes a petition (channel 巡查发现) that points back here (``Petition.patrol``).
    """

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="patrols")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("patrolled by"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"))
    route = models.TextField(_("route or places checked"), max_length=1000)
    findings = models.TextField(_("what was found"), max_length=2000, blank=True)
    problem_found = models.BooleanField(_("problem found"), default=False)
    problem_place = models.CharField(_("where the problem is"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="grid")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        indexes = [models.Index(fields=["grid", "-started_at"], name="patrol_grid_recent")]

    def __str__(self) -> str:
        return f"{self.grid} · {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("grids:patrol", args=[self.pk])


class Visit(models.Model):
    """A household visit (入户走访): what it was for, what was learned, and any follow-up needed.

    What was learned is personal data: shown whole only to users whose scope covers the household,
    each viewing logged; lists show who and when, never the notes.
    """

    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.PROTECT,
                                  related_name="visits")
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visited by"), on_delete=models.PROTECT, related_name="+"
    )
    visited_at = models.DateTimeField(_("visited at"))
    key_population = models.ForeignKey(
        KeyPopulation, verbose_name=_("key-population class"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="visits",
    )
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    learned = models.TextField(_("what was learned"), max_length=2000)
    follow_up_needed = models.BooleanField(_("follow-up needed"), default=False)
    follow_up = models.TextField(_("follow-up"), max_length=1000, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="household")
    history = HistoricalRecords(excluded_fields=["learned", "follow_up"])

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        indexes = [models.Index(fields=["household", "-visited_at"], name="visit_household_recent")]

    def __str__(self) -> str:
        return f"{self.household} · {timezone.localtime(self.visited_at):%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("grids:visit", args=[self.pk])


# ------------------------------------------------------------------------- moral points bank (issue 9)


class MoralCategory(models.TextChoices):
    """道德积分银行's four categories (seed 004)."""

    SELF = "self", _("self-cultivation (修身)")
    FAMILY = "family", _("family (润家)")
    NEIGHBOURS = "neighbours", _("neighbourliness (睦邻)")
    CITY = "city", _("civic life (怡城)")


class MoralRedemption(models.Model):
    """A household spends points from the moral points bank on an item (兑换)."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="moral_redemptions"
    )
    item = models.CharField(_("item"), max_length=100)
    points = models.PositiveIntegerField(_("points spent"))
    redeemed_at = models.DateTimeField(_("redeemed at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="household__building__grid")

    class Meta:
        ordering = ["-redeemed_at", "-id"]
        verbose_name = _("moral points redemption")
        verbose_name_plural = _("moral points redemptions")
        constraints = [models.CheckConstraint(condition=models.Q(points__gt=0), name="moral_redemption_positive")]

    def __str__(self) -> str:
        return f"{self.household} · {self.item} · {self.points}"


class MoralEntry(models.Model):
    """One line of a household's moral points ledger (道德积分银行). Never edited or deleted: a
    redemption is a negative entry pointing at it, a mistake a reversal pointing at the entry."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="moral_entries"
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("The resident the points were earned by, when it was one person."),
    )
    category = models.CharField(_("category"), max_length=12, choices=MoralCategory.choices, blank=True)
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    on = models.DateField(_("date"), db_index=True)
    redemption = models.OneToOneField(
        MoralRedemption, verbose_name=_("redemption"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="entry",
    )
    reverses = models.OneToOneField(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"))

    objects = ScopedQuerySet.as_manager()
    scope = Scope(via="household__building__grid")

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("moral points entry")
        verbose_name_plural = _("moral points ledger")
        constraints = [
            # An earned entry names its category; a redemption or a reversal takes its meaning from its link.
            models.CheckConstraint(
                condition=models.Q(redemption__isnull=False)
                | models.Q(reverses__isnull=False)
                | ~models.Q(category=""),
                name="moral_entry_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.points:+d} {self.reason}"
