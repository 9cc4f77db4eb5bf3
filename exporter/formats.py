"""The exposition formats, the name escapings a scraper may ask for, and how names are written.

Prometheus may ask for metric and label names escaped (``escaping=`` in ``Accept``). Label
values are never escaped this way. jobmon's names are all of the legacy character set, so
only two escapings write them differently, exactly as prometheus-client does:

- ``dots`` doubles every underscore of metric and label names, in both formats;
- ``values`` leaves them as they are, except OpenMetrics sample names, which get the ``U__``
  prefix and doubled underscores (HELP and TYPE lines keep the plain family name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from runner.core.metrics import METRICS, Type


class Format(StrEnum):
    """The two exposition formats."""

    TEXT = "text"
    OPENMETRICS = "openmetrics"


class Escaping(StrEnum):
    """The name escapings of the ``escaping=`` parameter (``underscores`` by default)."""

    UNDERSCORES = "underscores"
    DOTS = "dots"
    VALUES = "values"
    ALLOW_UTF8 = "allow-utf-8"


_LEGACY_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LEGACY_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _sample_names() -> list[str]:
    names = []
    for metric in METRICS:
        names.append(metric.name)
        if metric.type is Type.HISTOGRAM:
            names += [f"{metric.name}_{part}" for part in ("bucket", "count", "sum")]
    return names


SAMPLE_NAMES: tuple[str, ...] = tuple(_sample_names())
LABEL_NAMES: tuple[str, ...] = tuple(sorted({"le", *(n for m in METRICS for n in m.labels)}))
# The rules below hold for legacy names only: a new name outside that set fails here, at import.
assert all(_LEGACY_METRIC.match(n) for n in SAMPLE_NAMES), SAMPLE_NAMES
assert all(_LEGACY_LABEL.match(n) for n in LABEL_NAMES), LABEL_NAMES


def _doubled(name: str) -> str:
    return name.replace("_", "__")


def sample_name(name: str, fmt: Format, escaping: Escaping) -> str:
    """A sample's metric name as written in ``fmt`` under ``escaping``."""
    if escaping is Escaping.DOTS:
        return _doubled(name)
    if escaping is Escaping.VALUES and fmt is Format.OPENMETRICS:
        return "U__" + _doubled(name)
    return name


def label_name(name: str, escaping: Escaping) -> str:
    """A label name as written under ``escaping`` (the same in both formats)."""
    return _doubled(name) if escaping is Escaping.DOTS else name


@dataclass(frozen=True)
class Spelling:
    """Every sample and label name of the exposition as one format and escaping write it."""

    plain: bool
    samples: dict[str, str]
    labels: dict[str, str]
    others: dict[str, tuple[str, ...]]  # a job metric's labels other than job_name, spelled


@cache
def spelling(fmt: Format, escaping: Escaping) -> Spelling:
    """The names of ``fmt`` under ``escaping`` (``plain`` when no name changes)."""
    samples = {n: sample_name(n, fmt, escaping) for n in SAMPLE_NAMES}
    labels = {n: label_name(n, escaping) for n in LABEL_NAMES}
    plain = all(k == v for k, v in samples.items()) and all(k == v for k, v in labels.items())
    others = {m.name: tuple(labels[k] for k in m.labels if k != "job_name") for m in METRICS}
    return Spelling(plain, samples, labels, others)


PLAIN = spelling(Format.TEXT, Escaping.UNDERSCORES)
