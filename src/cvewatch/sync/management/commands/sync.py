"""cvewatch sync [SOURCE ...] | --status: run the upstream sources once, or show where each one stands."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cvewatch.core.priority import yield_cpu_to_the_web
from cvewatch.ingest.stats import left_out_line
from cvewatch.sync import selectors, services
from cvewatch.sync.choices import RunStatus
from cvewatch.sync.errors import UnknownSource
from cvewatch.sync.models import SyncRun, SyncSource
from cvewatch.sync.sources import SOURCES


class Command(BaseCommand):
    help = (
        "Sync the catalog from the upstream feeds: run the named sources (default: every source enabled in "
        f"CVEWATCH_SOURCES) once and print what each did. Sources: {', '.join(SOURCES)}. Exit status 1 when a "
        "source failed. --status shows every source's cursor, lease and last runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="*", metavar="SOURCE", help=f"one of {', '.join(SOURCES)}")
        parser.add_argument(
            "--status", action="store_true", help="show every source, its cursor, lease and last runs"
        )
        parser.add_argument(
            "--runs", type=int, default=3, metavar="N", help="with --status: last N runs (default 3)"
        )
        parser.add_argument(
            "--worker", default=None, metavar="NAME", help="lease owner name (default host:pid)"
        )

    def handle(
        self, *args: Any, sources: list[str], status: bool, runs: int, worker: str | None, **options: Any
    ) -> None:
        if status:
            if sources:
                raise CommandError("--status takes no source names")
            self.stdout.write(status_report(selectors.source_statuses(runs=max(runs, 0))))
            return
        yield_cpu_to_the_web()  # core/priority.py: the web keeps its speed while feeds are read
        try:
            results = services.run_sources(names=sources or None, worker=worker)
        except UnknownSource as exc:
            raise CommandError(str(exc)) from None
        chosen = sources or list(settings.SYNC_SOURCES)
        failed = []
        for name, run in zip(chosen, results, strict=True):
            if run is None:
                self.stdout.write(held_report(name))
                continue
            self.stdout.write(run_report(run))
            if run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
                failed.append(run.source.name)
        if failed:
            raise CommandError(f"sync failed for {', '.join(failed)}")


def run_report(run: SyncRun) -> str:
    counts = run.counts
    seconds = run.seconds or 0.0
    lines = [
        f"{run.source.name}: {run.status} in {seconds:.1f} s (run #{run.pk})",
        f"  records   {counts.get('read', 0):,} read; CVEs {counts.get('created', 0):,} created, "
        f"{counts.get('updated', 0):,} updated, {counts.get('unchanged', 0):,} unchanged, "
        f"{counts.get('pending', 0):,} pending (KEV/EPSS for CVEs not imported yet); "
        f"{counts.get('records_unchanged', 0):,} records unchanged, {counts.get('records_older', 0):,} older "
        f"than the copy kept; {counts.get('changes', 0):,} changes",
        f"  skipped   {counts.get('skipped', 0):,}",
    ]
    for reason, count in sorted(counts.get("skip_reasons", {}).items(), key=lambda kv: -kv[1])[:10]:
        lines.append(f"    {count:>8,}  {reason}")
    if counts.get("warnings"):
        lines.append(f"  left out  {left_out_line(counts['warnings'])}")
        for reason, count in sorted(counts.get("warning_reasons", {}).items(), key=lambda kv: -kv[1])[:10]:
            lines.append(f"    {count:>8,}  {reason}")
    lines.append(f"  cursor    {_cursor(run.cursor_before)} -> {_cursor(run.cursor_after)}")
    lines.extend(f"  note      {line}" for line in run.notes.splitlines())
    lines.extend(f"  error     {line}" for line in run.errors.splitlines()[:20])
    return "\n".join(lines)


def held_report(name: str) -> str:
    row = SyncSource.objects.filter(name=name).first()
    owner = (
        f"{row.lease_owner} until {row.lease_expires_at:%Y-%m-%d %H:%M:%S}"
        if row and row.lease_expires_at
        else "?"
    )
    return f"{name}: not run, another worker holds it ({owner})"


def status_report(statuses: list[selectors.SourceStatus]) -> str:
    now = timezone.now()
    lines: list[str] = []
    for status in statuses:
        source = status.source
        lines.append(f"{source.name}{'' if status.enabled else ' (not enabled)'}  {status.url}")
        lines.append(f"  cursor    {_cursor(source.cursor)}")
        if source.lease_owner and source.lease_expires_at and source.lease_expires_at > now:
            lines.append(
                f"  lease     {source.lease_owner} until {source.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        else:
            lines.append("  lease     free")
        if not status.runs:
            lines.append("  runs      never ran")
        for run in status.runs:
            seconds = f"{run.seconds:.1f} s" if run.seconds is not None else "running"
            counts = run.counts
            lines.append(
                f"  run #{run.pk:<6} {run.started_at:%Y-%m-%d %H:%M:%S} {run.status:<11} {seconds:>9}  "
                f"{counts.get('read', 0):,} read, {counts.get('created', 0):,} created, "
                f"{counts.get('updated', 0):,} updated, {counts.get('skipped', 0):,} skipped"
                + (f"  {run.errors.splitlines()[0][:120]}" if run.errors else "")
            )
    return "\n".join(lines)


def _cursor(cursor: dict[str, Any]) -> str:
    if not cursor:
        return "(none)"
    shown = {k: v for k, v in cursor.items() if k not in ("digest",) and v not in ("", None)}
    return json.dumps(shown, sort_keys=True)
