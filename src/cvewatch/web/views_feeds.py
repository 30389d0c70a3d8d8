"""RSS/Atom feeds of a project's CVEs and of any CVE list query, and the page where a person manages the feed
keys that let a feed reader (which cannot sign in) read them.

- `/feeds/<key_id>.<secret>/projects/<project>.atom|.rss` and `/feeds/<key>/cve.atom|.rss?<list params>`:
  the key is the credential; any failure (wrong, revoked, its person gone from the organization, a project of
  another organization) is the same 404.
- `/org/<org>/projects/<project>/feed.atom|.rss` and `/cve/feed.atom|.rss`: the same feeds for a signed-in
  browser (what the pages' `<link rel="alternate">` point at).
- `/org/<org>/feeds`: create a key (its URLs shown once), list and revoke one's own keys. Any member.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cvewatch.catalog import selectors
from cvewatch.catalog.filters import CveFilter
from cvewatch.core.errors import NotFound
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.models import Organization, Project
from cvewatch.web import feeds, orgs
from cvewatch.web.refusals import caught_refusal, refusal_as_message
from cvewatch.web.views_export import absolute_url, cve_url_builder
from cvewatch.workbench import selectors as workbench_selectors
from cvewatch.workbench.services import feeds as feed_keys


def _feed_response(
    request: HttpRequest, *, kind: str, listing: Any, title: str, link: str, about: str
) -> HttpResponse:
    cves = listing.only(*feeds.ITEM_FIELDS)[: feeds.FEED_ITEMS]
    body = feeds.render_feed(
        kind=kind, title=title, link=link, description=about, cves=cves, cve_url=cve_url_builder(request)
    )
    response = HttpResponse(body, content_type=feeds.CONTENT_TYPES[kind])
    response["Cache-Control"] = "private, max-age=60"
    response["X-Robots-Tag"] = "noindex"
    return response


def _refused(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _with_query(path: str, request: HttpRequest) -> str:
    query = request.GET.urlencode()
    return f"{path}?{query}" if query else path


def _project_feed(request: HttpRequest, *, kind: str, project: Project, user: object) -> HttpResponse:
    with caught_refusal() as refusal:
        listing = org_selectors.project_cve_listing(
            project=project,
            cve_filter=CveFilter.from_params(request.GET, user=user, organization=project.organization),
        )
    if refusal:
        return _refused(refusal.message, refusal.status)
    organization = project.organization
    page = reverse("web:project_detail", args=[organization.name, project.name])
    return _feed_response(
        request,
        kind=kind,
        listing=listing,
        title=f"{organization.name}/{project.name} · cvewatch",
        link=absolute_url(request, _with_query(page, request)),
        about=f"The newest updated CVEs of the project {project.name} of {organization.name}.",
    )


def _catalog_feed(request: HttpRequest, *, kind: str, user: object) -> HttpResponse:
    with caught_refusal() as refusal:
        listing = selectors.cve_listing(cve_filter=CveFilter.from_params(request.GET, user=user))
    if refusal:
        return _refused(refusal.message, refusal.status)
    query = request.GET.urlencode()
    return _feed_response(
        request,
        kind=kind,
        listing=listing,
        title=f"CVEs{f' ({query})' if query else ''} · cvewatch",
        link=absolute_url(request, _with_query(reverse("web:cve_list"), request)),
        about=f"The newest updated CVEs{f' matching {query}' if query else ''}.",
    )


def _feed_key_or_404(key: str):
    try:
        return feed_keys.authenticate_feed_key(raw=key)
    except NotFound:
        raise Http404("No feed matches the given query.") from None


@require_GET
def keyed_project_feed(request: HttpRequest, key: str, project: str, kind: str) -> HttpResponse:
    feed_key = _feed_key_or_404(key)
    row = org_selectors.project_for(organization=feed_key.organization, name=project)
    if row is None:
        raise Http404("No feed matches the given query.")
    return _project_feed(request, kind=kind, project=row, user=feed_key.user)


@require_GET
def keyed_catalog_feed(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    feed_key = _feed_key_or_404(key)
    return _catalog_feed(request, kind=kind, user=feed_key.user)


@login_required
@require_GET
def project_feed(request: HttpRequest, org: str, project: str, kind: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    return _project_feed(
        request, kind=kind, project=orgs.project_or_404(organization, project), user=request.user
    )


@login_required
@require_GET
def catalog_feed(request: HttpRequest, kind: str) -> HttpResponse:
    return _catalog_feed(request, kind=kind, user=request.user)


# --- the feed keys page ---------------------------------------------------------------------------------


def _feed_urls(request: HttpRequest, organization: Organization, full_key: str) -> list[tuple[str, str, str]]:
    """(what, Atom URL, RSS URL) of every feed the new key reads: each project, then the whole catalog."""

    def url(name: str, kind: str, **kwargs: str) -> str:
        return absolute_url(request, reverse(name, kwargs={"key": full_key, "kind": kind, **kwargs}))

    def both(name: str, **kwargs: str) -> tuple[str, str]:
        return url(name, "atom", **kwargs), url(name, "rss", **kwargs)

    rows = [
        (f"Project {project.name}", *both("web:keyed_project_feed", project=project.name))
        for project in org_selectors.projects_of(organization=organization)
    ]
    rows.append(
        ("All CVEs (add the CVE list's filters as ?vendor=…&cvss=…)", *both("web:keyed_catalog_feed"))
    )
    return rows


@never_cache  # the creation response carries the key: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def feed_key_list(request: HttpRequest, org: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    full_key = ""
    if request.method == "POST":
        with refusal_as_message(request) as refusal:
            _, full_key = feed_keys.create_feed_key(organization=organization, user=request.user)
        if refusal:
            return redirect("web:feed_key_list", organization.name)
    return render(
        request,
        "web/feeds/list.html",
        {
            "section": "feeds",
            "organization": organization,
            "keys": list(workbench_selectors.feed_keys_of(organization=organization, user=request.user)),
            "full_key": full_key,
            # Rendered in the POST response itself, never stored: reloading cannot show the key again.
            "feed_urls": _feed_urls(request, organization, full_key) if full_key else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def feed_key_revoke(request: HttpRequest, org: str, key_id: str) -> HttpResponse:
    organization = orgs.organization_or_404(request, org)
    key = (
        workbench_selectors.feed_keys_of(organization=organization, user=request.user)
        .filter(key_id=key_id)
        .first()
    )
    if key is None:
        raise Http404("No feed key matches the given query.")
    if request.method == "POST":
        with refusal_as_message(request) as refusal:
            feed_keys.revoke_feed_key(organization=organization, user=request.user, key_id=key.key_id)
        if not refusal:
            messages.success(
                request, f"Feed key {key.key_id} was revoked: feed readers using it get 404 now."
            )
        return redirect("web:feed_key_list", organization.name)
    return render(
        request, "web/feeds/revoke.html", {"section": "feeds", "organization": organization, "key": key}
    )
