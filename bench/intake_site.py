"""The intake benchmark's URLconf: the whole site plus a bare baseline view (``WANGGE_BENCH=1`` only).

The baseline is what any petition intake costs at the least under the same server: parse the JSON
body and insert one petition row with the ORM. No authentication, no validation, no event, no
idempotency, no throttle: the floor the API is compared with.

``/bench/drf-floor/`` is the same insert behind Django REST framework with the API's own
authentication (a token) and permission (signed in), and nothing else: what any endpoint of this
API costs before it applies a single rule. It is measured beside the other two, so the report shows
how much of the gap between the intake and the bare insert is the framework and how much is ours.
"""

import json
import os
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.models import User
from grids.models import Grid
from petitions.models import Category, Petition

if os.environ.get("WANGGE_BENCH") != "1":
    raise ImproperlyConfigured("bench.intake_site is the benchmark's URLconf: set WANGGE_BENCH=1 to mount it")

# Looked up once per worker process, so each request is one INSERT.
_ids: dict[tuple[str, str], tuple[int, int, int]] = {}


def _resolve(grid: str, category: str) -> tuple[int, int, int]:
    if (grid, category) not in _ids:
        user = User.objects.filter(username="worker").values_list("pk", flat=True).get()
        _ids[grid, category] = (
            Grid.objects.values_list("pk", flat=True).get(code=grid),
            Category.objects.values_list("pk", flat=True).get(code=category),
            user,
        )
    return _ids[grid, category]


def _insert(data: dict[str, Any], registered_by: int | None = None) -> Petition:
    """One petition row with the ORM: the whole of the baseline's work, and of the floor's."""
    grid_id, category_id, worker_id = _resolve(data["grid"], data["category"])
    return Petition.objects.create(
        grid_id=grid_id,
        category_id=category_id,
        title=data["title"],
        description=data["description"],
        priority=data.get("priority", "normal"),
        registered_by_id=registered_by or worker_id,
        registered_at=timezone.now(),
    )


@csrf_exempt
@require_POST
def baseline(request: HttpRequest) -> HttpResponse:
    petition = _insert(json.loads(request.body))
    return JsonResponse({"id": petition.pk}, status=201)


class DrfFloor(APIView):
    """The baseline's insert as a DRF view with the API's default authentication and permission."""

    def post(self, request: Request) -> Response:
        petition = _insert(cast(dict[str, Any], request.data), registered_by=cast(int, request.user.pk))
        return Response({"id": petition.pk}, status=201)


urlpatterns = [
    path("bench/baseline/", baseline),
    path("bench/drf-floor/", DrfFloor.as_view()),
    path("", include("governance.urls")),
]
