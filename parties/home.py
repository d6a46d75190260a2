"""The micro-wishes' panel on the home page: what waits for a member, and for the community's staff."""

from typing import Any

from governance.home import register_panel

from . import wishes
from .models import WishStatus


@register_panel("parties/_home_panel.html", order=20)
def wishes_panel(user: Any) -> dict[str, Any] | None:
    member, open_wishes, mine = wishes.board_for(user)
    staff = wishes.wishes_for_staff(user) if not user.is_department_staff else None
    to_publish = staff.filter(status=WishStatus.SUBMITTED).count() if staff is not None else 0
    stale = staff.filter(wishes.unclaimed_too_long_q()).count() if staff is not None else 0
    waiting = open_wishes.count() if member else 0
    to_fulfil = mine.filter(status=WishStatus.CLAIMED).count() if member else 0
    if not (member or to_publish or stale):
        return None
    return {"member": member, "waiting": waiting, "to_fulfil": to_fulfil, "to_publish": to_publish, "stale": stale}


# ------------------------------------------------------------------------------ deliberation (五议)


@register_panel("parties/_deliberation_panel.html", order=25)
def deliberations_panel(user: Any) -> dict[str, Any] | None:
    """The matters waiting for the user's step, per step (one query); nothing when none waits."""
    from . import deliberations

    counts = deliberations.waiting_counts(deliberations.deliberations_for(user))
    if not any(counts.values()):
        return None
    return {"counts": counts}
