"""Settings of the exporter and the runner (``exporter:`` and ``runner:``)."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, Field

from runner.core.config.fields import Strict
from runner.core.metrics import DURATION_BUCKETS, matching

_BOUNDS = ", ".join(f"{b:g}" for b in DURATION_BUCKETS)


def _exclusion(pattern: str) -> str:
    """A name or glob that drops at least one family, and none of the exporter's own."""
    matched = matching(pattern)
    if not matched:
        raise ValueError(f'"{pattern}" matches no jobmon metric')
    kept = [m.name for m in matched if not m.excludable]
    if kept:
        what = "cannot" if kept == [pattern] else f"would exclude {', '.join(kept)}, which cannot"
        raise ValueError(
            f'"{pattern}" {what} be excluded: the exporter\'s own families stay (one series'
            " each; the alerts on monitoring outages and stale reads, and the dashboards, read"
            " them)"
        )
    return pattern


def _recorded_bound(bound: float) -> float:
    """One of the bounds completed runs are counted by in the database."""
    if bound == math.inf:
        raise ValueError("+Inf is implied; leave it out")
    if bound not in DURATION_BUCKETS:
        raise ValueError(
            f"{bound:g} is not a bound jobmon counts run durations by; choose among {_BOUNDS}"
        )
    return bound


Exclusion = Annotated[str, AfterValidator(_exclusion)]
RecordedBound = Annotated[float, AfterValidator(_recorded_bound)]


class MetricsConfig(Strict):
    """Which metric families ``/metrics`` serves, and the run duration histogram's buckets."""

    # Names or shell-style globs (fnmatch) of families to drop: never read, built or served.
    exclude: list[Exclusion] = Field(default_factory=list)
    # Upper bounds in seconds, strictly increasing, +Inf implied: all the bounds runs are
    # counted by (the default) or some of them.
    duration_buckets: list[RecordedBound] = Field(default_factory=lambda: list(DURATION_BUCKETS))


def bucket_order_problems(metrics: MetricsConfig) -> list[str]:
    """``exporter.metrics.duration_buckets[i]: ...`` for each bound not above the one before."""
    bounds = metrics.duration_buckets
    return [
        f"exporter.metrics.duration_buckets[{i}]: {bounds[i]:g} is not greater than the"
        f" bound before it ({bounds[i - 1]:g}); bounds must increase"
        for i in range(1, len(bounds))
        if bounds[i] <= bounds[i - 1]
    ]


class ConsoleConfig(Strict):
    """The web console the exporter serves beside ``/metrics``."""

    enabled: bool = True
    # Basic-auth users who may start, pause, resume and cancel runs from the console.
    operators: list[str] = Field(default_factory=list)


class ExporterConfig(Strict):
    """The Prometheus exporter's listen address and exporter-toolkit web config."""

    listen_address: str = "127.0.0.1:9736"
    web_config_file: str | None = None
    metrics_path: str = "/metrics"
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)


class RetentionConfig(Strict):
    """How long finished runs, their journal and rejects are kept (totals are kept forever)."""

    days: float = Field(default=30, gt=0)
    interval_seconds: float = Field(default=3600, gt=0)


class RunnerConfig(Strict):
    """Heartbeats, claim polling, concurrency, shutdown and retention."""

    id: str | None = None
    heartbeat_seconds: float = Field(default=5, gt=0)
    stale_after_seconds: float = Field(default=30, gt=0)
    poll_seconds: float = Field(default=1, gt=0)
    concurrency: int = Field(default=4, ge=1)
    shutdown_grace_seconds: float = Field(default=30, ge=0)
    # Times a server_stopped run is restarted from its checkpoint without a person.
    max_restarts: int = Field(default=3, ge=0)
    retention: RetentionConfig = RetentionConfig()
    data_dirs: list[str] = Field(default_factory=lambda: ["data"])
