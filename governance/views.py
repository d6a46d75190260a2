from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are, and the part of the district you look after."""
    from petitions.models import Notification

    user: Any = request.user  # signed in: login_required
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    context = {"scope_label": user.scope_label(), "unread": unread}
    return render(request, "home.html", context)
