"""The operators' admin at /admin: every page renders for a superuser, others are refused, no secret is shown,
the actions go through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from cvewatch.alerts.choices import Channel, DeliveryStatus
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.catalog.models import ImportedInput
from cvewatch.organizations.models import OrganizationToken
from cvewatch.organizations.services import projects, tokens
from cvewatch.sync.models import SyncRun, SyncSource
from cvewatch.workbench.models import FeedKey
from cvewatch.workbench.services import feeds as feed_keys
from tests.support.people import make_user
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T000/B000/sEcReTsEcReT"


@pytest.fixture
def operator():
    user = make_user("root")
    user.is_staff = user.is_superuser = True
    user.save()
    return client_for(user)


@pytest.fixture
def world(org, owner, member, catalog):
    project = projects.create_project(organization=org, name="production", vendors=["apache"], actor=owner)
    token, full_token = tokens.create_token(organization=org, name="ci", actor=owner)
    key, full_key = feed_keys.create_feed_key(organization=org, user=member)
    notification = Notification.objects.create(
        project=project, name="chat", channel=Channel.SLACK, target=SLACK_URL
    )
    now = timezone.now()
    failed = Delivery.objects.create(
        notification=notification,
        status=DeliveryStatus.FAILED,
        attempts=5,
        expires_at=now - dt.timedelta(hours=1),
        period_start=now - dt.timedelta(hours=2),
        period_end=now - dt.timedelta(hours=1),
        last_error="HTTP 500",
    )
    delivered = Delivery.objects.create(
        notification=notification,
        status=DeliveryStatus.DELIVERED,
        expires_at=now,
        period_start=now,
        period_end=now,
    )
    source = SyncSource.objects.create(name="kev")
    SyncRun.objects.create(source=source, status="succeeded")
    ImportedInput.objects.create(sha256="ab" * 32, format_version=1, size=1234, origin="/feeds/kev.json")
    return {
        "project": project,
        "token": token,
        "full_token": full_token,
        "key": key,
        "full_key": full_key,
        "failed": failed,
        "delivered": delivered,
    }


ADMIN_MODELS = [
    "auth/user",
    "organizations/organization",
    "organizations/project",
    "organizations/organizationtoken",
    "organizations/tokenevent",
    "organizations/invitation",
    "organizations/verifiedemail",
    "alerts/notification",
    "alerts/delivery",
    "sync/syncsource",
    "sync/syncrun",
    "catalog/importedinput",
    "workbench/usertag",
    "workbench/cvetag",
    "workbench/triage",
    "workbench/triageevent",
    "workbench/savedview",
    "workbench/querysubscription",
    "workbench/dashboardvisit",
    "workbench/feedkey",
]


def test_the_index_lists_every_app(operator, world):
    page = operator.get("/admin/").content.decode()
    for model in ADMIN_MODELS:
        assert f'href="/admin/{model}/"' in page, model


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_every_list_and_its_first_row_render_without_a_secret(operator, world, model):
    listing = operator.get(f"/admin/{model}/")
    assert listing.status_code == 200
    html = listing.content.decode()
    app, name = model.split("/")
    row = get_model(app, name).objects.order_by("pk").first()
    if row is not None:
        detail = operator.get(f"/admin/{model}/{row.pk}/change/")
        assert detail.status_code == 200
        html += detail.content.decode()
    for secret in (
        world["full_token"].split(".")[2],
        world["token"].secret_hash,
        world["full_key"].split(".")[1],
        world["key"].secret_digest,
        "sEcReTsEcReT",
    ):
        assert secret not in html


def get_model(app: str, name: str):
    from django.apps import apps

    return apps.get_model(app, name)


def test_users_show_whether_their_address_is_verified(operator, world):
    make_user("unverified", verified=False)
    html = operator.get("/admin/auth/user/").content.decode()
    assert "E-mail verified" in html
    assert 'alt="True"' in html and 'alt="False"' in html


def test_slashless_admin_leads_to_the_admin(operator):
    response = operator.get("/admin")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_admin_refuses_people_who_are_not_staff(member_client, client):
    for admin_client in (member_client, client):
        response = admin_client.get("/admin/alerts/delivery/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_retrying_deliveries_calls_the_alerts_service(operator, world):
    failed, delivered = world["failed"], world["delivered"]
    response = operator.post(
        reverse("admin:alerts_delivery_changelist"),
        {"action": "retry_deliveries", "_selected_action": [failed.pk, delivered.pk]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 delivery queued to be sent again." in text
    assert f"Delivery {delivered.uuid} was delivered already" in text  # the admin capitalises
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING and failed.expires_at > timezone.now()
    assert failed.next_attempt_at is not None


def test_revoking_tokens_and_feed_keys_goes_through_their_services(operator, world, client):
    operator.post(
        reverse("admin:organizations_organizationtoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [world["token"].pk]},
    )
    token = OrganizationToken.objects.get(pk=world["token"].pk)
    assert token.revoked_at is not None
    assert token.events.filter(action="revoked", actor_label="cli").exists()
    assert client.get(f"/feeds/{world['full_key']}/cve.atom").status_code == 200
    operator.post(
        reverse("admin:workbench_feedkey_changelist"),
        {"action": "revoke_keys", "_selected_action": [world["key"].pk]},
    )
    assert FeedKey.objects.get(pk=world["key"].pk).revoked_at is not None
    assert client.get(f"/feeds/{world['full_key']}/cve.atom").status_code == 404


def test_big_lists_skip_the_full_count_and_join_what_they_show(
    operator, world, django_assert_max_num_queries
):
    for _ in range(20):
        Delivery.objects.create(
            notification=world["failed"].notification,
            expires_at=timezone.now(),
            period_start=timezone.now(),
            period_end=timezone.now(),
        )
    operator.get("/admin/alerts/delivery/")
    # Session, user, the filtered count, the page (joined), the date hierarchy's years, the filter choices.
    with django_assert_max_num_queries(8):
        assert operator.get("/admin/alerts/delivery/").status_code == 200
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
