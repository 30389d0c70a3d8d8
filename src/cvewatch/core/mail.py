"""Outgoing mail configuration from CVEWATCH_EMAIL_URL."""

from __future__ import annotations

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
