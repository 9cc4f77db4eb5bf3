"""A pattern column's values are checked many at once only when no match can span lines,
and its pattern kept off what a field cannot hold matches exactly what it matched there."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.core.columns.base import line_failures
from runner.core.columns.oneline import confined, one_line

ONE_LINE = [
    r"[^@\s]+@[^@\s]+\.[a-z]+",
    r".*",
    r"\w+\d*",
    r"\S+",
    r"[^\n]+",
    r"[^\W]",
    "a|b{2,3}",
    r"\bfoo$",
]


@pytest.mark.parametrize("pattern", ONE_LINE)
def test_patterns_that_stay_on_one_line_are_checked_many_at_once(pattern: str) -> None:
    assert one_line(pattern) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        r"[^@]+",  # a negated set holds the line break
        r"(?s).*",
        r"(?s:.)",
        r"\D",
        r"[^\S]",
        r"[\x00-\x7f]",
        r"(?:ab|c\n)",
        r"a(?=\nb)",  # lookarounds can see the next value
        r"(?<=x)a",
        r"(a)\1",  # a back reference can see an earlier value's group
        r"(a)?(?(1)b|c)",
        r"(?i)ab",  # global flags cannot be nested: checked one by one
    ],
)
def test_patterns_that_may_span_lines_are_checked_one_by_one(pattern: str) -> None:
    assert one_line(pattern) is None


def test_many_at_once_finds_what_one_by_one_finds() -> None:
    import re

    pattern = r"[^@\s]+@[^@\s]+\.[a-z]+"
    lines = one_line(pattern)
    assert lines is not None
    values = ["a@b.io", "no-at", "x@y.z", "", "a@b.io trailing", "u@v.w", "a@b.IO"]
    one_by_one = [i for i, v in enumerate(values) if not re.fullmatch(pattern, v)]
    assert line_failures(lines, values) == one_by_one == [1, 3, 4, 6]


CONFINED = [
    *ONE_LINE,
    r"(?i)ab[c-e]",
    r"(?i:x)y",
    r"a*?b",
    r"(?>a+)b",
    r"(a|,)+",
    r"[a-z,]{2,}",
    r"^\d{3}-\d{4}$",
    r"x.y",
    r'[",]?a',
]
EXCLUDED = ',"\\\t\r\x00'


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.sampled_from(CONFINED),
    text=st.text(alphabet=st.sampled_from(list('ab,"@.xy AB-019\t\\\ncdefoé')), max_size=10),
)
def test_a_confined_pattern_matches_what_the_pattern_matches_off_the_excluded(
    pattern: str, text: str
) -> None:
    import re

    confined_pattern = confined(pattern, EXCLUDED)
    assert confined_pattern is not None
    clean = not any(c in text for c in EXCLUDED + "\n")
    expected = clean and re.fullmatch(pattern, text) is not None
    assert (re.fullmatch(confined_pattern, text) is not None) is expected


def test_patterns_it_cannot_confine_are_left_to_the_value_check() -> None:
    for pattern in [r"(a)\1", r"a(?=b)", r"(?s).", r"(?<=x)a", r"(a)?(?(1)b|c)", r"[^a]*"]:
        assert confined(pattern, EXCLUDED) is None
