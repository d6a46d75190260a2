"""The petition pages: list, register (登记诉求), detail with its action forms, dashboard.

Views parse input, call a selector or a service, and render; every rule lives in ``services`` and
``workflow`` and every read starts from ``governance.access.restrict``.

How refusals from the services look in the browser:

- ``Http404`` (missing or outside the scope) propagates: the same 404 page for both.
- ``PermissionDenied`` (this role may not take this step) renders ``petitions/refused.html`` with
  the service's message and status 403.
- ``TransitionNotAllowed`` (the petition has moved on, e.g. someone else accepted it a moment ago)
  shows the message and redirects back to the detail page, where the user sees the current status and
  the actions that are still open. A 409 page would make them press "back" to find that out.
- ``ValidationError`` (a missing reason, a bad phone number) re-renders the page with status 400 and
  the message next to the field it names, keeping what was typed. Nothing is written in any case.
"""

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.access import restrict
from governance.models import Department
from grids.models import Grid

from . import metrics, services, workflow
from .forms import PetitionRegisterForm, step_form
from .models import Category, Notification, Petition, Status
from .selectors import petition_detail_for, petition_list_for, reporter_phone_visible
from .steps import STEPS

PAGE_SIZE = 20
# Above this many grids in scope (district leadership: ~3,000) the grid filter is a text box for the
# code instead of a select, so the list page stays light.
GRID_SELECT_MAX = 500
NOTIFICATIONS_SHOWN = 100


def _refused(request: HttpRequest, message: str, petition: Petition | None = None) -> HttpResponse:
    return render(request, "petitions/refused.html", {"message": message, "petition": petition}, status=403)


def _attach_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the field it names (or at the top of the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


# ---------------------------------------------------------------------------------------------- list


@login_required
def petition_list(request: HttpRequest) -> HttpResponse:
    """The user's petitions, filtered and paginated, in a constant number of queries."""
    user = request.user
    filterset, queryset = petition_list_for(user, request.GET)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))

    grids = list(restrict(user, Grid.objects.order_by("code")).only("code", "name")[: GRID_SELECT_MAX + 1])
    can_register = workflow.may_register(user)  # type: ignore[arg-type]
    # Department staff see their own department's petitions only: no department filter for them.
    departments = list(restrict(user, Department.objects.order_by("code"))) if can_register else []
    context = {
        "page": page,
        "petitions": page.object_list,
        "filterset": filterset,
        # Named by the field's label, as the form shows it, not by the parameter's key.
        "filter_errors": [
            {"name": name, "label": filterset.form.fields[name].label, "errors": errors}
            for name, errors in (filterset.errors.items() if filterset.is_bound else ())
        ],
        "params": request.GET,
        "statuses": Status.choices,
        "grids": grids if len(grids) <= GRID_SELECT_MAX else None,
        "grid_as_text": len(grids) > GRID_SELECT_MAX,
        "categories": list(restrict(user, Category.objects.order_by("service_area", "code"))),
        "departments": departments,
        "filtered": any(request.GET.get(k) for k in ("status", "grid", "category", "department", "overdue", "q")),
        "can_register": can_register,
    }
    return render(request, "petitions/list.html", context)


# ------------------------------------------------------------------------------------------ register


