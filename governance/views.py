from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from .home import panels_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are, the part of the district you look after, and what waits there."""
    user: Any = request.user  # signed in: login_required
    context = {"scope_label": user.scope_label(), "panels": panels_for(user)}
    return render(request, "home.html", context)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page (the admin's too): send them to the static icon."""
    return redirect(static("favicon.ico"), permanent=True)
