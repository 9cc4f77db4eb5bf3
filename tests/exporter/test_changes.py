"""A scrape reads in full only the jobs that changed, whichever writer changed them.

Each writer of the runner (transitions, totals, heartbeats, rejects, the catalog, next fire
times) goes through SQLAlchemy, whose UPDATEs add one to the row's revision: the next scrape
reads that job's row again, and only that one. Statements are counted with SQLAlchemy's
events, on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from exporter.deflate import gzip_pieces, plain_pieces
from exporter.formats import Format
from exporter.reader import ID, Marks, Reader
from exporter.scrape import Scraper
from runner.core import catalog, claims, control, events, lifecycle
from runner.core.events import RejectRecord
from runner.core.fencing import Fence
from runner.core.states import Cause, Level, RejectReason, Status
from runner.core.storage.db import Database
from tests.exporter.expo import job_samples
from tests.exporter.scenario import populate
from tests.runner.support import RUNNER, T0, add_jobs, python_job

NAMES = ("a-idle", "b-running", "c-other")


@dataclass
class World:
    """Three jobs, ``b-running`` with a claimed run, and the reader's marks after a read."""

    db: Database
    reader: Reader
    ids: dict[str, int]
    fence: Fence
    marks: dict[int, Marks]


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    ids = add_jobs(db, *NAMES)
    control.start(db, "b-running", T0)
    fence = claims.claim_next(db, [ids["b-running"]], RUNNER, T0)
    assert fence is not None
    reader = Reader(db)
    first = reader.changes(5.0, {})
    assert {row[ID] for row in first.rows} == set(ids.values())
    yield World(db, reader, ids, fence, first.marks)


def _journal(w: World) -> None:
    with w.db.write() as session:
        events.journal(session, w.fence.run_id, w.ids["b-running"], Level.INFO, "hello", T0)


def _rejects(w: World) -> None:
    record = RejectRecord(3, "x", "id", RejectReason.TYPE, "not a number")
    with w.db.write() as session:
        events.add_rejects(session, w.fence.run_id, w.ids["b-running"], [record])


def _progress(w: World) -> None:
    with w.db.write() as session:
        events.save_progress(session, w.fence, w.ids["b-running"], T0, records=10)


def _transition(w: World) -> None:
    with w.db.write() as session:
        lifecycle.transition(
            session, w.fence.run_id, Status.FINISHED, cause=Cause.RUNNER, now=T0, fence=w.fence
        )


def _definition(w: World) -> None:
    jobs = [python_job(n, max_rejects=5 if n == "c-other" else None) for n in NAMES]
    catalog.sync_jobs(w.db, jobs)


# Each writer, and the job whose row it changes.
WRITERS: dict[str, tuple[str, Callable[[World], Any]]] = {
    "heartbeat": ("b-running", lambda w: claims.heartbeat(w.db, [w.fence], T0)),
    "journal": ("b-running", _journal),
    "rejects": ("b-running", _rejects),
    "progress": ("b-running", _progress),
    "transition": ("b-running", _transition),
    "new-run": ("a-idle", lambda w: control.start(w.db, "a-idle", T0)),
    "definition": ("c-other", _definition),
    "next-run": ("c-other", lambda w: catalog.set_next_runs(w.db, {"c-other": T0})),
}


