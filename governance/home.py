"""The home page's panels: each app says what waits for the user there; the home page shows them.

An app registers a panel in its ``AppConfig.ready`` (``register_panel``); the accounts layer knows
no app by name. A panel is a template and a function of the user giving its context (or None to
show nothing to this user).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PanelContext = Callable[[Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    template: str
    context: PanelContext
    order: int


_panels: list[Panel] = []


def register_panel(template: str, *, order: int = 100) -> Callable[[PanelContext], PanelContext]:
    def register(context: PanelContext) -> PanelContext:
        _panels.append(Panel(template, context, order))
        _panels.sort(key=lambda panel: panel.order)
        return context

    return register


def panels_for(user: Any) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of every panel that has something for ``user``, in order."""
    shown = []
    for panel in _panels:
        context = panel.context(user)
        if context is not None:
            shown.append((panel.template, context))
    return shown
