from datetime import UTC, datetime

from cvewatch.alerts.services import payloads


def test_human_names_follow_the_contract():
    assert payloads.human_name("foo$PRODUCT$bar") == "Bar"
    assert payloads.human_name("foo") == "Foo"
    assert payloads.human_name("apache$PRODUCT$http_server") == "Http Server"
    assert payloads.human_name("samsung_mobile") == "Samsung Mobile"


def test_the_contract_example_body_field_for_field():
    start = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
    end = datetime(2024, 1, 1, 1, 59, 59, tzinfo=UTC)
    change = payloads.change_entry(
        cve_id="CVE-2024-6962",
        description="...",
        cvss31=8.8,
        matched=["foo$PRODUCT$bar"],
        events=[{"type": "title", "details": {"old": None, "new": "Tenda O3 formQosSet stack-based overflow"}}],
    )
    body = payloads.notification_body(
        organization="acme",
        project="production",
        notification="soc-webhook",
        subscriptions=["foo$PRODUCT$bar", "foo"],
        changes=[change],
        period_start=start,
        period_end=end,
    )
    assert body == {
        "organization": "acme",
        "project": "production",
        "notification": "soc-webhook",
        "subscriptions": {"raw": ["foo", "foo$PRODUCT$bar"], "human": ["Bar", "Foo"]},
        "matched_subscriptions": {"raw": ["foo$PRODUCT$bar"], "human": ["Bar"]},
        "title": "1 change on Bar",
        "period": {"start": "2024-01-01T01:00:00+00:00", "end": "2024-01-01T01:59:59+00:00"},
        "changes": [
            {
                "cve": {
                    "cve_id": "CVE-2024-6962",
                    "description": "...",
                    "cvss31": 8.8,
                    "subscriptions": {"raw": ["foo$PRODUCT$bar"], "human": ["Bar"]},
                },
                "events": [
                    {"type": "title", "details": {"old": None, "new": "Tenda O3 formQosSet stack-based overflow"}}
                ],
            }
        ],
    }


def test_title_counts_changes_and_joins_matched_names():
    assert payloads.title(count=3, matched_human=["Android", "Microsoft"]) == "3 changes on Android, Microsoft"


def test_severity_groups_most_severe_first():
    body = {
        "changes": [
            {"cve": {"cvss31": None}},
            {"cve": {"cvss31": 9.8}},
            {"cve": {"cvss31": 5.0}},
            {"cve": {"cvss31": 7.0}},
        ]
    }
    groups = payloads.changes_by_severity(body)
    assert [name for name, _ in groups] == ["critical", "high", "medium", "none"]