class Statements:
    """The SELECT statements run on an engine, and how many job ids each one binds."""

    def __init__(self, db: Database) -> None:
        self.selects: list[tuple[str, Any]] = []
        event.listen(db.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.selects.append((statement, parameters))

    def ids_bound(self) -> list[int]:
        """For each SELECT with a list of job ids (``IN``), how many ids it binds."""
        counts = []
        for statement, parameters in self.selects:
            if not re.search(r"\bIN \(", statement):
                continue
            if isinstance(parameters, dict):  # named parameters: ids_1, ids_2, ...
                counts.append(sum(1 for key in parameters if key.startswith("ids_")))
            else:  # positional: the ids are the integers (the rest is text)
                counts.append(sum(1 for value in parameters if isinstance(value, int)))
        return counts


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_writer_makes_only_its_job_read_again(world: World, writer: str) -> None:
    name, write = WRITERS[writer]
    write(world)
    statements = Statements(world.db)
    found = world.reader.changes(5.0, world.marks)
    assert [row[ID] for row in found.rows] == [world.ids[name]]
    assert len(statements.selects) == 2  # the marks, then the one changed job's row
    assert statements.ids_bound() == [1]
    again = Statements(world.db)
    assert world.reader.changes(5.0, found.marks).rows == []
    assert len(again.selects) == 1  # the marks only


def test_a_job_no_longer_defined_drops_out(world: World) -> None:
    catalog.sync_jobs(world.db, [python_job("a-idle"), python_job("b-running")])
    found = world.reader.changes(5.0, world.marks)
    assert set(found.marks) == {world.ids["a-idle"], world.ids["b-running"]}
    assert found.rows == []  # the jobs left did not change


def test_many_changed_jobs_are_read_in_batches(db: Database) -> None:
    from exporter.reader import BATCH

    names = [f"job-{i:04d}" for i in range(BATCH * 2 + 50)]
    ids = add_jobs(db, *names)
    reader = Reader(db)
    marks = reader.changes(5.0, {}).marks
    changed = names[: BATCH + 10]
    catalog.set_next_runs(db, dict.fromkeys(changed, T0))
    statements = Statements(db)
    found = reader.changes(5.0, marks)
    assert sorted(row[ID] for row in found.rows) == sorted(ids[n] for n in changed)
    assert statements.ids_bound() == [BATCH, 10]


def _scrape(scraper: Scraper, fmt: Format) -> tuple[bytes, bytes]:
    pieces = scraper.scrape(5.0, fmt).pieces
    return plain_pieces(pieces), gzip_pieces(pieces)


def _job_lines(text: bytes) -> list[bytes]:
    own = (b"jobmon_database_up", b"jobmon_scrape_", b"jobmon_last_successful", b"jobmon_build")
    return [line for line in text.splitlines() if not line.startswith(own)]


def test_exposition_after_every_writer_equals_a_fresh_render(db: Database, db_url: str) -> None:
    populate(db)
    world_ids = add_jobs(db, *NAMES)
    scraper = Scraper(Database(db_url), "1.0")
    try:
        _scrape(scraper, Format.TEXT)
        control.start(db, "b-running", T0)
        fence = claims.claim_next(db, [world_ids["b-running"]], RUNNER, T0)
        assert fence is not None
        world = World(db, scraper.reader, world_ids, fence, {})
        for step, (_, write) in enumerate(WRITERS.values()):
            if step == 1:
                claims.heartbeat(db, [fence], T0 + timedelta(seconds=7))
            write(world)
            _assert_same_as_fresh(scraper, db_url)
    finally:
        scraper.close()


def _assert_same_as_fresh(scraper: Scraper, db_url: str) -> None:
    fresh = Scraper(Database(db_url), "1.0")
    try:
        for fmt in Format:
            mine, zipped = _scrape(scraper, fmt)
            theirs, _ = _scrape(fresh, fmt)
            assert _job_lines(mine) == _job_lines(theirs)
            assert job_samples(mine.decode(), openmetrics=fmt is Format.OPENMETRICS)
            import gzip

            assert gzip.decompress(zipped) == mine
    finally:
        fresh.close()


def test_an_unchanged_next_run_is_not_read_again(world: World) -> None:
    catalog.set_next_runs(world.db, {"a-idle": T0, "c-other": T0})
    marks = world.reader.changes(5.0, world.marks).marks
    catalog.set_next_runs(world.db, {"a-idle": T0, "c-other": T0 + timedelta(minutes=5)})
    found = world.reader.changes(5.0, marks)
    assert [row[ID] for row in found.rows] == [world.ids["c-other"]]


def test_a_first_read_gives_jobs_in_the_order_python_sorts_their_names(db: Database) -> None:
    names = ["b-10", "Zed", "alpha", "b.1", "B-1", "b-2", "zz", "_under", "b_3", "9x", "b1"]
    add_jobs(db, *names)
    read = [row[1] for row in Reader(db).read(5.0)]
    assert read == sorted(names)
