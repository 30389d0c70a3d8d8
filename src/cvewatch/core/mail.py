"""Outgoing mail: the settings parsed from CVEWATCH_EMAIL_URL, and the small interface services send through.

Services never call Django's mail functions: they take a `Mailer` (by default `DjangoMailer`, which uses the
backend the settings chose: SMTP from CVEWATCH_EMAIL_URL, else the console). A failed delivery is
`MailNotSent`, so a service decides what a lost mail means for its own action.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from cvewatch.config import ConfigError

_SCHEMES = {"smtp": (25, False, False), "smtp+tls": (587, True, False), "smtps": (465, False, True)}


def smtp_settings_from_url(url: str) -> dict[str, object]:
    """Django EMAIL_* settings for smtp://, smtp+tls:// (STARTTLS) or smtps:// (implicit TLS) URLs."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ConfigError(f"CVEWATCH_EMAIL_URL scheme must be one of {', '.join(_SCHEMES)}, not {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError("CVEWATCH_EMAIL_URL has no host")
    default_port, starttls, implicit_tls = _SCHEMES[parts.scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": starttls,
        "EMAIL_USE_SSL": implicit_tls,
        "EMAIL_TIMEOUT": 20,
    }


@dataclass(frozen=True)
class Mail:
    """One plain-text message from the configured sender (CVEWATCH_EMAIL_FROM)."""

    to: tuple[str, ...]
    subject: str
    body: str


class MailNotSent(Exception):
    """The mail server refused the message or could not be reached; str(exc) says why."""


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Deliver the message or raise MailNotSent."""


class DjangoMailer:
    """Sends through Django's configured mail backend (SMTP from CVEWATCH_EMAIL_URL, else the console)."""

    def send(self, mail: Mail) -> None:
        from django.core.mail import EmailMessage  # here: settings.py imports this module


        try:
            EmailMessage(subject=mail.subject, body=mail.body, to=list(mail.to)).send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailNotSent(str(exc) or type(exc).__name__) from exc
