"""道德积分银行 (seed 004): the residents' moral points bank, a second ledger, per household.

Points are earned in four categories (修身、润家、睦邻、怡城) and spent on items (兑换). A household's
balance is the sum of its entries; a redemption is a negative entry linked to its record, written
under a lock on the household's row after re-reading the balance, so two redemptions at once can
never take it below zero. Entries are never edited or deleted: a mistake is reversed by a new entry.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import covers
from governance.exceptions import TransitionNotAllowed
from governance.models import User

from .models import Household, MoralCategory, MoralEntry, MoralRedemption, Resident


def _staff_for(actor: User, household: Household) -> bool:
    return actor.is_active and not actor.is_department_staff and covers(actor, household)


def moral_balance(household: Household | int) -> int:
    """The household's points: the sum of its ledger."""
    total = MoralEntry.objects.filter(household=household).aggregate(total=Sum("points"))["total"]
    return int(total or 0)


def moral_award(
    *, actor: User, household: Household, category: str, points: int, reason: str, resident: Resident | None = None
) -> MoralEntry:
    """The grid or community records points a household (or one of its residents) earned."""
    errors: dict[str, str] = {}
    if not _staff_for(actor, household):
        errors["household"] = _("This household is not in your area.")
    if category not in MoralCategory.values:
        errors["category"] = _("Choose one of the four categories.")
    if not isinstance(points, int) or points <= 0:
        errors["points"] = _("Give a positive number of points.")
    if not (reason or "").strip():
        errors["reason"] = _("This field is required.")
    if resident is not None and resident.household_id != household.pk:
        errors["resident"] = _("The resident does not live in this household.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    return MoralEntry.objects.create(
        household=household, resident=resident, category=category, points=points, reason=reason.strip(),
        on=timezone.localdate(now), granted_by=actor, created_at=now,
    )


def moral_redeem(*, actor: User, household_id: int, item: str, points: int) -> MoralRedemption:
    """兑换: spend points on an item; refused (naming the points) when the balance would go below zero."""
    errors: dict[str, str] = {}
    if not (item or "").strip():
        errors["item"] = _("This field is required.")
    if not isinstance(points, int) or points <= 0:
        errors["points"] = _("Give a positive number of points.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # The household's row is the lock: every redemption of it queues here and re-reads the balance.
        household = Household.objects.select_for_update().filter(pk=household_id).first()
        if household is None or not _staff_for(actor, household):
            raise Http404
        available = moral_balance(household)
        if points > available:
            raise ValidationError(
                {"points": _("Only %(n)d points are available; the balance cannot go below zero.") % {"n": available}}
            )
        now = timezone.now()
        redemption = MoralRedemption.objects.create(
            household=household, item=item.strip(), points=points, redeemed_at=now, recorded_by=actor
        )
        MoralEntry.objects.create(
            household=household, points=-points, reason=item.strip(), on=timezone.localdate(now),
            redemption=redemption, granted_by=actor, created_at=now,
        )
    return redemption


def moral_reverse(*, actor: User, entry_id: int, reason: str) -> MoralEntry:
    """Undo an earned entry by a new one of the opposite sign (once). A redemption is not reversed here."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("This field is required.")})
    with transaction.atomic():
        entry = MoralEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise Http404
        household = Household.objects.select_for_update().get(pk=entry.household_id)
        if not _staff_for(actor, household):
            raise Http404
        if entry.reverses_id or entry.redemption_id or MoralEntry.objects.filter(reverses=entry).exists():
            raise TransitionNotAllowed(_("This entry cannot be reversed (again)."))
        if moral_balance(household) < entry.points:
            raise ValidationError({"reason": _("The points were spent already; the balance cannot go below zero.")})
        now = timezone.now()
        return MoralEntry.objects.create(
            household=household, resident=entry.resident, category=entry.category, points=-entry.points,
            reason=reason, on=timezone.localdate(now), reverses=entry, granted_by=actor, created_at=now,
        )


def may_reverse(entry: MoralEntry) -> bool:
    """An earned entry not reversed yet (a redemption and a reversal are not reversed here)."""
    if entry.reverses_id or entry.redemption_id or entry.points <= 0:
        return False
    return not hasattr(entry, "reversed_by")  # the reverse one-to-one: absent until it is reversed
