"""Micro-wish pages (微心愿): the staff's list and record form, the members' board, a wish's page.

Views parse input, call ``parties.wishes`` and render. Refusals look as they do for petitions:
404 for what the user may not see, 403 with the reason for a step their role may not take, a
message and the wish's page again when the wish moved on meanwhile (409), the form with the
message next to the field for bad input (400).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from governance.access import records_on_chain
from governance.exceptions import TransitionNotAllowed
from governance.forms import attach_errors

from . import wishes
from .forms import EmptyForm, EvaluateForm, FulfilForm, ReasonForm, WishRecordForm
from .models import Wish

LIST_SIZE = 100


@dataclass(frozen=True)
class Step:
    """A step's form on the wish's page: the workflow action, its form, its service, its message."""

    action: str
    label: Any
    form: type[forms.Form]
    run: Callable[..., Wish]
    done: Any


STEPS: dict[str, Step] = {
    s.action: s
    for s in (
        Step("publish", gettext_lazy("Publish to the members' board"), EmptyForm, wishes.wish_publish,
             gettext_lazy("Published.")),
        Step("claim", gettext_lazy("Claim this wish"), EmptyForm, wishes.wish_claim,
             gettext_lazy("Claimed: thank you.")),
        Step("fulfil", gettext_lazy("Done"), FulfilForm, wishes.wish_fulfil, gettext_lazy("Recorded as fulfilled.")),
        Step("evaluate", gettext_lazy("Record the resident's thanks"), EvaluateForm, wishes.wish_evaluate,
             gettext_lazy("Thanks recorded.")),
        Step("withdraw", gettext_lazy("Withdraw"), ReasonForm, wishes.wish_withdraw, gettext_lazy("Withdrawn.")),
    )
}


@login_required
def wish_list(request: HttpRequest) -> HttpResponse:
    """For members, their board; for the community's staff, the wishes of their area and the form."""
    user: Any = request.user
    member, open_wishes, mine = wishes.board_for(user)
    staff = wishes.wishes_for_staff(user)
    staff_wishes = list(staff[:LIST_SIZE])
    stale = set(staff.filter(wishes.unclaimed_too_long_q()).values_list("pk", flat=True)) if staff_wishes else set()
    context = {
        "member": member,
        "open_wishes": list(open_wishes),
        "mine": list(mine),
        "staff_wishes": staff_wishes,
        "stale": stale,
        "can_record": records_on_chain(user),
    }
    return render(request, "parties/wish_list.html", context)


@login_required
def wish_record(request: HttpRequest) -> HttpResponse:
    """群众点单: record a resident's wish."""
    user: Any = request.user
    form = WishRecordForm(request.POST if request.method == "POST" else None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                wish = wishes.wish_record(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, _("Wish recorded."))
                return redirect(wish)
        status = 400
    return render(request, "parties/wish_record.html", {"form": form}, status=status)




def _page(
    request: HttpRequest, wish: Wish, bound: tuple[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    user: Any = request.user
    actions = []
    for step in STEPS.values():
        if bound and bound[0] == step.action:
            actions.append({"key": step.action, "label": step.label, "form": bound[1]})
        elif wishes.may(user, wish, step.action):
            actions.append({"key": step.action, "label": step.label, "form": step.form()})
    context = {
        "wish": wish,
        "actions": actions,
        "events": list(wish.events.select_related("actor")),
        "labels": {a: t.label for a, t in wishes.TRANSITIONS.items()},
        "stale": Wish.objects.filter(pk=wish.pk).filter(wishes.unclaimed_too_long_q()).exists(),
    }
    return render(request, "parties/wish_detail.html", context, status=status)


@login_required
def wish_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, wishes.wish_for(request.user, pk))


@require_POST
@login_required
def wish_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one step of the wish's workflow through its service."""
    step = STEPS[action]
    user: Any = request.user
    wish = wishes.wish_for(user, pk)
    form = step.form(request.POST)
    if form.is_valid():
        try:
            step.run(actor=user, wish_id=wish.pk, **form.cleaned_data)
        except PermissionDenied as exc:
            return render(request, "petitions/refused.html", {"message": str(exc)}, status=403)
        except TransitionNotAllowed as exc:
            messages.error(request, str(exc))
            return redirect(wish)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, str(step.done))
            return redirect(wish)
    return _page(request, wish, bound=(action, form), status=400)
