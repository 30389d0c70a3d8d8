"""The CLI's one translation of domain errors: a command base whose refusals exit with their message."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cvewatch.core.errors import DomainError


class DomainCommand(BaseCommand):
    """A management command over the services: a `core.errors.DomainError` becomes a CommandError.

    So every refusal (not found, invalid input, conflict, not allowed) prints the service's own message
    and exits non-zero, without a traceback and without each command catching each app's errors.
    """

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(exc.message) from None
