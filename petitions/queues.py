"""Work queues (工作台): what waits for each role, counted on the home page and listed one tap away.

One definition per queue: a condition on the petitions the user may see (``restrict``). The home
page counts every queue of the user's role in one query (``counts``); the list's ``queue`` filter
(``filters.PetitionFilterSet``) applies the same condition and sorts by the current deadline.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.access import Viewer, restrict
from governance.models import User

from .models import OPEN_STATUSES, Extension, Petition, PetitionEvent, Reminder, Status, overdue_q

R = User.Role

Condition = Callable[[User, dt.datetime], Q]


@dataclass(frozen=True)
class Queue:
    key: str
    label: Any
    # Which roles see it on the home page (leadership and superusers: the officials' queues).
    roles: frozenset[str]
    condition: Condition


def returned_q() -> Q:
    """Sent back by a department (退回) and not moved since: its last event is the return."""
    later = PetitionEvent.objects.filter(petition=OuterRef("petition"), id__gt=OuterRef("id"))
    last_return = PetitionEvent.objects.filter(petition=OuterRef("pk"), action="return").filter(~Exists(later))
    return Q(status=Status.REGISTERED) & Q(Exists(last_return))


def due_soon_q(now: dt.datetime) -> Q:
    """即将超期: open, past its yellow (or red) warning, not yet overdue (``overdue_q``)."""
    return Q(status__in=OPEN_STATUSES, warn_yellow_at__lte=now, current_due__gte=now)


def _reminded_q() -> Q:
    """被催办: with a department and reminded or escalated in the stage it is in now (this round)."""
    reminded = Reminder.objects.filter(
        petition=OuterRef("pk"),
        stage=OuterRef("status"),
        round=OuterRef("rehandle_count"),
        level__in=[Reminder.Level.REMIND, Reminder.Level.STREET, Reminder.Level.DISTRICT],
    )
    return Q(status__in=[Status.DISPATCHED, Status.ACCEPTED]) & (Q(escalated=True) | Q(Exists(reminded)))


def _pending_extension_q() -> Q:
    pending = Extension.objects.filter(petition=OuterRef("pk"), decision=Extension.Decision.PENDING)
    return Q(status=Status.ACCEPTED) & Q(Exists(pending))


OFFICIAL = frozenset({R.OFFICIAL, R.LEADER})
DEPARTMENT = frozenset({R.DEPARTMENT})
WORKER = frozenset({R.WORKER})

QUEUES: dict[str, Queue] = {
    q.key: q
    for q in (
        # The street's dispatch queue: what the grids reported up (吹哨) and what departments sent back.
        Queue("to_dispatch", _("to dispatch"), OFFICIAL, lambda u, now: Q(status=Status.REPORTED) | returned_q()),
        Queue("escalated", _("escalated"), OFFICIAL, lambda u, now: Q(status__in=OPEN_STATUSES, escalated=True)),
        Queue("extension", _("extension requested"), OFFICIAL, lambda u, now: _pending_extension_q()),
        Queue("to_accept", _("to accept"), DEPARTMENT, lambda u, now: Q(status=Status.DISPATCHED)),
        Queue("in_progress", _("in progress"), DEPARTMENT, lambda u, now: Q(status=Status.ACCEPTED)),
        Queue("reminded", _("reminded"), DEPARTMENT, lambda u, now: _reminded_q()),
        Queue("to_follow_up", _("to follow up"), WORKER, lambda u, now: Q(status=Status.RESOLVED)),
        Queue("returned", _("sent back"), WORKER, lambda u, now: returned_q()),
        Queue("mine", _("logged by me, open"), WORKER,
              lambda u, now: Q(registered_by=u.pk, status__in=OPEN_STATUSES)),
        Queue("due_soon", pgettext_lazy("work queue", "due soon"), OFFICIAL | DEPARTMENT | WORKER,
              lambda u, now: due_soon_q(now)),
        Queue("overdue", _("overdue"), OFFICIAL | DEPARTMENT, lambda u, now: overdue_q(now)),
    )
}


def queues_for(user: Viewer) -> list[Queue]:
    """The queues shown to ``user``: by role; none to an account with no scope at all."""
    if not isinstance(user, User) or not user.is_active:
        return []
    role: str
    if user.sees_everything:
        role = R.OFFICIAL
    elif user.is_department_staff:
        if not user.department_id:
            return []
        role = R.DEPARTMENT
    elif user.scope_node_id:
        role = user.role
    else:
        return []
    return [q for q in QUEUES.values() if role in q.roles]


def condition(key: str, user: Viewer, now: dt.datetime | None = None) -> Q:
    """The condition of queue ``key`` for ``user`` (the list filter); nothing for an anonymous user."""
    if not isinstance(user, User):
        return Q(pk__in=[])
    return QUEUES[key].condition(user, now or timezone.now())


def in_queue(user: Viewer, key: str, now: dt.datetime | None = None) -> QuerySet[Petition]:
    """The petitions in queue ``key`` that ``user`` may see, soonest deadline first."""
    return by_deadline(restrict(user, Petition.objects.filter(condition(key, user, now))))


def by_deadline(queryset: QuerySet[Petition]) -> QuerySet[Petition]:
    return queryset.order_by("current_due", "-registered_at", "-id")


def counts(user: Viewer, now: dt.datetime | None = None) -> list[tuple[Queue, int]]:
    """Every queue of ``user`` with its count, in one query whatever the data."""
    queues = queues_for(user)
    if not queues:
        return []
    now = now or timezone.now()
    figures = restrict(user, Petition.objects.order_by()).aggregate(
        **{q.key: Count("pk", filter=condition(q.key, user, now)) for q in queues}
    )
    return [(q, figures[q.key]) for q in queues]
