"""cvewatch import PATH [PATH ...]: load CVE data (files, directories, .zip/.tar.gz bundles; format detected)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import ImportRun
from cvewatch.core.priority import yield_cpu_to_the_web
from cvewatch.ingest.services import DEFAULT_BATCH_SIZE, PIPELINE_BATCH_SIZE, ImportStats, import_paths
from cvewatch.ingest.stats import left_out_line


class Command(BaseCommand):
    summary = "import feed files, directories or bundles (format detected)"  # its line in `cvewatch help`
    # Django's system checks import the URL conf and every view (~0.4 s of CPU, a third of a re-import that
    # skips every input); an import touches none of it, and migrate, serve and `cvewatch check` run them.
    requires_system_checks: list[str] = []
    help = (
        "Import CVE data: CVE JSON 5 (cvelistV5), NVD JSON 1.1 feeds and API 2.0 pages, OpenCVE knowledge-base "
        "files, the CISA KEV catalog, EPSS CSV and the MITRE CWE catalog. Files, directories and .zip/.tar.gz "
        "bundles; the format of each file is detected. Re-importing the same data changes nothing, and a file "
        "whose exact bytes were already imported completely is skipped without being read (--reread reads it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="file, directory or bundle to import")
        parser.add_argument(
            "--batch-size", type=int, default=None,
            help=f"items written per database transaction (default {DEFAULT_BATCH_SIZE}, or "
            f"{PIPELINE_BATCH_SIZE} when large inputs are read in a second process)",
        )  # fmt: skip
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr, only the summary")
        parser.add_argument(
            "--reread", action="store_true",
            help="read every input again, even files whose exact bytes were already imported completely",
        )  # fmt: skip
        parser.add_argument(
            "--show-skipped",
            type=int,
            default=20,
            metavar="N",
            help="list the first N skipped inputs (default 20)",
        )
        parser.add_argument(
            "--progress-interval",
            type=float,
            default=2.0,
            metavar="SECONDS",
            help="seconds between progress lines",
        )

    def handle(
        self,
        *args: Any,
        paths: list[str],
        batch_size: int | None,
        quiet: bool,
        show_skipped: int,
        progress_interval: float,
        reread: bool,
        **options: Any,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        yield_cpu_to_the_web()  # core/priority.py: the web keeps its speed during an import
        started = time.monotonic()
        progress = None if quiet else _Progress(self.stderr)
        run, stats = import_paths(
            [Path(p) for p in paths],
            batch_size=batch_size,
            on_progress=progress,
            progress_interval=progress_interval,
            reread=reread,
        )
        self.stdout.write(summary(run, stats, seconds=time.monotonic() - started, show_skipped=show_skipped))
        if run.status == ImportStatus.FAILED:
            raise CommandError("nothing could be imported")


class _Progress:
    """Prints one line per call: items read, rate and what was done so far."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out, self.started = out, time.monotonic()

    def __call__(self, stats: ImportStats) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.out.write(
            f"import: {stats.read:,} items read ({stats.read / elapsed:,.0f}/s), {stats.created:,} CVEs created, "
            f"{stats.updated:,} updated, {stats.skipped:,} skipped, {elapsed:.0f} s",
            style_func=str,  # progress, not an error: never coloured
        )
        self.out.flush()


def summary(run: ImportRun, stats: ImportStats, *, seconds: float, show_skipped: int) -> str:
    lines = [
        f"import #{run.pk} {run.status} in {seconds:.1f} s",
        f"  read        {stats.read:,} items: {stats.cve_records:,} CVE records, {stats.kev_entries:,} KEV entries, "
        f"{stats.epss_scores:,} EPSS scores, {stats.cwe_entries:,} CWE entries",
        f"  CVEs        {stats.created:,} created, {stats.updated:,} updated, {stats.unchanged:,} unchanged",
        f"  records     {stats.records_stored:,} new or changed, {stats.records_unchanged:,} unchanged, "
        f"{stats.records_older:,} older than the copy kept (ignored)",
        f"  pending     {stats.pending:,} CVEs with only KEV/EPSS data so far (applied when the CVE arrives)",
        f"  weaknesses  {stats.weaknesses_created:,} created, {stats.weaknesses_updated:,} updated",
        f"  changes     {stats.changes:,} recorded",
        f"  skipped     {stats.skipped:,}",
    ]
    if stats.inputs_unchanged:
        lines.insert(1, f"  unchanged   {stats.unchanged_note}; --reread reads them again")
    for reason, count in stats.skip_reasons.most_common(10):
        lines.append(f"    {count:>8,}  {reason}")
    if len(stats.skip_reasons) > 10:
        lines.append(f"    ... and {len(stats.skip_reasons) - 10:,} other reasons")
    if stats.warnings:
        lines.append(f"  left out    {left_out_line(stats.warnings)}")
        for reason, count in stats.warning_reasons.most_common(10):
            lines.append(f"    {count:>8,}  {reason}")
        lines.extend(f"    {e['path']}: {e['reason']}" for e in stats.warning_items[: max(show_skipped, 0)])
    if stats.skipped and show_skipped > 0:
        lines.append(f"  first {min(show_skipped, len(stats.skipped_items))} skipped:")
        lines.extend(f"    {e['path']}: {e['reason']}" for e in stats.skipped_items[:show_skipped])
    return "\n".join(lines)
