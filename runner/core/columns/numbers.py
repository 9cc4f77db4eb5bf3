"""Number columns: ``integer`` (64-bit), ``float`` (finite) and ``decimal`` (fixed point)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from runner.core.columns.base import (
    Check,
    ChunkCheck,
    ColumnOptions,
    ColumnType,
    Invalid,
    LineField,
    Output,
    Store,
    lines_check,
)
from runner.core.states import RejectReason

INT64 = (-(2**63), 2**63 - 1)
# Enough digits for any DECIMAL(65, 30) without rounding.
_DECIMALS = Context(prec=200)

# Plain ASCII digits without a leading zero are already what str(int(v)) would write.
_INTEGER_ROW = """\
if len(v) < 19 and v.isdigit() and v.isascii() and v[0] != '0':
    o{i} = v
else:
    x = _int{i}(v)
    if x < _lo{i} or x > _hi{i} or '_' in v:
        return None
    o{i} = _str{i}(x)
"""
_INTEGER_LINES = re.compile(r"(?:[1-9][0-9]{0,17}\n)*")
# What str(int(v)) writes back unchanged, and always in the 64-bit range.
_INTEGER_FIELD = "0|-?[1-9][0-9]{0,17}"
_NUMBER_CHARS = "-.0123456789"
# Digits with at most one point are a finite number: no need to parse them.
_FLOAT_ROW = """\
if v.replace('.', '', 1).isdigit() and v.isascii():
    o{i} = v
else:
    x = _float{i}(v)
    if x - x != 0.0 or '_' in v or not v.isascii():
        return None
    o{i} = v.strip()
"""
_FLOAT_LINES = re.compile(r"(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)\n)*")
# The same as -?(?:[0-9]+\.?[0-9]*|\.[0-9]+), without trying two branches on each value.
_FLOAT_FIELD = r"-?(?=\.?[0-9])[0-9]*\.?[0-9]*"


def _number_field(pattern: str, delimiter: str, quote: str) -> LineField | None:
    if delimiter in _NUMBER_CHARS or quote in _NUMBER_CHARS:
        return None
    return LineField(pattern)


# Only the canonical spelling is kept as is; anything else goes to the checker.
_DECIMAL_ROW = """\
if _m{i}(v) is None:
    return None
o{i} = v
"""


class IntegerType(ColumnType):
    """``integer``: a signed 64-bit integer, stored in its shortest decimal spelling."""

    name = "integer"

    def checker(self, column: ColumnOptions) -> Check:
        """Integers in the 64-bit range, with optional sign and surrounding blanks."""
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

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """BIGINT."""
        return sa.BigInteger()

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """Plain digits as they are, anything else parsed and range-checked."""
        return _INTEGER_ROW

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The parser, the formatter and the 64-bit bounds."""
        low, high = INT64
        return {"_int": int, "_str": str, "_lo": low, "_hi": high}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """Every value plain digits, short enough to be in range."""
        return lines_check(_INTEGER_LINES)

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """Digits without a leading zero, short enough to be in range."""
        return _number_field(_INTEGER_FIELD, delimiter, quote)


class FloatType(ColumnType):
    """``float``: a finite double, stored as written (trimmed) when it is ASCII."""

    name = "float"

    def checker(self, column: ColumnOptions) -> Check:
        """Finite numbers in any spelling Python's ``float`` reads, without underscores."""

        def check(value: str) -> str:
            try:
                number = float(value)
            except ValueError:
                raise Invalid(RejectReason.TYPE, f"{value!r} is not a number") from None
            if "_" in value or not math.isfinite(number):
                raise Invalid(RejectReason.TYPE, f"{value!r} is not a finite number")
            return value.strip() if value.isascii() else repr(number)

        return check

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """DOUBLE PRECISION."""
        return sa.Double()

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """Plain decimals as they are, anything else parsed and checked for finiteness."""
        return _FLOAT_ROW

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The parser."""
        return {"_float": float}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """Every value plain digits with at most one point."""
        return lines_check(_FLOAT_LINES)

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """Plain digits with at most one point, and a sign: always finite, stored as read."""
        return _number_field(_FLOAT_FIELD, delimiter, quote)


def decimal_regex(column: ColumnOptions) -> re.Pattern[str]:
    """The canonical spelling of a decimal of ``column`` (what ``format(d, 'f')`` writes)."""
    whole, decimals = column.digits - column.decimals, column.decimals
    # ASCII digits only: other digits parse, but their canonical spelling is ASCII.
    integer = rf"(?:0|[1-9][0-9]{{0,{whole - 1}}})" if whole > 0 else "0"
    fraction = rf"(?:\.[0-9]{{1,{decimals}}})?" if decimals > 0 else ""
    return re.compile(rf"-?{integer}{fraction}")


class DecimalType(ColumnType):
    """``decimal``: a fixed-point number of ``precision`` digits, ``scale`` of them decimals."""

    name = "decimal"
    options = ("precision", "scale")

    def checker(self, column: ColumnOptions) -> Check:
        """Finite decimals that fit the precision and scale exactly (no rounding)."""
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

    def option_problem(self, column: ColumnOptions) -> str | None:
        """A scale greater than the precision."""
        if column.decimals > column.digits:
            return "scale cannot be greater than precision"
        return None

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """NUMERIC(precision, scale)."""
        return sa.Numeric(column.digits, column.decimals)

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """Only the canonical spelling, which fits by construction, is kept as is."""
        return _DECIMAL_ROW

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The matcher of the canonical spelling."""
        return {"_m": decimal_regex(column).fullmatch}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """Every value in the canonical spelling."""
        # Our own pattern: no anchors, nothing that matches a line break.
        return lines_check(re.compile(rf"(?:{decimal_regex(column).pattern}\n)*"))

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """The canonical spelling."""
        return _number_field(decimal_regex(column).pattern, delimiter, quote)
