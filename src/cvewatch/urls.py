from django.urls import include, path

urlpatterns = [
    path("api/", include("cvewatch.api.urls")),
    path("api/", include("cvewatch.organizations.api_urls")),
    path("", include("cvewatch.web.urls")),
]
