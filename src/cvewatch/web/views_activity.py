"""The activity feed: recorded CVE changes, newest first, of the whole catalog or of the user's projects."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cvewatch.web.orgs import current_organization
from cvewatch.web.paging import window
from cvewatch.workbench import digest

PER_PAGE = 30


@login_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    org = current_organization(request)
    mine = request.GET.get("scope") == "mine" and org is not None
    page = window(request, digest.changes_feed(organization=org if mine else None), per_page=PER_PAGE)
    return render(
        request,
        "web/catalog/activity.html",
        {
            "section": "activity",
            "org": org,
            "mine": mine,
            "page": page,
            "query": "scope=mine" if mine else "",
        },
    )
