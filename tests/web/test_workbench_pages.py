"""Workbench pages: the tags page, the CVE page's tag and triage panel, the project list's triage column and
filters, saved views. Status codes, CSRF, form errors, isolation, and pinned query counts."""

from __future__ import annotations

import pytest
from django.test import Client

from cvewatch.organizations.services import projects
from cvewatch.workbench.models import CveTag, SavedView, Triage, TriageEvent, UserTag
from cvewatch.workbench.services import tags, views
from cvewatch.workbench.services.triage import set_triage
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

LOG4J = "/cve/CVE-2021-44228"
TRIAGE = "/org/acme/projects/production/triage/CVE-2021-44228"


@pytest.fixture
def production(org, owner, catalog):
    return projects.create_project(
        organization=org, name="production", vendors=["apache", "vmware"], actor=owner
    )


# --- Tags -------------------------------------------------------------------------------------------------


def test_tags_page_creates_lists_edits_and_deletes(owner_client, owner, catalog):
    assert owner_client.get("/tags").status_code == 200
    created = owner_client.post("/tags", {"name": "urgent", "color": "#D92D20", "description": "This week"})
    assert created.status_code == 302 and created["Location"] == "/tags"
    tags.tag_cve(user=owner, cve=catalog["log4j"], name="urgent")
    page = owner_client.get("/tags").content.decode()
    assert "urgent" in page and "This week" in page and "#d92d20" in page and "/cve?tag=urgent" in page
    assert owner_client.get("/tags/urgent/edit").status_code == 200
    saved = owner_client.post("/tags/urgent/edit", {"name": "now", "color": "#000000", "description": ""})
    assert saved.status_code == 302
    assert UserTag.objects.get(user=owner).name == "now"
    assert owner_client.post("/tags/now/delete").status_code == 302
    assert not UserTag.objects.exists() and not CveTag.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "has space", "color": "#000000"}, "invalid tag name"),
        ({"name": "ok", "color": "red"}, "invalid colour"),
        ({"name": "", "color": "#000000"}, "This field is required"),
    ],
)
def test_tag_form_errors_are_shown(owner_client, data, message):
    response = owner_client.post("/tags", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not UserTag.objects.exists()


def test_duplicate_tag_is_a_form_error(owner_client, owner):
    tags.create_tag(user=owner, name="urgent")
    response = owner_client.post("/tags", {"name": "URGENT", "color": "#000000"})
    assert response.status_code == 400 and "already have a tag named" in response.content.decode()


def test_another_persons_tags_are_invisible(owner, member_client, catalog):
    tags.create_tag(user=owner, name="secret-tag")
    tags.tag_cve(user=owner, cve=catalog["log4j"], name="secret-tag")
    assert "secret-tag" not in member_client.get("/tags").content.decode()
    assert "secret-tag" not in member_client.get(LOG4J).content.decode()
    assert member_client.get("/tags/secret-tag/edit").status_code == 404
    assert member_client.post("/tags/secret-tag/delete").status_code == 404
    listing = member_client.get("/cve?tag=secret-tag")
    assert listing.status_code == 200 and list(listing.context["page"].object_list) == []
    assert "You have no tag named" in listing.content.decode()
    member_client.post(f"{LOG4J}/tags", {"action": "remove", "tag": "secret-tag"})
    assert CveTag.objects.count() == 1


def test_tag_and_untag_from_the_cve_page(owner_client, owner, catalog):
    added = owner_client.post(f"{LOG4J}/tags", {"action": "add", "tag": "patch-now"})
    assert added.status_code == 302 and added["Location"] == f"{LOG4J}#workbench-panel"
    assert UserTag.objects.get(user=owner).name == "patch-now"  # a new name creates the tag
    owner_client.post(f"{LOG4J}/tags", {"action": "add", "tag": "patch-now"})  # idempotent
    assert CveTag.objects.count() == 1
    page = owner_client.get(LOG4J).content.decode()
    assert 'aria-label="Remove tag patch-now"' in page
    listing = owner_client.get("/cve?tag=patch-now")
    assert [c.cve_id for c in listing.context["page"]] == ["CVE-2021-44228"]
    assert "Only CVEs you tagged" in listing.content.decode()
    both = owner_client.get("/cve?tag=patch-now&cvss=medium")
    assert list(both.context["page"].object_list) == []
    htmx = owner_client.post(
        f"{LOG4J}/tags", {"action": "remove", "tag": "patch-now"}, HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 200 and 'id="workbench-panel"' in htmx.content.decode()
    assert "<html" not in htmx.content.decode()  # the panel alone
    assert not CveTag.objects.exists()


def test_bad_tag_from_the_cve_page_is_explained(owner_client, catalog):
    htmx = owner_client.post(f"{LOG4J}/tags", {"action": "add", "tag": "no good"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400 and "invalid tag name" in htmx.content.decode()
    plain = owner_client.post(f"{LOG4J}/tags", {"action": "add", "tag": ""}, follow=True)
    assert "must not be empty" in plain.content.decode()
    assert owner_client.post(f"{LOG4J}/tags", {"action": "zap", "tag": "x"}).status_code == 400
    assert owner_client.post("/cve/CVE-1999-9999/tags", {"action": "add", "tag": "x"}).status_code == 404
    assert owner_client.get(f"{LOG4J}/tags").status_code == 405


def test_forms_need_the_csrf_token(owner, catalog, production):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post("/tags", {"name": "x", "color": "#000000"}).status_code == 403
    assert client.post(f"{LOG4J}/tags", {"action": "add", "tag": "x"}).status_code == 403
    assert client.post(TRIAGE, {"status": "resolved"}).status_code == 403
    assert client.post("/views", {"name": "x", "query": "cvss=high"}).status_code == 403
    assert not UserTag.objects.exists() and not Triage.objects.exists() and not SavedView.objects.exists()


# --- Triage -----------------------------------------------------------------------------------------------


def test_triage_from_the_cve_page_with_history(owner_client, member, production):
    page = owner_client.get(LOG4J).content.decode()
    assert 'id="triage-production"' in page and "Not triaged yet" in page
    saved = owner_client.post(TRIAGE, {"status": "remediation_in_progress", "assignee": "max"})
    assert saved.status_code == 302
    triage = Triage.objects.get()
    assert (triage.status, triage.assignee) == ("remediation_in_progress", member)
    page = owner_client.get(LOG4J).content.decode()
    assert "History (2)" in page and "Remediation in progress" in page
    assert "set status from <em>To evaluate</em> to <em>Remediation in progress</em>" in page
    assert "set assignee from <em>nobody</em> to <em>max</em>" in page
    htmx = owner_client.post(TRIAGE, {"status": "resolved", "assignee": "max"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and "History (3)" in htmx.content.decode()


def test_triage_errors(owner_client, outsider, production):
    bad = owner_client.post(TRIAGE, {"status": "finished"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "Choose a known status" in bad.content.decode()
    stranger = owner_client.post(TRIAGE, {"status": "resolved", "assignee": "eve"}, follow=True)
    assert "is not a member of the organization" in stranger.content.decode()
    outside = owner_client.post(
        "/org/acme/projects/production/triage/CVE-2020-0001", {"status": "resolved"}, follow=True
    )
    assert "is not one of the CVEs of the project" in outside.content.decode()
    assert not TriageEvent.objects.exists()


def test_another_organization_cannot_triage_or_see(outsider_client, production, owner, catalog):
    set_triage(project=production, cve=catalog["log4j"], actor=owner, status="resolved")
    assert outsider_client.post(TRIAGE, {"status": "to_evaluate"}).status_code == 404
    assert Triage.objects.get().status == "resolved"
    page = outsider_client.get(LOG4J).content.decode()
    assert "production" not in page and "Resolved" not in page


def test_project_list_shows_and_filters_triage(owner_client, owner, production, catalog):
    set_triage(
        project=production,
        cve=catalog["log4j"],
        actor=owner,
        status="analysis_in_progress",
        assignee="olivia",
    )
    base = "/org/acme/projects/production"
    page = owner_client.get(base)
    rows = {c.cve_id: (c.triage_label, c.triage_assignee) for c in page.context["page"]}
    assert rows == {
        "CVE-2021-44228": ("Analysis in progress", "olivia"),
        "CVE-2022-22965": ("To evaluate", ""),
    }

    def ids(query):
        return [c.cve_id for c in owner_client.get(f"{base}?{query}").context["page"]]

    assert ids("status=analysis_in_progress") == ["CVE-2021-44228"]
    assert ids("status=to_evaluate") == ["CVE-2022-22965"]
    assert ids("status=resolved") == []
    assert ids("assignee=olivia") == ["CVE-2021-44228"]
    assert ids("assignee=-") == ["CVE-2022-22965"]
    assert ids("status=to_evaluate&cvss=medium") == ["CVE-2022-22965"]
    assert ids("status=bogus") == ["CVE-2021-44228", "CVE-2022-22965"]  # ignored, like a bad cvss
    back = owner_client.post(TRIAGE, {"status": "resolved", "next": f"{base}?status=resolved"})
    assert back["Location"] == f"{base}?status=resolved"
    evil = owner_client.post(TRIAGE, {"status": "resolved", "next": "https://evil.example/"})
    assert evil["Location"].startswith(LOG4J)
    # The list's quick status form sends no assignee: the assignee stays.
    listing = owner_client.get(base).content.decode()
    assert 'id="row-status-' in listing and "data-autosubmit" in listing
    owner_client.post(TRIAGE, {"status": "to_evaluate", "next": base})
    assert Triage.objects.get(cve=catalog["log4j"]).assignee.username == "olivia"


# --- Saved views ------------------------------------------------------------------------------------------


def test_save_open_rename_delete_a_view(owner_client, member_client, owner, catalog):
    listing = owner_client.get("/cve?cvss=critical&page=1").content.decode()
    assert "Save this view" in listing and 'value="cvss=critical"' in listing
    saved = owner_client.post("/views", {"name": "Critical", "query": "cvss=critical", "shared": "on"})
    view = SavedView.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/views/{view.pk}"
    opened = owner_client.get(f"/views/{view.pk}")
    assert opened["Location"] == f"/cve?cvss=critical&view={view.pk}"
    page = owner_client.get(opened["Location"])
    assert [c.cve_id for c in page.context["page"]] == ["CVE-2021-44228"]
    assert 'aria-current="true"' in page.content.decode()
    assert "Critical" in member_client.get("/cve").content.decode()  # shared with acme
    assert member_client.post(f"/views/{view.pk}/delete", follow=True).status_code == 200
    assert SavedView.objects.exists()  # a member may not delete the owner's shared view
    owner_client.post(f"/views/{view.pk}/rename", {"name": "Critical only"})  # unticked: private again
    view.refresh_from_db()
    assert (view.name, view.shared) == ("Critical only", False)
    assert member_client.get(f"/views/{view.pk}").status_code == 404
    assert owner_client.post(f"/views/{view.pk}/delete").status_code == 302
    assert not SavedView.objects.exists()


def test_saved_view_errors(owner_client, owner, org):
    views.create_view(organization=org, owner=owner, name="Mine", query="cvss=high")
    duplicate = owner_client.post("/views", {"name": "mine", "query": "cvss=low"})
    assert duplicate.status_code == 400 and "already have a view named" in duplicate.content.decode()
    empty = owner_client.post("/views", {"name": "Empty", "query": "page=2"})
    assert empty.status_code == 400 and "a view needs a query" in empty.content.decode()
    assert owner_client.get("/views/999999").status_code == 404


def test_saved_views_need_an_organization(outsider, catalog):
    lonely = client_for(outsider)  # eve has no organization here
    assert "Join or create an organization to save views" in lonely.get("/cve").content.decode()
    assert lonely.get("/views").status_code == 404


# --- Query counts ------------------------------------------------------------------------------------------


@pytest.fixture
def busy(owner_client, owner, org, production, catalog):
    for n in range(5):
        tags.create_tag(user=owner, name=f"tag{n}")
        tags.tag_cve(user=owner, cve=catalog["log4j"], name=f"tag{n}")
        views.create_view(
            organization=org, owner=owner, name=f"view{n}", query=f"cvss=high&n={n}", shared=True
        )
    for cve in (catalog["log4j"], catalog["spring"]):
        set_triage(project=production, cve=cve, actor=owner, status="resolved", assignee="max")
    return owner_client


# Session and user, the navigation's organizations with their roles (1), then the page's own reads: the tags with
# their counts (1); the views with their owners and the owner check (2); the tag lookup, count and page and
# the saved views (4); a CVE's tags, projects watching it (one statement), triage rows, their events and the
# members (5); the project list's page with its count, its triage rows and the assignee filter's members.
WORKBENCH_PAGES = [
    ("/tags", 4),
    ("/views", 5),
    ("/cve?tag=tag1", 6),  # the list reads a page and one row more, no count
    ("/cve/CVE-2021-44228", 12),  # + the detail page's per-source records and weaknesses' names
    # + the query subscriptions panel; the organization is among the navigation's, the subscriptions' names
    # are one read.
    ("/org/acme/projects/production?status=resolved&assignee=max", 10),
]


@pytest.mark.parametrize(("path", "queries"), WORKBENCH_PAGES)
def test_workbench_query_counts_are_pinned(busy, path, queries, django_assert_num_queries):
    assert busy.get(path).status_code == 200
    with django_assert_num_queries(queries):
        assert busy.get(path).status_code == 200


# The cve_panel.html loops that the status_options, member_options and triage_events tags replaced.
_OLD_PANEL_LOOPS = """{% load cvewatch_workbench %}{% for value, label in statuses %}<option value="{{ value }}"{% if value == status %} selected{% endif %}>{{ label }}</option>{% endfor %}|{% for m in members %}<option value="{{ m.username }}"{% if m.username == assignee %} selected{% endif %}>{{ m.username }}</option>{% endfor %}|{% for e in events %}
            <li><time datetime="{{ e.created_at|date:'c' }}">{{ e.created_at|date:"Y-m-d H:i" }}</time> <strong>{{ e.actor_name|default:"someone" }}</strong>
              set {{ e.field }} from <em>{{ e.old_value|triage_value:e.field }}</em> to <em>{{ e.new_value|triage_value:e.field }}</em></li>
          {% endfor %}"""  # noqa: E501
_NEW_PANEL_TAGS = """{% load cvewatch_workbench %}{% status_options statuses status %}|{% member_options members assignee %}|{% triage_events events %}"""  # noqa: E501


@pytest.mark.parametrize("status", ["to_evaluate", "resolved"])
def test_the_panel_tags_render_as_the_template_loops_did(status, owner, member):
    from datetime import UTC, datetime

    from django.template import Context, Template

    from cvewatch.workbench.models import TriageStatus

    when = datetime(2024, 2, 29, 23, 59, 30, 123456, tzinfo=UTC)
    events = [
        TriageEvent(actor_name="", field="status", old_value="", new_value=status, created_at=when),
        TriageEvent(actor_name="<o&'\">", field="assignee", old_value="max", new_value="", created_at=when),
        TriageEvent(actor_name="x", field="status", old_value="odd<", new_value="resolved", created_at=when),
    ]
    context = {
        "statuses": TriageStatus.choices,
        "status": status,
        "members": [owner, member],
        "assignee": member.username,
        "events": events,
    }
    expected = Template(_OLD_PANEL_LOOPS).render(Context(context))
    assert Template(_NEW_PANEL_TAGS).render(Context(context)) == expected
    assert " selected>max</option>" in expected and "&lt;o&amp;" in expected
