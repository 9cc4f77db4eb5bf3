"""The exposition built the plain way, with prometheus-client's metric families and encoders.

It is the reference the renderer is checked against (byte for byte, in both formats and
under every name escaping) and the baseline of ``bench/exporter_bench.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import partial

from prometheus_client import exposition
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector

from exporter.chunks import CHUNK_BYTES
from exporter.formats import Escaping, Format
from exporter.plan import EVERYTHING, Plan
from exporter.reader import ID, Row
from exporter.render import Renderer, SelfValues
from exporter.snapshot import VALUES, JobSnapshot, bucket_labels
from runner.core.metrics import Metric, Scope, Type
from runner.core.states import Status


def _family(metric: Metric) -> Family:
    labels = list(metric.labels)
    if metric.type is Type.COUNTER:
        return CounterMetricFamily(metric.name, metric.help, labels=labels)
    if metric.type is Type.HISTOGRAM:
        return HistogramMetricFamily(metric.name, metric.help, labels=labels)
    if metric.type is Type.INFO:
        return InfoMetricFamily(metric.family, metric.help, labels=[])
    return GaugeMetricFamily(metric.name, metric.help, labels=labels)


def _add_job(family: Family, metric: Metric, job: JobSnapshot, plan: Plan) -> None:
    if isinstance(family, HistogramMetricFamily):
        served = bucket_labels(plan.buckets)
        buckets = [(le, count) for le, count in job.buckets if le in served]
        family.add_metric([job.name], buckets, job.duration_sum)
        return
    others = [name for name in metric.labels if name != "job_name"]
    for values, value in VALUES[metric.name](job):
        named = {"job_name": job.name, **dict(zip(others, values, strict=True))}
        if isinstance(family, InfoMetricFamily):
            family.add_metric([], named)
        elif isinstance(family, GaugeMetricFamily | CounterMetricFamily):
            family.add_metric([named[name] for name in metric.labels], value)


def _add_self(family: Family, metric: Metric, own: SelfValues) -> None:
    if isinstance(family, InfoMetricFamily):
        family.add_metric([], {"version": own.version})
    elif isinstance(family, CounterMetricFamily):
        family.add_metric([], own.errors)
    elif isinstance(family, GaugeMetricFamily):
        gauges = {
            "jobmon_database_up": float(own.database_up),
            "jobmon_scrape_duration_seconds": own.duration,
            "jobmon_last_successful_read_timestamp_seconds": own.last_read,
        }
        family.add_metric([], gauges[metric.name])


def families(jobs: Sequence[JobSnapshot], own: SelfValues, plan: Plan = EVERYTHING) -> list[Family]:
    """The families ``plan`` serves, from the jobs' snapshots in exposition order (snapshots
    of every field with every bucket: the plan picks the families and buckets served).

    Job and aggregate families are left out only before any successful read: after one, a
    failed read serves the jobs of the last successful one.
    """
    result: list[Family] = []
    for metric in plan.metrics:
        if metric.scope is not Scope.SELF and not (own.database_up or own.last_read > 0):
            continue
        family = _family(metric)
        if metric.scope is Scope.JOB:
            for job in jobs:
                _add_job(family, metric, job, plan)
        elif metric.scope is Scope.AGGREGATE:
            counts = Counter(job.status for job in jobs)
            for status in Status:
                family.add_metric([status.value], counts[status])  # type: ignore[attr-defined]  # a gauge, as the table says
        else:
            _add_self(family, metric, own)
        result.append(family)
    return result


class FamiliesCollector(Collector):
    """A prometheus-client collector yielding fixed families (for its encoders)."""

    def __init__(self, items: Sequence[Family]) -> None:
        self.items = items

    def collect(self) -> Iterator[Family]:
        """The families, in order."""
        yield from self.items


def encoder(fmt: Format, escaping: Escaping = Escaping.UNDERSCORES) -> Callable[[Collector], bytes]:
    """prometheus-client's encoder of ``fmt`` under ``escaping``."""
    if fmt is Format.OPENMETRICS:
        return partial(openmetrics.generate_latest, escaping=escaping.value)
    return partial(exposition.generate_latest, escaping=escaping.value)


def reference(
    jobs: Sequence[JobSnapshot],
    own: SelfValues,
    fmt: Format,
    escaping: Escaping = Escaping.UNDERSCORES,
    plan: Plan = EVERYTHING,
) -> bytes:
    """The exposition of ``jobs`` as prometheus-client writes it, families as ``plan`` says."""
    return bytes(encoder(fmt, escaping)(FamiliesCollector(families(jobs, own, plan))))


def snapshots(rows: Iterable[Row], plan: Plan = EVERYTHING) -> list[JobSnapshot]:
    """The jobs of ``rows`` (one per job) as a scrape serves them: in exposition order."""
    return sorted((plan.snapshot(row) for row in rows), key=lambda job: job.name)


class KeptRows(Renderer):
    """A renderer that also keeps the rows it was brought to (the renderer itself keeps only
    the rendered text), for the reference to be built from the same jobs."""

    def __init__(self, plan: Plan = EVERYTHING, chunk_bytes: int = CHUNK_BYTES) -> None:
        super().__init__(plan, chunk_bytes)
        self.rows: dict[int, Row] = {}

    def apply(self, rows: Iterable[Row], present: Collection[int] | None = None) -> None:
        """Apply, and keep the rows of the jobs ``present``."""
        rows = list(rows)
        super().apply(rows, present)
        if present is None:
            present = [row[ID] for row in rows]
        self.rows.update((row[ID], row) for row in rows)
        self.rows = {key: self.rows[key] for key in present}

    def snapshots(self) -> list[JobSnapshot]:
        """The jobs the renderer serves, in exposition order."""
        return snapshots(self.rows.values(), self.plan)
