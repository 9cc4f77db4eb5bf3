"""Date and time columns: ``date`` and ``datetime``, ISO 8601 or a ``strptime`` format."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from runner.core.columns.base import (
    Check,
    Checked,
    ChunkCheck,
    ColumnOptions,
    ColumnType,
    Invalid,
    LineField,
    Output,
    Store,
    Values,
    line_failures,
)
from runner.core.states import RejectReason

# date.fromisoformat also takes 20240131 and 2024-W05-3: only YYYY-MM-DD is kept as is.
_ISODATE_ROW = """\
_date{i}(v)
if len(v) != 10 or v[7] != '-':
    return None
o{i} = v
"""
_ISODATE_LINES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}\n)*")
# Valid dates from year 1000 on (February 29 in leap years: divisible by 4 but not by 100, or
# by 400), and times as stored_datetime writes them (a fraction of six digits, not all zero).
_LEAP_YEAR = "(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)"
_DATE_FIELD = (
    "(?:[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    f"|{_LEAP_YEAR}-02-29)"
)
_DATETIME_FIELD = (
    _DATE_FIELD + " (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.(?!0{6})[0-9]{6})?"
)
_TEMPORAL_CHARS = "-.: 0123456789"


def _temporal_field(
    pattern: str, column: ColumnOptions, delimiter: str, quote: str
) -> LineField | None:
    if column.format is not None or delimiter in _TEMPORAL_CHARS or quote in _TEMPORAL_CHARS:
        return None
    return LineField(pattern)


def _isodate_chunk(values: Values) -> Checked:
    failed = line_failures(_ISODATE_LINES, values)
    try:
        if not failed:
            for _ in map(date.fromisoformat, values):
                pass
            return values, failed
    except ValueError:
        pass
    unread = set(failed)
    return values, [i for i, v in enumerate(values) if i in unread or not _is_date(v)]


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def stored_datetime(moment: datetime) -> str:
    """Aware times are stored as UTC without offset; naive times as they are."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")


class DateType(ColumnType):
    """``date``: a calendar date, stored as YYYY-MM-DD."""

    name = "date"
    options = ("format",)

    def checker(self, column: ColumnOptions) -> Check:
        """ISO dates (with blanks around) or dates in the column's format."""
        fmt = column.format

        def check(value: str) -> str:
            try:
                if fmt is None:
                    return date.fromisoformat(value.strip()).isoformat()
                return datetime.strptime(value, fmt).date().isoformat()
            except ValueError:
                expected = fmt or "YYYY-MM-DD"
                raise Invalid(RejectReason.TYPE, f"{value!r} is not a date ({expected})") from None

        return check

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """DATE."""
        return sa.Date()

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """Without a format, valid YYYY-MM-DD as it is; with one, the checker."""
        if column.format is None:
            return _ISODATE_ROW
        return super().row_code(column, output)

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The ISO date parser."""
        return {"_date": date.fromisoformat} if column.format is None else {}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """Without a format, every value a valid YYYY-MM-DD; with one, the checker."""
        if column.format is None:
            return _isodate_chunk
        return super().chunk_check(column, output, names)

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """Without a format, YYYY-MM-DD on a day that every month of every year has."""
        return _temporal_field(_DATE_FIELD, column, delimiter, quote)


class DatetimeType(ColumnType):
    """``datetime``: a moment, stored as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC if aware)."""

    name = "datetime"
    options = ("format",)

    def checker(self, column: ColumnOptions) -> Check:
        """ISO 8601 times (with blanks around) or times in the column's format."""
        fmt = column.format

        def check(value: str) -> str:
            try:
                if fmt is None:
                    moment = datetime.fromisoformat(value.strip())
                else:
                    moment = datetime.strptime(value, fmt)
            except ValueError:
                expected = fmt or "ISO 8601"
                raise Invalid(
                    RejectReason.TYPE, f"{value!r} is not a datetime ({expected})"
                ) from None
            return stored_datetime(moment)

        return check

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """TIMESTAMP, with microseconds on MariaDB too."""
        return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """Without a format, naive times exactly as they are stored."""
        return _temporal_field(_DATETIME_FIELD, column, delimiter, quote)
