from typing import Any

from django import template

from .. import workflow

register = template.Library()


@register.filter
def may_register(user: Any) -> bool:
    """Whether to offer 登记诉求 to ``user`` (the rule: ``workflow.may_register``)."""
    return workflow.may_register(user)
