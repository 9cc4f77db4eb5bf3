"""Content negotiation for ``/metrics``: the format, name escaping and Content-Type of a scrape.

The rules are prometheus-client's (``choose_encoder``), so answers keep the Content-Type
Prometheus and other scrapers already see. The ``Accept`` entries are taken in the order
written, quality values aside: the first OpenMetrics entry without a version, or with a
version from 1.0.0, answers OpenMetrics; the first ``text/plain`` entry with a version from
1.0.0 answers classic text with an ``escaping`` parameter; otherwise classic text 0.0.4. The
tests check these answers against ``choose_encoder`` over a table of headers.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter.formats import Escaping, Format

OPENMETRICS = "application/openmetrics-text"
TEXT = "text/plain"
OPENMETRICS_1_0_0 = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_1_0_0 = "text/plain; version=1.0.0; charset=utf-8"
TEXT_0_0_4 = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Negotiated:
    """What an ``Accept`` header asks for, and the Content-Type of the answer."""

    format: Format
    escaping: Escaping
    content_type: str


DEFAULT = Negotiated(Format.TEXT, Escaping.UNDERSCORES, TEXT_0_0_4)


def _parameter(parameters: list[str], key: str) -> str:
    """The value of the first ``key=value`` parameter named ``key``; empty if none."""
    for parameter in parameters:
        name, equals, value = parameter.strip().partition("=")
        if equals and name == key:
            return value
    return ""


def _escaping(parameters: list[str]) -> Escaping:
    """The escaping asked for; an unknown or missing one is ``underscores``."""
    value = _parameter(parameters, "escaping")
    return Escaping(value) if value in tuple(Escaping) else Escaping.UNDERSCORES


def _from_1_0_0(version: str) -> bool:
    """Whether a dotted version is 1.0.0 or later, compared part by part as numbers.

    A part that is not a number where the comparison needs it makes the version unusable
    (False): the entry is skipped, as one with an older version.
    """
    for part, least in zip(version.split("."), (1, 0, 0), strict=False):
        try:
            number = int(part)
        except ValueError:
            return False
        if number != least:
            return number > least
    return len(version.split(".")) >= 3


def negotiate(accept: str | None) -> Negotiated:
    """The format, escaping and Content-Type answering an ``Accept`` header."""
    for entry in (accept or "").split(","):
        media, *parameters = entry.split(";")
        kind = media.strip()
        if kind not in (OPENMETRICS, TEXT):
            continue
        version, escaping = _parameter(parameters, "version"), _escaping(parameters)
        if kind == OPENMETRICS and not version:
            return Negotiated(Format.OPENMETRICS, Escaping.UNDERSCORES, OPENMETRICS_1_0_0)
        if not version or not _from_1_0_0(version):
            continue
        if kind == OPENMETRICS:
            content_type = f"{OPENMETRICS}; version={version}; charset=utf-8; escaping={escaping}"
            return Negotiated(Format.OPENMETRICS, escaping, content_type)
        return Negotiated(Format.TEXT, escaping, f"{TEXT_1_0_0}; escaping={escaping}")
    return DEFAULT


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (``q=0`` refuses it)."""
    for item in (header or "").split(","):
        name, *params = (p.strip() for p in item.split(";"))
        if name.lower() not in ("gzip", "*"):
            continue
        quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            return float(quality) > 0
        except ValueError:
            return False
    return False
