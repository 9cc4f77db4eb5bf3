"""HELP/TYPE headers of every family in both formats, written by prometheus-client itself.

Rendering an empty family with prometheus-client's own encoders gives headers that are
byte-equal to its output by construction; they are computed once, at import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import exposition
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector

from exporter.deflate import Piece
from runner.core.metrics import METRICS, Metric

if TYPE_CHECKING:
    from exporter.render import Format

_OM_EOF = b"# EOF\n"


class _One(Collector):
    def __init__(self, family: Family) -> None:
        self.family = family

    def collect(self) -> Iterator[Family]:
        yield self.family


def empty_family(metric: Metric) -> Family:
    """A prometheus-client family for ``metric`` with no samples."""
    return Family(metric.family, metric.help, metric.type.value)


def _headers(metric: Metric) -> dict[str, Piece]:
    collector = _One(empty_family(metric))
    text = exposition.generate_latest(collector)
    om = openmetrics.generate_latest(collector)  # type: ignore[no-untyped-call]
    assert om.endswith(_OM_EOF)
    return {"text": Piece(text), "openmetrics": Piece(om.removesuffix(_OM_EOF))}


_HEADERS = {m.name: _headers(m) for m in METRICS}
EOF = Piece(_OM_EOF)


def header(metric: Metric, fmt: Format) -> Piece:
    """The HELP and TYPE lines of ``metric`` in ``fmt``."""
    return _HEADERS[metric.name][fmt.value]
