"""Background work yields the CPU to the people waiting on a page or an API answer.

`cvewatch worker` (serve's internal one too), `cvewatch sync` and `cvewatch import` lower their CPU priority
to CVEWATCH_BACKGROUND_NICE (10 by default) before they start any thread or child process, which inherit it.
On a small machine a sync re-reading a feed or an import then takes the cores the web workers leave idle,
instead of halving their speed; on an idle machine it changes nothing. Raising niceness needs no privilege;
a process already nicer than asked is left as it is.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings

logger = logging.getLogger("cvewatch.priority")


def yield_cpu_to_the_web() -> int:
    """Raise this process's niceness to settings.BACKGROUND_NICE; return the niceness it now has.

    Linux keeps a niceness per thread: call this from the main thread before any other thread starts.
    """
    wanted = settings.BACKGROUND_NICE
    current = os.nice(0)
    if wanted <= current:
        return current
    try:
        return os.nice(wanted - current)
    except OSError as exc:  # a sandbox that forbids it: run at the current priority
        logger.warning("could not lower the CPU priority to niceness %s: %s", wanted, exc)
        return current
