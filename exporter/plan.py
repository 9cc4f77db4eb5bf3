"""What a scrape serves and reads: the families ``exporter.metrics.exclude`` leaves, the
buckets of the run duration histogram, and the snapshot fields and columns they need.

Excluded families cost nothing at scrape time: their columns are not selected (and a table
that no served family needs is not joined), their snapshot fields are not built, and they
have no header, fragment or chunk in the exposition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exporter.reader import Layout, Row, layout
from exporter.snapshot import NEEDS, JobSnapshot, Snapshots, sources
from runner.core.config.settings import MetricsConfig
from runner.core.metrics import DURATION_BUCKETS, Metric, Scope, served


@dataclass(frozen=True)
class Plan:
    """The served families (in exposition order) and how their values are read and built."""

    metrics: tuple[Metric, ...]
    job_metrics: tuple[Metric, ...]
    buckets: tuple[float, ...]
    columns: Layout
    snapshots: Snapshots

    def snapshot(self, row: Row) -> JobSnapshot:
        """The snapshot of a row read with :attr:`columns`."""
        return self.snapshots(self.columns.flat(row))


def plan(exclude: Sequence[str] = (), buckets: Sequence[float] = DURATION_BUCKETS) -> Plan:
    """The plan serving every family but ``exclude``, the histogram counted by ``buckets``."""
    metrics = served(exclude)
    table = sources(buckets)
    fields = tuple(
        dict.fromkeys(f for m in metrics if m.scope is not Scope.SELF for f in NEEDS[m.name])
    )
    columns = layout(c for f in fields for c in table[f].columns)
    return Plan(
        metrics=metrics,
        job_metrics=tuple(m for m in metrics if m.scope is Scope.JOB),
        buckets=tuple(buckets),
        columns=columns,
        snapshots=Snapshots(fields, table, columns.names),
    )


def configured(config: MetricsConfig) -> Plan:
    """The plan of ``exporter.metrics``."""
    return plan(config.exclude, config.duration_buckets)


EVERYTHING = plan()
