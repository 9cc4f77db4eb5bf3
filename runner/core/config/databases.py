"""Databases: jobmon's own, and the named ones (with read-only queries) jobs refer to."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from runner.core.config.fields import RefName, Strict
from runner.core.config.secrets import check_database_url

DEFAULT_DATABASE_URL = "sqlite:///jobmon.db"
_READ_ONLY_SQL = re.compile(r"^\s*(select|with|values)\b", re.IGNORECASE)


class DatabaseConfig(Strict):
    """Where jobmon keeps runs, journal, rejects and totals (a SQLAlchemy URL)."""

    url: str = DEFAULT_DATABASE_URL

    @field_validator("url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        return check_database_url(value)


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
