"""Server-side limits on a scrape's read: read only, statement and connect timeouts.

A scrape waits for its read at most its budget (:mod:`exporter.scrape`); these limits make the
database end a read soon after the scrape gave up on it, whatever the backend.
"""

from __future__ import annotations

import math
import time
from typing import Any

from sqlalchemy import Connection, text

MAX_CONNECT_SECONDS = 10.0  # even for a read allowed longer: a server that is down is down


def limit(conn: Connection, budget: float) -> None:
    """Make the transaction of ``conn`` read only and end its statements after ``budget``."""
    millis = max(1, int(budget * 1000))
    dialect = conn.dialect
    if dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION READ ONLY"))
        conn.execute(text(f"SET LOCAL statement_timeout = {millis}"))
    elif dialect.name in ("mysql", "mariadb"):
        if getattr(dialect, "is_mariadb", False):
            conn.execute(text(f"SET SESSION max_statement_time = {millis / 1000:.3f}"))
        else:
            conn.execute(text(f"SET SESSION max_execution_time = {millis}"))
    elif dialect.name == "sqlite":
        raw: Any = conn.connection.dbapi_connection
        raw.execute(f"PRAGMA busy_timeout = {millis}")
        deadline = time.monotonic() + budget
        # SQLite has no statement timeout: a progress handler aborts a query past it.
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)


def unlimit(conn: Connection) -> None:
    """Remove what :func:`limit` set on the connection itself (SQLite's progress handler)."""
    if conn.dialect.name == "sqlite":
        raw: Any = conn.connection.dbapi_connection
        raw.set_progress_handler(None, 0)


def connect_timeout(dialect: str, cparams: dict[str, Any], remaining: float) -> None:
    """Set the driver's connect timeout in ``cparams`` to about ``remaining`` seconds."""
    remaining = max(0.1, remaining)
    if dialect == "postgresql":
        cparams["connect_timeout"] = max(2, math.ceil(remaining))  # libpq's minimum is 2 s
    elif dialect in ("mysql", "mariadb"):
        cparams["connect_timeout"] = remaining
    elif dialect == "sqlite":
        cparams["timeout"] = remaining
