"""Deliberation (五议): 居民提议 → 两委审议 → 民主商议 → 协同决议 → 公示 → 实施 → 大众评议.

Its own module, imported at the end of ``parties.models``, so the chain's models stay readable and
the other practices of issue 9 (双报到, points) add theirs without touching these lines.
"""

import datetime as dt

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.access import Scope, ScopedQuerySet
from governance.masking import mask_name
from governance.models import SATISFIED_LEVELS, Satisfaction

from .models import COMMUNITY_KINDS, Member, Organization


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
