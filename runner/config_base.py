"""Building blocks of the config models: strict mappings and what every job has."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import make_url

from runner import schedule as schedules


class Strict(BaseModel):
    """Unknown keys are errors; the models are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class JobBase(Strict):
    """What every job kind has: name, schedule and limits."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    schedule: str | None = None
    max_rejects: int | None = Field(default=None, ge=0)
    max_duration_seconds: float | None = Field(default=None, gt=0)

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                schedules.parse(value)
            except schedules.ScheduleError as exc:
                raise ValueError(str(exc)) from None
        return value


def check_database_url(value: str) -> str:
    """A pydantic validator body: the value must parse as a SQLAlchemy URL.

    The error never echoes the value: it may hold a password.
    """
    try:
        make_url(value)
    except Exception:
        raise ValueError("not a valid SQLAlchemy database URL") from None
    return value
