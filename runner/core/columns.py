"""Column types: turn a CSV field into the text the database stores, or say why not.

Every converter returns the value in a canonical text form every supported database accepts
(``123``, ``-4.50``, ``1``/``0`` for booleans, ISO dates), so one row of strings can go to
PostgreSQL's COPY, SQLite or MariaDB alike. An empty field is NULL, or the column's default.

A record is converted by two equivalent paths: :func:`checker` per column, which says exactly
which field failed and why, and a generated whole-row function (see :mod:`runner.jobs.rows`)
that is several times faster and falls back to the checkers whenever anything is off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation

from runner.core.config import Column
from runner.core.states import RejectReason

Check = Callable[[str], str]
INT64 = (-(2**63), 2**63 - 1)
# Enough digits for any DECIMAL(65, 30) without rounding.
_DECIMALS = Context(prec=200)


class Invalid(Exception):
    """A field that does not fit its column: the reject reason and a message."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        self.reason, self.message = reason, message
        super().__init__(message)


def checker(column: Column) -> Check:
    """The function that validates a non-empty field of ``column`` into its stored text."""
    return _BUILDERS[column.type](column)


def _integer(_column: Column) -> Check:
    low, high = INT64

    def check(value: str) -> str:
        try:
            number = int(value)
        except ValueError:
            raise Invalid(RejectReason.TYPE, f"{value!r} is not an integer") from None
        if "_" in value:
            raise Invalid(RejectReason.TYPE, f"{value!r} is not an integer")
        if not low <= number <= high:
            raise Invalid(RejectReason.TYPE, f"{value} is out of the 64-bit integer range")
        return str(number)

    return check


def _float(_column: Column) -> Check:
    def check(value: str) -> str:
        try:
            number = float(value)
        except ValueError:
            raise Invalid(RejectReason.TYPE, f"{value!r} is not a number") from None
        if "_" in value or not math.isfinite(number):
            raise Invalid(RejectReason.TYPE, f"{value!r} is not a finite number")
        return value.strip() if value.isascii() else repr(number)

    return check


def decimal_regex(column: Column) -> re.Pattern[str]:
    """The canonical spelling of a decimal of ``column`` (what ``format(d, 'f')`` writes)."""
    whole, decimals = column.digits - column.decimals, column.decimals
    integer = rf"(?:0|[1-9]\d{{0,{whole - 1}}})" if whole > 0 else "0"
    fraction = rf"(?:\.\d{{1,{decimals}}})?" if decimals > 0 else ""
    return re.compile(rf"-?{integer}{fraction}")


def _decimal(column: Column) -> Check:
    whole, decimals = column.digits - column.decimals, column.decimals
    quantum = Decimal(1).scaleb(-decimals)

    def check(value: str) -> str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise Invalid(RejectReason.TYPE, f"{value!r} is not a decimal number") from None
        if "_" in value or not number.is_finite():
            raise Invalid(RejectReason.TYPE, f"{value!r} is not a decimal number")
        if number != 0 and number.adjusted() >= whole:
            raise Invalid(RejectReason.TYPE, f"{value} has more than {whole} integer digits")
        if number.adjusted() < -decimals - 1 or number != number.quantize(
            quantum, rounding=ROUND_DOWN, context=_DECIMALS
        ):
            raise Invalid(RejectReason.TYPE, f"{value} has more than {decimals} decimal places")
        return format(number, "f")

    return check


def _text(column: Column) -> Check:
    limit = column.max_length

    def check(value: str) -> str:
        if "\x00" in value:
            raise Invalid(RejectReason.TYPE, "text contains a NUL character")
        if limit is not None and len(value) > limit:
            raise Invalid(
                RejectReason.LENGTH, f"{len(value)} characters, more than the {limit} allowed"
            )
        return value

    return check


def _pattern(column: Column) -> Check:
    assert column.pattern is not None
    text, matches = _text(column), re.compile(column.pattern).fullmatch

    def check(value: str) -> str:
        text(value)
        if not matches(value):
            raise Invalid(RejectReason.PATTERN, f"{value!r} does not match {column.pattern}")
        return value

    return check


def _enum(column: Column) -> Check:
    assert column.choices is not None
    choices = frozenset(column.choices)
    listed = ", ".join(column.choices[:10]) + (", ..." if len(column.choices) > 10 else "")

    def check(value: str) -> str:
        if value not in choices:
            raise Invalid(RejectReason.CHOICE, f"{value!r} is not one of {listed}")
        return value

    return check


def _boolean(column: Column) -> Check:
    values = column.booleans

    def check(value: str) -> str:
        found = values.get(value.strip().lower())
        if found is None:
            raise Invalid(RejectReason.TYPE, f"{value!r} is not a boolean")
        return found

    return check


def _date(column: Column) -> Check:
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


def _datetime(column: Column) -> Check:
    fmt = column.format

    def check(value: str) -> str:
        try:
            if fmt is None:
                moment = datetime.fromisoformat(value.strip())
            else:
                moment = datetime.strptime(value, fmt)
        except ValueError:
            expected = fmt or "ISO 8601"
            raise Invalid(RejectReason.TYPE, f"{value!r} is not a datetime ({expected})") from None
        return stored_datetime(moment)

    return check


def stored_datetime(moment: datetime) -> str:
    """Aware times are stored as UTC without offset; naive times as they are."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")


_BUILDERS: dict[str, Callable[[Column], Check]] = {
    "integer": _integer,
    "float": _float,
    "decimal": _decimal,
    "text": _text,
    "pattern": _pattern,
    "enum": _enum,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}
