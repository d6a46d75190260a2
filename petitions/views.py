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
from collections.abc import Callable
from dataclasses import dataclass
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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from governance.access import restrict
from governance.models import Department, User
from grids.models import Grid

from . import metrics, services, workflow
from .forms import (
    DispatchForm,
    FollowUpForm,
    NoteForm,
    PetitionRegisterForm,
    ReasonForm,
    ResolveForm,
)
from .models import Category, Notification, Petition, PetitionEvent, Status
from .selectors import petition_detail_for, petition_list_for, reporter_phone_visible

PAGE_SIZE = 20
# Above this many grids in scope (district leadership: ~3,000) the grid filter is a text box for the
# code instead of a select, so the list page stays light.
GRID_SELECT_MAX = 500
DASHBOARD_DAYS = 30


NOTIFICATIONS_SHOWN = 100


def _is_department_staff(user: Any) -> bool:
    return bool(user.role == User.Role.DEPARTMENT and not user.sees_everything)


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
    departments = [] if _is_department_staff(user) else list(restrict(user, Department.objects.order_by("code")))
    context = {
        "page": page,
        "petitions": page.object_list,
        "filterset": filterset,
        "params": request.GET,
        "statuses": Status.choices,
        "grids": grids if len(grids) <= GRID_SELECT_MAX else None,
        "grid_as_text": len(grids) > GRID_SELECT_MAX,
        "categories": list(restrict(user, Category.objects.order_by("service_area", "code"))),
        "departments": departments,
        "filtered": any(request.GET.get(k) for k in ("status", "grid", "category", "department", "overdue", "q")),
        "can_register": not _is_department_staff(user),
        "now": timezone.now(),
    }
    return render(request, "petitions/list.html", context)


# ------------------------------------------------------------------------------------------ register


