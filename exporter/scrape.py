"""One scrape: read the database within the scrape's time budget, then render.

The read runs in its own thread and the scrape waits for it at most the budget: whatever
the database does (down, locked, unreachable host), the scrape answers in time, with
``jobmon_database_up 0`` and one more ``jobmon_scrape_errors_total``. The read also carries
server-side statement and connect timeouts (see :mod:`exporter.reader`), so a slow read
ends soon after the scrape gave up on it.

A failed read keeps the job series of the last successful one (the renderer's cache), with
``jobmon_last_successful_read_timestamp_seconds`` telling how old they are: a database outage
neither resolves nor re-fires job alerts. Before the first successful read there are none.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from exporter.deflate import Piece
from exporter.formats import Escaping, Format
from exporter.plan import configured
from exporter.reader import DatabaseUnavailable, Reader, Row
from exporter.render import Renderer, SelfValues
from runner.core.config.settings import MetricsConfig
from runner.core.storage.db import Database

log = logging.getLogger("jobmon.exporter")
MAX_READS = 4  # database reads at once; more scrapes wait for one to end


@dataclass
class Exposition:
    """What a scrape renders: the exporter's own values and the pieces of the exposition."""

    own: SelfValues
    pieces: list[Piece]


class Scraper:
    """Reads and renders scrapes; several may run at once (rendering is serialized).

    ``metrics`` (``exporter.metrics``) says which families are served and read.
    """

    def __init__(self, db: Database, version: str, metrics: MetricsConfig | None = None) -> None:
        self.db, self.version = db, version
        plan = configured(metrics or MetricsConfig())
        self.reader = Reader(db, plan.columns)
        self.renderer = Renderer(plan)
        self.errors = 0
        self.last_read = 0.0  # Unix time of the last successful read
        self._lock = threading.Lock()
        self._reads = threading.BoundedSemaphore(MAX_READS)
        self._up: bool | None = None

    def scrape(
        self, budget: float, fmt: Format, escaping: Escaping = Escaping.UNDERSCORES
    ) -> Exposition:
        """Read and render in ``fmt``, names spelled under ``escaping``."""
        start = time.monotonic()
        rows, reason = self._read(budget)
        with self._lock:
            if rows is None:
                self.errors += 1
            else:
                self.renderer.update(rows)
                self.last_read = time.time()
            self._log_state(reason)
            own = SelfValues(
                rows is not None,
                time.monotonic() - start,
                self.errors,
                self.version,
                self.last_read,
            )
            return Exposition(own, self.renderer.pieces(fmt, own, escaping))

    def close(self) -> None:
        """Close the database connections."""
        self.db.dispose()

    def _read(self, budget: float) -> tuple[list[Row] | None, str]:
        deadline = time.monotonic() + budget
        if not self._reads.acquire(timeout=budget):
            return None, f"{MAX_READS} database reads still running"
        result: list[list[Row] | str] = []
        remaining = max(0.01, deadline - time.monotonic())
        thread = threading.Thread(
            target=self._read_into, args=(remaining, result), name="jobmon-db-read", daemon=True
        )
        thread.start()
        thread.join(remaining)
        if not result:
            return None, f"database read did not finish within {budget:.2f} s"
        outcome = result[0]
        return (None, outcome) if isinstance(outcome, str) else (outcome, "")

    def _read_into(self, budget: float, result: list[list[Row] | str]) -> None:
        try:
            # Server-side timeouts a little shorter than the wait, to report their reason.
            result.append(self.reader.read(budget * 0.9))
        except DatabaseUnavailable as exc:
            result.append(str(exc))
        finally:
            self._reads.release()

    def _log_state(self, reason: str) -> None:
        up = not reason
        if up and self._up is False:
            log.info("database %s is readable again", self.db.safe_url)
        elif not up and self._up is not False:
            log.warning("cannot read database %s: %s", self.db.safe_url, self.db.redact(reason))
        elif not up:
            log.debug("cannot read database %s: %s", self.db.safe_url, self.db.redact(reason))
        self._up = up
