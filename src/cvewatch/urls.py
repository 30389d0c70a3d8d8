from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),  # sync: runs and sources for operators (read-only)
    path("api/", include("cvewatch.api.urls")),
    path("api/", include("cvewatch.organizations.api_urls")),
    path("", include("cvewatch.alerts.web.urls")),  # alerts (wt-f): e-mail confirm/unsubscribe links
    path("", include("cvewatch.web.urls")),
]
