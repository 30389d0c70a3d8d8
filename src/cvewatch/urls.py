"""The one URL conf: the operators' admin, each app's API routes under /api/, then the web pages."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from cvewatch.api.views import SchemaView, not_found

urlpatterns = [
    path("admin/", admin.site.urls),  # operators: users, organizations, tokens, deliveries, sync runs
    path("admin", RedirectView.as_view(url="/admin/")),  # APPEND_SLASH is off; operators type /admin
    path("api/schema", SchemaView.as_view(), name="api-schema"),  # OpenAPI 3, JSON
    path("api/", include("cvewatch.catalog.api.urls")),
    path("api/", include("cvewatch.organizations.api.urls")),
    re_path(r"^api(?:/|$)", not_found),  # any other /api path (a trailing slash too): a JSON 404, never HTML
    path("", include("cvewatch.alerts.web.urls")),  # alerts: e-mail confirm and one-click unsubscribe links
    path("", include("cvewatch.web.urls")),
]
