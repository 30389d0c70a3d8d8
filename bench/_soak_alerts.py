"""The alert side of the soak: real receivers, the projects that watch popular vendors, changing records.

- `Receiver`: a threaded HTTP server that verifies every webhook's Standard Webhooks signature and counts
  distinct `webhook-id`s (a retry of the same delivery is not a second alert).
- `MailSink`: a real SMTP server (aiosmtpd) that keeps count of the alert mails and the confirmation links.
- `setup_alerts`: in this process, on the soak's database: projects subscribed to popular vendors, each with a
  webhook to the receiver, and a few with a confirmed e-mail address.
- `ChangingSlice`: NVD 1.1 records of those vendors from a real feed, written again as a feed whose records
  NVD "modified" now (a newer lastModifiedDate and one more reference), so every re-import of the slice
  changes real CVEs and produces real deliveries.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VENDORS = ("microsoft", "linux", "google", "apple", "oracle", "apache", "cisco", "redhat", "debian",
           "fedoraproject", "ibm", "adobe", "mozilla", "wordpress", "qualcomm")  # fmt: skip


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's default backlog (5) drops concurrent connects
    daemon_threads = True


class Receiver:
    """Webhook receiver on 127.0.0.1: /hook/<project index>, verified with that project's secret."""

    def __init__(self) -> None:
        from standardwebhooks.webhooks import Webhook

        self.secrets: dict[str, Webhook] = {}
        self.ids: set[str] = set()
        self.requests = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                verifier = owner.secrets.get(self.path.rpartition("/")[2])
                try:
                    assert verifier is not None
                    verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
                    ok = True
                except Exception:  # noqa: BLE001 - any failure to verify is counted, never raised
                    ok = False
                with owner.lock:
                    owner.requests += 1
                    if ok:
                        owner.ids.add(self.headers.get("webhook-id", ""))
                    else:
                        owner.bad_signatures += 1
                self.send_response(204 if ok else 400)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook/{key}"

    def add_secret(self, key: str, secret: str) -> None:
        from standardwebhooks.webhooks import Webhook

        self.secrets[key] = Webhook(secret)

    def stop(self) -> None:
        self.server.shutdown()


class MailSink:
    """A real SMTP server on 127.0.0.1; alert mails counted, confirmation mails kept apart."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.alerts = 0
        self.confirmations = 0
        self.lock = threading.Lock()
        owner = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                text = envelope.content.decode("utf-8", "replace")
                with owner.lock:
                    if "Subject: [cvewatch] confirm" in text:
                        owner.confirmations += 1
                    else:
                        owner.alerts += 1
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{port}"

    def stop(self) -> None:
        self.controller.stop()


def setup_alerts(*, org_name: str, projects: int, emails: int, receiver: Receiver) -> list[str]:
    """Projects p0..pN-1 of the organization, each watching 3 of VENDORS, each with a webhook; the first
    `emails` also with a confirmed e-mail address. Returns the vendors watched."""
    from django.db import connections

    from cvewatch.alerts.services.notifications import confirm_email, create_notification
    from cvewatch.catalog.models import Vendor
    from cvewatch.organizations.models import Organization
    from cvewatch.organizations.services.projects import create_project

    organization = Organization.objects.get(name=org_name)
    known = [v for v in VENDORS if Vendor.objects.filter(name=v).exists()]
    for number in range(projects):
        watched = [known[(number * 3 + k) % len(known)] for k in range(3)]
        project = create_project(organization=organization, name=f"soak-p{number}", vendors=watched)
        key = str(number)
        _, secret = create_notification(project=project, name="hook", channel="webhook", target=receiver.url(key))
        assert secret is not None
        receiver.add_secret(key, secret)
        if number < emails:
            notification, _ = create_notification(
                project=project, name="mail", channel="email", target=f"soc{number}@soak.example"
            )
            confirm_email(token=notification.email_token)
    connections.close_all()
    return known


def _vendors_of(item: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    todo = list(item.get("configurations", {}).get("nodes", []))
    while todo:
        node = todo.pop()
        todo.extend(node.get("children", []))
        for match in node.get("cpe_match", []):
            parts = str(match.get("cpe23Uri", "")).split(":")
            if len(parts) > 3:
                found.add(parts[3])
    return found


class ChangingSlice:
    """Records of a real NVD 1.1 feed touching `vendors`, re-issued as changed: `size` per round, rotating."""

    def __init__(self, feed: Path, *, vendors: list[str], size: int, workdir: Path) -> None:
        with gzip.open(feed) if feed.suffix == ".gz" else feed.open("rb") as stream:
            doc = json.load(stream)
        wanted = set(vendors)
        self.items = [item for item in doc["CVE_Items"] if _vendors_of(item) & wanted]
        if not self.items:
            raise SystemExit(f"{feed}: no record touches {', '.join(vendors)}")
        self.size, self.workdir, self.round = min(size, len(self.items)), workdir, 0

    def next_file(self) -> Path:
        """The next round's feed: its records' lastModifiedDate is now and they carry one new reference."""
        start = (self.round * self.size) % len(self.items)
        chosen = (self.items + self.items)[start : start + self.size]
        self.round += 1
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
        # The minute-resolution timestamp of NVD 1.1 ties within a minute; the merge keeps the copy it reads
        # last on a tie, so each round's record (with its new reference) still replaces the previous one.
        items = []
        for item in chosen:
            copy = json.loads(json.dumps(item))
            copy["lastModifiedDate"] = stamp
            references = copy["cve"].setdefault("references", {}).setdefault("reference_data", [])
            url = f"https://soak.example/round/{self.round}/{copy['cve']['CVE_data_meta']['ID']}"
            references.append({"url": url, "name": url, "refsource": "MISC", "tags": []})
            items.append(copy)
        path = self.workdir / f"nvdcve-1.1-soak-{self.round:04d}.json"
        path.write_text(json.dumps({"CVE_data_type": "CVE", "CVE_data_format": "MITRE", "CVE_data_version": "4.0",
                                    "CVE_data_numberOfCVEs": str(len(items)),
                                    "CVE_data_timestamp": stamp, "CVE_Items": items}))  # fmt: skip
        return path


def delivery_counts(org_name: str) -> dict[str, int]:
    """The soak organization's deliveries (tests excluded): by status, by "channel status", and the total."""
    from django.db import connections
    from django.db.models import Count

    from cvewatch.alerts.models import Delivery

    rows = (
        Delivery.objects.filter(notification__project__organization__name=org_name, is_test=False)
        .values("status", "notification__channel")
        .annotate(n=Count("id"))
    )
    counts: dict[str, int] = {"total": 0}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
        counts[f"{row['notification__channel']} {row['status']}"] = row["n"]
        counts["total"] += row["n"]
    connections.close_all()
    return counts


def wait_for_drain(org_name: str, *, seconds: float) -> dict[str, int]:
    """Waits until no delivery of the organization is pending (or `seconds` pass); the final counts."""
    deadline = time.monotonic() + seconds
    while True:
        counts = delivery_counts(org_name)
        if not counts.get("pending") or time.monotonic() > deadline:
            return counts
        time.sleep(2)
