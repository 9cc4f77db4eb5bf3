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
  once, which accepts a subset of what the whole-row template accepts as is.

Stored texts are canonical and every supported database accepts them (``123``, ``-4.50``,
``1``/``0`` for booleans, ISO dates), so one row of strings can go to PostgreSQL's COPY,
SQLite or MariaDB alike. An empty field is NULL or the column's default, whatever the type.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal, Protocol

import sqlalchemy as sa

from runner.core.states import RejectReason

Check = Callable[[str], str]
# Rows as tuples of stored texts (for ``executemany``) or lines of PostgreSQL's COPY text.
Output = Literal["tuple", "copy"]
# A stored text as the output writes it: as it is for tuples, escaped for COPY.
Store = Callable[[str], str]
Values = Sequence[str]
# A column's values checked and stored, or None when the chunk must go row by row.
ChunkCheck = Callable[[Values], Sequence[Any] | None]


class Invalid(Exception):
    """A field that does not fit its column: the reject reason and a message."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        self.reason, self.message = reason, message
        super().__init__(message)


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


def each(convert: Check) -> ChunkCheck:
    """The chunk check that applies ``convert`` to every value."""

    def check(values: Values) -> Sequence[Any] | None:
        try:
            return list(map(convert, values))
        except Exception:
            return None

    return check


def lines_match(match: Callable[[str], Any], values: Values) -> bool:
    """Every value matches ``match``'s repeated ``value\\n`` (and none holds a line break)."""
    joined = "\n".join(values) + "\n"
    return joined.count("\n") == len(values) and match(joined) is not None


def lines_check(match: Callable[[str], Any]) -> ChunkCheck:
    """The chunk check that keeps values as they are when they all match ``match``'s lines."""

    def check(values: Values) -> Values | None:
        return values if lines_match(match, values) else None

    return check


def mapped(mapping: Mapping[str, Any]) -> ChunkCheck:
    """The chunk check that stores each value as ``mapping`` says, if it lists them all."""

    def check(values: Values) -> Sequence[Any] | None:
        stored = list(map(mapping.get, values))
        return None if None in stored else stored

    return check
