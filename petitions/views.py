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
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from governance.access import get_visible_or_404, restrict
from governance.forms import attach_errors
from governance.models import Department
from grids.models import Grid, Patrol

from . import metrics, photos, queues, reports, services, workflow
from .fieldwork import fieldwork_counts
from .forms import PatrolPetitionForm, PetitionRegisterForm, step_form
from .models import Category, Channel, Notification, Petition, PetitionPhoto, ServiceArea, Status
from .selectors import grid_suggested_by_point, petition_detail_for, petition_list_for, reporter_phone_visible
from .steps import STEPS

PAGE_SIZE = 20
# Above this many grids in scope (district leadership: ~3,000) the grid filter is a text box for the
# code instead of a select, so the list page stays light.
GRID_SELECT_MAX = 500
NOTIFICATIONS_SHOWN = 100


def _refused(request: HttpRequest, message: str, petition: Petition | None = None) -> HttpResponse:
    return render(request, "petitions/refused.html", {"message": message, "petition": petition}, status=403)




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
        "filtered": any(
            request.GET.get(k) for k in ("status", "grid", "category", "department", "overdue", "q", "channel")
        ),
        "channels": Channel.choices,
        "queue": queues.QUEUES.get(request.GET.get("queue") or ""),
        "can_register": can_register,
    }
    return render(request, "petitions/list.html", context)


# ------------------------------------------------------------------------------------------ register


