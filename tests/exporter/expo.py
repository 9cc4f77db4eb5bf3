"""Parsing expositions into ``{(sample name, labels): value}`` with prometheus-client's parsers."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from runner.core.metrics import METRICS, Type
from tests.exporter.scenario import Series

SELF = {
    "jobmon_database_up",
    "jobmon_scrape_duration_seconds",
    "jobmon_scrape_errors_total",
    "jobmon_last_successful_read_timestamp_seconds",
    "jobmon_build_info",
}


def samples(text: str, openmetrics: bool = False) -> dict[Series, float]:
    """Every sample of ``text``; the OpenMetrics parser is strict (``# EOF``, grouping)."""
    parse = parse_openmetrics if openmetrics else parse_text
    out: dict[Series, float] = {}
    for family in parse(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = float(s.value)
    return out


def job_samples(text: str, openmetrics: bool = False) -> dict[Series, float]:
    """The samples that come from the database (everything but the exporter's own)."""
    return {k: v for k, v in samples(text, openmetrics).items() if k[0] not in SELF}


def value(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a classic text exposition."""
    return samples(text)[name, frozenset(labels.items())]


def family_of(sample: str) -> str:
    """The family (as named in the metric table) a classic text sample belongs to."""
    for metric in METRICS:
        if sample == metric.name or (
            metric.type is Type.HISTOGRAM and sample.rsplit("_", 1)[0] == metric.name
        ):
            return metric.name
    raise KeyError(sample)
