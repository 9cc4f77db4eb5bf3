"""A job as one scrape sees it, and the samples each metric takes from it.

The renderer (:mod:`exporter.render`) takes its values from here, and so does the test
suite's reference built with prometheus-client: the two cannot disagree on values.

A snapshot is built with only the fields the served families need (:data:`NEEDS`), each from
its own columns of the scrape row (:func:`sources`); the fields of excluded families keep
their defaults and are never read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.utils import floatToGoString

from exporter.reader import NAME, Row
from runner.core.states import Level, RejectReason, Status
from runner.core.storage.models import bucket_column, entered_column, journal_column, rejects_column

_EPOCH = datetime(1970, 1, 1)
# (``le`` label, cumulative count of completed runs) per bucket, +Inf last.
Buckets = tuple[tuple[str, int], ...]


def go_float(value: float) -> str:
    """``value`` as prometheus-client writes sample values and bucket bounds."""
    return str(floatToGoString(value))  # type: ignore[no-untyped-call]  # unannotated upstream


def bucket_labels(bounds: Sequence[float]) -> tuple[str, ...]:
    """The ``le`` label values of ``bounds`` and +Inf, as prometheus-client formats them."""
    return (*(go_float(b) for b in bounds), "+Inf")


def epoch(value: Any) -> float | None:
    """Seconds since the epoch of a UTC time as the driver returned it (text or naive)."""
    if value is None:
        return None
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    if stamp.tzinfo is not None:
        return float(stamp.timestamp())
    return (stamp - _EPOCH).total_seconds()


@dataclass(frozen=True)
class JobSnapshot:
    """The values of one job's series at one scrape (defaults for the fields not built)."""

    name: str
    kind: str = ""
    schedule: str = ""
    after: str = ""  # the job it runs after; empty if none
    status: Status = Status.EDITING
    max_rejects: int | None = None
    max_duration_seconds: float | None = None
    next_run: float | None = None
    last_run_rejects: int = 0
    heartbeat: float = 0.0
    runs: int = 0
    records: int = 0
    entered: tuple[int, ...] = ()  # per Status, in enum order
    rejects: tuple[int, ...] = ()  # per RejectReason
    journal: tuple[int, ...] = ()  # per Level
    buckets: Buckets = ()
    duration_sum: float = 0.0
    last_start: float = 0.0
    last_success: float = 0.0
    last_failure: float = 0.0


@dataclass(frozen=True)
class Source:
    """Where a snapshot field comes from: row columns, and the value made of theirs."""

    columns: tuple[str, ...]
    build: Callable[[list[Any]], Any]  # the columns' values, in order


def _column(column: str, convert: Callable[[Any], Any] = lambda v: v) -> Source:
    return Source((column,), lambda values: convert(values[0]))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _when(column: str) -> Source:
    return _column(column, lambda v: epoch(v) or 0.0)


def _counts(columns: Iterable[str]) -> Source:
    return Source(tuple(columns), tuple)


def sources(bounds: Sequence[float]) -> dict[str, Source]:
    """Every field but ``name``, with the duration histogram counted by ``bounds``."""
    labels = bucket_labels(bounds)
    return {
        "kind": _column("kind"),
        "schedule": _column("schedule", lambda v: v or ""),
        "after": _column("after", lambda v: v or ""),
        "status": _column("run_status", lambda v: Status(v or Status.EDITING.value)),
        "max_rejects": _column("max_rejects"),
        "max_duration_seconds": _column("max_duration_seconds", _float),
        "next_run": _column("next_run_at", epoch),
        "last_run_rejects": _column("run_rejects", lambda v: v or 0),
        "heartbeat": _when("heartbeat_at"),
        "runs": _column("runs_total"),
        "records": _column("records_total"),
        "entered": _counts(entered_column(s) for s in Status),
        "rejects": _counts(rejects_column(r) for r in RejectReason),
        "journal": _counts(journal_column(lv) for lv in Level),
        "buckets": Source(
            (*(bucket_column(b) for b in bounds), "duration_count"),
            lambda values: tuple(zip(labels, values, strict=True)),
        ),
        "duration_sum": _column("duration_sum", float),
        "last_start": _when("last_start_at"),
        "last_success": _when("last_success_at"),
        "last_failure": _when("last_failure_at"),
    }


