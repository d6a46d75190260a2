from django.urls import path

from . import views

app_name = "parties"
urlpatterns = [
    path("", views.wish_list, name="wishes"),
    path("new/", views.wish_record, name="wish-record"),
    path("<int:pk>/", views.wish_detail, name="wish"),
    *(path(f"<int:pk>/{action}/", views.wish_act, {"action": action}, name=f"wish-{action}") for action in views.STEPS),
]
