from django.urls import path

from . import cards, photos, views
from .steps import STEPS

app_name = "petitions"
urlpatterns = [
    path("", views.petition_list, name="list"),
    path("new/", views.petition_register, name="register"),
    path("from-patrol/<int:patrol_id>/", views.petition_register_from_patrol, name="register-from-patrol"),
    path("fieldwork/", views.fieldwork, name="fieldwork"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/<slug:table>.<slug:fmt>", views.dashboard_export, name="dashboard_export"),
    path("notifications/", views.notifications, name="notifications"),
    path("<int:pk>/", views.petition_detail, name="detail"),
    # Photos only through the scope check (no public URL), and each grid's printable service card.
    path("photos/<int:pk>/", photos.photo_file, name="photo"),
    path("photos/<int:pk>/thumb/", photos.photo_file, {"size": "thumb"}, name="photo-thumb"),
    path("cards/<slug:code>/", cards.service_card, name="service-card"),
    path("<int:pk>/propose/", views.petition_propose, name="propose"),
    # One form per step of the loop, as declared in steps.STEPS (the API's per-step endpoints too).
    *(path(f"<int:pk>/{name}/", views.petition_act, {"step": name}, name=name) for name in STEPS),
]
