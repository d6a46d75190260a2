"""Field-work counts for officials: patrols (巡查) and household visits (入户走访) per grid and per
worker over a period — part of the assessment (考评) beside the dashboard's figures.

Here rather than in ``grids`` because the period rule (``metrics.period``, its bounds on the
district's calendar) lives in this app, and ``grids`` may not import it. Five grouped queries,
whatever the number of grids, workers, patrols or visits.
"""

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from governance.access import Viewer, restrict, subtree_q
from governance.models import User
from grids.models import Grid, Patrol, Visit

from .metrics import _bounds


def fieldwork_counts(user: Viewer, since: dt.date, until: dt.date) -> dict[str, Any]:
    """``grids``: every grid in the scope (none left out: a grid nobody patrolled is what an official
    looks for), ``workers``: the grid workers of the scope and whoever recorded field work in it,
    ``totals``. Each row: ``patrols``, ``problems`` (patrols that found one), ``visits``,
    ``follow_ups`` (visits that need one). Periods are dates, both ends included (``metrics.period``)."""
    start, end = _bounds(since, until)
    patrols = restrict(user, Patrol.objects.filter(started_at__gte=start, started_at__lt=end)).order_by()
    visits = restrict(user, Visit.objects.filter(visited_at__gte=start, visited_at__lt=end)).order_by()
    patrol_counts = {"patrols": Count("pk"), "problems": Count("pk", filter=Q(problem_found=True))}
    visit_counts = {"visits": Count("pk"), "follow_ups": Count("pk", filter=Q(follow_up_needed=True))}
    keys = ("patrols", "problems", "visits", "follow_ups")

    by_grid: dict[int, dict[str, Any]] = {}
    by_worker: dict[int, dict[str, Any]] = {}
    grouped: list[tuple[dict[int, dict[str, Any]], QuerySet[Any], Any, dict[str, Count]]] = [
        (by_grid, patrols, F("grid_id"), patrol_counts),
        (by_grid, visits, F("household__building__grid_id"), visit_counts),
        (by_worker, patrols, F("recorded_by_id"), patrol_counts),
        (by_worker, visits, F("visited_by_id"), visit_counts),
    ]
    for rows, queryset, key, counts in grouped:
        for row in queryset.values(key=key).annotate(**counts):
            rows.setdefault(row["key"], {}).update(row)

    grids = [
        {"id": g.pk, "code": g.code, "name": g.name, **{k: by_grid.get(g.pk, {}).get(k, 0) for k in keys}}
        for g in restrict(user, Grid.objects.order_by("code")).only("id", "code", "name")
    ]
    workers = User.objects.filter(Q(pk__in=list(by_worker)) | _workers_of_scope(user)).order_by("username")
    worker_rows = [
        {
            "id": w.pk,
            "code": w.username,
            "name": w.get_full_name() or w.username,
            **{k: by_worker.get(w.pk, {}).get(k, 0) for k in keys},
        }
        for w in workers.only("id", "username", "first_name", "last_name")
    ]
    totals = {k: sum(row.get(k, 0) for row in by_grid.values()) for k in keys}
    return {"since": since, "until": until, "grids": grids, "workers": worker_rows, "totals": totals}


def _workers_of_scope(user: Viewer) -> Q:
    """Active grid workers whose scope lies in ``user``'s, listed even with nothing recorded. For the
    whole district (some 20,000 workers) only those who recorded something are listed."""
    if not isinstance(user, User) or user.is_department_staff or user.sees_everything or user.scope_node_id is None:
        return Q(pk__in=[])
    return Q(role=User.Role.WORKER, is_active=True) & subtree_q(user.scope_node_id, "scope_node")
