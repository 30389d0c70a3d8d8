"""Git sources (opencve-kb; cvelist checkouts) against real git repositories made in tmp_path."""

from __future__ import annotations

import pytest

from cvewatch.catalog.models import Change, Cve
from cvewatch.sync import git, services
from cvewatch.sync.choices import RunStatus
from tests.conftest import DATA

pytestmark = pytest.mark.django_db

# CVE-2025-8875 is a KEV-only stub the importer skips by design; the rest are full KB records.
KB = sorted(p for p in (DATA / "opencve-kb").rglob("CVE-*.json") if p.name != "CVE-2025-8875.json")
V1, V2 = (DATA / "opencve-kb-versions" / f"CVE-2024-6962.{v}.json" for v in ("v1", "v2"))


@pytest.fixture
def kb(make_repo, sync_urls):
    repo = make_repo("opencve-kb")
    for path in KB:
        repo.put(f"{path.parent.name}/{path.name}", path)
    repo.put("2024/CVE-2024-6962.json", V1)
    repo.put("README.md", b"# knowledge base\n")
    repo.first = repo.commit("base")
    sync_urls(opencve_kb=str(repo.path))
    return repo


def test_first_run_reads_every_record_then_only_changed_files(kb):
    first = services.run_source(name="opencve-kb")
    assert first.status == RunStatus.SUCCEEDED, first.errors
    assert first.counts["read"] == len(KB) + 1 and first.counts.get("skipped", 0) == 0
    assert first.cursor_after == {"commit": kb.first}
    title_before = Cve.objects.get(cve_id="CVE-2024-6962").title

    kb.put("2024/CVE-2024-6962.json", V2)
    second_commit = kb.commit("v2")
    second = services.run_source(name="opencve-kb")
    assert second.counts["read"] == 1 and second.counts["updated"] == 1 and second.counts["changes"] == 1
    assert second.cursor_after == {"commit": second_commit}
    assert Cve.objects.get(cve_id="CVE-2024-6962").title != title_before

    nothing = services.run_source(name="opencve-kb")
    assert nothing.counts["steps"] == 0 and "no new commit" in nothing.notes


def test_history_going_back_or_rewritten_never_rolls_the_catalog_back(kb):
    services.run_source(name="opencve-kb")
    kb.put("2024/CVE-2024-6962.json", V2)
    v2 = kb.commit("v2")
    services.run_source(name="opencve-kb")
    title = Cve.objects.get(cve_id="CVE-2024-6962").title
    changes = Change.objects.count()

    kb.git("reset", "-q", "--hard", kb.first)  # the upstream went back one commit
    back = services.run_source(name="opencve-kb")
    assert "went back in time" in back.notes and back.cursor_after == {"commit": v2}

    kb.put("2025/CVE-2025-0001.json", b"{}")  # ... and then moved on elsewhere: a force-push
    rewritten = kb.commit("rewritten")
    again = services.run_source(name="opencve-kb")
    assert "history was rewritten" in again.notes
    assert (
        again.cursor_after == {"commit": rewritten} and again.status == RunStatus.PARTIAL
    )  # the empty record
    assert Cve.objects.get(cve_id="CVE-2024-6962").title == title  # v1 never replaces v2 again
    assert Change.objects.count() == changes


def test_a_remote_is_mirrored_and_fetched(kb, tmp_path):
    dest = tmp_path / "mirror.git"
    git.mirror(str(kb.path), dest)
    assert git.head(dest) == kb.first
    kb.put("2024/CVE-2024-6962.json", V2)
    newer = kb.commit("v2")
    git.mirror(str(kb.path), dest)
    assert git.head(dest) == newer and git.changed_files(dest, kb.first, newer) == ["2024/CVE-2024-6962.json"]


def test_not_a_repository_fails_the_run(sync_urls, tmp_path):
    sync_urls(opencve_kb=str(tmp_path))
    run = services.run_source(name="opencve-kb")
    assert run.status == RunStatus.FAILED and "not a git repository" in run.errors


def test_cvelist_checkout_reads_record_files_under_cves_only(make_repo, sync_urls):
    repo = make_repo("cvelistV5")
    records = sorted((DATA / "cve5").glob("CVE-*.json"))[:5]
    for path in records:
        year = path.name.split("-")[1]
        repo.put(f"cves/{year}/xxx/{path.name}", path)
    repo.put("cves/delta.json", b'{"fetchTime": "2025-01-01T00:00:00Z", "new": [], "updated": []}')
    repo.put("cves/deltaLog.json", b"[]")
    repo.put("README.md", b"# cvelistV5\n")
    head = repo.commit()
    sync_urls(cvelist=f"file://{repo.path}")
    run = services.run_source(name="cvelist")
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert Cve.objects.count() == len(records) and run.counts.get("skipped", 0) == 0
    assert run.cursor_after == {"commit": head}
