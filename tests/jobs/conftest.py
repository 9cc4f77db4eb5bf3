"""Helpers for running import and export jobs in-process against the test databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.core import catalog, claims, config, control
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Base, JournalEntry, Reject, Run
from runner.executor.execute import execute


def plain(value: Any) -> Any:
    """Values as the same Python types on every backend."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def drop_user_tables(db: Database) -> None:
    """Drop every table that is not jobmon's own (targets of earlier tests)."""
    own = set(Base.metadata.tables) | {"alembic_version"}
    with db.engine.begin() as conn:
        for name in sa.inspect(conn).get_table_names():
            if name not in own:
                sa.Table(name, sa.MetaData()).drop(conn)


@dataclass
class Env:
    """A jobmon database of one backend and a data directory."""

    db: Database
    url: str
    data: Path

    def config(self, *jobs: dict[str, Any], **sections: Any) -> Config:
        raw = {"database": {"url": self.url}, "runner": {"data_dirs": [str(self.data)]}}
        return config.parse({**raw, **sections, "jobs": list(jobs)})

    def start(self, cfg: Config, name: str, *, stop: bool = False, pause: bool = False) -> Status:
        """Start (or resume) the job and execute its run here; ``stop``/``pause`` end it at
        its first checkpoint."""
        catalog.sync_jobs(self.db, cfg.jobs)
        run, _resumed = control.start(self.db, name, utcnow())
        fence = claims.claim_run(self.db, run.id, "test-runner", utcnow())
        if pause:
            control.pause(self.db, name, utcnow())
        stopping = threading.Event()
        if stop:
            stopping.set()
        return execute(
            self.db,
            cfg.job(name),
            fence,
            utcnow,
            stopping=stopping,
            data_dirs=tuple(str(Path(d).resolve()) for d in cfg.runner.data_dirs),
            config=cfg,
        )

    def rows(self, table: str, *columns: str) -> list[tuple[Any, ...]]:
        """The table's ``columns``, ordered by the first one."""
        t = sa.table(table, *(sa.column(c) for c in columns))
        with self.db.engine.connect() as conn:
            result = conn.execute(sa.select(*t.c).order_by(t.c[columns[0]]))
            return [tuple(plain(v) for v in row) for row in result]

    def last_run(self) -> Run:
        with self.db.read() as session:
            run = session.scalars(sa.select(Run).order_by(Run.id.desc())).first()
            assert run is not None
            return run

    def rejects(self, run_id: int | None = None) -> list[tuple[int, str | None, str]]:
        """(line, field, reason) of the run's rejects, in line order."""
        return [(r.line, r.field, r.reason) for r in self.reject_rows(run_id)]

    def reject_rows(self, run_id: int | None = None) -> list[Reject]:
        run_id = run_id or self.last_run().id
        with self.db.read() as session:
            query = sa.select(Reject).where(Reject.run_id == run_id)
            return list(session.scalars(query.order_by(Reject.line, Reject.id)))

    def journal(self, run_id: int | None = None) -> list[str]:
        run_id = run_id or self.last_run().id
        with self.db.read() as session:
            query = sa.select(JournalEntry.message).where(JournalEntry.run_id == run_id)
            return list(session.scalars(query.order_by(JournalEntry.id)))


@pytest.fixture
def env(db: Database, db_url: str, tmp_path: Path) -> Iterator[Env]:
    data = tmp_path / "data"
    data.mkdir()
    drop_user_tables(db)
    yield Env(db, db_url, data)
    drop_user_tables(db)
