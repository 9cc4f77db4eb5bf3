"""Content negotiation against prometheus-client's ``choose_encoder``, the oracle.

For every ``Accept`` header of the table, the Content-Type must be the one ``choose_encoder``
answers, and the exposition rendered for the negotiated format and escaping must be
byte-equal to what ``choose_encoder``'s encoder writes for the same jobs.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.exposition import choose_encoder

from exporter.deflate import plain_pieces
from exporter.formats import Escaping, Format
from exporter.negotiate import accepts_gzip, negotiate
from tests.exporter.reference import FamiliesCollector, KeptRows, families
from tests.exporter.test_render import OWN, make_row

PROMETHEUS_2_42 = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
PROMETHEUS_3 = (
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
    "application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
)
OM = "application/openmetrics-text"
ACCEPT_HEADERS = [
    "",
    "*/*",
    "application/json",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/plain",
    "text/plain;version=0.0.4",
    "text/plain; version=0.0.4; charset=utf-8",
    "text/plain;version=1.0.0",
    "text/plain;version=1.0.0;escaping=underscores",
    "text/plain;version=1.0.0;escaping=allow-utf-8",
    "text/plain;version=1.0.0;escaping=dots",
    "text/plain;version=1.0.0;escaping=values",
    "text/plain;version=1.0.0;escaping=bogus",
    "text/plain;version=1.0.0;escaping=dots;escaping=values",
    "text/plain;version=2.0.0;escaping=dots",
    "text/plain;version=1.0",
    OM,
    f"{OM};escaping=dots",
    f"{OM};version=0.0.1",
    f"{OM};version=0.0.1;escaping=dots",
    f"{OM};version=1.0.0",
    f"{OM};version=1.0.0;q=0",
    f"{OM}; version=1.0.0; escaping=dots",
    f"{OM};version=1.0.0;escaping=dots",
    f"{OM};version=1.0.0;escaping=values",
    f"{OM};version=1.0.0;escaping=allow-utf-8",
    f"{OM};version=1.0.0;escaping=underscores",
    f"{OM};version=2.0.0;escaping=values",
    f"{OM};version=1.0",
    f"{OM};version=1.0.0.1",
    f"{OM};version=1.1.0;escaping=dots",
    f"{OM};version=0.0.1,text/plain;version=1.0.0;escaping=dots",
    f"{OM};version=0.0.1,text/plain;version=0.0.4",
    f"text/plain;version=0.0.4,{OM};version=1.0.0;escaping=values",
    "Application/OpenMetrics-Text;version=1.0.0",
    PROMETHEUS_2_42,
    PROMETHEUS_3,
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
]


@pytest.fixture(scope="module")
def renderer() -> KeptRows:
    rendering = KeptRows()
    rendering.update([make_row(random.Random(21), i) for i in range(12)])
    return rendering


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
def test_negotiation_answers_as_choose_encoder(renderer: KeptRows, accept: str) -> None:
    encoder, content_type = choose_encoder(accept)
    asked = negotiate(accept)
    assert asked.content_type == content_type
    oracle = encoder(FamiliesCollector(families(renderer.snapshots(), OWN)))
    assert plain_pieces(renderer.pieces(asked.format, OWN, asked.escaping)) == oracle


def test_prometheus_2_42_gets_openmetrics_1_0_0() -> None:
    asked = negotiate(PROMETHEUS_2_42)
    assert (asked.format, asked.escaping) == (Format.OPENMETRICS, Escaping.UNDERSCORES)
    expected = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
    assert asked.content_type == expected


def test_missing_accept_gets_classic_text() -> None:
    assert negotiate(None).content_type == "text/plain; version=0.0.4; charset=utf-8"


_MEDIA = st.sampled_from([OM, "text/plain", "*/*", " text/plain", "text/html"])
_PARAMETER = st.sampled_from(
    [
        "version=1.0.0",
        "version=0.0.4",
        "version=0.0.1",
        "version=2.0.0",
        "version=1.0",
        "version=10",
        "version=",
        " version=1.0.0",
        "escaping=dots",
        "escaping=values",
        "escaping=allow-utf-8",
        "escaping=underscores",
        "escaping=other",
        "q=0.5",
        "charset=utf-8",
        "",
    ]
)
_ENTRY = st.builds(
    lambda media, parameters: ";".join([media, *parameters]),
    _MEDIA,
    st.lists(_PARAMETER, max_size=4),
)


@given(st.lists(_ENTRY, min_size=1, max_size=4).map(",".join))
def test_any_header_gets_the_content_type_of_choose_encoder(accept: str) -> None:
    assert negotiate(accept).content_type == choose_encoder(accept)[1]


@pytest.mark.parametrize("version", ["x.y", "1.0.0-rc1", "1.x"])
def test_a_version_that_is_not_numbers_is_skipped(version: str) -> None:
    accept = f"{OM};version={version},text/plain;version=1.0.0;escaping=dots"
    with pytest.raises(TypeError):  # prometheus-client cannot compare it
        choose_encoder(accept)
    asked = negotiate(accept)
    assert (asked.format, asked.escaping) == (Format.TEXT, Escaping.DOTS)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("GZIP", True),
        ("*", True),
        ("br;q=1.0, gzip;q=x", False),
        ("", False),
        (None, False),
    ],
)
def test_accepts_gzip(header: str | None, ok: bool) -> None:
    assert accepts_gzip(header) is ok
