"""Settings of the exporter and the runner (``exporter:`` and ``runner:``)."""

from __future__ import annotations

from pydantic import Field

from runner.core.config.fields import Strict


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
