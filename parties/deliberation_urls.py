"""Deliberation (五议) pages, under /deliberations/; the public notice needs no sign-in."""

from django.urls import path

from . import deliberation_views as views

app_name = "deliberations"
urlpatterns = [
    path("", views.deliberation_list, name="list"),
    path("new/", views.deliberation_propose, name="propose"),
    path("<int:pk>/", views.deliberation_detail, name="detail"),
    path("<int:pk>/notice/", views.public_notice, name="notice"),
    *(path(f"<int:pk>/{action}/", views.deliberation_act, {"action": action}, name=action) for action in views.STEPS),
]
