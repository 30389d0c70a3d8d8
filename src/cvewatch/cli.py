"""The `cvewatch` command: every operator task is a Django management command behind it.

`cvewatch`, `cvewatch help` and `cvewatch --help` list cvewatch's own commands, grouped, one line each,
plus the few of Django's an operator needs (OPERATOR_DJANGO_COMMANDS). Django's other commands
(`runserver`, `startproject`, ...) still run and `cvewatch help COMMAND` documents any command;
`cvewatch help --all` lists them all as Django does.
"""

from __future__ import annotations

import os
import sys

from django.core.management import ManagementUtility, get_commands

# Django's own commands an operator of cvewatch uses, with what they do here.
OPERATOR_DJANGO_COMMANDS = {
    "migrate": "create or upgrade the database schema",
    "showmigrations": "list the schema migrations and whether each is applied",
    "changepassword": "change a user's password (prompted)",
    "check": "check the configuration (`check --deploy` for production)",
    "clearsessions": "delete expired web sessions from the database",
    "shell": "a Python shell with cvewatch loaded, for inspecting data",
    "dbshell": "the database's own shell (sqlite3 or psql)",
}

# The groups of the listing, in order, and the group of each command we know; a command another app adds
# later lands in its app's group (APP_GROUPS), else under "More".
GROUPS = (
    "Start",
    "Catalog data",
    "Users, organizations and access",
    "Alerts",
    "Database and maintenance",
    "More",
)
COMMAND_GROUPS = {
    "demo": "Start",
    "serve": "Start",
    "worker": "Start",
    "import": "Catalog data",
    "sync": "Catalog data",
    "createuser": "Users, organizations and access",
    "changepassword": "Users, organizations and access",
    "org": "Users, organizations and access",
    "project": "Users, organizations and access",
    "token": "Users, organizations and access",
    "notification": "Alerts",
    "delivery": "Alerts",
    "migrate": "Database and maintenance",
    "showmigrations": "Database and maintenance",
    "check": "Database and maintenance",
    "backup": "Database and maintenance",
    "restore": "Database and maintenance",
    "clearsessions": "Database and maintenance",
    "shell": "Database and maintenance",
    "dbshell": "Database and maintenance",
}
APP_GROUPS = {
    "catalog": "Catalog data",
    "ingest": "Catalog data",
    "sync": "Catalog data",
    "organizations": "Users, organizations and access",
    "workbench": "Users, organizations and access",
    "alerts": "Alerts",
    "core": "Database and maintenance",
}
SUMMARY_WIDTH = 62  # with the command names, a line stays within 80 columns


def summary_of(help_text: str) -> str:
    """One line from a command's help: its first sentence, before any list after a colon.

    A command may say it better itself with a `summary` attribute, which the listing prefers.
    """
    text = " ".join((help_text or "").split())
    for end in (". ", ": "):
        text = text.split(end, 1)[0]
    text = text.rstrip(".")
    if len(text) > SUMMARY_WIDTH:
        text = text[: SUMMARY_WIDTH - 1].rstrip() + "…"
    if text[1:2].islower():  # "Import" -> "import", but "CVE ..." stays
        text = text[:1].lower() + text[1:]
    return text


def operator_commands() -> dict[str, list[tuple[str, str]]]:
    """The commands the listing shows, as {group: [(name, one-line summary)]}, in GROUPS order."""
    from django.core.management import load_command_class

    grouped: dict[str, list[tuple[str, str]]] = {group: [] for group in GROUPS}
    for name, app in sorted(get_commands().items()):
        if name in OPERATOR_DJANGO_COMMANDS:
            summary = OPERATOR_DJANGO_COMMANDS[name]
        elif app.startswith("cvewatch."):
            command = load_command_class(app, name)
            summary = getattr(command, "summary", "") or summary_of(command.help)
        else:
            continue
        group = COMMAND_GROUPS.get(name) or APP_GROUPS.get(app.rpartition(".")[2], "More")
        grouped[group].append((name, summary))
    order = {name: n for n, name in enumerate(COMMAND_GROUPS)}  # known commands in the order above
    return {
        group: sorted(rows, key=lambda row: (order.get(row[0], len(order)), row[0]))
        for group, rows in grouped.items()
        if rows
    }


class Utility(ManagementUtility):
    """Django's command-line utility with cvewatch's own listing as its main help."""

    def main_help_text(self, commands_only: bool = False) -> str:
        if self.settings_exception is not None or self.argv[1:3] == ["help", "--all"]:
            return super().main_help_text(commands_only=commands_only)
        grouped = operator_commands()
        if commands_only:
            return "\n".join(sorted(name for rows in grouped.values() for name, _ in rows))
        width = max(len(name) for rows in grouped.values() for name, _ in rows)
        lines = [
            "cvewatch: self-hosted CVE tracking and alerting.",
            "",
            f"usage: {self.prog_name} COMMAND [options]",
        ]
        for group, rows in grouped.items():
            lines += ["", f"{group}:"]
            lines += [f"  {name:<{width}}  {summary}" for name, summary in rows]
        lines += [
            "",
            f"'{self.prog_name} help COMMAND' shows a command's options and arguments;",
            f"'{self.prog_name} help --all' lists Django's internal commands too (not needed here).",
        ]
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    from cvewatch.config import ConfigError

    args = ["cvewatch", *(sys.argv[1:] if argv is None else argv)]
    try:
        Utility(args).execute()
    except ConfigError as exc:
        sys.stderr.write(f"cvewatch: configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
