"""道德积分银行 pages: a household's points, what earned them, what they were spent on.

Views parse input, call ``grids.moral`` and render; the household is looked up within the viewer's
scope (404 outside it), so residents' names show whole only to those who cover them.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.access import get_visible_or_404
from governance.exceptions import TransitionNotAllowed
from governance.forms import attach_errors

from . import moral
from .forms import MoralAwardForm, MoralRedeemForm
from .models import Household, MoralCategory, MoralEntry

PAGE_SIZE = 50


def _household(user: Any, household_id: int) -> Household:
    household = get_visible_or_404(user, Household.objects.select_related("building__grid"), pk=household_id)
    if user.is_department_staff:
        raise Http404
    return household


def _page(request: HttpRequest, household: Household, award: MoralAwardForm | None = None,
          redeem: MoralRedeemForm | None = None, status: int = 200) -> HttpResponse:
    entries = (
        MoralEntry.objects.filter(household=household)
        .select_related("resident", "granted_by", "redemption", "reversed_by").order_by("-on", "-id")
    )
    earned = dict(
        entries.filter(points__gt=0, reverses__isnull=True).order_by().values_list("category")
        .annotate(total=Sum("points")).values_list("category", "total")
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for entry in rows:
        entry.may_reverse = moral.may_reverse(entry)  # type: ignore[attr-defined]
    context = {
        "household": household,
        "balance": moral.moral_balance(household),
        "by_category": [(label, earned.get(value, 0)) for value, label in MoralCategory.choices],
        "entries": rows, "page": page,
        "award": award or MoralAwardForm(household=household),
        "redeem": redeem or MoralRedeemForm(),
    }
    return render(request, "grids/moral.html", context, status=status)


@login_required
def household_moral(request: HttpRequest, household_id: int) -> HttpResponse:
    return _page(request, _household(request.user, household_id))


@require_POST
@login_required
def moral_award(request: HttpRequest, household_id: int) -> HttpResponse:
    user: Any = request.user
    household = _household(user, household_id)
    form = MoralAwardForm(request.POST, household=household)
    if form.is_valid():
        try:
            moral.moral_award(actor=user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Points recorded."))
            return redirect("grids:household-moral", household_id=household.pk)
    return _page(request, household, award=form, status=400)


@require_POST
@login_required
def moral_redeem(request: HttpRequest, household_id: int) -> HttpResponse:
    user: Any = request.user
    household = _household(user, household_id)
    form = MoralRedeemForm(request.POST)
    if form.is_valid():
        try:
            moral.moral_redeem(actor=user, household_id=household.pk, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Redemption recorded."))
            return redirect("grids:household-moral", household_id=household.pk)
    return _page(request, household, redeem=form, status=400)


@require_POST
@login_required
def moral_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    entry = MoralEntry.objects.filter(pk=pk).values_list("household_id", flat=True).first()
    if entry is None:
        raise Http404
    household = _household(user, entry)
    try:
        moral.moral_reverse(actor=user, entry_id=pk, reason=request.POST.get("reason", ""))
    except (ValidationError, TransitionNotAllowed) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, _("Entry reversed."))
    return redirect("grids:household-moral", household_id=household.pk)