# The fields each job or aggregate family is made of (besides the job's name).
NEEDS: dict[str, tuple[str, ...]] = {
    "jobmon_job_status": ("status",),
    "jobmon_jobs": ("status",),
    "jobmon_job_info": ("after", "kind", "schedule"),
    "jobmon_job_runs_total": ("runs",),
    "jobmon_job_transitions_total": ("entered",),
    "jobmon_job_records_total": ("records",),
    "jobmon_job_rejected_records_total": ("rejects",),
    "jobmon_job_reject_limit": ("max_rejects",),
    "jobmon_job_last_run_rejected_records": ("last_run_rejects",),
    "jobmon_job_run_duration_seconds": ("buckets", "duration_sum"),
    "jobmon_job_last_start_timestamp_seconds": ("last_start",),
    "jobmon_job_last_success_timestamp_seconds": ("last_success",),
    "jobmon_job_last_failure_timestamp_seconds": ("last_failure",),
    "jobmon_job_heartbeat_timestamp_seconds": ("heartbeat",),
    "jobmon_job_next_run_timestamp_seconds": ("next_run",),
    "jobmon_job_max_duration_seconds": ("max_duration_seconds",),
    "jobmon_journal_messages_total": ("journal",),
}


class Snapshots:
    """Builds snapshots with some fields from flattened rows whose columns are ``names``."""

    def __init__(
        self, fields: Iterable[str], table: Mapping[str, Source], names: Sequence[str]
    ) -> None:
        position = {name: i for i, name in enumerate(names)}
        self._steps = tuple(
            (field, tuple(position[c] for c in table[field].columns), table[field].build)
            for field in fields
        )

    def __call__(self, row: Row) -> JobSnapshot:
        """The snapshot of one flattened row."""
        values = {field: build([row[i] for i in at]) for field, at, build in self._steps}
        return JobSnapshot(row[NAME], **values)


# (label values other than job_name, in table order, value) pairs of a gauge, counter or info.
Values = list[tuple[tuple[str, ...], float]]


def _one(value: float | None) -> Values:
    return [] if value is None else [((), value)]


# Label values of the enumerations, computed once (enum attribute access is slow).
_STATUSES = tuple((s.value,) for s in Status)
_REASONS = tuple((r.value,) for r in RejectReason)
_LEVELS = tuple((lv.value,) for lv in Level)


def _status(job: JobSnapshot) -> Values:
    current = job.status.value
    return [(v, 1.0 if v[0] == current else 0.0) for v in _STATUSES]


VALUES: dict[str, Callable[[JobSnapshot], Values]] = {
    "jobmon_job_status": _status,
    "jobmon_job_info": lambda j: [((j.after, j.kind, j.schedule), 1.0)],
    "jobmon_job_runs_total": lambda j: _one(j.runs),
    "jobmon_job_transitions_total": lambda j: list(zip(_STATUSES, j.entered, strict=True)),
    "jobmon_job_records_total": lambda j: _one(j.records),
    "jobmon_job_rejected_records_total": lambda j: list(zip(_REASONS, j.rejects, strict=True)),
    "jobmon_job_reject_limit": lambda j: _one(j.max_rejects),
    "jobmon_job_last_run_rejected_records": lambda j: _one(j.last_run_rejects),
    "jobmon_job_last_start_timestamp_seconds": lambda j: _one(j.last_start),
    "jobmon_job_last_success_timestamp_seconds": lambda j: _one(j.last_success),
    "jobmon_job_last_failure_timestamp_seconds": lambda j: _one(j.last_failure),
    "jobmon_job_heartbeat_timestamp_seconds": lambda j: _one(j.heartbeat),
    "jobmon_job_next_run_timestamp_seconds": lambda j: _one(j.next_run),
    "jobmon_job_max_duration_seconds": lambda j: _one(j.max_duration_seconds),
    "jobmon_journal_messages_total": lambda j: list(zip(_LEVELS, j.journal, strict=True)),
}
