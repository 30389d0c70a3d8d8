"""Shared bits of the org, project and token commands: sub-commands, lookups and formats for the operator."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import CommandError

from cvewatch.organizations import selectors
from cvewatch.organizations.models import Organization


def organization_named(name: str) -> Organization:
    organization = selectors.organization_named(name=name)
    if organization is None:
        raise CommandError(f"no organization named {name!r}")
    return organization


def user_named(username: str) -> AbstractBaseUser:
    user = selectors.user_named(username=username)
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"invalid date {value!r}: use YYYY-MM-DD") from None


def add_subcommands(
    parser: argparse.ArgumentParser, handlers: dict[str, Callable[..., None]]
) -> dict[str, argparse.ArgumentParser]:
    subparsers = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    return {
        name: subparsers.add_parser(name, help=(fn.__doc__ or "").strip()) for name, fn in handlers.items()
    }


def when(value: dt.datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")
