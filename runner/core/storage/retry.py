"""Database work that outlives a short outage: run again with backoff, within a patience.

A transaction that fails because the connection was lost (the server restarted, a proxy or
network went away, the backend was terminated) or because the database aborted it as a
conflict (runner.core.locks) rolled back entirely, so running it again from the start is
safe and writes everything exactly once. jobmon retries such work with a growing pause
(0.2 s doubling to 5 s) for up to ``patience`` seconds: a runner waits out an outage
shorter than ``runner.stale_after_seconds`` with every run intact; a longer one leaves its
runs to the reaper, which marks them ``server_stopped`` once the database is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from runner.core.storage.db import Database
from runner.core.storage.errors import describe, is_transient

log = logging.getLogger("jobmon.database")
T = TypeVar("T")
FIRST_PAUSE, MAX_PAUSE = 0.2, 5.0


def patiently(
    db: Database,
    work: Callable[[Session], T],
    patience: float,
    *,
    stopping: threading.Event | None = None,
) -> T:
    """``work`` in one write transaction, run again after transient failures for up to
    ``patience`` seconds (sooner given up if ``stopping`` is set)."""
    deadline = time.monotonic() + patience
    pause = FIRST_PAUSE
    while True:
        try:
            with db.write() as session:
                return work(session)
        except Exception as exc:
            left = deadline - time.monotonic()
            if not is_transient(exc) or left <= 0:
                raise
            log.warning("database work failed, retrying for %.0f s more: %s", left,
                        db.redact(describe(exc)))  # fmt: skip
            if (stopping or threading.Event()).wait(min(pause, left)):
                raise  # the runner is stopping: leave the run to the reaper
            pause = min(MAX_PAUSE, pause * 2)