@login_required
def petition_register(request: HttpRequest) -> HttpResponse:
    """登记诉求: log a resident's request on a grid in the user's scope."""
    user = request.user
    if not workflow.may_register(user):  # type: ignore[arg-type]
        return _refused(request, workflow.refusal_to_register(user))  # type: ignore[arg-type]
    posted = request.method == "POST"
    form = PetitionRegisterForm(request.POST if posted else None, request.FILES if posted else None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            problem_photos = data.pop("photos", [])
            try:
                with transaction.atomic():
                    petition = services.petition_register(actor=user, **data)  # type: ignore[arg-type]
                    photos.attach(petition, problem_photos, kind=PetitionPhoto.Kind.PROBLEM, by=user)  # type: ignore[arg-type]
            except PermissionDenied as exc:
                return _refused(request, str(exc))
            except ValidationError as exc:
                attach_errors(form, exc)
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
        "point_grid": grid_suggested_by_point(user, petition),
        "photos": list(petition.photos.all()),
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
    form = step_form(spec)(request.POST, request.FILES, user=user, petition=petition)
    if form.is_valid():
        data = dict(form.cleaned_data)
        step_photos = data.pop("photos", [])
        try:
            with transaction.atomic():
                spec.run(actor=user, petition_id=petition.pk, data=data)
                if spec.photos:
                    photos.attach(petition, step_photos, kind=spec.photos, by=user)
        except PermissionDenied as exc:
            return _refused(request, str(exc) or _("You may not do this."), petition)
        except workflow.TransitionNotAllowed as exc:
            messages.error(request, str(exc))
            return redirect(petition)
        except ValidationError as exc:
            attach_errors(form, exc)
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
    """``?period`` or ``?since`` and ``?until`` checked by ``metrics.period``, as the API does;
    ValidationError naming them."""
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
    return metrics.period(days["since"], days["until"], preset=request.GET.get("period") or None)


def _dashboard_data(request: HttpRequest) -> tuple[dict[str, Any], dt.date, dt.date]:
    since, until = _period(request)
    data = metrics.dashboard_for(
        request.user,
        node=request.GET.get("node") or None,
        grid=request.GET.get("grid") or None,
        since=since,
        until=until,
    )
    return data, since, until


def _trend(now: float | None, before: float | None) -> str:
    if now is None or before is None or now == before:
        return ""
    return "up" if now > before else "down"


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Closure metrics for the user's scope, ``?node=`` or ``?grid=`` inside it, over a period.

    The figures come from ``petitions.metrics.dashboard_for``, which checks the node against the
    scope (404 outside it, like a missing node) and runs a constant number of queries; the tables
    are ``petitions.reports``' (the exports write the same ones).
    """
    user: Any = request.user
    try:
        data, since, until = _dashboard_data(request)
    except ValidationError as exc:
        return _dashboard_period_refused(request, exc)
    data["children"] = metrics.standings(data["children"])
    data["departments"] = metrics.standings(data["departments"])
    previous = data["previous"]
    kpis = []
    for key, label, kind in (
        ("registered", gettext_lazy("Registered"), "count"),
        ("resolved", gettext_lazy("Resolved"), "count"),
        ("response_rate", gettext_lazy("Response rate"), "rate"),
        ("on_time_rate", gettext_lazy("On-time rate"), "rate"),
        ("resolution_rate", gettext_lazy("Resolution rate"), "rate"),
        ("satisfaction_rate", gettext_lazy("Satisfaction rate"), "rate"),
        ("on_grid_rate", gettext_lazy("Handled on the grid"), "rate"),
    ):
        source = "rates" if kind == "rate" else "totals"
        now, before = data[source][key], previous[source][key]
        kpis.append(
            {
                "key": key,
                "label": label,
                "value": metrics.percent(now) if kind == "rate" else now,
                "previous": metrics.percent(before) if kind == "rate" else before,
                "trend": _trend(now, before),
            }
        )
    tables = []
    for name in ("children", "departments", "categories", "channels", "weekly", "workers", "overdue"):
        table = reports.TABLES[name]
        listed: list[dict[str, Any]] = data[table.source]
        shown_of = None
        if name == "workers" and len(listed) > WORKERS_SHOWN:
            # A district has thousands of grid workers: the page lists those who need a word first (most
            # overdue, then most follow-ups on their own cases); the exports list every one.
            shown_of = len(listed)
            listed = sorted(listed, key=lambda w: (-w["overdue"], -w["own_follow_ups"], w["code"]))[:WORKERS_SHOWN]
        body = list(reports.rows(table, {**data, table.source: listed}))
        standing = [r.get("standing", "") for r in listed]
        down = []
        for row in listed:
            if name == "children" and not user.is_department_staff:
                query = {"grid": row["id"]} if row.get("level") == "grid" else {"node": row["id"]}
                down.append(f"?{urlencode({**query, 'since': since, 'until': until})}")
            elif name == "overdue":
                down.append(reverse("petitions:detail", args=[row["id"]]))
            else:
                down.append("")
        codes = [r.get("code") or r.get("week") or r.get("number", "") for r in listed]
        tables.append(
            {
                "table": table,
                "rows": list(zip(body, standing, down, codes, strict=True)),
                "empty": not listed,
                "shown_of": shown_of,
            }
        )
    charts = {
        "weeks": [w["start"] for w in data["weekly"]],
        "registered": [w["totals"]["registered"] for w in data["weekly"]],
        "resolved": [w["totals"]["resolved"] for w in data["weekly"]],
        "rates": {
            key: [w["rates"][key] for w in data["weekly"]]
            for key in ("response_rate", "on_time_rate", "satisfaction_rate")
        },
        "areas": [str(ServiceArea(a["service_area"]).label) for a in data["status_by_area"]],
        "statuses": [
            {"name": str(label), "data": [a["statuses"][value] for a in data["status_by_area"]]}
            for value, label in Status.choices
        ],
        "labels": {
            "registered": _("Registered"),
            "resolved": _("Resolved"),
            "response_rate": _("Response rate"),
            "on_time_rate": _("On-time rate"),
            "satisfaction_rate": _("Satisfaction rate"),
        },
    }
    place = (
        {"grid": data["grid"]["id"]}
        if data["grid"]
        else {"node": data["node"]["id"]}
        if request.GET.get("node")
        else {}
    )
    # The petition list names a grid by its code.
    list_place = (
        {"grid": data["grid"]["code"]} if data["grid"] else {"node": data["node"]["id"]} if data["node"]["id"] else {}
    )
    period_query = urlencode({"since": since, "until": until})
    context = {
        "data": data,
        "node": data["node"],
        "grid": data["grid"],
        "trail": data["trail"],
        "kpis": kpis,
        "previous": previous,
        "totals": data["totals"],
        "warnings": data["warnings"],
        "tables": tables,
        "charts": charts,
        "status_by_area": [
            {"label": label, "counts": [a["statuses"][v] for v in Status.values]}
            for label, a in zip(charts["areas"], data["status_by_area"], strict=True)
        ],
        "statuses": Status.choices,
        "since": since,
        "until": until,
        "presets": metrics.PRESETS.items(),
        "preset": request.GET.get("period", ""),
        "period": period_query,
        "export_query": urlencode({**place, "since": since, "until": until}),
        "overdue_link": f"{reverse('petitions:list')}?{urlencode({**list_place, 'overdue': 'true'})}",
        "rule": {
            "rates": [metrics.RATES_LABELS[k] for k in metrics.STANDING],
            "minimum": metrics.STANDING_MIN_RESOLVED,
            "size": metrics.STANDING_LIST_SIZE,
        },
        # Department staff see their department across the district, not a place: no drilling down.
        "can_drill": not user.is_department_staff,
        "at_scope": not (request.GET.get("node") or request.GET.get("grid")),
    }
    return render(request, "petitions/dashboard.html", context)


EXPORTS = (*reports.TABLES, "all")
# The grid workers listed on the dashboard page when the scope has more (the exports list all of them).
WORKERS_SHOWN = 100


@login_required
def dashboard_export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    """A dashboard table (or, as XLSX, all of them) with the page's figures: same period, same place."""
    if table not in EXPORTS or fmt not in ("xlsx", "csv") or (table == "all" and fmt == "csv"):
        raise Http404
    try:
        data, since, until = _dashboard_data(request)
    except ValidationError as exc:
        return _dashboard_period_refused(request, exc)
    chosen = list(reports.TABLES.values()) if table == "all" else [reports.TABLES[table]]
    filename = f"dashboard-{table}-{since:%Y%m%d}-{until:%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(reports.to_csv(chosen[0], data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            reports.to_xlsx(chosen, data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
    items = list(Notification.objects.filter(user=user).select_related("petition", "reminder")[:NOTIFICATIONS_SHOWN])
    if request.method == "POST":
        Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        return redirect("petitions:notifications")
    return render(request, "petitions/notifications.html", {"items": items})


# ----------------------------------------------------------------------------------- patrols, visits


@login_required
def petition_register_from_patrol(request: HttpRequest, patrol_id: int) -> HttpResponse:
    """巡查发现: the problem a patrol found, registered as a petition on the patrol's grid, linked back."""
    user: Any = request.user
    if not workflow.may_register(user):
        return _refused(request, _("Department staff cannot register petitions."))
    patrol = get_visible_or_404(user, Patrol.objects.select_related("grid"), pk=patrol_id)
    form = PatrolPetitionForm(request.POST if request.method == "POST" else None, user=user, patrol=patrol)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                petition = services.petition_register_from_patrol(actor=user, patrol_id=patrol.pk, **form.cleaned_data)
            except PermissionDenied as exc:
                return _refused(request, str(exc))
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, _("Petition %(number)s registered.") % {"number": petition.number})
                return redirect(petition)
        status = 400
    context = {"form": form, "patrol": patrol, "households": form.household_suggestions()}
    return render(request, "petitions/register_from_patrol.html", context, status=status)


@login_required
def fieldwork(request: HttpRequest) -> HttpResponse:
    """Patrols and visits per grid and per worker over a period, for officials (the assessment)."""
    user: Any = request.user
    if user.is_department_staff:
        raise Http404
    context: dict[str, Any] = {"params": request.GET, "presets": metrics.PRESETS}
    try:
        since, until = _period(request)
    except ValidationError as exc:
        context["errors"] = {field: " ".join(messages_) for field, messages_ in exc.message_dict.items()}
        return render(request, "petitions/fieldwork.html", context, status=400)
    context["data"] = fieldwork_counts(user, since, until)
    return render(request, "petitions/fieldwork.html", context)


# ------------------------------------------------------------------------------ deliberation (五议)


@require_POST
@login_required
def petition_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a recurring petition into a proposal for its community's deliberation, linked to it."""
    from .proposals import petition_propose as propose

    user: Any = request.user
    petition = petition_detail_for(user, pk)
    try:
        link = propose(actor=user, petition_id=petition.pk, title=request.POST.get("title", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        return redirect(petition)
    messages.success(request, _("Proposed for deliberation."))
    return redirect(link.deliberation)
