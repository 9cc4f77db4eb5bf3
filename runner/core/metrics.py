"""Every metric the exporter serves: name, type, labels and help, in one table (SPEC §3).

The order of the table is the order of the exposition. ``JOB`` metrics have one or more
samples per job, ``AGGREGATE`` ones are computed over all jobs, ``SELF`` ones describe the
exporter. While the database cannot be read, ``JOB`` and ``AGGREGATE`` families repeat the last
successful read (none before the first one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase


class Type(StrEnum):
    """Metric types as prometheus-client names them (``info`` is a gauge in classic text)."""

    GAUGE = "gauge"
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    INFO = "info"


class Scope(StrEnum):
    """Where a metric's samples come from."""

    JOB = "job"
    AGGREGATE = "aggregate"
    SELF = "self"


@dataclass(frozen=True)
class Metric:
    """One metric family: ``name`` is the name series get in Prometheus (SPEC §3)."""

    name: str
    type: Type
    labels: tuple[str, ...]
    help: str
    scope: Scope

    @property
    def family(self) -> str:
        """The family name in OpenMetrics: counters drop ``_total``, infos drop ``_info``."""
        if self.type is Type.COUNTER:
            return self.name.removesuffix("_total")
        if self.type is Type.INFO:
            return self.name.removesuffix("_info")
        return self.name

    @property
    def excludable(self) -> bool:
        """Whether ``exporter.metrics.exclude`` may drop it: the exporter's own families stay.

        They are one series each whatever the number of jobs, and what watches the exporter
        reads them: ``jobmon_database_up`` and ``jobmon_last_successful_read_timestamp_seconds``
        feed the alerts on monitoring outages and stale reads, ``jobmon_build_info`` the
        dashboards' deployment and instance choices.
        """
        return self.scope is not Scope.SELF


# Upper bounds (seconds) of the run duration histogram. Runs last from seconds (small exports)
# to hours (large imports): roughly x3 steps from 1 s to 1 day keep the series count at 13.
# Completed runs are counted by these bounds in the database (one totals column each), so a
# scrape can serve these bounds or fewer of them (``exporter.metrics.duration_buckets``), never
# others: a count by another bound cannot be made from these.
DURATION_BUCKETS: tuple[float, ...] = (
    1,
    5,
    15,
    30,
    60,
    180,
    600,
    1800,
    3600,
    10800,
    28800,
    86400,
)

J, A, S = Scope.JOB, Scope.AGGREGATE, Scope.SELF
JN = ("job_name",)

METRICS: tuple[Metric, ...] = (
    Metric(
        "jobmon_job_status",
        Type.GAUGE,
        (*JN, "status"),
        "Status of the job's latest run: 1 for the current status, 0 for the others.",
        J,
    ),
    Metric(
        "jobmon_jobs", Type.GAUGE, ("status",), "Number of jobs whose latest run is in status.", A
    ),
    Metric("jobmon_job_info", Type.INFO, ("after", *JN, "kind", "schedule"), "Job definition.", J),
    Metric("jobmon_job_runs_total", Type.COUNTER, JN, "Runs created for the job.", J),
    Metric(
        "jobmon_job_transitions_total",
        Type.COUNTER,
        (*JN, "status"),
        "Times a run of the job entered status.",
        J,
    ),
    Metric(
        "jobmon_job_records_total",
        Type.COUNTER,
        JN,
        "Source records read by imports or written by exports.",
        J,
    ),
    Metric(
        "jobmon_job_rejected_records_total",
        Type.COUNTER,
        (*JN, "reason"),
        "Records rejected, by reason.",
        J,
    ),
    Metric(
        "jobmon_job_reject_limit",
        Type.GAUGE,
        JN,
        "The job's max_rejects; absent when unlimited.",
        J,
    ),
    Metric(
        "jobmon_job_last_run_rejected_records",
        Type.GAUGE,
        JN,
        "Records rejected by the job's latest run so far (0 if it never ran).",
        J,
    ),
    Metric(
        "jobmon_job_run_duration_seconds",
        Type.HISTOGRAM,
        JN,
        "Duration of the job's completed runs.",
        J,
    ),
    Metric(
        "jobmon_job_last_start_timestamp_seconds",
        Type.GAUGE,
        JN,
        "Start time of the job's latest started run (0 if never).",
        J,
    ),
    Metric(
        "jobmon_job_last_success_timestamp_seconds",
        Type.GAUGE,
        JN,
        "End time of the job's latest finished run (0 if never).",
        J,
    ),
    Metric(
        "jobmon_job_last_failure_timestamp_seconds",
        Type.GAUGE,
        JN,
        "End time of the job's latest run finished with errors (0 if never).",
        J,
    ),
    Metric(
        "jobmon_job_heartbeat_timestamp_seconds",
        Type.GAUGE,
        JN,
        "Last heartbeat of the job's latest run (0 if it never started).",
        J,
    ),
    Metric(
        "jobmon_job_next_run_timestamp_seconds",
        Type.GAUGE,
        JN,
        "Next scheduled fire time of the job; absent if unscheduled.",
        J,
    ),
    Metric(
        "jobmon_job_max_duration_seconds",
        Type.GAUGE,
        JN,
        "The job's configured time limit; absent if none.",
        J,
    ),
    Metric(
        "jobmon_journal_messages_total",
        Type.COUNTER,
        (*JN, "level"),
        "Journal messages written by the job's runs, by level.",
        J,
    ),
    Metric(
        "jobmon_database_up",
        Type.GAUGE,
        (),
        "1 if this scrape read the database, else 0.",
        S,
    ),
    Metric(
        "jobmon_scrape_duration_seconds",
        Type.GAUGE,
        (),
        "Time this scrape took to read the database and render the jobs.",
        S,
    ),
    Metric(
        "jobmon_scrape_errors_total",
        Type.COUNTER,
        (),
        "Scrapes that could not read the database since the exporter started.",
        S,
    ),
    Metric(
        "jobmon_last_successful_read_timestamp_seconds",
        Type.GAUGE,
        (),
        "Time of the exporter's last successful database read (0 if none since it started).",
        S,
    ),
    Metric("jobmon_build_info", Type.INFO, ("version",), "The jobmon version serving.", S),
)

BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
JOB_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS if m.scope is Scope.JOB)


def matching(pattern: str) -> tuple[Metric, ...]:
    """The families whose name matches ``pattern``: a name or a shell-style glob (fnmatch)."""
    return tuple(m for m in METRICS if fnmatchcase(m.name, pattern))


def served(exclude: Sequence[str] = ()) -> tuple[Metric, ...]:
    """The families left once ``exclude`` (names or globs) has dropped its excludable ones."""
    dropped = {m.name for pattern in exclude for m in matching(pattern) if m.excludable}
    return tuple(m for m in METRICS if m.name not in dropped)
