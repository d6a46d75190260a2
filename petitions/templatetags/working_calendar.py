from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..calendar import missing_year_or_none

register = template.Library()


@register.simple_tag
def calendar_warning() -> SafeString | str:
    """The admin banner while a year's working calendar is due and missing."""
    year = missing_year_or_none()
    if year is None:
        return ""
    text = _(
        "The working calendar for %(year)d has not been entered: deadlines in %(year)d count statutory "
        "holidays only and are provisional. Enter the State Council's schedule under Working calendar."
    ) % {"year": year}
    return format_html('<ul class="messagelist"><li class="warning" id="calendar-warning">{}</li></ul>', text)
