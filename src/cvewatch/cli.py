"""The `cvewatch` command: every operator task is a Django management command behind it."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    from django.core.management import execute_from_command_line

    from cvewatch.config import ConfigError

    args = ["cvewatch", *(sys.argv[1:] if argv is None else argv)]
    try:
        execute_from_command_line(args)
    except ConfigError as exc:
        sys.stderr.write(f"cvewatch: configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
