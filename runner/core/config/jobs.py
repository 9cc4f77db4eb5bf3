"""What every job has (name, schedule, chaining, limits), and ``kind: python`` jobs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from runner.core import schedule as schedules
from runner.core.config.fields import Strict


class JobBase(Strict):
    """What every job kind has: name, schedule, the job it runs after, and limits."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    schedule: str | None = None
    # The job whose runs, when they end ``finished``, each start a run of this one; beside
    # a schedule or instead of it (runner.core.chaining). Checked against the job names.
    after: str | None = Field(default=None, min_length=1, max_length=200)
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


class PythonJob(JobBase):
    """A user's own batch function, watched through its context (checkpoints, journal...)."""

    kind: Literal["python"]
    callable: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    params: dict[str, Any] = Field(default_factory=dict)
