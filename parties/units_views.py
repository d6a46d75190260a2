"""双报到 pages: the overview, a community's page, a unit's page (and its XLSX), the members' services.

Views parse input, call ``parties.units`` / ``parties.points`` and render. Refusals look as they do
for micro-wishes: 404 for what the user may not see, 403 with the reason for a step their role may
not take, a message and the page again when the record moved on meanwhile (409), the form with the
message next to the field for bad input (400).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.exceptions import TransitionNotAllowed

from . import points, units
from .models import ServiceActivity
from .units_forms import ActivityForm, YearForm
from .units_reports import unit_assessment_xlsx
from .wishes import member_of

LIST_SIZE = 200


def _year(request: HttpRequest) -> int | HttpResponse:
    form = YearForm(request.GET)
    if not form.is_valid():
        return render(request, "parties/units/bad_year.html", {"form": form}, status=400)
    return form.chosen_year()


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Where each role starts: staff their communities and units, a unit's account its unit, a member
    the services they may sign up to and their own records."""
    user: Any = request.user
    year = _year(request)
    if isinstance(year, HttpResponse):
        return year
    communities = list(units.communities_for(user)[:LIST_SIZE]) if not user.is_department_staff else []
    unit_list = units.flag_units(
        list(units.with_unit_figures(units.units_for(user)).order_by("name", "pk")[:LIST_SIZE])
    )
    member = member_of(user)
    context: dict[str, Any] = {"communities": communities, "units": unit_list, "member": member, "year": year}
    if member is not None:
        context["open_activities"] = list(units.open_activities_for(member)[:LIST_SIZE])
        context["my_records"] = list(
            member.service_records.select_related("activity").order_by("-activity__held_on", "-id")[:LIST_SIZE]
        )
        context["signed"] = {r.activity_id for r in context["my_records"] if r.status == "signed_up"}
    return render(request, "parties/units/overview.html", context)


def _community_response(request: HttpRequest, community_id: int, form: ActivityForm | None = None,
                        status: int = 200) -> HttpResponse:
    user: Any = request.user
    community = units.community_for(user, community_id)
    year = _year(request)
    if isinstance(year, HttpResponse):
        return year
    page = units.community_page(community, year)
    since, until = units.year_bounds(year)
    page["ranking"] = points.ranking(since=since, until=until, community=community)[:20]
    page["paired"] = [p.figures for p in page["pairings"]]  # type: ignore[attr-defined]
    for member in page["members"]:  # type: ignore[attr-defined]
        member.second = member.unit.name if member.unit else ""
    page["form"] = form or ActivityForm()
    page["can_act"] = units.is_staff_for(user, community)
    return render(request, "parties/units/community.html", page, status=status)


@login_required
def community(request: HttpRequest, pk: int) -> HttpResponse:
    return _community_response(request, pk)


@require_POST
@login_required
def activity_post(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    place = units.community_for(user, pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            units.activity_post(actor=user, community=place, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Service posted."))
            return redirect("units:community", pk=pk)
    return _community_response(request, pk, form=form, status=400)


@login_required
def unit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    the_unit = units.unit_for(user, pk)
    year = _year(request)
    if isinstance(year, HttpResponse):
        return year
    page = units.unit_page(the_unit, year)
    since, until = units.year_bounds(year)
    page["ranking"] = points.ranking(since=since, until=until, unit=the_unit)[:20]
    page["unit_rows"] = [page["unit"]]
    for member in page["members"]:  # type: ignore[attr-defined]
        member.second = member.reported_to
    return render(request, "parties/units/unit.html", page)


@login_required
def unit_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit's annual assessment as XLSX, with the page's figures."""
    user: Any = request.user
    the_unit = units.unit_for(user, pk)
    year = _year(request)
    if isinstance(year, HttpResponse):
        return year
    response = HttpResponse(
        unit_assessment_xlsx(units.unit_page(the_unit, year)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="unit-{the_unit.pk}-assessment-{year}.xlsx"'
    return response


@require_POST
@login_required
def service_act(request: HttpRequest, activity: int, action: str, record: int | None = None) -> HttpResponse:
    """One step of a service record (sign up, cancel, confirm, absent) through ``units.apply``."""
    user: Any = request.user
    if action not in units.TRANSITIONS:
        raise Http404
    try:
        units.apply(activity_id=activity, action=action, actor=user, record_id=record)
    except PermissionDenied as exc:
        return render(request, "petitions/refused.html", {"message": str(exc)}, status=403)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    community_id = ServiceActivity.objects.filter(pk=activity).values_list("community_id", flat=True).first()
    back = request.POST.get("back")
    if back == "community" and community_id:
        return redirect("units:community", pk=community_id)
    return redirect(reverse("units:overview"))


@require_POST
@login_required
def report_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    try:
        report = units.report_confirm(actor=user, report_id=pk)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("units:overview")
    messages.success(request, _("Report confirmed."))
    return redirect("units:community", pk=report.community_id)
