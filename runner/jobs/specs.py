"""Config models of ``kind: import`` and ``kind: export`` jobs, named databases and queries.

Everything a user can get wrong is checked here, at load, with the key path in the error:
column options that do not fit the column type, bad regular expressions, defaults that would
be rejected, encodings jobmon cannot stream, references to unknown databases or queries.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from runner.config_base import JobBase, Strict, check_database_url

# Table and column names: always quoted in SQL and checked against the database, so any
# printable name works; quotes and control characters are refused to keep messages readable.
Identifier = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[^\x00-\x1f\"`]+$")]
RefName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
OneChar = Annotated[str, Field(min_length=1, max_length=1)]

ColumnType = Literal[
    "integer", "decimal", "float", "text", "boolean", "date", "datetime", "enum", "pattern"
]
TRUE_VALUES = ("true", "t", "yes", "y", "1", "on")
FALSE_VALUES = ("false", "f", "no", "n", "0", "off")
# Options that only mean something for some column types.
_TYPE_OPTIONS: dict[str, tuple[str, ...]] = {
    "max_length": ("text", "pattern"),
    "precision": ("decimal",),
    "scale": ("decimal",),
    "format": ("date", "datetime"),
    "choices": ("enum",),
    "pattern": ("pattern",),
    "true_values": ("boolean",),
    "false_values": ("boolean",),
}
_READ_ONLY_SQL = re.compile(r"^\s*(select|with|values)\b", re.IGNORECASE)


class NamedDatabase(Strict):
    """A database jobs can import into or export from, by name (``databases:``)."""

    url: str

    @field_validator("url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        return check_database_url(value)


class NamedQuery(Strict):
    """A read-only query an export job can run, by name (``queries:``)."""

    sql: str = Field(min_length=1)
    database: RefName | None = None

    @field_validator("sql")
    @classmethod
    def _read_only(cls, value: str) -> str:
        if not _READ_ONLY_SQL.match(value):
            raise ValueError("must be a read-only query starting with SELECT, WITH or VALUES")
        return value


class Column(Strict):
    """One target column: where its value comes from and what it must look like."""

    name: Identifier
    source: str | int | None = None
    type: ColumnType = "text"
    required: bool = False
    default: str | None = None
    max_length: int | None = Field(default=None, ge=1, le=1_000_000)
    precision: int | None = Field(default=None, ge=1, le=65)
    scale: int | None = Field(default=None, ge=0, le=30)
    format: str | None = Field(default=None, min_length=1)
    choices: list[str] | None = Field(default=None, min_length=1)
    pattern: str | None = Field(default=None, min_length=1)
    true_values: list[str] | None = Field(default=None, min_length=1)
    false_values: list[str] | None = Field(default=None, min_length=1)

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("a source position counts from 1")
        if isinstance(value, str) and not value:
            raise ValueError("a source column name cannot be empty")
        return value

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _check_options(self) -> Column:
        for option, types in _TYPE_OPTIONS.items():
            if getattr(self, option) is not None and self.type not in types:
                raise ValueError(f"{option} applies only to {' and '.join(types)} columns")
        if self.type == "enum" and not self.choices:
            raise ValueError("an enum column needs choices")
        if self.type == "pattern" and self.pattern is None:
            raise ValueError("a pattern column needs a pattern")
        if self.required and self.default is not None:
            raise ValueError("a required column cannot have a default")
        if self.type == "decimal" and self.scale is not None and self.scale > self.digits:
            raise ValueError("scale cannot be greater than precision")
        self._check_default()
        return self

    def _check_default(self) -> None:
        if self.default is None:
            return
        from runner.jobs.columns import Invalid, checker  # the converters use this model

        if self.default == "":
            raise ValueError("default cannot be empty (an empty field is NULL)")
        try:
            checker(self)(self.default)
        except Invalid as exc:
            raise ValueError(f"default {self.default!r} is invalid: {exc.message}") from None

    @property
    def digits(self) -> int:
        """Total digits of a decimal column (default 18)."""
        return self.precision if self.precision is not None else 18

    @property
    def decimals(self) -> int:
        """Digits after the point of a decimal column (default 2)."""
        return self.scale if self.scale is not None else min(2, self.digits)

    @property
    def booleans(self) -> dict[str, str]:
        """Accepted spellings of a boolean column (lower case) and the value each means."""
        trues = self.true_values or list(TRUE_VALUES)
        falses = self.false_values or list(FALSE_VALUES)
        mapping = {v.strip().lower(): "1" for v in trues}
        mapping.update({v.strip().lower(): "0" for v in falses})
        return mapping


class CsvFormat(Strict):
    """How a CSV file is encoded and delimited."""

    encoding: str = "utf-8"
    delimiter: OneChar = ","
    quote: OneChar = '"'
    header: bool = True

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        # Records are split on newline bytes, so the encoding must write ASCII as ASCII.
        try:
            ascii_compatible = "\n\r,;\t|\"'".encode(name) == b"\n\r,;\t|\"'"
        except UnicodeError:
            ascii_compatible = False
        if not ascii_compatible:
            raise ValueError(f"encoding {value!r} is not ASCII-compatible (UTF-16/32 are not)")
        return value

    @model_validator(mode="after")
    def _check_chars(self) -> CsvFormat:
        if self.delimiter == self.quote:
            raise ValueError("delimiter and quote must differ")
        for char in (self.delimiter, self.quote):
            if char in "\r\n" or not char.isascii():
                raise ValueError("delimiter and quote must be ASCII and not a line break")
        return self


class CsvSource(CsvFormat):
    """The CSV file an import reads."""

    path: str = Field(min_length=1)


class TableTarget(Strict):
    """The table an import writes to."""

    table: Identifier
    schema_: Identifier | None = Field(default=None, alias="schema")
    database: RefName | None = None
    create: bool = False
    mode: Literal["insert", "upsert"] = "insert"
    key: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_key(self) -> TableTarget:
        if self.mode == "upsert" and not self.key:
            raise ValueError("mode upsert needs key columns")
        if len(set(self.key)) != len(self.key):
            raise ValueError("key columns must be distinct")
        return self


class ImportJob(JobBase):
    """``kind: import``: a CSV file into a table, validated, in checkpointed chunks."""

    kind: Literal["import"]
    source: CsvSource
    target: TableTarget
    columns: list[Column] = Field(min_length=1)
    chunk_rows: int = Field(default=10_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _check_columns(self) -> ImportJob:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names must be distinct")
        missing = [k for k in self.target.key if k not in names]
        if missing:
            raise ValueError(f"key column {missing[0]!r} is not among the columns")
        if not self.source.header:
            named = [c.name for c in self.columns if isinstance(c.source, str)]
            if named:
                raise ValueError(
                    f"column {named[0]!r}: without a header row, source must be a position"
                )
        return self


# YAML reads 2024-01-31 as a date: filters take dates and times as they are.
Scalar = str | int | float | bool | date | datetime
Operator = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"]


class Condition(Strict):
    """One filter condition on a column; values are bound parameters, never SQL text."""

    column: Identifier
    op: Operator = "="
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _check_value(self) -> Condition:
        if self.op in ("is null", "is not null"):
            if self.value is not None:
                raise ValueError(f"{self.op} takes no value")
        elif self.op in ("in", "not in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list of values")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"{self.op} needs one value (use 'is null' for NULL)")
        return self


class Order(Strict):
    """One sort key."""

    column: Identifier
    descending: bool = False


class ExportSource(Strict):
    """A table (with optional columns, filter and order) or a named query."""

    table: Identifier | None = None
    schema_: Identifier | None = Field(default=None, alias="schema")
    query: RefName | None = None
    database: RefName | None = None
    columns: list[Identifier] | None = Field(default=None, min_length=1)
    where: list[Condition] = Field(default_factory=list)
    order_by: list[Order] = Field(default_factory=list)

    @field_validator("where", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @field_validator("order_by", mode="before")
    @classmethod
    def _orders(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        return [{"column": v} if isinstance(v, str) else v for v in items]

    @model_validator(mode="after")
    def _table_or_query(self) -> ExportSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either table or query")
        if self.query is not None:
            table_only = ("columns", "where", "order_by", "schema_", "database")
            used = [k for k in table_only if getattr(self, k)]
            if used:
                raise ValueError(f"{used[0].rstrip('_')} applies to a table, not to a query")
        return self


class CsvDestination(CsvFormat):
    """The CSV file an export writes (atomically: temporary file, fsync, rename)."""

    path: str = Field(min_length=1)
    escape_formulas: bool = False


class ExportJob(JobBase):
    """``kind: export``: a table or named query to a CSV file."""

    kind: Literal["export"]
    source: ExportSource
    destination: CsvDestination
    chunk_rows: int = Field(default=10_000, ge=1, le=1_000_000)


def reference_problems(
    jobs: Sequence[Any], databases: Mapping[str, NamedDatabase], queries: Mapping[str, NamedQuery]
) -> list[str]:
    """``jobs[i].…: unknown database "x"`` lines for references that lead nowhere."""
    problems: list[str] = []
    for name, query in queries.items():
        if query.database is not None and query.database not in databases:
            problems.append(f'queries.{name}.database: unknown database "{query.database}"')
    for i, job in enumerate(jobs):
        refs: list[tuple[str, str | None, Mapping[str, Any]]] = []
        if isinstance(job, ImportJob):
            refs.append(("target.database", job.target.database, databases))
        elif isinstance(job, ExportJob):
            refs.append(("source.database", job.source.database, databases))
            refs.append(("source.query", job.source.query, queries))
        for path, ref, known in refs:
            if ref is not None and ref not in known:
                what = "query" if path.endswith("query") else "database"
                problems.append(f'jobs[{i}].{path}: unknown {what} "{ref}"')
    return problems
