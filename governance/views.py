from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are, and the part of the district you look after."""
    from petitions.models import Notification

    unread = Notification.objects.filter(user_id=request.user.pk, read_at__isnull=True).count()
    context = {"scope_label": request.user.scope_label(), "unread": unread}  # type: ignore[union-attr]
    return render(request, "home.html", context)
