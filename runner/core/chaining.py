"""Runs started by another job's run ending ``finished`` (``after:`` in the config, SPEC §1).

The trigger is kept in the database, not in a runner's memory: a job has one waiting when
its upstream job's latest ``finished`` run ended after the job's own latest run was created
(or the job never ran), and no run of the job answers that upstream run yet. Every runner
looks for waiting triggers on each pass of its loop, so a runner that dies between the
upstream's end and the downstream's creation leaves the trigger for the next pass of any
runner. The run is created under the job's turn (runner.core.locks) with the fire key
``after:<upstream run id>``, unique per job: however many runners see the trigger, one run
is created.

While the job's latest run is not over (waiting, running, paused, server_stopped) the
trigger waits; it is answered once that run ends. Upstream runs that finish meanwhile are
answered together, by one run after the latest of them, as missed schedule fires are.
Unlike a schedule fire, a trigger does not restart a ``server_stopped`` run: that run goes
on from a checkpoint taken before the upstream's new output existed, so it is left to the
automatic restarts (runner.core.claims) or a person, and a new run follows it.
A run ending ``finished_with_errors`` or ``canceled`` starts nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Select, String, and_, cast, exists, literal, or_, select
from sqlalchemy.orm import Session, aliased

from runner.core import lifecycle, locks
from runner.core.states import FINAL, Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run

KEY_PREFIX = "after:"


@dataclass(frozen=True)
class Trigger:
    """A job waiting to run after an upstream run that ended ``finished``."""

    job_id: int
    upstream: str
    upstream_run_id: int
    upstream_number: int
    upstream_ended_at: datetime

    @property
    def key(self) -> str:
        """The fire key of the run that answers it: one per (job, upstream run)."""
        return f"{KEY_PREFIX}{self.upstream_run_id}"

    @property
    def reason(self) -> str:
        """Why the run was created, as its journal says."""
        return f"after {self.upstream} run {self.upstream_number} finished"


def create_chained_runs(db: Database, job_ids: Collection[int], now: datetime) -> list[str]:
    """Create a run for each of ``job_ids`` whose trigger is waiting and which is idle.

    Returns a line per run created, for the runner's log.
    """
    if not job_ids:
        return []
    with db.read() as session:
        triggers = waiting(session, job_ids)
    lines = [locks.retrying(db, partial(_create, trigger=t, now=now)) for t in triggers]
    return [line for line in lines if line]


def waiting(session: Session, job_ids: Collection[int]) -> list[Trigger]:
    """The waiting triggers of ``job_ids`` whose job is idle (its latest run is over)."""
    rows = session.execute(_waiting_query(job_ids))
    return [
        Trigger(job_id, upstream, run_id, number, ended)
        for job_id, upstream, run_id, number, ended in rows
        if ended is not None  # always set on a finished run
    ]


def _waiting_query(job_ids: Collection[int]) -> Select[int, str, int, int, datetime | None]:
    upstream, done, latest = aliased(Job), aliased(Run), aliased(Run)
    # The newest first, down the (job, id) index: it stops at the first finished run.
    last_finished = (
        select(Run.id)
        .where(Run.job_id == upstream.id, Run.status == Status.FINISHED.value)
        .order_by(Run.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    answered = exists().where(
        Run.job_id == Job.id, Run.fire_key == literal(KEY_PREFIX) + cast(done.id, String)
    )
    over = latest.status.in_([s.value for s in FINAL])
    idle_since = and_(over, latest.created_at < done.ended_at)
    return (
        select(Job.id, upstream.name, done.id, done.number, done.ended_at)
        .join(upstream, upstream.name == Job.after)
        .join(done, done.job_id == upstream.id)
        .outerjoin(latest, latest.id == Job.latest_run_id)
        .where(Job.id.in_(list(job_ids)), Job.defined.is_(True), done.id == last_finished)
        .where(or_(latest.id.is_(None), idle_since), ~answered)
        .order_by(Job.id)
    )


def _create(session: Session, trigger: Trigger, now: datetime) -> str:
    job = session.get(Job, trigger.job_id)
    if job is None:
        return ""
    latest = lifecycle.lock_job(session, job)
    # Read again under the job's turn: a run created meanwhile (another runner's answer,
    # a start by hand, a schedule fire) either answers the trigger or makes it wait.
    if latest is not None and (
        Status(latest.status) not in FINAL or latest.created_at >= trigger.upstream_ended_at
    ):
        return ""
    run = lifecycle.create_run(
        session, job, cause=Cause.SCHEDULER, now=now, fire_key=trigger.key, reason=trigger.reason
    )
    if run is None:  # another runner answered it first
        return ""
    return f"{job.name}: run {run.number} created {trigger.reason}"
