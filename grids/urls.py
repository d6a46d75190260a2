from django.urls import path

from . import moral_views, views

app_name = "grids"
urlpatterns = [
    path("patrols/", views.patrol_list, name="patrols"),
    path("patrols/new/", views.patrol_record, name="patrol-record"),
    path("patrols/<int:pk>/", views.patrol_detail, name="patrol"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/late/", views.late_visits, name="late-visits"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("households/<int:household_id>/visit/", views.visit_record, name="visit-record"),
    path("households/<int:household_id>/moral/", moral_views.household_moral, name="household-moral"),
    path("households/<int:household_id>/moral/award/", moral_views.moral_award, name="moral-award"),
    path("households/<int:household_id>/moral/redeem/", moral_views.moral_redeem, name="moral-redeem"),
    path("moral/<int:pk>/reverse/", moral_views.moral_reverse, name="moral-reverse"),
    path(
        "households/<int:household_id>/key-populations/",
        views.household_key_populations,
        name="household-key-populations",
    ),
]
