from django.urls import path

from . import views

app_name = "petitions"
urlpatterns = [
    path("", views.petition_list, name="list"),
    path("new/", views.petition_register, name="register"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("notifications/", views.notifications, name="notifications"),
    path("<int:pk>/", views.petition_detail, name="detail"),
    path("<int:pk>/dispatch/", views.petition_act, {"action": "dispatch"}, name="dispatch"),
    path("<int:pk>/accept/", views.petition_act, {"action": "accept"}, name="accept"),
    path("<int:pk>/return/", views.petition_act, {"action": "return"}, name="return"),
    path("<int:pk>/resolve/", views.petition_act, {"action": "resolve"}, name="resolve"),
    path("<int:pk>/follow-up/", views.petition_act, {"action": "follow-up"}, name="follow-up"),
    path("<int:pk>/cancel/", views.petition_act, {"action": "cancel"}, name="cancel"),
]
