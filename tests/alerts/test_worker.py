"""Alerts through real `cvewatch` processes: an import's webhook leaves through the worker within seconds, and a
worker SIGKILLed while it sends loses nothing (what it had in flight is sent again with the same id)."""

from __future__ import annotations

import signal
import threading
import time

from standardwebhooks.webhooks import Webhook

from tests.conftest import DATA
from tests.jobs.conftest import orm, postgres_only, wait_for

SETUP = """
from cvewatch.alerts.services.notifications import create_notification
from cvewatch.catalog.models import Vendor
from cvewatch.organizations.services import organizations as org_organizations, projects as org_projects
from tests.support.people import make_user
Vendor.objects.get_or_create(name="samsung_mobile")
Vendor.objects.get_or_create(name="microsoft")
org = org_organizations.create_organization(name="acme-{tag}", owner=make_user("owner-{tag}"))
project = org_projects.create_project(organization=org, name="production", vendors=["samsung_mobile", "microsoft"])
_, secret = create_notification(project=project, name="soc", channel="webhook", target="{url}")
result = secret
"""

STATE = """
from cvewatch.alerts.models import Delivery
result = sorted([str(d.uuid), d.status, d.attempts] for d in Delivery.objects.filter(
    notification__project__organization__name="acme-{tag}"))
"""


def _env(handle):
    handle.env.update(CVEWATCH_ALLOW_PRIVATE_WEBHOOKS="true", CVEWATCH_DELIVERY_TIMEOUT="1")
    return handle


def test_an_imported_change_reaches_the_receiver_through_the_worker_within_seconds(cvewatch_env, receiver):
    env = _env(cvewatch_env)
    secret = orm(env, SETUP.format(tag="fast", url=receiver.url("/hook")))
    worker = env.start("worker", log="worker.log")
    wait_for(lambda: "periodic" in env.log("worker.log"), timeout=60, what="the worker to start")
    time.sleep(2)  # let the worker's start-up sweep pass: the import below must be what triggers the send

    started = time.monotonic()  # the import's own start-up and run count against the 10 s
    done = env.run("import", str(DATA / "cve5" / "CVE-2023-30696.json"))
    assert done.returncode == 0, done.stderr
    wait_for(lambda: receiver.at("/hook"), timeout=30, what="the webhook")
    latency = time.monotonic() - started
    (request,) = receiver.at("/hook")
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["organization"] == "acme-fast"
    assert [c["cve"]["cve_id"] for c in body["changes"]] == ["CVE-2023-30696"]
    print(f"import started -> webhook received: {latency:.2f} s")
    assert latency < 10, env.log("worker.log")
    worker.send_signal(signal.SIGTERM)
    worker.wait(15)


def test_a_worker_killed_while_sending_loses_nothing(cvewatch_env, receiver):
    env = _env(cvewatch_env)
    gate = threading.Event()
    held = threading.Event()

    def script(n, path):
        if n == 0:  # the first request hangs until the test has killed the worker
            held.set()
            gate.wait(60)
        return 200, {}, b"ok"

    secret = orm(env, SETUP.format(tag="kill", url=receiver.url("/hook", script)))
    # Three import batches (one CVE each), written before any worker runs: three pending deliveries.
    for name in ("CVE-2021-34513.json", "CVE-2019-0714.json", "CVE-2021-34506.json"):
        assert env.run("import", str(DATA / "cve5" / name)).returncode == 0
    pending = orm(env, STATE.format(tag="kill"))
    assert [row[1] for row in pending] == ["pending"] * 3

    worker = env.start("worker", log="worker-1.log")
    assert held.wait(60), env.log("worker-1.log")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    gate.set()

    # A new worker: the lease of what the dead one held runs out, and the minute's sweep sends everything.
    worker = env.start("worker", log="worker-2.log")
    wait_for(
        lambda: all(row[1] == "delivered" for row in orm(env, STATE.format(tag="kill"))),
        timeout=180,
        what="every delivery to be delivered",
    )
    worker.send_signal(signal.SIGTERM)
    worker.wait(15)
    ids = [str(row[0]) for row in orm(env, STATE.format(tag="kill"))]
    bodies: dict[str, list[bytes]] = {}
    for request in receiver.at("/hook"):
        Webhook(secret).verify(request.body, request.headers)
        bodies.setdefault(request.headers["webhook-id"], []).append(request.body)
    # Every delivery arrived. What the killed worker had in flight was sent again once, under the same id and
    # with the same body, so the receiver drops it; nothing else repeats.
    assert sorted(bodies) == sorted(ids)
    assert all(len(set(sent)) == 1 and len(sent) <= 2 for sent in bodies.values()), bodies


MANY = """
from cvewatch.alerts.models import Notification
from cvewatch.alerts.services.matching import write_deliveries
from cvewatch.catalog.models import Change
from cvewatch.organizations.services import organizations as org_organizations, projects as org_projects
from cvewatch.organizations.models import Project, ProjectVendor
from tests.factories import CveFactory, VendorFactory
from tests.support.people import make_user
vendor = VendorFactory(name="microsoft")
org = org_organizations.create_organization(name="acme-many", owner=make_user("owner-many"))
projects = Project.objects.bulk_create([Project(organization=org, name=f"p{{i}}") for i in range(100)])
ProjectVendor.objects.bulk_create([ProjectVendor(project=p, vendor=vendor) for p in projects])
Notification.objects.bulk_create([Notification(project=p, name="hook", channel="webhook", target="{url}",
                                               secret_encrypted=\"{secret}\") for p in projects])
for n in range(5):  # five import batches
    cve = CveFactory(vendors=["microsoft"])
    change = Change.objects.create(cve=cve, events=[{{"type": "created", "details": {{}}}}], types=["created"])
    write_deliveries(change_uuids=[change.uuid])
result = None
"""


@postgres_only
def test_two_workers_on_postgresql_and_redis_make_every_delivery_exactly_once(redis_env, receiver):
    from cvewatch.alerts.crypto import encrypt_secret, new_webhook_secret

    env = _env(redis_env)
    env.env["CVEWATCH_SECRET_KEY"] = "alerts-two-workers-" + "y" * 40
    from django.test import override_settings

    secret = new_webhook_secret()
    with override_settings(SECRET_KEY=env.env["CVEWATCH_SECRET_KEY"]):
        encrypted = encrypt_secret(secret)
    receiver.delay = 0.01
    orm(env, MANY.format(url=receiver.url("/many"), secret=encrypted))
    workers = [env.start("worker", "--threads", "2", log=f"worker-{n}.log") for n in (1, 2)]
    state = STATE.format(tag="many")
    wait_for(lambda: all(row[1] == "delivered" for row in orm(env, state)), timeout=120, what="500 deliveries")
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
    ids = [row[0] for row in orm(env, state)]
    assert len(ids) == 500
    received = [r.headers["webhook-id"] for r in receiver.at("/many")]
    for request in receiver.at("/many")[:5]:
        Webhook(secret).verify(request.body, request.headers)
    assert sorted(received) == sorted(ids)  # each exactly once
    logs = env.log("worker-1.log") + env.log("worker-2.log")
    assert logs.count("deliveries:") >= 2, logs[-2000:]  # both workers took part
