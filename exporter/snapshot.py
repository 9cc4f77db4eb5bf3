"""A job as one scrape sees it, and the samples each metric takes from it.

The renderer (:mod:`exporter.render`) takes its values from here, and so does the test
suite's reference built with prometheus-client: the two cannot disagree on values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.utils import floatToGoString

from exporter.reader import INDEX, Row, unpack
from runner.core.metrics import DURATION_BUCKETS
from runner.core.states import Level, RejectReason, Status
from runner.core.storage.models import bucket_column, entered_column, journal_column, rejects_column

_EPOCH = datetime(1970, 1, 1)


def go_float(value: float) -> str:
    """``value`` as prometheus-client writes sample values and bucket bounds."""
    return str(floatToGoString(value))  # type: ignore[no-untyped-call]  # unannotated upstream


# The ``le`` label values, formatted as prometheus-client formats bucket bounds.
BUCKET_LABELS: tuple[str, ...] = (*(go_float(b) for b in DURATION_BUCKETS), "+Inf")


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
    """The values of one job's series at one scrape."""

    name: str
    kind: str
    schedule: str
    after: str  # the job it runs after; empty if none
    status: Status
    max_rejects: int | None
    max_duration_seconds: float | None
    next_run: float | None
    last_run_rejects: int
    heartbeat: float
    runs: int
    records: int
    entered: tuple[int, ...]  # per Status, in enum order
    rejects: tuple[int, ...]  # per RejectReason
    journal: tuple[int, ...]  # per Level
    buckets: tuple[int, ...]  # cumulative, per DURATION_BUCKETS then +Inf
    duration_sum: float
    last_start: float
    last_success: float
    last_failure: float


def snapshot(row: Row) -> JobSnapshot:
    """The snapshot of a scrape row (see :data:`exporter.reader.COLUMNS`)."""

    counters = unpack(row[INDEX["counters"]])

    def get(name: str) -> Any:
        return counters[name] if name in counters else row[INDEX[name]]

    def when(name: str) -> float:
        return epoch(get(name)) or 0.0

    max_duration = get("max_duration_seconds")
    return JobSnapshot(
        name=get("name"),
        kind=get("kind"),
        schedule=get("schedule") or "",
        after=get("after") or "",
        status=Status(get("run_status") or Status.EDITING.value),
        max_rejects=get("max_rejects"),
        max_duration_seconds=None if max_duration is None else float(max_duration),
        next_run=epoch(get("next_run_at")),
        last_run_rejects=get("run_rejects") or 0,
        heartbeat=when("heartbeat_at"),
        runs=get("runs_total"),
        records=get("records_total"),
        entered=tuple(get(entered_column(s)) for s in Status),
        rejects=tuple(get(rejects_column(r)) for r in RejectReason),
        journal=tuple(get(journal_column(lv)) for lv in Level),
        buckets=(*(get(bucket_column(b)) for b in DURATION_BUCKETS), get("duration_count")),
        duration_sum=float(get("duration_sum")),
        last_start=when("last_start_at"),
        last_success=when("last_success_at"),
        last_failure=when("last_failure_at"),
    )


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
