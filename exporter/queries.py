"""The statements of a scrape: which columns it reads (:class:`Layout`), and the queries of
every defined job's marks and rows, joined to its totals and latest run by primary key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    LargeBinary,
    Select,
    bindparam,
    cast,
    func,
    select,
    true,
    type_coerce,
    union,
)
from sqlalchemy.types import NullType

from runner.core.storage import stamps
from runner.core.storage.models import Job, Run, job_totals

Row = tuple[Any, ...]

_TIMES = ("next_run_at", "heartbeat_at", "last_start_at", "last_success_at", "last_failure_at")
# The integer counters travel packed in one text column ("3,0,12,..."): one value per row for
# the driver to build instead of dozens, which is most of a scrape's cost at 10k jobs.
COUNTERS: tuple[str, ...] = tuple(
    c.name
    for c in job_totals.columns
    if c.name not in ("job_id", "revision") and isinstance(c.type, BigInteger)
)
_JOB_SOURCES: tuple[tuple[str, Any], ...] = (
    ("id", Job.id),
    ("name", Job.name),
    ("kind", Job.kind),
    ("schedule", Job.schedule),
    ("after", Job.after),
    ("max_rejects", Job.max_rejects),
    ("max_duration_seconds", Job.max_duration_seconds),
    ("next_run_at", Job.next_run_at),
)
_RUN_SOURCES = (
    ("run_status", "status"),
    ("run_rejects", "rejects"),
    ("heartbeat_at", "heartbeat_at"),
)
_TOTAL_SOURCES = ("duration_sum", "last_start_at", "last_success_at", "last_failure_at")
# Every column a scrape may read besides the counters, in row order.
PLAIN: tuple[str, ...] = (
    *(name for name, _ in _JOB_SOURCES),
    *(name for name, _ in _RUN_SOURCES),
    *_TOTAL_SOURCES,
)
ID, NAME = 0, 1  # where every row has the job's id and name
_RUN_COLUMNS = frozenset(name for name, _ in _RUN_SOURCES)
_TOTAL_COLUMNS = frozenset((*_TOTAL_SOURCES, *COUNTERS))


@dataclass(frozen=True)
class Layout:
    """The columns one scrape reads, in row order: ``plain`` ones (``id`` and ``name`` first),
    then the ``counters``, packed in one text column (absent when there are none)."""

    plain: tuple[str, ...]
    counters: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The columns of a row once flattened by :meth:`flat`."""
        return (*self.plain, *self.counters)

    def flat(self, row: Row) -> Row:
        """``row`` with its counters unpacked in place of the packed column."""
        if not self.counters:
            return row
        return (*row[:-1], *map(int, row[-1].split(",")))


def layout(columns: Iterable[str]) -> Layout:
    """The layout that reads ``columns`` (names of :data:`PLAIN` and :data:`COUNTERS`)."""
    wanted = {"id", "name", *columns}
    unknown = wanted.difference(PLAIN, COUNTERS)
    if unknown:
        raise ValueError(f"no such scrape column: {', '.join(sorted(unknown))}")
    return Layout(tuple(c for c in PLAIN if c in wanted), tuple(c for c in COUNTERS if c in wanted))


FULL = layout((*PLAIN, *COUNTERS))


def packed_counters(dialect: str, names: Sequence[str] = COUNTERS) -> Any:
    """The counters ``names`` as one comma-separated text value."""
    columns = [job_totals.c[name] for name in names]
    if dialect == "sqlite":
        return func.printf(",".join(["%d"] * len(columns)), *columns)
    return func.concat_ws(",", *columns)


def _latest_run(dialect: str) -> Any:
    """The latest run, looked up by primary key for each job.

    PostgreSQL would hash-join the whole ``runs`` table once it outweighs the index lookups in
    its estimates, making a scrape cost grow with the history; a LATERAL subquery with LIMIT
    cannot be flattened into a join, so each job costs one index lookup. SQLite and MariaDB
    join on the primary key by lookups already.
    """
    if dialect != "postgresql":
        return Run.__table__
    columns = [Run.id, Run.status, Run.rejects, Run.heartbeat_at, Run.revision]
    return select(*columns).where(Run.id == Job.latest_run_id).limit(1).lateral("runs")


