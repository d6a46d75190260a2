from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..calendar import missing_year_or_none, missing_year_text

register = template.Library()


@register.simple_tag
def calendar_warning() -> SafeString | str:
    """The admin banner while a year's working calendar is due and missing."""
    year = missing_year_or_none()
    if year is None:
        return ""
    text = missing_year_text(year)
    return format_html('<ul class="messagelist"><li class="warning" id="calendar-warning">{}</li></ul>', text)
