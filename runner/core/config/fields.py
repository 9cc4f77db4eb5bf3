"""What every config model is built from: strict mappings and the names users give things."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Unknown keys are errors; the models are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Table and column names: always quoted in SQL and checked against the database, so any
# printable name works; quotes and control characters are refused to keep messages readable.
Identifier = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[^\x00-\x1f\"`]+$")]
# Names of databases and queries that jobs refer to.
RefName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
OneChar = Annotated[str, Field(min_length=1, max_length=1)]
