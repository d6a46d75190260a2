"""The project's URLs: the pages of each app, the admin, and the API v1 composed from each app's ``api``."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from grids.api import GridListView, PatrolListView, VisitListView
from parties.api import (
    ChainListView,
    DeliberationDetailView,
    DeliberationListView,
    PointsRankingView,
    UnitListView,
    UnitRankingView,
)
from petitions import public
from petitions.api import CategoryListView, DashboardView, PetitionViewSet

from . import health, views
from .api.auth import ObtainTokenView
from .api.views import DepartmentListView

# A path under /api/ that names no endpoint (``/api/v1/petitions/0.5/``) answers like the API: JSON.
handler404 = "governance.api.errors.not_found"
# The database away (a restart): 503 with Retry-After, JSON under /api/, never Django's HTML 500.
handler500 = "governance.middleware.server_error"

admin.site.site_header = _("Wangge grid governance administration")
admin.site.site_title = _("Wangge administration")
admin.site.index_title = _("District administration")

router = SimpleRouter()
router.register("petitions", PetitionViewSet, basename="api-petition")

api_v1 = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("chain/", ChainListView.as_view(), name="api-chain"),
    path("grids/", GridListView.as_view(), name="api-grids"),
    path("categories/", CategoryListView.as_view(), name="api-categories"),
    path("departments/", DepartmentListView.as_view(), name="api-departments"),
    path("dashboard/", DashboardView.as_view(), name="api-dashboard"),
    path("patrols/", PatrolListView.as_view(), name="api-patrols"),
    path("visits/", VisitListView.as_view(), name="api-visits"),
    path("units/", UnitListView.as_view(), name="api-units"),
    path("points/ranking/", PointsRankingView.as_view(), name="api-points-ranking"),
    path("points/unit-ranking/", UnitRankingView.as_view(), name="api-points-unit-ranking"),
    path("deliberations/", DeliberationListView.as_view(), name="api-deliberations"),
    path("deliberations/<int:pk>/", DeliberationDetailView.as_view(), name="api-deliberation"),
    *router.urls,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("petitions/", include("petitions.urls")),
    # The public pages behind the service card's QR code (no sign-in): report, and the private status link.
    path("r/<str:token>/", public.report, name="public-report"),
    path("s/<str:token>/", public.status_page, name="public-status"),
    path("wishes/", include("parties.urls")),
    path("grids/", include("grids.urls")),
    path("units/", include("parties.units_urls")),
    path("deliberations/", include("parties.deliberation_urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI (vendored) sets inline styles: the one page whose policy allows them (styles only).
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]
