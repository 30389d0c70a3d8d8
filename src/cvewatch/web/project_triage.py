"""The triage side of a project's CVE list: filter by status and assignee, and a status on every row.

Kept apart from views_projects so the project page only calls three helpers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.paginator import Page

from cvewatch.catalog.filters import CveFilter
from cvewatch.organizations.models import Organization, Project
from cvewatch.web.forms_workbench import TRIAGE_FILTER_CHOICES
from cvewatch.workbench import selectors
from cvewatch.workbench.models import TriageStatus


def triage_filter(params: Mapping[str, Any]) -> dict[str, str]:
    """The ?status= and ?assignee= the list filters on; an unknown status is ignored, as CveFilter's are."""
    status = str(params.get("status") or "").strip()
    assignee = str(params.get("assignee") or "").strip()
    active = {"status": status if status in TriageStatus.values else "", "assignee": assignee[:150]}
    return {k: v for k, v in active.items() if v}


def triaged_cves(*, project: Project, cve_filter: CveFilter, status: str = "", assignee: str = "") -> Any:
    """The project's CVEs passing the list's filters and the triage filter, newest-updated first."""
    return selectors.project_triage_listing(
        project=project, cve_filter=cve_filter, status=status, assignee=assignee
    )


def mark_page(*, project: Project, page: Page) -> None:
    """Give each CVE of the page its `triage_status`, `triage_label` and `triage_assignee` (one query)."""
    cves = list(page.object_list)
    triages = selectors.triages_by_cve(project=project, cve_ids=[c.pk for c in cves]) if cves else {}
    for cve in cves:
        triage = triages.get(cve.pk)
        status = triage.status if triage else TriageStatus.TO_EVALUATE
        cve.triage_status = status
        cve.triage_label = TriageStatus(status).label
        cve.triage_assignee = triage.assignee.get_username() if triage and triage.assignee else ""
    page.object_list = cves


def filter_context(*, organization: Organization, params: Mapping[str, Any]) -> dict[str, Any]:
    active = triage_filter(params)
    return {
        "triage_statuses": TRIAGE_FILTER_CHOICES,
        "triage_status": active.get("status", ""),
        "triage_assignee": active.get("assignee", ""),
        "triage_members": selectors.assignable_members(organization=organization),
    }
