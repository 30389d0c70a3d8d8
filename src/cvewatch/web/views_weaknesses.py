"""The weaknesses (CWE) pages: a searchable list with CVE counts, and one weakness with its CVEs."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from cvewatch.catalog import selectors
from cvewatch.core.errors import NotFound
from cvewatch.web.views_catalog import cve_rows, paginate

WEAKNESSES_PER_PAGE = 50
# "79", "cwe-79", "Cwe-79": the same weakness as "CWE-79", which the address is redirected to.
_CWE_SPELLING = re.compile(r"^(?:cwe-)?([0-9]+)$", re.IGNORECASE)


@login_required
@require_GET
def weakness_list(request: HttpRequest) -> HttpResponse:
    search = (request.GET.get("search") or "").strip()[:200]
    order = request.GET.get("order") if request.GET.get("order") in selectors.WEAKNESS_ORDERS else "number"
    if order == "cves":
        page = paginate(request, selectors.weaknesses_by_cve_count(term=search), per_page=WEAKNESSES_PER_PAGE)
        found = selectors.weaknesses_by_id(ids=[pk for pk, _ in page.object_list])
        rows = [(found[pk], count) for pk, count in page.object_list if pk in found]
    else:
        page = paginate(request, selectors.weakness_search(term=search), per_page=WEAKNESSES_PER_PAGE)
        counts = selectors.weakness_cve_counts(weakness_ids=[w.pk for w in page.object_list])
        rows = [(weakness, counts.get(weakness.pk, 0)) for weakness in page.object_list]
    query = {key: value for key, value in (("search", search), ("order", order)) if value and value != "number"}
    return render(
        request,
        "web/catalog/weakness_list.html",
        {
            "section": "weaknesses",
            "page": page,
            "rows": rows,
            "search": search,
            "order": order,
            "query": urlencode(query),
            "search_query": urlencode({"search": search}) if search else "",
        },
    )


@login_required
@require_GET
def weakness_detail(request: HttpRequest, cwe_id: str) -> HttpResponse:
    spelled = _CWE_SPELLING.sub(lambda m: f"CWE-{m.group(1)}", cwe_id)
    if spelled != cwe_id:
        return redirect("web:weakness_detail", cwe_id=spelled)  # one address per weakness
    try:
        weakness = selectors.weakness_by_cwe_id(cwe_id=cwe_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    page = paginate(request, cve_rows(selectors.cves_of_weakness(weakness=weakness)))
    return render(
        request,
        "web/catalog/weakness_detail.html",
        {"section": "weaknesses", "weakness": weakness, "page": page},
    )
