from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are, and the part of the district you look after."""
    return render(request, "home.html", {"scope_label": request.user.scope_label()})  # type: ignore[union-attr]
