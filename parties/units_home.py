"""The 双报到 panel on the home page: attendance to confirm, reports to confirm, members flagged."""

from typing import Any

from django.conf import settings
from django.utils import timezone

from governance.access import restrict
from governance.home import register_panel

from . import units
from .models import AwardStatus, Member, MemberReport, PointsAward
from .wishes import member_of


@register_panel("parties/units/_home_panel.html", order=25)
def units_panel(user: Any) -> dict[str, Any] | None:
    year = timezone.localdate().year
    to_confirm = units.waiting_confirmation_for(user).count()
    reports = 0
    flagged = 0
    awards: list[int] = []
    if not user.is_department_staff and (user.sees_everything or user.scope_node_id):
        reports = restrict(user, MemberReport.objects.filter(confirmed_at__isnull=True)).count()
        # Awards another colleague proposed, waiting for this user's decision (the community of each).
        awards = list(
            restrict(user, PointsAward.objects.filter(status=AwardStatus.PROPOSED)).exclude(proposed_by=user)
            .values_list("community_id", flat=True)
        )
        reported = restrict(user, MemberReport.objects.all()).values("member_id")
        flagged = (
            units.with_member_figures(Member.objects.filter(pk__in=reported), year)
            .filter(services__lt=settings.MEMBER_SERVICES_MIN).count()  # type: ignore[misc]
        )
    own_units = units.flag_units(list(units.with_unit_figures(units.units_for(user).filter(accounts=user))))
    member = member_of(user)
    open_services = units.open_activities_for(member).count() if member else 0
    report_home = units.report_home(member) if member else None
    if not (to_confirm or reports or flagged or own_units or open_services or awards or report_home):
        return None
    return {
        "to_confirm": to_confirm, "reports": reports, "flagged": flagged, "year": year,
        "awards": len(awards), "awards_community": awards[0] if awards else None,
        "own_units": own_units, "open_services": open_services, "report_home": report_home,
    }
