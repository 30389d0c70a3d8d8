"""Django's PostgreSQL backend with a health check that sends nothing while the connection is sound.

With `conn_health_checks` Django checks a kept connection before each request's first query, and its check
is a `SELECT 1`: a round trip on every API request. A server that ends a connection (a restart, an
administrator's pg_terminate_backend, idle_session_timeout) tells the client first, an error message then
EOF, so an idle connection whose socket has nothing to read is still the server's: only then is the check
skipped. Anything readable, or a transaction left open, falls back to Django's `SELECT 1`, which reads it and
decides. A network that fails silently is caught by neither check before the first query.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            # poll, not select: select refuses a descriptor above 1023, which a busy process may hand out.
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            pending = poller.poll(0)
        except (OSError, ValueError):
            return super().is_usable()
        return super().is_usable() if pending else True
