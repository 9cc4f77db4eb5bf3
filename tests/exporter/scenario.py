"""A database state with jobs in every status, built through the real lifecycle and events.

Times are fixed, so the exposition of this state is the same on every run (the golden file).
:func:`expected` reads the database again through the ORM, independently of the exporter's
query, giving the value every series must have.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from runner.core import events, lifecycle
from runner.core.catalog import sync_jobs
from runner.core.config import Config, parse
from runner.core.events import RejectRecord
from runner.core.metrics import DURATION_BUCKETS
from runner.core.states import Cause, Level, RejectReason, Status
from runner.core.storage.db import Database
from runner.core.storage.models import (
    Job,
    Run,
    bucket_column,
    entered_column,
    job_totals,
    journal_column,
    rejects_column,
)

T0 = datetime(2026, 1, 15, 8, 0, 0, 250000, tzinfo=UTC)
RUNNER = "runner-1"
Series = tuple[str, frozenset[tuple[str, str]]]


def _job(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "kind": "python", "callable": "tests.jobfuncs:noop", **extra}


JOBS = [
    _job("alpha-never", schedule="@hourly"),
    _job("bravo-waiting"),
    _job("charlie-running", max_rejects=10, max_duration_seconds=3600),
    _job("delta-pausing"),
    _job("echo-paused", schedule="@every 30s"),
    _job("foxtrot-canceling"),
    _job("golf-canceled"),
    _job("hotel-finished", schedule="*/5 * * * *", max_duration_seconds=900.5),
    _job("india-failed", max_rejects=10, after="hotel-finished"),
    _job("juliet-stopped"),
]


def config(url: str, jobs: list[dict[str, object]] | None = None) -> Config:
    """A config on ``url`` with the scenario's jobs."""
    return parse({"database": {"url": url}, "jobs": JOBS if jobs is None else jobs})


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _job_row(session: Session, name: str) -> Job:
    return session.scalars(select(Job).where(Job.name == name)).one()


def _start(session: Session, name: str, at: float) -> tuple[Job, lifecycle.Fence]:
    job = _job_row(session, name)
    run = lifecycle.create_run(session, job, cause=Cause.SCHEDULER, now=_at(at))
    assert run is not None
    return job, lifecycle.claim(session, run, RUNNER, _at(at + 1))


def _move(session: Session, fence: lifecycle.Fence, *steps: tuple[Status, float]) -> None:
    for target, at in steps:
        lifecycle.transition(session, fence.run_id, target, cause=Cause.RUNNER, now=_at(at))


def _reject(
    session: Session, job: Job, fence: lifecycle.Fence, reasons: list[RejectReason]
) -> None:
    records = [
        RejectRecord(line=i + 2, record=f"row {i}", field="amount", reason=r, message="bad")
        for i, r in enumerate(reasons)
    ]
    events.add_rejects(session, fence.run_id, job.id, records)


def _running(session: Session) -> None:
    job, fence = _start(session, "charlie-running", 10)
    events.save_progress(session, fence, job.id, _at(90), records=120)
    _reject(session, job, fence, [RejectReason.PARSE, RejectReason.PARSE, RejectReason.TYPE])
    events.journal(session, fence.run_id, job.id, Level.WARNING, "3 rows rejected", _at(91))
    events.journal(session, fence.run_id, job.id, Level.DEBUG, "batch 1 done", _at(92))


def _finished(session: Session) -> None:
    job, fence = _start(session, "hotel-finished", -3600)
    events.journal(session, fence.run_id, job.id, Level.ERROR, "target locked", _at(-2901))
    _move(session, fence, (Status.FINISHED_WITH_ERRORS, -3600 + 1 + 700))
    job, fence = _start(session, "hotel-finished", 100)
    events.save_progress(session, fence, job.id, _at(120), records=5000)
    _move(session, fence, (Status.FINISHED, 101 + 42.5))
    session.execute(update(Job).where(Job.id == job.id).values(next_run_at=_at(400)))


def _failed(session: Session) -> None:
    job, fence = _start(session, "india-failed", 200)
    _reject(session, job, fence, [RejectReason.CONSTRAINT] * 11 + [RejectReason.DATABASE])
    events.journal(session, fence.run_id, job.id, Level.ERROR, "too many rejects", _at(230))
    _move(session, fence, (Status.FINISHED_WITH_ERRORS, 231))


