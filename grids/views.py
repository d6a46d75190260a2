"""The grid worker's field-work pages: patrols (巡查) and household visits (入户走访).

Views parse input, call ``grids.fieldwork`` and render. What the user may not see is 404 (the same
for a missing one); department staff do not do field work (403); bad input is the form again with
the message next to the field (400). A patrol that found a problem goes on to the petitions' form
for it (``petitions:register-from-patrol``), which registers it linked back to the patrol.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.access import get_visible_or_404, reveal_personal_data
from governance.forms import attach_errors

from . import fieldwork
from .forms import KeyPopulationsForm, PatrolForm, VisitForm
from .models import Household, Patrol, Resident, Visit

PAGE_SIZE = 20


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "petitions/refused.html", {"message": message}, status=403)




def _residents(path: str = "residents") -> Prefetch:
    """Residents' names for the masked list column (``mask_name``): one query per page."""
    return Prefetch(path, queryset=Resident.objects.only("id", "household_id", "name").order_by("id"))


# ------------------------------------------------------------------------------------------- patrols


@login_required
def patrol_list(request: HttpRequest) -> HttpResponse:
    """The patrols in the user's scope, newest first, a page at a time (constant queries)."""
    user: Any = request.user
    page = Paginator(fieldwork.patrols_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "patrols": page.object_list, "can_record": fieldwork.may_do_fieldwork(user)}
    return render(request, "grids/patrol_list.html", context)


@login_required
def patrol_record(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not fieldwork.may_do_fieldwork(user):
        return _refused(request, _("Department staff do not record patrols or visits."))
    form = PatrolForm(request.POST if request.method == "POST" else None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                patrol = fieldwork.patrol_record(actor=user, **form.cleaned_data)
            except PermissionDenied as exc:
                return _refused(request, str(exc))
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, _("Patrol recorded."))
                if patrol.problem_found:
                    return redirect(reverse("petitions:register-from-patrol", args=[patrol.pk]))
                return redirect(patrol)
        status = 400
    return render(request, "grids/patrol_record.html", {"form": form}, status=status)


@login_required
def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A patrol and the petitions registered from what it found."""
    user: Any = request.user
    patrol = get_visible_or_404(user, Patrol.objects.select_related("grid", "recorded_by"), pk=pk)
    context = {
        "patrol": patrol,
        "petitions": list(patrol.petitions.select_related("category").order_by("registered_at", "id")),  # type: ignore[attr-defined]
        "can_register": fieldwork.may_do_fieldwork(user),
    }
    return render(request, "grids/patrol_detail.html", context)


# -------------------------------------------------------------------------------------------- visits


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    """The visits in the user's scope, newest first; residents' names masked, no notes (constant queries)."""
    user: Any = request.user
    visits = fieldwork.visits_for(user).prefetch_related(_residents("household__residents"))
    page = Paginator(visits, PAGE_SIZE).get_page(request.GET.get("page"))
    late = fieldwork.late_households(user).count()
    return render(request, "grids/visit_list.html", {"page": page, "visits": page.object_list, "late": late})


@login_required
def late_visits(request: HttpRequest) -> HttpResponse:
    """Households whose visit is late, the latest first (one annotated query, and one for residents)."""
    user: Any = request.user
    now = timezone.now()
    households = fieldwork.late_households(user, now).prefetch_related(_residents(), "key_populations")
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"household": h, "days_late": fieldwork.days_late(h, now)} for h in page.object_list]
    return render(request, "grids/late_visits.html", {"page": page, "rows": rows})


@login_required
def visit_record(request: HttpRequest, household_id: int) -> HttpResponse:
    """Record a visit to one household (404 outside the scope); its classes are kept on the same page."""
    user: Any = request.user
    household = get_visible_or_404(user, Household.objects.select_related("building__grid"), pk=household_id)
    if not fieldwork.may_do_fieldwork(user):
        return _refused(request, _("Department staff do not record patrols or visits."))
    form = VisitForm(request.POST if request.method == "POST" else None, household=household)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                visit = fieldwork.visit_record(actor=user, household=household, **form.cleaned_data)
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, _("Visit recorded."))
                return redirect(visit)
        status = 400
    return _household_page(request, household, form, status=status)


def _household_page(
    request: HttpRequest, household: Household, form: VisitForm, classes: KeyPopulationsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    current = list(household.key_populations.order_by("visit_interval_days"))  # type: ignore[attr-defined]
    classes = classes or KeyPopulationsForm(initial={"key_populations": [k.code for k in current]})
    context = {
        "household": household,
        "form": form,
        "classes_form": classes,
        "key_populations": current,
        "visits": list(household.visits.select_related("visited_by", "key_population")[:10]),  # type: ignore[attr-defined]
    }
    return render(request, "grids/visit_record.html", context, status=status)


@require_POST
@login_required
def household_key_populations(request: HttpRequest, household_id: int) -> HttpResponse:
    user: Any = request.user
    household = get_visible_or_404(user, Household.objects.select_related("building__grid"), pk=household_id)
    if not fieldwork.may_do_fieldwork(user):
        return _refused(request, _("Department staff do not record patrols or visits."))
    classes = KeyPopulationsForm(request.POST)
    if classes.is_valid():
        try:
            fieldwork.household_set_key_populations(
                actor=user, household=household, key_populations=list(classes.cleaned_data["key_populations"])
            )
        except ValidationError as exc:
            attach_errors(classes, exc)
        else:
            messages.success(request, _("Key-population classes saved."))
            return redirect("grids:visit-record", household_id=household.pk)
    return _household_page(request, household, VisitForm(household=household), classes, status=400)


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A visit whole (what was learned, the follow-up) for a user whose scope covers the household;
    each viewing is logged (``reveal_personal_data``)."""
    user: Any = request.user
    visit = get_visible_or_404(
        user, Visit.objects.select_related("household__building__grid", "visited_by", "key_population"), pk=pk
    )
    whole = reveal_personal_data(user, visit, "learned,follow_up")
    return render(request, "grids/visit_detail.html", {"visit": visit, "whole": whole})
