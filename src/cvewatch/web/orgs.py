"""The organization context of a web request: which organizations the user sees, and the current one.

The current organization is remembered in the session by name; it is only ever one the user is a member
of (re-checked on every request), so a stale session after removal falls back to another membership.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from cvewatch.organizations import selectors
from cvewatch.organizations.models import Organization, Project

SESSION_KEY = "cvewatch.organization"
PROJECT_KEY = "cvewatch.project"  # the current project's name, per organization: {org name: project name}
_CACHE_ATTR = "_cvewatch_organizations"


def organizations_of(request: HttpRequest) -> list[Organization]:
    """The user's organizations by name, each with its `caller_role`, loaded once per request."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        user = getattr(request, "user", None)
        found = selectors.organizations_with_role(caller=user).order_by("name") if user is not None else []
        cached = list(found)
        setattr(request, _CACHE_ATTR, cached)
    return cached


def current_organization(request: HttpRequest) -> Organization | None:
    organizations = organizations_of(request)
    if not organizations:
        return None
    wanted = request.session.get(SESSION_KEY)
    for organization in organizations:
        if organization.name == wanted:
            return organization
    return organizations[0]


def remember_organization(request: HttpRequest, organization: Organization) -> None:
    # Only a change is written: an unchanged session is not saved again, so browsing an organization's pages
    # makes no write (on SQLite a write waits for an import's or a sync's batch to commit).
    if request.session.get(SESSION_KEY) != organization.name:
        request.session[SESSION_KEY] = organization.name


def role_in(request: HttpRequest, organization: Organization | None) -> str | None:
    if organization is None:
        return None
    cache: dict[int, str | None] = request.__dict__.setdefault("_cvewatch_roles", {})
    if organization.pk not in cache:
        # base.html asks right after loading the user's organizations: their roles came with them.
        loaded = getattr(request, _CACHE_ATTR, None) or ()
        known = next((o for o in loaded if o.pk == organization.pk), None)
        if known is not None:
            cache[organization.pk] = known.caller_role
            return known.caller_role
        membership = selectors.membership_of(organization=organization, user=request.user)
        cache[organization.pk] = membership.role if membership else None
    return cache[organization.pk]


def organization_or_404(request: HttpRequest, name: str) -> Organization:
    """The named organization if the user is a member; 404 otherwise, never revealing that it exists.

    Visiting an organization's page also makes it the current one. Found among the user's organizations,
    which the page's menu shows anyway: one query for both.
    """
    organization = next((o for o in organizations_of(request) if o.name == name), None)
    if organization is None:
        raise Http404("No Organization matches the given query.")
    remember_organization(request, organization)
    return organization


def project_or_404(organization: Organization, name: str) -> Project:
    project = selectors.project_for(organization=organization, name=name)
    if project is None:
        raise Http404("No Project matches the given query.")
    return project


def current_project(request: HttpRequest, organization: Organization, projects: list[Project]) -> Project | None:
    """The project the user last chose among the organization's `projects`, else its first active one."""
    if not projects:
        return None
    wanted = (request.session.get(PROJECT_KEY) or {}).get(organization.name)
    for project in projects:
        if project.name == wanted:
            return project
    return next((p for p in projects if p.active), projects[0])


def remember_project(request: HttpRequest, organization: Organization, project: Project) -> None:
    chosen = dict(request.session.get(PROJECT_KEY) or {})
    if chosen.get(organization.name) != project.name:  # as remember_organization: only a change is written
        chosen[organization.name] = project.name
        request.session[PROJECT_KEY] = chosen
