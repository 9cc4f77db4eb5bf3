"""Claims as fencing tokens: a runner writes to a run only while it still holds the claim.

Every claim bumps the run's ``attempt``; a runner's writes carry the attempt it claimed with
(:class:`Fence`) and are conditional on it, so a runner that was reaped or taken over (a
frozen process, a network partition) cannot change the run any more. The check is written
once, here, for every writer: status changes, progress and checkpoints, heartbeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from runner.core.storage.models import Run


class LostClaim(Exception):
    """The runner no longer holds the run (reaped, or claimed by another runner)."""


@dataclass(frozen=True)
class Fence:
    """A runner's claim on a run: only writes with the current attempt number go through."""

    run_id: int
    runner_id: str
    attempt: int

    def held(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions under which this claim still holds."""
        return [
            Run.id == self.run_id,
            Run.attempt == self.attempt,
            Run.claimed_by == self.runner_id,
        ]

    def holds(self, run: Any) -> bool:
        """Whether ``run`` (as just read) is still held under this claim."""
        return bool(run.attempt == self.attempt and run.claimed_by == self.runner_id)

    def lost(self) -> LostClaim:
        """The error saying this claim was lost."""
        return LostClaim(f"run {self.run_id} is no longer held by runner {self.runner_id}")
