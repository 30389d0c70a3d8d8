"""Shared bits of the org, project and token commands: lookups and error mapping for the operator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from cvewatch.organizations.errors import OrganizationError
from cvewatch.organizations.models import Organization


def organization_named(name: str) -> Organization:
    organization = Organization.objects.filter(name__iexact=(name or "").strip()).first()
    if organization is None:
        raise CommandError(f"no organization named {name!r}")
    return organization


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn a service refusal into a CommandError carrying its message."""
    try:
        yield
    except OrganizationError as exc:
        raise CommandError(str(exc)) from None


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"invalid date {value!r}: use YYYY-MM-DD") from None


def add_subcommands(parser, handlers: dict[str, Callable]):  # type: ignore[no-untyped-def]
    subparsers = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    return {
        name: subparsers.add_parser(name, help=(fn.__doc__ or "").strip()) for name, fn in handlers.items()
    }


def when(value: dt.datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")
