"""A real SMTP server (aiosmtpd) on a free local port, and the settings CVEWATCH_EMAIL_URL gives for it."""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller

from cvewatch.core.mail import smtp_settings_from_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    recipients: list[str]
    message: Message

    @property
    def body(self) -> str:
        return self.message.get_payload(decode=True).decode()

    def link(self, pattern: str) -> str:
        """The first URL in the body matching `pattern` (a regex), or AssertionError with the body."""
        found = re.search(pattern, self.body)
        assert found, self.body
        return found.group(0)


@dataclass
class Inbox:
    """aiosmtpd handler keeping every received message."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(Received(list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"

    def wait_for(self, count: int, *, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@dataclass
class SmtpServer:
    inbox: Inbox
    url: str  # the CVEWATCH_EMAIL_URL value that points at it

    def settings(self) -> dict[str, object]:
        """The Django settings settings.py derives from CVEWATCH_EMAIL_URL=self.url, by the same function."""
        return {"EMAIL_URL": self.url, **smtp_settings_from_url(self.url)}


def start_smtp_server() -> tuple[Controller, SmtpServer]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, SmtpServer(inbox=inbox, url=f"smtp://127.0.0.1:{controller.port}")
