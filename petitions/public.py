"""The public pages behind the service card's QR code: no sign-in, nothing about anyone else.

- ``/r/<card token>/``: a resident describes a problem (optionally a photo, a place and a phone
  number) and it arrives as a registered petition on that grid, channel 连心卡扫码, registered by the
  public channel's system account (``public_account``). They get the number and a private link.
- ``/s/<status token>/``: the stages and their dates (from the event log), the department's result
  once resolved, and then a satisfaction answer, recorded through the workflow's follow-up step if
  the grid has not reached the resident yet.

Against abuse: per client address and per grid fixed-window limits (``governance.ratelimit``,
failing open when the cache is down) answering 429 with a page; a signed arithmetic question with
a time window, usable once (works offline, no third-party service); a honeypot field; the size
limits of the fields and of the photo (``petitions.photos``). The pages show the grid's name, the
petition's own stages and result, and nothing else: no names, no phones, no notes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from governance.models import User
from governance.ratelimit import over_limit
from governance.security import client_ip
from grids.identity import is_valid_phone

from . import cards, photos, services, workflow
from .forms import YES_NO, category_choices
from .models import (
    Category,
    Channel,
    FollowUp,
    Petition,
    PetitionPhoto,
    PublicReport,
    Satisfaction,
    ServiceCard,
    Status,
)

logger = logging.getLogger(__name__)

# The system account the public channel registers and answers as (made on first use, never signs in).
PUBLIC_USERNAME = "public-card"
DESCRIPTION_MAX = 1000
TITLE_LENGTH = 30
CHALLENGE_SALT = "wangge.public.challenge"


def public_account() -> User:
    """The public channel's system account: district-wide (the workflow checks scope like for anyone),
    with an unusable password, so nobody can sign in as it. Made on first use (and again after a
    test database is flushed), so no migration has to know about it."""
    user = User.objects.filter(username=PUBLIC_USERNAME).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create(
                username=PUBLIC_USERNAME,
                password=make_password(None),
                first_name=str(gettext_lazy("service card scan")),
                role=User.Role.LEADER,
                is_staff=False,
            )
    except IntegrityError:  # another request made it a moment ago
        return User.objects.get(username=PUBLIC_USERNAME)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ challenge


def new_challenge(grid_id: int) -> tuple[str, str]:
    """A small sum and its signed token (the grid, the numbers, when it was shown, a nonce)."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    token = signing.dumps({"a": a, "b": b, "g": grid_id, "t": int(time.time()), "n": secrets.token_hex(8)},
                          salt=CHALLENGE_SALT)
    return f"{a} + {b}", token


def check_challenge(token: str, answer: int | None, grid_id: int) -> str | None:
    """None when the answer is right, in time and the token unused; else what to tell the resident."""
    try:
        data = signing.loads(token, salt=CHALLENGE_SALT, max_age=settings.PUBLIC_FORM_MAX_SECONDS)
    except signing.BadSignature:
        return _("The form has expired: please answer the new question.")
    if data.get("g") != grid_id:
        return _("The form has expired: please answer the new question.")
    if time.time() - data.get("t", 0) < settings.PUBLIC_FORM_MIN_SECONDS:
        return _("That was very fast: please check the form and send it again.")
    if answer != data.get("a", 0) + data.get("b", 0):
        return _("The answer is not right: please calculate again.")
    try:
        if not cache.add(f"public-challenge:{data.get('n')}", 1, timeout=settings.PUBLIC_FORM_MAX_SECONDS + 60):
            return _("This form has been sent already.")
    except Exception as exc:  # the cache away: the signature and the time window still hold
        logger.warning("public challenge nonce not recorded: %r", exc)
    return None


# ---------------------------------------------------------------------------------------------- forms


class PublicReportForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("what kind of problem"))
    description = forms.CharField(
        label=gettext_lazy("describe the problem"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": DESCRIPTION_MAX}),
    )
    place = forms.CharField(
        label=gettext_lazy("where (building, street, landmark)"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    photo = photos.PhotosField(label=gettext_lazy("photo"), multiple=False)
    phone = forms.CharField(
        label=gettext_lazy("your phone (optional, for the call back)"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "tel"}),
    )
    answer = forms.IntegerField(
        label=gettext_lazy("check question"), widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    challenge = forms.CharField(widget=forms.HiddenInput)
    # Left empty by people (hidden by the stylesheet); bots fill every field.
    website = forms.CharField(required=False, label=gettext_lazy("leave this empty"),
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args: Any, grid_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grid_id = grid_id
        self.categories = {c.code: c for c in Category.objects.filter(is_active=True).order_by("service_area", "code")}
        self.fields["category"].choices = category_choices(self.categories.values())  # type: ignore[attr-defined]

    def clean_category(self) -> Category:
        category = self.categories.get(self.cleaned_data["category"])
        if category is None:
            raise ValidationError(_("Choose a kind of problem from the list."))
        return category

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if phone and not is_valid_phone(phone):
            raise ValidationError(_("Enter an 11-digit mobile number, e.g. 13812345678."))
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("website"):
            raise ValidationError(_("The form could not be sent."))
        if "answer" in cleaned:
            problem = check_challenge(cleaned.get("challenge") or "", cleaned.get("answer"), self.grid_id)
            if problem:
                self.add_error("answer", problem)
        return cleaned


class SatisfactionForm(forms.Form):
    solved = forms.TypedChoiceField(
        label=gettext_lazy("is the problem solved?"), choices=YES_NO, coerce=lambda v: v == "true",
        widget=forms.RadioSelect,
    )
    satisfaction = forms.ChoiceField(
        label=gettext_lazy("how satisfied are you?"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )


# ---------------------------------------------------------------------------------------------- views


def _limited(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(request, "petitions/public/limited.html", {"minutes": max(1, retry_after // 60)}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _address(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _title(description: str) -> str:
    first = " ".join(description.split())
    return first if len(first) <= TITLE_LENGTH else f"{first[: TITLE_LENGTH - 1]}…"


def register_public(*, card: ServiceCard, data: dict[str, Any]) -> tuple[Petition, str]:
    """Register the resident's report on the card's grid (channel card), with its photo and status link."""
    account = public_account()
    description = data["description"].strip()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        petition = services.petition_register(
            actor=account, grid=card.grid, category=data["category"], title=_title(description),
            description=description, reporter_phone=data.get("phone", ""),
        )
        Petition.objects.filter(pk=petition.pk).update(channel=Channel.CARD, place=data.get("place", "").strip())
        photos.attach(petition, data.get("photo") or [], kind=PetitionPhoto.Kind.PROBLEM, by=account)
        PublicReport.objects.create(petition=petition, token_hash=_token_hash(token), created_at=timezone.now())
    return petition, token


@never_cache
def report(request: HttpRequest, token: str) -> HttpResponse:
    """The public report form of the grid the card names (404 for an unknown or retired token)."""
    card = ServiceCard.objects.select_related("grid").filter(token=token).first()
    if card is None:
        raise Http404
    grid = card.grid
    status = 200
    if request.method == "POST":
        # Every attempt counts against the address; against the grid only what passed the form (so
        # garbage sent from many addresses cannot shut a grid's page for its residents).
        wait = over_limit("public-address", _address(request), settings.PUBLIC_REPORTS_PER_ADDRESS)
        if wait:
            return _limited(request, wait)
        form = PublicReportForm(request.POST, request.FILES, grid_id=grid.pk)
        if form.is_valid():
            wait = over_limit("public-grid", str(grid.pk), settings.PUBLIC_REPORTS_PER_GRID)
            if wait:
                return _limited(request, wait)
            try:
                petition, status_token = register_public(card=card, data=form.cleaned_data)
            except ValidationError as exc:
                names = {"reporter_phone": "phone", "title": "description"}
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        name = names.get(field, field)
                        form.add_error(name if name in form.fields else None, error)
            else:
                request.session["public_new"] = petition.number
                return redirect("public-status", token=status_token)
        status = 400
        question, challenge = new_challenge(grid.pk)
        # A new question (the old one is used up); what was typed stays, but the photo must be chosen again.
        posted = request.POST.copy()
        posted["challenge"], posted["answer"] = challenge, ""
        form.data = posted
    else:
        question, challenge = new_challenge(grid.pk)
        form = PublicReportForm(initial={"challenge": challenge}, grid_id=grid.pk)
    context = {"grid_name": grid.name, "form": form, "question": question}
    return render(request, "petitions/public/report.html", context, status=status)


# Steps shown to the resident: the ones that change the stage (no internal bookkeeping, no notes).
def _stages(petition: Petition) -> list[dict[str, Any]]:
    return [
        {"label": workflow.action_label(e.action), "at": e.at, "status": e.to_status,
         "status_label": Status(e.to_status).label}
        for e in petition.events.all()
        if e.action == workflow.REGISTER or e.from_status != e.to_status
    ]


def _answered(petition: Petition) -> FollowUp | None:
    """The call back that reached the resident since the last resolution (the grid's or theirs)."""
    if petition.resolved_at is None and petition.status != Status.CLOSED:
        return None
    since = petition.resolved_at or petition.registered_at
    return petition.follow_ups.filter(reached=True, at__gte=since).order_by("-at").first()


@never_cache
def status_page(request: HttpRequest, token: str) -> HttpResponse:
    """一事一公开 for the resident who holds the link: stages, dates, result, and their satisfaction."""
    report_row = (
        PublicReport.objects.select_related("petition__grid", "petition__category", "petition__department")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if report_row is None:
        raise Http404
    petition = report_row.petition
    answered = _answered(petition)
    asks = petition.status == Status.RESOLVED and answered is None
    form = SatisfactionForm()
    status = 200
    if request.method == "POST" and asks:
        wait = over_limit("public-status", _address(request), settings.PUBLIC_REPORTS_PER_ADDRESS)
        if wait:
            return _limited(request, wait)
        form = SatisfactionForm(request.POST)
        if form.is_valid():
            # The grid may have called in the meantime (not allowed any more): the page then says thanks.
            with contextlib.suppress(workflow.TransitionNotAllowed):
                services.petition_follow_up(
                    actor=public_account(), petition_id=petition.pk, reached=True,
                    solved=form.cleaned_data["solved"], satisfaction=form.cleaned_data["satisfaction"],
                    note=str(gettext_lazy("answered by the resident on the status page")),
                )
            return redirect("public-status", token=token)
        status = 400
    elif request.method == "POST":
        return redirect("public-status", token=token)
    new_number = request.session.pop("public_new", None)
    context = {
        "petition": petition,
        "stages": _stages(petition),
        "show_result": petition.status in (Status.RESOLVED, Status.CLOSED) and petition.result,
        "asks": asks,
        "answered": answered,
        "form": form,
        "new": new_number == petition.number,
        "link": cards.absolute(request, request.path),
    }
    return render(request, "petitions/public/status.html", context, status=status)
