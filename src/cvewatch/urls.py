from django.urls import include, path

urlpatterns = [
    path("api/", include("cvewatch.api.urls")),
    path("", include("cvewatch.web.urls")),
]