@login_required
def petition_register(request: HttpRequest) -> HttpResponse:
    """登记诉求: log a resident's request on a grid in the user's scope."""
    user = request.user
    if _is_department_staff(user):
        return _refused(request, _("Department staff cannot register petitions."))
    form = PetitionRegisterForm(request.POST if request.method == "POST" else None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                petition = services.petition_register(actor=user, **form.cleaned_data)  # type: ignore[arg-type]
            except ValidationError as exc:
                _attach_errors(form, exc)
            else:
                messages.success(request, _("Petition %(number)s registered.") % {"number": petition.number})
                return redirect(petition)
        status = 400
    context = {"form": form, "households": form.household_suggestions()}
    return render(request, "petitions/register.html", context, status=status)


# -------------------------------------------------------------------------------------------- detail


@dataclass(frozen=True)
class Action:
    """One action form on the detail page: who may see it (workflow actions), how to build and run it."""

    key: str
    workflow_actions: tuple[str, ...]
    label: Any
    make: Callable[[Any, Petition, Any], forms.Form]
    run: Callable[[Any, Petition, dict[str, Any]], Petition]
    done: Any


ACTIONS: dict[str, Action] = {
    a.key: a
    for a in (
        Action(
            "dispatch", ("dispatch",), gettext_lazy("Dispatch to a department"),
            lambda user, p, data: DispatchForm(data, user=user, petition=p),
            lambda user, p, d: services.petition_dispatch(
                actor=user, petition_id=p.pk, department=d["department"], note=d["note"]
            ),
            gettext_lazy("Dispatched."),
        ),
        Action(
            "accept", ("accept",), gettext_lazy("Accept (report in)"),
            lambda user, p, data: NoteForm(data),
            lambda user, p, d: services.petition_accept(actor=user, petition_id=p.pk, note=d["note"]),
            gettext_lazy("Accepted."),
        ),
        Action(
            "resolve", ("resolve", "resolve_on_grid"), gettext_lazy("Record the result"),
            lambda user, p, data: ResolveForm(data),
            lambda user, p, d: services.petition_resolve(actor=user, petition_id=p.pk, result=d["result"]),
            gettext_lazy("Result recorded."),
        ),
        Action(
            "follow-up", ("follow_up",), gettext_lazy("Follow up with the resident"),
            lambda user, p, data: FollowUpForm(data),
            lambda user, p, d: services.petition_follow_up(
                actor=user, petition_id=p.pk, reached=d["reached"], solved=d["solved"] if d["reached"] else None,
                satisfaction=d["satisfaction"] if d["reached"] else "", note=d["note"],
            ),
            gettext_lazy("Follow-up recorded."),
        ),
        Action(
            "return", ("return",), gettext_lazy("Return (wrongly dispatched)"),
            lambda user, p, data: ReasonForm(data),
            lambda user, p, d: services.petition_return(actor=user, petition_id=p.pk, reason=d["reason"]),
            gettext_lazy("Returned to the street."),
        ),
        Action(
            "cancel", ("cancel",), gettext_lazy("Cancel (duplicate or withdrawn)"),
            lambda user, p, data: ReasonForm(data),
            lambda user, p, d: services.petition_cancel(actor=user, petition_id=p.pk, reason=d["reason"]),
            gettext_lazy("Cancelled."),
        ),
    )
}


def _action_url(key: str, petition: Petition) -> str:
    return reverse(f"petitions:{key}", args=[petition.pk])


def _event_label(event: PetitionEvent) -> Any:
    if event.action == workflow.REGISTER:
        return gettext_lazy("registered")
    transition = workflow.TRANSITIONS.get(event.action)
    return transition.label if transition else event.action


def _detail_page(
    request: HttpRequest, petition: Petition, bound: tuple[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    action_forms = []
    for action in ACTIONS.values():
        if not any(workflow.may(user, petition, a) for a in action.workflow_actions):  # type: ignore[arg-type]
            continue
        form = bound[1] if bound and bound[0] == action.key else action.make(user, petition, None)
        label = action.label
        if action.key == "resolve" and petition.status == Status.REGISTERED:
            label = gettext_lazy("Resolve on the grid")
        action_forms.append({"key": action.key, "label": label, "form": form, "url": _action_url(action.key, petition)})
    if bound and not any(a["key"] == bound[0] for a in action_forms):
        key = bound[0]
        action_forms.insert(
            0, {"key": key, "label": ACTIONS[key].label, "form": bound[1], "url": _action_url(key, petition)}
        )
    open_key = bound[0] if bound else (action_forms[0]["key"] if action_forms else None)
    now = timezone.now()
    context = {
        "petition": petition,
        "phone_whole": reporter_phone_visible(user, petition),
        "overdue": petition.is_open and petition.current_due is not None and petition.current_due < now,
        "timeline": [{"event": e, "label": _event_label(e)} for e in petition.events.all()],
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
def petition_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Run one action form (dispatch, accept, return, resolve, follow-up, cancel) through its service."""
    spec = ACTIONS[action]
    user = request.user
    petition = petition_detail_for(user, pk)
    form = spec.make(user, petition, request.POST)
    if form.is_valid():
        try:
            spec.run(user, petition, form.cleaned_data)
        except PermissionDenied as exc:
            return _refused(request, str(exc) or _("You may not do this."), petition)
        except workflow.TransitionNotAllowed as exc:
            messages.error(request, str(exc))
            return redirect(petition)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, str(spec.done))
            return redirect(petition)
    return _detail_page(request, petition, bound=(action, form), status=400)


# ----------------------------------------------------------------------------------------- dashboard


def _date_param(request: HttpRequest, name: str, default: dt.date) -> dt.date:
    try:
        parsed = parse_date(request.GET.get(name) or "")
    except ValueError:
        parsed = None
    return parsed or default


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
    user = request.user
    until = _date_param(request, "until", timezone.localdate())
    since = _date_param(request, "since", until - dt.timedelta(days=DASHBOARD_DAYS))
    if since > until:
        since, until = until, since
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
        "can_drill": not _is_department_staff(user),
        "at_scope": not request.GET.get("node"),
    }
    return render(request, "petitions/dashboard.html", context)


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