@login_required
def petition_register(request: HttpRequest) -> HttpResponse:
    """登记诉求: log a resident's request on a grid in the user's scope."""
    user = request.user
    if not workflow.may_register(user):  # type: ignore[arg-type]
        return _refused(request, _("Department staff cannot register petitions."))
    form = PetitionRegisterForm(request.POST if request.method == "POST" else None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                petition = services.petition_register(actor=user, **form.cleaned_data)  # type: ignore[arg-type]
            except PermissionDenied as exc:
                return _refused(request, str(exc))
            except ValidationError as exc:
                _attach_errors(form, exc)
            else:
                messages.success(request, _("Petition %(number)s registered.") % {"number": petition.number})
                return redirect(petition)
        status = 400
    context = {"form": form, "households": form.household_suggestions()}
    return render(request, "petitions/register.html", context, status=status)


# -------------------------------------------------------------------------------------------- detail


def _action_url(name: str, petition: Petition) -> str:
    return reverse(f"petitions:{name}", args=[petition.pk])


def _detail_page(
    request: HttpRequest, petition: Petition, bound: tuple[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    user: Any = request.user
    action_forms = []
    for step in STEPS.values():
        if bound and bound[0] == step.name:
            form = bound[1]  # shown with its errors, even if the step is no longer open to the user
        elif any(workflow.may(user, petition, action) for action in step.transitions):
            form = step_form(step)(user=user, petition=petition)
        else:
            continue
        url = _action_url(step.name, petition)
        action_forms.append({"key": step.name, "label": step.label_for(petition), "form": form, "url": url})
    open_key = bound[0] if bound else (action_forms[0]["key"] if action_forms else None)
    context = {
        "petition": petition,
        "phone_whole": reporter_phone_visible(user, petition),
        "timeline": [{"event": e, "label": workflow.action_label(e.action)} for e in petition.events.all()],
        "follow_ups": list(petition.follow_ups.all()),
        "action_forms": action_forms,
        "open_key": open_key,
    }
    return render(request, "petitions/detail.html", context, status=status)


@login_required
def petition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """All of a petition: fields, deadlines, the timeline, follow-ups, and the actions open to the user."""
    return _detail_page(request, petition_detail_for(request.user, pk))


@require_POST
@login_required
def petition_act(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Take one step of the loop (``steps.STEPS``) through its service."""
    spec = STEPS[step]
    user: Any = request.user
    petition = petition_detail_for(user, pk)
    form = step_form(spec)(request.POST, user=user, petition=petition)
    if form.is_valid():
        try:
            spec.run(actor=user, petition_id=petition.pk, data=form.cleaned_data)
        except PermissionDenied as exc:
            return _refused(request, str(exc) or _("You may not do this."), petition)
        except workflow.TransitionNotAllowed as exc:
            messages.error(request, str(exc))
            return redirect(petition)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, str(spec.done))
            if not restrict(user, Petition.objects.filter(pk=petition.pk)).exists():
                # The step took it out of the user's scope (a department returning it): its page
                # would be a 404, so go to the list and say where it went.
                messages.info(
                    request,
                    _("Petition %(number)s is no longer in your area: it is now %(status)s.")
                    % {"number": petition.number, "status": _status_after(petition.pk)},
                )
                return redirect("petitions:list")
            return redirect(petition)
    return _detail_page(request, petition, bound=(step, form), status=400)


def _status_after(petition_id: int) -> str:
    """The status a petition has now, read past the scope: only for telling the user where it went."""
    status = Petition.objects.filter(pk=petition_id).values_list("status", flat=True).first()
    return str(Status(status).label) if status else ""


# ----------------------------------------------------------------------------------------- dashboard


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    """``?since`` and ``?until`` checked by ``metrics.period``, as the API does; ValidationError naming them."""
    errors: dict[str, str] = {}
    days: dict[str, dt.date | None] = {}
    for name in ("since", "until"):
        text = request.GET.get(name, "")
        try:
            days[name] = parse_date(text) if text else None
        except ValueError:
            days[name] = None
        if text and days[name] is None:
            errors[name] = _("Enter a valid date, e.g. 2026-01-31.")
    if errors:
        raise ValidationError(errors)
    return metrics.period(days["since"], days["until"])


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _with_percents(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "pct": {k: _percent(v) for k, v in row["rates"].items()}}


# How many departments each of the red and black lists (红黑榜) names.
STANDING_LIST_SIZE = 3


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Closure metrics for the user's scope or ``?node=`` inside it, over ``?since``..``?until``.

    The figures come from ``petitions.metrics.dashboard_for``, which checks the node against the
    scope (404 outside it, like a missing node) and runs a constant number of queries.
    """
    user: Any = request.user
    try:
        since, until = _period(request)
    except ValidationError as exc:
        return _dashboard_period_refused(request, exc)
    data = metrics.dashboard_for(user, node=request.GET.get("node") or None, since=since, until=until)

    departments = [_with_percents(d) for d in data["departments"]]
    # Red and black lists: the best and the worst of the departments that have an on-time figure,
    # never the same department on both.
    ranked = [d for d in departments if d["rates"]["on_time_rate"] is not None]
    size = min(STANDING_LIST_SIZE, len(ranked) // 2)
    red = {d["id"] for d in ranked[:size]}
    black = {d["id"] for d in ranked[len(ranked) - size:]} if size else set()
    for d in departments:
        d["standing"] = "red" if d["id"] in red else "black" if d["id"] in black else ""
    weekly = [_with_percents(w) for w in data["weekly"]]
    busiest = max((w["totals"]["registered"] for w in weekly), default=0) or 1
    for w in weekly:
        w["bar"] = round(100 * w["totals"]["registered"] / busiest)
    context = {
        "data": data,
        "node": data["node"],
        "rates": {k: _percent(v) for k, v in data["rates"].items()},
        "totals": data["totals"],
        "children": [_with_percents(c) for c in data["children"]],
        "departments": departments,
        "categories": [_with_percents(c) for c in data["categories"]],
        "weekly": weekly,
        "since": since,
        "until": until,
        "period": f"since={since.isoformat()}&until={until.isoformat()}",
        # Department staff see their department across the district, not a place: no drilling down.
        "can_drill": not user.is_department_staff,
        "at_scope": not request.GET.get("node"),
    }
    return render(request, "petitions/dashboard.html", context)


def _dashboard_period_refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """The period form again, with what is wrong next to the field (400); no figures are computed."""
    context = {
        "errors": {field: " ".join(messages_) for field, messages_ in exc.message_dict.items()},
        "params": request.GET,
    }
    return render(request, "petitions/dashboard_period.html", context, status=400)


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's in-app reminders (站内提醒), newest first; "mark all as read" clears them."""
    user: Any = request.user
    items = list(
        Notification.objects.filter(user=user).select_related("petition", "reminder")[:NOTIFICATIONS_SHOWN]
    )
    if request.method == "POST":
        Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        return redirect("petitions:notifications")
    return render(request, "petitions/notifications.html", {"items": items})
