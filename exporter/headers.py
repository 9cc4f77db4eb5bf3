"""HELP/TYPE headers of every family in both formats, written by prometheus-client itself.

Rendering an empty family with prometheus-client's own encoders gives headers that are
byte-equal to its output by construction, for every name escaping; they are computed once,
at import.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import exposition
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector

from exporter.deflate import Piece
from exporter.formats import Escaping, Format
from runner.core.metrics import METRICS, Metric

_OM_EOF = b"# EOF\n"


class _One(Collector):
    """One family, in the form prometheus-client's encoders take."""

    def __init__(self, family: Family) -> None:
        self.family = family

    def collect(self) -> Iterator[Family]:
        """The family."""
        yield self.family


def empty_family(metric: Metric) -> Family:
    """A prometheus-client family for ``metric`` with no samples."""
    return Family(metric.family, metric.help, metric.type.value)


def _headers(metric: Metric, escaping: Escaping) -> dict[Format, Piece]:
    family = _One(empty_family(metric))
    text = exposition.generate_latest(family, escaping=escaping.value)
    om = openmetrics.generate_latest(family, escaping=escaping.value)  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated
    assert om.endswith(_OM_EOF)
    return {Format.TEXT: Piece(text), Format.OPENMETRICS: Piece(om.removesuffix(_OM_EOF))}


_HEADERS = {(m.name, e): _headers(m, e) for m in METRICS for e in Escaping}
EOF = Piece(_OM_EOF)


def header(metric: Metric, fmt: Format, escaping: Escaping = Escaping.UNDERSCORES) -> Piece:
    """The HELP and TYPE lines of ``metric`` in ``fmt`` under ``escaping``."""
    return _HEADERS[metric.name, escaping][fmt]
