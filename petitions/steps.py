"""The loop's steps as people take them, declared once: the page actions and the API endpoints.

Each step names its URL segment, its label and message on the pages, the API's summary and
description, the fields of its body, and the service it calls. Who may take it, and from which
status, is the workflow's transition table (``Step.transitions`` names the rows). The browser forms
(``forms.step_form``), the API serializers and per-step endpoints (``api``) and the page URLs are
generated from this table; the services take the validated body as keyword arguments named like
the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.utils.translation import gettext_lazy as _

from governance.models import User

from . import services
from .models import Petition, PetitionPhoto, Status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The longest note, reason or result a step takes.
NOTE_MAX = 2000


@dataclass(frozen=True)
class Field:
    """One field of a step's body, for the form and the serializer alike."""

    name: str
    kind: Literal["text", "department", "yes_no", "satisfaction", "date"]
    label: StrOrPromise
    required: bool = False
    help_text: str = ""  # the API's (the schema is in English)
    rows: int = 2


@dataclass(frozen=True)
class Body:
    """A request body, shared by steps that take the same fields (return and cancel take a reason)."""

    name: str  # the schema component: ``<name>Request`` and ``<name>ValidationError``
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Step:
    name: str  # the URL segment, on the pages and in the API
    transitions: tuple[str, ...]  # the workflow actions this step may take
    body: Body
    service: Callable[..., Petition]
    label: StrOrPromise
    done: StrOrPromise
    summary: str
    description: str
    label_while_registered: StrOrPromise | None = None
    # The kind of photo the page form takes along with this step (PetitionPhoto.Kind), if any.
    photos: str | None = None
    photos_label: StrOrPromise = ""

    def label_for(self, petition: Petition) -> StrOrPromise:
        if self.label_while_registered is not None and petition.status in (Status.REGISTERED, Status.REPORTED):
            return self.label_while_registered
        return self.label

    def run(self, *, actor: User, petition_id: int, data: dict[str, Any]) -> Petition:
        return self.service(actor=actor, petition_id=petition_id, **data)


NOTE = Field("note", "text", _("note"))
REASON = Field("reason", "text", _("reason"), required=True, help_text="Why (required, not blank).")
RESULT = Field("result", "text", _("result"), required=True, help_text="What was done (required, not blank).", rows=3)
DEPARTMENT = Field(
    "department", "department", _("department"), required=True,
    help_text="The department's code (GET /api/v1/departments/).",
)
REACHED = Field("reached", "yes_no", _("resident reached"), required=True, help_text="Was the resident reached?")
SOLVED = Field("solved", "yes_no", _("problem solved"), help_text="Required when reached: was the problem solved?")
SATISFACTION = Field(
    "satisfaction", "satisfaction", _("satisfaction"),
    help_text="Required when reached, on the five-level scale (GB/T 39735).",
)

PROPOSED_DUE = Field(
    "proposed_due", "date", _("proposed deadline"), required=True,
    help_text="The date proposed as the new resolve deadline (YYYY-MM-DD), after the current one.",
)

REASON_BODY = Body("Reason", (REASON,))

STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "dispatch", ("dispatch",), Body("Dispatch", (DEPARTMENT, NOTE)), services.petition_dispatch,
            _("Dispatch to a department"), _("Dispatched."),
            "Dispatch to a department",
            "Send the petition to the department responsible (整理上报); street officials.",
        ),
        Step(
            "accept", ("accept",), Body("Note", (NOTE,)), services.petition_accept,
            _("Accept (report in)"), _("Accepted."),
            "Accept (report in)",
            "The department reports in (部门报到).",
        ),
        Step(
            "resolve", ("resolve", "resolve_on_grid"), Body("Resolve", (RESULT,)), services.petition_resolve,
            _("Record the result"), _("Result recorded."),
            "Record the result",
            "By the department once accepted, or on the grid (网格内解决) while still registered.",
            label_while_registered=_("Resolve on the grid"),
            photos=PetitionPhoto.Kind.WORK_DONE, photos_label=_("photos of the work done"),
        ),
        Step(
            "report", ("report",),
            Body("Report", (Field(
                "note", "text", _("what the grid cannot handle"), required=True,
                help_text="What the grid cannot handle, and why (required, not blank).",
            ),)),
            services.petition_report,
            _("Report to the street (blow the whistle)"), _("Reported to the street: it waits for dispatch."),
            "Report to the street (吹哨)",
            "The grid cannot handle it: the worker sends it up to the street's dispatch queue with a note; "
            "the street has its own dispatch deadline, and the grid may still resolve it.",
        ),
        Step(
            "follow-up", ("follow_up",), Body("FollowUp", (REACHED, SOLVED, SATISFACTION, NOTE)),
            services.petition_follow_up,
            _("Follow up with the resident"), _("Follow-up recorded."),
            "Record the follow-up call",
            "回访: satisfied closes the petition; dissatisfied reopens it to the same department (重办).",
        ),
        Step(
            "return", ("return",), REASON_BODY, services.petition_return,
            _("Return (wrongly dispatched)"), _("Returned to the street."),
            "Return a mis-routed petition",
            "The department sends it back to the street with the reason.",
        ),
        Step(
            "request-extension", ("request_extension",), Body("Extension", (REASON, PROPOSED_DUE)),
            services.petition_request_extension,
            _("Request an extension"), _("Extension requested."),
            "Request an extension",
            "延期申请: the department asks for a later resolve deadline, with the reason; the street decides.",
        ),
        Step(
            "approve-extension", ("approve_extension",), Body("Note", (NOTE,)), services.petition_approve_extension,
            _("Approve the extension"), _("Extension approved: the deadline has moved."),
            "Approve the extension",
            "The street approves the pending extension; the resolve deadline moves to the proposed date.",
        ),
        Step(
            "refuse-extension", ("refuse_extension",), REASON_BODY, services.petition_refuse_extension,
            _("Refuse the extension"), _("Extension refused."),
            "Refuse the extension",
            "The street refuses the pending extension, with the reason; the deadline stays.",
        ),
        Step(
            "pause", ("pause",), REASON_BODY, services.petition_pause,
            _("Pause the clock (waiting on the resident)"), _("Clock paused."),
            "Pause the clock",
            "挂起: the resolve clock stops while waiting on the resident, at most the category's days in all.",
        ),
        Step(
            "resume", ("resume",), Body("Note", (NOTE,)), services.petition_resume,
            _("Resume the clock"), _("Clock resumed."),
            "Resume the clock",
            "The resolve clock runs again; the deadline moves on by the time paused.",
        ),
        Step(
            "cancel", ("cancel",), REASON_BODY, services.petition_cancel,
            _("Cancel (duplicate or withdrawn)"), _("Cancelled."),
            "Cancel a duplicate or withdrawn petition",
            "Cancel with the reason; street officials.",
        ),
    )
}
