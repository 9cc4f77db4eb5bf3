"""A scrape reads in full only the jobs that changed, whichever writer changed them.

Each writer of the runner (transitions, totals, heartbeats, rejects, the catalog, next fire
times) goes through SQLAlchemy, whose UPDATEs move the row's revision: the next scrape reads
that job's row again, and only that one, found by revision since the last scrape's watermark
on PostgreSQL and SQLite and by comparing every job's marks on MariaDB. Statements are counted with
SQLAlchemy's events, on SQLite, PostgreSQL and MariaDB.
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
    """Three jobs, ``b-running`` with a claimed run, and the reader's marks and watermark
    after a read."""

    db: Database
    reader: Reader
    ids: dict[str, int]
    fence: Fence
    marks: dict[int, Marks]
    since: int | None = None


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    ids = add_jobs(db, *NAMES)
    control.start(db, "b-running", T0)
    fence = claims.claim_next(db, [ids["b-running"]], RUNNER, T0)
    assert fence is not None
    reader = Reader(db)
    first = reader.changes(5.0, {})
    assert {row[ID] for row in first.rows} == set(ids.values())
    assert (first.watermark is not None) == (db.dialect != "mariadb")
    yield World(db, reader, ids, fence, first.marks, first.watermark)


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
    found = world.reader.changes(5.0, world.marks, world.since)
    assert [row[ID] for row in found.rows] == [world.ids[name]]
    # The marks (or the ids written since the last read, then the marks if a transaction
    # elsewhere holds the watermark back), then the one job's row.
    assert len(statements.selects) == (3 if _lagged(statements) else 2)
    assert statements.ids_bound() == [1]
    again = Statements(world.db)
    assert world.reader.changes(5.0, found.marks, found.watermark).rows == []
    # The marks or the ids written only; on PostgreSQL, a held-back watermark may find the
    # job again, whose row is then read and left out (its marks did not move).
    assert len(again.selects) <= (2 if world.db.dialect == "postgresql" else 1)


def _lagged(statements: Statements) -> bool:
    """Whether the reader asked for the ids written since, then compared every job's marks."""
    sent = [statement for statement, _ in statements.selects]
    return len(sent) > 1 and "watermark" in sent[0] and " IN (" not in sent[1]


def test_a_job_no_longer_defined_drops_out(world: World) -> None:
    catalog.sync_jobs(world.db, [python_job("a-idle"), python_job("b-running")])
    found = world.reader.changes(5.0, world.marks, world.since)
    assert set(found.marks) == {world.ids["a-idle"], world.ids["b-running"]}
    assert found.rows == []  # the jobs left did not change


def test_many_changed_jobs_are_read_in_batches(db: Database) -> None:
    from exporter.reader import BATCH

    names = [f"job-{i:04d}" for i in range(BATCH * 2 + 50)]
    ids = add_jobs(db, *names)
    reader = Reader(db)
    first = reader.changes(5.0, {})
    changed = names[: BATCH + 10]
    catalog.set_next_runs(db, dict.fromkeys(changed, T0))
    statements = Statements(db)
    found = reader.changes(5.0, first.marks, first.watermark)
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
    read = world.reader.changes(5.0, world.marks, world.since)
    catalog.set_next_runs(world.db, {"a-idle": T0, "c-other": T0 + timedelta(minutes=5)})
    found = world.reader.changes(5.0, read.marks, read.watermark)
    assert [row[ID] for row in found.rows] == [world.ids["c-other"]]


def test_a_first_read_gives_jobs_in_the_order_python_sorts_their_names(db: Database) -> None:
    names = ["b-10", "Zed", "alpha", "b.1", "B-1", "b-2", "zz", "_under", "b_3", "9x", "b1"]
    add_jobs(db, *names)
    read = [row[1] for row in Reader(db).read(5.0)]
    assert read == sorted(names)


def test_a_write_committed_after_a_read_that_did_not_see_it_is_read_next(world: World) -> None:
    """A transaction that wrote before a scrape and commits after it: that scrape cannot see
    the write, and the next one must read it (its revision is above the first's watermark)."""
    with world.db.engine.connect() as writer:
        writer.begin()
        catalog_write = sa_update_next_run(world, "c-other")
        writer.execute(catalog_write)
        during = world.reader.changes(5.0, world.marks, world.since)
        assert during.rows == []  # not committed yet
        writer.commit()
    after = world.reader.changes(5.0, during.marks, during.watermark)
    assert [row[ID] for row in after.rows] == [world.ids["c-other"]]
    assert world.reader.changes(5.0, after.marks, after.watermark).rows == []


def test_an_older_run_written_reads_nothing_again(world: World) -> None:
    """A run that is no longer the latest one may still be written (retention, a late
    write): its job is looked at again, but its row did not change, so it is not given."""
    from sqlalchemy import update

    from runner.core.storage.models import Run

    _transition(world)
    control.start(world.db, "b-running", T0 + timedelta(minutes=1))
    read = world.reader.changes(5.0, world.marks, world.since)
    assert [row[ID] for row in read.rows] == [world.ids["b-running"]]
    with world.db.write() as session:
        older = update(Run).where(Run.id == world.fence.run_id)
        session.execute(older.values(heartbeat_at=T0 + timedelta(minutes=2)))
    assert world.reader.changes(5.0, read.marks, read.watermark).rows == []


def sa_update_next_run(world: World, name: str) -> Any:
    from sqlalchemy import update

    from runner.core.storage.models import Job

    return update(Job).where(Job.name == name).values(next_run_at=T0 + timedelta(hours=1))


def test_a_transaction_held_open_elsewhere_reads_no_unchanged_job_again(world: World) -> None:
    """A long transaction (a backup, another application) holds every snapshot's xmin back
    on PostgreSQL: the jobs written since stay above the watermark. The rows given are still
    only the jobs that changed since the last read."""
    with world.db.engine.connect() as other:
        if world.db.dialect == "postgresql":
            other.exec_driver_sql("SELECT pg_current_xact_id()")  # holds an id from now on
        catalog.set_next_runs(world.db, {"a-idle": T0, "c-other": T0})
        read = world.reader.changes(5.0, world.marks, world.since)
        wrote = {world.ids["a-idle"], world.ids["c-other"]}
        assert wrote <= {row[ID] for row in read.rows}  # all three: most jobs changed
        assert world.reader.changes(5.0, read.marks, read.watermark).rows == []
        catalog.set_next_runs(world.db, {"a-idle": T0 + timedelta(minutes=1), "c-other": T0})
        found = world.reader.changes(5.0, read.marks, read.watermark)
        assert [row[ID] for row in found.rows] == [world.ids["a-idle"]]
        other.rollback()
