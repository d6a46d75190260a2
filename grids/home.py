"""The field-work panel on the home page: households late for a visit, and where to record a patrol."""

from typing import Any

from governance.home import register_panel

from . import fieldwork


@register_panel("grids/_home_panel.html", order=15)
def fieldwork_panel(user: Any) -> dict[str, Any] | None:
    if not fieldwork.may_do_fieldwork(user):
        return None
    return {"late": fieldwork.late_households(user).count(), "official": user.role != user.Role.WORKER}
