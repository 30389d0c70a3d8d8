"""cvewatch createuser USERNAME [--email EMAIL] [--superuser]; password from CVEWATCH_PASSWORD or a prompt.

The operator vouches for the address given: it is recorded as verified (it lives here, beside the accounts
service, for that reason).
"""

from __future__ import annotations

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cvewatch.organizations.services import accounts


class Command(BaseCommand):
    help = "Create a user. The password comes from CVEWATCH_PASSWORD or is prompted for."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help="grant staff and superuser rights")

    def handle(self, *args, username: str, email: str, superuser: bool, **options):
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("the username must not be empty")
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"user {username!r} already exists")
        password = os.environ.get("CVEWATCH_PASSWORD")
        if password is None:
            if not os.isatty(0):
                raise CommandError("no password: set CVEWATCH_PASSWORD or run in a terminal to be prompted")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords do not match")
        candidate = User(username=username, email=email)
        try:
            User._meta.get_field("username").run_validators(username)
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        with transaction.atomic():
            if superuser:
                user = User.objects.create_superuser(username=username, email=email, password=password)
            else:
                user = User.objects.create_user(username=username, email=email, password=password)
            if email:
                accounts.mark_email_verified(user=user)
        self.stdout.write(f"created user {username}" + (" (superuser)" if superuser else ""))
