"""Real local components for the alerts tests: an HTTP receiver and an SMTP server, both on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from cvewatch.alerts.choices import DeliveryStatus
from cvewatch.alerts.models import Delivery
from cvewatch.organizations.services import projects as org_projects
from tests.factories import VendorFactory
from tests.jobs.conftest import cvewatch_env, migrated_database, redis_env  # noqa: F401 (fixtures for test_worker.py)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# A script answers the n-th request (0-based) to a path with (status, headers, body).
Script = Callable[[int, str], tuple[int, dict[str, str], bytes]]


def always(status: int, body: bytes = b"ok") -> Script:
    return lambda n, path: (status, {}, body)


def failing_first(count: int, status: int = 503) -> Script:
    return lambda n, path: (status, {}, b"down for maintenance") if n < count else (200, {}, b"thanks")


@dataclass
class Receiver:
    """A threaded http.server on 127.0.0.1 recording every request; each path follows its own script."""

    server: ThreadingHTTPServer
    scripts: dict[str, Script] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str, script: Script | None = None) -> str:
        if script is not None:
            self.scripts[path] = script
        return self.base + path

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:
                # The sender died mid-request (a worker SIGKILLed while sending): like any HTTP server, drop
                # the truncated request; it never arrived, so it is neither recorded nor answered.
                return
            with receiver.lock:
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                n = receiver.counts.get(self.path, 0)
                receiver.counts[self.path] = n + 1
            if receiver.delay:
                time.sleep(receiver.delay)
            status, headers, payload = receiver.scripts.get(self.path, always(200))(n, self.path)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the sender gave up (timeout) or was killed while we held its request
                pass

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's default backlog (5) drops concurrent connects: SYN retried after 1 s


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    rec = Receiver(server)
    server.RequestHandlerClass = _handler(rec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


class Inbox:
    """aiosmtpd handler: answers `refuse` to the first `refusals` messages, then keeps every message."""

    def __init__(self, refusals: int = 0, refuse: str = "451 4.3.0 try again later") -> None:
        self.refusals = refusals
        self.refuse = refuse
        self.attempts = 0
        self.messages: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.attempts += 1
        if self.attempts <= self.refusals:
            return self.refuse
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 that cvewatch's mail goes to."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "alerts@cvewatch.example"
    settings.BASE_URL = "https://cve.example.com"
    yield inbox
    controller.stop()


@pytest.fixture(autouse=True)
def _alert_settings(settings) -> None:
    # The receivers of these tests listen on 127.0.0.1: allow it (one test proves the refusal).
    settings.ALLOW_PRIVATE_WEBHOOKS = True
    settings.DELIVERY_TIMEOUT = 2
    settings.DELIVERY_RETRY_BASE = 30
    settings.DELIVERY_MAX_AGE = 86_400


def make_due() -> int:
    """Moves every pending delivery's next attempt to now: the test's clock jumps past the backoff."""
    return Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())


@pytest.fixture
def project(org):
    """acme/production watching microsoft and samsung_mobile (a vendor only CNAs name) and google/android."""
    for name in ("microsoft", "samsung_mobile"):
        VendorFactory(name=name)
    from tests.factories import ProductFactory

    ProductFactory(vendor=VendorFactory(name="google"), name="android")
    return org_projects.create_project(
        organization=org,
        name="production",
        vendors=["microsoft", "samsung_mobile"],
        products=["google/android"],
    )
