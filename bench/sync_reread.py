"""CPU of one sync run that really reads and merges its feeds: KEV and the NVD modified snapshots, with the
sources' cursors forgotten first (as bench/soak.py's sync loop does), on a loaded catalog.

    CVEWATCH_DATA_DIR=/path/to/a/copy .venv/bin/python bench/sync_reread.py [--runs 2]

Run it on a COPY of a full-corpus catalog (it writes sync runs and their import runs). Prints each run's CPU
and wall time in this process and the load average; the command runs at full priority here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpus"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="cvewatch.settings", CVEWATCH_SOURCES="kev,nvd", CVEWATCH_BACKGROUND_NICE="0",
        CVEWATCH_KEV_URL=str(CORPUS / "kev" / "known_exploited_vulnerabilities.json"),
        CVEWATCH_NVD_URL=str(CORPUS / "nvd-1.1-modified-history"), CVEWATCH_LOG_LEVEL="WARNING",
    )  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command

    from cvewatch.sync.models import SyncSource

    for number in range(1, args.runs + 1):
        SyncSource.objects.filter(name__in=["kev", "nvd"]).update(
            cursor={}, last_success_at=None, last_run_at=None
        )
        cpu, wall = time.process_time(), time.perf_counter()
        call_command("sync", "kev", "nvd", stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"run {number}: CPU {time.process_time() - cpu:.1f} s, wall {time.perf_counter() - wall:.1f} s")
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
