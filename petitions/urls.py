from django.urls import path

from . import views
from .steps import STEPS

app_name = "petitions"
urlpatterns = [
    path("", views.petition_list, name="list"),
    path("new/", views.petition_register, name="register"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/<slug:table>.<slug:fmt>", views.dashboard_export, name="dashboard_export"),
    path("notifications/", views.notifications, name="notifications"),
    path("<int:pk>/", views.petition_detail, name="detail"),
    path("<int:pk>/propose/", views.petition_propose, name="propose"),
    # One form per step of the loop, as declared in steps.STEPS (the API's per-step endpoints too).
    *(path(f"<int:pk>/{name}/", views.petition_act, {"step": name}, name=name) for name in STEPS),
]
