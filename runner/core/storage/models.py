"""Typed SQLAlchemy 2.0 models: jobs, runs, transitions, journal, rejects and per-job totals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from runner.core.metrics import DURATION_BUCKETS
from runner.core.states import CAUSE_LENGTH, Level, RejectReason, Status
from runner.core.storage import stamps

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend, microseconds kept (MariaDB needs fsp=6)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; jobmon stores aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def status_column() -> Any:
    """Statuses are stored as short strings so every backend behaves alike."""
    return String(24)


def revision_column(table: str) -> Any:
    """A number every write of the row through SQLAlchemy moves, so a reader can find the
    rows that changed since it last looked (see :mod:`runner.core.storage.stamps`)."""
    return Column(
        "revision",
        BigInteger,
        nullable=False,
        default=stamps.inserted(),
        server_default="0",
        onupdate=stamps.written(table),
    )


class Base(DeclarativeBase):
    """Declarative base with stable constraint names and aware datetimes."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), str: String(255)}


class Job(Base):
    """A job defined in the config, with the status of its latest run."""

    __tablename__ = "jobs"
    __table_args__ = (stamps.revision_index("jobs"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    schedule: Mapped[str] = mapped_column(String(200), default="")
    # The job whose ``finished`` run starts this one (``after:`` in the config).
    after: Mapped[str | None] = mapped_column(String(200))
    max_rejects: Mapped[int | None]
    max_duration_seconds: Mapped[float | None] = mapped_column(Double)
    next_run_at: Mapped[datetime | None]
    latest_run_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(status_column(), default=Status.EDITING.value)
    defined: Mapped[bool] = mapped_column(default=True)
    revision: Mapped[int] = revision_column("jobs")


class Run(Base):
    """One execution of a job."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("job_id", "fire_key", name="uq_runs_job_id_fire_key"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_job_id_id", "job_id", "id"),
        Index("uq_runs_job_id_number", "job_id", "number", unique=True),
        stamps.revision_index("runs"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    # 1, 2, ... within the job: what people see and type (``--run N``); ``id`` is internal.
    number: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # The scheduled fire time for scheduled runs; NULL for runs started by hand.
    fire_key: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(status_column())
    # Incremented on every claim: a fencing token, so a runner that lost its claim cannot write.
    attempt: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    rejects: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = revision_column("runs")


class Transition(Base):
    """A status change of a run: when, from what, to what, caused by whom, and why."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(status_column())
    to_status: Mapped[str] = mapped_column(status_column())
    cause: Mapped[str] = mapped_column(String(CAUSE_LENGTH))
    reason: Mapped[str | None] = mapped_column(Text)


class JournalEntry(Base):
    """A message in a run's journal (the Journal tab)."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_run_id_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    level: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)


class Reject(Base):
    """A rejected source record (the Rejects tab)."""

    __tablename__ = "rejects"
    __table_args__ = (Index("ix_rejects_run_id_line", "run_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(BigInteger)
    record: Mapped[str] = mapped_column(Text)
    # The record's bytes as read, in the source's encoding (``rejects --format csv``).
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    field: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)


class RunnerRow(Base):
    """A runner process that is (or was lately) up: ``jobs`` and ``show`` say "no runner up"
    when no row has a fresh heartbeat."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


# Per-job cumulative totals: one small row per job that the exporter reads on every scrape.
# They only ever grow, in the same transaction as the event that changes them, and retention
# never touches them. The column set is derived from the fixed enums, so it is a Core table.
def entered_column(status: Status) -> str:
    """Column counting transitions into ``status``."""
    return f"entered_{status.value}"


def rejects_column(reason: RejectReason) -> str:
    """Column counting rejects with ``reason``."""
    return f"rejects_{reason.value}"


def journal_column(level: Level) -> str:
    """Column counting journal messages at ``level``."""
    return f"journal_{level.value}"


def bucket_column(bound: float) -> str:
    """Column counting completed runs that lasted at most ``bound`` seconds (cumulative)."""
    return f"duration_le_{bound:g}"


def _counter(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False, default=0, server_default="0")


job_totals = Table(
    "job_totals",
    Base.metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    _counter("runs_total"),
    _counter("records_total"),
    *(_counter(entered_column(s)) for s in Status),
    *(_counter(rejects_column(r)) for r in RejectReason),
    *(_counter(journal_column(lv)) for lv in Level),
    *(_counter(bucket_column(b)) for b in DURATION_BUCKETS),
    _counter("duration_count"),
    Column("duration_sum", Double, nullable=False, default=0.0, server_default="0"),
    Column("last_start_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_failure_at", UTCDateTime()),
    revision_column("job_totals"),
    stamps.revision_index("job_totals"),
)
