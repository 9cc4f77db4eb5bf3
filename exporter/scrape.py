"""One scrape: read the changes within the scrape's time budget, then render.

The read runs in its own thread and the scrape waits for it at most the budget: whatever
the database does (down, locked, unreachable host), the scrape answers in time, with
``jobmon_database_up 0`` and one more ``jobmon_scrape_errors_total``. The read also carries
server-side statement and connect timeouts (see :mod:`exporter.limits`), so a slow read
ends soon after the scrape gave up on it.

A read brings the cache from the marks it last saw to the database's (only the jobs that
changed are read, see :mod:`exporter.reader`), so reads happen one at a time, and a read the
scrape gave up on still updates the cache when it ends. Several scrapes at once share the
reads: each waits for the one under way, then reads what changed since.

A failed read keeps the job series of the last successful one (the renderer's cache), with
``jobmon_last_successful_read_timestamp_seconds`` telling how old they are: a database outage
neither resolves nor re-fires job alerts. Before the first successful read there are none.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time
from dataclasses import dataclass

from exporter.deflate import Group, Piece
from exporter.formats import Escaping, Format
from exporter.plan import configured
from exporter.reader import Changes, DatabaseUnavailable, Marks, Reader
from exporter.render import Renderer, SelfValues
from runner.core.config.settings import MetricsConfig
from runner.core.storage.db import Database

log = logging.getLogger("jobmon.exporter")
FIRST_READ_SECONDS = 60.0  # server-side limit of a read of every job (it renders them too)
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None)
except OSError:  # no C library to load symbols from
    _LIBC = None


@dataclass
class Exposition:
    """What a scrape renders: the exporter's own values and the pieces of the exposition."""

    own: SelfValues
    pieces: list[Piece | Group]


class Scraper:
    """Reads and renders scrapes; several may run at once.

    ``metrics`` (``exporter.metrics``) says which families are served and read.
    """

    def __init__(self, db: Database, version: str, metrics: MetricsConfig | None = None) -> None:
        self.db, self.version = db, version
        plan = configured(metrics or MetricsConfig())
        self.reader = Reader(db, plan.columns)
        self.renderer = Renderer(plan)
        self.errors = 0
        self.last_read = 0.0  # Unix time of the last successful read
        self._marks: dict[int, Marks] = {}  # of the jobs the renderer has, as last read
        self._since: int | None = None  # the last read's watermark, where the backend has one
        self._lock = threading.Lock()  # the renderer and the figures above
        self._reading = threading.Lock()  # held by the read under way
        self._up: bool | None = None

    def scrape(
        self, budget: float, fmt: Format, escaping: Escaping = Escaping.UNDERSCORES
    ) -> Exposition:
        """Read and render in ``fmt``, names spelled under ``escaping``."""
        start = time.monotonic()
        reason = self.refresh(budget)
        with self._lock:
            if reason:
                self.errors += 1
            self._log_state(reason)
            own = SelfValues(
                not reason,
                time.monotonic() - start,
                self.errors,
                self.version,
                self.last_read,
            )
            return Exposition(own, self.renderer.pieces(fmt, own, escaping))

    def refresh(self, budget: float) -> str:
        """Bring the cache to the database within ``budget``: empty if done, else why not."""
        deadline = time.monotonic() + budget
        if not self._reading.acquire(timeout=budget):
            return "an earlier database read is still running"
        result: list[str] = []
        remaining = max(0.01, deadline - time.monotonic())
        thread = threading.Thread(
            target=self._read_into, args=(remaining, result), name="jobmon-db-read", daemon=True
        )
        thread.start()
        thread.join(remaining)
        if not result:
            return f"database read did not finish within {budget:.2f} s"
        return result[0]

    def close(self) -> None:
        """Close the database connections."""
        self.db.dispose()

    def _read_into(self, budget: float, result: list[str]) -> None:
        try:
            # Server-side timeouts a little shorter than the wait, to report their reason. A
            # first read renders every job as it reads them: it may take longer than one
            # scrape waits, and the scrapes after it are served from what it rendered.
            limit = budget * 0.9 if self._marks else max(budget * 0.9, FIRST_READ_SECONDS)
            self.reader.use_changes(limit, self._marks, self._apply, self._since)
            result.append("")
        except DatabaseUnavailable as exc:
            result.append(str(exc))
        finally:
            self._reading.release()

    def _apply(self, changes: Changes) -> None:
        """Bring the renderer to ``changes`` (its rows may come as they are read)."""
        with self._lock:
            try:
                present = None if changes.complete else changes.marks.keys()
                self.renderer.apply(changes.rows, present)
            except BaseException:
                # Start again from a full read rather than serve a cache half up to date.
                self.renderer, self._marks = Renderer(self.renderer.plan), {}
                raise
            self._marks, self._since = changes.marks, changes.watermark
            self.last_read = time.time()
        if changes.complete:
            release_memory()

    def _log_state(self, reason: str) -> None:
        up = not reason
        if up and self._up is False:
            log.info("database %s is readable again", self.db.safe_url)
        elif not up and self._up is not False:
            log.warning("cannot read database %s: %s", self.db.safe_url, self.db.redact(reason))
        elif not up:
            log.debug("cannot read database %s: %s", self.db.safe_url, self.db.redact(reason))
        self._up = up


def trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc; elsewhere nothing): a scrape
    leaves some behind, from its body and the read's rows."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def release_memory() -> None:
    """Give the memory of a read of every job back to the system: collected, then trimmed
    from the C heap (glibc; elsewhere the collection alone).

    What is left is then frozen (``gc.freeze``): the process's long-lived objects (modules,
    the database pools, the renderer's cache) are no longer walked by the full collections
    that the objects of each scrape set off now and then, which took tens of milliseconds
    and showed in the slowest scrapes. Frozen objects are still freed when unreferenced.
    """
    gc.collect()
    trim_heap()
    gc.freeze()
