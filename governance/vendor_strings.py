"""Chinese for the screens of packages that ship none (django-axes) or miss a few (Django's admin index).

Nothing imports this at run time: ``make messages`` extracts these msgids into our catalogue, and
our catalogue (``LOCALE_PATHS``) comes before the packages' own. Each string is copied exactly as the
package marks it.
"""

from django.utils.translation import gettext_noop as _

STRINGS = (
    # django.contrib.admin: the headers of the index's tables (read out by screen readers).
    _("Model name"),
    _("Add link"),
    _("Change or view list link"),
    # django-axes: its models and their fields.
    _("access attempt"),
    _("access attempts"),
    _("access failure"),
    _("access failures"),
    _("access attempt expiration"),
    _("access attempt expirations"),
    _("access log"),
    _("access logs"),
    _("Access Attempt"),
    _("User Agent"),
    _("IP Address"),
    _("Username"),
    _("HTTP Accept"),
    _("Path"),
    _("Attempt Time"),
    _("Access lock out"),
    _("GET Data"),
    _("POST Data"),
    _("Failed Logins"),
    _("Expires At"),
    _("The time when access attempt expires and is no longer valid."),
    _("Logout Time"),
    _("Session key hash (sha256)"),
    # django-axes: its admin pages.
    _("Locked Out"),
    _("Form Data"),
    _("Meta Data"),
    _("Clean up expired attempts"),
    _("Not set"),
    _("Attempt Remaining"),
)
