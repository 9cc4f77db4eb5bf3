"""What a column type is: its plain check, its fast paths, its options and its database type.

A record is converted by three equivalent paths, and each type provides its part of each:

- the plain path, :meth:`ColumnType.checker`: a function from a non-empty field to the text
  the database stores, which raises :class:`Invalid` with the reason and a message;
- the whole-row fast path: a code template (:meth:`ColumnType.row_code`) and the values it
  reads (:meth:`ColumnType.row_names`), compiled with every other column's into one function
  that gives the same stored text, or gives up (the plain path then says why). A template
  reads the non-empty field ``v`` and sets ``o{i}`` or returns None; ``{i}`` (the column's
  index) is its only placeholder, suffixed to every name it reads: its own values, ``_k{i}``
  (the checker) and ``_d{i}`` (the stored default). Values from the config are only ever
  read from those names, never written into the code;
- the chunk fast path, :meth:`ColumnType.chunk_check`: a whole column of a chunk checked at
  once, which accepts a subset of what the whole-row template accepts as is, and names the
  values it does not accept (their records take the two paths above);
- the line path, :meth:`ColumnType.line_field`: a regular expression of the fields whose
  stored text is known from their raw text alone (see :class:`LineField`), or None.

Stored texts are canonical and every supported database accepts them (``123``, ``-4.50``,
``1``/``0`` for booleans, ISO dates), so one row of strings can go to PostgreSQL's COPY,
SQLite or MariaDB alike. An empty field is NULL or the column's default, whatever the type.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

import sqlalchemy as sa

from runner.core.states import RejectReason

Check = Callable[[str], str]
# Rows as tuples of stored texts (for ``executemany``) or lines of PostgreSQL's COPY text.
Output = Literal["tuple", "copy"]
# A stored text as the output writes it: as it is for tuples, escaped for COPY.
Store = Callable[[str], str]
Values = Sequence[str]
# A column's values checked: their stored texts, and the indices of the values that are not
# plainly valid (their places hold anything): the records they belong to go row by row.
Checked = tuple[Sequence[Any], list[int]]
ChunkCheck = Callable[[Values], Checked]


class Invalid(Exception):
    """A field that does not fit its column: the reject reason and a message."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        self.reason, self.message = reason, message
        super().__init__(message)


# Never in a line field: they are escaped for COPY, refused (NUL) or end lines.
LINE_SPECIALS = "\\\t\r\n\x00"


@dataclass(frozen=True)
class LineField:
    """A column's fields as a whole line of a chunk reads them (see
    :mod:`runner.executor.jobs.linecheck`).

    ``plain`` matches non-empty unquoted fields: it has no groups or anchors, and matches
    neither the delimiter, the quote, nor any of :data:`LINE_SPECIALS`. A text field
    (``plain`` None) is any text, quoted or not, of at most ``longest`` characters (None: no
    limit) and none of :data:`LINE_SPECIALS`. Every value they match is plainly valid, and
    stored as it is, or as ``stored`` says; ``match`` (if set) must also accept it.
    ``lines``, if set, checks many values at once as ``match`` does one by one (see
    :func:`line_failures`). ``verbatim``: PostgreSQL reads each of those values, as it is, as
    the value stored (so a run of such fields may go to ``COPY ... (FORMAT csv)`` unchanged).
    """

    plain: str | None
    longest: int | None = None
    stored: Mapping[str, str] | None = None
    match: Callable[[str], Any] | None = None
    lines: re.Pattern[str] | None = None
    verbatim: bool = True
    # Given characters a field cannot hold, a regular expression for exactly the values
    # ``match`` accepts that hold none of them (None: it cannot say).
    confine: Callable[[str], str | None] | None = None

    def failures(self, values: Values) -> list[int]:
        """The indices of the ``values`` that ``match`` refuses (none without one)."""
        if self.lines is not None:
            return line_failures(self.lines, values)
        return [] if self.match is None else nones(list(map(self.match, values)))


