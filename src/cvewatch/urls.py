"""The one URL conf: each app's API routes under /api/, then the web pages."""

from django.urls import include, path

urlpatterns = [
    path("api/", include("cvewatch.catalog.api.urls")),
    path("api/", include("cvewatch.organizations.api.urls")),
    path("", include("cvewatch.web.urls")),
]
