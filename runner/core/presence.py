"""Which runners are up: each runner writes its heartbeat to ``runners``; readers count the
fresh ones. A runner that stops cleanly removes its row; a crashed one's row goes stale."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from runner.core import locks
from runner.core.lifecycle import execute_dml
from runner.core.storage.db import Database
from runner.core.storage.models import RunnerRow

# Rows of runners gone this long are deleted by the next heartbeat of any runner.
FORGET_AFTER = timedelta(days=1)


def beat(db: Database, runner_id: str, now: datetime) -> None:
    """Record that ``runner_id`` is up, then forget runners gone a day.

    Two short transactions, each retried on a conflict, and neither holds a job's lock: runners
    beating at the same moment never wait on each other's row while holding their own.
    """
    locks.retrying(db, partial(_touch, runner_id=runner_id, now=now))
    locks.retrying(db, partial(_forget, before=now - FORGET_AFTER))


def _touch(session: Session, runner_id: str, now: datetime) -> None:
    query = update(RunnerRow).where(RunnerRow.id == runner_id).values(heartbeat_at=now)
    if execute_dml(session, query).rowcount == 0:
        session.execute(insert(RunnerRow).values(id=runner_id, started_at=now, heartbeat_at=now))


def _forget(session: Session, before: datetime) -> None:
    session.execute(delete(RunnerRow).where(RunnerRow.heartbeat_at < before))


def depart(db: Database, runner_id: str) -> None:
    """The runner stops: it is no longer up."""
    with db.write() as session:
        session.execute(delete(RunnerRow).where(RunnerRow.id == runner_id))


def runners_up(session: Session, now: datetime, stale_after_seconds: float) -> int:
    """How many runners wrote a heartbeat within ``stale_after_seconds``."""
    fresh = RunnerRow.heartbeat_at >= now - timedelta(seconds=stale_after_seconds)
    return int(session.scalar(select(func.count()).select_from(RunnerRow).where(fresh)) or 0)