def choices_pattern(values: Sequence[str], forbidden: str) -> str | None:
    """An alternation of the ``values`` that hold none of ``forbidden``, longest first."""
    kept = [v for v in values if v and not any(c in v for c in forbidden + LINE_SPECIALS)]
    ordered = sorted(set(kept), key=lambda v: (-len(v), v))
    return "|".join(map(re.escape, ordered)) if ordered else None


class ColumnOptions(Protocol):
    """The attributes of a declared column that column types read."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def max_length(self) -> int | None: ...
    @property
    def pattern(self) -> str | None: ...
    @property
    def choices(self) -> Sequence[str] | None: ...
    @property
    def format(self) -> str | None: ...
    @property
    def digits(self) -> int: ...
    @property
    def decimals(self) -> int: ...
    @property
    def booleans(self) -> Mapping[str, str]: ...


class ColumnType(ABC):
    """One column type: everything that converts, checks and declares its columns."""

    name: ClassVar[str]
    # The column options that apply to this type (names as the config file spells them).
    options: ClassVar[tuple[str, ...]] = ()
    # Options this type cannot do without, each with the message when it is missing.
    needs: ClassVar[tuple[tuple[str, str], ...]] = ()

    @abstractmethod
    def checker(self, column: ColumnOptions) -> Check:
        """The function that validates a non-empty field of ``column`` into its stored text."""

    @abstractmethod
    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """The column type ``create: true`` gives ``column`` (``key``: part of the key)."""

    def option_problem(self, column: ColumnOptions) -> str | None:
        """What is wrong with the combination of ``column``'s options, if anything."""
        return None

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """The whole-row template: sets ``o{i}`` from the non-empty field ``v``, or returns None."""
        return "o{i} = _k{i}(v)\n"

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The values the template reads, named without the index (each name ends in a letter)."""
        return {}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """The check of a whole column of a chunk; ``names`` are those the template reads."""
        return each(names["_k"])

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """The column's fields in whole lines delimited by ``delimiter`` and ``quote``; None
        when no pattern is known to give the same stored text as the checker."""
        return None


def each(convert: Check) -> ChunkCheck:
    """The chunk check that applies ``convert`` to every value."""

    def check(values: Values) -> Checked:
        try:
            return list(map(convert, values)), []
        except Exception:
            return _one_by_one(convert, values)

    return check


def _one_by_one(convert: Check, values: Values) -> Checked:
    stored: list[Any] = []
    failed = []
    for index, value in enumerate(values):
        try:
            stored.append(convert(value))
        except Exception:
            stored.append(None)
            failed.append(index)
    return stored, failed


def nones(stored: Sequence[Any]) -> list[int]:
    """The indices of None in ``stored``, in one pass in C."""
    found: list[int] = []
    at = -1
    try:
        while True:
            at = stored.index(None, at + 1)
            found.append(at)
    except ValueError:
        return found


def line_failures(lines: re.Pattern[str], values: Values) -> list[int]:
    """The indices of the values that ``lines`` does not take as one of its repeated lines.

    ``lines`` is ``(?:X\\n)*`` where ``X`` never matches a line break: matched from a line's
    start, it takes every line up to the first one ``X`` does not match whole, so the values
    are checked in a few C calls when they are all plain, and one more per value that is not.
    """
    joined = "\n".join(values) + "\n"
    if joined.count("\n") != len(values):  # a value holds a line break: each on its own
        return [i for i, v in enumerate(values) if "\n" in v or not lines.fullmatch(v + "\n")]
    failed: list[int] = []
    at = index = 0
    while True:
        end = lines.match(joined, at).end()  # type: ignore[union-attr]  # a star always matches
        if end == len(joined):
            return failed
        index += joined.count("\n", at, end)
        failed.append(index)
        at, index = joined.index("\n", end) + 1, index + 1


def lines_check(lines: re.Pattern[str]) -> ChunkCheck:
    """The chunk check that keeps values as they are where they match ``lines`` (see above)."""

    def check(values: Values) -> Checked:
        return values, line_failures(lines, values)

    return check


def mapped(mapping: Mapping[str, Any]) -> ChunkCheck:
    """The chunk check that stores each value as ``mapping`` says, where it lists it."""

    def check(values: Values) -> Checked:
        stored = list(map(mapping.get, values))
        return stored, nones(stored)

    return check
