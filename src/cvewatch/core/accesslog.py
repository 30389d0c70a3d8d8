"""gunicorn's access log, with every control character of a logged value escaped (docs/security.md).

A Basic username is decoded from base64, so it can hold a newline: logged as is, `evil\\n127.0.0.1 - admin …`
would forge a line of the log. Every string a log line is built from is escaped here (`\\n` → `\\x0a`, and
the backslash itself doubled, so an escape cannot be forged either); gunicorn then escapes the quotes.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def escape_controls(value: str) -> str:
    """C0 and C1 control characters and DEL as \\xNN, the backslash as \\\\."""
    return _UNSAFE.sub(lambda m: "\\\\" if m.group() == "\\" else f"\\x{ord(m.group()):02x}", value)


class EscapingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: escape_controls(value) if isinstance(value, str) else value for key, value in atoms.items()}
