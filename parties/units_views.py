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
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.exceptions import TransitionNotAllowed
from governance.forms import attach_errors

from . import points, units
from .models import PointsAward, PointsEntry, ServiceActivity
from .units_forms import ActivityForm, AwardForm, ReportForm, ReverseForm, YearForm
from .units_reports import unit_assessment_xlsx
from .wishes import member_of

LIST_SIZE = 200
LEDGER_PAGE = 50


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
        context["report_home"] = units.report_home(member)
    return render(request, "parties/units/overview.html", context)


def _community_response(request: HttpRequest, community_id: int, form: ActivityForm | None = None,
                        status: int = 200, report_form: ReportForm | None = None) -> HttpResponse:
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
    page["report_form"] = report_form or ReportForm(members=units.reportable_members(community))
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
            attach_errors(form, exc)
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


@require_POST
@login_required
def report_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The community records a member's 报到 made on paper or in person; it is confirmed in a second step."""
    user: Any = request.user
    place = units.community_for(user, pk)
    form = ReportForm(request.POST, members=units.reportable_members(place))
    if form.is_valid():
        try:
            units.report_record(actor=user, community=place, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Report recorded; confirm it once checked."))
            return redirect("units:community", pk=pk)
    return _community_response(request, pk, report_form=form, status=400)


@require_POST
@login_required
def report_self(request: HttpRequest) -> HttpResponse:
    """An in-service member reports to the community where they live, from their phone."""
    user: Any = request.user
    try:
        report = units.report_self(actor=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("You reported to %(community)s; the community confirms it.")
                         % {"community": report.community.name})
    return redirect("units:overview")


# ------------------------------------------------------------------------- the points ledger (积分)


def _points_response(request: HttpRequest, community_id: int, form: AwardForm | None = None,
                     status: int = 200) -> HttpResponse:
    """A community's ledger: awards waiting for a second person, the proposal form, the entries."""
    user: Any = request.user
    community = units.community_for(user, community_id)
    can_act = units.is_staff_for(user, community)
    page = Paginator(points.ledger(community), LEDGER_PAGE).get_page(request.GET.get("page"))
    entries = list(page.object_list)
    for entry in entries:
        entry.may_reverse = can_act and points.may_reverse(entry)  # type: ignore[attr-defined]
    context = {
        "community": community, "can_act": can_act, "page": page, "entries": entries,
        "waiting": list(points.awards_waiting(community)),
        "form": form or AwardForm(members=units.community_members(community).order_by("name", "pk")),
    }
    return render(request, "parties/units/points.html", context, status=status)


@login_required
def points_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _points_response(request, pk)


@require_POST
@login_required
def points_propose(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    place = units.community_for(user, pk)
    form = AwardForm(request.POST, members=units.community_members(place).order_by("name", "pk"))
    if form.is_valid():
        try:
            points.points_propose(actor=user, community=place, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Award proposed: a colleague approves it."))
            return redirect("units:points", pk=pk)
    return _points_response(request, pk, form=form, status=400)


def _decided(request: HttpRequest, community_id: int, decide: Any) -> HttpResponse:
    try:
        decide()
    except PermissionDenied as exc:
        return render(request, "petitions/refused.html", {"message": str(exc)}, status=403)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved."))
    return redirect("units:points", pk=community_id)


def _award_community(user: Any, award_id: int) -> int:
    award = PointsAward.objects.restrict(user).filter(pk=award_id).values_list("community_id", flat=True).first()
    if award is None:
        raise Http404
    return award


@require_POST
@login_required
def award_approve(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    community_id = _award_community(user, pk)
    return _decided(request, community_id, lambda: points.points_approve(actor=user, award_id=pk))


@require_POST
@login_required
def award_reject(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    community_id = _award_community(user, pk)
    return _decided(request, community_id, lambda: points.points_reject(actor=user, award_id=pk))


@require_POST
@login_required
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    community_id = (
        PointsEntry.objects.restrict(user).filter(pk=pk).values_list("community_id", flat=True).first()
    )
    if community_id is None:
        raise Http404
    form = ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the entry is reversed."))
        return redirect("units:points", pk=community_id)
    return _decided(
        request, community_id,
        lambda: points.points_reverse(actor=user, entry_id=pk, reason=form.cleaned_data["reason"]),
    )
