"""The organizations' API routes. No trailing slashes."""

from django.urls import path

from cvewatch.organizations.api import views

urlpatterns = [
    path("organizations", views.OrganizationListView.as_view(), name="api-organization-list"),
    path("organizations/<str:name>", views.OrganizationDetailView.as_view(), name="api-organization-detail"),
    path("organizations/<str:org>/projects", views.ProjectListView.as_view(), name="api-project-list"),
    path(
        "organizations/<str:org>/projects/<str:name>",
        views.ProjectDetailView.as_view(),
        name="api-project-detail",
    ),
    path(
        "organizations/<str:org>/projects/<str:project>/cve",
        views.ProjectCveListView.as_view(),
        name="api-project-cve-list",
    ),
]
