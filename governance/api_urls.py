"""The API, mounted at /api/: the v1 contract (DESIGN.md), its OpenAPI 3 schema and browsable docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from petitions.api import PetitionViewSet

from . import api

router = SimpleRouter()
router.register("petitions", PetitionViewSet, basename="api-petition")

v1 = [
    path("auth/token/", api.ObtainTokenView.as_view(), name="api-token"),
    path("chain/", api.ChainListView.as_view(), name="api-chain"),
    path("grids/", api.GridListView.as_view(), name="api-grids"),
    path("categories/", api.CategoryListView.as_view(), name="api-categories"),
    path("departments/", api.DepartmentListView.as_view(), name="api-departments"),
    path("dashboard/", api.DashboardView.as_view(), name="api-dashboard"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
