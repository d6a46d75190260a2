"""The petitions' panel on the home page: where to go, and the unread reminders."""

from typing import Any

from governance.access import restrict
from governance.home import register_panel

from . import queues, workflow
from .models import Notification, Petition, Status

NOTICES_SHOWN = 3


@register_panel("petitions/_home_panel.html", order=10)
def petitions_panel(user: Any) -> dict[str, Any]:
    unread_qs = Notification.objects.filter(user=user, read_at__isnull=True)
    unread = unread_qs.filter(petition__isnull=False).count()
    # Notices about no petition (the working calendar missing): each shown, newest first, a few.
    notices = list(unread_qs.filter(petition__isnull=True).values("text", "url")[:NOTICES_SHOWN])
    # The street's dispatch queue: what the grids reported up (吹哨), for those who dispatch.
    dispatches = user.sees_everything or user.role in workflow.TRANSITIONS["dispatch"].roles
    reported = restrict(user, Petition.objects.filter(status=Status.REPORTED)).count() if dispatches else 0
    return {"unread": unread, "notices": notices, "can_register": workflow.may_register(user), "reported": reported}


@register_panel("petitions/_queues.html", order=5)
def queues_panel(user: Any) -> dict[str, Any] | None:
    """The user's work queues (工作台), each count one tap from its list (``queues``): one query."""
    counted = queues.counts(user)
    if not counted:
        return None
    return {"queues": [{"key": q.key, "label": q.label, "count": n} for q, n in counted]}
