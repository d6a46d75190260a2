"""The dashboard tables' body rows, written in Python.

A district's tables hold thousands of cells; each cell's few conditions (a link down, a link to its
petitions, the red or black list flag) cost the template language about ten times what they cost
here. The markup is the one the page's script sorts by (``data-value``) and the tests read.
"""

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def _escape(value: Any) -> str:
    """``conditional_escape`` without its check of every argument for a lazy string (a district's tables
    escape 3,000 cells: the check cost more than the escaping); the same output."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


@register.simple_tag
def dashboard_rows(rows: Iterable[tuple[list[dict[str, Any]], str, str, str]]) -> SafeString:
    """``<tr>`` per row of ``petitions.views.dashboard``'s tables: (cells, standing, link down, code)."""
    flags = {
        "red": format_html(' <span class="flag">{}</span>', _("red list")),
        "black": format_html(' <span class="flag overdue">{}</span>', _("black list")),
    }
    out: list[str] = []
    for cells, standing, down, code in rows:
        standing_ = _escape(standing)
        out.append(f'<tr class="{standing_}" data-standing="{standing_}" data-code="{_escape(code)}">')
        for i, cell in enumerate(cells):
            value = cell["value"]
            text = _escape(cell["text"])
            if i == 0 and down:
                inner = f'<a href="{_escape(down)}">{text}</a>'
            elif cell["link"] and value:
                inner = f'<a href="{_escape(cell["link"])}">{text}</a>'
            else:
                inner = text
            if i == 0:
                inner += flags.get(standing, "")
            numeric = ' class="num"' if cell["kind"] != "text" else ""
            shown = "" if value is None else _escape(value)
            out.append(f'<td{numeric} data-value="{shown}">{inner}</td>')
        out.append("</tr>")
    return mark_safe("".join(out))  # every value above is escaped