STEPS: list[Callable[[Session], None]] = [
    lambda s: lifecycle.create_run(s, _job_row(s, "bravo-waiting"), cause=Cause.USER, now=_at(5)),
    _running,
    lambda s: _move(s, _start(s, "delta-pausing", 20)[1], (Status.PAUSING, 30)),
    lambda s: _move(s, _start(s, "echo-paused", 20)[1], (Status.PAUSING, 30), (Status.PAUSED, 31)),
    lambda s: _move(s, _start(s, "foxtrot-canceling", 20)[1], (Status.CANCELING, 25)),
    lambda s: lifecycle.transition(
        s,
        lifecycle.create_run(s, _job_row(s, "golf-canceled"), cause=Cause.USER, now=_at(1)).id,  # type: ignore[union-attr]
        Status.CANCELED,
        cause=Cause.USER,
        now=_at(2),
    ),
    _finished,
    _failed,
    lambda s: _move(s, _start(s, "juliet-stopped", 40)[1], (Status.SERVER_STOPPED, 70)),
]


def populate(db: Database) -> Config:
    """Sync the jobs (plus one removed from the config) and give them their runs."""
    url = db.url.render_as_string(hide_password=False)
    sync_jobs(db, config(url, [*JOBS, _job("zulu-removed")]).jobs)
    cfg = config(url)
    sync_jobs(db, cfg.jobs)
    for step in STEPS:
        with db.write() as session:
            step(session)
    return cfg


def _stamp(value: datetime | None) -> float:
    return 0.0 if value is None else value.timestamp()


def _job_series(job: Job, totals: dict[str, object], run: Run | None) -> dict[Series, float]:
    def key(metric: str, **labels: str) -> Series:
        return metric, frozenset({("job_name", job.name), *labels.items()})

    status = Status(run.status) if run else Status.EDITING
    out = {key("jobmon_job_status", status=s.value): float(s is status) for s in Status}
    out[key("jobmon_job_info", after=job.after or "", kind=job.kind, schedule=job.schedule)] = 1.0
    out[key("jobmon_job_runs_total")] = float(totals["runs_total"])  # type: ignore[arg-type]
    out[key("jobmon_job_records_total")] = float(totals["records_total"])  # type: ignore[arg-type]
    for s in Status:
        out[key("jobmon_job_transitions_total", status=s.value)] = float(totals[entered_column(s)])  # type: ignore[arg-type]
    for r in RejectReason:
        out[key("jobmon_job_rejected_records_total", reason=r.value)] = float(
            totals[rejects_column(r)]
        )  # type: ignore[arg-type]
    for lv in Level:
        out[key("jobmon_journal_messages_total", level=lv.value)] = float(
            totals[journal_column(lv)]
        )  # type: ignore[arg-type]
    for b in DURATION_BUCKETS:
        le = str(float(b))
        out[key("jobmon_job_run_duration_seconds_bucket", le=le)] = float(totals[bucket_column(b)])  # type: ignore[arg-type]
    out[key("jobmon_job_run_duration_seconds_bucket", le="+Inf")] = float(totals["duration_count"])  # type: ignore[arg-type]
    out[key("jobmon_job_run_duration_seconds_count")] = float(totals["duration_count"])  # type: ignore[arg-type]
    out[key("jobmon_job_run_duration_seconds_sum")] = float(totals["duration_sum"])  # type: ignore[arg-type]
    out[key("jobmon_job_last_run_rejected_records")] = float(run.rejects if run else 0)
    out[key("jobmon_job_heartbeat_timestamp_seconds")] = _stamp(run.heartbeat_at if run else None)
    for name in ("start", "success", "failure"):
        value = totals[f"last_{name}_at"]
        out[key(f"jobmon_job_last_{name}_timestamp_seconds")] = _stamp(value)  # type: ignore[arg-type]
    optional = {
        "jobmon_job_reject_limit": job.max_rejects,
        "jobmon_job_max_duration_seconds": job.max_duration_seconds,
        "jobmon_job_next_run_timestamp_seconds": job.next_run_at and job.next_run_at.timestamp(),
    }
    for metric, value in optional.items():
        if value is not None:
            out[key(metric)] = float(value)
    return out


def expected(db: Database) -> dict[Series, float]:
    """Every job series and its value, read through the ORM (absent series are left out)."""
    out: dict[Series, float] = {}
    counts = dict.fromkeys(Status, 0)
    with db.read() as session:
        for job in session.scalars(select(Job).where(Job.defined.is_(True))):
            totals = session.execute(select(job_totals).where(job_totals.c.job_id == job.id)).one()
            run = session.get(Run, job.latest_run_id) if job.latest_run_id else None
            out.update(_job_series(job, dict(totals._mapping), run))
            counts[Status(run.status) if run else Status.EDITING] += 1
    for status, n in counts.items():
        out["jobmon_jobs", frozenset({("status", status.value)})] = float(n)
    return out
