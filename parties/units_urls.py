from django.urls import path

from . import units, units_views

app_name = "units"
urlpatterns = [
    path("", units_views.overview, name="overview"),
    path("<int:pk>/", units_views.unit, name="unit"),
    path("<int:pk>/assessment.xlsx", units_views.unit_export, name="unit-export"),
    path("community/<int:pk>/", units_views.community, name="community"),
    path("community/<int:pk>/post/", units_views.activity_post, name="activity-post"),
    path("report/", units_views.report_self, name="report-self"),
    path("community/<int:pk>/report/", units_views.report_record, name="report-record"),
    path("community/<int:pk>/points/", units_views.points_page, name="points"),
    path("community/<int:pk>/points/propose/", units_views.points_propose, name="points-propose"),
    path("awards/<int:pk>/approve/", units_views.award_approve, name="award-approve"),
    path("awards/<int:pk>/reject/", units_views.award_reject, name="award-reject"),
    path("entries/<int:pk>/reverse/", units_views.entry_reverse, name="entry-reverse"),
    path("reports/<int:pk>/confirm/", units_views.report_confirm, name="report-confirm"),
    path("services/<int:activity>/sign_up/", units_views.service_act, {"action": "sign_up"}, name="sign_up"),
    *(
        path(f"services/<int:activity>/<int:record>/{action}/", units_views.service_act, {"action": action},
             name=action)
        for action in units.TRANSITIONS if action != "sign_up"
    ),
]
