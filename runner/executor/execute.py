"""Executing one claimed run: call its job kind, then record how it ended."""

from __future__ import annotations

import json
import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.core import events, lifecycle, views
from runner.core.clock import Clock
from runner.core.config import Config, JobConfig, PythonJob
from runner.core.fencing import Fence, LostClaim
from runner.core.lifecycle import TransitionError
from runner.core.states import Cause, Level, Status
from runner.core.storage.db import Database
from runner.core.storage.errors import DB_ERRORS, describe
from runner.core.storage.models import Job, Run
from runner.core.wording import plural
from runner.executor.context import Interrupted, JobContext, JobFailed
from runner.executor.jobs.registry import run_job

log = logging.getLogger(__name__)


def execute(
    db: Database,
    job: JobConfig,
    fence: Fence,
    clock: Clock,
    *,
    stopping: threading.Event | None = None,
    data_dirs: tuple[str, ...] = (),
    config: Config | None = None,
) -> Status:
    """Run ``job`` for the claimed run behind ``fence``; returns the run's status after it."""
    ctx = _context(db, job, fence, clock, stopping, data_dirs, config)
    if ctx.resumed:
        ctx.journal(Level.INFO, "Resuming from the last checkpoint")
    try:
        run_job(job, ctx)
    except Interrupted as stop:
        log_end(db, fence.run_id)
        return stop.status
    except LostClaim as exc:
        log.warning("%s: %s", job.name, exc)
        return Status.SERVER_STOPPED
    except JobFailed as exc:
        return finish(db, ctx, Status.FINISHED_WITH_ERRORS, str(exc))
    except Exception as exc:
        # A database error's traceback would repeat its SQL and parameters: one line instead.
        text, database = _error_text(exc), isinstance(exc, DB_ERRORS)
        log.error("%s: run %d failed: %s", job.name, fence.run_id, text, exc_info=not database)
        return finish(db, ctx, Status.FINISHED_WITH_ERRORS, text)
    return finish(db, ctx, *_outcome(ctx))


def _context(
    db: Database,
    job: JobConfig,
    fence: Fence,
    clock: Clock,
    stopping: threading.Event | None,
    data_dirs: tuple[str, ...],
    config: Config | None,
) -> JobContext:
    """The job's context on its claimed run, as last committed."""
    with db.read() as session:
        run = session.get(Run, fence.run_id)
        assert run is not None
    return JobContext(
        db,
        run,
        fence,
        clock,
        params=job.params if isinstance(job, PythonJob) else None,
        stopping=stopping,
        max_rejects=job.max_rejects,
        data_dirs=data_dirs,
        config=config,
        patience=config.runner.stale_after_seconds if config is not None else 30.0,
    )


def _error_text(exc: Exception) -> str:
    """What the journal says of an unexpected error (database errors without their SQL)."""
    if isinstance(exc, DB_ERRORS):
        return f"database error: {describe(exc)}"
    return f"{type(exc).__name__}: {exc}"


def _outcome(ctx: JobContext) -> tuple[Status, str | None]:
    if ctx.max_rejects is not None and ctx.rejected > ctx.max_rejects:
        return Status.FINISHED_WITH_ERRORS, (
            f"{plural(ctx.rejected, 'record')} rejected, more than max_rejects {ctx.max_rejects}"
        )
    return Status.FINISHED, None


def finish(db: Database, ctx: JobContext, target: Status, error: str | None) -> Status:
    """Flush what the job buffered, journal the error, and move the run to ``target``.

    A run that was asked to cancel but ended before a checkpoint still ends as it ended;
    the journal says so. A short database outage is waited out (``ctx.transact``).
    """
    records, rejects = ctx.take_pending()

    def work(session: Session) -> None:
        ctx.flush(session, records, rejects)
        now = ctx.clock()
        if error is not None:
            events.journal(session, ctx.run_id, ctx.job_id, Level.ERROR, error, now, ctx.fence)
        run = session.get(Run, ctx.run_id, populate_existing=True)
        assert run is not None
        reason = _finish_reason(Status(run.status), error)
        lifecycle.transition(
            session, ctx.run_id, target, cause=Cause.RUNNER, now=now, fence=ctx.fence,
            reason=reason,
        )  # fmt: skip

    try:
        ctx.transact(work)
    except (LostClaim, TransitionError) as exc:
        log.warning("run %d: could not record its end (%s): %s", ctx.run_id, target, exc)
        return Status.SERVER_STOPPED
    log_end(db, ctx.run_id)
    return target


def log_end(db: Database, run_id: int) -> None:
    """One line when this runner stops executing a run: how it ended, with its counts.

    ``run ended: job=import-customers run=12 status=finished_with_errors duration=3.2s
    records=292 rejects=8 reason="..."``. Called once per end, by whoever recorded it.
    """
    try:
        with db.read() as session:
            run = session.get(Run, run_id)
            assert run is not None
            job_name = session.scalar(select(Job.name).where(Job.id == run.job_id))
            reason = views.run_reason(session, run)
    except DB_ERRORS as exc:
        log.warning("run (id %d) ended; not read back: %s", run_id, describe(exc))
        return
    duration = views.run_duration(run)
    fields = {
        "job": job_name,
        "run": run.number,
        "status": run.status,
        "duration": "-" if duration is None else f"{duration:.1f}s",
        "records": run.records,
        "rejects": run.rejects,
    }
    if reason is not None:  # quoted, on one line, as logfmt readers expect
        fields["reason"] = json.dumps(reason, ensure_ascii=False)
    log.info("run ended: %s", " ".join(f"{key}={value}" for key, value in fields.items()))


def _finish_reason(current: Status, error: str | None) -> str | None:
    if current in (Status.CANCELING, Status.PAUSING):
        ended = "the run ended before it reached a checkpoint"
        return f"{ended}: {error}" if error else ended
    return error
