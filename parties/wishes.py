"""Micro-wishes (微心愿): 群众点单 → 社区派单 → 党员接单 → 完成 → 评价.

The state machine has the shape of ``petitions.workflow``: one table of transitions, one ``apply`` that
locks the row, checks who may act and from which status, writes the status and an append-only
event. The services below are the only writers; pages and admin call them.

    submitted ──publish──▶ published ──claim──▶ claimed ──fulfil──▶ fulfilled ──evaluate──▶ evaluated
        └──────────withdraw──────┴──▶ withdrawn

Who acts: the staff whose scope holds the wish's place (the grid's worker, the community's and
the street's officials) record, publish, withdraw and record the resident's rating; a Party
member whose account is linked (``Member.account``) and who belongs to the community the wish is
in claims and fulfils it. District leadership may take the staff's steps, not the members'.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.access import Viewer, covers, restrict, subtree_q
from governance.exceptions import TransitionNotAllowed
from governance.models import Satisfaction, User

from .models import (
    COMMUNITY_KINDS,
    WISH_PLACE_KINDS,
    Member,
    Organization,
    ServiceActivity,
    ServiceKind,
    ServiceRecord,
    Wish,
    WishEvent,
    WishStatus,
)

S = WishStatus
STAFF = "staff"  # the community's workers and officials (their scope covers the wish)
MEMBER = "member"  # a Party member of the community, signed in with their linked account


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actor: str
    label: object


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("publish", frozenset({S.SUBMITTED}), S.PUBLISHED, STAFF, gettext_lazy("publish")),
        Transition("withdraw", frozenset({S.SUBMITTED, S.PUBLISHED}), S.WITHDRAWN, STAFF, gettext_lazy("withdraw")),
        Transition("claim", frozenset({S.PUBLISHED}), S.CLAIMED, MEMBER, gettext_lazy("claim")),
        Transition("fulfil", frozenset({S.CLAIMED}), S.FULFILLED, MEMBER, gettext_lazy("fulfil")),
        Transition("evaluate", frozenset({S.FULFILLED}), S.EVALUATED, STAFF, gettext_lazy("record the thanks")),
    )
}
RECORD = "record"


def member_of(user: Viewer) -> Member | None:
    """The Party member whose account ``user`` is, if any."""
    if not isinstance(user, User) or not user.is_active:
        return None
    return Member.objects.filter(account=user).select_related("organization").first()


def community_of(node: Organization) -> Organization | None:
    """The community (or village) a chain node is in: the node itself or the nearest one above it."""
    if node.kind in COMMUNITY_KINDS:
        return node
    return node.get_ancestors().filter(kind__in=COMMUNITY_KINDS).order_by("-level").first()


def _is_staff_for(user: User, wish: Wish) -> bool:
    return not user.is_department_staff and covers(user, wish)


def _is_claimant(user: User, wish: Wish, action: str) -> bool:
    member = member_of(user)
    if member is None:
        return False
    if action == "claim":
        community = community_of(member.organization)
        return community is not None and community == community_of(wish.place)
    return wish.claimed_by_id == member.pk


def may(user: User, wish: Wish, action: str) -> bool:
    """Whether ``user`` may take ``action`` on ``wish`` now (for showing buttons)."""
    transition = TRANSITIONS[action]
    return wish.status in transition.sources and _role_allows(user, wish, transition)


def _role_allows(user: User, wish: Wish, transition: Transition) -> bool:
    if transition.actor == MEMBER:
        return _is_claimant(user, wish, transition.action)
    return user.sees_everything or _is_staff_for(user, wish)


def may_see(user: Viewer, wish: Wish) -> bool:
    """Staff whose scope covers it, the members of its community once published, and its claimant."""
    if not isinstance(user, User) or not user.is_active:
        return False
    if covers(user, wish):
        return True
    if wish.status == S.SUBMITTED or wish.status == S.WITHDRAWN:
        return False
    return _is_claimant(user, wish, "claim") or _is_claimant(user, wish, "fulfil")


Change = Callable[[Wish, dt.datetime], None]


def apply(*, wish_id: int, action: str, actor: User, note: str = "", change: Change | None = None) -> Wish:
    """Take ``action`` in one transaction: lock, re-check who and from which status, write, log.

    ``Http404`` when the wish is missing or not visible to the actor, ``PermissionDenied`` when the
    actor may not take this step, ``TransitionNotAllowed`` (409) when the status does not allow it.
    """
    transition = TRANSITIONS[action]
    with transaction.atomic():
        wish = Wish.objects.select_for_update().filter(pk=wish_id).first()
        if wish is None or not may_see(actor, wish):
            raise Http404
        if not _role_allows(actor, wish, transition):
            raise PermissionDenied(_("You may not %(action)s this wish.") % {"action": transition.label})
        if wish.status not in transition.sources:
            raise TransitionNotAllowed(
                _("Cannot %(action)s a wish that is %(status)s.")
                % {"action": transition.label, "status": wish.get_status_display()}
            )
        now = timezone.now()
        from_status = wish.status
        if change is not None:
            change(wish, now)
        wish.status = transition.target
        wish.save()
        WishEvent.objects.create(
            wish=wish, action=action, from_status=from_status, to_status=wish.status, actor=actor, at=now, note=note
        )
    return wish


# -------------------------------------------------------------------------------------- services


def _required(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    return value


def wish_record(
    *, actor: User, place: Organization, title: str, description: str = "", resident_name: str = ""
) -> Wish:
    """群众点单: a worker records a resident's wish where they live (a place in the actor's scope)."""
    errors: dict[str, str] = {}
    if place.kind not in WISH_PLACE_KINDS:
        errors["place"] = _("Choose a community, a village or a grid's Party branch.")
    elif actor.is_department_staff or not covers(actor, place):
        errors["place"] = _("This place is not in your area.")
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Say what the resident wishes for.")
    wish = Wish(
        place=place,
        title=title,
        description=(description or "").strip(),
        resident_name=(resident_name or "").strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    try:
        wish.full_clean(exclude=["place", "recorded_by"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        wish.save()
        WishEvent.objects.create(
            wish=wish, action=RECORD, from_status="", to_status=wish.status, actor=actor, at=wish.recorded_at
        )
    return wish


def wish_publish(*, actor: User, wish_id: int, note: str = "") -> Wish:
    """社区派单: the community puts the wish on its members' board."""

    def change(w: Wish, now: dt.datetime) -> None:
        w.published_at = now

    return apply(wish_id=wish_id, action="publish", actor=actor, note=note, change=change)


