"""The organizations' endpoints: thin reads over cvewatch.organizations.selectors.

Scoping is done by the selectors from request.user (a person or a TokenUser); anything the caller may
not see is the same 404 as a missing object, never a 403. Endpoint classes carry comments, not
docstrings: DRF serves a docstring in OPTIONS answers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from cvewatch.api.views import DetailView, ListView, person_of
from cvewatch.catalog.api.schema import CVE_FILTER_PARAMETERS
from cvewatch.catalog.api.serializers import CveListSerializer
from cvewatch.catalog.filters import CveFilter
from cvewatch.catalog.selectors import CountedCves
from cvewatch.core.errors import NotFound
from cvewatch.organizations import selectors
from cvewatch.organizations.api import schema  # noqa: F401  (registers the token scheme and shapes)
from cvewatch.organizations.api.serializers import (
    OrganizationSerializer,
    ProjectDetailSerializer,
    ProjectSerializer,
)
from cvewatch.organizations.models import Organization, Project


def visible_organization(request: Request, name: str) -> Organization:
    organization = selectors.organization_for(caller=request.user, name=name)
    if organization is None:
        raise NotFound("Organization")
    return organization


def visible_project(request: Request, org: str, name: str) -> Project:
    project = selectors.visible_project(caller=request.user, organization_name=org, name=name)
    if project is None:
        visible_organization(request, org)  # a hidden or missing organization is its own 404
        raise NotFound("Project")
    return project


class OrganizationListView(ListView):
    serializer_class = OrganizationSerializer

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.organizations_for(caller=self.request.user).order_by("name", "id")


class OrganizationDetailView(DetailView):
    serializer_class = OrganizationSerializer

    def lookup(self) -> Organization:
        return visible_organization(self.request, self.kwargs["name"])


class ProjectListView(ListView):
    serializer_class = ProjectSerializer

    def get_queryset(self) -> QuerySet[Project]:
        organization = visible_organization(self.request, self.kwargs["org"])
        return selectors.projects_of(organization=organization).order_by("name", "id")


class ProjectDetailView(DetailView):
    serializer_class = ProjectDetailSerializer

    def lookup(self) -> Project:
        project = visible_project(self.request, self.kwargs["org"], self.kwargs["name"])
        self.subscriptions = selectors.project_subscriptions(project=project)
        return project

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["subscriptions"] = getattr(self, "subscriptions", {"vendors": [], "products": {}})
        return context


# GET .../projects/{project}/cve: the project's CVEs, filtered by the query parameters as /api/cve is.
@extend_schema(parameters=CVE_FILTER_PARAMETERS)
class ProjectCveListView(ListView):
    serializer_class = CveListSerializer

    def get_queryset(self) -> CountedCves:
        project = visible_project(self.request, self.kwargs["org"], self.kwargs["project"])
        cve_filter = CveFilter.from_params(
            self.request.query_params,
            user=person_of(self.request),
            caller=self.request.user,
            organization=project.organization,
        )
        return selectors.project_cve_listing(project=project, cve_filter=cve_filter)
