"""The demo login file, DATA_DIR/demo-login.txt: the demo user's initial password, and never a stale one.

`cvewatch demo` writes it (mode 0600) when it creates the demo user. When that user's password changes
through cvewatch (the account page, a reset link, `cvewatch changepassword`), a receiver of the user's
post_save rewrites the file to say when it changed, without any password: the file never shows a password
that no longer works, and never stores one a person chose.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

FILE_NAME = "demo-login.txt"
CHANGED = "(changed"  # how the password line starts once the password was changed


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str  # the initial password, or "(changed on ... UTC; not stored)"

    @property
    def changed(self) -> bool:
        return self.password.startswith(CHANGED)


def path() -> Path:
    return Path(settings.DATA_DIR) / FILE_NAME


def _write(text: str) -> None:
    fd = os.open(path(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def write_initial(*, username: str, password: str) -> None:
    _write(
        f"# The cvewatch demo login, written by `cvewatch demo` on {timezone.now():%Y-%m-%d %H:%M} UTC.\n"
        "# This is the initial password: once it is changed, this file says so and no longer holds it.\n"
        f"username: {username}\n"
        f"password: {password}\n"
    )


def read() -> DemoLogin | None:
    """The login the file holds, or None when there is no file. An older file holds just the password."""
    try:
        text = path().read_text()
    except FileNotFoundError:
        return None
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and not line.startswith("#"):
            fields[key.strip()] = value.strip()
    if "password" not in fields:
        return DemoLogin(username="admin", password=text.strip())
    return DemoLogin(username=fields.get("username", "admin"), password=fields["password"])


def mark_changed(*, username: str) -> None:
    now = timezone.now()
    _write(
        f"# The cvewatch demo login. The password of {username} was changed on {now:%Y-%m-%d %H:%M} UTC:\n"
        "# this file no longer holds it.\n"
        f"username: {username}\n"
        f"password: {CHANGED} on {now:%Y-%m-%d %H:%M} UTC; not stored)\n"
    )


def password_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save of the user model: a new password of the demo user makes the file say it changed.

    `_password` is the raw password Django's `set_password` keeps until the save that stores its hash.
    """
    raw = getattr(instance, "_password", None)
    if raw is None:
        return
    login = read()
    if login is None or login.changed or login.username != instance.get_username():
        return
    if not hmac.compare_digest(raw.encode(), login.password.encode()):
        mark_changed(username=login.username)