def wish_withdraw(*, actor: User, wish_id: int, reason: str) -> Wish:
    """The resident no longer needs it, or it is not a wish the community takes on."""
    return apply(wish_id=wish_id, action="withdraw", actor=actor, note=_required(reason, "reason"))


def wish_claim(*, actor: User, wish_id: int) -> Wish:
    """党员接单: a member of the community takes it on (one member; the first to claim)."""
    member = member_of(actor)

    def change(w: Wish, now: dt.datetime) -> None:
        w.claimed_by = member
        w.claimed_at = now

    return apply(wish_id=wish_id, action="claim", actor=actor, change=change)


def wish_fulfil(*, actor: User, wish_id: int, fulfilment: str) -> Wish:
    """The member says what was done."""
    fulfilment = _required(fulfilment, "fulfilment")

    def change(w: Wish, now: dt.datetime) -> None:
        w.fulfilled_at = now
        w.fulfilment = fulfilment

    with transaction.atomic():
        wish = apply(wish_id=wish_id, action="fulfil", actor=actor, note=fulfilment, change=change)
        # 双报到: the fulfilled wish counts as the member's service once the community confirms it.
        service_for_wish(wish=wish, actor=actor)
    return wish


def wish_evaluate(*, actor: User, wish_id: int, rating: str, note: str = "") -> Wish:
    """The resident's thanks and rating (five levels), recorded by the community."""
    if rating not in Satisfaction.values:
        raise ValidationError({"rating": _("Choose the resident's rating.")})

    def change(w: Wish, now: dt.datetime) -> None:
        w.rating = rating

    return apply(wish_id=wish_id, action="evaluate", actor=actor, note=note, change=change)


def service_for_wish(*, wish: Wish, actor: User) -> ServiceRecord | None:
    """A fulfilled micro-wish counts as a service of its claimant, waiting for the community's confirmation.

    Called by ``wish_fulfil`` in its transaction; a wish makes one service (its one-to-one link).
    """
    community = community_of(wish.place)
    if community is None or wish.claimed_by_id is None:
        return None
    now = timezone.now()
    activity, _created = ServiceActivity.objects.get_or_create(
        wish=wish,
        defaults={"community": community, "kind": ServiceKind.WISH, "title": wish.title,
                  "held_on": timezone.localdate(now), "posted_by": actor, "posted_at": now},
    )
    record, _created = ServiceRecord.objects.get_or_create(
        activity=activity, member_id=wish.claimed_by_id, defaults={"signed_up_at": now}
    )
    return record


# ------------------------------------------------------------------------------------- selectors


def unclaimed_too_long_q(now: dt.datetime | None = None) -> Q:
    """Published and unclaimed for more than ``WISH_UNCLAIMED_DAYS``: flagged to the community."""
    limit = (now or timezone.now()) - dt.timedelta(days=settings.WISH_UNCLAIMED_DAYS)
    return Q(status=S.PUBLISHED, published_at__lt=limit)


def wishes_for_staff(user: Viewer) -> QuerySet[Wish]:
    """The wishes of the communities in ``user``'s scope, newest first."""
    return restrict(user, Wish.objects.select_related("place", "claimed_by")).order_by("-recorded_at", "-id")


def board_for(user: Viewer) -> tuple[Member | None, QuerySet[Wish], QuerySet[Wish]]:
    """A member's board: the open wishes of their community, and the ones they claimed."""
    member = member_of(user)
    if member is None:
        return None, Wish.objects.none(), Wish.objects.none()
    community = community_of(member.organization)
    open_wishes = (
        Wish.objects.filter(subtree_q(community, "place"), status=S.PUBLISHED)
        .select_related("place")
        .order_by("published_at", "id")
        if community is not None
        else Wish.objects.none()
    )
    mine = Wish.objects.filter(claimed_by=member).exclude(status=S.WITHDRAWN).order_by("-claimed_at", "-id")
    return member, open_wishes, mine


def wish_for(user: Viewer, wish_id: int) -> Wish:
    """One wish with its timeline; 404 when missing or not visible (the same answer)."""
    wish = Wish.objects.select_related("place", "claimed_by", "recorded_by").filter(pk=wish_id).first()
    if wish is None or not may_see(user, wish):
        raise Http404
    return wish
