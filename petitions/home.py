"""The petitions' panel on the home page: where to go, and the unread reminders."""

from typing import Any

from governance.home import register_panel

from . import workflow
from .models import Notification


@register_panel("petitions/_home_panel.html", order=10)
def petitions_panel(user: Any) -> dict[str, Any]:
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {"unread": unread, "can_register": workflow.may_register(user)}