def _by_name(dialect: str) -> Any:
    """Names in code point order, as Python sorts them: the bytes of their UTF-8."""
    if dialect == "postgresql":
        return Job.name.collate("C")
    if dialect in ("mysql", "mariadb"):
        return cast(Job.name, LargeBinary)
    return Job.name  # SQLite compares text as bytes


Marks = tuple[Any, ...]  # a job's id, revisions and latest run, as the marks query reads them
BATCH = 500  # job ids per statement when reading changed jobs


@dataclass(frozen=True)
class Queries:
    """The statements of a scrape reading ``columns``: every defined job's id and marks; the
    marks and rows of all of them (``everything``); of the jobs whose ids are bound to
    ``ids`` (``some``). Rows of ``everything`` and ``some`` are the marks, then the row.

    Where the backend can tell the rows written since a read (PostgreSQL and SQLite, see
    :mod:`runner.core.storage.stamps`), ``since`` gives the ids of the jobs with a row read
    written at or after the bound ``since`` watermark, with the statement's own watermark:
    rows ``(watermark, job id)``, one row with no id when none was."""

    marks: Select[Any]
    everything: Select[Any]
    some: Select[Any]
    width: int  # how many marks a job has, its id first
    since: Select[Any] | None = None


def queries(dialect: str, columns: Layout = FULL) -> Queries:
    """The scrape statements on ``dialect``; ``job_totals`` and the latest run are joined only
    when a column comes from them (and then their revisions are marks too)."""
    runs = _latest_run(dialect)
    sources = {
        **dict(_JOB_SOURCES),
        **{name: runs.c[column] for name, column in _RUN_SOURCES},
        **{name: job_totals.c[name] for name in _TOTAL_SOURCES},
    }
    selected = [
        (type_coerce(sources[name], NullType()) if name in _TIMES else sources[name]).label(name)
        for name in columns.plain
    ]
    if columns.counters:
        selected.append(packed_counters(dialect, columns.counters).label("counters"))
    joined: Any = Job.__table__
    marks: list[Any] = [Job.id.label("job_id"), Job.revision.label("job_revision")]
    if _TOTAL_COLUMNS.intersection(columns.names):
        joined = joined.join(job_totals, job_totals.c.job_id == Job.id)
        marks.append(job_totals.c.revision.label("totals_revision"))
    if _RUN_COLUMNS.intersection(columns.names):
        on = true() if dialect == "postgresql" else runs.c.id == Job.latest_run_id
        joined = joined.outerjoin(runs, on)
        marks += [Job.latest_run_id.label("run_id"), runs.c.revision.label("run_revision")]
    defined = Job.defined.is_(True)
    everything = select(*marks, *selected).select_from(joined).where(defined)
    everything = everything.order_by(_by_name(dialect))
    return Queries(
        marks=select(*marks).select_from(joined).where(defined),
        everything=everything,
        some=everything.where(Job.id.in_(bindparam("ids", expanding=True))),
        width=len(marks),
        since=_since(columns) if stamps.since_snapshots(dialect) else None,
    )


def _since(columns: Layout) -> Select[Any]:
    """The ids of the jobs with a row written at or after the watermark ``since`` (a run of
    the job's, latest or not), each with the statement's own watermark: index ranges only."""
    since: Any = bindparam("since", type_=BigInteger)
    written = [select(Job.id.label("id")).where(Job.revision >= since)]
    if _TOTAL_COLUMNS.intersection(columns.names):
        written.append(select(job_totals.c.job_id).where(job_totals.c.revision >= since))
    if _RUN_COLUMNS.intersection(columns.names):
        written.append(select(Run.job_id).where(Run.revision >= since))
    ids = union(*written).subquery("written")
    mark = select(stamps.watermark().label("watermark")).subquery("snapshot")
    return select(mark.c.watermark, ids.c.id).select_from(mark.outerjoin(ids, true()))
