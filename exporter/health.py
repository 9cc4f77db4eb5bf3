"""What ``/-/ready`` answers, as Prometheus's own probe does: whether this exporter can do its
work now. It can when it is serving (not stopping), its database answers, and the database's
schema is the one this jobmon ships (a runner of another version may have migrated it, or no
one yet). ``/-/healthy`` only says the process serves HTTP: a database outage must make an
orchestrator stop sending traffic, never restart the exporter.

The answer is kept for a second, so probes from several places cost one query.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from runner.core.storage.db import Database
from runner.core.storage.errors import describe
from runner.core.storage.migrate import HEAD, current_revision

KEEP_SECONDS = 1.0


@dataclass(frozen=True)
class Verdict:
    """Ready or not, and why in one line."""

    ready: bool
    reason: str


def verdict(db: Database) -> Verdict:
    """Ask the database: reachable, and at this jobmon's schema revision."""
    try:
        revision = current_revision(db)
    except Exception as exc:  # any failure to reach the database is a reason, never a crash
        return Verdict(False, f"database unreachable: {describe(exc)}")
    if revision is None:
        return Verdict(False, "database has no jobmon schema: run `jobmon db upgrade`")
    if revision != HEAD:
        return Verdict(
            False,
            f"database schema is at revision {revision}, this jobmon needs {HEAD}: "
            "run `jobmon db upgrade` with this version",
        )
    return Verdict(True, "ready")


class Readiness:
    """The readiness verdict of one database, asked at most once a second."""

    def __init__(self, db: Database, keep: float = KEEP_SECONDS) -> None:
        self.db, self.keep = db, keep
        self._lock = threading.Lock()
        self._last: tuple[float, Verdict] | None = None

    def check(self) -> Verdict:
        """The current verdict (asked anew when the last one is older than ``keep``)."""
        with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._last[0] >= self.keep:
                self._last = (now, verdict(self.db))
            return self._last[1]
