"""The one URL conf: the operators' admin, each app's API routes under /api/, then the web pages."""

from django.contrib import admin
from django.urls import include, path

from cvewatch.api.views import SchemaView

urlpatterns = [
    path("admin/", admin.site.urls),  # operators: users, organizations, sync sources and runs
    path("api/schema", SchemaView.as_view(), name="api-schema"),  # OpenAPI 3, JSON
    path("api/", include("cvewatch.catalog.api.urls")),
    path("api/", include("cvewatch.organizations.api.urls")),
    path("", include("cvewatch.web.urls")),
]
