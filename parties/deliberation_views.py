"""Deliberation pages (五议): the list, the proposal form, a matter's page with one form per step, the public notice.

Views parse input, call ``parties.deliberations`` and render. Refusals look as they do for wishes and
petitions: 404 for what the user may not see, 403 with the reason for a role that takes no steps, a
message and the matter's page again when it moved on meanwhile (409), the form with the message next
to the field for bad input (400). The public notice needs no sign-in and shows no personal data.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from governance.access import records_on_chain, reveal_personal_data
from governance.exceptions import TransitionNotAllowed
from governance.forms import attach_errors

from . import deliberations
from .deliberation_forms import (
    AcceptForm,
    CarryOutForm,
    DecideForm,
    DiscussForm,
    EvaluateForm,
    ProposeForm,
    PublishForm,
    RejectForm,
    StepForm,
)
from .models import Deliberation

LIST_SIZE = 100


@dataclass(frozen=True)
class Step:
    """A step's form on the matter's page: the workflow action, its form, its service, its message."""

    action: str
    label: Any
    form: type[StepForm]
    run: Callable[..., Deliberation]
    done: Any


STEPS: dict[str, Step] = {
    s.action: s
    for s in (
        Step("accept", gettext_lazy("Take it up for deliberation (两委审议)"), AcceptForm,
             deliberations.deliberation_accept, gettext_lazy("Taken up for deliberation.")),
        Step("reject", gettext_lazy("Do not take it up"), RejectForm, deliberations.deliberation_reject,
             gettext_lazy("Recorded as not taken up.")),
        Step("discuss", gettext_lazy("Record the meeting (民主商议)"), DiscussForm,
             deliberations.deliberation_discuss, gettext_lazy("Meeting recorded.")),
        Step("decide", gettext_lazy("Record the resolution (协同决议)"), DecideForm,
             deliberations.deliberation_decide, gettext_lazy("Resolution recorded.")),
        Step("publish", gettext_lazy("Post the public notice (公示)"), PublishForm,
             deliberations.deliberation_publish, gettext_lazy("The resolution is on public notice.")),
        Step("carry_out", gettext_lazy("Record it as carried out"), CarryOutForm,
             deliberations.deliberation_carry_out, gettext_lazy("Recorded as carried out.")),
        Step("evaluate", gettext_lazy("Record a resident's evaluation (大众评议)"), EvaluateForm,
             deliberations.deliberation_evaluate, gettext_lazy("Evaluation recorded.")),
    )
}


@login_required
def deliberation_list(request: HttpRequest) -> HttpResponse:
    """The matters of the communities in the user's scope, with the proposer masked."""
    user: Any = request.user
    queryset = deliberations.deliberations_for(user)
    context = {
        "items": list(queryset[:LIST_SIZE]),
        "can_propose": records_on_chain(user),
    }
    return render(request, "parties/deliberation_list.html", context)


@login_required
def deliberation_propose(request: HttpRequest) -> HttpResponse:
    """居民提议: record a matter residents raise."""
    user: Any = request.user
    form = ProposeForm(request.POST if request.method == "POST" else None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                deliberation = deliberations.deliberation_propose(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, _("Proposal recorded."))
                return redirect(deliberation)
        status = 400
    return render(request, "parties/deliberation_propose.html", {"form": form}, status=status)


def _page(
    request: HttpRequest, deliberation: Deliberation, bound: tuple[str, StepForm] | None = None, status: int = 200
) -> HttpResponse:
    user: Any = request.user
    now = timezone.now()
    actions = []
    for step in STEPS.values():
        if bound and bound[0] == step.action:
            actions.append({"key": step.action, "label": step.label, "form": bound[1]})
        elif deliberations.may(user, deliberation, step.action, now):
            actions.append({"key": step.action, "label": step.label, "form": step.form(deliberation=deliberation)})
    proposer = (
        deliberation.proposer_name
        if deliberation.proposer_name and reveal_personal_data(user, deliberation, "proposer_name")
        else deliberation.masked_proposer
    )
    context = {
        "d": deliberation,
        "proposer": proposer,
        "actions": actions,
        "events": list(deliberation.events.select_related("actor")),
        "members": list(deliberation.members.all()),
        "evaluations": list(deliberation.evaluations.all()),
        "share": deliberations.satisfaction_share(deliberation),
        "notice_running": deliberation.notice_running(now),
        "sources": deliberations.source_links(user, deliberation),
    }
    return render(request, "parties/deliberation_detail.html", context, status=status)


@login_required
def deliberation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, deliberations.deliberation_for(request.user, pk))


@require_POST
@login_required
def deliberation_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one step of the matter's workflow through its service."""
    step = STEPS[action]
    user: Any = request.user
    deliberation = deliberations.deliberation_for(user, pk)
    form = step.form(request.POST, deliberation=deliberation)
    if form.is_valid():
        try:
            step.run(actor=user, deliberation_id=deliberation.pk, **form.cleaned_data)
        except PermissionDenied as exc:
            return render(request, "petitions/refused.html", {"message": str(exc)}, status=403)
        except TransitionNotAllowed as exc:
            messages.error(request, str(exc))
            return redirect(deliberation)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, str(step.done))
            return redirect(deliberation)
    return _page(request, deliberation, bound=(action, form), status=400)


@require_GET
def public_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """公示: the resolution for anyone, while its notice runs; no names, no minutes, no sign-in."""
    deliberation = deliberations.public_notice(pk)
    return render(request, "parties/deliberation_notice.html", {"d": deliberation})
