"""What a running job sees: ``checkpoint``, ``progress``, ``journal`` and ``reject``.

Pause, cancel and runner shutdown take effect at the next :meth:`JobContext.checkpoint`:
it saves the state, then raises :class:`Interrupted` so the job unwinds; the runner records
the outcome. Records and rejects are buffered and committed with the checkpoint, so after a
crash they are counted again exactly when the work since the last checkpoint is redone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.core import events, lifecycle
from runner.core.clock import Clock
from runner.core.config import Config
from runner.core.events import RejectRecord
from runner.core.fencing import Fence
from runner.core.states import Cause, Level, RejectReason, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Run
from runner.core.storage.retry import patiently
from runner.core.wording import plural

T = TypeVar("T")

# What a checkpoint does when a person asked the run to stop: the status it moves to, and why.
STOP_AT_CHECKPOINT: dict[Status, tuple[Status, str]] = {
    Status.PAUSING: (Status.PAUSED, "stopped at a checkpoint"),
    Status.CANCELING: (Status.CANCELED, "stopped at a checkpoint"),
}


class Interrupted(Exception):
    """Raised by ``checkpoint()`` when the run must stop there; the run's status says why."""

    def __init__(self, status: Status) -> None:
        self.status = status
        super().__init__(f"run stopped at a checkpoint: {status.value}")


class JobFailed(Exception):
    """Raise from a job to end its run ``finished_with_errors`` with this message."""


class JobContext:
    """The handle a job uses to report progress and to be paused, canceled or stopped."""

    def __init__(
        self,
        db: Database,
        run: Run,
        fence: Fence,
        clock: Clock,
        *,
        params: dict[str, Any] | None = None,
        stopping: threading.Event | None = None,
        max_rejects: int | None = None,
        data_dirs: tuple[str, ...] = (),
        config: Config | None = None,
        patience: float = 30.0,
    ) -> None:
        self.db, self.fence, self.clock = db, fence, clock
        # How long database work waits out an outage (runner.stale_after_seconds).
        self.patience = patience
        self.run_id, self.job_id = run.id, run.job_id
        self.params = params or {}
        self.state: Any = events.load_checkpoint(run)
        self.resumed = run.checkpoint is not None
        self._committed_rejects = run.rejects
        self.max_rejects = max_rejects
        self.data_dirs = data_dirs
        # The whole config, for job kinds that refer to named databases and queries.
        self.config = config
        self._stopping = stopping or threading.Event()
        self._records = 0
        self._rejects: list[RejectRecord] = []
        self._lock = threading.Lock()

    def progress(self, records: int) -> None:
        """Count ``records`` more source records; committed at the next checkpoint."""
        with self._lock:
            self._records += records

    def reject(
        self,
        line: int,
        record: str,
        field: str | None,
        reason: str,
        message: str,
        *,
        raw: bytes | None = None,
    ) -> None:
        """Reject a record (``raw``: its bytes as read); stored with the next checkpoint."""
        entry = RejectRecord(line, record, field, RejectReason(reason), message, raw)
        with self._lock:
            self._rejects.append(entry)

    def journal(self, level: str, message: str) -> None:
        """Write a message to the run's journal now (refused once the runner lost the run)."""

        def work(session: Session) -> None:
            now = self.clock()
            events.journal(
                session, self.run_id, self.job_id, Level(level), message, now, self.fence
            )

        self.transact(work)

    def check_claim(self) -> None:
        """Raise :class:`LostClaim` unless this runner still holds the run."""
        with self.db.read() as session:
            if session.scalar(select(Run.id).where(*self.fence.held())) is None:
                raise self.fence.lost()

    def transact(self, work: Callable[[Session], T]) -> T:
        """``work`` in one write transaction, run again through a short database outage."""
        return patiently(self.db, work, self.patience, stopping=self._stopping)

    def checkpoint(self, state: Any, write: Callable[[Session], None] | None = None) -> None:
        """Save ``state`` (JSON) with buffered progress and rejects in one transaction.

        ``write`` runs first in that same transaction (an import's chunk of rows); progress
        and rejects it reports are committed with it. Raises :class:`Interrupted` if the run
        was paused or canceled, or the runner is stopping.

        A connection lost during the commit leaves its outcome unknown: an attempt that finds
        ``state`` already saved (the commit went through) writes nothing again.
        """
        records, rejects = self.take_pending()
        written: list[int] = []
        attempts: list[bool] = []

        def work(session: Session) -> Status | None:
            self._drop_pending()  # what a failed attempt's ``write`` buffered: it runs again
            if attempts and state != self.state:
                committed = self._rejects_if_saved(session, state)
                if committed is not None:  # an attempt's commit went through unheard
                    written[:] = [committed - self._committed_rejects]
                    return self._stop_status(session)
            attempts.append(True)
            if write is not None:
                write(session)
            more, reported = self.take_pending()
            everything = rejects + reported
            self.flush(session, records + more, everything, state=state, save_state=True)
            written[:] = [len(everything)]
            return self._stop_status(session)

        stop = self.transact(work)
        self._committed_rejects += written[0]
        self.state = state
        if stop is not None:
            raise Interrupted(stop)
        if self.max_rejects is not None and self.rejected > self.max_rejects:
            raise JobFailed(
                f"{plural(self.rejected, 'record')} rejected, more than max_rejects "
                f"{self.max_rejects}; what was committed before stays committed"
            )

    def _rejects_if_saved(self, session: Session, state: Any) -> int | None:
        """The run's count of rejects if ``state`` is its stored checkpoint, else None."""
        query = select(Run.checkpoint, Run.rejects).where(Run.id == self.run_id)
        stored = session.execute(query).one()
        return int(stored.rejects) if stored.checkpoint == json.dumps(state) else None

    def flush(
        self,
        session: Session,
        records: int,
        rejects: list[RejectRecord],
        *,
        state: Any = None,
        save_state: bool = False,
    ) -> None:
        """Write progress and rejects under the runner's claim."""
        now = self.clock()
        events.save_progress(
            session,
            self.fence,
            self.job_id,
            now,
            records=records,
            state=state,
            save_state=save_state,
        )
        events.add_rejects(session, self.run_id, self.job_id, rejects)

    @property
    def rejected(self) -> int:
        """Records this run rejected so far, committed or buffered."""
        with self._lock:
            return self._committed_rejects + len(self._rejects)

    def _drop_pending(self) -> None:
        with self._lock:
            self._records, self._rejects = 0, []

    def take_pending(self) -> tuple[int, list[RejectRecord]]:
        """The progress and rejects buffered since the last checkpoint, taken out to write."""
        with self._lock:
            records, rejects = self._records, self._rejects
            self._records, self._rejects = 0, []
        return records, rejects

    def _stop_status(self, session: Session) -> Status | None:
        run = session.get(Run, self.run_id, populate_existing=True)
        assert run is not None
        stop = STOP_AT_CHECKPOINT.get(Status(run.status))
        if stop is None and self._stopping.is_set():
            stop = (Status.SERVER_STOPPED, "runner shutting down")
        if stop is None:
            return None
        target, reason = stop
        lifecycle.transition(
            session,
            self.run_id,
            target,
            cause=Cause.RUNNER,
            now=self.clock(),
            fence=self.fence,
            reason=reason,
        )
        return target
